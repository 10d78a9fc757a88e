//! Runs every policy of a scenario over its replications, in parallel across
//! replications. Each replication generates its jobs once and runs every policy on them
//! (common random numbers); results are collected in replication order, so they are the
//! same whatever the number of threads.

use rayon::prelude::*;

use crate::compare::Comparison;
use crate::engine::simulate;
use crate::metrics::stats::estimate;
use crate::metrics::Catalog;
use crate::scenario::Scenario;
use crate::summary::{PolicySummary, Summary};

/// Every metric of every policy in every replication.
#[derive(Clone, Debug)]
pub struct Results {
    /// Metric names.
    pub catalog: Catalog,
    /// Policy names, in scenario order.
    pub policies: Vec<String>,
    /// `runs[policy][replication][metric]`.
    pub runs: Vec<Vec<Vec<f64>>>,
    /// With `curves`: `latency_curves[policy][replication]` holds the completed jobs'
    /// latency quantiles at q = 0, 1/[`CURVE_POINTS`], ..., 1 (NaN without a job).
    pub latency_curves: Vec<Vec<Vec<f64>>>,
    /// Events processed over the whole run.
    pub events: u64,
}

/// The error of a failed run setup.
#[derive(Debug, thiserror::Error)]
#[error("cannot start {threads} worker threads: {message}")]
pub struct ThreadError {
    threads: usize,
    message: String,
}

/// Intervals of the latency quantile curves (100: percentiles).
pub const CURVE_POINTS: usize = 100;

fn curve(mut xs: Vec<f64>) -> Vec<f64> {
    xs.sort_by(f64::total_cmp);
    (0..=CURVE_POINTS)
        .map(|i| crate::metrics::stats::quantile_sorted(&xs, i as f64 / CURVE_POINTS as f64))
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

/// Runs `scenario` on `threads` worker threads (0 = one per core).
pub fn run(scenario: &Scenario, threads: usize) -> Result<Results, ThreadError> {
    run_with(scenario, threads, false)
}

/// [`run`], also keeping each replication's latency quantile curve when `curves`.
pub fn run_with(scenario: &Scenario, threads: usize, curves: bool) -> Result<Results, ThreadError> {
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
                let bound = crate::bound::makespan_bound(scenario, &jobs);
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

impl Results {
    /// Mean and 95% interval of every metric of every policy of `scenario`, with the
    /// paired comparison of the key metrics ([`Comparison`]).
    pub fn summary(&self, scenario: &Scenario) -> Summary {
        let policies = self
            .policies
            .iter()
            .zip(&self.runs)
            .map(|(name, reps)| PolicySummary {
                name: name.clone(),
                estimates: (0..self.catalog.names().len())
                    .map(|m| estimate(&reps.iter().map(|r| r[m]).collect::<Vec<_>>()))
                    .collect(),
            })
            .collect();
        Summary {
            scenario: scenario.name.clone(),
            description: scenario.description.clone(),
            seed: scenario.seed,
            replications: scenario.replications,
            metrics: self.catalog.names().to_vec(),
            policies,
            comparison: Some(Comparison::of(self)),
        }
    }

    /// Values of metric `name` for policy `policy`, one per replication.
    pub fn values(&self, policy: usize, name: &str) -> Option<Vec<f64>> {
        let m = self.catalog.index(name)?;
        Some(self.runs.get(policy)?.iter().map(|r| r[m]).collect())
    }
}
