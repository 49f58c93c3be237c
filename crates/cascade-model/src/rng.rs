//! Deterministic random streams.
//!
//! One master seed; every component draws from its own named stream, derived by hashing the master
//! seed, the path number and the stream's label. Adding a random knob to one component therefore
//! never reshuffles the draws of another, and a Monte Carlo path is reproducible on its own.
//! The generator is ChaCha12, portable across platforms.

use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use sha2::{Digest, Sha256};

/// A named, seeded random stream.
pub type RngStream = ChaCha12Rng;

/// Derives the stream for `label` on Monte Carlo path `path` from the master `seed`.
pub fn stream(seed: u64, path: u64, label: &str) -> RngStream {
    let mut hasher = Sha256::new();
    hasher.update(b"cascade-rng-v1");
    hasher.update(seed.to_le_bytes());
    hasher.update(path.to_le_bytes());
    hasher.update(label.as_bytes());
    let digest = hasher.finalize();
    let mut key = [0u8; 32];
    key.copy_from_slice(&digest);
    ChaCha12Rng::from_seed(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: u64 = stream(7, 0, "fundamental").random();
        let b: u64 = stream(7, 0, "fundamental").random();
        let c: u64 = stream(7, 0, "positions:0").random();
        let d: u64 = stream(7, 1, "fundamental").random();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }
}
