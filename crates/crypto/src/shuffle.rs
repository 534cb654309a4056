//! Verifiable re-encryption shuffle of rows of ciphertexts (spec §5.5).
//!
//! A shuffle takes `N` rows of `w` ciphertexts each under the key `H` (a row is one
//! ballot; a ranked ballot is several ciphertexts), permutes the rows with a secret
//! permutation `π` and re-encrypts every entry with its own randomness `r′ᵢₖ`:
//!
//! ```text
//!   e′ᵢₖ = e_{π(i),k} + (r′ᵢₖG, r′ᵢₖH)          i = 0 … N−1,  k = 0 … w−1
//! ```
//! where `eᵢₖ = (αᵢₖ, βᵢₖ)`. The proof of a shuffle is the one of Terelius and Wikström
//! (*Proofs of restricted shuffles*, AFRICACRYPT 2010; Wikström, *A commitment-consistent
//! proof of a shuffle*, ACISP 2009) as Haenni, Locher, Koenig and Dubuis write it out
//! (*Pseudo-code algorithms for verifiable re-encryption mix-nets*, FC 2017 workshops:
//! GenShuffle, GenPermutationCommitment, GenCommitmentChain, GenShuffleProof,
//! CheckShuffleProof), written additively and for rows of `w` ciphertexts.
//!
//! **Relation.** Public: the caller's transcript `T`, the key `H`, the inputs `eᵢₖ` and the
//! outputs `e′ᵢₖ`. Secret: a permutation `π` of `0 … N−1` and scalars `r′ᵢₖ` with the
//! equation above for every `i` and `k`: the same `π` for every column.
//!
//! **Proof.** The prover commits to the permutation matrix, column by column, on
//! generators `F₀ … F_{N−1}` and `J` that nobody knows a relation between (derived by
//! hashing with `T`, [`ShuffleGenerators`]): `C_{π(i)} = r_{π(i)}G + Fᵢ`. The challenges
//! `u₀ … u_{N−1}` are hashed from the statement and the `Cⱼ`; with `u′ᵢ = u_{π(i)}` the
//! prover builds the chain `Ĉᵢ = r̂ᵢG + u′ᵢĈ_{i−1}` from `Ĉ₋₁ = J`, and answers one
//! Σ-protocol (commitments `T₁, T₂, T₃, T₄α,ₖ, T₄β,ₖ, T̂ᵢ`, challenge `c`, responses
//! `s₁, s₂, s₃, s₄ₖ, ŝᵢ, s′ᵢ`). The verifier checks
//!
//! ```text
//!   (1)   s₁G                  = T₁ + c·(Σⱼ Cⱼ − Σᵢ Fᵢ)            every row of the matrix sums to 1
//!   (2)   s₂G                  = T₂ + c·(Ĉ_{N−1} − (Πᵢ uᵢ)·J)      Πᵢ u′ᵢ = Πᵢ uᵢ
//!   (3)   s₃G + Σᵢ s′ᵢFᵢ       = T₃ + c·Σⱼ uⱼCⱼ                     the s′ᵢ open Σⱼ uⱼCⱼ
//!   (4ₖ)  Σᵢ s′ᵢα′ᵢₖ − s₄ₖG    = T₄α,ₖ + c·Σⱼ uⱼαⱼₖ                 for each column k:
//!         Σᵢ s′ᵢβ′ᵢₖ − s₄ₖH    = T₄β,ₖ + c·Σⱼ uⱼβⱼₖ                 the same s′ᵢ, its own s₄ₖ
//!   (5ᵢ)  ŝᵢG + s′ᵢĈ_{i−1}     = T̂ᵢ + c·Ĉᵢ                          for each i, Ĉ₋₁ = J
//! ```
//! (1)–(3) and (5) show that the committed matrix `B` has rows summing to 1 and
//! `Πᵢ (Bu)ᵢ = Πᵢ uᵢ` for the random `u`: `B` is a permutation matrix (Terelius–Wikström).
//! (4ₖ) shows, for each column with the **same** responses `s′ᵢ` (which open `Bu`), that
//! `Σᵢ (Bu)ᵢ e′ᵢₖ − Σⱼ uⱼ eⱼₖ` encrypts 0 with a randomness the prover knows: every column
//! is re-encrypted under the one permutation `B`. This is Verificatum's proof for
//! ciphertexts of width `w` (one randomness response per column).
//!
//! The verifier adds the `3 + 2w + N` equations to one [`BatchVerifier`]: one
//! variable-time multiscalar multiplication of about `(4w + 4)·N` points.
//!
//! **Side channels (informative).** The multiplications by the witness and by scalars
//! derived from it (`r′ᵢₖ`, `rⱼ`, the chain's `Pᵢ, Qᵢ`) are constant-time; the sums
//! `Σᵢ ω′ᵢ·Pᵢ` over public points are variable-time, their scalars being nonces drawn
//! independently of the witness (see `nonce_msm`). The prover reads `e_{π(i)}`,
//! `F_{π⁻¹(j)}` and `u_{π(i)}` at addresses that depend on `π`: a shuffle should run on a
//! machine whose caches nobody else shares.

use curve25519_dalek::ristretto::{RistrettoBasepointTable, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, VartimeMultiscalarMul};
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::batch::{BaseId, BatchVerifier};
use crate::bits::hash_to_group;
use crate::elgamal::{Ciphertext, EncryptionKey, SecretScalar};
use crate::group::{half, hex_scalar, hex_scalar_vec};
use crate::par;
use crate::schnorr::hedged_nonce;
use crate::transcript::Transcript;
use crate::{CryptoError, Point};

/// The largest number of rows `N` of one shuffle.
pub const MAX_ROWS: usize = 1_000_000;

/// The largest number of ciphertexts `w` in one row.
pub const MAX_WIDTH: usize = 1024;

/// The largest number of ciphertexts `N·w` of one shuffle.
pub const MAX_CIPHERTEXTS: usize = 10_000_000;

/// Domain tag of the generators `J`, `F₀, F₁, …` (spec §5.5, Table 1).
pub const GENERATOR_TAG: &str = "shuffle-generator";

/// `start("shuffle-generator") ‖ item("caller", T)`, the common prefix of the generators'
/// hash inputs (spec §5.5).
fn generator_prefix(t: &Transcript) -> Transcript {
    let mut g = Transcript::new(GENERATOR_TAG);
    g.append("caller", t.bytes());
    g
}

/// The generator `J` of the shuffles under the caller transcript `t` (spec §5.5).
pub fn generator_j(t: &Transcript) -> RistrettoPoint {
    let mut g = generator_prefix(t);
    g.append("name", b"J");
    hash_to_group(&g)
}

/// The generator `Fᵢ` of the shuffles under the caller transcript `t` (spec §5.5).
pub fn generator_f(t: &Transcript, i: usize) -> RistrettoPoint {
    let mut g = generator_prefix(t);
    g.append_u64("index", i as u64);
    hash_to_group(&g)
}

/// The generators `J` and `F₀ … F_{N−1}` of a shuffle of `N` rows under one caller
/// transcript (spec §5.5): every point is `from_uniform_bytes` of a SHA-512 digest, so
/// nobody knows a discrete-logarithm relation between them and `G`.
pub struct ShuffleGenerators {
    j: RistrettoPoint,
    f: Vec<RistrettoPoint>,
}

impl ShuffleGenerators {
    /// Derives the generators of a shuffle of `n ≤ MAX_ROWS` rows under the caller
    /// transcript `t`.
    pub fn new(t: &Transcript, n: usize) -> Result<Self, CryptoError> {
        check_rows(n)?;
        let digests = generator_prefix(t).indexed_digests("index", n);
        let f = par::map(&digests, RistrettoPoint::from_uniform_bytes);
        Ok(ShuffleGenerators {
            j: generator_j(t),
            f,
        })
    }

    /// `J`, the start of the commitment chain.
    pub fn j(&self) -> &RistrettoPoint {
        &self.j
    }

    /// `F₀ … F_{N−1}`, the bases of the permutation commitment.
    pub fn f(&self) -> &[RistrettoPoint] {
        &self.f
    }
}

/// `1 ≤ N ≤ MAX_ROWS` (spec §5.5, statement).
fn check_rows(n: usize) -> Result<(), CryptoError> {
    if n == 0 || n > MAX_ROWS {
        return Err(CryptoError::OutOfBounds {
            what: "shuffle",
            why: format!("{n} rows, allowed 1 to {MAX_ROWS}"),
        });
    }
    Ok(())
}

/// The shape `(N, w)` of a list of rows, within the bounds of §5.5 and with every row of
/// the same width. Nothing is allocated before the sizes are checked.
fn shape(rows: &[Vec<Ciphertext>], what: &'static str) -> Result<(usize, usize), CryptoError> {
    let n = rows.len();
    check_rows(n)?;
    let w = rows.first().map_or(0, Vec::len);
    if w == 0 || w > MAX_WIDTH {
        return Err(CryptoError::OutOfBounds {
            what: "shuffle",
            why: format!("rows of {w} ciphertexts, allowed 1 to {MAX_WIDTH}"),
        });
    }
    if n.checked_mul(w).is_none_or(|nw| nw > MAX_CIPHERTEXTS) {
        return Err(CryptoError::OutOfBounds {
            what: "shuffle",
            why: format!("{n} rows of {w} ciphertexts, allowed {MAX_CIPHERTEXTS} in all"),
        });
    }
    if let Some(i) = rows.iter().position(|row| row.len() != w) {
        return Err(CryptoError::Inconsistent {
            what,
            why: format!(
                "row {i} has {} ciphertexts, row 0 has {w}",
                row_len(rows, i)
            ),
        });
    }
    Ok((n, w))
}

fn row_len(rows: &[Vec<Ciphertext>], i: usize) -> usize {
    rows.get(i).map_or(0, Vec::len)
}

/// The shape `(N, w)` of a statement: inputs and outputs of the same shape.
fn check_statement(s: &ShuffleStatement<'_>) -> Result<(usize, usize), CryptoError> {
    let (n, w) = shape(s.inputs, "shuffle inputs")?;
    let (n_out, w_out) = shape(s.outputs, "shuffle outputs")?;
    if (n, w) != (n_out, w_out) {
        return Err(CryptoError::Inconsistent {
            what: "shuffle",
            why: format!("{n} input rows of {w} ciphertexts, {n_out} output rows of {w_out}"),
        });
    }
    Ok((n, w))
}

/// True when `pi` is a permutation of `0 … len(pi)−1` (spec §5.5, witness).
fn is_permutation(pi: &[usize]) -> bool {
    let mut seen = vec![false; pi.len()];
    pi.iter().all(|j| match seen.get_mut(*j) {
        Some(s) if !*s => {
            *s = true;
            true
        }
        _ => false,
    })
}

/// A uniformly random integer in `0 … m−1` (spec §5.5, draws): 8 bytes read as a `u64`
/// `x`, drawn again while `x ≥ 2⁶⁴ − (2⁶⁴ mod m)`, then `x mod m`.
fn uniform_below<R: CryptoRng + ?Sized>(rng: &mut R, m: u64) -> u64 {
    let Some(rem) = (u64::MAX % m.max(1) + 1).checked_rem(m) else {
        return 0;
    };
    loop {
        let x = rng.next_u64();
        if x <= u64::MAX - rem {
            return x % m;
        }
    }
}

/// A uniformly random permutation of `0 … n−1` (Fisher–Yates, spec §5.5).
fn random_permutation<R: CryptoRng + ?Sized>(rng: &mut R, n: usize) -> Vec<usize> {
    let mut pi: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = uniform_below(rng, i as u64 + 1) as usize;
        // j ≤ i < n: both positions exist.
        pi.swap(i, j);
    }
    pi
}

/// `e + (rG, rH)`: the re-encryption of `e` with randomness `r` (spec §5.5).
fn reencrypt(key: &EncryptionKey, e: &Ciphertext, r: &Scalar) -> Ciphertext {
    Ciphertext {
        alpha: Point::from_point(e.alpha.point() + RistrettoPoint::mul_base(r)),
        beta: Point::from_point(e.beta.point() + key.mul(r)),
    }
}

/// The secret of a shuffle: the permutation `π` (output row `i` re-encrypts input row
/// `π(i)`) and the randomness `r′ᵢₖ` of every output ciphertext. Wiped when dropped.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct ShuffleWitness {
    permutation: Vec<usize>,
    randomness: Vec<Vec<SecretScalar>>,
}

impl core::fmt::Debug for ShuffleWitness {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ShuffleWitness(..)")
    }
}

impl ShuffleWitness {
    /// A witness from a permutation of `0 … N−1` and `N` rows of `w` random scalars.
    pub fn new(
        permutation: Vec<usize>,
        randomness: Vec<Vec<SecretScalar>>,
    ) -> Result<Self, CryptoError> {
        let witness = ShuffleWitness {
            permutation,
            randomness,
        };
        let n = witness.permutation.len();
        check_rows(n)?;
        let w = witness.randomness.first().map_or(0, Vec::len);
        if w == 0 || w > MAX_WIDTH {
            return Err(CryptoError::OutOfBounds {
                what: "shuffle witness",
                why: format!("rows of {w} random scalars, allowed 1 to {MAX_WIDTH}"),
            });
        }
        witness.check(n, w)?;
        Ok(witness)
    }

    /// `π`: output row `i` is a re-encryption of input row `π(i)`.
    pub fn permutation(&self) -> &[usize] {
        &self.permutation
    }

    /// `r′ᵢₖ`, row by row.
    pub fn randomness(&self) -> &[Vec<SecretScalar>] {
        &self.randomness
    }

    /// Checks that this witness is a permutation of `0 … n−1` and `n` rows of `w` scalars.
    fn check(&self, n: usize, w: usize) -> Result<(), CryptoError> {
        let widths_ok = self.randomness.iter().all(|row| row.len() == w);
        if self.permutation.len() != n || self.randomness.len() != n || !widths_ok {
            return Err(CryptoError::Inconsistent {
                what: "shuffle witness",
                why: format!("not a permutation and randomness for {n} rows of {w}"),
            });
        }
        if !is_permutation(&self.permutation) {
            return Err(CryptoError::Inconsistent {
                what: "shuffle witness",
                why: "not a permutation".into(),
            });
        }
        Ok(())
    }

    /// The rows `e′ᵢₖ = e_{π(i),k} + (r′ᵢₖG, r′ᵢₖH)` (spec §5.5, GenShuffle).
    pub fn apply(
        &self,
        key: &EncryptionKey,
        inputs: &[Vec<Ciphertext>],
    ) -> Result<Vec<Vec<Ciphertext>>, CryptoError> {
        let (n, w) = shape(inputs, "shuffle inputs")?;
        self.check(n, w)?;
        self.reencrypt_rows(key, inputs)
    }

    /// [`ShuffleWitness::apply`] without checking that `π` is a permutation.
    fn reencrypt_rows(
        &self,
        key: &EncryptionKey,
        inputs: &[Vec<Ciphertext>],
    ) -> Result<Vec<Vec<Ciphertext>>, CryptoError> {
        par::map_range(self.permutation.len(), |i| {
            let (j, r) = (self.permutation.get(i), self.randomness.get(i));
            let (Some(row), Some(r)) = (j.and_then(|j| inputs.get(*j)), r) else {
                return Err(CryptoError::Inconsistent {
                    what: "shuffle witness",
                    why: "a row index beyond the inputs".into(),
                });
            };
            Ok(row
                .iter()
                .zip(r)
                .map(|(e, r)| reencrypt(key, e, r.expose()))
                .collect())
        })
        .into_iter()
        .collect()
    }
}

/// Shuffles `inputs` (spec §5.5, GenShuffle): draws a uniformly random permutation `π`
/// and randomness `r′ᵢₖ`, and returns the rows `e′ᵢₖ = e_{π(i),k} + (r′ᵢₖG, r′ᵢₖH)` with
/// the witness that [`ShuffleProof::prove`] needs.
pub fn shuffle<R: CryptoRng + ?Sized>(
    key: &EncryptionKey,
    inputs: &[Vec<Ciphertext>],
    rng: &mut R,
) -> Result<(Vec<Vec<Ciphertext>>, ShuffleWitness), CryptoError> {
    let (n, w) = shape(inputs, "shuffle inputs")?;
    let permutation = random_permutation(rng, n);
    let randomness = (0..n)
        .map(|_| {
            (0..w)
                .map(|_| SecretScalar::new(Scalar::random(rng)))
                .collect()
        })
        .collect();
    let witness = ShuffleWitness {
        permutation,
        randomness,
    };
    let outputs = witness.reencrypt_rows(key, inputs)?;
    Ok((outputs, witness))
}

/// The statement of a [`ShuffleProof`]: `outputs` is a re-encryption of a permutation of
/// the rows of `inputs` under `key`.
#[derive(Clone, Copy, Debug)]
pub struct ShuffleStatement<'a> {
    pub key: &'a Point,
    pub inputs: &'a [Vec<Ciphertext>],
    pub outputs: &'a [Vec<Ciphertext>],
}

/// A proof of a shuffle (spec §5.5, JSON names in parentheses).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShuffleProof {
    /// `C₀ … C_{N−1}`, the commitment to the permutation (`"permutation"`).
    pub permutation: Vec<Point>,
    /// `Ĉ₀ … Ĉ_{N−1}`, the commitment chain (`"chain"`).
    pub chain: Vec<Point>,
    /// `T₁ = ω₁G` (`"t1"`).
    pub t1: Point,
    /// `T₂ = ω₂G` (`"t2"`).
    pub t2: Point,
    /// `T₃ = ω₃G + Σᵢ ω′ᵢFᵢ` (`"t3"`).
    pub t3: Point,
    /// `T₄α,ₖ = Σᵢ ω′ᵢα′ᵢₖ − ω₄ₖG`, one per column (`"t4_alpha"`).
    pub t4_alpha: Vec<Point>,
    /// `T₄β,ₖ = Σᵢ ω′ᵢβ′ᵢₖ − ω₄ₖH`, one per column (`"t4_beta"`).
    pub t4_beta: Vec<Point>,
    /// `T̂ᵢ = ω̂ᵢG + ω′ᵢĈ_{i−1}`, one per row (`"t_hat"`).
    pub t_hat: Vec<Point>,
    /// `s₁ = ω₁ + c·Σⱼ rⱼ` (`"s1"`).
    #[serde(with = "hex_scalar")]
    pub s1: Scalar,
    /// `s₂ = ω₂ + c·r̂` (`"s2"`).
    #[serde(with = "hex_scalar")]
    pub s2: Scalar,
    /// `s₃ = ω₃ + c·Σⱼ rⱼuⱼ` (`"s3"`).
    #[serde(with = "hex_scalar")]
    pub s3: Scalar,
    /// `s₄ₖ = ω₄ₖ + c·Σᵢ r′ᵢₖu′ᵢ`, one per column (`"s4"`).
    #[serde(with = "hex_scalar_vec")]
    pub s4: Vec<Scalar>,
    /// `ŝᵢ = ω̂ᵢ + c·r̂ᵢ`, one per row (`"s_hat"`).
    #[serde(with = "hex_scalar_vec")]
    pub s_hat: Vec<Scalar>,
    /// `s′ᵢ = ω′ᵢ + c·u′ᵢ`, one per row (`"s_prime"`).
    #[serde(with = "hex_scalar_vec")]
    pub s_prime: Vec<Scalar>,
}

/// Appends the statement and the permutation commitment: the transcript `Tᵘ` of the
/// challenges `uᵢ` (spec §5.5).
fn statement_items(t: &mut Transcript, s: &ShuffleStatement<'_>, permutation: &[Point]) {
    t.append_point("key", s.key)
        .append_u64("rows", s.inputs.len() as u64)
        .append_u64("width", s.inputs.first().map_or(0, Vec::len) as u64);
    for e in s.inputs.iter().flatten() {
        t.append_point("input_alpha", &e.alpha)
            .append_point("input_beta", &e.beta);
    }
    for e in s.outputs.iter().flatten() {
        t.append_point("output_alpha", &e.alpha)
            .append_point("output_beta", &e.beta);
    }
    for c in permutation {
        t.append_point("permutation", c);
    }
}

/// `uᵢ = challenge(Tᵘ ‖ item("index", u64_le(i)))` for `i = 0 … N−1` (spec §5.5).
fn challenges_u(tu: &Transcript, n: usize) -> Vec<Scalar> {
    tu.indexed_challenges("index", n)
}

/// The prover's commitments `T₁, T₂, T₃, T₄α,ₖ, T₄β,ₖ, T̂ᵢ`.
struct Commitments {
    t1: Point,
    t2: Point,
    t3: Point,
    t4_alpha: Vec<Point>,
    t4_beta: Vec<Point>,
    t_hat: Vec<Point>,
}

/// What the challenge `c` follows: the chain and the prover's commitments.
struct SecondRound<'a> {
    chain: &'a [Point],
    t1: &'a Point,
    t2: &'a Point,
    t3: &'a Point,
    t4_alpha: &'a [Point],
    t4_beta: &'a [Point],
    t_hat: &'a [Point],
}

impl<'a> SecondRound<'a> {
    fn of_prover(chain: &'a [Point], k: &'a Commitments) -> Self {
        SecondRound {
            chain,
            t1: &k.t1,
            t2: &k.t2,
            t3: &k.t3,
            t4_alpha: &k.t4_alpha,
            t4_beta: &k.t4_beta,
            t_hat: &k.t_hat,
        }
    }

    fn of_proof(p: &'a ShuffleProof) -> Self {
        SecondRound {
            chain: &p.chain,
            t1: &p.t1,
            t2: &p.t2,
            t3: &p.t3,
            t4_alpha: &p.t4_alpha,
            t4_beta: &p.t4_beta,
            t_hat: &p.t_hat,
        }
    }
}

/// Appends the chain and the prover's commitments to `Tᵘ`: the transcript `Tᶜ` of the
/// challenge `c` (spec §5.5).
fn commitment_items(t: &mut Transcript, k: &SecondRound<'_>) {
    for p in k.chain {
        t.append_point("chain", p);
    }
    t.append_point("t1", k.t1)
        .append_point("t2", k.t2)
        .append_point("t3", k.t3);
    for (a, b) in k.t4_alpha.iter().zip(k.t4_beta) {
        t.append_point("t4_alpha", a).append_point("t4_beta", b);
    }
    for p in k.t_hat {
        t.append_point("t_hat", p);
    }
}

/// The prover's random scalars, drawn in this order (spec §5.5, draws): `r₀ … r_{N−1}`,
/// `r̂₀ … r̂_{N−1}`, `ω₁, ω₂, ω₃`, `ω₄,₀ … ω₄,_{w−1}`, `ω̂₀ … ω̂_{N−1}`, `ω′₀ … ω′_{N−1}`.
#[derive(Zeroize, ZeroizeOnDrop)]
struct Secrets {
    r: Vec<Scalar>,
    r_hat: Vec<Scalar>,
    omega1: Scalar,
    omega2: Scalar,
    omega3: Scalar,
    omega4: Vec<Scalar>,
    omega_hat: Vec<Scalar>,
    omega_prime: Vec<Scalar>,
}

/// Draws [`Secrets`] from one hedged seed (§3.1): the sum of the re-encryption
/// randomness and the caller's transcript, hashed with fresh randomness.
fn draw_secrets<R: CryptoRng + ?Sized>(
    rng: &mut R,
    t: &Transcript,
    randomness: &[Vec<SecretScalar>],
    n: usize,
    w: usize,
) -> Secrets {
    let sum = Zeroizing::new(
        randomness
            .iter()
            .flatten()
            .fold(Scalar::ZERO, |acc, r| acc + r.expose()),
    );
    let seed = Zeroizing::new(hedged_nonce(rng, &sum, t));
    let mut seeded = crate::rng::SeededRng::new(seed.as_bytes());
    let mut draw =
        |count: usize| -> Vec<Scalar> { (0..count).map(|_| Scalar::random(&mut seeded)).collect() };
    let r = draw(n);
    let r_hat = draw(n);
    let omegas = draw(3);
    let omega4 = draw(w);
    let omega_hat = draw(n);
    let omega_prime = draw(n);
    let omega = |i: usize| omegas.get(i).copied().unwrap_or(Scalar::ZERO);
    Secrets {
        r,
        r_hat,
        omega1: omega(0),
        omega2: omega(1),
        omega3: omega(2),
        omega4,
        omega_hat,
        omega_prime,
    }
}

/// `Σᵢ ω′ᵢPᵢ` for the nonces `ω′ᵢ` (or their halves) and public points `Pᵢ`: the sums of
/// `T₃` and `T₄α,ₖ, T₄β,ₖ`, most of the prover's work.
///
/// This is dalek's variable-time multiscalar multiplication (Pippenger's method), three
/// to four times faster than the constant-time one for the sizes of a shuffle. Its
/// running time depends on the scalars only through how many of their digits are zero;
/// the scalars are the nonces `ω′ᵢ`, drawn independently of the witness, and all these
/// sums share them, so they leak one aggregate count about `N` random nonces. (The
/// addresses of its buckets do depend on the digits, as the prover's reads of
/// `e_{π(i)}` depend on `π`: see the module's note on side channels.) Taking pairs
/// keeps both lists of the same length, which dalek requires.
fn nonce_msm<'a>(terms: impl Iterator<Item = (Scalar, &'a RistrettoPoint)>) -> RistrettoPoint {
    let (scalars, points): (Vec<Scalar>, Vec<RistrettoPoint>) = terms.map(|(s, p)| (s, *p)).unzip();
    let scalars = Zeroizing::new(scalars);
    RistrettoPoint::vartime_multiscalar_mul(scalars.iter(), &points)
}

/// The permutation commitment (spec §5.5, GenPermutationCommitment):
/// `Cⱼ = rⱼG + Σ_{i : π(i) = j} Fᵢ`, that is `C_{π(i)} = r_{π(i)}G + Fᵢ` for a permutation.
/// Any map `π` into `0 … N−1` is accepted, so that tests can show that a map that is not
/// a permutation gives a proof that fails.
fn permutation_commitment(
    gens: &ShuffleGenerators,
    pi: &[usize],
    r: &[Scalar],
) -> Result<Vec<Point>, CryptoError> {
    let mut c: Vec<RistrettoPoint> = par::map(r, RistrettoPoint::mul_base);
    for (j, f) in pi.iter().zip(&gens.f) {
        let cj = c.get_mut(*j).ok_or_else(|| CryptoError::Inconsistent {
            what: "shuffle witness",
            why: "a row index beyond the inputs".into(),
        })?;
        *cj += f;
    }
    Ok(par::map(&c, |p| Point::from_point(*p)))
}

/// The commitment chain (spec §5.5, GenCommitmentChain): `Ĉᵢ = r̂ᵢG + u′ᵢĈ_{i−1}` from
/// `Ĉ₋₁ = J`, computed as `Ĉᵢ = QᵢG + PᵢJ` with `Pᵢ = u′ᵢP_{i−1}`, `Qᵢ = r̂ᵢ + u′ᵢQ_{i−1}`,
/// `P₋₁ = 1`, `Q₋₁ = 0`: two fixed-base multiplications per link.
struct Chain {
    points: Vec<Point>,
    /// `P₋₁ … P_{N−1}` (one more than the links: `P₋₁ = 1` first).
    p: Zeroizing<Vec<Scalar>>,
    /// `Q₋₁ … Q_{N−1}` (`Q₋₁ = 0` first).
    q: Zeroizing<Vec<Scalar>>,
}

/// Builds the [`Chain`] of prover step 4 (spec §5.5) from the `u′ᵢ` and the `r̂ᵢ`.
fn commitment_chain(
    j_table: &RistrettoBasepointTable,
    u_prime: &[Scalar],
    r_hat: &[Scalar],
) -> Chain {
    let h = half();
    let mut p = Zeroizing::new(Vec::with_capacity(u_prime.len() + 1));
    let mut q = Zeroizing::new(Vec::with_capacity(u_prime.len() + 1));
    let (mut pi, mut qi) = (Scalar::ONE, Scalar::ZERO);
    p.push(pi);
    q.push(qi);
    for (u, r) in u_prime.iter().zip(r_hat) {
        pi *= u;
        qi = r + u * qi;
        p.push(pi);
        q.push(qi);
    }
    pi.zeroize();
    qi.zeroize();
    let halves = par::map_range(u_prime.len(), |i| {
        let (pi, qi) = (
            p.get(i + 1).copied().unwrap_or(Scalar::ZERO),
            q.get(i + 1).copied().unwrap_or(Scalar::ZERO),
        );
        RistrettoPoint::mul_base(&Zeroizing::new(qi * h)) + j_table * &*Zeroizing::new(pi * h)
    });
    Chain {
        points: Point::batch_from_halves(&halves),
        p,
        q,
    }
}

/// The prover's commitments (spec §5.5, GenShuffleProof), encoded in one batch.
fn prover_commitments(
    gens: &ShuffleGenerators,
    j_table: &RistrettoBasepointTable,
    s: &ShuffleStatement<'_>,
    x: &Secrets,
    chain: &Chain,
    w: usize,
) -> Commitments {
    let h = half();
    let omega_prime_half: Zeroizing<Vec<Scalar>> =
        Zeroizing::new(x.omega_prime.iter().map(|o| o * h).collect());
    let mut halves = Vec::with_capacity(3 + 2 * w + x.omega_hat.len());
    halves.push(RistrettoPoint::mul_base(&(x.omega1 * h)));
    halves.push(RistrettoPoint::mul_base(&(x.omega2 * h)));
    halves.push(
        RistrettoPoint::mul_base(&(x.omega3 * h))
            + nonce_msm(omega_prime_half.iter().copied().zip(&gens.f)),
    );
    // The 2w column sums, one multiscalar multiplication each, on all cores.
    let columns = par::map_range(2 * w, |m| {
        let (k, beta) = (m / 2, m % 2 == 1);
        let column = s.outputs.iter().filter_map(|row| row.get(k)).map(|e| {
            if beta {
                e.beta.point()
            } else {
                e.alpha.point()
            }
        });
        nonce_msm(omega_prime_half.iter().copied().zip(column))
    });
    for (k, omega4) in x.omega4.iter().enumerate() {
        let sum = |m: usize| {
            columns
                .get(m)
                .copied()
                .unwrap_or_else(RistrettoPoint::identity)
        };
        let o = Zeroizing::new(omega4 * h);
        halves.push(sum(2 * k) - RistrettoPoint::mul_base(&o));
        halves.push(sum(2 * k + 1) - s.key.point() * *o);
    }
    // T̂ᵢ = ω̂ᵢG + ω′ᵢĈ_{i−1} = (ω̂ᵢ + ω′ᵢQ_{i−1})G + (ω′ᵢP_{i−1})J.
    halves.extend(par::map_range(x.omega_hat.len(), |i| {
        let at = |v: &[Scalar]| v.get(i).copied().unwrap_or(Scalar::ZERO);
        let (oh, op) = (at(&x.omega_hat), at(&x.omega_prime));
        let (p, q) = (at(&chain.p), at(&chain.q));
        let g_part = Zeroizing::new((oh + op * q) * h);
        let j_part = Zeroizing::new(op * p * h);
        RistrettoPoint::mul_base(&g_part) + j_table * &*j_part
    }));
    let points = Point::batch_from_halves(&halves);
    let mut points = points.into_iter();
    let mut next = || points.next().unwrap_or_else(Point::identity);
    let (t1, t2, t3) = (next(), next(), next());
    let mut t4_alpha = Vec::with_capacity(w);
    let mut t4_beta = Vec::with_capacity(w);
    for _ in 0..w {
        t4_alpha.push(next());
        t4_beta.push(next());
    }
    let t_hat = x.omega_hat.iter().map(|_| next()).collect();
    Commitments {
        t1,
        t2,
        t3,
        t4_alpha,
        t4_beta,
        t_hat,
    }
}

/// The responses (spec §5.5, GenShuffleProof).
struct Responses {
    s1: Scalar,
    s2: Scalar,
    s3: Scalar,
    s4: Vec<Scalar>,
    s_hat: Vec<Scalar>,
    s_prime: Vec<Scalar>,
}

/// The responses of prover step 7 (spec §5.5): `r̄`, `r̂ = Q_{N−1}`, `r̃` and the `ρₖ`
/// answered with `c`.
fn responses(
    c: &Scalar,
    x: &Secrets,
    u: &[Scalar],
    u_prime: &[Scalar],
    chain: &Chain,
    randomness: &[Vec<SecretScalar>],
    w: usize,
) -> Responses {
    // r̄ = Σⱼ rⱼ, r̂ = Q_{N−1} = Σᵢ r̂ᵢ·Π_{l>i} u′ₗ, r̃ = Σⱼ rⱼuⱼ, ρₖ = Σᵢ r′ᵢₖu′ᵢ.
    let r_bar = Zeroizing::new(x.r.iter().fold(Scalar::ZERO, |acc, r| acc + r));
    let r_hat = Zeroizing::new(chain.q.last().copied().unwrap_or(Scalar::ZERO));
    let r_tilde = Zeroizing::new(
        x.r.iter()
            .zip(u)
            .fold(Scalar::ZERO, |acc, (r, u)| acc + r * u),
    );
    let mut rho = Zeroizing::new(vec![Scalar::ZERO; w]);
    for (row, up) in randomness.iter().zip(u_prime) {
        for (acc, r) in rho.iter_mut().zip(row) {
            *acc += r.expose() * up;
        }
    }
    Responses {
        s1: x.omega1 + c * *r_bar,
        s2: x.omega2 + c * *r_hat,
        s3: x.omega3 + c * *r_tilde,
        s4: x
            .omega4
            .iter()
            .zip(rho.iter())
            .map(|(o, r)| o + c * r)
            .collect(),
        s_hat: x
            .omega_hat
            .iter()
            .zip(&x.r_hat)
            .map(|(o, r)| o + c * r)
            .collect(),
        s_prime: x
            .omega_prime
            .iter()
            .zip(u_prime)
            .map(|(o, u)| o + c * u)
            .collect(),
    }
}

/// The generators, with a table of `J` for the prover's fixed-base multiplications.
struct ProverBases {
    gens: ShuffleGenerators,
    j_table: RistrettoBasepointTable,
}

impl ProverBases {
    fn new(t: &Transcript, n: usize) -> Result<Self, CryptoError> {
        let gens = ShuffleGenerators::new(t, n)?;
        let j_table = RistrettoBasepointTable::create(&gens.j);
        Ok(ProverBases { gens, j_table })
    }
}

/// The first round as the prover holds it: the permutation commitment `Cⱼ`, the
/// challenges `uᵢ` and the permuted `u′ᵢ = u_{π(i)}` (for a committed matrix `B`, `u′ = Bu`).
struct FirstRound {
    permutation: Vec<Point>,
    u: Vec<Scalar>,
    u_prime: Zeroizing<Vec<Scalar>>,
}

/// The rest of the proof once the `uᵢ` are drawn (spec §5.5, GenShuffleProof): the chain,
/// the commitments, `c` from `tu` (the transcript `Tᵘ`) and the responses.
fn answer(
    mut tu: Transcript,
    s: &ShuffleStatement<'_>,
    bases: &ProverBases,
    x: &Secrets,
    first: FirstRound,
    randomness: &[Vec<SecretScalar>],
    w: usize,
) -> ShuffleProof {
    let FirstRound {
        permutation,
        u,
        u_prime,
    } = first;
    let chain = commitment_chain(&bases.j_table, &u_prime, &x.r_hat);
    let k = prover_commitments(&bases.gens, &bases.j_table, s, x, &chain, w);
    commitment_items(&mut tu, &SecondRound::of_prover(&chain.points, &k));
    let c = tu.challenge();
    let z = responses(&c, x, &u, &u_prime, &chain, randomness, w);
    ShuffleProof {
        permutation,
        chain: chain.points,
        t1: k.t1,
        t2: k.t2,
        t3: k.t3,
        t4_alpha: k.t4_alpha,
        t4_beta: k.t4_beta,
        t_hat: k.t_hat,
        s1: z.s1,
        s2: z.s2,
        s3: z.s3,
        s4: z.s4,
        s_hat: z.s_hat,
        s_prime: z.s_prime,
    }
}

/// The challenges of a proof: the `uᵢ` and `c`.
struct Challenges {
    u: Vec<Scalar>,
    c: Scalar,
}

impl ShuffleProof {
    /// Proves that `s.outputs` is the shuffle of `s.inputs` that `witness` describes
    /// (spec §5.5, GenShuffleProof), under the caller transcript `t` (tag and prefix
    /// items, beginning with the election context).
    pub fn prove<R: CryptoRng + ?Sized>(
        t: Transcript,
        s: &ShuffleStatement<'_>,
        witness: &ShuffleWitness,
        rng: &mut R,
    ) -> Result<Self, CryptoError> {
        let (n, w) = check_statement(s)?;
        witness.check(n, w)?;
        Self::prove_map(t, s, witness, rng)
    }

    /// The prover for any map `π` into `0 … N−1`, permutation or not: only a permutation
    /// (and the right randomness) gives a proof that verifies.
    fn prove_map<R: CryptoRng + ?Sized>(
        mut t: Transcript,
        s: &ShuffleStatement<'_>,
        witness: &ShuffleWitness,
        rng: &mut R,
    ) -> Result<Self, CryptoError> {
        let (n, w) = check_statement(s)?;
        let pi = &witness.permutation;
        let bases = ProverBases::new(&t, n)?;
        let x = draw_secrets(rng, &t, &witness.randomness, n, w);

        let permutation = permutation_commitment(&bases.gens, pi, &x.r)?;
        statement_items(&mut t, s, &permutation);
        let u = challenges_u(&t, n);
        let u_prime: Zeroizing<Vec<Scalar>> = Zeroizing::new(
            pi.iter()
                .map(|j| u.get(*j).copied().unwrap_or(Scalar::ZERO))
                .collect(),
        );
        let first = FirstRound {
            permutation,
            u,
            u_prime,
        };
        Ok(answer(t, s, &bases, &x, first, &witness.randomness, w))
    }

    /// Checks that every list of the proof has its length, `N` or `w` (spec §5.5, verifier
    /// step 1).
    fn check_lengths(&self, n: usize, w: usize) -> Result<(), CryptoError> {
        let lengths = [
            ("permutation", self.permutation.len(), n),
            ("chain", self.chain.len(), n),
            ("t4_alpha", self.t4_alpha.len(), w),
            ("t4_beta", self.t4_beta.len(), w),
            ("t_hat", self.t_hat.len(), n),
            ("s4", self.s4.len(), w),
            ("s_hat", self.s_hat.len(), n),
            ("s_prime", self.s_prime.len(), n),
        ];
        for (name, found, expected) in lengths {
            if found != expected {
                return Err(CryptoError::Inconsistent {
                    what: "shuffle proof",
                    why: format!("{found} entries in {name}, expected {expected}"),
                });
            }
        }
        Ok(())
    }

    /// The challenges `uᵢ` and `c` of this proof (spec §5.5), the statement's shape and the
    /// proof's lengths being checked.
    fn challenges(
        &self,
        mut t: Transcript,
        s: &ShuffleStatement<'_>,
    ) -> Result<Challenges, CryptoError> {
        let (n, w) = check_statement(s)?;
        self.check_lengths(n, w)?;
        statement_items(&mut t, s, &self.permutation);
        let u = challenges_u(&t, n);
        commitment_items(&mut t, &SecondRound::of_proof(self));
        Ok(Challenges {
            u,
            c: t.challenge(),
        })
    }

    /// The challenges `(u₀ … u_{N−1}, c)` this proof answers (for test vectors).
    pub fn challenge_values(
        &self,
        t: Transcript,
        s: &ShuffleStatement<'_>,
    ) -> Result<(Vec<Scalar>, Scalar), CryptoError> {
        let Challenges { u, c } = self.challenges(t, s)?;
        Ok((u, c))
    }

    /// Adds the `3 + 2w + N` equations of §5.5 (CheckShuffleProof) to a batch.
    pub fn add_to_batch(
        &self,
        t: Transcript,
        s: &ShuffleStatement<'_>,
        batch: &mut BatchVerifier,
    ) -> Result<(), CryptoError> {
        let (n, w) = check_statement(s)?;
        self.check_lengths(n, w)?;
        let gens = ShuffleGenerators::new(&t, n)?;
        let Challenges { u, c } = self.challenges(t, s)?;
        batch.reserve(4 * n * w + 2 * n + 2 * w + 3);
        let key = batch.register_base(s.key.point());
        let j = batch.register_base(&gens.j);
        let f: Vec<BaseId> = gens.f.iter().map(|p| batch.register_base(p)).collect();
        let perm: Vec<BaseId> = self
            .permutation
            .iter()
            .map(|p| batch.register_base(p.point()))
            .collect();
        let chain: Vec<BaseId> = self
            .chain
            .iter()
            .map(|p| batch.register_base(p.point()))
            .collect();

        // (1) s₁G − T₁ − c·Σⱼ Cⱼ + c·Σᵢ Fᵢ = O
        let mut e = batch.equation();
        e.g(self.s1).term(-Scalar::ONE, self.t1.point());
        for (cj, fi) in perm.iter().zip(&f) {
            e.base(*cj, -c).base(*fi, c);
        }

        // (2) s₂G − T₂ − c·Ĉ_{N−1} + c·(Πᵢ uᵢ)·J = O
        let u_product = u.iter().fold(Scalar::ONE, |acc, ui| acc * ui);
        let mut e = batch.equation();
        e.g(self.s2)
            .term(-Scalar::ONE, self.t2.point())
            .base(j, c * u_product);
        if let Some(last) = chain.last() {
            e.base(*last, -c);
        }

        // (3) s₃G + Σᵢ s′ᵢFᵢ − T₃ − c·Σⱼ uⱼCⱼ = O
        let cu: Vec<Scalar> = u.iter().map(|ui| c * ui).collect();
        let mut e = batch.equation();
        e.g(self.s3).term(-Scalar::ONE, self.t3.point());
        for ((sp, fi), (cuj, cj)) in self.s_prime.iter().zip(&f).zip(cu.iter().zip(&perm)) {
            e.base(*fi, *sp).base(*cj, -cuj);
        }

        // (4ₖ) Σᵢ s′ᵢα′ᵢₖ − s₄ₖG − T₄α,ₖ − c·Σⱼ uⱼαⱼₖ = O, and the same with β, H.
        for (k, ((s4, t4a), t4b)) in self
            .s4
            .iter()
            .zip(&self.t4_alpha)
            .zip(&self.t4_beta)
            .enumerate()
        {
            let mut ea = batch.equation();
            ea.g(-s4).term(-Scalar::ONE, t4a.point());
            for ((sp, out), (cuj, inp)) in self
                .s_prime
                .iter()
                .zip(s.outputs)
                .zip(cu.iter().zip(s.inputs))
            {
                if let (Some(o), Some(i)) = (out.get(k), inp.get(k)) {
                    ea.term(*sp, o.alpha.point()).term(-cuj, i.alpha.point());
                }
            }
            let mut eb = batch.equation();
            eb.base(key, -s4).term(-Scalar::ONE, t4b.point());
            for ((sp, out), (cuj, inp)) in self
                .s_prime
                .iter()
                .zip(s.outputs)
                .zip(cu.iter().zip(s.inputs))
            {
                if let (Some(o), Some(i)) = (out.get(k), inp.get(k)) {
                    eb.term(*sp, o.beta.point()).term(-cuj, i.beta.point());
                }
            }
        }

        // (5ᵢ) ŝᵢG + s′ᵢĈ_{i−1} − T̂ᵢ − c·Ĉᵢ = O, with Ĉ₋₁ = J.
        let previous = core::iter::once(j).chain(chain.iter().copied());
        for (((sh, sp), th), (prev, ci)) in self
            .s_hat
            .iter()
            .zip(&self.s_prime)
            .zip(&self.t_hat)
            .zip(previous.zip(&chain))
        {
            batch
                .equation()
                .g(*sh)
                .base(prev, *sp)
                .term(-Scalar::ONE, th.point())
                .base(*ci, -c);
        }
        Ok(())
    }

    /// Verifies the proof on its own (spec §5.5, CheckShuffleProof).
    pub fn verify(&self, t: Transcript, s: &ShuffleStatement<'_>) -> Result<(), CryptoError> {
        let mut batch = BatchVerifier::new(&mut crate::rng::os_rng());
        self.add_to_batch(t, s, &mut batch)?;
        if batch.verify() {
            Ok(())
        } else {
            Err(CryptoError::proof("proof of a shuffle"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SeededRng;
    use proptest::prelude::*;

    fn t() -> Transcript {
        let mut t = Transcript::new("test-shuffle");
        t.append("context", b"ctx");
        t
    }

    fn random_point(rng: &mut SeededRng) -> Point {
        Point::from_point(RistrettoPoint::random(rng))
    }

    /// A key and `n` rows of `w` encryptions of `mᵢₖ = 10·i + k`.
    struct Fixture {
        secret: SecretScalar,
        key: EncryptionKey,
        inputs: Vec<Vec<Ciphertext>>,
    }

    fn fixture(rng: &mut SeededRng, n: usize, w: usize) -> Fixture {
        let secret = SecretScalar::new(Scalar::random(rng));
        let key = EncryptionKey::new(secret.public());
        let inputs = (0..n)
            .map(|i| {
                (0..w)
                    .map(|k| Ciphertext::encrypt(&key, (10 * i + k) as u64, &Scalar::random(rng)))
                    .collect()
            })
            .collect();
        Fixture {
            secret,
            key,
            inputs,
        }
    }

    impl Fixture {
        /// `mG` for the plaintext `m` of `e`.
        fn decrypt(&self, e: &Ciphertext) -> RistrettoPoint {
            e.beta.point() - e.alpha.point() * self.secret.expose()
        }
    }

    /// A statement with its proof, to be tampered with.
    #[derive(Clone)]
    struct Case {
        t: Transcript,
        key: Point,
        inputs: Vec<Vec<Ciphertext>>,
        outputs: Vec<Vec<Ciphertext>>,
        proof: ShuffleProof,
    }

    impl Case {
        fn honest(rng: &mut SeededRng, n: usize, w: usize) -> Case {
            let fx = fixture(rng, n, w);
            let (outputs, witness) = shuffle(&fx.key, &fx.inputs, rng).unwrap();
            let s = ShuffleStatement {
                key: fx.key.point(),
                inputs: &fx.inputs,
                outputs: &outputs,
            };
            let proof = ShuffleProof::prove(t(), &s, &witness, rng).unwrap();
            Case {
                t: t(),
                key: *fx.key.point(),
                inputs: fx.inputs,
                outputs,
                proof,
            }
        }

        fn verify(&self) -> Result<(), CryptoError> {
            let s = ShuffleStatement {
                key: &self.key,
                inputs: &self.inputs,
                outputs: &self.outputs,
            };
            self.proof.verify(self.t.clone(), &s)
        }
    }

    type Tampering = (&'static str, fn(&mut Case, &mut SeededRng) -> bool);

    /// Every way of changing a statement or a proof; each returns false when it does not
    /// apply to the case's shape (a swap of two rows needs two rows).
    fn tamperings() -> Vec<Tampering> {
        fn last<T>(v: &mut [T]) -> &mut T {
            v.last_mut().unwrap()
        }
        fn last_entry(rows: &mut [Vec<Ciphertext>]) -> &mut Ciphertext {
            rows.last_mut().unwrap().last_mut().unwrap()
        }
        vec![
            ("output alpha changed", |c, rng| {
                let p = random_point(rng);
                last_entry(&mut c.outputs).alpha = p;
                true
            }),
            ("output beta changed", |c, rng| {
                c.outputs[0][0].beta = random_point(rng);
                true
            }),
            ("two output rows swapped", |c, _| {
                let applies = c.outputs.len() >= 2;
                if applies {
                    c.outputs.swap(0, 1);
                }
                applies
            }),
            ("two outputs of a row swapped", |c, _| {
                let applies = c.outputs[0].len() >= 2;
                if applies {
                    c.outputs[0].swap(0, 1);
                }
                applies
            }),
            (
                "output replaced by an encryption of another message",
                |c, rng| {
                    let key = EncryptionKey::new(c.key);
                    c.outputs[0][0] = Ciphertext::encrypt(&key, 999, &Scalar::random(rng));
                    true
                },
            ),
            ("input alpha changed", |c, rng| {
                c.inputs[0][0].alpha = random_point(rng);
                true
            }),
            ("input beta changed", |c, rng| {
                let p = random_point(rng);
                last_entry(&mut c.inputs).beta = p;
                true
            }),
            ("two input rows swapped", |c, _| {
                let applies = c.inputs.len() >= 2;
                if applies {
                    c.inputs.swap(0, 1);
                }
                applies
            }),
            ("another context", |c, _| {
                c.t.append("more", b"x");
                true
            }),
            ("another key", |c, rng| {
                c.key = random_point(rng);
                true
            }),
            ("permutation commitment", |c, rng| {
                *last(&mut c.proof.permutation) = random_point(rng);
                true
            }),
            ("chain", |c, rng| {
                c.proof.chain[0] = random_point(rng);
                true
            }),
            ("t1", |c, rng| {
                c.proof.t1 = random_point(rng);
                true
            }),
            ("t2", |c, rng| {
                c.proof.t2 = random_point(rng);
                true
            }),
            ("t3", |c, rng| {
                c.proof.t3 = random_point(rng);
                true
            }),
            ("t4_alpha", |c, rng| {
                *last(&mut c.proof.t4_alpha) = random_point(rng);
                true
            }),
            ("t4_beta", |c, rng| {
                c.proof.t4_beta[0] = random_point(rng);
                true
            }),
            ("t_hat", |c, rng| {
                *last(&mut c.proof.t_hat) = random_point(rng);
                true
            }),
            ("s1", |c, _| {
                c.proof.s1 += Scalar::ONE;
                true
            }),
            ("s2", |c, _| {
                c.proof.s2 += Scalar::ONE;
                true
            }),
            ("s3", |c, _| {
                c.proof.s3 += Scalar::ONE;
                true
            }),
            ("s4", |c, _| {
                *last(&mut c.proof.s4) += Scalar::ONE;
                true
            }),
            ("s_hat", |c, _| {
                c.proof.s_hat[0] += Scalar::ONE;
                true
            }),
            ("s_prime", |c, _| {
                *last(&mut c.proof.s_prime) += Scalar::ONE;
                true
            }),
            ("a response too few", |c, _| {
                c.proof.s_prime.pop();
                true
            }),
            ("a column commitment too many", |c, rng| {
                c.proof.t4_alpha.push(random_point(rng));
                true
            }),
            ("an output row fewer", |c, _| {
                c.outputs.pop();
                true
            }),
            ("an output column fewer", |c, _| {
                for row in &mut c.outputs {
                    row.pop();
                }
                true
            }),
            ("an input row longer", |c, rng| {
                let extra = Ciphertext {
                    alpha: random_point(rng),
                    beta: random_point(rng),
                };
                c.inputs[0].push(extra);
                true
            }),
        ]
    }

    #[test]
    fn honest_shuffles_verify_and_decrypt_to_the_permuted_inputs() {
        let mut rng = SeededRng::new(b"honest");
        for (n, w) in [(1, 1), (1, 3), (2, 1), (2, 3), (3, 1), (5, 3), (8, 2)] {
            let fx = fixture(&mut rng, n, w);
            let (outputs, witness) = shuffle(&fx.key, &fx.inputs, &mut rng).unwrap();
            assert!(is_permutation(witness.permutation()));
            assert_eq!(outputs.len(), n);
            for (row, j) in outputs.iter().zip(witness.permutation()) {
                assert_eq!(row.len(), w);
                for (k, e) in row.iter().enumerate() {
                    assert_ne!(*e, fx.inputs[*j][k], "re-encrypted");
                    let m = Scalar::from((10 * j + k) as u64);
                    assert_eq!(fx.decrypt(e), RistrettoPoint::mul_base(&m));
                }
            }
            assert_eq!(witness.apply(&fx.key, &fx.inputs).unwrap(), outputs);
            let s = ShuffleStatement {
                key: fx.key.point(),
                inputs: &fx.inputs,
                outputs: &outputs,
            };
            let proof = ShuffleProof::prove(t(), &s, &witness, &mut rng).unwrap();
            assert_eq!(proof.verify(t(), &s), Ok(()), "N = {n}, w = {w}");
        }
    }

    #[test]
    fn every_tampering_is_rejected() {
        let mut rng = SeededRng::new(b"tamper");
        for (n, w) in [(1, 1), (2, 1), (3, 3)] {
            let case = Case::honest(&mut rng, n, w);
            assert_eq!(case.verify(), Ok(()));
            for (name, tamper) in tamperings() {
                let mut bad = case.clone();
                if tamper(&mut bad, &mut rng) {
                    assert!(bad.verify().is_err(), "{name} accepted (N = {n}, w = {w})");
                }
            }
        }
    }

    #[test]
    fn every_entry_of_every_proof_field_is_checked() {
        let mut rng = SeededRng::new(b"fields");
        let case = Case::honest(&mut rng, 3, 2);
        assert_eq!(case.verify(), Ok(()));
        let other = random_point(&mut rng);
        let mut tried = 0;
        for i in 0..3 {
            for field in 0..5 {
                let mut bad = case.clone();
                match field {
                    0 => bad.proof.permutation[i] = other,
                    1 => bad.proof.chain[i] = other,
                    2 => bad.proof.t_hat[i] = other,
                    3 => bad.proof.s_hat[i] += Scalar::ONE,
                    _ => bad.proof.s_prime[i] += Scalar::ONE,
                }
                assert!(bad.verify().is_err(), "row {i}, field {field}");
                tried += 1;
            }
        }
        for k in 0..2 {
            for field in 0..3 {
                let mut bad = case.clone();
                match field {
                    0 => bad.proof.t4_alpha[k] = other,
                    1 => bad.proof.t4_beta[k] = other,
                    _ => bad.proof.s4[k] += Scalar::ONE,
                }
                assert!(bad.verify().is_err(), "column {k}, field {field}");
                tried += 1;
            }
        }
        assert_eq!(tried, 21);
    }

    #[test]
    fn a_map_that_drops_a_row_and_duplicates_another_cannot_be_proved() {
        let mut rng = SeededRng::new(b"duplicate");
        let fx = fixture(&mut rng, 3, 2);
        for map in [vec![0, 0, 2], vec![2, 2, 0], vec![1, 0, 0], vec![1, 1, 1]] {
            let randomness = (0..3)
                .map(|_| {
                    (0..2)
                        .map(|_| SecretScalar::new(Scalar::random(&mut rng)))
                        .collect()
                })
                .collect();
            let witness = ShuffleWitness {
                permutation: map.clone(),
                randomness,
            };
            let outputs = witness.reencrypt_rows(&fx.key, &fx.inputs).unwrap();
            let s = ShuffleStatement {
                key: fx.key.point(),
                inputs: &fx.inputs,
                outputs: &outputs,
            };
            // The public prover refuses the witness; the prover of any map makes a proof
            // with it, which fails.
            assert!(matches!(
                ShuffleProof::prove(t(), &s, &witness, &mut rng),
                Err(CryptoError::Inconsistent { .. })
            ));
            let proof = ShuffleProof::prove_map(t(), &s, &witness, &mut rng).unwrap();
            assert!(proof.verify(t(), &s).is_err(), "map {map:?} accepted");
            assert!(ShuffleWitness::new(map, Vec::new()).is_err());
        }
    }

    /// A cheating prover that commits to any matrix `B` (`Cⱼ = rⱼG + Σᵢ BᵢⱼFᵢ`) and answers
    /// with `u′ = Bu`: everything else is the honest prover's code.
    fn prove_matrix(
        mut t: Transcript,
        s: &ShuffleStatement<'_>,
        b: &[Vec<Scalar>],
        randomness: &[Vec<SecretScalar>],
        rng: &mut SeededRng,
    ) -> ShuffleProof {
        let (n, w) = check_statement(s).unwrap();
        let bases = ProverBases::new(&t, n).unwrap();
        let x = draw_secrets(rng, &t, randomness, n, w);
        let permutation: Vec<Point> = (0..n)
            .map(|j| {
                let f: RistrettoPoint = (0..n).map(|i| bases.gens.f()[i] * b[i][j]).sum();
                Point::from_point(RistrettoPoint::mul_base(&x.r[j]) + f)
            })
            .collect();
        statement_items(&mut t, s, &permutation);
        let u = challenges_u(&t, n);
        let u_prime = (0..n)
            .map(|i| (0..n).map(|j| b[i][j] * u[j]).sum())
            .collect();
        let first = FirstRound {
            permutation,
            u,
            u_prime: Zeroizing::new(u_prime),
        };
        answer(t, s, &bases, &x, first, randomness, w)
    }

    /// With `B = [[2, −1, 0], [0, 1, 0], [0, 0, 1]]` (rows summing to 1, not a permutation)
    /// and outputs `e′ = (Bᵀ)⁻¹e` (`e′₀ = e₀/2`, `e′₁ = e₁ + e₀/2`, `e′₂ = e₂`), every
    /// equation but the product check (2) holds: it alone rejects this proof of outputs
    /// that are not a shuffle. The same prover with a permutation matrix is accepted.
    #[test]
    fn a_matrix_that_is_not_a_permutation_is_rejected_by_the_product_check() {
        let mut rng = SeededRng::new(b"matrix");
        let fx = fixture(&mut rng, 3, 2);
        let s_int = |v: i64| {
            if v < 0 {
                -Scalar::from(v.unsigned_abs())
            } else {
                Scalar::from(v as u64)
            }
        };
        let matrix = |rows: [[i64; 3]; 3]| -> Vec<Vec<Scalar>> {
            rows.iter()
                .map(|r| r.iter().map(|v| s_int(*v)).collect())
                .collect()
        };
        let zero = || -> Vec<Vec<SecretScalar>> {
            (0..3)
                .map(|_| (0..2).map(|_| SecretScalar::new(Scalar::ZERO)).collect())
                .collect()
        };
        let scale = |e: &Ciphertext, k: Scalar| Ciphertext {
            alpha: Point::from_point(e.alpha.point() * k),
            beta: Point::from_point(e.beta.point() * k),
        };
        let add = |a: &Ciphertext, b: &Ciphertext| Ciphertext {
            alpha: Point::from_point(a.alpha.point() + b.alpha.point()),
            beta: Point::from_point(a.beta.point() + b.beta.point()),
        };

        // Control: the permutation (2, 0, 1) as a matrix, outputs without re-encryption.
        let p = matrix([[0, 0, 1], [1, 0, 0], [0, 1, 0]]);
        let permuted = vec![
            fx.inputs[2].clone(),
            fx.inputs[0].clone(),
            fx.inputs[1].clone(),
        ];
        let s = ShuffleStatement {
            key: fx.key.point(),
            inputs: &fx.inputs,
            outputs: &permuted,
        };
        let proof = prove_matrix(t(), &s, &p, &zero(), &mut rng);
        assert_eq!(proof.verify(t(), &s), Ok(()));

        let b = matrix([[2, -1, 0], [0, 1, 0], [0, 0, 1]]);
        let h = half();
        let forged: Vec<Vec<Ciphertext>> = vec![
            fx.inputs[0].iter().map(|e| scale(e, h)).collect(),
            fx.inputs[1]
                .iter()
                .zip(&fx.inputs[0])
                .map(|(e1, e0)| add(e1, &scale(e0, h)))
                .collect(),
            fx.inputs[2].clone(),
        ];
        let s = ShuffleStatement {
            key: fx.key.point(),
            inputs: &fx.inputs,
            outputs: &forged,
        };
        let proof = prove_matrix(t(), &s, &b, &zero(), &mut rng);
        assert!(proof.verify(t(), &s).is_err());
    }

    #[test]
    fn a_wrong_witness_gives_a_proof_that_fails() {
        let mut rng = SeededRng::new(b"wrong witness");
        let fx = fixture(&mut rng, 3, 2);
        let (outputs, witness) = shuffle(&fx.key, &fx.inputs, &mut rng).unwrap();
        let s = ShuffleStatement {
            key: fx.key.point(),
            inputs: &fx.inputs,
            outputs: &outputs,
        };
        // One randomness off.
        let mut randomness = witness.randomness().to_vec();
        randomness[1][1] = SecretScalar::new(randomness[1][1].expose() + Scalar::ONE);
        let off = ShuffleWitness::new(witness.permutation().to_vec(), randomness).unwrap();
        let proof = ShuffleProof::prove(t(), &s, &off, &mut rng).unwrap();
        assert!(proof.verify(t(), &s).is_err());
        // Another permutation with the right randomness.
        let mut other = witness.permutation().to_vec();
        other.swap(0, 2);
        let swapped = ShuffleWitness::new(other, witness.randomness().to_vec()).unwrap();
        let proof = ShuffleProof::prove(t(), &s, &swapped, &mut rng).unwrap();
        assert!(proof.verify(t(), &s).is_err());
        // The right witness.
        let proof = ShuffleProof::prove(t(), &s, &witness, &mut rng).unwrap();
        assert_eq!(proof.verify(t(), &s), Ok(()));
    }

    #[test]
    fn every_column_must_follow_the_same_permutation() {
        let mut rng = SeededRng::new(b"columns");
        let fx = fixture(&mut rng, 3, 2);
        let (outputs, witness) = shuffle(&fx.key, &fx.inputs, &mut rng).unwrap();
        let pi = witness.permutation().to_vec();
        // Column 1 permuted by σ = π followed by a swap of rows 0 and 1, column 0 by π.
        let mut mixed = outputs.clone();
        let (a, b) = (mixed[0][1], mixed[1][1]);
        mixed[0][1] = b;
        mixed[1][1] = a;
        let s = ShuffleStatement {
            key: fx.key.point(),
            inputs: &fx.inputs,
            outputs: &mixed,
        };
        let mut r = witness.randomness().to_vec();
        r.swap(0, 1);
        let mut sigma = pi.clone();
        sigma.swap(0, 1);
        for (p, r) in [(pi, witness.randomness().to_vec()), (sigma, r)] {
            let attempt = ShuffleWitness::new(p, r).unwrap();
            let proof = ShuffleProof::prove(t(), &s, &attempt, &mut rng).unwrap();
            assert!(proof.verify(t(), &s).is_err());
        }
    }

    #[test]
    fn a_proof_for_one_column_does_not_serve_another() {
        let mut rng = SeededRng::new(b"one column");
        let fx = fixture(&mut rng, 3, 2);
        let (outputs, witness) = shuffle(&fx.key, &fx.inputs, &mut rng).unwrap();
        let column = |rows: &[Vec<Ciphertext>], k: usize| -> Vec<Vec<Ciphertext>> {
            rows.iter().map(|row| vec![row[k]]).collect()
        };
        let (in0, out0) = (column(&fx.inputs, 0), column(&outputs, 0));
        let (in1, out1) = (column(&fx.inputs, 1), column(&outputs, 1));
        let r0 = witness
            .randomness()
            .iter()
            .map(|r| vec![r[0].clone()])
            .collect();
        let w0 = ShuffleWitness::new(witness.permutation().to_vec(), r0).unwrap();
        let s0 = ShuffleStatement {
            key: fx.key.point(),
            inputs: &in0,
            outputs: &out0,
        };
        let proof0 = ShuffleProof::prove(t(), &s0, &w0, &mut rng).unwrap();
        assert_eq!(proof0.verify(t(), &s0), Ok(()));
        let s1 = ShuffleStatement {
            key: fx.key.point(),
            inputs: &in1,
            outputs: &out1,
        };
        assert!(proof0.verify(t(), &s1).is_err());
        // Nor for the two columns together, and the columns' parts of a width-2 proof do
        // not swap.
        let s = ShuffleStatement {
            key: fx.key.point(),
            inputs: &fx.inputs,
            outputs: &outputs,
        };
        assert!(proof0.verify(t(), &s).is_err());
        let mut proof = ShuffleProof::prove(t(), &s, &witness, &mut rng).unwrap();
        assert_eq!(proof.verify(t(), &s), Ok(()));
        proof.t4_alpha.swap(0, 1);
        proof.t4_beta.swap(0, 1);
        proof.s4.swap(0, 1);
        assert!(proof.verify(t(), &s).is_err());
    }

    #[test]
    fn hostile_sizes_are_refused_before_any_work() {
        let mut rng = SeededRng::new(b"sizes");
        let fx = fixture(&mut rng, 2, 2);
        let out_of_bounds = |r: Result<(usize, usize), CryptoError>| {
            matches!(r, Err(CryptoError::OutOfBounds { .. }))
        };
        assert!(out_of_bounds(shape(&[], "x")));
        assert!(out_of_bounds(shape(&[Vec::new(), Vec::new()], "x")));
        let wide = vec![fx.inputs[0][0]; MAX_WIDTH + 1];
        assert!(out_of_bounds(shape(&[wide], "x")));
        assert!(out_of_bounds(shape(&vec![Vec::new(); MAX_ROWS + 1], "x")));
        // N·w too large: only the first row's width is read.
        let mut many = vec![Vec::new(); MAX_CIPHERTEXTS / MAX_WIDTH + 1];
        many[0] = vec![fx.inputs[0][0]; MAX_WIDTH];
        assert!(out_of_bounds(shape(&many, "x")));
        let ragged = vec![fx.inputs[0].clone(), vec![fx.inputs[1][0]]];
        assert!(matches!(
            shape(&ragged, "x"),
            Err(CryptoError::Inconsistent { .. })
        ));
        assert!(shuffle(&fx.key, &[], &mut rng).is_err());
        assert!(shuffle(&fx.key, &ragged, &mut rng).is_err());
        assert!(ShuffleGenerators::new(&t(), 0).is_err());
        assert!(ShuffleGenerators::new(&t(), MAX_ROWS + 1).is_err());

        let (outputs, witness) = shuffle(&fx.key, &fx.inputs, &mut rng).unwrap();
        let s = ShuffleStatement {
            key: fx.key.point(),
            inputs: &fx.inputs,
            outputs: &outputs,
        };
        let proof = ShuffleProof::prove(t(), &s, &witness, &mut rng).unwrap();
        for (inputs, outputs) in [
            (&fx.inputs[..1], &outputs[..]),
            (&fx.inputs[..], &outputs[..1]),
            (&[][..], &[][..]),
            (&ragged[..], &outputs[..]),
        ] {
            let bad = ShuffleStatement {
                key: fx.key.point(),
                inputs,
                outputs,
            };
            assert!(proof.verify(t(), &bad).is_err());
            assert!(ShuffleProof::prove(t(), &bad, &witness, &mut rng).is_err());
        }
        // A witness for another shape.
        let short =
            ShuffleWitness::new(vec![0], vec![vec![SecretScalar::new(Scalar::ONE)]]).unwrap();
        assert!(matches!(
            ShuffleProof::prove(t(), &s, &short, &mut rng),
            Err(CryptoError::Inconsistent { .. })
        ));
        assert!(short.apply(&fx.key, &fx.inputs).is_err());
        assert!(ShuffleWitness::new(vec![0, 1], vec![vec![], vec![]]).is_err());
        assert!(ShuffleWitness::new(vec![0, 2], Vec::new()).is_err());
    }

    #[test]
    fn proofs_round_trip_through_json_and_batch() {
        let mut rng = SeededRng::new(b"json");
        let a = Case::honest(&mut rng, 3, 2);
        let b = Case::honest(&mut rng, 2, 1);
        let json = serde_json::to_string(&a.proof).unwrap();
        let back: ShuffleProof = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a.proof);
        for member in [
            "permutation",
            "chain",
            "t1",
            "t2",
            "t3",
            "t4_alpha",
            "t4_beta",
            "t_hat",
            "s1",
            "s2",
            "s3",
            "s4",
            "s_hat",
            "s_prime",
        ] {
            assert!(json.contains(&format!("\"{member}\":")), "{member}");
        }
        let extra = json.replacen('{', "{\"extra\":1,", 1);
        assert!(serde_json::from_str::<ShuffleProof>(&extra).is_err());
        let missing = json.replacen("\"t1\":", "\"t9\":", 1);
        assert!(serde_json::from_str::<ShuffleProof>(&missing).is_err());

        let statement = |c: &Case| (c.t.clone(), c.key, c.inputs.clone(), c.outputs.clone());
        let mut batch = BatchVerifier::new(&mut rng);
        for c in [&a, &b] {
            let (t, key, inputs, outputs) = statement(c);
            let s = ShuffleStatement {
                key: &key,
                inputs: &inputs,
                outputs: &outputs,
            };
            c.proof.add_to_batch(t, &s, &mut batch).unwrap();
        }
        assert!(batch.verify());
        let mut bad = b.clone();
        bad.proof.s2 += Scalar::ONE;
        let mut batch = BatchVerifier::new(&mut rng);
        for c in [&a, &bad] {
            let (t, key, inputs, outputs) = statement(c);
            let s = ShuffleStatement {
                key: &key,
                inputs: &inputs,
                outputs: &outputs,
            };
            c.proof.add_to_batch(t, &s, &mut batch).unwrap();
        }
        assert!(!batch.verify());
    }

    #[test]
    fn generators_are_distinct_fixed_and_bound_to_the_caller() {
        let gens = ShuffleGenerators::new(&t(), 16).unwrap();
        let mut all: Vec<[u8; 32]> = gens.f().iter().map(|p| p.compress().to_bytes()).collect();
        all.push(gens.j().compress().to_bytes());
        all.push(RistrettoPoint::mul_base(&Scalar::ONE).compress().to_bytes());
        all.push(crate::bits::generator_j().compress().to_bytes());
        let mut sorted = all.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), all.len());
        assert_eq!(gens.f()[5], generator_f(&t(), 5));
        assert_eq!(*gens.j(), generator_j(&t()));
        let mut other = t();
        other.append("more", b"x");
        assert_ne!(generator_f(&other, 5), gens.f()[5]);
        assert_ne!(generator_j(&other), *gens.j());
        // The first generators do not depend on how many are derived.
        assert_eq!(ShuffleGenerators::new(&t(), 3).unwrap().f(), &gens.f()[..3]);
    }

    #[test]
    fn permutations_are_uniform_and_checked() {
        let mut rng = SeededRng::new(b"permutations");
        let mut seen = std::collections::BTreeMap::new();
        for _ in 0..600 {
            let pi = random_permutation(&mut rng, 3);
            assert!(is_permutation(&pi));
            *seen.entry(pi).or_insert(0u32) += 1;
        }
        assert_eq!(seen.len(), 6);
        assert!(
            seen.values().all(|count| (60..=140).contains(count)),
            "{seen:?}"
        );
        assert_eq!(random_permutation(&mut rng, 1), vec![0]);
        for m in [1u64, 2, 3, 7, 1 << 63, (1 << 63) + 1, u64::MAX] {
            for _ in 0..20 {
                assert!(uniform_below(&mut rng, m) < m);
            }
        }
        assert!(is_permutation(&[2, 0, 1]));
        assert!(!is_permutation(&[0, 0, 1]));
        assert!(!is_permutation(&[0, 3, 1]));
        assert!(ShuffleWitness::new(vec![0], vec![vec![]]).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn random_shuffles_verify_and_tampering_fails(
            seed in any::<[u8; 32]>(),
            n in 1usize..6,
            w in 1usize..4,
            which in 0usize..29,
        ) {
            let mut rng = SeededRng::new(&seed);
            let case = Case::honest(&mut rng, n, w);
            prop_assert_eq!(case.verify(), Ok(()));
            let list = tamperings();
            let (name, tamper) = list[which % list.len()];
            let mut bad = case.clone();
            if tamper(&mut bad, &mut rng) {
                prop_assert!(bad.verify().is_err(), "{} accepted", name);
            }
        }
    }
}
