//! Routing parts on hand-checkable timelines: LiteLLM priority tiers and its cap on
//! fallbacks, Portkey's nested targets, fallback status gates, conditional routing and
//! circuit-breaker bypass, and hedged requests.

use crate::common::{
    assert_each, batch, build, chain, fixed_window, list, policy, provider, results, single,
    sliding_window, values, ProviderBlock, Workload,
};

/// `jobs` jobs through `concurrency` slots, in 3 replications.
fn jobs(jobs: u64, concurrency: u32) -> Workload {
    batch(jobs, concurrency).replications(3)
}

/// A provider that serves in `latency` and admits `limit` requests an hour (0: no limit),
/// answering `status` beyond; $1 per 1k tokens.
fn hourly(name: &str, latency: &str, limit: u64, status: u16) -> ProviderBlock {
    let p = provider(name)
        .total(latency)
        .rejects(status, "100ms")
        .price(1.0);
    if limit == 0 {
        p
    } else {
        p.limit(fixed_window("1h", limit))
    }
}

/// A weighted group of `providers` with more `keys` (TOML text, may be empty).
fn weighted(providers: &[&str], keys: &str) -> String {
    format!(
        r#"{{ kind = "weighted", providers = {}{keys} }}"#,
        list(providers)
    )
}

/// LiteLLM `order`: the tier-1 deployment takes everything while it is in rotation; the
/// tier-2 one only gets requests while tier 1 cools down after a 429.
#[test]
fn order_tiers_use_the_lower_tier_only_while_the_first_is_out() {
    let s = build(&[
        &jobs(20, 1),
        &hourly("free", "1s", 0, 429),
        &hourly("capped", "1s", 3, 429),
        &hourly("backup", "1s", 0, 429),
        &policy(
            "healthy",
            &weighted(&["free", "backup"], ", order = [1, 2]"),
        ),
        &policy(
            "limited",
            &weighted(&["capped", "backup"], ", order = [1, 2]"),
        )
        .set("retry", "{ max_attempts = 2 }")
        .set("guards", r#"[{ kind = "cooldown", cooldown_time = "5s" }]"#),
    ]);
    let r = results(&s);
    assert_each(&s, &r, "healthy", "served.free", 20.0);
    assert_each(&s, &r, "healthy", "attempts.backup", 0.0);
    // Three served by the capped tier 1, then a 429 cools it down (5 s at a time) and
    // the backup tier serves the rest.
    assert_each(&s, &r, "limited", "served.capped", 3.0);
    assert_each(&s, &r, "limited", "served.backup", 17.0);
    assert_each(&s, &r, "limited", "jobs_failed", 0.0);
}

/// LiteLLM `max_fallbacks`: with 3 providers that each admit one request an hour ahead
/// of an unlimited one, job 4 needs 3 fallbacks; a cap of 2 fails it and job 5.
#[test]
fn max_fallbacks_caps_how_far_a_request_falls_back() {
    let abcd = ["a", "b", "c", "d"];
    let once = "{ max_attempts = 1 }";
    let s = build(&[
        &jobs(5, 1),
        &hourly("a", "1s", 1, 429),
        &hourly("b", "1s", 1, 429),
        &hourly("c", "1s", 1, 429),
        &hourly("d", "1s", 0, 429),
        &policy(
            "capped",
            &format!(
                r#"{{ kind = "chain", providers = {}, max_fallbacks = 2 }}"#,
                list(&abcd)
            ),
        )
        .set("retry", once),
        &policy("uncapped", &chain(&abcd)).set("retry", once),
        &policy("litellm", &chain(&abcd))
            .set("preset", "\"litellm\"")
            .set("guards", "[]")
            .set("retry", once),
    ]);
    let r = results(&s);
    assert_each(&s, &r, "capped", "jobs_failed", 2.0);
    assert_each(&s, &r, "capped", "served.d", 0.0);
    assert_each(&s, &r, "uncapped", "jobs_failed", 0.0);
    assert_each(&s, &r, "uncapped", "served.d", 2.0);
    // The preset's cap is 5: three fallbacks are allowed.
    assert_each(&s, &r, "litellm", "jobs_failed", 0.0);
}

/// Portkey `on_status_codes`: a fallback moves on only after one of the listed statuses;
/// any other failure is returned to the caller.
#[test]
fn fallback_moves_on_only_for_the_listed_statuses() {
    let fallback = |on: &str| {
        format!(
            r#"{{ kind = "fallback", {on}targets = [{{ provider = "busy" }}, {{ provider = "spare" }}] }}"#
        )
    };
    let once = "{ max_attempts = 1 }";
    let s = build(&[
        &jobs(6, 1),
        &hourly("busy", "1s", 2, 503),
        &hourly("spare", "1s", 0, 429),
        &policy("on-429", &fallback("on_status_codes = [429], ")).set("retry", once),
        &policy("on-503", &fallback("on_status_codes = [503], ")).set("retry", once),
        &policy("on-any", &fallback("")).set("retry", once),
    ]);
    let r = results(&s);
    // busy serves 2, then answers 503 to the 4 others.
    assert_each(&s, &r, "on-429", "jobs_failed", 4.0);
    assert_each(&s, &r, "on-429", "attempts.spare", 0.0);
    assert_each(&s, &r, "on-503", "jobs_failed", 0.0);
    assert_each(&s, &r, "on-503", "served.spare", 4.0);
    assert_each(&s, &r, "on-any", "served.spare", 4.0);
}

/// A nested route: a fallback whose first target is a weighted loadbalance, and a
/// conditional route that sends long completions one way and short ones another.
#[test]
fn nested_and_conditional_targets_route_as_configured() {
    let s = build(&[
        &batch(2000, 50)
            .replications(4)
            .tokens(100, r#"{ dist = "uniform", min = 0, max = 1000 }"#),
        &hourly("a", "1s", 0, 429),
        &hourly("b", "1s", 0, 429),
        &hourly("c", "1s", 0, 429),
        &policy(
            "nested",
            r#"{ kind = "fallback", targets = [
              { kind = "loadbalance", targets = [{ provider = "a", weight = 1 }, { provider = "b", weight = 3 }] },
              { provider = "c" },
            ] }"#,
        ),
        &policy(
            "conditional",
            r#"{ kind = "conditional", default = "short", conditions = [
              { query = { output_tokens = { "$gt" = 700 } }, then = "long" },
            ], targets = [
              { name = "long", provider = "a" },
              { name = "short", kind = "fallback", targets = [{ provider = "b" }, { provider = "c" }] },
            ] }"#,
        ),
    ]);
    let r = results(&s);
    for (a, b) in values(&s, &r, "nested", "served.a")
        .iter()
        .zip(values(&s, &r, "nested", "served.b"))
    {
        // One in four to a (binomial sd ~19 of 2000).
        assert!((a / (a + b) - 0.25).abs() < 0.04, "a {a} b {b}");
    }
    assert_each(&s, &r, "nested", "attempts.c", 0.0);
    for (long, short) in values(&s, &r, "conditional", "served.a").iter().zip(values(
        &s,
        &r,
        "conditional",
        "served.b",
    )) {
        // P(output > 700) = 0.3 for a uniform draw on [0, 1000].
        assert!((long / 2000.0 - 0.3).abs() < 0.04, "long {long}");
        assert_eq!(long + short, 2000.0);
    }
}

/// Portkey's circuit breaker steps aside when every target left is open (by default):
/// requests still go out. Without the bypass they fail locally while it is open.
#[test]
fn circuit_breaker_is_bypassed_when_every_target_is_open() {
    let s = build(&[
        &jobs(10, 1),
        &hourly("api", "1s", 2, 429),
        &policy("bypass", &single("api"))
            .set("retry", "{ max_attempts = 1 }")
            .set(
                "guards",
                r#"[{ kind = "circuit_breaker", failure_threshold = 1 }]"#,
            ),
        &policy("strict", &single("api"))
            .set("retry", "{ max_attempts = 1 }")
            .set(
                "guards",
                r#"[{ kind = "circuit_breaker", failure_threshold = 1, bypass_when_all_open = false }]"#,
            ),
    ]);
    let r = results(&s);
    // Two served, then every job is sent and rejected.
    assert_each(&s, &r, "bypass", "attempts", 10.0);
    assert_each(&s, &r, "bypass", "jobs_completed", 2.0);
    // The third is rejected and opens the circuit for 30 s; the other 7 fail unsent.
    assert_each(&s, &r, "strict", "attempts", 3.0);
    assert_each(&s, &r, "strict", "jobs_failed", 8.0);
}

/// Hedging: 2 s after a request to a provider that takes 10 s, a copy goes to one that
/// takes 1 s; the copy answers at 3 s and the first is cancelled, paying its prompt and
/// the 30 % of its completion generated by then.
#[test]
fn hedge_wins_and_the_loser_pays_what_it_used() {
    let s = build(&[
        &jobs(1, 1),
        &hourly("slow", "10s", 0, 429),
        &hourly("fast", "1s", 0, 429),
        &policy("hedged", &single("slow")).set("hedge", r#"{ after = "2s", to = ["fast"] }"#),
        &policy("fast-first", &single("fast")).set("hedge", r#"{ after = "2s", to = ["slow"] }"#),
    ]);
    let r = results(&s);
    assert_each(&s, &r, "hedged", "makespan_s", 3.0);
    assert_each(&s, &r, "hedged", "hedges", 1.0);
    assert_each(&s, &r, "hedged", "served.fast", 1.0);
    assert_each(&s, &r, "hedged", "served.slow", 0.0);
    assert_each(&s, &r, "hedged", "attempts", 2.0);
    // $1 per 1k tokens: the loser pays 100 prompt tokens and 3 of its 10 completion
    // tokens, the winner 110.
    assert_each(&s, &r, "hedged", "cost_usd.slow", 0.103);
    assert_each(&s, &r, "hedged", "wasted_usd", 0.103);
    assert_each(&s, &r, "hedged", "cost_usd", 0.213);
    // Answered before the delay: no hedge.
    assert_each(&s, &r, "fast-first", "hedges", 0.0);
    assert_each(&s, &r, "fast-first", "makespan_s", 1.0);
}

/// Cancelling a copy frees its provider slot, and a copy still queued leaves the queue
/// without cost. Two jobs on a one-slot provider that takes 10 s, both hedged after 1 s
/// on a provider that streams 100 tokens/s: job 2 (10 tokens) is answered by its hedge
/// at 1.1 s and its queued first copy is dropped; job 1 (1000 tokens) is answered by its
/// first copy at 10 s, and its hedge, 90 % through, is cancelled.
#[test]
fn cancelled_copies_free_their_slot_and_leave_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("jobs.csv");
    std::fs::write(
        &trace,
        "start_s,input_tokens,output_tokens\n0,100,1000\n0,100,10\n",
    )
    .unwrap();
    let workload = format!(
        "replications = 2\n[workload]\nkind = \"trace\"\npath = \"{}\"\nconcurrency = 2\n",
        trace.display().to_string().replace('\\', "/"),
    );
    let s = build(&[
        &workload,
        &provider("gpu")
            .limit(r#"{ kind = "concurrency", limit = 1, on_full = "queue" }"#)
            .total("10s")
            .price(1.0),
        &provider("stream")
            .set("latency", r#"{ ttft = "0s", tokens_per_s = 100 }"#)
            .price(1.0),
        &policy("hedged", &single("gpu")).set("hedge", r#"{ after = "1s", to = ["stream"] }"#),
    ]);
    let r = results(&s);
    assert_each(&s, &r, "hedged", "makespan_s", 10.0);
    assert_each(&s, &r, "hedged", "hedges", 2.0);
    assert_each(&s, &r, "hedged", "served.gpu", 1.0);
    assert_each(&s, &r, "hedged", "served.stream", 1.0);
    // gpu: job 1's 1.1k tokens. stream: job 2's 110, and job 1's cancelled hedge: its
    // prompt and 900 of 1000 completion tokens.
    assert_each(&s, &r, "hedged", "cost_usd.gpu", 1.1);
    assert_each(&s, &r, "hedged", "cost_usd.stream", 0.11 + 1.0);
    assert_each(&s, &r, "hedged", "wasted_usd", 1.0);
}

/// A rejected hedge leaves its request waiting for the first copy.
#[test]
fn a_rejected_hedge_leaves_the_first_copy_running() {
    let s = build(&[
        &jobs(2, 1),
        &hourly("slow", "10s", 0, 429),
        &hourly("fast", "1s", 1, 429),
        &policy("hedged", &single("slow")).set("hedge", r#"{ after = "2s", to = ["fast"] }"#),
    ]);
    let r = results(&s);
    // Job 1 is answered by its hedge at 3 s; job 2's hedge (5 s) is rejected and its
    // first copy answers at 13 s.
    assert_each(&s, &r, "hedged", "makespan_s", 13.0);
    assert_each(&s, &r, "hedged", "rejections", 1.0);
    assert_each(&s, &r, "hedged", "jobs_completed", 2.0);
    assert_each(&s, &r, "hedged", "served.slow", 1.0);
}

/// LiteLLM's simple-shuffle without weights splits by each deployment's requests per
/// minute (here from the providers' limits: 1,000 and 3,000 a minute).
#[test]
fn simple_shuffle_without_weights_follows_rpm() {
    let s = build(&[
        &jobs(2000, 50),
        &provider("small").limit(sliding_window("60s", 1000, "requests")),
        &provider("big").limit(sliding_window("60s", 3000, "requests")),
        &policy(
            "shuffle",
            &weighted(&["small", "big"], r#", pick = "simple-shuffle""#),
        ),
    ]);
    let r = results(&s);
    for small in values(&s, &r, "shuffle", "served.small") {
        // One in four (binomial sd ~19 of 2000).
        assert!((small / 2000.0 - 0.25).abs() < 0.04, "small {small}");
    }
}
