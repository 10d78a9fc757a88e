//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::Path;

use ratesim::run::{run, Results};
use ratesim::scenario::{parse_str, Scenario};

/// Parses scenario text (as if from `test.toml` in the crate root).
pub fn scenario(text: &str) -> Scenario {
    parse_str(
        text,
        Path::new("test.toml"),
        Path::new(env!("CARGO_MANIFEST_DIR")),
        "test",
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Runs a scenario on two threads.
pub fn results(s: &Scenario) -> Results {
    run(s, 2).expect("threads")
}

/// Per-replication values of `metric` for the policy named `policy`.
pub fn values(s: &Scenario, r: &Results, policy: &str, metric: &str) -> Vec<f64> {
    let p = s
        .policies
        .iter()
        .position(|p| p.name == policy)
        .unwrap_or_else(|| panic!("no policy {policy}"));
    r.values(p, metric)
        .unwrap_or_else(|| panic!("no metric {metric}"))
}

/// Mean of the finite values.
pub fn mean(xs: &[f64]) -> f64 {
    let v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    v.iter().sum::<f64>() / v.len() as f64
}
