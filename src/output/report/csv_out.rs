//! `summary.csv` (`policy,metric,mean,ci_low,ci_high,n`, one row per policy and metric:
//! the stable format scripts read) and `runs.csv` (one row per replication and policy,
//! metrics as columns).

use super::Exporter;
use crate::metrics::Results;
use crate::output::exact;
use crate::stats::summary::Summary;

/// `summary.csv`.
pub struct SummaryCsv;

impl Exporter for SummaryCsv {
    fn export(&self, summary: &Summary) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["policy", "metric", "mean", "ci_low", "ci_high", "n"])
            .expect("writing to memory");
        for p in &summary.policies {
            for (name, e) in summary.metrics.iter().zip(&p.estimates) {
                w.write_record([
                    p.name.as_str(),
                    name,
                    &exact(e.mean),
                    &exact(e.ci_low),
                    &exact(e.ci_high),
                    &e.n.to_string(),
                ])
                .expect("writing to memory");
            }
        }
        w.into_inner().expect("writing to memory")
    }
}

/// `runs.csv`: every replication's value of every metric.
pub fn runs_csv(results: &Results) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["replication".to_string(), "policy".to_string()];
    header.extend(results.catalog.names().iter().cloned());
    w.write_record(&header).expect("writing to memory");
    let reps = results.runs.first().map_or(0, Vec::len);
    for r in 0..reps {
        for (p, name) in results.policies.iter().enumerate() {
            let mut row = vec![r.to_string(), name.clone()];
            row.extend(results.runs[p][r].iter().map(|&x| exact(x)));
            w.write_record(&row).expect("writing to memory");
        }
    }
    w.into_inner().expect("writing to memory")
}
