//! Voting credentials (spec §9).
//!
//! The credential authority gives each voter a secret **credential**: 22 random symbols of
//! the Crockford base-32 alphabet (110 bits) and 2 checksum symbols, written in six groups
//! of four, e.g. `K7QH-2M9P-X4TA-BD3R-8WNE-6JFC`. Typing is forgiving: case is ignored,
//! `-` and spaces are skipped, `O` reads as `0` and `I`, `L` as `1`.
//!
//! The credential's signing key is `s = challenge("credential-key" ‖ election id ‖
//! credential)`; its public key `S = sG` goes on the public list with the voter's weight.
//! The list is sorted by key so that its order says nothing about the voters, and it is
//! fixed before the election opens: its hash is part of the election fingerprint (§11.7).

use rand_core::CryptoRng;
use scrutin_crypto::Point;
use scrutin_crypto::dlog::MAX_BOUND;
use scrutin_crypto::elgamal::SecretScalar;
use scrutin_crypto::transcript::Transcript;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};

use crate::error::{ElectionError, invalid};

/// The 32 symbols of credentials.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Random symbols in a credential.
pub const RANDOM_SYMBOLS: usize = 22;
/// Symbols in a credential, checksum included.
pub const SYMBOLS: usize = 24;
/// Most credentials in one election.
pub const MAX_CREDENTIALS: usize = 10_000_000;
/// Largest voter weight.
pub const MAX_WEIGHT: u64 = 1_000_000_000;

/// The checksum symbols of the 22 random ones: the low 5 bits of the first two bytes of
/// `SHA-512(lp("scrutin/v1") ‖ lp("credential-checksum") ‖ lp("credential") ‖ lp(symbols))`.
fn checksum(symbols: &[u8]) -> [u8; 2] {
    let mut t = Transcript::new("credential-checksum");
    t.append("credential", symbols);
    let d = Sha512::digest(t.bytes());
    [
        ALPHABET[(d[0] & 31) as usize],
        ALPHABET[(d[1] & 31) as usize],
    ]
}

/// A voter's secret credential, normalised to its 24 symbols.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential([u8; SYMBOLS]);

impl core::fmt::Debug for Credential {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Credential(..)")
    }
}

impl Credential {
    /// Draws a new credential.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut random = [0u8; RANDOM_SYMBOLS];
        rng.fill_bytes(&mut random);
        let mut symbols = [0u8; SYMBOLS];
        for (s, r) in symbols.iter_mut().zip(random) {
            *s = ALPHABET[(r & 31) as usize];
        }
        let check = checksum(&symbols[..RANDOM_SYMBOLS]);
        symbols[RANDOM_SYMBOLS..].copy_from_slice(&check);
        Credential(symbols)
    }

    /// Reads a credential as a voter typed it; a wrong checksum is reported as a typo.
    pub fn parse(text: &str) -> Result<Self, ElectionError> {
        if text.len() > 200 {
            return invalid("a credential has 24 symbols; this text is far too long");
        }
        let mut symbols = Vec::with_capacity(SYMBOLS);
        for c in text.chars() {
            let c = match c.to_ascii_uppercase() {
                '-' | ' ' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return invalid(format!("'{c}' cannot appear in a credential"));
            }
            symbols.push(c as u8);
        }
        let symbols: [u8; SYMBOLS] = symbols.try_into().map_err(|s: Vec<u8>| {
            ElectionError::Invalid(format!(
                "a credential has {SYMBOLS} symbols, found {}",
                s.len()
            ))
        })?;
        if checksum(&symbols[..RANDOM_SYMBOLS]) != symbols[RANDOM_SYMBOLS..] {
            return invalid("the credential's checksum does not match: please check for a typo");
        }
        Ok(Credential(symbols))
    }

    /// The display form: six groups of four symbols.
    pub fn display(&self) -> String {
        self.0
            .chunks(4)
            .map(|c| c.iter().map(|b| *b as char).collect::<String>())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// The signing key for one election (§9.2).
    pub fn signing_key(&self, election_id: &str) -> SecretScalar {
        let mut t = Transcript::new("credential-key");
        t.append("election", election_id.as_bytes())
            .append("credential", &self.0);
        SecretScalar::new(t.challenge())
    }
}

/// One entry of the public credential list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicCredential {
    pub key: Point,
    pub weight: u64,
}

/// The body of the `credentials` event (§11.6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialList {
    pub credentials: Vec<PublicCredential>,
}

impl CredentialList {
    /// Checks §9.3: 1 to [`MAX_CREDENTIALS`] entries sorted by key with no repeat, no
    /// neutral element, weights in `1 … MAX_WEIGHT`, and a total weight small enough for
    /// the tally to be decrypted (`total × max_per_answer ≤ 2⁴⁰`).
    pub fn validate(&self, max_per_answer: u64) -> Result<u64, ElectionError> {
        check_count(self.credentials.len())?;
        let mut total: u64 = 0;
        for (i, c) in self.credentials.iter().enumerate() {
            if c.key.is_identity() {
                return invalid(format!("credential {} is the neutral element", i + 1));
            }
            let before = i.checked_sub(1).map(|b| self.credentials[b].key.as_bytes());
            check_entry(i, before, c.key.as_bytes(), c.weight)?;
            total += c.weight;
        }
        if total.saturating_mul(max_per_answer) > MAX_BOUND {
            return invalid(format!(
                "total weight {total} is too large to decrypt the tally"
            ));
        }
        Ok(total)
    }
}

/// §9.3: a list has 1 to [`MAX_CREDENTIALS`] entries.
fn check_count(n: usize) -> Result<(), ElectionError> {
    if n == 0 || n > MAX_CREDENTIALS {
        return invalid(format!(
            "the credential list must have 1 to {MAX_CREDENTIALS} entries, has {n}"
        ));
    }
    Ok(())
}

/// §9.3 for entry `i` (from 0) of a list, `before` the key of the entry before it: a weight
/// in `1 … MAX_WEIGHT`, keys strictly increasing.
fn check_entry(
    i: usize,
    before: Option<&[u8; 32]>,
    key: &[u8; 32],
    weight: u64,
) -> Result<(), ElectionError> {
    if weight == 0 || weight > MAX_WEIGHT {
        return invalid(format!(
            "credential {} has weight {weight}, allowed 1 to {MAX_WEIGHT}",
            i + 1
        ));
    }
    if before.is_some_and(|b| b >= key) {
        return invalid(format!("credential {} is out of order or repeated", i + 1));
    }
    Ok(())
}

/// The public credential list as a verified record's state keeps it (§11.6): each key's
/// encoding and weight, sorted by key as the list is (§9.3). The decoded points are not kept:
/// a ballot carries its own credential, checked against these bytes (B2). 40 bytes a voter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListedCredentials {
    entries: Vec<([u8; 32], u64)>,
}

impl ListedCredentials {
    /// The keys and weights of a list that [`CredentialList::validate`] accepted.
    pub fn of(list: &CredentialList) -> Self {
        ListedCredentials {
            entries: list
                .credentials
                .iter()
                .map(|c| (*c.key.as_bytes(), c.weight))
                .collect(),
        }
    }

    /// Entries read back from a node's own cache (a checkpoint): sorted by key with no
    /// repeat, weights in `1 … MAX_WEIGHT`, as [`CredentialList::validate`] requires.
    pub fn from_sorted(entries: Vec<([u8; 32], u64)>) -> Result<Self, ElectionError> {
        check_count(entries.len())?;
        for (i, (key, weight)) in entries.iter().enumerate() {
            let before = i
                .checked_sub(1)
                .and_then(|b| entries.get(b))
                .map(|(k, _)| k);
            check_entry(i, before, key, *weight)?;
        }
        Ok(ListedCredentials { entries })
    }

    /// Number of credentials.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True for no credential (never for a valid list).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The weight of `key` when it is listed.
    pub fn weight(&self, key: &[u8; 32]) -> Option<u64> {
        self.entries
            .binary_search_by(|(k, _)| k.cmp(key))
            .ok()
            .and_then(|i| self.entries.get(i))
            .map(|(_, w)| *w)
    }

    /// True when some credential weighs more than 1.
    pub fn is_weighted(&self) -> bool {
        self.entries.iter().any(|(_, w)| *w != 1)
    }

    /// Each key and its weight, in the list's order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8; 32], u64)> {
        self.entries.iter().map(|(k, w)| (k, *w))
    }
}

/// A credential issued to one voter, kept by the credential authority (never published).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuedCredential {
    pub voter: String,
    pub weight: u64,
    pub credential: String,
}

/// Issues one credential per voter `(name, weight)`; returns the private list (voter order)
/// and the public list (sorted by key).
pub fn issue<R: CryptoRng + ?Sized>(
    election_id: &str,
    voters: &[(String, u64)],
    rng: &mut R,
) -> Result<(Vec<IssuedCredential>, CredentialList), ElectionError> {
    if voters.is_empty() || voters.len() > MAX_CREDENTIALS {
        return invalid(format!("need 1 to {MAX_CREDENTIALS} voters"));
    }
    let mut private = Vec::with_capacity(voters.len());
    let mut public = Vec::with_capacity(voters.len());
    for (voter, weight) in voters {
        if *weight == 0 || *weight > MAX_WEIGHT {
            return invalid(format!(
                "voter {voter}: weight {weight} not in 1 to {MAX_WEIGHT}"
            ));
        }
        let credential = Credential::generate(rng);
        let key = credential.signing_key(election_id).public();
        private.push(IssuedCredential {
            voter: voter.clone(),
            weight: *weight,
            credential: credential.display(),
        });
        public.push(PublicCredential {
            key,
            weight: *weight,
        });
    }
    public.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
    if public.windows(2).any(|w| w[0].key == w[1].key) {
        return invalid("two credentials collided; draw again");
    }
    Ok((
        private,
        CredentialList {
            credentials: public,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use scrutin_crypto::rng::SeededRng;

    #[test]
    fn typing_is_forgiving_and_typos_are_caught() {
        let mut rng = SeededRng::new(b"cred");
        let c = Credential::generate(&mut rng);
        let shown = c.display();
        assert_eq!(shown.len(), 29);
        assert_eq!(Credential::parse(&shown).unwrap(), c);
        assert_eq!(
            Credential::parse(&shown.to_lowercase().replace('-', " ")).unwrap(),
            c
        );
        let mut typo = shown.clone().into_bytes();
        typo[0] = if typo[0] == b'A' { b'B' } else { b'A' };
        assert!(Credential::parse(std::str::from_utf8(&typo).unwrap()).is_err());
        assert!(Credential::parse("").is_err());
        assert!(Credential::parse("ÉÉÉ").is_err());
        assert!(Credential::parse(&"A".repeat(10_000)).is_err());
        assert_ne!(c.signing_key("e1").public(), c.signing_key("e2").public());
    }

    #[test]
    fn lists_are_checked() {
        let mut rng = SeededRng::new(b"list");
        let voters: Vec<(String, u64)> = (0..5).map(|i| (format!("v{i}"), 1 + i)).collect();
        let (private, public) = issue("e", &voters, &mut rng).unwrap();
        assert_eq!(private.len(), 5);
        assert_eq!(public.validate(1).unwrap(), 15);
        let mut bad = public.clone();
        bad.credentials.swap(0, 1);
        assert!(bad.validate(1).is_err());
        let mut bad = public.clone();
        bad.credentials[2].weight = 0;
        assert!(bad.validate(1).is_err());
        let mut bad = public;
        bad.credentials[0].weight = MAX_WEIGHT;
        assert!(bad.validate(1 << 20).is_err());
    }
}
