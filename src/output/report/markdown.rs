//! A Markdown table, metrics as rows and policies as columns, ready for a PR comment.
//! When the summary carries a [`Comparison`], a first row marks the Pareto front, and a
//! ranking table and a table of paired differences against each key metric's best policy
//! follow (see [`crate::stats::compare`]).

use super::table::cell;
use super::Exporter;
use crate::output::human;
use crate::stats::compare::Comparison;
use crate::stats::summary::Summary;
use crate::stats::Estimate;

/// The Markdown exporter.
pub struct Markdown;

fn escape(name: &str) -> String {
    name.replace('|', "\\|")
}

/// A number with its sign (`+` for positive values).
fn signed(x: f64) -> String {
    if x > 0.0 {
        format!("+{}", human(x))
    } else {
        human(x)
    }
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

/// The Pareto note, the ranking table and the paired differences against the best.
fn comparison(c: &Comparison) -> String {
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
        "\n**Paired differences against the best**: each policy minus the metric's best \
         policy, replication by replication; mean [95% interval].\n\n| metric | best |",
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
        let best = m.best();
        out.push_str(&format!(
            "| `{}` | {} |",
            m.metric,
            best.map_or("-", |b| names[b].as_str())
        ));
        for p in 0..names.len() {
            let text = match best {
                None => "-".to_string(),
                Some(b) if b == p => "best".to_string(),
                Some(b) => difference(&m.differences[p][b]),
            };
            out.push_str(&format!(" {text} |"));
        }
        out.push('\n');
    }
    out
}

impl Exporter for Markdown {
    fn export(&self, summary: &Summary) -> Vec<u8> {
        let mut out = format!(
            "### {}\n\n{} replications, seed {}; each cell is the mean ± the 95% confidence half-width.\n\n| metric |",
            summary.scenario, summary.replications, summary.seed
        );
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
        if let Some(c) = &summary.comparison {
            out.push_str(&comparison(c));
        }
        out.into_bytes()
    }
}
