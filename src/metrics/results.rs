//! Every per-replication record of a run: each metric of each policy in each
//! replication, in catalog order (what the runner produces and the statistics read).

use super::timeline::Timeline;
use super::Catalog;

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
    /// When asked for: replication 0's timelines, policy by policy.
    pub timeline: Option<Timeline>,
    /// Events processed over the whole run.
    pub events: u64,
    /// Each replication's jobs' fingerprint ([`crate::workload::Jobs::fingerprint`]).
    pub fingerprints: Vec<u64>,
}

/// Intervals of the latency quantile curves (100: percentiles).
pub const CURVE_POINTS: usize = 100;

impl Results {
    /// Values of metric `name` for policy `policy`, one per replication.
    pub fn values(&self, policy: usize, name: &str) -> Option<Vec<f64>> {
        let m = self.catalog.index(name)?;
        Some(self.runs.get(policy)?.iter().map(|r| r[m]).collect())
    }
}
