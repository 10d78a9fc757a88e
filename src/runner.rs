//! The runner: every policy of a scenario over its replications, in parallel across
//! replications. Each replication generates its jobs once and runs every policy on them
//! (common random numbers); results are collected in replication order, so they are the
//! same whatever the number of threads.

use rayon::prelude::*;

use crate::engine::simulate;
use crate::metrics::{Catalog, Results, CURVE_POINTS};
use crate::scenario::Scenario;

/// The error of a failed run setup.
#[derive(Debug, thiserror::Error)]
#[error("cannot start {threads} worker threads: {message}")]
pub struct ThreadError {
    threads: usize,
    message: String,
}

fn curve(mut xs: Vec<f64>) -> Vec<f64> {
    xs.sort_unstable_by(f64::total_cmp);
    (0..=CURVE_POINTS)
        .map(|i| crate::metrics::quantile::quantile_sorted(&xs, i as f64 / CURVE_POINTS as f64))
        .collect()
}

/// Puts the capacity bound and the makespan's ratio to it (defined only when every job
/// completed: a policy that gives up can finish sooner) into a policy's metrics.
fn fill_bound(catalog: &Catalog, metrics: &mut [f64], bound: f64) {
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

/// Runs every replication of `scenario` on `threads` worker threads (0 = one per core).
pub fn replicate(scenario: &Scenario, threads: usize) -> Result<Results, ThreadError> {
    replicate_with(scenario, threads, false)
}

/// [`replicate`], also keeping each replication's latency quantile curve when `curves`.
pub fn replicate_with(
    scenario: &Scenario,
    threads: usize,
    curves: bool,
) -> Result<Results, ThreadError> {
    let catalog = Catalog::new(&scenario.providers);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| ThreadError {
            threads,
            message: e.to_string(),
        })?;
    type Rep = (Vec<(Vec<f64>, Vec<f64>)>, u64);
    let per_rep: Vec<Rep> = pool.install(|| {
        (0..scenario.replications as u64)
            .into_par_iter()
            .map(|r| {
                let jobs = scenario.workload.generate(scenario.seed, r);
                let bound = crate::metrics::bound::makespan_bound(scenario, &jobs);
                let mut events = 0;
                let metrics = (0..scenario.policies.len())
                    .map(|p| {
                        let mut out = simulate(scenario, &catalog, p, &jobs, r);
                        fill_bound(&catalog, &mut out.metrics, bound);
                        events += out.events;
                        let c = if curves {
                            curve(out.latencies)
                        } else {
                            Vec::new()
                        };
                        (out.metrics, c)
                    })
                    .collect();
                (metrics, events)
            })
            .collect()
    });
    let n = scenario.policies.len();
    let mut runs = vec![Vec::with_capacity(per_rep.len()); n];
    let mut latency_curves = vec![Vec::new(); if curves { n } else { 0 }];
    let mut events = 0;
    for (metrics, e) in per_rep {
        events += e;
        for (p, (m, c)) in metrics.into_iter().enumerate() {
            runs[p].push(m);
            if curves {
                latency_curves[p].push(c);
            }
        }
    }
    Ok(Results {
        catalog,
        policies: scenario.policies.iter().map(|p| p.name.clone()).collect(),
        runs,
        latency_curves,
        events,
    })
}
