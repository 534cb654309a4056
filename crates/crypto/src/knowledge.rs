//! Proof of knowledge of a ciphertext's randomness (spec §5.8).
//!
//! Statement: a key `H` and a ciphertext `(α, β)`; witness: `r` with `α = rG`. Whoever
//! can prove it made the ciphertext itself: a ciphertext copied from somebody else, or
//! derived from theirs (re-encrypted, or with `β` shifted), comes without a proof, since
//! the proof's challenge hashes `H`, `α` and `β` with the caller's context (Schnorr-signed
//! ElGamal: Tsiounis and Yung, PKC 1998; Schnorr and Jakobsson, ASIACRYPT 2000). It says
//! nothing about the message `m` of `β = mG + rH`.
//!
//! The prover picks a nonce `w`, sends `A = wG`, computes
//! `c = challenge(T ‖ ("key", H) ‖ ("alpha", α) ‖ ("beta", β) ‖ ("commitment", A))` and
//! answers `z = w + c·r`. The verifier checks
//!
//! ```text
//!   zG = A + c·α                                     (batch form: zG − A − c·α = O)
//! ```

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::batch::BatchVerifier;
use crate::elgamal::Ciphertext;
use crate::group::hex_scalar;
use crate::schnorr::hedged_nonce;
use crate::transcript::Transcript;
use crate::{CryptoError, Point};

/// A proof `(A, z)` of knowledge of a ciphertext's randomness (§5.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomnessProof {
    pub commitment: Point,
    #[serde(with = "hex_scalar")]
    pub response: Scalar,
}

/// `c` of §5.8: the caller's transcript, then the statement and the commitment.
fn challenge(mut t: Transcript, key: &Point, ct: &Ciphertext, commitment: &Point) -> Scalar {
    t.append_point("key", key)
        .append_point("alpha", &ct.alpha)
        .append_point("beta", &ct.beta)
        .append_point("commitment", commitment);
    t.challenge()
}

impl RandomnessProof {
    /// Proves knowledge of `r` with `ct.alpha = rG` (§5.8), under the caller transcript `t`.
    pub fn prove<R: CryptoRng + ?Sized>(
        t: Transcript,
        key: &Point,
        ct: &Ciphertext,
        r: &Scalar,
        rng: &mut R,
    ) -> Self {
        let w = hedged_nonce(rng, r, &t);
        let commitment = Point::from_point(RistrettoPoint::mul_base(&w));
        let c = challenge(t, key, ct, &commitment);
        RandomnessProof {
            commitment,
            response: w + c * r,
        }
    }

    /// The challenge `c` this proof answers (for test vectors).
    pub fn challenge(&self, t: Transcript, key: &Point, ct: &Ciphertext) -> Scalar {
        challenge(t, key, ct, &self.commitment)
    }

    /// Adds `zG − A − c·α = O` to a batch (§5.8, §5.6).
    pub fn add_to_batch(
        &self,
        t: Transcript,
        key: &Point,
        ct: &Ciphertext,
        batch: &mut BatchVerifier,
    ) {
        let c = challenge(t, key, ct, &self.commitment);
        batch
            .equation()
            .g(self.response)
            .term(-Scalar::ONE, self.commitment.point())
            .term(-c, ct.alpha.point());
    }

    /// Verifies the proof on its own: `zG = A + c·α`.
    pub fn verify(&self, t: Transcript, key: &Point, ct: &Ciphertext) -> Result<(), CryptoError> {
        let c = challenge(t, key, ct, &self.commitment);
        let lhs = RistrettoPoint::mul_base(&self.response);
        let rhs = self.commitment.point() + ct.alpha.point() * c;
        if lhs == rhs {
            Ok(())
        } else {
            Err(CryptoError::proof("proof of knowledge of randomness"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::EncryptionKey;
    use crate::rng::{SeededRng, os_rng};
    use proptest::prelude::*;

    fn t(context: &[u8]) -> Transcript {
        let mut t = Transcript::new("test-randomness");
        t.append("context", context);
        t
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn valid_verifies_and_tampering_fails(seed in any::<[u8; 32]>(), which in 0usize..6) {
            let mut rng = SeededRng::new(&seed);
            let key = Point::from_point(RistrettoPoint::random(&mut rng));
            let r = Scalar::random(&mut rng);
            let ct = Ciphertext::encrypt(&EncryptionKey::new(key), 3, &r);
            let proof = RandomnessProof::prove(t(b"ctx"), &key, &ct, &r, &mut rng);
            prop_assert!(proof.verify(t(b"ctx"), &key, &ct).is_ok());
            let mut b = BatchVerifier::new(&mut os_rng());
            proof.add_to_batch(t(b"ctx"), &key, &ct, &mut b);
            prop_assert!(b.verify());
            let g = Point::from_point(RistrettoPoint::mul_base(&Scalar::ONE));
            let shifted = Point::from_point(ct.beta.point() + g.point());
            let (bad, tb, k, c) = match which {
                0 => (RandomnessProof { response: proof.response + Scalar::ONE, ..proof }, t(b"ctx"), key, ct),
                1 => (RandomnessProof { commitment: g, ..proof }, t(b"ctx"), key, ct),
                2 => (proof, t(b"another context"), key, ct),
                3 => (proof, t(b"ctx"), g, ct),
                // The same α with another β: the message changed, the proof must not follow.
                4 => (proof, t(b"ctx"), key, Ciphertext { alpha: ct.alpha, beta: shifted }),
                _ => (proof, t(b"ctx"), key, Ciphertext { alpha: shifted, beta: ct.beta }),
            };
            prop_assert!(bad.verify(tb.clone(), &k, &c).is_err());
            let mut b = BatchVerifier::new(&mut os_rng());
            bad.add_to_batch(tb, &k, &c, &mut b);
            prop_assert!(!b.verify());
        }
    }

    #[test]
    fn without_the_randomness_no_proof() {
        // A prover that uses another scalar than log_G α is refused.
        let mut rng = SeededRng::new(b"knowledge");
        let key = Point::from_point(RistrettoPoint::random(&mut rng));
        let r = Scalar::random(&mut rng);
        let ct = Ciphertext::encrypt(&EncryptionKey::new(key), 1, &r);
        let guess = r + Scalar::ONE;
        let proof = RandomnessProof::prove(t(b"ctx"), &key, &ct, &guess, &mut rng);
        assert!(proof.verify(t(b"ctx"), &key, &ct).is_err());
    }
}
