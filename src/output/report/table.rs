//! The terminal table. By default it is compact: one row per policy and a column per key
//! metric ([`key_columns`]: failures, rejections, makespan against the bound, p95
//! latency, the monthly bill), each cell the mean and its 95% interval, then the
//! recommendation ([`super::verdict`]). `--metrics all` shows every metric instead (one
//! row per metric, one column per policy, split into blocks that fit the terminal,
//! followed by a ranking of each key metric, `=` joining the policies of one rank: see
//! [`crate::stats::compare`]); `--metrics a,b` shows the compact table of those metrics.
//! A `*` after a policy's name marks the Pareto front.

use super::verdict::verdict_lines;
use super::Exporter;
use crate::output::human;
use crate::stats::compare::{Comparison, MetricComparison};
use crate::stats::summary::Summary;

/// Which metrics the table shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum View {
    /// The key metrics, a row per policy.
    #[default]
    Key,
    /// Every metric, a row per metric.
    All,
    /// These metrics, a row per policy.
    Only(Vec<String>),
}

/// The table exporter; `width` is the terminal width to fit.
pub struct Table {
    /// Characters per line to aim for.
    pub width: usize,
    /// Which metrics.
    pub view: View,
}

impl Default for Table {
    /// Fits `$COLUMNS` characters when set, else 140; the key metrics.
    fn default() -> Self {
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .filter(|&w: &usize| w >= 40)
            .unwrap_or(140);
        Table {
            width,
            view: View::Key,
        }
    }
}

/// A half-width or an interval's end, to two significant figures (three at 100 and
/// more), as [`human`] writes numbers.
fn short(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 || !a.is_finite() || a >= 100.0 {
        return human(x);
    }
    // Two significant figures, the exponent read from the rounded text (a logarithm
    // can land just below a power of ten).
    let sci = format!("{a:.1e}");
    let (Some(exp), Ok(rounded)) = (
        sci.split('e').nth(1).and_then(|e| e.parse::<i32>().ok()),
        sci.parse::<f64>(),
    ) else {
        return human(x);
    };
    if rounded >= 100.0 {
        return human(rounded.copysign(x));
    }
    if exp < -3 {
        return format!("{x:.1e}");
    }
    let digits = (1 - exp).max(0) as usize;
    format!("{:.digits$}", rounded.copysign(x))
}

/// `mean ±hw`; `mean [low, high]` when the interval is not symmetric about the mean (a
/// binomial interval, or one clipped to the metric's range); the mean alone when it
/// rests on one replication or is the same in every replication (a zero-width
/// interval); `-` when undefined.
pub fn cell(e: &crate::stats::Estimate) -> String {
    if e.n == 0 || !e.mean.is_finite() {
        return "-".into();
    }
    let scale = e.mean.abs().max(e.ci_high.abs()).max(e.ci_low.abs());
    // Rounding noise of a sum of equal values is not an interval.
    let tol = 1e-9 * scale.max(1e-300);
    let (below, above) = (e.mean - e.ci_low, e.ci_high - e.mean);
    if e.n == 1 || (below.abs() <= tol && above.abs() <= tol) {
        return human(e.mean);
    }
    if (below - above).abs() <= tol.max(1e-6 * (below + above)) {
        format!("{} ±{}", human(e.mean), short(above))
    } else {
        format!(
            "{} [{}, {}]",
            human(e.mean),
            short(e.ci_low),
            short(e.ci_high)
        )
    }
}

/// Policy `p`'s cell of `metric` in the compact tables: [`cell`], for a share of
/// replications ([`crate::metrics::is_indicator`]) how many of how many, and for a
/// metric that some replications leave undefined (`makespan_over_bound` where the
/// policy failed jobs, a latency where it completed none) how many runs it rests on.
pub fn key_cell(summary: &Summary, p: usize, metric: &str) -> String {
    match summary.get(p, metric) {
        Some(e) if crate::metrics::is_indicator(metric) && e.n > 0 => {
            format!("{}/{}", (e.mean * e.n as f64).round() as u64, e.n)
        }
        // The mean of the runs that define it, and how many of how many (its interval
        // is in the full table): a short cell, so that the table still fits.
        Some(e) if e.n > 0 && e.n < u64::from(summary.replications) => {
            format!("{} ({}/{})", human(e.mean), e.n, summary.replications)
        }
        Some(e) => cell(e),
        None => "-".into(),
    }
}

/// The compact table's columns: (label, metric), the rejection counts of every status
/// the summary has.
pub fn key_columns(summary: &Summary) -> Vec<(String, String)> {
    let mut cols: Vec<(String, String)> = vec![
        ("failed".into(), "jobs_failed".into()),
        ("runs failing".into(), "runs_with_failure_share".into()),
        ("P(reject)".into(), "rejection_probability".into()),
    ];
    for m in &summary.metrics {
        if let Some(status) = m.strip_prefix("rejections_") {
            if !status.contains('.') {
                cols.push((status.to_string(), m.clone()));
            }
        }
    }
    cols.extend([
        ("makespan s".into(), "makespan_s".into()),
        ("x bound".into(), "makespan_over_bound".into()),
        ("p95 s".into(), "job_latency_p95_s".into()),
        ("$/month".into(), "monthly_bill_usd".into()),
    ]);
    cols.retain(|(_, m)| summary.metric_index(m).is_some());
    cols
}

/// The first line: scenario, replications, seed and what a cell holds.
fn heading(summary: &Summary) -> String {
    let r = summary.replications;
    if r == 1 {
        format!(
            "{}: 1 replication, seed {} (one run's values: no intervals)\n",
            summary.scenario, summary.seed
        )
    } else {
        format!(
            "{}: {r} replications, seed {} (mean ±95% CI half-width, or [95% CI] when it is \
             not symmetric)\n",
            summary.scenario, summary.seed
        )
    }
}

/// A policy's name with `*` when it is on the Pareto front.
fn marked(summary: &Summary, p: usize) -> String {
    match &summary.comparison {
        Some(c) if c.on_front(p) => format!("{}*", summary.policies[p].name),
        _ => summary.policies[p].name.clone(),
    }
}

impl Table {
    /// Every metric: a row per metric, a column per policy, then the rankings.
    fn full(&self, summary: &Summary) -> String {
        let names = &summary.metrics;
        let mut out = heading(summary);
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
            // Each name says how many jobs it fails, where it fails any.
            let names: Vec<String> = c
                .policies
                .iter()
                .enumerate()
                .map(|(p, name)| match summary.get(p, "jobs_failed") {
                    Some(e) if e.mean > 0.0 => format!("{name} (fails {})", human(e.mean)),
                    _ => name.clone(),
                })
                .collect();
            out.push_str(&self.ranking(c, &names, label_w));
        }
        out
    }

    /// A row per policy, a column per metric of `columns` (label, metric), split into
    /// blocks of columns that fit the width.
    fn compact(&self, summary: &Summary, columns: &[(String, String)]) -> String {
        let mut out = heading(summary);
        let names: Vec<String> = (0..summary.policies.len())
            .map(|p| marked(summary, p))
            .collect();
        let name_w = names
            .iter()
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(6)
            .max(6);
        let cells: Vec<Vec<String>> = columns
            .iter()
            .map(|(_, m)| {
                (0..summary.policies.len())
                    .map(|p| key_cell(summary, p, m))
                    .collect()
            })
            .collect();
        let col_w: Vec<usize> = columns
            .iter()
            .zip(&cells)
            .map(|((label, _), c)| {
                c.iter()
                    .map(|x| x.chars().count())
                    .chain([label.chars().count()])
                    .max()
                    .unwrap_or(1)
            })
            .collect();
        let mut start = 0;
        while start < columns.len() {
            let mut end = start;
            let mut used = name_w;
            while end < columns.len() && (end == start || used + 2 + col_w[end] <= self.width) {
                used += 2 + col_w[end];
                end += 1;
            }
            out.push('\n');
            out.push_str(&format!("{:<name_w$}", "policy"));
            for ((label, _), w) in columns[start..end].iter().zip(&col_w[start..end]) {
                out.push_str(&format!("  {label:>w$}"));
            }
            out.push('\n');
            out.push_str(&"-".repeat(used));
            out.push('\n');
            for (p, name) in names.iter().enumerate() {
                out.push_str(&format!("{name:<name_w$}"));
                for (c, w) in cells[start..end].iter().zip(&col_w[start..end]) {
                    out.push_str(&format!("  {:>w$}", c[p]));
                }
                out.push('\n');
            }
            start = end;
        }
        let legend: Vec<String> = columns
            .iter()
            .filter(|(label, m)| label != m)
            .map(|(label, m)| format!("{label} = {m}"))
            .collect();
        let mut text = String::new();
        if !legend.is_empty() {
            text.push_str(&format!("columns: {};", legend.join(", ")));
        }
        if summary
            .comparison
            .as_ref()
            .is_some_and(|c| !c.pareto_front.is_empty())
        {
            text.push_str(" * on the Pareto front (rejection probability, makespan, bill) of the policies failing fewest jobs;");
        }
        if summary.policies.iter().any(|p| {
            columns.iter().any(|(_, m)| {
                summary
                    .metric_index(m)
                    .and_then(|i| p.estimates.get(i))
                    .is_some_and(|e| e.n > 0 && e.n < u64::from(summary.replications))
            })
        }) {
            text.push_str(
                " a value (k/n) is the mean of the k of n runs that define it (x bound: the runs completing every job);",
            );
        }
        text.push_str(" --metrics all shows every metric");
        out.push('\n');
        out.push_str(wrap("", words(text.trim_start()), 0, self.width).trim_start_matches(" "));
        out
    }
}

impl Exporter for Table {
    fn export(&self, summary: &Summary) -> Vec<u8> {
        let mut out = match &self.view {
            View::All => self.full(summary),
            View::Key => self.compact(summary, &key_columns(summary)),
            View::Only(list) => {
                let columns: Vec<(String, String)> =
                    list.iter().map(|m| (m.clone(), m.clone())).collect();
                self.compact(summary, &columns)
            }
        };
        let verdict = verdict_lines(summary);
        if !verdict.is_empty() {
            out.push('\n');
            for line in verdict {
                out.push_str(&line);
                out.push('\n');
            }
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
    fn ranking(&self, c: &Comparison, names: &[String], label_w: usize) -> String {
        let mut out = String::from("\nranking, best first (lower is better for each):\n");
        for m in &c.metrics {
            let head = format!("{:<label_w$}", m.metric);
            let words = ranking_words(m, names);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_widths_have_two_significant_figures() {
        for (x, text) in [
            (0.1, "0.10"),
            (0.099_999_999_9, "0.10"),
            (0.0056, "0.0056"),
            (0.000_66, "6.6e-4"),
            (2.86, "2.9"),
            (21.94, "22"),
            (99.96, "100"),
            (123.4, "123"),
            (0.0, "0"),
        ] {
            assert_eq!(short(x), text, "{x}");
        }
    }
}
