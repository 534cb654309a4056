//! Who acts in an election, and how anyone can tell (spec §8.6, §11.11, §14).
//!
//! Each trustee and the credential authority hold a long-term **role key** `sk`, with
//! public key `PK = sk·G`, generated on their own machine. The election definition names
//! each of them *with* their public key (§8.6), so the key is in the key-generation
//! context and the fingerprint. Every event a role posts is **signed** with that key
//! (§11.11): a Schnorr signature (§5.2) under
//!
//! ```text
//! start("event-signature") ‖ item("context", ctx) ‖ item("type", type) ‖ item("body", B)
//! ```
//! where `B` is the canonical body without its `signature` member. Whoever runs the server
//! can hand out role tokens, but cannot produce an event that verifies without the key.
//!
//! The server has a **board key** of its own (the definition's `board_key`): it signs the
//! receipts it gives voters and the heads it serves (§14), so that a server that shows
//! two different records, or drops an acknowledged ballot, leaves signed evidence.

use rand_core::CryptoRng;
use scrutin_crypto::elgamal::SecretScalar;
use scrutin_crypto::schnorr::SchnorrProof;
use scrutin_crypto::transcript::Transcript;
use scrutin_crypto::{Point, Scalar};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha512};

use crate::Hash32;
use crate::credential::ALPHABET;
use crate::error::{ElectionError, invalid};

/// Domain tags of this module (spec §3, table 2).
pub mod tags {
    pub const KEY_FINGERPRINT: &str = "role-key-fingerprint";
    pub const EVENT_SIGNATURE: &str = "event-signature";
    pub const BOARD_HEAD: &str = "board-head";
    pub const BOARD_RECEIPT: &str = "board-receipt";
}

/// What a role key is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Trustee,
    Authority,
    Board,
}

impl Role {
    /// A word for the role.
    pub fn name(self) -> &'static str {
        match self {
            Role::Trustee => "trustee",
            Role::Authority => "credential authority",
            Role::Board => "board",
        }
    }
}

/// A role's long-term signing key, as kept in its file (mode 0600, §8.6, informative).
/// Wiped on drop.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleKey {
    pub role: Role,
    pub name: String,
    pub signing_key: Point,
    pub signing_secret: SecretScalar,
}

impl RoleKey {
    /// Draws a new key for `role`, held by `name`.
    pub fn generate<R: CryptoRng + ?Sized>(role: Role, name: &str, rng: &mut R) -> Self {
        let signing_secret = SecretScalar::new(Scalar::random(rng));
        RoleKey {
            role,
            name: name.to_owned(),
            signing_key: signing_secret.public(),
            signing_secret,
        }
    }

    /// Reads a key file, checking that the public key is that of the secret.
    pub fn from_json(text: &str) -> Result<Self, ElectionError> {
        let key: RoleKey = serde_json::from_str(text)?;
        if key.signing_secret.public() != key.signing_key {
            return invalid("this key file is damaged: its public key is not that of its secret");
        }
        Ok(key)
    }

    /// How the election definition names this key's holder (§8.6).
    pub fn holder(&self) -> crate::definition::RoleHolder {
        crate::definition::RoleHolder {
            name: self.name.clone(),
            key: self.signing_key,
        }
    }

    /// The short form of the public key that people compare ([`fingerprint`]).
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.signing_key)
    }

    /// Signs `transcript` (a Schnorr signature, §5.2).
    pub fn sign<R: CryptoRng + ?Sized>(&self, transcript: Transcript, rng: &mut R) -> SchnorrProof {
        SchnorrProof::prove(
            transcript,
            &self.signing_key,
            self.signing_secret.expose(),
            rng,
        )
    }
}

/// The fingerprint of a public key (§8.6): the first 80 bits of
/// `SHA-512(start("role-key-fingerprint") ‖ item("key", enc(PK)))`, five bits a symbol
/// (most significant first) in the credentials' base-32 alphabet, in four groups of four:
/// `K7QH-2M9P-X4TA-BD3R`. Two people reading it to each other compare the key.
pub fn fingerprint(key: &Point) -> String {
    let mut t = Transcript::new(tags::KEY_FINGERPRINT);
    t.append_point("key", key);
    let d = Sha512::digest(t.bytes());
    let mut bits: u128 = 0;
    for b in &d[..10] {
        bits = (bits << 8) | u128::from(*b);
    }
    let mut out = String::with_capacity(19);
    for i in 0..16 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let symbol = ((bits >> (75 - 5 * i)) & 31) as usize;
        out.push(char::from(ALPHABET[symbol]));
    }
    out
}

/// The transcript of an event signature (§11.11).
pub fn event_transcript(context: &Hash32, kind: &str, unsigned_body: &[u8]) -> Transcript {
    let mut t = Transcript::new(tags::EVENT_SIGNATURE);
    t.append("context", &context.0)
        .append("type", kind.as_bytes())
        .append("body", unsigned_body);
    t
}

/// An event body signed by a role (§11.11): in JSON, the body's members followed by
/// `"signature": {"commitment", "response"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed<T> {
    pub body: T,
    pub signature: SchnorrProof,
}

impl<T: Serialize + DeserializeOwned> Signed<T> {
    /// Signs `body` as an event of type `kind` of the election whose context is `context`.
    pub fn sign<R: CryptoRng + ?Sized>(
        body: T,
        kind: &str,
        context: &Hash32,
        key: &RoleKey,
        rng: &mut R,
    ) -> Result<Self, ElectionError> {
        let unsigned = serde_json::to_string(&body)?;
        let signature = key.sign(event_transcript(context, kind, unsigned.as_bytes()), rng);
        Ok(Signed { body, signature })
    }

    /// Checks the signature with the public key `signer`.
    pub fn verify(
        &self,
        kind: &str,
        context: &Hash32,
        signer: &Point,
    ) -> Result<(), ElectionError> {
        let unsigned = serde_json::to_string(&self.body)?;
        self.signature
            .verify(event_transcript(context, kind, unsigned.as_bytes()), signer)
            .map_err(ElectionError::Crypto)
    }

    /// The canonical JSON: the body's members, then `signature` last.
    pub fn to_json(&self) -> Result<String, ElectionError> {
        let mut body = serde_json::to_string(&self.body)?;
        let signature = serde_json::to_string(&self.signature)?;
        if body.pop() != Some('}') {
            return invalid("a signed body must be a JSON object");
        }
        if !body.ends_with('{') {
            body.push(',');
        }
        body.push_str("\"signature\":");
        body.push_str(&signature);
        body.push('}');
        Ok(body)
    }

    /// Parses a signed body: an object whose `signature` member is the signature and
    /// whose other members are the body (closed, as the body's type says).
    pub fn from_json(text: &str) -> Result<Self, ElectionError> {
        let mut members: std::collections::BTreeMap<&str, &RawValue> = serde_json::from_str(text)?;
        let signature = members.remove("signature").ok_or_else(|| {
            ElectionError::Invalid("the event is not signed (no signature member)".into())
        })?;
        let signature: SchnorrProof = serde_json::from_str(signature.get())?;
        let mut rest = String::with_capacity(text.len());
        rest.push('{');
        for (i, (name, value)) in members.iter().enumerate() {
            if i > 0 {
                rest.push(',');
            }
            rest.push_str(&serde_json::to_string(name)?);
            rest.push(':');
            rest.push_str(value.get());
        }
        rest.push('}');
        Ok(Signed {
            body: serde_json::from_str(&rest)?,
            signature,
        })
    }
}

/// A head of the board signed by the server (§14.1): the record of the election whose
/// context is `election` had `length` lines, the last of which hashes to `head`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedHead {
    pub election: Hash32,
    pub length: u64,
    pub head: Hash32,
    pub signature: SchnorrProof,
}

fn head_transcript(election: &Hash32, length: u64, head: &Hash32) -> Transcript {
    let mut t = Transcript::new(tags::BOARD_HEAD);
    t.append("election", &election.0)
        .append_u64("length", length)
        .append("head", &head.0);
    t
}

impl SignedHead {
    /// The board signs the head of a record of `length` lines.
    pub fn sign<R: CryptoRng + ?Sized>(
        key: &RoleKey,
        election: Hash32,
        length: u64,
        head: Hash32,
        rng: &mut R,
    ) -> Self {
        SignedHead {
            election,
            length,
            head,
            signature: key.sign(head_transcript(&election, length, &head), rng),
        }
    }

    /// Checks the signature with the board key.
    pub fn verify(&self, board_key: &Point) -> Result<(), ElectionError> {
        self.signature
            .verify(
                head_transcript(&self.election, self.length, &self.head),
                board_key,
            )
            .map_err(ElectionError::Crypto)
    }
}

/// A voter's receipt signed by the server (§14.2): the ballot with this tracker is line
/// `seq` of the board of the election with fingerprint `election`, and that line hashes
/// to `head`; the credential that signed it has weight `weight`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub election: Hash32,
    pub seq: u64,
    pub tracker: Hash32,
    pub head: Hash32,
    pub weight: u64,
    pub signature: SchnorrProof,
}

fn receipt_transcript(
    election: &Hash32,
    seq: u64,
    tracker: &Hash32,
    head: &Hash32,
    weight: u64,
) -> Transcript {
    let mut t = Transcript::new(tags::BOARD_RECEIPT);
    t.append("election", &election.0)
        .append_u64("seq", seq)
        .append("tracker", &tracker.0)
        .append("head", &head.0)
        .append_u64("weight", weight);
    t
}

impl Receipt {
    /// The board signs a receipt.
    pub fn sign<R: CryptoRng + ?Sized>(
        key: &RoleKey,
        election: Hash32,
        seq: u64,
        tracker: Hash32,
        head: Hash32,
        weight: u64,
        rng: &mut R,
    ) -> Self {
        Receipt {
            election,
            seq,
            tracker,
            head,
            weight,
            signature: key.sign(
                receipt_transcript(&election, seq, &tracker, &head, weight),
                rng,
            ),
        }
    }

    /// Checks the signature with the board key.
    pub fn verify(&self, board_key: &Point) -> Result<(), ElectionError> {
        self.signature
            .verify(
                receipt_transcript(
                    &self.election,
                    self.seq,
                    &self.tracker,
                    &self.head,
                    self.weight,
                ),
                board_key,
            )
            .map_err(ElectionError::Crypto)
    }
}

/// What a record says of a receipt (§14.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiptCheck {
    /// Line `seq` is the receipt's ballot. `replaced_by` is the last ballot of the same
    /// credential when a later one replaced it (the receipt's ballot is then not counted).
    OnRecord { replaced_by: Option<u64> },
    /// The record has only `length` lines: it does not reach the receipt's ballot yet.
    NotYet { length: u64 },
    /// Line `seq` of the record is not the ballot the board acknowledged (`found` is the
    /// hash of what is there): the ballot was removed or the record forked after it. The
    /// receipt, signed by the board, is the evidence.
    Missing { found: Hash32 },
    /// The ballot is there, but the board stated another weight than the credential list
    /// gives it: the receipt is evidence of that.
    WrongWeight { listed: u64 },
}

/// Checks a receipt against a verified record (`state` is the verifier's state of
/// `record`): the receipt must be signed by the definition's board key and name this
/// election's fingerprint; then the record either holds the acknowledged ballot at its
/// position, or does not reach it yet, or holds something else there (evidence).
pub fn check_receipt(
    record: &[u8],
    state: &crate::verify::RecordState,
    receipt: &Receipt,
) -> Result<ReceiptCheck, ElectionError> {
    check_receipt_in_lines(&crate::record::split_lines(record)?, state, receipt)
}

/// [`check_receipt`] on the record's lines (as [`crate::record::split_lines`] gives
/// them), to check many receipts against one record without splitting it each time.
pub fn check_receipt_in_lines(
    lines: &[&[u8]],
    state: &crate::verify::RecordState,
    receipt: &Receipt,
) -> Result<ReceiptCheck, ElectionError> {
    let def = state
        .definition
        .as_ref()
        .ok_or_else(|| ElectionError::Invalid("the record has no election".into()))?;
    let board_key = def.board_key.as_ref().ok_or_else(|| {
        ElectionError::Invalid(
            "this election names no board key, so its board signs no receipts".into(),
        )
    })?;
    receipt.verify(board_key).map_err(|_| {
        ElectionError::Invalid(format!(
            "the receipt is not signed by this election's board key {}: it proves nothing",
            fingerprint(board_key)
        ))
    })?;
    if state.fingerprint != Some(receipt.election) {
        return invalid(format!(
            "the receipt is for election fingerprint {}, not this record's",
            receipt.election
        ));
    }
    let Some(line) = usize::try_from(receipt.seq).ok().and_then(|i| lines.get(i)) else {
        return Ok(ReceiptCheck::NotYet {
            length: lines.len() as u64,
        });
    };
    let found = Hash32::of(line);
    if found != receipt.head {
        return Ok(ReceiptCheck::Missing { found });
    }
    let parsed =
        crate::record::parse_line(line).map_err(|e| ElectionError::Invalid(e.to_string()))?;
    let crate::record::Event::Ballot(ballot) = parsed.event else {
        return Ok(ReceiptCheck::Missing { found });
    };
    if ballot.tracker() != receipt.tracker {
        return Ok(ReceiptCheck::Missing { found });
    }
    let credential = ballot.credential.as_bytes();
    let listed = state.credential_weight(credential).unwrap_or(0);
    if listed != receipt.weight {
        return Ok(ReceiptCheck::WrongWeight { listed });
    }
    let last = state.last_ballot_of(credential);
    Ok(ReceiptCheck::OnRecord {
        replaced_by: last.filter(|l| *l != receipt.seq),
    })
}

/// Whether two signed heads of one board can lie on one chain (§14.3): the one with
/// fewer lines must be a prefix of the other. With `record` holding the longer chain up to
/// at least the shorter head, a conflict between a head and the record is a proof that the
/// board signed two records.
pub fn head_matches_record(
    head: &SignedHead,
    line_hash_at: impl Fn(u64) -> Option<Hash32>,
) -> HeadCheck {
    if head.length == 0 {
        return HeadCheck::Consistent;
    }
    match line_hash_at(head.length - 1) {
        None => HeadCheck::Ahead,
        Some(h) if h == head.head => HeadCheck::Consistent,
        Some(h) => HeadCheck::Conflict { found: h },
    }
}

/// How a signed head relates to a record one holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeadCheck {
    /// The record has the signed head's last line.
    Consistent,
    /// The signed head is longer than the record: nothing to compare yet.
    Ahead,
    /// The record has another line there: the board signed a head of another chain.
    Conflict { found: Hash32 },
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use scrutin_crypto::rng::SeededRng;

    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        index: u32,
        text: String,
    }

    #[test]
    fn fingerprints_are_short_and_differ() {
        let mut rng = SeededRng::new(b"fp");
        let a = RoleKey::generate(Role::Trustee, "A", &mut rng);
        let b = RoleKey::generate(Role::Trustee, "B", &mut rng);
        let f = a.fingerprint();
        assert_eq!(f.len(), 19);
        assert_eq!(f.matches('-').count(), 3);
        assert_ne!(f, b.fingerprint());
        assert_eq!(f, fingerprint(&a.signing_key));
    }

    #[test]
    fn key_files_round_trip_and_damage_is_refused() {
        let mut rng = SeededRng::new(b"file");
        let a = RoleKey::generate(Role::Authority, "CA", &mut rng);
        let text = serde_json::to_string(&a).unwrap();
        assert_eq!(
            RoleKey::from_json(&text).unwrap().signing_key,
            a.signing_key
        );
        let b = RoleKey::generate(Role::Authority, "CA", &mut rng);
        let mut damaged = a.clone();
        damaged.signing_key = b.signing_key;
        assert!(RoleKey::from_json(&serde_json::to_string(&damaged).unwrap()).is_err());
        assert!(RoleKey::from_json("{").is_err());
    }

    #[test]
    fn a_signed_body_round_trips_in_canonical_form() {
        let mut rng = SeededRng::new(b"signed");
        let key = RoleKey::generate(Role::Trustee, "T", &mut rng);
        let ctx = Hash32([7; 32]);
        let s = Signed::sign(
            Body {
                index: 3,
                text: "a \"b\"".into(),
            },
            "thing",
            &ctx,
            &key,
            &mut rng,
        )
        .unwrap();
        let json = s.to_json().unwrap();
        assert!(json.starts_with(r#"{"index":3,"text":"a \"b\"","signature":{"commitment":""#));
        let back: Signed<Body> = Signed::from_json(&json).unwrap();
        assert_eq!(back, s);
        back.verify("thing", &ctx, &key.signing_key).unwrap();
        // Unsigned, unknown members, or a broken signature are refused.
        assert!(Signed::<Body>::from_json(r#"{"index":3,"text":"x"}"#).is_err());
        let extra = json.replacen("{", r#"{"extra":1,"#, 1);
        assert!(Signed::<Body>::from_json(&extra).is_err());
        assert!(Signed::<Body>::from_json("[1]").is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        #[test]
        fn tampering_with_a_signed_event_is_detected(seed in any::<[u8; 16]>(), which in 0usize..5) {
            let mut rng = SeededRng::new(&seed);
            let key = RoleKey::generate(Role::Trustee, "T", &mut rng);
            let other = RoleKey::generate(Role::Trustee, "U", &mut rng);
            let ctx = Hash32([1; 32]);
            let s = Signed::sign(Body { index: 1, text: "t".into() }, "k", &ctx, &key, &mut rng).unwrap();
            prop_assert!(s.verify("k", &ctx, &key.signing_key).is_ok());
            let mut bad = s.clone();
            let (kind, context, signer) = match which {
                0 => { bad.body.index = 2; ("k", ctx, key.signing_key) }
                1 => { bad.signature.response += Scalar::ONE; ("k", ctx, key.signing_key) }
                2 => ("other", ctx, key.signing_key),
                3 => ("k", Hash32([2; 32]), key.signing_key),
                _ => ("k", ctx, other.signing_key),
            };
            prop_assert!(bad.verify(kind, &context, &signer).is_err());
        }

        #[test]
        fn heads_and_receipts_verify_only_as_signed(seed in any::<[u8; 16]>(), which in 0usize..4) {
            let mut rng = SeededRng::new(&seed);
            let board = RoleKey::generate(Role::Board, "board", &mut rng);
            let other = RoleKey::generate(Role::Board, "other", &mut rng);
            let h = SignedHead::sign(&board, Hash32([1; 32]), 10, Hash32([2; 32]), &mut rng);
            prop_assert!(h.verify(&board.signing_key).is_ok());
            prop_assert!(h.verify(&other.signing_key).is_err());
            let r = Receipt::sign(&board, Hash32([3; 32]), 12, Hash32([4; 32]), Hash32([5; 32]), 2, &mut rng);
            prop_assert!(r.verify(&board.signing_key).is_ok());
            let mut bh = h.clone();
            let mut br = r.clone();
            match which {
                0 => { bh.length += 1; br.seq += 1; }
                1 => { bh.head = Hash32([9; 32]); br.tracker = Hash32([9; 32]); }
                2 => { bh.election = Hash32([9; 32]); br.weight += 1; }
                _ => { bh.signature.response += Scalar::ONE; br.head = Hash32([9; 32]); }
            }
            prop_assert!(bh.verify(&board.signing_key).is_err());
            prop_assert!(br.verify(&board.signing_key).is_err());
        }
    }
}
