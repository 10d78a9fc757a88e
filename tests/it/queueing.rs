//! The engine against queueing theory: M/M/c waiting times (Erlang C).

use crate::common::{build, poisson, policy, provider, results, single, values};
use ratesim::stats::estimate;

/// Exponential service times with a mean of one second.
const EXPONENTIAL_1S: &str = r#"{ total = { dist = "exponential", mean = "1s" } }"#;

/// Erlang C: mean wait in queue of M/M/c with arrival rate `lambda`, service rate `mu`.
fn erlang_c_wait(c: u32, lambda: f64, mu: f64) -> f64 {
    let a = lambda / mu;
    let mut term = 1.0; // a^k / k!
    let mut sum = 0.0;
    for k in 0..c {
        if k > 0 {
            term *= a / k as f64;
        }
        sum += term;
    }
    let last = term * a / c as f64 * (c as f64 / (c as f64 - a)); // a^c/c! * c/(c-a)
    let p_wait = last / (sum + last);
    p_wait / (c as f64 * mu - lambda)
}

#[test]
fn erlang_c_reference_values() {
    // M/M/1: Wq = rho / (mu - lambda).
    assert!((erlang_c_wait(1, 0.5, 1.0) - 1.0).abs() < 1e-12);
    // M/M/2, lambda 1, mu 1: P(wait) = 1/3, Wq = 1/3.
    assert!((erlang_c_wait(2, 1.0, 1.0) - 1.0 / 3.0).abs() < 1e-12);
}

/// Open Poisson arrivals into c CI slots (the workload's concurrency), exponential
/// service at an unlimited provider: the job queue is M/M/c and `queue_wait_mean_s` is
/// its mean wait.
#[test]
fn workload_slots_reproduce_mm10_mean_wait() {
    let s = build(&[
        &poisson(8.0)
            .replications(40)
            .set("jobs", 20000)
            .set("concurrency", 10)
            .tokens(100, 100),
        &provider("server").set("latency", EXPONENTIAL_1S),
        &policy("direct", &single("server")),
    ]);
    let r = results(&s);
    let wq = erlang_c_wait(10, 8.0, 1.0);
    let e = estimate(&values(&s, &r, "direct", "queue_wait_mean_s"));
    // The interval is tight enough to catch a wrong engine (a few % of Wq).
    assert!(
        e.half_width() < 0.05 * wq,
        "interval too wide to test: {e:?}"
    );
    assert!(
        e.ci_low <= wq && wq <= e.ci_high,
        "Erlang C Wq = {wq:.4} outside the simulated 95% CI [{:.4}, {:.4}]",
        e.ci_low,
        e.ci_high
    );
    // Sojourn time W = Wq + 1/mu.
    let w = estimate(&values(&s, &r, "direct", "job_latency_mean_s"));
    assert!(
        w.ci_low <= wq + 1.0 && wq + 1.0 <= w.ci_high,
        "W outside CI: {w:?}"
    );
}

/// The same queue formed at the provider instead: a concurrency limit with
/// `on_full = "queue"` (a local model server) and no client-side cap.
#[test]
fn provider_queue_reproduces_mm3_sojourn_time() {
    let s = build(&[
        &poisson(2.4)
            .replications(40)
            .set("jobs", 20000)
            .tokens(100, 100),
        &provider("local")
            .limit(r#"{ kind = "concurrency", limit = 3, on_full = "queue" }"#)
            .set("latency", EXPONENTIAL_1S),
        &policy("local", &single("local")),
    ]);
    let r = results(&s);
    let w = erlang_c_wait(3, 2.4, 1.0) + 1.0;
    let e = estimate(&values(&s, &r, "local", "job_latency_mean_s"));
    assert!(
        e.half_width() < 0.02 * w,
        "interval too wide to test: {e:?}"
    );
    assert!(
        e.ci_low <= w && w <= e.ci_high,
        "M/M/3 W = {w:.4} outside the simulated 95% CI [{:.4}, {:.4}]",
        e.ci_low,
        e.ci_high
    );
    // Nothing waits client-side: the request is sent on arrival.
    assert!(values(&s, &r, "local", "queue_wait_mean_s")
        .iter()
        .all(|&q| q == 0.0));
}
