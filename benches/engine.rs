//! Engine throughput beside a baseline in the same run.
//!
//! - `mm10`: an M/M/10 queue at rho = 0.8 (Poisson arrivals at 8/s, exponential service
//!   with mean 1 s, 10 slots), 20,000 jobs. `ratesim` runs it through the public scenario
//!   API (scenario text -> `Scenario` -> `simulate`); `bare_heap` is the simplest event
//!   loop of the same model: a `BinaryHeap` of (time, seq, event) and a FIFO. Both report
//!   events per second; the ratio is the cost of ratesim's generality (providers,
//!   limiters, policies, metrics).
//! - `ci_300x10`: one full replication of the bundled incident scenario, all five
//!   policies.
//! - `waiting`: every job of a batch in flight at once behind a client `token_bucket`,
//!   `aimd` or `pacer` guard that makes them wait, at 2,000 and 20,000 jobs: 10x the
//!   jobs should take about 10x the time (waiting requests used to cost ~N^2).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp};
use ratesim::engine::simulate;
use ratesim::metrics::Catalog;
use ratesim::scenario::{parse_str, Scenario};

const JOBS: u32 = 20_000;

fn mm10_scenario() -> Scenario {
    let text = format!(
        r#"
        replications = 1
        [workload]
        kind = "poisson"
        rate_per_s = 8.0
        jobs = {JOBS}
        concurrency = 10
        input_tokens = 100
        output_tokens = 100
        [providers.server]
        latency = {{ total = {{ dist = "exponential", mean = "1s" }} }}
        [[policies]]
        name = "direct"
        route = {{ kind = "single", provider = "server" }}
        "#
    );
    parse_str(&text, Path::new("mm10.toml"), Path::new("."), "mm10").unwrap()
}

/// The bare M/M/c loop: returns (events, mean wait in queue in seconds).
fn bare_mmc(jobs: u32, lambda: f64, mu: f64, c: u32, seed: u64) -> (u64, f64) {
    #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Ev {
        Arrive(u32),
        Depart,
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let gap = Exp::new(lambda).unwrap();
    let service = Exp::new(mu).unwrap();
    let ns = |s: f64| (s * 1e9).round() as u64;
    let mut heap = BinaryHeap::new();
    let mut seq = 0u64;
    let mut arrivals = Vec::with_capacity(jobs as usize);
    let mut t = 0.0;
    for _ in 0..jobs {
        t += gap.sample(&mut rng);
        arrivals.push(ns(t));
    }
    heap.push(Reverse((arrivals[0], seq, Ev::Arrive(0))));
    let (mut busy, mut queue, mut events, mut wait) = (0u32, VecDeque::new(), 0u64, 0u64);
    while let Some(Reverse((now, _, ev))) = heap.pop() {
        events += 1;
        match ev {
            Ev::Arrive(j) => {
                if j + 1 < jobs {
                    seq += 1;
                    heap.push(Reverse((arrivals[j as usize + 1], seq, Ev::Arrive(j + 1))));
                }
                if busy < c {
                    busy += 1;
                    seq += 1;
                    heap.push(Reverse((
                        now + ns(service.sample(&mut rng)),
                        seq,
                        Ev::Depart,
                    )));
                } else {
                    queue.push_back(now);
                }
            }
            Ev::Depart => {
                if let Some(arrived) = queue.pop_front() {
                    wait += now - arrived;
                    seq += 1;
                    heap.push(Reverse((
                        now + ns(service.sample(&mut rng)),
                        seq,
                        Ev::Depart,
                    )));
                } else {
                    busy -= 1;
                }
            }
        }
    }
    (events, wait as f64 / 1e9 / jobs as f64)
}

fn mm10(c: &mut Criterion) {
    let scenario = mm10_scenario();
    let catalog = Catalog::new(&scenario.providers);
    let jobs = scenario.workload.generate(scenario.seed, 0);
    let events = simulate(&scenario, &catalog, 0, &jobs, 0).unwrap().events;
    let (bare_events, _) = bare_mmc(JOBS, 8.0, 1.0, 10, 1);
    let mut group = c.benchmark_group("mm10");
    group.sample_size(20);
    group.throughput(Throughput::Elements(events));
    group.bench_function("ratesim", |b| {
        b.iter(|| {
            let jobs = scenario.workload.generate(scenario.seed, 0);
            black_box(simulate(&scenario, &catalog, 0, &jobs, 0))
        })
    });
    group.throughput(Throughput::Elements(bare_events));
    group.bench_function("bare_heap", |b| {
        b.iter(|| black_box(bare_mmc(JOBS, 8.0, 1.0, 10, 1)))
    });
    group.finish();
}

fn ci_300x10(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/ci-300x10.toml");
    let scenario = ratesim::scenario::load(&path).unwrap();
    let catalog = Catalog::new(&scenario.providers);
    let mut group = c.benchmark_group("ci_300x10");
    group.sample_size(20);
    group.bench_function("one_replication_all_policies", |b| {
        b.iter(|| {
            let jobs = scenario.workload.generate(scenario.seed, 0);
            let mut events = 0;
            for p in 0..scenario.policies.len() {
                events += simulate(&scenario, &catalog, p, &jobs, 0).unwrap().events;
            }
            black_box(events)
        })
    });
    group.finish();
}

/// A batch of `jobs` jobs at full concurrency on one provider behind `guard`.
fn waiting_scenario(guard: &str, limits: &str, jobs: u32) -> Scenario {
    let text = format!(
        r#"
        replications = 1
        [workload]
        kind = "batch"
        jobs = {jobs}
        concurrency = {jobs}
        input_tokens = 100
        output_tokens = 100
        [providers.api]
        limits = [{limits}]
        latency = {{ total = {{ dist = "exponential", mean = "1s" }} }}
        [[policies]]
        name = "guarded"
        route = {{ kind = "single", provider = "api" }}
        guards = [{guard}]
        "#
    );
    parse_str(&text, Path::new("waiting.toml"), Path::new("."), "waiting").unwrap()
}

fn waiting(c: &mut Criterion) {
    let queue = r#"{ kind = "concurrency", limit = 1000, on_full = "queue" }"#;
    let guards = [
        (
            "token_bucket",
            r#"{ kind = "token_bucket", rate = 5, capacity = 50, tick = "1s" }"#,
            queue,
        ),
        (
            "aimd",
            r#"{ kind = "aimd", initial = 10, min = 1, max = 10 }"#,
            queue,
        ),
        (
            "pacer",
            r#"{ kind = "pacer" }"#,
            r#"{ kind = "token_bucket", capacity = 10, refill_per_s = 10.0, unit = "requests" }"#,
        ),
    ];
    let mut group = c.benchmark_group("waiting");
    group.sample_size(10);
    for (name, guard, limits) in guards {
        for jobs in [2_000, 20_000] {
            let scenario = waiting_scenario(guard, limits, jobs);
            let catalog = Catalog::new(&scenario.providers);
            group.throughput(Throughput::Elements(jobs as u64));
            group.bench_function(format!("{name}/{jobs}"), |b| {
                b.iter(|| {
                    let jobs = scenario.workload.generate(scenario.seed, 0);
                    black_box(simulate(&scenario, &catalog, 0, &jobs, 0))
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, mm10, ci_300x10, waiting);
criterion_main!(benches);
