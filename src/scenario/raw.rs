//! Serde structs mirroring the scenario file. Unknown keys are errors; values are checked
//! and typed in `build`, which reports the key path of any bad one. The tables of kinds
//! with their own settings (rate limits, guards, routes) stay TOML tables here: each
//! kind's file reads and checks its own keys.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::{Table, Value};

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Option<String>,
    pub description: Option<String>,
    pub seed: Option<i64>,
    pub replications: Option<i64>,
    pub monthly_tokens: Option<f64>,
    pub workload: Option<RawWorkload>,
    #[serde(default)]
    pub providers: IndexMap<String, RawProvider>,
    #[serde(default)]
    pub policies: Vec<RawPolicy>,
    pub decision: Option<RawDecision>,
    pub diff: Option<RawDiff>,
}

/// `[diff]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDiff {
    pub threshold: Option<Value>,
    pub fail_on: Option<IndexMap<String, Value>>,
}

/// `[decision]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDecision {
    pub minimize: Option<String>,
    pub maximize: Option<String>,
    pub require: Option<Vec<String>>,
}

/// `[workload]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub kind: String,
    pub jobs: Option<i64>,
    pub concurrency: Option<i64>,
    pub requests_per_job: Option<i64>,
    pub input_tokens: Option<Value>,
    pub output_tokens: Option<Value>,
    pub rate_per_s: Option<f64>,
    pub duration: Option<Value>,
    pub path: Option<String>,
    pub time_scale: Option<f64>,
    /// A trace's column names by field, e.g. `{ start_s = "ts" }`.
    pub columns: Option<Table>,
}

/// `[providers.NAME]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProvider {
    pub description: Option<String>,
    /// Each limit's table, read by its kind (`provider::limiter`, or the concurrency
    /// cap in `build`).
    #[serde(default)]
    pub limits: Vec<Table>,
    /// Requests per minute (a shorthand for a limit: `provider::shorthand`).
    pub rpm: Option<i64>,
    /// Tokens (input + output) per minute.
    pub tpm: Option<i64>,
    /// Input tokens per minute.
    pub itpm: Option<i64>,
    /// Output tokens per minute.
    pub otpm: Option<i64>,
    /// How the shorthands expand: `"token_bucket"` (default) or `"sliding_window"`.
    pub shorthand_kind: Option<String>,
    pub reject_status: Option<i64>,
    pub reject_latency: Option<Value>,
    pub latency: Option<RawLatency>,
    pub price_per_1k_input: Option<f64>,
    pub price_per_1k_output: Option<f64>,
    pub flat_monthly: Option<f64>,
    pub outages: Option<RawOutage>,
    pub online: Option<RawOnline>,
    pub pass_rate: Option<f64>,
    pub local: Option<bool>,
    pub retry_after_resolution: Option<Value>,
}

/// `latency = { ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLatency {
    pub ttft: Option<Value>,
    pub tokens_per_s: Option<Value>,
    pub total: Option<Value>,
}

/// `outages = { ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutage {
    pub up: Option<Value>,
    pub down: Option<Value>,
    pub status: Option<i64>,
}

/// `online = { ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOnline {
    pub offline_every: Option<Value>,
    pub offline_for: Option<Value>,
    pub reset_after: Option<Value>,
    pub status: Option<i64>,
}

/// `[[policies]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub name: Option<String>,
    pub preset: Option<String>,
    pub description: Option<String>,
    /// The route's table, read by its kind (`policy::route`).
    pub route: Option<Table>,
    pub retry: Option<RawRetry>,
    #[serde(default)]
    pub retry_by_provider: IndexMap<String, RawRetry>,
    /// Each guard's table, read by its kind (`policy::guard`).
    pub guards: Option<Vec<Table>>,
    pub quality_gate: Option<RawQualityGate>,
    pub hedge: Option<RawHedge>,
}

/// `hedge = { ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHedge {
    pub after: Option<Value>,
    pub quantile: Option<f64>,
    pub window: Option<i64>,
    pub initial: Option<Value>,
    pub to: Option<Vec<String>>,
}

/// `quality_gate = { escalate_to = [...] }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQualityGate {
    pub escalate_to: Vec<String>,
}

/// `retry = { ... }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    pub preset: Option<String>,
    pub max_attempts: Option<i64>,
    pub backoff: Option<String>,
    pub base: Option<Value>,
    pub cap: Option<Value>,
    pub jitter: Option<String>,
    pub honor_retry_after: Option<bool>,
    pub retry_after_max: Option<Value>,
    pub retry_on: Option<Vec<i64>>,
    pub retry_after_budget: Option<Value>,
}
