//! The timeline observer: records what each provider's limits held over time in one
//! replication of one policy, and where requests were rejected, fell back or were hedged
//! ([`crate::metrics::timeline`] rows), without changing the run.

use crate::engine::{simulate_observed, Observer};
use crate::metrics::timeline::{EventRow, TimelineRow};
use crate::metrics::Catalog;
use crate::provider::{Admission, Provider};
use crate::scenario::Scenario;
use crate::time::SimTime;

struct TimelineRecorder<'a> {
    scenario: &'a Scenario,
    policy: &'a str,
    reach: Vec<usize>,
    step: SimTime,
    next: SimTime,
    rows: Vec<TimelineRow>,
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

    fn sample(&mut self, t: SimTime, providers: &[Provider]) {
        for &p in &self.reach {
            let spec = &self.scenario.providers[p];
            for (usage, limit) in providers[p].usage(t).zip(&spec.limits) {
                self.rows.push(TimelineRow {
                    policy: self.policy.to_string(),
                    provider: spec.name.clone(),
                    series: limit.label(),
                    capacity: Some(usage.limit),
                    t_s: t.as_secs_f64(),
                    value: usage.used,
                });
            }
            if let Some(c) = spec.concurrency {
                self.rows.push(TimelineRow {
                    policy: self.policy.to_string(),
                    provider: spec.name.clone(),
                    series: "in service".into(),
                    capacity: Some(c.limit as f64),
                    t_s: t.as_secs_f64(),
                    value: providers[p].in_flight() as f64,
                });
                self.rows.push(TimelineRow {
                    policy: self.policy.to_string(),
                    provider: spec.name.clone(),
                    series: "waiting for a slot".into(),
                    capacity: None,
                    t_s: t.as_secs_f64(),
                    value: providers[p].queued() as f64,
                });
            }
        }
    }
}

impl Observer for TimelineRecorder<'_> {
    fn before(&mut self, now: SimTime, providers: &[Provider]) {
        while self.next < now {
            let t = self.next;
            self.sample(t, providers);
            self.next += self.step;
        }
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

/// Records replication `replication` of policy `policy`, whose makespan is
/// `makespan_s` (known from the run): every limit of every provider the policy can reach,
/// sampled at about `points` evenly spaced times over the makespan, and its first
/// [`MAX_EVENTS`] attempts, fallbacks and hedges.
pub fn record(
    scenario: &Scenario,
    policy: usize,
    replication: u64,
    points: u32,
    makespan_s: f64,
) -> (Vec<TimelineRow>, Vec<EventRow>) {
    let catalog = Catalog::new(&scenario.providers);
    let jobs = scenario.workload.generate(scenario.seed, replication);
    let makespan = makespan_s.max(1e-3);
    let step = SimTime::from_secs_f64(makespan / points.max(1) as f64).max(SimTime(1_000));
    let mut rec = TimelineRecorder {
        scenario,
        policy: &scenario.policies[policy].name,
        reach: scenario.policies[policy].reachable(),
        step,
        next: SimTime::ZERO,
        rows: Vec::new(),
        events: Vec::new(),
        truncated: false,
    };
    simulate_observed(scenario, &catalog, policy, &jobs, replication, &mut rec);
    (rec.rows, rec.events)
}
