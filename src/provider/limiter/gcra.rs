//! GCRA, the generic cell rate algorithm, with `governor`'s semantics: state is one
//! theoretical arrival time (TAT); `T = period / limit`, `tau = T * (burst - 1)`; a
//! request of weight `n` conforms iff `t >= TAT + T(n - 1) - tau`, and then
//! `TAT = max(TAT, t) + T * n`. A weight with `T(n - 1) > tau` can never conform.

use super::{Limiter, Usage, Verdict};
use crate::time::SimTime;

/// A GCRA limiter.
///
/// ```
/// use ratesim::provider::limiter::{Gcra, Limiter, Verdict};
/// use ratesim::SimTime;
/// let mut g = Gcra::new(10, SimTime::from_secs(1), 3); // 10/s, bursts of 3
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
    /// `limit` per `period`, with bursts of up to `burst` (all validated positive).
    pub fn new(limit: u64, period: SimTime, burst: u64) -> Self {
        let t = (period.0 / limit).max(1);
        Gcra {
            t,
            tau: t * (burst - 1),
            burst,
            tat: 0,
        }
    }

    /// The emission interval T.
    pub fn emission_interval(&self) -> SimTime {
        SimTime(self.t)
    }

    /// The theoretical arrival time.
    pub fn tat(&self) -> SimTime {
        SimTime(self.tat)
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
        if now.0 >= earliest {
            Verdict::Admit
        } else {
            Verdict::NotUntil(SimTime(earliest))
        }
    }

    fn consume(&mut self, now: SimTime, amount: u64) {
        self.tat = self
            .tat
            .max(now.0)
            .saturating_add(self.t.saturating_mul(amount));
    }

    fn exhaust(&mut self, now: SimTime) {
        self.tat = self.tat.max(now.0 + self.tau + self.t);
    }

    fn usage(&self, now: SimTime) -> Usage {
        let ahead = self.tat.saturating_sub(now.0);
        Usage {
            used: (ahead as f64 / self.t as f64).min(self.burst as f64),
            limit: self.burst as f64,
            reset: SimTime(self.tat.max(now.0)),
        }
    }
}
