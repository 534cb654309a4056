//! The single transferable vote as counted at Scottish local government elections:
//! **The Scottish Local Government Elections Order 2007 (SSI 2007/42), Schedule 1,
//! rules 45–52** (the same rules were kept, renumbered 46–53, in SSI 2011/399).
//!
//! * **First stage (rule 45).** Each valid ballot paper is credited to its first
//!   preference at value 1.
//! * **Quota (rule 46).** `floor(valid papers / (seats + 1)) + 1`.
//! * **Election (rule 47).** At the end of any stage, a continuing candidate whose votes
//!   equal or exceed the quota is deemed elected. Candidates elected at the same stage
//!   are listed by decreasing votes (then increasing index; the order affects nothing).
//! * **Surplus (rule 48).** When an elected candidate's votes exceed the quota and
//!   vacancies remain, **all** the papers the candidate holds are transferred to their
//!   next preference for a continuing candidate, each at the transfer value
//!   `surplus × value of the paper ÷ votes of the candidate`, calculated to five
//!   decimal places with any remainder ignored (48(3)); the candidate keeps the quota.
//!   Papers with no next preference are non-transferable.
//! * **Order of surpluses (rule 49).** The largest surplus is transferred first, one
//!   per stage. Equal surpluses: the candidate with more votes at the most recent
//!   preceding stage at which they differed goes first (49(2)); equal at all stages:
//!   by lot (49(3)).
//! * **Exclusion (rule 50).** When no surplus remains to be transferred, the continuing
//!   candidate with the fewest votes is excluded and all its papers are transferred,
//!   one stage, each at the value at which the candidate received it (50(4)).
//! * **Ties for exclusion (rule 51).** The candidate with fewer votes at the most
//!   recent preceding stage at which the tied candidates had unequal votes is
//!   excluded; equal at all stages: by lot.
//! * **Last vacancies (rule 52).** When the continuing candidates are as many as the
//!   vacancies left, they are all deemed elected and no further transfer is made.
//!
//! **Arithmetic.** Votes and transfer values are exact integers in units of 1/100 000
//! of a vote ([`Votes`]): a paper's value is an integer number of units, a transfer
//! value is `floor(surplus × value / votes)` in integer arithmetic (which is 48(3)'s
//! "five decimal places, any remainder being ignored"), and a candidate is credited
//! with the exact sum of the values of the papers it receives. The value lost to
//! truncation at each surplus transfer is reported, so that at every stage the votes
//! of the candidates, the non-transferable votes and the loss add up to the valid
//! papers.
//!
//! **Lot.** "By lot" is the [`Lot`] order fixed before the count: for surpluses, the
//! tied candidate earliest in it goes first; for exclusion, the tied candidate latest
//! in it is excluded. A stage that used it says so in its [`Tie`].
//!
//! **Ballots.** Rankings are strict (no equal ranks); a ranking may stop at any point.

use core::fmt;

use serde::{Deserialize, Serialize};

use super::{
    CountError, Counted, InvalidBallot, Lot, Pick, RankedBallot, Tie, break_tie, check_candidates,
    index_u32, strict_preferences, total_count,
};

/// Units of a vote: values are integers in 1/100 000 of a vote (rule 48(3)).
pub const UNITS_PER_VOTE: u64 = 100_000;

/// An amount of votes, exact, in units of 1/100 000. Written in JSON as a decimal string
/// with exactly five decimals (`"1300.00000"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Votes(pub u64);

impl Votes {
    /// `n` whole votes.
    pub fn whole(n: u64) -> Self {
        Votes(n.saturating_mul(UNITS_PER_VOTE))
    }
}

impl fmt::Display for Votes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:05}",
            self.0 / UNITS_PER_VOTE,
            self.0 % UNITS_PER_VOTE
        )
    }
}

impl core::str::FromStr for Votes {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a number of votes with five decimals");
        let (whole, frac) = s.split_once('.').ok_or_else(bad)?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole)
            || frac.len() != 5
            || !digits(frac)
            || (whole.len() > 1 && whole.starts_with('0'))
        {
            return Err(bad());
        }
        let whole: u64 = whole.parse().map_err(|_| bad())?;
        let frac: u64 = frac.parse().map_err(|_| bad())?;
        whole
            .checked_mul(UNITS_PER_VOTE)
            .and_then(|w| w.checked_add(frac))
            .map(Votes)
            .ok_or_else(bad)
    }
}

impl Serialize for Votes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Votes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A candidate's state at the end of a stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Neither elected nor excluded.
    Continuing,
    /// Deemed elected (rule 47 or 52).
    Elected,
    /// Excluded (rule 50).
    Excluded,
}

/// The transfer value given to the papers a surplus transfer moved, for papers of one
/// value (rule 48(3)–(4)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferValue {
    /// The value of the papers when the transferring candidate received them.
    pub received_at: Votes,
    /// Their transfer value.
    pub value: Votes,
    /// How many papers.
    pub papers: u64,
}

/// What a stage did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action", deny_unknown_fields)]
pub enum StageAction {
    /// First preferences counted (rule 45).
    FirstPreferences,
    /// `candidate`'s surplus transferred (rules 48–49).
    Surplus {
        candidate: u32,
        surplus: Votes,
        transfer_values: Vec<TransferValue>,
        /// How a tie for the largest surplus was broken, if there was one.
        tie: Option<Tie>,
    },
    /// `candidate` excluded and its papers transferred (rules 50–51).
    Exclusion {
        candidate: u32,
        /// How a tie for the fewest votes was broken, if there was one.
        tie: Option<Tie>,
    },
}

/// One stage of the count, as at its end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// What the stage did.
    pub action: StageAction,
    /// Votes credited to each candidate at the end of the stage.
    pub votes: Vec<Votes>,
    /// Each candidate's state at the end of the stage.
    pub status: Vec<Status>,
    /// Non-transferable votes so far.
    pub non_transferable: Votes,
    /// Value lost so far by truncating transfer values to five decimals.
    pub truncation_loss: Votes,
    /// Candidates deemed elected at the end of this stage, in order.
    pub elected: Vec<u32>,
}

/// The result of a Scottish STV count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StvResult {
    /// Number of candidates.
    pub candidates: u32,
    /// Seats to fill.
    pub seats: u32,
    /// Valid ballot papers (rule 45(3)).
    pub valid_ballots: u64,
    /// Invalid ballots, each with its fault.
    pub invalid: Vec<InvalidBallot>,
    /// The quota (rule 46).
    pub quota: Votes,
    /// The lot order used where the rules say "by lot".
    pub lot: Lot,
    /// Every stage, the first one counting first preferences.
    pub stages: Vec<Stage>,
    /// The elected candidates in the order they were deemed elected.
    pub elected: Vec<u32>,
}

/// Papers with the same preferences that have travelled together: they always share a
/// holder and a value.
struct Parcel {
    preferences: Vec<u32>,
    papers: u64,
    /// Value of each paper, in units.
    value: u64,
    /// Position in `preferences` of the candidate holding the parcel; `None` once
    /// non-transferable.
    at: Option<usize>,
}

struct Count {
    m: usize,
    quota: u64,
    seats: usize,
    lot_places: Vec<usize>,
    parcels: Vec<Parcel>,
    votes: Vec<u64>,
    status: Vec<Status>,
    /// Elected candidates whose surplus has not been transferred yet.
    pending: Vec<u32>,
    non_transferable: u64,
    truncation_loss: u64,
    elected: Vec<u32>,
    history: Vec<Vec<u64>>,
    stages: Vec<Stage>,
}

impl Count {
    fn status_of(&self, c: u32) -> Status {
        self.status
            .get(c as usize)
            .copied()
            .unwrap_or(Status::Excluded)
    }

    fn votes_of(&self, c: u32) -> u64 {
        self.votes.get(c as usize).copied().unwrap_or(0)
    }

    fn continuing(&self) -> Vec<u32> {
        (0..self.m)
            .map(index_u32)
            .filter(|&c| self.status_of(c) == Status::Continuing)
            .collect()
    }

    /// Moves parcel `i` to its next preference for a continuing candidate, or makes
    /// it non-transferable (rules 48(1), 50(2)).
    fn advance(&mut self, i: usize, start: usize) {
        let next = self.parcels.get(i).and_then(|p| {
            p.preferences
                .iter()
                .enumerate()
                .skip(start)
                .find(|(_, c)| self.status.get(**c as usize).copied() == Some(Status::Continuing))
                .map(|(at, c)| (at, *c))
        });
        let Some(p) = self.parcels.get_mut(i) else {
            return;
        };
        let amount = p.papers * p.value;
        match next {
            Some((at, c)) => {
                p.at = Some(at);
                if let Some(v) = self.votes.get_mut(c as usize) {
                    *v += amount;
                }
            }
            None => {
                p.at = None;
                self.non_transferable += amount;
            }
        }
    }

    fn holder(&self, p: &Parcel) -> Option<u32> {
        p.at.and_then(|at| p.preferences.get(at)).copied()
    }

    /// Rule 47: elect every continuing candidate at or above the quota; then rule 52.
    fn elect_and_record(&mut self, action: StageAction) {
        let mut reached: Vec<u32> = self
            .continuing()
            .into_iter()
            .filter(|&c| self.votes_of(c) >= self.quota)
            .collect();
        reached.sort_by_key(|&c| (core::cmp::Reverse(self.votes_of(c)), c));
        let mut newly = Vec::new();
        for c in reached {
            if self.elected.len() >= self.seats {
                break;
            }
            self.set_status(c, Status::Elected);
            if self.votes_of(c) > self.quota {
                self.pending.push(c);
            }
            self.elected.push(c);
            newly.push(c);
        }
        // Rule 52: as many continuing candidates as vacancies left.
        let continuing = self.continuing();
        let left = self.seats - self.elected.len();
        if left > 0 && continuing.len() <= left {
            for c in continuing {
                self.set_status(c, Status::Elected);
                self.elected.push(c);
                newly.push(c);
            }
        }
        self.history.push(self.votes.clone());
        self.stages.push(Stage {
            action,
            votes: self.votes.iter().map(|v| Votes(*v)).collect(),
            status: self.status.clone(),
            non_transferable: Votes(self.non_transferable),
            truncation_loss: Votes(self.truncation_loss),
            elected: newly,
        });
    }

    fn set_status(&mut self, c: u32, s: Status) {
        if let Some(slot) = self.status.get_mut(c as usize) {
            *slot = s;
        }
    }

    /// Rules 48–49: transfers the largest pending surplus.
    fn transfer_surplus(&mut self) {
        let largest = self
            .pending
            .iter()
            .map(|&c| self.votes_of(c))
            .max()
            .unwrap_or(0);
        let mut tied: Vec<u32> = self
            .pending
            .iter()
            .copied()
            .filter(|&c| self.votes_of(c) == largest)
            .collect();
        tied.sort_unstable();
        let history = self.history.split_last().map(|(_, h)| h).unwrap_or(&[]);
        let (candidate, tie) = if tied.len() > 1 {
            let (c, tie) = break_tie(tied, history, Pick::Most, &self.lot_places);
            (c, Some(tie))
        } else {
            (tied.first().copied().unwrap_or(0), None)
        };
        self.pending.retain(|&c| c != candidate);
        let total = self.votes_of(candidate);
        let surplus = total.saturating_sub(self.quota);
        let mut values: Vec<TransferValue> = Vec::new();
        let mut credited = 0u64;
        let held: Vec<usize> = (0..self.parcels.len())
            .filter(|&i| {
                self.parcels
                    .get(i)
                    .is_some_and(|p| self.holder(p) == Some(candidate))
            })
            .collect();
        for i in held {
            let Some(p) = self.parcels.get_mut(i) else {
                continue;
            };
            let received_at = p.value;
            // 48(3): surplus × value ÷ votes, to five decimals, remainder ignored.
            let value = u64::try_from(
                u128::from(surplus) * u128::from(received_at) / u128::from(total.max(1)),
            )
            .unwrap_or(0);
            p.value = value;
            credited += p.papers * value;
            match values.iter_mut().find(|t| t.received_at.0 == received_at) {
                Some(t) => t.papers += p.papers,
                None => values.push(TransferValue {
                    received_at: Votes(received_at),
                    value: Votes(value),
                    papers: p.papers,
                }),
            }
            let start = p.at.map_or(0, |at| at + 1);
            self.advance(i, start);
        }
        values.sort_by_key(|t| core::cmp::Reverse(t.received_at));
        self.truncation_loss += surplus.saturating_sub(credited);
        if let Some(v) = self.votes.get_mut(candidate as usize) {
            *v = self.quota;
        }
        self.elect_and_record(StageAction::Surplus {
            candidate,
            surplus: Votes(surplus),
            transfer_values: values,
            tie,
        });
    }

    /// Rules 50–51: excludes the continuing candidate with the fewest votes.
    fn exclude(&mut self) {
        let continuing = self.continuing();
        let fewest = continuing
            .iter()
            .map(|&c| self.votes_of(c))
            .min()
            .unwrap_or(0);
        let tied: Vec<u32> = continuing
            .into_iter()
            .filter(|&c| self.votes_of(c) == fewest)
            .collect();
        let history = self.history.split_last().map(|(_, h)| h).unwrap_or(&[]);
        let (candidate, tie) = if tied.len() > 1 {
            let (c, tie) = break_tie(tied, history, Pick::Fewest, &self.lot_places);
            (c, Some(tie))
        } else {
            (tied.first().copied().unwrap_or(0), None)
        };
        self.set_status(candidate, Status::Excluded);
        let held: Vec<usize> = (0..self.parcels.len())
            .filter(|&i| {
                self.parcels
                    .get(i)
                    .is_some_and(|p| self.holder(p) == Some(candidate))
            })
            .collect();
        for i in held {
            // 50(4): at the value at which the excluded candidate received the paper.
            let start = self
                .parcels
                .get(i)
                .and_then(|p| p.at)
                .map_or(0, |at| at + 1);
            self.advance(i, start);
        }
        if let Some(v) = self.votes.get_mut(candidate as usize) {
            *v = 0;
        }
        self.elect_and_record(StageAction::Exclusion { candidate, tie });
    }
}

/// Counts ranked ballots (ties forbidden) for `candidates` candidates and `seats`
/// seats under rules 45–52 of SSI 2007/42.
pub fn count(
    candidates: usize,
    seats: usize,
    ballots: &[Counted<RankedBallot>],
    lot: &Lot,
) -> Result<StvResult, CountError> {
    check_candidates(candidates)?;
    if seats == 0 || seats >= candidates {
        return Err(CountError::Seats { seats, candidates });
    }
    total_count(ballots)?;
    let lot_places = lot.places(candidates)?;
    let m = candidates;
    let (valid, invalid) = strict_preferences(m, ballots);
    let valid_ballots: u64 = valid.iter().map(|b| b.count).sum();
    // Rule 46.
    let quota = (valid_ballots / (seats as u64 + 1) + 1) * UNITS_PER_VOTE;
    let mut count = Count {
        m,
        quota,
        seats,
        lot_places,
        parcels: valid
            .into_iter()
            .map(|b| Parcel {
                preferences: b.ballot,
                papers: b.count,
                value: UNITS_PER_VOTE,
                at: None,
            })
            .collect(),
        votes: vec![0; m],
        status: vec![Status::Continuing; m],
        pending: Vec::new(),
        non_transferable: 0,
        truncation_loss: 0,
        elected: Vec::new(),
        history: Vec::new(),
        stages: Vec::new(),
    };
    // Rule 45: first preferences.
    for i in 0..count.parcels.len() {
        count.advance(i, 0);
    }
    count.elect_and_record(StageAction::FirstPreferences);
    while count.elected.len() < seats {
        if count.pending.is_empty() {
            count.exclude();
        } else {
            count.transfer_surplus();
        }
    }
    Ok(StvResult {
        candidates: index_u32(m),
        seats: index_u32(seats),
        valid_ballots,
        invalid,
        quota: Votes(quota),
        lot: lot.clone(),
        stages: count.stages,
        elected: count.elected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn votes_are_written_with_five_decimals() {
        assert_eq!(Votes(130_000_000).to_string(), "1300.00000");
        assert_eq!(Votes(15_862_549).to_string(), "158.62549");
        assert_eq!("158.62549".parse::<Votes>(), Ok(Votes(15_862_549)));
        for bad in [
            "158.6255", "158", ".12345", "01.00000", "-1.00000", "1.0000x",
        ] {
            assert!(bad.parse::<Votes>().is_err(), "{bad}");
        }
        let json = serde_json::to_string(&Votes(1)).unwrap();
        assert_eq!(json, "\"0.00001\"");
    }

    /// Hand-worked: 3 candidates, 2 seats, 10 papers: A 6 (A > B), B 1, C 3.
    /// Quota floor(10/3) + 1 = 4. A elected at stage 1 with surplus 2: its 6 papers
    /// go to B at 2 × 1 / 6 = 0.33333 each (48(3)), B gets 1.99998, loss 0.00002.
    /// B has 2.99998 < C's 3: B is excluded, its 6 transferred papers are
    /// non-transferable (no preference after B) and its own paper too, and C, the only
    /// continuing candidate for the last seat, is elected (rule 52).
    #[test]
    fn hand_worked_surplus_and_last_vacancy() {
        let ballots = vec![
            ranked(3, 6, &[0, 1]),
            ranked(3, 1, &[1]),
            ranked(3, 3, &[2]),
        ];
        let r = count(3, 2, &ballots, &Lot::listed(3)).unwrap();
        assert_eq!(r.quota, Votes::whole(4));
        assert_eq!(r.stages[0].elected, vec![0]);
        let StageAction::Surplus {
            candidate,
            surplus,
            transfer_values,
            tie,
        } = &r.stages[1].action
        else {
            panic!("stage 2 transfers A's surplus")
        };
        assert_eq!((*candidate, *surplus, tie), (0, Votes::whole(2), &None));
        assert_eq!(
            transfer_values,
            &vec![TransferValue {
                received_at: Votes::whole(1),
                value: Votes(33_333),
                papers: 6
            }]
        );
        assert_eq!(
            r.stages[1].votes,
            vec![Votes::whole(4), Votes(299_998), Votes::whole(3)]
        );
        assert_eq!(r.stages[1].truncation_loss, Votes(2));
        assert!(matches!(
            r.stages[2].action,
            StageAction::Exclusion {
                candidate: 1,
                tie: None
            }
        ));
        assert_eq!(r.stages[2].non_transferable, Votes(299_998));
        assert_eq!(r.stages[2].elected, vec![2]);
        assert_eq!(r.elected, vec![0, 2]);
        assert_eq!(r.stages.len(), 3);
    }

    #[test]
    fn every_stage_adds_up() {
        let ballots = vec![
            ranked(5, 40, &[0, 1, 2]),
            ranked(5, 25, &[1, 0, 3]),
            ranked(5, 17, &[2, 4]),
            ranked(5, 9, &[3, 2, 1]),
            ranked(5, 11, &[4, 0]),
            ranked(5, 3, &[4]),
        ];
        let r = count(5, 3, &ballots, &Lot::listed(5)).unwrap();
        for s in &r.stages {
            let sum: u64 = s.votes.iter().map(|v| v.0).sum::<u64>()
                + s.non_transferable.0
                + s.truncation_loss.0;
            assert_eq!(sum, r.valid_ballots * UNITS_PER_VOTE);
        }
        assert_eq!(r.elected.len(), 3);
    }

    #[test]
    fn seats_are_bounded() {
        let b = vec![ranked(3, 1, &[0])];
        assert!(count(3, 0, &b, &Lot::listed(3)).is_err());
        assert!(count(3, 3, &b, &Lot::listed(3)).is_err());
        assert!(count(3, 2, &b, &Lot::listed(2)).is_err());
    }

    #[test]
    fn equal_surpluses_and_equal_exclusions_use_the_lot() {
        // Hand-worked, 3 seats, 16 papers: A 6 (A > C), B 6 (B > D), C 2, D 1, E 1.
        // Quota floor(16/4) + 1 = 5. A and B are elected at stage 1 with equal surpluses
        // of 1 and no earlier stage: by lot, A (earlier in the order) goes first; its
        // papers go to C at 1 × 1 / 6 = 0.16666 (stage 2); then B's go to D (stage 3).
        // E (1) is excluded (stage 4), then D (1.99996, stage 5), and C is left alone
        // for the last seat (rule 52).
        let ballots = vec![
            ranked(5, 6, &[0, 2]),
            ranked(5, 6, &[1, 3]),
            ranked(5, 2, &[2]),
            ranked(5, 1, &[3]),
            ranked(5, 1, &[4]),
        ];
        let r = count(5, 3, &ballots, &Lot::listed(5)).unwrap();
        assert_eq!(r.stages[0].elected, vec![0, 1]);
        let StageAction::Surplus { candidate, tie, .. } = &r.stages[1].action else {
            panic!("stage 2 transfers a surplus")
        };
        assert_eq!(*candidate, 0);
        assert_eq!(
            tie.as_ref().unwrap().broken_by,
            vec![crate::count::TieBreak::Lot]
        );
        assert_eq!(r.stages[1].votes[2], Votes(299_996));
        assert!(matches!(
            r.stages[2].action,
            StageAction::Surplus {
                candidate: 1,
                tie: None,
                ..
            }
        ));
        assert!(matches!(
            r.stages[3].action,
            StageAction::Exclusion {
                candidate: 4,
                tie: None
            }
        ));
        assert!(matches!(
            r.stages[4].action,
            StageAction::Exclusion {
                candidate: 3,
                tie: None
            }
        ));
        assert_eq!(r.stages[4].elected, vec![2]);
        assert_eq!(r.elected, vec![0, 1, 2]);
        // The reversed lot transfers B's surplus first.
        let reversed = Lot {
            order: vec![4, 3, 2, 1, 0],
        };
        let r = count(5, 3, &ballots, &reversed).unwrap();
        assert!(matches!(
            r.stages[1].action,
            StageAction::Surplus { candidate: 1, .. }
        ));
        // One seat, A 2, B 2, C 1, D 1 (quota 4): C and D tied at stage 1, D is later
        // in the lot order and is excluded first.
        let ballots = vec![
            ranked(4, 2, &[0]),
            ranked(4, 2, &[1]),
            ranked(4, 1, &[2]),
            ranked(4, 1, &[3]),
        ];
        let r = count(4, 1, &ballots, &Lot::listed(4)).unwrap();
        let StageAction::Exclusion { candidate, tie } = &r.stages[1].action else {
            panic!("stage 2 is an exclusion")
        };
        assert_eq!(*candidate, 3);
        assert_eq!(
            tie.as_ref().unwrap().broken_by,
            vec![crate::count::TieBreak::Lot]
        );
    }
}
