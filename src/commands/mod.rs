//! The commands behind the CLI, as library functions returning errors by kind so the
//! binary can map them to exit codes (2 for bad input).

mod diff;
pub mod grid;
mod replay;
pub mod serve;

use std::io::Write;
use std::path::Path;

use crate::cli::{Cli, Command, RunArgs, SweepArgs};
use crate::metrics::timeline::Timeline;
use crate::metrics::Results;
use crate::output::plot::{draw_all, latency_cdf_rows, ChartData};
use crate::output::report;
use crate::output::report_md::report_markdown;
use crate::output::sweep_csv::{read_sweep_csv, sweep_csv};
use crate::output::sweep_table::{sweep_table, Style, FAILED};
use crate::output::write_atomic;
use crate::runner::{replicate, replicate_with, Keep};
use crate::scenario::{self, Scenario, ScenarioError};
use crate::stats::summary::{summarize, Summary};
use crate::stats::sweep::{rows_of, Sweep};

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
    /// `diff` found a regression: exit code 1.
    #[error("{0}")]
    Regressed(String),
}

impl From<crate::runner::RunError> for AppError {
    /// A run past the longest simulated time is a scenario problem (exit code 2);
    /// threads that cannot start are not.
    fn from(e: crate::runner::RunError) -> Self {
        match e {
            crate::runner::RunError::TimeLimit(e) => AppError::BadInput(e.to_string()),
            e @ crate::runner::RunError::Threads(_) => AppError::Other(e.into()),
        }
    }
}

impl AppError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            AppError::Scenario(_) | AppError::BadInput(_) => 2,
            AppError::Other(_) | AppError::Regressed(_) => 1,
        }
    }
}

/// Runs a parsed command line, writing results to `stdout`.
pub fn execute(cli: Cli, stdout: &mut dyn Write) -> Result<(), AppError> {
    match cli.command {
        Command::Validate {
            scenario,
            resolved: true,
        } => {
            let s = scenario::load(&scenario)?;
            let text = resolved(&scenario, &s)?;
            let found = scenario::inspect::inspect(&s);
            write!(stdout, "{text}").map_err(anyhow::Error::from)?;
            for n in &found.notes {
                eprintln!("note: {n}");
            }
            for w in &found.warnings {
                eprintln!("warning: {w}");
            }
            Ok(())
        }
        Command::Validate {
            scenario,
            resolved: false,
        } => {
            let s = scenario::load(&scenario)?;
            check_decision(&s, &scenario)?;
            writeln!(
                stdout,
                "{}: ok — {} providers, {} policies, {} replications",
                scenario.display(),
                s.providers.len(),
                s.policies.len(),
                s.replications
            )
            .map_err(anyhow::Error::from)?;
            let found = scenario::inspect::inspect(&s);
            writeln!(stdout, "{}", found.size).map_err(anyhow::Error::from)?;
            for n in &found.notes {
                eprintln!("note: {n}");
            }
            for w in &found.warnings {
                eprintln!("warning: {w}");
            }
            Ok(())
        }
        Command::Run(args) => run(args, stdout),
        Command::Sweep(args) => sweep(args, stdout),
        Command::Plot { dir } => plot(&dir, stdout),
        Command::Diff(args) => diff::diff(&args, stdout),
        Command::Replay(args) => replay::replay(&args, stdout),
        Command::Serve(args) => serve::serve(&args, stdout),
    }
}

/// The resolved TOML of `s` (read from `file`), checked to read back to `s` itself.
fn resolved(file: &Path, s: &Scenario) -> Result<String, AppError> {
    let text = scenario::resolved::to_toml(s).map_err(|e| anyhow::anyhow!("{e}"))?;
    let base = file.parent().unwrap_or(Path::new("."));
    let back = scenario::parse_str(&text, file, base, &s.name).map_err(|e| {
        anyhow::anyhow!("the resolved scenario does not read back (a bug): {e}\n{text}")
    })?;
    if back != *s {
        // Name the first part that differs, for the bug report.
        let part = if back.decision != s.decision {
            "decision".to_string()
        } else if back.workload != s.workload {
            "workload".to_string()
        } else if let Some(i) =
            (0..s.providers.len()).find(|&i| back.providers.get(i) != s.providers.get(i))
        {
            format!("providers.{}", s.providers[i].name)
        } else if let Some(i) =
            (0..s.policies.len()).find(|&i| back.policies.get(i) != s.policies.get(i))
        {
            format!("policies[{i}]")
        } else {
            "the top level".to_string()
        };
        return Err(anyhow::anyhow!(
            "the resolved scenario reads back differently at `{part}` (a bug); not printed"
        )
        .into());
    }
    Ok(text)
}

/// Timeline samples per policy (evenly spaced over replication 0's makespan).
const TIMELINE_POINTS: u32 = 600;

/// Writes every output of a run of `scenario` into `dir`: data files, charts and
/// report.md. The limiter timelines are those `results` kept (a run with
/// [`Keep::timeline_points`] records them as it goes); without them, replication 0 of
/// each policy runs again to record them.
pub fn write_outputs(
    dir: &Path,
    scenario: &Scenario,
    results: &Results,
    summary: &Summary,
) -> Result<(), AppError> {
    crate::output::write_folder(dir, |staging| {
        write_outputs_into(staging, scenario, results, summary)
    })
    .map_err(|e| unstaged(e, dir))
}

/// The error of writing the staged folder of `dir`, with the staging folder's path (gone
/// by now) replaced by `dir`'s in its message.
pub(super) fn unstaged(e: Staged, dir: &Path) -> AppError {
    let staging = crate::output::staging_dir(dir).display().to_string();
    let fix = |m: String| m.replace(&staging, &dir.display().to_string());
    match e {
        Staged::App(AppError::Other(e)) => AppError::Other(anyhow::anyhow!(fix(format!("{e:#}")))),
        Staged::App(AppError::BadInput(m)) => AppError::BadInput(fix(m)),
        Staged::App(e) => e,
        Staged::Io(e) => anyhow::Error::from(e)
            .context(format!("cannot write output folder {}", dir.display()))
            .into(),
    }
}

/// `--out DIR` must be a folder, or not exist yet: checked before anything runs.
pub(super) fn check_out(dir: &Path) -> Result<(), AppError> {
    if dir.exists() && !dir.is_dir() {
        return Err(AppError::BadInput(format!(
            "--out {}: is a file, not a folder; name a folder (it is created if missing)",
            dir.display()
        )));
    }
    Ok(())
}

/// An error while writing a staged folder: the staging itself, or writing its files.
pub(super) enum Staged {
    Io(std::io::Error),
    App(AppError),
}

impl From<std::io::Error> for Staged {
    fn from(e: std::io::Error) -> Self {
        Staged::Io(e)
    }
}

impl From<AppError> for Staged {
    fn from(e: AppError) -> Self {
        Staged::App(e)
    }
}

fn write_outputs_into(
    dir: &Path,
    scenario: &Scenario,
    results: &Results,
    summary: &Summary,
) -> Result<(), Staged> {
    use crate::output::plot::data::write_rows;
    let recorded;
    let timeline = match &results.timeline {
        Some(t) => t,
        None => {
            let makespan = results
                .catalog
                .index("makespan_s")
                .expect("a catalog metric");
            let mut all = Timeline::default();
            for p in 0..scenario.policies.len() {
                let made = results.runs[p].first().map_or(0.0, |r| r[makespan]);
                let t = crate::engine::timeline::record(scenario, p, 0, TIMELINE_POINTS, made)
                    .map_err(|e| AppError::from(crate::runner::RunError::from(e)))?;
                all.rows.extend(t.rows);
                all.events.extend(t.events);
            }
            recorded = all;
            &recorded
        }
    };
    let cdf = latency_cdf_rows(results);
    for (file, format) in report::files() {
        write_file(
            &dir.join(file),
            &(format.export)(summary, results, &report::Options::default()),
        )?;
    }
    // What a later `ratesim diff` needs: the resolved scenario and the run's identity.
    let resolved = match scenario::resolved::to_toml(scenario) {
        Ok(text) => {
            write_file(&dir.join("scenario.toml"), text.as_bytes())?;
            Some(text)
        }
        Err(e) => {
            eprintln!("warning: scenario.toml not written: {e}");
            None
        }
    };
    write_file(
        &dir.join("run.json"),
        &crate::output::run_json(scenario, results, resolved.as_deref()),
    )?;
    write_file(&dir.join("latency_cdf.csv"), &write_rows(&cdf))?;
    write_file(&dir.join("timeline.csv"), &write_rows(&timeline.rows))?;
    write_file(&dir.join("events.csv"), &write_rows(&timeline.events))?;
    let data = ChartData {
        summary: Some(summary.clone()),
        cdf,
        timeline: std::borrow::Cow::Borrowed(&timeline.rows),
        events: std::borrow::Cow::Borrowed(&timeline.events),
    };
    let drawing =
        draw_all(dir, &data).map_err(|e| AppError::from(anyhow::anyhow!("drawing charts: {e}")))?;
    warn_skipped(&drawing);
    write_file(
        &dir.join("report.md"),
        &report_markdown(summary, &drawing.drawn),
    )?;
    Ok(())
}

/// Says on standard error which charts were not drawn, and why.
fn warn_skipped(drawing: &crate::output::plot::Drawing) {
    for s in &drawing.skipped {
        eprintln!("warning: {s}");
    }
}

/// `--metrics`: `all`, or metric names separated by commas.
fn view(
    metrics: Option<&str>,
    catalog: &crate::metrics::Catalog,
) -> Result<report::View, AppError> {
    let Some(text) = metrics else {
        return Ok(report::View::Key);
    };
    if text.trim() == "all" {
        return Ok(report::View::All);
    }
    let names: Vec<String> = text
        .split(',')
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .collect();
    if names.is_empty() {
        return Err(AppError::BadInput(
            "--metrics: no metric named; give `all` or names separated by commas".into(),
        ));
    }
    for m in &names {
        catalog
            .check(m)
            .map_err(|e| AppError::BadInput(format!("--metrics: {e}")))?;
    }
    Ok(report::View::Only(names))
}

/// The metrics the scenario's `[decision]` and `[diff]` name are metrics the run reports (they
/// depend on its providers, so the scenario reader cannot tell): else exit 2 naming the
/// file and key.
fn check_decision(s: &crate::scenario::Scenario, file: &Path) -> Result<(), AppError> {
    use crate::scenario::Direction;
    let catalog = crate::metrics::Catalog::new(&s.providers);
    let d = &s.decision;
    let key = match d.direction {
        Direction::Minimize => "decision.minimize".to_string(),
        Direction::Maximize => "decision.maximize".to_string(),
    };
    let named = std::iter::once((key, &d.objective)).chain(
        d.require
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("decision.require[{i}]"), &r.metric)),
    );
    let named = named.chain(
        s.diff
            .fail_on
            .iter()
            .map(|(m, _)| (format!("diff.fail_on.{m}"), m)),
    );
    for (key, metric) in named {
        catalog
            .check(metric)
            .map_err(|e| AppError::BadInput(format!("{}: `{key}`: {e}", file.display())))?;
    }
    Ok(())
}

/// `--minimize`, `--maximize` and `--require` in place of the scenario's `[decision]`.
fn decide(
    decision: &mut crate::scenario::Decision,
    args: &RunArgs,
    catalog: &crate::metrics::Catalog,
) -> Result<(), AppError> {
    use crate::scenario::{Direction, Requirement};
    let bad = |flag: &str, e: String| AppError::BadInput(format!("{flag}: {e}"));
    let known = |m: &str| catalog.check(m);
    for (flag, metric, direction) in [
        ("--minimize", &args.minimize, Direction::Minimize),
        ("--maximize", &args.maximize, Direction::Maximize),
    ] {
        if let Some(m) = metric {
            known(m).map_err(|e| bad(flag, e))?;
            decision.objective = m.clone();
            decision.direction = direction;
        }
    }
    if !args.require.is_empty() {
        let none = args.require.iter().any(|r| r.trim() == "none");
        decision.require = if none && args.require.len() > 1 {
            return Err(bad(
                "--require",
                "`none` drops every requirement: give it alone, or give only requirements".into(),
            ));
        } else if none {
            Vec::new()
        } else {
            args.require
                .iter()
                .map(|text| {
                    let r = Requirement::parse(text).map_err(|e| bad("--require", e))?;
                    known(&r.metric).map_err(|e| bad("--require", e))?;
                    Ok(r)
                })
                .collect::<Result<Vec<_>, AppError>>()?
        };
    }
    Ok(())
}

fn run(args: RunArgs, stdout: &mut dyn Write) -> Result<(), AppError> {
    use anyhow::Context;
    let format = report::format(&args.format).ok_or_else(|| {
        AppError::BadInput(format!(
            "--format {}: no such format; valid: {}",
            args.format,
            report::format_names().collect::<Vec<_>>().join(", ")
        ))
    })?;
    let mut scenario = scenario::load(&args.scenario)?;
    if let Some(r) = args.replications {
        scenario.replications = r;
    }
    if let Some(s) = args.seed {
        scenario.seed = s;
    }
    let catalog = crate::metrics::Catalog::new(&scenario.providers);
    let options = report::Options {
        view: view(args.metrics.as_deref(), &catalog)?,
    };
    // The command line first (its values are checked there): what it leaves of the
    // scenario's [decision] is checked after, named by its key.
    decide(&mut scenario.decision, &args, &catalog)?;
    check_decision(&scenario, &args.scenario)?;
    if let Some(dir) = &args.out {
        check_out(dir)?;
    }
    // A baseline that diff cannot read is found before the run, not after.
    if let Some(b) = &args.baseline {
        diff::check_folder(b).map_err(|e| match e {
            AppError::BadInput(m) => AppError::BadInput(format!("--baseline: {m}")),
            e => e,
        })?;
    }
    let keep = Keep {
        curves: args.out.is_some(),
        timeline_points: args.out.as_ref().map(|_| TIMELINE_POINTS),
    };
    let results = replicate_with(&scenario, args.threads, keep)?;
    let summary = summarize(&results, &scenario);
    if let Some(dir) = &args.out {
        write_outputs(dir, &scenario, &results, &summary)?;
    }
    stdout
        .write_all(&(format.export)(&summary, &results, &options))
        .context("cannot write to standard output")?;
    if let (Some(base), Some(head)) = (&args.baseline, &args.out) {
        writeln!(
            stdout,
            "\nratesim diff {} {}",
            base.display(),
            head.display()
        )
        .context("cannot write to standard output")?;
        let d = crate::cli::DiffArgs {
            base: base.clone(),
            head: head.clone(),
            metrics: Vec::new(),
            fail_on: Vec::new(),
            policies: Vec::new(),
            format: "table".into(),
            out: None,
        };
        diff::diff(&d, stdout)?;
    }
    Ok(())
}

pub(super) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    use anyhow::Context;
    write_atomic(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn plot(dir: &Path, stdout: &mut dyn Write) -> Result<(), AppError> {
    let sweep_path = dir.join("sweep.csv");
    if !sweep_path.exists() && !dir.join("summary.json").exists() {
        return Err(AppError::BadInput(format!(
            "{}: has neither summary.json nor sweep.csv; plot reads folders written by `ratesim run --out DIR` or `ratesim sweep`",
            dir.display()
        )));
    }
    if sweep_path.exists() && !dir.join("summary.json").exists() {
        let bytes = std::fs::read(&sweep_path)
            .map_err(|e| AppError::BadInput(format!("{}: {e}", sweep_path.display())))?;
        let name = dir
            .file_name()
            .map_or("sweep".into(), |n| n.to_string_lossy().into_owned());
        let name = name.strip_prefix("sweep-").unwrap_or(&name).to_string();
        let sweep = read_sweep_csv(&bytes, &name)
            .map_err(|e| AppError::BadInput(format!("{}: {e}", sweep_path.display())))?;
        let drawing = crate::output::plot::draw_sweep(dir, &sweep)
            .map_err(|e| anyhow::anyhow!("drawing charts: {e}"))?;
        warn_skipped(&drawing);
        writeln!(
            stdout,
            "{}: {} sweep charts",
            dir.display(),
            drawing.drawn.len()
        )
        .map_err(anyhow::Error::from)?;
        return Ok(());
    }
    let data = ChartData::read(dir).map_err(AppError::BadInput)?;
    let summary = data.summary.as_ref().expect("read sets the summary");
    let drawing = draw_all(dir, &data).map_err(|e| anyhow::anyhow!("drawing charts: {e}"))?;
    warn_skipped(&drawing);
    write_file(
        &dir.join("report.md"),
        &report_markdown(summary, &drawing.drawn),
    )?;
    writeln!(
        stdout,
        "{}: {} charts and report.md",
        dir.display(),
        drawing.drawn.len()
    )
    .map_err(anyhow::Error::from)?;
    Ok(())
}

/// Metrics a sweep tabulates when none is named.
const SWEEP_METRICS: [&str; 4] = [
    "rejection_probability",
    "makespan_s",
    "monthly_bill_usd",
    "jobs_failed",
];

fn sweep(args: SweepArgs, stdout: &mut dyn Write) -> Result<(), AppError> {
    use anyhow::Context;
    use std::io::IsTerminal;
    // The file itself must be valid before any --set is applied.
    let base = scenario::load(&args.scenario)?;
    let text = std::fs::read_to_string(&args.scenario)
        .with_context(|| format!("cannot read {}", args.scenario.display()))?;
    let sets = args
        .sets
        .iter()
        .map(|s| grid::parse_set(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(AppError::BadInput)?;
    let catalog = crate::metrics::Catalog::new(&base.providers);
    let mut metrics: Vec<String> = if args.metrics.is_empty() {
        SWEEP_METRICS.iter().map(|m| m.to_string()).collect()
    } else {
        args.metrics.clone()
    };
    // The table and charts flag the points where a policy fails jobs.
    if !metrics.iter().any(|m| m == FAILED) {
        metrics.push(FAILED.into());
    }
    for m in &metrics {
        if catalog.index(m).is_none() {
            return Err(AppError::BadInput(format!(
                "--metric {m}: no such metric; valid: {}",
                catalog.names().join(", ")
            )));
        }
    }
    let points = grid::scenarios(&text, &args.scenario, &sets).map_err(AppError::BadInput)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| format!("sweep-{}", crate::output::safe_stem(&base.name)).into());
    check_out(&out)?;
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(points.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:30} [{bar:30}] {pos}/{len} points, {elapsed}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    let (mut replications, mut seed) = (base.replications, base.seed);
    let mut result = Sweep {
        keys: grid::keys(&sets),
        metrics: metrics.clone(),
        policies: base.policies.iter().map(|p| p.name.clone()).collect(),
        scenario: base.name.clone(),
        rows: Vec::new(),
    };
    let n_points = points.len();
    for (point, mut sc) in points {
        let label = grid::describe(&sets, &point);
        bar.set_message(label.clone());
        if let Some(r) = args.replications {
            sc.replications = r;
        }
        if let Some(s) = args.seed {
            sc.seed = s;
        }
        (replications, seed) = (sc.replications, sc.seed);
        let results = replicate(&sc, args.threads).map_err(|e| match AppError::from(e) {
            AppError::BadInput(m) => AppError::BadInput(format!("{label}: {m}")),
            other => other,
        })?;
        result.rows.extend(rows_of(
            &grid::point_keys(&sets, &point),
            &summarize(&results, &sc),
            &metrics,
        ));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let drawing = crate::output::write_folder(&out, |staging| -> Result<_, Staged> {
        write_file(&staging.join("sweep.csv"), &sweep_csv(&result))?;
        crate::output::plot::draw_sweep(staging, &result)
            .map_err(|e| Staged::App(anyhow::anyhow!("drawing charts: {e}").into()))
    })
    .map_err(|e| unstaged(e, &out))?;
    warn_skipped(&drawing);
    let shown = match args.format.as_str() {
        "csv" => sweep_csv(&result),
        "markdown" => sweep_table(&result, replications, seed, Style::Markdown),
        _ => sweep_table(&result, replications, seed, Style::Text),
    };
    stdout
        .write_all(&shown)
        .context("cannot write to standard output")?;
    if args.format == "csv" {
        return Ok(());
    }
    writeln!(
        stdout,
        "\n{}: sweep.csv ({} points x {} policies) and {} charts",
        out.display(),
        n_points,
        result.policies.len(),
        drawing.drawn.len()
    )
    .map_err(anyhow::Error::from)?;
    Ok(())
}
