//! What the charts are drawn from, and how it is read back from a results folder, so
//! `ratesim plot DIR` draws the same charts as `ratesim run --out DIR`.

use std::path::Path;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::metrics::timeline::{EventRow, TimelineRow};
use crate::metrics::{Results, CURVE_POINTS};
use crate::stats::summary::Summary;

/// One point of a policy's job-latency distribution: the `quantile` of job latency,
/// averaged over replications.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CdfRow {
    /// Policy.
    pub policy: String,
    /// Quantile, 0 to 1.
    pub quantile: f64,
    /// Job latency at that quantile, seconds (mean over replications).
    pub latency_s: f64,
}

/// The latency distribution of every policy: each quantile's mean over the replications
/// in which some job completed (quantile averaging keeps the shape of one replication).
pub fn latency_cdf_rows(results: &Results) -> Vec<CdfRow> {
    let mut rows = Vec::new();
    for (name, reps) in results.policies.iter().zip(&results.latency_curves) {
        for i in 0..=CURVE_POINTS {
            let vals: Vec<f64> = reps
                .iter()
                .map(|c| c[i])
                .filter(|x| x.is_finite())
                .collect();
            if vals.is_empty() {
                continue;
            }
            rows.push(CdfRow {
                policy: name.clone(),
                quantile: i as f64 / CURVE_POINTS as f64,
                latency_s: vals.iter().sum::<f64>() / vals.len() as f64,
            });
        }
    }
    rows
}

/// Everything the charts of one run need.
#[derive(Clone, Debug, Default)]
pub struct ChartData<'a> {
    /// Means and intervals.
    pub summary: Option<Summary>,
    /// Latency quantiles.
    pub cdf: Vec<CdfRow>,
    /// Limiter timelines of one replication (borrowed from a run's results, or read).
    pub timeline: Cow<'a, [TimelineRow]>,
    /// Attempts and fallbacks of that replication.
    pub events: Cow<'a, [EventRow]>,
}

/// Reads rows of a CSV file written by ratesim; a missing file is no rows.
pub fn read_rows<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, String> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut reader =
        csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    reader
        .deserialize()
        .map(|r| r.map_err(|e| format!("{}: {e}", path.display())))
        .collect()
}

/// Writes rows as CSV bytes, under their header (the header alone for no rows, so an
/// empty table still says what it would hold).
pub fn write_rows<T: Serialize + Default>(rows: &[T]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).expect("writing to memory");
    }
    if rows.is_empty() {
        w.serialize(T::default()).expect("writing to memory");
        let bytes = w.into_inner().expect("writing to memory");
        let header = bytes.split_inclusive(|&b| b == b'\n').next().unwrap_or(&[]);
        return header.to_vec();
    }
    w.into_inner().expect("writing to memory")
}

/// The metrics a run's charts read for every policy.
pub const CHART_METRICS: &[&str] = &["rejection_probability", "monthly_bill_usd", "makespan_s"];

impl ChartData<'static> {
    /// Reads `summary.json`, `latency_cdf.csv`, `timeline.csv` and `events.csv` from a
    /// results folder.
    pub fn read(dir: &Path) -> Result<ChartData<'static>, String> {
        let summary_path = dir.join("summary.json");
        let bytes = std::fs::read(&summary_path).map_err(|e| {
            format!(
                "{}: {e}; plot reads folders written by `ratesim run --out DIR` or `ratesim sweep`",
                summary_path.display()
            )
        })?;
        let summary =
            Summary::from_json(&bytes).map_err(|e| format!("{}: {e}", summary_path.display()))?;
        for p in 0..summary.policies.len() {
            for m in CHART_METRICS {
                if summary.get(p, m).is_none() {
                    return Err(format!(
                        "{}: policy `{}` has no `{m}`; the charts need {} for every policy",
                        summary_path.display(),
                        summary.policies[p].name,
                        CHART_METRICS.join(", ")
                    ));
                }
            }
        }
        Ok(ChartData {
            summary: Some(summary),
            cdf: read_rows(&dir.join("latency_cdf.csv"))?,
            timeline: Cow::Owned(read_rows(&dir.join("timeline.csv"))?),
            events: Cow::Owned(read_rows(&dir.join("events.csv"))?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_rows_still_write_their_header() {
        let row = CdfRow {
            policy: "p".into(),
            quantile: 0.5,
            latency_s: 2.0,
        };
        assert_eq!(
            write_rows(&[row]),
            b"policy,quantile,latency_s\np,0.5,2.0\n"
        );
        assert_eq!(write_rows::<CdfRow>(&[]), b"policy,quantile,latency_s\n");
        let events = String::from_utf8(write_rows::<EventRow>(&[])).unwrap();
        assert_eq!(events, "policy,t_s,provider,event,status,to,refused_by\n");
        let timeline = String::from_utf8(write_rows::<TimelineRow>(&[])).unwrap();
        assert_eq!(timeline.lines().count(), 1);
        assert!(
            timeline.starts_with("policy,provider,series,"),
            "{timeline}"
        );
    }
}
