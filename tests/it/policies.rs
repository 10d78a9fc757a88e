//! Policy families on hand-checkable timelines.

use crate::common::{
    assert_each, batch, build, bundled_scenarios, chain, fixed_window, list, mean, policy,
    provider, results, scenario, single, sliding_window, values, ProviderBlock,
};
use ratesim::scenario::Scenario;

/// `api`: a bucket of 5 requests refilling 1 a second; rejections come back in 100 ms.
fn bucket() -> ProviderBlock {
    provider("api")
        .limit(r#"{ kind = "token_bucket", capacity = 5, refill_per_s = 1.0, unit = "requests" }"#)
        .set("reject_latency", "\"100ms\"")
}

/// The header-aware pacer never sends a request the bucket would reject, and is as fast
/// as the bucket allows: 5 at once, then one per second.
#[test]
fn pacer_sends_no_rejected_request_to_a_deterministic_bucket() {
    let s = build(&[
        &batch(50, 10),
        &bucket(),
        &policy("paced", &single("api")).set("guards", r#"[{ kind = "pacer" }]"#),
        &policy("unpaced", &single("api"))
            .set("retry", "{ max_attempts = 100, honor_retry_after = true }"),
    ]);
    let r = results(&s);
    assert!(values(&s, &r, "paced", "rejections")
        .iter()
        .all(|&x| x == 0.0));
    assert!(values(&s, &r, "paced", "jobs_completed")
        .iter()
        .all(|&x| x == 50.0));
    for m in values(&s, &r, "paced", "makespan_s") {
        assert!((m - 46.0).abs() < 1e-6, "makespan {m}");
    }
    // Without it, the same workload draws rejections.
    assert!(values(&s, &r, "unpaced", "rejections")
        .iter()
        .all(|&x| x > 0.0));
}

/// The pacer keeps to a sliding window too, including a token window.
#[test]
fn pacer_keeps_to_sliding_windows() {
    let s = build(&[
        &batch(40, 10).tokens(r#"{ dist = "uniform", min = 50, max = 400 }"#, 10),
        &provider("claude")
            .limit(sliding_window("60s", 8, "requests"))
            .limit(sliding_window("60s", 2500, "tokens"))
            .set(
                "latency",
                r#"{ total = { dist = "uniform", min = "1s", max = "3s" } }"#,
            ),
        &policy("paced", &single("claude"))
            .set("guards", r#"[{ kind = "pacer", provider = "claude" }]"#),
    ]);
    let r = results(&s);
    assert!(values(&s, &r, "paced", "rejections")
        .iter()
        .all(|&x| x == 0.0));
    assert!(values(&s, &r, "paced", "jobs_completed")
        .iter()
        .all(|&x| x == 40.0));
}

/// SRE adaptive throttling sheds load locally when most requests are rejected, so the
/// provider sees fewer attempts than with plain retries.
#[test]
fn adaptive_throttling_cuts_attempts_under_overload() {
    let retry = r#"{ max_attempts = 20, backoff = "constant", base = "200ms" }"#;
    let s = build(&[
        &batch(100, 20),
        &bucket(),
        &policy("plain", &single("api")).set("retry", retry),
        &policy("throttled", &single("api")).set("retry", retry).set(
            "guards",
            r#"[{ kind = "adaptive_throttle", k = 2.0, window = "2m" }]"#,
        ),
    ]);
    let r = results(&s);
    let plain = mean(&values(&s, &r, "plain", "attempts"));
    let throttled = mean(&values(&s, &r, "throttled", "attempts"));
    assert!(
        throttled < 0.8 * plain,
        "throttled {throttled} vs plain {plain}"
    );
    assert!(mean(&values(&s, &r, "throttled", "guard_refusals")) > 0.0);
}

/// A retry budget (Finagle: 20 % of requests, no floor) caps retries, and allows the
/// retries it has: 20 jobs at once, 5 served, 15 rejected in 100 ms; the 20 first
/// attempts deposit 4 retries, which are sent (and rejected: the bucket holds 0.1 by
/// then); every other retry is refused locally.
#[test]
fn retry_budget_caps_retries() {
    let s = build(&[
        &batch(20, 20),
        &bucket(),
        &policy("budgeted", &single("api"))
            .set("retry", "{ max_attempts = 10 }")
            .set(
                "guards",
                r#"[{ kind = "retry_budget", style = "finagle", ratio = 0.2, min = 0, ttl = "10s" }]"#,
            ),
    ]);
    let r = results(&s);
    // 20 first attempts deposit 4 retries: at most 24 attempts reach the provider.
    for a in values(&s, &r, "budgeted", "attempts") {
        assert!(a <= 24.0, "attempts {a}");
    }
    // ... and all 4 of them do.
    assert_each(&s, &r, "budgeted", "attempts", 24.0);
    assert_each(&s, &r, "budgeted", "rejections", 19.0);
    assert_each(&s, &r, "budgeted", "jobs_completed", 5.0);
    // A refusal uses up an attempt: 11 jobs are refused attempts 2-10, the 4 retried
    // ones attempts 3-10.
    assert_each(&s, &r, "budgeted", "guard_refusals", 11.0 * 9.0 + 4.0 * 8.0);
}

/// LiteLLM cooldown: a 429 from the first of two providers cools it, so the next
/// requests go straight to the fallback instead of being rejected again.
#[test]
fn cooldown_skips_a_429ing_provider() {
    let with = |jobs, concurrency| {
        build(&[
            &batch(jobs, concurrency),
            &bucket(),
            &provider("backup"),
            &policy("chain", &chain(&["api", "backup"])),
            &policy("chain-cooldown", &chain(&["api", "backup"])).set(
                "guards",
                r#"[{ kind = "cooldown", cooldown_time = "60s" }]"#,
            ),
        ])
    };
    let s = with(30, 30);
    let r = results(&s);
    let plain = values(&s, &r, "chain", "rejections.api");
    let cooled = values(&s, &r, "chain-cooldown", "rejections.api");
    // All 30 arrive together: 5 served, 25 rejected, whatever the policy (they all
    // passed the guard before the first 429 came back) ...
    assert!(plain.iter().all(|&x| x == 25.0));
    assert!(cooled.iter().all(|&x| x == 25.0));
    // ... but the later chain rounds differ: with a single job wave there are none, so
    // run a second, sequential workload where it matters.
    let s = with(30, 6);
    let r = results(&s);
    let plain = mean(&values(&s, &r, "chain", "rejections.api"));
    let cooled = mean(&values(&s, &r, "chain-cooldown", "rejections.api"));
    assert!(cooled < plain, "cooldown {cooled} vs none {plain}");
    assert!(values(&s, &r, "chain-cooldown", "rejections.api")
        .iter()
        .all(|&x| x == 1.0));
    // One 429, one 60 s cooldown: 60 provider-seconds out of rotation.
    assert!(values(&s, &r, "chain-cooldown", "cooldown_s")
        .iter()
        .all(|&x| x == 60.0));
    assert!(values(&s, &r, "chain", "cooldown_s")
        .iter()
        .all(|&x| x == 0.0));
}

/// The article's forced pause: no request is sent in [55 s, 57 s).
#[test]
fn pause_holds_sends_for_two_seconds_every_55() {
    let s = build(&[
        &batch(40, 1).replications(1).tokens(1, 1),
        &provider("api").total("2.5s"),
        &policy("paused", &single("api")).set(
            "guards",
            r#"[{ kind = "pause", every = "55s", length = "2s" }]"#,
        ),
    ]);
    let r = results(&s);
    // 40 sequential 2.5 s jobs: 100 s, plus the pauses that caught a send (at 55 s the
    // 23rd job would start at 55.0 s exactly: it waits until 57 s).
    let m = values(&s, &r, "paused", "makespan_s")[0];
    assert!((m - 102.0).abs() < 1e-6, "makespan {m}");
}

/// The SDK presets (anthropic's and openai's) retry 408/409/429/5xx but not 400, up to 3
/// attempts. Each provider admits 5 requests an hour, so of 20 jobs at once 15 are
/// rejected on every attempt.
#[test]
fn sdk_preset_retries_twice() {
    let capped = |name: &str, status: u16| {
        provider(name)
            .limit(fixed_window("1h", 5))
            .rejects(status, "100ms")
    };
    let sdk = r#"{ preset = "anthropic-sdk", honor_retry_after = false }"#;
    let s = build(&[
        &batch(20, 20),
        &capped("api", 429),
        &capped("overloaded", 503),
        &capped("bad", 400),
        &policy("sdk", &single("api")).set("retry", sdk),
        &policy("sdk-503", &single("overloaded")).set("retry", sdk),
        &policy("sdk-400", &single("bad")).set("retry", sdk),
        &policy("gateway-sdk", &single("api")).set("preset", "\"sdk\""),
        &policy("openai-sdk", &single("api")).set(
            "retry",
            r#"{ preset = "openai-sdk", honor_retry_after = false }"#,
        ),
    ]);
    let r = results(&s);
    // Every job gets at most 3 attempts; jobs beyond what 3 tries within ~3 s can get
    // through fail.
    for (a, f) in values(&s, &r, "sdk", "attempts")
        .iter()
        .zip(values(&s, &r, "sdk", "jobs_failed"))
    {
        assert!(*a <= 60.0);
        assert!(f > 0.0);
    }
    // Exactly 3 for each of the 15 rejected jobs (the retries, 0.5 s and 1 s later at
    // most, stay within the hour), on a 429 or a 503, with openai's preset, and with the
    // gateway preset that bundles the SDK's rule: 5 + 15 * 3 = 50.
    for p in ["sdk", "sdk-503", "gateway-sdk", "openai-sdk"] {
        assert_each(&s, &r, p, "attempts", 5.0 + 15.0 * 3.0);
        assert_each(&s, &r, p, "jobs_failed", 15.0);
    }
    // A 400 is not retried.
    assert_each(&s, &r, "sdk-400", "attempts", 20.0);
    assert_each(&s, &r, "sdk-400", "jobs_failed", 15.0);
}

/// The quality gate: a completion that fails the tests (pass_rate 0.5) is sent again to
/// the stronger provider; both attempts' cost and time count.
#[test]
fn quality_gate_escalates_failed_completions() {
    let s = build(&[
        &batch(200, 200).replications(20).tokens(1000, 0),
        &provider("local")
            .total("10s")
            .set("price_per_1k_input", 0.003)
            .set("pass_rate", 0.5)
            .set("local", true),
        &provider("claude")
            .total("2s")
            .set("price_per_1k_input", 0.075)
            .set("pass_rate", "1.0"),
        &policy("gated", &single("local")).set("quality_gate", r#"{ escalate_to = ["claude"] }"#),
        &policy("ungated", &single("local")),
    ]);
    let r = results(&s);
    let esc = mean(&values(&s, &r, "gated", "quality_escalations"));
    assert!((esc - 100.0).abs() < 10.0, "about half escalate: {esc}");
    // Escalated jobs took 10 s + 2 s; the others 10 s.
    assert!(values(&s, &r, "gated", "makespan_s")
        .iter()
        .all(|&m| m == 12.0));
    for ((w, e), c) in values(&s, &r, "gated", "wasted_usd")
        .iter()
        .zip(values(&s, &r, "gated", "quality_escalations"))
        .zip(values(&s, &r, "gated", "cost_usd"))
    {
        assert!(
            (w - e * 0.003).abs() < 1e-9,
            "wasted = failed local completions"
        );
        assert!(
            (c - (200.0 * 0.003 + e * 0.075)).abs() < 1e-9,
            "both attempts cost"
        );
    }
    // Everything that left the gated policy passed: cost per passing completion counts
    // the waste.
    assert!(values(&s, &r, "ungated", "quality_escalations")
        .iter()
        .all(|&x| x == 0.0));
}

/// The capacity bound is a true lower bound: no policy that completes every job beats
/// it in any replication, in any bundled scenario.
#[test]
fn no_policy_beats_the_capacity_bound() {
    for path in bundled_scenarios() {
        let name = path.display();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut s = scenario(&text);
        s.replications = 20;
        let r = results(&s);
        let mut checked = 0;
        for p in &s.policies {
            let makespan = values(&s, &r, &p.name, "makespan_s");
            let bound = values(&s, &r, &p.name, "makespan_bound_s");
            let failed = values(&s, &r, &p.name, "jobs_failed");
            for i in 0..makespan.len() {
                assert!(bound[i] > 0.0);
                if failed[i] == 0.0 {
                    assert!(
                        makespan[i] >= bound[i] - 1e-9,
                        "{name}/{}: makespan {} < bound {}",
                        p.name,
                        makespan[i],
                        bound[i]
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 0, "{name}: some policy completes every job");
    }
}

/// AIMD: a limit of 2 in flight holds 10 workers to 2 concurrent requests.
#[test]
fn aimd_limits_requests_in_flight() {
    let s = build(&[
        &batch(20, 10),
        &provider("api"),
        &policy("aimd", &single("api")).set(
            "guards",
            r#"[{ kind = "aimd", initial = 2, min = 2, max = 2 }]"#,
        ),
    ]);
    let r = results(&s);
    // 20 one-second requests, 2 at a time: 10 s.
    assert!(values(&s, &r, "aimd", "makespan_s")
        .iter()
        .all(|&m| (m - 10.0).abs() < 1e-9));
    assert!(values(&s, &r, "aimd", "jobs_completed")
        .iter()
        .all(|&x| x == 20.0));
}

/// AIMD's rejections shrink its limit: against a provider with 2 slots that rejects
/// beyond them, 10 workers retrying every 100 ms draw about 8 rejections a round. AIMD
/// starts at 10, halves on each rejection down to 1 and grows by one per success at
/// half use, so it keeps near the 2 slots and draws a small share of the rejections.
#[test]
fn aimd_rejections_shrink_the_limit() {
    let retry = r#"{ max_attempts = 1000, backoff = "constant", base = "100ms" }"#;
    let s = build(&[
        &batch(20, 10),
        &provider("slots")
            .limit(r#"{ kind = "concurrency", limit = 2, on_full = "reject" }"#)
            .set("reject_latency", "\"100ms\""),
        &policy("plain", &single("slots")).set("retry", retry),
        &policy("aimd", &single("slots")).set("retry", retry).set(
            "guards",
            r#"[{ kind = "aimd", initial = 10, min = 1, max = 10, backoff_ratio = 0.5 }]"#,
        ),
    ]);
    let r = results(&s);
    for p in ["plain", "aimd"] {
        assert_each(&s, &r, p, "jobs_completed", 20.0);
    }
    let plain = values(&s, &r, "plain", "rejections");
    let aimd = values(&s, &r, "aimd", "rejections");
    for (plain, aimd) in plain.iter().zip(&aimd) {
        assert!(*plain >= 100.0, "plain retries draw rejections: {plain}");
        assert!(aimd * 4.0 < *plain, "aimd {aimd} vs plain {plain}");
    }
}

/// The article's spend budget: once 75 % of $1 is spent on `pricey` ($0.25 a request),
/// the rest of the jobs go down the chain to `cheap`.
#[test]
fn spend_budget_moves_traffic_to_the_cheap_provider() {
    let s = build(&[
        &batch(20, 1).tokens(1000, 0),
        &provider("pricey").set("price_per_1k_input", 0.25),
        &provider("cheap"),
        &policy("unbudgeted", &chain(&["pricey", "cheap"])),
        &policy("budgeted", &chain(&["pricey", "cheap"])).set(
            "guards",
            r#"[{ kind = "spend_budget", budget_usd = 1.0, threshold = 0.75, providers = ["cheap"] }]"#,
        ),
    ]);
    let r = results(&s);
    assert_each(&s, &r, "unbudgeted", "served.pricey", 20.0);
    assert_each(&s, &r, "unbudgeted", "cost_usd", 5.0);
    // Jobs run one at a time: three are paid before the fourth is sent.
    assert_each(&s, &r, "budgeted", "served.pricey", 3.0);
    assert_each(&s, &r, "budgeted", "served.cheap", 17.0);
    assert_each(&s, &r, "budgeted", "cost_usd", 0.75);
    assert_each(&s, &r, "budgeted", "jobs_failed", 0.0);
    assert_each(&s, &r, "budgeted", "fallbacks", 17.0);
}

/// Provider `a` admits what `limit` allows and answers `status` beyond; `b` has no limit.
/// 40 jobs run one at a time through a chain from `a` to `b`, with and without `guards`.
fn failing_first(status: u16, limit: String, guards: &str) -> Scenario {
    build(&[
        &batch(40, 1),
        &provider("a").limit(limit).rejects(status, "100ms"),
        &provider("b"),
        &policy("plain", &chain(&["a", "b"])),
        &policy("guarded", &chain(&["a", "b"])).set("guards", guards),
    ])
}

/// OpenRouter skips a provider for 30 s after it failed (any failure). Jobs 1 and 2 are
/// served by `a`; job 3's 503 (at 2.1 s) takes it out until 32.1 s, when job 33 tries it
/// again and fails again.
#[test]
fn skip_recent_failures_skips_a_failed_provider_for_its_window() {
    let s = failing_first(
        503,
        fixed_window("1h", 2),
        r#"[{ kind = "skip_recent_failures", window = "30s" }]"#,
    );
    let r = results(&s);
    assert_each(&s, &r, "plain", "attempts.a", 40.0);
    assert_each(&s, &r, "plain", "rejections.a", 38.0);
    assert_each(&s, &r, "guarded", "attempts.a", 4.0);
    assert_each(&s, &r, "guarded", "rejections.a", 2.0);
    assert_each(&s, &r, "guarded", "served.b", 38.0);
    assert_each(&s, &r, "guarded", "jobs_failed", 0.0);
    // Two failures, 30 s out of rotation each.
    assert_each(&s, &r, "guarded", "cooldown_s", 60.0);
}

/// Helicone ejects a provider on a 429 until its retry-after hint. `a` admits 2
/// requests per sliding minute: job 3 is refused at 2 s with a hint of 58 s (until the
/// first request leaves the window at 60 s), longer than the 30 s default, counted from
/// the 429's arrival at 2.1 s, so `a` stays out for the rest of the run (job 40 ends
/// at 40.1 s). A 503 ejects nothing.
#[test]
fn eject_on_429_keeps_a_provider_out_until_its_hint() {
    let guards = r#"[{ kind = "eject_on_429" }]"#;
    let s = failing_first(429, sliding_window("60s", 2, "requests"), guards);
    let r = results(&s);
    assert_each(&s, &r, "plain", "attempts.a", 40.0);
    assert_each(&s, &r, "guarded", "attempts.a", 3.0);
    assert_each(&s, &r, "guarded", "rejections.a", 1.0);
    assert_each(&s, &r, "guarded", "served.b", 38.0);
    // Out from the 429's arrival at 2.1 s for the hinted 58 s.
    assert_each(&s, &r, "guarded", "cooldown_s", 58.0);
    let s = failing_first(503, sliding_window("60s", 2, "requests"), guards);
    let r = results(&s);
    assert_each(&s, &r, "guarded", "attempts.a", 40.0);
}

/// Gateway presets are bundles of parts whose fields a policy can override one by one.
#[test]
fn gateway_presets_fill_in_parts_and_accept_overrides() {
    use ratesim::policy::guard::GuardSpec;
    use ratesim::policy::route::Weighted;
    use ratesim::policy::{Jitter, Pick, RouteSpec};
    let both = list(&["api", "backup"]);
    let s = build(&[
        &batch(10, 10),
        &bucket(),
        &provider("backup"),
        &policy("portkey", &chain(&["api", "backup"]))
            .set("preset", "\"portkey\"")
            .set("retry", "{ max_attempts = 2 }"),
        &policy(
            "helicone",
            &format!(r#"{{ kind = "weighted", providers = {both} }}"#),
        )
        .set("preset", "\"helicone\""),
        &policy(
            "litellm-own-guards",
            &format!(r#"{{ kind = "weighted", providers = {both}, pick = "least-busy" }}"#),
        )
        .set("preset", "\"litellm\"")
        .set("guards", r#"[{ kind = "pause" }]"#),
    ]);
    let portkey = &s.policies[0];
    assert_eq!(portkey.retry[0].max_attempts, 2, "overridden");
    assert_eq!(
        portkey.retry[0].retry_on,
        vec![429, 500, 502, 503, 504],
        "from the preset"
    );
    assert_eq!(portkey.retry[0].jitter, Jitter::None);
    assert!(matches!(
        portkey.guards[..],
        [GuardSpec::CircuitBreaker { .. }]
    ));
    let helicone = &s.policies[1];
    assert!(matches!(
        helicone.route,
        RouteSpec::Weighted(Weighted {
            pick: Pick::P2cEwma,
            ..
        })
    ));
    assert!(matches!(helicone.guards[..], [GuardSpec::Eject { .. }]));
    let litellm = &s.policies[2];
    assert!(matches!(
        litellm.route,
        RouteSpec::Weighted(Weighted {
            pick: Pick::LeastBusy,
            sticky: false,
            ..
        })
    ));
    assert!(
        matches!(litellm.guards[..], [GuardSpec::Pause { .. }]),
        "own guards replace the preset's"
    );
    assert_eq!(litellm.retry[0].max_attempts, 3);
    let r = results(&s);
    assert!(values(&s, &r, "portkey", "jobs_completed")
        .iter()
        .all(|&x| x == 10.0));
}
