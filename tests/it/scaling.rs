//! Cost linear in the work, for every guard kind and route kind: with every job in
//! flight at once against rate-limited providers, the engine's events and the policy's
//! asks (each a check of every guard) per unit of work (an attempt sent, a send a guard
//! refused, a job) stay bounded as the jobs grow tenfold. The counts are exact, so this
//! is a test of the algorithm, not of a noisy clock: a guard that woke every waiting
//! request at every tick (issue 14, class 5) had both growing with the number of jobs.

use ratesim::engine::simulate;
use ratesim::metrics::Catalog;

use crate::common::scenario;

/// One policy of `guards` and `route` over three providers (`a` and `b` limited per
/// sliding minute, `c` free but slow), `jobs` jobs all in flight.
fn all_in_flight(jobs: u32, route: &str, guards: &str) -> String {
    format!(
        r#"
        replications = 1
        [workload]
        kind = "batch"
        jobs = {jobs}
        concurrency = {jobs}
        input_tokens = {{ dist = "lognormal", median = 1000, p95 = 4000 }}
        output_tokens = 200
        [providers.a]
        limits = [{{ kind = "sliding_window", window = "60s", limit = 120, unit = "requests" }}]
        latency = {{ total = {{ dist = "exponential", mean = "2s" }} }}
        price_per_1k_input = 0.003
        [providers.b]
        limits = [{{ kind = "token_bucket", capacity = 30, refill_per_s = 1.0, unit = "requests" }}]
        latency = {{ total = "1s" }}
        reject_status = 503
        price_per_1k_input = 0.001
        [providers.c]
        limits = [{{ kind = "concurrency", limit = 20, on_full = "queue" }}]
        latency = {{ total = "5s" }}
        [[policies]]
        name = "p"
        route = {route}
        retry = {{ max_attempts = 3, backoff = "exponential", base = "1s", cap = "20s", jitter = "full" }}
        guards = [{guards}]
        "#
    )
}

/// Events plus asks per unit of work (attempts sent, sends a guard refused, jobs) of
/// `text`'s one policy.
fn events_per_work(text: &str) -> f64 {
    let s = scenario(text);
    let catalog = Catalog::new(&s.providers);
    let jobs = s.workload.generate(s.seed, 0);
    let out = simulate(&s, &catalog, 0, &jobs, 0).expect("within the time limit");
    let metric = |m: &str| out.metrics[catalog.index(m).unwrap()];
    (out.events + out.asks) as f64
        / (metric("attempts") + metric("guard_refusals") + jobs.len() as f64)
}

const CHAIN: &str = r#"{ kind = "chain", providers = ["a", "b", "c"] }"#;

/// Every guard kind, each in a configuration that acts on this workload.
const GUARDS: &[&str] = &[
    r#"{ kind = "predictive", provider = "a", limit = 100, ttl = "60s" }"#,
    r#"{ kind = "token_bucket", rate = 2, capacity = 20 }"#,
    r#"{ kind = "adaptive_throttle" }"#,
    r#"{ kind = "retry_budget", style = "finagle", ratio = 0.2, min = 1 }"#,
    r#"{ kind = "pause", every = "20s", length = "2s" }"#,
    r#"{ kind = "spend_budget", budget_usd = 0.5, providers = ["a"] }"#,
    r#"{ kind = "cooldown", cooldown_time = "5s" }"#,
    r#"{ kind = "circuit_breaker", failure_threshold = 2 }"#,
    r#"{ kind = "eject_on_429", while_out = "skip" }"#,
    r#"{ kind = "skip_recent_failures", window = "10s" }"#,
    r#"{ kind = "aimd", initial = 5, min = 1, max = 20, backoff_ratio = 0.5 }"#,
    r#"{ kind = "pacer" }"#,
];

/// Every route kind.
const ROUTES: &[&str] = &[
    r#"{ kind = "single", provider = "a" }"#,
    CHAIN,
    r#"{ kind = "weighted", providers = ["a", "b"], pick = "least-busy", fallbacks = ["c"] }"#,
    r#"{ kind = "fallback", targets = [{ provider = "a" }, { provider = "b" }, { provider = "c" }] }"#,
    r#"{ kind = "loadbalance", targets = [{ provider = "a", weight = 2 }, { provider = "b", weight = 1 }] }"#,
    r#"{ kind = "conditional", targets = [{ name = "big", provider = "c" }, { name = "small", provider = "a" }], conditions = [{ query = { input_tokens = { "$gt" = 3000 } }, then = "big" }], default = "small" }"#,
];

#[test]
fn events_per_unit_of_work_stay_bounded_for_every_guard_and_route_kind() {
    let cases = GUARDS
        .iter()
        .map(|g| (CHAIN, *g))
        .chain(ROUTES.iter().map(|r| (*r, "")));
    let mut table = Vec::new();
    for (route, guards) in cases {
        let small = events_per_work(&all_in_flight(200, route, guards));
        let large = events_per_work(&all_in_flight(2000, route, guards));
        table.push(format!("{small:6.2} {large:6.2}  {route} {guards}"));
        // A handful of events and asks per attempt (its answer, a retry timer, a
        // start, the guards' check), the same at ten times the jobs.
        assert!(
            large <= 8.0 && large <= 1.5 * small + 0.5,
            "events per unit of work {small:.2} at 200 jobs, {large:.2} at 2000:\n{route} {guards}\n{}",
            table.join("\n")
        );
    }
    println!(
        "events per unit of work at 200 and 2000 jobs:\n{}",
        table.join("\n")
    );
}
