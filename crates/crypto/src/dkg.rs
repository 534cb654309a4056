//! Distributed key generation: Pedersen's protocol with Feldman commitments, made
//! unbiasable by committing to every dealing before any is revealed and by never removing
//! a dealing from the key (spec §6).
//!
//! `n` trustees, numbered `1 … n`, jointly create an election key `H = xG` such that any
//! `k` of them can decrypt and fewer than `k` learn nothing about `x`; no one ever holds
//! `x` (Pedersen, *A threshold cryptosystem without a trusted party*, EUROCRYPT 1991).
//!
//! 1. **Commit.** Trustee `i` draws a communication key `Eᵢ = eᵢG` and a polynomial
//!    `fᵢ(z) = aᵢ₀ + aᵢ₁z + … + aᵢ,ₖ₋₁ z^{k−1}`, and publishes `Eᵢ` with a proof of
//!    knowledge and only a **hash** `hᵢ` of its Feldman commitments `Aᵢₜ = aᵢₜG`.
//! 2. **Deal.** Once every trustee has committed, trustee `i` reveals the `Aᵢₜ` (which must
//!    hash to `hᵢ`) with a Schnorr proof of knowledge of each `aᵢₜ`, and encrypts
//!    `sᵢⱼ = fᵢ(j)` to every `Eⱼ`: `Rᵢⱼ = ρG`, `Kᵢⱼ = ρEⱼ`, `mᵢⱼ = sᵢⱼ + pad(Kᵢⱼ)`.
//! 3. **Check.** Recipient `j` computes `K = eⱼRᵢⱼ`, `sᵢⱼ = mᵢⱼ − pad(K)` and checks
//!    `sᵢⱼG = Σₜ jᵗ Aᵢₜ`. On failure it publishes a complaint: `K` with a Chaum–Pedersen
//!    proof that `log_G Eⱼ = log_{Rᵢⱼ} K`, so anyone sees that dealer `i` cheated.
//! 4. **Key.** `H = Σᵢ Aᵢ₀` over **all** `n` dealers; trustee `j`'s share is
//!    `xⱼ = Σᵢ sᵢⱼ` with verification key `Yⱼ = Σᵢ Σₜ jᵗ Aᵢₜ = xⱼG`. A trustee that made a
//!    justified complaint holds no valid share and is not a *decryptor*; at least `k`
//!    decryptors are needed.
//!
//! **Why no dealer can bias `H`.** In Pedersen's original protocol a dealer that sees the
//! others' `Aⱼ₀` can choose to be disqualified, or grind its own coefficient, and so pick
//! between several keys (Gennaro, Jarecki, Krawczyk, Rabin, *Secure distributed key
//! generation for discrete-log based cryptosystems*, J. Cryptology 20(1), 2007). Here every
//! `Aᵢ₀` is fixed by the hash `hᵢ` before any is revealed, so nobody can choose its own as a
//! function of the others'; and a complaint never removes a dealing from the key, so a
//! dealer that corrupts a share (even its own, and complains about it) changes who can
//! decrypt, not which coefficients the key is made of. A dealer that refuses to reveal
//! stops the ceremony altogether: no key comes out (availability, not bias).

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, VartimeMultiscalarMul};
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};

use crate::chaum_pedersen::{DleqProof, DleqStatement};
use crate::elgamal::SecretScalar;
use crate::group::{hex_scalar, hex32};
use crate::schnorr::SchnorrProof;
use crate::transcript::Transcript;
use crate::{CryptoError, Point};

/// The largest number of trustees.
pub const MAX_TRUSTEES: u32 = 64;

/// Domain tags of the key generation (spec §3, table 1).
pub mod tags {
    pub const COMMUNICATION_KEY: &str = "dkg-communication-key";
    pub const COEFFICIENTS_HASH: &str = "dkg-coefficients-hash";
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

/// Step 1, public: the communication key with its proof of knowledge, and the hash that
/// fixes the Feldman commitments before anybody reveals theirs (§6.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrusteeCommitment {
    pub index: u32,
    pub communication_key: Point,
    pub communication_proof: SchnorrProof,
    #[serde(with = "hex32")]
    pub coefficients_hash: [u8; 32],
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

/// Step 2, public: dealer `i`'s Feldman commitments with their proofs of knowledge, and
/// its encrypted shares, one per trustee in order `1 … n` (§6.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealerShares {
    pub dealer: u32,
    pub coefficient_commitments: Vec<Point>,
    pub coefficient_proofs: Vec<SchnorrProof>,
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

/// Step 4: the election key, the trustees holding a valid key share, and each trustee's
/// verification key (§6.5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JointKey {
    pub public_key: Point,
    pub decryptors: Vec<u32>,
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

/// The transcript whose SHA-512 (first 32 bytes) is trustee `index`'s coefficients hash.
pub fn coefficients_hash_transcript(
    context: &[u8],
    index: u32,
    commitments: &[Point],
) -> Transcript {
    let mut t = Transcript::new(tags::COEFFICIENTS_HASH);
    t.append("context", context)
        .append_u64("trustee", index.into());
    for a in commitments {
        t.append_point("commitment", a);
    }
    t
}

/// `hᵢ`: the first 32 bytes of SHA-512 of [`coefficients_hash_transcript`] (§6.2).
pub fn coefficients_hash(context: &[u8], index: u32, commitments: &[Point]) -> [u8; 32] {
    let digest = Sha512::digest(coefficients_hash_transcript(context, index, commitments).bytes());
    let mut h = [0u8; 32];
    h.copy_from_slice(&digest[..32]);
    h
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

/// Step 1: trustee `index` draws its secrets and publishes its communication key and the
/// hash of its Feldman commitments.
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
    let commitments: Vec<Point> = coefficients.iter().map(|a| a.public()).collect();
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
            coefficients_hash: coefficients_hash(context, index, &commitments),
        },
    ))
}

/// Checks a step-1 commitment: index, non-identity key and its proof of knowledge.
pub fn verify_commitment(
    params: &DkgParameters,
    context: &[u8],
    c: &TrusteeCommitment,
) -> Result<(), CryptoError> {
    params.check_index(c.index, "trustee commitment")?;
    if c.communication_key.is_identity() {
        return Err(CryptoError::Inconsistent {
            what: "trustee commitment",
            why: "the communication key is the neutral element".into(),
        });
    }
    c.communication_proof
        .verify(
            communication_transcript(context, c.index),
            &c.communication_key,
        )
        .map_err(|_| CryptoError::proof("proof of the communication key"))
}

fn check_all<T>(
    params: &DkgParameters,
    items: &[T],
    index: impl Fn(&T) -> u32,
    what: &'static str,
) -> Result<(), CryptoError> {
    if items.len() != params.trustees as usize
        || items
            .iter()
            .enumerate()
            .any(|(i, c)| index(c) as usize != i + 1)
    {
        return Err(CryptoError::Inconsistent {
            what,
            why: format!("expected one per trustee 1..={}, in order", params.trustees),
        });
    }
    Ok(())
}

/// Step 2: dealer `secrets.index` reveals its Feldman commitments with proofs of
/// knowledge and encrypts `f(j)` to every trustee `j`.
pub fn deal<R: CryptoRng + ?Sized>(
    params: &DkgParameters,
    context: &[u8],
    secrets: &TrusteeSecrets,
    commitments: &[TrusteeCommitment],
    rng: &mut R,
) -> Result<DealerShares, CryptoError> {
    check_all(params, commitments, |c| c.index, "trustee commitments")?;
    let me = secrets.index;
    let coefficient_commitments: Vec<Point> =
        secrets.coefficients.iter().map(|a| a.public()).collect();
    let mine = commitments
        .get((me as usize).wrapping_sub(1))
        .ok_or(CryptoError::Inconsistent {
            what: "dealer",
            why: format!("there is no trustee {me}"),
        })?;
    if mine.coefficients_hash != coefficients_hash(context, me, &coefficient_commitments) {
        return Err(CryptoError::Inconsistent {
            what: "dealer",
            why: format!("these coefficients are not those trustee {me} committed to"),
        });
    }
    let coefficient_proofs = secrets
        .coefficients
        .iter()
        .zip(&coefficient_commitments)
        .enumerate()
        .map(|(t, (a, big_a))| {
            SchnorrProof::prove(
                coefficient_transcript(context, me, t),
                big_a,
                a.expose(),
                rng,
            )
        })
        .collect();
    let shares = commitments
        .iter()
        .map(|recipient| {
            let rho = SecretScalar::new(Scalar::random(rng));
            let ephemeral = rho.public();
            let shared = Point::from_point(recipient.communication_key.point() * rho.expose());
            let pad = share_pad(context, me, recipient.index, &ephemeral, &shared);
            let share = SecretScalar::new(evaluate(&secrets.coefficients, recipient.index));
            EncryptedShare {
                recipient: recipient.index,
                ephemeral,
                masked_share: share.expose() + pad,
            }
        })
        .collect();
    Ok(DealerShares {
        dealer: me,
        coefficient_commitments,
        coefficient_proofs,
        shares,
    })
}

/// Checks a dealer's step-2 message against its step-1 commitment: one share per trustee
/// in order, `k` Feldman commitments (none the identity) that hash to the committed
/// `coefficients_hash`, and a valid proof of knowledge of each.
pub fn verify_dealer_shares(
    params: &DkgParameters,
    context: &[u8],
    commitment: &TrusteeCommitment,
    d: &DealerShares,
) -> Result<(), CryptoError> {
    params.check_index(d.dealer, "dealer")?;
    check_all(params, &d.shares, |s| s.recipient, "dealer shares")?;
    let k = params.threshold as usize;
    if d.coefficient_commitments.len() != k || d.coefficient_proofs.len() != k {
        return Err(CryptoError::Inconsistent {
            what: "dealer shares",
            why: format!(
                "threshold is {k} but {} commitments and {} proofs",
                d.coefficient_commitments.len(),
                d.coefficient_proofs.len()
            ),
        });
    }
    if d.coefficient_commitments.iter().any(Point::is_identity) {
        return Err(CryptoError::Inconsistent {
            what: "dealer shares",
            why: "a coefficient commitment is the neutral element".into(),
        });
    }
    if commitment.index != d.dealer
        || commitment.coefficients_hash
            != coefficients_hash(context, d.dealer, &d.coefficient_commitments)
    {
        return Err(CryptoError::Inconsistent {
            what: "dealer shares",
            why: format!(
                "the coefficient commitments do not hash to those trustee {} committed to in step 1",
                d.dealer
            ),
        });
    }
    for (t, (a, proof)) in d
        .coefficient_commitments
        .iter()
        .zip(&d.coefficient_proofs)
        .enumerate()
    {
        proof
            .verify(coefficient_transcript(context, d.dealer, t), a)
            .map_err(|_| CryptoError::proof("proof of a coefficient commitment"))?;
    }
    Ok(())
}

/// Decrypts with the shared point `K` and checks against the dealer's commitments.
fn open_share(
    context: &[u8],
    dealt: &DealerShares,
    share: &EncryptedShare,
    shared: &Point,
) -> Option<Scalar> {
    let pad = share_pad(
        context,
        dealt.dealer,
        share.recipient,
        &share.ephemeral,
        shared,
    );
    let s = share.masked_share - pad;
    let expected = commitment_at(&dealt.coefficient_commitments, share.recipient);
    (RistrettoPoint::mul_base(&s) == expected).then_some(s)
}

fn my_share(dealt: &DealerShares, me: u32) -> Result<EncryptedShare, CryptoError> {
    dealt
        .shares
        .get((me as usize).wrapping_sub(1))
        .copied()
        .filter(|s| s.recipient == me)
        .ok_or(CryptoError::Inconsistent {
            what: "dealer shares",
            why: format!("dealer {} has no share for trustee {me}", dealt.dealer),
        })
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
    check_all(params, commitments, |c| c.index, "trustee commitments")?;
    check_all(params, dealt, |d| d.dealer, "dealings")?;
    let me = secrets.index;
    params.check_index(me, "trustee")?;
    let my_key = secrets.communication_secret.public();
    let mut complaints = Vec::new();
    for (d, c) in dealt.iter().zip(commitments) {
        verify_dealer_shares(params, context, c, d)?;
        let share = my_share(d, me)?;
        let shared =
            Point::from_point(share.ephemeral.point() * secrets.communication_secret.expose());
        if open_share(context, d, &share, &shared).is_none() {
            let statement = DleqStatement {
                base: &share.ephemeral,
                public: &my_key,
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

/// Checks a complaint of `recipient` against the dealing `dealt`: `Ok` when it is
/// justified (the dealer sent a bad share), an error when the complaint itself is false.
pub fn verify_complaint(
    context: &[u8],
    recipient: &TrusteeCommitment,
    dealt: &DealerShares,
    complaint: &Complaint,
) -> Result<(), CryptoError> {
    if complaint.dealer != dealt.dealer {
        return Err(CryptoError::Inconsistent {
            what: "complaint",
            why: "no such share".into(),
        });
    }
    let share = my_share(dealt, recipient.index)?;
    let statement = DleqStatement {
        base: &share.ephemeral,
        public: &recipient.communication_key,
        image: &complaint.shared_key,
    };
    complaint
        .proof
        .verify(
            complaint_transcript(context, dealt.dealer, recipient.index),
            &statement,
        )
        .map_err(|_| CryptoError::proof("complaint proof"))?;
    match open_share(context, dealt, &share, &complaint.shared_key) {
        None => Ok(()),
        Some(_) => Err(CryptoError::Inconsistent {
            what: "complaint",
            why: format!(
                "the share of dealer {} to trustee {} is correct",
                dealt.dealer, recipient.index
            ),
        }),
    }
}

/// Step 4: the election key from **all** dealings; `complained` lists the trustees that
/// made a justified complaint, who hold no valid key share.
pub fn joint_key(
    params: &DkgParameters,
    dealt: &[DealerShares],
    complained: &[u32],
) -> Result<JointKey, CryptoError> {
    check_all(params, dealt, |d| d.dealer, "dealings")?;
    for &j in complained {
        params.check_index(j, "complaining trustee")?;
    }
    let decryptors: Vec<u32> = (1..=params.trustees)
        .filter(|j| !complained.contains(j))
        .collect();
    if decryptors.len() < params.threshold as usize {
        return Err(CryptoError::Inconsistent {
            what: "key generation",
            why: format!(
                "only {} trustees hold a valid key share, at least the threshold {} are needed",
                decryptors.len(),
                params.threshold
            ),
        });
    }
    let public_key = dealt
        .iter()
        .try_fold(RistrettoPoint::identity(), |acc, d| {
            d.coefficient_commitments
                .first()
                .map(|a| acc + a.point())
                .ok_or(CryptoError::Inconsistent {
                    what: "key generation",
                    why: format!("dealer {} has no coefficient commitments", d.dealer),
                })
        })?;
    let verification_keys = (1..=params.trustees)
        .map(|j| {
            Point::from_point(dealt.iter().fold(RistrettoPoint::identity(), |acc, d| {
                acc + commitment_at(&d.coefficient_commitments, j)
            }))
        })
        .collect();
    Ok(JointKey {
        public_key: Point::from_point(public_key),
        decryptors,
        verification_keys,
    })
}

/// Trustee `secrets.index` computes its key share `xⱼ = Σᵢ sᵢⱼ` from every dealing.
pub fn key_share(
    params: &DkgParameters,
    context: &[u8],
    secrets: &TrusteeSecrets,
    dealt: &[DealerShares],
    key: &JointKey,
) -> Result<KeyShare, CryptoError> {
    check_all(params, dealt, |d| d.dealer, "dealings")?;
    let me = secrets.index;
    params.check_index(me, "trustee")?;
    if !key.decryptors.contains(&me) {
        return Err(CryptoError::Inconsistent {
            what: "key share",
            why: format!("trustee {me} received a bad share and holds no valid key share"),
        });
    }
    let mut x = Scalar::ZERO;
    for d in dealt {
        let share = my_share(d, me)?;
        let shared =
            Point::from_point(share.ephemeral.point() * secrets.communication_secret.expose());
        let s = open_share(context, d, &share, &shared).ok_or(CryptoError::Inconsistent {
            what: "key share",
            why: format!(
                "the share of dealer {} does not match its commitments",
                d.dealer
            ),
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
    use proptest::prelude::*;

    const CTX: &[u8] = b"election";

    struct Ceremony {
        params: DkgParameters,
        secrets: Vec<TrusteeSecrets>,
        commitments: Vec<TrusteeCommitment>,
        dealt: Vec<DealerShares>,
        checks: Vec<TrusteeCheck>,
    }

    /// A ceremony in which dealer `cheat.0` adds 1 to its share for trustee `cheat.1`.
    fn ceremony(n: u32, k: u32, cheat: Option<(u32, u32)>, seed: &[u8]) -> Ceremony {
        let params = DkgParameters::new(n, k).unwrap();
        let mut rng = SeededRng::new(seed);
        let (secrets, commitments): (Vec<_>, Vec<_>) = (1..=n)
            .map(|i| commit(&params, CTX, i, &mut rng).unwrap())
            .unzip();
        for c in &commitments {
            verify_commitment(&params, CTX, c).unwrap();
        }
        let mut dealt: Vec<DealerShares> = secrets
            .iter()
            .map(|s| deal(&params, CTX, s, &commitments, &mut rng).unwrap())
            .collect();
        for (d, c) in dealt.iter().zip(&commitments) {
            verify_dealer_shares(&params, CTX, c, d).unwrap();
        }
        if let Some((dealer, recipient)) = cheat {
            dealt[dealer as usize - 1].shares[recipient as usize - 1].masked_share += Scalar::ONE;
        }
        let checks = secrets
            .iter()
            .map(|s| check_shares(&params, CTX, s, &commitments, &dealt, &mut rng).unwrap())
            .collect();
        Ceremony {
            params,
            secrets,
            commitments,
            dealt,
            checks,
        }
    }

    fn complainers(c: &Ceremony) -> Vec<u32> {
        c.checks
            .iter()
            .filter(|ch| !ch.complaints.is_empty())
            .map(|ch| ch.index)
            .collect()
    }

    #[test]
    fn honest_ceremony_gives_consistent_shares() {
        let c = ceremony(3, 2, None, b"dkg");
        assert!(c.checks.iter().all(|c| c.complaints.is_empty()));
        let key = joint_key(&c.params, &c.dealt, &[]).unwrap();
        assert_eq!(key.decryptors, vec![1, 2, 3]);
        let shares: Vec<KeyShare> = c
            .secrets
            .iter()
            .map(|s| key_share(&c.params, CTX, s, &c.dealt, &key).unwrap())
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
    fn a_cheating_dealer_is_named_and_its_victim_holds_no_share() {
        let c = ceremony(3, 2, Some((2, 3)), b"dkg");
        let complaints = &c.checks[2].complaints;
        assert_eq!(complaints.len(), 1);
        assert_eq!(complaints[0].dealer, 2);
        verify_complaint(CTX, &c.commitments[2], &c.dealt[1], &complaints[0]).unwrap();
        let key = joint_key(&c.params, &c.dealt, &complainers(&c)).unwrap();
        assert_eq!(key.decryptors, vec![1, 2]);
        for s in &c.secrets[..2] {
            key_share(&c.params, CTX, s, &c.dealt, &key).unwrap();
        }
        assert!(key_share(&c.params, CTX, &c.secrets[2], &c.dealt, &key).is_err());
    }

    /// The Gennaro–Jarecki–Krawczyk–Rabin attack on Pedersen's protocol: the last dealer,
    /// having seen the others' dealings, corrupts its own share to itself and complains,
    /// to be disqualified and so remove its coefficient from the key. Here the key is the
    /// same whether it complains or not: the sum of every dealer's `Aᵢ₀`.
    #[test]
    fn a_dealer_complaining_about_itself_does_not_change_the_key() {
        let honest = ceremony(3, 2, None, b"gjkr");
        let attack = ceremony(3, 2, Some((3, 3)), b"gjkr");
        assert_eq!(attack.checks[2].complaints.len(), 1);
        verify_complaint(
            CTX,
            &attack.commitments[2],
            &attack.dealt[2],
            &attack.checks[2].complaints[0],
        )
        .unwrap();
        let key = joint_key(&attack.params, &attack.dealt, &complainers(&attack)).unwrap();
        let honest_key = joint_key(&honest.params, &honest.dealt, &[]).unwrap();
        let all_dealers = attack
            .dealt
            .iter()
            .fold(RistrettoPoint::identity(), |acc, d| {
                acc + d.coefficient_commitments[0].point()
            });
        assert_eq!(key.public_key, Point::from_point(all_dealers));
        assert_eq!(key.public_key, honest_key.public_key);
        assert_eq!(key.verification_keys, honest_key.verification_keys);
        // Only who can decrypt changed: the dealer itself.
        assert_eq!(key.decryptors, vec![1, 2]);
    }

    #[test]
    fn too_few_decryptors_give_no_key() {
        let c = ceremony(3, 3, Some((1, 2)), b"dkg");
        assert!(joint_key(&c.params, &c.dealt, &complainers(&c)).is_err());
    }

    #[test]
    fn a_false_complaint_is_refused() {
        let c = ceremony(3, 2, Some((2, 3)), b"dkg");
        // Trustee 1 received a good share from dealer 2 but complains anyway.
        let mut rng = SeededRng::new(b"liar");
        let share = c.dealt[1].shares[0];
        let shared =
            Point::from_point(share.ephemeral.point() * c.secrets[0].communication_secret.expose());
        let statement = DleqStatement {
            base: &share.ephemeral,
            public: &c.commitments[0].communication_key,
            image: &shared,
        };
        let proof = DleqProof::prove(
            complaint_transcript(CTX, 2, 1),
            &statement,
            c.secrets[0].communication_secret.expose(),
            &mut rng,
        );
        let lie = Complaint {
            dealer: 2,
            shared_key: shared,
            proof,
        };
        assert!(verify_complaint(CTX, &c.commitments[0], &c.dealt[1], &lie).is_err());
        // A justified complaint with a tampered shared key fails its proof.
        let mut forged = c.checks[2].complaints[0];
        forged.shared_key = c.commitments[0].communication_key;
        assert!(verify_complaint(CTX, &c.commitments[2], &c.dealt[1], &forged).is_err());
        // A complaint naming another dealer than the dealing is refused.
        let mut other = c.checks[2].complaints[0];
        other.dealer = 1;
        assert!(verify_complaint(CTX, &c.commitments[2], &c.dealt[1], &other).is_err());
    }

    #[test]
    fn tampered_commitments_and_dealings_are_refused() {
        let c = ceremony(3, 2, None, b"dkg");
        let p = &c.params;
        let mut t = c.commitments[0].clone();
        t.communication_key = c.commitments[1].communication_key;
        assert!(verify_commitment(p, CTX, &t).is_err());
        assert!(verify_commitment(p, b"other election", &c.commitments[0]).is_err());
        // A dealer revealing coefficients other than those it hashed in step 1.
        let mut d = c.dealt[0].clone();
        d.coefficient_commitments[1] = c.dealt[1].coefficient_commitments[1];
        assert!(verify_dealer_shares(p, CTX, &c.commitments[0], &d).is_err());
        let mut d = c.dealt[0].clone();
        d.coefficient_proofs.swap(0, 1);
        assert!(verify_dealer_shares(p, CTX, &c.commitments[0], &d).is_err());
        let mut d = c.dealt[0].clone();
        d.coefficient_proofs.pop();
        assert!(verify_dealer_shares(p, CTX, &c.commitments[0], &d).is_err());
        let mut d = c.dealt[0].clone();
        d.shares.swap(0, 1);
        assert!(verify_dealer_shares(p, CTX, &c.commitments[0], &d).is_err());
        // A dealing checked against another trustee's commitment.
        assert!(verify_dealer_shares(p, CTX, &c.commitments[1], &c.dealt[0]).is_err());
        // Dealing with secrets that do not match the commitment is refused.
        let mut rng = SeededRng::new(b"x");
        let (other, _) = commit(p, CTX, 1, &mut rng).unwrap();
        assert!(deal(p, CTX, &other, &c.commitments, &mut rng).is_err());
        assert!(DkgParameters::new(3, 4).is_err());
        assert!(DkgParameters::new(0, 0).is_err());
        assert!(DkgParameters::new(MAX_TRUSTEES + 1, 2).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(8))]
        /// Whoever cheats whom, the key is the sum of every dealer's constant term, and
        /// exactly the cheated trustees lose their share.
        #[test]
        fn the_key_is_always_made_of_every_dealing(
            seed in any::<[u8; 16]>(), dealer in 1u32..=4, recipient in 1u32..=4,
        ) {
            let c = ceremony(4, 2, Some((dealer, recipient)), &seed);
            let key = joint_key(&c.params, &c.dealt, &complainers(&c)).unwrap();
            let sum = c.dealt.iter().fold(RistrettoPoint::identity(), |acc, d| {
                acc + d.coefficient_commitments[0].point()
            });
            prop_assert_eq!(key.public_key, Point::from_point(sum));
            prop_assert!(!key.decryptors.contains(&recipient));
            prop_assert_eq!(key.decryptors.len(), 3);
        }
    }
}
