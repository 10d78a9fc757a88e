//! AIMD adaptive concurrency, as Netflix concurrency-limits' `AIMDLimit` (initial 20,
//! min 20, max 200, backoff ratio 0.9): requests in flight from this client may not
//! exceed the limit L; a rejection multiplies L by the backoff ratio, and a success while
//! at least half the limit is in use (`inflight * 2 >= L`) adds one. A request that
//! finds the limit full waits for the next response.

use super::{Attempt, Feedback, Guard, GuardContext, GuardParams, GuardVerdict, Setting};
use crate::keys::{Keys, R};
use crate::rng::SimRng;
use crate::time::SimTime;

/// Settings of `kind = "aimd"`.
#[derive(Clone, Debug, PartialEq)]
pub struct AimdParams {
    /// Starting limit.
    pub initial: f64,
    /// Lowest limit.
    pub min: f64,
    /// Highest limit.
    pub max: f64,
    /// Factor applied on a rejection.
    pub backoff_ratio: f64,
}

impl AimdParams {
    /// Reads `AIMDLimit`'s settings with its defaults: `initial` 20, `min` 20, `max` 200
    /// and `backoff_ratio` 0.9.
    pub(crate) fn parse(keys: &Keys, _cx: &GuardContext) -> R<Self> {
        let min = keys.positive("min")?.unwrap_or(20.0);
        let max = keys.positive("max")?.unwrap_or(200.0);
        if max < min {
            return keys.invalid("max", format!("max ({max}) must be >= min ({min})"));
        }
        let ratio = keys.float("backoff_ratio")?.unwrap_or(0.9);
        if !(ratio > 0.0 && ratio < 1.0) {
            return keys.invalid(
                "backoff_ratio",
                format!("a factor between 0 and 1, exclusive (got {ratio})"),
            );
        }
        let initial = keys.positive("initial")?.unwrap_or(20.0);
        if initial < min || initial > max {
            return keys.invalid(
                "initial",
                format!("initial ({initial}) must be within [min, max] = [{min}, {max}]"),
            );
        }
        Ok(AimdParams {
            initial,
            min,
            max,
            backoff_ratio: ratio,
        })
    }
}

impl GuardParams for AimdParams {
    const NAME: &'static str = "aimd";
    const KEYS: &'static [&'static str] = &["initial", "min", "max", "backoff_ratio"];

    fn build(&self, _rng: &dyn Fn() -> SimRng) -> Box<dyn Guard> {
        Box::new(Aimd::new(
            self.initial,
            self.min,
            self.max,
            self.backoff_ratio,
        ))
    }

    fn settings(&self) -> Vec<(&'static str, Setting)> {
        vec![
            ("initial", Setting::Float(self.initial)),
            ("min", Setting::Float(self.min)),
            ("max", Setting::Float(self.max)),
            ("backoff_ratio", Setting::Float(self.backoff_ratio)),
        ]
    }
}

/// The limit and what is in flight.
pub struct Aimd {
    limit: f64,
    min: f64,
    max: f64,
    backoff_ratio: f64,
    in_flight: u32,
}

impl Aimd {
    /// A limit starting at `initial`, kept within `[min, max]`.
    pub fn new(initial: f64, min: f64, max: f64, backoff_ratio: f64) -> Self {
        Aimd {
            limit: initial.clamp(min, max),
            min,
            max,
            backoff_ratio,
            in_flight: 0,
        }
    }

    /// The current limit.
    pub fn limit(&self) -> f64 {
        self.limit
    }
}

impl Guard for Aimd {
    fn check(&mut self, _now: SimTime, _a: &Attempt) -> GuardVerdict {
        if (self.in_flight as f64) < self.limit.floor().max(1.0) {
            GuardVerdict::Pass
        } else {
            GuardVerdict::WaitForResponse
        }
    }

    /// The limit is on requests in flight, whatever they are.
    fn alike(&self, _a: &Attempt, _b: &Attempt) -> bool {
        true
    }

    fn commit(&mut self, _now: SimTime, _a: &Attempt) {
        self.in_flight += 1;
    }

    /// Requests in flight, and the limit they are held to.
    fn gauges(&self, _now: SimTime, out: &mut Vec<super::Gauge>) {
        for (name, value) in [
            ("in flight", self.in_flight as f64),
            ("limit", self.limit.floor()),
        ] {
            out.push(super::Gauge {
                name,
                provider: None,
                part: None,
                value,
                limit: None,
            });
        }
    }

    fn on_response(&mut self, _now: SimTime, f: &Feedback) {
        let in_flight = self.in_flight as f64;
        self.in_flight = self.in_flight.saturating_sub(1);
        if f.status.is_some() {
            self.limit = (self.limit * self.backoff_ratio).max(self.min);
        } else if in_flight * 2.0 >= self.limit {
            self.limit = (self.limit + 1.0).min(self.max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Hint;

    #[test]
    fn additive_increase_multiplicative_decrease() {
        let mut g = Aimd::new(4.0, 1.0, 10.0, 0.5);
        let a = Attempt {
            provider: 0,
            input: 1,
            output: 1,
            retry: false,
        };
        let t = SimTime::ZERO;
        for _ in 0..4 {
            assert_eq!(g.check(t, &a), GuardVerdict::Pass);
            g.commit(t, &a);
        }
        assert_eq!(g.check(t, &a), GuardVerdict::WaitForResponse);
        let ok = Feedback {
            provider: 0,
            status: None,
            hint: Hint::Unknown,
            sent_at: t,
            cost: 0.0,
            retry: false,
            usage: &[],
        };
        g.on_response(t, &ok);
        assert_eq!(g.limit(), 5.0, "a success at full use adds one");
        let no = Feedback {
            status: Some(429),
            ..ok
        };
        g.on_response(t, &no);
        assert_eq!(g.limit(), 2.5, "a rejection halves it");
        for _ in 0..10 {
            g.on_response(t, &no);
        }
        assert_eq!(g.limit(), 1.0, "never below min");
    }
}
