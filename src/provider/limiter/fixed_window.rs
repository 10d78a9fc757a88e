//! Fixed window: `count[floor(t / W)] + amount <= limit`. Windows are aligned at time
//! zero, so up to twice the limit can pass across a boundary.

use super::{Limiter, Usage, Verdict};
use crate::time::SimTime;

/// A fixed-window counter.
#[derive(Clone, Debug)]
pub struct FixedWindow {
    window: SimTime,
    limit: u64,
    index: u64,
    count: u64,
}

impl FixedWindow {
    /// Windows `[kW, (k+1)W)` each holding at most `limit`.
    pub fn new(window: SimTime, limit: u64) -> Self {
        FixedWindow {
            window,
            limit,
            index: 0,
            count: 0,
        }
    }

    fn roll(&mut self, now: SimTime) {
        let index = now.0 / self.window.0;
        if index != self.index {
            self.index = index;
            self.count = 0;
        }
    }

    fn window_end(&self) -> SimTime {
        SimTime((self.index + 1).saturating_mul(self.window.0))
    }
}

impl Limiter for FixedWindow {
    fn check(&mut self, now: SimTime, amount: u64) -> Verdict {
        if amount > self.limit {
            return Verdict::Never;
        }
        self.roll(now);
        if self.count + amount <= self.limit {
            Verdict::Admit
        } else {
            Verdict::NotUntil(self.window_end())
        }
    }

    fn consume(&mut self, now: SimTime, amount: u64) {
        self.roll(now);
        self.count += amount;
    }

    fn exhaust(&mut self, now: SimTime) {
        self.roll(now);
        self.count = self.count.max(self.limit);
    }

    fn usage(&self, now: SimTime) -> Usage {
        let count = if now.0 / self.window.0 == self.index {
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
    fn allows_twice_the_limit_across_a_boundary() {
        let mut w = FixedWindow::new(SimTime::from_secs(60), 8);
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
