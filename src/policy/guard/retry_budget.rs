//! Retry budgets: retries are allowed only while they stay a small share of the traffic.
//!
//! - Finagle (`RetryBudget(ttl, minRetriesPerSec, percentCanRetry)`, defaults 10 s, 10/s,
//!   20 %): every first attempt deposits `ratio` of a retry, every retry withdraws one;
//!   deposits and withdrawals count for `ttl`, and `min * ttl` retries are always there.
//! - Envoy (`retry_budget`: `budget_percent` 20 %, `min_retry_concurrency` 3): retries in
//!   flight may be at most `max(min, ratio * requests in flight)`.
//!
//! A retry over budget is refused locally; first attempts always pass.

use std::collections::VecDeque;

use super::{Attempt, Feedback, Guard, GuardContext, GuardParams, GuardVerdict, Setting};
use crate::keys::{Keys, R};
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// Settings of `kind = "retry_budget"`.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryBudgetParams {
    /// How the budget is kept.
    pub style: RetryBudgetStyle,
    /// Share of requests (Finagle) or of active requests (Envoy) retries may be.
    pub ratio: f64,
    /// Finagle: retries per second always allowed; Envoy: retries always allowed in
    /// flight.
    pub min: f64,
    /// Finagle: how long deposits and withdrawals count.
    pub ttl: SimDuration,
}

impl RetryBudgetParams {
    /// Reads `style` (finagle), `ratio` (0.2), `min` (10 for Finagle, 3 for Envoy) and
    /// `ttl` (10 s).
    pub(crate) fn parse(keys: &Keys, _cx: &GuardContext) -> R<Self> {
        let style = match keys.str("style")?.unwrap_or("finagle") {
            "finagle" => RetryBudgetStyle::Finagle,
            "envoy" => RetryBudgetStyle::Envoy,
            other => {
                return keys.invalid(
                    "style",
                    format!("unknown style `{other}`; expected \"finagle\" or \"envoy\""),
                )
            }
        };
        let default_min = match style {
            RetryBudgetStyle::Finagle => 10.0,
            RetryBudgetStyle::Envoy => 3.0,
        };
        Ok(RetryBudgetParams {
            style,
            ratio: keys.share("ratio", 0.2, 1.0)?,
            min: keys.non_negative("min")?.unwrap_or(default_min),
            ttl: keys.duration("ttl")?.unwrap_or(SimDuration::from_secs(10)),
        })
    }
}

impl GuardParams for RetryBudgetParams {
    const NAME: &'static str = "retry_budget";
    const KEYS: &'static [&'static str] = &["style", "ratio", "min", "ttl"];

    fn build(&self, _rng: &dyn Fn() -> SimRng) -> Box<dyn Guard> {
        Box::new(RetryBudget::new(self.style, self.ratio, self.min, self.ttl))
    }

    fn settings(&self) -> Vec<(&'static str, Setting)> {
        let style = match self.style {
            RetryBudgetStyle::Finagle => "finagle",
            RetryBudgetStyle::Envoy => "envoy",
        };
        vec![
            ("style", Setting::Str(style)),
            ("ratio", Setting::Float(self.ratio)),
            ("min", Setting::Float(self.min)),
            ("ttl", Setting::Duration(self.ttl)),
        ]
    }
}

/// How the budget is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryBudgetStyle {
    /// Deposits and withdrawals over a TTL.
    Finagle,
    /// Retries in flight against requests in flight.
    Envoy,
}

/// The budget's state.
pub struct RetryBudget {
    style: RetryBudgetStyle,
    ratio: f64,
    min: f64,
    ttl: SimDuration,
    deposits: VecDeque<SimTime>,
    withdrawals: VecDeque<SimTime>,
    in_flight: u64,
    retries_in_flight: u64,
}

impl RetryBudget {
    /// A budget of the given style.
    pub fn new(style: RetryBudgetStyle, ratio: f64, min: f64, ttl: SimDuration) -> Self {
        RetryBudget {
            style,
            ratio,
            min,
            ttl,
            deposits: VecDeque::new(),
            withdrawals: VecDeque::new(),
            in_flight: 0,
            retries_in_flight: 0,
        }
    }

    /// Finagle's balance at `now`: retries that may still be made.
    pub fn balance(&mut self, now: SimTime) -> f64 {
        for q in [&mut self.deposits, &mut self.withdrawals] {
            while q.front().is_some_and(|&t| t + self.ttl <= now) {
                q.pop_front();
            }
        }
        self.min * self.ttl.as_secs_f64() + self.ratio * self.deposits.len() as f64
            - self.withdrawals.len() as f64
    }
}

impl Guard for RetryBudget {
    fn check(&mut self, now: SimTime, a: &Attempt) -> GuardVerdict {
        if !a.retry {
            return GuardVerdict::Pass;
        }
        let ok = match self.style {
            RetryBudgetStyle::Finagle => self.balance(now) >= 1.0,
            RetryBudgetStyle::Envoy => {
                let cap = self.min.max(self.ratio * self.in_flight as f64);
                ((self.retries_in_flight + 1) as f64) <= cap
            }
        };
        if ok {
            GuardVerdict::Pass
        } else {
            GuardVerdict::Refuse
        }
    }

    fn commit(&mut self, now: SimTime, a: &Attempt) {
        if a.retry {
            self.withdrawals.push_back(now);
            self.retries_in_flight += 1;
        } else {
            self.deposits.push_back(now);
        }
        self.in_flight += 1;
    }

    fn on_response(&mut self, _now: SimTime, f: &Feedback) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if f.retry {
            self.retries_in_flight = self.retries_in_flight.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: Attempt = Attempt {
        provider: 0,
        input: 1,
        output: 1,
        retry: false,
    };
    const RETRY: Attempt = Attempt {
        provider: 0,
        input: 1,
        output: 1,
        retry: true,
    };

    #[test]
    fn finagle_allows_min_plus_a_fifth_of_requests() {
        let mut b = RetryBudget::new(
            RetryBudgetStyle::Finagle,
            0.2,
            0.0,
            SimDuration::from_secs(10),
        );
        let t = SimTime::from_secs(1);
        for _ in 0..10 {
            b.commit(t, &FIRST);
        }
        // 10 requests deposit 2 retries.
        for _ in 0..2 {
            assert_eq!(b.check(t, &RETRY), GuardVerdict::Pass);
            b.commit(t, &RETRY);
        }
        assert_eq!(b.check(t, &RETRY), GuardVerdict::Refuse);
        assert_eq!(b.check(t, &FIRST), GuardVerdict::Pass);
        // The floor: 10/s over a 10 s TTL is 100 retries with no traffic at all.
        let mut b = RetryBudget::new(
            RetryBudgetStyle::Finagle,
            0.2,
            10.0,
            SimDuration::from_secs(10),
        );
        for _ in 0..100 {
            assert_eq!(b.check(t, &RETRY), GuardVerdict::Pass);
            b.commit(t, &RETRY);
        }
        assert_eq!(b.check(t, &RETRY), GuardVerdict::Refuse);
        // Withdrawals expire with the TTL.
        assert_eq!(b.check(SimTime::from_secs(11), &RETRY), GuardVerdict::Pass);
    }

    #[test]
    fn envoy_caps_concurrent_retries() {
        let mut b = RetryBudget::new(RetryBudgetStyle::Envoy, 0.2, 3.0, SimDuration::ZERO);
        let t = SimTime::ZERO;
        for _ in 0..3 {
            assert_eq!(b.check(t, &RETRY), GuardVerdict::Pass);
            b.commit(t, &RETRY);
        }
        assert_eq!(b.check(t, &RETRY), GuardVerdict::Refuse);
    }
}
