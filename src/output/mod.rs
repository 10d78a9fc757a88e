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
//! - [`sweep_csv`]: `sweep.csv`, written and read back;
//! - [`sweep_table`]: a sweep's table on standard output.
//!
//! [`write_atomic`] is the one place that puts bytes in a file (a temporary file, then a
//! rename, so a reader never sees half a file), and [`write_folder`] writes a folder's
//! files as a whole (staged, then moved in, or none of them on a failure).

pub mod plot;
pub mod report;
pub mod report_md;
pub mod sweep_csv;
pub mod sweep_table;

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

/// A number for humans with its sign (`+` for positive values).
pub fn signed(x: f64) -> String {
    if x > 0.0 {
        format!("+{}", human(x))
    } else {
        human(x)
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

/// FNV-1a of `bytes`: stable across versions and platforms, unlike std's hasher.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `run.json`, what a later `ratesim diff` needs of a run folder (schema
/// `ratesim.run/1`): the ratesim version, the scenario's name, the hash of its resolved
/// TOML (`scenario.toml` beside it, when it could be printed), the seed, the
/// replications, the policies, and each replication's jobs' fingerprint (two runs
/// whose fingerprints agree saw the same jobs, so their replications can be paired).
pub fn run_json(
    scenario: &crate::scenario::Scenario,
    results: &crate::metrics::Results,
    resolved: Option<&str>,
) -> Vec<u8> {
    let hex = |x: u64| format!("{x:016x}");
    let doc = serde_json::json!({
        "schema": "ratesim.run/1",
        "ratesim_version": env!("CARGO_PKG_VERSION"),
        "scenario": scenario.name,
        "scenario_hash": resolved.map(|t| hex(fnv1a(t.as_bytes()))),
        "seed": scenario.seed,
        "replications": scenario.replications,
        "policies": results.policies,
        "job_fingerprints": results.fingerprints.iter().map(|&f| hex(f)).collect::<Vec<_>>(),
    });
    let mut out = serde_json::to_vec_pretty(&doc).expect("JSON of plain values");
    out.push(b'\n');
    out
}

/// The longest stem [`safe_stem`] makes, in bytes.
pub const MAX_STEM: usize = 96;

/// A file-name-safe, bounded and distinct form of `name`: letters, digits, `-`, `_`,
/// and (after the first character) `.` and `=` are kept, anything else becomes `_`; a
/// name that had to change, or is longer than [`MAX_STEM`], also gets 8 hex digits of a
/// hash of the whole name, so "a b", "a/b" and "a_b" get three different stems. A name
/// that is already safe is its own stem.
pub fn safe_stem(name: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' || c == '=';
    let kept = |(i, c): (usize, char)| safe(c) && (i > 0 || c != '.');
    if !name.is_empty() && name.len() <= MAX_STEM && name.chars().enumerate().all(kept) {
        return name.to_string();
    }
    let mut stem: String = name
        .chars()
        .enumerate()
        .map(|(i, c)| if kept((i, c)) { c } else { '_' })
        .take(MAX_STEM - 9)
        .collect();
    let hash = fnv1a(name.as_bytes());
    stem.push_str(&format!("-{:08x}", hash as u32 ^ (hash >> 32) as u32));
    stem
}

/// The staging folder [`write_folder`] fills inside `dir` (named by the process, so two
/// runs into one folder do not meet: `.ratesim-partial-<pid>-<hex>`).
pub fn staging_dir(dir: &Path) -> std::path::PathBuf {
    // The process number, and the time this process first asked: two containers whose
    // ratesim is process 1 writing into one shared folder still do not meet.
    static STARTED: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    let started = STARTED.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    });
    dir.join(format!(
        ".ratesim-partial-{}-{:x}",
        std::process::id(),
        started & 0xffff_ffff_ffff
    ))
}

/// Whether process `pid` may be running: false only where the system can tell it is not
/// (Linux with `/proc` mounted); elsewhere it is taken to be.
fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !(cfg!(target_os = "linux") && proc.join("self").exists())
        || proc.join(pid.to_string()).exists()
}

/// How old a staging folder of a process no longer running must be to be taken for a
/// killed run's: writing a folder takes seconds, and a folder shared with another
/// machine or container (whose processes this one cannot see) is left alone while new.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Removes the staging folders ([`staging_dir`]) that runs killed while writing into
/// `dir` left there: those named by a process that is no longer running, untouched for
/// [`STALE_AFTER`].
fn remove_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Some(Ok(pid)) = name
            .strip_prefix(".ratesim-partial-")
            .map(|rest| rest.split('-').next().unwrap_or(rest).parse::<u32>())
        else {
            continue;
        };
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= STALE_AFTER);
        if old && pid != std::process::id() && !alive(pid) && entry.path().is_dir() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Creates `dir` and the parents it lacks, one by one; returns the folders this call
/// created, innermost first (a folder that appeared meanwhile is not counted).
fn create_dirs(dir: &Path) -> io::Result<Vec<std::path::PathBuf>> {
    let mut missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.is_dir())
        .collect();
    missing.reverse();
    let mut created = Vec::new();
    for d in missing {
        match std::fs::create_dir(d) {
            Ok(()) => created.push(d.to_path_buf()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && d.is_dir() => {}
            Err(e) => {
                for c in created.iter().rev() {
                    let _ = std::fs::remove_dir(c);
                }
                return Err(e);
            }
        }
    }
    created.reverse();
    Ok(created)
}

/// Writes the files of an output folder as a whole: `fill` writes them into a staging
/// folder inside `dir`, and only once it has succeeded are they moved into `dir` (each
/// by a rename, replacing a file of the same name from an earlier run; other files in
/// `dir` are left alone). When `fill` fails, the staging folder is removed, and so are
/// `dir` and the parents this call created: nothing half-written is left. The staging
/// folder a killed run left in `dir` is removed first.
pub fn write_folder<T, E: From<io::Error>>(
    dir: &Path,
    fill: impl FnOnce(&Path) -> Result<T, E>,
) -> Result<T, E> {
    // The folders this call creates, innermost first.
    let created = create_dirs(dir)?;
    remove_stale(dir);
    let staging = staging_dir(dir);
    let cleanup = || {
        let _ = std::fs::remove_dir_all(&staging);
        for d in &created {
            // Only if empty: never removes anything but what this call made.
            let _ = std::fs::remove_dir(d);
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
        // Before moving any: a folder in the way of a file would stop the move halfway.
        if let Some(name) = names.iter().find(|n| dir.join(n).is_dir()) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} is a folder, where the run writes a file",
                    dir.join(name).display()
                ),
            ));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_folder_is_written_whole_or_not_at_all() {
        let tmp = tempfile::TempDir::new().unwrap();
        let failing = |d: &Path| -> io::Result<()> {
            write_atomic(&d.join("a.csv"), b"new")?;
            write_atomic(&d.join("b.csv"), b"new")?;
            Err(io::Error::other("the third file failed"))
        };
        // A new folder: not left behind.
        let new = tmp.path().join("new");
        assert!(write_folder(&new, failing).is_err());
        assert!(!new.exists());
        // An existing one: as it was.
        let old = tmp.path().join("old");
        std::fs::create_dir(&old).unwrap();
        std::fs::write(old.join("a.csv"), "old").unwrap();
        std::fs::write(old.join("mine.txt"), "mine").unwrap();
        assert!(write_folder(&old, failing).is_err());
        assert_eq!(names(&old), ["a.csv", "mine.txt"]);
        assert_eq!(std::fs::read_to_string(old.join("a.csv")).unwrap(), "old");
        // Success replaces the run's files, keeps the others, leaves no staging folder.
        write_folder(&old, |d: &Path| -> io::Result<()> {
            write_atomic(&d.join("a.csv"), b"new")?;
            write_atomic(&d.join("b.csv"), b"new")
        })
        .unwrap();
        assert_eq!(names(&old), ["a.csv", "b.csv", "mine.txt"]);
        assert_eq!(std::fs::read_to_string(old.join("a.csv")).unwrap(), "new");
        // A folder where a file goes: refused before anything moves.
        std::fs::create_dir(old.join("c.csv")).unwrap();
        let err = write_folder(&old, |d: &Path| -> io::Result<()> {
            write_atomic(&d.join("a.csv"), b"newer")?;
            write_atomic(&d.join("c.csv"), b"newer")
        })
        .unwrap_err();
        assert!(err.to_string().contains("is a folder"), "{err}");
        assert_eq!(std::fs::read_to_string(old.join("a.csv")).unwrap(), "new");
        assert_eq!(names(&old), ["a.csv", "b.csv", "c.csv", "mine.txt"]);
        // New parents: none left behind either, and never a folder that was there.
        let deep = tmp.path().join("x").join("y").join("z");
        assert!(write_folder(&deep, failing).is_err());
        assert!(!tmp.path().join("x").exists());
        let keep = tmp.path().join("keep");
        std::fs::create_dir(&keep).unwrap();
        let around = tmp.path().join("new1").join("..").join("keep").join("out");
        assert!(write_folder(&around, failing).is_err());
        assert!(keep.is_dir() && !keep.join("out").exists());
        assert!(!tmp.path().join("new1").exists());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_killed_runs_staging_folder_is_removed_by_the_next_run() {
        let tmp = tempfile::TempDir::new().unwrap();
        // No process has this number (Linux numbers them below 2^22).
        let stale = tmp.path().join(".ratesim-partial-4294967294-1f");
        std::fs::create_dir(&stale).unwrap();
        std::fs::write(stale.join("summary.csv"), "half").unwrap();
        // A dead process's, but new: perhaps another machine's, writing now.
        let new = tmp.path().join(".ratesim-partial-4294967293-2e");
        std::fs::create_dir(&new).unwrap();
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        // A running process's (this one's parent) is kept.
        let live = tmp.path().join(format!(
            ".ratesim-partial-{}",
            std::os::unix::process::parent_id()
        ));
        std::fs::create_dir(&live).unwrap();
        for old in [&stale, &live] {
            std::fs::File::open(old)
                .unwrap()
                .set_modified(hour_ago)
                .unwrap();
        }
        std::fs::write(tmp.path().join(".ratesim-partial-x"), "a user's file").unwrap();
        write_folder(tmp.path(), |d: &Path| {
            write_atomic(&d.join("a.csv"), b"new")
        })
        .unwrap();
        assert!(!stale.exists());
        assert!(new.exists());
        assert!(live.exists());
        assert!(tmp.path().join(".ratesim-partial-x").exists());
    }

    #[test]
    fn stems_are_safe_bounded_and_distinct() {
        assert_eq!(safe_stem("failover-chain"), "failover-chain");
        assert_eq!(safe_stem("workload.jobs=300"), "workload.jobs=300");
        let three = [safe_stem("a b"), safe_stem("a/b"), safe_stem("a_b")];
        assert_eq!(three[2], "a_b");
        assert!(three[0] != three[1] && three[0] != three[2] && three[1] != three[2]);
        for name in [
            "a b",
            "a/b",
            "x/../../escaped",
            "..",
            ".hidden",
            "",
            &"p".repeat(300),
        ] {
            let s = safe_stem(name);
            assert!(!s.is_empty() && s.len() <= MAX_STEM, "{name:?} -> {s:?}");
            assert!(!s.starts_with('.') && !s.contains('/'), "{name:?} -> {s:?}");
        }
        // Bounded names stay distinct.
        assert_ne!(safe_stem(&"p".repeat(300)), safe_stem(&"p".repeat(301)));
    }
}
