//! Disjunctive Chaum–Pedersen proofs that a ciphertext encrypts one of a list of values
//! (spec §5.4).
//!
//! Statement: public key `H`, ciphertext `(α, β)`, allowed values `v₀ … v_{L−1}`.
//! Witness: the index `t` with `β − v_t·G = rH` and `α = rG`.
//! For each branch `j` the proof holds `(aⱼ, bⱼ, cⱼ, rⱼ)` such that
//!
//! ```text
//!   rⱼ·G = aⱼ + cⱼ·α          rⱼ·H = bⱼ + cⱼ·(β − vⱼ·G)          Σⱼ cⱼ = c
//! ```
//! where `c = challenge(transcript ‖ H ‖ α ‖ β ‖ v₀ … ‖ a₀ ‖ b₀ ‖ … )`. The prover simulates
//! every branch but the true one with random `cⱼ, rⱼ`, and answers the true one with
//! `c_t = c − Σ_{j≠t} cⱼ` (Cramer, Damgård, Schoenmakers, CRYPTO 1994).
//!
//! A range proof `0 ≤ m ≤ R` is the list `0, 1, …, R`; a question's rule
//! `min ≤ Σ ≤ max` (or blank) is another list. Lists are bounded by [`MAX_VALUES`].

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::batch::{BaseId, BatchVerifier};
use crate::elgamal::{Ciphertext, EncryptionKey};
use crate::group::hex_scalar;
use crate::schnorr::hedged_nonce;
use crate::transcript::Transcript;
use crate::{CryptoError, Point};

/// The largest number of allowed values in one proof.
pub const MAX_VALUES: usize = 1024;

/// One branch `(a, b, c, r)` of a disjunctive proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branch {
    pub a: Point,
    pub b: Point,
    #[serde(with = "hex_scalar")]
    pub c: Scalar,
    #[serde(with = "hex_scalar")]
    pub r: Scalar,
}

/// A proof that a ciphertext encrypts one of a list of values: one branch per value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MembershipProof {
    pub branches: Vec<Branch>,
}

/// The statement of a [`MembershipProof`].
#[derive(Clone, Copy, Debug)]
pub struct MembershipStatement<'a> {
    pub key: &'a Point,
    pub ciphertext: &'a Ciphertext,
    pub values: &'a [u64],
}

fn check_values(values: &[u64]) -> Result<(), CryptoError> {
    if values.is_empty() || values.len() > MAX_VALUES {
        return Err(CryptoError::OutOfBounds {
            what: "list of allowed values",
            why: format!("{} values, allowed 1 to {MAX_VALUES}", values.len()),
        });
    }
    Ok(())
}

fn challenge(
    mut t: Transcript,
    s: &MembershipStatement<'_>,
    branches: &[(Point, Point)],
) -> Scalar {
    t.append_point("key", s.key)
        .append_point("alpha", &s.ciphertext.alpha)
        .append_point("beta", &s.ciphertext.beta);
    for v in s.values {
        t.append_u64("value", *v);
    }
    for (a, b) in branches {
        t.append_point("a", a).append_point("b", b);
    }
    t.challenge()
}

/// One proof to make with [`MembershipProof::prove_many`].
pub struct ProofRequest<'a> {
    pub transcript: Transcript,
    pub statement: MembershipStatement<'a>,
    /// Position of the encrypted value in `statement.values`.
    pub index: usize,
    /// The ciphertext's randomness.
    pub randomness: Scalar,
}

impl MembershipProof {
    /// Proves that `s.ciphertext` encrypts `s.values[index]` with randomness `r`.
    pub fn prove<R: CryptoRng + ?Sized>(
        t: Transcript,
        key: &EncryptionKey,
        s: &MembershipStatement<'_>,
        index: usize,
        r: &Scalar,
        rng: &mut R,
    ) -> Result<Self, CryptoError> {
        let request = ProofRequest {
            transcript: t,
            statement: *s,
            index,
            randomness: *r,
        };
        let mut proofs = Self::prove_many(key, vec![request], rng)?;
        proofs.pop().ok_or(CryptoError::proof("disjunctive proof"))
    }

    /// Makes many proofs under the same key, encoding all their commitments in one batch.
    ///
    /// Knowing `r`, the prover writes every branch's commitments with fixed-base,
    /// constant-time multiplications only: with `sⱼ = rⱼ − cⱼr` and `δⱼ = v_t − vⱼ`,
    /// `aⱼ = sⱼG` and `bⱼ = sⱼH − cⱼδⱼG` satisfy the verification equations; the true
    /// branch is the case `s_t = w, c_t = 0, δ_t = 0`.
    pub fn prove_many<R: CryptoRng + ?Sized>(
        key: &EncryptionKey,
        requests: Vec<ProofRequest<'_>>,
        rng: &mut R,
    ) -> Result<Vec<Self>, CryptoError> {
        let half = crate::group::half();
        let mut halves = Vec::new();
        let mut plans = Vec::with_capacity(requests.len());
        for req in &requests {
            let s = &req.statement;
            check_values(s.values)?;
            let Some(true_value) = s.values.get(req.index) else {
                return Err(CryptoError::Inconsistent {
                    what: "disjunctive proof witness",
                    why: "the true value is not in the list".into(),
                });
            };
            let r = &req.randomness;
            let w = hedged_nonce(rng, r, &req.transcript);
            // Simulated branches draw from a generator seeded by another hedged value, so
            // that a predictable system generator alone does not reveal the true branch.
            let mut sim_rng =
                crate::rng::SeededRng::new(hedged_nonce(rng, &w, &req.transcript).as_bytes());
            let mut sim = Vec::with_capacity(s.values.len());
            for (j, v) in s.values.iter().enumerate() {
                let (c, resp, s_j) = if j == req.index {
                    (Scalar::ZERO, Scalar::ZERO, w)
                } else {
                    let (c, resp) = (Scalar::random(&mut sim_rng), Scalar::random(&mut sim_rng));
                    (c, resp, resp - c * r)
                };
                let hs = s_j * half;
                halves.push(RistrettoPoint::mul_base(&hs));
                let mut b = key.mul(&hs);
                if j != req.index {
                    let delta = Scalar::from(*true_value) - Scalar::from(*v);
                    b -= RistrettoPoint::mul_base(&(c * delta * half));
                }
                halves.push(b);
                sim.push((c, resp));
            }
            plans.push((w, sim));
        }
        let encoded = Point::batch_from_halves(&halves);
        let mut commitments = encoded.chunks(2).map(|p| (p[0], p[1]));
        let mut proofs = Vec::with_capacity(requests.len());
        for (req, (w, sim)) in requests.into_iter().zip(plans) {
            let mine: Vec<(Point, Point)> = commitments.by_ref().take(sim.len()).collect();
            let c = challenge(req.transcript, &req.statement, &mine);
            let c_true = sim.iter().fold(c, |acc, (cj, _)| acc - cj);
            let branches = mine
                .into_iter()
                .zip(sim)
                .enumerate()
                .map(|(j, ((a, b), (cj, rj)))| {
                    if j == req.index {
                        Branch {
                            a,
                            b,
                            c: c_true,
                            r: w + c_true * req.randomness,
                        }
                    } else {
                        Branch { a, b, c: cj, r: rj }
                    }
                })
                .collect();
            proofs.push(MembershipProof { branches });
        }
        Ok(proofs)
    }

    /// The challenge `c` this proof answers (for test vectors).
    pub fn challenge(&self, t: Transcript, s: &MembershipStatement<'_>) -> Scalar {
        let commitments: Vec<(Point, Point)> = self.branches.iter().map(|b| (b.a, b.b)).collect();
        challenge(t, s, &commitments)
    }

    /// Checks the challenge sum and adds the `2L` equations to a batch, where `key` is the
    /// statement's public key registered in that batch.
    pub fn add_to_batch(
        &self,
        t: Transcript,
        s: &MembershipStatement<'_>,
        batch: &mut BatchVerifier,
        key: BaseId,
    ) -> Result<(), CryptoError> {
        check_values(s.values)?;
        if self.branches.len() != s.values.len() {
            return Err(CryptoError::Inconsistent {
                what: "disjunctive proof",
                why: format!(
                    "{} branches for {} allowed values",
                    self.branches.len(),
                    s.values.len()
                ),
            });
        }
        let c = self.challenge(t, s);
        let sum = self.branches.iter().fold(Scalar::ZERO, |acc, b| acc + b.c);
        if sum != c {
            return Err(CryptoError::proof(
                "disjunctive proof (challenges do not sum to the hash)",
            ));
        }
        // α and β appear in every branch: their weighted coefficients are summed so that
        // each enters the multiscalar multiplication once (2L + 2 points, not 4L).
        let (mut alpha_coefficient, mut beta_coefficient) = (Scalar::ZERO, Scalar::ZERO);
        for (branch, v) in self.branches.iter().zip(s.values) {
            let mut e = batch.equation();
            e.g(branch.r).term(-Scalar::ONE, branch.a.point());
            alpha_coefficient -= branch.c * e.weight();
            let mut e = batch.equation();
            e.base(key, branch.r)
                .term(-Scalar::ONE, branch.b.point())
                .g(branch.c * Scalar::from(*v));
            beta_coefficient -= branch.c * e.weight();
        }
        batch.weighted_term(alpha_coefficient, s.ciphertext.alpha.point());
        batch.weighted_term(beta_coefficient, s.ciphertext.beta.point());
        Ok(())
    }

    /// Verifies the proof on its own.
    pub fn verify(&self, t: Transcript, s: &MembershipStatement<'_>) -> Result<(), CryptoError> {
        let mut batch = BatchVerifier::new(&mut crate::rng::os_rng());
        let key = batch.register_base(s.key.point());
        self.add_to_batch(t, s, &mut batch, key)?;
        if batch.verify() {
            Ok(())
        } else {
            Err(CryptoError::proof("disjunctive proof"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::SecretScalar;
    use crate::rng::SeededRng;
    use proptest::prelude::*;

    fn t() -> Transcript {
        let mut t = Transcript::new("test-membership");
        t.append("context", b"ctx");
        t
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn valid_verifies_and_tampering_fails(
            seed in any::<[u8; 32]>(),
            len in 1usize..6,
            pick in 0usize..6,
            which in 0usize..6,
            branch_pick in 0usize..6,
        ) {
            let mut rng = SeededRng::new(&seed);
            let sk = SecretScalar::new(Scalar::random(&mut rng));
            let key = EncryptionKey::new(sk.public());
            let values: Vec<u64> = (0..len as u64).map(|v| v * 2 + 1).collect();
            let index = pick % len;
            let r = Scalar::random(&mut rng);
            let ct = Ciphertext::encrypt(&key, values[index], &r);
            let s = MembershipStatement { key: key.point(), ciphertext: &ct, values: &values };
            let proof = MembershipProof::prove(t(), &key, &s, index, &r, &mut rng).unwrap();
            prop_assert!(proof.verify(t(), &s).is_ok());

            let j = branch_pick % len;
            let other = Point::from_point(RistrettoPoint::random(&mut rng));
            let mut bad = proof.clone();
            let mut ct2 = ct;
            let mut values2 = values.clone();
            match which {
                0 => bad.branches[j].r += Scalar::ONE,
                1 => bad.branches[j].c += Scalar::ONE,
                2 => bad.branches[j].a = other,
                3 => bad.branches[j].b = other,
                4 => ct2.beta = other,
                _ => values2[j] += 1,
            }
            let s2 = MembershipStatement { key: key.point(), ciphertext: &ct2, values: &values2 };
            prop_assert!(bad.verify(t(), &s2).is_err());
        }
    }

    #[test]
    fn a_value_outside_the_list_cannot_be_proved() {
        let mut rng = SeededRng::new(b"outside");
        let sk = SecretScalar::new(Scalar::random(&mut rng));
        let key = EncryptionKey::new(sk.public());
        let r = Scalar::random(&mut rng);
        // Encrypts 5 but claims the list {0, 1}: the "true" branch equations fail.
        let ct = Ciphertext::encrypt(&key, 5, &r);
        let values = [0u64, 1];
        let s = MembershipStatement {
            key: key.point(),
            ciphertext: &ct,
            values: &values,
        };
        for index in 0..2 {
            let proof = MembershipProof::prove(t(), &key, &s, index, &r, &mut rng).unwrap();
            assert!(proof.verify(t(), &s).is_err());
        }
    }

    #[test]
    fn hostile_sizes_are_refused() {
        let mut rng = SeededRng::new(b"sizes");
        let sk = SecretScalar::new(Scalar::random(&mut rng));
        let key = EncryptionKey::new(sk.public());
        let r = Scalar::random(&mut rng);
        let ct = Ciphertext::encrypt(&key, 0, &r);
        let many: Vec<u64> = (0..(MAX_VALUES as u64 + 1)).collect();
        let s = MembershipStatement {
            key: key.point(),
            ciphertext: &ct,
            values: &many,
        };
        assert!(matches!(
            MembershipProof::prove(t(), &key, &s, 0, &r, &mut rng),
            Err(CryptoError::OutOfBounds { .. })
        ));
        let empty = MembershipProof { branches: vec![] };
        let s = MembershipStatement {
            key: key.point(),
            ciphertext: &ct,
            values: &[0, 1],
        };
        assert!(empty.verify(t(), &s).is_err());
    }
}
