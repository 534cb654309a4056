//! Properties of the counts on random ballots: they never panic, even on invalid
//! ballots; they are deterministic; their results survive JSON; STV fills every seat
//! and every stage adds up; Schulze elects the Condorcet winner when there is one;
//! instant-runoff elects a candidate with a majority of first preferences.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use scrutin_election::count::{
    Counted, GradedBallot, Lot, RankedBallot, irv, majority_judgment, schulze, stv,
};

/// A strict ranking of a prefix of a random order of `m` candidates.
fn strict(m: usize) -> impl Strategy<Value = RankedBallot> {
    (Just((0..m).collect::<Vec<usize>>()).prop_shuffle(), 1..=m).prop_map(move |(order, k)| {
        let mut ranks = vec![None; m];
        for (r, c) in order.into_iter().take(k).enumerate() {
            ranks[c] = Some(r as u32 + 1);
        }
        ranks
    })
}

/// Anything of the right length or not: ranks out of range, gaps, ties, blanks.
fn arbitrary(m: usize) -> impl Strategy<Value = RankedBallot> {
    prop::collection::vec(
        prop::option::of(0u32..=(m as u32 + 1)),
        m.saturating_sub(1)..=m + 1,
    )
}

fn counted<B: std::fmt::Debug + Clone>(
    b: impl Strategy<Value = B>,
) -> impl Strategy<Value = Vec<Counted<B>>> {
    prop::collection::vec(
        (1u64..5, b).prop_map(|(count, ballot)| Counted { count, ballot }),
        0..40,
    )
}

fn election(valid_only: bool) -> impl Strategy<Value = (usize, Vec<Counted<RankedBallot>>)> {
    (2usize..7).prop_flat_map(move |m| {
        let ballots = if valid_only {
            counted(strict(m)).boxed()
        } else {
            counted(prop_oneof![strict(m), arbitrary(m)]).boxed()
        };
        (Just(m), ballots)
    })
}

fn json_round_trip<
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
>(
    value: &T,
) {
    let text = serde_json::to_string(value).unwrap();
    assert_eq!(&serde_json::from_str::<T>(&text).unwrap(), value);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn ranked_counts_are_total_and_deterministic((m, ballots) in election(false), seats in 1usize..6) {
        let s = schulze::count(m, &ballots).unwrap();
        prop_assert_eq!(&s, &schulze::count(m, &ballots).unwrap());
        prop_assert_eq!(s.order.iter().map(Vec::len).sum::<usize>(), m);
        json_round_trip(&s);

        let i = irv::count(m, &ballots, &Lot::listed(m)).unwrap();
        prop_assert_eq!(&i, &irv::count(m, &ballots, &Lot::listed(m)).unwrap());
        prop_assert!((i.elected as usize) < m);
        json_round_trip(&i);

        let seats = seats.min(m - 1);
        let r = stv::count(m, seats, &ballots, &Lot::listed(m)).unwrap();
        prop_assert_eq!(&r, &stv::count(m, seats, &ballots, &Lot::listed(m)).unwrap());
        json_round_trip(&r);

        let all: u64 = ballots.iter().map(|b| b.count).sum();
        let invalid: u64 = r.invalid.iter().map(|b| b.count).sum();
        prop_assert_eq!(r.valid_ballots + invalid, all);
        prop_assert_eq!(s.valid_ballots, all - s.invalid.iter().map(|b| b.count).sum::<u64>());
    }

    #[test]
    fn stv_fills_every_seat_and_every_stage_adds_up((m, ballots) in election(true), seats in 1usize..6) {
        let seats = seats.min(m - 1);
        let reversed = Lot { order: (0..m as u32).rev().collect() };
        let r = stv::count(m, seats, &ballots, &reversed).unwrap();
        prop_assert_eq!(r.elected.len(), seats);
        let mut distinct = r.elected.clone();
        distinct.sort_unstable();
        distinct.dedup();
        prop_assert_eq!(distinct.len(), seats);
        for s in &r.stages {
            let sum: u64 = s.votes.iter().map(|v| v.0).sum::<u64>()
                + s.non_transferable.0
                + s.truncation_loss.0;
            prop_assert_eq!(sum, r.valid_ballots * stv::UNITS_PER_VOTE);
        }
        for c in &r.elected {
            prop_assert_eq!(r.stages.last().unwrap().status[*c as usize], stv::Status::Elected);
        }
    }

    #[test]
    fn schulze_elects_the_condorcet_winner((m, ballots) in election(true)) {
        let s = schulze::count(m, &ballots).unwrap();
        let d = &s.pairwise;
        let condorcet = (0..m).find(|&c| (0..m).all(|o| o == c || d[c][o] > d[o][c]));
        if let Some(c) = condorcet {
            prop_assert_eq!(s.winners(), &[c as u32][..]);
        }
    }

    #[test]
    fn irv_elects_a_first_preference_majority((m, ballots) in election(true)) {
        let i = irv::count(m, &ballots, &Lot::listed(m)).unwrap();
        let first = i.rounds[0].votes.clone();
        let total: u64 = first.iter().flatten().sum();
        if let Some(c) = (0..m).find(|&c| first[c].unwrap_or(0) * 2 > total) {
            prop_assert_eq!(i.elected, c as u32);
            prop_assert_eq!(i.rounds.len(), 1);
        }
    }

    #[test]
    fn majority_judgment_is_total_and_deterministic(
        (m, grades, ballots) in (1usize..6, 2u32..8).prop_flat_map(|(m, g)| {
            let ballot = prop::collection::vec(0u32..=g, m.saturating_sub(1)..=m + 1);
            (Just(m), Just(g), counted::<GradedBallot>(ballot))
        })
    ) {
        let r = majority_judgment::count(m, grades, &ballots).unwrap();
        prop_assert_eq!(&r, &majority_judgment::count(m, grades, &ballots).unwrap());
        prop_assert_eq!(r.order.iter().map(Vec::len).sum::<usize>(), m);
        prop_assert_eq!(r.separations.len(), r.order.len() - 1);
        // A group never ranks below a group with a lower majority grade.
        for pair in r.order.windows(2) {
            let (a, b) = (pair[0][0] as usize, pair[1][0] as usize);
            prop_assert!(r.majority_grades[a] >= r.majority_grades[b]);
        }
        json_round_trip(&r);
    }
}
