//! The article's predictive 429 guard, modelled line by line:
//!
//! ```python
//! cache = TTLCache(maxsize=1000, ttl=60)
//! if cache.get("claude", 0) >= 8: raise RuntimeError("429 predicted")
//! resp = requests.post(...)
//! cache["claude"] = cache.get("claude", 0) + 1
//! ```
//!
//! Writing a TTLCache key resets its expiry, so the counter expires as a whole `ttl`
//! after its last increment (not a sliding window). The check is at send time and the
//! increment at response time, so workers that check together all pass (a
//! check-then-act race). Tokens are ignored, and every response counts, 429s included.

use super::{Attempt, Feedback, Guard, GuardContext, GuardParams, GuardVerdict, Setting};
use crate::keys::{Keys, R};
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// Settings of `kind = "predictive"`.
#[derive(Clone, Debug, PartialEq)]
pub struct PredictiveParams {
    /// Provider guarded.
    pub provider: usize,
    /// Refuse when the counter is at least this.
    pub limit: u32,
    /// The cache entry's time to live, reset on every write.
    pub ttl: SimDuration,
}

impl PredictiveParams {
    /// Reads `provider` (required), `limit` (8) and `ttl` (60 s).
    pub(crate) fn parse(keys: &Keys, cx: &GuardContext) -> R<Self> {
        Ok(PredictiveParams {
            provider: keys.require(
                keys.provider("provider", cx.names)?,
                "provider",
                "the provider whose 429s it predicts",
            )?,
            limit: keys.count("limit")?.unwrap_or(8),
            ttl: keys.duration("ttl")?.unwrap_or(SimDuration::from_secs(60)),
        })
    }
}

impl GuardParams for PredictiveParams {
    const NAME: &'static str = "predictive";
    const KEYS: &'static [&'static str] = &["provider", "limit", "ttl"];

    fn build(&self, _rng: &dyn Fn() -> SimRng) -> Box<dyn Guard> {
        Box::new(PredictiveGuard::new(self.provider, self.limit, self.ttl))
    }

    fn settings(&self) -> Vec<(&'static str, Setting)> {
        vec![
            ("provider", Setting::Provider(self.provider)),
            ("limit", Setting::Int(self.limit as u64)),
            ("ttl", Setting::Duration(self.ttl)),
        ]
    }
}

/// The counter and its expiry.
#[derive(Clone, Debug)]
pub struct PredictiveGuard {
    provider: usize,
    limit: u32,
    ttl: SimDuration,
    count: u32,
    expires: SimTime,
}

impl PredictiveGuard {
    /// A guard on `provider` refusing at `limit`, entry lifetime `ttl`.
    pub fn new(provider: usize, limit: u32, ttl: SimDuration) -> Self {
        PredictiveGuard {
            provider,
            limit,
            ttl,
            count: 0,
            expires: SimTime::ZERO,
        }
    }

    /// `cache.get(key, 0)`: the counter, or 0 once expired.
    pub fn value(&self, now: SimTime) -> u32 {
        if now < self.expires {
            self.count
        } else {
            0
        }
    }
}

impl Guard for PredictiveGuard {
    /// The check before a call.
    fn check(&mut self, now: SimTime, a: &Attempt) -> GuardVerdict {
        if a.provider == self.provider && self.value(now) >= self.limit {
            GuardVerdict::Refuse
        } else {
            GuardVerdict::Pass
        }
    }

    /// The counter against its limit.
    fn gauges(&self, now: SimTime, out: &mut Vec<super::Gauge>) {
        out.push(super::Gauge {
            name: "counter",
            provider: Some(self.provider),
            part: None,
            value: self.value(now) as f64,
            limit: Some(self.limit as f64),
        });
    }

    /// `cache[key] = cache.get(key, 0) + 1` after the response.
    fn on_response(&mut self, now: SimTime, f: &Feedback) {
        if f.provider == self.provider {
            self.count = self.value(now) + 1;
            self.expires = now + self.ttl;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::provider::Hint;

    fn to(provider: usize) -> Attempt {
        Attempt {
            provider,
            input: 1,
            output: 1,
            retry: false,
        }
    }

    fn from(provider: usize) -> Feedback<'static> {
        Feedback {
            provider,
            status: None,
            hint: Hint::Unknown,
            sent_at: SimTime::ZERO,
            cost: 0.0,
            retry: false,
            usage: &[],
        }
    }

    #[test]
    fn expiry_is_reset_by_every_write() {
        let s = SimTime::from_secs;
        let mut g = PredictiveGuard::new(0, 8, SimDuration::from_secs(60));
        for i in 0..8 {
            g.on_response(s(i * 50), &from(0));
        }
        // Eight increments spread over 350 s: never expired, since each write extends it.
        assert_eq!(g.value(s(360)), 8);
        assert_eq!(g.check(s(360), &to(0)), GuardVerdict::Refuse);
        assert_eq!(g.check(s(360), &to(1)), GuardVerdict::Pass);
        // Expires 60 s after the last write, all at once.
        assert_eq!(g.value(s(409)), 8);
        assert_eq!(g.value(s(410)), 0);
        assert_eq!(g.check(s(410), &to(0)), GuardVerdict::Pass);
    }
}
