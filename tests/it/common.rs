//! Shared fixtures: scenario builders, the bundled scenarios, running a scenario and
//! reading its metrics, and the `ratesim` command.
//!
//! A scenario is built from blocks that print as TOML, joined in order: the workload
//! first (it carries the top-level `replications`), then providers, then policies:
//!
//! ```ignore
//! let s = build(&[
//!     &batch(20, 10),
//!     &provider("api").limit(fixed_window("1h", 5)),
//!     &policy("p", &single("api")).set("retry", "{ max_attempts = 3 }"),
//! ]);
//! ```

use std::fmt::{self, Display};
use std::path::{Path, PathBuf};

use ratesim::metrics::Results;
use ratesim::runner::replicate;
use ratesim::scenario::{parse_str, Scenario};

/// Parses scenario text (as if from `test.toml` in the crate root).
pub fn scenario(text: &str) -> Scenario {
    parse_str(
        text,
        Path::new("test.toml"),
        Path::new(env!("CARGO_MANIFEST_DIR")),
        "test",
    )
    .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The scenario made of `blocks`, in order.
pub fn build(blocks: &[&dyn Display]) -> Scenario {
    scenario(&text(blocks))
}

/// The TOML text of `blocks`, in order.
pub fn text(blocks: &[&dyn Display]) -> String {
    blocks.iter().map(|b| b.to_string()).collect()
}

/// `text` with the first `from` replaced by `to`; `from` must be there.
pub fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` not in:\n{text}");
    text.replacen(from, to, 1)
}

/// The message of the error that rejects scenario text (read as `t.toml`).
pub fn parse_err(text: &str) -> String {
    parse_str(text, Path::new("t.toml"), Path::new("."), "t")
        .expect_err("should be rejected")
        .to_string()
}

/// Runs a scenario on two threads.
pub fn results(s: &Scenario) -> Results {
    replicate(s, 2).expect("threads")
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

/// Whether every value is `want` (within 1e-9).
fn all(xs: &[f64], want: f64) -> bool {
    xs.iter().all(|&x| (x - want).abs() < 1e-9)
}

/// Asserts that `metric` of `policy` is `want` (within 1e-9) in every replication.
#[track_caller]
pub fn assert_each(s: &Scenario, r: &Results, policy: &str, metric: &str, want: f64) {
    let xs = values(s, r, policy, metric);
    assert!(
        all(&xs, want),
        "{policy} {metric}: {xs:?}, expected {want} in every replication"
    );
}

/// Path of a bundled scenario file, e.g. `ci-300x10.toml`.
pub fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

/// Text of a bundled scenario file.
pub fn bundled_text(name: &str) -> String {
    std::fs::read_to_string(bundled(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every bundled scenario file (`scenarios/*.toml`), by name.
pub fn bundled_scenarios() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(bundled(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no bundled scenarios");
    files
}

/// The `ratesim` binary.
pub fn ratesim() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("ratesim").unwrap()
}

/// Writes `text` to `dir/name`.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// `key = value` lines, values as TOML text.
#[derive(Clone, Debug, Default)]
struct Keys(Vec<(String, String)>);

impl Keys {
    fn set(&mut self, key: &str, value: impl Display) {
        let value = value.to_string();
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(kv) => kv.1 = value,
            None => self.0.push((key.to_string(), value)),
        }
    }
}

impl Display for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, v) in &self.0 {
            writeln!(f, "{k} = {v}")?;
        }
        Ok(())
    }
}

/// A workload block, and the top-level keys printed before it.
#[derive(Clone, Debug)]
pub struct Workload {
    top: Keys,
    keys: Keys,
}

/// A workload of `kind`, 100 input and 10 output tokens per request, in 2 replications.
fn workload(kind: &str, keys: &[(&str, String)]) -> Workload {
    let mut top = Keys::default();
    top.set("replications", 2);
    let mut w = Workload {
        top,
        keys: Keys::default(),
    };
    w.keys.set("kind", format!("\"{kind}\""));
    for (k, v) in keys {
        w.keys.set(k, v);
    }
    w.tokens(100, 10)
}

/// `jobs` jobs through `concurrency` slots, 100 input and 10 output tokens each, in 2
/// replications.
pub fn batch(jobs: u64, concurrency: u32) -> Workload {
    workload(
        "batch",
        &[
            ("jobs", jobs.to_string()),
            ("concurrency", concurrency.to_string()),
        ],
    )
}

/// Open Poisson arrivals at `rate_per_s`, 100 input and 10 output tokens each, in 2
/// replications; give it a `jobs` count or a `duration`.
pub fn poisson(rate_per_s: f64) -> Workload {
    workload("poisson", &[("rate_per_s", format!("{rate_per_s:?}"))])
}

impl Workload {
    /// Sets the number of replications.
    pub fn replications(mut self, n: u32) -> Self {
        self.top.set("replications", n);
        self
    }

    /// Sets the input and output tokens per request (numbers or distribution tables).
    pub fn tokens(mut self, input: impl Display, output: impl Display) -> Self {
        self.keys.set("input_tokens", input);
        self.keys.set("output_tokens", output);
        self
    }

    /// Sets (or adds) a workload key, its value as TOML text.
    pub fn set(mut self, key: &str, value: impl Display) -> Self {
        self.keys.set(key, value);
        self
    }
}

impl Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[workload]\n{}", self.top, self.keys)
    }
}

/// A provider block.
#[derive(Clone, Debug)]
pub struct ProviderBlock {
    name: String,
    limits: Vec<String>,
    keys: Keys,
}

/// A provider that serves every request in 1 s, with no limits.
pub fn provider(name: &str) -> ProviderBlock {
    let mut keys = Keys::default();
    keys.set("latency", "{ total = \"1s\" }");
    ProviderBlock {
        name: name.to_string(),
        limits: Vec::new(),
        keys,
    }
}

impl ProviderBlock {
    /// Serves every request in `total` (a duration such as `"2s"`).
    pub fn total(self, total: &str) -> Self {
        self.set("latency", format!("{{ total = \"{total}\" }}"))
    }

    /// Adds a limit (an inline table, see [`sliding_window`] and [`fixed_window`]).
    pub fn limit(mut self, limit: impl Display) -> Self {
        self.limits.push(limit.to_string());
        self
    }

    /// Sets (or adds) a provider key, its value as TOML text.
    pub fn set(mut self, key: &str, value: impl Display) -> Self {
        self.keys.set(key, value);
        self
    }

    /// Rejects with `status` after `latency`.
    pub fn rejects(self, status: u16, latency: &str) -> Self {
        self.set("reject_status", status)
            .set("reject_latency", format!("\"{latency}\""))
    }

    /// Charges `usd` per 1k input and per 1k output tokens.
    pub fn price(self, usd: f64) -> Self {
        self.set("price_per_1k_input", format!("{usd:?}"))
            .set("price_per_1k_output", format!("{usd:?}"))
    }
}

impl Display for ProviderBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "[providers.{}]", self.name)?;
        if !self.limits.is_empty() {
            writeln!(f, "limits = [{}]", self.limits.join(", "))?;
        }
        write!(f, "{}", self.keys)
    }
}

/// A sliding-window limit of `limit` `unit`s (`"requests"` or `"tokens"`) per `window`.
pub fn sliding_window(window: &str, limit: u64, unit: &str) -> String {
    format!(
        r#"{{ kind = "sliding_window", window = "{window}", limit = {limit}, unit = "{unit}" }}"#
    )
}

/// A fixed-window limit of `limit` requests per `window`.
pub fn fixed_window(window: &str, limit: u64) -> String {
    format!(
        r#"{{ kind = "fixed_window", window = "{window}", limit = {limit}, unit = "requests" }}"#
    )
}

/// A policy block.
#[derive(Clone, Debug)]
pub struct PolicyBlock {
    keys: Keys,
}

/// A policy named `name` taking `route` (an inline table, see [`single`] and [`chain`]).
pub fn policy(name: &str, route: &str) -> PolicyBlock {
    let mut keys = Keys::default();
    keys.set("name", format!("\"{name}\""));
    keys.set("route", route);
    PolicyBlock { keys }
}

impl PolicyBlock {
    /// Sets (or adds) a policy key, its value as TOML text.
    pub fn set(mut self, key: &str, value: impl Display) -> Self {
        self.keys.set(key, value);
        self
    }
}

impl Display for PolicyBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[[policies]]\n{}", self.keys)
    }
}

/// Every request to `provider`.
pub fn single(provider: &str) -> String {
    format!(r#"{{ kind = "single", provider = "{provider}" }}"#)
}

/// A failover chain through `providers`, in order.
pub fn chain(providers: &[&str]) -> String {
    format!(r#"{{ kind = "chain", providers = {} }}"#, list(providers))
}

/// A TOML array of strings.
pub fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

/// The smallest scenario: 5 jobs at once (10 tokens each) to a 1 s provider `api`
/// without limits, one replication, one policy `p`.
pub fn minimal() -> String {
    text(&[
        &batch(5, 5).replications(1).tokens(10, 10),
        &provider("api"),
        &policy("p", &single("api")),
    ])
}

/// Two providers: `a` admits 2 requests per sliding minute, `b` has no limit; 50 jobs of
/// 10 tokens through 10 slots, in 3 replications. Policies follow.
pub fn two_providers() -> String {
    text(&[
        &batch(50, 10).replications(3).tokens(10, 10),
        &provider("a").limit(sliding_window("60s", 2, "requests")),
        &provider("b"),
    ])
}
