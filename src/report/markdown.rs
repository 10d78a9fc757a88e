//! A Markdown table, metrics as rows and policies as columns, ready for a PR comment.

use super::table::cell;
use super::{Exporter, Report};

/// The Markdown exporter.
pub struct Markdown;

impl Exporter for Markdown {
    fn export(&self, report: &Report) -> Vec<u8> {
        let s = report.scenario;
        let mut out = format!(
            "### {}\n\n{} replications, seed {}; each cell is the mean ± the 95% confidence half-width.\n\n| metric |",
            s.name, s.replications, s.seed
        );
        for p in &report.summary {
            out.push_str(&format!(" {} |", p.name.replace('|', "\\|")));
        }
        out.push_str("\n|---|");
        for _ in &report.summary {
            out.push_str("---:|");
        }
        out.push('\n');
        for (m, name) in report.results.catalog.names().iter().enumerate() {
            out.push_str(&format!("| `{name}` |"));
            for p in &report.summary {
                out.push_str(&format!(" {} |", cell(&p.estimates[m])));
            }
            out.push('\n');
        }
        out.into_bytes()
    }
}
