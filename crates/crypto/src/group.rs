//! Group elements and scalars with their encodings (spec §2).
//!
//! A [`Point`] is a Ristretto255 element together with its canonical 32-byte encoding
//! (RFC 9496 §4.3.2). Keeping both avoids compressing again each time a point enters a
//! hash, which is most of the cost of hashing a proof's statement.
//!
//! In JSON, points and scalars are hexadecimal strings of 64 characters, written in
//! lowercase (decoders accept either case; compare decoded bytes, never JSON text);
//! scalars are the 32-byte little-endian canonical encoding (value < ℓ). The string must
//! be written literally, without JSON escape sequences (spec §2.1): see [`HexText`].

use core::fmt;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::CryptoError;

/// A Ristretto255 group element and its canonical encoding.
#[derive(Clone, Copy)]
pub struct Point {
    point: RistrettoPoint,
    bytes: [u8; 32],
}

impl Point {
    /// Wraps a computed point, encoding it once.
    pub fn from_point(point: RistrettoPoint) -> Self {
        Point {
            point,
            bytes: point.compress().to_bytes(),
        }
    }

    /// Decodes a canonical encoding; fails on any byte string that is not one (spec §2.1).
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, CryptoError> {
        let point = CompressedRistretto(*bytes).decompress().ok_or_else(|| {
            CryptoError::InvalidEncoding {
                what: "group element",
                why: "not the canonical encoding of a Ristretto255 element".into(),
            }
        })?;
        Ok(Point {
            point,
            bytes: *bytes,
        })
    }

    /// Decodes 64 hexadecimal characters.
    pub fn from_hex(text: &str) -> Result<Self, CryptoError> {
        Self::from_bytes(&decode_hex32(text, "group element")?)
    }

    /// The standard base point `G`.
    pub fn generator() -> Self {
        Self::from_point(RISTRETTO_BASEPOINT_POINT)
    }

    /// The neutral element.
    pub fn identity() -> Self {
        Self::from_point(RistrettoPoint::identity())
    }

    /// The group element.
    pub fn point(&self) -> &RistrettoPoint {
        &self.point
    }

    /// The canonical 32-byte encoding.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// Lowercase hexadecimal encoding.
    pub fn to_hex(&self) -> String {
        hex::encode(self.bytes)
    }

    /// Encodes many points at once from their halves: `halves[i] = Pᵢ/2` gives the points
    /// `Pᵢ`. One field inversion serves the whole batch (dalek's `double_and_compress_batch`),
    /// which makes encoding about ten times cheaper than one point at a time. Provers
    /// compute `Pᵢ/2` directly by multiplying their scalars by [`half`].
    pub fn batch_from_halves(halves: &[RistrettoPoint]) -> Vec<Point> {
        // One batch inversion per chunk, the chunks on all cores.
        let chunks: Vec<&[RistrettoPoint]> = halves.chunks(4096).collect();
        crate::par::map(&chunks, |chunk| {
            RistrettoPoint::double_and_compress_batch(*chunk)
                .into_iter()
                .zip(*chunk)
                .map(|(c, h)| Point {
                    point: h + h,
                    bytes: c.to_bytes(),
                })
                .collect::<Vec<_>>()
        })
        .into_iter()
        .flatten()
        .collect()
    }

    /// True for the neutral element, which is never a valid public key.
    pub fn is_identity(&self) -> bool {
        self.bytes == [0u8; 32]
    }
}

impl PartialEq for Point {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for Point {}

impl core::hash::Hash for Point {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.bytes.hash(state)
    }
}

impl fmt::Debug for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Point({})", self.to_hex())
    }
}

impl Serialize for Point {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Point {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let HexText(text) = HexText::deserialize(d)?;
        Point::from_hex(text).map_err(serde::de::Error::custom)
    }
}

/// The text of a hexadecimal string (a point, a scalar, a hash) exactly as it is written in
/// the JSON document (spec §2.1): a string written with escape sequences (`\u0030` for `0`)
/// is refused, so that one value has one spelling, in a record line as in an audit file.
///
/// serde_json lends the text of a string without escapes from its input
/// (`serde_json::from_str`, `from_slice`) and must copy it to undo escapes: only a lent
/// string is accepted. Deserializers that always copy (`serde_json::from_reader`,
/// `from_value` of an owned `Value`, TOML) are therefore refused too: read such input
/// into a `String` (or a borrowed `&Value`) and decode it with `from_hex`.
pub struct HexText<'de>(pub &'de str);

impl<'de> Deserialize<'de> for HexText<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Literal;
        impl<'de> serde::de::Visitor<'de> for Literal {
            type Value = HexText<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string of 64 hexadecimal characters")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(HexText(v))
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Err(E::custom(
                    "a hexadecimal string must be written literally, \
                     without JSON escape sequences such as \\u0030 (spec §2.1)",
                ))
            }
        }
        d.deserialize_str(Literal)
    }
}

/// Decodes exactly 64 hexadecimal characters into 32 bytes.
pub fn decode_hex32(text: &str, what: &'static str) -> Result<[u8; 32], CryptoError> {
    if text.len() != 64 {
        return Err(CryptoError::InvalidEncoding {
            what,
            why: format!(
                "expected 64 hex characters, found {}",
                text.len().min(1_000_000)
            ),
        });
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).map_err(|e| CryptoError::InvalidEncoding {
        what,
        why: e.to_string(),
    })?;
    Ok(out)
}

/// Decodes a canonical scalar (spec §2.2): 32 bytes little-endian, value below ℓ.
pub fn scalar_from_bytes(bytes: &[u8; 32]) -> Result<Scalar, CryptoError> {
    Option::from(Scalar::from_canonical_bytes(*bytes)).ok_or_else(|| CryptoError::InvalidEncoding {
        what: "scalar",
        why: "not a canonical scalar (value not below the group order)".into(),
    })
}

/// Decodes a scalar from 64 hexadecimal characters.
pub fn scalar_from_hex(text: &str) -> Result<Scalar, CryptoError> {
    scalar_from_bytes(&decode_hex32(text, "scalar")?)
}

/// `1/2 mod ℓ`, that is `(ℓ + 1)/2`.
pub fn half() -> Scalar {
    Scalar::from_bytes_mod_order([
        0xf7, 0xe9, 0x7a, 0x2e, 0x8d, 0x31, 0x09, 0x2c, 0x6b, 0xce, 0x7b, 0x51, 0xef, 0x7c, 0x6f,
        0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08,
    ])
}

/// `m·P` for a small public multiple `m` (a blank-vote marker, §10.3), by double and add
/// in variable time: a handful of additions instead of a full scalar multiplication.
/// Only for public `P` and `m`.
pub fn small_multiple(p: &RistrettoPoint, m: u64) -> RistrettoPoint {
    let mut acc = RistrettoPoint::identity();
    for bit in (0..u64::BITS - m.leading_zeros()).rev() {
        acc = acc + acc;
        if (m >> bit) & 1 == 1 {
            acc += p;
        }
    }
    acc
}

/// The scalar `n` for a small non-negative integer.
pub fn scalar_from_u64(n: u64) -> Scalar {
    Scalar::from(n)
}

/// Serde helpers: a scalar as 64 hexadecimal characters.
pub mod hex_scalar {
    use super::*;

    pub fn serialize<S: Serializer>(x: &Scalar, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(x.as_bytes()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        let HexText(text) = HexText::deserialize(d)?;
        scalar_from_hex(text).map_err(serde::de::Error::custom)
    }
}

/// Serde helpers: 32 bytes (a hash) as 64 hexadecimal characters.
pub mod hex32 {
    use super::*;

    pub fn serialize<S: Serializer>(x: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(x))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        decode_hex32(&text, "hash").map_err(serde::de::Error::custom)
    }
}

/// Serde helpers: a list of scalars, each as 64 hexadecimal characters.
pub mod hex_scalar_vec {
    use super::*;

    pub fn serialize<S: Serializer>(xs: &[Scalar], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(xs.iter().map(|x| hex::encode(x.as_bytes())))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Scalar>, D::Error> {
        let texts = Vec::<HexText<'de>>::deserialize(d)?;
        texts
            .into_iter()
            .map(|HexText(t)| scalar_from_hex(t).map_err(serde::de::Error::custom))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_multiple_is_the_scalar_multiple() {
        let p = RistrettoPoint::mul_base(&Scalar::from(12345u64));
        for m in [0u64, 1, 2, 3, 11, 64, 1000, u64::MAX] {
            assert_eq!(small_multiple(&p, m), p * Scalar::from(m), "m = {m}");
        }
    }

    #[test]
    fn generator_round_trips() {
        let g = Point::generator();
        assert_eq!(
            g.to_hex(),
            "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76"
        );
        assert_eq!(Point::from_hex(&g.to_hex()).unwrap(), g);
    }

    /// Spec §2.1: hexadecimal strings are written literally; an escaped digit is refused,
    /// for points and scalars alike, and either case of the digits is accepted.
    #[test]
    fn escaped_hex_strings_are_refused() {
        #[derive(Debug, serde::Deserialize)]
        struct S {
            #[serde(with = "hex_scalar")]
            _s: Scalar,
            #[serde(with = "hex_scalar_vec")]
            _v: Vec<Scalar>,
        }
        let g = Point::generator().to_hex();
        let one = hex::encode(Scalar::ONE.as_bytes());
        let point: Point = serde_json::from_str(&format!("\"{}\"", g.to_uppercase())).unwrap();
        assert_eq!(point, Point::generator());
        let ok = format!(r#"{{"_s":"{one}","_v":["{one}"]}}"#);
        assert!(serde_json::from_str::<S>(&ok).is_ok());

        let escaped = format!("\\u0065{}", &g[1..]); // `e` written as \u0065
        let e = serde_json::from_str::<Point>(&format!("\"{escaped}\"")).unwrap_err();
        assert!(
            e.to_string().contains("without JSON escape sequences"),
            "{e}"
        );
        let escaped = format!("\\u0030{}", &one[1..]); // `0` written as \u0030
        for bad in [
            format!(r#"{{"_s":"{escaped}","_v":["{one}"]}}"#),
            format!(r#"{{"_s":"{one}","_v":["{escaped}"]}}"#),
        ] {
            let e = serde_json::from_str::<S>(&bad).unwrap_err();
            assert!(
                e.to_string().contains("without JSON escape sequences"),
                "{e}"
            );
        }
    }

    #[test]
    fn halves_encode_the_doubled_points() {
        assert_eq!(half() + half(), Scalar::ONE);
        let mut rng = crate::rng::SeededRng::new(b"halves");
        let points: Vec<RistrettoPoint> =
            (0..5).map(|_| RistrettoPoint::random(&mut rng)).collect();
        let halves: Vec<RistrettoPoint> = points.iter().map(|p| p * half()).collect();
        let encoded = Point::batch_from_halves(&halves);
        for (p, e) in points.iter().zip(&encoded) {
            assert_eq!(*e, Point::from_point(*p));
            assert_eq!(e.point(), p);
        }
    }

    #[test]
    fn bad_encodings_are_refused() {
        assert!(Point::from_hex("00").is_err());
        assert!(Point::from_hex(&"zz".repeat(32)).is_err());
        // Not canonical: all 0xff.
        assert!(Point::from_hex(&"ff".repeat(32)).is_err());
        // ℓ itself is not a canonical scalar.
        let l = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";
        assert!(scalar_from_hex(l).is_err());
        assert!(scalar_from_hex(&"00".repeat(32)).is_ok());
    }
}
