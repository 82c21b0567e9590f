//! Exponential backoff with jitter, shared by the consumers of the outbox (the OpenSearch
//! shipper's retries, webhook deliveries' stored schedule).

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// The wait before retry `retry + 1`: `initial * 2^retry`, at most `max`, then a random point in
/// its upper half (so consumers that failed together do not retry together).
pub fn jittered(initial: Duration, max: Duration, retry: u32) -> Duration {
    let full = initial
        .checked_mul(1_u32.checked_shl(retry).unwrap_or(u32::MAX))
        .unwrap_or(max)
        .min(max);
    let half = full / 2;
    let spread = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
    let jitter = if spread == 0 {
        0
    } else {
        random_u64() % (spread + 1)
    };
    half + Duration::from_nanos(jitter)
}

/// A random number from the standard library's per-process random hash keys (no extra crate
/// for a jitter).
fn random_u64() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos()),
    );
    hasher.finish()
}
