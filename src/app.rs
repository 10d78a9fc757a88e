//! The commands behind the CLI, as library functions returning errors by kind so the
//! binary can map them to exit codes (2 for bad input).

use std::io::Write;
use std::path::Path;

use crate::cli::{Cli, Command, Format, RunArgs};
use crate::plot::{draw_all, latency_cdf_rows, ChartData};
use crate::report::{
    report_markdown, runs_csv, write_atomic, Exporter, Json, Markdown, Prometheus, SummaryCsv,
    Table,
};
use crate::run::Results;
use crate::scenario::{self, Scenario, ScenarioError};
use crate::summary::Summary;

/// A command's failure.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The scenario (or another input) is invalid: exit code 2.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// Another input is invalid (a results folder, a `--set`): exit code 2.
    #[error("{0}")]
    BadInput(String),
    /// Something else went wrong (writing output, threads): exit code 1.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl AppError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            AppError::Scenario(_) | AppError::BadInput(_) => 2,
            AppError::Other(_) => 1,
        }
    }
}

/// Runs a parsed command line, writing results to `stdout`.
pub fn execute(cli: Cli, stdout: &mut dyn Write) -> Result<(), AppError> {
    match cli.command {
        Command::Validate { scenario } => {
            let s = scenario::load(&scenario)?;
            writeln!(
                stdout,
                "{}: ok — {} providers, {} policies, {} replications",
                scenario.display(),
                s.providers.len(),
                s.policies.len(),
                s.replications
            )
            .map_err(anyhow::Error::from)?;
            Ok(())
        }
        Command::Run(args) => run(args, stdout),
        Command::Plot { dir } => {
            let data = ChartData::read(&dir).map_err(AppError::BadInput)?;
            let summary = data.summary.as_ref().expect("read sets the summary");
            let drawn =
                draw_all(&dir, &data).map_err(|e| anyhow::anyhow!("drawing charts: {e}"))?;
            write_file(&dir.join("report.md"), &report_markdown(summary, &drawn))?;
            writeln!(
                stdout,
                "{}: {} charts and report.md",
                dir.display(),
                drawn.len()
            )
            .map_err(anyhow::Error::from)?;
            Ok(())
        }
    }
}

/// Timeline samples per policy (evenly spaced over replication 0's makespan).
const TIMELINE_POINTS: u32 = 600;

/// Writes every output of a run into `dir`: data files, charts and report.md.
pub fn write_outputs(
    dir: &Path,
    scenario: &Scenario,
    results: &Results,
    summary: &Summary,
) -> Result<(), AppError> {
    use crate::plot::data::write_rows;
    use anyhow::Context;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create output folder {}", dir.display()))?;
    write_file(&dir.join("summary.csv"), &SummaryCsv.export(summary))?;
    write_file(&dir.join("runs.csv"), &runs_csv(results))?;
    write_file(&dir.join("summary.json"), &Json.export(summary))?;
    write_file(&dir.join("metrics.prom"), &Prometheus.export(summary))?;
    let mut data = ChartData {
        summary: Some(summary.clone()),
        cdf: latency_cdf_rows(results),
        ..ChartData::default()
    };
    for p in 0..scenario.policies.len() {
        let (rows, events) = crate::trace::record(scenario, p, 0, TIMELINE_POINTS);
        data.timeline.extend(rows);
        data.events.extend(events);
    }
    write_file(&dir.join("latency_cdf.csv"), &write_rows(&data.cdf))?;
    write_file(&dir.join("timeline.csv"), &write_rows(&data.timeline))?;
    write_file(&dir.join("events.csv"), &write_rows(&data.events))?;
    let drawn = draw_all(dir, &data).map_err(|e| anyhow::anyhow!("drawing charts: {e}"))?;
    write_file(&dir.join("report.md"), &report_markdown(summary, &drawn))?;
    Ok(())
}

fn run(args: RunArgs, stdout: &mut dyn Write) -> Result<(), AppError> {
    use anyhow::Context;
    let mut scenario = scenario::load(&args.scenario)?;
    if let Some(r) = args.replications {
        scenario.replications = r;
    }
    if let Some(s) = args.seed {
        scenario.seed = s;
    }
    let results = crate::run::run_with(&scenario, args.threads, args.out.is_some())
        .map_err(anyhow::Error::from)?;
    let summary = results.summary(&scenario);
    if let Some(dir) = &args.out {
        write_outputs(dir, &scenario, &results, &summary)?;
    }
    let bytes = match args.format {
        Format::Table => Table::default().export(&summary),
        Format::Csv => SummaryCsv.export(&summary),
        Format::Json => Json.export(&summary),
        Format::Markdown => Markdown.export(&summary),
    };
    stdout
        .write_all(&bytes)
        .context("cannot write to standard output")?;
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    use anyhow::Context;
    write_atomic(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
