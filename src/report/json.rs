//! JSON summary. Schema (version 1):
//!
//! ```text
//! { "schema": "ratesim.summary/1", "scenario": NAME, "description": TEXT,
//!   "seed": INT, "replications": INT,
//!   "metrics": [NAME, ...],
//!   "policies": [ { "name": NAME,
//!                   "metrics": { NAME: { "mean": X, "ci_low": X, "ci_high": X, "n": INT } } } ] }
//! ```
//! Undefined values are `null`.

use serde_json::{json, Map, Value};

use super::Exporter;
use crate::summary::Summary;

/// The JSON exporter.
pub struct Json;

fn num(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
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
                    metrics.insert(
                        name.clone(),
                        json!({"mean": num(e.mean), "ci_low": num(e.ci_low), "ci_high": num(e.ci_high), "n": e.n}),
                    );
                }
                json!({"name": p.name, "metrics": metrics})
            })
            .collect();
        let doc = json!({
            "schema": "ratesim.summary/1",
            "scenario": summary.scenario,
            "description": summary.description,
            "seed": summary.seed,
            "replications": summary.replications,
            "metrics": names,
            "policies": policies,
        });
        let mut out = serde_json::to_vec_pretty(&doc).expect("JSON of plain values");
        out.push(b'\n');
        out
    }
}
