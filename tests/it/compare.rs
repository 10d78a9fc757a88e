//! The comparison on real runs: common random numbers make twin policies exactly equal,
//! and the summary carries the comparison that the exporters show.

use crate::common::{batch, build, policy, provider, results, single, sliding_window};
use ratesim::scenario::Scenario;
use ratesim::stats::compare::{Comparison, KEY_METRICS};

/// Claude's tier with lognormal prompts, and two identical policies around a third.
fn twins() -> Scenario {
    let retry = "{ max_attempts = 10, honor_retry_after = true }";
    build(&[
        &batch(40, 5)
            .replications(12)
            .tokens(r#"{ dist = "lognormal", median = 1200, p95 = 4000 }"#, 250),
        &provider("claude")
            .limit(sliding_window("60s", 8, "requests"))
            .limit(sliding_window("60s", 12000, "tokens"))
            .set("latency", r#"{ ttft = "800ms", tokens_per_s = 60 }"#)
            .set("price_per_1k_input", 0.075)
            .set("price_per_1k_output", 0.075),
        &policy("retry-after", &single("claude")).set("retry", retry),
        &policy("no-retry", &single("claude")),
        &policy("retry-after-twin", &single("claude")).set("retry", retry),
    ])
}

#[test]
fn twin_policies_are_indistinguishable_and_share_every_rank() {
    let s = twins();
    let r = results(&s);
    let c = Comparison::of(&r);
    assert_eq!(c.metrics.len(), KEY_METRICS.len());
    for m in &c.metrics {
        // Replication by replication the twins see the same jobs: every paired
        // difference is exactly 0, so the interval is the point 0.
        let d = m.differences[0][2];
        assert_eq!(
            (d.mean, d.ci_low, d.ci_high, d.n),
            (0.0, 0.0, 0.0, 12),
            "{}",
            m.metric
        );
        assert_eq!(m.rank_of(0), m.rank_of(2), "{}", m.metric);
    }
    assert_eq!(c.on_front(0), c.on_front(2));
    // Giving up at the first 429 fails jobs in every replication: a rank of its own.
    let failed = c.metric("jobs_failed").unwrap();
    assert_eq!(failed.ranking, vec![vec![0, 2], vec![1]]);
    assert!(failed.differences[1][0].ci_low > 0.0);
}

#[test]
fn the_summary_carries_the_comparison_and_the_paired_means_match() {
    let s = twins();
    let r = results(&s);
    let summary = ratesim::stats::summary::summarize(&r, &s);
    let c = summary.comparison.as_ref().expect("a comparison");
    assert_eq!(c, &Comparison::of(&r));
    assert_eq!(c.policies, ["retry-after", "no-retry", "retry-after-twin"]);
    // With no undefined values the paired mean is the difference of the means.
    let mk = c.metric("makespan_s").unwrap();
    let (a, b) = (
        summary.get(0, "makespan_s").unwrap().mean,
        summary.get(1, "makespan_s").unwrap().mean,
    );
    assert!((mk.differences[0][1].mean - (a - b)).abs() < 1e-9 * a.abs().max(1.0));
    // Ranks follow the failures first (no-retry gives up on jobs: last, though it is
    // the fastest), then the means.
    let order: Vec<usize> = mk.ranking.concat();
    assert_eq!(order.last(), Some(&1));
    assert!(
        summary.get(1, "makespan_s").unwrap().mean < summary.get(0, "makespan_s").unwrap().mean
    );
    for w in order[..order.len() - 1].windows(2) {
        assert!(
            summary.get(w[0], "makespan_s").unwrap().mean
                <= summary.get(w[1], "makespan_s").unwrap().mean
        );
    }
}
