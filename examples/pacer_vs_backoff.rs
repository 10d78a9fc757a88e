//! Builds a small scenario in code, runs it, and checks what the README promises: against
//! Claude's 8-requests-per-sliding-minute limit, the header-aware pacer finishes the
//! batch as fast as backoff with jitter, without a single 429.
//!
//! Run with `cargo run --release --example pacer_vs_backoff`.

use std::path::Path;

use ratesim::runner::replicate;
use ratesim::scenario::parse_str;
use ratesim::stats::summary::summarize;

fn main() {
    let text = r#"
        replications = 20
        [workload]
        kind = "batch"
        jobs = 40
        concurrency = 10
        input_tokens = { dist = "lognormal", median = 1200, p95 = 4000 }
        output_tokens = 250
        [providers.claude]
        limits = [{ kind = "sliding_window", window = "60s", limit = 8, unit = "requests" }]
        latency = { ttft = "800ms", tokens_per_s = 60 }
        reject_latency = "150ms"
        [[policies]]
        name = "backoff"
        route = { kind = "single", provider = "claude" }
        retry = { max_attempts = 20, backoff = "exponential", base = "1s", cap = "60s", jitter = "full", honor_retry_after = true }
        [[policies]]
        name = "pacer"
        route = { kind = "single", provider = "claude" }
        guards = [{ kind = "pacer" }]
    "#;
    let scenario = parse_str(text, Path::new("example.toml"), Path::new("."), "example")
        .expect("a valid scenario");
    let results = replicate(&scenario, 0).expect("a run within the clock");
    let summary = summarize(&results, &scenario);
    for (i, p) in summary.policies.iter().enumerate() {
        let rej = summary.get(i, "rejections_429").unwrap().mean;
        let makespan = summary.get(i, "makespan_s").unwrap().mean;
        println!("{:8}  429s {rej:6.1}  makespan {makespan:6.1} s", p.name);
    }
    let rejections = |i| summary.get(i, "rejections_429").unwrap().mean;
    let makespan = |i| summary.get(i, "makespan_s").unwrap().mean;
    assert!(rejections(0) > 0.0, "backoff hits the limit");
    assert_eq!(rejections(1), 0.0, "the pacer never does");
    assert!(makespan(1) <= makespan(0) + 1.0, "and is not slower");
}
