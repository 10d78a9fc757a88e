//! Regression tests: each guards against a bug that was found and fixed.

use std::fmt::Display;
use std::path::Path;

use crate::common::{
    batch, build, chain, edit, fixed_window, minimal, parse_err, policy, provider, results,
    scenario, single, sliding_window, two_providers, values,
};
use ratesim::dist::Random;
use ratesim::provider::limiter::{SlidingWindowParams, TokenBucketParams, Unit};
use ratesim::provider::{
    Admission, Hint, LatencySpec, LimitKind, LimitSpec, OnlineSpec, Provider, ProviderSpec,
};
use ratesim::scenario::{parse_str, Scenario};
use ratesim::{SimDuration, SimTime};

const ROUTE: &str = r#"route = { kind = "single", provider = "api" }"#;
const LATENCY: &str = r#"latency = { total = "1s" }"#;

/// Guards: jobs that fail at once used to start the next waiting job recursively, one
/// stack frame chain per job, and overflowed the stack at ~20,000 queued jobs.
#[test]
fn twenty_thousand_jobs_failing_back_to_back_do_not_overflow_the_stack() {
    let s = build(&[
        &batch(20000, 1).replications(1).tokens(10, 10),
        &provider("api"),
        &policy("guarded", &single("api")).set(
            "guards",
            r#"[{ kind = "predictive", provider = "api", limit = 1, ttl = "1h" }]"#,
        ),
    ]);
    let r = results(&s);
    assert_eq!(values(&s, &r, "guarded", "jobs_completed"), [1.0]);
    assert_eq!(values(&s, &r, "guarded", "jobs_failed"), [19999.0]);
}

/// Guards: zero-length outage periods made the engine step 1 ns at a time, forever.
#[test]
fn zero_length_outage_periods_are_rejected() {
    let e = parse_err(&edit(
        &minimal(),
        LATENCY,
        r#"latency = { total = "1s" }
outages = { up = "0s", down = "0s" }"#,
    ));
    assert!(
        e.contains("providers.api.outages.up") && e.contains("at least 1ms"),
        "{e}"
    );
}

/// Guards: with `count_rejected`, the hint was computed before the rejected request was
/// charged, so a client honouring it was refused again at the hinted time.
#[test]
fn counted_rejection_hint_includes_the_rejected_request() {
    let spec = ProviderSpec {
        name: "api".into(),
        limits: vec![LimitSpec {
            kind: LimitKind::SlidingWindow(
                SlidingWindowParams::new(SimDuration::from_secs(60), 1).unwrap(),
            ),
            unit: Unit::Requests,
            count_rejected: true,
        }],
        concurrency: None,
        reject_status: 429,
        reject_latency: Random::Constant(0.0),
        latency: LatencySpec::Total(Random::Constant(1.0)),
        price_per_1k_input: 0.0,
        price_per_1k_output: 0.0,
        flat_monthly: 0.0,
        outages: None,
        online: None,
        pass_rate: 1.0,
        local: false,
        retry_after_resolution: SimDuration::from_secs(1),
    };
    let mut p = Provider::new(&spec, 0, 0, 0);
    let s = SimTime::from_secs;
    assert!(matches!(p.offer(s(0), 1, 1, 0), Admission::Serve { .. }));
    let Admission::Reject { hint, .. } = p.offer(s(10), 1, 1, 1) else {
        panic!("the second request in the window is rejected")
    };
    assert_eq!(hint, Hint::After(SimDuration::from_secs(60)));
    assert!(matches!(p.offer(s(70), 1, 1, 2), Admission::Serve { .. }));

    // End to end: honouring the hint gets the second request through.
    let sc = build(&[
        &batch(1, 1)
            .replications(1)
            .tokens(10, 10)
            .set("requests_per_job", 2),
        &provider("api").limit(r#"{ kind = "sliding_window", window = "60s", limit = 1, unit = "requests", count_rejected = true }"#),
        &policy("p", &single("api"))
            .set("retry", "{ max_attempts = 20, honor_retry_after = true }"),
    ]);
    let r = results(&sc);
    assert_eq!(values(&sc, &r, "p", "jobs_completed"), [1.0]);
    assert_eq!(values(&sc, &r, "p", "attempts"), [3.0]);
}

/// Guards: the offline reset used to empty the buckets `reset_after` into the offline
/// period, so they had refilled by reconnection and the rule rarely bit.
#[test]
fn a_long_offline_period_leaves_no_quota_at_reconnection() {
    let spec = ProviderSpec {
        name: "copilot".into(),
        limits: vec![LimitSpec {
            kind: LimitKind::TokenBucket(TokenBucketParams::new(12.0, 2.0, None).unwrap()),
            unit: Unit::Requests,
            count_rejected: false,
        }],
        concurrency: None,
        reject_status: 503,
        reject_latency: Random::Constant(0.0),
        latency: LatencySpec::Total(Random::Constant(1.0)),
        price_per_1k_input: 0.0,
        price_per_1k_output: 0.0,
        flat_monthly: 0.0,
        outages: None,
        online: Some(OnlineSpec {
            offline_every: Random::Constant(100.0),
            offline_for: Random::Constant(90.0),
            reset_after: SimDuration::from_secs(30),
            status: 503,
        }),
        pass_rate: 1.0,
        local: false,
        retry_after_resolution: SimDuration::from_secs(1),
    };
    let mut p = Provider::new(&spec, 0, 0, 0);
    let back = SimTime::from_secs(190);
    let served = (0..12)
        .filter(|&i| matches!(p.offer(back, 1, 1, i), Admission::Serve { .. }))
        .count();
    assert_eq!(served, 0, "the bucket is empty when the editor comes back");
    assert!(matches!(
        p.offer(SimTime::from_millis(190_500), 1, 1, 99),
        Admission::Serve { .. }
    ));
}

/// Guards: counts above u32 wrapped to small ones (0 requests per job panicked).
#[test]
fn counts_beyond_u32_are_rejected_with_their_key() {
    let e = parse_err(&edit(
        &minimal(),
        "jobs = 5",
        "jobs = 5\nrequests_per_job = 4294967296",
    ));
    assert!(
        e.contains("workload.requests_per_job") && e.contains("at most 100000000"),
        "{e}"
    );
    let e = parse_err(&edit(
        &minimal(),
        "concurrency = 5",
        "concurrency = 4294967296",
    ));
    assert!(e.contains("workload.concurrency"), "{e}");
    let e = parse_err(&edit(
        &minimal(),
        "jobs = 5",
        "jobs = 3000000000\nrequests_per_job = 2",
    ));
    assert!(e.contains("workload.jobs"), "{e}");
}

/// Guards: a client bucket refilling too slowly to ever matter hinted a wait past the
/// end of time, and the job was re-run at that instant forever.
#[test]
fn a_bucket_that_would_take_forever_ends_the_run() {
    let s = scenario(&edit(
        &minimal(),
        ROUTE,
        r#"route = { kind = "single", provider = "api" }
guards = [{ kind = "token_bucket", rate = 1e-20, capacity = 2 }]"#,
    ));
    let r = results(&s);
    assert_eq!(values(&s, &r, "p", "jobs_completed"), [2.0]);
    assert_eq!(values(&s, &r, "p", "jobs_failed"), [3.0]);
}

/// Guards: GCRA's tau = T (burst - 1) overflowed for huge bursts.
#[test]
fn an_overflowing_gcra_burst_is_rejected() {
    let e = parse_err(&edit(
        &minimal(),
        LATENCY,
        r#"latency = { total = "1s" }
limits = [{ kind = "gcra", limit = 1, period = "1s", burst = 18446744075, unit = "requests" }]"#,
    ));
    assert!(e.contains("providers.api.limits[0].burst"), "{e}");
}

/// Guards: a client bucket listed before a refusing guard lost its token anyway.
#[test]
fn a_refused_request_takes_no_client_bucket_token() {
    let s = build(&[
        &batch(4, 1).replications(1).tokens(10, 10),
        &provider("api"),
        &policy("p", &single("api")).set(
            "guards",
            r#"[{ kind = "token_bucket", rate = 1, capacity = 3, tick = "1h" }, { kind = "predictive", provider = "api", limit = 2, ttl = "1h" }]"#,
        ),
    ]);
    let r = results(&s);
    // Two pass both guards (2 tokens), then the predictive guard refuses the rest, and
    // the third token is still there: nothing waits for the next tick.
    assert_eq!(values(&s, &r, "p", "jobs_completed"), [2.0]);
    assert_eq!(values(&s, &r, "p", "guard_refusals"), [2.0]);
    assert_eq!(values(&s, &r, "p", "makespan_s"), [2.0]);
}

/// Guards: routing groups picked providers a health guard had taken out, and each skip
/// used up an attempt, so jobs failed while a healthy provider sat idle.
#[test]
fn groups_route_around_providers_out_of_rotation() {
    let group = r#"{ kind = "weighted", providers = ["a", "b"] }"#;
    let s = build(&[
        &two_providers(),
        &policy("litellm", group).set("preset", "\"litellm\""),
        &policy(
            "litellm-latency",
            r#"{ kind = "weighted", providers = ["a", "b"], pick = "latency-based-routing" }"#,
        )
        .set("preset", "\"litellm\""),
        &policy("helicone", group).set("preset", "\"helicone\""),
    ]);
    let r = results(&s);
    for p in ["litellm", "litellm-latency", "helicone"] {
        assert!(
            values(&s, &r, p, "jobs_failed").iter().all(|&x| x == 0.0),
            "{p} fails jobs"
        );
    }
}

/// Guards: the SRE throttle counted requests still in flight as not accepted and
/// throttled a backend that never rejects.
#[test]
fn the_throttle_leaves_a_healthy_backend_alone() {
    let s = build(&[
        &edit(&two_providers(), "jobs = 50", "jobs = 200"),
        &policy("throttled", &single("b")).set("guards", r#"[{ kind = "adaptive_throttle" }]"#),
    ]);
    let r = results(&s);
    assert!(values(&s, &r, "throttled", "guard_refusals")
        .iter()
        .all(|&x| x == 0.0));
    assert!(values(&s, &r, "throttled", "jobs_completed")
        .iter()
        .all(|&x| x == 200.0));
}

/// Guards: a zero output rate let a run beat the capacity bound.
#[test]
fn a_zero_output_rate_is_rejected() {
    let e = parse_err(&edit(
        &minimal(),
        LATENCY,
        r#"latency = { ttft = "1s", tokens_per_s = { dist = "empirical", values = [0, 10] } }"#,
    ));
    assert!(e.contains("providers.api.latency.tokens_per_s"), "{e}");
}

/// Guards: Portkey's retry-after budget ignored a single hint longer than the budget
/// and fell back to its backoff instead of giving up on the provider.
#[test]
fn a_hint_beyond_portkeys_budget_ends_the_retries() {
    let s = build(&[
        &edit(&two_providers(), r#"window = "60s""#, r#"window = "10m""#),
        &policy("portkey", &chain(&["a", "b"]))
            .set("preset", "\"portkey\"")
            .set("guards", "[]"),
    ]);
    assert!(
        s.policies[0].guards.is_empty(),
        "guards = [] removes the preset's guards"
    );
    let r = results(&s);
    // The hints (up to 10 minutes) are beyond the 60 s budget: each rejected job moves
    // on to b at once, after one attempt on a.
    assert!(values(&s, &r, "portkey", "attempts.a")
        .iter()
        .all(|&x| x == 50.0));
    assert!(values(&s, &r, "portkey", "makespan_s")
        .iter()
        .all(|&m| m < 10.0));
}

/// Guards: an AIMD start outside its bounds was clamped silently, and a provider listed
/// twice in a group skewed the group's per-candidate state.
#[test]
fn aimd_bounds_and_duplicate_group_members_are_rejected() {
    let e = parse_err(&edit(
        &minimal(),
        ROUTE,
        r#"route = { kind = "single", provider = "api" }
guards = [{ kind = "aimd", initial = 50, min = 1, max = 10 }]"#,
    ));
    assert!(
        e.contains("policies[0].guards[0].initial") && e.contains("[1, 10]"),
        "{e}"
    );
    let e = parse_err(&edit(
        &minimal(),
        ROUTE,
        r#"route = { kind = "weighted", providers = ["api", "api"] }"#,
    ));
    assert!(
        e.contains("policies[0].route.providers[1]") && e.contains("listed twice"),
        "{e}"
    );
}

/// `jobs` jobs of 100 input and 100 output tokens through `concurrency` slots, in 2
/// replications, to `providers` with one policy `p` routed by `route`, with `keys`.
fn jobs_through(
    providers: &[&dyn Display],
    route: &str,
    keys: &[(&str, &str)],
    jobs: u64,
    concurrency: u32,
) -> Scenario {
    let mut p = policy("p", route);
    for (k, v) in keys {
        p = p.set(k, v);
    }
    let w = batch(jobs, concurrency).tokens(100, 100);
    let mut blocks: Vec<&dyn Display> = vec![&w];
    blocks.extend(providers.iter().copied());
    blocks.push(&p);
    build(&blocks)
}

/// Guards: freeing the winner's slot before cancelling the loser started the loser
/// (a same-provider hedge waiting in the queue), which then held its slot for ever and
/// the jobs behind it were silently lost.
#[test]
fn a_same_provider_hedge_in_the_queue_is_cancelled_before_it_starts() {
    let s = jobs_through(
        &[&provider("local")
            .limit(r#"{ kind = "concurrency", limit = 1, on_full = "queue" }"#)
            .set("latency", r#"{ ttft = "1s", tokens_per_s = 10 }"#)],
        &single("local"),
        &[("hedge", r#"{ after = "1s" }"#)],
        5,
        1,
    );
    let r = results(&s);
    assert!(values(&s, &r, "p", "jobs_completed")
        .iter()
        .all(|&x| x == 5.0));
    // Each job: 11 s of service; its hedge waits in the queue and is dropped.
    assert!(values(&s, &r, "p", "makespan_s")
        .iter()
        .all(|&x| (x - 55.0).abs() < 1e-9));
}

/// Guards: a request the quality gate sent to a stronger provider was hedged back to
/// the weak one, whose failing answer was then accepted.
#[test]
fn escalated_requests_are_not_hedged() {
    let s = jobs_through(
        &[
            &provider("weak").total("500ms").set("pass_rate", "0.0"),
            &provider("strong").total("5s").set("pass_rate", "1.0"),
        ],
        &single("weak"),
        &[
            ("quality_gate", r#"{ escalate_to = ["strong"] }"#),
            ("hedge", r#"{ after = "1s", to = ["weak"] }"#),
        ],
        10,
        10,
    );
    let r = results(&s);
    assert!(values(&s, &r, "p", "hedges").iter().all(|&x| x == 0.0));
    assert!(values(&s, &r, "p", "served.strong")
        .iter()
        .all(|&x| x == 10.0));
}

/// Guards: the quantile delay learnt the winning hedge's own latency, so it shrank with
/// every hedge. It learns the request's latency from its first send: with a 10 s
/// provider hedged to a 1 s one (median, initial 2 s), job k waits 3, 4, 4, 5, 5 s.
#[test]
fn the_hedge_delay_learns_request_latency_not_the_hedges_own() {
    let s = jobs_through(
        &[&provider("slow").total("10s"), &provider("fast")],
        &single("slow"),
        &[(
            "hedge",
            r#"{ quantile = 0.5, window = 10, initial = "2s", to = ["fast"] }"#,
        )],
        5,
        1,
    );
    let r = results(&s);
    // Delays 2, 3, 3, 4, 4 s (each answer 1 s after its hedge): 3 + 4 + 4 + 5 + 5.
    assert!(values(&s, &r, "p", "makespan_s")
        .iter()
        .all(|&x| (x - 21.0).abs() < 1e-9));
}

/// Guards: with priority tiers, a retry skipped its backoff because a provider of a
/// lower tier was in rotation, though the retry could only pick the same tier.
#[test]
fn tiers_keep_the_backoff_when_no_provider_of_the_same_tier_is_left() {
    let a = provider("a").limit(sliding_window("60s", 2, "requests"));
    let s = jobs_through(
        &[&a, &provider("b")],
        r#"{ kind = "weighted", providers = ["a", "b"], order = [1, 2] }"#,
        &[(
            "retry",
            r#"{ max_attempts = 3, backoff = "constant", base = "20s" }"#,
        )],
        10,
        10,
    );
    let r = results(&s);
    // Two retries 20 s apart before a job gives up.
    assert!(values(&s, &r, "p", "makespan_s").iter().all(|&x| x >= 40.0));
    assert!(values(&s, &r, "p", "served.b").iter().all(|&x| x == 0.0));
    for pick in ["p2c-peak-ewma", "least-busy"] {
        // p2c drew from every candidate, ignoring tiers.
        let s = jobs_through(
            &[&provider("a"), &provider("b")],
            &format!(
                r#"{{ kind = "weighted", providers = ["a", "b"], order = [1, 2], pick = "{pick}" }}"#
            ),
            &[],
            50,
            10,
        );
        let r = results(&s);
        assert!(
            values(&s, &r, "p", "served.b").iter().all(|&x| x == 0.0),
            "{pick}"
        );
    }
}

/// Guards: keys a nested target's parent does not read (a `weight` outside a
/// loadbalance, a `name` outside a conditional) were accepted and ignored; a quality
/// gate chain longer than a plan holds was cut short; `max_fallbacks = 0` was refused.
#[test]
fn nested_route_keys_are_checked_against_the_parent() {
    let with = |route: &str| edit(&minimal(), ROUTE, route);
    let e = parse_err(&with(
        r#"route = { kind = "fallback", targets = [{ provider = "api", weight = 5 }] }"#,
    ));
    assert!(e.contains("policies[0].route.targets[0].weight"), "{e}");
    let e = parse_err(&with(
        r#"route = { kind = "loadbalance", targets = [{ provider = "api", name = "x" }] }"#,
    ));
    assert!(e.contains("policies[0].route.targets[0].name"), "{e}");
    let long = vec!["\"api\""; 17].join(", ");
    let e = parse_err(&with(&format!(
        "route = {{ kind = \"single\", provider = \"api\" }}\nquality_gate = {{ escalate_to = [{long}] }}"
    )));
    assert!(e.contains("quality_gate.escalate_to"), "{e}");
    assert!(e.contains("at most 16"), "{e}");
    let ok = with(r#"route = { kind = "chain", providers = ["api", "api"], max_fallbacks = 0 }"#);
    parse_str(&ok, Path::new("t.toml"), Path::new("."), "t").expect("0 means never fall back");
}

/// Guards: the circuit breaker's bypass looked at every later step of the route, even
/// those `max_fallbacks` puts out of reach, so a closed unreachable step kept the
/// request from being sent.
#[test]
fn the_breaker_bypass_only_counts_reachable_steps() {
    let s = jobs_through(
        &[&provider("a").limit(fixed_window("1h", 1)), &provider("b")],
        r#"{ kind = "chain", providers = ["a", "b"], max_fallbacks = 0 }"#,
        &[(
            "guards",
            r#"[{ kind = "circuit_breaker", failure_threshold = 1 }]"#,
        )],
        4,
        1,
    );
    let r = results(&s);
    // a serves one and rejects the rest; b is out of reach, so with a open every job is
    // still sent to a.
    assert!(values(&s, &r, "p", "attempts").iter().all(|&x| x == 4.0));
    assert!(values(&s, &r, "p", "attempts.b").iter().all(|&x| x == 0.0));
}

/// Guards: a request that waited (here behind AIMD) while its picked provider's circuit
/// opened was sent to the open provider by the bypass, though its group could still
/// pick a healthy one.
#[test]
fn the_breaker_bypass_waits_until_every_provider_of_the_group_is_open() {
    let s = jobs_through(
        &[
            &provider("a").limit(sliding_window("60s", 1, "requests")),
            &provider("b"),
        ],
        r#"{ kind = "weighted", providers = ["a", "b"], order = [1, 2] }"#,
        &[(
            "guards",
            r#"[{ kind = "aimd", initial = 1, min = 1, max = 1 }, { kind = "circuit_breaker", failure_threshold = 1 }]"#,
        )],
        4,
        4,
    );
    let r = results(&s);
    // a serves job 1 and rejects job 2 (its circuit opens); jobs 3 and 4 go to b.
    assert!(values(&s, &r, "p", "served.b").iter().all(|&x| x == 2.0));
    assert!(values(&s, &r, "p", "rejections").iter().all(|&x| x == 1.0));
}

/// Guards: plans store provider indices in a byte; a 257th provider must be refused,
/// not wrapped onto provider 0.
#[test]
fn more_than_256_providers_are_refused() {
    let mut text = minimal();
    for i in 0..256 {
        text.push_str(&provider(&format!("p{i}")).to_string());
    }
    let e = parse_err(&text);
    assert!(e.contains("257 providers"), "{e}");
    assert!(e.contains("at most 256"), "{e}");
}

/// Guards: a run whose events passed 2^64 ns saturated the clock and reported results:
/// jobs needing 530,000 years "completed" at 584 years, under the capacity bound. Any
/// event at or past the longest simulated time (100 years) is now an error naming the
/// event, the policy and the replication, the same for any threads.
#[test]
fn a_run_past_the_longest_simulated_time_is_an_error_not_results() {
    use ratesim::runner::{replicate, RunError};
    use ratesim::time::MAX_SIM_TIME;
    // (Output p95 of 1e15 tokens is now refused as a token size; the most a request
    // may have, at a thousandth of a token per second, takes 30,000 years.)
    let huge_output = r#"{ dist = "lognormal", median = 100, p95 = 1e9 }"#;
    let s = build(&[
        &batch(3, 3).tokens(100, huge_output),
        &provider("api").set("latency", r#"{ ttft = "1s", tokens_per_s = 0.001 }"#),
        &policy("direct", &single("api")),
    ]);
    for threads in [1, 2] {
        let Err(RunError::TimeLimit(e)) = replicate(&s, threads) else {
            panic!("a saturated clock must not give results");
        };
        assert_eq!((e.policy.as_str(), e.replication), ("direct", 1));
        assert!(e.at >= MAX_SIM_TIME);
        let message = e.to_string();
        for part in [
            "simulated time would exceed 100 years",
            "provider `api`'s response",
        ] {
            assert!(message.contains(part), "`{part}` not in: {message}");
        }
    }
    // Within the limit a run gives results; a second job served after the first one
    // passes it, an error.
    let jobs = |n: u64| {
        let s = build(&[
            &batch(n, 1).replications(1),
            &provider("api").total("36500d"),
            &policy("direct", &single("api")),
        ]);
        replicate(&s, 1).map(|r| values(&s, &r, "direct", "makespan_s")[0])
    };
    assert_eq!(jobs(1).unwrap(), 36500.0 * 86400.0);
    let e = jobs(2).unwrap_err().to_string();
    assert!(e.contains("to job 1 would arrive at 6.3072e9 s"), "{e}");
}

/// One provider behind `guard`, `jobs` jobs all in flight at once (a batch at full
/// concurrency): the setting in which waiting requests used to ask again each time.
fn all_waiting(guard: &str, limits: &str, jobs: u32, tokens: &str) -> Scenario {
    scenario(&format!(
        r#"
        name = "waiting"
        replications = 1
        [workload]
        kind = "batch"
        jobs = {jobs}
        concurrency = {jobs}
        input_tokens = {tokens}
        output_tokens = 100
        [providers.api]
        limits = [{limits}]
        latency = {{ total = {{ dist = "exponential", mean = "1s" }} }}
        [[policies]]
        name = "guarded"
        {ROUTE}
        guards = [{guard}]
        "#
    ))
}

/// The three waiting guards, each with limits that make every request wait for them.
const WAITING_GUARDS: [(&str, &str); 3] = [
    (
        r#"{ kind = "token_bucket", rate = 5, capacity = 50, tick = "1s" }"#,
        r#"{ kind = "concurrency", limit = 1000, on_full = "queue" }"#,
    ),
    (
        r#"{ kind = "aimd", initial = 10, min = 1, max = 10 }"#,
        r#"{ kind = "concurrency", limit = 1000, on_full = "queue" }"#,
    ),
    (
        r#"{ kind = "pacer" }"#,
        r#"{ kind = "token_bucket", capacity = 10, refill_per_s = 10.0, unit = "requests" }"#,
    ),
];

/// Guards: requests waiting on the client `token_bucket`, `aimd` or `pacer` all asked
/// again at every tick, response or refill (an event and a guard check each), so
/// 20,000 jobs in flight cost ~N^2 / 10 events and took 80 s. Waiters now move on as a
/// run when the first of them is told to wait: a bounded number of events per job.
#[test]
fn waiting_requests_cost_a_bounded_number_of_events_per_job() {
    let jobs = 2000;
    for (guard, limits) in WAITING_GUARDS {
        for tokens in ["100", r#"{ dist = "lognormal", median = 100, p95 = 400 }"#] {
            let s = all_waiting(guard, limits, jobs, tokens);
            let catalog = ratesim::metrics::Catalog::new(&s.providers);
            let batch = s.workload.generate(s.seed, 0);
            let out = ratesim::engine::simulate(&s, &catalog, 0, &batch, 0)
                .expect("within the time limit");
            let completed = out.metrics[catalog.index("jobs_completed").unwrap()];
            assert_eq!(completed, jobs as f64, "{guard}");
            assert!(
                out.events <= 6 * jobs as u64,
                "{guard}, tokens {tokens}: {} events for {jobs} jobs",
                out.events
            );
        }
    }
}
