//! A sweep's table for standard output: one row per point and policy, a column per swept
//! key and per metric, each cell `mean ±half-width` of the 95% interval. A policy that
//! fails jobs at a point is flagged on that row (its mean `jobs_failed` in the column
//! after the policy, and `!` after each other value), so a policy that gives up never reads as the
//! fastest or cheapest. The same rows print as aligned text or as a Markdown table.

use crate::output::plot::words::key_title;
use crate::stats::sweep::Sweep;
use crate::stats::Estimate;

/// How the table is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Aligned columns for a terminal.
    Text,
    /// A Markdown table (for a PR comment).
    Markdown,
}

/// As the run table writes an estimate ([`crate::output::report::table::cell`]): `mean
/// ±hw`, `mean [low, high]` when the interval is not symmetric, the mean alone when it
/// is a point, `-` when undefined.
fn cell(e: Option<&Estimate>) -> String {
    e.map_or("-".into(), crate::output::report::table::cell)
}

/// The failure metric every sweep tabulates, and the flag of a row that fails jobs.
pub const FAILED: &str = "jobs_failed";

/// The table of `sweep`, run with `replications` replications from `seed`.
pub fn sweep_table(sweep: &Sweep, replications: u32, seed: u64, style: Style) -> Vec<u8> {
    let others: Vec<&String> = sweep.metrics.iter().filter(|m| *m != FAILED).collect();
    let short = sweep.short_keys();
    // Durations are tabulated in seconds: say so where the key is a well-known one.
    let mut header: Vec<String> = short
        .iter()
        .zip(&sweep.keys)
        .map(|(s, k)| match key_title(k).ends_with(" (s)") {
            true => format!("{s} (s)"),
            false => s.clone(),
        })
        .collect();
    header.push("policy".into());
    header.push(FAILED.into());
    header.extend(others.iter().map(|m| m.to_string()));
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut any_failed = false;
    let lookup = sweep.lookup();
    let points = sweep.points();
    for (pi, &keys) in points.iter().enumerate() {
        for (i, p) in sweep.policies.iter().enumerate() {
            let failed = lookup.get(keys, p, FAILED);
            let fails = failed.is_some_and(|e| e.mean > 0.0);
            any_failed |= fails;
            let flag = if fails { " !" } else { "" };
            let mut row: Vec<String> = if i == 0 || style == Style::Markdown {
                keys.iter().map(|k| k.label()).collect()
            } else {
                vec![String::new(); keys.len()]
            };
            row.push(p.clone());
            row.push(cell(failed));
            for m in &others {
                row.push(format!("{}{flag}", cell(lookup.get(keys, p, m))));
            }
            if i == 0 && pi > 0 && style == Style::Text {
                rows.push(Vec::new());
            }
            rows.push(row);
        }
    }
    let reps = match replications {
        1 => "1 replication (no interval)".to_string(),
        r => format!("{r} replications, mean ±95% CI half-width (or [95% CI] when not symmetric)"),
    };
    let mut out = format!(
        "{}: sweep of {} points x {} policies, {reps}, seed {seed}\n",
        sweep.scenario,
        points.len(),
        sweep.policies.len(),
    );
    for (s, k) in short.iter().zip(&sweep.keys) {
        if s != k {
            let bullet = if style == Style::Markdown { "- " } else { "" };
            out.push_str(&format!("{bullet}{s} = {k}\n"));
        }
    }
    if style == Style::Markdown {
        out.push('\n');
        out.push_str(&format!("| {} |\n", header.join(" | ")));
        let align: Vec<&str> = header
            .iter()
            .enumerate()
            .map(|(i, _)| if i == sweep.keys.len() { "---" } else { "---:" })
            .collect();
        out.push_str(&format!("|{}|\n", align.join("|")));
        for r in &rows {
            let cells: Vec<String> = r.iter().map(|c| c.replace('|', "\\|")).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
    } else {
        let widths: Vec<usize> = (0..header.len())
            .map(|c| {
                rows.iter()
                    .filter_map(|r| r.get(c))
                    .chain([&header[c]])
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let policy_col = sweep.keys.len();
        let line = |r: &[String]| -> String {
            let cells: Vec<String> = r
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(c, (s, &w))| {
                    if c == policy_col {
                        format!("{s:<w$}")
                    } else {
                        format!("{s:>w$}")
                    }
                })
                .collect();
            cells.join("  ").trim_end().to_string() + "\n"
        };
        out.push_str(&line(&header));
        for r in &rows {
            if r.is_empty() {
                out.push('\n');
            } else {
                out.push_str(&line(r));
            }
        }
    }
    if any_failed {
        out.push_str(&format!(
            "\n! the policy fails jobs at that point ({FAILED} > 0): its values cover only the jobs it finished; weigh it only against policies that fail as few\n"
        ));
    }
    out.into_bytes()
}
