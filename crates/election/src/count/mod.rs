//! Counting ranked and graded questions from ballots decrypted one by one (spec §11.14).
//!
//! A mixnet question's ballots are decrypted individually; this module turns those
//! plaintexts into a result, deterministically, and explains every step so that a
//! verifier can recompute the result from the record and compare it field by field.
//! It is pure: no I/O, no threads, no clock, and it builds for WebAssembly.
//!
//! | module | method | source |
//! |---|---|---|
//! | [`schulze`] | Condorcet–Schulze, winning votes | Schulze, *Social Choice and Welfare* 36 (2011) |
//! | [`irv`] | instant-runoff, one seat | — (rule stated in the module) |
//! | [`stv`] | single transferable vote, Scottish rules | SSI 2007/42, Schedule 1, rules 45–52 |
//! | [`majority_judgment`] | majority judgment, majority ranking | Balinski & Laraki, *Majority Judgment* (2011) |
//! | [`blt`] | the BLT ballot file format (OpenSTV, Droop) | — |
//!
//! ## Ballots
//! A decrypted **ranked** ballot gives one entry per candidate: `Some(r)` is the rank
//! of the candidate (`1` = first preference), `None` leaves it unranked. A decrypted
//! **graded** ballot gives one grade per candidate, `0` (worst) to `grades − 1`
//! (best). [`validate_ranked`] and [`validate_graded`] say whether a plaintext is a
//! valid ballot for a method and, if not, why ([`BallotFault`]). The counts call them
//! on every ballot: an invalid ballot is counted as invalid and listed, with its
//! position and its fault, in the result; it is never dropped silently.
//!
//! Identical ballots may be grouped ([`Counted`]): each decrypted ballot has count 1,
//! a published data set (a BLT file) gives a count per distinct ballot.
//!
//! ## Bounds
//! Every count refuses, before allocating anything from them, more than
//! [`MAX_CANDIDATES`] candidates, more than [`MAX_BALLOTS`] ballots (the sum of the
//! counts), more than [`MAX_GRADES`] grades, and a number of seats that is not below
//! the number of candidates.

use serde::{Deserialize, Serialize};

pub mod blt;
pub mod irv;
pub mod majority_judgment;
pub mod schulze;
pub mod stv;

/// At most this many candidates in a counted question.
pub const MAX_CANDIDATES: usize = 100;
/// At most this many ballots (the sum of the counts) in one count.
pub const MAX_BALLOTS: u64 = 10_000_000;
/// At most this many grades in a majority judgment scale.
pub const MAX_GRADES: u32 = 100;

/// A decrypted ranked ballot: `ranks[c]` is candidate `c`'s rank (`Some(1)` = first
/// preference) or `None` when the voter left `c` unranked.
pub type RankedBallot = Vec<Option<u32>>;

/// A decrypted graded ballot: `grades[c]` is candidate `c`'s grade, `0` = worst.
pub type GradedBallot = Vec<u32>;

/// `count` identical ballots: 1 for a ballot decrypted from the mixnet, the weight of a
/// line for a published data set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counted<B> {
    pub count: u64,
    pub ballot: B,
}

impl<B> Counted<B> {
    /// One ballot.
    pub fn one(ballot: B) -> Self {
        Counted { count: 1, ballot }
    }
}

/// Whether a ranked method accepts equal ranks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ties {
    /// Several candidates may share a rank (Schulze).
    Allowed,
    /// Every rank is given to one candidate at most (IRV, STV).
    Forbidden,
}

/// Why a decrypted ballot is not a valid ballot for the method.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "fault", deny_unknown_fields)]
pub enum BallotFault {
    /// The ballot does not have one entry per candidate.
    WrongLength { expected: u32, found: u64 },
    /// No candidate is ranked.
    Blank,
    /// A rank is 0 or larger than the number of candidates.
    RankOutOfRange { candidate: u32, rank: u32 },
    /// The ranks used are not `1 … k` for some `k`: `missing` is the smallest absent.
    Gap { missing: u32 },
    /// Several candidates share `rank` and the method forbids ties.
    Tie { rank: u32 },
    /// A grade is not in `0 … grades − 1`.
    GradeOutOfScale { candidate: u32, grade: u32 },
}

/// An invalid ballot as reported in a result: its position among the counted ballots
/// (0-based, in the order given to the count), how many identical ballots it stands
/// for, and why it is invalid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvalidBallot {
    pub position: u64,
    pub count: u64,
    pub fault: BallotFault,
}

/// Errors of a count: the input is outside the bounds, or is not a question that can
/// be counted. Invalid ballots are not errors: they are reported in the result.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CountError {
    #[error("{found} candidates: a count takes 1 to {max}")]
    Candidates { found: usize, max: usize },
    #[error("more than {max} ballots")]
    TooManyBallots { max: u64 },
    #[error(
        "{seats} seats for {candidates} candidates: seats must be at least 1 and fewer than the candidates"
    )]
    Seats { seats: usize, candidates: usize },
    #[error("{found} grades: a scale has 2 to {max}")]
    Grades { found: u32, max: u32 },
    #[error("the lot order is not a permutation of the {candidates} candidates")]
    Lot { candidates: usize },
    #[error("BLT line {line}: {message}")]
    Blt { line: usize, message: String },
}

impl From<CountError> for crate::ElectionError {
    fn from(e: CountError) -> Self {
        crate::ElectionError::Invalid(e.to_string())
    }
}

/// Refuses a number of candidates outside `1 ..= MAX_CANDIDATES`.
pub(crate) fn check_candidates(candidates: usize) -> Result<(), CountError> {
    if candidates == 0 || candidates > MAX_CANDIDATES {
        return Err(CountError::Candidates {
            found: candidates,
            max: MAX_CANDIDATES,
        });
    }
    Ok(())
}

/// The total of the counts, refused above [`MAX_BALLOTS`] (without allocating).
pub(crate) fn total_count<B>(ballots: &[Counted<B>]) -> Result<u64, CountError> {
    let mut total: u64 = 0;
    for b in ballots {
        total = total
            .checked_add(b.count)
            .filter(|t| *t <= MAX_BALLOTS)
            .ok_or(CountError::TooManyBallots { max: MAX_BALLOTS })?;
    }
    Ok(total)
}

fn index_u32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// Checks a decrypted ranked ballot for `candidates` candidates.
///
/// Valid when it has one entry per candidate, ranks at least one candidate, every rank
/// lies in `1 ..= candidates`, the ranks used are exactly `1 … k` (no gap; with ties,
/// equal ranks count once: `1, 1, 2` is valid, `1, 1, 3` is not) and, when ties are
/// forbidden, no rank is used twice. Unranked candidates come after all ranked ones.
///
/// A ballot is checked as a whole: a tie or a gap anywhere makes it invalid (stricter
/// than rule 43 of SSI 2007/42, which rejects a paper only for its first preference;
/// the booth never produces such a ballot).
pub fn validate_ranked(
    ballot: &[Option<u32>],
    candidates: usize,
    ties: Ties,
) -> Result<(), BallotFault> {
    if ballot.len() != candidates {
        return Err(BallotFault::WrongLength {
            expected: index_u32(candidates),
            found: ballot.len() as u64,
        });
    }
    // used[r - 1]: how many candidates have rank r.
    let mut used = vec![0u32; candidates];
    for (c, rank) in ballot.iter().enumerate() {
        let Some(rank) = *rank else { continue };
        let slot = usize::try_from(rank)
            .ok()
            .and_then(|r| r.checked_sub(1))
            .and_then(|r| used.get_mut(r))
            .ok_or(BallotFault::RankOutOfRange {
                candidate: index_u32(c),
                rank,
            })?;
        *slot += 1;
    }
    let Some(highest) = used.iter().rposition(|n| *n > 0) else {
        return Err(BallotFault::Blank);
    };
    for (r, n) in used.iter().enumerate().take(highest + 1) {
        let rank = index_u32(r + 1);
        if *n == 0 {
            return Err(BallotFault::Gap { missing: rank });
        }
        if *n > 1 && ties == Ties::Forbidden {
            return Err(BallotFault::Tie { rank });
        }
    }
    Ok(())
}

/// Checks a decrypted graded ballot: one grade per candidate, each below `grades`.
pub fn validate_graded(ballot: &[u32], candidates: usize, grades: u32) -> Result<(), BallotFault> {
    if ballot.len() != candidates {
        return Err(BallotFault::WrongLength {
            expected: index_u32(candidates),
            found: ballot.len() as u64,
        });
    }
    match ballot.iter().position(|g| *g >= grades) {
        Some(c) => Err(BallotFault::GradeOutOfScale {
            candidate: index_u32(c),
            grade: ballot.get(c).copied().unwrap_or(u32::MAX),
        }),
        None => Ok(()),
    }
}

/// A strict ranking as the list of candidates in order of preference (first
/// preference first); only for ballots that passed [`validate_ranked`] with
/// [`Ties::Forbidden`].
pub(crate) fn preference_list(ballot: &[Option<u32>]) -> Vec<u32> {
    let mut ranked: Vec<(u32, u32)> = ballot
        .iter()
        .enumerate()
        .filter_map(|(c, r)| r.map(|r| (r, index_u32(c))))
        .collect();
    ranked.sort_unstable();
    ranked.into_iter().map(|(_, c)| c).collect()
}

/// Splits ranked ballots into the valid ones (as preference lists with their counts)
/// and the invalid ones (reported).
pub(crate) fn strict_preferences(
    candidates: usize,
    ballots: &[Counted<RankedBallot>],
) -> (Vec<Counted<Vec<u32>>>, Vec<InvalidBallot>) {
    let mut valid = Vec::with_capacity(ballots.len());
    let mut invalid = Vec::new();
    for (position, b) in ballots.iter().enumerate() {
        if b.count == 0 {
            continue;
        }
        match validate_ranked(&b.ballot, candidates, Ties::Forbidden) {
            Ok(()) => valid.push(Counted {
                count: b.count,
                ballot: preference_list(&b.ballot),
            }),
            Err(fault) => invalid.push(InvalidBallot {
                position: position as u64,
                count: b.count,
                fault,
            }),
        }
    }
    (valid, invalid)
}

/// The order used when the rules say "by lot" (rule 49(3) and 51(2)(b) of SSI 2007/42,
/// and the last resort of the instant-runoff count).
///
/// A count must be reproducible by anyone, so the lot is not drawn during the count:
/// it is a permutation of the candidates fixed beforehand (drawn in public and
/// published with the question, for instance) and given to the count. When a tie
/// cannot be broken otherwise, the candidate that comes **earliest** in this order is
/// favoured: its surplus is transferred first, and it is the last to be excluded (the
/// tied candidate latest in the order is excluded). [`Lot::listed`] is the order of the
/// candidates on the ballot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lot {
    /// Candidates from most favoured to least favoured.
    pub order: Vec<u32>,
}

impl Lot {
    /// The order of the candidates on the ballot: candidate 0 is favoured most.
    pub fn listed(candidates: usize) -> Self {
        Lot {
            order: (0..candidates).map(index_u32).collect(),
        }
    }

    /// Checks that the order is a permutation of `0 .. candidates`, and returns each
    /// candidate's place in it.
    pub(crate) fn places(&self, candidates: usize) -> Result<Vec<usize>, CountError> {
        let refuse = CountError::Lot { candidates };
        if self.order.len() != candidates {
            return Err(refuse);
        }
        let mut place = vec![usize::MAX; candidates];
        for (i, c) in self.order.iter().enumerate() {
            let slot = usize::try_from(*c)
                .ok()
                .and_then(|c| place.get_mut(c))
                .ok_or(refuse.clone())?;
            if *slot != usize::MAX {
                return Err(refuse);
            }
            *slot = i;
        }
        Ok(place)
    }
}

/// How a tie between candidates was broken, as reported in a round or stage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by", deny_unknown_fields)]
pub enum TieBreak {
    /// By the votes at an earlier round or stage (numbered as in the result) at which
    /// the tied candidates had unequal votes.
    EarlierRound { round: u32 },
    /// By the [`Lot`] order, all earlier rounds being equal.
    Lot,
}

/// A tie that had to be broken: who was tied and how it was broken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tie {
    /// The tied candidates, in increasing index.
    pub tied: Vec<u32>,
    /// Each step that narrowed the tie, in order, down to one candidate.
    pub broken_by: Vec<TieBreak>,
}

/// Which end of a tie a rule picks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pick {
    /// The candidate with the most votes (surplus order, rule 49(2)).
    Most,
    /// The candidate with the fewest votes (exclusion, rule 51(2)).
    Fewest,
}

/// Breaks a tie among `tied` (indices, increasing) by looking back at earlier rounds,
/// most recent first (`history[r][c]` = votes of `c` at round `r + 1`, in any unit),
/// keeping at each round that separates them the candidates with the most (or fewest)
/// votes there, then by lot. Returns the chosen candidate and the report.
pub(crate) fn break_tie<V: Ord + Copy>(
    tied: Vec<u32>,
    history: &[Vec<V>],
    pick: Pick,
    lot_places: &[usize],
) -> (u32, Tie) {
    let mut remaining = tied.clone();
    let mut broken_by = Vec::new();
    for (r, votes) in history.iter().enumerate().rev() {
        if remaining.len() < 2 {
            break;
        }
        let value = |c: &u32| usize::try_from(*c).ok().and_then(|c| votes.get(c)).copied();
        let best = match pick {
            Pick::Most => remaining.iter().filter_map(value).max(),
            Pick::Fewest => remaining.iter().filter_map(value).min(),
        };
        let kept: Vec<u32> = remaining
            .iter()
            .copied()
            .filter(|c| value(c) == best)
            .collect();
        if kept.len() < remaining.len() {
            broken_by.push(TieBreak::EarlierRound {
                round: index_u32(r + 1),
            });
            remaining = kept;
        }
    }
    if remaining.len() > 1 {
        broken_by.push(TieBreak::Lot);
        let place = |c: &u32| {
            usize::try_from(*c)
                .ok()
                .and_then(|c| lot_places.get(c))
                .copied()
                .unwrap_or(usize::MAX)
        };
        // Most votes → the favoured (earliest) candidate; fewest → the least favoured.
        let chosen = match pick {
            Pick::Most => remaining.iter().copied().min_by_key(place),
            Pick::Fewest => remaining.iter().copied().max_by_key(place),
        };
        remaining = chosen.into_iter().collect();
    }
    let chosen = remaining.first().copied().unwrap_or(0);
    (chosen, Tie { tied, broken_by })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranked_ballots_are_checked() {
        let ok = |b: &[Option<u32>], t| validate_ranked(b, b.len(), t);
        assert_eq!(ok(&[Some(1), None, Some(2)], Ties::Forbidden), Ok(()));
        assert_eq!(ok(&[Some(1), Some(1), Some(2)], Ties::Allowed), Ok(()));
        assert_eq!(
            ok(&[Some(1), Some(1), Some(2)], Ties::Forbidden),
            Err(BallotFault::Tie { rank: 1 })
        );
        assert_eq!(
            ok(&[Some(1), Some(1), Some(3)], Ties::Allowed),
            Err(BallotFault::Gap { missing: 2 })
        );
        assert_eq!(
            ok(&[Some(2), None, None], Ties::Forbidden),
            Err(BallotFault::Gap { missing: 1 })
        );
        assert_eq!(ok(&[None, None], Ties::Allowed), Err(BallotFault::Blank));
        assert_eq!(
            ok(&[Some(0), Some(1)], Ties::Allowed),
            Err(BallotFault::RankOutOfRange {
                candidate: 0,
                rank: 0
            })
        );
        assert_eq!(
            ok(&[Some(1), Some(3)], Ties::Allowed),
            Err(BallotFault::RankOutOfRange {
                candidate: 1,
                rank: 3
            })
        );
        assert_eq!(
            validate_ranked(&[Some(1)], 2, Ties::Allowed),
            Err(BallotFault::WrongLength {
                expected: 2,
                found: 1
            })
        );
    }

    #[test]
    fn graded_ballots_are_checked() {
        assert_eq!(validate_graded(&[0, 5, 6], 3, 7), Ok(()));
        assert_eq!(
            validate_graded(&[0, 7, 6], 3, 7),
            Err(BallotFault::GradeOutOfScale {
                candidate: 1,
                grade: 7
            })
        );
        assert!(validate_graded(&[0], 3, 7).is_err());
    }

    #[test]
    fn a_lot_must_be_a_permutation() {
        assert!(Lot::listed(3).places(3).is_ok());
        assert_eq!(
            Lot {
                order: vec![2, 0, 1]
            }
            .places(3),
            Ok(vec![1, 2, 0])
        );
        assert!(
            Lot {
                order: vec![0, 0, 1]
            }
            .places(3)
            .is_err()
        );
        assert!(Lot { order: vec![0, 1] }.places(3).is_err());
        assert!(
            Lot {
                order: vec![0, 1, 3]
            }
            .places(3)
            .is_err()
        );
    }

    #[test]
    fn ties_look_back_then_draw_lots() {
        let history = vec![vec![5, 3, 3], vec![4, 4, 4], vec![6, 6, 6]];
        let lot = Lot::listed(3).places(3).unwrap();
        // Fewest: at round 2 all equal, at round 1 candidates 1 and 2 have 3 < 5.
        let (c, tie) = break_tie(vec![0, 1, 2], &history, Pick::Fewest, &lot);
        assert_eq!(c, 2);
        assert_eq!(
            tie.broken_by,
            vec![TieBreak::EarlierRound { round: 1 }, TieBreak::Lot]
        );
        let (c, tie) = break_tie(vec![0, 1, 2], &history, Pick::Most, &lot);
        assert_eq!(c, 0);
        assert_eq!(tie.broken_by, vec![TieBreak::EarlierRound { round: 1 }]);
        let (c, _) = break_tie(vec![1, 2], &history, Pick::Most, &lot);
        assert_eq!(c, 1);
    }

    #[test]
    fn the_ballot_count_is_bounded() {
        let many = vec![
            Counted {
                count: MAX_BALLOTS,
                ballot: (),
            },
            Counted::one(()),
        ];
        assert!(total_count(&many).is_err());
        assert_eq!(total_count(&many[..1]), Ok(MAX_BALLOTS));
        assert!(check_candidates(0).is_err());
        assert!(check_candidates(MAX_CANDIDATES + 1).is_err());
    }
}
