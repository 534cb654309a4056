//! Threshold decryption (spec §7).
//!
//! Trustee `j` holding `xⱼ` (with public `Yⱼ = xⱼG`) publishes, for a ciphertext `(α, β)`,
//! the decryption factor `Dⱼ = xⱼα` with a Chaum–Pedersen proof that
//! `log_G Yⱼ = log_α Dⱼ`. From the factors of any set `S` of `k` trustees,
//! `mG = β − Σ_{j∈S} λⱼ Dⱼ`, with Lagrange coefficients at zero
//! `λⱼ = Π_{i∈S, i≠j} i / (i − j)`.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::chaum_pedersen::{DleqProof, DleqStatement};
use crate::dkg::KeyShare;
use crate::transcript::Transcript;
use crate::{CryptoError, Point};

/// Domain tag of decryption-share proofs.
pub const TAG: &str = "decryption-share";

/// One trustee's decryption factor for one ciphertext, with its proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecryptionFactor {
    pub factor: Point,
    pub proof: DleqProof,
}

impl DecryptionFactor {
    /// Computes `xⱼα` and proves it. The transcript holds the tag, context and position.
    pub fn compute<R: CryptoRng + ?Sized>(
        t: Transcript,
        share: &KeyShare,
        verification_key: &Point,
        alpha: &Point,
        rng: &mut R,
    ) -> Self {
        let factor = Point::from_point(alpha.point() * share.secret.expose());
        let statement = DleqStatement {
            base: alpha,
            public: verification_key,
            image: &factor,
        };
        let proof = DleqProof::prove(t, &statement, share.secret.expose(), rng);
        DecryptionFactor { factor, proof }
    }

    /// The statement this factor's proof is about.
    pub fn statement<'a>(
        &'a self,
        verification_key: &'a Point,
        alpha: &'a Point,
    ) -> DleqStatement<'a> {
        DleqStatement {
            base: alpha,
            public: verification_key,
            image: &self.factor,
        }
    }
}

/// Lagrange coefficients at zero for distinct non-zero indices.
pub fn lagrange_at_zero(indices: &[u32]) -> Result<Vec<Scalar>, CryptoError> {
    for (n, i) in indices.iter().enumerate() {
        if *i == 0 || indices[..n].contains(i) {
            return Err(CryptoError::Inconsistent {
                what: "trustee indices",
                why: "indices must be distinct and non-zero".into(),
            });
        }
    }
    let mut lambdas = Vec::with_capacity(indices.len());
    let mut denominators = Vec::with_capacity(indices.len());
    for &j in indices {
        let (mut num, mut den) = (Scalar::ONE, Scalar::ONE);
        for &i in indices.iter().filter(|&&i| i != j) {
            num *= Scalar::from(i);
            den *= Scalar::from(i) - Scalar::from(j);
        }
        lambdas.push(num);
        denominators.push(den);
    }
    Scalar::invert_batch_alloc(&mut denominators);
    Ok(lambdas
        .iter()
        .zip(&denominators)
        .map(|(n, d)| n * d)
        .collect())
}

/// `β − Σ λⱼ Dⱼ`, the plaintext times `G`, from the factors of the trustees `indices`.
pub fn combine(
    beta: &Point,
    indices: &[u32],
    factors: &[&Point],
) -> Result<RistrettoPoint, CryptoError> {
    if indices.len() != factors.len() {
        return Err(CryptoError::Inconsistent {
            what: "decryption factors",
            why: "one factor per trustee index needed".into(),
        });
    }
    let lambdas = lagrange_at_zero(indices)?;
    let sum = RistrettoPoint::vartime_multiscalar_mul(&lambdas, factors.iter().map(|f| *f.point()));
    Ok(beta.point() - sum)
}
