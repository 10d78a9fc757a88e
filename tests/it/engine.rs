//! Engine behaviour a user relies on, on small hand-checkable scenarios.

use crate::common::{
    batch, build, bundled_text, chain, fixed_window, mean, poisson, policy, provider, results,
    scenario, single, sliding_window, values, ProviderBlock, Workload,
};
use ratesim::output::report::{runs_csv, Exporter, SummaryCsv};
use ratesim::runner::replicate;
use ratesim::stats::summary::summarize;

/// Claude's tier: 8 requests and 25,000 tokens per sliding minute, 2 s per request.
fn claude() -> ProviderBlock {
    provider("claude")
        .limit(sliding_window("60s", 8, "requests"))
        .limit(sliding_window("60s", 25000, "tokens"))
        .total("2s")
}

/// Jobs of 1,000 input and 200 output tokens.
fn jobs(jobs: u64, concurrency: u32) -> Workload {
    batch(jobs, concurrency).tokens(1000, 200)
}

const PREDICTIVE: &str =
    r#"[{ kind = "predictive", provider = "claude", limit = 8, ttl = "60s" }]"#;

/// The article's guard race: ten workers check the counter together, all see fewer than
/// 8 (the increments only come with the responses), all send, and the provider rejects
/// the two beyond its limit.
#[test]
fn ten_concurrent_workers_all_pass_the_predictive_guard_and_two_are_rejected() {
    let s = build(&[
        &jobs(10, 10).replications(3),
        &claude(),
        &policy("guarded", &single("claude")).set("guards", PREDICTIVE),
    ]);
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
    let s = build(&[
        &jobs(10, 1),
        &claude(),
        &policy("guarded", &single("claude")).set("guards", PREDICTIVE),
    ]);
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
    let s = build(&[
        &batch(5, 5).tokens(30000, 1000),
        &claude(),
        &provider("local").total("10s").set("local", true),
        &policy("patient", &single("claude")).set(
            "retry",
            r#"{ max_attempts = 1000, backoff = "exponential", honor_retry_after = true }"#,
        ),
        &policy("chain", &chain(&["claude", "local"]))
            .set("retry", "{ max_attempts = 1000, honor_retry_after = true }"),
    ]);
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
    let s = build(&[
        &jobs(20, 20),
        &claude(),
        &policy("hint", &single("claude"))
            .set("retry", "{ max_attempts = 50, honor_retry_after = true }"),
        &policy("naive", &single("claude")).set("retry", "{ max_attempts = 3 }"),
    ]);
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
    let with_offline = |offline_for: &str| {
        build(&[
            &poisson(0.5)
                .replications(1)
                .set("duration", "\"200s\"")
                .tokens(10, 10),
            &provider("copilot")
                .limit(r#"{ kind = "token_bucket", capacity = 100, refill_per_s = 0.05, unit = "requests" }"#)
                .set("reject_status", 503)
                .total("100ms")
                .set(
                    "online",
                    format!(r#"{{ offline_every = "100s", offline_for = "{offline_for}", reset_after = "30s" }}"#),
                ),
            &policy("one-try", &single("copilot")),
        ])
    };
    // Offline 100-110 s only: the rejections are the arrivals in that window.
    let short = with_offline("10s");
    let r = results(&short);
    let short_rej = values(&short, &r, "one-try", "rejections_503")[0];
    // Offline 100-130 s: the quota is zeroed at 130 s and refills 1 per 20 s after.
    let long = with_offline("30s");
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
    let s = build(&[
        &poisson(1.0)
            .replications(5)
            .set("duration", "\"1000s\"")
            .tokens(10, 10),
        &provider("api")
            .set("price_per_1k_input", "1.0")
            .set("outages", r#"{ up = "90s", down = "10s", status = 529 }"#),
        &policy("one-try", &single("api")),
    ]);
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
    let s = build(&[
        &poisson(2.0).replications(4).set("jobs", 200).tokens(
            r#"{ dist = "lognormal", median = 1000, p95 = 5000 }"#,
            r#"{ dist = "exponential", mean = 300 }"#,
        ),
        &provider("a"),
        &provider("b").set(
            "latency",
            r#"{ total = { dist = "exponential", mean = "3s" } }"#,
        ),
        &policy("to-a", &single("a")),
        &policy("to-b", &single("b")),
    ]);
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
    let mut s = scenario(&bundled_text("ci-300x10.toml"));
    s.replications = 12;
    let bytes = |threads| {
        let r = replicate(&s, threads).unwrap();
        (SummaryCsv.export(&summarize(&r, &s)), runs_csv(&r))
    };
    let one = bytes(1);
    assert_eq!(one, bytes(2));
    assert_eq!(one, bytes(3));
    let mut other_seed = s.clone();
    other_seed.seed += 1;
    let r = replicate(&other_seed, 2).unwrap();
    assert_ne!(one.1, runs_csv(&r), "the seed matters");
}

/// Every limit kind parses, runs and admits what its law admits.
#[test]
fn every_limit_kind_runs_with_its_documented_semantics() {
    let honour = "{ max_attempts = 100, honor_retry_after = true }";
    let s = build(&[
        &batch(12, 12).tokens(900, 100),
        &provider("fixed").limit(fixed_window("60s", 5)),
        &provider("gcra").limit(
            r#"{ kind = "gcra", limit = 60, period = "60s", burst = 4, unit = "requests" }"#,
        ),
        &provider("gcra-tokens").limit(
            r#"{ kind = "gcra", limit = 1000, period = "1s", burst = 500, unit = "tokens" }"#,
        ),
        &provider("bucket").limit(r#"{ kind = "token_bucket", capacity = 3, refill_per_s = 1, fill_interval = "2s", unit = "requests" }"#),
        &provider("slots").limit(r#"{ kind = "concurrency", limit = 4 }"#),
        &policy("fixed", &single("fixed")).set(
            "retry",
            r#"{ max_attempts = 100, honor_retry_after = true, retry_after_max = "5m" }"#,
        ),
        &policy("gcra", &single("gcra")).set("retry", honour),
        &policy("gcra-tokens", &single("gcra-tokens")).set("retry", honour),
        &policy("bucket", &single("bucket")).set("retry", honour),
        &policy("slots", &single("slots")),
    ]);
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
    let with = |counted: bool| {
        build(&[
            &batch(10, 10).replications(1).tokens(10, 10),
            &provider("api")
                .limit(format!(r#"{{ kind = "sliding_window", window = "60s", limit = 8, unit = "requests", count_rejected = {counted} }}"#))
                .set("reject_latency", "\"1s\""),
            &policy("retry-every-10s", &single("api")).set(
                "retry",
                r#"{ max_attempts = 100, backoff = "constant", base = "10s" }"#,
            ),
        ])
    };
    let free = with(false);
    let counted = with(true);
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

#[test]
fn the_event_recording_stops_at_its_cap_and_says_when() {
    use ratesim::engine::timeline::MAX_EVENTS;
    use ratesim::runner::{replicate_with, Keep};
    let jobs = MAX_EVENTS as u64 + 500;
    let s = build(&[
        &batch(jobs, 1000).replications(1),
        &provider("api").limit(sliding_window("60s", 10_000_000, "requests")),
        &policy("p", &single("api")),
    ]);
    let keep = Keep {
        curves: false,
        timeline_points: Some(50),
    };
    let r = replicate_with(&s, 2, keep).unwrap();
    let makespan = values(&s, &r, "p", "makespan_s")[0];
    let timeline = r.timeline.as_ref().expect("kept");
    let (rows, events) = (&timeline.rows, &timeline.events);
    // About 50 samples of the one limit over the makespan.
    assert!((50..=52).contains(&rows.len()), "{}", rows.len());
    // Every job was served once: the cap, then one marker where it stopped.
    assert_eq!(events.len(), MAX_EVENTS + 1);
    assert!(events[..MAX_EVENTS].iter().all(|e| e.event == "served"));
    let last = &events[MAX_EVENTS];
    assert_eq!(last.event, "truncated");
    assert!(last.t_s >= events[MAX_EVENTS - 1].t_s && last.t_s <= makespan);
}

/// The run ends with its last job: a hedge timer still armed then (a request answered
/// before its hedge was due) does not stretch the run or its timeline. With the hedge
/// due after 100 h on a run of seconds, the timeline used to sample for 100 h (10^7
/// rows per series at 50 points over the makespan).
#[test]
fn a_stale_hedge_timer_does_not_outlive_the_run() {
    use ratesim::runner::{replicate_with, Keep};
    let s = build(&[
        &batch(10, 5).replications(1),
        &provider("api").limit(sliding_window("60s", 100, "requests")),
        &provider("backup"),
        &policy("p", &single("api")).set("hedge", r#"{ after = "100h", to = ["backup"] }"#),
    ]);
    let keep = Keep {
        curves: false,
        timeline_points: Some(50),
    };
    let r = replicate_with(&s, 1, keep).unwrap();
    let makespan = values(&s, &r, "p", "makespan_s")[0];
    assert_eq!(makespan, 2.0, "10 one-second jobs, 5 at a time");
    let rows = &r.timeline.as_ref().expect("kept").rows;
    // One series sampled 50 times over the makespan (the last sample before its end).
    assert_eq!(rows.len(), 50);
    assert!(rows.iter().all(|row| row.t_s < makespan));
}

/// Records when each request a provider admitted was sent.
#[derive(Default)]
struct Admissions(Vec<f64>);

impl ratesim::engine::Observer for Admissions {
    fn attempt(&mut self, now: ratesim::SimTime, _p: usize, a: &ratesim::provider::Admission) {
        if !matches!(a, ratesim::provider::Admission::Reject { .. }) {
            self.0.push(now.as_secs_f64());
        }
    }
}

/// A retry-after hint is a delay counted from when the client receives the rejection,
/// rounded up to the provider's resolution (RFC 9110's whole seconds by default). One
/// request per sliding `window`, three jobs at once, rejections back after 150 ms: the
/// second is refused at 0 with a hint of one window and sent again once it has waited
/// it after the 429 arrived; the third is refused again then, and waits once more.
#[test]
fn a_retry_after_hint_is_a_delay_from_the_rejections_arrival() {
    let admissions = |window: &str, resolution: Option<&str>| {
        let mut p = provider("api")
            .limit(sliding_window(window, 1, "requests"))
            .rejects(429, "150ms")
            .total("1s");
        if let Some(r) = resolution {
            p = p.set("retry_after_resolution", format!("\"{r}\""));
        }
        let s = build(&[
            &batch(3, 3).replications(1).tokens(10, 10),
            &p,
            &policy("p", &single("api"))
                .set("retry", "{ max_attempts = 10, honor_retry_after = true }"),
        ]);
        let catalog = ratesim::metrics::Catalog::new(&s.providers);
        let jobs = s.workload.generate(s.seed, 0);
        let mut seen = Admissions::default();
        ratesim::engine::simulate_observed(&s, &catalog, 0, &jobs, 0, &mut seen).unwrap();
        seen.0
            .iter()
            .map(|t| (t * 1000.0).round() / 1000.0)
            .collect::<Vec<f64>>()
    };
    assert_eq!(admissions("10s", None), [0.0, 10.15, 20.3]);
    // A 10.5 s wait is sent as 11 s; at millisecond resolution, as it is.
    assert_eq!(admissions("10500ms", None), [0.0, 11.15, 22.3]);
    assert_eq!(admissions("10500ms", Some("1ms")), [0.0, 10.65, 21.3]);
}
