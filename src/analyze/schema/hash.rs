//! A fast hasher for the catalog's maps: the replay looks names up several times per change,
//! on the sequential path of the analysis, and SipHash dominated it. Multiply-rotate (as in
//! rustc's FxHash), seeded per process so that crafted names cannot be chosen to collide in
//! advance.

use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

/// The catalog's map type.
pub type HashMap<K, V> = std::collections::HashMap<K, V, FastState>;

const K: u64 = 0xf135_7aea_2e62_a9c5;

/// Builds [`FastHasher`]s from the process's seed.
#[derive(Debug, Clone, Copy)]
pub struct FastState(u64);

impl Default for FastState {
    fn default() -> Self {
        static SEED: OnceLock<u64> = OnceLock::new();
        FastState(*SEED.get_or_init(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            let here = &nanos as *const u64 as u64;
            (nanos ^ here.rotate_left(32)) | 1
        }))
    }
}

impl BuildHasher for FastState {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(self.0)
    }
}

/// Multiply-rotate over 8-byte words.
#[derive(Debug, Clone, Copy)]
pub struct FastHasher(u64);

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_hash_equal_and_others_spread() {
        let state = FastState::default();
        let hash = |s: &str| state.hash_one(s);
        assert_eq!(hash("users"), hash("users"));
        let mut seen: Vec<u64> = ["a", "b", "users", "users_1", "users_2", "", "ab", "ba"]
            .iter()
            .map(|s| hash(s))
            .collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 8);
    }
}
