//! The runner: every policy of a scenario over its replications, in parallel across
//! replications. Each replication generates its jobs once and runs every policy on them
//! (common random numbers); results are collected in replication order, so they are the
//! same whatever the number of threads.

use rayon::prelude::*;

use crate::engine::timeline::{record, TimelineRecorder};
use crate::engine::{simulate, simulate_observed, TimeLimit};
use crate::metrics::timeline::Timeline;
use crate::metrics::{Catalog, Results, CURVE_POINTS};
use crate::scenario::Scenario;

/// The error of a failed run setup.
#[derive(Debug, thiserror::Error)]
#[error("cannot start {threads} worker threads: {message}")]
pub struct ThreadError {
    threads: usize,
    message: String,
}

/// Why a run produced no results.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The worker threads could not be started.
    #[error(transparent)]
    Threads(#[from] ThreadError),
    /// A replication's simulated time would pass the longest a run may simulate (the
    /// lowest such replication, then the first such policy, whatever the threads).
    #[error(transparent)]
    TimeLimit(#[from] TimeLimit),
}

/// A replication's latency quantile curve ([`Results::latency_curves`]) from its
/// completed jobs' latencies.
pub fn curve(mut xs: Vec<f64>) -> Vec<f64> {
    xs.sort_unstable_by(f64::total_cmp);
    (0..=CURVE_POINTS)
        .map(|i| crate::metrics::quantile::quantile_sorted(&xs, i as f64 / CURVE_POINTS as f64))
        .collect()
}

/// Puts the capacity bound and the makespan's ratio to it (defined only when every job
/// completed: a policy that gives up can finish sooner) into a policy's metrics.
pub fn fill_bound(catalog: &Catalog, metrics: &mut [f64], bound: f64) {
    let at = |name: &str| catalog.index(name).expect("catalog metric");
    let makespan = metrics[at("makespan_s")];
    let failed = metrics[at("jobs_failed")];
    metrics[at("makespan_bound_s")] = bound;
    metrics[at("makespan_over_bound")] = if failed == 0.0 && bound > 0.0 {
        makespan / bound
    } else {
        f64::NAN
    };
}

/// What a run keeps besides each replication's metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Keep {
    /// Each replication's latency quantile curve ([`Results::latency_curves`]).
    pub curves: bool,
    /// Replication 0's timeline of each policy, its limits sampled at about this many
    /// evenly spaced times over its makespan ([`Results::timeline`]).
    pub timeline_points: Option<u32>,
}

/// Runs every replication of `scenario` on `threads` worker threads (0 = one per core).
///
/// # Errors
/// [`RunError`]: the threads cannot start, or a replication passes the longest
/// simulated time ([`crate::time::MAX_SIM_TIME`]).
pub fn replicate(scenario: &Scenario, threads: usize) -> Result<Results, RunError> {
    replicate_with(scenario, threads, Keep::default())
}

/// [`replicate`], also keeping what `keep` asks for. Replication 0's timelines are
/// recorded during the run itself (the recorder cannot change it), not by running it
/// again.
pub fn replicate_with(
    scenario: &Scenario,
    threads: usize,
    keep: Keep,
) -> Result<Results, RunError> {
    let curves = keep.curves;
    let catalog = Catalog::new(&scenario.providers);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| ThreadError {
            threads,
            message: e.to_string(),
        })?;
    let makespan = catalog.index("makespan_s").expect("a catalog metric");
    type Rep = (Vec<(Vec<f64>, Vec<f64>, Option<Timeline>)>, u64, u64);
    let per_rep: Vec<Result<Rep, TimeLimit>> = pool.install(|| {
        (0..scenario.replications as u64)
            .into_par_iter()
            .map(|r| {
                let jobs = scenario.workload.generate(scenario.seed, r);
                // Each policy's bound is over the providers it can reach: computed once
                // per set of providers.
                let mut bounds: Vec<(Vec<usize>, f64)> = Vec::new();
                let mut events = 0;
                let metrics = (0..scenario.policies.len())
                    .map(|p| {
                        let (mut out, timeline) = match keep.timeline_points {
                            Some(points) if r == 0 => {
                                let mut rec = TimelineRecorder::new(scenario, p);
                                let out =
                                    simulate_observed(scenario, &catalog, p, &jobs, r, &mut rec)?;
                                let made = out.metrics[makespan];
                                // A run too long for its tapes is sampled by running it
                                // again, now that its makespan is known.
                                let timeline = match rec.finish(points, made) {
                                    Some(t) => t,
                                    None => record(scenario, p, r, points, made)?,
                                };
                                (out, Some(timeline))
                            }
                            _ => (simulate(scenario, &catalog, p, &jobs, r)?, None),
                        };
                        let mut reach = scenario.policies[p].reachable();
                        reach.sort_unstable();
                        let bound = match bounds.iter().find(|(set, _)| *set == reach) {
                            Some(&(_, b)) => b,
                            None => {
                                let b = crate::metrics::bound::policy_bound(scenario, p, &jobs);
                                bounds.push((reach, b));
                                b
                            }
                        };
                        fill_bound(&catalog, &mut out.metrics, bound);
                        events += out.events;
                        let c = if curves {
                            curve(out.latencies)
                        } else {
                            Vec::new()
                        };
                        Ok((out.metrics, c, timeline))
                    })
                    .collect::<Result<_, TimeLimit>>()?;
                Ok((metrics, events, jobs.fingerprint()))
            })
            .collect()
    });
    // The first failed replication in order, so the error is the same for any threads.
    let per_rep = per_rep
        .into_iter()
        .collect::<Result<Vec<Rep>, TimeLimit>>()?;
    let n = scenario.policies.len();
    let mut runs = vec![Vec::with_capacity(per_rep.len()); n];
    let mut latency_curves = vec![Vec::new(); if curves { n } else { 0 }];
    let mut timeline = keep.timeline_points.map(|_| Timeline::default());
    let mut events = 0;
    let mut fingerprints = Vec::with_capacity(per_rep.len());
    for (metrics, e, fingerprint) in per_rep {
        events += e;
        fingerprints.push(fingerprint);
        for (p, (m, c, t)) in metrics.into_iter().enumerate() {
            runs[p].push(m);
            if curves {
                latency_curves[p].push(c);
            }
            if let (Some(all), Some(t)) = (&mut timeline, t) {
                all.rows.extend(t.rows);
                all.events.extend(t.events);
            }
        }
    }
    Ok(Results {
        catalog,
        policies: scenario.policies.iter().map(|p| p.name.clone()).collect(),
        runs,
        latency_curves,
        timeline,
        events,
        fingerprints,
    })
}
