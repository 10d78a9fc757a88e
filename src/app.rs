//! The commands behind the CLI, as library functions returning errors by kind so the
//! binary can map them to exit codes (2 for bad input).

use std::io::Write;
use std::path::Path;

use crate::cli::{Cli, Command, Format, RunArgs};
use crate::report::{runs_csv, write_atomic, Exporter, Json, Markdown, SummaryCsv, Table};
use crate::scenario::{self, ScenarioError};

/// A command's failure.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The scenario (or another input) is invalid: exit code 2.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// Something else went wrong (writing output, threads): exit code 1.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl AppError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            AppError::Scenario(_) => 2,
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
    }
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
    let results = crate::run::run(&scenario, args.threads).map_err(anyhow::Error::from)?;
    let summary = results.summary(&scenario);
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create output folder {}", dir.display()))?;
        write_file(&dir.join("summary.csv"), &SummaryCsv.export(&summary))?;
        write_file(&dir.join("runs.csv"), &runs_csv(&results))?;
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
