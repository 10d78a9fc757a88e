//! `report.md`: the comparison table and the charts, ready to paste into a PR or a
//! design document.

use crate::output::plot::Drawn;
use crate::output::report::{Exporter, Markdown};
use crate::stats::summary::Summary;

/// The report's bytes; `charts` are linked by their PNG files beside it.
pub fn report_markdown(summary: &Summary, charts: &[Drawn]) -> Vec<u8> {
    let mut out = format!("# ratesim report: {}\n\n", summary.scenario);
    if !summary.description.is_empty() {
        out.push_str(&format!("{}\n\n", summary.description));
    }
    let table = String::from_utf8(Markdown.export(summary)).expect("UTF-8");
    out.push_str(table.trim_start_matches(&format!("### {}\n\n", summary.scenario)));
    for c in charts {
        out.push_str(&format!(
            "\n## {}\n\n![{}]({}.png)\n\n([SVG]({}.svg))\n",
            c.caption, c.caption, c.stem, c.stem
        ));
    }
    out.into_bytes()
}
