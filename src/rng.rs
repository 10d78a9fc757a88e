//! Random-number streams: one independent stream per (scenario seed, replication, source).
//!
//! Every random source of a replication (arrivals, token sizes, each provider's latency,
//! outages, online state and quality, policy jitter, routing) draws from its own stream,
//! so adding a draw to one source never shifts another, and two policies run in the same
//! replication see the same jobs (common random numbers).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator used for every stream. ChaCha8 is portable and its output is fixed
/// by its algorithm, so results do not change with the platform.
pub type SimRng = ChaCha8Rng;

/// A named source of randomness. Indexed variants carry a provider or policy index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// Job arrival times.
    Arrivals,
    /// Per-request input token counts.
    InputTokens,
    /// Per-request output token counts.
    OutputTokens,
    /// A provider's response latency.
    Latency(u32),
    /// A provider's outage process.
    Outage(u32),
    /// A provider's online/offline process.
    Online(u32),
    /// Whether a provider's completions pass the job's tests.
    Quality(u32),
    /// A policy's backoff jitter.
    Jitter(u32),
    /// A policy's random routing choices.
    Routing(u32),
    /// A policy's guard (policy index, guard index).
    Guard(u32, u32),
}

impl Source {
    fn key(self) -> (u64, u64) {
        match self {
            Source::Arrivals => (1, 0),
            Source::InputTokens => (2, 0),
            Source::OutputTokens => (3, 0),
            Source::Latency(i) => (4, i as u64),
            Source::Outage(i) => (5, i as u64),
            Source::Online(i) => (6, i as u64),
            Source::Quality(i) => (7, i as u64),
            Source::Jitter(i) => (8, i as u64),
            Source::Routing(i) => (9, i as u64),
            Source::Guard(p, g) => (10, ((p as u64) << 32) | g as u64),
        }
    }
}

/// SplitMix64 finaliser: a bijective mix with good avalanche.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream for `source` in replication `replication` of a scenario with `seed`.
///
/// ```
/// use ratesim::rng::{stream, Source};
/// use rand::Rng;
/// let a: u64 = stream(7, 0, Source::Arrivals).random();
/// let b: u64 = stream(7, 0, Source::Arrivals).random();
/// let c: u64 = stream(7, 1, Source::Arrivals).random();
/// assert_eq!(a, b);
/// assert_ne!(a, c);
/// ```
pub fn stream(seed: u64, replication: u64, source: Source) -> SimRng {
    let (kind, index) = source.key();
    let mut h = mix(seed);
    h = mix(h ^ replication);
    h = mix(h ^ kind);
    h = mix(h ^ index);
    let mut key = [0u8; 32];
    for (i, chunk) in key.chunks_mut(8).enumerate() {
        h = mix(h ^ i as u64);
        chunk.copy_from_slice(&h.to_le_bytes());
    }
    ChaCha8Rng::from_seed(key)
}
