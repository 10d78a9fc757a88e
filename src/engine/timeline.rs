//! The timeline observer: records what each provider's limits held over time in one
//! replication of one policy, and where requests were rejected, fell back or were hedged
//! ([`crate::metrics::timeline`] rows), without changing the run.
//!
//! The limits are sampled evenly over the run's makespan, which is known only once the
//! run has ended. So during the run the recorder keeps each provider's tape (every change
//! to its limits and slots, [`crate::provider::tape`]) and samples it afterwards by
//! replaying it; a tape longer than [`MAX_TAPE`] is dropped, and the replication is run
//! again with the grid known ([`record`]), sampling the providers as it goes.

use crate::engine::{simulate_observed, Observer, TimeLimit};
use crate::metrics::timeline::{EventRow, Timeline, TimelineRow};
use crate::metrics::Catalog;
use crate::provider::limiter::Usage;
use crate::provider::tape::{Slots, Tape};
use crate::provider::{Admission, Provider, ProviderSpec, RejectCause};
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};

/// How the limits are sampled.
enum Sampling {
    /// From the tapes, after the run.
    Tape(Vec<Option<Tape>>),
    /// Before each event, at the grid `step` apart (next sample at `next`).
    Live {
        step: SimDuration,
        next: SimTime,
        rows: Vec<TimelineRow>,
    },
}

/// Records one replication of one policy as it runs: its first [`MAX_EVENTS`] attempts,
/// fallbacks and hedges, and what the limits of every provider the policy can reach
/// held over time.
pub struct TimelineRecorder<'a> {
    scenario: &'a Scenario,
    policy: &'a str,
    reach: Vec<usize>,
    sampling: Sampling,
    tape_limit: usize,
    last: Option<SimTime>,
    events: Vec<EventRow>,
    /// Whether events were dropped past [`MAX_EVENTS`].
    truncated: bool,
}

/// The most request events recorded for one policy (`events.csv`): a run of a million
/// jobs would otherwise write a row per attempt. Past it, one `truncated` row marks the
/// time from which events are no longer recorded; the limiter samples go on.
pub const MAX_EVENTS: usize = 50_000;

/// The most changes a provider's tape holds (16 bytes each: 32 MB). A longer run is
/// sampled by running its replication again instead.
pub const MAX_TAPE: usize = 1 << 21;

/// Whether a provider has anything to sample.
fn sampled(spec: &ProviderSpec) -> bool {
    !spec.limits.is_empty() || spec.concurrency.is_some()
}

/// The samples of provider `spec` at `t`: each limit's usage, then its slots.
fn push_samples(
    rows: &mut Vec<TimelineRow>,
    policy: &str,
    spec: &ProviderSpec,
    t: SimTime,
    usage: impl Iterator<Item = Usage>,
    slots: Slots,
) {
    for (usage, limit) in usage.zip(&spec.limits) {
        rows.push(TimelineRow {
            policy: policy.to_string(),
            provider: spec.name.clone(),
            series: limit.label(),
            capacity: Some(usage.limit),
            t_s: t.as_secs_f64(),
            value: usage.used,
        });
    }
    if let Some(c) = spec.concurrency {
        rows.push(TimelineRow {
            policy: policy.to_string(),
            provider: spec.name.clone(),
            series: "in service".into(),
            capacity: Some(c.limit as f64),
            t_s: t.as_secs_f64(),
            value: slots.in_flight as f64,
        });
        rows.push(TimelineRow {
            policy: policy.to_string(),
            provider: spec.name.clone(),
            series: "waiting for a slot".into(),
            capacity: None,
            t_s: t.as_secs_f64(),
            value: slots.queued as f64,
        });
    }
}

impl<'a> TimelineRecorder<'a> {
    /// A recorder for policy `policy` of `scenario`, to pass to
    /// [`crate::engine::simulate_observed`]; [`TimelineRecorder::finish`] samples it.
    pub fn new(scenario: &'a Scenario, policy: usize) -> Self {
        Self::with_tape_limit(scenario, policy, MAX_TAPE)
    }

    /// [`TimelineRecorder::new`] with tapes of at most `limit` changes.
    pub fn with_tape_limit(scenario: &'a Scenario, policy: usize, limit: usize) -> Self {
        TimelineRecorder {
            scenario,
            policy: &scenario.policies[policy].name,
            reach: scenario.policies[policy].reachable(),
            sampling: Sampling::Tape(Vec::new()),
            tape_limit: limit,
            last: None,
            events: Vec::new(),
            truncated: false,
        }
    }

    /// A recorder that samples the providers as the run goes, `step` apart.
    fn live(scenario: &'a Scenario, policy: usize, step: SimDuration) -> Self {
        TimelineRecorder {
            sampling: Sampling::Live {
                step,
                next: SimTime::ZERO,
                rows: Vec::new(),
            },
            ..Self::new(scenario, policy)
        }
    }

    /// The timeline of the recorded run, whose makespan is `makespan_s`: every limit of
    /// every provider the policy can reach, sampled at about `points` evenly spaced
    /// times over the makespan (and on to the run's last event), and the recorded
    /// events. A sample at `t` shows the provider after the events at or before `t`.
    /// `None` when a tape outgrew its limit: [`record`] runs the replication again.
    pub fn finish(self, points: u32, makespan_s: f64) -> Option<Timeline> {
        let step = sample_step(points, makespan_s);
        let rows = match self.sampling {
            Sampling::Live { rows, .. } => rows,
            Sampling::Tape(tapes) => {
                let mut replays = Vec::new();
                for &p in &self.reach {
                    let spec = &self.scenario.providers[p];
                    match tapes.get(p).and_then(Option::as_ref) {
                        Some(tape) if tape.is_full() => return None,
                        Some(tape) => replays.push((spec, tape.replay(spec))),
                        None => {}
                    }
                }
                let mut rows = Vec::new();
                if let Some(last) = self.last {
                    let mut t = SimTime::ZERO;
                    while t < last {
                        for (spec, replay) in &mut replays {
                            replay.advance_to(t);
                            let slots = replay.slots();
                            push_samples(&mut rows, self.policy, spec, t, replay.usage(t), slots);
                        }
                        t += step;
                    }
                }
                rows
            }
        };
        Some(Timeline {
            rows,
            events: self.events,
        })
    }

    fn event(&mut self, row: impl FnOnce() -> EventRow) {
        if self.events.len() < MAX_EVENTS {
            self.events.push(row());
        } else if !self.truncated {
            // One last row marks where the recording stopped.
            self.truncated = true;
            self.events.push(EventRow {
                event: "truncated".into(),
                status: None,
                to: None,
                refused_by: None,
                ..row()
            });
        }
    }
}

impl Observer for TimelineRecorder<'_> {
    fn records(&self, provider: usize) -> Option<usize> {
        let spec = &self.scenario.providers[provider];
        let taped = matches!(self.sampling, Sampling::Tape(_));
        (taped && sampled(spec) && self.reach.contains(&provider)).then_some(self.tape_limit)
    }

    fn before(&mut self, now: SimTime, providers: &[Provider]) {
        let Sampling::Live { step, next, rows } = &mut self.sampling else {
            return;
        };
        while *next < now {
            let t = *next;
            for &p in &self.reach {
                let spec = providers[p].spec();
                if sampled(spec) {
                    let slots = Slots {
                        in_flight: providers[p].in_flight(),
                        queued: providers[p].queued() as u32,
                    };
                    push_samples(rows, self.policy, spec, t, providers[p].usage(t), slots);
                }
            }
            *next += *step;
        }
    }

    fn end(&mut self, last: Option<SimTime>, tapes: Vec<Option<Tape>>) {
        self.last = last;
        if let Sampling::Tape(t) = &mut self.sampling {
            *t = tapes;
        }
    }

    fn attempt(&mut self, now: SimTime, provider: usize, admission: &Admission) {
        let spec = &self.scenario.providers[provider];
        let (event, status, refused_by) = match admission {
            Admission::Serve { .. } => ("served", None, None),
            Admission::Queued => ("queued", None, None),
            Admission::Reject {
                status,
                cause,
                refused,
                ..
            } => {
                let by = match cause {
                    RejectCause::RateLimit => refused
                        .iter()
                        .map(|i| spec.limits[i].label())
                        .collect::<Vec<_>>()
                        .join(" + "),
                    RejectCause::Concurrency => "in service".into(),
                    RejectCause::Outage => "outage".into(),
                    RejectCause::Offline => "offline".into(),
                };
                ("rejected", Some(*status), Some(by))
            }
        };
        self.event(|| EventRow {
            policy: self.policy.to_string(),
            t_s: now.as_secs_f64(),
            provider: spec.name.clone(),
            event: event.into(),
            status,
            to: None,
            refused_by,
        });
    }

    fn fallback(&mut self, now: SimTime, from: usize, to: usize) {
        self.event(|| EventRow {
            policy: self.policy.to_string(),
            t_s: now.as_secs_f64(),
            provider: self.scenario.providers[from].name.clone(),
            event: "fallback".into(),
            status: None,
            to: Some(self.scenario.providers[to].name.clone()),
            refused_by: None,
        });
    }

    fn hedge(&mut self, now: SimTime, from: usize, to: usize) {
        self.event(|| EventRow {
            policy: self.policy.to_string(),
            t_s: now.as_secs_f64(),
            provider: self.scenario.providers[from].name.clone(),
            event: "hedge".into(),
            status: None,
            to: Some(self.scenario.providers[to].name.clone()),
            refused_by: None,
        });
    }
}

/// The time between samples for about `points` samples over a makespan of
/// `makespan_s` seconds: at least a microsecond.
pub fn sample_step(points: u32, makespan_s: f64) -> SimDuration {
    let makespan = makespan_s.max(1e-3);
    SimDuration::from_secs_f64(makespan / points.max(1) as f64).max(SimDuration::from_nanos(1_000))
}

/// Runs replication `replication` of policy `policy` (whose makespan is `makespan_s`,
/// known from an earlier run) again and records its timeline, sampling the providers
/// as it goes: what [`TimelineRecorder::finish`] gives, without tapes.
///
/// # Errors
/// [`TimeLimit`] when the run passes the longest simulated time.
pub fn record(
    scenario: &Scenario,
    policy: usize,
    replication: u64,
    points: u32,
    makespan_s: f64,
) -> Result<Timeline, TimeLimit> {
    let catalog = Catalog::new(&scenario.providers);
    let jobs = scenario.workload.generate(scenario.seed, replication);
    let mut rec = TimelineRecorder::live(scenario, policy, sample_step(points, makespan_s));
    simulate_observed(scenario, &catalog, policy, &jobs, replication, &mut rec)?;
    Ok(rec
        .finish(points, makespan_s)
        .expect("a live recording needs no tape"))
}
