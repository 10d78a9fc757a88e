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
