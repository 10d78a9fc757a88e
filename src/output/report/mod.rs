//! Exporters: each turns a run's summary into bytes in one format (one file per format;
//! [`crate::output::write_atomic`] puts them in a file).

mod csv_out;
mod json;
mod markdown;
mod prometheus;
mod table;

pub use csv_out::{runs_csv, SummaryCsv};
pub use json::Json;
pub use markdown::Markdown;
pub use prometheus::Prometheus;
pub use table::Table;

use crate::stats::summary::Summary;

/// One output format of a run's summary.
pub trait Exporter {
    /// The bytes of the summary in this format.
    fn export(&self, summary: &Summary) -> Vec<u8>;
}
