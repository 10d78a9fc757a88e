//! Exporters, charts and sweeps: what lands in a results folder.

use std::path::Path;

use predicates::prelude::*;
use ratesim::output::report::{Exporter, Json, Markdown, Prometheus, Table, View};
use ratesim::stats::compare::Comparison;
use ratesim::stats::summary::{PolicySummary, Summary};
use ratesim::stats::Estimate;
use tempfile::TempDir;

use crate::common::{bundled, ratesim};

fn est(mean: f64, hw: f64, n: u64) -> Estimate {
    Estimate {
        mean,
        ci_low: mean - hw,
        ci_high: mean + hw,
        n,
    }
}

/// A small hand-made summary, so the snapshots change only when an exporter does. Its
/// comparison is computed from made-up replications of the key metrics whose means are
/// the summary's: a common "hardness" factor per replication (common random numbers), and
/// for failover-chain's rejection probability an independent swing wide enough to make it
/// indistinguishable from claude-backoff-jitter's.
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
    // Dominated by claude-backoff-jitter: more rejections, longer, same bill.
    let c = [
        1200.0, 0.75, 0.0, 290.0, 10.0, 2400.0, 1200.0, 2300.0, 2390.0, 150.0, 1200.0, 0.0, 900.0,
        0.0, 600_000.0,
    ];
    let make = |name: &str, v: &[f64]| PolicySummary {
        name: name.into(),
        estimates: v
            .iter()
            .enumerate()
            .map(|(i, &x)| est(x, if i % 3 == 0 { 0.0 } else { x * 0.01 }, 100))
            .collect(),
    };
    let names: Vec<String> = [
        "claude-backoff-jitter",
        "failover-chain",
        "claude-naive-retry",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    let key = [
        "rejection_probability",
        "makespan_s",
        "monthly_bill_usd",
        "jobs_failed",
    ];
    let hardness = [-0.04, -0.03, -0.02, -0.01, 0.0, 0.0, 0.01, 0.02, 0.03, 0.04];
    let runs: Vec<Vec<Vec<f64>>> = [a, b, c]
        .iter()
        .enumerate()
        .map(|(p, v)| {
            hardness
                .iter()
                .enumerate()
                .map(|(r, h)| {
                    key.iter()
                        .map(|k| {
                            let x = v[metrics.iter().position(|m| m == k).unwrap()] * (1.0 + h);
                            let swing = if r % 2 == 0 { 0.05 } else { -0.05 };
                            if p == 1 && *k == "rejection_probability" {
                                x + swing
                            } else {
                                x
                            }
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    let key_names: Vec<String> = key.iter().map(|k| k.to_string()).collect();
    Summary {
        scenario: "ci-300x10".into(),
        description: "test summary".into(),
        seed: 7,
        replications: 100,
        metrics: metrics.iter().map(|m| m.to_string()).collect(),
        policies: vec![
            make(&names[0], &a),
            make(&names[1], &b),
            make(&names[2], &c),
        ],
        comparison: Some(Comparison::new(&names, &key_names, &runs)),
        verdict: None,
    }
}

#[test]
fn table_snapshot() {
    let t = Table {
        width: 100,
        view: View::All,
    };
    insta::assert_snapshot!(String::from_utf8(t.export(&summary())).unwrap());
}

#[test]
fn compact_table_snapshot() {
    let t = Table {
        width: 100,
        view: View::Key,
    };
    insta::assert_snapshot!(String::from_utf8(t.export(&summary())).unwrap());
}

#[test]
fn table_marks_the_pareto_front_and_joins_indistinguishable_policies() {
    let text = String::from_utf8(
        Table {
            width: 200,
            view: View::All,
        }
        .export(&summary()),
    )
    .unwrap();
    assert!(text.contains(" claude-backoff-jitter* "));
    assert!(text.contains(" failover-chain* "));
    assert!(!text.contains("claude-naive-retry*"));
    let line = |metric: &str| {
        text.lines()
            .find(|l| l.starts_with(metric) && l.contains("1. "))
            .unwrap_or_else(|| panic!("no ranking of {metric}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        line("rejection_probability"),
        "rejection_probability 1. claude-backoff-jitter = failover-chain 2. claude-naive-retry (fails 10.0)"
    );
    assert_eq!(
        line("monthly_bill_usd"),
        "monthly_bill_usd 1. failover-chain 2. claude-backoff-jitter 3. claude-naive-retry (fails 10.0)"
    );
    // Without a comparison the table is the plain one.
    let mut plain = summary();
    plain.comparison = None;
    let plain = String::from_utf8(
        Table {
            width: 100,
            view: View::All,
        }
        .export(&plain),
    )
    .unwrap();
    assert!(!plain.contains('*') && !plain.contains("ranking"));
}

#[test]
fn json_keeps_the_comparison_and_reads_files_without_it() {
    let s = summary();
    let bytes = Json.export(&s);
    let back = Summary::from_json(&bytes).unwrap();
    let (c, b) = (s.comparison.as_ref().unwrap(), back.comparison.unwrap());
    assert_eq!(b.policies, c.policies);
    assert_eq!(b.pareto_metrics, c.pareto_metrics);
    assert_eq!(b.pareto_front, c.pareto_front);
    assert_eq!(b.metrics.len(), c.metrics.len());
    // serde_json reads a float back to within an ulp or so, not always exactly.
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * x.abs().max(1.0);
    for (mb, mc) in b.metrics.iter().zip(&c.metrics) {
        assert_eq!(
            (&mb.metric, &mb.ranking, &mb.unranked),
            (&mc.metric, &mc.ranking, &mc.unranked)
        );
        for (rb, rc) in mb.differences.iter().zip(&mc.differences) {
            assert_eq!(rb.len(), rc.len());
            for (x, y) in rb.iter().zip(rc) {
                assert!(
                    x.n == y.n
                        && close(x.mean, y.mean)
                        && close(x.ci_low, y.ci_low)
                        && close(x.ci_high, y.ci_high),
                    "{}: {x:?} vs {y:?}",
                    mb.metric
                );
            }
        }
    }
    let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["schema"], "ratesim.summary/1");
    assert_eq!(doc["comparison"]["pareto_front"], serde_json::json!([0, 1]));
    // A summary.json written before comparisons existed still reads.
    let mut old = s.clone();
    old.comparison = None;
    let old_bytes = Json.export(&old);
    assert!(!String::from_utf8_lossy(&old_bytes).contains("comparison"));
    assert_eq!(Summary::from_json(&old_bytes).unwrap().comparison, None);
    // A comparison naming a policy that does not exist is an error.
    let mut bad = doc.clone();
    bad["comparison"]["pareto_front"] = serde_json::json!([0, 3]);
    let err = Summary::from_json(bad.to_string().as_bytes()).unwrap_err();
    assert!(err.contains("pareto_front"), "{err}");
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
            s.metric == "ratesim_rejections"
                && s.labels.get("provider") == Some("claude")
                && s.labels.get("status") == Some("429")
                && s.labels.get("policy") == Some("claude-backoff-jitter")
        })
        .expect("generalised rejections family");
    // A mean over replications is a gauge, not a counter.
    assert!(matches!(by_status.value, prometheus_parse::Value::Gauge(v) if v == 381.0));
    assert!(!text.contains(" counter\n"));
}

/// PNG width and height from the IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    (w, h)
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
        // Six limit panels and the events track (fallbacks); two panels.
        (
            "timeline_failover-chain",
            Some((1400, 90 + 200 * 6 + 150 + 30)),
        ),
        (
            "timeline_claude-naive-retry",
            Some((1400, 90 + 200 * 2 + 30)),
        ),
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
        .stderr(predicate::str::contains(
            "has neither summary.json nor sweep.csv; plot reads folders written by `ratesim run --out DIR` or `ratesim sweep`",
        ));
}

/// Runs `ratesim sweep` of ci-300x10 with 2 replications and `args`, into `out`;
/// returns standard output.
fn sweep(out: &Path, args: &[&str]) -> String {
    let o = ratesim()
        .args(["sweep", "--replications", "2", "--out"])
        .arg(out)
        .arg(bundled("ci-300x10.toml"))
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// The files of a folder, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut f: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    f.sort();
    f
}

/// The sweep's table: a row per point and policy with its failed jobs beside the
/// values, a policy that fails jobs flagged on every value, then the file-count line.
#[test]
fn a_sweep_prints_a_table_that_flags_policies_failing_jobs() {
    let dir = TempDir::new().unwrap();
    let out = sweep(
        &dir.path().join("s"),
        &[
            "--set",
            "workload.concurrency=5,10",
            "--metric",
            "makespan_s",
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("ci-300x10: sweep of 2 points x 5 policies, 2 replications"));
    assert!(
        lines[1].starts_with("concurrency = workload.concurrency"),
        "{out}"
    );
    let header: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(
        header,
        ["concurrency", "policy", "jobs_failed", "makespan_s"]
    );
    // claude-naive-retry gives up 292 of 300 jobs: flagged; failover-chain is not.
    let naive = lines[3];
    assert!(
        naive.trim_start().starts_with("5  claude-naive-retry"),
        "{out}"
    );
    assert!(naive.contains(" 292 ") && naive.ends_with(" !"), "{naive}");
    let chain = lines.iter().find(|l| l.contains("failover-chain")).unwrap();
    assert!(!chain.contains('!'), "{chain}");
    assert_eq!(out.matches("claude-naive-retry").count(), 2);
    assert!(out.contains("! the policy fails jobs at that point (jobs_failed > 0)"));
    assert!(lines
        .last()
        .unwrap()
        .ends_with("sweep.csv (2 points x 5 policies) and 2 charts"));
}

/// `--format csv` prints sweep.csv as written; `--format markdown` a Markdown table.
#[test]
fn a_sweep_prints_csv_or_markdown_on_request() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("s");
    let csv = sweep(
        &out,
        &["--set", "workload.concurrency=5", "--format", "csv"],
    );
    assert_eq!(csv, std::fs::read_to_string(out.join("sweep.csv")).unwrap());
    let md = sweep(
        &out,
        &["--set", "workload.concurrency=5", "--format", "markdown"],
    );
    assert!(md.contains("| concurrency | policy | jobs_failed | rejection_probability |"));
    assert!(md.contains("| 5 | failover-chain | 0 |"), "{md}");
}

/// Duration ranges step in time (`30s..90s:30s`, and `1m..2m:30s` mixing units) and
/// sweep.csv holds their seconds.
#[test]
fn a_sweep_takes_duration_ranges() {
    let dir = TempDir::new().unwrap();
    for (set, keys) in [
        (
            "providers.claude.limits[0].window=30s..90s:30s",
            ["30", "60", "90"],
        ),
        (
            "providers.claude.limits[0].window=1m..2m:30s",
            ["60", "90", "120"],
        ),
    ] {
        let out = dir.path().join("s");
        let table = sweep(&out, &["--set", set, "--metric", "makespan_s"]);
        assert!(table.contains("\nwindow (s)  policy"), "{table}");
        let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
        let got: Vec<&str> = csv
            .lines()
            .skip(1)
            .filter(|l| l.contains(",failover-chain,"))
            .map(|l| l.split(',').next().unwrap())
            .collect();
        assert_eq!(got, keys, "{set}");
    }
}

/// Zipped keys move together and are one axis: two points, one chart per metric with
/// no suffix, both keys in sweep.csv; `plot` reads the zip back and redraws the same
/// files.
#[test]
fn zipped_keys_are_one_axis_of_the_grid() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("s");
    let table = sweep(
        &out,
        &[
            "--set",
            "providers.claude.limits[0].limit,providers.claude.limits[1].limit=4:12500,8:25000",
            "--metric",
            "makespan_s",
        ],
    );
    assert!(table.contains("2 points x 5 policies"), "{table}");
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    assert!(csv
        .starts_with("providers.claude.limits[0].limit,providers.claude.limits[1].limit,policy,"));
    assert!(csv.contains("\n8,25000,failover-chain,"));
    let written = files(&out);
    assert!(
        written.contains(&"sweep_makespan_s.png".to_string()),
        "{written:?}"
    );
    assert_eq!(written.len(), 1 + 2 * 2, "{written:?}");
    let svg = std::fs::read_to_string(out.join("sweep_makespan_s.svg")).unwrap();
    assert!(svg.contains("with limits[1].limit"));
    for f in &written {
        if f.ends_with(".svg") || f.ends_with(".png") {
            std::fs::remove_file(out.join(f)).unwrap();
        }
    }
    ratesim().arg("plot").arg(&out).assert().success();
    assert_eq!(files(&out), written);
}

/// A policy by name (`policies.NAME...`) sets that policy, like its index does.
#[test]
fn a_sweep_addresses_policies_by_name() {
    let dir = TempDir::new().unwrap();
    let by_name = dir.path().join("n");
    let by_index = dir.path().join("i");
    sweep(
        &by_name,
        &["--set", "policies.failover-chain.retry.max_attempts=1,2"],
    );
    sweep(&by_index, &["--set", "policies[4].retry.max_attempts=1,2"]);
    let a = std::fs::read_to_string(by_name.join("sweep.csv")).unwrap();
    let b = std::fs::read_to_string(by_index.join("sweep.csv")).unwrap();
    assert_eq!(
        a.lines().skip(1).collect::<Vec<_>>(),
        b.lines().skip(1).collect::<Vec<_>>()
    );
    let rows: Vec<&str> = a
        .lines()
        .filter(|l| l.contains(",failover-chain,"))
        .collect();
    assert_ne!(
        rows[0].split_once(',').unwrap().1,
        rows[1].split_once(',').unwrap().1
    );
}

/// String and boolean values sweep too, on a categorical x axis; sweep.csv holds them as
/// written and `plot` redraws from it.
#[test]
fn a_sweep_takes_string_and_boolean_values() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("s");
    let table = sweep(
        &out,
        &[
            "--set",
            "policies.predictive-guard.retry.jitter=none,full",
            "--set",
            "providers.local.local=true,false",
            "--metric",
            "makespan_s",
        ],
    );
    assert!(table.contains("4 points x 5 policies"), "{table}");
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    assert!(csv.contains("\nnone,true,claude-naive-retry,"), "{csv}");
    assert!(csv.contains("\nfull,false,failover-chain,"), "{csv}");
    let svg = std::fs::read_to_string(out.join("sweep_makespan_s__providers.local.local=true.svg"))
        .unwrap();
    // The categories label the x axis.
    assert!(
        svg.contains("\nnone\n</text>") && svg.contains("\nfull\n</text>"),
        "categorical ticks"
    );
    let written = files(&out);
    std::fs::remove_file(out.join("sweep_makespan_s__providers.local.local=true.svg")).unwrap();
    ratesim().arg("plot").arg(&out).assert().success();
    assert_eq!(files(&out), written);
}

/// Sweep charts are for readers: axis titles in words with units, hollow points and
/// "fails N jobs" for a policy that fails jobs, and a note naming lines hidden under
/// others (the four single-provider policies' bills coincide at $150).
#[test]
fn sweep_charts_name_failures_hidden_lines_and_units() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("s");
    sweep(&out, &["--set", "workload.concurrency=5,10"]);
    let svg = std::fs::read_to_string(out.join("sweep_monthly_bill_usd.svg")).unwrap();
    assert!(svg.contains("monthly bill (USD)"));
    assert!(svg.contains("CI concurrency (jobs at once)"));
    assert!(
        svg.contains("fails up to 292 jobs (2 of 2 points, hollow)"),
        "legend"
    );
    assert!(svg.contains("lines hidden under others"));
    assert!(svg.contains("under client-token-bucket:"));
    let makespan = std::fs::read_to_string(out.join("sweep_makespan_s.svg")).unwrap();
    assert!(makespan.contains("makespan (s)"));
    assert!(!makespan.contains("lines hidden under others"));
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
        (
            "workload.concurrency=1,lots",
            "with --set workload.concurrency=lots: ",
        ),
        (
            "policies.nope.retry.max_attempts=1",
            "`policies` has no entry named `nope`; names: claude-naive-retry, claude-backoff-jitter",
        ),
        (
            "policies[0].retry.jitter=none,sideways",
            "with --set policies[0].retry.jitter=sideways: ",
        ),
        ("workload.concurrency=1,,2", "an empty value"),
        ("workload.jobs=1..5", "has no step"),
        ("providers.claude.reject_latency=1s..5:1s", "all numbers"),
        (
            "providers.claude.limits[0].limit,providers.claude.limits[1].limit=4:1,8",
            "`8` has 1 values; zipped keys take one value per key",
        ),
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

/// A rejection is marked on the limit that refused it, and a limit that never came near
/// full is a line of text, not a panel.
#[test]
fn timelines_mark_the_refusing_limit_and_collapse_idle_ones() {
    let dir = TempDir::new().unwrap();
    let text = r#"
replications = 1
[workload]
kind = "batch"
jobs = 12
concurrency = 12
input_tokens = 10
output_tokens = 10
[providers.api]
limits = [
  { kind = "sliding_window", window = "10s", limit = 2, unit = "requests" },
  { kind = "sliding_window", window = "10s", limit = 100000, unit = "tokens" },
]
reject_latency = "100ms"
latency = { total = "1s" }
[[policies]]
name = "p"
route = { kind = "single", provider = "api" }
retry = { max_attempts = 20, honor_retry_after = true }
"#;
    let f = crate::common::write(dir.path(), "s.toml", text);
    let out = dir.path().join("out");
    ratesim()
        .arg("run")
        .arg(&f)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let events: Vec<ratesim::metrics::timeline::EventRow> =
        ratesim::output::plot::read_rows(&out.join("events.csv")).unwrap();
    let rejected: Vec<_> = events.iter().filter(|e| e.event == "rejected").collect();
    assert!(!rejected.is_empty());
    for e in &rejected {
        assert_eq!(
            e.refused_by.as_deref(),
            Some("sliding 2/10s requests"),
            "{e:?}"
        );
    }
    let svg = std::fs::read_to_string(out.join("timeline_p.svg")).unwrap();
    assert!(
        svg.contains("never above 50% of their limit"),
        "no collapsed line"
    );
    assert!(
        svg.contains("sliding 100000/10s tokens: at most 40"),
        "tokens not listed"
    );
    assert!(
        svg.contains("api · sliding 2/10s requests"),
        "requests panel missing"
    );
    assert!(
        !svg.contains("api · sliding 100000/10s tokens<"),
        "tokens drawn as a panel"
    );
}

/// Every client-side guard's state has its series in the timeline: the client token
/// bucket's tokens taken against its capacity, the predictive counter against its
/// limit, and whether each provider is out of rotation.
#[test]
fn timelines_show_the_client_side_guards() {
    let dir = TempDir::new().unwrap();
    let text = r#"
replications = 1
[workload]
kind = "batch"
jobs = 20
concurrency = 20
input_tokens = 10
output_tokens = 10
[providers.api]
limits = [{ kind = "sliding_window", window = "10s", limit = 3, unit = "requests" }]
reject_latency = "100ms"
latency = { total = "1s" }
[[policies]]
name = "p"
route = { kind = "single", provider = "api" }
retry = { max_attempts = 50, honor_retry_after = true }
guards = [
  { kind = "token_bucket", rate = 1, capacity = 5 },
  { kind = "predictive", provider = "api", limit = 4, ttl = "10s" },
  { kind = "eject_on_429", while_out = "wait" },
]
"#;
    let f = crate::common::write(dir.path(), "s.toml", text);
    let out = dir.path().join("out");
    ratesim()
        .arg("run")
        .arg(&f)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let rows: Vec<ratesim::metrics::timeline::TimelineRow> =
        ratesim::output::plot::read_rows(&out.join("timeline.csv")).unwrap();
    let series = |name: &str| -> Vec<&ratesim::metrics::timeline::TimelineRow> {
        rows.iter().filter(|r| r.series == name).collect()
    };
    let bucket = series("token_bucket guard: tokens taken");
    assert!(!bucket.is_empty());
    assert!(bucket
        .iter()
        .all(|r| r.provider == "client" && r.capacity == Some(5.0)));
    // All 20 jobs at once: the bucket is emptied at the start.
    assert_eq!(bucket.iter().map(|r| r.value).fold(0.0, f64::max), 5.0);
    let counter = series("predictive guard: counter");
    assert!(counter
        .iter()
        .all(|r| r.provider == "api" && r.capacity == Some(4.0)));
    assert!(counter.iter().any(|r| r.value >= 1.0));
    let out_of = series("out of rotation");
    assert!(!out_of.is_empty() && out_of.iter().all(|r| r.value == 0.0 || r.value == 1.0));
    let svg = std::fs::read_to_string(out.join("timeline_p.svg")).unwrap();
    assert!(
        svg.contains("client · token_bucket guard: tokens taken"),
        "no bucket panel"
    );
}

/// Two guards of one kind get a series each, told apart by their place in the list;
/// a long run's guard series still start at time 0 (thinning keeps the first point).
#[test]
fn guard_series_are_one_per_guard_and_start_at_zero() {
    let text = r#"
replications = 1
[workload]
kind = "batch"
jobs = 6000
concurrency = 6000
input_tokens = 10
output_tokens = 10
[providers.api]
limits = [{ kind = "token_bucket", capacity = 20, refill_per_s = 20.0, unit = "requests" }]
latency = { total = { dist = "exponential", mean = "1s" } }
[[policies]]
name = "p"
route = { kind = "single", provider = "api" }
retry = { max_attempts = 2000, honor_retry_after = true }
guards = [
  { kind = "token_bucket", rate = 50, capacity = 50 },
  { kind = "token_bucket", rate = 30, capacity = 12 },
  { kind = "predictive", provider = "api", limit = 100000, ttl = "10h" },
]
"#;
    let s = crate::common::scenario(text);
    let catalog = ratesim::metrics::Catalog::new(&s.providers);
    let jobs = s.workload.generate(s.seed, 0);
    let mut rec = ratesim::engine::timeline::TimelineRecorder::new(&s, 0);
    let out = ratesim::engine::simulate_observed(&s, &catalog, 0, &jobs, 0, &mut rec).unwrap();
    let makespan = out.metrics[catalog.index("makespan_s").unwrap()];
    let rows = rec.finish(600, makespan).unwrap().rows;
    // The counter rises with every response: 6,000 changes, thinned past 4,096.
    for (name, cap) in [
        ("token_bucket #1 guard: tokens taken", 50.0),
        ("token_bucket #2 guard: tokens taken", 12.0),
        ("predictive guard: counter", 100000.0),
    ] {
        let series: Vec<_> = rows.iter().filter(|r| r.series == name).collect();
        assert!(series.len() > 500, "{name}: {} rows", series.len());
        assert!(series.iter().all(|r| r.capacity == Some(cap)), "{name}");
        assert_eq!(series[0].t_s, 0.0, "{name} starts late");
    }
}

/// The pause, the spend budget and the adaptive throttle have their series too.
#[test]
fn timelines_show_pauses_spend_and_throttling() {
    let text = r#"
replications = 1
[workload]
kind = "batch"
jobs = 40
concurrency = 2
input_tokens = 100
output_tokens = 100
[providers.api]
limits = [{ kind = "sliding_window", window = "10s", limit = 8, unit = "requests" }]
latency = { total = { dist = "exponential", mean = "700ms" } }
price_per_1k_input = 1.0
[providers.cheap]
latency = { total = "2s" }
[[policies]]
name = "p"
route = { kind = "chain", providers = ["api", "cheap"] }
retry = { max_attempts = 10, backoff = "constant", base = "300ms" }
guards = [
  { kind = "pause", every = "5s", length = "1s" },
  { kind = "spend_budget", budget_usd = 1.0, providers = ["cheap"] },
  { kind = "adaptive_throttle" },
]
"#;
    let s = crate::common::scenario(text);
    let catalog = ratesim::metrics::Catalog::new(&s.providers);
    let jobs = s.workload.generate(s.seed, 0);
    let mut rec = ratesim::engine::timeline::TimelineRecorder::new(&s, 0);
    let out = ratesim::engine::simulate_observed(&s, &catalog, 0, &jobs, 0, &mut rec).unwrap();
    let makespan = out.metrics[catalog.index("makespan_s").unwrap()];
    let rows = rec.finish(600, makespan).unwrap().rows;
    let max = |name: &str| {
        rows.iter()
            .filter(|r| r.series == name)
            .map(|r| r.value)
            .fold(f64::NAN, f64::max)
    };
    assert_eq!(max("pause guard: paused"), 1.0);
    assert!(max("spend_budget guard: spent (USD)") > 0.5);
    let p = max("adaptive_throttle guard: refusal probability");
    assert!((0.0..=1.0).contains(&p), "{p}");
}

/// `run --out` writes what a later diff needs: `run.json` (version, scenario, hash of
/// the resolved scenario, seed, replications, policies, each replication's job
/// fingerprint) and `scenario.toml`, which runs to the same summary.
#[test]
fn run_folders_say_what_ran_on_which_jobs() {
    let dir = TempDir::new().unwrap();
    let run = |name: &str, seed: &str| {
        let out = dir.path().join(name);
        ratesim()
            .args(["run", "--replications", "3", "--seed", seed, "--out"])
            .arg(&out)
            .arg(bundled("anthropic-tier1.toml"))
            .assert()
            .success();
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
        (out, doc)
    };
    let (a, da) = run("a", "7");
    let (_, db) = run("b", "7");
    let (_, dc) = run("c", "8");
    assert_eq!(da["schema"], "ratesim.run/1");
    assert_eq!(da["ratesim_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        (da["seed"].as_u64(), da["replications"].as_u64()),
        (Some(7), Some(3))
    );
    assert_eq!(da["policies"].as_array().unwrap().len(), 3);
    let prints = |d: &serde_json::Value| d["job_fingerprints"].as_array().unwrap().clone();
    assert_eq!(prints(&da).len(), 3);
    assert_eq!(prints(&da), prints(&db), "same seed, same jobs");
    assert_eq!(da["scenario_hash"], db["scenario_hash"]);
    assert_ne!(
        prints(&da)[0],
        prints(&dc)[0],
        "another seed draws other jobs"
    );
    assert_ne!(
        da["scenario_hash"], dc["scenario_hash"],
        "the seed is part of the scenario"
    );
    // The resolved scenario runs to the same summary.
    let again = dir.path().join("again");
    ratesim()
        .args(["run", "--out"])
        .arg(&again)
        .arg(a.join("scenario.toml"))
        .assert()
        .success();
    assert_eq!(
        std::fs::read(again.join("summary.csv")).unwrap(),
        std::fs::read(a.join("summary.csv")).unwrap()
    );
}

/// A compact cell that rests on fewer runs than replications says how many: the ratio to
/// the bound of a policy that fails jobs in some runs is the mean of the others.
#[test]
fn compact_cells_on_fewer_runs_say_how_many() {
    let out = ratesim()
        .args(["run", "--replications", "5"])
        .arg(bundled("ci-300x10.toml"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    // claude-backoff-jitter fails jobs in 4 of these 5 runs: its x bound rests on 1.
    let row = text
        .lines()
        .find(|l| l.starts_with("claude-backoff-jitter"))
        .unwrap();
    assert!(row.contains(" (1/5)"), "{row}");
    let full = text
        .lines()
        .find(|l| l.starts_with("failover-chain"))
        .unwrap();
    assert!(!full.contains("/5)"), "{full}");
    assert!(text.contains("a value (k/n) is the mean of the k of n runs"));
}
