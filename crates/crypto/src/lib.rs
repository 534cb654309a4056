//! # scrutin-crypto
//!
//! The cryptography of scrutin, pure and free of I/O so that the same code runs in the
//! command-line tool, the server and the browser booth (WebAssembly).
//!
//! Everything works in the prime-order group **Ristretto255** (RFC 9496) through
//! `curve25519-dalek`. We write the group additively: `G` is the standard base point,
//! scalars live in `Z_ℓ` with `ℓ = 2^252 + 27742317777372353535851937790883648493`.
//!
//! | module | what it is | spec section |
//! |---|---|---|
//! | [`group`] | points with their 32-byte encodings, scalar encodings | §2 Encodings |
//! | [`transcript`] | strong Fiat–Shamir challenges with domain tags | §3 Hashing |
//! | [`elgamal`] | exponential ElGamal: `(rG, mG + rH)` | §4 Encryption |
//! | [`schnorr`] | proofs of knowledge of a discrete log and signatures | §5.1, §5.2 |
//! | [`chaum_pedersen`] | proofs of equality of discrete logs | §5.3 |
//! | [`disjunctive`] | proofs that a ciphertext encrypts one of a set of values | §5.4 |
//! | [`shuffle`] | verifiable re-encryption shuffle of rows of ciphertexts (mix-net step) | §5.5 |
//! | [`bits`] | one proof that many ciphertexts each encrypt 0 or 1 | §5.7 |
//! | [`knowledge`] | proof of knowledge of a ciphertext's randomness | §5.8 |
//! | [`batch`] | random-linear-combination batch verification | §5.6 |
//! | [`dkg`] | Pedersen distributed key generation with Feldman commitments | §6 |
//! | [`threshold`] | decryption shares and Lagrange combination | §7 |
//! | [`dlog`] | bounded discrete logarithm (baby-step giant-step) | §7.3 |
//! | [`rng`] | the operating system's randomness and the seeded generator of test vectors | §2.4 |
//!
//! With the `parallel` feature (rayon), a shuffle's long loops and a large batch's
//! multiscalar multiplication run on all cores (`par`, private); without it, on one thread,
//! with the same results.
//!
//! The section numbers refer to `docs/spec.md`.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod batch;
pub mod bits;
pub mod chaum_pedersen;
pub mod disjunctive;
pub mod dkg;
pub mod dlog;
pub mod elgamal;
mod error;
pub mod group;
pub mod knowledge;
mod par;
pub mod rng;
pub mod schnorr;
pub mod shuffle;
pub mod threshold;
pub mod transcript;

pub use curve25519_dalek::ristretto::RistrettoPoint;
pub use curve25519_dalek::scalar::Scalar;
pub use error::CryptoError;
pub use group::Point;
