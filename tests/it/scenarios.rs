//! The bundled scenarios say what their comments and the README promise.

use crate::common::{bundled_scenarios, bundled_text, mean, results, scenario, values};
use ratesim::stats::estimate;

/// The article's cost column, exactly, from the simulated spend; and its 429 column's
/// order: high > medium > low > 0.
#[test]
fn seed_cost_table_reproduces_the_article() {
    let mut s = scenario(&bundled_text("seed-cost-table.toml"));
    s.replications = 30;
    let r = results(&s);
    for (policy, bill) in [
        ("claude-only", 150.0),
        ("copilot-pro", 10.0),
        ("multi-cloud", 90.0),
        ("local-33b", 6.0),
    ] {
        for b in values(&s, &r, policy, "monthly_bill_usd") {
            assert!(
                (b - bill).abs() < 1e-9,
                "{policy}: bill {b}, article {bill}"
            );
        }
        assert!(
            values(&s, &r, policy, "jobs_failed")
                .iter()
                .all(|&f| f == 0.0),
            "{policy} completes every job"
        );
    }
    let p = |policy| estimate(&values(&s, &r, policy, "rejection_probability"));
    let (claude, copilot, multi, local) = (
        p("claude-only"),
        p("copilot-pro"),
        p("multi-cloud"),
        p("local-33b"),
    );
    assert!(
        claude.ci_low > copilot.ci_high,
        "high > medium: {claude:?} {copilot:?}"
    );
    assert!(
        copilot.ci_low > multi.ci_high,
        "medium > low: {copilot:?} {multi:?}"
    );
    assert!(
        multi.ci_low > 0.0,
        "multi-cloud still sees some 429s: {multi:?}"
    );
    assert_eq!(local.mean, 0.0);
    assert_eq!(local.ci_high, 0.0);
}

/// Copilot's calibration: the 10-way fan-out's first 503 comes 2-3 s in.
#[test]
fn copilot_absorbs_the_ci_burst_for_two_to_three_seconds() {
    let mut text = bundled_text("ci-300x10.toml");
    text.push_str(
        r#"
[[policies]]
name = "copilot-only"
route = { kind = "single", provider = "copilot" }
retry = { max_attempts = 1000, backoff = "exponential", base = "1s", cap = "30s", jitter = "full" }
"#,
    );
    let mut s = scenario(&text);
    s.replications = 50;
    let r = results(&s);
    let first = values(&s, &r, "copilot-only", "first_rejection_s");
    let m = mean(&first);
    assert!((2.0..=3.0).contains(&m), "first 503 at {m} s on average");
    eprintln!("copilot: first 503 at {m:.2} s on average");
    // Long runs still get 503s: the sustained layer caps throughput near 0.5/s.
    let rej = values(&s, &r, "copilot-only", "rejections_503");
    assert!(rej.iter().all(|&x| x > 100.0));
    // 60 requests from the full sustained layer, the other 240 at 0.5/s.
    let makespan = mean(&values(&s, &r, "copilot-only", "makespan_s"));
    assert!(makespan >= 240.0 / 0.5, "makespan {makespan}");
}

/// The incident: naive retries fail most jobs within seconds; the failover chain
/// finishes all of them far sooner than any Claude-only policy.
#[test]
fn ci_300x10_shows_the_incident_and_the_way_out() {
    let mut s = scenario(&bundled_text("ci-300x10.toml"));
    s.replications = 10;
    let r = results(&s);
    let naive_failed = mean(&values(&s, &r, "claude-naive-retry", "jobs_failed"));
    assert!(
        naive_failed > 250.0,
        "naive retry fails most jobs: {naive_failed}"
    );
    let chain = mean(&values(&s, &r, "failover-chain", "makespan_s"));
    let backoff = mean(&values(&s, &r, "claude-backoff-jitter", "makespan_s"));
    assert!(mean(&values(&s, &r, "failover-chain", "jobs_completed")) == 300.0);
    assert!(
        chain * 3.0 < backoff,
        "chain {chain} s vs backoff {backoff} s"
    );
    // Claude alone cannot beat 8 requests a minute: 300 jobs take at least 37 windows.
    assert!(backoff >= 37.0 * 60.0 - 60.0);
}

#[test]
fn every_bundled_scenario_is_valid() {
    for path in bundled_scenarios() {
        ratesim::scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    }
}
