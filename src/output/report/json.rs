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
use crate::stats::verdict::{Direction, Verdict};
use crate::stats::Estimate;

/// The JSON exporter.
pub struct Json;

/// A number, `null` when undefined.
pub(crate) fn num(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

/// An estimate as the summary writes one: `mean`, `ci_low`, `ci_high`, `n`.
pub(crate) fn estimate(e: &Estimate) -> Value {
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

fn verdict(v: &Verdict) -> Value {
    let mut doc = Map::new();
    let key = match v.decision.direction {
        Direction::Minimize => "minimize",
        Direction::Maximize => "maximize",
    };
    doc.insert(key.into(), json!(v.decision.objective));
    let require: Vec<String> = v.decision.require.iter().map(|r| r.to_string()).collect();
    doc.insert("require".into(), json!(require));
    doc.insert("recommended".into(), json!(v.recommended));
    doc.insert("runner_up".into(), json!(v.runner_up));
    doc.insert("ahead".into(), json!(v.ahead()));
    doc.insert("fewer_failures".into(), json!(v.fewer_failures));
    doc.insert("lead".into(), v.lead.as_ref().map_or(Value::Null, estimate));
    doc.insert("closest".into(), json!(v.closest));
    doc.insert("meets".into(), json!(v.meets));
    Value::Object(doc)
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
        if let Some(v) = &summary.verdict {
            doc["verdict"] = verdict(v);
        }
        let mut out = serde_json::to_vec_pretty(&doc).expect("JSON of plain values");
        out.push(b'\n');
        out
    }
}
