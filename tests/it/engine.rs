//! Engine behaviour a user relies on, on small hand-checkable scenarios.

use crate::common::{mean, results, scenario, values};
use ratesim::report::{runs_csv, Exporter, SummaryCsv};
use ratesim::run::run;

const CLAUDE: &str = r#"
[providers.claude]
limits = [
  { kind = "sliding_window", window = "60s", limit = 8, unit = "requests" },
  { kind = "sliding_window", window = "60s", limit = 25000, unit = "tokens" },
]
latency = { total = "2s" }
"#;

/// The article's guard race: ten workers check the counter together, all see fewer than
/// 8 (the increments only come with the responses), all send, and the provider rejects
/// the two beyond its limit.
#[test]
fn ten_concurrent_workers_all_pass_the_predictive_guard_and_two_are_rejected() {
    let s = scenario(&format!(
        r#"
        replications = 3
        [workload]
        kind = "batch"
        jobs = 10
        concurrency = 10
        input_tokens = 1000
        output_tokens = 200
        {CLAUDE}
        [[policies]]
        name = "guarded"
        route = {{ kind = "single", provider = "claude" }}
        guards = [{{ kind = "predictive", provider = "claude", limit = 8, ttl = "60s" }}]
        "#
    ));
    let r = results(&s);
    assert!(values(&s, &r, "guarded", "guard_refusals")
        .iter()
        .all(|&x| x == 0.0));
    assert!(values(&s, &r, "guarded", "attempts")
        .iter()
        .all(|&x| x == 10.0));
    assert!(values(&s, &r, "guarded", "rejections_429")
        .iter()
        .all(|&x| x == 2.0));
    assert!(values(&s, &r, "guarded", "first_rejection_s")
        .iter()
        .all(|&x| x == 0.0));
}

/// With one worker the same guard does stop the ninth request before it is sent: the
/// race, not the counter, is what lets 429s through.
#[test]
fn one_sequential_worker_is_stopped_by_the_guard() {
    let s = scenario(&format!(
        r#"
        replications = 2
        [workload]
        kind = "batch"
        jobs = 10
        concurrency = 1
        input_tokens = 1000
        output_tokens = 200
        {CLAUDE}
        [[policies]]
        name = "guarded"
        route = {{ kind = "single", provider = "claude" }}
        guards = [{{ kind = "predictive", provider = "claude", limit = 8, ttl = "60s" }}]
        "#
    ));
    let r = results(&s);
    assert!(values(&s, &r, "guarded", "rejections")
        .iter()
        .all(|&x| x == 0.0));
    assert!(values(&s, &r, "guarded", "guard_refusals")
        .iter()
        .all(|&x| x == 2.0));
    assert!(values(&s, &r, "guarded", "jobs_failed_gave_up")
        .iter()
        .all(|&x| x == 2.0));
}

/// A request larger than a token window can ever hold fails at once with its own reason
/// instead of retrying forever; a chain hands it to a provider that can take it.
#[test]
fn unadmittable_requests_fail_with_their_reason_or_fall_back() {
    let s = scenario(&format!(
        r#"
        replications = 2
        [workload]
        kind = "batch"
        jobs = 5
        concurrency = 5
        input_tokens = 30000
        output_tokens = 1000
        {CLAUDE}
        [providers.local]
        latency = {{ total = "10s" }}
        local = true
        [[policies]]
        name = "patient"
        route = {{ kind = "single", provider = "claude" }}
        retry = {{ max_attempts = 1000, backoff = "exponential", honor_retry_after = true }}
        [[policies]]
        name = "chain"
        route = {{ kind = "chain", providers = ["claude", "local"] }}
        retry = {{ max_attempts = 1000, honor_retry_after = true }}
        "#
    ));
    let r = results(&s);
    assert!(values(&s, &r, "patient", "jobs_failed_unadmittable")
        .iter()
        .all(|&x| x == 5.0));
    assert!(values(&s, &r, "patient", "attempts")
        .iter()
        .all(|&x| x == 5.0));
    assert!(values(&s, &r, "chain", "jobs_completed")
        .iter()
        .all(|&x| x == 5.0));
    assert!(values(&s, &r, "chain", "local_hit_ratio")
        .iter()
        .all(|&x| x == 1.0));
    assert!(values(&s, &r, "chain", "fallbacks")
        .iter()
        .all(|&x| x == 5.0));
}

/// Honouring the exact retry-after hint, 20 jobs through 8 per sliding minute finish in
/// three waves: t = 0, 60 and 120 s (plus 2 s of service).
#[test]
fn retry_after_paces_jobs_through_the_sliding_window() {
    let s = scenario(&format!(
        r#"
        replications = 2
        [workload]
        kind = "batch"
        jobs = 20
        concurrency = 20
        input_tokens = 1000
        output_tokens = 200
        {CLAUDE}
        [[policies]]
        name = "hint"
        route = {{ kind = "single", provider = "claude" }}
        retry = {{ max_attempts = 50, honor_retry_after = true }}
        [[policies]]
        name = "naive"
        route = {{ kind = "single", provider = "claude" }}
        retry = {{ max_attempts = 3 }}
        "#
    ));
    let r = results(&s);
    assert!(values(&s, &r, "hint", "makespan_s")
        .iter()
        .all(|&x| x == 122.0));
    assert!(values(&s, &r, "hint", "jobs_completed")
        .iter()
        .all(|&x| x == 20.0));
    // Naive immediate retries: only the first 8 ever get through.
    assert!(values(&s, &r, "naive", "jobs_completed")
        .iter()
        .all(|&x| x == 8.0));
    assert!(values(&s, &r, "naive", "jobs_failed_gave_up")
        .iter()
        .all(|&x| x == 12.0));
    assert!(values(&s, &r, "naive", "attempts")
        .iter()
        .all(|&x| x == 8.0 + 12.0 * 3.0));
}

/// An offline period of at least `reset_after` empties the provider's buckets: requests
/// after reconnecting are rejected until the buckets refill.
#[test]
fn a_long_offline_period_empties_the_buckets() {
    let text = |offline_for: &str| {
        format!(
            r#"
            replications = 1
            [workload]
            kind = "poisson"
            rate_per_s = 0.5
            duration = "200s"
            input_tokens = 10
            output_tokens = 10
            [providers.copilot]
            limits = [{{ kind = "token_bucket", capacity = 100, refill_per_s = 0.05, unit = "requests" }}]
            reject_status = 503
            latency = {{ total = "100ms" }}
            online = {{ offline_every = "100s", offline_for = "{offline_for}", reset_after = "30s" }}
            [[policies]]
            name = "one-try"
            route = {{ kind = "single", provider = "copilot" }}
            "#
        )
    };
    // Offline 100-110 s only: the rejections are the arrivals in that window.
    let short = scenario(&text("10s"));
    let r = results(&short);
    let short_rej = values(&short, &r, "one-try", "rejections_503")[0];
    // Offline 100-130 s: the quota is zeroed at 130 s and refills 1 per 20 s after.
    let long = scenario(&text("30s"));
    let r = results(&long);
    let long_rej = values(&long, &r, "one-try", "rejections_503")[0];
    let attempts = values(&long, &r, "one-try", "attempts")[0];
    assert!(
        short_rej > 0.0 && short_rej < 15.0,
        "short offline: {short_rej}"
    );
    // ~15 arrivals while offline, then ~35 arrivals from 130 s against a bucket that
    // refills one request every 20 s: most of them are rejected too.
    assert!(
        long_rej > short_rej + 20.0,
        "long offline: {long_rej} rejections of {attempts}, short: {short_rej}"
    );
}

/// Outages answer with their own status and cost nothing.
#[test]
fn outages_reject_with_their_status() {
    let s = scenario(
        r#"
        replications = 5
        [workload]
        kind = "poisson"
        rate_per_s = 1.0
        duration = "1000s"
        input_tokens = 10
        output_tokens = 10
        [providers.api]
        latency = { total = "1s" }
        price_per_1k_input = 1.0
        outages = { up = "90s", down = "10s", status = 529 }
        [[policies]]
        name = "one-try"
        route = { kind = "single", provider = "api" }
        "#,
    );
    let r = results(&s);
    let p = mean(&values(&s, &r, "one-try", "rejection_probability"));
    assert!((p - 0.1).abs() < 0.03, "10% of the time down, got {p}");
    let rej = values(&s, &r, "one-try", "rejections_529");
    let served = values(&s, &r, "one-try", "served.api");
    let cost = values(&s, &r, "one-try", "cost_usd");
    for ((rej, served), cost) in rej.iter().zip(&served).zip(&cost) {
        assert!(*rej > 0.0);
        assert!(
            (cost - served * 0.01).abs() < 1e-9,
            "only served requests cost"
        );
    }
}

/// Common random numbers: two policies in one replication see the same jobs.
#[test]
fn policies_see_the_same_jobs_in_a_replication() {
    let s = scenario(
        r#"
        replications = 4
        [workload]
        kind = "poisson"
        rate_per_s = 2.0
        jobs = 200
        input_tokens = { dist = "lognormal", median = 1000, p95 = 5000 }
        output_tokens = { dist = "exponential", mean = 300 }
        [providers.a]
        latency = { total = "1s" }
        [providers.b]
        latency = { total = { dist = "exponential", mean = "3s" } }
        [[policies]]
        name = "to-a"
        route = { kind = "single", provider = "a" }
        [[policies]]
        name = "to-b"
        route = { kind = "single", provider = "b" }
        "#,
    );
    let r = results(&s);
    let a = values(&s, &r, "to-a", "tokens.a");
    let b = values(&s, &r, "to-b", "tokens.b");
    assert_eq!(
        a, b,
        "same token sizes for both policies in each replication"
    );
    assert!(a.windows(2).all(|w| w[0] != w[1]), "replications differ");
}

/// Same scenario and seed: byte-identical outputs, whatever the number of threads.
#[test]
fn outputs_are_identical_for_any_thread_count() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/ci-300x10.toml"
    ))
    .unwrap();
    let mut s = scenario(&text);
    s.replications = 12;
    let bytes = |threads| {
        let r = run(&s, threads).unwrap();
        (SummaryCsv.export(&r.summary(&s)), runs_csv(&r))
    };
    let one = bytes(1);
    assert_eq!(one, bytes(2));
    assert_eq!(one, bytes(3));
    let mut other_seed = s.clone();
    other_seed.seed += 1;
    let r = run(&other_seed, 2).unwrap();
    assert_ne!(one.1, runs_csv(&r), "the seed matters");
}

/// Every limit kind parses, runs and admits what its law admits.
#[test]
fn every_limit_kind_runs_with_its_documented_semantics() {
    let s = scenario(
        r#"
        replications = 2
        [workload]
        kind = "batch"
        jobs = 12
        concurrency = 12
        input_tokens = 900
        output_tokens = 100
        [providers.fixed]
        limits = [{ kind = "fixed_window", window = "60s", limit = 5, unit = "requests" }]
        latency = { total = "1s" }
        [providers.gcra]
        limits = [{ kind = "gcra", limit = 60, period = "60s", burst = 4, unit = "requests" }]
        latency = { total = "1s" }
        [providers.gcra-tokens]
        limits = [{ kind = "gcra", limit = 1000, period = "1s", burst = 500, unit = "tokens" }]
        latency = { total = "1s" }
        [providers.bucket]
        limits = [{ kind = "token_bucket", capacity = 3, refill_per_s = 1, fill_interval = "2s", unit = "requests" }]
        latency = { total = "1s" }
        [providers.slots]
        limits = [{ kind = "concurrency", limit = 4 }]
        latency = { total = "1s" }
        [[policies]]
        name = "fixed"
        route = { kind = "single", provider = "fixed" }
        retry = { max_attempts = 100, honor_retry_after = true, retry_after_max = "5m" }
        [[policies]]
        name = "gcra"
        route = { kind = "single", provider = "gcra" }
        retry = { max_attempts = 100, honor_retry_after = true }
        [[policies]]
        name = "gcra-tokens"
        route = { kind = "single", provider = "gcra-tokens" }
        retry = { max_attempts = 100, honor_retry_after = true }
        [[policies]]
        name = "bucket"
        route = { kind = "single", provider = "bucket" }
        retry = { max_attempts = 100, honor_retry_after = true }
        [[policies]]
        name = "slots"
        route = { kind = "single", provider = "slots" }
        "#,
    );
    let r = results(&s);
    let all = |p: &str, m: &str, v: f64| {
        let xs = values(&s, &r, p, m);
        assert!(xs.iter().all(|&x| x == v), "{p} {m}: {xs:?}, expected {v}");
    };
    // 5 per fixed window: waves at 0, 60 and 120 s.
    all("fixed", "makespan_s", 121.0);
    all("fixed", "jobs_completed", 12.0);
    // GCRA: a burst of 4, then one per second: the 12th passes at 8 s.
    all("gcra", "makespan_s", 9.0);
    // 1,000 tokens exceed a burst of 500 tokens: never, reported as such.
    all("gcra-tokens", "jobs_failed_unadmittable", 12.0);
    all("gcra-tokens", "attempts", 12.0);
    // Capacity 3, then 2 more every 2 s (discrete): 3 + 2 + 2 + 2 + 2 + 1 -> last at 10 s.
    all("bucket", "makespan_s", 11.0);
    // Four slots and no retry: four served, eight rejected at once.
    all("slots", "jobs_completed", 4.0);
    all("slots", "rejections_429", 8.0);
}

/// `count_rejected`: rejected requests use up the limit too, so immediate retries keep a
/// client locked out (OpenAI counts failed requests toward the per-minute limit).
#[test]
fn counted_rejections_extend_a_lockout() {
    let text = |counted: bool| {
        format!(
            r#"
            replications = 1
            [workload]
            kind = "batch"
            jobs = 10
            concurrency = 10
            input_tokens = 10
            output_tokens = 10
            [providers.api]
            limits = [{{ kind = "sliding_window", window = "60s", limit = 8, unit = "requests", count_rejected = {counted} }}]
            latency = {{ total = "1s" }}
            reject_latency = "1s"
            [[policies]]
            name = "retry-every-10s"
            route = {{ kind = "single", provider = "api" }}
            retry = {{ max_attempts = 100, backoff = "constant", base = "10s" }}
            "#
        )
    };
    let free = scenario(&text(false));
    let counted = scenario(&text(true));
    let (rf, rc) = (results(&free), results(&counted));
    let m_free = values(&free, &rf, "retry-every-10s", "makespan_s")[0];
    let m_counted = values(&counted, &rc, "retry-every-10s", "makespan_s")[0];
    // Uncounted: the two left over pass once the first eight age out, at ~66 s.
    assert!(m_free < 70.0, "{m_free}");
    // Counted: every retry refreshes the window, so the two never pass while retrying
    // every 11 s; they give up after 100 attempts.
    assert!(m_counted > 1000.0, "{m_counted}");
    assert_eq!(
        values(&counted, &rc, "retry-every-10s", "jobs_failed_gave_up")[0],
        2.0
    );
}
