//! The universal verifier (spec §12).
//!
//! [`verify_record`] reads a whole election record and runs every numbered check of §12
//! on it. It **fails closed**: the first check that fails — or cannot be run — ends the
//! verification with a [`VerifyError`] naming the check and the event's sequence number.
//! A record that stops before its `result` (voting still open, say) verifies as far as it
//! goes, and the report says where the election stands.
//!
//! Ballots, most of any record, are verified in chunks: lines are parsed and hashed in
//! parallel, the order-dependent checks run in sequence, then each chunk's proofs and
//! signatures are checked with batched multiscalar multiplications on all cores. When a
//! batch fails, its ballots are verified one by one to name the culprit.

use std::collections::{HashMap, HashSet};

use scrutin_crypto::batch::BatchVerifier;
use scrutin_crypto::dkg::{
    self, DealerShares, DkgParameters, JointKey, TrusteeCheck, TrusteeCommitment,
};
use scrutin_crypto::elgamal::Ciphertext;
use scrutin_crypto::rng::os_rng;

use crate::Hash32;
use crate::alphas::AlphaIndex;
use crate::ballot::{self, Ballot, BallotParts, VotingContext};
use crate::credential::ListedCredentials;
use crate::definition::ElectionDefinition;
use crate::mix::{self, Rows, Shuffle};
use crate::parts;
use crate::record::{self, Close, Event, GENESIS, Open, RecordLine, Signer, split_lines};
use crate::tally::{self, DecryptionShare, ElectionResult, TallyAccumulator};

/// The numbered checks of §12, in the order they are listed there.
pub const CHECKS: &[(&str, &str)] = &[
    (
        "R1",
        "every line is a JSON object {seq, prev, type, body} of at most 16 MiB ending with a newline",
    ),
    ("R2", "line i has seq i"),
    (
        "R3",
        "prev is the SHA-256 of the previous line (64 zeros for the first)",
    ),
    ("R4", "events come in the order of §11.2"),
    ("R5", "each body matches the schema of its type"),
    (
        "E1",
        "the election definition respects every rule and bound of §8",
    ),
    (
        "E2",
        "no title, name, question or answer holds an invisible or direction-changing character",
    ),
    (
        "K1",
        "each trustee commitment is well formed, its proofs of knowledge valid, one per trustee",
    ),
    (
        "K2",
        "each dealer reveals the coefficients it committed to, with valid proofs, and one share per trustee, once",
    ),
    (
        "K3",
        "every complaint is justified, at most one per dealer, in dealer order",
    ),
    (
        "K4",
        "the election key and verification keys are the sum of every dealing; at least k trustees hold a valid share",
    ),
    (
        "S1",
        "every trustee event is signed by the key the definition names for that trustee",
    ),
    (
        "S2",
        "the credential list is signed by the credential authority's key named in the definition",
    ),
    (
        "C1",
        "the credential list is sorted, without repeats, with valid keys and weights",
    ),
    ("O1", "the fingerprint in open equals its prev"),
    ("B1", "the ballot names this election's fingerprint"),
    ("B2", "the ballot's credential is on the list"),
    ("B3", "the ballot has the shape of the questions"),
    ("B4", "the credential's signature on the ballot is valid"),
    (
        "B5",
        "every answer and blank indicator is in range (bits and range proofs)",
    ),
    ("B6", "every sum proof is valid (the question's rule)"),
    ("B7", "no ciphertext appears in two ballots"),
    (
        "B8",
        "every proof of knowledge of a ranked or graded answer's randomness is valid",
    ),
    (
        "T1",
        "close counts the credentials that voted and its tally is the weighted sum of their last ballots",
    ),
    (
        "M1",
        "each shuffle comes once from a trustee holding a valid key share, after close and before any decryption share, and every proof of a shuffle of the ranked and graded rows is valid",
    ),
    (
        "D1",
        "each decryption share comes once from a trustee holding a valid key share, names the close line, and all its proofs are valid",
    ),
    (
        "D2",
        "the result combines the shares of at least k distinct trustees that published one",
    ),
    (
        "D3",
        "each count times G equals the combination of the shares",
    ),
    (
        "D4",
        "the result's ballot count and total weight are those of close",
    ),
    (
        "D5",
        "each decrypted ranked or graded value matches the combination of the shares of the last shuffle's rows",
    ),
    (
        "D6",
        "the count of each ranked or graded question is the count of its decrypted ballots",
    ),
];

/// A failed check.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("check {check} failed{}: {message}", seq.map(|s| format!(" at event {s}")).unwrap_or_default())]
pub struct VerifyError {
    /// The check's number in §12 (`"B4"`).
    pub check: &'static str,
    /// The sequence number of the event, when one is at fault.
    pub seq: Option<u64>,
    /// What is wrong.
    pub message: String,
}

fn fail<T>(
    check: &'static str,
    seq: Option<u64>,
    message: impl Into<String>,
) -> Result<T, VerifyError> {
    Err(VerifyError {
        check,
        seq,
        message: message.into(),
    })
}

/// Receives progress while a record is verified (a terminal progress bar, for one).
pub trait Progress: Sync {
    /// `bytes` more of the record were verified.
    fn advance(&self, bytes: u64);
}

/// No progress reporting.
pub struct NoProgress;
impl Progress for NoProgress {
    fn advance(&self, _: u64) {}
}

/// Where the election stands at the end of the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Trustees are generating the key (or the credentials are not published yet).
    Setup,
    /// Voting is open.
    Open,
    /// Voting is closed; decryption shares are being collected.
    Closed,
    /// The result is published.
    Tallied,
}

impl Stage {
    /// A word for the stage.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Setup => "setup",
            Stage::Open => "open",
            Stage::Closed => "closed",
            Stage::Tallied => "tallied",
        }
    }
}

/// A credential's last ballot: what a re-vote must remove from the running tally.
#[derive(Clone)]
pub(crate) struct LastVote {
    pub(crate) seq: u64,
    /// The last ballot's tallied ciphertexts, encoded (α ‖ β, 64 bytes each); `None` when
    /// the state reads replaced ballots back from the record instead
    /// ([`RecordState::read_replaced_ballots_from`]).
    pub(crate) ciphertexts: Option<Box<[u8]>>,
    /// Its ranked and graded answers' ciphertexts, encoded the same way, question after
    /// question (§11.12): the rows taken at `close`.
    pub(crate) mixed: Box<[u8]>,
}

/// The lines of the record a state was built from, read back by their sequence number: where
/// a state that does not hold every counted ballot in memory finds the one a re-vote replaces
/// ([`RecordState::read_replaced_ballots_from`]). A server reads them from its storage.
pub trait RecordLines: Send + Sync {
    /// Line `seq` of the record, as the state applied it.
    fn line(&self, seq: u64) -> Result<String, String>;
}

/// Everything learnt from a verified record: enough for the next role to act on it.
#[derive(Clone)]
pub struct RecordState {
    pub definition: Option<ElectionDefinition>,
    /// SHA-256 of the `election` line: the context of the key generation (§6).
    pub election_hash: Hash32,
    pub commitments: Vec<Option<TrusteeCommitment>>,
    pub dealt: Vec<Option<DealerShares>>,
    pub checks: Vec<Option<TrusteeCheck>>,
    /// Trustees that made a justified complaint: they hold no valid key share (§6.4).
    pub complained: Vec<u32>,
    pub joint_key: Option<JointKey>,
    /// The published credential list's keys and weights (§11.6).
    pub credentials: Option<ListedCredentials>,
    pub fingerprint: Option<Hash32>,
    pub context: Option<std::sync::Arc<VotingContext>>,
    /// Ballot events in the record (re-votes included).
    pub ballots: u64,
    pub(crate) last_votes: HashMap<[u8; 32], LastVote>,
    /// Where replaced ballots are read back from, when they are not held in `last_votes`.
    pub(crate) record_lines: Option<std::sync::Arc<dyn RecordLines>>,
    /// The α of every ciphertext on the board (B7).
    pub(crate) seen_alphas: AlphaIndex,
    pub(crate) accumulator: Option<TallyAccumulator>,
    pub(crate) counted_weight: u64,
    pub trackers: HashMap<Hash32, u64>,
    pub close: Option<Close>,
    /// SHA-256 of the `close` line.
    pub close_hash: Option<Hash32>,
    /// The trustees' shuffles of the ranked and graded rows, in record order (§11.12).
    pub shuffles: Vec<Shuffle>,
    /// The rows of each ranked or graded question as they stand: at `close` the counted
    /// ballots' (§11.12), then the last shuffle's outputs.
    pub mix_rows: Vec<Rows>,
    pub shares: Vec<DecryptionShare>,
    /// The parts of a shuffle or decryption share whose own line has not come yet (§11.15).
    pub pending_parts: Option<parts::Pending>,
    pub result: Option<ElectionResult>,
    /// Hash of the last line, and the number of lines.
    pub head: Hash32,
    pub events: u64,
    /// Proofs and signatures checked.
    pub proofs: u64,
}

impl RecordState {
    /// The state of an empty record (before the `election` event).
    pub fn empty() -> Self {
        Self::new()
    }

    pub(crate) fn new() -> Self {
        RecordState {
            definition: None,
            election_hash: GENESIS,
            commitments: Vec::new(),
            dealt: Vec::new(),
            checks: Vec::new(),
            complained: Vec::new(),
            joint_key: None,
            credentials: None,
            fingerprint: None,
            context: None,
            ballots: 0,
            last_votes: HashMap::new(),
            record_lines: None,
            seen_alphas: AlphaIndex::default(),
            accumulator: None,
            counted_weight: 0,
            trackers: HashMap::new(),
            close: None,
            close_hash: None,
            shuffles: Vec::new(),
            mix_rows: Vec::new(),
            shares: Vec::new(),
            pending_parts: None,
            result: None,
            head: GENESIS,
            events: 0,
            proofs: 0,
        }
    }

    /// Where the election stands.
    pub fn stage(&self) -> Stage {
        if self.result.is_some() {
            Stage::Tallied
        } else if self.close.is_some() {
            Stage::Closed
        } else if self.fingerprint.is_some() {
            Stage::Open
        } else {
            Stage::Setup
        }
    }

    /// The key-generation parameters.
    pub fn dkg_parameters(&self) -> Option<DkgParameters> {
        self.definition
            .as_ref()
            .and_then(|d| d.dkg_parameters().ok())
    }

    /// All trustee commitments, once every trustee has published one.
    pub fn all_commitments(&self) -> Option<Vec<TrusteeCommitment>> {
        self.commitments.iter().cloned().collect()
    }

    /// All dealers' shares, once every dealer has published them.
    pub fn all_dealt(&self) -> Option<Vec<DealerShares>> {
        self.dealt.iter().cloned().collect()
    }

    /// The sequence number of the last ballot of a credential, the one that counts.
    pub fn last_ballot_of(&self, credential: &[u8; 32]) -> Option<u64> {
        self.last_votes.get(credential).map(|v| v.seq)
    }

    /// Whether the shuffles the decryption waits for are in the record (§11.2 item 11): at
    /// least `k` when there are ranked or graded rows, none otherwise.
    pub fn shuffles_done(&self) -> bool {
        let threshold = self.definition.as_ref().map_or(0, |d| d.threshold as usize);
        self.shuffles.len() >= threshold || self.mix_rows.iter().all(Vec::is_empty)
    }

    /// The weight of a listed credential.
    pub fn credential_weight(&self, key: &[u8; 32]) -> Option<u64> {
        self.credentials.as_ref().and_then(|c| c.weight(key))
    }

    /// Number of credentials whose ballot counts.
    pub fn ballots_counted(&self) -> u64 {
        self.last_votes.len() as u64
    }

    /// Total weight of the credentials whose ballot counts.
    pub fn counted_weight(&self) -> u64 {
        self.counted_weight
    }

    /// The encrypted tally of the ballots so far.
    pub fn current_tally(&self) -> Option<tally::EncryptedTally> {
        self.accumulator.as_ref().map(TallyAccumulator::finish)
    }

    /// True when a ciphertext with this α is already on the board (B7).
    pub fn alpha_seen(&self, alpha: &[u8; 32]) -> bool {
        self.seen_alphas.contains(alpha)
    }

    /// Stops holding each credential's last ballot in memory: when a re-vote replaces one,
    /// it is read back from `lines` (its line of the record) to be taken off the running
    /// tally. For a server, whose storage holds the record anyway: about 640 bytes less per
    /// voter for ten ciphertexts. The ranked and graded rows are still held (the `close`
    /// takes them all).
    pub fn read_replaced_ballots_from(&mut self, lines: std::sync::Arc<dyn RecordLines>) {
        for vote in self.last_votes.values_mut() {
            vote.ciphertexts = None;
        }
        self.record_lines = Some(lines);
    }

    /// The cheap, order-dependent checks a new ballot must pass before it is appended:
    /// voting is open (R4), the election and shape (B1, B3), the credential is listed (B2),
    /// no ciphertext is already on the board (B7). The proofs and signature (B4–B6) are
    /// checked by [`ballot::verify`], which needs only the voting context and can run
    /// outside any lock.
    pub fn admit_ballot(&self, b: &Ballot) -> Result<(), VerifyError> {
        let at = Some(self.events);
        if self.fingerprint.is_none() || self.close.is_some() {
            return fail(
                "R4",
                at,
                format!(
                    "ballots are accepted only while the election is open (it is {})",
                    self.stage().name()
                ),
            );
        }
        let ctx = self.context.as_ref().ok_or(VerifyError {
            check: "B1",
            seq: at,
            message: "no voting context".into(),
        })?;
        ballot::check_shape(ctx, b).or_else(|r| fail(r.check.code(), at, r.reason))?;
        if self.credential_weight(b.credential.as_bytes()).is_none() {
            return fail(
                "B2",
                at,
                "the ballot is signed by a credential that is not on the list",
            );
        }
        let mut mine = HashSet::new();
        for c in b.ciphertexts() {
            let alpha = c.alpha.as_bytes();
            if self.seen_alphas.contains(alpha) || !mine.insert(*alpha) {
                return fail(
                    "B7",
                    at,
                    "a ciphertext of this ballot already appears on the board (copied or replayed ballot)",
                );
            }
        }
        Ok(())
    }

    /// Verifies one more line of the record and applies it: how a server keeps its state
    /// as it appends, and how a mirror follows a board without verifying it all again.
    /// With [`Proofs::AlreadyVerified`], a ballot's proofs and signature are not checked
    /// again (the caller ran [`ballot::verify`] on it); everything else is.
    pub fn push_line(&mut self, line: &[u8], proofs: Proofs) -> Result<(), VerifyError> {
        let index = self.events;
        let (p, _) = parse(line, index)?;
        if let (Event::Ballot(b), Proofs::Verify) = (&p.event, proofs) {
            let ctx = self.context.as_ref().ok_or(VerifyError {
                check: "R4",
                seq: Some(index),
                message: "ballot before open".into(),
            })?;
            ballot::check_shape(ctx, b).or_else(|r| fail(r.check.code(), Some(index), r.reason))?;
            ballot::verify(ctx, b).or_else(|r| fail(r.check.code(), Some(index), r.reason))?;
        }
        self.apply_line(index, &p, None)
    }

    /// Applies `event`, which this process itself wrote as `line` at this state's head (with
    /// [`record::RecordWriter::resume`] at `events` and `head`, as [`crate::ceremony::lines_after`]
    /// does), the proofs of a ballot already verified. The same as
    /// `push_line(line, Proofs::AlreadyVerified)` without reading the line back: parsing its
    /// JSON, decoding every point and checking its canonical form are most of the cost of
    /// applying a ballot, and they would only find again the event the line was written from.
    /// Every check of §12 that does not need the proofs (R2–R4, B2, B7, …) still runs.
    /// `tracker`, when given, is the tracker of the event's ballot (§10.5) as the caller
    /// computed it from the same ballot; it is not computed again.
    pub fn push_written(
        &mut self,
        event: Event,
        line: &[u8],
        tracker: Option<Hash32>,
    ) -> Result<(), VerifyError> {
        let index = self.events;
        let p = RecordLine {
            seq: index,
            prev: self.head,
            hash: Hash32::of(line),
            event,
        };
        self.apply_line(index, &p, tracker)
    }

    /// Applies line `index`, its ballot's proofs already checked (or not to be): the rules
    /// of §12, then its tracker (`tracker` if given) and its count of proofs.
    fn apply_line(
        &mut self,
        index: u64,
        p: &RecordLine,
        tracker: Option<Hash32>,
    ) -> Result<(), VerifyError> {
        let mut pending = Vec::new();
        apply(self, index, p, &mut pending)?;
        for (seq, b) in pending {
            let tracker = match tracker {
                Some(t) if seq == index => t,
                _ => b.tracker(),
            };
            self.trackers.insert(tracker, seq);
            self.proofs += count_proofs(b);
        }
        Ok(())
    }

    /// The state of a record given as bytes; the same as [`verify_record`].
    pub fn from_record(record: &[u8]) -> Result<RecordState, VerifyError> {
        if record.is_empty() {
            return Ok(RecordState::new());
        }
        verify_record(record, &NoProgress).map(|v| v.state)
    }
}

/// Whether [`RecordState::push_line`] checks a ballot's proofs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proofs {
    Verify,
    AlreadyVerified,
}

/// The outcome of a successful verification.
pub struct VerifiedRecord {
    pub state: RecordState,
}

impl VerifiedRecord {
    /// One paragraph for humans: what was checked and what it found.
    pub fn summary(&self) -> String {
        let s = &self.state;
        let title = s
            .definition
            .as_ref()
            .map(|d| d.title.as_str())
            .unwrap_or("");
        format!(
            "verified {} events, {} ballots ({} counted), {} proofs and signatures; election \"{}\" is {}; head {}",
            s.events,
            s.ballots,
            s.ballots_counted(),
            s.proofs,
            title,
            s.stage().name(),
            s.head
        )
    }
}

/// How many lines are parsed and checked together.
const CHUNK: usize = 4096;
/// How many ballots share one batch (one multiscalar multiplication): 128 ballots of one
/// 10-answer approval question are about 3,600 points, near the fastest size per point
/// measured here (docs/PERFORMANCE.md).
const BATCH: usize = 128;

#[cfg(feature = "parallel")]
fn par_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync + Send) -> Vec<U> {
    use rayon::prelude::*;
    items.par_iter().map(f).collect()
}

#[cfg(not(feature = "parallel"))]
fn par_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync + Send) -> Vec<U> {
    items.iter().map(f).collect()
}

fn parse(line: &[u8], index: u64) -> Result<(RecordLine, usize), VerifyError> {
    record::parse_line(line)
        .map(|l| (l, line.len() + 1))
        .map_err(|e| VerifyError {
            check: e.check,
            seq: Some(index),
            message: e.message,
        })
}

/// Verifies a whole record (§12). See the module documentation.
pub fn verify_record(
    record: &[u8],
    progress: &dyn Progress,
) -> Result<VerifiedRecord, VerifyError> {
    let lines = split_lines(record).or_else(|e| fail("R1", None, e.to_string()))?;
    let mut state = RecordState::new();
    for (c, chunk) in lines.chunks(CHUNK).enumerate() {
        let base = (c * CHUNK) as u64;
        let indexed: Vec<(u64, &[u8])> = chunk
            .iter()
            .enumerate()
            .map(|(i, l)| (base + i as u64, *l))
            .collect();
        let parsed = par_map(&indexed, |(i, l)| parse(l, *i));
        let mut pending: Vec<(u64, &Ballot)> = Vec::new();
        let mut bytes = 0u64;
        for (p, (index, _)) in parsed.iter().zip(&indexed) {
            let (p, len) = match p {
                Ok(p) => p,
                Err(e) => return Err(e.clone()),
            };
            bytes += *len as u64;
            apply(&mut state, *index, p, &mut pending)?;
        }
        verify_ballot_batch(&mut state, &pending)?;
        progress.advance(bytes);
    }
    Ok(VerifiedRecord { state })
}

/// Checks R2–R4 and the event's own checks; ballots are only pre-checked here and queued
/// for batched verification.
fn apply<'a>(
    state: &mut RecordState,
    index: u64,
    p: &'a RecordLine,
    pending: &mut Vec<(u64, &'a Ballot)>,
) -> Result<(), VerifyError> {
    let at = Some(index);
    if p.seq != index {
        return fail("R2", at, format!("line {index} has seq {}", p.seq));
    }
    if p.prev != state.head {
        return fail(
            "R3",
            at,
            "prev is not the hash of the previous line: the record was altered, reordered or cut",
        );
    }
    let order = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            fail(
                "R4",
                at,
                format!("{} event not allowed here: {what}", p.event.kind()),
            )
        }
    };
    if state.result.is_some() {
        return fail("R4", at, "no event may follow the result");
    }
    if let Some(waiting) = &state.pending_parts {
        continues_parts(waiting, &p.event).or_else(|e| fail("R4", at, e))?;
    }
    match &p.event {
        Event::Election(def) => {
            order(index == 0, "the election event comes first, once")?;
            def.check_format_characters()
                .or_else(|e| fail("E2", at, e.to_string()))?;
            def.validate().or_else(|e| fail("E1", at, e.to_string()))?;
            let n = def.trustees.len();
            state.commitments = vec![None; n];
            state.dealt = vec![None; n];
            state.checks = vec![None; n];
            state.election_hash = p.hash;
            state.definition = Some(def.clone());
        }
        _ if state.definition.is_none() => {
            return fail("R4", at, "the first event must be the election");
        }
        Event::TrusteeCommitment(signed) => {
            let c = &signed.body;
            let params = params(state)?;
            order(
                state.commitments.iter().any(Option::is_none),
                "every trustee has committed",
            )?;
            dkg::verify_commitment(&params, &state.election_hash.0, c)
                .or_else(|e| fail("K1", at, e.to_string()))?;
            check_trustee_signature(state, at, &p.event)?;
            let slot = slot(&mut state.commitments, c.index, at)?;
            if slot.is_some() {
                return fail("K1", at, format!("trustee {} committed twice", c.index));
            }
            *slot = Some(c.clone());
            state.proofs += 2;
        }
        Event::DealerShares(signed) => {
            let d = &signed.body;
            let params = params(state)?;
            order(
                state.commitments.iter().all(Option::is_some),
                "not every trustee has committed",
            )?;
            order(
                state.dealt.iter().any(Option::is_none),
                "every dealer has dealt",
            )?;
            params_index(&params, d.dealer).or_else(|e| fail("K2", at, e))?;
            let commitment = state
                .commitments
                .get(d.dealer as usize - 1)
                .cloned()
                .flatten()
                .ok_or(VerifyError {
                    check: "K2",
                    seq: at,
                    message: format!("dealer {} has no commitment", d.dealer),
                })?;
            dkg::verify_dealer_shares(&params, &state.election_hash.0, &commitment, d)
                .or_else(|e| fail("K2", at, e.to_string()))?;
            check_trustee_signature(state, at, &p.event)?;
            let slot = slot(&mut state.dealt, d.dealer, at)?;
            if slot.is_some() {
                return fail("K2", at, format!("dealer {} dealt twice", d.dealer));
            }
            *slot = Some(d.clone());
            state.proofs += 1 + d.coefficient_proofs.len() as u64;
        }
        Event::TrusteeCheck(signed) => {
            let check = &signed.body;
            let params = params(state)?;
            order(
                state.dealt.iter().all(Option::is_some),
                "not every dealer has dealt",
            )?;
            order(
                state.checks.iter().any(Option::is_none),
                "every trustee has checked",
            )?;
            params_index(&params, check.index).or_else(|e| fail("K3", at, e))?;
            let recipient = state
                .commitments
                .get(check.index as usize - 1)
                .cloned()
                .flatten();
            let mut previous = 0u32;
            for complaint in &check.complaints {
                params_index(&params, complaint.dealer).or_else(|e| fail("K3", at, e))?;
                if complaint.dealer <= previous {
                    return fail(
                        "K3",
                        at,
                        format!(
                            "trustee {}'s complaints are not one per dealer in increasing dealer order",
                            check.index
                        ),
                    );
                }
                previous = complaint.dealer;
                let dealt = state
                    .dealt
                    .get(complaint.dealer as usize - 1)
                    .cloned()
                    .flatten();
                match (&recipient, &dealt) {
                    (Some(r), Some(s)) => {
                        dkg::verify_complaint(&state.election_hash.0, r, s, complaint)
                            .or_else(|e| fail("K3", at, e.to_string()))?
                    }
                    _ => return fail("K3", at, "complaint about an unknown dealer"),
                }
                state.proofs += 1;
            }
            check_trustee_signature(state, at, &p.event)?;
            let slot = slot(&mut state.checks, check.index, at)?;
            if slot.is_some() {
                return fail("K3", at, format!("trustee {} checked twice", check.index));
            }
            *slot = Some(check.clone());
            if !check.complaints.is_empty() {
                state.complained.push(check.index);
            }
        }
        Event::ElectionKey(key) => {
            let params = params(state)?;
            order(
                state.checks.iter().all(Option::is_some) && state.joint_key.is_none(),
                "after every trustee's check, once",
            )?;
            let dealt = state.all_dealt().ok_or(VerifyError {
                check: "K4",
                seq: at,
                message: "dealings missing".into(),
            })?;
            state.complained.sort_unstable();
            let expected = dkg::joint_key(&params, &dealt, &state.complained)
                .or_else(|e| fail("K4", at, e.to_string()))?;
            if &expected != key {
                return fail(
                    "K4",
                    at,
                    "the election key is not the one computed from every dealer's commitments",
                );
            }
            state.joint_key = Some(key.clone());
        }
        Event::Credentials(signed) => {
            let list = &signed.body;
            order(
                state.credentials.is_none() && state.fingerprint.is_none(),
                "once, before open",
            )?;
            let def = state.definition.as_ref().ok_or(VerifyError {
                check: "C1",
                seq: at,
                message: "no definition".into(),
            })?;
            list.validate(def.max_per_answer())
                .and_then(|_| {
                    let total = list
                        .credentials
                        .iter()
                        .fold(0u64, |t, c| t.saturating_add(c.weight));
                    def.check_mix_weight(total)
                })
                .or_else(|e| fail("C1", at, e.to_string()))?;
            signed
                .verify("credentials", &state.election_hash, &def.authority.key)
                .or_else(|_| {
                    fail(
                        "S2",
                        at,
                        format!(
                            "the credential list is not signed by the credential authority's key {} named in the definition",
                            crate::roles::fingerprint(&def.authority.key)
                        ),
                    )
                })?;
            state.credentials = Some(ListedCredentials::of(list));
        }
        Event::Open(Open { fingerprint }) => {
            order(
                state.joint_key.is_some()
                    && state.credentials.is_some()
                    && state.fingerprint.is_none(),
                "after the key and the credentials, once",
            )?;
            if *fingerprint != p.prev {
                return fail(
                    "O1",
                    at,
                    "the fingerprint is not the hash of the previous line",
                );
            }
            let (def, key) = match (&state.definition, &state.joint_key) {
                (Some(d), Some(k)) => (d.clone(), k.public_key),
                _ => return fail("O1", at, "definition or key missing"),
            };
            state.accumulator = Some(TallyAccumulator::new(&def));
            let context = match VotingContext::new(def, *fingerprint, key) {
                Ok(c) => c,
                Err(e) => return fail("O1", at, e.to_string()),
            };
            state.context = Some(std::sync::Arc::new(context));
            state.fingerprint = Some(*fingerprint);
        }
        Event::Ballot(b) => {
            order(
                state.fingerprint.is_some() && state.close.is_none(),
                "ballots are cast between open and close",
            )?;
            precheck_ballot(state, index, b)?;
            pending.push((index, b));
        }
        Event::Close(close) => {
            order(
                state.fingerprint.is_some() && state.close.is_none(),
                "after open, once",
            )?;
            // Ballots of this chunk are verified before the tally is compared.
            let queued: Vec<(u64, &Ballot)> = std::mem::take(pending);
            verify_ballot_batch(state, &queued)?;
            let tally = state.current_tally().ok_or(VerifyError {
                check: "T1",
                seq: at,
                message: "no tally".into(),
            })?;
            if close.ballots_counted != state.ballots_counted() {
                return fail(
                    "T1",
                    at,
                    format!(
                        "{} ballots counted, {} credentials voted",
                        close.ballots_counted,
                        state.ballots_counted()
                    ),
                );
            }
            if close.tally != tally {
                return fail(
                    "T1",
                    at,
                    "the encrypted tally is not the weighted sum of the last ballots",
                );
            }
            state.mix_rows = counted_rows(state).or_else(|e| fail("T1", at, e))?;
            state.close = Some(close.clone());
            state.close_hash = Some(p.hash);
        }
        Event::ShuffleRows(signed) => {
            order(shuffle_allowed(state), SHUFFLE_PLACE)?;
            check_shuffler(state, at, signed.body.trustee)?;
            check_trustee_signature(state, at, &p.event)?;
            let (questions, inputs) = rows_shape(state);
            parts::take_shuffle_part(
                &mut state.pending_parts,
                &questions,
                &inputs,
                signed.body.clone(),
            )
            .or_else(|e| part_fault("M1", at, e))?;
        }
        Event::Shuffle(signed) => {
            order(shuffle_allowed(state), SHUFFLE_PLACE)?;
            let shuffle = parts::join_shuffle(&mut state.pending_parts, &signed.body)
                .or_else(|e| part_fault("M1", at, e))?;
            verify_shuffle(state, index, &shuffle)?;
            check_trustee_signature(state, at, &p.event)?;
            state.mix_rows = shuffle
                .questions
                .iter()
                .map(|q| q.outputs.clone())
                .collect();
            state.shuffles.push(shuffle);
        }
        Event::DecryptionRows(signed) => {
            order(state.close.is_some(), "after close")?;
            order(state.shuffles_done(), SHUFFLES_FIRST)?;
            check_decryptor(state, at, signed.body.trustee)?;
            check_trustee_signature(state, at, &p.event)?;
            let (questions, inputs) = rows_shape(state);
            parts::take_decryption_part(
                &mut state.pending_parts,
                &questions,
                &inputs,
                signed.body.clone(),
            )
            .or_else(|e| part_fault("D1", at, e))?;
        }
        Event::DecryptionShare(signed) => {
            order(state.close.is_some(), "after close")?;
            order(state.shuffles_done(), SHUFFLES_FIRST)?;
            let share = parts::join_share(&mut state.pending_parts, &signed.body)
                .or_else(|e| part_fault("D1", at, e))?;
            verify_share(state, index, &share)?;
            check_trustee_signature(state, at, &p.event)?;
            state.shares.push(share);
        }
        Event::Result(result) => {
            order(state.close.is_some(), "after close")?;
            verify_result(state, index, result)?;
            state.result = Some(result.clone());
        }
    }
    state.head = p.hash;
    state.events = index + 1;
    Ok(())
}

const SHUFFLE_PLACE: &str = "after close, before any decryption share, in an election with ranked or graded answers to shuffle";
const SHUFFLES_FIRST: &str =
    "the ranked and graded answers are decrypted after at least k shuffles";

/// Whether a shuffle (or a part of one) may come now (§11.2 item 10).
fn shuffle_allowed(state: &RecordState) -> bool {
    state.close.is_some()
        && state.shares.is_empty()
        && state.ballots_counted() > 0
        && !state.mix_rows.is_empty()
}

/// The numbers of the ranked and graded questions and their rows as they stand.
fn rows_shape(state: &RecordState) -> (Vec<usize>, Vec<usize>) {
    let questions = state
        .definition
        .as_ref()
        .map(mix::mixed_questions)
        .unwrap_or_default();
    (questions, state.mix_rows.iter().map(Vec::len).collect())
}

/// R4 while parts wait for their event (§11.15): the next line is another part of the same
/// trustee's same event, or that event.
fn continues_parts(waiting: &parts::Pending, event: &Event) -> Result<(), String> {
    let ok = match (waiting, event) {
        (parts::Pending::Shuffle { trustee, .. }, Event::ShuffleRows(s)) => {
            s.body.trustee == *trustee
        }
        (parts::Pending::Shuffle { trustee, .. }, Event::Shuffle(s)) => s.body.trustee == *trustee,
        (parts::Pending::Decryption { trustee, .. }, Event::DecryptionRows(s)) => {
            s.body.trustee == *trustee
        }
        (parts::Pending::Decryption { trustee, .. }, Event::DecryptionShare(s)) => {
            s.body.trustee == *trustee
        }
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let (what, trustee, next) = match waiting {
        parts::Pending::Shuffle { trustee, .. } => ("shuffle", trustee, "shuffle_rows or shuffle"),
        parts::Pending::Decryption { trustee, .. } => (
            "decryption share",
            trustee,
            "decryption_rows or decryption_share",
        ),
    };
    Err(format!(
        "{} event in the middle of trustee {trustee}'s {what}: its lines are consecutive, so only a {next} line of trustee {trustee} may come here",
        event.kind()
    ))
}

/// A part refused: R4 if it breaks the order, `check` if it is malformed.
fn part_fault<T>(
    check: &'static str,
    at: Option<u64>,
    fault: parts::PartFault,
) -> Result<T, VerifyError> {
    match fault {
        parts::PartFault::Interleaved(m) => fail("R4", at, m),
        parts::PartFault::Malformed(m) => fail(check, at, m),
    }
}

/// S1: a trustee's event is signed by the key the definition names for that trustee.
fn check_trustee_signature(
    state: &RecordState,
    at: Option<u64>,
    event: &Event,
) -> Result<(), VerifyError> {
    let Signer::Trustee(index) = event.signer() else {
        return Ok(());
    };
    let key = state
        .definition
        .as_ref()
        .and_then(|d| d.trustee_key(index))
        .ok_or(VerifyError {
            check: "S1",
            seq: at,
            message: format!("there is no trustee {index}"),
        })?;
    let kind = event.kind();
    let ok = match event {
        Event::TrusteeCommitment(s) => s.verify(kind, &state.election_hash, key),
        Event::DealerShares(s) => s.verify(kind, &state.election_hash, key),
        Event::TrusteeCheck(s) => s.verify(kind, &state.election_hash, key),
        Event::DecryptionShare(s) => s.verify(kind, &state.election_hash, key),
        Event::DecryptionRows(s) => s.verify(kind, &state.election_hash, key),
        Event::Shuffle(s) => s.verify(kind, &state.election_hash, key),
        Event::ShuffleRows(s) => s.verify(kind, &state.election_hash, key),
        _ => Ok(()),
    };
    ok.or_else(|_| {
        fail(
            "S1",
            at,
            format!(
                "this {kind} is not signed by trustee {index}'s key {} named in the definition",
                crate::roles::fingerprint(key)
            ),
        )
    })
}

fn params(state: &RecordState) -> Result<DkgParameters, VerifyError> {
    state.dkg_parameters().ok_or(VerifyError {
        check: "E1",
        seq: None,
        message: "invalid trustees".into(),
    })
}

fn params_index(params: &DkgParameters, index: u32) -> Result<(), String> {
    if index == 0 || index > params.trustees {
        return Err(format!("trustee {index} is not in 1..={}", params.trustees));
    }
    Ok(())
}

/// The slot of trustee `index` (1 to n).
fn slot<T>(
    slots: &mut [Option<T>],
    index: u32,
    at: Option<u64>,
) -> Result<&mut Option<T>, VerifyError> {
    let n = slots.len();
    match (index as usize)
        .checked_sub(1)
        .and_then(|i| slots.get_mut(i))
    {
        Some(slot) => Ok(slot),
        None => fail("R5", at, format!("trustee {index} is not in 1..={n}")),
    }
}

/// B1, B2, B3 and B7, the tracker index and the running tally (order-dependent checks).
fn precheck_ballot(state: &mut RecordState, index: u64, b: &Ballot) -> Result<(), VerifyError> {
    let at = Some(index);
    let ctx = state.context.as_ref().ok_or(VerifyError {
        check: "B1",
        seq: at,
        message: "no voting context".into(),
    })?;
    ballot::check_shape(ctx, b).or_else(|r| fail(r.check.code(), at, r.reason))?;
    let cred = *b.credential.as_bytes();
    let weight = match state.credential_weight(&cred) {
        Some(w) => w,
        None => {
            return fail(
                "B2",
                at,
                "the ballot is signed by a credential that is not on the list",
            );
        }
    };
    for c in b.ciphertexts() {
        if !state.seen_alphas.insert(c.alpha.as_bytes()) {
            return fail(
                "B7",
                at,
                "a ciphertext of this ballot already appears on the board (copied or replayed ballot)",
            );
        }
    }
    let questions = std::sync::Arc::clone(ctx);
    let acc = state.accumulator.as_mut().ok_or(VerifyError {
        check: "T1",
        seq: at,
        message: "no tally".into(),
    })?;
    let encoded = state
        .record_lines
        .is_none()
        .then(|| encode_ciphertexts(b.tallied_ciphertexts(&questions.definition.questions)));
    let mixed = encode_ciphertexts(
        b.answers
            .iter()
            .zip(&questions.definition.questions)
            .filter(|(_, q)| q.is_mixed())
            .flat_map(|(a, _)| &a.choices),
    );
    match state.last_votes.insert(
        cred,
        LastVote {
            seq: index,
            ciphertexts: encoded,
            mixed,
        },
    ) {
        Some(old) => {
            let old_cts = match &old.ciphertexts {
                Some(bytes) => decode_ciphertexts(bytes)
                    .or_else(|_| fail("T1", Some(old.seq), "cannot decode an earlier ballot"))?,
                None => replaced_ballot(
                    state.record_lines.as_deref(),
                    old.seq,
                    &cred,
                    &questions.definition,
                )?,
            };
            acc.remove(old_cts.iter(), weight);
        }
        None => state.counted_weight += weight,
    }
    acc.add_ballot(b, weight);
    state.ballots += 1;
    Ok(())
}

/// The tallied ciphertexts of the ballot of `credential` at line `seq`, read back from the
/// record (a state that does not hold them: [`RecordState::read_replaced_ballots_from`]).
fn replaced_ballot(
    lines: Option<&dyn RecordLines>,
    seq: u64,
    credential: &[u8; 32],
    definition: &ElectionDefinition,
) -> Result<Vec<Ciphertext>, VerifyError> {
    let at = Some(seq);
    let Some(lines) = lines else {
        return fail("T1", at, "the replaced ballot is neither held nor readable");
    };
    let line = lines
        .line(seq)
        .or_else(|e| fail("T1", at, format!("cannot read the replaced ballot: {e}")))?;
    let read = record::tallied_ciphertexts_of_line(line.as_bytes(), &definition.questions)
        .or_else(|e| fail("T1", at, format!("cannot read the replaced ballot: {e}")))?;
    if read.seq != seq || read.credential != *credential {
        return fail(
            "T1",
            at,
            "the line read back is not the ballot that the re-vote replaces",
        );
    }
    Ok(read.ciphertexts)
}

/// Ciphertexts encoded α ‖ β, 64 bytes each ([`decode_ciphertexts`] reads them back).
fn encode_ciphertexts<'a>(cts: impl Iterator<Item = &'a Ciphertext>) -> Box<[u8]> {
    cts.flat_map(|c| c.alpha.as_bytes().iter().chain(c.beta.as_bytes()).copied())
        .collect()
}

fn decode_ciphertexts(bytes: &[u8]) -> Result<Vec<Ciphertext>, scrutin_crypto::CryptoError> {
    bytes
        .chunks(64)
        .map(|c| {
            let mut a = [0u8; 32];
            let mut b = [0u8; 32];
            a.copy_from_slice(&c[..32]);
            b.copy_from_slice(&c[32..]);
            Ok(Ciphertext {
                alpha: scrutin_crypto::Point::from_bytes(&a)?,
                beta: scrutin_crypto::Point::from_bytes(&b)?,
            })
        })
        .collect()
}

/// B4–B6 for queued ballots, in batches on all cores; a failed batch is re-checked ballot
/// by ballot to name the first culprit.
fn verify_ballot_batch(
    state: &mut RecordState,
    pending: &[(u64, &Ballot)],
) -> Result<(), VerifyError> {
    if pending.is_empty() {
        return Ok(());
    }
    let ctx = state.context.as_ref().ok_or(VerifyError {
        check: "B4",
        seq: None,
        message: "no voting context".into(),
    })?;
    let groups: Vec<&[(u64, &Ballot)]> = pending.chunks(BATCH).collect();
    let outcomes = par_map(&groups, |group| {
        let mut batch = BatchVerifier::new(&mut os_rng());
        let bases = ctx.register_bases(&mut batch);
        let mut ok = true;
        let mut trackers = Vec::with_capacity(group.len());
        for (seq, b) in group.iter() {
            let digest = b.content_digest();
            trackers.push((b.tracker_from_digest(&digest), *seq));
            if ok
                && ballot::add_to_batch_with_digest(
                    ctx,
                    b,
                    &digest,
                    &mut batch,
                    &bases,
                    BallotParts::ALL,
                )
                .is_err()
            {
                ok = false;
            }
        }
        let proofs: u64 = group.iter().map(|(_, b)| count_proofs(b)).sum();
        if ok && batch.verify() {
            return Ok((proofs, trackers));
        }
        for (seq, b) in group.iter() {
            ballot::verify(ctx, b).or_else(|r| fail(r.check.code(), Some(*seq), r.reason))?;
        }
        fail(
            "B4",
            group.first().map(|(s, _)| *s),
            "a batch of ballots failed but no single ballot does",
        )
    });
    for o in outcomes {
        let (proofs, trackers) = o?;
        state.proofs += proofs;
        state.trackers.extend(trackers);
    }
    Ok(())
}

fn count_proofs(b: &Ballot) -> u64 {
    1 + b
        .answers
        .iter()
        .map(|a| {
            a.choice_proofs.as_ref().map_or(0, |p| p.len() as u64)
                + u64::from(a.bits_proof.is_some())
                + u64::from(a.sum_proof.is_some())
                + a.randomness_proofs.as_ref().map_or(0, |p| p.len() as u64)
        })
        .sum::<u64>()
}

/// The rows of every ranked or graded question at `close` (§11.12): the last ballot of
/// each credential that voted, in the order of the list, `weight` times.
fn counted_rows(state: &RecordState) -> Result<Vec<Rows>, String> {
    let (Some(def), Some(list)) = (&state.definition, &state.credentials) else {
        return Err("no definition or credential list".into());
    };
    let widths: Vec<usize> = mix::mixed_questions(def)
        .iter()
        .map(|q| def.questions[*q].answers.len())
        .collect();
    let mut rows: Vec<Rows> = vec![Vec::new(); widths.len()];
    if widths.is_empty() {
        return Ok(rows);
    }
    for (key, weight) in list.iter() {
        let Some(vote) = state.last_votes.get(key) else {
            continue;
        };
        let cts = decode_ciphertexts(&vote.mixed).map_err(|e| e.to_string())?;
        let mut rest = cts.as_slice();
        for (rows, w) in rows.iter_mut().zip(&widths) {
            if rest.len() < *w {
                return Err("a counted ballot lacks ranked or graded answers".into());
            }
            let (row, tail) = rest.split_at(*w);
            rest = tail;
            for _ in 0..weight {
                rows.push(row.to_vec());
            }
        }
    }
    Ok(rows)
}

/// M1: trustee `trustee` holds a valid key share and has not shuffled yet.
fn check_shuffler(state: &RecordState, at: Option<u64>, trustee: u32) -> Result<(), VerifyError> {
    let decryptor = state
        .joint_key
        .as_ref()
        .is_some_and(|k| k.decryptors.contains(&trustee));
    if !decryptor {
        return fail(
            "M1",
            at,
            format!("trustee {trustee} is not a trustee holding a valid key share"),
        );
    }
    if state.shuffles.iter().any(|s| s.trustee == trustee) {
        return fail("M1", at, format!("trustee {trustee} shuffled twice"));
    }
    Ok(())
}

/// M1: a decryptor that has not shuffled yet, and every proof of its shuffle, whose
/// inputs are the rows as they stand (§11.12).
fn verify_shuffle(
    state: &mut RecordState,
    index: u64,
    shuffle: &Shuffle,
) -> Result<(), VerifyError> {
    let at = Some(index);
    let (def, key, fp) = match (&state.definition, &state.joint_key, &state.fingerprint) {
        (Some(d), Some(k), Some(f)) => (d, k, f),
        _ => return fail("M1", at, "shuffle before the tally"),
    };
    check_shuffler(state, at, shuffle.trustee)?;
    let questions = mix::mixed_questions(def);
    let mut batch = BatchVerifier::new(&mut os_rng());
    mix::add_shuffle_to_batch(
        fp,
        &key.public_key,
        &questions,
        &state.mix_rows,
        shuffle,
        &mut batch,
    )
    .or_else(|e| fail("M1", at, e.to_string()))?;
    if !batch.verify() {
        return fail(
            "M1",
            at,
            format!(
                "a proof of trustee {}'s shuffle is invalid: its outputs are not a shuffle of its inputs",
                shuffle.trustee
            ),
        );
    }
    state.proofs += questions.len() as u64;
    Ok(())
}

/// D1: trustee `trustee` exists, holds a valid key share and has published no share yet;
/// its verification key.
fn check_decryptor(
    state: &RecordState,
    at: Option<u64>,
    trustee: u32,
) -> Result<scrutin_crypto::Point, VerifyError> {
    let Some(key) = state.joint_key.as_ref() else {
        return fail("D1", at, "decryption share before the tally");
    };
    let vk = match key
        .verification_keys
        .get((trustee as usize).wrapping_sub(1))
    {
        Some(vk) if trustee >= 1 => *vk,
        _ => {
            return fail("D1", at, format!("trustee {trustee} does not exist"));
        }
    };
    if state.shares.iter().any(|s| s.trustee == trustee) {
        return fail(
            "D1",
            at,
            format!("trustee {trustee} published two decryption shares"),
        );
    }
    if !key.decryptors.contains(&trustee) {
        return fail(
            "D1",
            at,
            format!(
                "trustee {trustee} holds no valid key share (it complained in the key generation)"
            ),
        );
    }
    Ok(vk)
}

/// D1: the trustee exists, publishes once, and every factor's proof is valid.
fn verify_share(
    state: &mut RecordState,
    index: u64,
    share: &DecryptionShare,
) -> Result<(), VerifyError> {
    let at = Some(index);
    let (def, fp, close) = match (&state.definition, &state.fingerprint, &state.close) {
        (Some(d), Some(f), Some(c)) => (d, f, c),
        _ => return fail("D1", at, "decryption share before the tally"),
    };
    let vk = check_decryptor(state, at, share.trustee)?;
    if state.close_hash != Some(share.close_hash) {
        return fail(
            "D1",
            at,
            format!(
                "trustee {}'s share was computed on another close line ({}) than this record's",
                share.trustee, share.close_hash
            ),
        );
    }
    let mut batch = BatchVerifier::new(&mut os_rng());
    tally::add_share_to_batch(fp, def, &close.tally, share, &vk, &mut batch)
        .or_else(|e| fail("D1", at, e.to_string()))?;
    let questions = mix::mixed_questions(def);
    match (&share.mixed, questions.is_empty()) {
        (None, true) => {}
        (Some(factors), false) => mix::add_factors_to_batch(
            fp,
            share.trustee,
            &questions,
            &state.mix_rows,
            factors,
            &vk,
            &mut batch,
        )
        .or_else(|e| fail("D1", at, e.to_string()))?,
        _ => {
            return fail(
                "D1",
                at,
                "the share has factors of ranked and graded answers iff the election has such questions",
            );
        }
    }
    let n = batch.len() as u64 / 2;
    if !batch.verify() {
        return fail(
            "D1",
            at,
            format!(
                "a proof of trustee {}'s decryption share is invalid",
                share.trustee
            ),
        );
    }
    state.proofs += n;
    Ok(())
}

/// D2–D4.
fn verify_result(
    state: &RecordState,
    index: u64,
    result: &ElectionResult,
) -> Result<(), VerifyError> {
    let at = Some(index);
    let (def, close) = match (&state.definition, &state.close) {
        (Some(d), Some(c)) => (d, c),
        _ => return fail("D2", at, "result before the tally"),
    };
    if result.trustees.len() < def.threshold as usize {
        return fail(
            "D2",
            at,
            format!(
                "{} trustees' shares combined, {} needed",
                result.trustees.len(),
                def.threshold
            ),
        );
    }
    let mut shares = Vec::with_capacity(result.trustees.len());
    for (n, t) in result.trustees.iter().enumerate() {
        if result.trustees[..n].contains(t) {
            return fail("D2", at, format!("trustee {t} listed twice"));
        }
        match state.shares.iter().find(|s| s.trustee == *t) {
            Some(s) => shares.push(s),
            None => {
                return fail(
                    "D2",
                    at,
                    format!("trustee {t} published no decryption share"),
                );
            }
        }
    }
    tally::check_counts(def, &close.tally, &shares, result)
        .or_else(|e| fail("D3", at, e.to_string()))?;
    let questions = mix::mixed_questions(def);
    match (&result.mixed, questions.is_empty()) {
        (None, true) => {}
        (Some(mixed), false) => {
            let factors: Vec<&mix::MixedFactors> =
                shares.iter().filter_map(|s| s.mixed.as_ref()).collect();
            mix::check_result(def, &state.mix_rows, &result.trustees, &factors, mixed)
                .or_else(|e| fail(e.check, at, e.message))?;
        }
        _ => {
            return fail(
                "D5",
                at,
                "the result has decrypted ranked and graded ballots iff the election has such questions",
            );
        }
    }
    if result.ballots_counted != close.ballots_counted
        || result.total_weight != state.counted_weight
    {
        return fail(
            "D4",
            at,
            "the ballot count or total weight differs from the tally's",
        );
    }
    Ok(())
}
