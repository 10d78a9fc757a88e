//! The scenario parser's errors that the CLI tests do not reach: each names the line and
//! the key path of the bad value, and says what would be valid.

use std::path::Path;

use ratesim::scenario::{parse_str, ScenarioError};

use crate::common::{
    batch, edit, minimal, poisson, policy, provider, single, text, two_providers, Workload,
};

const ROUTE: &str = r#"route = { kind = "single", provider = "api" }"#;
const LATENCY: &str = r#"latency = { total = "1s" }"#;

fn error(text: &str) -> ScenarioError {
    parse_str(text, Path::new("t.toml"), Path::new("."), "t").expect_err("should be rejected")
}

/// A guard list for the minimal scenario's policy.
fn guards(list: &str) -> String {
    edit(&minimal(), ROUTE, &format!("{ROUTE}\nguards = [{list}]"))
}

/// A key of the minimal scenario's policy.
fn policy_key(key: &str) -> String {
    edit(&minimal(), ROUTE, &format!("{ROUTE}\n{key}"))
}

/// The minimal scenario's policy routed by `route`.
fn route(route: &str) -> String {
    edit(&minimal(), ROUTE, &format!("route = {route}"))
}

/// The minimal scenario's provider and policy behind workload `w`.
fn with_workload(w: Workload) -> String {
    text(&[&w, &provider("api"), &policy("p", &single("api"))])
}

/// A key of the minimal scenario's provider.
fn provider_key(key: &str) -> String {
    edit(&minimal(), LATENCY, &format!("{LATENCY}\n{key}"))
}

#[test]
fn bad_values_are_reported_with_their_line_and_key_path() {
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "unknown workload kind",
            edit(&minimal(), r#"kind = "batch""#, r#"kind = "burst""#),
            "workload.kind",
            r#"expected "batch", "poisson" or "trace""#,
        ),
        (
            "unknown distribution",
            edit(
                &minimal(),
                "input_tokens = 10",
                r#"input_tokens = { dist = "pareto", mean = 10 }"#,
            ),
            "workload.input_tokens.dist",
            "unknown distribution `pareto`",
        ),
        (
            "distribution key missing",
            edit(
                &minimal(),
                "input_tokens = 10",
                r#"input_tokens = { dist = "lognormal", median = 10 }"#,
            ),
            "workload.input_tokens.p95",
            "missing; dist = \"lognormal\" takes: median, p95",
        ),
        (
            "a duration past what the clock holds",
            provider_key(r#"outages = { up = "9000000h", down = "1s" }"#),
            "providers.api.outages.up",
            "is longer than 100 years",
        ),
        (
            "policy name too long",
            edit(
                &minimal(),
                r#"name = "p""#,
                &format!(r#"name = "{}""#, "p".repeat(101)),
            ),
            "policies[0].name",
            "is 101 characters long; a name has at most 100",
        ),
        (
            "control character in a policy name",
            edit(&minimal(), r#"name = "p""#, r#"name = "two\nlines""#),
            "policies[0].name",
            "contains the control character '\\n'",
        ),
        (
            "control character in the scenario name",
            format!("name = \"a\\tb\"\n{}", minimal()),
            "name",
            "contains the control character '\\t'",
        ),
        (
            "unknown limit unit",
            provider_key(
                r#"limits = [{ kind = "sliding_window", window = "60s", limit = 8, unit = "calls" }]"#,
            ),
            "providers.api.limits[0].unit",
            "unknown unit `calls`",
        ),
        (
            "unknown on_full",
            provider_key(r#"limits = [{ kind = "concurrency", limit = 2, on_full = "drop" }]"#),
            "providers.api.limits[0].on_full",
            r#"expected "reject" or "queue""#,
        ),
        (
            "status out of range",
            provider_key("reject_status = 42"),
            "providers.api.reject_status",
            "from 100 to 599 (got 42)",
        ),
        (
            "unknown route kind",
            route(r#"{ kind = "roundrobin", provider = "api" }"#),
            "policies[0].route.kind",
            r#"unknown route kind `roundrobin`; expected "single", "chain", "weighted""#,
        ),
        (
            "unknown pick",
            route(r#"{ kind = "weighted", providers = ["api"], pick = "fastest" }"#),
            "policies[0].route.pick",
            "unknown pick `fastest`",
        ),
        (
            "a key of another kind beside a bad common key",
            provider_key(
                r#"limits = [{ kind = "sliding_window", window = "60s", limit = 8, unit = "requests", burst = 3, count_rejected = "yes" }]"#,
            ),
            "providers.api.limits[0].burst",
            r#"not a setting of kind = "sliding_window""#,
        ),
        (
            "unknown retry preset",
            policy_key(r#"retry = { preset = "boto" }"#),
            "policies[0].retry.preset",
            r#"expected "anthropic-sdk", "openai-sdk" or "portkey""#,
        ),
        (
            "unknown backoff",
            policy_key(r#"retry = { max_attempts = 3, backoff = "linear" }"#),
            "policies[0].retry.backoff",
            r#"expected "none", "constant" or "exponential""#,
        ),
        (
            "unknown jitter",
            policy_key(r#"retry = { max_attempts = 3, jitter = "half" }"#),
            "policies[0].retry.jitter",
            "unknown jitter `half`",
        ),
        (
            "unknown gateway preset",
            policy_key(r#"preset = "kong""#),
            "policies[0].preset",
            r#""litellm", "portkey", "openrouter", "helicone" or "sdk""#,
        ),
        (
            "unknown guard kind",
            guards(r#"{ kind = "leaky" }"#),
            "policies[0].guards[0].kind",
            r#""aimd" or "pacer""#,
        ),
        (
            "unknown while_out",
            guards(r#"{ kind = "cooldown" }, { kind = "eject_on_429", while_out = "sleep" }"#),
            "policies[0].guards[1].while_out",
            r#"expected "skip""#,
        ),
        (
            "unknown retry budget style",
            guards(r#"{ kind = "retry_budget", style = "hystrix" }"#),
            "policies[0].guards[0].style",
            r#"expected "finagle" or "envoy""#,
        ),
        (
            "pause as long as its period",
            guards(r#"{ kind = "pause", every = "10s", length = "10s" }"#),
            "policies[0].guards[0].length",
            "shorter than its period",
        ),
        (
            "aimd max below min",
            guards(r#"{ kind = "aimd", initial = 2, min = 2, max = 1 }"#),
            "policies[0].guards[0].max",
            "must be >= min",
        ),
        (
            "aimd backoff ratio of 1",
            guards(r#"{ kind = "aimd", initial = 2, min = 1, max = 4, backoff_ratio = 1.0 }"#),
            "policies[0].guards[0].backoff_ratio",
            "between 0 and 1",
        ),
        (
            "circuit breaker cooldown under Portkey's minimum",
            guards(r#"{ kind = "circuit_breaker", cooldown_interval = "10s" }"#),
            "policies[0].guards[0].cooldown_interval",
            "at least 30s",
        ),
        (
            "spend budget without a budget",
            guards(r#"{ kind = "spend_budget", providers = ["api"] }"#),
            "policies[0].guards[0].budget_usd",
            "missing",
        ),
        (
            "predictive guard without a provider",
            guards(r#"{ kind = "predictive", limit = 8 }"#),
            "policies[0].guards[0].provider",
            "missing",
        ),
        (
            "hedge to an unknown provider",
            policy_key(r#"hedge = { after = "1s", to = ["spare"] }"#),
            "policies[0].hedge.to[0]",
            "no provider named `spare`; defined providers: api",
        ),
        (
            "hedge without a delay",
            policy_key(r#"hedge = { to = ["api"] }"#),
            "policies[0].hedge",
            "needs `after",
        ),
        (
            "quantile window without a quantile",
            policy_key(r#"hedge = { after = "1s", window = 10 }"#),
            "policies[0].hedge.window",
            "only used with `quantile`",
        ),
        (
            "escalation to an unknown provider",
            policy_key(r#"quality_gate = { escalate_to = ["opus"] }"#),
            "policies[0].quality_gate.escalate_to[0]",
            "no provider named `opus`",
        ),
        (
            "unknown provider in a group",
            text(&[
                &two_providers(),
                &policy("p", r#"{ kind = "weighted", providers = ["a", "c"] }"#),
            ]),
            "policies[0].route.providers[1]",
            "no provider named `c`",
        ),

        // Guards: huge workloads passed validation, then every job was built in memory.
        (
            "more jobs than a replication holds",
            with_workload(batch(10_000_001, 5)),
            "workload.jobs",
            "jobs must be at most 10000000 (got 10000001)",
        ),
        (
            "jobs × requests_per_job past the request limit",
            with_workload(batch(1_000_000, 5).set("requests_per_job", 101)),
            "workload.jobs",
            "1000000 jobs of 101 requests are 101000000 requests; one replication holds at most 100000000",
        ),
        (
            "requests_per_job past the request limit",
            with_workload(batch(1, 5).set("requests_per_job", 100_000_001)),
            "workload.requests_per_job",
            "requests_per_job must be at most 100000000",
        ),
        (
            "poisson jobs past the limit",
            with_workload(poisson(1.0).set("jobs", 4_294_967_295u64)),
            "workload.jobs",
            "jobs must be at most 10000000 (got 4294967295)",
        ),
        (
            "poisson rate × duration past the limit",
            with_workload(poisson(1000.0).set("duration", "\"2h\"")),
            "workload.duration",
            "about 7200000 jobs (7200000 requests) expected; a Poisson workload may expect at most 5000000 jobs",
        ),
        (
            "poisson rate past the limit",
            with_workload(poisson(2e9).set("jobs", 10)),
            "workload.rate_per_s",
            "rate_per_s must be at most 1000000000",
        ),
        (
            "replications × policies × metrics past what a run keeps",
            with_workload(batch(1, 1).replications(1_000_000)).replace(
                "[[policies]]",
                &format!("{}[[policies]]", (0..20).map(|i| format!("[[policies]]\nname = \"q{i}\"\n{ROUTE}\n")).collect::<String>()),
            ),
            "replications",
            "a run keeps at most 200000000",
        ),
        // Guards: token counts wrapped u64 sums (50 requests of u64::MAX tokens
        // reported 9,950 tokens) and a debug build panicked on input + output.
        (
            "token count past the limit",
            with_workload(batch(5, 5).tokens(10, 1_000_000_001u64)),
            "workload.output_tokens",
            "the value is 1000000001 tokens; a request has at most 1000000000",
        ),
        (
            "token distribution whose p95 is past the limit",
            with_workload(batch(5, 5).tokens(
                10,
                r#"{ dist = "lognormal", median = 1000, p95 = 1e15 }"#,
            )),
            "workload.output_tokens.p95",
            "p95 is 1e15 tokens; a request has at most 1000000000",
        ),
        (
            "exponential token count past the limit",
            with_workload(batch(5, 5).tokens(r#"{ dist = "exponential", mean = 1e9 }"#, 10)),
            "workload.input_tokens.mean",
            "the 95th percentile (mean × ln 20) is",
        ),
        (
            "uniform token count past the limit",
            with_workload(batch(5, 5).tokens(r#"{ dist = "uniform", min = 0, max = 1.8e19 }"#, 10)),
            "workload.input_tokens.max",
            "max is 1.8e19 tokens",
        ),
        // Guards: max_attempts above 10^6 was clamped without a word.
        (
            "max_attempts past the limit",
            policy_key("retry = { max_attempts = 1000001 }"),
            "policies[0].retry.max_attempts",
            "max_attempts must be at most 1000000 (got 1000001)",
        ),

        // Guards: numeric settings without an upper bound overflowed later.
        (
            "weights whose sum overflows",
            text(&[
                &two_providers(),
                &policy(
                    "p",
                    r#"{ kind = "weighted", providers = ["a", "b"], weights = [1e308, 1e308] }"#,
                ),
            ]),
            "policies[0].route.weights[0]",
            "a weight must be at most 1e9 (got 1e308)",
        ),
        (
            "loadbalance weight past the limit",
            route(r#"{ kind = "loadbalance", targets = [{ provider = "api", weight = 2e9 }] }"#),
            "policies[0].route.targets[0].weight",
            "a weight must be at most 1e9",
        ),
        (
            "duration past the longest run",
            policy_key(r#"hedge = { after = "40000d" }"#),
            "policies[0].hedge.after",
            "`40000d` is longer than 100 years (3155760000 s), the longest a run may simulate",
        ),
        (
            "window limit past the limit",
            provider_key(
                r#"limits = [{ kind = "sliding_window", window = "60s", limit = 2000000000000000, unit = "tokens" }]"#,
            ),
            "providers.api.limits[0].limit",
            "limit must be at most 1000000000000000",
        ),
        (
            "bucket capacity past the limit",
            provider_key(
                r#"limits = [{ kind = "token_bucket", capacity = 1e300, refill_per_s = 1, unit = "tokens" }]"#,
            ),
            "providers.api.limits[0].capacity",
            "capacity must be at most 1000000000000000",
        ),
        (
            "concurrency limit past u32 (was clamped)",
            provider_key(r#"limits = [{ kind = "concurrency", limit = 5000000000 }]"#),
            "providers.api.limits[0].limit",
            "limit must be at most 4294967295",
        ),
        (
            "price past the limit",
            provider_key("price_per_1k_input = 1e300"),
            "providers.api.price_per_1k_input",
            "price_per_1k_input must be at most 1000000 USD",
        ),
    ];
    for (case, text, key, message) in cases {
        let e = error(&text);
        assert_eq!(e.key.as_deref(), Some(key), "{case}: {e}");
        assert!(e.line.is_some(), "{case}: no line in {e}");
        assert!(
            e.message.contains(message),
            "{case}: `{message}` not in {e}"
        );
        assert_eq!(e.file, Path::new("t.toml"), "{case}");
    }
}

#[test]
fn a_provider_has_at_most_64_rate_limits() {
    let limit = r#"{ kind = "sliding_window", window = "60s", limit = 8, unit = "requests" }"#;
    let limits = |n: usize| provider_key(&format!("limits = [{}]", vec![limit; n].join(", ")));
    parse_str(&limits(64), Path::new("t.toml"), Path::new("."), "t").expect("64 limits are fine");
    let e = error(&limits(65));
    assert_eq!(e.key.as_deref(), Some("providers.api.limits"), "{e}");
    assert!(e.message.contains("at most 64 rate limits"), "{e}");
}

/// Each route kind refuses a key it does not take, naming the key's path and line and
/// the keys the kind takes (a nested target: its kind's and those its parent reads from
/// it); an unknown kind lists the registered kinds.
#[test]
fn each_route_kind_refuses_a_key_it_does_not_take_and_lists_its_keys() {
    use ratesim::policy::route::KINDS;
    let cases = [
        (
            "single",
            r#"{ kind = "single", provider = "a", providers = ["a"] }"#,
            "policies[0].route.providers",
            "provider",
        ),
        (
            "chain",
            r#"{ kind = "chain", providers = ["a", "b"], weights = [1, 2] }"#,
            "policies[0].route.weights",
            "providers, max_fallbacks",
        ),
        (
            "weighted",
            r#"{ kind = "weighted", providers = ["a", "b"], targets = [] }"#,
            "policies[0].route.targets",
            "providers, weights, pick, fallbacks, sticky, order, max_fallbacks",
        ),
        (
            "fallback",
            r#"{ kind = "fallback", targets = [{ provider = "a" }], pick = "random" }"#,
            "policies[0].route.pick",
            "targets, on_status_codes, max_fallbacks",
        ),
        (
            "loadbalance",
            r#"{ kind = "loadbalance", targets = [{ provider = "a" }], on_status_codes = [429] }"#,
            "policies[0].route.on_status_codes",
            "targets, max_fallbacks",
        ),
        (
            "conditional",
            r#"{ kind = "conditional", default = "x", targets = [{ name = "x", provider = "a" }], conditions = [], weight = 2 }"#,
            "policies[0].route.weight",
            "targets, conditions, default, max_fallbacks",
        ),
        (
            "single",
            r#"{ kind = "loadbalance", targets = [{ provider = "a", name = "x" }] }"#,
            "policies[0].route.targets[0].name",
            "provider, weight",
        ),
        (
            "fallback",
            r#"{ kind = "conditional", default = "x", conditions = [], targets = [{ name = "x", kind = "fallback", targets = [{ provider = "a" }], max_fallbacks = 1 }] }"#,
            "policies[0].route.targets[0].max_fallbacks",
            "targets, on_status_codes, name",
        ),
    ];
    for kind in KINDS {
        assert!(
            cases.iter().any(|(k, ..)| k == kind),
            "no case for route kind `{kind}`"
        );
    }
    for (kind, route, key, takes) in cases {
        let e = error(&text(&[&two_providers(), &policy("p", route)]));
        assert_eq!(e.key.as_deref(), Some(key), "{kind}: {e}");
        assert!(e.line.is_some(), "{kind}: no line in {e}");
        assert_eq!(
            e.message,
            format!("not a setting of kind = \"{kind}\"; it takes: {takes}"),
            "{kind}"
        );
    }
    let e = error(&route(r#"{ kind = "roundrobin", provider = "api" }"#));
    assert_eq!(e.key.as_deref(), Some("policies[0].route.kind"));
    let listed: Vec<String> = KINDS.iter().map(|k| format!("\"{k}\"")).collect();
    assert_eq!(
        e.message,
        format!(
            "unknown route kind `roundrobin`; expected {} or {}",
            listed[..listed.len() - 1].join(", "),
            listed[listed.len() - 1]
        )
    );
}
