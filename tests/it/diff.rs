//! `ratesim diff`: base against head, paired when the runs share their jobs, exit codes
//! like diff(1) (0 no regression, 1 a regression, 2 bad input).

use predicates::prelude::*;
use tempfile::TempDir;

use crate::common::{bundled, bundled_text, ratesim, write};

/// Runs `scenario` with `reps` replications (and `seed`) into `dir/name`.
fn run(
    dir: &TempDir,
    name: &str,
    scenario: &std::path::Path,
    reps: &str,
    seed: &str,
) -> std::path::PathBuf {
    let out = dir.path().join(name);
    ratesim()
        .args(["run", "--replications", reps, "--seed", seed, "--out"])
        .arg(&out)
        .arg(scenario)
        .assert()
        .success();
    out
}

#[test]
fn a_tighter_limit_regresses_and_the_same_run_changes_nothing() {
    let dir = TempDir::new().unwrap();
    let ci = bundled("ci-300x10.toml");
    let tighter = bundled_text("ci-300x10.toml").replace(
        r#"limit = 8, unit = "requests""#,
        r#"limit = 7, unit = "requests""#,
    );
    assert_ne!(tighter, bundled_text("ci-300x10.toml"));
    let seven = write(dir.path(), "ci-7.toml", &tighter);
    let base = run(&dir, "base", &ci, "10", "11");
    let head = run(&dir, "head", &seven, "10", "11");
    // The same folder twice: exactly no change, exit 0.
    ratesim()
        .arg("diff")
        .arg(&base)
        .arg(&base)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("0 regressed, 0 improved"))
        .stdout(predicate::str::contains("paired per replication"));
    // Claude's limit 8 -> 7: the policies that only use Claude wait longer; exit 1.
    let out = ratesim()
        .args(["diff", "--format", "json"])
        .arg(&base)
        .arg(&head)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["schema"], "ratesim.diff/1");
    assert_eq!(doc["paired"], true);
    let verdict = |policy: &str, metric: &str| {
        doc["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["policy"] == policy && c["metric"] == metric)
            .map(|c| c["verdict"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(
        verdict("predictive-guard", "rejection_probability"),
        "Regressed"
    );
    assert_eq!(verdict("claude-backoff-jitter", "makespan_s"), "Regressed");
    // The PR comment: a headline naming changes, and the configuration change key by key.
    ratesim()
        .args(["diff", "--format", "markdown"])
        .arg(&base)
        .arg(&head)
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("**ratesim diff**: "))
        .stdout(predicate::str::contains(" regressed, "))
        .stdout(predicate::str::contains(
            "- `providers.claude.limits[0].limit: 8 -> 7`",
        ))
        .stdout(predicate::str::contains("<details>"));
    assert_eq!(
        doc["configuration_changes"],
        serde_json::json!(["providers.claude.limits[0].limit: 8 -> 7"])
    );
    // Another seed cannot be paired: Welch, and said so.
    let other = run(&dir, "other", &ci, "10", "12");
    ratesim()
        .arg("diff")
        .arg(&base)
        .arg(&other)
        .assert()
        .stdout(predicate::str::contains(
            "unpaired (Welch): the seeds differ",
        ));
    // --policy and --metric restrict; --fail-on widens the threshold.
    ratesim()
        .args([
            "diff",
            "--policy",
            "failover-chain",
            "--metric",
            "monthly_bill_usd",
        ])
        .args(["--fail-on", "monthly_bill_usd:+50%"])
        .arg(&base)
        .arg(&head)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "0 regressed, 0 improved, 1 unchanged",
        ));
}

#[test]
fn folders_and_flags_diff_cannot_use_are_exit_2() {
    let dir = TempDir::new().unwrap();
    let base = run(&dir, "base", &bundled("anthropic-tier1.toml"), "3", "1");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    ratesim()
        .arg("diff")
        .arg(&base)
        .arg(&empty)
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("run.json"))
        .stderr(predicate::str::contains(
            "folders written by `ratesim run --out DIR`",
        ));
    // A folder without a summary (or an older one) has no recommendation to compare.
    let bare = dir.path().join("bare");
    std::fs::create_dir(&bare).unwrap();
    for f in ["run.json", "runs.csv"] {
        std::fs::copy(base.join(f), bare.join(f)).unwrap();
    }
    ratesim()
        .arg("diff")
        .arg(&bare)
        .arg(&bare)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("no recommendation in either run"));
    std::fs::write(empty.join("run.json"), r#"{"schema": "ratesim.run/9"}"#).unwrap();
    ratesim()
        .arg("diff")
        .arg(&base)
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not ratesim.run/1"));
    for (flag, value, message) in [
        ("--fail-on", "makespan_s", "expected METRIC:THRESHOLD"),
        ("--fail-on", "nope:+2%", "unknown metric `nope`"),
        ("--fail-on", "makespan_s:fast", "is not a threshold"),
        (
            "--metric",
            "nope",
            "--metric nope: not a metric of both runs",
        ),
        ("--policy", "nobody", "--policy nobody: in neither run"),
    ] {
        ratesim()
            .args(["diff", flag, value])
            .arg(&base)
            .arg(&base)
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains(message));
    }
}
