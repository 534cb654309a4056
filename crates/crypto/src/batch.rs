//! Batch verification by random linear combination (spec §5.6).
//!
//! Every proof of scrutin is verified through equations of the form
//! `Σ sᵢ·Pᵢ = 0` (commitment form: the prover's commitments are part of the proof).
//! A [`BatchVerifier`] accumulates many such equations, multiplying equation `e` by an
//! independent secret random 128-bit weight `wₑ`, and checks them all with one
//! variable-time multiscalar multiplication. If any equation is false, the sum is zero
//! with probability at most `2⁻¹²⁸` whatever the number of equations (the small-exponent
//! test of Bellare, Garay, Rabin, *Fast batch verification*, EUROCRYPT 1998, §3.2, in a
//! group of prime order ℓ > 2¹²⁸).
//!
//! Short weights are what make the batch fast: a prover's commitment `A` enters its
//! equation with the coefficient `−1`, so its term in the sum is `(−wₑ)·A`, stored as
//! `wₑ·(−A)` with a 128-bit scalar — half the additions of a full scalar in the
//! multiscalar multiplication (whose digits above 128 bits are then all zero). Terms on
//! the base point `G` and on registered repeated bases (an election's public key) are
//! merged into one coefficient each, so they cost nothing per equation.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use rand_core::CryptoRng;
use sha2::{Digest, Sha512};

/// Domain of the hash that expands the batch's seed into weights.
const WEIGHTS_DOMAIN: &[u8] = b"scrutin/v1/batch-weights";

/// Identifier of a repeated base registered with [`BatchVerifier::register_base`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaseId(usize);

/// An accumulator of equations `Σ sᵢ·Pᵢ = 0`, checked together by [`BatchVerifier::verify`].
pub struct BatchVerifier {
    /// Secret seed of the weights, drawn from the caller's generator.
    seed: [u8; 32],
    /// Weights drawn so far (a SHA-512 block gives four).
    drawn: u64,
    pool: [u8; 64],
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
    /// A new, empty batch whose weights come from a fresh seed drawn from `rng`.
    pub fn new<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        BatchVerifier {
            seed,
            drawn: 0,
            pool: [0u8; 64],
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

    /// The next weight: 128 uniformly random bits, `SHA-512(domain ‖ seed ‖ block)` cut in
    /// four, never zero (a zero would drop an equation; its probability is 2⁻¹²⁸ anyway).
    fn next_weight(&mut self) -> Scalar {
        let slot = (self.drawn % 4) as usize;
        if slot == 0 {
            let block = Sha512::new()
                .chain_update(WEIGHTS_DOMAIN)
                .chain_update(self.seed)
                .chain_update((self.drawn / 4).to_le_bytes())
                .finalize();
            self.pool.copy_from_slice(&block);
        }
        self.drawn += 1;
        let mut bytes = [0u8; 32];
        let start = slot * 16;
        for (b, p) in bytes.iter_mut().zip(&self.pool[start..start + 16]) {
            *b = *p;
        }
        if bytes == [0u8; 32] {
            bytes[0] = 1;
        }
        Scalar::from_bytes_mod_order(bytes)
    }

    /// Starts the next equation; its terms are added through the returned handle.
    pub fn equation(&mut self) -> Equation<'_> {
        self.weight = self.next_weight();
        self.equations += 1;
        Equation { batch: self }
    }

    /// Adds `s·P` to the combination as is, without an equation's weight: for a term
    /// shared by several equations whose weighted coefficients the caller has summed
    /// (see [`Equation::weight`]).
    pub fn weighted_term(&mut self, s: Scalar, p: &RistrettoPoint) {
        self.push(s, p);
    }

    /// Stores `s·P`, as `(−s)·(−P)` when `−s` is the shorter scalar (a commitment's
    /// coefficient `−wₑ`): the multiscalar multiplication costs less for short scalars.
    fn push(&mut self, s: Scalar, p: &RistrettoPoint) {
        if !is_short(&s) {
            let negated = -s;
            if is_short(&negated) {
                self.scalars.push(negated);
                self.points.push(-p);
                return;
            }
        }
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

    /// True when every equation added holds (except with probability `2⁻¹²⁸`).
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
        crate::par::vartime_msm(&self.scalars, &self.points).is_identity()
    }
}

/// One equation of a batch, already weighted.
pub struct Equation<'a> {
    batch: &'a mut BatchVerifier,
}

impl Equation<'_> {
    /// This equation's weight `wₑ`.
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
        let weighted = self.batch.weight * s;
        self.batch.push(weighted, p);
        self
    }
}

/// The scalar is below 2¹²⁸.
fn is_short(s: &Scalar) -> bool {
    s.as_bytes()[16..].iter().all(|b| *b == 0)
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

    #[test]
    fn weights_are_short_distinct_and_commitment_terms_stay_short() {
        let mut rng = os_rng();
        let mut b = BatchVerifier::new(&mut rng);
        let weights: Vec<Scalar> = (0..9).map(|_| b.equation().weight()).collect();
        for (i, w) in weights.iter().enumerate() {
            assert!(is_short(w) && *w != Scalar::ZERO);
            assert!(weights[..i].iter().all(|v| v != w));
        }
        let p = RISTRETTO_BASEPOINT_POINT * Scalar::from(7u8);
        let mut b = BatchVerifier::new(&mut rng);
        b.equation().term(-Scalar::ONE, &p).g(Scalar::from(7u8));
        assert!(is_short(&b.scalars[0]));
        assert_eq!(b.points[0], -p);
        assert!(b.verify());
    }

    #[test]
    fn a_false_equation_among_many_true_ones_fails() {
        let mut rng = os_rng();
        let x = Scalar::random(&mut rng);
        let p = RISTRETTO_BASEPOINT_POINT * x;
        for wrong in [0, 5, 99] {
            let mut b = BatchVerifier::new(&mut rng);
            for i in 0..100 {
                let s = if i == wrong { x + Scalar::ONE } else { x };
                b.equation().g(s).term(-Scalar::ONE, &p);
            }
            assert!(!b.verify(), "equation {wrong} is false");
        }
    }
}
