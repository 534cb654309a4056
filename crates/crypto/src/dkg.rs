//! Pedersen distributed key generation with Feldman commitments (spec §6).
//!
//! `n` trustees, numbered `1 … n`, jointly create an election key `H = xG` such that any
//! `k` of them can decrypt and fewer than `k` learn nothing about `x`; no one ever holds
//! `x` (Pedersen, *A threshold cryptosystem without a trusted party*, EUROCRYPT 1991;
//! Gennaro, Jarecki, Krawczyk, Rabin, J. Cryptology 2007).
//!
//! 1. **Commit.** Trustee `i` draws a communication key `Eᵢ = eᵢG` and a polynomial
//!    `fᵢ(z) = aᵢ₀ + aᵢ₁z + … + aᵢ,ₖ₋₁ z^{k−1}`, publishes `Eᵢ`, the Feldman commitments
//!    `Aᵢₜ = aᵢₜG`, and a Schnorr proof of knowledge for each of them.
//! 2. **Deal.** For every recipient `j`, trustee `i` encrypts `sᵢⱼ = fᵢ(j)` to `Eⱼ`:
//!    `Rᵢⱼ = ρG`, `Kᵢⱼ = ρEⱼ`, `mᵢⱼ = sᵢⱼ + pad(Kᵢⱼ)`.
//! 3. **Check.** Recipient `j` computes `K = eⱼRᵢⱼ`, `sᵢⱼ = mᵢⱼ − pad(K)` and checks
//!    `sᵢⱼG = Σₜ jᵗ Aᵢₜ`. On failure it publishes a complaint: `K` with a Chaum–Pedersen
//!    proof that `log_G Eⱼ = log_{Rᵢⱼ} K`. Anyone can then decrypt the share and see that
//!    dealer `i` cheated; a dealer with a justified complaint is disqualified, by name.
//! 4. **Key.** With `Q` the qualified dealers: `H = Σ_{i∈Q} Aᵢ₀`; trustee `j`'s share is
//!    `xⱼ = Σ_{i∈Q} sᵢⱼ` and its public verification key `Yⱼ = Σ_{i∈Q} Σₜ jᵗ Aᵢₜ = xⱼG`.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, VartimeMultiscalarMul};
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::chaum_pedersen::{DleqProof, DleqStatement};
use crate::elgamal::SecretScalar;
use crate::group::hex_scalar;
use crate::schnorr::SchnorrProof;
use crate::transcript::Transcript;
use crate::{CryptoError, Point};

/// The largest number of trustees.
pub const MAX_TRUSTEES: u32 = 64;

/// Domain tags of the key generation (spec §3, table 1).
pub mod tags {
    pub const COMMUNICATION_KEY: &str = "dkg-communication-key";
    pub const COEFFICIENT: &str = "dkg-coefficient";
    pub const SHARE_PAD: &str = "dkg-share-pad";
    pub const COMPLAINT: &str = "dkg-complaint";
}

/// `n` trustees, threshold `k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct DkgParameters {
    pub trustees: u32,
    pub threshold: u32,
}

impl DkgParameters {
    /// Checks `1 ≤ k ≤ n ≤ MAX_TRUSTEES`.
    pub fn new(trustees: u32, threshold: u32) -> Result<Self, CryptoError> {
        if trustees == 0 || trustees > MAX_TRUSTEES || threshold == 0 || threshold > trustees {
            return Err(CryptoError::OutOfBounds {
                what: "trustees and threshold",
                why: format!(
                    "need 1 <= threshold <= trustees <= {MAX_TRUSTEES}, got {threshold} of {trustees}"
                ),
            });
        }
        Ok(DkgParameters {
            trustees,
            threshold,
        })
    }

    fn check_index(&self, index: u32, what: &'static str) -> Result<(), CryptoError> {
        if index == 0 || index > self.trustees {
            return Err(CryptoError::OutOfBounds {
                what,
                why: format!("trustee index {index} not in 1..={}", self.trustees),
            });
        }
        Ok(())
    }
}

/// What trustee `i` keeps secret: its communication key and polynomial. Wiped on drop.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrusteeSecrets {
    pub index: u32,
    pub communication_secret: SecretScalar,
    pub coefficients: Vec<SecretScalar>,
}

/// Step 1, public: communication key, Feldman commitments, proofs of knowledge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrusteeCommitment {
    pub index: u32,
    pub communication_key: Point,
    pub communication_proof: SchnorrProof,
    pub coefficient_commitments: Vec<Point>,
    pub coefficient_proofs: Vec<SchnorrProof>,
}

/// One encrypted share `(Rᵢⱼ, mᵢⱼ)` for recipient `j`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptedShare {
    pub recipient: u32,
    pub ephemeral: Point,
    #[serde(with = "hex_scalar")]
    pub masked_share: Scalar,
}

/// Step 2, public: dealer `i`'s encrypted shares, one per trustee in order `1 … n`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealerShares {
    pub dealer: u32,
    pub shares: Vec<EncryptedShare>,
}

/// A recipient's proof that a dealer sent it a bad share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Complaint {
    pub dealer: u32,
    pub shared_key: Point,
    pub proof: DleqProof,
}

/// Step 3, public: trustee `j`'s complaints (usually none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrusteeCheck {
    pub index: u32,
    pub complaints: Vec<Complaint>,
}

/// Step 4: the election key, the qualified dealers and each trustee's verification key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JointKey {
    pub public_key: Point,
    pub qualified: Vec<u32>,
    pub verification_keys: Vec<Point>,
}

/// A trustee's share `xⱼ` of the election secret key. Wiped on drop.
#[derive(Clone, Debug)]
pub struct KeyShare {
    pub index: u32,
    pub secret: SecretScalar,
}

fn communication_transcript(context: &[u8], index: u32) -> Transcript {
    let mut t = Transcript::new(tags::COMMUNICATION_KEY);
    t.append("context", context)
        .append_u64("trustee", index.into());
    t
}

fn coefficient_transcript(context: &[u8], index: u32, position: usize) -> Transcript {
    let mut t = Transcript::new(tags::COEFFICIENT);
    t.append("context", context)
        .append_u64("trustee", index.into())
        .append_u64("position", position as u64);
    t
}

fn complaint_transcript(context: &[u8], dealer: u32, recipient: u32) -> Transcript {
    let mut t = Transcript::new(tags::COMPLAINT);
    t.append("context", context)
        .append_u64("dealer", dealer.into())
        .append_u64("recipient", recipient.into());
    t
}

/// `pad(K) = challenge("dkg-share-pad" ‖ context ‖ dealer ‖ recipient ‖ R ‖ K)`.
fn share_pad(
    context: &[u8],
    dealer: u32,
    recipient: u32,
    ephemeral: &Point,
    shared: &Point,
) -> Scalar {
    let mut t = Transcript::new(tags::SHARE_PAD);
    t.append("context", context)
        .append_u64("dealer", dealer.into())
        .append_u64("recipient", recipient.into())
        .append_point("ephemeral", ephemeral)
        .append_point("shared", shared);
    t.challenge()
}

/// `Σₜ jᵗ Aₜ`: the Feldman commitment to `f(j)`.
fn commitment_at(commitments: &[Point], j: u32) -> RistrettoPoint {
    let x = Scalar::from(j);
    let mut power = Scalar::ONE;
    let mut scalars = Vec::with_capacity(commitments.len());
    for _ in commitments {
        scalars.push(power);
        power *= x;
    }
    RistrettoPoint::vartime_multiscalar_mul(scalars, commitments.iter().map(|p| *p.point()))
}

fn evaluate(coefficients: &[SecretScalar], j: u32) -> Scalar {
    let x = Scalar::from(j);
    coefficients
        .iter()
        .rev()
        .fold(Scalar::ZERO, |acc, a| acc * x + a.expose())
}

/// Step 1: trustee `index` draws its secrets and publishes its commitment.
pub fn commit<R: CryptoRng + ?Sized>(
    params: &DkgParameters,
    context: &[u8],
    index: u32,
    rng: &mut R,
) -> Result<(TrusteeSecrets, TrusteeCommitment), CryptoError> {
    params.check_index(index, "trustee")?;
    let communication_secret = SecretScalar::new(Scalar::random(rng));
    let communication_key = communication_secret.public();
    let communication_proof = SchnorrProof::prove(
        communication_transcript(context, index),
        &communication_key,
        communication_secret.expose(),
        rng,
    );
    let coefficients: Vec<SecretScalar> = (0..params.threshold)
        .map(|_| SecretScalar::new(Scalar::random(rng)))
        .collect();
    let coefficient_commitments: Vec<Point> = coefficients.iter().map(|a| a.public()).collect();
    let coefficient_proofs = coefficients
        .iter()
        .zip(&coefficient_commitments)
        .enumerate()
        .map(|(t, (a, big_a))| {
            SchnorrProof::prove(
                coefficient_transcript(context, index, t),
                big_a,
                a.expose(),
                rng,
            )
        })
        .collect();
    Ok((
        TrusteeSecrets {
            index,
            communication_secret,
            coefficients,
        },
        TrusteeCommitment {
            index,
            communication_key,
            communication_proof,
            coefficient_commitments,
            coefficient_proofs,
        },
    ))
}

/// Checks a step-1 commitment: sizes, non-identity keys and every proof of knowledge.
pub fn verify_commitment(
    params: &DkgParameters,
    context: &[u8],
    c: &TrusteeCommitment,
) -> Result<(), CryptoError> {
    params.check_index(c.index, "trustee commitment")?;
    let k = params.threshold as usize;
    if c.coefficient_commitments.len() != k || c.coefficient_proofs.len() != k {
        return Err(CryptoError::Inconsistent {
            what: "trustee commitment",
            why: format!(
                "threshold is {k} but {} commitments and {} proofs",
                c.coefficient_commitments.len(),
                c.coefficient_proofs.len()
            ),
        });
    }
    if c.communication_key.is_identity() || c.coefficient_commitments.iter().any(Point::is_identity)
    {
        return Err(CryptoError::Inconsistent {
            what: "trustee commitment",
            why: "a key or commitment is the neutral element".into(),
        });
    }
    c.communication_proof
        .verify(
            communication_transcript(context, c.index),
            &c.communication_key,
        )
        .map_err(|_| CryptoError::proof("proof of the communication key"))?;
    for (t, (a, proof)) in c
        .coefficient_commitments
        .iter()
        .zip(&c.coefficient_proofs)
        .enumerate()
    {
        proof
            .verify(coefficient_transcript(context, c.index, t), a)
            .map_err(|_| CryptoError::proof("proof of a coefficient commitment"))?;
    }
    Ok(())
}

fn check_all_commitments(
    params: &DkgParameters,
    commitments: &[TrusteeCommitment],
) -> Result<(), CryptoError> {
    if commitments.len() != params.trustees as usize
        || commitments
            .iter()
            .enumerate()
            .any(|(i, c)| c.index as usize != i + 1)
    {
        return Err(CryptoError::Inconsistent {
            what: "trustee commitments",
            why: format!(
                "expected one commitment per trustee 1..={}, in order",
                params.trustees
            ),
        });
    }
    Ok(())
}

/// Step 2: dealer `secrets.index` encrypts `f(j)` to every trustee `j`.
pub fn deal<R: CryptoRng + ?Sized>(
    params: &DkgParameters,
    context: &[u8],
    secrets: &TrusteeSecrets,
    commitments: &[TrusteeCommitment],
    rng: &mut R,
) -> Result<DealerShares, CryptoError> {
    check_all_commitments(params, commitments)?;
    let shares = commitments
        .iter()
        .map(|recipient| {
            let rho = SecretScalar::new(Scalar::random(rng));
            let ephemeral = rho.public();
            let shared = Point::from_point(recipient.communication_key.point() * rho.expose());
            let pad = share_pad(context, secrets.index, recipient.index, &ephemeral, &shared);
            let share = SecretScalar::new(evaluate(&secrets.coefficients, recipient.index));
            EncryptedShare {
                recipient: recipient.index,
                ephemeral,
                masked_share: share.expose() + pad,
            }
        })
        .collect();
    Ok(DealerShares {
        dealer: secrets.index,
        shares,
    })
}

/// Checks the shape of a dealer's step-2 message: one share per trustee, in order.
pub fn verify_dealer_shares(params: &DkgParameters, d: &DealerShares) -> Result<(), CryptoError> {
    params.check_index(d.dealer, "dealer")?;
    if d.shares.len() != params.trustees as usize
        || d.shares
            .iter()
            .enumerate()
            .any(|(j, s)| s.recipient as usize != j + 1)
    {
        return Err(CryptoError::Inconsistent {
            what: "dealer shares",
            why: format!(
                "expected one share per trustee 1..={}, in order",
                params.trustees
            ),
        });
    }
    Ok(())
}

/// Decrypts with the shared point `K` and checks against the dealer's commitments.
fn open_share(
    context: &[u8],
    dealer: &TrusteeCommitment,
    share: &EncryptedShare,
    shared: &Point,
) -> Option<Scalar> {
    let pad = share_pad(
        context,
        dealer.index,
        share.recipient,
        &share.ephemeral,
        shared,
    );
    let s = share.masked_share - pad;
    let expected = commitment_at(&dealer.coefficient_commitments, share.recipient);
    (RistrettoPoint::mul_base(&s) == expected).then_some(s)
}

/// Step 3: trustee `secrets.index` decrypts and checks every share it received,
/// and complains about each dealer whose share is wrong.
pub fn check_shares<R: CryptoRng + ?Sized>(
    params: &DkgParameters,
    context: &[u8],
    secrets: &TrusteeSecrets,
    commitments: &[TrusteeCommitment],
    dealt: &[DealerShares],
    rng: &mut R,
) -> Result<TrusteeCheck, CryptoError> {
    check_all_commitments(params, commitments)?;
    let me = secrets.index;
    params.check_index(me, "trustee")?;
    let my_commitment = commitments
        .get(me as usize - 1)
        .ok_or(CryptoError::Inconsistent {
            what: "trustee index",
            why: format!("{me}"),
        })?;
    let mut complaints = Vec::new();
    for d in dealt {
        verify_dealer_shares(params, d)?;
        let dealer = commitments
            .get(d.dealer as usize - 1)
            .ok_or(CryptoError::Inconsistent {
                what: "dealer index",
                why: format!("{}", d.dealer),
            })?;
        let share = d.shares[me as usize - 1];
        let shared =
            Point::from_point(share.ephemeral.point() * secrets.communication_secret.expose());
        if open_share(context, dealer, &share, &shared).is_none() {
            let statement = DleqStatement {
                base: &share.ephemeral,
                public: &my_commitment.communication_key,
                image: &shared,
            };
            let proof = DleqProof::prove(
                complaint_transcript(context, d.dealer, me),
                &statement,
                secrets.communication_secret.expose(),
                rng,
            );
            complaints.push(Complaint {
                dealer: d.dealer,
                shared_key: shared,
                proof,
            });
        }
    }
    Ok(TrusteeCheck {
        index: me,
        complaints,
    })
}

/// Checks a complaint of `recipient` against `dealer`: `Ok` when it is justified (the
/// dealer cheated and must be disqualified), an error when the complaint itself is false.
pub fn verify_complaint(
    context: &[u8],
    recipient: &TrusteeCommitment,
    dealer: &TrusteeCommitment,
    dealt: &DealerShares,
    complaint: &Complaint,
) -> Result<(), CryptoError> {
    let share = dealt
        .shares
        .get((recipient.index as usize).wrapping_sub(1))
        .filter(|s| {
            s.recipient == recipient.index
                && dealt.dealer == dealer.index
                && complaint.dealer == dealer.index
        })
        .ok_or(CryptoError::Inconsistent {
            what: "complaint",
            why: "no such share".into(),
        })?;
    let statement = DleqStatement {
        base: &share.ephemeral,
        public: &recipient.communication_key,
        image: &complaint.shared_key,
    };
    complaint
        .proof
        .verify(
            complaint_transcript(context, dealer.index, recipient.index),
            &statement,
        )
        .map_err(|_| CryptoError::proof("complaint proof"))?;
    match open_share(context, dealer, share, &complaint.shared_key) {
        None => Ok(()),
        Some(_) => Err(CryptoError::Inconsistent {
            what: "complaint",
            why: format!(
                "the share of dealer {} to trustee {} is correct",
                dealer.index, recipient.index
            ),
        }),
    }
}

/// Step 4: the election key from the qualified dealers (all but `disqualified`).
pub fn joint_key(
    params: &DkgParameters,
    commitments: &[TrusteeCommitment],
    disqualified: &[u32],
) -> Result<JointKey, CryptoError> {
    check_all_commitments(params, commitments)?;
    for &i in disqualified {
        params.check_index(i, "disqualified dealer")?;
    }
    let qualified: Vec<u32> = (1..=params.trustees)
        .filter(|i| !disqualified.contains(i))
        .collect();
    // With fewer than k qualified dealers, k − 1 colluders could be all of them.
    if qualified.len() < params.threshold as usize {
        return Err(CryptoError::Inconsistent {
            what: "key generation",
            why: format!(
                "only {} qualified dealers remain, at least the threshold {} are needed",
                qualified.len(),
                params.threshold
            ),
        });
    }
    let q: Vec<&TrusteeCommitment> = commitments
        .iter()
        .filter(|c| qualified.contains(&c.index))
        .collect();
    let public_key = q.iter().fold(RistrettoPoint::identity(), |acc, c| {
        acc + c.coefficient_commitments[0].point()
    });
    let verification_keys = (1..=params.trustees)
        .map(|j| {
            Point::from_point(q.iter().fold(RistrettoPoint::identity(), |acc, c| {
                acc + commitment_at(&c.coefficient_commitments, j)
            }))
        })
        .collect();
    Ok(JointKey {
        public_key: Point::from_point(public_key),
        qualified,
        verification_keys,
    })
}

/// Trustee `secrets.index` computes its key share `xⱼ` from the qualified dealers' shares.
pub fn key_share(
    params: &DkgParameters,
    context: &[u8],
    secrets: &TrusteeSecrets,
    commitments: &[TrusteeCommitment],
    dealt: &[DealerShares],
    key: &JointKey,
) -> Result<KeyShare, CryptoError> {
    check_all_commitments(params, commitments)?;
    let me = secrets.index;
    params.check_index(me, "trustee")?;
    let mut x = Scalar::ZERO;
    for &i in &key.qualified {
        let d = dealt
            .iter()
            .find(|d| d.dealer == i)
            .ok_or(CryptoError::Inconsistent {
                what: "key share",
                why: format!("no shares from qualified dealer {i}"),
            })?;
        verify_dealer_shares(params, d)?;
        let share = d.shares[me as usize - 1];
        let shared =
            Point::from_point(share.ephemeral.point() * secrets.communication_secret.expose());
        let dealer =
            commitments
                .get((i as usize).wrapping_sub(1))
                .ok_or(CryptoError::Inconsistent {
                    what: "key share",
                    why: format!("qualified dealer {i} is not a trustee"),
                })?;
        let s = open_share(context, dealer, &share, &shared).ok_or(CryptoError::Inconsistent {
            what: "key share",
            why: format!("the share of qualified dealer {i} does not match its commitments"),
        })?;
        x += s;
    }
    let share = KeyShare {
        index: me,
        secret: SecretScalar::new(x),
    };
    if Some(&share.secret.public()) != key.verification_keys.get(me as usize - 1) {
        return Err(CryptoError::Inconsistent {
            what: "key share",
            why: "does not match the published verification key".into(),
        });
    }
    Ok(share)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SeededRng;

    fn ceremony(
        n: u32,
        k: u32,
        cheat: Option<(u32, u32)>,
    ) -> (
        Vec<TrusteeSecrets>,
        Vec<TrusteeCommitment>,
        Vec<DealerShares>,
        Vec<TrusteeCheck>,
    ) {
        let params = DkgParameters::new(n, k).unwrap();
        let mut rng = SeededRng::new(b"dkg");
        let ctx = b"election";
        let (secrets, commitments): (Vec<_>, Vec<_>) = (1..=n)
            .map(|i| commit(&params, ctx, i, &mut rng).unwrap())
            .unzip();
        for c in &commitments {
            verify_commitment(&params, ctx, c).unwrap();
        }
        let mut dealt: Vec<DealerShares> = secrets
            .iter()
            .map(|s| deal(&params, ctx, s, &commitments, &mut rng).unwrap())
            .collect();
        if let Some((dealer, recipient)) = cheat {
            dealt[dealer as usize - 1].shares[recipient as usize - 1].masked_share += Scalar::ONE;
        }
        let checks = secrets
            .iter()
            .map(|s| check_shares(&params, ctx, s, &commitments, &dealt, &mut rng).unwrap())
            .collect();
        (secrets, commitments, dealt, checks)
    }

    #[test]
    fn honest_ceremony_gives_consistent_shares() {
        let params = DkgParameters::new(3, 2).unwrap();
        let (secrets, commitments, dealt, checks) = ceremony(3, 2, None);
        assert!(checks.iter().all(|c| c.complaints.is_empty()));
        let key = joint_key(&params, &commitments, &[]).unwrap();
        let shares: Vec<KeyShare> = secrets
            .iter()
            .map(|s| key_share(&params, b"election", s, &commitments, &dealt, &key).unwrap())
            .collect();
        // Any two shares interpolate the secret key.
        let lambda = crate::threshold::lagrange_at_zero(&[1, 3]).unwrap();
        let x = lambda[0] * shares[0].secret.expose() + lambda[1] * shares[2].secret.expose();
        assert_eq!(
            Point::from_point(RistrettoPoint::mul_base(&x)),
            key.public_key
        );
    }

    #[test]
    fn a_cheating_dealer_is_named_and_disqualified() {
        let params = DkgParameters::new(3, 2).unwrap();
        let (secrets, commitments, dealt, checks) = ceremony(3, 2, Some((2, 3)));
        let complaints = &checks[2].complaints;
        assert_eq!(complaints.len(), 1);
        assert_eq!(complaints[0].dealer, 2);
        verify_complaint(
            b"election",
            &commitments[2],
            &commitments[1],
            &dealt[1],
            &complaints[0],
        )
        .unwrap();
        let key = joint_key(&params, &commitments, &[2]).unwrap();
        assert_eq!(key.qualified, vec![1, 3]);
        for s in &secrets {
            key_share(&params, b"election", s, &commitments, &dealt, &key).unwrap();
        }
    }

    #[test]
    fn a_false_complaint_is_refused() {
        let (_, commitments, dealt, _) = ceremony(3, 2, Some((2, 3)));
        let (secrets, _, _, checks) = ceremony(3, 2, Some((2, 3)));
        // Trustee 1 received a good share from dealer 2 but complains anyway.
        let mut rng = SeededRng::new(b"liar");
        let share = dealt[1].shares[0];
        let shared =
            Point::from_point(share.ephemeral.point() * secrets[0].communication_secret.expose());
        let statement = DleqStatement {
            base: &share.ephemeral,
            public: &commitments[0].communication_key,
            image: &shared,
        };
        let proof = DleqProof::prove(
            complaint_transcript(b"election", 2, 1),
            &statement,
            secrets[0].communication_secret.expose(),
            &mut rng,
        );
        let lie = Complaint {
            dealer: 2,
            shared_key: shared,
            proof,
        };
        assert!(
            verify_complaint(
                b"election",
                &commitments[0],
                &commitments[1],
                &dealt[1],
                &lie
            )
            .is_err()
        );
        // A justified complaint with a tampered shared key fails its proof.
        let mut forged = checks[2].complaints[0];
        forged.shared_key = commitments[0].communication_key;
        assert!(
            verify_complaint(
                b"election",
                &commitments[2],
                &commitments[1],
                &dealt[1],
                &forged
            )
            .is_err()
        );
    }

    #[test]
    fn tampered_commitments_are_refused() {
        let params = DkgParameters::new(3, 2).unwrap();
        let (_, commitments, _, _) = ceremony(3, 2, None);
        let mut c = commitments[0].clone();
        c.coefficient_commitments[1] = commitments[1].coefficient_commitments[1];
        assert!(verify_commitment(&params, b"election", &c).is_err());
        let mut c = commitments[0].clone();
        c.coefficient_proofs.pop();
        assert!(verify_commitment(&params, b"election", &c).is_err());
        assert!(verify_commitment(&params, b"other election", &commitments[0]).is_err());
        assert!(DkgParameters::new(3, 4).is_err());
        assert!(DkgParameters::new(0, 0).is_err());
        assert!(DkgParameters::new(MAX_TRUSTEES + 1, 2).is_err());
    }
}
