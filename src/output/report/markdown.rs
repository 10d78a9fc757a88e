//! Markdown, ready for a PR comment: the compact table (a row per policy, the key
//! metrics of [`super::table::key_columns`]), every metric in a collapsed table (metrics
//! as rows), the ranking of each key metric and the paired differences against the best
//! policy that completes every job (see [`crate::stats::compare`]), and the
//! recommendation ([`super::verdict`]) at the end.

use super::table::{cell, key_cell, key_columns};
use super::verdict::verdict_lines;
use super::Exporter;
use crate::output::signed;
use crate::stats::compare::Comparison;
use crate::stats::summary::Summary;
use crate::stats::Estimate;

/// The Markdown exporter.
pub struct Markdown;

/// `name` safe in a Markdown table cell.
pub(crate) fn escape(name: &str) -> String {
    name.replace('|', "\\|")
}

/// A paired difference: `mean [low, high]`, the mean alone when the interval is a point.
fn difference(d: &Estimate) -> String {
    if d.n == 0 {
        "-".into()
    } else if d.n == 1 || d.half_width() <= 1e-9 * d.mean.abs().max(1.0) {
        signed(d.mean)
    } else {
        format!(
            "{} [{}, {}]",
            signed(d.mean),
            signed(d.ci_low),
            signed(d.ci_high)
        )
    }
}

/// The policy each key metric's differences are taken against: the best-ranked one that
/// completes every job in every replication, else the metric's best.
fn reference(summary: &Summary, m: &crate::stats::compare::MetricComparison) -> Option<usize> {
    let completes = |p: usize| {
        summary
            .get(p, "runs_with_failure_share")
            .is_some_and(|e| e.n > 0 && e.mean == 0.0)
    };
    m.ranking
        .concat()
        .into_iter()
        .find(|&p| completes(p))
        .or_else(|| m.best())
}

/// The Pareto note, the ranking table and the paired differences against the best.
fn comparison(summary: &Summary, c: &Comparison) -> String {
    let names: Vec<String> = c.policies.iter().map(|p| escape(p)).collect();
    let mut out = String::new();
    if !c.pareto_metrics.is_empty() {
        let metrics: Vec<String> = c.pareto_metrics.iter().map(|m| format!("`{m}`")).collect();
        out.push_str(&format!(
            "\n**Pareto front** (first row): `yes` when no other policy has means of {} all \
             lower or equal and one lower; only the policies that fail the fewest jobs take \
             part.\n",
            metrics.join(", ")
        ));
    }
    out.push_str(
        "\n**Ranking**, best first (lower is better). `=` joins the policies that are \
         statistically indistinguishable from the first of their rank: the 95% interval of \
         the paired difference (same replications) contains 0, or fewer than 2 replications \
         define it.\n\n| metric | ranking |\n|---|---|\n",
    );
    for m in &c.metrics {
        let mut ranks: Vec<String> = m
            .ranking
            .iter()
            .enumerate()
            .map(|(r, group)| {
                let members: Vec<&str> = group.iter().map(|&p| names[p].as_str()).collect();
                format!("{}. {}", r + 1, members.join(" = "))
            })
            .collect();
        if !m.unranked.is_empty() {
            let members: Vec<&str> = m.unranked.iter().map(|&p| names[p].as_str()).collect();
            ranks.push(format!("undefined: {}", members.join(", ")));
        }
        out.push_str(&format!("| `{}` | {} |\n", m.metric, ranks.join(" · ")));
    }
    out.push_str(
        "\n**Paired differences against the best**: each policy minus the best-ranked policy \
         that completes every job in every run (the metric's best when none does), \
         replication by replication; mean [95% interval].\n\n| metric | against |",
    );
    for n in &names {
        out.push_str(&format!(" {n} |"));
    }
    out.push_str("\n|---|---|");
    for _ in &names {
        out.push_str("---:|");
    }
    out.push('\n');
    for m in &c.metrics {
        let best = reference(summary, m);
        out.push_str(&format!(
            "| `{}` | {} |",
            m.metric,
            best.map_or("-", |b| names[b].as_str())
        ));
        for p in 0..names.len() {
            let text = match best {
                None => "-".to_string(),
                Some(b) if b == p => "reference".to_string(),
                Some(b) => difference(&m.differences[p][b]),
            };
            out.push_str(&format!(" {text} |"));
        }
        out.push('\n');
    }
    out
}

/// The compact table: a row per policy, the key metrics as columns.
fn compact(summary: &Summary) -> String {
    let columns = key_columns(summary);
    let mut out = String::from("| policy |");
    for (label, _) in &columns {
        out.push_str(&format!(" {} |", escape(label)));
    }
    out.push_str("\n|---|");
    for _ in &columns {
        out.push_str("---:|");
    }
    out.push('\n');
    for (p, policy) in summary.policies.iter().enumerate() {
        let front = summary.comparison.as_ref().is_some_and(|c| c.on_front(p));
        let mark = if front { " \\*" } else { "" };
        out.push_str(&format!("| {}{mark} |", escape(&policy.name)));
        for (_, m) in &columns {
            out.push_str(&format!(" {} |", key_cell(summary, p, m)));
        }
        out.push('\n');
    }
    let legend: Vec<String> = columns
        .iter()
        .map(|(label, m)| format!("{} = `{m}`", escape(label)))
        .collect();
    out.push_str(&format!(
        "\nColumns: {}. \\* marks the Pareto front (rejection probability, makespan, bill) \
         of the policies that fail the fewest jobs.\n",
        legend.join(", ")
    ));
    out
}

/// Every metric: a row per metric, a column per policy.
fn full(summary: &Summary) -> String {
    let mut out = String::from("| metric |");
    for p in &summary.policies {
        out.push_str(&format!(" {} |", escape(&p.name)));
    }
    out.push_str("\n|---|");
    for _ in &summary.policies {
        out.push_str("---:|");
    }
    out.push('\n');
    if let Some(c) = summary
        .comparison
        .as_ref()
        .filter(|c| !c.pareto_metrics.is_empty())
    {
        out.push_str("| **Pareto front** |");
        for p in 0..summary.policies.len() {
            out.push_str(if c.on_front(p) { " yes |" } else { " no |" });
        }
        out.push('\n');
    }
    for (m, name) in summary.metrics.iter().enumerate() {
        out.push_str(&format!("| `{name}` |"));
        for p in &summary.policies {
            out.push_str(&format!(" {} |", cell(&p.estimates[m])));
        }
        out.push('\n');
    }
    out
}

/// The recommendation as a bold line and a list.
fn recommendation(summary: &Summary) -> String {
    let lines = verdict_lines(summary);
    let Some((first, rest)) = lines.split_first() else {
        return String::new();
    };
    let mut out = format!("\n**{}**\n\n", escape(first));
    for line in rest {
        out.push_str(&format!("- {}\n", escape(line.trim_start())));
    }
    out
}

impl Exporter for Markdown {
    fn export(&self, summary: &Summary) -> Vec<u8> {
        let intervals = if summary.replications == 1 {
            "1 replication, seed {seed}: one run's values, no intervals.".to_string()
        } else {
            format!(
                "{} replications, seed {{seed}}; each cell is the mean ± the 95% confidence \
                 half-width, or [the 95% interval] when it is not symmetric about the mean.",
                summary.replications
            )
        };
        let mut out = format!(
            "### {}\n\n{}\n\n",
            summary.scenario,
            intervals.replace("{seed}", &summary.seed.to_string())
        );
        out.push_str(&compact(summary));
        out.push_str("\n<details><summary>Every metric</summary>\n\n");
        out.push_str(&full(summary));
        out.push_str("\n</details>\n");
        if let Some(c) = &summary.comparison {
            out.push_str(&comparison(summary, c));
        }
        out.push_str(&recommendation(summary));
        out.into_bytes()
    }
}
