//! The command line as a user meets it: run, validate, outputs, and every kind of bad
//! input (exit code 2, a message naming the file, line and key, no output written).

use predicates::prelude::*;
use tempfile::TempDir;

use crate::common::{bundled, bundled_scenarios, edit, ratesim, write};

const GOOD: &str = r#"
name = "small"
replications = 4
[workload]
kind = "batch"
jobs = 30
concurrency = 5
input_tokens = 1000
output_tokens = 200
[providers.claude]
limits = [{ kind = "sliding_window", window = "60s", limit = 8, unit = "requests" }]
latency = { total = "2s" }
price_per_1k_input = 0.075
price_per_1k_output = 0.075
[providers.local]
limits = [{ kind = "concurrency", limit = 2, on_full = "queue" }]
latency = { total = "10s" }
local = true
[[policies]]
name = "retry-after"
route = { kind = "single", provider = "claude" }
retry = { max_attempts = 30, honor_retry_after = true }
[[policies]]
name = "chain"
route = { kind = "chain", providers = ["claude", "local"] }
"#;

/// clap's own checks of the definitions (names, defaults, value parsers, conflicts),
/// which it otherwise runs only when a command line hits the broken part.
#[test]
fn the_command_line_definitions_pass_clap_s_checks() {
    use clap::CommandFactory;
    ratesim::cli::Cli::command().debug_assert();
}

#[test]
fn run_prints_the_comparison_table() {
    let dir = TempDir::new().unwrap();
    let f = write(dir.path(), "s.toml", GOOD);
    ratesim()
        .arg("run")
        .arg(&f)
        .assert()
        .success()
        .stdout(predicate::str::contains("small: 4 replications"))
        .stdout(predicate::str::contains("retry-after"))
        .stdout(predicate::str::contains("chain"))
        .stdout(predicate::str::contains(
            "P(reject) = rejection_probability",
        ))
        .stdout(predicate::str::contains("monthly_bill_usd"))
        .stdout(predicate::str::contains("tokens.claude").not())
        .stdout(predicate::str::contains("\nRecommendation: "));
    // Every metric on request, or the ones named.
    ratesim()
        .args(["run", "--metrics", "all"])
        .arg(&f)
        .assert()
        .success()
        .stdout(predicate::str::contains("tokens.claude"))
        .stdout(predicate::str::contains("ranking, best first"));
    ratesim()
        .args(["run", "--metrics", "tokens.claude,attempts"])
        .arg(&f)
        .assert()
        .success()
        .stdout(predicate::str::contains("tokens.claude"))
        .stdout(predicate::str::contains("makespan s").not());
    ratesim()
        .args(["run", "--metrics", "tokens.nobody"])
        .arg(&f)
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(
            "--metrics: unknown metric `tokens.nobody`; expected one of attempts,",
        ));
}

#[test]
fn out_writes_summary_and_runs_csv() {
    let dir = TempDir::new().unwrap();
    let f = write(dir.path(), "s.toml", GOOD);
    let out = dir.path().join("results");
    ratesim()
        .args(["run", "--format", "csv", "--out"])
        .arg(&out)
        .arg(&f)
        .assert()
        .success();
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let mut lines = summary.lines();
    assert_eq!(lines.next(), Some("policy,metric,mean,ci_low,ci_high,n"));
    assert!(
        summary.contains("\nretry-after,jobs_completed,30,30,30,4\n"),
        "{summary}"
    );
    assert!(summary.contains("\nchain,attempts.local,"));
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    assert!(runs.starts_with("replication,policy,attempts,rejections,rejections_429,"));
    assert_eq!(runs.lines().count(), 1 + 4 * 2);
    // Every output is there, and no temporary file is left beside them.
    let names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    for f in [
        "summary.csv",
        "runs.csv",
        "summary.json",
        "metrics.prom",
        "report.md",
        "latency_cdf.csv",
        "timeline.csv",
        "events.csv",
        "cost_vs_rejection.png",
        "cost_vs_rejection.svg",
        "makespan_cost.png",
        "latency_cdf.png",
        "timeline_retry-after.png",
        "timeline_chain.svg",
    ] {
        assert!(names.iter().any(|n| n == f), "{f} missing from {names:?}");
    }
}

#[test]
fn formats_json_and_markdown() {
    let dir = TempDir::new().unwrap();
    let f = write(dir.path(), "s.toml", GOOD);
    let out = ratesim()
        .args(["run", "--format", "json"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema"], "ratesim.summary/1");
    assert_eq!(doc["policies"][0]["name"], "retry-after");
    assert_eq!(
        doc["policies"][0]["metrics"]["jobs_completed"]["mean"],
        30.0
    );
    assert_eq!(doc["policies"][1]["metrics"]["rejections_429"]["n"], 4);
    ratesim()
        .args(["run", "--format", "markdown"])
        .arg(&f)
        .assert()
        .success()
        .stdout(predicate::str::contains("| metric | retry-after | chain |"))
        .stdout(predicate::str::contains("|---|---:|---:|"));
}

/// `--format` takes its values from the exporters' registry: a value not in it exits 2,
/// listing every registered name, and each registered name prints.
#[test]
fn format_takes_the_registry_s_names_and_lists_them_for_an_unknown_one() {
    use ratesim::output::report::format_names;
    let dir = TempDir::new().unwrap();
    let f = write(dir.path(), "s.toml", GOOD);
    let names: Vec<&str> = format_names().collect();
    for kept in ["table", "csv", "json", "markdown"] {
        assert!(names.contains(&kept), "{kept} missing from {names:?}");
    }
    for name in &names {
        ratesim()
            .args(["run", "--format", name])
            .arg(&f)
            .assert()
            .success()
            .stdout(predicate::str::is_empty().not());
    }
    ratesim()
        .args(["run", "--format", "yaml"])
        .arg(&f)
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("'yaml'"))
        .stderr(predicate::str::contains(format!(
            "[possible values: {}]",
            names.join(", ")
        )));
    // The library checks the name too, for callers that do not go through clap.
    let args = ratesim::cli::RunArgs {
        scenario: f.clone(),
        out: None,
        format: "yaml".into(),
        threads: 1,
        replications: None,
        seed: None,
        metrics: None,
        minimize: None,
        maximize: None,
        require: Vec::new(),
        baseline: None,
    };
    let cli = ratesim::cli::Cli {
        command: ratesim::cli::Command::Run(args),
    };
    let err = ratesim::commands::execute(cli, &mut Vec::new()).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert_eq!(
        err.to_string(),
        format!("--format yaml: no such format; valid: {}", names.join(", "))
    );
}

/// `run --out` writes every registered exporter that has a file, and a format that both
/// prints and has a file writes the bytes it prints.
#[test]
fn out_writes_every_registered_file() {
    use ratesim::output::report::FORMATS;
    let dir = TempDir::new().unwrap();
    let f = write(dir.path(), "s.toml", GOOD);
    let out = dir.path().join("results");
    ratesim()
        .args(["run", "--out"])
        .arg(&out)
        .arg(&f)
        .assert()
        .success();
    let mut files = Vec::new();
    for format in FORMATS {
        let Some(file) = format.file else { continue };
        files.push(file);
        let bytes = std::fs::read(out.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!bytes.is_empty(), "{file} is empty");
        if let Some(name) = format.name {
            let printed = ratesim()
                .args(["run", "--format", name])
                .arg(&f)
                .output()
                .unwrap();
            assert!(printed.status.success(), "--format {name}");
            assert_eq!(printed.stdout, bytes, "--format {name} and {file}");
        }
    }
    for kept in ["summary.csv", "runs.csv", "summary.json", "metrics.prom"] {
        assert!(files.contains(&kept), "{kept} missing from {files:?}");
    }
}

#[test]
fn threads_do_not_change_the_output() {
    let dir = TempDir::new().unwrap();
    let f = write(dir.path(), "s.toml", GOOD);
    let run = |t: &str| {
        ratesim()
            .args(["run", "--format", "csv", "--threads", t])
            .arg(&f)
            .output()
            .unwrap()
            .stdout
    };
    assert_eq!(run("1"), run("2"));
}

/// Every file in `scenarios/` (gateways.toml too) is a scenario that validates.
#[test]
fn validate_accepts_every_bundled_scenario() {
    // Listed apart from the helper, so that no file escapes it by its name.
    let mut all: Vec<_> = std::fs::read_dir(bundled(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    all.sort();
    let files = bundled_scenarios();
    assert_eq!(files, all, "every file in scenarios/ is a .toml scenario");
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        ratesim()
            .arg("validate")
            .arg(&path)
            .assert()
            .success()
            .stdout(predicate::str::contains(format!("{name}: ok")));
    }
}

/// Each case: a change to GOOD, and what the message must say.
fn bad_input_cases() -> Vec<(&'static str, String, Vec<&'static str>)> {
    let replace = |from: &str, to: &str| edit(GOOD, from, to);
    vec![
        (
            "bad TOML",
            replace("name = \"small\"", "name = \"small"),
            vec!["s.toml:2:"],
        ),
        (
            "duplicate key",
            replace("jobs = 30", "jobs = 30\njobs = 40"),
            vec!["s.toml:7:1", "`workload.jobs`", "duplicate key"],
        ),
        (
            "unknown key",
            replace("jobs = 30", "jobs = 30\nretries = 3"),
            vec![
                "s.toml:7:",
                "workload.retries",
                "unknown field `retries`",
                "expected one of",
            ],
        ),
        (
            "latency past the longest simulated time",
            replace("latency = { total = \"2s\" }", "latency = { total = \"40000d\" }"),
            vec![
                "s.toml:12:",
                "providers.claude.latency.total",
                "`40000d` is longer than 100 years (3155760000 s), the longest a run may simulate",
            ],
        ),
        (
            "more jobs than a replication holds",
            replace("jobs = 30", "jobs = 4294967295"),
            vec![
                "s.toml:6:",
                "workload.jobs",
                "jobs must be at most 10000000 (got 4294967295)",
            ],
        ),
        (
            "a token count that would wrap the counters",
            replace("output_tokens = 200", "output_tokens = 1.8e19"),
            vec![
                "s.toml:9:",
                "workload.output_tokens",
                "a request has at most 1000000000",
            ],
        ),
        (
            "max_attempts past its range",
            replace("max_attempts = 30", "max_attempts = 2000000"),
            vec![
                "s.toml:22:",
                "policies[0].retry.max_attempts",
                "must be at most 1000000",
            ],
        ),
        (
            "wrong type",
            replace("jobs = 30", "jobs = \"thirty\""),
            vec!["s.toml:6:", "workload.jobs", "expected a whole number"],
        ),
        (
            "negative rate",
            replace(
                "kind = \"batch\"\njobs = 30\nconcurrency = 5",
                "kind = \"poisson\"\nrate_per_s = -2.0\njobs = 30",
            ),
            vec!["s.toml:6:", "workload.rate_per_s", "must be a number > 0"],
        ),
        (
            "zero window",
            replace("window = \"60s\"", "window = \"0s\""),
            vec![
                "s.toml:11:",
                "providers.claude.limits[0].window",
                "longer than zero",
            ],
        ),
        (
            "unknown provider",
            replace("provider = \"claude\"", "provider = \"claud\""),
            vec![
                "s.toml:21:",
                "policies[0].route.provider",
                "no provider named `claud`",
                "defined providers: claude, local",
            ],
        ),
        (
            "empty provider list",
            replace("providers = [\"claude\", \"local\"]", "providers = []"),
            vec![
                "s.toml:25:",
                "policies[1].route.providers",
                "empty provider list",
            ],
        ),
        (
            "no providers at all",
            GOOD.split("[providers.claude]").next().unwrap().to_string(),
            vec!["s.toml", "`providers`", "no providers"],
        ),
        (
            "unknown limit kind",
            replace("kind = \"sliding_window\"", "kind = \"sliding\""),
            vec![
                "s.toml:11:",
                "providers.claude.limits[0].kind",
                "expected \"sliding_window\"",
            ],
        ),
        (
            "bad duration",
            replace("total = \"2s\"", "total = \"2 fortnights\""),
            vec![
                "s.toml:12:",
                "providers.claude.latency.total",
                "not a duration string",
            ],
        ),
        (
            "key of another kind",
            replace("limit = 8, unit", "limit = 8, capacity = 3, unit"),
            vec![
                "s.toml:11:",
                "providers.claude.limits[0].capacity",
                "not a setting of kind = \"sliding_window\"",
            ],
        ),
        (
            "condition names no target",
            replace(
                "route = { kind = \"chain\", providers = [\"claude\", \"local\"] }",
                "route = { kind = \"conditional\", default = \"a\", targets = [{ name = \"a\", provider = \"claude\" }, { name = \"b\", provider = \"local\" }],\n  conditions = [{ query = { input_tokens = { \"$gt\" = 10 } }, then = \"c\" }] }",
            ),
            vec![
                "s.toml:26:",
                "policies[1].route.conditions[0].then",
                "no target named `c`; targets: a, b",
            ],
        ),
        (
            "unknown comparison",
            replace(
                "route = { kind = \"chain\", providers = [\"claude\", \"local\"] }",
                "route = { kind = \"conditional\", default = \"a\", targets = [{ name = \"a\", provider = \"claude\" }],\n  conditions = [{ query = { input_tokens = { \"$between\" = 10 } }, then = \"a\" }] }",
            ),
            vec![
                "s.toml:26:",
                "policies[1].route.conditions[0].query.input_tokens.$between",
                "expected \"$eq\"",
            ],
        ),
        (
            "nested target without a kind",
            replace(
                "route = { kind = \"chain\", providers = [\"claude\", \"local\"] }",
                "route = { kind = \"fallback\", targets = [{ provider = \"claude\" }, { weight = 2 }] }",
            ),
            vec!["s.toml:25:", "policies[1].route.targets[1].kind"],
        ),
        (
            "hedge with two delays",
            replace(
                "name = \"chain\"",
                "name = \"chain\"\nhedge = { after = \"2s\", quantile = 0.9 }",
            ),
            vec!["s.toml:25:", "policies[1].hedge.quantile", "not both"],
        ),
    ]
}

#[test]
fn bad_input_exits_2_names_file_line_and_key_and_writes_nothing() {
    for (case, text, expected) in bad_input_cases() {
        let dir = TempDir::new().unwrap();
        let f = write(dir.path(), "s.toml", &text);
        let out = dir.path().join("out");
        for sub in ["run", "validate"] {
            let mut cmd = ratesim();
            cmd.arg(sub).arg(&f);
            if sub == "run" {
                cmd.arg("--out").arg(&out);
            }
            let result = cmd.output().unwrap();
            let stderr = String::from_utf8_lossy(&result.stderr);
            assert_eq!(result.status.code(), Some(2), "{case} ({sub}): {stderr}");
            assert!(result.stdout.is_empty(), "{case}: nothing on stdout");
            for e in &expected {
                assert!(stderr.contains(e), "{case} ({sub}): `{e}` not in: {stderr}");
            }
        }
        assert!(!out.exists(), "{case}: no output folder for bad input");
    }
}

#[test]
fn missing_file_and_bad_flags_exit_2() {
    ratesim()
        .args(["run", "no/such/scenario.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no/such/scenario.toml"))
        .stderr(predicate::str::contains("cannot read the scenario file"));
    // A valid scenario, so only the flag is wrong: each flag runs with a good value and
    // exits 2 with a bad one, naming the flag.
    let dir = TempDir::new().unwrap();
    let f = write(dir.path(), "s.toml", GOOD);
    let command = |sub: &str, out: &str| {
        let mut cmd = ratesim();
        cmd.arg(sub).arg(&f);
        if sub == "sweep" {
            cmd.args(["--set", "workload.concurrency=5", "--out"])
                .arg(dir.path().join(out));
        }
        cmd
    };
    for (sub, flag, good, bad) in [
        ("run", "--format", "csv", "xml"),
        ("run", "--replications", "1", "0"),
        ("run", "--replications", "1", "1000001"),
        ("run", "--threads", "1", "many"),
        ("run", "--seed", "7", "seven"),
        ("sweep", "--replications", "1", "0"),
    ] {
        command(sub, "good").args([flag, good]).assert().success();
        command(sub, "bad")
            .args([flag, bad])
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains(flag))
            .stderr(predicate::str::contains(format!("'{bad}'")));
        assert!(!dir.path().join("bad").exists(), "{sub} {flag} {bad}");
    }
    ratesim()
        .arg("run")
        .arg(&f)
        .arg("--no-such-flag")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--no-such-flag"));
}

#[test]
fn a_malformed_trace_names_its_line() {
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "trace.csv",
        "start_s,input_tokens,output_tokens\n0,100,10\n1.5,lots,10\n",
    );
    let text = edit(
        GOOD,
        "kind = \"batch\"\njobs = 30\nconcurrency = 5\ninput_tokens = 1000\noutput_tokens = 200",
        "kind = \"trace\"\npath = \"trace.csv\"",
    );
    let f = write(dir.path(), "s.toml", &text);
    ratesim()
        .arg("validate")
        .arg(&f)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("workload.path"))
        .stderr(predicate::str::contains(
            "trace.csv:3:2: input_tokens `lots`",
        ));
    // And a good trace runs.
    write(
        dir.path(),
        "trace.csv",
        "start_s,input_tokens,output_tokens\n0,100,10\n1.5,200,10\n",
    );
    ratesim()
        .args(["run", "--format", "csv"])
        .arg(&f)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "retry-after,jobs_completed,2,2,2,4",
        ));
}

/// A run that fails while writing leaves nothing behind: its files are staged and moved
/// into the folder only once all are written. Here a folder sits where the run writes
/// `summary.csv`: the run fails and the folder gains none of the run's files.
#[test]
fn a_run_that_fails_while_writing_leaves_no_files() {
    let dir = TempDir::new().unwrap();
    let f = write(dir.path(), "s.toml", GOOD);
    let old = dir.path().join("old");
    std::fs::create_dir_all(old.join("summary.csv")).unwrap();
    std::fs::write(old.join("mine.txt"), "mine").unwrap();
    ratesim()
        .arg("run")
        .arg(&f)
        .arg("--out")
        .arg(&old)
        .assert()
        .failure()
        .stderr(predicate::str::contains("summary.csv is a folder"));
    let mut names: Vec<_> = std::fs::read_dir(&old)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["mine.txt", "summary.csv"]);
    // Once the way is clear, the run writes every file and leaves no staging folder.
    std::fs::remove_dir(old.join("summary.csv")).unwrap();
    ratesim()
        .arg("run")
        .arg(&f)
        .arg("--out")
        .arg(&old)
        .assert()
        .success();
    let names: Vec<String> = std::fs::read_dir(&old)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    assert!(names.contains(&"report.md".to_string()) && old.join("summary.csv").is_file());
}

/// Policy names with the same safe form get distinct timeline files, and report.md shows
/// each policy's own chart; a sweep's default folder stays in the working folder
/// whatever the scenario's name.
#[test]
fn names_make_distinct_and_safe_file_names() {
    let dir = TempDir::new().unwrap();
    let mut text = GOOD.replace("name = \"small\"", "name = \"x/../../escaped\"");
    for name in ["a b", "a/b", "a_b"] {
        text.push_str(&format!(
            "[[policies]]\nname = \"{name}\"\nroute = {{ kind = \"single\", provider = \"claude\" }}\n"
        ));
    }
    let f = write(dir.path(), "s.toml", &text);
    let out = dir.path().join("out");
    ratesim()
        .arg("run")
        .arg(&f)
        .arg("--replications")
        .arg("2")
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    let mut stems = Vec::new();
    for name in ["a b", "a/b", "a_b"] {
        let stem = ratesim::output::safe_stem(name);
        assert!(out.join(format!("timeline_{stem}.png")).is_file(), "{name}");
        assert!(report.contains(&format!("timeline_{stem}.png")), "{name}");
        stems.push(stem);
    }
    stems.dedup();
    assert_eq!(stems.len(), 3);
    // The sweep's default folder: `sweep-` and the name made safe, in the working folder.
    ratesim()
        .current_dir(dir.path())
        .args([
            "sweep",
            "s.toml",
            "--set",
            "workload.concurrency=2,5",
            "--replications",
            "2",
        ])
        .assert()
        .success();
    let sweep = dir.path().join(format!(
        "sweep-{}",
        ratesim::output::safe_stem("x/../../escaped")
    ));
    assert!(sweep.join("sweep.csv").is_file(), "{}", sweep.display());
    assert!(!dir.path().join("..").join("escaped").exists());
}

/// `plot` on a hand-edited folder: a summary without a metric the charts need, and
/// sweep.csv files with broken columns or key values, are exit 2 naming the file and
/// what is wrong, never a panic.
#[test]
fn plot_refuses_folders_it_cannot_draw_and_says_why() {
    let dir = TempDir::new().unwrap();
    let f = write(dir.path(), "s.toml", GOOD);
    let out = dir.path().join("run");
    ratesim()
        .arg("run")
        .arg(&f)
        .args(["--replications", "2"])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    // Drop rejection_probability from the summary, in both places it appears.
    let path = out.join("summary.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    json["metrics"]
        .as_array_mut()
        .unwrap()
        .retain(|m| m != "rejection_probability");
    for p in json["policies"].as_array_mut().unwrap() {
        p["metrics"]
            .as_object_mut()
            .unwrap()
            .remove("rejection_probability");
    }
    std::fs::write(&path, serde_json::to_string(&json).unwrap()).unwrap();
    ratesim()
        .arg("plot")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("summary.json"))
        .stderr(predicate::str::contains("rejection_probability"));
    // sweep.csv: columns not in fours, and an empty key cell.
    let cases = [
        (
            "concurrency,policy,makespan_s,makespan_s_ci_low\n1,p,2,1\n",
            "come in fours",
        ),
        (
            "concurrency,policy,makespan_s,makespan_s_ci_low,makespan_s_ci_high,makespan_s_n\n,p,2,1,3,5\n",
            "line 2, column `concurrency`: a key value is empty",
        ),
        (
            "concurrency,policy,makespan_s,makespan_s_ci_low,makespan_s_ci_high,makespan_s_n\n1,p,x,1,3,5\n",
            "line 2, column `makespan_s`: `x` is not a number",
        ),
    ];
    for (i, (csv, says)) in cases.iter().enumerate() {
        let sweep = dir.path().join(format!("sweep-{i}"));
        std::fs::create_dir(&sweep).unwrap();
        std::fs::write(sweep.join("sweep.csv"), csv).unwrap();
        ratesim()
            .arg("plot")
            .arg(&sweep)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("sweep.csv"))
            .stderr(predicate::str::contains(*says));
    }
}

/// A sweep whose values make an axis that cannot be drawn (1.7e308 tokens a month)
/// ends, writes sweep.csv, and says which charts it skipped and why.
#[test]
fn a_sweep_with_an_undrawable_axis_skips_those_charts_and_says_so() {
    let dir = TempDir::new().unwrap();
    let f = write(dir.path(), "s.toml", GOOD);
    let out = dir.path().join("sweep");
    ratesim()
        .arg("sweep")
        .arg(&f)
        .args(["--set", "monthly_tokens=1,1.7e308", "--replications", "2"])
        .arg("--out")
        .arg(&out)
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "not drawn: the monthly_tokens axis",
        ));
    assert!(out.join("sweep.csv").is_file());
}

/// Guards the saturated clock (a trace row at 1e19 s, `time_scale = 1e308`, service
/// times of centuries): runs that hung in the outage process, or reported jobs "completed" at
/// 584 years, exit 2 with a message naming the cause, and write nothing. What the file
/// shows (trace starts, the scale) `validate` rejects with the key path; what only the
/// draws show (service times) the run itself reports.
#[test]
fn a_run_past_the_longest_simulated_time_exits_2_and_writes_nothing() {
    let dir = TempDir::new().unwrap();
    let outages =
        "local = true\noutages = { up = { dist = \"exponential\", mean = \"1h\" }, down = \"1m\" }";
    let good = edit(GOOD, "local = true", outages);
    write(
        dir.path(),
        "far.csv",
        "start_s,input_tokens,output_tokens\n0,100,10\n1e19,100,10\n",
    );
    write(
        dir.path(),
        "near.csv",
        "start_s,input_tokens,output_tokens\n0,100,10\n2,100,10\n",
    );
    let trace = |csv: &str| {
        edit(
            &good,
            "kind = \"batch\"\njobs = 30\nconcurrency = 5\ninput_tokens = 1000\noutput_tokens = 200",
            &format!("kind = \"trace\"\npath = \"{csv}\""),
        )
    };
    // 200 output tokens at 1e-8 per second: 634 years each.
    let streaming = "latency = { ttft = \"1s\", tokens_per_s = 1e-8 }";
    let cases = [
        (
            "far trace row",
            trace("far.csv"),
            true,
            vec![
                "workload.path",
                "far.csv:3:1: start_s `1e19` is past the longest",
            ],
        ),
        (
            "time_scale",
            trace("near.csv").replace(
                "path = \"near.csv\"",
                "path = \"near.csv\"\ntime_scale = 1e308",
            ),
            true,
            vec!["workload.time_scale", "times 1e308 is inf s"],
        ),
        (
            "service times",
            edit(&good, "latency = { total = \"2s\" }", streaming),
            false,
            vec![
                "simulated time would exceed 100 years",
                "policy `retry-after`, replication 0",
                "provider `claude`'s response to job",
            ],
        ),
    ];
    for (case, text, invalid, expected) in cases {
        let f = write(dir.path(), "s.toml", &text);
        let out = dir.path().join("out");
        let mut commands = vec![("run", vec!["--out".to_string()])];
        commands.push((
            "sweep",
            vec!["--set".into(), "seed=1,2".into(), "--out".into()],
        ));
        for (sub, args) in commands {
            let result = ratesim()
                .arg(sub)
                .arg(&f)
                .args(&args)
                .arg(&out)
                .timeout(std::time::Duration::from_secs(60))
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&result.stderr);
            assert_eq!(result.status.code(), Some(2), "{case} ({sub}): {stderr}");
            assert!(
                result.stdout.is_empty(),
                "{case} ({sub}): nothing on stdout"
            );
            for e in &expected {
                assert!(stderr.contains(e), "{case} ({sub}): `{e}` not in: {stderr}");
            }
            if sub == "sweep" && !invalid {
                assert!(
                    stderr.contains("seed=1: "),
                    "{case}: names the point: {stderr}"
                );
            }
            assert!(!out.exists(), "{case} ({sub}): nothing written");
        }
        let validate = ratesim().arg("validate").arg(&f).assert();
        if invalid {
            validate.code(2);
        } else {
            validate.success();
        }
    }
}

/// A sweep grid is bounded as a whole, not only range by range: 100 x 100 x 10 points
/// (each within the per-range cap) is exit 2 naming the product, and writes nothing.
#[test]
fn a_sweep_grid_of_too_many_points_is_refused() {
    let dir = TempDir::new().unwrap();
    let f = write(dir.path(), "s.toml", GOOD);
    let out = dir.path().join("sweep");
    ratesim()
        .arg("sweep")
        .arg(&f)
        .args(["--set", "seed=1..100:1", "--set", "workload.jobs=1..100:1"])
        .args(["--set", "monthly_tokens=1..10:1", "--out"])
        .arg(&out)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the --set grid has 100000 points (100 x 100 x 10); a sweep runs at most 10000",
        ));
    assert!(!out.exists());
}

/// `--out` naming a file is exit 2 before anything runs, for `run` and `sweep`.
#[test]
fn out_naming_a_file_is_refused_before_running() {
    let dir = TempDir::new().unwrap();
    let f = write(dir.path(), "s.toml", GOOD);
    let file = write(dir.path(), "taken", "mine");
    ratesim()
        .arg("run")
        .arg(&f)
        .arg("--out")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is a file, not a folder"));
    ratesim()
        .arg("sweep")
        .arg(&f)
        .args(["--set", "workload.concurrency=1,2", "--out"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is a file, not a folder"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
}
