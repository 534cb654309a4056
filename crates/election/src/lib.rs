//! # scrutin-election
//!
//! The election protocol of scrutin on top of [`scrutin_crypto`]: what an election is,
//! how voters' credentials and ballots are made, how the public election record is
//! written, how it is tallied, and how anyone verifies it.
//!
//! | module | what it is | spec section |
//! |---|---|---|
//! | [`definition`] | questions, rules, trustees and authority with their keys; bounds on every size | §8 |
//! | [`credential`] | human-typable voting credentials and the public list | §9 |
//! | [`ballot`] | encrypting, proving, signing and checking a ballot; trackers; Benaloh audits | §10 |
//! | [`record`] | the JSON Lines hash chain and its events | §11 |
//! | [`roles`] | role keys and their fingerprints, signed events, the board's signed heads and receipts | §8.6, §11.11, §14 |
//! | [`tally`] | the encrypted tally, decryption shares, the result | §11.8–§11.10 |
//! | [`verify`] | the universal verifier: every numbered check of §12 | §12 |
//! | [`checkpoint`] | a verified state written compactly, for a server to restart without verifying its record again; anchored to the record's hash chain, never read by verifiers | §11.1, §12 |
//! | [`ceremony`] | the roles' steps (trustees, credential authority, administrator) on a record | §6, §9 |
//! | [`mix`] | ranked and graded questions after `close`: the trustees' shuffles, the decryption of each row, the count | §11.12–§11.14 |
//! | [`parts`] | shuffles and decryption shares too long for one line, written over several | §11.15 |
//! | [`demo`] | a whole election in one process, for demos, benchmarks and tests | — |
//! | [`count`] | counting ranked and graded ballots decrypted one by one: Schulze, IRV, Scottish STV, majority judgment; BLT files | §11.14 |
//!
//! The same code runs in the command-line tool, the server and the browser booth.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod alphas;
pub mod ballot;
pub mod ceremony;
pub mod checkpoint;
pub mod conclusions;
pub mod count;
pub mod credential;
pub mod definition;
pub mod demo;
mod error;
pub mod mix;
pub mod parts;
pub mod record;
pub mod roles;
pub mod tally;
pub mod verify;

pub use error::ElectionError;
pub use scrutin_crypto as crypto;

/// A 32-byte hash (SHA-256), written as 64 lowercase hexadecimal characters in JSON
/// (literally, without escape sequences: [`crypto::group::HexText`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    /// SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest;
        Hash32(sha2::Sha256::digest(bytes).into())
    }
    /// Lowercase hexadecimal.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    /// Parses 64 hexadecimal characters.
    pub fn from_hex(text: &str) -> Result<Self, ElectionError> {
        crypto::group::decode_hex32(text, "hash")
            .map(Hash32)
            .map_err(|e| ElectionError::Invalid(e.to_string()))
    }
}

impl core::fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.to_hex())
    }
}

impl core::fmt::Display for Hash32 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl serde::Serialize for Hash32 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Hash32 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let crypto::group::HexText(text) =
            <crypto::group::HexText as serde::Deserialize>::deserialize(d)?;
        Hash32::from_hex(text).map_err(serde::de::Error::custom)
    }
}

/// Deserializes an optional member that, when present, must not be `null` (spec §2.5):
/// absent members are `None` through `#[serde(default)]`.
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}
