//! `ratesim diff BASE HEAD`: two run folders compared, policy by policy and metric by
//! metric ([`crate::stats::diff`]), paired per replication when they ran on the same
//! jobs. Exit 0 without a regression, 1 with one, 2 for a folder it cannot read.

use std::io::Write;
use std::path::Path;

use super::{check_out, unstaged, write_file, AppError, Staged};
use crate::cli::DiffArgs;
use crate::output::human;
use crate::scenario::DiffRules;
use crate::stats::diff::{compare, Change, Pair, Threshold, Verdict};

/// What `diff` reads of a run folder.
struct RunFolder {
    scenario: String,
    seed: Option<u64>,
    replications: Option<u64>,
    fingerprints: Vec<String>,
    /// Metric names (the columns of `runs.csv` after replication and policy).
    metrics: Vec<String>,
    /// Policy names in order, and each policy's rows: `values[p][rep][metric]`.
    policies: Vec<String>,
    values: Vec<Vec<Vec<f64>>>,
    /// The recommended policy, from `summary.json`'s verdict.
    recommended: Option<String>,
    /// Every setting of the resolved scenario (`scenario.toml`), by key path.
    settings: std::collections::BTreeMap<String, String>,
    /// The scenario's `[diff]` thresholds (the defaults when it has none).
    rules: DiffRules,
}

/// Every leaf of a TOML value by key path: `providers.claude.limits[0].limit`; arrays of
/// tables that all have a `name` (policies) by that name: `policies.failover-chain.route`.
fn flatten(v: &toml::Value, at: &str, out: &mut std::collections::BTreeMap<String, String>) {
    let join = |k: &str| {
        if at.is_empty() {
            k.to_string()
        } else {
            format!("{at}.{k}")
        }
    };
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                flatten(v, &join(k), out);
            }
        }
        toml::Value::Array(items) if !items.is_empty() && items.iter().all(|i| i.is_table()) => {
            let named = items
                .iter()
                .all(|i| i.get("name").and_then(|n| n.as_str()).is_some());
            for (i, item) in items.iter().enumerate() {
                let key = match item.get("name").and_then(|n| n.as_str()) {
                    Some(name) if named => join(name),
                    _ => format!("{at}[{i}]"),
                };
                flatten(item, &key, out);
            }
        }
        leaf => {
            out.insert(at.to_string(), leaf.to_string());
        }
    }
}

/// The resolved scenario's settings and `[diff]` thresholds, when the folder has a
/// `scenario.toml` (a folder written before ratesim wrote one has neither); a
/// `scenario.toml` that does not read, or whose `[diff]` does not, is an error.
fn settings(
    dir: &Path,
) -> Result<(std::collections::BTreeMap<String, String>, DiffRules), AppError> {
    let mut out = std::collections::BTreeMap::new();
    let path = dir.join("scenario.toml");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((out, DiffRules::default()))
        }
        Err(e) => return Err(bad(&path, e)),
    };
    let table = text.parse::<toml::Table>().map_err(|e| bad(&path, e))?;
    let mut rules = DiffRules::default();
    if let Some(d) = table.get("diff") {
        let threshold = |v: &toml::Value, key: &str| {
            Threshold::from_toml(v).map_err(|e| bad(&path, format!("`{key}`: {e}")))
        };
        if let Some(v) = d.get("threshold") {
            rules.threshold = threshold(v, "diff.threshold")?;
        }
        if let Some(t) = d.get("fail_on").and_then(|f| f.as_table()) {
            for (m, v) in t {
                rules
                    .fail_on
                    .push((m.clone(), threshold(v, &format!("diff.fail_on.{m}"))?));
            }
        }
    }
    flatten(&toml::Value::Table(table), "", &mut out);
    Ok((out, rules))
}

/// The settings that differ: `key: base -> head` (`(none)` where one lacks the key); the
/// seed and the replications are left out (the pairing line speaks of them).
fn config_changes(base: &RunFolder, head: &RunFolder) -> Vec<String> {
    let keys: std::collections::BTreeSet<&String> =
        base.settings.keys().chain(head.settings.keys()).collect();
    keys.into_iter()
        .filter(|k| !matches!(k.as_str(), "seed" | "replications"))
        .filter_map(|k| {
            let (b, h) = (base.settings.get(k), head.settings.get(k));
            (b != h).then(|| {
                format!(
                    "{k}: {} -> {}",
                    b.map_or("(none)", String::as_str),
                    h.map_or("(none)", String::as_str)
                )
            })
        })
        .collect()
}

fn bad(path: &Path, why: impl std::fmt::Display) -> AppError {
    AppError::BadInput(format!(
        "{}: {why}; diff reads folders written by `ratesim run --out DIR`",
        path.display()
    ))
}

fn read_folder(dir: &Path) -> Result<RunFolder, AppError> {
    let run_path = dir.join("run.json");
    let bytes = std::fs::read(&run_path).map_err(|e| bad(&run_path, e))?;
    let run: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| bad(&run_path, e))?;
    if run["schema"] != "ratesim.run/1" {
        return Err(bad(
            &run_path,
            format!("schema {} is not ratesim.run/1", run["schema"]),
        ));
    }
    let runs_path = dir.join("runs.csv");
    let mut reader = csv::Reader::from_path(&runs_path).map_err(|e| bad(&runs_path, e))?;
    let header = reader.headers().map_err(|e| bad(&runs_path, e))?.clone();
    if header.get(0) != Some("replication") || header.get(1) != Some("policy") {
        return Err(bad(
            &runs_path,
            "the header is not replication,policy,<metrics>",
        ));
    }
    let metrics: Vec<String> = header.iter().skip(2).map(String::from).collect();
    let mut policies: Vec<String> = Vec::new();
    let mut values: Vec<Vec<Vec<f64>>> = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(&runs_path, e))?;
        let line = i + 2;
        let name = record.get(1).unwrap_or_default().to_string();
        let row: Vec<f64> = record
            .iter()
            .skip(2)
            .map(|c| {
                if c.is_empty() {
                    Ok(f64::NAN)
                } else {
                    c.parse::<f64>()
                        .map_err(|_| bad(&runs_path, format!("line {line}: `{c}` is not a number")))
                }
            })
            .collect::<Result<_, _>>()?;
        if row.len() != metrics.len() {
            return Err(bad(
                &runs_path,
                format!(
                    "line {line} has {} values for {} metrics",
                    row.len(),
                    metrics.len()
                ),
            ));
        }
        let p = match policies.iter().position(|n| *n == name) {
            Some(p) => p,
            None => {
                policies.push(name);
                values.push(Vec::new());
                policies.len() - 1
            }
        };
        values[p].push(row);
    }
    let (settings, rules) = settings(dir)?;
    // The recommendation, when the summary has one (older folders do not).
    let recommended = std::fs::read(dir.join("summary.json"))
        .ok()
        .and_then(|b| crate::stats::summary::Summary::from_json(&b).ok())
        .and_then(|s| {
            let r = s.verdict.as_ref()?.recommended?;
            Some(s.policies[r].name.clone())
        });
    Ok(RunFolder {
        scenario: run["scenario"].as_str().unwrap_or_default().to_string(),
        seed: run["seed"].as_u64(),
        replications: run["replications"].as_u64(),
        fingerprints: run["job_fingerprints"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
        metrics,
        policies,
        values,
        recommended,
        settings,
        rules,
    })
}

/// A policy's settings in a folder's resolved scenario, by key below the policy (its
/// name left out).
fn policy_settings<'a>(run: &'a RunFolder, name: &str) -> Vec<(&'a str, &'a String)> {
    let prefix = format!("policies.{name}.");
    run.settings
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?, v)))
        .filter(|(k, _)| *k != "name")
        .collect()
}

/// The removed policies whose settings an added one has exactly (a rename), in base's
/// order; each added policy matches one removed one at most.
fn renames<'a>(
    base: &'a RunFolder,
    head: &'a RunFolder,
    removed: &[&'a String],
    added: &[&'a String],
) -> Vec<(&'a String, &'a String)> {
    let mut out: Vec<(&String, &String)> = Vec::new();
    for r in removed {
        let was = policy_settings(base, r);
        if was.is_empty() {
            continue;
        }
        if let Some(a) = added
            .iter()
            .find(|a| !out.iter().any(|(_, x)| x == *a) && policy_settings(head, a) == was)
        {
            out.push((r, a));
        }
    }
    out
}

/// A folder's last name (`base` of `runs/base/`), for the chart's title.
fn folder_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// `Ok` when `dir` is a run folder `diff` can read, else the exit-2 error naming the file.
pub fn check_folder(dir: &Path) -> Result<(), AppError> {
    read_folder(dir).map(|_| ())
}

/// The metrics compared by default: the compact table's, less the ratio to the bound.
fn default_metrics(base: &RunFolder, head: &RunFolder) -> Vec<String> {
    let mut out = vec![
        "jobs_failed".to_string(),
        "runs_with_failure_share".to_string(),
        "rejection_probability".to_string(),
    ];
    for m in &base.metrics {
        if m.starts_with("rejections_") && !m.contains('.') && head.metrics.contains(m) {
            out.push(m.clone());
        }
    }
    out.extend(["makespan_s", "job_latency_p95_s", "monthly_bill_usd"].map(String::from));
    out.retain(|m| base.metrics.contains(m) && head.metrics.contains(m));
    out
}

/// Runs `ratesim diff`.
pub fn diff(args: &DiffArgs, stdout: &mut dyn Write) -> Result<(), AppError> {
    if let Some(dir) = &args.out {
        check_out(dir)?;
    }
    let base = read_folder(&args.base)?;
    let head = read_folder(&args.head)?;
    if base.scenario != head.scenario {
        eprintln!(
            "warning: comparing scenario `{}` (base) with `{}` (head)",
            base.scenario, head.scenario
        );
    }
    let metrics = if args.metrics.is_empty() {
        default_metrics(&base, &head)
    } else {
        for m in &args.metrics {
            if !base.metrics.contains(m) || !head.metrics.contains(m) {
                return Err(AppError::BadInput(format!(
                    "--metric {m}: not a metric of both runs; they have {}",
                    base.metrics.join(", ")
                )));
            }
        }
        args.metrics.clone()
    };
    let mut thresholds: Vec<(String, Threshold)> = Vec::new();
    for f in &args.fail_on {
        let Some((m, t)) = f.rsplit_once(':') else {
            return Err(AppError::BadInput(format!(
                "--fail-on {f}: expected METRIC:THRESHOLD, e.g. rejection_probability:+2% or monthly_bill_usd:+5"
            )));
        };
        if !base.metrics.iter().any(|x| x == m) {
            return Err(AppError::BadInput(format!(
                "--fail-on {f}: unknown metric `{m}`; the runs have {}",
                base.metrics.join(", ")
            )));
        }
        let t =
            Threshold::parse(t).map_err(|e| AppError::BadInput(format!("--fail-on {f}: {e}")))?;
        thresholds.push((m.to_string(), t));
    }
    for p in &args.policies {
        if !base.policies.contains(p) && !head.policies.contains(p) {
            return Err(AppError::BadInput(format!(
                "--policy {p}: in neither run; they have {}",
                base.policies.join(", ")
            )));
        }
    }
    // Paired when both ran the same replications on the same jobs.
    let paired = base.seed == head.seed
        && base.replications == head.replications
        && !base.fingerprints.is_empty()
        && base.fingerprints == head.fingerprints;
    let why = if paired {
        "paired per replication: same seed, replications and jobs".to_string()
    } else if base.seed != head.seed {
        "unpaired (Welch): the seeds differ".to_string()
    } else if base.replications != head.replications {
        "unpaired (Welch): the replications differ".to_string()
    } else {
        "unpaired (Welch): the replications saw different jobs".to_string()
    };
    let wanted = |p: &String| args.policies.is_empty() || args.policies.contains(p);
    let added: Vec<&String> = head
        .policies
        .iter()
        .filter(|p| !base.policies.contains(p) && wanted(p))
        .collect();
    let removed: Vec<&String> = base
        .policies
        .iter()
        .filter(|p| !head.policies.contains(p) && wanted(p))
        .collect();
    let renamed = renames(&base, &head, &removed, &added);
    let column = |run: &RunFolder, p: usize, m: &str| -> Vec<f64> {
        let i = run
            .metrics
            .iter()
            .position(|x| x == m)
            .expect("a metric of the run");
        run.values[p].iter().map(|r| r[i]).collect()
    };
    let mut pairs = Vec::new();
    for (bp, name) in base.policies.iter().enumerate() {
        let Some(hp) = head.policies.iter().position(|n| n == name) else {
            continue;
        };
        if !wanted(name) {
            continue;
        }
        for m in &metrics {
            pairs.push(Pair {
                policy: name,
                metric: m,
                base: column(&base, bp, m),
                head: column(&head, hp, m),
                threshold: thresholds
                    .iter()
                    .rev()
                    .find(|(x, _)| x == m)
                    .map_or_else(|| base.rules.threshold(m), |(_, t)| *t),
            });
        }
    }
    let changes = compare(&pairs, paired);
    let count = |v: Verdict| changes.iter().filter(|c| c.verdict == v).count();
    let (regressed, improved) = (count(Verdict::Regressed), count(Verdict::Improved));
    let headline = format!(
        "{regressed} regressed, {improved} improved, {} unchanged ({why})",
        changes.len() - regressed - improved
    );
    let report = Report {
        changes: &changes,
        regressed,
        improved,
        headline,
        paired,
        why,
        added,
        removed,
        renamed,
        config: config_changes(&base, &head),
        base: &base,
        head: &head,
    };
    let (text, md, js) = (table(&report), markdown(&report), json(&report));
    if let Some(dir) = &args.out {
        let policies: Vec<String> = base
            .policies
            .iter()
            .filter(|p| head.policies.contains(p) && wanted(p))
            .cloned()
            .collect();
        let forest = crate::output::plot::Forest {
            title: format!(
                "ratesim diff: {} -> {}",
                folder_name(&args.base),
                folder_name(&args.head)
            ),
            changes: &changes,
            policies,
            metrics: metrics.clone(),
        };
        crate::output::write_folder(dir, |staging| -> Result<(), Staged> {
            for (name, body) in [("diff.txt", &text), ("diff.md", &md), ("diff.json", &js)] {
                write_file(&staging.join(name), body.as_bytes())?;
            }
            if !changes.is_empty() {
                crate::output::plot::render(&forest, staging, "diff_forest")
                    .map_err(|e| AppError::Other(anyhow::anyhow!("diff_forest: {e}")))?;
            }
            Ok(())
        })
        .map_err(|e| unstaged(e, dir))?;
    }
    let out = match args.format.as_str() {
        "json" => js,
        "markdown" => md,
        _ => text,
    };
    stdout
        .write_all(out.as_bytes())
        .map_err(|e| AppError::Other(e.into()))?;
    if regressed > 0 {
        return Err(AppError::Regressed(format!(
            "{regressed} regression{} (base {}, head {})",
            if regressed == 1 { "" } else { "s" },
            args.base.display(),
            args.head.display()
        )));
    }
    Ok(())
}

/// What a diff found, for its outputs.
struct Report<'a> {
    changes: &'a [Change],
    regressed: usize,
    improved: usize,
    /// `2 regressed, 1 improved, 37 unchanged (paired ...)`.
    headline: String,
    paired: bool,
    /// Which pairing, and why.
    why: String,
    added: Vec<&'a String>,
    removed: Vec<&'a String>,
    /// Removed and added policies with the same settings: `(base name, head name)`.
    renamed: Vec<(&'a String, &'a String)>,
    /// The configuration changes, `key: base -> head`.
    config: Vec<String>,
    base: &'a RunFolder,
    head: &'a RunFolder,
}

/// [`crate::output::signed`], rounding noise of two equal means shown as no change.
fn signed(x: f64) -> String {
    crate::output::signed(if x.abs() < 1e-12 { 0.0 } else { x })
}

fn recommendation(base: &RunFolder, head: &RunFolder) -> String {
    match (&base.recommended, &head.recommended) {
        (Some(b), Some(h)) if b == h => format!("recommendation unchanged: {h}"),
        (None, None) => "no recommendation in either run".to_string(),
        (b, h) => format!(
            "recommendation changed: {} -> {}",
            b.as_deref().unwrap_or("none"),
            h.as_deref().unwrap_or("none")
        ),
    }
}

/// One row's cells: policy, metric, base, head, change [95% CI], relative, verdict.
fn cells(c: &Change) -> [String; 7] {
    let interval = if c.change.ci_low.is_finite() {
        format!(
            "{} [{}, {}]",
            signed(c.change.mean),
            signed(c.change.ci_low),
            signed(c.change.ci_high)
        )
    } else {
        signed(c.change.mean)
    };
    [
        c.policy.clone(),
        c.metric.clone(),
        human(c.base.mean),
        human(c.head.mean),
        interval,
        c.relative()
            .map_or("-".into(), |(m, _, _)| format!("{}%", signed(m))),
        c.verdict.name().into(),
    ]
}

/// A change in one phrase: `failover-chain rejection_probability +4.1% [+3.2%, +5.0%]`.
fn phrase(c: &Change) -> String {
    match c.relative() {
        Some((m, l, h)) => format!(
            "{} {} {}% [{}%, {}%]",
            c.policy,
            c.metric,
            signed(m),
            signed(l),
            signed(h)
        ),
        None => format!("{} {} {}", c.policy, c.metric, cells(c)[4]),
    }
}

/// The Markdown of a PR comment: a headline naming the changes, a table of them, the
/// configuration changes, and every row in a collapsed table.
fn markdown(r: &Report) -> String {
    let Report {
        changes,
        regressed,
        improved,
        why,
        added,
        removed,
        base,
        head,
        config,
        ..
    } = r;
    let escape = crate::output::report::escape_markdown;
    let moved: Vec<&Change> = changes
        .iter()
        .filter(|c| c.verdict != Verdict::NoChange)
        .collect();
    let named: Vec<String> = moved
        .iter()
        .filter(|c| c.verdict == Verdict::Regressed)
        .chain(moved.iter().filter(|c| c.verdict == Verdict::Improved))
        .take(3)
        .map(|c| phrase(c))
        .collect();
    let mut out = format!(
        "**ratesim diff**: {regressed} regressed, {improved} improved, {} unchanged{}\n\n",
        changes.len() - regressed - improved,
        if named.is_empty() {
            String::new()
        } else {
            format!(": {}", named.join("; "))
        }
    );
    out.push_str(&format!("{why}; {}.\n", recommendation(base, head)));
    let row = |c: &Change| {
        let cells = cells(c);
        format!(
            "| {} | `{}` | {} | {} | {} | {} | {} |\n",
            escape(&cells[0]),
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            cells[5],
            cells[6]
        )
    };
    let header = "| policy | metric | base | head | change [95% CI] | relative | verdict |\n|---|---|---:|---:|---:|---:|---|\n";
    if !moved.is_empty() {
        out.push('\n');
        out.push_str(header);
        for c in &moved {
            out.push_str(&row(c));
        }
    }
    if !config.is_empty() {
        out.push_str("\n**Configuration changes** (the resolved scenarios, key by key):\n\n");
        for line in config {
            out.push_str(&format!("- `{line}`\n"));
        }
    }
    for (what, list) in [("Added in head", added), ("Removed in head", removed)] {
        if !list.is_empty() {
            let names: Vec<String> = list.iter().map(|s| escape(s)).collect();
            out.push_str(&format!("\n{what}: {}.\n", names.join(", ")));
        }
    }
    if !r.renamed.is_empty() {
        let pairs: Vec<String> = r
            .renamed
            .iter()
            .map(|(b, h)| format!("{} -> {}", escape(b), escape(h)))
            .collect();
        out.push_str(&format!(
            "\nRenamed, it seems (the same settings): {}.\n",
            pairs.join(", ")
        ));
    }
    out.push_str("\n<details><summary>Every policy and metric</summary>\n\n");
    out.push_str(header);
    for c in changes.iter() {
        out.push_str(&row(c));
    }
    out.push_str(
        "\nRegressed: the 95% interval of the change lies wholly beyond the threshold (1% of the \
         base mean unless the base scenario's [diff] or --fail-on sets another) in the worse \
         direction and survives a Benjamini-Hochberg \
         correction (q = 0.05) over every row.\n\n</details>\n",
    );
    out
}

fn table(r: &Report) -> String {
    let Report {
        changes,
        headline,
        added,
        removed,
        base,
        head,
        config,
        ..
    } = r;
    let mut rows = vec![[
        "policy".to_string(),
        "metric".into(),
        "base".into(),
        "head".into(),
        "change [95% CI]".into(),
        "relative".into(),
        "verdict".into(),
    ]];
    for c in changes.iter() {
        rows.push(cells(c));
    }
    let widths: Vec<usize> = (0..7)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = format!("{headline}\n{}\n\n", recommendation(base, head));
    for (k, r) in rows.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                if i < 2 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
        if k == 0 {
            out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 12));
            out.push('\n');
        }
    }
    for (what, list) in [("added in head", added), ("removed in head", removed)] {
        if !list.is_empty() {
            let names: Vec<&str> = list.iter().map(|s| s.as_str()).collect();
            out.push_str(&format!("\npolicies {what}: {}\n", names.join(", ")));
        }
    }
    if !r.renamed.is_empty() {
        let pairs: Vec<String> = r
            .renamed
            .iter()
            .map(|(b, h)| format!("{b} -> {h}"))
            .collect();
        out.push_str(&format!(
            "policies renamed, it seems (the same settings): {}\n",
            pairs.join(", ")
        ));
    }
    if !config.is_empty() {
        out.push_str("\nconfiguration changes (the resolved scenarios, key by key):\n");
        for line in config {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out.push_str(
        "\nRegressed: the 95% interval of the change lies wholly beyond the threshold (1% of the \
         base mean unless the base scenario's [diff] or --fail-on sets another) in the worse \
         direction and survives a Benjamini-Hochberg \
         correction (q = 0.05) over every row; Improved likewise in the better direction.\n",
    );
    out
}

fn json(r: &Report) -> String {
    use crate::output::report::{estimate_json as est, num_json as num};
    let changes = r.changes;
    let rows: Vec<serde_json::Value> = changes
        .iter()
        .map(|c| {
            serde_json::json!({
                "policy": c.policy,
                "metric": c.metric,
                "base": est(&c.base),
                "head": est(&c.head),
                "change": est(&c.change),
                "relative_percent": c.relative().map(|(m, l, h)| serde_json::json!({"mean": num(m), "ci_low": num(l), "ci_high": num(h)})),
                "threshold": num(c.threshold),
                "p": num(c.p),
                "verdict": c.verdict.name(),
            })
        })
        .collect();
    let doc = serde_json::json!({
        "schema": "ratesim.diff/1",
        "summary": r.headline,
        "paired": r.paired,
        "pairing": r.why,
        "base": {"scenario": r.base.scenario, "recommended": r.base.recommended},
        "head": {"scenario": r.head.scenario, "recommended": r.head.recommended},
        "added": r.added,
        "removed": r.removed,
        "renamed": r.renamed.iter().map(|(b, h)| serde_json::json!({"base": b, "head": h})).collect::<Vec<_>>(),
        "configuration_changes": r.config,
        "changes": rows,
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("JSON of plain values");
    s.push('\n');
    s
}
