//! Shuffles and decryption shares written over several record lines (spec §11.15).
//!
//! A `shuffle` (§11.12) or a `decryption_share` with ranked and graded factors (§11.13)
//! holds something for every row of every ranked or graded question: about 1.9 KB per row
//! of ten answers in a shuffle, 3.1 KB in a share. A record line holds at most 16 MiB
//! (§11.1), so a large election writes them in parts. The arrays indexed by row move,
//! question after question and row after row, into signed lines of their own that come just
//! before the event they belong to:
//!
//! ```text
//!   shuffle_rows      {"trustee":j,"question":q,"outputs":[…],"permutation":[…],"chain":[…],"t_hat":[…],"s_hat":[…],"s_prime":[…]}
//!   decryption_rows   {"trustee":j,"question":q,"factors":[…]}
//! ```
//! The event itself (`shuffle` or `decryption_share`) keeps the rest: whatever rows follow
//! the parts, and everything not indexed by row. A verifier joins each array as the
//! concatenation of the parts' arrays, in record order, and of the event's, then checks the
//! event as if it had been written on one line. The proofs are unchanged: the split is
//! only a layout of the same values.

use scrutin_crypto::group::hex_scalar_vec;
use scrutin_crypto::threshold::DecryptionFactor;
use scrutin_crypto::{Point, Scalar};
use serde::{Deserialize, Serialize};

use crate::mix::{Rows, Shuffle};
use crate::tally::DecryptionShare;

/// The reference writes a shuffle or a share on one line when it holds at most this many
/// ciphertexts (or factors) in all (§11.15): under 8 MiB at the largest row shape.
pub const ONE_LINE_CIPHERTEXTS: usize = 16_384;

/// Otherwise it writes every row in parts of at most this many ciphertexts (or factors),
/// and at least one row: a few MiB a line.
pub const PART_CIPHERTEXTS: usize = 8_192;

/// Rows of one question of a trustee's shuffle (§11.15), the row-indexed arrays of its
/// [`crate::mix::QuestionShuffle`] for consecutive rows. `question` is the question's number in the
/// definition, from 0.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShuffleRows {
    pub trustee: u32,
    pub question: u32,
    pub outputs: Rows,
    pub permutation: Vec<Point>,
    pub chain: Vec<Point>,
    pub t_hat: Vec<Point>,
    #[serde(with = "hex_scalar_vec")]
    pub s_hat: Vec<Scalar>,
    #[serde(with = "hex_scalar_vec")]
    pub s_prime: Vec<Scalar>,
}

impl ShuffleRows {
    /// Number of rows in this part, or `None` if its arrays do not all have the same length
    /// (a malformed part, check M1).
    pub fn rows(&self) -> Option<usize> {
        let n = self.outputs.len();
        let same = [
            self.permutation.len(),
            self.chain.len(),
            self.t_hat.len(),
            self.s_hat.len(),
            self.s_prime.len(),
        ]
        .iter()
        .all(|&l| l == n);
        same.then_some(n)
    }

    /// Appends `other`'s rows after these.
    fn extend(&mut self, other: ShuffleRows) {
        self.outputs.extend(other.outputs);
        self.permutation.extend(other.permutation);
        self.chain.extend(other.chain);
        self.t_hat.extend(other.t_hat);
        self.s_hat.extend(other.s_hat);
        self.s_prime.extend(other.s_prime);
    }
}

/// Rows of one question of a trustee's decryption factors (§11.15): `factors[i][k]` for
/// consecutive rows `i`. `question` is the question's number in the definition, from 0.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecryptionRows {
    pub trustee: u32,
    pub question: u32,
    pub factors: Vec<Vec<DecryptionFactor>>,
}

/// The number of rows of one part when the rows are `width` ciphertexts wide (§11.15).
pub fn rows_per_part(width: usize, part_ciphertexts: usize) -> usize {
    (part_ciphertexts / width.max(1)).max(1)
}

/// How a shuffle or a share is laid out in the record (§11.15).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The reference's rule: on one line up to [`ONE_LINE_CIPHERTEXTS`], otherwise every
    /// row in parts of [`PART_CIPHERTEXTS`].
    Reference,
    /// Every row in parts of at most this many ciphertexts (at least one row each): how
    /// the test vectors show parts on a small election.
    Parts(usize),
}

impl Layout {
    /// The ciphertexts of a part, or `None` to keep everything on the event's line, for an
    /// event holding `total` ciphertexts.
    fn part_size(self, total: usize) -> Option<usize> {
        match self {
            Layout::Reference if total <= ONE_LINE_CIPHERTEXTS => None,
            Layout::Reference => Some(PART_CIPHERTEXTS),
            Layout::Parts(n) => Some(n),
        }
    }
}

/// Splits trustee `shuffle.trustee`'s shuffle of the ranked and graded questions numbered
/// `questions` into its parts and what stays on the `shuffle` line (§11.15).
pub fn split_shuffle(
    mut shuffle: Shuffle,
    questions: &[usize],
    layout: Layout,
) -> (Vec<ShuffleRows>, Shuffle) {
    let total: usize = shuffle
        .questions
        .iter()
        .map(|q| q.outputs.iter().map(Vec::len).sum::<usize>())
        .sum();
    let Some(size) = layout.part_size(total) else {
        return (Vec::new(), shuffle);
    };
    let mut parts = Vec::new();
    for (q, entry) in questions.iter().zip(shuffle.questions.iter_mut()) {
        let width = entry.outputs.first().map_or(1, Vec::len);
        let per = rows_per_part(width, size);
        // Each list is taken out of the entry and cut from the front, `per` rows at a time.
        let mut outputs = std::mem::take(&mut entry.outputs).into_iter();
        let mut permutation = std::mem::take(&mut entry.proof.permutation).into_iter();
        let mut chain = std::mem::take(&mut entry.proof.chain).into_iter();
        let mut t_hat = std::mem::take(&mut entry.proof.t_hat).into_iter();
        let mut s_hat = std::mem::take(&mut entry.proof.s_hat).into_iter();
        let mut s_prime = std::mem::take(&mut entry.proof.s_prime).into_iter();
        while outputs.len() > 0 {
            parts.push(ShuffleRows {
                trustee: shuffle.trustee,
                question: *q as u32,
                outputs: outputs.by_ref().take(per).collect(),
                permutation: permutation.by_ref().take(per).collect(),
                chain: chain.by_ref().take(per).collect(),
                t_hat: t_hat.by_ref().take(per).collect(),
                s_hat: s_hat.by_ref().take(per).collect(),
                s_prime: s_prime.by_ref().take(per).collect(),
            });
        }
    }
    (parts, shuffle)
}

/// Splits a decryption share's ranked and graded factors into parts and what stays on the
/// `decryption_share` line (§11.15).
pub fn split_share(
    mut share: DecryptionShare,
    questions: &[usize],
    layout: Layout,
) -> (Vec<DecryptionRows>, DecryptionShare) {
    let Some(mixed) = share.mixed.as_mut() else {
        return (Vec::new(), share);
    };
    let total: usize = mixed.iter().flatten().map(Vec::len).sum();
    let Some(size) = layout.part_size(total) else {
        return (Vec::new(), share);
    };
    let mut parts = Vec::new();
    for (q, rows) in questions.iter().zip(mixed.iter_mut()) {
        let width = rows.first().map_or(1, Vec::len);
        let per = rows_per_part(width, size);
        let all = std::mem::take(rows);
        let mut iter = all.into_iter().peekable();
        while iter.peek().is_some() {
            parts.push(DecryptionRows {
                trustee: share.trustee,
                question: *q as u32,
                factors: iter.by_ref().take(per).collect(),
            });
        }
    }
    (parts, share)
}

/// The parts read so far of the event that follows them (§11.15), kept by the verifier
/// until that event's line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pending {
    /// Parts of trustee `trustee`'s shuffle: one entry per ranked or graded question, in
    /// question order (empty until its first part).
    Shuffle {
        trustee: u32,
        rows: Vec<ShuffleRows>,
        /// Position (among the ranked and graded questions) of the last part's question.
        last: usize,
    },
    /// Parts of trustee `trustee`'s decryption factors, per ranked or graded question.
    Decryption {
        trustee: u32,
        factors: Vec<Vec<Vec<DecryptionFactor>>>,
        last: usize,
    },
}

/// Why a part cannot be taken (the caller names the check).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartFault {
    /// The line interrupts another trustee's parts, or parts of another kind (R4).
    Interleaved(String),
    /// The part itself is wrong: its question, its shape or its size (M1 or D1).
    Malformed(String),
}

/// Where question `q` stands among the ranked and graded questions.
fn position(questions: &[usize], q: u32) -> Result<usize, PartFault> {
    questions
        .iter()
        .position(|&n| n as u64 == u64::from(q))
        .ok_or_else(|| {
            PartFault::Malformed(format!(
                "question {} is not a ranked or graded question",
                u64::from(q) + 1
            ))
        })
}

/// Checks the order of a part of question `q` after the part of position `last`.
fn in_order(questions: &[usize], q: u32, last: Option<usize>) -> Result<usize, PartFault> {
    let n = position(questions, q)?;
    if last.is_some_and(|l| n < l) {
        return Err(PartFault::Malformed(format!(
            "a part of question {} comes after a part of a later question",
            u64::from(q) + 1
        )));
    }
    Ok(n)
}

/// Adds a part of a shuffle to `pending`. `inputs[n]` is the number of rows of position
/// `n`: a shuffle never has more output rows than input rows, so parts beyond are refused
/// before they are kept.
pub fn take_shuffle_part(
    pending: &mut Option<Pending>,
    questions: &[usize],
    inputs: &[usize],
    part: ShuffleRows,
) -> Result<(), PartFault> {
    let count = part
        .rows()
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            PartFault::Malformed(
                "a part of a shuffle must hold at least one row, and as many entries of each of its lists"
                    .into(),
            )
        })?;
    if pending.is_none() {
        *pending = Some(Pending::Shuffle {
            trustee: part.trustee,
            rows: vec![ShuffleRows::default(); questions.len()],
            last: 0,
        });
    }
    let Some(Pending::Shuffle {
        trustee,
        rows,
        last,
    }) = pending
    else {
        return Err(interleaved(pending.as_ref(), "shuffle_rows", part.trustee));
    };
    if *trustee != part.trustee {
        return Err(interleaved(pending.as_ref(), "shuffle_rows", part.trustee));
    }
    let n = in_order(questions, part.question, Some(*last))?;
    let held = rows.get(n).map_or(0, |r| r.outputs.len());
    let most = inputs.get(n).copied().unwrap_or(0);
    if held + count > most {
        return Err(PartFault::Malformed(format!(
            "the parts of question {} hold more than its {most} rows",
            u64::from(part.question) + 1
        )));
    }
    *last = n;
    if let Some(r) = rows.get_mut(n) {
        r.extend(part);
    }
    Ok(())
}

/// Adds a part of a decryption share to `pending`; `inputs[n]` as for
/// [`take_shuffle_part`].
pub fn take_decryption_part(
    pending: &mut Option<Pending>,
    questions: &[usize],
    inputs: &[usize],
    part: DecryptionRows,
) -> Result<(), PartFault> {
    if part.factors.is_empty() {
        return Err(PartFault::Malformed(
            "a part of a decryption share must hold at least one row".into(),
        ));
    }
    if pending.is_none() {
        *pending = Some(Pending::Decryption {
            trustee: part.trustee,
            factors: vec![Vec::new(); questions.len()],
            last: 0,
        });
    }
    let Some(Pending::Decryption {
        trustee,
        factors,
        last,
    }) = pending
    else {
        return Err(interleaved(
            pending.as_ref(),
            "decryption_rows",
            part.trustee,
        ));
    };
    if *trustee != part.trustee {
        return Err(interleaved(
            pending.as_ref(),
            "decryption_rows",
            part.trustee,
        ));
    }
    let n = in_order(questions, part.question, Some(*last))?;
    let held = factors.get(n).map_or(0, Vec::len);
    let most = inputs.get(n).copied().unwrap_or(0);
    if held + part.factors.len() > most {
        return Err(PartFault::Malformed(format!(
            "the parts of question {} hold more than its {most} rows",
            u64::from(part.question) + 1
        )));
    }
    *last = n;
    if let Some(f) = factors.get_mut(n) {
        f.extend(part.factors);
    }
    Ok(())
}

/// The fault of a `kind` line of `trustee` while `pending` waits for its event.
fn interleaved(pending: Option<&Pending>, kind: &str, trustee: u32) -> PartFault {
    let (what, of) = match pending {
        Some(Pending::Shuffle { trustee, .. }) => ("shuffle", *trustee),
        Some(Pending::Decryption { trustee, .. }) => ("decryption share", *trustee),
        None => ("event", trustee),
    };
    PartFault::Interleaved(format!(
        "a {kind} line of trustee {trustee} comes among the parts of trustee {of}'s {what}: the lines of one event are consecutive"
    ))
}

/// Joins the parts of trustee `shuffle.trustee`'s shuffle, if any, with its `shuffle` line
/// (§11.15): every row-indexed array is the parts', then the line's.
pub fn join_shuffle(
    pending: &mut Option<Pending>,
    shuffle: &Shuffle,
) -> Result<Shuffle, PartFault> {
    let mut joined = shuffle.clone();
    match pending.take() {
        None => {}
        Some(Pending::Shuffle { trustee, rows, .. }) if trustee == shuffle.trustee => {
            for (entry, mut r) in joined.questions.iter_mut().zip(rows) {
                r.outputs.append(&mut entry.outputs);
                r.permutation.append(&mut entry.proof.permutation);
                r.chain.append(&mut entry.proof.chain);
                r.t_hat.append(&mut entry.proof.t_hat);
                r.s_hat.append(&mut entry.proof.s_hat);
                r.s_prime.append(&mut entry.proof.s_prime);
                entry.outputs = r.outputs;
                entry.proof.permutation = r.permutation;
                entry.proof.chain = r.chain;
                entry.proof.t_hat = r.t_hat;
                entry.proof.s_hat = r.s_hat;
                entry.proof.s_prime = r.s_prime;
            }
        }
        Some(other) => {
            let fault = interleaved(Some(&other), "shuffle", shuffle.trustee);
            *pending = Some(other);
            return Err(fault);
        }
    }
    Ok(joined)
}

/// Joins the parts of trustee `share.trustee`'s factors, if any, with its
/// `decryption_share` line (§11.15).
pub fn join_share(
    pending: &mut Option<Pending>,
    share: &DecryptionShare,
) -> Result<DecryptionShare, PartFault> {
    let mut joined = share.clone();
    match pending.take() {
        None => {}
        Some(Pending::Decryption {
            trustee, factors, ..
        }) if trustee == share.trustee => {
            let Some(mixed) = joined.mixed.as_mut() else {
                return Err(PartFault::Malformed(
                    "parts of ranked and graded factors before a share without them".into(),
                ));
            };
            for (entry, mut f) in mixed.iter_mut().zip(factors) {
                f.append(entry);
                *entry = f;
            }
        }
        Some(other) => {
            let fault = interleaved(Some(&other), "decryption_share", share.trustee);
            *pending = Some(other);
            return Err(fault);
        }
    }
    Ok(joined)
}
