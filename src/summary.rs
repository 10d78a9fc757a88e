//! The summary of a run: every metric of every policy as a mean with its 95% interval.
//! Exporters and charts read only this, so they work the same on a fresh run and on a
//! results folder read back from disk (`summary.json`).

use crate::metrics::stats::Estimate;

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
        let policies = doc["policies"]
            .as_array()
            .ok_or("`policies` is not an array")?
            .iter()
            .map(|p| {
                let estimates = metrics
                    .iter()
                    .map(|m| {
                        let e = &p["metrics"][m];
                        Estimate {
                            mean: num(&e["mean"]),
                            ci_low: num(&e["ci_low"]),
                            ci_high: num(&e["ci_high"]),
                            n: e["n"].as_u64().unwrap_or(0),
                        }
                    })
                    .collect();
                Ok(PolicySummary {
                    name: text(&p["name"], "policies[].name")?,
                    estimates,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Summary {
            scenario: text(&doc["scenario"], "scenario")?,
            description: doc["description"].as_str().unwrap_or_default().to_string(),
            seed: doc["seed"].as_u64().ok_or("`seed` is not a whole number")?,
            replications: doc["replications"]
                .as_u64()
                .ok_or("`replications` is not a whole number")? as u32,
            metrics,
            policies,
        })
    }
}
