//! The terminal table: one row per metric, one column per policy, each cell
//! `mean ±half-width` of the 95% interval. Wide comparisons are split into blocks of
//! policies that fit a terminal.

use super::{human, Exporter};
use crate::summary::Summary;

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
pub fn cell(e: &crate::metrics::stats::Estimate) -> String {
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
        let cells: Vec<Vec<String>> = summary
            .policies
            .iter()
            .map(|p| p.estimates.iter().map(cell).collect())
            .collect();
        let col_w: Vec<usize> = summary
            .policies
            .iter()
            .zip(&cells)
            .map(|(p, c)| {
                c.iter()
                    .map(|x| x.chars().count())
                    .chain([p.name.chars().count()])
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
            for (p, w) in summary.policies[start..end].iter().zip(&col_w[start..end]) {
                out.push_str(&format!("  {:>w$}", p.name));
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
        out.into_bytes()
    }
}
