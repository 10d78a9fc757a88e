//! The timeline observer: records what each provider's limits held over time in one
//! replication of one policy, and where requests were rejected, fell back or were hedged
//! ([`crate::metrics::timeline`] rows), without changing the run.

use crate::engine::Observer;
use crate::metrics::timeline::{EventRow, TimelineRow};
use crate::provider::tape::Tape;
use crate::provider::{Admission, Provider};
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};

/// Records one replication of one policy as it runs: its first [`MAX_EVENTS`] attempts,
/// fallbacks and hedges, and the tape of every provider the policy can reach that has
/// limits or a concurrency cap. [`TimelineRecorder::finish`] then samples the limits
/// over the run's makespan, which is known only once the run has ended.
pub struct TimelineRecorder<'a> {
    scenario: &'a Scenario,
    policy: &'a str,
    reach: Vec<usize>,
    tapes: Vec<Option<Tape>>,
    last: Option<SimTime>,
    events: Vec<EventRow>,
    /// Whether events were dropped past [`MAX_EVENTS`].
    truncated: bool,
}

/// The most request events recorded for one policy (`events.csv`): a run of a million
/// jobs would otherwise write a row per attempt. Past it, one `truncated` row marks the
/// time from which events are no longer recorded; the limiter samples go on.
pub const MAX_EVENTS: usize = 100_000;

impl TimelineRecorder<'_> {
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
                ..row()
            });
        }
    }
}

impl Observer for TimelineRecorder<'_> {
    fn start(&mut self, providers: &mut [Provider]) {
        for &p in &self.reach {
            let spec = &self.scenario.providers[p];
            if !spec.limits.is_empty() || spec.concurrency.is_some() {
                providers[p].record();
            }
        }
    }

    fn end(&mut self, last: Option<SimTime>, providers: &mut [Provider]) {
        self.last = last;
        self.tapes = providers.iter_mut().map(Provider::take_tape).collect();
    }

    fn attempt(&mut self, now: SimTime, provider: usize, admission: &Admission) {
        let (event, status) = match admission {
            Admission::Serve { .. } => ("served", None),
            Admission::Queued => ("queued", None),
            Admission::Reject { status, .. } => ("rejected", Some(*status)),
        };
        self.event(|| EventRow {
            policy: self.policy.to_string(),
            t_s: now.as_secs_f64(),
            provider: self.scenario.providers[provider].name.clone(),
            event: event.into(),
            status,
            to: None,
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
        });
    }
}

impl<'a> TimelineRecorder<'a> {
    /// A recorder for policy `policy` of `scenario`, to pass to
    /// [`crate::engine::simulate_observed`].
    pub fn new(scenario: &'a Scenario, policy: usize) -> Self {
        TimelineRecorder {
            scenario,
            policy: &scenario.policies[policy].name,
            reach: scenario.policies[policy].reachable(),
            tapes: Vec::new(),
            last: None,
            events: Vec::new(),
            truncated: false,
        }
    }

    /// The timeline of the recorded run, whose makespan is `makespan_s`: every limit of
    /// every provider the policy can reach, sampled at about `points` evenly spaced times
    /// over the makespan (and on to the run's last event), and the recorded events.
    /// A sample at `t` shows the provider after the events at or before `t`.
    pub fn finish(self, points: u32, makespan_s: f64) -> (Vec<TimelineRow>, Vec<EventRow>) {
        let step = sample_step(points, makespan_s);
        let mut replays: Vec<_> = self
            .reach
            .iter()
            .map(|&p| {
                let spec = &self.scenario.providers[p];
                let tape = self.tapes.get(p).and_then(Option::as_ref);
                (spec, tape.map(|t| t.replay(spec)))
            })
            .collect();
        let mut rows = Vec::new();
        let Some(last) = self.last else {
            return (rows, self.events);
        };
        let mut t = SimTime::ZERO;
        while t < last {
            for (spec, replay) in &mut replays {
                let Some(replay) = replay else { continue };
                replay.advance_to(t);
                for (usage, limit) in replay.usage(t).zip(&spec.limits) {
                    rows.push(TimelineRow {
                        policy: self.policy.to_string(),
                        provider: spec.name.clone(),
                        series: limit.label(),
                        capacity: Some(usage.limit),
                        t_s: t.as_secs_f64(),
                        value: usage.used,
                    });
                }
                if let Some(c) = spec.concurrency {
                    let slots = replay.slots();
                    rows.push(TimelineRow {
                        policy: self.policy.to_string(),
                        provider: spec.name.clone(),
                        series: "in service".into(),
                        capacity: Some(c.limit as f64),
                        t_s: t.as_secs_f64(),
                        value: slots.in_flight as f64,
                    });
                    rows.push(TimelineRow {
                        policy: self.policy.to_string(),
                        provider: spec.name.clone(),
                        series: "waiting for a slot".into(),
                        capacity: None,
                        t_s: t.as_secs_f64(),
                        value: slots.queued as f64,
                    });
                }
            }
            t += step;
        }
        (rows, self.events)
    }
}

/// The time between samples for about `points` samples over a makespan of
/// `makespan_s` seconds: at least a microsecond.
pub fn sample_step(points: u32, makespan_s: f64) -> SimDuration {
    let makespan = makespan_s.max(1e-3);
    SimDuration::from_secs_f64(makespan / points.max(1) as f64).max(SimDuration::from_nanos(1_000))
}
