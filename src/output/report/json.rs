//! JSON summary. Schema (version 1):
//!
//! ```text
//! { "schema": "ratesim.summary/1", "scenario": NAME, "description": TEXT,
//!   "seed": INT, "replications": INT,
//!   "metrics": [NAME, ...],
//!   "policies": [ { "name": NAME,
//!                   "metrics": { NAME: { "mean": X, "ci_low": X, "ci_high": X, "n": INT } } } ],
//!   "comparison": { "pareto_metrics": [NAME, ...], "pareto_front": [P, ...],
//!                   "metrics": [ { "metric": NAME, "ranking": [[P, ...], ...],
//!                                  "unranked": [P, ...],
//!                                  "differences": [[ESTIMATE, ...], ...] } ] } }
//! ```
//! Undefined values are `null`. `comparison` (added within version 1; absent from older
//! files) is described in [`crate::stats::compare`]: `P` is a policy number (its position in
//! `policies`), `ranking` lists the ranks best first, each with its leader first, and
//! `differences[a][b]` is the paired difference policy `a` minus policy `b`, an ESTIMATE
//! object like a metric's (`mean`, `ci_low`, `ci_high`, `n`).

use serde_json::{json, Map, Value};

use super::Exporter;
use crate::stats::compare::Comparison;
use crate::stats::summary::Summary;
use crate::stats::Estimate;

/// The JSON exporter.
pub struct Json;

fn num(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

fn estimate(e: &Estimate) -> Value {
    json!({"mean": num(e.mean), "ci_low": num(e.ci_low), "ci_high": num(e.ci_high), "n": e.n})
}

fn comparison(c: &Comparison) -> Value {
    let metrics: Vec<Value> = c
        .metrics
        .iter()
        .map(|m| {
            let differences: Vec<Vec<Value>> = m
                .differences
                .iter()
                .map(|row| row.iter().map(estimate).collect())
                .collect();
            json!({
                "metric": m.metric,
                "ranking": m.ranking,
                "unranked": m.unranked,
                "differences": differences,
            })
        })
        .collect();
    json!({
        "pareto_metrics": c.pareto_metrics,
        "pareto_front": c.pareto_front,
        "metrics": metrics,
    })
}

impl Exporter for Json {
    fn export(&self, summary: &Summary) -> Vec<u8> {
        let names = &summary.metrics;
        let policies: Vec<Value> = summary
            .policies
            .iter()
            .map(|p| {
                let mut metrics = Map::new();
                for (name, e) in names.iter().zip(&p.estimates) {
                    metrics.insert(name.clone(), estimate(e));
                }
                json!({"name": p.name, "metrics": metrics})
            })
            .collect();
        let mut doc = json!({
            "schema": "ratesim.summary/1",
            "scenario": summary.scenario,
            "description": summary.description,
            "seed": summary.seed,
            "replications": summary.replications,
            "metrics": names,
            "policies": policies,
        });
        if let Some(c) = &summary.comparison {
            doc["comparison"] = comparison(c);
        }
        let mut out = serde_json::to_vec_pretty(&doc).expect("JSON of plain values");
        out.push(b'\n');
        out
    }
}
