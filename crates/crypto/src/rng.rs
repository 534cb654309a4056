//! Randomness (spec §2.4).
//!
//! Real elections draw every secret from the operating system ([`os_rng`]; in the browser,
//! `crypto.getRandomValues`). Test vectors use [`SeededRng`], a SHA-512 counter-mode
//! generator that any implementation can reproduce:
//! block `i` is `SHA-512(lp("scrutin/v1/seeded-rng") ‖ lp(seed) ‖ u64_le(i))`, and the
//! output is the concatenation of blocks `0, 1, 2, …`.

use core::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng, UnwrapErr};
use sha2::{Digest, Sha512};

/// The operating system's cryptographic random number generator.
pub type OsRng = UnwrapErr<getrandom::SysRng>;

/// The operating system's generator. It aborts the operation (panics) only if the OS
/// cannot provide randomness at all, where continuing would be unsafe.
pub fn os_rng() -> OsRng {
    UnwrapErr(getrandom::SysRng)
}

/// A deterministic generator for test vectors and reproducible demos. Never for real secrets.
#[derive(Clone, Debug)]
pub struct SeededRng {
    seed: Vec<u8>,
    counter: u64,
    block: [u8; 64],
    used: usize,
}

impl SeededRng {
    /// A generator whose whole output is fixed by `seed`.
    pub fn new(seed: &[u8]) -> Self {
        SeededRng {
            seed: seed.to_vec(),
            counter: 0,
            block: [0; 64],
            used: 64,
        }
    }

    fn refill(&mut self) {
        let mut h = Sha512::new();
        let tag = b"scrutin/v1/seeded-rng";
        h.update((tag.len() as u64).to_le_bytes());
        h.update(tag);
        h.update((self.seed.len() as u64).to_le_bytes());
        h.update(&self.seed);
        h.update(self.counter.to_le_bytes());
        self.block = h.finalize().into();
        self.counter += 1;
        self.used = 0;
    }
}

impl TryRng for SeededRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for byte in dst.iter_mut() {
            if self.used == 64 {
                self.refill();
            }
            *byte = self.block[self.used];
            self.used += 1;
        }
        Ok(())
    }
}

impl TryCryptoRng for SeededRng {}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::Rng;

    #[test]
    fn seeded_is_deterministic_and_seed_dependent() {
        let mut a = SeededRng::new(b"one");
        let mut b = SeededRng::new(b"one");
        let mut c = SeededRng::new(b"two");
        let (x, y, z) = (a.next_u64(), b.next_u64(), c.next_u64());
        assert_eq!(x, y);
        assert_ne!(x, z);
    }

    #[test]
    fn os_rng_gives_different_values() {
        let mut r = os_rng();
        assert_ne!(r.next_u64(), r.next_u64());
    }
}
