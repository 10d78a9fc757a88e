//! Exporters: each turns a run's summary into bytes in one format, one file per format;
//! [`crate::output::write_atomic`] puts them in a file.
//!
//! The [`FORMATS`] registry below is the one place that names them: the value
//! `--format` takes to print one on standard output, the file `run --out` writes it to,
//! and the function that makes its bytes. `--format` takes its values (and its help and
//! error messages) from it, and `run --out` writes every entry that has a file. Adding
//! a format is its file here and one entry in [`FORMATS`].

mod csv_out;
mod json;
mod markdown;
pub mod prometheus;
pub mod table;
pub mod verdict;

pub use csv_out::{runs_csv, SummaryCsv};
pub use json::Json;
pub(crate) use json::{estimate as estimate_json, num as num_json};
pub(crate) use markdown::escape as escape_markdown;
pub use markdown::Markdown;
pub use prometheus::Prometheus;
pub use table::{Table, View};

use crate::metrics::Results;
use crate::stats::summary::Summary;

/// One output format of a run's summary.
pub trait Exporter {
    /// The bytes of the summary in this format.
    fn export(&self, summary: &Summary) -> Vec<u8>;
}

/// A registered output: where it goes and how its bytes are made.
#[derive(Clone, Copy, Debug)]
pub struct Format {
    /// The value of `--format` that prints it on standard output, if it can go there.
    pub name: Option<&'static str>,
    /// The file `run --out` writes it to, if any.
    pub file: Option<&'static str>,
    /// What it is, one line (the help of its `--format` value).
    pub about: &'static str,
    /// Its bytes, from a run's summary and per-replication results.
    pub export: fn(&Summary, &Results, &Options) -> Vec<u8>,
}

/// What the command line asks of the outputs that print a table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Options {
    /// The metrics the terminal table shows.
    pub view: View,
}

/// The registry of outputs, in the order `--format` lists them and `run --out` writes
/// them.
pub const FORMATS: &[Format] = &[
    Format {
        name: Some("table"),
        file: None,
        about: "Aligned table for a terminal",
        export: |summary, _, options| {
            Table {
                view: options.view.clone(),
                ..Table::default()
            }
            .export(summary)
        },
    },
    Format {
        name: Some("csv"),
        file: Some("summary.csv"),
        about: "summary.csv",
        export: |summary, _, _| SummaryCsv.export(summary),
    },
    Format {
        name: None,
        file: Some("runs.csv"),
        about: "Every replication's value of every metric",
        export: |_, results, _| runs_csv(results),
    },
    Format {
        name: Some("json"),
        file: Some("summary.json"),
        about: "JSON summary",
        export: |summary, _, _| Json.export(summary),
    },
    Format {
        name: Some("markdown"),
        file: None,
        about: "Markdown table",
        export: |summary, _, _| Markdown.export(summary),
    },
    Format {
        name: None,
        file: Some("metrics.prom"),
        about: "Prometheus text exposition",
        export: |summary, _, _| Prometheus.export(summary),
    },
];

/// The `--format` value used when none is given.
pub const DEFAULT_FORMAT: &str = "table";

/// The output `--format name` prints.
pub fn format(name: &str) -> Option<&'static Format> {
    FORMATS.iter().find(|f| f.name == Some(name))
}

/// Every value `--format` takes, in registry order.
pub fn format_names() -> impl Iterator<Item = &'static str> {
    FORMATS.iter().filter_map(|f| f.name)
}

/// The outputs `run --out` writes, with their file names, in registry order.
pub fn files() -> impl Iterator<Item = (&'static str, &'static Format)> {
    FORMATS.iter().filter_map(|f| f.file.map(|file| (file, f)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_output_goes_somewhere_under_a_name_and_file_used_once() {
        let mut names = Vec::new();
        let mut files = Vec::new();
        for f in FORMATS {
            assert!(f.name.is_some() || f.file.is_some(), "{}", f.about);
            names.extend(f.name);
            files.extend(f.file);
        }
        for list in [names, files] {
            let mut unique = list.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), list.len(), "{list:?}");
        }
    }

    #[test]
    fn the_default_format_is_registered() {
        assert!(format(DEFAULT_FORMAT).is_some());
    }
}
