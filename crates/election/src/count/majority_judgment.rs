//! Majority judgment (Michel Balinski and Rida Laraki, *Majority Judgment: Measuring,
//! Ranking, and Electing*, MIT Press, 2011).
//!
//! Every voter gives every candidate a grade on a common scale, `0` (worst) to
//! `grades − 1` (best).
//!
//! * **Majority grade.** A candidate's majority grade is the *lower* middlemost of its
//!   `n` grades: sorted from worst to best, the grade at position `⌈n/2⌉` (counting
//!   from 1). At least half of the voters gave the candidate that grade or better, and
//!   at least half gave it that grade or worse.
//! * **Majority ranking.** Candidates are ranked by their *majority values*: the
//!   sequence of majority grades obtained by repeatedly removing one majority grade
//!   from the candidate's grades and taking the majority grade of what remains
//!   (Balinski & Laraki, ch. 13). The candidate whose sequence is larger at the first
//!   step where the two differ ranks higher; equal sequences (equal grade
//!   distributions) are a tie. This module implements this rule itself, not its
//!   "majority-gauge" approximation.
//!
//! Removing majority grades one at a time takes the sorted grades from the middle
//! outwards: with `c = ⌈n/2⌉`, the positions removed are `c, c+1, c−1, c+2, …` when `n`
//! is even and `c, c−1, c+1, c−2, …` when `n` is odd. Two candidates are compared by
//! finding the first such step where their grades differ, directly from the grade
//! counts (`O(grades)` per comparison, whatever the number of voters).
//!
//! **Reporting.** The order is given as groups of tied candidates (members in
//! increasing index); between consecutive groups, [`Separation`] says after how many
//! removals the first member of each group differed and with which grades: `removed =
//! 0` means their majority grades differ.

use serde::{Deserialize, Serialize};

use super::{
    CountError, Counted, GradedBallot, InvalidBallot, MAX_GRADES, check_candidates, index_u32,
    total_count, validate_graded,
};

/// The result of a majority judgment count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MajorityJudgmentResult {
    /// Number of candidates.
    pub candidates: u32,
    /// Number of grades of the scale.
    pub grades: u32,
    /// Valid ballots counted.
    pub valid_ballots: u64,
    /// Invalid ballots, each with its fault.
    pub invalid: Vec<InvalidBallot>,
    /// `distribution[c][g]`: voters who gave candidate `c` grade `g`.
    pub distribution: Vec<Vec<u64>>,
    /// Each candidate's majority grade (`None` when no valid ballot was cast).
    pub majority_grades: Vec<Option<u32>>,
    /// The order, best first, as groups of tied candidates.
    pub order: Vec<Vec<u32>>,
    /// Why each group ranks above the next: `separations[i]` separates `order[i]`
    /// from `order[i + 1]`.
    pub separations: Vec<Separation>,
}

/// How two candidates were separated: after `removed` majority grades were removed
/// from each, the next majority grade of `higher` was `higher_grade`, better than
/// `lower`'s `lower_grade`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Separation {
    pub higher: u32,
    pub lower: u32,
    pub removed: u64,
    pub higher_grade: u32,
    pub lower_grade: u32,
}

/// Counts graded ballots on a scale of `grades` grades for `candidates` candidates.
pub fn count(
    candidates: usize,
    grades: u32,
    ballots: &[Counted<GradedBallot>],
) -> Result<MajorityJudgmentResult, CountError> {
    check_candidates(candidates)?;
    if !(2..=MAX_GRADES).contains(&grades) {
        return Err(CountError::Grades {
            found: grades,
            max: MAX_GRADES,
        });
    }
    total_count(ballots)?;
    let scale = grades as usize;
    let mut distribution = vec![vec![0u64; scale]; candidates];
    let mut invalid = Vec::new();
    let mut valid_ballots = 0u64;
    for (position, b) in ballots.iter().enumerate() {
        if b.count == 0 {
            continue;
        }
        if let Err(fault) = validate_graded(&b.ballot, candidates, grades) {
            invalid.push(InvalidBallot {
                position: position as u64,
                count: b.count,
                fault,
            });
            continue;
        }
        valid_ballots += b.count;
        for (row, g) in distribution.iter_mut().zip(&b.ballot) {
            if let Some(cell) = row.get_mut(*g as usize) {
                *cell += b.count;
            }
        }
    }
    let majority_grades: Vec<Option<u32>> = distribution
        .iter()
        .map(|d| grade_at(d, valid_ballots.div_ceil(2)))
        .collect();

    let mut ranked: Vec<u32> = (0..candidates).map(index_u32).collect();
    let row = |c: u32| {
        distribution
            .get(c as usize)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    };
    // Better first; the sort is stable, so tied candidates stay in index order.
    ranked.sort_by(
        |&a, &b| match first_difference(row(a), row(b), valid_ballots) {
            Some((_, ga, gb)) => gb.cmp(&ga),
            None => core::cmp::Ordering::Equal,
        },
    );
    let mut order: Vec<Vec<u32>> = Vec::new();
    let mut separations = Vec::new();
    for c in ranked {
        let last = order.last().and_then(|g| g.first()).copied();
        match last.map(|l| (l, first_difference(row(l), row(c), valid_ballots))) {
            Some((_, None)) => {
                if let Some(group) = order.last_mut() {
                    group.push(c);
                }
            }
            Some((l, Some((removed, gl, gc)))) => {
                separations.push(Separation {
                    higher: l,
                    lower: c,
                    removed,
                    higher_grade: gl,
                    lower_grade: gc,
                });
                order.push(vec![c]);
            }
            None => order.push(vec![c]),
        }
    }
    Ok(MajorityJudgmentResult {
        candidates: index_u32(candidates),
        grades,
        valid_ballots,
        invalid,
        distribution,
        majority_grades,
        order,
        separations,
    })
}

/// The grade at 1-based position `q` of the grades sorted from worst to best.
fn grade_at(counts: &[u64], q: u64) -> Option<u32> {
    if q == 0 {
        return None;
    }
    let mut seen = 0u64;
    for (g, n) in counts.iter().enumerate() {
        seen += n;
        if seen >= q {
            return Some(index_u32(g));
        }
    }
    None
}

/// The step (0-based number of removals) at which sorted position `q` is removed, for
/// `n` grades.
fn step_of(q: u64, n: u64) -> u64 {
    let c = n.div_ceil(2);
    let odd = n % 2 == 1;
    if q <= c {
        let j = c - q;
        if odd {
            if j == 0 { 0 } else { 2 * j - 1 }
        } else {
            2 * j
        }
    } else {
        let j = q - c;
        if odd { 2 * j } else { 2 * j - 1 }
    }
}

/// The first step at which the majority values of two candidates with `n` grades each
/// differ, with their grades there; `None` when the distributions are equal.
fn first_difference(a: &[u64], b: &[u64], n: u64) -> Option<(u64, u32, u32)> {
    // Positions where both sorted sequences keep the same grades lie between
    // consecutive cumulative counts of either distribution.
    let mut bounds: Vec<u64> = vec![0];
    for counts in [a, b] {
        let mut seen = 0u64;
        for x in counts {
            seen += x;
            bounds.push(seen);
        }
    }
    bounds.sort_unstable();
    bounds.dedup();
    let c = n.div_ceil(2);
    let mut best: Option<(u64, u32, u32)> = None;
    for w in bounds.windows(2) {
        let (lo, hi) = match w {
            [x, y] if *y <= n => (x + 1, *y),
            _ => continue,
        };
        let (ga, gb) = (grade_at(a, lo), grade_at(b, lo));
        if ga == gb {
            continue;
        }
        let (Some(ga), Some(gb)) = (ga, gb) else {
            continue;
        };
        // The position of this interval removed first: the one nearest the middle.
        let q = if hi <= c {
            hi
        } else if lo > c {
            lo
        } else {
            c
        };
        let t = step_of(q, n);
        if best.is_none_or(|(bt, _, _)| t < bt) {
            best = Some((t, ga, gb));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ballots(rows: &[(u64, &[u32])]) -> Vec<Counted<GradedBallot>> {
        rows.iter()
            .map(|(n, g)| Counted {
                count: *n,
                ballot: g.to_vec(),
            })
            .collect()
    }

    /// The majority value by the definition: remove lower medians one at a time.
    fn majority_value(counts: &[u64]) -> Vec<u32> {
        let mut sorted: Vec<u32> = counts
            .iter()
            .enumerate()
            .flat_map(|(g, n)| std::iter::repeat_n(g as u32, *n as usize))
            .collect();
        let mut value = Vec::new();
        while !sorted.is_empty() {
            let i = sorted.len().div_ceil(2) - 1;
            value.push(sorted.remove(i));
        }
        value
    }

    #[test]
    fn removal_order_matches_the_definition() {
        for n in 1..12u64 {
            let mut positions: Vec<u64> = (1..=n).collect();
            let mut t = 0;
            while !positions.is_empty() {
                let i = positions.len().div_ceil(2) - 1;
                let q = positions.remove(i);
                assert_eq!(step_of(q, n), t, "n = {n}, q = {q}");
                t += 1;
            }
        }
    }

    /// Hand-worked, 5 voters, grades 0–4. A: 4 4 2 1 0, B: 3 3 3 0 0, C: 2 2 2 2 2.
    /// Majority grades (3rd worst of 5): A 2, B 3, C 2, so B first. A and C share 2;
    /// removing it, the next majority grade of A (4 4 1 0 → lower median 1) is 1 and
    /// of C is 2: C ranks above A after 1 removal.
    #[test]
    fn hand_worked_ranking() {
        let b = ballots(&[
            (1, &[4, 3, 2]),
            (1, &[4, 3, 2]),
            (1, &[2, 3, 2]),
            (1, &[1, 0, 2]),
            (1, &[0, 0, 2]),
        ]);
        let r = count(3, 5, &b).unwrap();
        assert_eq!(r.majority_grades, vec![Some(2), Some(3), Some(2)]);
        assert_eq!(r.order, vec![vec![1], vec![2], vec![0]]);
        assert_eq!(
            r.separations,
            vec![
                Separation {
                    higher: 1,
                    lower: 2,
                    removed: 0,
                    higher_grade: 3,
                    lower_grade: 2
                },
                Separation {
                    higher: 2,
                    lower: 0,
                    removed: 1,
                    higher_grade: 2,
                    lower_grade: 1
                }
            ]
        );
        assert_eq!(r.distribution[0], vec![1, 1, 1, 0, 2]);
    }

    #[test]
    fn equal_distributions_tie_and_even_counts_use_the_lower_median() {
        // 4 voters; A: 1 2 2 3 and B: 3 2 2 1 have equal distributions.
        // C: 0 2 3 3, lower median 2; removing 2 leaves 0 3 3 whose median is 3 >
        // A's 2 (A: 1 2 3 → 2): C first.
        let b = ballots(&[
            (1, &[1, 3, 0]),
            (1, &[2, 2, 2]),
            (1, &[2, 2, 3]),
            (1, &[3, 1, 3]),
        ]);
        let r = count(3, 4, &b).unwrap();
        assert_eq!(r.majority_grades, vec![Some(2), Some(2), Some(2)]);
        assert_eq!(r.order, vec![vec![2], vec![0, 1]]);
        assert_eq!(r.separations[0].removed, 1);
    }

    #[test]
    fn comparison_agrees_with_the_definition() {
        let dists: [[u64; 4]; 6] = [
            [1, 2, 0, 3],
            [0, 3, 3, 0],
            [2, 0, 2, 2],
            [3, 0, 0, 3],
            [1, 1, 1, 3],
            [0, 0, 6, 0],
        ];
        for a in &dists {
            for b in &dists {
                let (va, vb) = (majority_value(a), majority_value(b));
                let expected = va
                    .iter()
                    .zip(&vb)
                    .enumerate()
                    .find(|(_, (x, y))| x != y)
                    .map(|(t, (x, y))| (t as u64, *x, *y));
                assert_eq!(first_difference(a, b, 6), expected, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn scale_and_ballots_are_checked() {
        assert!(count(2, 1, &[]).is_err());
        assert!(count(2, MAX_GRADES + 1, &[]).is_err());
        let b = ballots(&[(2, &[0, 9]), (1, &[1, 0])]);
        let r = count(2, 3, &b).unwrap();
        assert_eq!(r.invalid.len(), 1);
        assert_eq!(r.invalid[0].count, 2);
        assert_eq!(r.order, vec![vec![0], vec![1]]);
        let empty = count(2, 3, &[]).unwrap();
        assert_eq!(empty.majority_grades, vec![None, None]);
        assert_eq!(empty.order, vec![vec![0, 1]]);
    }
}
