//! Mock providers: rate limits, a concurrency cap, latency, outages, online-state resets,
//! pricing and completion quality. A provider takes `now` and answers each request with
//! an [`Admission`]; it knows nothing of the engine that calls it.

pub mod limiter;
pub mod limits;
mod onoff;
pub mod shorthand;
pub mod tape;

use std::collections::VecDeque;

use rand::Rng;

use crate::dist::Random;
use crate::rng::{stream, SimRng, Source};
use crate::time::{SimDuration, SimTime};
pub use limiter::{LimitKind, LimitSpec};
use limiter::{Usage, Verdict};
use limits::{Decision, LimitSet, Limits};
pub use onoff::OnOff;
use tape::{Change, Entry, Tape};

/// What a full concurrency cap does with one more request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFull {
    /// Answer with the provider's reject status.
    Reject,
    /// Wait in a FIFO queue at the provider (a local model server).
    Queue,
}

/// A cap on requests in service at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConcurrencySpec {
    /// Most requests in service.
    pub limit: u32,
    /// What happens beyond it.
    pub on_full: OnFull,
}

/// How long a served request takes.
#[derive(Clone, Debug, PartialEq)]
pub enum LatencySpec {
    /// Time to first token plus output tokens at a throughput.
    Streaming {
        /// Time to first token, seconds.
        ttft: Random,
        /// Output tokens per second.
        tokens_per_s: Random,
    },
    /// Whole-response time, seconds.
    Total(Random),
}

/// Alternating up and down periods; requests while down get `status`.
#[derive(Clone, Debug, PartialEq)]
pub struct OutageSpec {
    /// Length of an up period, seconds.
    pub up: Random,
    /// Length of a down period, seconds.
    pub down: Random,
    /// Status returned while down.
    pub status: u16,
}

/// The Copilot online-state rule: offline periods; one lasting at least `reset_after`
/// empties the provider's limits.
#[derive(Clone, Debug, PartialEq)]
pub struct OnlineSpec {
    /// Time online between offline periods, seconds.
    pub offline_every: Random,
    /// Length of an offline period, seconds.
    pub offline_for: Random,
    /// Offline this long empties the limits.
    pub reset_after: SimDuration,
    /// Status returned while offline.
    pub status: u16,
}

/// A provider, as configured.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderSpec {
    /// Name used in policies and metric keys.
    pub name: String,
    /// Rate limits; all must admit a request.
    pub limits: Vec<LimitSpec>,
    /// Concurrency cap, if any.
    pub concurrency: Option<ConcurrencySpec>,
    /// Status of a rate-limit rejection (429 by default).
    pub reject_status: u16,
    /// Time for a rejection to come back, seconds.
    pub reject_latency: Random,
    /// Service time of an admitted request.
    pub latency: LatencySpec,
    /// USD per 1,000 input tokens.
    pub price_per_1k_input: f64,
    /// USD per 1,000 output tokens.
    pub price_per_1k_output: f64,
    /// USD per month for a subscription.
    pub flat_monthly: f64,
    /// Exogenous outage process.
    pub outages: Option<OutageSpec>,
    /// Online-state process.
    pub online: Option<OnlineSpec>,
    /// Chance a completion passes the job's tests.
    pub pass_rate: f64,
    /// Counts toward `local_hit_ratio`.
    pub local: bool,
    /// A rate-limit rejection's retry-after hint is the wait until the limit would
    /// admit the request, rounded up to a multiple of this (1 s: the header's whole
    /// seconds, RFC 9110).
    pub retry_after_resolution: SimDuration,
}

impl ProviderSpec {
    /// USD for a served request.
    pub fn cost(&self, input: u64, output: u64) -> f64 {
        (input as f64 * self.price_per_1k_input + output as f64 * self.price_per_1k_output) / 1000.0
    }

    /// Every status this provider can answer a rejection with: `reject_status` when a
    /// rate limit or a rejecting concurrency cap can refuse, and the statuses of its
    /// outages and offline periods.
    pub fn statuses(&self) -> Vec<u16> {
        let refuses = !self.limits.is_empty()
            || self
                .concurrency
                .is_some_and(|c| c.on_full == OnFull::Reject);
        let mut v = Vec::new();
        if refuses {
            v.push(self.reject_status);
        }
        v.extend(self.outages.as_ref().map(|o| o.status));
        v.extend(self.online.as_ref().map(|o| o.status));
        v
    }
}

/// When a rejected request could first pass, as the provider tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hint {
    /// Retry-after: wait this long, counted from when the client receives the rejection
    /// (RFC 9110), and the limit that refused it would admit it, absent other traffic.
    /// The provider computes it when it rejects, from its limits, and rounds it up to
    /// its [`ProviderSpec::retry_after_resolution`]; the rejection's return trip comes
    /// on top.
    After(SimDuration),
    /// It exceeds what a limit can ever hold: never.
    Never,
    /// No hint (outage, offline, concurrency cap).
    Unknown,
}

/// Why a request was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectCause {
    /// A rate limit.
    RateLimit,
    /// The concurrency cap (on_full = reject).
    Concurrency,
    /// An outage period.
    Outage,
    /// An offline period.
    Offline,
}

/// The provider's answer to a request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Admission {
    /// Served: the response completes after `latency`.
    Serve {
        /// Service time.
        latency: SimDuration,
    },
    /// Admitted but waiting for a slot; [`Provider::release`] starts it later.
    Queued,
    /// Rejected; the rejection reaches the client after `latency`.
    Reject {
        /// HTTP status.
        status: u16,
        /// Why.
        cause: RejectCause,
        /// When it could pass.
        hint: Hint,
        /// Time until the client sees the rejection.
        latency: SimDuration,
        /// The rate limits that refused it (none for another cause).
        refused: LimitSet,
    },
}

/// A provider's state during one replication.
pub struct Provider<'a> {
    spec: &'a ProviderSpec,
    limits: Limits,
    in_flight: u32,
    /// Waiting requests: (ticket, output tokens).
    queue: VecDeque<(u64, u64)>,
    outage: Option<OnOff>,
    online: Option<OnOff>,
    latency_rng: SimRng,
    quality_rng: SimRng,
    /// The changes to its limits and slots, when they are recorded.
    tape: Option<Tape>,
}

impl<'a> Provider<'a> {
    /// The provider at time zero of replication `replication`; `index` is its position in
    /// the scenario, which names its random streams.
    pub fn new(spec: &'a ProviderSpec, seed: u64, replication: u64, index: u32) -> Self {
        Provider {
            spec,
            limits: Limits::new(&spec.limits),
            in_flight: 0,
            queue: VecDeque::new(),
            outage: spec.outages.as_ref().map(|o| {
                OnOff::new(
                    o.up.clone(),
                    o.down.clone(),
                    stream(seed, replication, Source::Outage(index)),
                    false,
                )
            }),
            online: spec.online.as_ref().map(|o| {
                OnOff::new(
                    o.offline_every.clone(),
                    o.offline_for.clone(),
                    stream(seed, replication, Source::Online(index)),
                    true,
                )
            }),
            latency_rng: stream(seed, replication, Source::Latency(index)),
            quality_rng: stream(seed, replication, Source::Quality(index)),
            tape: None,
        }
    }

    /// From now on, records every change to its limits and slots, up to `limit` of them
    /// ([`Provider::take_tape`]; a longer tape is dropped and marked full).
    pub fn record(&mut self, limit: usize) {
        self.tape = Some(Tape::with_limit(limit));
    }

    /// The changes recorded since [`Provider::record`], if it was called.
    pub fn take_tape(&mut self) -> Option<Tape> {
        self.tape.take()
    }

    fn log(&mut self, at: SimTime, change: Change) {
        if let Some(tape) = &mut self.tape {
            tape.push(Entry { at, change });
        }
    }

    fn log_slots(&mut self, at: SimTime) {
        if self.tape.is_some() && self.spec.concurrency.is_some() {
            let change = Change::Slots {
                in_flight: self.in_flight,
                queued: self.queue.len() as u32,
            };
            self.log(at, change);
        }
    }

    /// The configuration.
    pub fn spec(&self) -> &'a ProviderSpec {
        self.spec
    }

    /// Applies every online-state reset due by `now`, in time order.
    fn advance(&mut self, now: SimTime) {
        let (Some(online), Some(spec)) = (self.online.as_mut(), self.spec.online.as_ref()) else {
            return;
        };
        online.advance(now);
        // An offline period of at least `reset_after` leaves no quota at reconnection.
        while let Some(&(start, end)) = online.downs().front() {
            if end > now {
                break;
            }
            if end - start >= spec.reset_after {
                self.limits.exhaust(end);
                if let Some(tape) = &mut self.tape {
                    let change = Change::Exhaust { end };
                    tape.push(Entry { at: now, change });
                }
            }
            online.downs().pop_front();
        }
    }

    /// The retry-after hint of a request refused at `now` that a limit would admit at
    /// `t`: the wait, rounded up to the resolution.
    fn hint(&self, now: SimTime, t: SimTime) -> Hint {
        let wait = t.saturating_since(now).as_nanos();
        let step = self.spec.retry_after_resolution.as_nanos().max(1);
        Hint::After(SimDuration::from_nanos(
            wait.div_ceil(step).saturating_mul(step),
        ))
    }

    fn reject(
        &mut self,
        status: u16,
        cause: RejectCause,
        hint: Hint,
        refused: LimitSet,
    ) -> Admission {
        let latency =
            SimDuration::from_secs_f64(self.spec.reject_latency.sample(&mut self.latency_rng));
        Admission::Reject {
            status,
            cause,
            hint,
            latency,
            refused,
        }
    }

    fn service_time(&mut self, output: u64) -> SimDuration {
        let secs = match &self.spec.latency {
            LatencySpec::Total(d) => d.sample(&mut self.latency_rng),
            LatencySpec::Streaming { ttft, tokens_per_s } => {
                let ttft = ttft.sample(&mut self.latency_rng);
                let tps = tokens_per_s.sample(&mut self.latency_rng);
                if tps > 0.0 {
                    ttft + output as f64 / tps
                } else {
                    ttft
                }
            }
        };
        SimDuration::from_secs_f64(secs)
    }

    /// A request of `input` and `output` tokens arrives at `now`. `ticket` identifies it
    /// if it has to wait for a slot.
    pub fn offer(&mut self, now: SimTime, input: u64, output: u64, ticket: u64) -> Admission {
        self.advance(now);
        if let (Some(o), Some(spec)) = (self.outage.as_mut(), self.spec.outages.as_ref()) {
            if o.is_down(now) {
                return self.reject(
                    spec.status,
                    RejectCause::Outage,
                    Hint::Unknown,
                    LimitSet::EMPTY,
                );
            }
        }
        if let (Some(o), Some(spec)) = (self.online.as_mut(), self.spec.online.as_ref()) {
            if o.is_down(now) {
                return self.reject(
                    spec.status,
                    RejectCause::Offline,
                    Hint::Unknown,
                    LimitSet::EMPTY,
                );
            }
        }
        let full = self
            .spec
            .concurrency
            .is_some_and(|c| c.on_full == OnFull::Reject && self.in_flight >= c.limit);
        let decision = self.limits.admit(now, input, output, full);
        if !self.spec.limits.is_empty() {
            let change = Change::Admit {
                input,
                output,
                blocked: full,
            };
            self.log(now, change);
        }
        if let Decision::Refuse { verdict, refused } = decision {
            let (cause, hint) = match verdict {
                Verdict::Admit => (RejectCause::Concurrency, Hint::Unknown),
                Verdict::NotUntil(t) => (RejectCause::RateLimit, self.hint(now, t)),
                Verdict::Never => (RejectCause::RateLimit, Hint::Never),
            };
            return self.reject(self.spec.reject_status, cause, hint, refused);
        }
        match self.spec.concurrency {
            Some(c) if self.in_flight >= c.limit => {
                self.queue.push_back((ticket, output));
                self.log_slots(now);
                Admission::Queued
            }
            _ => {
                self.in_flight += 1;
                self.log_slots(now);
                Admission::Serve {
                    latency: self.service_time(output),
                }
            }
        }
    }

    /// A request in service finished at `now`; if one was queued, it starts now (FIFO),
    /// and its ticket and service time are returned.
    pub fn release(&mut self, now: SimTime) -> Option<(u64, SimDuration)> {
        self.in_flight -= 1;
        let next = self.queue.pop_front();
        if next.is_some() {
            self.in_flight += 1;
        }
        self.log_slots(now);
        let (ticket, output) = next?;
        Some((ticket, self.service_time(output)))
    }

    /// Takes the request `ticket` out of the queue at `now` before it started (a
    /// cancelled hedge); false when it is not queued.
    pub fn dequeue(&mut self, now: SimTime, ticket: u64) -> bool {
        match self.queue.iter().position(|&(t, _)| t == ticket) {
            Some(i) => {
                self.queue.remove(i);
                self.log_slots(now);
                true
            }
            None => false,
        }
    }

    /// Draws whether a completion passes the job's tests.
    pub fn passes(&mut self) -> bool {
        self.spec.pass_rate >= 1.0 || self.quality_rng.random::<f64>() < self.spec.pass_rate
    }

    /// Usage of each rate limit at `now` (for rate-limit headers and timelines), in the
    /// order of the spec's limits. Read-only: an online reset due since the last request
    /// shows from the next one.
    pub fn usage(&self, now: SimTime) -> impl Iterator<Item = Usage> + '_ {
        self.limits.usage(now)
    }

    /// The status of an outage under way at `now`, if one is (for a live server ending a
    /// stream that an outage interrupts). It moves the outage process to `now` exactly
    /// as [`Provider::offer`] would, so asking changes no later answer; `now` must not
    /// be before an earlier call's.
    pub fn outage_at(&mut self, now: SimTime) -> Option<u16> {
        let (o, spec) = (self.outage.as_mut()?, self.spec.outages.as_ref()?);
        o.is_down(now).then_some(spec.status)
    }

    /// Requests in service.
    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// Requests waiting for a slot.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use limiter::{TokenBucketParams, Unit};

    fn copilot(offline_for: f64) -> ProviderSpec {
        ProviderSpec {
            name: "copilot".into(),
            limits: vec![LimitSpec {
                kind: LimitKind::TokenBucket(
                    TokenBucketParams::new(100.0, 0.05, None).expect("valid"),
                ),
                unit: Unit::Requests,
                count_rejected: false,
            }],
            concurrency: None,
            reject_status: 503,
            reject_latency: Random::Constant(0.1),
            latency: LatencySpec::Total(Random::Constant(1.0)),
            price_per_1k_input: 0.0,
            price_per_1k_output: 0.0,
            flat_monthly: 10.0,
            outages: None,
            online: Some(OnlineSpec {
                offline_every: Random::Constant(100.0),
                offline_for: Random::Constant(offline_for),
                reset_after: SimDuration::from_secs(30),
                status: 503,
            }),
            pass_rate: 1.0,
            local: false,
            retry_after_resolution: SimDuration::from_secs(1),
        }
    }

    fn s(x: u64) -> SimTime {
        SimTime::from_secs(x)
    }

    #[test]
    fn thirty_seconds_offline_leaves_no_quota() {
        let spec = copilot(30.0);
        let mut p = Provider::new(&spec, 1, 0, 0);
        assert!(matches!(p.offer(s(99), 1, 1, 0), Admission::Serve { .. }));
        assert!(matches!(
            p.offer(s(110), 1, 1, 1),
            Admission::Reject {
                status: 503,
                cause: RejectCause::Offline,
                hint: Hint::Unknown,
                ..
            }
        ));
        // Back online at 130 s with an empty bucket: one request per 20 s from then.
        assert_eq!(
            p.offer(s(131), 1, 1, 2),
            Admission::Reject {
                status: 503,
                cause: RejectCause::RateLimit,
                hint: Hint::After(SimDuration::from_secs(19)),
                latency: SimDuration::from_millis(100),
                refused: LimitSet::single(0),
            }
        );
        assert!(matches!(p.offer(s(150), 1, 1, 3), Admission::Serve { .. }));
    }

    #[test]
    fn a_shorter_offline_period_keeps_the_quota() {
        let spec = copilot(29.0);
        let mut p = Provider::new(&spec, 1, 0, 0);
        assert!(matches!(
            p.offer(s(110), 1, 1, 0),
            Admission::Reject {
                cause: RejectCause::Offline,
                ..
            }
        ));
        for i in 0..50 {
            assert!(matches!(p.offer(s(130), 1, 1, i), Admission::Serve { .. }));
        }
    }

    /// One slot, queueing: ticket 7 in service, 8 and 9 waiting.
    fn one_slot_with_two_waiting(spec: &mut ProviderSpec) -> Provider<'_> {
        spec.online = None;
        spec.limits.clear();
        spec.concurrency = Some(ConcurrencySpec {
            limit: 1,
            on_full: OnFull::Queue,
        });
        let mut p = Provider::new(spec, 1, 0, 0);
        assert!(matches!(p.offer(s(0), 1, 1, 7), Admission::Serve { .. }));
        assert_eq!(p.offer(s(0), 1, 1, 8), Admission::Queued);
        assert_eq!(p.offer(s(0), 1, 1, 9), Admission::Queued);
        p
    }

    #[test]
    fn queued_requests_start_in_order_as_slots_free() {
        let mut spec = copilot(1.0);
        let mut p = one_slot_with_two_waiting(&mut spec);
        assert_eq!(p.release(SimTime::ZERO).map(|(t, _)| t), Some(8));
        assert_eq!(p.release(SimTime::ZERO).map(|(t, _)| t), Some(9));
        assert_eq!(p.release(SimTime::ZERO), None);
        assert_eq!(p.in_flight(), 0);
    }

    #[test]
    fn a_dequeued_request_never_starts() {
        let mut spec = copilot(1.0);
        let mut p = one_slot_with_two_waiting(&mut spec);
        assert!(p.dequeue(SimTime::ZERO, 8));
        assert!(!p.dequeue(SimTime::ZERO, 8));
        assert_eq!(p.queued(), 1);
        assert_eq!(p.release(SimTime::ZERO).map(|(t, _)| t), Some(9));
    }
}
