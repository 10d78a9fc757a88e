//! Provider shorthands: the per-minute limits providers publish (`rpm`, `tpm`, `itpm`,
//! `otpm`), expanded into rate limits. By default each is a token bucket of capacity N
//! refilled at N/60 per second, as Anthropic documents its limits (a bucket replenished
//! continuously up to the maximum); `shorthand_kind = "sliding_window"` makes each
//! a 60 s sliding window of N instead.

use super::limiter::{
    LimitKind, LimitSpec, SlidingWindowParams, TokenBucketParams, Unit, MAX_LIMIT,
};
use crate::time::SimDuration;

/// The shorthand keys of a provider table and the unit each one limits, in the order
/// their limits come (before the provider's `limits`).
pub const SHORTHANDS: [(&str, Unit); 4] = [
    ("rpm", Unit::Requests),
    ("tpm", Unit::Tokens),
    ("itpm", Unit::InputTokens),
    ("otpm", Unit::OutputTokens),
];

/// The key choosing how shorthands expand.
pub const KIND_KEY: &str = "shorthand_kind";

/// How a shorthand of N per minute becomes a limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ShorthandKind {
    /// A token bucket of capacity N, refilled continuously at N/60 per second (the
    /// default: Anthropic's documented model).
    #[default]
    TokenBucket,
    /// A sliding window of 60 s holding at most N.
    SlidingWindow,
}

impl ShorthandKind {
    /// Every kind, in the order messages list them.
    pub const ALL: [ShorthandKind; 2] = [ShorthandKind::TokenBucket, ShorthandKind::SlidingWindow];

    /// The name a scenario file gives.
    pub fn name(self) -> &'static str {
        match self {
            ShorthandKind::TokenBucket => "token_bucket",
            ShorthandKind::SlidingWindow => "sliding_window",
        }
    }

    /// The kind named `name`.
    pub fn from_name(name: &str) -> Option<ShorthandKind> {
        ShorthandKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The limit `per_minute` of `unit` stands for; `per_minute` must be from 1 to
    /// [`MAX_LIMIT`] (the caller checks it and names the key).
    ///
    /// ```
    /// use ratesim::provider::limiter::{LimitKind, Unit};
    /// use ratesim::provider::shorthand::ShorthandKind;
    /// let rpm = ShorthandKind::TokenBucket.expand(50, Unit::Requests);
    /// let LimitKind::TokenBucket(b) = rpm.kind else { unreachable!() };
    /// assert_eq!((b.capacity(), b.refill_per_s()), (50.0, 50.0 / 60.0));
    /// ```
    pub fn expand(self, per_minute: u64, unit: Unit) -> LimitSpec {
        debug_assert!((1..=MAX_LIMIT).contains(&per_minute));
        let kind = match self {
            ShorthandKind::TokenBucket => LimitKind::TokenBucket(
                TokenBucketParams::new(per_minute as f64, per_minute as f64 / 60.0, None)
                    .expect("a checked per-minute limit makes a valid bucket"),
            ),
            ShorthandKind::SlidingWindow => LimitKind::SlidingWindow(
                SlidingWindowParams::new(SimDuration::from_secs(60), per_minute)
                    .expect("a checked per-minute limit makes a valid window"),
            ),
        };
        LimitSpec {
            kind,
            unit,
            count_rejected: false,
        }
    }
}
