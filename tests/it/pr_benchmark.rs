//! `scripts/pr-benchmark.sh` on a temporary git repository: a pull request that edits
//! `scenarios/gateways.toml` gets the PR comment and exit 1 on a regression, 0 without
//! one, 2 for a base it cannot find (needs `git` and `bash`, as CI has).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

use crate::common::bundled_text;

fn git(repo: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(repo)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

/// A repository with `scenarios/gateways.toml` committed on `main`.
fn repo() -> TempDir {
    let dir = TempDir::new().unwrap();
    let r = dir.path();
    git(r, &["init", "-q", "-b", "main"]);
    git(r, &["config", "user.email", "ci@example.com"]);
    git(r, &["config", "user.name", "ci"]);
    std::fs::create_dir(r.join("scenarios")).unwrap();
    std::fs::write(
        r.join("scenarios/gateways.toml"),
        bundled_text("gateways.toml"),
    )
    .unwrap();
    git(r, &["add", "."]);
    git(r, &["commit", "-q", "-m", "scenarios"]);
    dir
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pr-benchmark.sh")
}

/// Runs the script in `repo` against `base` with the test build of ratesim.
fn benchmark(repo: &Path, args: &[&str]) -> Output {
    Command::new("bash")
        .arg(script())
        .args(args)
        .current_dir(repo)
        .env("RATESIM_BIN", env!("CARGO_BIN_EXE_ratesim"))
        .env("RATESIM_REPLICATIONS", "5")
        .env_remove("OUT")
        .output()
        .expect("bash runs")
}

fn edit(repo: &Path, file: &str, from: &str, to: &str) {
    let path = repo.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from} not in {file}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn a_pull_request_that_retries_more_gets_a_comment_and_exit_1() {
    let dir = repo();
    let r = dir.path();
    git(r, &["checkout", "-q", "-b", "retry-more"]);
    edit(
        r,
        "scenarios/gateways.toml",
        "providers = [\"claude\", \"copilot\", \"local\"] }\nretry = { max_attempts = 1 }",
        "providers = [\"claude\", \"copilot\", \"local\"] }\nretry = { max_attempts = 3 }",
    );
    git(r, &["commit", "-q", "-am", "plain-chain retries 3 times"]);
    let out = benchmark(r, &["main"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let comment = std::fs::read_to_string(r.join("target/pr-benchmark/comment.md")).unwrap();
    assert!(
        comment.starts_with("<!-- ratesim-pr-benchmark -->\n"),
        "{comment}"
    );
    assert!(
        comment.contains("### `scenarios/gateways.toml`"),
        "{comment}"
    );
    assert!(comment.contains("**ratesim diff**: "), "{comment}");
    assert!(
        comment.contains("plain-chain rejection_probability +"),
        "{comment}"
    );
    assert!(
        comment.contains("- `policies.plain-chain.retry.max_attempts: 1 -> 3`"),
        "{comment}"
    );
    // Only the edited policy moved: every other policy ran on the same random numbers.
    let doc: serde_json::Value = serde_json::from_slice(
        &std::fs::read(r.join("target/pr-benchmark/gateways/diff/diff.json")).unwrap(),
    )
    .unwrap();
    for c in doc["changes"].as_array().unwrap() {
        if c["policy"] != "plain-chain" {
            assert_eq!(c["change"]["mean"], 0.0, "{c}");
        }
    }
    for f in ["base/run.json", "head/run.json", "diff/diff_forest.png"] {
        assert!(
            r.join("target/pr-benchmark/gateways").join(f).exists(),
            "{f}"
        );
    }
    // The worktree of the base is gone.
    let list = Command::new("git")
        .args(["worktree", "list"])
        .current_dir(r)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&list.stdout).lines().count(), 1);
}

#[test]
fn a_pull_request_that_changes_no_scenario_is_exit_0_and_a_new_one_has_no_base() {
    let dir = repo();
    let r = dir.path();
    git(r, &["checkout", "-q", "-b", "docs"]);
    std::fs::write(r.join("NOTES.md"), "notes\n").unwrap();
    let mut tier1 = bundled_text("anthropic-tier1.toml");
    tier1.push('\n');
    std::fs::write(r.join("scenarios/tier1.toml"), tier1).unwrap();
    git(r, &["add", "."]);
    git(r, &["commit", "-q", "-m", "notes and a new scenario"]);
    let out = benchmark(r, &["main"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let comment = std::fs::read_to_string(r.join("target/pr-benchmark/comment.md")).unwrap();
    assert!(comment.contains("0 regressed, 0 improved"), "{comment}");
    assert!(
        comment.contains("### `scenarios/tier1.toml`\n\nNew in this pull request"),
        "{comment}"
    );
    // A base that is not there, or a scenario that is not: exit 2.
    let out = benchmark(r, &["no-such-branch"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no merge-base of 'no-such-branch'"));
    let out = benchmark(r, &["main", "scenarios/nope.toml"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("scenarios/nope.toml: no such scenario"));
}
