//! Retry rules: how many attempts on one provider, how long to wait between them
//! (backoff with the AWS jitter formulas), and whether to honour the provider's
//! retry-after hint.

use rand::Rng;

use crate::time::SimDuration;

/// The base delay schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backoff {
    /// Retry at once.
    None,
    /// `base` every time.
    Constant,
    /// `min(cap, base * 2^n)` for the n-th retry (n from 0).
    Exponential,
}

/// Randomisation of the delay (AWS Architecture Blog, "Exponential Backoff And Jitter").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jitter {
    /// The delay as computed.
    None,
    /// `U(0, v)`.
    Full,
    /// `v/2 + U(0, v/2)`.
    Equal,
    /// `min(cap, U(base, 3 * previous sleep))`, starting from `base`.
    Decorrelated,
    /// The official SDKs' (anthropic, openai): `v * (1 - 0.25 U)`.
    Sdk,
}

/// A retry rule for one provider step of a policy.
#[derive(Clone, Debug, PartialEq)]
pub struct RetrySpec {
    /// Attempts on one provider, the first included (1 = no retry).
    pub max_attempts: u32,
    /// Delay schedule.
    pub backoff: Backoff,
    /// Base delay.
    pub base: SimDuration,
    /// Largest delay.
    pub cap: SimDuration,
    /// Randomisation.
    pub jitter: Jitter,
    /// Wait for the provider's retry-after hint instead of the backoff, when it is given
    /// and no longer than `retry_after_max`.
    pub honor_retry_after: bool,
    /// Longest hint honoured (SDKs: 60 s).
    pub retry_after_max: SimDuration,
    /// Statuses that are retried on the same provider; empty means every rejection.
    pub retry_on: Vec<u16>,
    /// Most total time spent waiting on retry-after hints for one provider (Portkey:
    /// 60 s); past it the request stops retrying there.
    pub retry_after_budget: Option<SimDuration>,
}

impl Default for RetrySpec {
    fn default() -> Self {
        RetrySpec {
            max_attempts: 1,
            backoff: Backoff::None,
            base: SimDuration::from_secs(1),
            cap: SimDuration::from_secs(60),
            jitter: Jitter::None,
            honor_retry_after: false,
            retry_after_max: SimDuration::from_secs(60),
            retry_on: Vec::new(),
            retry_after_budget: None,
        }
    }
}

/// Named retry rules from real clients, each overridable key by key.
pub fn preset(name: &str) -> Option<RetrySpec> {
    PRESETS.iter().find(|(n, _)| *n == name).map(|(_, p)| p())
}

/// Builds one preset's rule.
type Make = fn() -> RetrySpec;

/// The registry of retry presets: every name a scenario may give `retry.preset`.
const PRESETS: &[(&str, Make)] = &[
    ("anthropic-sdk", sdk),
    ("openai-sdk", sdk),
    ("portkey", portkey),
];

/// Every retry preset's name, in registry order.
pub fn preset_names() -> impl Iterator<Item = &'static str> {
    PRESETS.iter().map(|(n, _)| *n)
}

/// anthropic-sdk-python / openai-python `_base_client`: 2 retries,
/// min(0.5 * 2^n, 8) * (1 - 0.25 U), retry-after honoured when 0 < hint <= 60 s, retried
/// statuses 408, 409, 429 and >= 500.
fn sdk() -> RetrySpec {
    RetrySpec {
        max_attempts: 3,
        backoff: Backoff::Exponential,
        base: SimDuration::from_millis(500),
        cap: SimDuration::from_secs(8),
        jitter: Jitter::Sdk,
        honor_retry_after: true,
        retry_after_max: SimDuration::from_secs(60),
        retry_on: [408, 409, 429].into_iter().chain(500..=599).collect(),
        retry_after_budget: None,
    }
}

/// Portkey: up to 5 retries on 429, 500, 502, 503, 504 after 1, 2, 4, 8, 16 s; with
/// `use_retry_after_header`, hints are honoured within 60 s in total.
fn portkey() -> RetrySpec {
    RetrySpec {
        max_attempts: 6,
        backoff: Backoff::Exponential,
        base: SimDuration::from_secs(1),
        cap: SimDuration::from_secs(16),
        jitter: Jitter::None,
        honor_retry_after: true,
        retry_after_max: SimDuration::from_secs(60),
        retry_on: vec![429, 500, 502, 503, 504],
        retry_after_budget: Some(SimDuration::from_secs(60)),
    }
}

impl RetrySpec {
    /// Whether a rejection with `status` may be retried on the same provider.
    pub fn retries(&self, status: u16) -> bool {
        self.retry_on.is_empty() || self.retry_on.contains(&status)
    }

    /// The backoff before retry number `n` (0 for the first retry). `prev_sleep` is the
    /// previous delay (for decorrelated jitter; `base` before the first) and is updated.
    pub fn backoff_delay<R: Rng + ?Sized>(
        &self,
        n: u32,
        prev_sleep: &mut SimDuration,
        rng: &mut R,
    ) -> SimDuration {
        let v = match self.backoff {
            Backoff::None => SimDuration::ZERO,
            Backoff::Constant => self.base.min(self.cap),
            Backoff::Exponential => {
                let factor = 1u64.checked_shl(n.min(63)).unwrap_or(u64::MAX);
                self.base.saturating_mul(factor).min(self.cap)
            }
        };
        let delay = match self.jitter {
            Jitter::None => v,
            Jitter::Full => SimDuration::from_nanos(uniform(rng, 0, v.as_nanos())),
            Jitter::Equal => {
                let v = v.as_nanos();
                SimDuration::from_nanos(v / 2 + uniform(rng, 0, v - v / 2))
            }
            Jitter::Sdk => {
                let u: f64 = rng.random();
                SimDuration::from_secs_f64(v.as_secs_f64() * (1.0 - 0.25 * u))
            }
            Jitter::Decorrelated => {
                let hi = (*prev_sleep).max(self.base).as_nanos().saturating_mul(3);
                SimDuration::from_nanos(uniform(rng, self.base.as_nanos(), hi)).min(self.cap)
            }
        };
        *prev_sleep = delay;
        delay
    }
}

fn uniform<R: Rng + ?Sized>(rng: &mut R, lo: u64, hi: u64) -> u64 {
    if hi <= lo {
        lo
    } else {
        rng.random_range(lo..=hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Source};

    fn spec(backoff: Backoff, jitter: Jitter) -> RetrySpec {
        RetrySpec {
            max_attempts: 10,
            backoff,
            base: SimDuration::from_secs(1),
            cap: SimDuration::from_secs(20),
            jitter,
            ..RetrySpec::default()
        }
    }

    #[test]
    fn exponential_without_jitter_doubles_up_to_the_cap() {
        let s = spec(Backoff::Exponential, Jitter::None);
        let mut rng = stream(0, 0, Source::Jitter(0));
        let mut prev = s.base;
        let delays: Vec<u64> = (0..7)
            .map(|n| s.backoff_delay(n, &mut prev, &mut rng).as_nanos() / 1_000_000_000)
            .collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 20, 20]);
    }

    #[test]
    fn jitters_stay_within_their_formulas() {
        let mut rng = stream(0, 0, Source::Jitter(0));
        for n in 0..8 {
            let v = SimDuration::from_secs(1u64 << n).min(SimDuration::from_secs(20));
            let mut prev = SimDuration::from_secs(1);
            let full =
                spec(Backoff::Exponential, Jitter::Full).backoff_delay(n, &mut prev, &mut rng);
            assert!(full <= v);
            let equal =
                spec(Backoff::Exponential, Jitter::Equal).backoff_delay(n, &mut prev, &mut rng);
            assert!(equal.as_nanos() >= v.as_nanos() / 2 && equal <= v);
        }
        let sdk = preset("anthropic-sdk").unwrap();
        for n in 0..6 {
            let mut prev = sdk.base;
            let d = sdk.backoff_delay(n, &mut prev, &mut rng).as_secs_f64();
            let v = (0.5 * 2f64.powi(n as i32)).min(8.0);
            assert!(d <= v && d >= 0.75 * v - 1e-9, "sdk delay {d} for n = {n}");
        }
        let s = spec(Backoff::Exponential, Jitter::Decorrelated);
        let mut prev = s.base;
        for n in 0..1000 {
            let before = prev;
            let d = s.backoff_delay(n, &mut prev, &mut rng);
            assert!(
                d >= s.base && d <= s.cap,
                "decorrelated {d} outside [base, cap]"
            );
            assert!(d.as_nanos() <= before.as_nanos() * 3);
        }
    }
}
