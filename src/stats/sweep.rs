//! A sweep's results as data: a policy's estimate of a metric at each point of a grid of
//! scenario settings.

use crate::stats::summary::Summary;
use crate::stats::Estimate;

/// The result of a sweep: one row per point, policy and metric.
#[derive(Clone, Debug, Default)]
pub struct Sweep {
    /// Swept keys in `--set` order.
    pub keys: Vec<String>,
    /// Metrics tabulated.
    pub metrics: Vec<String>,
    /// Policies in scenario order.
    pub policies: Vec<String>,
    /// Scenario name.
    pub scenario: String,
    /// Rows.
    pub rows: Vec<SweepRow>,
}

/// One point of a sweep: a policy's estimate of a metric at one setting.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRow {
    /// The swept keys' values at this point, in `--set` order.
    pub keys: Vec<f64>,
    /// Policy.
    pub policy: String,
    /// Metric name.
    pub metric: String,
    /// Mean and interval.
    pub estimate: Estimate,
}

/// Tabulates the summary of the point at `keys` into sweep rows.
pub fn rows_of(keys: &[f64], summary: &Summary, metrics: &[String]) -> Vec<SweepRow> {
    let mut rows = Vec::new();
    for (pi, p) in summary.policies.iter().enumerate() {
        for m in metrics {
            if let Some(e) = summary.get(pi, m) {
                rows.push(SweepRow {
                    keys: keys.to_vec(),
                    policy: p.name.clone(),
                    metric: m.clone(),
                    estimate: *e,
                });
            }
        }
    }
    rows
}
