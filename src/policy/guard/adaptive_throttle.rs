//! Google SRE client-side adaptive throttling ("Handling Overload", SRE book ch. 21):
//! over the last `window` (2 minutes), the client rejects a request locally with
//! probability `max(0, (requests - K * accepts) / (requests + 1))`, where `requests`
//! counts the requests that got an answer plus those the throttle itself rejected, and
//! `accepts` those the backend served (requests still in flight count in neither).

use std::collections::VecDeque;

use rand::Rng;

use super::{Attempt, Feedback, Guard, GuardContext, GuardParams, GuardVerdict, Setting};
use crate::keys::{Keys, R};
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// Settings of `kind = "adaptive_throttle"`.
#[derive(Clone, Debug, PartialEq)]
pub struct AdaptiveThrottleParams {
    /// Provider guarded; `None`: every provider, counted together.
    pub provider: Option<usize>,
    /// Multiplier K on accepts.
    pub k: f64,
    /// Window the counts cover.
    pub window: SimDuration,
}

impl AdaptiveThrottleParams {
    /// Reads `provider` (every one), `k` (2) and `window` (120 s).
    pub(crate) fn parse(keys: &Keys, cx: &GuardContext) -> R<Self> {
        Ok(AdaptiveThrottleParams {
            provider: keys.provider("provider", cx.names)?,
            k: keys.positive("k")?.unwrap_or(2.0),
            window: keys
                .duration("window")?
                .unwrap_or(SimDuration::from_secs(120)),
        })
    }
}

impl GuardParams for AdaptiveThrottleParams {
    const NAME: &'static str = "adaptive_throttle";
    const KEYS: &'static [&'static str] = &["provider", "k", "window"];

    fn build(&self, rng: &dyn Fn() -> SimRng) -> Box<dyn Guard> {
        Box::new(AdaptiveThrottle::new(
            self.provider,
            self.k,
            self.window,
            rng(),
        ))
    }

    fn settings(&self) -> Vec<(&'static str, Setting)> {
        let mut out = Vec::new();
        out.extend(self.provider.map(|p| ("provider", Setting::Provider(p))));
        out.push(("k", Setting::Float(self.k)));
        out.push(("window", Setting::Duration(self.window)));
        out
    }
}

/// The throttle's counts and its random stream.
pub struct AdaptiveThrottle {
    provider: Option<usize>,
    k: f64,
    window: SimDuration,
    requests: VecDeque<SimTime>,
    accepts: VecDeque<SimTime>,
    rng: SimRng,
}

impl AdaptiveThrottle {
    /// A throttle on `provider` (all when `None`) with multiplier `k` over `window`.
    pub fn new(provider: Option<usize>, k: f64, window: SimDuration, rng: SimRng) -> Self {
        AdaptiveThrottle {
            provider,
            k,
            window,
            requests: VecDeque::new(),
            accepts: VecDeque::new(),
            rng,
        }
    }

    fn expire(&mut self, now: SimTime) {
        for q in [&mut self.requests, &mut self.accepts] {
            while q.front().is_some_and(|&t| t + self.window <= now) {
                q.pop_front();
            }
        }
    }

    /// The local rejection probability at `now`, from the counts in the window.
    pub fn probability(&mut self, now: SimTime) -> f64 {
        self.expire(now);
        let requests = self.requests.len() as f64;
        let accepts = self.accepts.len() as f64;
        ((requests - self.k * accepts) / (requests + 1.0)).max(0.0)
    }
}

impl Guard for AdaptiveThrottle {
    /// The chance it refuses a request now (read without expiring old entries).
    fn gauges(&self, now: SimTime, out: &mut Vec<super::Gauge>) {
        let recent = |q: &VecDeque<SimTime>| {
            q.iter()
                .filter(|&&t| now.saturating_since(t) < self.window)
                .count() as f64
        };
        let (requests, accepts) = (recent(&self.requests), recent(&self.accepts));
        out.push(super::Gauge {
            name: "refusal probability",
            provider: self.provider,
            part: None,
            value: ((requests - self.k * accepts) / (requests + 1.0)).max(0.0),
            limit: Some(1.0),
        });
    }

    fn check(&mut self, now: SimTime, a: &Attempt) -> GuardVerdict {
        if self.provider.is_some_and(|p| p != a.provider) {
            return GuardVerdict::Pass;
        }
        let p = self.probability(now);
        if p > 0.0 && self.rng.random::<f64>() < p {
            self.requests.push_back(now);
            GuardVerdict::Refuse
        } else {
            GuardVerdict::Pass
        }
    }

    fn on_response(&mut self, now: SimTime, f: &Feedback) {
        if self.provider.is_none_or(|p| p == f.provider) {
            self.requests.push_back(now);
            if f.status.is_none() {
                self.accepts.push_back(now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Hint;
    use crate::rng::{stream, Source};

    #[test]
    fn rejection_probability_follows_the_formula() {
        let mut g = AdaptiveThrottle::new(
            None,
            2.0,
            SimDuration::from_secs(120),
            stream(1, 0, Source::Guard(0, 0)),
        );
        let a = Attempt {
            provider: 0,
            input: 1,
            output: 1,
            retry: false,
        };
        let served = Feedback {
            provider: 0,
            status: None,
            hint: Hint::Unknown,
            sent_at: SimTime::ZERO,
            cost: 0.0,
            retry: false,
            usage: &[],
        };
        // 10 requests, 3 accepted: p = (10 - 2 * 3) / 11.
        let rejected = Feedback {
            status: Some(429),
            ..served
        };
        for i in 0..10 {
            let t = SimTime::from_secs(i);
            g.on_response(t, if i < 3 { &served } else { &rejected });
        }
        assert!((g.probability(SimTime::from_secs(10)) - 4.0 / 11.0).abs() < 1e-12);
        // Once the window has passed, nothing is throttled.
        assert_eq!(g.probability(SimTime::from_secs(200)), 0.0);
        // Requests in flight count for nothing: with no answers yet, nothing is refused.
        let mut g = AdaptiveThrottle::new(
            None,
            2.0,
            SimDuration::from_secs(120),
            stream(2, 0, Source::Guard(0, 0)),
        );
        assert!((0..1000).all(|_| g.check(SimTime::from_secs(1), &a) == GuardVerdict::Pass));
        // After 100 rejections p = 100/101, and nearly every check is refused.
        for _ in 0..100 {
            g.on_response(SimTime::from_secs(1), &rejected);
        }
        let refused = (0..100)
            .filter(|_| g.check(SimTime::from_secs(1), &a) == GuardVerdict::Refuse)
            .count();
        assert!(refused > 90, "{refused}");
    }
}
