//! Bit-vector proofs: one proof that each of `n` ciphertexts encrypts 0 or 1 (spec §5.7).
//!
//! Statement: public key `H`, ciphertexts `Cᵢ = (αᵢ, βᵢ)`, `i = 0 … n−1`. Witness: bits
//! `mᵢ ∈ {0, 1}` and scalars `rᵢ` with `αᵢ = rᵢG` and `βᵢ = mᵢG + rᵢH`.
//!
//! The prover commits to the whole bit vector in one Pedersen vector commitment
//! `B = Σ mᵢGᵢ + μJ` on generators nobody knows a relation between ([`BitGenerators`],
//! derived by hashing), and proves three things about it with one Σ-protocol and two
//! challenges `y` (after `B`, `A`) and `x` (after `T₁, T₀, K_α, K_β`):
//!
//! ```text
//!   Σ fᵢGᵢ + z_A·J = A + x·B                       the responses fᵢ = aᵢ + x·mᵢ open B
//!   e·G + z_T·J    = x·T₁ + T₀                     e = Σ yᵢ fᵢ (x − fᵢ): every mᵢ² = mᵢ
//!   z_K·G          = K_α + x·Σ yᵢαᵢ                 the plaintexts of the Cᵢ are the mᵢ
//!   (Σ yᵢfᵢ)·G + z_K·H = K_β + x·Σ yᵢβᵢ
//! ```
//! with `yᵢ = y^(i+1)`. `fᵢ(x − fᵢ) = x²(mᵢ − mᵢ²) + x·aᵢ(1 − 2mᵢ) − aᵢ²`, so the second
//! equation holds for the prover's `T₁, T₀` (committed before `x`) only if
//! `Σ yᵢ(mᵢ − mᵢ²) = 0`; the last two tie `Σ yᵢmᵢ` to the ciphertexts' plaintexts using
//! only `G` and `H`, whose relation the trustees know — soundness never relies on it.
//! This is the bit check of Bootle et al. and Groth–Kohlweiss (one-out-of-many proofs,
//! EUROCRYPT 2015, Fig. 1) and of Bulletproofs (`a_L ∘ a_R = 0`), vectorised with one
//! commitment, and a batched ElGamal plaintext link.
//!
//! A proof has 6 group elements and `n + 3` scalars whatever `n`, against `4n` group
//! elements and `4n` scalars for `n` disjunctive proofs (§5.4): decoding points is the
//! main cost of verifying a ballot, and all the `Gᵢ` terms of a batch merge into `n + 1`
//! points of the multiscalar multiplication.

use curve25519_dalek::ristretto::{RistrettoBasepointTable, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, MultiscalarMul};
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};
use subtle::{Choice, ConditionallySelectable};

use crate::batch::{BaseId, BatchVerifier};
use crate::elgamal::{Ciphertext, EncryptionKey};
use crate::group::{half, hex_scalar, hex_scalar_vec};
use crate::schnorr::hedged_nonce;
use crate::transcript::Transcript;
use crate::{CryptoError, Point};

/// The largest number of ciphertexts in one bit-vector proof.
pub const MAX_BITS: usize = 1024;

/// Domain tag of the generators `J`, `G₀, G₁, …` (spec §5.7, Table 1).
pub const GENERATOR_TAG: &str = "bits-generator";

/// `from_uniform_bytes(SHA-512(transcript))`: a group element whose discrete logarithm
/// nobody knows (RFC 9496 §4.3.4, the one-way map of 64 uniform bytes).
pub(crate) fn hash_to_group(t: &Transcript) -> RistrettoPoint {
    let digest: [u8; 64] = Sha512::digest(t.bytes()).into();
    RistrettoPoint::from_uniform_bytes(&digest)
}

/// The generator `J` (spec §5.7).
pub fn generator_j() -> RistrettoPoint {
    let mut t = Transcript::new(GENERATOR_TAG);
    t.append("name", b"J");
    hash_to_group(&t)
}

/// The generator `Gᵢ` (spec §5.7).
pub fn generator_g(i: usize) -> RistrettoPoint {
    let mut t = Transcript::new(GENERATOR_TAG);
    t.append_u64("index", i as u64);
    hash_to_group(&t)
}

/// The generators `J`, `G₀ … G_{n−1}` of bit-vector proofs with up to `n` ciphertexts,
/// with what the prover precomputes: a table of `J` and the halves `Gᵢ/2` (for encoding
/// its commitments in one batch, [`Point::batch_from_halves`]).
pub struct BitGenerators {
    j: RistrettoPoint,
    j_table: RistrettoBasepointTable,
    g: Vec<RistrettoPoint>,
    g_halves: Vec<RistrettoPoint>,
}

impl BitGenerators {
    /// Derives the generators of proofs with at most `n ≤ MAX_BITS` ciphertexts.
    pub fn new(n: usize) -> Result<Self, CryptoError> {
        check_count(n.max(1))?;
        let j = generator_j();
        let g: Vec<RistrettoPoint> = (0..n).map(generator_g).collect();
        let h = half();
        let g_halves = g.iter().map(|p| p * h).collect();
        Ok(BitGenerators {
            j,
            j_table: RistrettoBasepointTable::create(&j),
            g,
            g_halves,
        })
    }

    /// Registers `J` and `G₀ … G_{n−1}` as shared bases of a batch: every proof of the
    /// batch then adds its terms on them to one coefficient each.
    pub fn register(&self, batch: &mut BatchVerifier) -> BitBases {
        BitBases {
            j: batch.register_base(&self.j),
            g: self.g.iter().map(|p| batch.register_base(p)).collect(),
        }
    }
}

/// The generators of [`BitGenerators`] registered in one batch.
pub struct BitBases {
    j: BaseId,
    g: Vec<BaseId>,
}

fn check_count(n: usize) -> Result<(), CryptoError> {
    if n == 0 || n > MAX_BITS {
        return Err(CryptoError::OutOfBounds {
            what: "bit-vector proof",
            why: format!("{n} ciphertexts, allowed 1 to {MAX_BITS}"),
        });
    }
    Ok(())
}

/// [`check_count`], and `n` generators among the `available` ones.
fn check_fits(n: usize, available: usize) -> Result<(), CryptoError> {
    check_count(n)?;
    if n > available {
        return Err(CryptoError::OutOfBounds {
            what: "bit-vector proof",
            why: format!("{n} ciphertexts, generators for {available}"),
        });
    }
    Ok(())
}

/// A bit-vector proof (spec §5.7, JSON names in parentheses).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BitsProof {
    /// `B = Σ mᵢGᵢ + μJ` (`"bits"`).
    pub bits: Point,
    /// `A = Σ aᵢGᵢ + νJ` (`"masks"`).
    pub masks: Point,
    /// `T₁ = t₁G + τ₁J` (`"t1"`).
    pub t1: Point,
    /// `T₀ = t₀G + τ₀J` (`"t0"`).
    pub t0: Point,
    /// `K_α = kG` (`"link_alpha"`).
    pub link_alpha: Point,
    /// `K_β = (Σ yᵢaᵢ)G + kH` (`"link_beta"`).
    pub link_beta: Point,
    /// `fᵢ = aᵢ + x·mᵢ`, one per ciphertext (`"f"`).
    #[serde(with = "hex_scalar_vec")]
    pub f: Vec<Scalar>,
    /// `z_A = ν + x·μ` (`"z_masks"`).
    #[serde(with = "hex_scalar")]
    pub z_masks: Scalar,
    /// `z_K = k + x·Σ yᵢrᵢ` (`"z_link"`).
    #[serde(with = "hex_scalar")]
    pub z_link: Scalar,
    /// `z_T = x·τ₁ + τ₀` (`"z_t"`).
    #[serde(with = "hex_scalar")]
    pub z_t: Scalar,
}

/// The statement of a [`BitsProof`].
#[derive(Clone, Copy, Debug)]
pub struct BitsStatement<'a> {
    pub key: &'a Point,
    pub ciphertexts: &'a [Ciphertext],
}

/// The two challenges: `y` (with its powers `yᵢ = y^(i+1)`) and `x`.
struct Challenges {
    y_powers: Vec<Scalar>,
    x: Scalar,
}

/// Appends the statement and the first-round commitments: the transcript of `y`.
fn first_round(t: &mut Transcript, s: &BitsStatement<'_>, bits: &Point, masks: &Point) {
    t.append_point("key", s.key);
    for c in s.ciphertexts {
        t.append_point("alpha", &c.alpha)
            .append_point("beta", &c.beta);
    }
    t.append_point("bits", bits).append_point("masks", masks);
}

fn powers(y: Scalar, n: usize) -> Vec<Scalar> {
    let mut out = Vec::with_capacity(n);
    let mut p = y;
    for _ in 0..n {
        out.push(p);
        p *= y;
    }
    out
}

/// Appends the second-round commitments: with the first round, the transcript of `x`.
fn second_round(t: &mut Transcript, t1: &Point, t0: &Point, ka: &Point, kb: &Point) {
    t.append_point("t1", t1)
        .append_point("t0", t0)
        .append_point("link_alpha", ka)
        .append_point("link_beta", kb);
}

impl BitsProof {
    /// Proves that `s.ciphertexts[i]` encrypts `values[i]` with randomness
    /// `randomness[i]`, every value being 0 or 1.
    ///
    /// A value above 1 gives a proof that does not verify (this is how the tests check
    /// soundness); honest provers only encrypt bits, and for them every multiplication
    /// involving a secret is constant-time.
    pub fn prove<R: CryptoRng + ?Sized>(
        mut t: Transcript,
        gens: &BitGenerators,
        key: &EncryptionKey,
        s: &BitsStatement<'_>,
        values: &[u64],
        randomness: &[Scalar],
        rng: &mut R,
    ) -> Result<Self, CryptoError> {
        let n = s.ciphertexts.len();
        check_fits(n, gens.g.len())?;
        if values.len() != n || randomness.len() != n {
            return Err(CryptoError::Inconsistent {
                what: "bit-vector proof witness",
                why: format!(
                    "{} values and {} random scalars for {n} ciphertexts",
                    values.len(),
                    randomness.len()
                ),
            });
        }
        let h = half();
        // Every secret of the proof comes from one hedged seed (§3.1): the witness and
        // the caller's transcript, hashed with fresh randomness.
        let r_sum = randomness.iter().fold(Scalar::ZERO, |acc, r| acc + r);
        let mut secrets = crate::rng::SeededRng::new(hedged_nonce(rng, &r_sum, &t).as_bytes());
        let mut draw = || Scalar::random(&mut secrets);
        let (mu, nu) = (draw(), draw());
        let a: Vec<Scalar> = (0..n).map(|_| draw()).collect();
        let (k, tau1, tau0) = (draw(), draw(), draw());
        let m: Vec<Scalar> = values.iter().map(|v| Scalar::from(*v)).collect();

        // Round 1: B and A, encoded together from their halves.
        let mut bits_half = &gens.j_table * &(mu * h);
        for (v, g_half) in values.iter().zip(&gens.g_halves) {
            if *v <= 1 {
                let term = RistrettoPoint::conditional_select(
                    &RistrettoPoint::identity(),
                    g_half,
                    Choice::from(*v as u8),
                );
                bits_half += term;
            } else {
                bits_half += g_half * Scalar::from(*v);
            }
        }
        let mask_scalars: Vec<Scalar> = a.iter().chain([&nu]).map(|x| x * h).collect();
        let masks_half =
            RistrettoPoint::multiscalar_mul(&mask_scalars, gens.g.iter().take(n).chain([&gens.j]));
        let round1 = Point::batch_from_halves(&[bits_half, masks_half]);
        let (bits, masks) = (round1[0], round1[1]);
        first_round(&mut t, s, &bits, &masks);
        let y = t.challenge();
        let y_powers = powers(y, n);

        // Round 2: T₁, T₀, K_α, K_β.
        let mut t1_scalar = Scalar::ZERO;
        let mut t0_scalar = Scalar::ZERO;
        let mut ya = Scalar::ZERO;
        for ((yi, ai), mi) in y_powers.iter().zip(&a).zip(&m) {
            let yai = yi * ai;
            t1_scalar += yai * (Scalar::ONE - mi - mi);
            t0_scalar -= yai * ai;
            ya += yai;
        }
        let round2 = Point::batch_from_halves(&[
            RistrettoPoint::mul_base(&(t1_scalar * h)) + &gens.j_table * &(tau1 * h),
            RistrettoPoint::mul_base(&(t0_scalar * h)) + &gens.j_table * &(tau0 * h),
            RistrettoPoint::mul_base(&(k * h)),
            RistrettoPoint::mul_base(&(ya * h)) + key.mul(&(k * h)),
        ]);
        let (t1, t0, link_alpha, link_beta) = (round2[0], round2[1], round2[2], round2[3]);
        second_round(&mut t, &t1, &t0, &link_alpha, &link_beta);
        let x = t.challenge();

        let yr = y_powers
            .iter()
            .zip(randomness)
            .fold(Scalar::ZERO, |acc, (yi, ri)| acc + yi * ri);
        Ok(BitsProof {
            bits,
            masks,
            t1,
            t0,
            link_alpha,
            link_beta,
            f: a.iter().zip(&m).map(|(ai, mi)| ai + x * mi).collect(),
            z_masks: nu + x * mu,
            z_link: k + x * yr,
            z_t: x * tau1 + tau0,
        })
    }

    fn challenges(&self, mut t: Transcript, s: &BitsStatement<'_>) -> Challenges {
        first_round(&mut t, s, &self.bits, &self.masks);
        let y = t.challenge();
        second_round(
            &mut t,
            &self.t1,
            &self.t0,
            &self.link_alpha,
            &self.link_beta,
        );
        Challenges {
            y_powers: powers(y, s.ciphertexts.len()),
            x: t.challenge(),
        }
    }

    /// The challenges `(y, x)` this proof answers (for test vectors).
    pub fn challenge_values(&self, t: Transcript, s: &BitsStatement<'_>) -> (Scalar, Scalar) {
        let c = self.challenges(t, s);
        (c.y_powers.first().copied().unwrap_or(Scalar::ZERO), c.x)
    }

    /// Adds the four equations of §5.7 to a batch, where `key` is the statement's key
    /// and `bases` the generators, both registered in that batch.
    pub fn add_to_batch(
        &self,
        t: Transcript,
        s: &BitsStatement<'_>,
        batch: &mut BatchVerifier,
        key: BaseId,
        bases: &BitBases,
    ) -> Result<(), CryptoError> {
        let n = s.ciphertexts.len();
        check_fits(n, bases.g.len())?;
        if self.f.len() != n {
            return Err(CryptoError::Inconsistent {
                what: "bit-vector proof",
                why: format!("{} responses for {n} ciphertexts", self.f.len()),
            });
        }
        let Challenges { y_powers, x } = self.challenges(t, s);

        // Σ fᵢGᵢ + z_A·J − A − x·B = O
        let mut e = batch.equation();
        for (fi, gi) in self.f.iter().zip(&bases.g) {
            e.base(*gi, *fi);
        }
        e.base(bases.j, self.z_masks)
            .term(-Scalar::ONE, self.masks.point())
            .term(-x, self.bits.point());

        // e·G + z_T·J − x·T₁ − T₀ = O,  e = Σ yᵢ fᵢ (x − fᵢ)
        let mut quadratic = Scalar::ZERO;
        let mut yf = Scalar::ZERO;
        for (yi, fi) in y_powers.iter().zip(&self.f) {
            let yfi = yi * fi;
            quadratic += yfi * (x - fi);
            yf += yfi;
        }
        batch
            .equation()
            .g(quadratic)
            .base(bases.j, self.z_t)
            .term(-x, self.t1.point())
            .term(-Scalar::ONE, self.t0.point());

        // z_K·G − K_α − x·Σ yᵢαᵢ = O   and   (Σ yᵢfᵢ)·G + z_K·H − K_β − x·Σ yᵢβᵢ = O
        let xy: Vec<Scalar> = y_powers.iter().map(|yi| -(x * yi)).collect();
        let mut e = batch.equation();
        e.g(self.z_link).term(-Scalar::ONE, self.link_alpha.point());
        for (c, s) in s.ciphertexts.iter().zip(&xy) {
            e.term(*s, c.alpha.point());
        }
        let mut e = batch.equation();
        e.g(yf)
            .base(key, self.z_link)
            .term(-Scalar::ONE, self.link_beta.point());
        for (c, s) in s.ciphertexts.iter().zip(&xy) {
            e.term(*s, c.beta.point());
        }
        Ok(())
    }

    /// Verifies the proof on its own.
    pub fn verify(
        &self,
        t: Transcript,
        gens: &BitGenerators,
        s: &BitsStatement<'_>,
    ) -> Result<(), CryptoError> {
        let mut batch = BatchVerifier::new(&mut crate::rng::os_rng());
        let key = batch.register_base(s.key.point());
        let bases = gens.register(&mut batch);
        self.add_to_batch(t, s, &mut batch, key, &bases)?;
        if batch.verify() {
            Ok(())
        } else {
            Err(CryptoError::proof("bit-vector proof"))
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
        let mut t = Transcript::new("test-bits");
        t.append("context", b"ctx");
        t
    }

    struct Fixture {
        gens: BitGenerators,
        key: EncryptionKey,
        cts: Vec<Ciphertext>,
        values: Vec<u64>,
        r: Vec<Scalar>,
    }

    fn fixture(rng: &mut SeededRng, values: &[u64]) -> Fixture {
        let sk = SecretScalar::new(Scalar::random(rng));
        let key = EncryptionKey::new(sk.public());
        let r: Vec<Scalar> = values.iter().map(|_| Scalar::random(rng)).collect();
        let cts = values
            .iter()
            .zip(&r)
            .map(|(v, r)| Ciphertext::encrypt(&key, *v, r))
            .collect();
        Fixture {
            gens: BitGenerators::new(values.len()).unwrap(),
            key,
            cts,
            values: values.to_vec(),
            r,
        }
    }

    impl Fixture {
        fn statement(&self) -> BitsStatement<'_> {
            BitsStatement {
                key: self.key.point(),
                ciphertexts: &self.cts,
            }
        }
        fn prove(&self, rng: &mut SeededRng) -> BitsProof {
            BitsProof::prove(
                t(),
                &self.gens,
                &self.key,
                &self.statement(),
                &self.values,
                &self.r,
                rng,
            )
            .unwrap()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn valid_verifies_and_tampering_fails(
            seed in any::<[u8; 32]>(),
            bits in proptest::collection::vec(any::<bool>(), 1..12),
            which in 0usize..14,
            pick in 0usize..12,
        ) {
            let mut rng = SeededRng::new(&seed);
            let values: Vec<u64> = bits.iter().map(|b| u64::from(*b)).collect();
            let fx = fixture(&mut rng, &values);
            let proof = fx.prove(&mut rng);
            prop_assert!(proof.verify(t(), &fx.gens, &fx.statement()).is_ok());

            let i = pick % values.len();
            let other = Point::from_point(RistrettoPoint::random(&mut rng));
            let mut bad = proof.clone();
            let mut cts = fx.cts.clone();
            let mut context = t();
            match which {
                0 => bad.bits = other,
                1 => bad.masks = other,
                2 => bad.t1 = other,
                3 => bad.t0 = other,
                4 => bad.link_alpha = other,
                5 => bad.link_beta = other,
                6 => bad.f[i] += Scalar::ONE,
                7 => bad.z_masks += Scalar::ONE,
                8 => bad.z_link += Scalar::ONE,
                9 => bad.z_t += Scalar::ONE,
                10 => cts[i].alpha = other,
                11 => cts[i].beta = other,
                12 => { context.append("more", b"x"); }
                _ => {
                    let last = cts.len() - 1;
                    cts.swap(0, i.max(1).min(last));
                }
            }
            // Swapping two equal ciphertexts (or one with itself) changes nothing.
            let unchanged = which == 13 && cts == fx.cts;
            let s = BitsStatement { key: fx.key.point(), ciphertexts: &cts };
            prop_assert_eq!(bad.verify(context, &fx.gens, &s).is_ok(), unchanged);
        }
    }

    #[test]
    fn a_value_other_than_0_or_1_cannot_be_proved() {
        let mut rng = SeededRng::new(b"not a bit");
        for values in [vec![2u64], vec![0, 1, 2], vec![1, 1, 5, 0]] {
            let fx = fixture(&mut rng, &values);
            let proof = fx.prove(&mut rng);
            assert!(proof.verify(t(), &fx.gens, &fx.statement()).is_err());
        }
    }

    #[test]
    fn the_proof_must_speak_of_these_ciphertexts() {
        // Bits 1, 0 proved, but the ciphertexts encrypt 0, 1: the link equations fail.
        let mut rng = SeededRng::new(b"link");
        let mut fx = fixture(&mut rng, &[0, 1]);
        fx.values = vec![1, 0];
        let proof = fx.prove(&mut rng);
        assert!(proof.verify(t(), &fx.gens, &fx.statement()).is_err());
        // A ciphertext whose α does not match its β's randomness.
        let mut fx = fixture(&mut rng, &[1]);
        fx.r[0] += Scalar::ONE;
        let proof = fx.prove(&mut rng);
        assert!(proof.verify(t(), &fx.gens, &fx.statement()).is_err());
    }

    #[test]
    fn proofs_batch_and_round_trip_through_json() {
        let mut rng = SeededRng::new(b"batch");
        let fxs: Vec<Fixture> = (1..5).map(|n| fixture(&mut rng, &vec![1; n])).collect();
        let gens = BitGenerators::new(4).unwrap();
        let mut batch = BatchVerifier::new(&mut rng);
        let bases = gens.register(&mut batch);
        for fx in &fxs {
            let proof = fx.prove(&mut rng);
            let json = serde_json::to_string(&proof).unwrap();
            let back: BitsProof = serde_json::from_str(&json).unwrap();
            assert_eq!(back, proof);
            let key = batch.register_base(fx.key.point().point());
            back.add_to_batch(t(), &fx.statement(), &mut batch, key, &bases)
                .unwrap();
        }
        assert!(batch.verify());
    }

    #[test]
    fn hostile_sizes_are_refused() {
        assert!(BitGenerators::new(MAX_BITS + 1).is_err());
        let mut rng = SeededRng::new(b"sizes");
        let fx = fixture(&mut rng, &[0, 1, 1]);
        let small = BitGenerators::new(2).unwrap();
        assert!(matches!(
            BitsProof::prove(
                t(),
                &small,
                &fx.key,
                &fx.statement(),
                &fx.values,
                &fx.r,
                &mut rng
            ),
            Err(CryptoError::OutOfBounds { .. })
        ));
        assert!(matches!(
            BitsProof::prove(
                t(),
                &fx.gens,
                &fx.key,
                &fx.statement(),
                &[0, 1],
                &fx.r,
                &mut rng
            ),
            Err(CryptoError::Inconsistent { .. })
        ));
        let mut proof = fx.prove(&mut rng);
        proof.f.pop();
        assert!(proof.verify(t(), &fx.gens, &fx.statement()).is_err());
        let empty = BitsStatement {
            key: fx.key.point(),
            ciphertexts: &[],
        };
        assert!(proof.verify(t(), &fx.gens, &empty).is_err());
        let json = r#"{"bits":"00","masks":"00"}"#;
        assert!(serde_json::from_str::<BitsProof>(json).is_err());
    }

    #[test]
    fn generators_are_distinct_and_fixed() {
        let gens = BitGenerators::new(16).unwrap();
        let mut all: Vec<[u8; 32]> = gens.g.iter().map(|p| p.compress().to_bytes()).collect();
        all.push(gens.j.compress().to_bytes());
        all.push(RistrettoPoint::mul_base(&Scalar::ONE).compress().to_bytes());
        let mut sorted = all.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), all.len());
        assert_eq!(gens.g[3], generator_g(3));
        for (g, h) in gens.g.iter().zip(&gens.g_halves) {
            assert_eq!(h + h, *g);
        }
    }
}
