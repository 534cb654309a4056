//! Strong Fiat–Shamir transcripts (spec §3).
//!
//! Every challenge of every proof is computed from a [`Transcript`]: a byte string that
//! starts with the protocol name and a domain tag naming the kind of proof, followed by
//! labelled, length-prefixed items — the election context, the whole statement, then the
//! prover's commitments. Hashing the statement and the context is what makes the proofs
//! sound against adaptive provers (Bernhard, Pereira, Warinschi, *How not to prove
//! yourself*, ASIACRYPT 2012) and binds every proof to one election.
//!
//! ```text
//! lp(x)            = u64_le(len(x)) ‖ x
//! start(tag)       = lp("scrutin/v1") ‖ lp(tag)
//! append(label, x) = lp(label) ‖ lp(x)
//! challenge        = SHA-512(bytes) read little-endian, reduced modulo ℓ
//! ```
//! The transcript keeps its bytes so that test vectors can print the exact hash input.

use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};

use crate::Point;

/// Protocol name and version, the first item of every transcript.
pub const PROTOCOL: &[u8] = b"scrutin/v1";

/// A Fiat–Shamir transcript under construction.
#[derive(Clone, Debug)]
pub struct Transcript {
    bytes: Vec<u8>,
}

fn push_lp(bytes: &mut Vec<u8>, item: &[u8]) {
    bytes.extend_from_slice(&(item.len() as u64).to_le_bytes());
    bytes.extend_from_slice(item);
}

impl Transcript {
    /// Starts a transcript for the proof kind `tag` (spec §3, table of domain tags).
    pub fn new(tag: &str) -> Self {
        let mut bytes = Vec::with_capacity(512);
        push_lp(&mut bytes, PROTOCOL);
        push_lp(&mut bytes, tag.as_bytes());
        Transcript { bytes }
    }

    /// Appends a labelled byte string.
    pub fn append(&mut self, label: &str, data: &[u8]) -> &mut Self {
        push_lp(&mut self.bytes, label.as_bytes());
        push_lp(&mut self.bytes, data);
        self
    }

    /// Appends a point's 32-byte encoding.
    pub fn append_point(&mut self, label: &str, point: &Point) -> &mut Self {
        self.append(label, point.as_bytes())
    }

    /// Appends a scalar's 32-byte encoding.
    pub fn append_scalar(&mut self, label: &str, scalar: &Scalar) -> &mut Self {
        self.append(label, scalar.as_bytes())
    }

    /// Appends an unsigned integer as 8 bytes little-endian.
    pub fn append_u64(&mut self, label: &str, value: u64) -> &mut Self {
        self.append(label, &value.to_le_bytes())
    }

    /// The bytes hashed so far (for test vectors).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The challenge: SHA-512 of the transcript reduced modulo ℓ.
    pub fn challenge(&self) -> Scalar {
        let digest: [u8; 64] = Sha512::digest(&self.bytes).into();
        Scalar::from_bytes_mod_order_wide(&digest)
    }

    /// The SHA-512 digests of `self ‖ item(label, u64_le(i))` for `i = 0 … count−1`
    /// (spec §5.5: the shuffle's generators and its challenges `uᵢ`). The transcript's
    /// bytes are hashed once and the hash state copied for each index, so that `count`
    /// digests of a long transcript cost `count` short hashes, not `count` long ones.
    pub fn indexed_digests(&self, label: &str, count: usize) -> Vec<[u8; 64]> {
        let mut prefix = Sha512::new();
        prefix.update(&self.bytes);
        prefix.update((label.len() as u64).to_le_bytes());
        prefix.update(label.as_bytes());
        prefix.update(8u64.to_le_bytes());
        (0..count as u64)
            .map(|i| {
                prefix
                    .clone()
                    .chain_update(i.to_le_bytes())
                    .finalize()
                    .into()
            })
            .collect()
    }

    /// The challenges of `self ‖ item(label, u64_le(i))` for `i = 0 … count−1`, as
    /// [`Transcript::indexed_digests`] reduced modulo ℓ.
    pub fn indexed_challenges(&self, label: &str, count: usize) -> Vec<Scalar> {
        self.indexed_digests(label, count)
            .iter()
            .map(Scalar::from_bytes_mod_order_wide)
            .collect()
    }
}

/// The challenge of a transcript `tag` holding each item under the label `"item"`
/// (spec §3.2).
pub fn hash_to_scalar(tag: &str, items: &[&[u8]]) -> Scalar {
    let mut t = Transcript::new(tag);
    for item in items {
        t.append("item", item);
    }
    t.challenge()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_length_prefixed() {
        let mut t = Transcript::new("x");
        t.append("a", b"bc");
        let mut expect = Vec::new();
        expect.extend_from_slice(&10u64.to_le_bytes());
        expect.extend_from_slice(b"scrutin/v1");
        expect.extend_from_slice(&1u64.to_le_bytes());
        expect.extend_from_slice(b"x");
        expect.extend_from_slice(&1u64.to_le_bytes());
        expect.extend_from_slice(b"a");
        expect.extend_from_slice(&2u64.to_le_bytes());
        expect.extend_from_slice(b"bc");
        assert_eq!(t.bytes(), &expect[..]);
    }

    #[test]
    fn indexed_challenges_are_those_of_the_extended_transcripts() {
        let mut t = Transcript::new("x");
        t.append("a", b"bc");
        let fast = t.indexed_challenges("index", 3);
        assert_eq!(fast.len(), 3);
        for (i, c) in fast.iter().enumerate() {
            let mut slow = t.clone();
            slow.append_u64("index", i as u64);
            assert_eq!(*c, slow.challenge());
        }
        assert_ne!(fast[0], fast[1]);
        assert!(t.indexed_digests("index", 0).is_empty());
    }

    #[test]
    fn labels_and_boundaries_matter() {
        let mut a = Transcript::new("t");
        a.append("l", b"ab").append("l", b"c");
        let mut b = Transcript::new("t");
        b.append("l", b"a").append("l", b"bc");
        assert_ne!(a.challenge(), b.challenge());
    }
}
