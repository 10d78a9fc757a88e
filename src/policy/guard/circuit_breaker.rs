//! Portkey's circuit breaker: per provider, counts failures (responses with one of
//! `on_status_codes`) since the circuit last closed; it opens when the count reaches
//! `failure_threshold`, or when at least `minimum_requests` were made and the failure
//! share reaches `failure_threshold_percentage`. Open, the provider is skipped (or
//! waited for) for `cooldown_interval` (Portkey's minimum is 30 s); then it closes
//! with fresh counts.

use super::{
    Attempt, Feedback, Guard, GuardContext, GuardParams, GuardVerdict, OutUntil, Setting, WhileOut,
};
use crate::keys::{Keys, R};
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// Settings of `kind = "circuit_breaker"`.
#[derive(Clone, Debug, PartialEq)]
pub struct CircuitBreakerParams {
    /// Failures that open the circuit (0: off).
    pub failure_threshold: u32,
    /// Failure share that opens it (0: off).
    pub failure_threshold_percentage: f64,
    /// Requests needed before the share counts.
    pub minimum_requests: u32,
    /// How long it stays open.
    pub cooldown_interval: SimDuration,
    /// Statuses that count as failures.
    pub on_status_codes: Vec<u16>,
    /// Skip or wait while open.
    pub while_out: WhileOut,
    /// When every remaining target's circuit is open, send anyway (Portkey).
    pub bypass_when_all_open: bool,
}

impl CircuitBreakerParams {
    /// Reads Portkey's settings with its defaults: `failure_threshold` 5,
    /// `failure_threshold_percentage` 0 (off), `minimum_requests` 5,
    /// `cooldown_interval` 30 s (its minimum), `on_status_codes` 429 and 5xx,
    /// `while_out` (skip) and `bypass_when_all_open` true.
    pub(crate) fn parse(keys: &Keys, _cx: &GuardContext) -> R<Self> {
        let cooldown_interval = keys
            .duration("cooldown_interval")?
            .unwrap_or(SimDuration::from_secs(30));
        if cooldown_interval < SimDuration::from_secs(30) {
            return keys.invalid(
                "cooldown_interval",
                "Portkey's cooldown_interval is at least 30s",
            );
        }
        Ok(CircuitBreakerParams {
            failure_threshold: keys.count("failure_threshold")?.unwrap_or(5),
            failure_threshold_percentage: keys.share("failure_threshold_percentage", 0.0, 100.0)?,
            minimum_requests: keys.count("minimum_requests")?.unwrap_or(5),
            cooldown_interval,
            on_status_codes: keys
                .statuses("on_status_codes")?
                .unwrap_or_else(|| vec![429, 500, 502, 503, 504]),
            while_out: super::while_out(keys)?,
            bypass_when_all_open: keys.bool("bypass_when_all_open")?.unwrap_or(true),
        })
    }
}

impl GuardParams for CircuitBreakerParams {
    const NAME: &'static str = "circuit_breaker";
    const KEYS: &'static [&'static str] = &[
        "failure_threshold",
        "failure_threshold_percentage",
        "minimum_requests",
        "cooldown_interval",
        "on_status_codes",
        "while_out",
        "bypass_when_all_open",
    ];

    fn build(&self, _rng: &dyn Fn() -> SimRng) -> Box<dyn Guard> {
        Box::new(
            CircuitBreaker::new(
                self.failure_threshold,
                self.failure_threshold_percentage,
                self.minimum_requests,
                self.cooldown_interval,
                self.on_status_codes.clone(),
                self.while_out,
            )
            .bypassed_when_all_open(self.bypass_when_all_open),
        )
    }

    fn settings(&self) -> Vec<(&'static str, Setting)> {
        vec![
            (
                "failure_threshold",
                Setting::Int(self.failure_threshold as u64),
            ),
            (
                "failure_threshold_percentage",
                Setting::Float(self.failure_threshold_percentage),
            ),
            (
                "minimum_requests",
                Setting::Int(self.minimum_requests as u64),
            ),
            (
                "cooldown_interval",
                Setting::Duration(self.cooldown_interval),
            ),
            (
                "on_status_codes",
                Setting::Statuses(self.on_status_codes.clone()),
            ),
            ("while_out", Setting::Str(self.while_out.name())),
            (
                "bypass_when_all_open",
                Setting::Bool(self.bypass_when_all_open),
            ),
        ]
    }
}

#[derive(Clone, Copy, Default)]
struct Counts {
    requests: u32,
    failures: u32,
    opened_until: SimTime,
}

/// Per-provider counts and open circuits.
pub struct CircuitBreaker {
    failure_threshold: u32,
    failure_share: f64,
    minimum_requests: u32,
    cooldown: SimDuration,
    on_status_codes: Vec<u16>,
    while_out: WhileOut,
    bypass: bool,
    counts: Vec<Counts>,
    out: OutUntil,
}

impl CircuitBreaker {
    /// A breaker with Portkey's parameters (percentage as 0..=100; 0 disables a rule).
    pub fn new(
        failure_threshold: u32,
        failure_threshold_percentage: f64,
        minimum_requests: u32,
        cooldown: SimDuration,
        on_status_codes: Vec<u16>,
        while_out: WhileOut,
    ) -> Self {
        CircuitBreaker {
            failure_threshold,
            failure_share: failure_threshold_percentage / 100.0,
            minimum_requests,
            cooldown,
            on_status_codes,
            while_out,
            bypass: false,
            counts: Vec::new(),
            out: OutUntil::default(),
        }
    }

    /// With `bypass`, a request whose every remaining target is open is sent anyway
    /// (Portkey: "if all targets are open, the circuit breaker is bypassed").
    pub fn bypassed_when_all_open(mut self, bypass: bool) -> Self {
        self.bypass = bypass;
        self
    }
}

impl Guard for CircuitBreaker {
    fn rotates(&self) -> bool {
        true
    }

    fn out_until(&self, now: SimTime, provider: usize) -> Option<SimTime> {
        self.out.until(now, provider)
    }

    fn out_total(&self) -> SimDuration {
        self.out.total()
    }

    fn bypass_when_all_out(&self) -> bool {
        self.bypass
    }

    fn check(&mut self, now: SimTime, a: &Attempt) -> GuardVerdict {
        self.out.verdict(now, a.provider, self.while_out)
    }

    fn on_response(&mut self, now: SimTime, f: &Feedback) {
        if self.counts.len() <= f.provider {
            self.counts.resize(f.provider + 1, Counts::default());
        }
        let c = &mut self.counts[f.provider];
        if c.opened_until > SimTime::ZERO && now >= c.opened_until {
            // Closed again after the cooldown: start counting afresh.
            *c = Counts::default();
        }
        c.requests += 1;
        if f.status.is_some_and(|s| self.on_status_codes.contains(&s)) {
            c.failures += 1;
        }
        let by_count = self.failure_threshold > 0 && c.failures >= self.failure_threshold;
        let by_share = self.failure_share > 0.0
            && c.requests >= self.minimum_requests
            && c.failures as f64 >= self.failure_share * c.requests as f64;
        if (by_count || by_share) && c.opened_until <= now {
            c.opened_until = now + self.cooldown;
            self.out.set(now, f.provider, c.opened_until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Hint;

    #[test]
    fn opens_at_the_threshold_and_closes_after_the_cooldown() {
        let mut b = CircuitBreaker::new(
            3,
            0.0,
            0,
            SimDuration::from_secs(30),
            vec![429, 503],
            WhileOut::Skip,
        );
        let a = Attempt {
            provider: 0,
            input: 1,
            output: 1,
            retry: false,
        };
        let fail = Feedback {
            provider: 0,
            status: Some(503),
            hint: Hint::Unknown,
            sent_at: SimTime::ZERO,
            cost: 0.0,
            retry: false,
            usage: &[],
        };
        let t = SimTime::from_secs(1);
        b.on_response(t, &fail);
        b.on_response(t, &fail);
        assert_eq!(b.check(t, &a), GuardVerdict::Pass);
        b.on_response(t, &fail);
        assert_eq!(b.check(t, &a), GuardVerdict::Unavailable);
        assert_eq!(b.check(SimTime::from_secs(31), &a), GuardVerdict::Pass);
        // A 404-like status is not a failure here.
        let other = Feedback {
            status: Some(400),
            ..fail
        };
        let mut b = CircuitBreaker::new(
            1,
            0.0,
            0,
            SimDuration::from_secs(30),
            vec![429],
            WhileOut::Skip,
        );
        b.on_response(t, &other);
        assert_eq!(b.check(t, &a), GuardVerdict::Pass);
    }
}
