//! The Schulze method (Markus Schulze, "A new monotonic, clone-independent, reversal
//! symmetric, and Condorcet-consistent single-winner election method", *Social Choice
//! and Welfare* 36 (2011) 267–303), with the strength of a link measured by winning
//! votes.
//!
//! 1. **Pairwise preferences.** `d[i][j]` is the number of voters who strictly prefer
//!    candidate `i` to candidate `j`. Equal ranks are allowed and express no preference;
//!    an unranked candidate comes after every ranked one, and two unranked candidates
//!    are equal.
//! 2. **Links.** The link `i → j` has strength `d[i][j]` when `d[i][j] > d[j][i]`
//!    (winning votes), and does not exist (strength 0) otherwise.
//! 3. **Strongest paths.** `p[i][j]` is the strength of the strongest path from `i` to
//!    `j`, a path's strength being that of its weakest link (§2.2 of the paper), computed
//!    with the Floyd–Warshall variant of §2.3. `p[i][i]` is reported as 0.
//! 4. **Order.** `i` beats `j` when `p[i][j] > p[j][i]`; this relation is a strict
//!    partial order (transitive, §4.1 of the paper), and the winners are the candidates
//!    no one beats.
//!
//! **Reporting ties.** The order is given as successive groups: the first group is the
//! set of candidates that no candidate beats (the winners); each next group is the set
//! of remaining candidates that no remaining candidate beats. Within a group no member
//! beats another, and the members are listed in increasing candidate index. A group of
//! more than one candidate is a tie that this count does not break.
//!
//! **Cost.** `O(ballots × candidates²)` for the pairwise matrix (identical ballots given
//! as one [`Counted`] are counted once), then `O(candidates³)` for the paths.

use serde::{Deserialize, Serialize};

use super::{
    CountError, Counted, InvalidBallot, RankedBallot, Ties, check_candidates, index_u32,
    total_count, validate_ranked,
};

/// The result of a Schulze count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchulzeResult {
    /// Number of candidates.
    pub candidates: u32,
    /// Valid ballots counted.
    pub valid_ballots: u64,
    /// Invalid ballots, each with its fault.
    pub invalid: Vec<InvalidBallot>,
    /// `pairwise[i][j]`: voters who strictly prefer `i` to `j`.
    pub pairwise: Vec<Vec<u64>>,
    /// `strongest_paths[i][j]`: strength (winning votes) of the strongest path `i → j`.
    pub strongest_paths: Vec<Vec<u64>>,
    /// The order, best first, as groups of tied candidates (see the module docs).
    pub order: Vec<Vec<u32>>,
}

impl SchulzeResult {
    /// The winners: the first group of [`SchulzeResult::order`].
    pub fn winners(&self) -> &[u32] {
        self.order.first().map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Counts ranked ballots (ties allowed) for `candidates` candidates.
pub fn count(
    candidates: usize,
    ballots: &[Counted<RankedBallot>],
) -> Result<SchulzeResult, CountError> {
    check_candidates(candidates)?;
    total_count(ballots)?;
    let m = candidates;
    let mut d = vec![vec![0u64; m]; m];
    let mut invalid = Vec::new();
    let mut valid_ballots = 0u64;
    for (position, b) in ballots.iter().enumerate() {
        if b.count == 0 {
            continue;
        }
        if let Err(fault) = validate_ranked(&b.ballot, m, Ties::Allowed) {
            invalid.push(InvalidBallot {
                position: position as u64,
                count: b.count,
                fault,
            });
            continue;
        }
        valid_ballots += b.count;
        // Unranked is after every rank.
        let rank = |c: &Option<u32>| c.unwrap_or(u32::MAX);
        for (row, ri) in d.iter_mut().zip(&b.ballot) {
            for (cell, rj) in row.iter_mut().zip(&b.ballot) {
                if rank(ri) < rank(rj) {
                    *cell += b.count;
                }
            }
        }
    }
    let p = strongest_paths(&d);
    let order = order(&p);
    Ok(SchulzeResult {
        candidates: index_u32(m),
        valid_ballots,
        invalid,
        pairwise: d,
        strongest_paths: p,
        order,
    })
}

fn at(matrix: &[Vec<u64>], i: usize, j: usize) -> u64 {
    matrix
        .get(i)
        .and_then(|row| row.get(j))
        .copied()
        .unwrap_or(0)
}

/// The strongest paths (winning votes) from the pairwise matrix (§2.3 of the paper).
pub fn strongest_paths(d: &[Vec<u64>]) -> Vec<Vec<u64>> {
    let m = d.len();
    let mut p: Vec<Vec<u64>> = (0..m)
        .map(|i| {
            (0..m)
                .map(|j| {
                    let (dij, dji) = (at(d, i, j), at(d, j, i));
                    if i != j && dij > dji { dij } else { 0 }
                })
                .collect()
        })
        .collect();
    for i in 0..m {
        for j in 0..m {
            if i == j {
                continue;
            }
            let pji = at(&p, j, i);
            if pji == 0 {
                continue;
            }
            for k in 0..m {
                if k == i || k == j {
                    continue;
                }
                let through = pji.min(at(&p, i, k));
                if let Some(cell) = p.get_mut(j).and_then(|row| row.get_mut(k)) {
                    *cell = (*cell).max(through);
                }
            }
        }
    }
    p
}

/// The order as successive groups of unbeaten candidates (see the module docs).
fn order(p: &[Vec<u64>]) -> Vec<Vec<u32>> {
    let m = p.len();
    let beats = |i: usize, j: usize| at(p, i, j) > at(p, j, i);
    let mut remaining: Vec<usize> = (0..m).collect();
    let mut groups = Vec::new();
    while !remaining.is_empty() {
        let group: Vec<usize> = remaining
            .iter()
            .copied()
            .filter(|&j| !remaining.iter().any(|&i| beats(i, j)))
            .collect();
        if group.is_empty() {
            // Impossible: the relation is a strict partial order (§4.1), so a finite
            // set always has an unbeaten member. Report the rest as one group rather
            // than loop.
            groups.push(remaining.iter().map(|&c| index_u32(c)).collect());
            break;
        }
        remaining.retain(|c| !group.contains(c));
        groups.push(group.into_iter().map(index_u32).collect());
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ballots from lines of (voters, "ACBED"): letters in order of preference, all
    /// candidates ranked.
    fn ballots(m: usize, lines: &[(u64, &str)]) -> Vec<Counted<RankedBallot>> {
        lines
            .iter()
            .map(|(n, order)| {
                let mut ranks = vec![None; m];
                for (r, letter) in order.bytes().enumerate() {
                    ranks[usize::from(letter - b'A')] = Some(r as u32 + 1);
                }
                Counted {
                    count: *n,
                    ballot: ranks,
                }
            })
            .collect()
    }

    /// Schulze (2011), §3, the 45-voter example (5 candidates A–E). The matrices `d` and
    /// `p` and the order E > A > C > B > D are those published with it (also in the
    /// author's worked examples, Wikipedia "User:MarkusSchulze/Schulze method examples",
    /// example 1).
    #[test]
    fn schulze_2011_example_1() {
        let b = ballots(
            5,
            &[
                (5, "ACBED"),
                (5, "ADECB"),
                (8, "BEDAC"),
                (3, "CABED"),
                (7, "CAEBD"),
                (2, "CBADE"),
                (7, "DCEBA"),
                (8, "EBADC"),
            ],
        );
        let r = count(5, &b).unwrap();
        assert_eq!(r.valid_ballots, 45);
        assert_eq!(
            r.pairwise,
            vec![
                vec![0, 20, 26, 30, 22],
                vec![25, 0, 16, 33, 18],
                vec![19, 29, 0, 17, 24],
                vec![15, 12, 28, 0, 14],
                vec![23, 27, 21, 31, 0],
            ]
        );
        assert_eq!(
            r.strongest_paths,
            vec![
                vec![0, 28, 28, 30, 24],
                vec![25, 0, 28, 33, 24],
                vec![25, 29, 0, 29, 24],
                vec![25, 28, 28, 0, 24],
                vec![25, 28, 28, 31, 0],
            ]
        );
        assert_eq!(r.order, vec![vec![4], vec![0], vec![2], vec![1], vec![3]]);
        assert_eq!(r.winners(), &[4]);
    }

    /// Hand-checked example, 30 voters, 4 candidates, no Condorcet winner (A > C > B > A,
    /// D > A, D > B, C > D): d = [[–,11,20,14],[19,–,9,12],[10,21,–,17],[16,18,13,–]],
    /// and the strongest paths give D > A > C > B (recomputed by an independent script
    /// of the definition).
    #[test]
    fn cycle_resolved_by_strongest_paths() {
        let b = ballots(
            4,
            &[
                (5, "ACBD"),
                (2, "ACDB"),
                (3, "ADCB"),
                (4, "BACD"),
                (3, "CBDA"),
                (3, "CDBA"),
                (1, "DACB"),
                (5, "DBAC"),
                (4, "DCBA"),
            ],
        );
        let r = count(4, &b).unwrap();
        assert_eq!(r.order, vec![vec![3], vec![0], vec![2], vec![1]]);
    }

    /// Hand-checked example with ties, 9 voters: p[B,D] = p[D,B] = 5 and both beat A
    /// and C, so B and D are tied winners; then p[A,C] = p[C,A] = 5, so A and C are
    /// tied too: the order is {B, D}, {A, C}.
    #[test]
    fn tied_groups() {
        let b = ballots(4, &[(3, "ABCD"), (2, "DABC"), (2, "DBCA"), (2, "CBDA")]);
        let r = count(4, &b).unwrap();
        assert_eq!(r.order, vec![vec![1, 3], vec![0, 2]]);
        assert_eq!(r.strongest_paths[1][3], 5);
        assert_eq!(r.strongest_paths[3][1], 5);
    }

    #[test]
    fn ties_and_unranked_candidates() {
        // A = B > C, D unranked: A and B over C and D; C over D; no A–B preference.
        let b = vec![Counted::one(vec![Some(1), Some(1), Some(2), None])];
        let r = count(4, &b).unwrap();
        assert_eq!(r.pairwise[0][1], 0);
        assert_eq!(r.pairwise[1][0], 0);
        assert_eq!(r.pairwise[0][2], 1);
        assert_eq!(r.pairwise[2][3], 1);
        assert_eq!(r.pairwise[3][2], 0);
        assert_eq!(r.order, vec![vec![0, 1], vec![2], vec![3]]);
    }

    #[test]
    fn invalid_ballots_are_reported() {
        let b = vec![
            Counted::one(vec![Some(1), Some(3)]),
            Counted::one(vec![Some(1), Some(2)]),
            Counted {
                count: 4,
                ballot: vec![None, None],
            },
        ];
        let r = count(2, &b).unwrap();
        assert_eq!(r.valid_ballots, 1);
        assert_eq!(r.invalid.len(), 2);
        assert_eq!(r.invalid[0].position, 0);
        assert_eq!(r.invalid[1].count, 4);
        assert_eq!(r.winners(), &[0]);
    }

    #[test]
    fn result_round_trips_through_json() {
        let b = ballots(3, &[(2, "ABC"), (1, "CBA")]);
        let r = count(3, &b).unwrap();
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"strongest_paths\""));
        assert_eq!(serde_json::from_str::<SchulzeResult>(&json).unwrap(), r);
    }
}
