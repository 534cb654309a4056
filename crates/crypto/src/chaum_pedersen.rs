//! Chaum–Pedersen proofs of equality of discrete logarithms (spec §5.3).
//!
//! Statement: bases `G, B` and points `X, D`; witness `x` with `X = xG` and `D = xB`.
//! Commitments `A₁ = wG, A₂ = wB`, challenge `c = challenge(transcript ‖ B ‖ X ‖ D ‖ A₁ ‖ A₂)`,
//! response `z = w + c·x`. Checks: `zG = A₁ + cX` and `zB = A₂ + cD`
//! (Chaum, Pedersen, *Wallet databases with observers*, CRYPTO 1992).
//!
//! Used for decryption shares (`B = α`, `X` the trustee's verification key) and for
//! complaints in the key generation (`B` a dealer's ephemeral point).

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::batch::BatchVerifier;
use crate::group::hex_scalar;
use crate::schnorr::hedged_nonce;
use crate::transcript::Transcript;
use crate::{CryptoError, Point};

/// A proof `(A₁, A₂, z)` that `log_G X = log_B D`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DleqProof {
    pub commitment_g: Point,
    pub commitment_b: Point,
    #[serde(with = "hex_scalar")]
    pub response: Scalar,
}

/// The statement of a [`DleqProof`].
#[derive(Clone, Copy, Debug)]
pub struct DleqStatement<'a> {
    pub base: &'a Point,
    pub public: &'a Point,
    pub image: &'a Point,
}

fn challenge(mut t: Transcript, s: &DleqStatement<'_>, a1: &Point, a2: &Point) -> Scalar {
    t.append_point("base", s.base)
        .append_point("public", s.public)
        .append_point("image", s.image)
        .append_point("commitment_g", a1)
        .append_point("commitment_b", a2);
    t.challenge()
}

impl DleqProof {
    /// Proves `public = x·G` and `image = x·base`.
    pub fn prove<R: CryptoRng + ?Sized>(
        t: Transcript,
        s: &DleqStatement<'_>,
        x: &Scalar,
        rng: &mut R,
    ) -> Self {
        let w = hedged_nonce(rng, x, &t);
        let a1 = Point::from_point(RistrettoPoint::mul_base(&w));
        let a2 = Point::from_point(s.base.point() * w);
        let c = challenge(t, s, &a1, &a2);
        DleqProof {
            commitment_g: a1,
            commitment_b: a2,
            response: w + c * x,
        }
    }

    /// The challenge this proof answers (for test vectors).
    pub fn challenge(&self, t: Transcript, s: &DleqStatement<'_>) -> Scalar {
        challenge(t, s, &self.commitment_g, &self.commitment_b)
    }

    /// Adds both equations to a batch.
    pub fn add_to_batch(&self, t: Transcript, s: &DleqStatement<'_>, batch: &mut BatchVerifier) {
        let c = challenge(t, s, &self.commitment_g, &self.commitment_b);
        batch
            .equation()
            .g(self.response)
            .term(-Scalar::ONE, self.commitment_g.point())
            .term(-c, s.public.point());
        batch
            .equation()
            .term(self.response, s.base.point())
            .term(-Scalar::ONE, self.commitment_b.point())
            .term(-c, s.image.point());
    }

    /// Verifies the proof on its own.
    pub fn verify(&self, t: Transcript, s: &DleqStatement<'_>) -> Result<(), CryptoError> {
        let c = challenge(t, s, &self.commitment_g, &self.commitment_b);
        let ok_g = RistrettoPoint::mul_base(&self.response)
            == self.commitment_g.point() + s.public.point() * c;
        let ok_b =
            s.base.point() * self.response == self.commitment_b.point() + s.image.point() * c;
        if ok_g && ok_b {
            Ok(())
        } else {
            Err(CryptoError::proof("Chaum-Pedersen proof"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{SeededRng, os_rng};
    use proptest::prelude::*;

    fn t() -> Transcript {
        let mut t = Transcript::new("test-dleq");
        t.append("context", b"ctx");
        t
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn valid_verifies_and_tampering_fails(seed in any::<[u8; 32]>(), which in 0usize..6) {
            let mut rng = SeededRng::new(&seed);
            let x = Scalar::random(&mut rng);
            let base = Point::from_point(RistrettoPoint::random(&mut rng));
            let public = Point::from_point(RistrettoPoint::mul_base(&x));
            let image = Point::from_point(base.point() * x);
            let s = DleqStatement { base: &base, public: &public, image: &image };
            let proof = DleqProof::prove(t(), &s, &x, &mut rng);
            prop_assert!(proof.verify(t(), &s).is_ok());
            let mut b = BatchVerifier::new(&mut os_rng());
            proof.add_to_batch(t(), &s, &mut b);
            prop_assert!(b.verify());

            let other = Point::from_point(RistrettoPoint::random(&mut rng));
            let mut bad = proof;
            let (mut sb, mut sp, mut si) = (base, public, image);
            match which {
                0 => bad.response += Scalar::ONE,
                1 => bad.commitment_g = other,
                2 => bad.commitment_b = other,
                3 => sb = other,
                4 => sp = other,
                _ => si = other,
            }
            let s2 = DleqStatement { base: &sb, public: &sp, image: &si };
            prop_assert!(bad.verify(t(), &s2).is_err());
            let mut b = BatchVerifier::new(&mut os_rng());
            bad.add_to_batch(t(), &s2, &mut b);
            prop_assert!(!b.verify());
        }
    }
}
