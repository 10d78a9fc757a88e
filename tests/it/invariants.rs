//! Property tests of the engine on generated scenarios (workload, three providers with
//! random limits, latencies, outages and answers, and a policy with a random preset,
//! route, retry rule, guards, hedge and quality gate): event time never goes backwards, every
//! observer call happens at the time of the event being handled, every admitted request
//! is served or cancelled as a hedge's loser, no request is sent after the last job
//! ended, every job ends exactly once, completed or failed, and the timeline sampled
//! after a run from the providers' tapes equals the providers sampled live during it.

use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use ratesim::engine::timeline::{sample_step, TimelineRecorder};
use ratesim::engine::{simulate_observed, NoObserver, Observer};
use ratesim::metrics::Catalog;
use ratesim::provider::{Admission, Provider};
use ratesim::{SimDuration, SimTime};

use crate::common::{
    batch, bundled_text, list, poisson, policy, provider, scenario, text, ProviderBlock,
};

/// Watches the clock through one replication.
#[derive(Default)]
struct Clock {
    /// Time of the event being handled.
    now: SimTime,
    /// When the last request was sent, if one was.
    last_attempt: Option<SimTime>,
    /// Requests a provider admitted (served at once or queued).
    admitted: u64,
    /// Every (previous, next) pair where time went backwards.
    backwards: Vec<(SimTime, SimTime)>,
    /// Observer calls at another time than their event's: (event time, call time).
    off_event: Vec<(SimTime, SimTime)>,
}

impl Clock {
    fn during_event(&mut self, at: SimTime) {
        if at != self.now {
            self.off_event.push((self.now, at));
        }
    }
}

impl Observer for Clock {
    fn before(&mut self, now: SimTime, _providers: &[Provider]) {
        if now < self.now {
            self.backwards.push((self.now, now));
        }
        self.now = now;
    }

    fn attempt(&mut self, now: SimTime, _provider: usize, admission: &Admission) {
        self.during_event(now);
        self.last_attempt = Some(now);
        if !matches!(admission, Admission::Reject { .. }) {
            self.admitted += 1;
        }
    }

    fn fallback(&mut self, now: SimTime, _from: usize, _to: usize) {
        self.during_event(now);
    }

    fn hedge(&mut self, now: SimTime, _from: usize, _to: usize) {
        self.during_event(now);
    }
}

const PROVIDERS: [&str; 3] = ["p0", "p1", "p2"];

/// A duration in milliseconds, as TOML text.
fn ms(v: u64) -> String {
    format!("\"{v}ms\"")
}

fn limit() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        (1u64..10, 1u64..30, select(vec!["requests", "tokens"])).prop_map(|(l, w, unit)| {
            let l = if unit == "tokens" { l * 500 } else { l };
            Some(format!(
                r#"{{ kind = "sliding_window", window = "{w}s", limit = {l}, unit = "{unit}" }}"#
            ))
        }),
        (1u64..10, 1u64..30, any::<bool>()).prop_map(|(l, w, counted)| Some(format!(
            r#"{{ kind = "fixed_window", window = "{w}s", limit = {l}, unit = "requests", count_rejected = {counted} }}"#
        ))),
        (1u64..10, 1u64..50).prop_map(|(c, r)| Some(format!(
            r#"{{ kind = "token_bucket", capacity = {c}, refill_per_s = {}, unit = "requests" }}"#,
            r as f64 / 10.0
        ))),
        (1u64..20, 1u64..60, 1u64..5).prop_map(|(l, p, b)| Some(format!(
            r#"{{ kind = "gcra", limit = {l}, period = "{p}s", burst = {b}, unit = "requests" }}"#
        ))),
        (1u64..4, select(vec!["reject", "queue"])).prop_map(|(l, full)| Some(format!(
            r#"{{ kind = "concurrency", limit = {l}, on_full = "{full}" }}"#
        ))),
    ]
}

fn provider_block(name: &'static str) -> impl Strategy<Value = ProviderBlock> {
    (
        limit(),
        10u64..3000,
        any::<bool>(),
        select(vec![429u16, 503, 529]),
        0u64..500,
        prop::option::of((5u64..60, 1u64..20)),
        select(vec!["1.0", "0.5", "0.0"]),
        0u32..4,
        prop::option::of((5u64..60, 1u64..20, 1u64..10)),
    )
        .prop_map(
            move |(limit, latency, exponential, status, reject, outages, pass, price, online)| {
                let latency = if exponential {
                    format!(
                        "{{ total = {{ dist = \"exponential\", mean = {} }} }}",
                        ms(latency)
                    )
                } else {
                    format!("{{ total = {} }}", ms(latency))
                };
                let mut p = provider(name)
                    .set("latency", latency)
                    .rejects(status, &format!("{reject}ms"))
                    .price(price as f64 / 4.0)
                    .set("pass_rate", pass);
                if let Some(l) = limit {
                    p = p.limit(l);
                }
                if let Some((up, down)) = outages {
                    p = p.set(
                        "outages",
                        format!(r#"{{ up = "{up}s", down = "{down}s", status = 503 }}"#),
                    );
                }
                // Online-state resets: a long enough offline period empties the limits.
                if let Some((every, off, reset)) = online {
                    p = p.set(
                        "online",
                        format!(
                            r#"{{ offline_every = {{ dist = "exponential", mean = "{every}s" }}, offline_for = {{ dist = "exponential", mean = "{off}s" }}, reset_after = "{reset}s" }}"#
                        ),
                    );
                }
                p
            },
        )
}

fn route() -> impl Strategy<Value = String> {
    let picks = vec![
        "simple-shuffle",
        "least-busy",
        "latency-based-routing",
        "usage-based-routing-v2",
        "cost-based-routing",
        "price-weighted",
        "p2c-peak-ewma",
    ];
    let some = || subsequence(PROVIDERS.to_vec(), 1..=3);
    prop_oneof![
        select(PROVIDERS.to_vec())
            .prop_map(|p| format!(r#"{{ kind = "single", provider = "{p}" }}"#)),
        (some(), prop::option::of(0u32..3)).prop_map(|(ps, max)| {
            let max = max.map_or(String::new(), |m| format!(", max_fallbacks = {m}"));
            format!(r#"{{ kind = "chain", providers = {}{max} }}"#, list(&ps))
        }),
        (some(), select(picks), any::<bool>()).prop_map(|(ps, pick, tiers)| {
            let order = if tiers {
                let o: Vec<String> = (1..=ps.len()).map(|i| i.to_string()).collect();
                format!(", order = [{}]", o.join(", "))
            } else {
                String::new()
            };
            format!(
                r#"{{ kind = "weighted", providers = {}, pick = "{pick}"{order} }}"#,
                list(&ps)
            )
        }),
        some().prop_map(|ps| {
            let targets: Vec<String> = ps
                .iter()
                .map(|p| format!(r#"{{ provider = "{p}" }}"#))
                .collect();
            format!(
                r#"{{ kind = "fallback", on_status_codes = [429, 503], targets = [{}] }}"#,
                targets.join(", ")
            )
        }),
        some().prop_map(|ps| {
            let targets: Vec<String> = ps
                .iter()
                .enumerate()
                .map(|(i, p)| format!(r#"{{ provider = "{p}", weight = {} }}"#, i + 1))
                .collect();
            format!(
                r#"{{ kind = "loadbalance", targets = [{}] }}"#,
                targets.join(", ")
            )
        }),
    ]
}

fn retry() -> impl Strategy<Value = String> {
    (
        1u32..5,
        select(vec!["none", "constant", "exponential"]),
        10u64..2000,
        select(vec!["none", "full", "equal", "decorrelated", "sdk"]),
        any::<bool>(),
    )
        .prop_map(|(n, backoff, base, jitter, honour)| {
            format!(
                r#"{{ max_attempts = {n}, backoff = "{backoff}", base = {}, jitter = "{jitter}", honor_retry_after = {honour} }}"#,
                ms(base)
            )
        })
}

/// Every guard kind, in a configuration that acts on small scenarios.
const GUARDS: &[&str] = &[
    r#"{ kind = "predictive", provider = "p0", limit = 3, ttl = "10s" }"#,
    r#"{ kind = "token_bucket", rate = 2, capacity = 5 }"#,
    r#"{ kind = "adaptive_throttle" }"#,
    r#"{ kind = "retry_budget", style = "finagle", ratio = 0.2, min = 1 }"#,
    r#"{ kind = "retry_budget", style = "envoy" }"#,
    r#"{ kind = "pause", every = "20s", length = "2s" }"#,
    r#"{ kind = "spend_budget", budget_usd = 0.01, providers = ["p1"] }"#,
    r#"{ kind = "cooldown", cooldown_time = "5s" }"#,
    r#"{ kind = "circuit_breaker", failure_threshold = 2 }"#,
    r#"{ kind = "eject_on_429", while_out = "wait" }"#,
    r#"{ kind = "eject_on_429" }"#,
    r#"{ kind = "skip_recent_failures", window = "10s" }"#,
    r#"{ kind = "aimd", initial = 3, min = 1, max = 5, backoff_ratio = 0.5 }"#,
    r#"{ kind = "pacer" }"#,
    r#"{ kind = "pacer", provider = "p0" }"#,
];

fn guards() -> impl Strategy<Value = Vec<&'static str>> {
    subsequence(GUARDS.to_vec(), 0..=3)
}

fn hedge() -> impl Strategy<Value = Option<&'static str>> {
    prop::option::of(select(vec![
        r#"{ after = "500ms" }"#,
        r#"{ after = "1s", to = ["p1", "p2"] }"#,
        r#"{ quantile = 0.9, window = 10, initial = "1s" }"#,
    ]))
}

/// Scenario text: 1-40 jobs of 1-2 requests (at once through 1-10 slots, or Poisson
/// arrivals), three providers and one policy, perhaps from a gateway preset.
fn scenarios() -> impl Strategy<Value = String> {
    let workload = prop_oneof![
        (1u64..=40, 1u32..=10).prop_map(|(j, c)| batch(j, c)),
        (1u64..=40, 1u64..50).prop_map(|(j, r)| poisson(r as f64 / 10.0).set("jobs", j)),
    ];
    scenarios_of(workload.boxed(), guards().boxed())
}

/// Scenarios where many requests wait at once: 10-80 jobs all in flight, and guards
/// (in any order) of which at least one may make them wait.
fn crowded() -> impl Strategy<Value = String> {
    let waiting = select(vec![
        r#"{ kind = "token_bucket", rate = 2, capacity = 5 }"#,
        r#"{ kind = "aimd", initial = 3, min = 1, max = 5, backoff_ratio = 0.5 }"#,
        r#"{ kind = "pacer" }"#,
        r#"{ kind = "pacer", provider = "p0" }"#,
        r#"{ kind = "eject_on_429", while_out = "wait" }"#,
    ]);
    let guards = (waiting, subsequence(GUARDS.to_vec(), 0..=2)).prop_flat_map(|(w, mut rest)| {
        rest.push(w);
        Just(rest).prop_shuffle()
    });
    let workload = (10u64..=80).prop_map(|j| batch(j, j as u32));
    scenarios_of(workload.boxed(), guards.boxed())
}

/// Scenario text: `workload` with random request sizes, three random providers and one
/// policy of random route, retry, hedge and gate with `guards`, perhaps from a preset.
fn scenarios_of(
    workload: BoxedStrategy<crate::common::Workload>,
    guards: BoxedStrategy<Vec<&'static str>>,
) -> impl Strategy<Value = String> {
    (
        (workload, 1u64..3000, 0u64..500, 1u32..3, any::<bool>()),
        (
            provider_block("p0"),
            provider_block("p1"),
            provider_block("p2"),
        ),
        (
            route(),
            prop::option::of(select(vec![
                "litellm",
                "portkey",
                "openrouter",
                "helicone",
                "sdk",
            ])),
            prop::option::of(retry()),
            guards,
            hedge(),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (w, input, output, requests, varied),
                (p0, p1, p2),
                (route, preset, retry, guards, hedge, gate),
            )| {
                // Requests of one size, or of sizes up to `input` (a guard may treat
                // waiters of different sizes differently).
                let input = if varied {
                    format!(r#"{{ dist = "uniform", min = 1, max = {} }}"#, input + 1)
                } else {
                    input.to_string()
                };
                let w = w
                    .replications(1)
                    .tokens(input, output)
                    .set("requests_per_job", requests);
                let mut p = policy("p", &route);
                if let Some(name) = preset {
                    p = p.set("preset", format!("\"{name}\""));
                }
                if let Some(r) = retry {
                    p = p.set("retry", r);
                }
                // Without guards of its own, a policy keeps its preset's.
                if !guards.is_empty() {
                    p = p.set("guards", format!("[{}]", guards.join(", ")));
                }
                if let Some(h) = hedge {
                    p = p.set("hedge", h);
                }
                if gate {
                    p = p.set("quality_gate", r#"{ escalate_to = ["p2"] }"#);
                }
                text(&[&w, &p0, &p1, &p2, &p])
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn time_never_goes_backwards_and_every_job_ends_once(text in scenarios(), seed in any::<u64>()) {
        let mut s = scenario(&text);
        s.seed = seed;
        let catalog = Catalog::new(&s.providers);
        let jobs = s.workload.generate(s.seed, 0);
        let mut clock = Clock::default();
        let out = simulate_observed(&s, &catalog, 0, &jobs, 0, &mut clock).unwrap();
        let metric = |m: &str| out.metrics[catalog.index(m).unwrap()];
        // A debug build's virtual clock panics first; this is the check in release builds.
        prop_assert!(clock.backwards.is_empty(), "time went backwards: {:?}", clock.backwards);
        prop_assert!(clock.off_event.is_empty(), "calls off their event's time: {:?}", clock.off_event);
        // Every admitted request is served (counted when its answer arrives), or is the
        // losing copy of a hedged request, cancelled: at most one per hedge.
        let served: f64 = PROVIDERS.iter().map(|p| metric(&format!("served.{p}"))).sum();
        let (admitted, hedges) = (clock.admitted as f64, metric("hedges"));
        prop_assert!(
            served <= admitted && admitted <= served + hedges,
            "admitted {} served {} hedges {}", admitted, served, hedges
        );
        // Each job ends once, completed or failed.
        prop_assert_eq!(metric("jobs_completed") + metric("jobs_failed"), jobs.len() as f64);
        // Requests are sent only for open jobs: none after the last job ended.
        if let Some(t) = clock.last_attempt {
            prop_assert!(
                t.as_secs_f64() <= metric("makespan_s"),
                "a request sent at {} after the last job ended at {}", t, metric("makespan_s")
            );
        }
    }
}

/// Samples every provider a policy can reach live, before each event, at the grid the
/// timeline uses: what its limits and slots hold at each sample time.
struct Live {
    reach: Vec<usize>,
    step: SimDuration,
    next: SimTime,
    /// (time, value, capacity) in the timeline's row order.
    samples: Vec<(f64, f64, Option<f64>)>,
}

impl Observer for Live {
    fn before(&mut self, now: SimTime, providers: &[Provider]) {
        while self.next < now {
            let t = self.next;
            for &p in &self.reach {
                let spec = providers[p].spec();
                for u in providers[p].usage(t) {
                    self.samples.push((t.as_secs_f64(), u.used, Some(u.limit)));
                }
                if let Some(c) = spec.concurrency {
                    let (busy, queued) = (providers[p].in_flight(), providers[p].queued());
                    self.samples
                        .push((t.as_secs_f64(), busy as f64, Some(c.limit as f64)));
                    self.samples.push((t.as_secs_f64(), queued as f64, None));
                }
            }
            self.next += self.step;
        }
    }
}

/// Checks, for every policy of `text`'s scenario in replication `replication`, that the
/// rows the timeline recorder builds from the tapes after the run equal the providers
/// sampled live (by this test's observer and by a re-run), and that recording changes no
/// metric. Returns, per policy, the number of rows and whether a tape of two changes
/// overflowed.
fn timeline_both_ways(text: &str, replication: u64, points: u32) -> Vec<(usize, bool)> {
    let s = scenario(text);
    let catalog = Catalog::new(&s.providers);
    let jobs = s.workload.generate(s.seed, replication);
    let mut sizes = Vec::new();
    let mut overflowed = Vec::new();
    for p in 0..s.policies.len() {
        let mut rec = TimelineRecorder::new(&s, p);
        let out = simulate_observed(&s, &catalog, p, &jobs, replication, &mut rec).unwrap();
        let makespan = out.metrics[catalog.index("makespan_s").unwrap()];
        let rows = rec
            .finish(points, makespan)
            .expect("within the tape limit")
            .rows;
        // Run again, sampling as it goes (what a run too long for its tapes does).
        let again =
            ratesim::engine::timeline::record(&s, p, replication, points, makespan).unwrap();
        assert_eq!(
            again.rows, rows,
            "policy {}: tape and re-run differ",
            s.policies[p].name
        );
        // A tape that overflows asks for that re-run; one that did not replays the same.
        let mut tiny = TimelineRecorder::with_tape_limit(&s, p, 2);
        simulate_observed(&s, &catalog, p, &jobs, replication, &mut tiny).unwrap();
        let tiny = tiny.finish(points, makespan);
        if let Some(t) = &tiny {
            assert_eq!(t.rows, rows, "a short tape replayed differently");
        }
        overflowed.push(tiny.is_none());
        let mut live = Live {
            reach: s.policies[p].reachable(),
            step: sample_step(points, makespan),
            next: SimTime::ZERO,
            samples: Vec::new(),
        };
        let again = simulate_observed(&s, &catalog, p, &jobs, replication, &mut live).unwrap();
        let bits = |m: &[f64]| m.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&again.metrics),
            bits(&out.metrics),
            "recording changed the run"
        );
        // The providers' rows (the guards' follow them, recorded alike by the re-run).
        let recorded: Vec<_> = rows
            .iter()
            .filter(|r| !r.series.contains(" guard: ") && r.series != "out of rotation")
            .map(|r| (r.t_s, r.value, r.capacity))
            .collect();
        assert_eq!(recorded, live.samples, "policy {}", s.policies[p].name);
        sizes.push(rows.len());
    }
    sizes.into_iter().zip(overflowed).collect()
}

#[test]
fn the_recorded_timeline_equals_the_providers_sampled_live() {
    // The bundled scenarios: sliding windows on requests and tokens, two-layer buckets
    // with online resets, concurrency caps with queues, hedges and fallbacks.
    for name in ["ci-300x10.toml", "gateways.toml", "anthropic-tier1.toml"] {
        let sizes = timeline_both_ways(&bundled_text(name), 3, 600);
        assert!(sizes.iter().any(|&(n, _)| n > 0), "{name}: nothing sampled");
        // Every policy that samples a limit makes more than two changes to it.
        assert!(
            sizes.iter().all(|&(n, full)| n == 0 || full),
            "{name}: {sizes:?}"
        );
    }
}

/// Asks the engine to have every waiting job ask again itself.
struct AskEveryWaiter;

impl Observer for AskEveryWaiter {
    fn asks_every_waiter(&self) -> bool {
        true
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// The wait lists' shortcut (a run of waiters answered alike follows its first job
    /// when that one is told to wait, without asking) changes no result: every metric
    /// and latency is the same as when every waiter asks again itself, with no more
    /// asks.
    #[test]
    fn following_alike_waiters_changes_no_result(text in crowded(), seed in any::<u64>()) {
        let mut s = scenario(&text);
        s.seed = seed;
        let catalog = Catalog::new(&s.providers);
        let jobs = s.workload.generate(s.seed, 0);
        let follow = simulate_observed(&s, &catalog, 0, &jobs, 0, &mut NoObserver).unwrap();
        let ask = simulate_observed(&s, &catalog, 0, &jobs, 0, &mut AskEveryWaiter).unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for (i, (a, b)) in follow.metrics.iter().zip(&ask.metrics).enumerate() {
            prop_assert!(
                a.to_bits() == b.to_bits(),
                "{}: {} following, {} asking every waiter", catalog.names()[i], a, b
            );
        }
        prop_assert_eq!(bits(&follow.latencies), bits(&ask.latencies));
        prop_assert!(follow.asks <= ask.asks, "{} asks following, {} asking", follow.asks, ask.asks);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn recorded_timelines_equal_live_samples(text in scenarios(), points in 1u32..700) {
        timeline_both_ways(&text, 0, points);
    }
}
