//! Token bucket, starting full: `tokens = min(C, tokens + r * dt)`, admit iff
//! `tokens >= amount`. With a fill interval the refill is discrete, Envoy-style:
//! `r * interval` tokens at every multiple of the interval since time zero.

use super::{check_positive, real_amount, LimitParams, Limiter, LimiterError, Usage, Verdict};
use crate::keys::{Keys, R};
use crate::time::{SimDuration, SimTime};

/// A token bucket's parameters (`kind = "token_bucket"`): checked, so any value of this
/// type builds a working limiter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TokenBucketParams {
    capacity: f64,
    refill_per_s: f64,
    fill_interval: Option<SimDuration>,
}

impl TokenBucketParams {
    /// A bucket of `capacity` refilled at `refill_per_s`, continuously or, with a
    /// `fill_interval`, in discrete fills; all must be positive and finite.
    pub fn new(
        capacity: f64,
        refill_per_s: f64,
        fill_interval: Option<SimDuration>,
    ) -> Result<Self, LimiterError> {
        check_positive(capacity.is_finite() && capacity > 0.0, "capacity")?;
        check_positive(
            refill_per_s.is_finite() && refill_per_s > 0.0,
            "refill_per_s",
        )?;
        check_positive(fill_interval != Some(SimDuration::ZERO), "fill_interval")?;
        Ok(TokenBucketParams {
            capacity,
            refill_per_s,
            fill_interval,
        })
    }

    /// The bucket size.
    pub fn capacity(&self) -> f64 {
        self.capacity
    }

    /// Tokens added per second.
    pub fn refill_per_s(&self) -> f64 {
        self.refill_per_s
    }

    /// The interval of discrete fills; `None` for continuous refill.
    pub fn fill_interval(&self) -> Option<SimDuration> {
        self.fill_interval
    }

    /// Reads `capacity`, `refill_per_s` and `fill_interval`.
    pub(crate) fn parse(keys: &Keys) -> R<Self> {
        let capacity = keys.require(
            real_amount(keys, "capacity")?,
            "capacity",
            "the bucket size",
        )?;
        let refill_per_s = keys.require(
            real_amount(keys, "refill_per_s")?,
            "refill_per_s",
            "tokens added per second",
        )?;
        let fill_interval = keys.duration("fill_interval")?;
        TokenBucketParams::new(capacity, refill_per_s, fill_interval).map_err(|e| e.at(keys))
    }
}

impl LimitParams for TokenBucketParams {
    const NAME: &'static str = "token_bucket";
    const KEYS: &'static [&'static str] = &["capacity", "refill_per_s", "fill_interval"];
    type Limiter = TokenBucket;

    fn build(&self) -> TokenBucket {
        TokenBucket {
            capacity: self.capacity,
            rate_per_s: self.refill_per_s,
            fill_interval: self.fill_interval,
            tokens: self.capacity,
            last: SimTime::ZERO,
        }
    }

    /// `bucket 12+2/s`; a refill whose per-second value is long to write but is a whole
    /// number per minute (a published TPM: 8000/min is 133.333.../s) reads
    /// `bucket 8000+8000/min`.
    fn label(&self) -> String {
        let per_min = self.refill_per_s * 60.0;
        let whole = (per_min - per_min.round()).abs() <= 1e-9 * per_min.abs().max(1.0);
        if self.refill_per_s.to_string().len() > 6 && whole {
            format!("bucket {}+{}/min", self.capacity, per_min.round())
        } else {
            format!("bucket {}+{}/s", self.capacity, self.refill_per_s)
        }
    }

    fn per_minute(&self) -> f64 {
        self.refill_per_s * 60.0
    }

    /// The full bucket plus every refill within `[0, t]`.
    fn admissible(&self, t: f64) -> f64 {
        match self.fill_interval {
            None => self.capacity + self.refill_per_s * t,
            Some(i) => {
                let i = i.as_secs_f64();
                self.capacity + self.refill_per_s * i * (t / i).floor()
            }
        }
    }
}

/// Tolerance for float accumulation: a bucket that is short by less than this is full
/// enough. Keeps a "not until" hint exact: at the hinted time the amount is admitted.
const EPS: f64 = 1e-9;

/// A token bucket.
///
/// ```
/// use ratesim::provider::limiter::{Limiter, TokenBucket, Verdict};
/// use ratesim::SimTime;
/// let mut b = TokenBucket::continuous(2.0, 1.0); // capacity 2, 1 token/s
/// b.consume(SimTime::ZERO, 2);
/// assert_eq!(b.check(SimTime::ZERO, 1), Verdict::NotUntil(SimTime::from_secs(1)));
/// assert_eq!(b.check(SimTime::from_secs(1), 1), Verdict::Admit);
/// ```
#[derive(Clone, Debug)]
pub struct TokenBucket {
    capacity: f64,
    rate_per_s: f64,
    /// Discrete fills: the interval; `None` for continuous refill.
    fill_interval: Option<SimDuration>,
    tokens: f64,
    last: SimTime,
}

impl TokenBucket {
    /// Continuous refill at `rate_per_s`, capacity `capacity`, full at time zero.
    ///
    /// # Panics
    ///
    /// When either is not a positive finite number, naming it; [`TokenBucketParams::new`]
    /// checks without panicking.
    pub fn continuous(capacity: f64, rate_per_s: f64) -> Self {
        TokenBucketParams::new(capacity, rate_per_s, None)
            .unwrap_or_else(|e| panic!("{e}"))
            .build()
    }

    /// Discrete refill: `rate_per_s * interval` tokens at every multiple of `interval`.
    ///
    /// # Panics
    ///
    /// As [`TokenBucket::continuous`], and when `interval` is zero.
    pub fn discrete(capacity: f64, rate_per_s: f64, interval: SimDuration) -> Self {
        TokenBucketParams::new(capacity, rate_per_s, Some(interval))
            .unwrap_or_else(|e| panic!("{e}"))
            .build()
    }

    fn per_fill(&self, interval: SimDuration) -> f64 {
        self.rate_per_s * interval.as_secs_f64()
    }

    /// Tokens at `now` without changing the state.
    fn level_at(&self, now: SimTime) -> f64 {
        if now <= self.last {
            return self.tokens;
        }
        let added = match self.fill_interval {
            None => self.rate_per_s * (now - self.last).as_secs_f64(),
            Some(i) => {
                (now.as_nanos() / i.as_nanos() - self.last.as_nanos() / i.as_nanos()) as f64
                    * self.per_fill(i)
            }
        };
        (self.tokens + added).min(self.capacity)
    }

    fn refill(&mut self, now: SimTime) {
        if now > self.last {
            self.tokens = self.level_at(now);
            self.last = now;
        }
    }

    /// Tokens in the bucket at `now`.
    pub fn tokens(&mut self, now: SimTime) -> f64 {
        self.refill(now);
        self.tokens
    }

    /// The earliest time the bucket holds `target` tokens, absent other traffic, given
    /// it holds `tokens` at `now`.
    fn time_to_hold(&self, now: SimTime, tokens: f64, target: f64) -> SimTime {
        let deficit = target - tokens;
        if deficit <= EPS {
            return now;
        }
        match self.fill_interval {
            None => now + SimDuration::from_secs_f64_ceil(deficit / self.rate_per_s),
            Some(i) => {
                let fills = (deficit / self.per_fill(i) - EPS).ceil().max(1.0) as u64;
                SimTime::ZERO
                    + i.saturating_mul((now.as_nanos() / i.as_nanos()).saturating_add(fills))
            }
        }
    }
}

impl Limiter for TokenBucket {
    fn check(&mut self, now: SimTime, amount: u64) -> Verdict {
        let amount = amount as f64;
        if amount > self.capacity + EPS {
            return Verdict::Never;
        }
        self.refill(now);
        if self.tokens + EPS >= amount {
            return Verdict::Admit;
        }
        match self.time_to_hold(now, self.tokens, amount) {
            // Further away than time can count: as good as never.
            SimTime::MAX => Verdict::Never,
            t => Verdict::NotUntil(t),
        }
    }

    fn consume(&mut self, now: SimTime, amount: u64) {
        self.refill(now);
        self.tokens -= amount as f64;
    }

    fn exhaust(&mut self, now: SimTime) {
        self.refill(now);
        self.tokens = self.tokens.min(0.0);
    }

    fn usage(&self, now: SimTime) -> Usage {
        let tokens = self.level_at(now);
        Usage {
            used: self.capacity - tokens,
            limit: self.capacity,
            reset: self.time_to_hold(now, tokens, self.capacity),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discrete_fills_come_on_interval_multiples() {
        // The article's client bucket: 5 per 1 s tick, capacity 50.
        let mut b = TokenBucket::discrete(50.0, 5.0, SimDuration::from_secs(1));
        b.consume(SimTime::ZERO, 50);
        let t = SimTime::from_millis(300);
        assert_eq!(b.check(t, 1), Verdict::NotUntil(SimTime::from_secs(1)));
        assert_eq!(b.check(t, 7), Verdict::NotUntil(SimTime::from_secs(2)));
        assert_eq!(b.tokens(SimTime::from_millis(2_500)), 10.0);
        assert_eq!(b.tokens(SimTime::from_secs(100)), 50.0);
    }

    #[test]
    fn continuous_hint_is_admitted_exactly_then() {
        let mut b = TokenBucket::continuous(10.0, 3.0);
        b.consume(SimTime::ZERO, 10);
        let Verdict::NotUntil(t) = b.check(SimTime::from_millis(100), 4) else {
            panic!("should be refused")
        };
        assert_ne!(
            b.clone()
                .check(SimTime::from_nanos(t.as_nanos() - 1_000), 4),
            Verdict::Admit
        );
        assert_eq!(b.check(t, 4), Verdict::Admit);
    }

    #[test]
    fn bad_parameters_are_refused_by_name() {
        let field = |r: Result<TokenBucketParams, LimiterError>| r.unwrap_err().field();
        assert_eq!(field(TokenBucketParams::new(0.0, 1.0, None)), "capacity");
        assert_eq!(
            field(TokenBucketParams::new(1.0, f64::NAN, None)),
            "refill_per_s"
        );
        assert_eq!(
            field(TokenBucketParams::new(1.0, 1.0, Some(SimDuration::ZERO))),
            "fill_interval"
        );
    }

    #[test]
    fn more_than_capacity_never_passes() {
        let mut b = TokenBucket::continuous(10.0, 3.0);
        assert_eq!(b.check(SimTime::ZERO, 11), Verdict::Never);
    }
}
