//! GCRA, the generic cell rate algorithm, with `governor`'s semantics: state is one
//! theoretical arrival time (TAT); `T = period / limit`, `tau = T * (burst - 1)`; a
//! request of weight `n` conforms iff `t >= TAT + T(n - 1) - tau`, and then
//! `TAT = max(TAT, t) + T * n`. A weight with `T(n - 1) > tau` can never conform.

use super::{amount, check_positive, LimitParams, Limiter, LimiterError, Usage, Verdict};
use crate::keys::{Keys, DURATION_HELP, R};
use crate::time::{SimDuration, SimTime};

/// A GCRA's parameters (`kind = "gcra"`): checked, so any value of this type builds a
/// working limiter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcraParams {
    limit: u64,
    period: SimDuration,
    burst: u64,
}

impl GcraParams {
    /// `limit` cells per `period`, with bursts of up to `burst`: all positive, an
    /// emission interval `period / limit` of at least 1 ns, and a burst tolerance that
    /// fits the clock.
    pub fn new(limit: u64, period: SimDuration, burst: u64) -> Result<Self, LimiterError> {
        check_positive(limit > 0, "limit")?;
        check_positive(period > SimDuration::ZERO, "period")?;
        check_positive(burst > 0, "burst")?;
        let t = period.as_nanos() / limit;
        if t == 0 {
            return Err(LimiterError::TooFine);
        }
        if t.checked_mul(burst).is_none() {
            return Err(LimiterError::BurstTooLarge { burst });
        }
        Ok(GcraParams {
            limit,
            period,
            burst,
        })
    }

    /// Cells per period.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The period.
    pub fn period(&self) -> SimDuration {
        self.period
    }

    /// Burst size.
    pub fn burst(&self) -> u64 {
        self.burst
    }

    /// Reads `limit`, `period` and `burst` (by default, `limit`).
    pub(crate) fn parse(keys: &Keys) -> R<Self> {
        let limit = keys.require(amount(keys, "limit")?, "limit", "cells per period")?;
        let period = keys.require(keys.duration("period")?, "period", DURATION_HELP)?;
        let burst = amount(keys, "burst")?.unwrap_or(limit);
        GcraParams::new(limit, period, burst).map_err(|e| e.at(keys))
    }
}

impl LimitParams for GcraParams {
    const NAME: &'static str = "gcra";
    const KEYS: &'static [&'static str] = &["limit", "period", "burst"];
    type Limiter = Gcra;

    fn build(&self) -> Gcra {
        let t = self.period.as_nanos() / self.limit;
        Gcra {
            t,
            tau: t * (self.burst - 1),
            burst: self.burst,
            tat: 0,
        }
    }

    fn label(&self) -> String {
        format!("gcra {}/{}", self.limit, self.period)
    }

    fn per_minute(&self) -> f64 {
        self.limit as f64 * 60.0 / self.period.as_secs_f64()
    }

    /// A full burst, then one cell per emission interval.
    fn admissible(&self, t: f64) -> f64 {
        let emission = (self.period.as_nanos() / self.limit) as f64 / 1e9;
        self.burst as f64 + (t / emission).floor()
    }
}

/// A GCRA limiter.
///
/// ```
/// use ratesim::provider::limiter::{Gcra, Limiter, Verdict};
/// use ratesim::{SimDuration, SimTime};
/// let mut g = Gcra::new(10, SimDuration::from_secs(1), 3); // 10/s, bursts of 3
/// for _ in 0..3 {
///     assert_eq!(g.check(SimTime::ZERO, 1), Verdict::Admit);
///     g.consume(SimTime::ZERO, 1);
/// }
/// assert_eq!(g.check(SimTime::ZERO, 1), Verdict::NotUntil(SimTime::from_millis(100)));
/// assert_eq!(g.check(SimTime::ZERO, 4), Verdict::Never);
/// ```
#[derive(Clone, Debug)]
pub struct Gcra {
    /// Emission interval T.
    t: u64,
    /// Burst tolerance tau.
    tau: u64,
    burst: u64,
    tat: u64,
}

impl Gcra {
    /// `limit` per `period`, with bursts of up to `burst`.
    ///
    /// # Panics
    ///
    /// When [`GcraParams::new`], which checks without panicking, refuses them.
    pub fn new(limit: u64, period: SimDuration, burst: u64) -> Self {
        GcraParams::new(limit, period, burst)
            .unwrap_or_else(|e| panic!("{e}"))
            .build()
    }

    /// The emission interval T.
    pub fn emission_interval(&self) -> SimDuration {
        SimDuration::from_nanos(self.t)
    }

    /// The theoretical arrival time.
    pub fn tat(&self) -> SimTime {
        SimTime::from_nanos(self.tat)
    }
}

impl Limiter for Gcra {
    fn check(&mut self, now: SimTime, amount: u64) -> Verdict {
        if amount == 0 {
            return Verdict::Admit;
        }
        let additional = self.t.saturating_mul(amount - 1);
        if additional > self.tau {
            return Verdict::Never;
        }
        let earliest = self.tat.saturating_add(additional).saturating_sub(self.tau);
        if now.as_nanos() >= earliest {
            Verdict::Admit
        } else {
            Verdict::NotUntil(SimTime::from_nanos(earliest))
        }
    }

    fn consume(&mut self, now: SimTime, amount: u64) {
        self.tat = self
            .tat
            .max(now.as_nanos())
            .saturating_add(self.t.saturating_mul(amount));
    }

    fn exhaust(&mut self, now: SimTime) {
        self.tat = self.tat.max(
            now.as_nanos()
                .saturating_add(self.tau)
                .saturating_add(self.t),
        );
    }

    fn usage(&self, now: SimTime) -> Usage {
        let ahead = self.tat.saturating_sub(now.as_nanos());
        Usage {
            used: (ahead as f64 / self.t as f64).min(self.burst as f64),
            limit: self.burst as f64,
            reset: SimTime::from_nanos(self.tat.max(now.as_nanos())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_that_cannot_work_are_refused_by_name() {
        let d = SimDuration::from_secs;
        assert_eq!(GcraParams::new(0, d(1), 1).unwrap_err().field(), "limit");
        assert_eq!(GcraParams::new(1, d(1), 0).unwrap_err().field(), "burst");
        assert_eq!(
            GcraParams::new(u64::MAX, d(1), 1).unwrap_err(),
            LimiterError::TooFine
        );
        assert_eq!(
            GcraParams::new(1, d(1), u64::MAX).unwrap_err(),
            LimiterError::BurstTooLarge { burst: u64::MAX }
        );
    }

    #[test]
    #[should_panic(expected = "burst must be positive")]
    fn the_plain_constructor_names_what_it_refuses() {
        Gcra::new(10, SimDuration::from_secs(1), 0);
    }
}
