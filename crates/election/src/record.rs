//! The election record (spec §11): one JSON Lines file, one event a line, each line
//!
//! ```text
//! {"seq":N,"prev":"<64 hex>","type":"<type>","body":{…}}
//! ```
//! in this field order, with no spaces, ending with `\n`. `prev` is the SHA-256 of the
//! previous line's bytes (without its `\n`), 64 zeros for the first line: editing,
//! removing or reordering any line breaks the chain (§11.1). The order of events is fixed
//! (§11.2): `election`, the key generation, `credentials`, `open`, ballots, `close`,
//! the trustees' shuffles of ranked and graded answers, decryption shares, `result`.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::Hash32;
use crate::ballot::Ballot;
use crate::credential::CredentialList;
use crate::definition::ElectionDefinition;
use crate::error::{ElectionError, invalid};
use crate::mix::Shuffle;
use crate::parts::{DecryptionRows, ShuffleRows};
use crate::roles::Signed;
use crate::tally::{DecryptionShare, ElectionResult, EncryptedTally};
use scrutin_crypto::dkg::{DealerShares, JointKey, TrusteeCheck, TrusteeCommitment};

/// Longest line accepted, in bytes (a ballot of the largest allowed election fits).
pub const MAX_LINE: usize = 16 << 20;

/// The `prev` of the first line.
pub const GENESIS: Hash32 = Hash32([0u8; 32]);

/// The body of the `open` event: the election fingerprint, equal to the event's `prev`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Open {
    pub fingerprint: Hash32,
}

/// The body of the `close` event: how many credentials voted, and the encrypted tally.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Close {
    pub ballots_counted: u64,
    pub tally: EncryptedTally,
}

/// Every event of the record, by `type`.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Election(ElectionDefinition),
    /// Signed by the trustee (§11.11), as are the next two and `DecryptionShare`.
    TrusteeCommitment(Signed<TrusteeCommitment>),
    DealerShares(Signed<DealerShares>),
    TrusteeCheck(Signed<TrusteeCheck>),
    ElectionKey(JointKey),
    /// Signed by the credential authority (§11.11).
    Credentials(Signed<CredentialList>),
    Open(Open),
    Ballot(Box<Ballot>),
    Close(Close),
    /// Rows of a shuffle too long for one line, before its `shuffle` (§11.15).
    ShuffleRows(Signed<ShuffleRows>),
    /// Signed by the trustee that shuffled (§11.12).
    Shuffle(Signed<Shuffle>),
    /// Rows of a trustee's factors too long for one line, before its share (§11.15).
    DecryptionRows(Signed<DecryptionRows>),
    DecryptionShare(Signed<DecryptionShare>),
    Result(ElectionResult),
}

impl Event {
    /// The `type` field.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Election(_) => "election",
            Event::TrusteeCommitment(_) => "trustee_commitment",
            Event::DealerShares(_) => "dealer_shares",
            Event::TrusteeCheck(_) => "trustee_check",
            Event::ElectionKey(_) => "election_key",
            Event::Credentials(_) => "credentials",
            Event::Open(_) => "open",
            Event::Ballot(_) => "ballot",
            Event::Close(_) => "close",
            Event::ShuffleRows(_) => "shuffle_rows",
            Event::Shuffle(_) => "shuffle",
            Event::DecryptionRows(_) => "decryption_rows",
            Event::DecryptionShare(_) => "decryption_share",
            Event::Result(_) => "result",
        }
    }

    /// The body as compact JSON.
    pub fn body_json(&self) -> Result<String, ElectionError> {
        Ok(match self {
            Event::Election(b) => serde_json::to_string(b),
            Event::TrusteeCommitment(b) => return b.to_json(),
            Event::DealerShares(b) => return b.to_json(),
            Event::TrusteeCheck(b) => return b.to_json(),
            Event::ElectionKey(b) => serde_json::to_string(b),
            Event::Credentials(b) => return b.to_json(),
            Event::Open(b) => serde_json::to_string(b),
            Event::Ballot(b) => serde_json::to_string(b),
            Event::Close(b) => serde_json::to_string(b),
            Event::ShuffleRows(b) => return b.to_json(),
            Event::Shuffle(b) => return b.to_json(),
            Event::DecryptionRows(b) => return b.to_json(),
            Event::DecryptionShare(b) => return b.to_json(),
            Event::Result(b) => serde_json::to_string(b),
        }?)
    }

    /// Who must have signed this event (§11.11): a trustee by number, the authority, or
    /// nobody.
    pub fn signer(&self) -> Signer {
        match self {
            Event::TrusteeCommitment(s) => Signer::Trustee(s.body.index),
            Event::DealerShares(s) => Signer::Trustee(s.body.dealer),
            Event::TrusteeCheck(s) => Signer::Trustee(s.body.index),
            Event::ShuffleRows(s) => Signer::Trustee(s.body.trustee),
            Event::Shuffle(s) => Signer::Trustee(s.body.trustee),
            Event::DecryptionRows(s) => Signer::Trustee(s.body.trustee),
            Event::DecryptionShare(s) => Signer::Trustee(s.body.trustee),
            Event::Credentials(_) => Signer::Authority,
            _ => Signer::Nobody,
        }
    }

    /// Parses a body of the given type.
    pub fn parse(kind: &str, body: &str) -> Result<Event, ElectionError> {
        Ok(match kind {
            "election" => Event::Election(serde_json::from_str(body)?),
            "trustee_commitment" => Event::TrusteeCommitment(Signed::from_json(body)?),
            "dealer_shares" => Event::DealerShares(Signed::from_json(body)?),
            "trustee_check" => Event::TrusteeCheck(Signed::from_json(body)?),
            "election_key" => Event::ElectionKey(serde_json::from_str(body)?),
            "credentials" => Event::Credentials(Signed::from_json(body)?),
            "open" => Event::Open(serde_json::from_str(body)?),
            "ballot" => Event::Ballot(Box::new(serde_json::from_str(body)?)),
            "close" => Event::Close(serde_json::from_str(body)?),
            "shuffle_rows" => Event::ShuffleRows(Signed::from_json(body)?),
            "shuffle" => Event::Shuffle(Signed::from_json(body)?),
            "decryption_rows" => Event::DecryptionRows(Signed::from_json(body)?),
            "decryption_share" => Event::DecryptionShare(Signed::from_json(body)?),
            "result" => Event::Result(serde_json::from_str(body)?),
            other => return invalid(format!("unknown event type {:?}", truncate(other))),
        })
    }
}

/// Who signs an event (§11.11).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signer {
    /// The trustee with this number.
    Trustee(u32),
    /// The credential authority.
    Authority,
    /// The event is not signed (the server or anyone can compute it).
    Nobody,
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// The envelope of a line, with the body left unparsed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<'a> {
    pub seq: u64,
    pub prev: Hash32,
    #[serde(rename = "type")]
    pub kind: &'a str,
    #[serde(borrow)]
    pub body: &'a RawValue,
}

/// One parsed line of the record.
#[derive(Clone, Debug)]
pub struct RecordLine {
    pub seq: u64,
    pub prev: Hash32,
    /// SHA-256 of this line's bytes: the next line's `prev`.
    pub hash: Hash32,
    pub event: Event,
}

/// Why a line could not be read: the check of §12 it fails (`R1` or `R5`) and the reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{check}: {message}")]
pub struct LineError {
    pub check: &'static str,
    pub message: String,
}

fn line_error<T>(check: &'static str, message: impl Into<String>) -> Result<T, LineError> {
    Err(LineError {
        check,
        message: message.into(),
    })
}

/// Parses one line (without its `\n`) and hashes it (§11.1; checks R1 and R5): the
/// envelope, the body's schema, and that the line is byte for byte in canonical form.
pub fn parse_line(line: &[u8]) -> Result<RecordLine, LineError> {
    if line.len() > MAX_LINE {
        return line_error("R1", format!("line longer than {MAX_LINE} bytes"));
    }
    let Ok(text) = std::str::from_utf8(line) else {
        return line_error("R1", "line is not UTF-8");
    };
    let env: Envelope<'_> = match serde_json::from_str(text) {
        Ok(env) => env,
        Err(e) => return line_error("R1", format!("not a record line: {e}")),
    };
    let event =
        Event::parse(env.kind, env.body.get()).or_else(|e| line_error("R5", e.to_string()))?;
    // One event, one byte string: the line must be exactly as §11.1 writes it.
    let body = event
        .body_json()
        .or_else(|e| line_error("R5", e.to_string()))?;
    if format_line(env.seq, &env.prev, env.kind, &body).as_bytes() != line {
        return line_error(
            "R1",
            "the line is not in the canonical form of §11.1 (spacing, member order or letter case)",
        );
    }
    Ok(RecordLine {
        seq: env.seq,
        prev: env.prev,
        hash: Hash32::of(line),
        event,
    })
}

/// A ballot line read back for its tallied ciphertexts only ([`tallied_ciphertexts_of_line`]).
pub(crate) struct TalliedBallotLine {
    pub seq: u64,
    /// The credential's 32 bytes, as written (not decoded as a point).
    pub credential: [u8; 32],
    /// The ciphertexts of the homomorphic questions' answers and blanks, in the order of
    /// [`Ballot::tallied_ciphertexts`].
    pub ciphertexts: Vec<scrutin_crypto::elgamal::Ciphertext>,
}

/// Reads, from a ballot line this verifier already applied, only what a re-vote must take
/// out of the running tally (§11.8): its number, its credential and the ciphertexts of its
/// homomorphic answers. The proofs, the signature and the credential are not decoded and
/// the canonical form is not checked again: [`parse_line`] did all of that when the line
/// was first applied (docs/PERFORMANCE.md: "A re-vote reads less of the ballot it
/// replaces").
pub(crate) fn tallied_ciphertexts_of_line(
    line: &[u8],
    questions: &[crate::definition::Question],
) -> Result<TalliedBallotLine, String> {
    #[derive(Deserialize)]
    struct Body<'a> {
        credential: &'a str,
        #[serde(borrow)]
        answers: Vec<&'a RawValue>,
    }
    #[derive(Deserialize)]
    struct Tallied {
        choices: Vec<scrutin_crypto::elgamal::Ciphertext>,
        #[serde(default)]
        blank: Option<scrutin_crypto::elgamal::Ciphertext>,
    }
    let text = std::str::from_utf8(line).map_err(|_| "the line is not UTF-8".to_owned())?;
    let env: Envelope<'_> =
        serde_json::from_str(text).map_err(|e| format!("not a record line: {e}"))?;
    if env.kind != "ballot" {
        return Err(format!("a {} line, not a ballot", truncate(env.kind)));
    }
    let body: Body<'_> =
        serde_json::from_str(env.body.get()).map_err(|e| format!("not a ballot: {e}"))?;
    let mut credential = [0u8; 32];
    hex::decode_to_slice(body.credential, &mut credential)
        .map_err(|e| format!("the ballot's credential: {e}"))?;
    if body.answers.len() != questions.len() {
        return Err(format!(
            "the ballot answers {} questions, the election has {}",
            body.answers.len(),
            questions.len()
        ));
    }
    let mut ciphertexts = Vec::new();
    for (answer, _) in body
        .answers
        .iter()
        .zip(questions)
        .filter(|(_, q)| !q.is_mixed())
    {
        let a: Tallied =
            serde_json::from_str(answer.get()).map_err(|e| format!("an answer: {e}"))?;
        ciphertexts.extend(a.choices);
        ciphertexts.extend(a.blank);
    }
    Ok(TalliedBallotLine {
        seq: env.seq,
        credential,
        ciphertexts,
    })
}

/// Writes events as lines of the hash chain.
#[derive(Clone, Debug)]
pub struct RecordWriter {
    next_seq: u64,
    head: Hash32,
}

impl Default for RecordWriter {
    fn default() -> Self {
        RecordWriter {
            next_seq: 0,
            head: GENESIS,
        }
    }
}

impl RecordWriter {
    /// Continues a record whose last line had number `next_seq − 1` and hash `head`.
    pub fn resume(next_seq: u64, head: Hash32) -> Self {
        RecordWriter { next_seq, head }
    }

    /// The hash of the last line written (the record's head).
    pub fn head(&self) -> Hash32 {
        self.head
    }

    /// The sequence number of the next line.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Formats the next line (without `\n`) and advances the chain.
    pub fn line(&mut self, event: &Event) -> Result<String, ElectionError> {
        let line = format_line(self.next_seq, &self.head, event.kind(), &event.body_json()?);
        self.head = Hash32::of(line.as_bytes());
        self.next_seq += 1;
        Ok(line)
    }
}

/// The canonical line (§11.1): members in this order, no spaces, the body as serialised
/// by [`Event::body_json`].
pub fn format_line(seq: u64, prev: &Hash32, kind: &str, body: &str) -> String {
    format!(
        r#"{{"seq":{seq},"prev":"{}","type":"{kind}","body":{body}}}"#,
        prev.to_hex()
    )
}

/// Splits a record into lines; every line, the last included, must end with `\n` (R1).
pub fn split_lines(record: &[u8]) -> Result<Vec<&[u8]>, ElectionError> {
    if record.is_empty() {
        return invalid("the record is empty");
    }
    if record.last() != Some(&b'\n') {
        return invalid("the record does not end with a newline (truncated last line?)");
    }
    Ok(record[..record.len() - 1].split(|b| *b == b'\n').collect())
}
