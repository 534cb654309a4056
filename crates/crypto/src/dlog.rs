//! Bounded discrete logarithms by baby-step giant-step (spec §7.3).
//!
//! A tally `m` is known to lie in `[0, B]` where `B` is the total voter weight times the
//! largest value of one selection. With `s = ⌊√(B+1)⌋ + 1`, the table holds `jG` for
//! `0 ≤ j < s` and the search subtracts `sG` at most `s` times: `O(√B)` time and memory.
//! Bounds above [`MAX_BOUND`] are refused rather than allocating without limit.

use std::collections::HashMap;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;

use crate::CryptoError;

/// The largest bound accepted: 2⁴⁰ (a table of 2²⁰ entries, about 50 MB).
pub const MAX_BOUND: u64 = 1 << 40;

/// A baby-step table for logarithms in `[0, bound]`.
pub struct DlogTable {
    baby: HashMap<[u8; 32], u64>,
    step: u64,
    giant: RistrettoPoint,
    bound: u64,
}

impl DlogTable {
    /// Builds the table; refuses bounds above [`MAX_BOUND`].
    pub fn new(bound: u64) -> Result<Self, CryptoError> {
        if bound > MAX_BOUND {
            return Err(CryptoError::OutOfBounds {
                what: "discrete logarithm bound",
                why: format!("{bound} exceeds {MAX_BOUND}"),
            });
        }
        let step = (bound + 1).isqrt() + 1;
        let mut baby = HashMap::with_capacity(step as usize);
        let mut p = RistrettoPoint::identity();
        for j in 0..step {
            baby.insert(p.compress().to_bytes(), j);
            p += RISTRETTO_BASEPOINT_POINT;
        }
        Ok(DlogTable {
            baby,
            step,
            giant: -(RISTRETTO_BASEPOINT_POINT * Scalar::from(step)),
            bound,
        })
    }

    /// Finds `m ≤ bound` with `target = mG`.
    pub fn solve(&self, target: &RistrettoPoint) -> Result<u64, CryptoError> {
        let mut p = *target;
        for i in 0..=self.step {
            if let Some(j) = self.baby.get(&p.compress().to_bytes()) {
                let m = i * self.step + j;
                if m <= self.bound {
                    return Ok(m);
                }
                break;
            }
            p += self.giant;
        }
        Err(CryptoError::DlogNotFound { bound: self.bound })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_values_up_to_the_bound_and_not_beyond() {
        let table = DlogTable::new(1000).unwrap();
        for m in [0u64, 1, 31, 32, 33, 999, 1000] {
            let target = RISTRETTO_BASEPOINT_POINT * Scalar::from(m);
            assert_eq!(table.solve(&target).unwrap(), m);
        }
        let beyond = RISTRETTO_BASEPOINT_POINT * Scalar::from(5000u64);
        assert!(table.solve(&beyond).is_err());
        assert!(DlogTable::new(MAX_BOUND + 1).is_err());
    }
}
