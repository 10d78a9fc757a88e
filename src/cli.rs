//! Command-line definitions (clap derive); no logic here.

use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Parser, Subcommand};

use crate::output::report;

/// Simulate LLM API rate limits and compare routing and retry policies.
#[derive(Debug, Parser)]
#[command(name = "ratesim", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario and compare its policies.
    Run(RunArgs),
    /// Check a scenario file without running it.
    Validate {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Print the scenario as TOML with every default, preset and shorthand filled in
        /// (it reads back to the same scenario) instead of the summary.
        #[arg(long)]
        resolved: bool,
    },
    /// Run a scenario at every point of a grid of settings and chart metrics against them.
    Sweep(SweepArgs),
    /// Redraw the charts and report.md of a results folder written by `run --out`
    /// (or the charts of one written by `sweep`).
    Plot {
        /// The results folder.
        dir: PathBuf,
    },
    /// Compare two run folders (`run --out`), base against head: what improved, what
    /// regressed, how sure; exit 1 on a regression.
    Diff(DiffArgs),
    /// Play a scenario's workload against HTTP endpoints (e.g. `ratesim serve`), routed
    /// and retried by its policies on the client side, and measure what `run` predicts.
    Replay(ReplayArgs),
    /// Serve the scenario's providers over HTTP (Anthropic Messages and OpenAI chat
    /// completions), deciding every request with the simulator's own limiters.
    Serve(ServeArgs),
}

/// `ratesim replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// The endpoint standing for a provider: `NAME=URL`, a base URL (the wire format's
    /// path is added) or a full `/v1/messages` or `/v1/chat/completions` URL; with
    /// `--policy none`, the one gateway URL.
    #[arg(long = "target", value_name = "PROVIDER=URL", required = true)]
    pub targets: Vec<String>,
    /// A policy to replay (repeatable), `all` (default) or `none` (every request goes
    /// once to the one gateway target, which routes and retries by itself).
    #[arg(long = "policy", value_name = "NAME|all|none")]
    pub policies: Vec<String>,
    /// Wire format of targets given as base URLs: `anthropic` (default) or `openai`.
    #[arg(long, default_value = "anthropic", value_parser = ["anthropic", "openai"])]
    pub wire: String,
    /// Scenario seconds per real second: the server's --time-scale (default 1).
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Replications (default 1: a live run takes real time).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub replications: u32,
    /// Random seed (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Real seconds a request may take before it counts as a timeout.
    #[arg(long, default_value_t = 60.0)]
    pub timeout: f64,
    /// Real seconds one replication of one policy may take.
    #[arg(long, default_value_t = 600.0)]
    pub deadline: f64,
    /// What to print on standard output (as `run --format`).
    #[arg(long, default_value = report::DEFAULT_FORMAT, value_parser = formats())]
    pub format: String,
    /// Also write the outputs of `run --out` into this folder (so `ratesim diff`
    /// compares a simulation with this measurement).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `ratesim serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Address to listen on (port 0 picks a free port; the address bound is printed).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    pub listen: String,
    /// Simulated seconds per real second: windows, refills, latencies and outages run
    /// this many times faster.
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pub time_scale: f64,
    /// Root of the random streams (default: the scenario's seed).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// `ratesim diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The base run folder (e.g. the merge-base's `run --out`).
    pub base: PathBuf,
    /// The head run folder (the change's).
    pub head: PathBuf,
    /// Metrics to compare (default: failures, runs with a failure, rejection
    /// probability, rejections by status, makespan, p95 latency, monthly bill).
    #[arg(long = "metric", value_name = "METRIC")]
    pub metrics: Vec<String>,
    /// A metric's noise threshold: `METRIC:+2%` (of the base mean) or `METRIC:+5`
    /// (absolute); default 1% for every metric.
    #[arg(long = "fail-on", value_name = "METRIC:THRESHOLD")]
    pub fail_on: Vec<String>,
    /// Compare only these policies.
    #[arg(long = "policy", value_name = "NAME")]
    pub policies: Vec<String>,
    /// `table` (default), `markdown` (a PR comment) or `json` (schema ratesim.diff/1).
    #[arg(long, default_value = "table", value_parser = ["table", "markdown", "json"])]
    pub format: String,
    /// Also write every output into this folder (created if missing, written whole or not
    /// at all): diff.txt, diff.md, diff.json and the forest plot (diff_forest.svg, .png).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `ratesim run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Also write results, charts and a report into this folder (created if missing): the
    /// files of the exporters' registry, report.md, charts (SVG, PNG) and the data behind
    /// them.
    #[arg(long, value_name = "DIR", help = out_help())]
    pub out: Option<PathBuf>,
    /// What to print on standard output: a name of the exporters' registry,
    /// [`report::FORMATS`].
    #[arg(
        long,
        help = "What to print on standard output",
        default_value = report::DEFAULT_FORMAT,
        value_parser = formats(),
    )]
    pub format: String,
    /// Worker threads (0 = one per core). Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Override the scenario's number of replications.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub replications: Option<u32>,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Metrics the table shows: `all`, or names separated by commas (default: the key
    /// metrics, a row per policy).
    #[arg(long, value_name = "all|M1,M2,...")]
    pub metrics: Option<String>,
    /// Recommend the policy with the lowest mean of this metric (overrides the
    /// scenario's `[decision]`; default makespan_s).
    #[arg(long, value_name = "METRIC", conflicts_with = "maximize")]
    pub minimize: Option<String>,
    /// Recommend the policy with the highest mean of this metric.
    #[arg(long, value_name = "METRIC")]
    pub maximize: Option<String>,
    /// A requirement every recommended policy meets, on a metric's mean:
    /// `"METRIC <= VALUE"` (or <, >=, >); repeatable; replaces the scenario's (default:
    /// "runs_with_failure_share <= 0", no failed job in any run). `--require none`
    /// drops every requirement.
    #[arg(long = "require", value_name = "EXPR")]
    pub require: Vec<String>,
    /// After the run, print `ratesim diff BASELINE OUT` (a run folder of an earlier
    /// `run --out`); exit 1 on a regression, like diff. Needs --out.
    #[arg(long, value_name = "DIR", requires = "out")]
    pub baseline: Option<PathBuf>,
}

/// `ratesim sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// KEY=VALUES: a key path of the scenario (a policy by index or name:
    /// `policies[1]`, `policies.NAME`) and its values, as a list (`1,2,5,10`) or a range
    /// (`start..end:step`, `30s..90s:30s`); each value a number, duration, boolean or
    /// string. `K1,K2=a1:b1,a2:b2` zips keys that move together. Several `--set` make a
    /// grid.
    #[arg(long = "set", value_name = "KEY=VALUES", required = true)]
    pub sets: Vec<String>,
    /// Metrics to tabulate and chart (default: rejection_probability, makespan_s,
    /// monthly_bill_usd, jobs_failed); jobs_failed is always added.
    #[arg(long = "metric", value_name = "METRIC")]
    pub metrics: Vec<String>,
    /// What to print on standard output: the table, sweep.csv's rows or a Markdown table.
    #[arg(long, default_value = "table", value_parser = ["table", "csv", "markdown"])]
    pub format: String,
    /// Folder for sweep.csv and the charts (default: `sweep-<scenario name>`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads (0 = one per core). Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Override the scenario's number of replications.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub replications: Option<u32>,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
}

/// `--out`'s help, naming the files of the exporters' registry.
fn out_help() -> String {
    let files: Vec<&str> = report::files().map(|(file, _)| file).collect();
    format!(
        "Also write results, charts and a report into this folder (created if missing): \
         {}, report.md, charts (SVG, PNG) and the data behind them",
        files.join(", ")
    )
}

/// `--format`'s values: the names of the exporters' registry, with their descriptions.
fn formats() -> PossibleValuesParser {
    report::FORMATS
        .iter()
        .filter_map(|f| Some(PossibleValue::new(f.name?).help(f.about)))
        .collect::<Vec<_>>()
        .into()
}
