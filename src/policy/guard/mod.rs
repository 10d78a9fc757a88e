//! Client-side admission guards: checks a policy runs, in order, before it sends a
//! request. A guard can let the request pass, make it wait, or refuse it locally; it
//! learns from every response. One file per guard; [`GuardSpec::build`] registers them.

mod adaptive_throttle;
mod aimd;
mod circuit_breaker;
mod client_bucket;
mod cooldown;
mod eject;
mod pacer;
mod pause;
mod predictive;
mod recent_failures;
mod retry_budget;
mod spend_budget;

pub use adaptive_throttle::AdaptiveThrottle;
pub use aimd::Aimd;
pub use circuit_breaker::CircuitBreaker;
pub use client_bucket::ClientBucket;
pub use cooldown::Cooldown;
pub use eject::Eject;
pub use pacer::Pacer;
pub use pause::Pause;
pub use predictive::PredictiveGuard;
pub use recent_failures::RecentFailures;
pub use retry_budget::{RetryBudget, RetryBudgetStyle};
pub use spend_budget::SpendBudget;

use crate::provider::limiter::Usage;
use crate::provider::{Hint, LimitSpec};
use crate::rng::{stream, Source};
use crate::time::SimTime;

/// A request about to be sent, as a guard sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// Provider it goes to.
    pub provider: usize,
    /// Input tokens.
    pub input: u64,
    /// Output tokens (the request's `max_tokens`).
    pub output: u64,
    /// Whether an earlier attempt of the same request failed.
    pub retry: bool,
}

/// A response, as a guard sees it.
#[derive(Clone, Copy, Debug)]
pub struct Feedback<'a> {
    /// Provider that answered.
    pub provider: usize,
    /// `None` when served, else the rejection status.
    pub status: Option<u16>,
    /// The rejection's retry-after hint.
    pub hint: Hint,
    /// When the request was sent.
    pub sent_at: SimTime,
    /// What the request cost (0 for a rejection).
    pub cost: f64,
    /// Whether the attempt answered was a retry.
    pub retry: bool,
    /// The provider's rate-limit headers: every limit's usage at the response.
    pub usage: &'a [Usage],
}

/// A guard's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardVerdict {
    /// Send.
    Pass,
    /// Try again at this time.
    WaitUntil(SimTime),
    /// Try again when a response arrives (a client-side concurrency limit is full).
    WaitForResponse,
    /// The provider is out of rotation (cooling, circuit open, ejected): pick another
    /// or move on, without using an attempt.
    Unavailable,
    /// Refused locally (counts as a failed attempt).
    Refuse,
}

/// The behaviour every guard implements. Only `check` is required.
pub trait Guard: Send {
    /// Whether `a` may be sent at `now`. Uses nothing up (see `commit`).
    fn check(&mut self, now: SimTime, a: &Attempt) -> GuardVerdict;
    /// Every guard passed `a`, which is sent at `now`: take what it uses.
    fn commit(&mut self, _now: SimTime, _a: &Attempt) {}
    /// A response arrived at `now`.
    fn on_response(&mut self, _now: SimTime, _f: &Feedback) {}
    /// Whether this guard reads rate-limit headers (the engine only collects them then).
    fn wants_usage(&self) -> bool {
        false
    }
    /// Until when this guard keeps `provider` out of rotation, if it does at `now`.
    fn out_until(&self, _now: SimTime, _provider: usize) -> Option<SimTime> {
        None
    }
    /// Total provider-time this guard has taken providers out of rotation.
    fn out_total(&self) -> SimTime {
        SimTime::ZERO
    }
    /// Whether the request is sent anyway when this guard has every provider it could
    /// still go to out of rotation (Portkey's circuit breaker), instead of failing.
    fn bypass_when_all_out(&self) -> bool {
        false
    }
}

/// What a health guard does while its provider is out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhileOut {
    /// Refuse locally: a chain moves on to its next provider (LiteLLM's error).
    Skip,
    /// Wait for the earliest recovery.
    Wait,
}

/// A guard, as configured.
#[derive(Clone, Debug, PartialEq)]
pub enum GuardSpec {
    /// The article's predictive 429 guard (a TTLCache counter).
    Predictive {
        /// Provider guarded.
        provider: usize,
        /// Refuse when the counter is at least this.
        limit: u32,
        /// The cache entry's time to live, reset on every write.
        ttl: SimTime,
    },
    /// The article's client token bucket (discrete ticks).
    ClientBucket {
        /// Provider guarded; `None` guards every provider.
        provider: Option<usize>,
        /// Tokens added per tick.
        rate: f64,
        /// Bucket size (starts full).
        capacity: f64,
        /// Tick length.
        tick: SimTime,
        /// Tokens one request takes.
        cost: u64,
    },
    /// Google SRE client-side adaptive throttling.
    AdaptiveThrottle {
        /// Provider guarded; `None`: every provider, counted together.
        provider: Option<usize>,
        /// Multiplier K on accepts.
        k: f64,
        /// Window the counts cover.
        window: SimTime,
    },
    /// A retry budget (Finagle or Envoy style).
    RetryBudget {
        /// How the budget is kept.
        style: RetryBudgetStyle,
        /// Share of requests (Finagle) or of active requests (Envoy) retries may be.
        ratio: f64,
        /// Finagle: retries per second always allowed; Envoy: retries always allowed
        /// in flight.
        min: f64,
        /// Finagle: how long deposits and withdrawals count.
        ttl: SimTime,
    },
    /// The article's tip: force a pause of `length` every `every`.
    Pause {
        /// Period.
        every: SimTime,
        /// Pause at the start of each period after the first.
        length: SimTime,
    },
    /// Stop using `providers` once spend reaches `threshold` of `budget_usd`.
    SpendBudget {
        /// Spend budget, USD.
        budget_usd: f64,
        /// Share of the budget at which traffic shifts (the article's 80 %).
        threshold: f64,
        /// Providers left once the threshold is reached.
        providers: Vec<usize>,
    },
    /// LiteLLM's deployment cooldowns.
    Cooldown {
        /// Failures allowed in a minute before a cooldown.
        allowed_fails: u32,
        /// Cooldown length.
        cooldown_time: SimTime,
        /// A 429 cools the provider at once when the route has more than one provider.
        immediate_on_429: bool,
        /// Cool when failures exceed this share of the minute's requests...
        failure_rate: f64,
        /// ...and the minute has at least this many requests.
        min_requests: u32,
        /// Several providers in the route.
        multi: bool,
        /// Skip or wait while cooling.
        while_out: WhileOut,
    },
    /// Portkey's circuit breaker.
    CircuitBreaker {
        /// Failures that open the circuit (0: off).
        failure_threshold: u32,
        /// Failure share that opens it (0: off).
        failure_threshold_percentage: f64,
        /// Requests needed before the share counts.
        minimum_requests: u32,
        /// How long it stays open.
        cooldown_interval: SimTime,
        /// Statuses that count as failures.
        on_status_codes: Vec<u16>,
        /// Skip or wait while open.
        while_out: WhileOut,
        /// When every remaining target's circuit is open, send anyway (Portkey).
        bypass_when_all_open: bool,
    },
    /// Helicone: a 429 ejects the provider for its retry-after (or `default`).
    Eject {
        /// Ejection when the 429 carries no hint.
        default: SimTime,
        /// Skip or wait while ejected.
        while_out: WhileOut,
    },
    /// OpenRouter: skip providers that failed within `window`.
    RecentFailures {
        /// How long a failure counts.
        window: SimTime,
    },
    /// AIMD adaptive concurrency (Netflix concurrency-limits).
    Aimd {
        /// Starting limit.
        initial: f64,
        /// Lowest limit.
        min: f64,
        /// Highest limit.
        max: f64,
        /// Factor applied on a rejection.
        backoff_ratio: f64,
    },
    /// Header-aware pacer: waits until every limit would admit the request.
    Pacer {
        /// Provider paced; `None` paces every provider.
        provider: Option<usize>,
        /// Each provider's published limits (index = provider).
        limits: Vec<Vec<LimitSpec>>,
    },
}

impl GuardSpec {
    /// The guard in its initial state. `seed`, `replication`, `policy` and `index` name
    /// the stream of a guard that draws random numbers.
    pub fn build(&self, seed: u64, replication: u64, policy: u32, index: u32) -> Box<dyn Guard> {
        match self.clone() {
            GuardSpec::Predictive {
                provider,
                limit,
                ttl,
            } => Box::new(PredictiveGuard::new(provider, limit, ttl)),
            GuardSpec::ClientBucket {
                provider,
                rate,
                capacity,
                tick,
                cost,
            } => Box::new(ClientBucket::new(provider, rate, capacity, tick, cost)),
            GuardSpec::AdaptiveThrottle {
                provider,
                k,
                window,
            } => Box::new(AdaptiveThrottle::new(
                provider,
                k,
                window,
                stream(seed, replication, Source::Guard(policy, index)),
            )),
            GuardSpec::RetryBudget {
                style,
                ratio,
                min,
                ttl,
            } => Box::new(RetryBudget::new(style, ratio, min, ttl)),
            GuardSpec::Pause { every, length } => Box::new(Pause { every, length }),
            GuardSpec::SpendBudget {
                budget_usd,
                threshold,
                providers,
            } => Box::new(SpendBudget::new(budget_usd, threshold, providers)),
            GuardSpec::Cooldown {
                allowed_fails,
                cooldown_time,
                immediate_on_429,
                failure_rate,
                min_requests,
                multi,
                while_out,
            } => Box::new(Cooldown::new(
                allowed_fails,
                cooldown_time,
                immediate_on_429 && multi,
                failure_rate,
                min_requests,
                while_out,
            )),
            GuardSpec::CircuitBreaker {
                failure_threshold,
                failure_threshold_percentage,
                minimum_requests,
                cooldown_interval,
                on_status_codes,
                while_out,
                bypass_when_all_open,
            } => Box::new(
                CircuitBreaker::new(
                    failure_threshold,
                    failure_threshold_percentage,
                    minimum_requests,
                    cooldown_interval,
                    on_status_codes,
                    while_out,
                )
                .bypassed_when_all_open(bypass_when_all_open),
            ),
            GuardSpec::Eject { default, while_out } => Box::new(Eject::new(default, while_out)),
            GuardSpec::RecentFailures { window } => Box::new(RecentFailures::new(window)),
            GuardSpec::Pacer { provider, limits } => Box::new(Pacer::new(provider, &limits)),
            GuardSpec::Aimd {
                initial,
                min,
                max,
                backoff_ratio,
            } => Box::new(Aimd::new(initial, min, max, backoff_ratio)),
        }
    }
}

/// Per-provider "out until" times, shared by the health guards, and the total time
/// providers were out (overlapping periods counted once).
#[derive(Clone, Debug, Default)]
pub(crate) struct OutUntil(Vec<SimTime>, SimTime);

impl OutUntil {
    /// Takes `provider` out from `now` until `until` (extending any current period).
    pub(crate) fn set(&mut self, now: SimTime, provider: usize, until: SimTime) {
        if self.0.len() <= provider {
            self.0.resize(provider + 1, SimTime::ZERO);
        }
        let from = self.0[provider].max(now);
        self.1 += until.saturating_sub(from);
        self.0[provider] = self.0[provider].max(until);
    }

    /// Provider-time out of rotation so far.
    pub(crate) fn total(&self) -> SimTime {
        self.1
    }

    pub(crate) fn verdict(
        &self,
        now: SimTime,
        provider: usize,
        while_out: WhileOut,
    ) -> GuardVerdict {
        match self.until(now, provider) {
            Some(t) => match while_out {
                WhileOut::Skip => GuardVerdict::Unavailable,
                WhileOut::Wait => GuardVerdict::WaitUntil(t),
            },
            None => GuardVerdict::Pass,
        }
    }

    pub(crate) fn until(&self, now: SimTime, provider: usize) -> Option<SimTime> {
        self.0.get(provider).copied().filter(|&t| t > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_outages_count_once() {
        let s = SimTime::from_secs;
        let mut out = OutUntil::default();
        out.set(s(0), 1, s(10));
        out.set(s(5), 1, s(15));
        out.set(s(20), 0, s(25));
        assert_eq!(out.total(), s(20));
        assert_eq!(out.until(s(12), 1), Some(s(15)));
        assert_eq!(out.until(s(15), 1), None);
    }
}
