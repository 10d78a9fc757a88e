//! The terminal table: one row per metric, one column per policy, each cell
//! `mean ±half-width` of the 95% interval. Wide comparisons are split into blocks of
//! policies that fit a terminal. When the summary carries a [`Comparison`], a `*` after a
//! policy's name marks the Pareto front, and a ranking of each key metric follows the
//! rows, `=` joining the policies of one rank (see [`crate::stats::compare`]).

use super::Exporter;
use crate::output::human;
use crate::stats::compare::{Comparison, MetricComparison};
use crate::stats::summary::Summary;

/// The table exporter; `width` is the terminal width to fit.
pub struct Table {
    /// Characters per line to aim for.
    pub width: usize,
}

impl Default for Table {
    /// Fits `$COLUMNS` characters when set, else 140.
    fn default() -> Self {
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .filter(|&w: &usize| w >= 40)
            .unwrap_or(140);
        Table { width }
    }
}

/// `mean ±hw`, or the mean alone when the interval is a point.
pub fn cell(e: &crate::stats::Estimate) -> String {
    if e.n == 0 {
        "-".into()
    } else if e.n == 1 || e.half_width() <= 1e-9 * e.mean.abs().max(1.0) {
        human(e.mean)
    } else {
        format!("{} ±{}", human(e.mean), human(e.half_width()))
    }
}

impl Exporter for Table {
    fn export(&self, summary: &Summary) -> Vec<u8> {
        let names = &summary.metrics;
        let mut out = format!(
            "{} — {} replications, seed {} (mean ±95% CI half-width)\n",
            summary.scenario, summary.replications, summary.seed
        );
        let label_w = names.iter().map(String::len).max().unwrap_or(6).max(6);
        let comparison = summary.comparison.as_ref();
        let headers: Vec<String> = summary
            .policies
            .iter()
            .enumerate()
            .map(|(i, p)| match comparison {
                Some(c) if c.on_front(i) => format!("{}*", p.name),
                _ => p.name.clone(),
            })
            .collect();
        let cells: Vec<Vec<String>> = summary
            .policies
            .iter()
            .map(|p| p.estimates.iter().map(cell).collect())
            .collect();
        let col_w: Vec<usize> = headers
            .iter()
            .zip(&cells)
            .map(|(h, c)| {
                c.iter()
                    .map(|x| x.chars().count())
                    .chain([h.chars().count()])
                    .max()
                    .unwrap_or(1)
            })
            .collect();
        let mut start = 0;
        while start < cells.len() {
            let mut end = start;
            let mut used = label_w;
            while end < cells.len() && (end == start || used + 2 + col_w[end] <= self.width) {
                used += 2 + col_w[end];
                end += 1;
            }
            out.push('\n');
            out.push_str(&format!("{:<label_w$}", "metric"));
            for (h, w) in headers[start..end].iter().zip(&col_w[start..end]) {
                out.push_str(&format!("  {h:>w$}"));
            }
            out.push('\n');
            out.push_str(&"-".repeat(used));
            out.push('\n');
            for (m, name) in names.iter().enumerate() {
                out.push_str(&format!("{name:<label_w$}"));
                for (c, w) in cells[start..end].iter().zip(&col_w[start..end]) {
                    out.push_str(&format!("  {:>w$}", c[m]));
                }
                out.push('\n');
            }
            start = end;
        }
        if let Some(c) = comparison {
            out.push_str(&self.ranking(c, label_w));
        }
        out.into_bytes()
    }
}

/// The ranking of one metric as words: `1. a`, `= b`, `2. c`, ... and the unranked
/// policies, each word with the separator that goes before it.
fn ranking_words(m: &MetricComparison, names: &[String]) -> Vec<(&'static str, String)> {
    let mut words = Vec::new();
    for (r, group) in m.ranking.iter().enumerate() {
        for (i, &p) in group.iter().enumerate() {
            words.push(if i == 0 {
                ("  ", format!("{}. {}", r + 1, names[p]))
            } else {
                (" ", format!("= {}", names[p]))
            });
        }
    }
    for (i, &p) in m.unranked.iter().enumerate() {
        let sep = if i == 0 { "  " } else { " " };
        let word = if i == 0 {
            format!("(undefined: {}", names[p])
        } else {
            names[p].clone()
        };
        words.push((sep, word));
    }
    if !m.unranked.is_empty() {
        words.last_mut().expect("an unranked word").1.push(')');
    }
    words
}

/// Lays out `words` (each with the separator that goes before it) after `head`, breaking
/// lines before a word that would pass `width`; continuation lines start with `indent`
/// spaces.
fn wrap(head: &str, words: Vec<(&str, String)>, indent: usize, width: usize) -> String {
    let mut out = String::new();
    let mut line = head.to_string();
    let mut used = head.chars().count();
    for (k, (sep, word)) in words.into_iter().enumerate() {
        let len = word.chars().count();
        if k > 0 && used + sep.len() + len > width {
            out.push_str(&line);
            out.push('\n');
            line = " ".repeat(indent);
            used = indent;
        } else {
            line.push_str(sep);
            used += sep.len();
        }
        line.push_str(&word);
        used += len;
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// A sentence as words separated by single spaces.
fn words(text: &str) -> Vec<(&'static str, String)> {
    text.split(' ').map(|w| (" ", w.to_string())).collect()
}

impl Table {
    /// The ranking section: one line per key metric, then the legend, wrapped to the
    /// width.
    fn ranking(&self, c: &Comparison, label_w: usize) -> String {
        let mut out = String::from("\nranking, best first (lower is better for each):\n");
        for m in &c.metrics {
            let head = format!("{:<label_w$}", m.metric);
            let words = ranking_words(m, &c.policies);
            out.push_str(&wrap(&head, words, label_w + 2, self.width));
        }
        if !c.pareto_metrics.is_empty() {
            let text = format!(
                "Pareto front over {} (means, all minimised) among the policies that fail the fewest jobs",
                c.pareto_metrics.join(", ")
            );
            out.push_str(&wrap("*", words(&text), 2, self.width));
        }
        let text = "indistinguishable from the rank's first: the paired 95% CI of the \
                    difference contains 0, or fewer than 2 replications define it";
        out.push_str(&wrap("=", words(text), 2, self.width));
        out
    }
}
