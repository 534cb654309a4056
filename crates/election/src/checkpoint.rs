//! A checkpoint of a verified record's state: [`RecordState`] written compactly, so that a
//! server restarting on a large election reads it back instead of verifying the whole
//! record again (§12 runs once per node, not once per restart).
//!
//! **What is trusted.** A checkpoint is a node's own cache of a verification it ran; it is
//! never evidence for anyone else, and public verifiers (§12) never read it. It carries the
//! number of lines it covers and the hash of the last of them (`events`, `head`): whoever
//! uses it must first check that line `events − 1` of the stored record hashes to `head`
//! ([`Checkpoint::anchored_by`]), so that it stands for that very record (the hash chain of
//! §11.1 fixes every line before it), then verify the lines after it with
//! [`RecordState::push_line`]. Decoding checks every length and bound before it allocates,
//! every point encoding, the state's own consistency and a SHA-256 of the whole: malformed
//! or altered bytes are an error, never a panic nor a different state.
//!
//! Layout (version 2), integers little-endian, every list prefixed by its `u32` length:
//!
//! | field | encoding |
//! |---|---|
//! | magic, version | `b"scrutinC"`, `u32` |
//! | events, head, election hash | `u64`, 32 bytes, 32 bytes |
//! | ballots, proofs, counted weight | `u64` each |
//! | the rarely large members (definition, key generation, close, shuffles, shares, result, parts waiting, tally) | JSON, `u32` length |
//! | credential list | flag byte, then (key 32 bytes, weight `u64`) each |
//! | replaced ballots | flag byte: 1 held in the state, 0 read back from the record ([`RecordState::read_replaced_ballots_from`]) |
//! | last ballots | (credential 32, seq `u64`, tallied ciphertexts if held, ranked and graded ciphertexts) each, sorted by credential |
//! | ciphertext αs seen (B7) | their first 16 bytes each, sorted |
//! | trackers | (tracker 32, seq `u64`) each, sorted |
//! | rows being mixed | per question, rows, width, then 64 bytes a ciphertext |
//! | checksum | SHA-256 of everything before it |
//!
//! The voting context, a derived member, is rebuilt, not stored.

use std::collections::HashMap;
use std::sync::Arc;

use scrutin_crypto::Point;
use scrutin_crypto::dkg::{DealerShares, JointKey, TrusteeCheck, TrusteeCommitment};
use scrutin_crypto::elgamal::Ciphertext;
use scrutin_crypto::threshold::DecryptionFactor;
use serde::{Deserialize, Serialize};

use crate::Hash32;
use crate::alphas::AlphaIndex;
use crate::ballot::VotingContext;
use crate::credential::ListedCredentials;
use crate::definition::ElectionDefinition;
use crate::mix::{Rows, Shuffle};
use crate::parts::{Pending, ShuffleRows};
use crate::record::Close;
use crate::tally::{DecryptionShare, ElectionResult, EncryptedTally, TallyAccumulator};
use crate::verify::{LastVote, RecordState};

const MAGIC: &[u8; 8] = b"scrutinC";
/// The layout's version; a checkpoint of another version is refused (and taken again).
pub const VERSION: u32 = 2;
/// At most this many bytes of JSON (the definition and trustees' events are bounded far
/// below, §8.2; shuffles of large elections are the largest part).
const MAX_JSON: usize = 1 << 31;

/// A checkpoint that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("checkpoint refused: {0}")]
pub struct CheckpointError(pub String);

fn bad<T>(message: impl Into<String>) -> Result<T, CheckpointError> {
    Err(CheckpointError(message.into()))
}

/// A decoded checkpoint, not yet anchored to a record.
pub struct Checkpoint {
    state: RecordState,
}

impl Checkpoint {
    /// Number of record lines the checkpoint covers.
    pub fn events(&self) -> u64 {
        self.state.events
    }

    /// Hash of the last line it covers.
    pub fn head(&self) -> Hash32 {
        self.state.head
    }

    /// The state, once `last_line` — line `events − 1` of the stored record, without its
    /// newline — is shown to hash to the checkpoint's head. The empty record has no line to
    /// check: its checkpoint is the empty state.
    pub fn anchored_by(self, last_line: Option<&[u8]>) -> Result<RecordState, CheckpointError> {
        match (self.state.events, last_line) {
            (0, None) => Ok(self.state),
            (0, Some(_)) => bad("a checkpoint of no line anchored by a line"),
            (_, None) => bad(format!(
                "the record has no line {} to anchor the checkpoint",
                self.state.events - 1
            )),
            (n, Some(line)) => {
                if Hash32::of(line) == self.state.head {
                    Ok(self.state)
                } else {
                    bad(format!(
                        "line {} of the stored record does not hash to the checkpoint's head {}",
                        n - 1,
                        self.state.head
                    ))
                }
            }
        }
    }
}

/// The members stored as JSON: few, and small but for shuffles and shares.
#[derive(Serialize)]
struct SmallOut<'a> {
    definition: &'a Option<ElectionDefinition>,
    commitments: &'a Vec<Option<TrusteeCommitment>>,
    dealt: &'a Vec<Option<DealerShares>>,
    checks: &'a Vec<Option<TrusteeCheck>>,
    complained: &'a Vec<u32>,
    joint_key: &'a Option<JointKey>,
    fingerprint: &'a Option<Hash32>,
    tally: Option<EncryptedTally>,
    close: &'a Option<Close>,
    close_hash: &'a Option<Hash32>,
    shuffles: &'a Vec<Shuffle>,
    shares: &'a Vec<DecryptionShare>,
    pending_parts: Option<PendingJson>,
    result: &'a Option<ElectionResult>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SmallIn {
    definition: Option<ElectionDefinition>,
    commitments: Vec<Option<TrusteeCommitment>>,
    dealt: Vec<Option<DealerShares>>,
    checks: Vec<Option<TrusteeCheck>>,
    complained: Vec<u32>,
    joint_key: Option<JointKey>,
    fingerprint: Option<Hash32>,
    tally: Option<EncryptedTally>,
    close: Option<Close>,
    close_hash: Option<Hash32>,
    shuffles: Vec<Shuffle>,
    shares: Vec<DecryptionShare>,
    pending_parts: Option<PendingJson>,
    result: Option<ElectionResult>,
}

/// [`Pending`] as JSON.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum PendingJson {
    Shuffle {
        trustee: u32,
        rows: Vec<ShuffleRows>,
        last: usize,
    },
    Decryption {
        trustee: u32,
        factors: Vec<Vec<Vec<DecryptionFactor>>>,
        last: usize,
    },
}

impl From<&Pending> for PendingJson {
    fn from(p: &Pending) -> Self {
        match p {
            Pending::Shuffle {
                trustee,
                rows,
                last,
            } => PendingJson::Shuffle {
                trustee: *trustee,
                rows: rows.clone(),
                last: *last,
            },
            Pending::Decryption {
                trustee,
                factors,
                last,
            } => PendingJson::Decryption {
                trustee: *trustee,
                factors: factors.clone(),
                last: *last,
            },
        }
    }
}

impl From<PendingJson> for Pending {
    fn from(p: PendingJson) -> Self {
        match p {
            PendingJson::Shuffle {
                trustee,
                rows,
                last,
            } => Pending::Shuffle {
                trustee,
                rows,
                last,
            },
            PendingJson::Decryption {
                trustee,
                factors,
                last,
            } => Pending::Decryption {
                trustee,
                factors,
                last,
            },
        }
    }
}

fn put_u32(out: &mut Vec<u8>, n: usize) -> Result<(), CheckpointError> {
    let n = u32::try_from(n).or_else(|_| bad("a list too long for a checkpoint"))?;
    out.extend_from_slice(&n.to_le_bytes());
    Ok(())
}

fn put_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(&n.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), CheckpointError> {
    put_u32(out, bytes.len())?;
    out.extend_from_slice(bytes);
    Ok(())
}

fn put_ciphertext(out: &mut Vec<u8>, c: &Ciphertext) {
    out.extend_from_slice(c.alpha.as_bytes());
    out.extend_from_slice(c.beta.as_bytes());
}

/// Writes a checkpoint of `state`. The same state always gives the same bytes.
pub fn encode(state: &RecordState) -> Result<Vec<u8>, CheckpointError> {
    let small = SmallOut {
        definition: &state.definition,
        commitments: &state.commitments,
        dealt: &state.dealt,
        checks: &state.checks,
        complained: &state.complained,
        joint_key: &state.joint_key,
        fingerprint: &state.fingerprint,
        tally: state.current_tally(),
        close: &state.close,
        close_hash: &state.close_hash,
        shuffles: &state.shuffles,
        shares: &state.shares,
        pending_parts: state.pending_parts.as_ref().map(PendingJson::from),
        result: &state.result,
    };
    let json = serde_json::to_vec(&small).or_else(|e| bad(e.to_string()))?;
    let per_ballot = state
        .last_votes
        .values()
        .map(|v| 48 + v.ciphertexts.as_ref().map_or(0, |c| c.len()) + v.mixed.len())
        .sum::<usize>()
        + 16 * state.seen_alphas.len()
        + 40 * state.trackers.len();
    let credentials = state.credentials.as_ref().map_or(0, ListedCredentials::len);
    let mut out = Vec::with_capacity(200 + json.len() + per_ballot + 40 * credentials);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    put_u64(&mut out, state.events);
    out.extend_from_slice(&state.head.0);
    out.extend_from_slice(&state.election_hash.0);
    put_u64(&mut out, state.ballots);
    put_u64(&mut out, state.proofs);
    put_u64(&mut out, state.counted_weight);
    put_bytes(&mut out, &json)?;
    match &state.credentials {
        None => out.push(0),
        Some(list) => {
            out.push(1);
            put_u32(&mut out, list.len())?;
            for (key, weight) in list.iter() {
                out.extend_from_slice(key);
                put_u64(&mut out, weight);
            }
        }
    }
    let held = state.record_lines.is_none();
    out.push(u8::from(held));
    let mut votes: Vec<(&[u8; 32], &LastVote)> = state.last_votes.iter().collect();
    votes.sort_unstable_by_key(|(k, _)| **k);
    put_u32(&mut out, votes.len())?;
    for (credential, vote) in votes {
        out.extend_from_slice(credential);
        put_u64(&mut out, vote.seq);
        if held {
            let Some(ciphertexts) = &vote.ciphertexts else {
                return bad("a last ballot neither held nor readable");
            };
            put_bytes(&mut out, ciphertexts)?;
        }
        put_bytes(&mut out, &vote.mixed)?;
    }
    let alphas = state.seen_alphas.sorted_keys();
    put_u32(&mut out, alphas.len())?;
    for a in alphas {
        out.extend_from_slice(&a.to_le_bytes());
    }
    let mut trackers: Vec<(&Hash32, &u64)> = state.trackers.iter().collect();
    trackers.sort_unstable_by_key(|(t, _)| **t);
    put_u32(&mut out, trackers.len())?;
    for (t, seq) in trackers {
        out.extend_from_slice(&t.0);
        put_u64(&mut out, *seq);
    }
    put_u32(&mut out, state.mix_rows.len())?;
    for rows in &state.mix_rows {
        put_u32(&mut out, rows.len())?;
        let width = rows.first().map_or(0, Vec::len);
        put_u32(&mut out, width)?;
        for row in rows {
            if row.len() != width {
                return bad("rows of one question have different widths");
            }
            for c in row {
                put_ciphertext(&mut out, c);
            }
        }
    }
    let sum = Hash32::of(&out);
    out.extend_from_slice(&sum.0);
    Ok(out)
}

/// Reads checkpoint bytes, checking every length before it allocates.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], CheckpointError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let s = &self.bytes[self.at..end];
                self.at = end;
                Ok(s)
            }
            None => bad(format!("truncated in the {what} (offset {})", self.at)),
        }
    }

    fn array32(&mut self, what: &str) -> Result<[u8; 32], CheckpointError> {
        let mut a = [0u8; 32];
        a.copy_from_slice(self.take(32, what)?);
        Ok(a)
    }

    fn u32(&mut self, what: &str) -> Result<usize, CheckpointError> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4, what)?);
        Ok(u32::from_le_bytes(a) as usize)
    }

    fn u64(&mut self, what: &str) -> Result<u64, CheckpointError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8, what)?);
        Ok(u64::from_le_bytes(a))
    }

    /// A list length whose items take at least `item` bytes each: it must fit in what is
    /// left, so that nothing is allocated for bytes that are not there.
    fn count(&mut self, item: usize, what: &str) -> Result<usize, CheckpointError> {
        let n = self.u32(what)?;
        let left = self.bytes.len() - self.at;
        if n.saturating_mul(item.max(1)) > left {
            return bad(format!(
                "the {what} claims {n} entries, more than the {left} bytes left hold"
            ));
        }
        Ok(n)
    }

    fn bytes(&mut self, what: &str) -> Result<&'a [u8], CheckpointError> {
        let n = self.count(1, what)?;
        self.take(n, what)
    }

    fn ciphertext(&mut self, what: &str) -> Result<Ciphertext, CheckpointError> {
        let alpha = point(&self.array32(what)?, what)?;
        let beta = point(&self.array32(what)?, what)?;
        Ok(Ciphertext { alpha, beta })
    }
}

fn point(bytes: &[u8; 32], what: &str) -> Result<Point, CheckpointError> {
    Point::from_bytes(bytes).or_else(|_| bad(format!("an invalid point in the {what}")))
}

fn encoded_ciphertexts(bytes: &[u8], what: &str) -> Result<(), CheckpointError> {
    if !bytes.len().is_multiple_of(64) {
        return bad(format!(
            "{what} of {} bytes, not whole ciphertexts",
            bytes.len()
        ));
    }
    Ok(())
}

/// Reads a checkpoint written by [`encode`]: the state it holds, to be anchored to the
/// stored record ([`Checkpoint::anchored_by`]) before use.
pub fn decode(bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
    if bytes.len() < MAGIC.len() + 4 + 32 {
        return bad("too short to be a checkpoint");
    }
    let (body, sum) = bytes.split_at(bytes.len() - 32);
    if Hash32::of(body).0 != sum {
        return bad("its checksum does not match: the bytes were altered or cut");
    }
    let mut r = Reader { bytes: body, at: 0 };
    if r.take(MAGIC.len(), "magic")? != MAGIC {
        return bad("not a scrutin checkpoint");
    }
    let version = r.u32("version")? as u32;
    if version != VERSION {
        return bad(format!("version {version}, this node reads {VERSION}"));
    }
    let mut state = RecordState::new();
    state.events = r.u64("events")?;
    state.head = Hash32(r.array32("head")?);
    state.election_hash = Hash32(r.array32("election hash")?);
    state.ballots = r.u64("ballot count")?;
    state.proofs = r.u64("proof count")?;
    state.counted_weight = r.u64("counted weight")?;
    let json = r.bytes("JSON members")?;
    if json.len() > MAX_JSON {
        return bad("JSON members too large");
    }
    let small: SmallIn = serde_json::from_slice(json)
        .or_else(|e| bad(format!("the JSON members do not parse: {e}")))?;
    let trustees = small.definition.as_ref().map_or(0, |d| d.trustees.len());
    if small.commitments.len() != trustees
        || small.dealt.len() != trustees
        || small.checks.len() != trustees
    {
        return bad("the key generation does not have one slot per trustee");
    }
    if small.definition.is_none() && state.events > 0 {
        return bad("lines without an election definition");
    }
    state.definition = small.definition;
    state.commitments = small.commitments;
    state.dealt = small.dealt;
    state.checks = small.checks;
    state.complained = small.complained;
    state.joint_key = small.joint_key;
    state.fingerprint = small.fingerprint;
    state.close = small.close;
    state.close_hash = small.close_hash;
    state.shuffles = small.shuffles;
    state.shares = small.shares;
    state.pending_parts = small.pending_parts.map(Pending::from);
    state.result = small.result;

    match r.take(1, "credential flag")?[0] {
        0 => {}
        1 => {
            let n = r.count(40, "credential list")?;
            let mut entries = Vec::with_capacity(n);
            for _ in 0..n {
                let key = r.array32("credential list")?;
                let weight = r.u64("credential list")?;
                entries.push((key, weight));
            }
            if state.definition.is_none() {
                return bad("credentials without a definition");
            }
            let list = ListedCredentials::from_sorted(entries)
                .or_else(|e| bad(format!("the credential list: {e}")))?;
            state.credentials = Some(list);
        }
        other => return bad(format!("credential flag {other}")),
    }

    let held = match r.take(1, "replaced ballots flag")?[0] {
        0 => false,
        1 => true,
        other => return bad(format!("replaced ballots flag {other}")),
    };
    let n = r.count(if held { 48 } else { 44 }, "last ballots")?;
    let mut last_votes = HashMap::with_capacity(n);
    let mut weight = 0u64;
    for _ in 0..n {
        let credential = r.array32("last ballots")?;
        let seq = r.u64("last ballots")?;
        let ciphertexts = if held {
            let c = r.bytes("last ballots")?;
            encoded_ciphertexts(c, "a last ballot's ciphertexts")?;
            Some(c.into())
        } else {
            None
        };
        let mixed: Box<[u8]> = r.bytes("last ballots")?.into();
        encoded_ciphertexts(&mixed, "a last ballot's ranked ciphertexts")?;
        if seq >= state.events {
            return bad(format!("a last ballot at line {seq}, past the checkpoint"));
        }
        let w = state
            .credential_weight(&credential)
            .ok_or_else(|| CheckpointError("a last ballot of an unlisted credential".into()))?;
        weight = weight.saturating_add(w);
        let vote = LastVote {
            seq,
            ciphertexts,
            mixed,
        };
        if last_votes.insert(credential, vote).is_some() {
            return bad("two last ballots of one credential");
        }
    }
    if weight != state.counted_weight || n as u64 > state.ballots {
        return bad("the last ballots do not add up to the counted weight and ballots");
    }
    state.last_votes = last_votes;

    let n = r.count(16, "ciphertexts seen")?;
    let mut alphas = Vec::with_capacity(n);
    for _ in 0..n {
        let mut key = [0u8; 16];
        key.copy_from_slice(r.take(16, "ciphertexts seen")?);
        alphas.push(u128::from_le_bytes(key));
    }
    state.seen_alphas = AlphaIndex::from_sorted_keys(alphas).or_else(bad)?;

    let n = r.count(40, "trackers")?;
    let mut trackers = HashMap::with_capacity(n);
    for _ in 0..n {
        let t = Hash32(r.array32("trackers")?);
        let seq = r.u64("trackers")?;
        if seq >= state.events || trackers.insert(t, seq).is_some() {
            return bad("a tracker repeated or past the checkpoint");
        }
    }
    if n as u64 != state.ballots {
        return bad(format!("{n} trackers for {} ballots", state.ballots));
    }
    state.trackers = trackers;

    let questions = r.count(8, "rows being mixed")?;
    let mut mix_rows: Vec<Rows> = Vec::with_capacity(questions);
    for _ in 0..questions {
        let rows = r.u32("rows being mixed")?;
        let width = r.u32("rows being mixed")?;
        let left = body.len() - r.at;
        if rows.saturating_mul(width).saturating_mul(64) > left || (rows > 0 && width == 0) {
            return bad("rows being mixed larger than the bytes left");
        }
        let mut q = Vec::with_capacity(rows);
        for _ in 0..rows {
            let mut row = Vec::with_capacity(width);
            for _ in 0..width {
                row.push(r.ciphertext("rows being mixed")?);
            }
            q.push(row);
        }
        mix_rows.push(q);
    }
    state.mix_rows = mix_rows;
    if r.at != body.len() {
        return bad(format!("{} bytes after the last member", body.len() - r.at));
    }

    match (&state.fingerprint, small.tally) {
        (None, None) => {}
        (Some(fingerprint), Some(tally)) => {
            let (def, key) = match (&state.definition, &state.joint_key) {
                (Some(d), Some(k)) => (d.clone(), k.public_key),
                _ => return bad("an open election without its definition or key"),
            };
            let mut acc = TallyAccumulator::new(&def);
            let shape = acc.finish();
            let same = shape.len() == tally.len()
                && shape.iter().zip(&tally).all(|(a, b)| {
                    a.choices.len() == b.choices.len() && a.blank.is_some() == b.blank.is_some()
                });
            if !same {
                return bad("the running tally does not have the shape of the questions");
            }
            // The running sums, each added once with weight 1.
            acc.add(
                tally
                    .iter()
                    .flat_map(|q| q.choices.iter().chain(q.blank.iter())),
                1,
            );
            state.accumulator = Some(acc);
            let context = VotingContext::new(def, *fingerprint, key)
                .or_else(|e| bad(format!("the voting context: {e}")))?;
            state.context = Some(Arc::new(context));
        }
        _ => return bad("a running tally without an open election, or the reverse"),
    }
    Ok(Checkpoint { state })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::ElectionDescription;
    use crate::demo::{self, DemoOptions};
    use crate::verify::{Proofs, verify_record};
    use scrutin_crypto::rng::SeededRng;

    const QUESTIONS: &str = r#"
title = "Checkpoint"
threshold = 2

[[question]]
text = "Rank the candidates"
answers = ["Ada", "Blaise", "Claude"]
kind = "ranked"
method = "schulze"

[[question]]
text = "Which projects?"
answers = ["Library", "Lanes", "Roofs"]
min = 0
max = 2
"#;

    fn demo_record(leave_open: bool) -> String {
        let (trustees, authority) = demo::role_keys(&["A", "B", "C"], b"checkpoint tests");
        let text = format!("{QUESTIONS}{}", demo::roles_toml(&trustees, &authority));
        let questions = ElectionDescription::from_toml(&text).unwrap().questions;
        demo::run(
            &DemoOptions {
                voters: 12,
                trustees: 3,
                threshold: 2,
                revote_percent: 40,
                weights: 3,
                questions,
                leave_open,
                ..Default::default()
            },
            &mut SeededRng::new(b"checkpoint tests"),
        )
        .unwrap()
        .record
    }

    fn state_of(lines: &[&str]) -> RecordState {
        let mut text = String::new();
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        verify_record(text.as_bytes(), &crate::verify::NoProgress)
            .unwrap()
            .state
    }

    fn round_trip(st: &RecordState, last: Option<&str>) -> RecordState {
        let bytes = encode(st).unwrap();
        let back = decode(&bytes)
            .unwrap()
            .anchored_by(last.map(str::as_bytes))
            .unwrap();
        assert_eq!(encode(&back).unwrap(), bytes, "same state, same bytes");
        back
    }

    fn same_behaviour(a: &RecordState, b: &RecordState) {
        assert_eq!(a.head, b.head);
        assert_eq!(a.events, b.events);
        assert_eq!(a.stage(), b.stage());
        assert_eq!(a.ballots, b.ballots);
        assert_eq!(a.ballots_counted(), b.ballots_counted());
        assert_eq!(a.counted_weight(), b.counted_weight());
        assert_eq!(a.current_tally(), b.current_tally());
        assert_eq!(a.trackers, b.trackers);
        assert_eq!(a.proofs, b.proofs);
        assert_eq!(a.mix_rows, b.mix_rows);
        assert_eq!(a.result, b.result);
        assert_eq!(a.seen_alphas, b.seen_alphas);
        for (k, v) in &a.last_votes {
            assert_eq!(b.last_ballot_of(k), Some(v.seq));
        }
        assert_eq!(a.context.is_some(), b.context.is_some());
    }

    /// At every line of a record with re-votes, ranked questions and a result: the decoded
    /// state is the verified one, and pushing the rest of the record onto it gives the same
    /// head, tally and result as verifying the whole.
    #[test]
    fn round_trip_at_every_line_then_the_rest_of_the_record() {
        let record = demo_record(false);
        let lines: Vec<&str> = record.lines().collect();
        let whole = state_of(&lines);
        assert!(whole.result.is_some() && whole.ballots > whole.ballots_counted());
        let empty = round_trip(&RecordState::empty(), None);
        assert_eq!(empty.events, 0);
        for cut in 1..=lines.len() {
            let st = state_of(&lines[..cut]);
            let mut back = round_trip(&st, Some(lines[cut - 1]));
            same_behaviour(&st, &back);
            for l in &lines[cut..] {
                back.push_line(l.as_bytes(), Proofs::Verify).unwrap();
            }
            same_behaviour(&whole, &back);
        }
    }

    /// The record's lines, read back by sequence number (what a server's storage does).
    struct Lines(Vec<String>);

    impl crate::verify::RecordLines for Lines {
        fn line(&self, seq: u64) -> Result<String, String> {
            self.0
                .get(seq as usize)
                .cloned()
                .ok_or_else(|| format!("no line {seq}"))
        }
    }

    /// A state that reads replaced ballots back from the record instead of holding them
    /// counts the same at every line, and so does its checkpoint (which holds no tallied
    /// ciphertext of a last ballot).
    #[test]
    fn a_state_reading_replaced_ballots_back_counts_the_same() {
        let record = demo_record(false);
        let lines: Vec<&str> = record.lines().collect();
        let whole = state_of(&lines);
        let read_back = || Arc::new(Lines(lines.iter().map(|l| l.to_string()).collect()));
        let held_bytes = encode(&whole).unwrap().len();
        for cut in 1..=lines.len() {
            let mut st = state_of(&lines[..cut]);
            st.read_replaced_ballots_from(read_back());
            let bytes = encode(&st).unwrap();
            assert!(cut < lines.len() || bytes.len() < held_bytes);
            let mut back = decode(&bytes)
                .unwrap()
                .anchored_by(Some(lines[cut - 1].as_bytes()))
                .unwrap();
            back.read_replaced_ballots_from(read_back());
            assert_eq!(encode(&back).unwrap(), bytes, "same state, same bytes");
            for l in &lines[cut..] {
                st.push_line(l.as_bytes(), Proofs::Verify).unwrap();
                back.push_line(l.as_bytes(), Proofs::Verify).unwrap();
            }
            same_behaviour(&whole, &st);
            same_behaviour(&whole, &back);
        }
    }

    /// A state fed with `push_written` (each line's event, with and without the ballot's
    /// tracker given) is the state of `push_line`, line for line.
    #[test]
    fn pushing_written_events_is_pushing_their_lines() {
        let record = demo_record(false);
        let lines: Vec<&str> = record.lines().collect();
        let whole = state_of(&lines);
        for give_tracker in [false, true] {
            let mut st = RecordState::new();
            for l in &lines {
                let event = crate::record::parse_line(l.as_bytes()).unwrap().event;
                let tracker = match (&event, give_tracker) {
                    (crate::record::Event::Ballot(b), true) => Some(b.tracker()),
                    _ => None,
                };
                st.push_written(event, l.as_bytes(), tracker).unwrap();
            }
            same_behaviour(&whole, &st);
        }
    }

    /// A re-vote whose replaced ballot cannot be read back, or reads back as another line,
    /// is refused (T1) rather than counted wrong.
    #[test]
    fn a_replaced_ballot_that_reads_back_wrong_is_refused() {
        let record = demo_record(false);
        let lines: Vec<&str> = record.lines().collect();
        let first_revote = (1..=lines.len())
            .find(|&cut| {
                let st = state_of(&lines[..cut]);
                st.ballots > st.ballots_counted()
            })
            .unwrap();
        let before = first_revote - 1;
        let revote = lines[before];
        // Lines with every ballot line replaced by the line before it.
        let shifted: Vec<String> = (0..lines.len())
            .map(|i| lines[i.saturating_sub(1)].to_string())
            .collect();
        let cases: Vec<Option<Arc<dyn crate::verify::RecordLines>>> = vec![
            Some(Arc::new(Lines(Vec::new()))),
            Some(Arc::new(Lines(shifted))),
            None,
        ];
        for lines_read in cases {
            let mut st = state_of(&lines[..before]);
            st.read_replaced_ballots_from(Arc::new(Lines(Vec::new())));
            let bytes = encode(&st).unwrap();
            let mut back = decode(&bytes)
                .unwrap()
                .anchored_by(Some(lines[before - 1].as_bytes()))
                .unwrap();
            if let Some(l) = lines_read {
                back.read_replaced_ballots_from(l);
            }
            let e = back
                .push_line(revote.as_bytes(), Proofs::Verify)
                .unwrap_err();
            assert_eq!(e.check, "T1", "{e}");
        }
    }

    /// What a re-vote reads back of the ballot it replaces (its tallied ciphertexts only,
    /// the ranked question's left out) is what the whole parse of the line gives; other
    /// lines and damaged ones are refused with a reason, never a panic.
    #[test]
    fn a_ballot_line_read_for_its_tallied_ciphertexts_matches_its_parse() {
        use crate::record::{Event, parse_line, tallied_ciphertexts_of_line};
        let record = demo_record(false);
        let st = state_of(&record.lines().collect::<Vec<_>>());
        let questions = &st.definition.as_ref().unwrap().questions;
        assert!(questions.iter().any(|q| q.is_mixed()) && questions.iter().any(|q| !q.is_mixed()));
        let mut ballots = 0;
        for line in record.lines() {
            let parsed = parse_line(line.as_bytes()).unwrap();
            let read = tallied_ciphertexts_of_line(line.as_bytes(), questions);
            let Event::Ballot(b) = &parsed.event else {
                assert!(
                    read.is_err(),
                    "a {} line is not a ballot",
                    parsed.event.kind()
                );
                continue;
            };
            ballots += 1;
            let read = read.unwrap();
            assert_eq!(read.seq, parsed.seq);
            assert_eq!(&read.credential, b.credential.as_bytes());
            let whole: Vec<_> = b.tallied_ciphertexts(questions).cloned().collect();
            assert!(!whole.is_empty());
            assert_eq!(read.ciphertexts, whole);
        }
        assert!(ballots > 12, "re-votes included");
        let ballot = record
            .lines()
            .find(|l| l.contains(r#""type":"ballot""#))
            .unwrap();
        // The last α is one of the homomorphic question's (the ranked one's are not read).
        let last_alpha = ballot.rfind(r#""alpha":""#).unwrap() + r#""alpha":""#.len();
        let damaged = [
            ballot[..ballot.len() / 2].to_owned(),
            ballot.replacen(r#""credential":""#, r#""credential":"zz"#, 1),
            format!("{}ff{}", &ballot[..last_alpha], &ballot[last_alpha..]),
            ballot.replacen(r#""answers":["#, r#""answers":[{"choices":[]},"#, 1),
        ];
        for line in &damaged {
            assert!(
                tallied_ciphertexts_of_line(line.as_bytes(), questions).is_err(),
                "{line}"
            );
        }
        assert!(tallied_ciphertexts_of_line(&[0xff, b'{'], questions).is_err());
    }

    /// A checkpoint of an open election takes ballots like the verified state: the same
    /// admission (B7 included) and the same close.
    #[test]
    fn an_open_election_goes_on_from_its_checkpoint() {
        let record = demo_record(true);
        let lines: Vec<&str> = record.lines().collect();
        let st = state_of(&lines);
        assert_eq!(st.stage(), crate::verify::Stage::Open);
        let back = round_trip(&st, lines.last().copied());
        assert_eq!(back.seen_alphas, st.seen_alphas);
        let cred = st.last_votes.keys().next().unwrap();
        assert_eq!(back.credential_weight(cred), st.credential_weight(cred));
    }

    #[test]
    fn malformed_truncated_and_altered_bytes_are_refused() {
        let record = demo_record(false);
        let lines: Vec<&str> = record.lines().collect();
        let st = state_of(&lines);
        let bytes = encode(&st).unwrap();
        // Every prefix is refused.
        for cut in (0..bytes.len()).step_by(97) {
            assert!(decode(&bytes[..cut]).is_err(), "prefix of {cut} bytes");
        }
        // Every byte altered is refused (checksum), and so is an altered byte with its
        // checksum recomputed where it breaks the layout.
        for at in (0..bytes.len()).step_by(89) {
            let mut b = bytes.clone();
            b[at] ^= 0x41;
            assert!(decode(&b).is_err(), "byte {at} altered");
        }
        let resum = |mut b: Vec<u8>| {
            let n = b.len() - 32;
            let sum = Hash32::of(&b[..n]);
            b[n..].copy_from_slice(&sum.0);
            b
        };
        let mut b = bytes.clone();
        b[8] = 3; // version
        let e = decode(&resum(b)).err().unwrap();
        assert!(e.0.contains("version 3"), "{e}");
        // A list length far past the end: refused before allocating.
        let mut b = bytes.clone();
        let json_len = u32::from_le_bytes(b[108..112].try_into().unwrap()) as usize;
        let creds_at = 112 + json_len + 1;
        b[creds_at..creds_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = decode(&resum(b)).err().unwrap();
        assert!(e.0.contains("credential list claims"), "{e}");
        // Bytes after the last member.
        let mut b = bytes[..bytes.len() - 32].to_vec();
        b.push(0);
        b.extend_from_slice(&[0; 32]);
        let e = decode(&resum(b)).err().unwrap();
        assert!(e.0.contains("after the last member"), "{e}");
        assert!(decode(b"scrutinC").is_err());
        assert!(decode(&[0xff; 200]).is_err());
    }

    #[test]
    fn a_checkpoint_is_used_only_on_the_record_it_was_taken_on() {
        let record = demo_record(true);
        let lines: Vec<&str> = record.lines().collect();
        let st = state_of(&lines);
        let bytes = encode(&st).unwrap();
        let other = lines[lines.len() - 2];
        let e = decode(&bytes)
            .unwrap()
            .anchored_by(Some(other.as_bytes()))
            .err()
            .unwrap();
        assert!(e.0.contains("does not hash"), "{e}");
        assert!(decode(&bytes).unwrap().anchored_by(None).is_err());
        assert!(
            decode(&encode(&RecordState::empty()).unwrap())
                .unwrap()
                .anchored_by(Some(b"x"))
                .is_err()
        );
    }
}
