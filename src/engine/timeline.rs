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
use crate::policy::guard::Gauge;
use crate::policy::PolicyState;
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
    /// Whether the policy has guards to record.
    has_guards: bool,
    reach: Vec<usize>,
    sampling: Sampling,
    tape_limit: usize,
    last: Option<SimTime>,
    events: Vec<EventRow>,
    /// Whether events were dropped past [`MAX_EVENTS`].
    truncated: bool,
    /// The guards' readings, each a series of changes.
    gauges: Vec<GaugeSeries>,

    /// Scratch space for the policy's readings and their owners.
    readings: Vec<Gauge>,
    owners: Vec<(usize, &'static str, usize)>,
}

/// One reading of one guard over a run: its value from each change on.
struct GaugeSeries {
    guard: usize,
    kind: &'static str,
    gauge: Gauge,
    /// (time, value) at every change, in time order, at least `gap` apart (a change
    /// sooner replaces the last point's value).
    points: Vec<(SimTime, f64)>,
    gap: SimDuration,
}

/// Changes a guard's series keeps before it thins them: every other point goes and the
/// gap between points doubles, so a series holds between half this and this many points
/// however long the run (the timeline samples a few hundred times).
const GAUGE_POINTS: usize = 4096;

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
            has_guards: !scenario.policies[policy].guards.is_empty(),
            reach: scenario.policies[policy].reachable(),
            sampling: Sampling::Tape(Vec::new()),
            tape_limit: limit,
            last: None,
            events: Vec::new(),
            truncated: false,
            gauges: Vec::new(),
            readings: Vec::new(),
            owners: Vec::new(),
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
        let mut rows = match self.sampling {
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
        // The guards' readings on the same grid: each as of its last point at or before
        // the sample.
        if let Some(end) = self.last {
            for s in &self.gauges {
                let provider = s.gauge.provider.map_or("client".to_string(), |p| {
                    self.scenario.providers[p].name.clone()
                });
                // Two guards of one kind are told apart by their place in the list.
                let twin = self
                    .gauges
                    .iter()
                    .any(|o| o.kind == s.kind && o.guard != s.guard);
                let kind = if twin {
                    format!("{} #{}", s.kind, s.guard + 1)
                } else {
                    s.kind.to_string()
                };
                let series = match (s.kind, s.gauge.part, s.gauge.provider) {
                    ("rotation", _, _) => s.gauge.name.to_string(),
                    (_, Some(i), Some(p)) => format!(
                        "{kind} guard: {} {}",
                        s.gauge.name,
                        self.scenario.providers[p].limits[i].label()
                    ),
                    _ => format!("{kind} guard: {}", s.gauge.name),
                };
                let mut k = 0;
                let mut t = SimTime::ZERO;
                while t < end {
                    while k + 1 < s.points.len() && s.points[k + 1].0 <= t {
                        k += 1;
                    }
                    if let Some(&(_, value)) = s.points.get(k).filter(|p| p.0 <= t) {
                        rows.push(TimelineRow {
                            policy: self.policy.to_string(),
                            provider: provider.clone(),
                            series: series.clone(),
                            capacity: s.gauge.limit,
                            t_s: t.as_secs_f64(),
                            value,
                        });
                    }
                    t += step;
                }
            }
        }
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
    fn wants_guards(&self) -> bool {
        self.has_guards
    }

    fn guards(&mut self, now: SimTime, policy: &PolicyState) {
        self.readings.clear();
        self.owners.clear();
        policy.gauges(now, &mut self.readings, &mut self.owners);
        let owner = self
            .owners
            .iter()
            .flat_map(|&(guard, kind, count)| std::iter::repeat_n((guard, kind), count));
        for (n, ((guard, kind), &g)) in owner.zip(&self.readings).enumerate() {
            let same = |s: &GaugeSeries| {
                (s.guard, s.gauge.name, s.gauge.provider, s.gauge.part)
                    == (guard, g.name, g.provider, g.part)
            };
            // The readings come in the same order every time: look at the same place
            // first.
            let at = match self.gauges.get(n) {
                Some(s) if same(s) => n,
                _ => match self.gauges.iter().position(same) {
                    Some(i) => i,
                    None => {
                        self.gauges.push(GaugeSeries {
                            guard,
                            kind,
                            gauge: g,
                            points: Vec::new(),
                            gap: SimDuration::ZERO,
                        });
                        self.gauges.len() - 1
                    }
                },
            };
            let s = &mut self.gauges[at];
            let gap = s.gap;
            match s.points.last_mut() {
                Some(last) if last.1 == g.value => {}
                Some(last) if now.saturating_since(last.0) <= gap => last.1 = g.value,
                _ => {
                    s.points.push((now, g.value));
                    if s.points.len() >= GAUGE_POINTS {
                        // Keep every other point (the later of each pair), twice as far
                        // apart from now on.
                        // The first point stays: it starts the series.
                        let mut kept = vec![s.points[0]];
                        kept.extend(s.points[1..].chunks(2).map(|c| c[c.len() - 1]));
                        s.points = kept;
                        let span = s.points[s.points.len() - 1]
                            .0
                            .saturating_since(s.points[0].0)
                            .as_nanos();
                        let spread = SimDuration::from_nanos(span / GAUGE_POINTS as u64);
                        s.gap = (s.gap + s.gap).max(spread).max(SimDuration::from_nanos(1));
                    }
                }
            }
        }
    }

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
        let (event, status) = match admission {
            Admission::Serve { .. } => ("served", None),
            Admission::Queued => ("queued", None),
            Admission::Reject { status, .. } => ("rejected", Some(*status)),
        };
        let policy = self.policy;
        // Made only while events are still recorded: a label is text to format.
        self.event(|| EventRow {
            policy: policy.to_string(),
            t_s: now.as_secs_f64(),
            provider: spec.name.clone(),
            event: event.into(),
            status,
            to: None,
            refused_by: match admission {
                Admission::Reject { cause, refused, .. } => Some(match cause {
                    RejectCause::RateLimit => refused
                        .iter()
                        .map(|i| spec.limits[i].label())
                        .collect::<Vec<_>>()
                        .join(" + "),
                    RejectCause::Concurrency => "in service".into(),
                    RejectCause::Outage => "outage".into(),
                    RejectCause::Offline => "offline".into(),
                }),
                _ => None,
            },
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
