//! Exponential ElGamal on Ristretto255 (spec §4).
//!
//! With secret key `x` and public key `H = xG`, a message `m ∈ ℕ` (small) is encrypted
//! with randomness `r` as `(α, β) = (rG, mG + rH)`. Ciphertexts add: the sum of
//! encryptions of `m₁, m₂` encrypts `m₁ + m₂`, which is how a tally is computed without
//! decrypting any ballot. Decryption recovers `mG = β − xα`; `m` itself comes from a
//! bounded discrete logarithm ([`crate::dlog`]).

use curve25519_dalek::ristretto::{RistrettoBasepointTable, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use serde::{Deserialize, Serialize};
use subtle::ConditionallySelectable;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::Point;

/// A secret scalar, wiped from memory when dropped.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretScalar(Scalar);

impl SecretScalar {
    /// Wraps a secret.
    pub fn new(x: Scalar) -> Self {
        SecretScalar(x)
    }
    /// The secret value (keep copies short-lived).
    pub fn expose(&self) -> &Scalar {
        &self.0
    }
    /// The public point `xG`.
    pub fn public(&self) -> Point {
        Point::from_point(RistrettoPoint::mul_base(&self.0))
    }
}

impl core::fmt::Debug for SecretScalar {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SecretScalar(..)")
    }
}

/// An election public key `H` with a precomputed table for fast fixed-base multiplication.
pub struct EncryptionKey {
    key: Point,
    table: RistrettoBasepointTable,
}

impl EncryptionKey {
    /// Prepares `H` for encryption (the table costs about as much as ten multiplications).
    pub fn new(key: Point) -> Self {
        EncryptionKey {
            key,
            table: RistrettoBasepointTable::create(key.point()),
        }
    }
    /// The public key `H`.
    pub fn point(&self) -> &Point {
        &self.key
    }
    /// `s·H` in constant time.
    pub fn mul(&self, s: &Scalar) -> RistrettoPoint {
        &self.table * s
    }
}

/// An ElGamal ciphertext `(α, β)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ciphertext {
    pub alpha: Point,
    pub beta: Point,
}

impl Ciphertext {
    /// Encrypts `m` with randomness `r`: `(rG, mG + rH)`.
    pub fn encrypt(key: &EncryptionKey, m: u64, r: &Scalar) -> Self {
        let alpha = RistrettoPoint::mul_base(r);
        let beta = RistrettoPoint::mul_base(&Scalar::from(m)) + key.mul(r);
        Ciphertext {
            alpha: Point::from_point(alpha),
            beta: Point::from_point(beta),
        }
    }

    /// Encrypts many messages at once, encoding all points in one batch. Returns the
    /// ciphertexts and, for each, `(α/2, β/2)` which callers may add up to encode sums of
    /// ciphertexts in a later batch ([`Point::batch_from_halves`]).
    pub fn encrypt_many(
        key: &EncryptionKey,
        items: &[(u64, Scalar)],
    ) -> (Vec<Ciphertext>, Vec<(RistrettoPoint, RistrettoPoint)>) {
        let half = crate::group::half();
        // 2ᵏ·(G/2) for k = 0 … 7: a message below 256 (every value of a ballot) is added
        // bit by bit with constant-time selections, so the time does not depend on it.
        let mut powers = [RistrettoPoint::mul_base(&half); 8];
        for k in 1..8 {
            powers[k] = powers[k - 1] + powers[k - 1];
        }
        let halves: Vec<(RistrettoPoint, RistrettoPoint)> = items
            .iter()
            .map(|(m, r)| {
                let hr = r * half;
                let mut beta = key.mul(&hr);
                if *m < 256 {
                    for (k, p) in powers.iter().enumerate() {
                        let bit = subtle::Choice::from(((*m >> k) & 1) as u8);
                        beta +=
                            RistrettoPoint::conditional_select(&RistrettoPoint::identity(), p, bit);
                    }
                } else {
                    beta += RistrettoPoint::mul_base(&(Scalar::from(*m) * half));
                }
                (RistrettoPoint::mul_base(&hr), beta)
            })
            .collect();
        let flat: Vec<RistrettoPoint> = halves.iter().flat_map(|(a, b)| [*a, *b]).collect();
        let points = Point::batch_from_halves(&flat);
        let cts = points
            .chunks(2)
            .map(|p| Ciphertext {
                alpha: p[0],
                beta: p[1],
            })
            .collect();
        (cts, halves)
    }

    /// True when `(α, β)` is the encryption of `m` with randomness `r` (Benaloh audit, §4.2).
    pub fn opens_to(&self, key: &Point, m: u64, r: &Scalar) -> bool {
        let alpha = RistrettoPoint::mul_base(r);
        let beta = RistrettoPoint::mul_base(&Scalar::from(m)) + key.point() * r;
        alpha == *self.alpha.point() && beta == *self.beta.point()
    }
}

/// A ciphertext being summed, kept unencoded until the end.
#[derive(Clone, Copy, Debug)]
pub struct CiphertextSum {
    pub alpha: RistrettoPoint,
    pub beta: RistrettoPoint,
}

impl Default for CiphertextSum {
    fn default() -> Self {
        CiphertextSum {
            alpha: RistrettoPoint::identity(),
            beta: RistrettoPoint::identity(),
        }
    }
}

impl CiphertextSum {
    /// Adds `weight · c`.
    pub fn add_weighted(&mut self, c: &Ciphertext, weight: u64) {
        if weight == 1 {
            self.alpha += c.alpha.point();
            self.beta += c.beta.point();
        } else {
            let w = Scalar::from(weight);
            self.alpha += c.alpha.point() * w;
            self.beta += c.beta.point() * w;
        }
    }

    /// Adds another sum.
    pub fn add_sum(&mut self, other: &CiphertextSum) {
        self.alpha += other.alpha;
        self.beta += other.beta;
    }

    /// The encoded ciphertext.
    pub fn finish(&self) -> Ciphertext {
        Ciphertext {
            alpha: Point::from_point(self.alpha),
            beta: Point::from_point(self.beta),
        }
    }
}

impl serde::Serialize for SecretScalar {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::group::hex_scalar::serialize(&self.0, s)
    }
}

impl<'de> serde::Deserialize<'de> for SecretScalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::group::hex_scalar::deserialize(d).map(SecretScalar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::os_rng;

    #[test]
    fn encrypt_decrypt_and_add() {
        let mut rng = os_rng();
        let x = SecretScalar::new(Scalar::random(&mut rng));
        let key = EncryptionKey::new(x.public());
        let (r1, r2) = (Scalar::random(&mut rng), Scalar::random(&mut rng));
        let c1 = Ciphertext::encrypt(&key, 3, &r1);
        let c2 = Ciphertext::encrypt(&key, 4, &r2);
        assert!(c1.opens_to(key.point(), 3, &r1));
        let (many, _) = Ciphertext::encrypt_many(&key, &[(3, r1), (4, r2)]);
        assert_eq!(many, vec![c1, c2]);
        assert!(!c1.opens_to(key.point(), 4, &r1));
        let mut s = CiphertextSum::default();
        s.add_weighted(&c1, 2);
        s.add_weighted(&c2, 1);
        let m = s.beta - s.alpha * x.expose();
        assert_eq!(m, RistrettoPoint::mul_base(&Scalar::from(10u8)));
    }

    #[test]
    fn encrypt_many_agrees_with_encrypt_for_every_small_value_and_beyond() {
        let mut rng = os_rng();
        let x = SecretScalar::new(Scalar::random(&mut rng));
        let key = EncryptionKey::new(x.public());
        let items: Vec<(u64, Scalar)> = [0u64, 1, 2, 7, 100, 128, 255, 256, 1000]
            .iter()
            .map(|m| (*m, Scalar::random(&mut rng)))
            .collect();
        let (many, _) = Ciphertext::encrypt_many(&key, &items);
        for ((m, r), c) in items.iter().zip(&many) {
            assert_eq!(*c, Ciphertext::encrypt(&key, *m, r), "m = {m}");
        }
    }
}
