//! Outputs: what a run's results become for people and machines. Everything here reads
//! plain data (a [`crate::stats::summary::Summary`], the per-replication
//! [`crate::metrics::Results`], timeline rows, a [`crate::stats::sweep::Sweep`]), never
//! the runner or the engine, so `ratesim plot DIR` draws the same charts from files.
//!
//! - [`report`]: one exporter per format (table, CSV, JSON, Markdown, Prometheus),
//!   registered in [`report::FORMATS`];
//! - [`plot`]: one file per chart, SVG and PNG, a run's charts registered in
//!   [`plot::RUN_CHARTS`];
//! - [`report_md`]: `report.md`, the comparison and every chart;
//! - [`sweep_csv`]: `sweep.csv`, written and read back.
//!
//! [`write_atomic`] is the one place that puts bytes in a file (a temporary file, then a
//! rename, so a reader never sees half a file), and [`write_folder`] writes a folder's
//! files as a whole (staged, then moved in, or none of them on a failure).

pub mod plot;
pub mod report;
pub mod report_md;
pub mod sweep_csv;

use std::io::{self, Write};
use std::path::Path;

/// A number for humans: about three significant figures, no exponent.
pub fn human(x: f64) -> String {
    if x.is_nan() {
        return "-".into();
    }
    let a = x.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else if a >= 0.001 {
        format!("{x:.3}")
    } else if a >= 0.0001 {
        format!("{x:.5}")
    } else {
        format!("{x:.2e}")
    }
}

/// A number for machines: the shortest text that reads back as the same `f64`; empty for
/// an undefined value.
pub fn exact(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "output path has no file name")
    })?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes the files of an output folder as a whole: `fill` writes them into a staging
/// folder inside `dir`, and only once it has succeeded are they moved into `dir` (each
/// by a rename, replacing a file of the same name from an earlier run; other files in
/// `dir` are left alone). When `fill` fails, the staging folder is removed, and so is
/// `dir` if this call created it: nothing half-written is left.
pub fn write_folder<T, E: From<io::Error>>(
    dir: &Path,
    fill: impl FnOnce(&Path) -> Result<T, E>,
) -> Result<T, E> {
    let existed = dir.exists();
    std::fs::create_dir_all(dir)?;
    let staging = dir.join(format!(".ratesim-partial-{}", std::process::id()));
    let cleanup = || {
        let _ = std::fs::remove_dir_all(&staging);
        if !existed {
            // Only if empty: never removes anything but what this call made.
            let _ = std::fs::remove_dir(dir);
        }
    };
    let _ = std::fs::remove_dir_all(&staging);
    if let Err(e) = std::fs::create_dir(&staging) {
        cleanup();
        return Err(e.into());
    }
    let value = match fill(&staging) {
        Ok(v) => v,
        Err(e) => {
            cleanup();
            return Err(e);
        }
    };
    let moved = (|| {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&staging)? {
            names.push(entry?.file_name());
        }
        // In name order, so that what a reader sees appear does not depend on the OS.
        names.sort();
        for name in names {
            std::fs::rename(staging.join(&name), dir.join(&name))?;
        }
        std::fs::remove_dir(&staging)
    })();
    if let Err(e) = moved {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e.into());
    }
    Ok(value)
}
