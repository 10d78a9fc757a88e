//! The summary of a run: every metric of every policy as a mean with its 95% interval.
//! Exporters and charts read only this, so they work the same on a fresh run and on a
//! results folder read back from disk (`summary.json`).

use crate::metrics::Results;
use crate::scenario::Scenario;
use crate::stats::compare::{Comparison, MetricComparison};
use crate::stats::verdict::{Decision, Direction, Requirement, Verdict};
use crate::stats::{estimate_metric, Estimate};

/// One policy's estimates, in the order of [`Summary::metrics`].
#[derive(Clone, Debug, PartialEq)]
pub struct PolicySummary {
    /// Policy name.
    pub name: String,
    /// One estimate per metric.
    pub estimates: Vec<Estimate>,
}

/// Means and intervals of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Scenario description.
    pub description: String,
    /// Seed used.
    pub seed: u64,
    /// Replications run.
    pub replications: u32,
    /// Metric names.
    pub metrics: Vec<String>,
    /// Policies in scenario order.
    pub policies: Vec<PolicySummary>,
    /// Paired differences, ranks and Pareto front of the key metrics, when known (a
    /// summary read from JSON written before they were added has none).
    pub comparison: Option<Comparison>,
    /// The recommendation, when known (likewise).
    pub verdict: Option<Verdict>,
}

impl Summary {
    /// Position of a metric.
    pub fn metric_index(&self, name: &str) -> Option<usize> {
        self.metrics.iter().position(|m| m == name)
    }

    /// The estimate of `metric` for policy number `policy`.
    pub fn get(&self, policy: usize, metric: &str) -> Option<&Estimate> {
        let m = self.metric_index(metric)?;
        self.policies.get(policy)?.estimates.get(m)
    }

    /// Reads the JSON written by the JSON exporter (schema `ratesim.summary/1`).
    pub fn from_json(bytes: &[u8]) -> Result<Summary, String> {
        let doc: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if doc["schema"] != "ratesim.summary/1" {
            return Err("not a ratesim summary (schema ratesim.summary/1)".into());
        }
        let text = |v: &serde_json::Value, what: &str| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("`{what}` is not a string"))
        };
        let metrics = doc["metrics"]
            .as_array()
            .ok_or("`metrics` is not an array")?
            .iter()
            .map(|m| text(m, "metrics[]"))
            .collect::<Result<Vec<_>, _>>()?;
        let num = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
        let estimate = |e: &serde_json::Value| Estimate {
            mean: num(&e["mean"]),
            ci_low: num(&e["ci_low"]),
            ci_high: num(&e["ci_high"]),
            n: e["n"].as_u64().unwrap_or(0),
        };
        let policies = doc["policies"]
            .as_array()
            .ok_or("`policies` is not an array")?
            .iter()
            .map(|p| {
                let estimates = metrics.iter().map(|m| estimate(&p["metrics"][m])).collect();
                Ok(PolicySummary {
                    name: text(&p["name"], "policies[].name")?,
                    estimates,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let comparison = match &doc["comparison"] {
            serde_json::Value::Null => None,
            c => Some(comparison_from_json(c, &policies, &estimate)?),
        };
        let verdict = match &doc["verdict"] {
            serde_json::Value::Null => None,
            v => Some(verdict_from_json(v, policies.len(), &metrics, &estimate)?),
        };
        Ok(Summary {
            scenario: text(&doc["scenario"], "scenario")?,
            description: doc["description"].as_str().unwrap_or_default().to_string(),
            seed: doc["seed"].as_u64().ok_or("`seed` is not a whole number")?,
            replications: doc["replications"]
                .as_u64()
                .ok_or("`replications` is not a whole number")? as u32,
            metrics,
            policies,
            comparison,
            verdict,
        })
    }
}

/// Reads the `verdict` object of the JSON summary (see the JSON exporter).
fn verdict_from_json(
    doc: &serde_json::Value,
    n: usize,
    metrics: &[String],
    estimate: &dyn Fn(&serde_json::Value) -> Estimate,
) -> Result<Verdict, String> {
    let policy = |v: &serde_json::Value, what: &str| -> Result<Option<usize>, String> {
        match v {
            serde_json::Value::Null => Ok(None),
            v => v
                .as_u64()
                .map(|p| p as usize)
                .filter(|&p| p < n)
                .map(Some)
                .ok_or_else(|| {
                    format!("`verdict.{what}` holds {v}, not a policy number below {n}")
                }),
        }
    };
    let known = |m: &str, what: &str| -> Result<String, String> {
        if metrics.iter().any(|x| x == m) {
            Ok(m.to_string())
        } else {
            Err(format!(
                "`verdict.{what}` names `{m}`, not a metric of the summary"
            ))
        }
    };
    let (objective, direction) = match (doc["minimize"].as_str(), doc["maximize"].as_str()) {
        (Some(m), None) => (known(m, "minimize")?, Direction::Minimize),
        (None, Some(m)) => (known(m, "maximize")?, Direction::Maximize),
        _ => return Err("`verdict` needs exactly one of `minimize` and `maximize`".into()),
    };
    let require = doc["require"]
        .as_array()
        .ok_or("`verdict.require` is not an array")?
        .iter()
        .map(|r| {
            let text = r.as_str().ok_or("`verdict.require[]` is not a string")?;
            let r = Requirement::parse(text)?;
            known(&r.metric, "require[]")?;
            Ok(r)
        })
        .collect::<Result<Vec<_>, String>>()?;
    let meets = doc["meets"]
        .as_array()
        .ok_or("`verdict.meets` is not an array")?
        .iter()
        .map(|p| policy(p, "meets[]")?.ok_or_else(|| "`verdict.meets[]` is null".to_string()))
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Verdict {
        decision: Decision {
            objective,
            direction,
            require,
        },
        recommended: meets.first().copied(),
        runner_up: meets.get(1).copied(),
        meets,
        lead: match &doc["lead"] {
            serde_json::Value::Null => None,
            e => Some(estimate(e)),
        },
        closest: policy(&doc["closest"], "closest")?,
        fewer_failures: doc["fewer_failures"].as_bool().unwrap_or(false),
    })
}

/// Reads the `comparison` object of the JSON summary (see the JSON exporter).
fn comparison_from_json(
    doc: &serde_json::Value,
    policies: &[PolicySummary],
    estimate: &dyn Fn(&serde_json::Value) -> Estimate,
) -> Result<Comparison, String> {
    let n = policies.len();
    let array = |v: &serde_json::Value, what: &str| {
        v.as_array()
            .cloned()
            .ok_or_else(|| format!("`{what}` is not an array"))
    };
    let policy_numbers = |v: &serde_json::Value, what: &str| -> Result<Vec<usize>, String> {
        array(v, what)?
            .iter()
            .map(|p| {
                p.as_u64()
                    .map(|p| p as usize)
                    .filter(|&p| p < n)
                    .ok_or_else(|| format!("`{what}` holds {p}, not a policy number below {n}"))
            })
            .collect()
    };
    let names = |v: &serde_json::Value, what: &str| -> Result<Vec<String>, String> {
        array(v, what)?
            .iter()
            .map(|m| {
                m.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("`{what}` holds {m}, not a string"))
            })
            .collect()
    };
    let metrics = array(&doc["metrics"], "comparison.metrics")?
        .iter()
        .map(|m| {
            let metric = m["metric"]
                .as_str()
                .ok_or("`comparison.metrics[].metric` is not a string")?
                .to_string();
            let rows = array(&m["differences"], "comparison.metrics[].differences")?;
            let differences = rows
                .iter()
                .map(|row| {
                    let row = array(row, "comparison.metrics[].differences[]")?;
                    (row.len() == n)
                        .then(|| row.iter().map(estimate).collect())
                        .ok_or(format!("`{metric}` differences are not {n} x {n}"))
                })
                .collect::<Result<Vec<Vec<Estimate>>, String>>()?;
            if differences.len() != n {
                return Err(format!("`{metric}` differences are not {n} x {n}"));
            }
            let ranking = array(&m["ranking"], "comparison.metrics[].ranking")?
                .iter()
                .map(|g| {
                    let g = policy_numbers(g, "comparison.metrics[].ranking[]")?;
                    if g.is_empty() {
                        return Err(format!("`{metric}` has an empty rank"));
                    }
                    Ok(g)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let unranked = policy_numbers(&m["unranked"], "comparison.metrics[].unranked")?;
            Ok(MetricComparison {
                metric,
                differences,
                ranking,
                unranked,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Comparison {
        policies: policies.iter().map(|p| p.name.clone()).collect(),
        metrics,
        pareto_metrics: names(&doc["pareto_metrics"], "comparison.pareto_metrics")?,
        pareto_front: policy_numbers(&doc["pareto_front"], "comparison.pareto_front")?,
    })
}

/// Mean and 95% interval of every metric of every policy of `scenario` in `results`, with the
/// paired comparison of the key metrics ([`Comparison`]).
pub fn summarize(results: &Results, scenario: &Scenario) -> Summary {
    let policies = results
        .policies
        .iter()
        .zip(&results.runs)
        .map(|(name, reps)| PolicySummary {
            name: name.clone(),
            estimates: results
                .catalog
                .names()
                .iter()
                .enumerate()
                .map(|(m, name)| {
                    estimate_metric(name, &reps.iter().map(|r| r[m]).collect::<Vec<_>>())
                })
                .collect(),
        })
        .collect();
    let comparison = Comparison::of(results);
    let verdict = Verdict::new(&scenario.decision, results, &comparison);
    Summary {
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        seed: scenario.seed,
        replications: scenario.replications,
        metrics: results.catalog.names().to_vec(),
        policies,
        comparison: Some(comparison),
        verdict: Some(verdict),
    }
}
