//! Instant-runoff voting for one seat.
//!
//! Ballots rank candidates strictly (no equal ranks); a ballot need not rank everyone.
//! Each round:
//!
//! 1. Every valid ballot counts for its highest-ranked continuing candidate; a ballot
//!    with no continuing candidate left is **exhausted** and counts for no one.
//! 2. If one continuing candidate has more than half of the votes of the continuing
//!    candidates (exhausted ballots not included), or is the only one left, that
//!    candidate is **elected** and the count ends.
//! 3. Otherwise the continuing candidate with the fewest votes is **eliminated**. A tie
//!    for fewest is broken by looking back at earlier rounds, most recent first: at the
//!    first earlier round where the tied candidates' votes differ, those with the
//!    fewest votes there stay tied and the others are safe; this repeats on earlier
//!    rounds until one is left. If earlier rounds cannot separate them, the [`Lot`]
//!    decides: the tied candidate that comes last in the lot order is eliminated. The
//!    round reports the tie and each step that broke it.

use serde::{Deserialize, Serialize};

use super::{
    CountError, Counted, InvalidBallot, Lot, Pick, RankedBallot, Tie, break_tie, check_candidates,
    index_u32, strict_preferences, total_count,
};

/// The result of an instant-runoff count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IrvResult {
    /// Number of candidates.
    pub candidates: u32,
    /// Valid ballots counted.
    pub valid_ballots: u64,
    /// Invalid ballots, each with its fault.
    pub invalid: Vec<InvalidBallot>,
    /// The lot order used if earlier rounds could not break a tie.
    pub lot: Lot,
    /// The rounds, the first one counting first preferences.
    pub rounds: Vec<IrvRound>,
    /// The elected candidate.
    pub elected: u32,
}

/// One round of the count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IrvRound {
    /// Votes of each candidate in this round; `None` once eliminated.
    pub votes: Vec<Option<u64>>,
    /// Ballots exhausted so far (they count for no continuing candidate).
    pub exhausted: u64,
    /// What the round decided.
    pub outcome: IrvOutcome,
}

/// What a round decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action", deny_unknown_fields)]
pub enum IrvOutcome {
    /// `candidate` has more than half of the continuing votes.
    ElectedByMajority { candidate: u32 },
    /// `candidate` is the only continuing candidate left.
    ElectedAsLastContinuing { candidate: u32 },
    /// `candidate` has the fewest votes and is eliminated; `tie` says how a tie for
    /// fewest was broken, if there was one.
    Eliminated { candidate: u32, tie: Option<Tie> },
}

/// Counts ranked ballots (ties forbidden) for `candidates` candidates, one seat.
pub fn count(
    candidates: usize,
    ballots: &[Counted<RankedBallot>],
    lot: &Lot,
) -> Result<IrvResult, CountError> {
    check_candidates(candidates)?;
    total_count(ballots)?;
    let lot_places = lot.places(candidates)?;
    let m = candidates;
    let (valid, invalid) = strict_preferences(m, ballots);
    let valid_ballots: u64 = valid.iter().map(|b| b.count).sum();

    let mut continuing = vec![true; m];
    // For each ballot, the position in its preference list of the candidate it counts
    // for; it only moves forward.
    let mut cursor = vec![0usize; valid.len()];
    let mut history: Vec<Vec<u64>> = Vec::new();
    let mut rounds = Vec::new();
    loop {
        let mut votes = vec![0u64; m];
        let mut exhausted = 0u64;
        for (b, at) in valid.iter().zip(cursor.iter_mut()) {
            while b
                .ballot
                .get(*at)
                .is_some_and(|&c| !continuing.get(c as usize).copied().unwrap_or(false))
            {
                *at += 1;
            }
            match b.ballot.get(*at).and_then(|&c| votes.get_mut(c as usize)) {
                Some(v) => *v += b.count,
                None => exhausted += b.count,
            }
        }
        let shown: Vec<Option<u64>> = votes
            .iter()
            .zip(&continuing)
            .map(|(v, c)| c.then_some(*v))
            .collect();
        let total: u64 = votes.iter().sum();
        let alive: Vec<u32> = (0..m)
            .filter(|&c| continuing.get(c).copied().unwrap_or(false))
            .map(index_u32)
            .collect();
        let get = |c: u32| votes.get(c as usize).copied().unwrap_or(0);
        let leader = alive.iter().copied().find(|&c| get(c) > total - get(c));
        let outcome = match (leader, alive.as_slice()) {
            (Some(c), _) => IrvOutcome::ElectedByMajority { candidate: c },
            (None, [only]) => IrvOutcome::ElectedAsLastContinuing { candidate: *only },
            (None, _) => {
                let fewest = alive.iter().map(|&c| get(c)).min().unwrap_or(0);
                let tied: Vec<u32> = alive
                    .iter()
                    .copied()
                    .filter(|&c| get(c) == fewest)
                    .collect();
                let (loser, tie) = if tied.len() > 1 {
                    let (c, tie) = break_tie(tied, &history, Pick::Fewest, &lot_places);
                    (c, Some(tie))
                } else {
                    (tied.first().copied().unwrap_or(0), None)
                };
                if let Some(flag) = continuing.get_mut(loser as usize) {
                    *flag = false;
                }
                IrvOutcome::Eliminated {
                    candidate: loser,
                    tie,
                }
            }
        };
        let elected = match outcome {
            IrvOutcome::ElectedByMajority { candidate }
            | IrvOutcome::ElectedAsLastContinuing { candidate } => Some(candidate),
            IrvOutcome::Eliminated { .. } => None,
        };
        history.push(votes);
        rounds.push(IrvRound {
            votes: shown,
            exhausted,
            outcome,
        });
        if let Some(elected) = elected {
            return Ok(IrvResult {
                candidates: index_u32(m),
                valid_ballots,
                invalid,
                lot: lot.clone(),
                rounds,
                elected,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::count::TieBreak;

    fn ranked(m: usize, count: u64, order: &[usize]) -> Counted<RankedBallot> {
        let mut ranks = vec![None; m];
        for (r, &c) in order.iter().enumerate() {
            ranks[c] = Some(r as u32 + 1);
        }
        Counted {
            count,
            ballot: ranks,
        }
    }

    /// The Tennessee capital example of Wikipedia's "Instant-runoff voting" article
    /// (percentages as voters): Memphis 42 (M > N > C > K), Nashville 26 (N > C > K > M),
    /// Chattanooga 15 (C > K > N > M), Knoxville 17 (K > C > N > M). Chattanooga is
    /// eliminated first, then Nashville; Knoxville wins with 58 against 42.
    #[test]
    fn tennessee_capital() {
        let (m, n, c, k) = (0, 1, 2, 3);
        let ballots = vec![
            ranked(4, 42, &[m, n, c, k]),
            ranked(4, 26, &[n, c, k, m]),
            ranked(4, 15, &[c, k, n, m]),
            ranked(4, 17, &[k, c, n, m]),
        ];
        let r = count(4, &ballots, &Lot::listed(4)).unwrap();
        assert_eq!(r.rounds.len(), 3);
        assert_eq!(
            r.rounds[0].votes,
            vec![Some(42), Some(26), Some(15), Some(17)]
        );
        assert_eq!(
            r.rounds[0].outcome,
            IrvOutcome::Eliminated {
                candidate: c as u32,
                tie: None
            }
        );
        assert_eq!(r.rounds[1].votes, vec![Some(42), Some(26), None, Some(32)]);
        assert_eq!(r.rounds[2].votes, vec![Some(42), None, None, Some(58)]);
        assert_eq!(
            r.rounds[2].outcome,
            IrvOutcome::ElectedByMajority {
                candidate: k as u32
            }
        );
        assert_eq!(r.elected, k as u32);
    }

    #[test]
    fn exhausted_ballots_leave_the_majority() {
        // A 4, B 3, C 2 (C only): C eliminated, its 2 ballots exhaust; A has 4 of 7.
        let ballots = vec![ranked(3, 4, &[0]), ranked(3, 3, &[1]), ranked(3, 2, &[2])];
        let r = count(3, &ballots, &Lot::listed(3)).unwrap();
        assert_eq!(r.rounds[1].exhausted, 2);
        assert_eq!(r.elected, 0);
    }

    #[test]
    fn ties_look_back_then_use_the_lot() {
        // Round 1: A 3, B 2, C 2, D 1 → D eliminated, its ballot goes to C.
        // Round 2: A 3, B 2, C 3 → B eliminated (fewest, no tie).
        let ballots = vec![
            ranked(4, 3, &[0]),
            ranked(4, 2, &[1]),
            ranked(4, 2, &[2]),
            ranked(4, 1, &[3, 2]),
        ];
        let r = count(4, &ballots, &Lot::listed(4)).unwrap();
        assert_eq!(
            r.rounds[1].outcome,
            IrvOutcome::Eliminated {
                candidate: 1,
                tie: None
            }
        );
        // A 2, B 2 then B's ballots exhaust... no earlier round: the lot eliminates the
        // later-listed candidate, then the reversed lot the other one.
        let two = vec![ranked(2, 2, &[0]), ranked(2, 2, &[1])];
        let r = count(2, &two, &Lot::listed(2)).unwrap();
        let IrvOutcome::Eliminated { candidate, tie } = &r.rounds[0].outcome else {
            panic!("expected an elimination")
        };
        assert_eq!(*candidate, 1);
        assert_eq!(tie.as_ref().unwrap().broken_by, vec![TieBreak::Lot]);
        assert_eq!(r.elected, 0);
        let reversed = Lot { order: vec![1, 0] };
        assert_eq!(count(2, &two, &reversed).unwrap().elected, 1);
        // Tie at round 2 broken by round 1: B and C have 3 each at round 2, B had 2 < 3
        // at round 1.
        let ballots = vec![
            ranked(4, 4, &[0]),
            ranked(4, 2, &[1]),
            ranked(4, 3, &[2]),
            ranked(4, 1, &[3, 1]),
        ];
        let r = count(4, &ballots, &Lot::listed(4)).unwrap();
        let IrvOutcome::Eliminated { candidate, tie } = &r.rounds[1].outcome else {
            panic!("expected an elimination")
        };
        assert_eq!(*candidate, 1);
        assert_eq!(
            tie.as_ref().unwrap().broken_by,
            vec![TieBreak::EarlierRound { round: 1 }]
        );
    }

    #[test]
    fn ties_in_ranks_are_invalid() {
        let ballots = vec![Counted::one(vec![Some(1), Some(1)]), ranked(2, 1, &[1, 0])];
        let r = count(2, &ballots, &Lot::listed(2)).unwrap();
        assert_eq!(r.invalid.len(), 1);
        assert_eq!(r.valid_ballots, 1);
        assert_eq!(r.elected, 1);
    }
}
