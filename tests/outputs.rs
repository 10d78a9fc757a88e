//! Exporters, charts and sweeps: what lands in a results folder.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use ratesim::metrics::stats::Estimate;
use ratesim::report::{Exporter, Markdown, Prometheus, Table};
use ratesim::summary::{PolicySummary, Summary};
use tempfile::TempDir;

fn est(mean: f64, hw: f64, n: u64) -> Estimate {
    Estimate {
        mean,
        ci_low: mean - hw,
        ci_high: mean + hw,
        n,
    }
}

/// A small hand-made summary, so the snapshots change only when an exporter does.
fn summary() -> Summary {
    let metrics = [
        "attempts",
        "rejection_probability",
        "local_hit_ratio",
        "jobs_completed",
        "jobs_failed",
        "makespan_s",
        "job_latency_p50_s",
        "job_latency_p95_s",
        "job_latency_p99_s",
        "monthly_bill_usd",
        "attempts.claude",
        "attempts.local",
        "rejections_429.claude",
        "rejections_503.copilot",
        "tokens.claude",
    ];
    let a = [
        681.0, 0.558, 0.0, 300.0, 0.0, 2233.4, 1094.0, 2109.0, 2224.0, 150.0, 681.0, 0.0, 381.0,
        0.0, 573_942.0,
    ];
    let b = [
        730.0, 0.589, 0.099, 300.0, 0.0, 364.6, 136.0, 322.0, 339.0, 16.9, 300.0, 29.6, 252.0,
        178.0, 89_658.0,
    ];
    let make = |name: &str, v: &[f64]| PolicySummary {
        name: name.into(),
        estimates: v
            .iter()
            .enumerate()
            .map(|(i, &x)| est(x, if i % 3 == 0 { 0.0 } else { x * 0.01 }, 100))
            .collect(),
    };
    Summary {
        scenario: "ci-300x10".into(),
        description: "test summary".into(),
        seed: 7,
        replications: 100,
        metrics: metrics.iter().map(|m| m.to_string()).collect(),
        policies: vec![
            make("claude-backoff-jitter", &a),
            make("failover-chain", &b),
        ],
    }
}

#[test]
fn table_snapshot() {
    let t = Table { width: 100 };
    insta::assert_snapshot!(String::from_utf8(t.export(&summary())).unwrap());
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(String::from_utf8(Markdown.export(&summary())).unwrap());
}

#[test]
fn prometheus_snapshot_parses_and_keeps_the_article_names() {
    let text = String::from_utf8(Prometheus.export(&summary())).unwrap();
    insta::assert_snapshot!(text.clone());
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("valid exposition format");
    let value = |name: &str, policy: &str| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && s.labels.get("policy") == Some(policy))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            })
            .unwrap_or_else(|| panic!("no {name} for {policy}"))
    };
    assert_eq!(value("claude_429_total", "failover-chain"), 252.0);
    assert_eq!(value("copilot_503_total", "failover-chain"), 178.0);
    assert_eq!(value("local_hit_ratio", "failover-chain"), 0.099);
    let by_status = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "ratesim_rejections_total"
                && s.labels.get("provider") == Some("claude")
                && s.labels.get("status") == Some("429")
                && s.labels.get("policy") == Some("claude-backoff-jitter")
        })
        .expect("generalised rejections family");
    assert!(matches!(by_status.value, prometheus_parse::Value::Counter(v) if v == 381.0));
}

/// PNG width and height from the IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    (w, h)
}

fn ratesim() -> Command {
    Command::cargo_bin("ratesim").unwrap()
}

fn bundled(name: &str) -> String {
    format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn run_out_writes_valid_charts_and_plot_redraws_them() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("r");
    ratesim()
        .args(["run", "--replications", "6", "--out"])
        .arg(&out)
        .arg(bundled("ci-300x10.toml"))
        .assert()
        .success();
    let expect = [
        ("cost_vs_rejection", None),
        ("makespan_cost", None),
        ("latency_cdf", None),
        ("timeline_failover-chain", Some((1400, 90 + 230 * 6))),
        ("timeline_claude-naive-retry", Some((1400, 90 + 230 * 2))),
    ];
    for (stem, size) in expect {
        let png = std::fs::read(out.join(format!("{stem}.png"))).unwrap();
        let (w, h) = png_size(&png);
        assert!(w >= 800 && h >= 300, "{stem}: {w}x{h}");
        if let Some(s) = size {
            assert_eq!((w, h), s, "{stem}");
        }
        assert!(png.len() > 10_000, "{stem}.png is nearly empty");
        let svg = std::fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{stem}.svg"
        );
        assert!(
            svg.contains(&format!("width=\"{w}\"")) && svg.contains(&format!("height=\"{h}\""))
        );
        assert!(svg.contains("<text"), "{stem}.svg has its labels");
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("| metric | claude-naive-retry |"));
    assert!(report.contains("![Limiter timeline: failover-chain](timeline_failover-chain.png)"));
    // plot redraws from the files alone.
    let before = std::fs::read(out.join("latency_cdf.png")).unwrap();
    std::fs::remove_file(out.join("latency_cdf.png")).unwrap();
    std::fs::remove_file(out.join("report.md")).unwrap();
    ratesim()
        .arg("plot")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("charts and report.md"));
    assert_eq!(std::fs::read(out.join("latency_cdf.png")).unwrap(), before);
    assert_eq!(
        std::fs::read_to_string(out.join("report.md")).unwrap(),
        report
    );
}

#[test]
fn plot_of_a_folder_without_results_exits_2() {
    let dir = TempDir::new().unwrap();
    ratesim()
        .arg("plot")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("summary.json"));
}

#[test]
fn a_three_point_sweep_has_three_rows_per_policy() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("s");
    ratesim()
        .args([
            "sweep",
            "--set",
            "workload.concurrency=1,5,10",
            "--replications",
            "3",
            "--out",
        ])
        .arg(&out)
        .arg(bundled("ci-300x10.toml"))
        .assert()
        .success()
        .stdout(predicate::str::contains("3 points x 5 policies"));
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("workload.concurrency,policy,rejection_probability,"));
    assert_eq!(lines.count(), 3 * 5);
    let png = std::fs::read(out.join("sweep_makespan_s.png")).unwrap();
    assert!(png_size(&png).0 >= 900);
    // Same seeds at every point: the concurrency-10 rows match a plain run.
    let run = ratesim()
        .args(["run", "--format", "csv", "--replications", "3"])
        .arg(bundled("ci-300x10.toml"))
        .output()
        .unwrap();
    let run = String::from_utf8(run.stdout).unwrap();
    let plain = run
        .lines()
        .find(|l| l.starts_with("failover-chain,makespan_s,"))
        .unwrap()
        .split(',')
        .nth(2)
        .unwrap()
        .to_string();
    let swept = csv
        .lines()
        .find(|l| l.starts_with("10,failover-chain,"))
        .unwrap()
        .split(',')
        .nth(6)
        .unwrap()
        .to_string();
    assert_eq!(plain, swept);
}

#[test]
fn bad_sets_exit_2_and_write_nothing() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("s");
    let cases = [
        ("workload.concurrency", "expected KEY=VALUES"),
        ("workload.concurrency=1,lots", "`lots` is not a number"),
        (
            "providers.claud.limits[0].limit=8",
            "the scenario has no `providers.claud`",
        ),
        ("providers.claude.limits[9].limit=8", "out of range"),
        ("workload.concurrenc=1", "unknown field `concurrenc`"),
        ("workload.concurrency=0", "must be a positive whole number"),
        ("workload.input_tokens=5", "is a table"),
        ("workload.jobs=10..1:1", "start <= end"),
    ];
    for (set, message) in cases {
        ratesim()
            .args(["sweep", "--set", set, "--out"])
            .arg(&out)
            .arg(bundled("ci-300x10.toml"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
        assert!(!Path::new(&out).exists(), "{set}: nothing written");
    }
    ratesim()
        .args([
            "sweep",
            "--set",
            "workload.concurrency=1",
            "--metric",
            "speed",
            "--out",
        ])
        .arg(&out)
        .arg(bundled("ci-300x10.toml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--metric speed: no such metric"));
}
