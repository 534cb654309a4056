//! The αs of every ciphertext on the board, for check B7 (§12): no ciphertext of a ballot
//! may already appear on the board, so a voter's encrypted choices cannot be copied into
//! another ballot (which would let the copier learn, from the tally, how that voter voted).
//!
//! A large election holds ten million of them, the largest member of a verified state, so
//! the index is kept small:
//! - an α is remembered by its first 128 bits ([`alpha_key`]). Equal αs always share them,
//!   so no copy gets past B7. Two different αs share them with probability 2⁻¹²⁸ for honest
//!   ballots, and only after about 2⁶⁴ work for whoever chooses both (the second is then
//!   refused, as a copy would be);
//! - the keys sit in one sorted run (16 bytes each, searched by bisection) and a small
//!   hash table of the latest, merged into the run when it grows past an eighth of it: about
//!   18 bytes an α, against 36 to 72 in a hash table of whole encodings.

use std::collections::HashSet;

/// The key under which B7 remembers an α: its first 128 bits.
pub fn alpha_key(alpha: &[u8; 32]) -> u128 {
    let mut first = [0u8; 16];
    first.copy_from_slice(&alpha[..16]);
    u128::from_le_bytes(first)
}

/// The recent table is merged into the sorted run once it holds more than this many keys
/// and more than an eighth of the run.
const MERGE_AT: usize = 4096;

/// The set of αs seen (see the module's documentation).
#[derive(Clone, Debug, Default)]
pub struct AlphaIndex {
    /// Sorted, no repeat.
    sorted: Vec<u128>,
    /// Keys not in `sorted`.
    recent: HashSet<u128>,
}

impl AlphaIndex {
    /// True when an α with this encoding (or its first 128 bits) was inserted.
    pub fn contains(&self, alpha: &[u8; 32]) -> bool {
        self.contains_key(alpha_key(alpha))
    }

    fn contains_key(&self, key: u128) -> bool {
        self.recent.contains(&key) || self.sorted.binary_search(&key).is_ok()
    }

    /// Remembers `alpha`; false (and nothing changes) when it was already seen.
    pub fn insert(&mut self, alpha: &[u8; 32]) -> bool {
        let key = alpha_key(alpha);
        if self.contains_key(key) {
            return false;
        }
        self.recent.insert(key);
        if self.recent.len() > MERGE_AT.max(self.sorted.len() / 8) {
            self.merge();
        }
        true
    }

    /// Number of αs seen.
    pub fn len(&self) -> usize {
        self.sorted.len() + self.recent.len()
    }

    /// True when no α was seen.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every key, sorted (how a checkpoint stores them).
    pub fn sorted_keys(&self) -> Vec<u128> {
        let mut recent: Vec<u128> = self.recent.iter().copied().collect();
        recent.sort_unstable();
        merged(&self.sorted, &recent)
    }

    /// The index of keys read back from a node's own cache: strictly increasing.
    pub fn from_sorted_keys(keys: Vec<u128>) -> Result<Self, String> {
        if keys.windows(2).any(|w| w[0] >= w[1]) {
            return Err("the αs seen are out of order or repeated".into());
        }
        Ok(AlphaIndex {
            sorted: keys,
            recent: HashSet::new(),
        })
    }

    fn merge(&mut self) {
        let mut recent: Vec<u128> = self.recent.drain().collect();
        recent.sort_unstable();
        self.sorted = merged(&self.sorted, &recent);
        self.recent.shrink_to(MERGE_AT);
    }
}

impl PartialEq for AlphaIndex {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.sorted_keys() == other.sorted_keys()
    }
}

impl Eq for AlphaIndex {}

/// The union of two sorted runs with no key in common, allocated at its exact size.
fn merged(a: &[u128], b: &[u128]) -> Vec<u128> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        if x <= y {
            out.push(*x);
            i += 1;
        } else {
            out.push(*y);
            j += 1;
        }
    }
    out.extend_from_slice(a.get(i..).unwrap_or_default());
    out.extend_from_slice(b.get(j..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use sha2::{Digest, Sha256};

    fn alpha(i: u64) -> [u8; 32] {
        Sha256::digest(i.to_le_bytes()).into()
    }

    /// Across many merges, every α inserted is found, none other is, and a second insert
    /// of any is refused; the sorted keys round-trip.
    #[test]
    fn finds_every_alpha_inserted_and_no_other_across_merges() {
        let mut index = AlphaIndex::default();
        let n = 5 * MERGE_AT as u64 + 17;
        for i in 0..n {
            assert!(index.insert(&alpha(i)), "{i}");
        }
        assert_eq!(index.len() as u64, n);
        assert!(index.sorted.len() > index.recent.len());
        for i in 0..n {
            assert!(index.contains(&alpha(i)), "{i}");
            assert!(!index.insert(&alpha(i)), "{i} again");
        }
        assert_eq!(index.len() as u64, n);
        for i in n..n + 1000 {
            assert!(!index.contains(&alpha(i)), "{i} never inserted");
        }
        let keys = index.sorted_keys();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        let back = AlphaIndex::from_sorted_keys(keys.clone()).unwrap();
        assert_eq!(back, index);
        assert!(back.contains(&alpha(3)));
        // Only the first 128 bits count.
        let mut twin = alpha(3);
        twin[31] ^= 1;
        assert!(back.contains(&twin));
        let mut unsorted = keys;
        unsorted.swap(0, 1);
        assert!(AlphaIndex::from_sorted_keys(unsorted).is_err());
        assert!(AlphaIndex::from_sorted_keys(vec![1, 1]).is_err());
    }
}
