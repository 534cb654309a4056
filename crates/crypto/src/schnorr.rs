//! Schnorr proofs of knowledge and signatures (spec §5.1, §5.2).
//!
//! Statement: a public point `X`; witness: `x` with `X = xG`. The prover picks a nonce
//! `w`, sends `A = wG`, computes `c = challenge(transcript ‖ X ‖ A)` and answers
//! `z = w + c·x`. The verifier checks `zG = A + cX`.
//!
//! The caller builds the transcript with the domain tag, the context and whatever else
//! the proof must be bound to; a *signature* is such a proof whose transcript also holds
//! the signed message (a Schnorr signature in commitment form, which can be batch
//! verified). Nonces are hedged: `w` hashes fresh randomness with the secret and the
//! transcript, so a weak random generator alone does not leak the key.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::batch::BatchVerifier;
use crate::group::hex_scalar;
use crate::transcript::Transcript;
use crate::{CryptoError, Point};

/// A Schnorr proof `(A, z)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchnorrProof {
    pub commitment: Point,
    #[serde(with = "hex_scalar")]
    pub response: Scalar,
}

/// A hedged nonce: `H("scrutin/v1/nonce", secret, transcript, 32 random bytes)`.
pub(crate) fn hedged_nonce<R: CryptoRng + ?Sized>(
    rng: &mut R,
    secret: &Scalar,
    transcript: &Transcript,
) -> Scalar {
    let mut fresh = [0u8; 32];
    rng.fill_bytes(&mut fresh);
    let mut t = Transcript::new("nonce");
    t.append("secret", secret.as_bytes())
        .append("transcript", transcript.bytes())
        .append("random", &fresh);
    t.challenge()
}

fn challenge(mut t: Transcript, public: &Point, commitment: &Point) -> Scalar {
    t.append_point("public", public)
        .append_point("commitment", commitment);
    t.challenge()
}

impl SchnorrProof {
    /// Proves knowledge of `secret` for `public = secret·G` under the transcript `t`.
    pub fn prove<R: CryptoRng + ?Sized>(
        t: Transcript,
        public: &Point,
        secret: &Scalar,
        rng: &mut R,
    ) -> Self {
        let w = hedged_nonce(rng, secret, &t);
        let commitment = Point::from_point(RistrettoPoint::mul_base(&w));
        let c = challenge(t, public, &commitment);
        SchnorrProof {
            commitment,
            response: w + c * secret,
        }
    }

    /// The challenge `c` this proof answers (for test vectors).
    pub fn challenge(&self, t: Transcript, public: &Point) -> Scalar {
        challenge(t, public, &self.commitment)
    }

    /// Adds `zG − A − cX = 0` to a batch.
    pub fn add_to_batch(&self, t: Transcript, public: &Point, batch: &mut BatchVerifier) {
        let c = challenge(t, public, &self.commitment);
        batch
            .equation()
            .g(self.response)
            .term(-Scalar::ONE, self.commitment.point())
            .term(-c, public.point());
    }

    /// Verifies the proof on its own.
    pub fn verify(&self, t: Transcript, public: &Point) -> Result<(), CryptoError> {
        let c = challenge(t, public, &self.commitment);
        let lhs = RistrettoPoint::mul_base(&self.response);
        let rhs = self.commitment.point() + public.point() * c;
        if lhs == rhs {
            Ok(())
        } else {
            Err(CryptoError::proof("Schnorr proof"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::os_rng;
    use proptest::prelude::*;

    fn t(msg: &[u8]) -> Transcript {
        let mut t = Transcript::new("test-schnorr");
        t.append("context", b"ctx").append("message", msg);
        t
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn valid_verifies_and_tampering_fails(seed in any::<[u8; 32]>(), which in 0usize..4) {
            let mut rng = crate::rng::SeededRng::new(&seed);
            let x = Scalar::random(&mut rng);
            let public = Point::from_point(RistrettoPoint::mul_base(&x));
            let proof = SchnorrProof::prove(t(b"m"), &public, &x, &mut rng);
            prop_assert!(proof.verify(t(b"m"), &public).is_ok());
            let mut b = BatchVerifier::new(&mut os_rng());
            proof.add_to_batch(t(b"m"), &public, &mut b);
            prop_assert!(b.verify());
            let other = Point::from_point(RistrettoPoint::mul_base(&Scalar::from(7u8)));
            let (bad, tb, pk) = match which {
                0 => (SchnorrProof { response: proof.response + Scalar::ONE, ..proof }, t(b"m"), public),
                1 => (SchnorrProof { commitment: other, ..proof }, t(b"m"), public),
                2 => (proof, t(b"other message"), public),
                _ => (proof, t(b"m"), other),
            };
            prop_assert!(bad.verify(tb.clone(), &pk).is_err());
            let mut b = BatchVerifier::new(&mut os_rng());
            bad.add_to_batch(tb, &pk, &mut b);
            prop_assert!(!b.verify());
        }
    }
}
