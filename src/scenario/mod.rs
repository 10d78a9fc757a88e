//! Scenario files: TOML parsed into raw serde structs ([`raw`]), then checked and typed
//! into a [`Scenario`] that the engine runs. Every error names the file, the line and
//! the key path, and says what would be valid.

mod build;
mod decision;
pub mod inspect;
mod locate;
pub mod raw;
pub mod resolved;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::keys::Invalid;
pub use crate::keys::{KeyPath, Seg};
use crate::policy::PolicySpec;
use crate::provider::ProviderSpec;
use crate::workload::WorkloadSpec;
pub use decision::{Decision, Direction, Op, Requirement, REQUIREMENT_HELP};

/// Seed used when a scenario gives none.
pub const DEFAULT_SEED: u64 = 20_250_815;
/// Replications used when a scenario gives none.
pub const DEFAULT_REPLICATIONS: u32 = 100;

/// A checked scenario: everything the engine needs, nothing from TOML.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// Short name.
    pub name: String,
    /// What the scenario is about.
    pub description: String,
    /// Root of every random stream.
    pub seed: u64,
    /// Independent replications.
    pub replications: u32,
    /// Monthly token volume for the bill projection.
    pub monthly_tokens: Option<f64>,
    /// The jobs.
    pub workload: WorkloadSpec,
    /// Providers, in file order.
    pub providers: Vec<ProviderSpec>,
    /// Policies, in file order.
    pub policies: Vec<PolicySpec>,
    /// What the recommendation optimises (`[decision]`).
    pub decision: Decision,
    /// How `ratesim diff` judges a change of this scenario's runs (`[diff]`).
    pub diff: DiffRules,
}

/// `[diff]`: the noise thresholds `ratesim diff` applies to runs of this scenario (its
/// `--fail-on` flags override them metric by metric).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiffRules {
    /// The threshold of every metric `fail_on` does not name (default 1% of the base).
    pub threshold: Threshold,
    /// Thresholds by metric, in file order.
    pub fail_on: Vec<(String, Threshold)>,
}

/// A noise threshold: changes within it are never a regression.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Threshold {
    /// A share of the base mean's magnitude (0.01: 1%).
    Relative(f64),
    /// An amount in the metric's unit.
    Absolute(f64),
}

impl Default for Threshold {
    fn default() -> Self {
        Threshold::Relative(0.01)
    }
}

impl Threshold {
    /// Reads `+2%`, `2%`, `+5` or `5` (non-negative, finite).
    pub fn parse(text: &str) -> Result<Threshold, String> {
        let t = text.trim();
        let t = t.strip_prefix('+').unwrap_or(t);
        let bad = || {
            format!("`{text}` is not a threshold; expected a relative one like +2% or an absolute one like +5")
        };
        let (number, relative) = match t.strip_suffix('%') {
            Some(n) => (n, true),
            None => (t, false),
        };
        let x: f64 = number.trim().parse().map_err(|_| bad())?;
        if !x.is_finite() || x < 0.0 {
            return Err(bad());
        }
        Ok(if relative {
            Threshold::Relative(x / 100.0)
        } else {
            Threshold::Absolute(x)
        })
    }

    /// Reads a TOML value: a string [`Threshold::parse`] reads, or a number (absolute).
    pub fn from_toml(v: &toml::Value) -> Result<Threshold, String> {
        let text = match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            other => {
                return Err(format!(
                    "{} is not a threshold; expected a relative one like \"+2%\" or an absolute one like 5",
                    other.type_str()
                ))
            }
        };
        Threshold::parse(&text)
    }

    /// The amount for a base mean of `base`.
    pub fn amount(self, base: f64) -> f64 {
        match self {
            Threshold::Relative(r) if base.is_finite() => r * base.abs(),
            Threshold::Relative(_) => 0.0,
            Threshold::Absolute(a) => a,
        }
    }
}

impl std::fmt::Display for Threshold {
    /// `+2%` or `+5`: what [`Threshold::parse`] reads back.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The shortest percentage that reads back to the same share (0.07 * 100 is
            // 7.000000000000001, but "7%" reads back to 0.07).
            Threshold::Relative(r) => {
                let text = (0..=17)
                    .map(|digits| format!("{:.*}", digits, r * 100.0))
                    .find(|p| p.parse::<f64>().is_ok_and(|p| p / 100.0 == *r))
                    .unwrap_or_else(|| format!("{}", r * 100.0));
                write!(f, "+{text}%")
            }
            Threshold::Absolute(a) => write!(f, "+{a}"),
        }
    }
}

impl DiffRules {
    /// The threshold for `metric`.
    pub fn threshold(&self, metric: &str) -> Threshold {
        self.fail_on
            .iter()
            .find(|(m, _)| m == metric)
            .map_or(self.threshold, |(_, t)| *t)
    }
}

impl Scenario {
    /// Index of the provider named `name`.
    pub fn provider_index(&self, name: &str) -> Option<usize> {
        self.providers.iter().position(|p| p.name == name)
    }
}

/// A scenario that cannot be used, and where.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct ScenarioError {
    /// The file, as given.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// Key path, when the error is about a value.
    pub key: Option<String>,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": ")?;
        if let Some(key) = &self.key {
            write!(f, "`{key}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// Reads and checks a scenario file. Relative paths inside it (a trace) are resolved
/// against the file's folder.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: path.to_path_buf(),
        line: None,
        column: None,
        key: None,
        message: format!("cannot read the scenario file: {e}"),
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let default_name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into());
    parse_str(&text, path, base, &default_name)
}

/// Checks scenario text as if read from `file`; `base` resolves relative paths.
pub fn parse_str(
    text: &str,
    file: &Path,
    base: &Path,
    default_name: &str,
) -> Result<Scenario, ScenarioError> {
    let raw: raw::RawScenario = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map(|s| locate::line_col(text, s.start)).unzip();
        let key = e
            .span()
            .and_then(|s| {
                locate::key_at(text, s.start).or_else(|| {
                    let duplicate = e.message().starts_with("duplicate key");
                    duplicate
                        .then(|| locate::duplicate_key_at(text, s.start))
                        .flatten()
                })
            })
            .filter(|k| !k.0.is_empty())
            .map(|k| k.to_string());
        ScenarioError {
            file: file.to_path_buf(),
            line,
            column,
            key,
            message: plain_serde_message(e.message()),
        }
    })?;
    build::build(raw, base, default_name).map_err(|inv| {
        let (line, column) = locate::find(text, &inv.path).unzip();
        ScenarioError {
            file: file.to_path_buf(),
            line,
            column,
            key: (!inv.path.0.is_empty()).then(|| inv.path.to_string()),
            message: inv.message,
        }
    })
}

/// Serde's type names in words a scenario author knows.
fn plain_serde_message(message: &str) -> String {
    let mut m = message.trim_end().to_string();
    for (from, to) in [
        ("expected i64", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
        ("expected a sequence", "expected an array [...]"),
        ("expected a map", "expected a table"),
        ("expected struct ", "expected a table: "),
    ] {
        m = m.replace(from, to);
    }
    m
}
