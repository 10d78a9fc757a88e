//! The load driver of `ratesim replay`: a scenario's workload played against HTTP
//! endpoints, routed and retried on the client side by the simulator's own
//! [`RequestDriver`] and policies.
//!
//! One replication of one policy is one event loop on one task, the engine's loop with
//! the providers replaced by HTTP: arrivals, retry waits and parked requests are timers
//! on a scaled clock; each send is a request on its own task, whose answer comes back
//! on a channel with its real status, `retry-after` and rate-limit headers. Those feed
//! the driver exactly as the simulator's providers feed it, so a pacer paces from real
//! headers. What the loop records is the simulator's [`Recorder`], so a replay writes
//! the same metrics and outputs as `ratesim run`.
//!
//! The time a live answer takes is whatever the server took: a request's admission and
//! its answer are known together, when the response arrives (the simulator knows an
//! admission at once). Hedging needs the admission earlier, so a policy with a hedge is
//! refused ([`ReplayError::Hedge`]). Connection errors and timeouts are their own
//! outcome: counted, and told to the policy as a rejection without a status or hint
//! (status 0), so it retries or gives up by its own rules.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::headers::{parse_retry_after, parse_usage, Epoch};
use super::Wire;
use crate::metrics::timeline::EventRow;
use crate::metrics::{Catalog, Recorder};
use crate::policy::driver::{Action, Answer, Reaction, RequestDriver, Send};
use crate::policy::{FailReason, PolicyState};
use crate::provider::limiter::Usage;
use crate::provider::Hint;
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};
use crate::workload::{Jobs, RequestSize};

pub use super::{OUTPUT_TOKENS_HEADER, PASSED_HEADER, PROVIDER_HEADER};

/// An HTTP endpoint that stands for a provider: its full URL and wire format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The endpoint, e.g. `http://127.0.0.1:8080/claude/v1/messages`.
    pub url: String,
    /// Its wire format.
    pub wire: Wire,
}

impl Target {
    /// A target from a URL: the endpoint itself when it ends in `/v1/messages` or
    /// `/v1/chat/completions` (which gives its wire format), else a base URL to which
    /// `wire`'s path is added.
    pub fn parse(url: &str, wire: Wire) -> Result<Target, String> {
        let url = url.trim();
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("`{url}`: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("`{url}`: the scheme must be http or https"));
        }
        for w in [Wire::Anthropic, Wire::OpenAi] {
            if parsed.path().ends_with(w.path()) {
                return Ok(Target {
                    url: url.to_string(),
                    wire: w,
                });
            }
        }
        Ok(Target {
            url: format!("{}{}", url.trim_end_matches('/'), wire.path()),
            wire,
        })
    }

    /// The origin (`scheme://host:port`) of the endpoint.
    pub fn origin(&self) -> String {
        reqwest::Url::parse(&self.url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }
}

/// Where requests go.
#[derive(Clone, Debug)]
pub enum Routing {
    /// The scenario's policy of this index routes and retries; `targets[p]` stands for
    /// provider `p` (every provider the policy can reach has one).
    Policy {
        /// The policy.
        policy: usize,
        /// One endpoint per provider, `None` for one the policy never reaches.
        targets: Vec<Option<Target>>,
    },
    /// Every request goes once to a gateway that routes and retries by itself; the
    /// provider that served is read from [`PROVIDER_HEADER`]. `policy` is the policy the
    /// scenario adds for the gateway (its reachable providers set the flat cost).
    Gateway {
        /// The policy standing for the gateway.
        policy: usize,
        /// The gateway's endpoint.
        target: Target,
    },
}

/// How a replay runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Scenario seconds per real second.
    pub scale: f64,
    /// Real time a request may take before it counts as a timeout.
    pub timeout: Duration,
    /// Real time one replication may take before the replay gives up on it.
    pub deadline: Duration,
    /// Keep the request events (for `events.csv`).
    pub events: bool,
}

/// Why a replay produced no results.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The policy hedges, which a live driver cannot do faithfully yet.
    #[error(
        "policy `{0}` hedges, and replay cannot hedge yet (it learns a request's admission \
         only from its answer); replay the other policies with --policy NAME"
    )]
    Hedge(String),
    /// A provider the policy reaches has no target.
    #[error(
        "policy `{policy}` reaches provider `{provider}`, which has no --target {provider}=URL"
    )]
    NoTarget {
        /// The policy.
        policy: String,
        /// The provider.
        provider: String,
    },
    /// The replication did not finish in time.
    #[error(
        "policy `{policy}`, replication {replication}: {ended} of {jobs} jobs ended within \
         the deadline of {deadline:?} real time (raise --deadline, or check the targets)"
    )]
    Deadline {
        /// The policy.
        policy: String,
        /// The replication.
        replication: u64,
        /// Jobs that ended.
        ended: usize,
        /// Jobs in all.
        jobs: usize,
        /// The deadline.
        deadline: Duration,
    },
}

/// What one replication of one policy measured.
#[derive(Clone, Debug)]
pub struct LiveRun {
    /// Metric values in catalog order (the capacity bound not filled in).
    pub metrics: Vec<f64>,
    /// Completed jobs' latencies, scenario seconds.
    pub latencies: Vec<f64>,
    /// Requests that got no HTTP response (connection error, timeout, unreadable body).
    pub connection_errors: u64,
    /// Responses whose serving provider was named by the response header and differs
    /// from the one the request was sent to, or was unknown (gateway mode: unknown).
    pub unattributed: u64,
    /// The requests' events (when [`Options::events`]).
    pub events: Vec<EventRow>,
}

/// An answer from a task that carried a request.
#[derive(Debug)]
struct Reply {
    job: u32,
    copy: u32,
    provider: usize,
    outcome: Outcome,
}

#[derive(Debug)]
enum Outcome {
    /// 2xx.
    Served {
        passed: bool,
        usage: Vec<Usage>,
        served_by: Option<String>,
    },
    /// Any other status.
    Rejected {
        status: u16,
        hint: Hint,
        usage: Vec<Usage>,
        served_by: Option<String>,
    },
    /// No response.
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    Arrive(u32),
    Ready(u32),
}

#[derive(Clone, Copy)]
struct JobState {
    driver: RequestDriver,
    request: u32,
    /// The copy on its way: (copy, provider, sent at).
    in_flight: Option<(u32, usize, SimTime)>,
}

/// The scaled clock: scenario time since the replication started.
#[derive(Clone, Copy, Debug)]
struct Clock {
    start: Instant,
    scale: f64,
}

impl Clock {
    fn now(&self) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs_f64(self.start.elapsed().as_secs_f64() * self.scale)
    }

    fn instant(&self, t: SimTime) -> Instant {
        let real = t.saturating_since(SimTime::ZERO).as_secs_f64() / self.scale;
        self.start + Duration::try_from_secs_f64(real).unwrap_or(Duration::from_secs(86_400 * 365))
    }
}

struct Loop<'a> {
    scenario: &'a Scenario,
    catalog: &'a Catalog,
    jobs: &'a Jobs,
    routing: &'a Routing,
    policy_index: usize,
    policy: PolicyState<'a>,
    rec: Recorder,
    state: Vec<JobState>,
    timers: BinaryHeap<Reverse<(SimTime, u64, Timer)>>,
    seq: u64,
    waiting: VecDeque<u32>,
    parked: Vec<u32>,
    active: u32,
    ended: usize,
    concurrency: u32,
    client: &'a reqwest::Client,
    tx: mpsc::UnboundedSender<Reply>,
    epoch: Epoch,
    clock: Clock,
    connection_errors: u64,
    unattributed: u64,
    events: Option<Vec<EventRow>>,
    last: SimTime,
}

impl<'a> Loop<'a> {
    fn size(&self, job: u32) -> RequestSize {
        self.jobs.requests_of(job as usize)[self.state[job as usize].request as usize]
    }

    fn timer(&mut self, at: SimTime, t: Timer) {
        self.seq += 1;
        self.timers.push(Reverse((at, self.seq, t)));
    }

    fn event(&mut self, row: impl FnOnce() -> EventRow) {
        if let Some(events) = &mut self.events {
            events.push(row());
        }
    }

    fn start_request(&mut self, now: SimTime, job: u32) {
        let size = self.size(job);
        let st = &mut self.state[job as usize];
        let action = st
            .driver
            .start(now, &mut self.policy, size.input, size.output);
        self.act(now, job, action);
    }

    fn act(&mut self, now: SimTime, job: u32, action: Action) {
        match action {
            Action::Send(send) => self.send(now, job, send),
            // Hedged policies are refused before the run starts.
            Action::HedgeAt { .. } | Action::Wait => {}
            Action::WaitUntil(t) => self.timer(t.max(now), Timer::Ready(job)),
            Action::Park => self.parked.push(job),
            Action::Done => {
                let st = &mut self.state[job as usize];
                st.request += 1;
                if (st.request as usize) < self.jobs.requests_of(job as usize).len() {
                    self.start_request(now, job);
                } else {
                    self.finish_job(now, job, None);
                }
            }
            Action::Fail(reason) => self.finish_job(now, job, Some(reason)),
        }
    }

    fn react(&mut self, now: SimTime, job: u32, reaction: Reaction) {
        if reaction.wake_parked {
            for j in std::mem::take(&mut self.parked) {
                self.timer(now, Timer::Ready(j));
            }
        }
        self.act(now, job, reaction.then);
    }

    fn finish_job(&mut self, now: SimTime, job: u32, failed: Option<FailReason>) {
        let j = job as usize;
        let latency = now.saturating_since(self.jobs.arrivals[j]);
        let saw = self.state[j].driver.saw_rejection();
        self.rec.job_done(now, latency, failed, saw);
        self.active -= 1;
        self.ended += 1;
        if let Some(next) = self.waiting.pop_front() {
            self.active += 1;
            self.start_request(now, next);
        }
    }

    fn provider_name(&self, p: usize) -> String {
        self.scenario.providers[p].name.clone()
    }

    fn send(&mut self, now: SimTime, job: u32, send: Send) {
        let j = job as usize;
        let p = send.provider;
        if let Some(from) = send.fallback_from {
            let (from_name, to) = (self.provider_name(from), self.provider_name(p));
            let policy = self.scenario.policies[self.policy_index].name.clone();
            self.event(|| EventRow {
                policy,
                t_s: now.as_secs_f64(),
                provider: from_name,
                event: "fallback".into(),
                status: None,
                to: Some(to),
                refused_by: None,
            });
        }
        if send.first_of_job {
            self.rec
                .first_send(now.saturating_since(self.jobs.arrivals[j]));
        }
        self.rec.attempt(p);
        let size = self.size(job);
        self.state[j].in_flight = Some((send.copy, p, now));
        let target = match self.routing {
            Routing::Policy { targets, .. } => targets[p].clone(),
            Routing::Gateway { target, .. } => Some(target.clone()),
        };
        let Some(target) = target else {
            // Checked before the run: every reachable provider has a target.
            self.connection_errors += 1;
            let _ = self.tx.send(Reply {
                job,
                copy: send.copy,
                provider: p,
                outcome: Outcome::Error,
            });
            return;
        };
        let request = Request {
            target,
            model: self.provider_name(p),
            size,
        };
        let (client, tx, epoch) = (self.client.clone(), self.tx.clone(), self.epoch);
        let spec = &self.scenario.providers[p];
        let spec = spec.clone();
        let clock = self.clock;
        let copy = send.copy;
        tokio::spawn(async move {
            let outcome = request.carry(&client, &spec, &epoch, clock).await;
            let _ = tx.send(Reply {
                job,
                copy,
                provider: p,
                outcome,
            });
        });
    }

    fn reply(&mut self, now: SimTime, reply: Reply) {
        let job = reply.job;
        let j = job as usize;
        let Some((copy, p, sent_at)) = self.state[j].in_flight else {
            return;
        };
        if copy != reply.copy || p != reply.provider {
            return;
        }
        self.state[j].in_flight = None;
        let size = self.size(job);
        let gateway = matches!(self.routing, Routing::Gateway { .. });
        let policy_name = self.scenario.policies[self.policy_index].name.clone();
        let attributed = |served_by: &Option<String>| -> Option<usize> {
            let name = served_by.as_deref()?;
            self.scenario.providers.iter().position(|s| s.name == name)
        };
        match reply.outcome {
            Outcome::Served {
                passed,
                usage,
                served_by,
            } => {
                // In gateway mode the serving provider is the header's.
                let q = if gateway {
                    match attributed(&served_by) {
                        Some(q) => q,
                        None => {
                            self.unattributed += 1;
                            p
                        }
                    }
                } else {
                    p
                };
                let name = self.provider_name(q);
                self.event(|| EventRow {
                    policy: policy_name,
                    t_s: sent_at.as_secs_f64(),
                    provider: name,
                    event: "served".into(),
                    status: None,
                    to: None,
                    refused_by: None,
                });
                let st = &mut self.state[j];
                let _ = st
                    .driver
                    .admitted(&self.policy, copy, Some((sent_at, now - sent_at)));
                let Some(answered) = st.driver.answer(copy) else {
                    return;
                };
                let spec = &self.scenario.providers[q];
                let cost = spec.cost(size.input, size.output);
                self.rec
                    .served(q, size.input.saturating_add(size.output), cost, passed);
                let usage: &[Usage] = if self.policy.wants_usage() && !gateway {
                    &usage
                } else {
                    &[]
                };
                let answer = Answer {
                    passed,
                    cost,
                    cancelled_cost: 0.0,
                    usage,
                };
                let reaction = self.state[j]
                    .driver
                    .served(now, &mut self.policy, answered, answer);
                if reaction.escalated {
                    self.rec.wasted(cost);
                }
                self.react(now, job, reaction);
            }
            Outcome::Rejected {
                status,
                hint,
                usage,
                served_by,
            } => {
                let q = if gateway {
                    attributed(&served_by).unwrap_or(p)
                } else {
                    p
                };
                let name = self.provider_name(q);
                self.event(|| EventRow {
                    policy: policy_name,
                    t_s: sent_at.as_secs_f64(),
                    provider: name,
                    event: "rejected".into(),
                    status: Some(status),
                    to: None,
                    refused_by: None,
                });
                self.rec.rejection(self.catalog, sent_at, q, status);
                let usage: &[Usage] = if self.policy.wants_usage() && !gateway {
                    &usage
                } else {
                    &[]
                };
                let reaction =
                    self.state[j]
                        .driver
                        .rejected(now, &mut self.policy, copy, status, hint, usage);
                self.after_rejection(now, job, reaction);
            }
            Outcome::Error => {
                self.connection_errors += 1;
                let reaction = self.state[j].driver.rejected(
                    now,
                    &mut self.policy,
                    copy,
                    0,
                    Hint::Unknown,
                    &[],
                );
                self.after_rejection(now, job, reaction);
            }
        }
    }

    /// Carries out the driver's reaction to a rejection; behind a gateway (which has
    /// routed and retried by itself) the job has failed instead: a request goes to the
    /// gateway once.
    fn after_rejection(&mut self, now: SimTime, job: u32, reaction: Reaction) {
        if matches!(self.routing, Routing::Gateway { .. }) {
            self.react(
                now,
                job,
                Reaction {
                    then: Action::Fail(FailReason::GaveUp),
                    ..reaction
                },
            );
        } else {
            self.react(now, job, reaction);
        }
    }

    fn timer_fired(&mut self, now: SimTime, timer: Timer) {
        match timer {
            Timer::Arrive(job) => {
                let next = job as usize + 1;
                if next < self.jobs.len() {
                    self.timer(self.jobs.arrivals[next], Timer::Arrive(next as u32));
                }
                if self.active < self.concurrency {
                    self.active += 1;
                    self.start_request(now, job);
                } else {
                    self.waiting.push_back(job);
                }
            }
            Timer::Ready(job) => {
                let action = self.state[job as usize].driver.ready(now, &mut self.policy);
                self.act(now, job, action);
            }
        }
    }

    /// The clock's reading, never before the last one (the policies take time that
    /// never goes backwards).
    fn now(&mut self) -> SimTime {
        self.last = self.last.max(self.clock.now());
        self.last
    }
}

/// One request to carry over HTTP.
struct Request {
    target: Target,
    model: String,
    size: RequestSize,
}

/// The most input tokens a prompt is written with (4 MiB of text; `ratesim serve`
/// refuses bodies over 1 MiB, about 260,000 tokens, with a 413).
pub const MAX_PROMPT_TOKENS: u64 = 1 << 20;

/// The prompt text of `input` tokens under the server's estimator (four characters a
/// token): `input` four-character words, at most [`MAX_PROMPT_TOKENS`].
pub fn prompt_text(input: u64) -> String {
    "tok ".repeat(input.min(MAX_PROMPT_TOKENS) as usize)
}

/// The JSON body of a request of `size` for `model` in `wire`'s format.
pub fn request_body(wire: Wire, model: &str, size: RequestSize) -> serde_json::Value {
    let text = prompt_text(size.input);
    let max_tokens = size.output.max(1);
    match wire {
        Wire::Anthropic => serde_json::json!({
            "model": model,
            "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": text}],
        }),
        Wire::OpenAi => serde_json::json!({
            "model": model,
            "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": text}],
        }),
    }
}

impl Request {
    async fn carry(
        &self,
        client: &reqwest::Client,
        spec: &crate::provider::ProviderSpec,
        epoch: &Epoch,
        clock: Clock,
    ) -> Outcome {
        let body = request_body(self.target.wire, &self.model, self.size);
        let mut req = client
            .post(&self.target.url)
            .header(OUTPUT_TOKENS_HEADER, self.size.output.to_string())
            .json(&body);
        req = match self.target.wire {
            Wire::Anthropic => req
                .header("x-api-key", "ratesim")
                .header("anthropic-version", "2023-06-01"),
            Wire::OpenAi => req.bearer_auth("ratesim"),
        };
        let Ok(resp) = req.send().await else {
            return Outcome::Error;
        };
        let received = SystemTime::now();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        // The whole body: an answer is in when it has arrived.
        if resp.bytes().await.is_err() {
            return Outcome::Error;
        }
        let now = clock.now();
        let served_by = headers
            .get(PROVIDER_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let usage = parse_usage(self.target.wire, spec, &headers, now, epoch);
        if (200..300).contains(&status) {
            let passed = headers
                .get(PASSED_HEADER)
                .and_then(|v| v.to_str().ok())
                .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"));
            Outcome::Served {
                passed,
                usage,
                served_by,
            }
        } else {
            Outcome::Rejected {
                status,
                hint: parse_retry_after(&headers, epoch, received),
                usage,
                served_by,
            }
        }
    }
}

/// Checks that `routing` can replay policy `policy` of `scenario`: it does not hedge,
/// and every provider it reaches has a target.
pub fn check(scenario: &Scenario, routing: &Routing) -> Result<(), ReplayError> {
    let Routing::Policy { policy, targets } = routing else {
        return Ok(());
    };
    let spec = &scenario.policies[*policy];
    if spec.hedge.is_some() {
        return Err(ReplayError::Hedge(spec.name.clone()));
    }
    for p in spec.reachable() {
        if targets.get(p).is_none_or(Option::is_none) {
            return Err(ReplayError::NoTarget {
                policy: spec.name.clone(),
                provider: scenario.providers[p].name.clone(),
            });
        }
    }
    Ok(())
}

/// Replays `jobs` (replication `replication` of `scenario`'s workload) through
/// `routing`, on a clock `options.scale` times faster than real time started now.
///
/// # Errors
/// [`ReplayError`]: the policy cannot be replayed, or the run missed its deadline.
pub async fn replay(
    scenario: &Scenario,
    catalog: &Catalog,
    routing: &Routing,
    jobs: &Jobs,
    replication: u64,
    client: &reqwest::Client,
    options: &Options,
) -> Result<LiveRun, ReplayError> {
    check(scenario, routing)?;
    let policy_index = match routing {
        Routing::Policy { policy, .. } | Routing::Gateway { policy, .. } => *policy,
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let epoch = Epoch::new(options.scale);
    let clock = Clock {
        start: Instant::now(),
        scale: epoch.scale,
    };
    let mut lp = Loop {
        scenario,
        catalog,
        jobs,
        routing,
        policy_index,
        policy: PolicyState::new(
            &scenario.policies[policy_index],
            scenario.seed,
            replication,
            policy_index as u32,
        ),
        rec: Recorder::new(catalog, scenario.providers.len(), jobs.len()),
        state: vec![
            JobState {
                driver: RequestDriver::new(),
                request: 0,
                in_flight: None,
            };
            jobs.len()
        ],
        timers: BinaryHeap::new(),
        seq: 0,
        waiting: VecDeque::new(),
        parked: Vec::new(),
        active: 0,
        ended: 0,
        concurrency: scenario.workload.concurrency.unwrap_or(u32::MAX),
        client,
        tx,
        epoch,
        clock,
        connection_errors: 0,
        unattributed: 0,
        events: options.events.then(Vec::new),
        last: SimTime::ZERO,
    };
    if !jobs.is_empty() {
        lp.timer(jobs.arrivals[0], Timer::Arrive(0));
    }
    let deadline = Instant::now() + options.deadline;
    while lp.ended < jobs.len() {
        let next = lp.timers.peek().map(|Reverse((t, _, _))| *t);
        let wake = next.map_or(deadline, |t| clock.instant(t).min(deadline));
        tokio::select! {
            reply = rx.recv() => {
                let Some(reply) = reply else { break };
                let now = lp.now();
                lp.reply(now, reply);
            }
            () = tokio::time::sleep_until(wake) => {
                if Instant::now() >= deadline {
                    return Err(ReplayError::Deadline {
                        policy: scenario.policies[policy_index].name.clone(),
                        replication,
                        ended: lp.ended,
                        jobs: jobs.len(),
                        deadline: options.deadline,
                    });
                }
                let now = lp.now();
                while let Some(Reverse((t, _, timer))) = lp.timers.peek().copied() {
                    if t > now {
                        break;
                    }
                    lp.timers.pop();
                    lp.timer_fired(now, timer);
                }
            }
        }
    }
    lp.rec.guard_refusals = lp.policy.guard_refusals;
    lp.rec.fallbacks = lp.policy.fallbacks;
    lp.rec.escalations = lp.policy.escalations;
    lp.rec.cooldown = lp.policy.out_of_rotation();
    lp.rec.hedges = lp.policy.hedges;
    let (connection_errors, unattributed) = (lp.connection_errors, lp.unattributed);
    let events = lp.events.take().unwrap_or_default();
    let (metrics, latencies) = lp.rec.finish(catalog, scenario, policy_index);
    Ok(LiveRun {
        metrics,
        latencies,
        connection_errors,
        unattributed,
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_take_endpoints_or_bases() {
        let t = Target::parse("http://127.0.0.1:8080/claude", Wire::Anthropic).unwrap();
        assert_eq!(t.url, "http://127.0.0.1:8080/claude/v1/messages");
        assert_eq!(t.origin(), "http://127.0.0.1:8080");
        let t = Target::parse(
            "http://127.0.0.1:8080/copilot/v1/chat/completions",
            Wire::Anthropic,
        )
        .unwrap();
        assert_eq!(t.wire, Wire::OpenAi, "the endpoint's path gives its format");
        assert!(Target::parse("ftp://x/", Wire::OpenAi).is_err());
        assert!(Target::parse("not a url", Wire::OpenAi).is_err());
    }

    #[test]
    fn the_prompt_has_four_characters_a_token() {
        assert_eq!(prompt_text(0), "");
        assert_eq!(prompt_text(1_200).chars().count(), 4_800);
        let body = request_body(
            Wire::OpenAi,
            "m",
            RequestSize {
                input: 3,
                output: 0,
            },
        );
        assert_eq!(body["max_tokens"], 1, "max_tokens must be positive");
        assert_eq!(body["messages"][0]["content"], "tok tok tok ");
    }
}
