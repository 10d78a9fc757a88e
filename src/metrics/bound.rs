//! The capacity bound: an oracle reported beside the policies. For one replication's
//! jobs and the providers a policy can reach ([`crate::policy::PolicySpec::reachable`]),
//! no policy that completes every job can finish sooner than
//!
//! - the longest job's own chain: its arrival plus, for each of its requests in turn,
//!   the shortest service time any provider could give it; nor
//! - the time by which the providers can have completed every request: the smallest `T`
//!   at which the most requests the providers could have completed by `T`, summed over
//!   providers, reaches the number of requests. A provider completes by `T` no more
//!   than its limits admit by `T` minus its shortest service time (token limits admit
//!   the smallest requests first), and, with a concurrency cap of `c` slots, no more
//!   than the requests whose shortest service times, smallest first, fit in `c * T`.
//!
//! It ignores outages, online resets and rejected traffic, which only push a real run
//! later, so it is a true lower bound; `makespan_s / makespan_bound_s` says how close a
//! policy comes to it.

use crate::provider::limiter::Unit;
use crate::provider::{LatencySpec, ProviderSpec};
use crate::scenario::Scenario;
use crate::workload::{Jobs, RequestSize};

/// The shortest service time `p` can give a request of `output` tokens, in seconds.
fn min_service(p: &ProviderSpec, output: u64) -> f64 {
    match &p.latency {
        LatencySpec::Total(d) => d.min(),
        LatencySpec::Streaming { ttft, tokens_per_s } => {
            let fastest = tokens_per_s.max();
            ttft.min()
                + if fastest.is_finite() && fastest > 0.0 {
                    output as f64 / fastest
                } else {
                    0.0
                }
        }
    }
}

/// Sorted prefix sums of one unit's amounts: how many requests fit a budget.
struct Prefix(Vec<f64>);

impl Prefix {
    fn new(requests: &[RequestSize], unit: Unit) -> Self {
        let mut a: Vec<u64> = requests
            .iter()
            .map(|r| unit.amount(r.input, r.output))
            .collect();
        a.sort_unstable();
        let mut sum = 0.0;
        Prefix(
            a.iter()
                .map(|&x| {
                    sum += x as f64;
                    sum
                })
                .collect(),
        )
    }

    /// Requests (smallest first) whose amounts fit in `budget`.
    fn fit(&self, budget: f64) -> f64 {
        self.0.partition_point(|&s| s <= budget + 1e-9) as f64
    }
}

/// The capacity bound in seconds for `jobs` over every provider of `scenario`.
pub fn makespan_bound(scenario: &Scenario, jobs: &Jobs) -> f64 {
    let all: Vec<&ProviderSpec> = scenario.providers.iter().collect();
    makespan_bound_over(&all, jobs)
}

/// The capacity bound in seconds for `jobs` of policy `policy`: over the providers it
/// can reach.
pub fn policy_bound(scenario: &Scenario, policy: usize, jobs: &Jobs) -> f64 {
    let reach: Vec<&ProviderSpec> = scenario.policies[policy]
        .reachable()
        .into_iter()
        .map(|p| &scenario.providers[p])
        .collect();
    makespan_bound_over(&reach, jobs)
}

/// The capacity bound in seconds for `jobs` over `providers` (see the module
/// documentation).
pub fn makespan_bound_over(providers: &[&ProviderSpec], jobs: &Jobs) -> f64 {
    if jobs.is_empty() || providers.is_empty() {
        return 0.0;
    }
    let fastest = |r: &RequestSize| {
        providers
            .iter()
            .map(|p| min_service(p, r.output))
            .fold(f64::INFINITY, f64::min)
    };
    let mut chain = 0.0f64;
    for j in 0..jobs.len() {
        let own: f64 = jobs.requests_of(j).iter().map(fastest).sum();
        chain = chain.max(jobs.arrivals[j].as_secs_f64() + own);
    }
    let units = [
        Unit::Requests,
        Unit::Tokens,
        Unit::InputTokens,
        Unit::OutputTokens,
    ];
    // Only the token units some limit counts need their prefix sums.
    let prefixes: Vec<Option<Prefix>> = units
        .iter()
        .map(|&u| {
            let used = u != Unit::Requests
                && providers
                    .iter()
                    .any(|p| p.limits.iter().any(|l| l.unit == u));
            used.then(|| Prefix::new(&jobs.requests, u))
        })
        .collect();
    let total = jobs.requests.len() as f64;
    // Per provider: its shortest service time, and for a capped one the sorted prefix
    // sums of every request's shortest service time there.
    let service: Vec<(f64, Option<Vec<f64>>)> = providers
        .iter()
        .map(|p| {
            let times = jobs.requests.iter().map(|r| min_service(p, r.output));
            let Some(_) = p.concurrency else {
                // Without a cap only the shortest time matters: no sort.
                let shortest = times.min_by(f64::total_cmp).unwrap_or(0.0).max(0.0);
                return (shortest, None);
            };
            let mut times: Vec<f64> = times.collect();
            times.sort_unstable_by(f64::total_cmp);
            let shortest = times.first().copied().unwrap_or(0.0).max(0.0);
            let mut sum = 0.0;
            let prefix = times
                .iter()
                .map(|&x| {
                    sum += x;
                    sum
                })
                .collect();
            (shortest, Some(prefix))
        })
        .collect();
    // Most requests provider `p` can have completed by `t`.
    let capacity = |t: f64| -> f64 {
        providers
            .iter()
            .zip(&service)
            .map(|(p, (shortest, prefix))| {
                let admit_by = t - shortest;
                if admit_by < 0.0 {
                    return 0.0;
                }
                let mut cap = f64::INFINITY;
                for l in &p.limits {
                    let budget = l.kind.admissible(admit_by);
                    let u = units
                        .iter()
                        .position(|&u| u == l.unit)
                        .expect("every unit listed");
                    cap = cap.min(if l.unit == Unit::Requests {
                        budget.floor()
                    } else {
                        prefixes[u]
                            .as_ref()
                            .expect("a unit some limit counts has its prefix")
                            .fit(budget)
                    });
                }
                if let (Some(c), Some(prefix)) = (p.concurrency, prefix) {
                    let slot_time = c.limit as f64 * t;
                    cap = cap.min(prefix.partition_point(|&x| x <= slot_time + 1e-9) as f64);
                }
                cap
            })
            .sum()
    };
    let completed_by = if capacity(0.0) >= total {
        0.0
    } else {
        let mut hi = 1.0;
        while capacity(hi) < total {
            hi *= 2.0;
            if hi > 1e10 {
                return chain.max(hi);
            }
        }
        let mut lo = 0.0;
        while hi - lo > 1e-4 {
            let mid = (lo + hi) / 2.0;
            if capacity(mid) >= total {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        lo
    };
    chain.max(completed_by)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse_str;
    use std::path::Path;

    fn scenario(text: &str) -> Scenario {
        parse_str(text, Path::new("t.toml"), Path::new("."), "t").unwrap()
    }

    #[test]
    fn eight_per_sliding_minute_bounds_twenty_requests_at_120s_plus_service() {
        let s = scenario(
            r#"
            [workload]
            kind = "batch"
            jobs = 20
            concurrency = 20
            input_tokens = 10
            output_tokens = 10
            [providers.claude]
            limits = [{ kind = "sliding_window", window = "60s", limit = 8, unit = "requests" }]
            latency = { total = "2s" }
            [[policies]]
            name = "p"
            route = { kind = "single", provider = "claude" }
            "#,
        );
        let jobs = s.workload.generate(s.seed, 0);
        let b = makespan_bound(&s, &jobs);
        // 8 at 0, 8 at 60, 4 at 120: the last admission is at 120 s, then 2 s of service.
        assert!((b - 122.0).abs() < 1e-3, "bound {b}");
    }

    #[test]
    fn token_limits_admit_the_smallest_requests_first() {
        let s = scenario(
            r#"
            [workload]
            kind = "batch"
            jobs = 10
            concurrency = 10
            input_tokens = 1000
            output_tokens = 0
            [providers.api]
            limits = [{ kind = "token_bucket", capacity = 3000, refill_per_s = 1000, unit = "tokens" }]
            latency = { total = "1s" }
            [[policies]]
            name = "p"
            route = { kind = "single", provider = "api" }
            "#,
        );
        let jobs = s.workload.generate(s.seed, 0);
        // 3 at once, then one per second: the 10th at 7 s.
        let b = makespan_bound(&s, &jobs);
        assert!((b - 8.0).abs() < 1e-3, "bound {b}");
    }
}
