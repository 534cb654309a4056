//! Batch verification by random linear combination (spec §5.6).
//!
//! Every proof of scrutin is verified through equations of the form
//! `Σ sᵢ·Pᵢ = 0` (commitment form: the prover's commitments are part of the proof).
//! A [`BatchVerifier`] accumulates many such equations, multiplying equation `j` by
//! `ρʲ` for a secret random `ρ`, and checks them all with one variable-time multiscalar
//! multiplication. If any equation is false, the sum is zero with probability at most
//! `N/ℓ` for `N` equations (the combination is a non-zero polynomial of degree `N` in
//! `ρ`; Bellare, Garay, Rabin, *Fast batch verification*, EUROCRYPT 1998).
//!
//! Terms on the base point `G` and on registered repeated bases (an election's public key)
//! are merged into one coefficient each, so they cost nothing per equation.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use rand_core::CryptoRng;

/// Identifier of a repeated base registered with [`BatchVerifier::register_base`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaseId(usize);

/// An accumulator of equations `Σ sᵢ·Pᵢ = 0`, checked together by [`BatchVerifier::verify`].
pub struct BatchVerifier {
    rho: Scalar,
    weight: Scalar,
    g: Scalar,
    bases: Vec<(Scalar, RistrettoPoint)>,
    scalars: Vec<Scalar>,
    points: Vec<RistrettoPoint>,
    equations: usize,
    /// Set when a term named a base this batch does not know: the batch then fails.
    poisoned: bool,
}

impl BatchVerifier {
    /// A new, empty batch with a fresh random `ρ`.
    pub fn new<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let rho = Scalar::random(rng);
        BatchVerifier {
            rho,
            weight: Scalar::ONE,
            g: Scalar::ZERO,
            bases: Vec::new(),
            scalars: Vec::new(),
            points: Vec::new(),
            equations: 0,
            poisoned: false,
        }
    }

    /// Reserves room for about `terms` variable-base terms.
    pub fn reserve(&mut self, terms: usize) {
        self.scalars.reserve(terms);
        self.points.reserve(terms);
    }

    /// Registers a base that many equations share (its coefficients are summed).
    pub fn register_base(&mut self, point: &RistrettoPoint) -> BaseId {
        self.bases.push((Scalar::ZERO, *point));
        BaseId(self.bases.len() - 1)
    }

    /// Starts the next equation; its terms are added through the returned handle.
    pub fn equation(&mut self) -> Equation<'_> {
        self.weight *= self.rho;
        self.equations += 1;
        Equation { batch: self }
    }

    /// Adds `s·P` to the combination as is, without an equation's weight: for a term
    /// shared by several equations whose weighted coefficients the caller has summed
    /// (see [`Equation::weight`]).
    pub fn weighted_term(&mut self, s: Scalar, p: &RistrettoPoint) {
        self.scalars.push(s);
        self.points.push(*p);
    }

    /// How many equations were added.
    pub fn len(&self) -> usize {
        self.equations
    }

    /// True when no equation was added.
    pub fn is_empty(&self) -> bool {
        self.equations == 0
    }

    /// True when every equation added holds (except with probability `N/ℓ`).
    pub fn verify(mut self) -> bool {
        if self.poisoned {
            return false;
        }
        self.scalars.push(self.g);
        self.points.push(RISTRETTO_BASEPOINT_POINT);
        for (s, p) in self.bases {
            self.scalars.push(s);
            self.points.push(p);
        }
        RistrettoPoint::vartime_multiscalar_mul(&self.scalars, &self.points).is_identity()
    }
}

/// One equation of a batch, already weighted.
pub struct Equation<'a> {
    batch: &'a mut BatchVerifier,
}

impl Equation<'_> {
    /// This equation's weight `ρʲ`.
    pub fn weight(&self) -> Scalar {
        self.batch.weight
    }

    /// Adds `s·G`.
    pub fn g(&mut self, s: Scalar) -> &mut Self {
        self.batch.g += self.batch.weight * s;
        self
    }

    /// Adds `s·B` for a registered base `B`.
    pub fn base(&mut self, id: BaseId, s: Scalar) -> &mut Self {
        match self.batch.bases.get_mut(id.0) {
            Some(entry) => entry.0 += self.batch.weight * s,
            None => self.batch.poisoned = true,
        }
        self
    }

    /// Adds `s·P`.
    pub fn term(&mut self, s: Scalar, p: &RistrettoPoint) -> &mut Self {
        self.batch.scalars.push(self.batch.weight * s);
        self.batch.points.push(*p);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::os_rng;

    #[test]
    fn true_equations_pass_and_a_false_one_fails() {
        let mut rng = os_rng();
        let x = Scalar::random(&mut rng);
        let p = RISTRETTO_BASEPOINT_POINT * x;
        let mut b = BatchVerifier::new(&mut rng);
        let h = b.register_base(&p);
        for _ in 0..10 {
            // x·G − P = 0 and 2·P − 2x·G = 0
            b.equation().g(x).term(-Scalar::ONE, &p);
            b.equation().base(h, Scalar::from(2u8)).g(-(x + x));
        }
        assert!(b.verify());

        let mut b = BatchVerifier::new(&mut rng);
        b.equation().g(x).term(-Scalar::ONE, &p);
        b.equation().g(x + Scalar::ONE).term(-Scalar::ONE, &p);
        assert!(!b.verify());
    }
}
