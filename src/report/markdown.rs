//! A Markdown table, metrics as rows and policies as columns, ready for a PR comment.

use super::table::cell;
use super::Exporter;
use crate::summary::Summary;

/// The Markdown exporter.
pub struct Markdown;

impl Exporter for Markdown {
    fn export(&self, summary: &Summary) -> Vec<u8> {
        let mut out = format!(
            "### {}\n\n{} replications, seed {}; each cell is the mean ± the 95% confidence half-width.\n\n| metric |",
            summary.scenario, summary.replications, summary.seed
        );
        for p in &summary.policies {
            out.push_str(&format!(" {} |", p.name.replace('|', "\\|")));
        }
        out.push_str("\n|---|");
        for _ in &summary.policies {
            out.push_str("---:|");
        }
        out.push('\n');
        for (m, name) in summary.metrics.iter().enumerate() {
            out.push_str(&format!("| `{name}` |"));
            for p in &summary.policies {
                out.push_str(&format!(" {} |", cell(&p.estimates[m])));
            }
            out.push('\n');
        }
        out.into_bytes()
    }
}
