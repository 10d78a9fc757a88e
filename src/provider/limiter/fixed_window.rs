//! Fixed window: `count[floor(t / W)] + amount <= limit`. Windows are aligned at time
//! zero, so up to twice the limit can pass across a boundary.

use super::{check_positive, window_and_limit, LimitParams, Limiter, LimiterError, Usage, Verdict};
use crate::keys::{Keys, R};
use crate::time::{SimDuration, SimTime};

/// A fixed window's parameters (`kind = "fixed_window"`): checked, so any value of this
/// type builds a working limiter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedWindowParams {
    window: SimDuration,
    limit: u64,
}

impl FixedWindowParams {
    /// Windows of length `window` each holding at most `limit`; both must be positive.
    pub fn new(window: SimDuration, limit: u64) -> Result<Self, LimiterError> {
        check_positive(window > SimDuration::ZERO, "window")?;
        check_positive(limit > 0, "limit")?;
        Ok(FixedWindowParams { window, limit })
    }

    /// The window length.
    pub fn window(&self) -> SimDuration {
        self.window
    }

    /// The most per window.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Reads `window` and `limit`.
    pub(crate) fn parse(keys: &Keys) -> R<Self> {
        let (window, limit) = window_and_limit(keys)?;
        FixedWindowParams::new(window, limit).map_err(|e| e.at(keys))
    }
}

impl LimitParams for FixedWindowParams {
    const NAME: &'static str = "fixed_window";
    const KEYS: &'static [&'static str] = &["window", "limit"];
    type Limiter = FixedWindow;

    fn build(&self) -> FixedWindow {
        FixedWindow {
            window: self.window,
            limit: self.limit,
            index: 0,
            count: 0,
        }
    }

    fn label(&self) -> String {
        format!("fixed {}/{}", self.limit, self.window)
    }

    fn per_minute(&self) -> f64 {
        self.limit as f64 * 60.0 / self.window.as_secs_f64()
    }

    /// A full window for every window that starts within `[0, t]`.
    fn admissible(&self, t: f64) -> f64 {
        self.limit as f64 * ((t / self.window.as_secs_f64()).floor() + 1.0)
    }
}

/// A fixed-window counter.
#[derive(Clone, Debug)]
pub struct FixedWindow {
    window: SimDuration,
    limit: u64,
    index: u64,
    count: u64,
}

impl FixedWindow {
    /// Windows `[kW, (k+1)W)` each holding at most `limit`.
    ///
    /// # Panics
    ///
    /// When either is zero, naming it; [`FixedWindowParams::new`] checks without
    /// panicking.
    pub fn new(window: SimDuration, limit: u64) -> Self {
        FixedWindowParams::new(window, limit)
            .unwrap_or_else(|e| panic!("{e}"))
            .build()
    }

    fn roll(&mut self, now: SimTime) {
        let index = now.as_nanos() / self.window.as_nanos();
        if index != self.index {
            self.index = index;
            self.count = 0;
        }
    }

    fn window_end(&self) -> SimTime {
        SimTime::ZERO + self.window.saturating_mul(self.index + 1)
    }
}

impl Limiter for FixedWindow {
    fn check(&mut self, now: SimTime, amount: u64) -> Verdict {
        if amount > self.limit {
            return Verdict::Never;
        }
        self.roll(now);
        if self.count.saturating_add(amount) <= self.limit {
            Verdict::Admit
        } else {
            Verdict::NotUntil(self.window_end())
        }
    }

    fn consume(&mut self, now: SimTime, amount: u64) {
        self.roll(now);
        self.count = self.count.saturating_add(amount);
    }

    fn exhaust(&mut self, now: SimTime) {
        self.roll(now);
        self.count = self.count.max(self.limit);
    }

    fn usage(&self, now: SimTime) -> Usage {
        let count = if now.as_nanos() / self.window.as_nanos() == self.index {
            self.count
        } else {
            0
        };
        Usage {
            used: count as f64,
            limit: self.limit as f64,
            reset: if count == 0 { now } else { self.window_end() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_window_is_refused_by_name() {
        assert_eq!(
            FixedWindowParams::new(SimDuration::ZERO, 8)
                .unwrap_err()
                .field(),
            "window"
        );
    }

    #[test]
    fn allows_twice_the_limit_across_a_boundary() {
        let mut w = FixedWindow::new(SimDuration::from_secs(60), 8);
        let before = SimTime::from_millis(59_900);
        let after = SimTime::from_secs(60);
        for _ in 0..8 {
            assert_eq!(w.check(before, 1), Verdict::Admit);
            w.consume(before, 1);
        }
        assert_eq!(w.check(before, 1), Verdict::NotUntil(after));
        for _ in 0..8 {
            assert_eq!(w.check(after, 1), Verdict::Admit);
            w.consume(after, 1);
        }
        assert_eq!(
            w.check(after, 1),
            Verdict::NotUntil(SimTime::from_secs(120))
        );
    }
}
