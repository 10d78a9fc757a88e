//! Mutation fuzzing of the command-line contract (issue 14): seeded random edits of the
//! bundled scenarios, valid ones with extreme values included, run through `validate`,
//! `run --out` and `plot` under a timeout and a memory limit.
//!
//! The contract checked for every case: exit code 0 or 2, never a panic (101) or a
//! signal (an allocation abort, a file-size limit, a timeout); a rejection names what is
//! wrong on standard error and leaves standard output empty and no output folder; `run`
//! rejects what `validate` rejects; every file a successful run writes parses, and `plot`
//! redraws its folder.
//!
//! The fast test runs [`FAST_CASES`] cases in `cargo test`. The long one is ignored:
//!
//! ```text
//! RATESIM_FUZZ_CASES=2000 cargo test --test it fuzz -- --ignored
//! ```
//!
//! (`RATESIM_FUZZ_SEED` picks another seed; `RATESIM_FUZZ_VERBOSE=1` prints each case's
//! mutations and rejection.) A failure prints the seed, the case, the
//! mutations and the scenario text, which reproduces it with `ratesim run FILE`.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tempfile::TempDir;
use toml::{Table, Value};

use crate::common::bundled_scenarios;

/// Cases of the fast test.
const FAST_CASES: u64 = 48;

/// Seed of the fast test.
const FAST_SEED: u64 = 14;

/// Default seed of the long test (another one than the fast test's).
const LONG_SEED: u64 = 1414;

/// Wall-clock limit of one command: generous, so that a loaded machine does not fail.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Address-space limit of one command.
const MEMORY_BYTES: u64 = 2 << 30;

/// Limit on the size of any file one command writes.
const FILE_BYTES: u64 = 512 << 20;

/// How hard a fuzz run works.
#[derive(Clone, Copy, Debug)]
struct Budget {
    /// Keep at most this many policies of a scenario.
    policies: usize,
    /// Redraw one successful run's folder in this many.
    plot_every: u64,
    /// Chance that the workload keeps its bundled job count.
    full_jobs: f64,
}

const FAST: Budget = Budget {
    policies: 2,
    plot_every: 4,
    full_jobs: 0.0,
};

const LONG: Budget = Budget {
    policies: 6,
    plot_every: 1,
    full_jobs: 0.2,
};

#[test]
fn mutated_scenarios_keep_the_exit_code_and_output_contract() {
    fuzz(FAST_SEED, FAST_CASES, FAST);
}

#[test]
#[ignore = "long: RATESIM_FUZZ_CASES=2000 cargo test --test it fuzz -- --ignored"]
fn mutated_scenarios_keep_the_contract_long() {
    let var = |name: &str, default: u64| {
        std::env::var(name).map_or(default, |v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} must be a number"))
        })
    };
    fuzz(
        var("RATESIM_FUZZ_SEED", LONG_SEED),
        var("RATESIM_FUZZ_CASES", 500),
        LONG,
    );
}

/// Runs `cases` cases from `seed`; panics with every failure found.
fn fuzz(seed: u64, cases: u64, budget: Budget) {
    let bases: Vec<(PathBuf, Value)> = bundled_scenarios()
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let value = text.parse::<Table>().unwrap();
            (p, Value::Table(value))
        })
        .collect();
    let pools = Pools::from(bases.iter().map(|(_, v)| v));
    let limiter = Limiter::find();
    let dir = TempDir::new().unwrap();
    let mut failures = Vec::new();
    let mut outcomes = [0; 3];
    for case in 0..cases {
        let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ case);
        let (base_path, base) = bases.choose(&mut rng).unwrap();
        let mut value = base.clone();
        shrink(&mut value, &mut rng, budget);
        // Half of the cases take only edits that tend to keep a scenario valid, so
        // that extreme values reach the engine and not only the validator.
        let gentle = rng.random_bool(0.5);
        let mutations: Vec<String> = (0..rng.random_range(1..=2))
            .filter_map(|_| mutate(&mut value, &mut rng, &pools, gentle))
            .collect();
        let text = toml::to_string(&value).unwrap_or_else(|e| panic!("{e}"));
        let case_dir = dir.path().join(format!("case{case}"));
        std::fs::create_dir(&case_dir).unwrap();
        let plot = case % budget.plot_every == 0;
        if std::env::var_os("RATESIM_FUZZ_VERBOSE").is_some() {
            eprintln!("fuzz case {case}: {mutations:?}");
        }
        match check(&limiter, &case_dir, &text, plot) {
            Ok(outcome) => outcomes[outcome as usize] += 1,
            Err(symptom) => failures.push(format!(
                "seed {seed} case {case}: from {}, mutations {mutations:?}\n{symptom}\n\
                 --- scenario ---\n{text}",
                base_path.file_name().unwrap().to_string_lossy()
            )),
        }
        std::fs::remove_dir_all(&case_dir).unwrap();
    }
    eprintln!(
        "fuzz: {cases} cases: {} rejected by validate, {} by run, {} ran; {} failed",
        outcomes[Outcome::Invalid as usize],
        outcomes[Outcome::RunRejected as usize],
        outcomes[Outcome::Ran as usize],
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} fuzz cases broke the contract:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Keeps a case fast: 1 to 3 replications, a small job count (unless the budget keeps
/// the bundled one), at most `budget.policies` policies.
fn shrink(value: &mut Value, rng: &mut ChaCha8Rng, budget: Budget) {
    let top = value.as_table_mut().unwrap();
    top.insert(
        "replications".into(),
        Value::Integer(rng.random_range(1..=3)),
    );
    if !rng.random_bool(budget.full_jobs) {
        if let Some(jobs) = top.get_mut("workload").and_then(|w| w.get_mut("jobs")) {
            *jobs = Value::Integer(rng.random_range(1..=30));
        }
    }
    if let Some(Value::Array(policies)) = top.get_mut("policies") {
        while policies.len() > budget.policies {
            policies.remove(rng.random_range(0..policies.len()));
        }
    }
}

/// One step of a path into a TOML value.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// A path from the root, printed like a `sweep --set` key.
type KeyPath = Vec<Step>;

fn show(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Key(k) if s.is_empty() => s.push_str(k),
            Step::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Every path in `value` (the root excluded), depth first.
fn paths(value: &Value) -> Vec<KeyPath> {
    fn walk(v: &Value, at: &mut KeyPath, out: &mut Vec<KeyPath>) {
        match v {
            Value::Table(t) => {
                for (k, child) in t {
                    at.push(Step::Key(k.clone()));
                    out.push(at.clone());
                    walk(child, at, out);
                    at.pop();
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    at.push(Step::Index(i));
                    out.push(at.clone());
                    walk(child, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut Vec::new(), &mut out);
    out
}

fn get<'a>(value: &'a Value, path: &[Step]) -> &'a Value {
    path.iter().fold(value, |v, step| match step {
        Step::Key(k) => &v[k.as_str()],
        Step::Index(i) => &v[*i],
    })
}

fn get_mut<'a>(value: &'a mut Value, path: &[Step]) -> &'a mut Value {
    path.iter().fold(value, |v, step| match step {
        Step::Key(k) => v.get_mut(k.as_str()).unwrap(),
        Step::Index(i) => v.get_mut(*i).unwrap(),
    })
}

/// The last key on a path (the key a value sits under, through array indices).
fn last_key(path: &[Step]) -> Option<&str> {
    path.iter().rev().find_map(|s| match s {
        Step::Key(k) => Some(k.as_str()),
        Step::Index(_) => None,
    })
}

/// Keys whose string values name a kind, with every value the bundled scenarios use.
struct Pools {
    kinds: Vec<(String, Vec<String>)>,
}

/// Keys that choose among named variants.
const KIND_KEYS: &[&str] = &[
    "kind",
    "dist",
    "unit",
    "backoff",
    "jitter",
    "on_full",
    "pick",
    "preset",
    "style",
    "while_out",
];

impl Pools {
    fn from<'a>(values: impl Iterator<Item = &'a Value>) -> Pools {
        let mut kinds: Vec<(String, Vec<String>)> = KIND_KEYS
            .iter()
            .map(|k| (k.to_string(), Vec::new()))
            .collect();
        for v in values {
            for p in paths(v) {
                if let (Some(key), Value::String(s)) = (last_key(&p), get(v, &p)) {
                    if let Some((_, pool)) = kinds.iter_mut().find(|(k, _)| k == key) {
                        if !pool.contains(s) {
                            pool.push(s.clone());
                        }
                    }
                }
            }
        }
        Pools { kinds }
    }

    fn values(&self, key: &str) -> Option<&[String]> {
        self.kinds
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }
}

/// Numbers at the edges: zero, negative, tiny, huge, the integer limits, not finite.
fn extreme_number(rng: &mut ChaCha8Rng) -> Value {
    let choices = [
        Value::Integer(0),
        Value::Integer(-1),
        Value::Integer(1),
        Value::Integer(i64::from(u32::MAX)),
        Value::Integer(i64::from(u32::MAX) + 1),
        Value::Integer(i64::MAX),
        Value::Integer(i64::MIN),
        Value::Float(1e-300),
        Value::Float(5e-324),
        Value::Float(1e308),
        Value::Float(-1e308),
        Value::Float(u64::MAX as f64),
        Value::Float(f64::NAN),
        Value::Float(f64::INFINITY),
        Value::Float(-0.0),
        Value::Float(0.5),
        Value::String("NaN".into()),
    ];
    choices.choose(rng).unwrap().clone()
}

/// Durations at the edges that are well formed: zero, one tick, past the longest
/// simulated time.
const DURATIONS: &[&str] = &[
    "0ns",
    "0s",
    "1ns",
    "1us",
    "0.000000001s",
    "1000000000000000s",
    "3155760000s",
    "3155760001s",
    "36500d",
    "100000h",
    "1000h",
    "1h",
];

/// Durations that are not well formed (or not representable).
const BAD_DURATIONS: &[&str] = &[
    "1e15s",
    "1e300s",
    "18446744073709551615ns",
    "-1s",
    "NaNs",
    "infs",
    "1e-300s",
    "5",
    "1 s",
    "1y",
];

/// Whether a string reads as a duration (`"250ms"`, `"1.5s"`, `"10m"`).
fn is_duration(s: &str) -> bool {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    !digits.is_empty()
        && digits != s
        && digits.parse::<f64>().is_ok()
        && ["ns", "us", "ms", "s", "m", "h", "d"].contains(&&s[digits.len()..])
}

/// Applies one random mutation (when `gentle`, one that tends to keep the scenario
/// valid: a number scaled, a well-formed duration, a list element repeated or dropped, a
/// workload size); returns what it did, or `None` when it found nothing to change.
fn mutate(value: &mut Value, rng: &mut ChaCha8Rng, pools: &Pools, gentle: bool) -> Option<String> {
    let all = paths(value);
    let pick = |rng: &mut ChaCha8Rng, f: &dyn Fn(&KeyPath, &Value) -> bool| {
        let fit: Vec<&KeyPath> = all.iter().filter(|p| f(p, get(value, p))).collect();
        fit.choose(rng).map(|p| (*p).clone())
    };
    let class = if gentle {
        *[0, 3, 6, 8, 10].choose(rng).unwrap()
    } else {
        rng.random_range(0..12)
    };
    match class {
        // A number: an extreme, or scaled by a power of ten.
        0..=2 => {
            let p = pick(rng, &|_, v| v.is_integer() || v.is_float())?;
            let old = get(value, &p).clone();
            let new = if !gentle && rng.random_bool(0.4) {
                extreme_number(rng)
            } else {
                let scale = 10f64.powi(rng.random_range(-12..=15));
                match old {
                    Value::Integer(i) => {
                        let x = (i as f64 * scale).round();
                        if x.abs() < 9e18 {
                            Value::Integer(x as i64)
                        } else {
                            Value::Float(x)
                        }
                    }
                    Value::Float(f) => Value::Float(f * scale),
                    _ => unreachable!(),
                }
            };
            let what = format!("number {} = {new}", show(&p));
            *get_mut(value, &p) = new;
            Some(what)
        }
        // A duration string.
        3 | 4 => {
            let p = pick(rng, &|_, v| v.as_str().is_some_and(is_duration))?;
            let from = if gentle || rng.random_bool(0.8) {
                DURATIONS
            } else {
                BAD_DURATIONS
            };
            let new = *from.choose(rng).unwrap();
            *get_mut(value, &p) = Value::String(new.into());
            Some(format!("duration {} = {new:?}", show(&p)))
        }
        // Delete a key.
        5 => {
            let p = pick(rng, &|p, _| matches!(p.last(), Some(Step::Key(_))))?;
            let Some(Step::Key(k)) = p.last() else {
                unreachable!()
            };
            get_mut(value, &p[..p.len() - 1])
                .as_table_mut()
                .unwrap()
                .remove(k);
            Some(format!("delete {}", show(&p)))
        }
        // Duplicate a table: an array element appended again, or a provider copied under
        // a new name.
        6 => {
            let p = pick(rng, &|p, v| {
                v.is_table()
                    && (matches!(p.last(), Some(Step::Index(_)))
                        || (p.len() == 2 && last_key(&p[..1]) == Some("providers")))
            })?;
            let copy = get(value, &p).clone();
            let parent = get_mut(value, &p[..p.len() - 1]);
            match (parent, p.last().unwrap()) {
                (Value::Array(a), _) => a.push(copy),
                (Value::Table(t), Step::Key(k)) => {
                    t.insert(format!("{k}-copy"), copy);
                }
                _ => unreachable!(),
            }
            Some(format!("duplicate {}", show(&p)))
        }
        // Change a kind (to another known one, or an unknown one).
        7 => {
            let p = pick(rng, &|p, v| {
                v.is_str() && last_key(p).is_some_and(|k| pools.values(k).is_some())
            })?;
            let pool = pools.values(last_key(&p).unwrap()).unwrap();
            let new = if rng.random_bool(0.85) {
                pool.choose(rng).cloned().unwrap_or_default()
            } else {
                "no-such-kind".into()
            };
            let what = format!("kind {} = {new:?}", show(&p));
            *get_mut(value, &p) = Value::String(new);
            Some(what)
        }
        // Shorten a list.
        8 => {
            let p = pick(rng, &|_, v| v.as_array().is_some_and(|a| !a.is_empty()))?;
            let a = get_mut(value, &p).as_array_mut().unwrap();
            let len = rng.random_range(0..a.len());
            a.truncate(len);
            Some(format!("shorten {} to {len}", show(&p)))
        }
        // Another type.
        9 => {
            let p = pick(rng, &|_, _| true)?;
            let new = [
                Value::String("x".into()),
                Value::String(String::new()),
                Value::Boolean(true),
                Value::Integer(1),
                Value::Array(Vec::new()),
                Value::Table(Table::new()),
            ]
            .choose(rng)
            .unwrap()
            .clone();
            let what = format!("retype {} = {new}", show(&p));
            *get_mut(value, &p) = new;
            Some(what)
        }
        // The workload's size and concurrency, the knobs of the run's cost.
        _ => {
            let w = value.get_mut("workload")?.as_table_mut()?;
            let key = *["jobs", "concurrency", "requests_per_job", "rate_per_s"]
                .choose(rng)
                .unwrap();
            let new = if key == "rate_per_s" {
                Value::Float(*[1e-9, 1e-3, 1e3, 1e9].choose(rng).unwrap())
            } else {
                Value::Integer(*[0, 1, 1000, i64::from(u32::MAX)].choose(rng).unwrap())
            };
            let what = format!("workload.{key} = {new}");
            w.insert(key.into(), new);
            Some(what)
        }
    }
}

/// Where the command's limits come from.
enum Limiter {
    /// `prlimit --as=... --fsize=... -- ratesim ...`
    Prlimit,
    /// `sh -c 'ulimit -v ...; ulimit -f ...; exec ratesim ...'`
    Shell,
}

impl Limiter {
    fn find() -> Limiter {
        let has_prlimit = std::process::Command::new("prlimit")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if has_prlimit {
            Limiter::Prlimit
        } else {
            Limiter::Shell
        }
    }

    /// `ratesim args` under the memory, file-size and time limits.
    fn command(&self, args: &[&std::ffi::OsStr]) -> assert_cmd::Command {
        let bin = Path::new(env!("CARGO_BIN_EXE_ratesim"));
        let mut cmd = match self {
            Limiter::Prlimit => {
                let mut c = assert_cmd::Command::new("prlimit");
                c.arg(format!("--as={MEMORY_BYTES}"))
                    .arg(format!("--fsize={FILE_BYTES}"))
                    .arg("--")
                    .arg(bin);
                c
            }
            Limiter::Shell => {
                let mut c = assert_cmd::Command::new("sh");
                c.arg("-c")
                    .arg(format!(
                        "ulimit -v {} && ulimit -f {} && exec \"$0\" \"$@\"",
                        MEMORY_BYTES / 1024,
                        FILE_BYTES / 512
                    ))
                    .arg(bin);
                c
            }
        };
        cmd.args(args).timeout(TIMEOUT);
        cmd
    }
}

/// The outcome of one command, or a description of how it broke the contract.
fn run(limiter: &Limiter, what: &str, args: &[&std::ffi::OsStr]) -> Result<Output, String> {
    let started = Instant::now();
    let out = limiter
        .command(args)
        .output()
        .map_err(|e| format!("{what}: could not start: {e}"))?;
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    if took >= TIMEOUT {
        return Err(format!("{what}: still running after {took:?} (killed)"));
    }
    match code {
        Some(0 | 2) => Ok(out),
        Some(101) => Err(format!("{what}: panicked (exit 101)\n{stderr}")),
        Some(c) => Err(format!("{what}: exit {c}\n{stderr}")),
        None => Err(format!(
            "{what}: killed by a signal ({:?}) after {took:?}: abort, memory or file-size \
             limit\n{stderr}",
            std::os::unix::process::ExitStatusExt::signal(&out.status)
        )),
    }
}

/// Checks a rejection: a message on standard error, nothing on standard output.
fn check_rejection(what: &str, out: &Output) -> Result<(), String> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !stderr.starts_with("error: ") || stderr.trim().len() <= "error:".len() {
        return Err(format!("{what}: exit 2 without a message: {stderr:?}"));
    }
    if !out.stdout.is_empty() {
        return Err(format!(
            "{what}: exit 2 after writing to standard output:\n{}",
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    Ok(())
}

/// How a case that kept the contract ended.
#[derive(Clone, Copy, Debug)]
enum Outcome {
    /// `validate` and `run` rejected it.
    Invalid,
    /// `validate` accepted it and `run` stopped it with exit 2 (e.g. the time limit).
    RunRejected,
    /// `run` wrote its folder.
    Ran,
}

/// Runs one case's commands in `dir` and checks the contract.
fn check(limiter: &Limiter, dir: &Path, text: &str, plot: bool) -> Result<Outcome, String> {
    let file = dir.join("case.toml");
    std::fs::write(&file, text).unwrap();
    let out_dir = dir.join("out");
    let os = |s: &'static str| std::ffi::OsStr::new(s);

    let validate = run(limiter, "validate", &[os("validate"), file.as_os_str()])?;
    let valid = validate.status.success();
    if valid {
        let stdout = String::from_utf8_lossy(&validate.stdout);
        if !stdout.contains(": ok")
            || stdout.lines().count() != 2
            || !stdout.contains("\nworkload: ")
        {
            return Err(format!("validate: exit 0 without its summary: {stdout:?}"));
        }
        // The resolved scenario prints (ratesim checks it reads back to the same one).
        let resolved = run(
            limiter,
            "validate --resolved",
            &[os("validate"), os("--resolved"), file.as_os_str()],
        )?;
        if !resolved.status.success() {
            return Err(format!(
                "validate --resolved: exit {:?} on a valid scenario\n{}",
                resolved.status.code(),
                String::from_utf8_lossy(&resolved.stderr)
            ));
        }
    } else {
        check_rejection("validate", &validate)?;
        if std::env::var_os("RATESIM_FUZZ_VERBOSE").is_some() {
            eprint!("rejected: {}", String::from_utf8_lossy(&validate.stderr));
        }
    }

    let run_args = [
        os("run"),
        file.as_os_str(),
        os("--replications"),
        os("2"),
        os("--threads"),
        os("1"),
        os("--out"),
        out_dir.as_os_str(),
    ];
    let ran = run(limiter, "run --out", &run_args)?;
    if !ran.status.success() {
        check_rejection("run --out", &ran)?;
        if out_dir.exists() {
            return Err(format!(
                "run --out: exit 2 but the output folder exists with {:?}",
                listing(&out_dir)
            ));
        }
        return Ok(if valid {
            Outcome::RunRejected
        } else {
            Outcome::Invalid
        });
    }
    if !valid {
        return Err("run --out: exit 0 on a scenario validate rejects".into());
    }
    if ran.stdout.is_empty() || std::str::from_utf8(&ran.stdout).is_err() {
        return Err("run --out: exit 0 without a UTF-8 table on standard output".into());
    }
    check_folder(&out_dir).map_err(|e| format!("run --out: {e}"))?;

    if plot {
        let plotted = run(limiter, "plot", &[os("plot"), out_dir.as_os_str()])?;
        if !plotted.status.success() {
            return Err(format!(
                "plot: exit 2 on a folder run wrote: {}",
                String::from_utf8_lossy(&plotted.stderr)
            ));
        }
        check_folder(&out_dir).map_err(|e| format!("after plot: {e}"))?;
    }
    Ok(Outcome::Ran)
}

/// The file names in `dir`.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Checks that every file of a `run --out` folder is there and parses.
fn check_folder(dir: &Path) -> Result<(), String> {
    let names = listing(dir);
    for want in [
        "summary.json",
        "summary.csv",
        "runs.csv",
        "metrics.prom",
        "report.md",
    ] {
        if !names.iter().any(|n| n == want) {
            return Err(format!("no {want} in {names:?}"));
        }
    }
    for name in &names {
        let path = dir.join(name);
        if path.is_dir() {
            return Err(format!("a folder {name} was left in the output"));
        }
        let bytes = std::fs::read(&path).map_err(|e| format!("{name}: {e}"))?;
        let fail = |why: String| format!("{name} does not parse: {why}");
        match Path::new(name).extension().and_then(|e| e.to_str()) {
            Some("json") => {
                let json: serde_json::Value =
                    serde_json::from_slice(&bytes).map_err(|e| fail(e.to_string()))?;
                let known = match json["schema"].as_str() {
                    Some("ratesim.summary/1") => json["policies"].is_array(),
                    Some("ratesim.run/1") => {
                        json["policies"].is_array() && json["job_fingerprints"].is_array()
                    }
                    _ => false,
                };
                if !known {
                    return Err(fail("no known schema, or no policies".into()));
                }
            }
            Some("toml") => {
                let text = String::from_utf8(bytes).map_err(|e| fail(e.to_string()))?;
                text.parse::<toml::Table>()
                    .map_err(|e| fail(e.to_string()))?;
            }
            Some("csv") => check_csv(name, &bytes).map_err(fail)?,
            Some("prom") => {
                let text = String::from_utf8(bytes).map_err(|e| fail(e.to_string()))?;
                let lines = text.lines().map(|l| Ok(l.to_string()));
                let scrape =
                    prometheus_parse::Scrape::parse(lines).map_err(|e| fail(e.to_string()))?;
                if scrape.samples.is_empty() {
                    return Err(fail("no samples".into()));
                }
            }
            Some("md") => {
                let text = String::from_utf8(bytes).map_err(|e| fail(e.to_string()))?;
                if !text.contains('|') {
                    return Err(fail("no table".into()));
                }
            }
            Some("svg") => {
                let text = String::from_utf8(bytes).map_err(|e| fail(e.to_string()))?;
                if !text.contains("<svg") || !text.trim_end().ends_with("</svg>") {
                    return Err(fail("not a whole SVG document".into()));
                }
            }
            Some("png") => {
                if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
                    return Err(fail("not a PNG".into()));
                }
            }
            _ => return Err(format!("unexpected file {name}")),
        }
    }
    Ok(())
}

/// Checks a CSV file: a header, records of its width; `summary.csv`'s numbers parse.
fn check_csv(name: &str, bytes: &[u8]) -> Result<(), String> {
    let summary = name == "summary.csv";
    // The data behind a chart with nothing to draw (`timeline.csv` of providers without
    // limits, `latency_cdf.csv` when no job completes) is an empty file, without header.
    if bytes.is_empty() && !summary && name != "runs.csv" {
        return Ok(());
    }
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader.headers().map_err(|e| e.to_string())?.clone();
    if header.is_empty() {
        return Err("no header".into());
    }
    if summary && header != vec!["policy", "metric", "mean", "ci_low", "ci_high", "n"] {
        return Err(format!("header {header:?}"));
    }
    let mut rows = 0;
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        rows += 1;
        if summary {
            for field in record.iter().skip(2) {
                if !field.is_empty() && field.parse::<f64>().is_err() {
                    return Err(format!("not a number: {field:?} in {record:?}"));
                }
            }
        }
    }
    if summary && rows == 0 {
        return Err("no rows".into());
    }
    Ok(())
}
