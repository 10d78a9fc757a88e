//! Exact sliding-window log: admit iff the window `(t - W, t]` holds no more than `limit`
//! once this amount is added. Old entries keep counting until they are `W` old.

use std::collections::VecDeque;

use super::{check_positive, window_and_limit, LimitParams, Limiter, LimiterError, Usage, Verdict};
use crate::keys::{Keys, R};
use crate::time::{SimDuration, SimTime};

/// A sliding window's parameters (`kind = "sliding_window"`): checked, so any value of
/// this type builds a working limiter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlidingWindowParams {
    window: SimDuration,
    limit: u64,
}

impl SlidingWindowParams {
    /// A window of length `window` holding at most `limit`; both must be positive.
    pub fn new(window: SimDuration, limit: u64) -> Result<Self, LimiterError> {
        check_positive(window > SimDuration::ZERO, "window")?;
        check_positive(limit > 0, "limit")?;
        Ok(SlidingWindowParams { window, limit })
    }

    /// The window length.
    pub fn window(&self) -> SimDuration {
        self.window
    }

    /// The most held in any window.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Reads `window` and `limit`.
    pub(crate) fn parse(keys: &Keys) -> R<Self> {
        let (window, limit) = window_and_limit(keys)?;
        SlidingWindowParams::new(window, limit).map_err(|e| e.at(keys))
    }
}

impl LimitParams for SlidingWindowParams {
    const NAME: &'static str = "sliding_window";
    const KEYS: &'static [&'static str] = &["window", "limit"];
    type Limiter = SlidingWindow;

    fn build(&self) -> SlidingWindow {
        SlidingWindow {
            window: self.window,
            limit: self.limit,
            log: VecDeque::new(),
            held: 0,
        }
    }

    fn label(&self) -> String {
        format!("sliding {}/{}", self.limit, self.window)
    }

    fn per_minute(&self) -> f64 {
        self.limit as f64 * 60.0 / self.window.as_secs_f64()
    }

    /// A window of `limit` at every window start within `[0, t]`.
    fn admissible(&self, t: f64) -> f64 {
        self.limit as f64 * ((t / self.window.as_secs_f64()).floor() + 1.0)
    }
}

/// A sliding-window log limiter.
///
/// ```
/// use ratesim::provider::limiter::{Limiter, SlidingWindow, Verdict};
/// use ratesim::{SimDuration, SimTime};
/// let mut w = SlidingWindow::new(SimDuration::from_secs(60), 1);
/// w.consume(SimTime::from_secs(59), 1);
/// // One request at second 59 still blocks second 61, until second 119.
/// assert_eq!(w.check(SimTime::from_secs(61), 1), Verdict::NotUntil(SimTime::from_secs(119)));
/// ```
#[derive(Clone, Debug)]
pub struct SlidingWindow {
    window: SimDuration,
    limit: u64,
    log: VecDeque<(SimTime, u64)>,
    held: u64,
}

impl SlidingWindow {
    /// A window of length `window` holding at most `limit`.
    ///
    /// # Panics
    ///
    /// When either is zero, naming it; [`SlidingWindowParams::new`] checks without
    /// panicking.
    pub fn new(window: SimDuration, limit: u64) -> Self {
        SlidingWindowParams::new(window, limit)
            .unwrap_or_else(|e| panic!("{e}"))
            .build()
    }

    fn prune(&mut self, now: SimTime) {
        while let Some(&(t, amount)) = self.log.front() {
            // An entry at t counts while t > now - W, i.e. until now >= t + W.
            if t + self.window <= now {
                self.log.pop_front();
                self.held = self.held.saturating_sub(amount);
            } else {
                break;
            }
        }
    }

    /// The amount held in the window at the last pruning.
    pub fn held(&self) -> u64 {
        self.held
    }
}

impl Limiter for SlidingWindow {
    fn check(&mut self, now: SimTime, amount: u64) -> Verdict {
        if amount > self.limit {
            return Verdict::Never;
        }
        self.prune(now);
        // `held` may pass the limit (rejections that count), so the sums saturate.
        let total = self.held.saturating_add(amount);
        if total <= self.limit {
            return Verdict::Admit;
        }
        let need = total - self.limit;
        let mut freed: u64 = 0;
        for &(t, a) in &self.log {
            freed = freed.saturating_add(a);
            if freed >= need {
                return Verdict::NotUntil(t + self.window);
            }
        }
        unreachable!("amount <= limit, so expiring the whole log always frees enough")
    }

    fn consume(&mut self, now: SimTime, amount: u64) {
        if amount == 0 {
            return;
        }
        self.prune(now);
        self.log.push_back((now, amount));
        self.held = self.held.saturating_add(amount);
    }

    fn exhaust(&mut self, now: SimTime) {
        self.prune(now);
        if self.held < self.limit {
            let rest = self.limit - self.held;
            self.consume(now, rest);
        }
    }

    fn usage(&self, now: SimTime) -> Usage {
        let expired: u64 = self
            .log
            .iter()
            .take_while(|&&(t, _)| t + self.window <= now)
            .map(|&(_, a)| a)
            .fold(0, u64::saturating_add);
        let reset = self
            .log
            .back()
            .map_or(now, |&(t, _)| (t + self.window).max(now));
        Usage {
            used: self.held.saturating_sub(expired) as f64,
            limit: self.limit as f64,
            reset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: u64) -> SimTime {
        SimTime::from_secs(x)
    }

    fn d(x: u64) -> SimDuration {
        SimDuration::from_secs(x)
    }

    #[test]
    fn a_zero_window_or_limit_is_refused_by_name() {
        assert_eq!(
            SlidingWindowParams::new(SimDuration::ZERO, 8).unwrap_err(),
            LimiterError::NotPositive { field: "window" }
        );
        assert_eq!(
            SlidingWindowParams::new(d(1), 0).unwrap_err().field(),
            "limit"
        );
    }

    #[test]
    fn eight_per_minute_rejects_the_ninth_until_the_first_expires() {
        let mut w = SlidingWindow::new(d(60), 8);
        for i in 0..8 {
            assert_eq!(w.check(s(i), 1), Verdict::Admit);
            w.consume(s(i), 1);
        }
        assert_eq!(w.check(s(10), 1), Verdict::NotUntil(s(60)));
        assert_eq!(w.check(s(60), 1), Verdict::Admit);
    }

    #[test]
    fn token_window_frees_enough_for_a_large_request() {
        let mut w = SlidingWindow::new(d(60), 25_000);
        w.consume(s(0), 10_000);
        w.consume(s(5), 10_000);
        w.consume(s(9), 4_000);
        // 24k held; 12k needs 11k freed: the first two entries, at 5 + 60.
        assert_eq!(w.check(s(10), 12_000), Verdict::NotUntil(s(65)));
        assert_eq!(w.check(s(10), 30_000), Verdict::Never);
    }

    #[test]
    fn exhaust_leaves_no_quota_for_a_full_window() {
        let mut w = SlidingWindow::new(d(60), 8);
        w.consume(s(0), 1);
        w.exhaust(s(30));
        assert_eq!(w.check(s(31), 1), Verdict::NotUntil(s(60)));
        assert_eq!(w.check(s(60), 1), Verdict::Admit);
        assert_eq!(w.check(s(60), 2), Verdict::NotUntil(s(90)));
    }
}
