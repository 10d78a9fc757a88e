//! What `ratesim validate` says about a valid scenario besides "ok": the workload's size,
//! notes (trace columns that are ignored) and warnings about what will surely go wrong
//! or is surely unintended (an empty trace, requests no provider of a policy's route can
//! ever admit, providers no policy reaches). Nothing here rejects a scenario.

use std::fmt::Write as _;

use super::Scenario;
use crate::dist::Random;
use crate::provider::limiter::{Limiter, Verdict};
use crate::provider::ProviderSpec;
use crate::time::SimTime;
use crate::workload::{Arrivals, Jobs, RequestSize, MAX_TOKENS};

/// The most requests `validate` draws to count replication 0's tokens and to look for
/// requests no limit can admit; a larger generated workload reports expected values only.
pub const MAX_DRAWN_REQUESTS: u64 = 1_000_000;

/// What `validate` prints about a scenario.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inspection {
    /// One line on the workload's size (standard output).
    pub size: String,
    /// Facts worth knowing (standard error, `note:`).
    pub notes: Vec<String>,
    /// Likely mistakes (standard error, `warning:`); the scenario is still valid.
    pub warnings: Vec<String>,
}

/// Looks at a checked scenario; draws replication 0's jobs when the workload is
/// generated and has at most [`MAX_DRAWN_REQUESTS`] requests expected.
pub fn inspect(s: &Scenario) -> Inspection {
    let mut out = Inspection::default();
    let w = &s.workload;
    let per_job = w.requests_per_job as u64;
    let tokens = |jobs: &Jobs| {
        let input: u64 = jobs.requests.iter().map(|r| r.input).sum();
        let output: u64 = jobs.requests.iter().map(|r| r.output).sum();
        format!(
            "{} input and {} output tokens",
            thousands(input),
            thousands(output)
        )
    };
    let expected_tokens = || {
        format!(
            "tokens per request {} input and {} output expected (the distributions' means)",
            short(w.input_tokens.mean()),
            short(w.output_tokens.mean())
        )
    };
    let (jobs, size) = match &w.arrivals {
        Arrivals::Trace {
            jobs: rows,
            path,
            ignored,
            ..
        } => {
            if !ignored.is_empty() {
                let list: Vec<String> = ignored.iter().map(|c| format!("`{c}`")).collect();
                out.notes.push(format!(
                    "trace `{}`: column{} {} ignored",
                    path.display(),
                    if list.len() == 1 { "" } else { "s" },
                    list.join(", ")
                ));
            }
            if rows.is_empty() {
                out.warnings.push(format!(
                    "trace `{}` has no rows: the workload has no jobs, so every metric is empty",
                    path.display()
                ));
            }
            let requests = Requests::Trace(rows);
            let (mut n, mut input, mut output) = (0u64, 0u64, 0u64);
            requests.each(|_, r| {
                n += 1;
                input += r.input;
                output += r.output;
            });
            let size = format!(
                "workload: {} jobs, {} requests, {} input and {} output tokens (trace)",
                thousands(rows.len() as u64),
                thousands(n),
                thousands(input),
                thousands(output)
            );
            (Some(requests), size)
        }
        Arrivals::Batch { jobs: n } | Arrivals::Poisson { jobs: Some(n), .. } => {
            let n = *n as u64;
            let (at_most, kind) = match w.arrivals {
                Arrivals::Batch { .. } => ("", "batch"),
                Arrivals::Poisson { duration: None, .. } => ("", "Poisson arrivals"),
                _ => ("at most ", "Poisson arrivals until `jobs` or `duration`"),
            };
            let mut size = format!(
                "workload: {at_most}{} jobs ({kind}), {at_most}{} requests ({per_job} per job); {}",
                thousands(n),
                thousands(n * per_job),
                expected_tokens()
            );
            let drawn = draw(s, n as f64 * per_job as f64, &mut size);
            if let Some(jobs) = &drawn {
                let _ = write!(size, "; replication 0 draws {}", tokens(jobs));
            }
            (drawn.map(Requests::Drawn).or_else(|| constant(w)), size)
        }
        Arrivals::Poisson {
            rate_per_s,
            duration,
            ..
        } => {
            let expected = rate_per_s * duration.map_or(0.0, |d| d.as_secs_f64());
            let mut size = format!(
                "workload: about {} jobs and {} requests expected (Poisson, rate_per_s × duration, \
                 {per_job} per job); {}",
                short(expected.round()),
                short((expected * per_job as f64).round()),
                expected_tokens()
            );
            let drawn = draw(s, expected * per_job as f64, &mut size);
            if let Some(jobs) = &drawn {
                let _ = write!(
                    size,
                    "; replication 0 draws {} jobs, {} requests, {}",
                    thousands(jobs.len() as u64),
                    thousands(jobs.requests.len() as u64),
                    tokens(jobs)
                );
            }
            (drawn.map(Requests::Drawn).or_else(|| constant(w)), size)
        }
    };
    out.size = size;
    if let Some(requests) = &jobs {
        unadmittable(s, requests, &mut out.warnings);
    }
    unreached(s, &mut out.warnings);
    out
}

/// The requests `validate` looks at: a trace's rows, or replication 0's draw.
enum Requests<'a> {
    Trace(&'a Jobs),
    Drawn(Jobs),
    /// Every request of a workload too large to draw, all of one constant size.
    Constant(RequestSize),
}

impl Requests<'_> {
    /// Calls `f` with each request and the index of its job.
    fn each(&self, mut f: impl FnMut(usize, &RequestSize)) {
        match self {
            Requests::Trace(jobs) => {
                for j in 0..jobs.len() {
                    jobs.requests_of(j).iter().for_each(|r| f(j, r));
                }
            }
            Requests::Drawn(jobs) => {
                for j in 0..jobs.len() {
                    jobs.requests_of(j).iter().for_each(|r| f(j, r));
                }
            }
            Requests::Constant(r) => f(0, r),
        }
    }
}

/// The one size of every request, when both token counts are constants.
fn constant(w: &crate::workload::WorkloadSpec) -> Option<Requests<'static>> {
    match (&w.input_tokens, &w.output_tokens) {
        (Random::Constant(i), Random::Constant(o)) => Some(Requests::Constant(RequestSize {
            input: crate::time::round_u64(*i).min(MAX_TOKENS),
            output: crate::time::round_u64(*o).min(MAX_TOKENS),
        })),
        _ => None,
    }
}

/// Replication 0's jobs, when about `requests` are few enough to draw; else says why not.
fn draw(s: &Scenario, requests: f64, size: &mut String) -> Option<Jobs> {
    if requests > MAX_DRAWN_REQUESTS as f64 {
        let _ = write!(
            size,
            " (replication 0 not drawn: more than {MAX_DRAWN_REQUESTS} requests)"
        );
        return None;
    }
    Some(s.workload.generate(s.seed, 0).into_owned())
}

/// The largest amount each rate limit of `p` can ever admit (`u64::MAX`: any request
/// of at most [`MAX_TOKENS`] each way), found from the limiter itself.
fn most_admitted(p: &ProviderSpec) -> Vec<u64> {
    let top = 2 * MAX_TOKENS + 1;
    p.limits
        .iter()
        .map(|l| {
            let never = |n: u64| l.build().check(SimTime::ZERO, n) == Verdict::Never;
            if !never(top) {
                return u64::MAX;
            }
            // never(lo) is false, never(hi) is true.
            let (mut lo, mut hi) = (0u64, top);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if never(mid) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            lo
        })
        .collect()
}

/// Warns, per policy, about the requests that no provider of its route can ever admit:
/// each such request's job fails (`jobs_failed_unadmittable`).
fn unadmittable(s: &Scenario, requests: &Requests, warnings: &mut Vec<String>) {
    let most: Vec<Vec<u64>> = s.providers.iter().map(most_admitted).collect();
    // The first limit of provider `p` that can never admit request `r`, if any.
    let refused = |p: usize, r: &RequestSize| {
        s.providers[p]
            .limits
            .iter()
            .zip(&most[p])
            .position(|(l, &m)| l.unit.amount(r.input, r.output) > m)
    };
    let routes: Vec<Vec<usize>> = s.policies.iter().map(|p| p.route.providers()).collect();
    // Per policy: how many requests are refused everywhere, and the first of them.
    let mut found: Vec<(u64, Option<(usize, RequestSize)>)> = vec![(0, None); routes.len()];
    let mut total = 0u64;
    let mut never = vec![false; s.providers.len()];
    requests.each(|j, r| {
        total += 1;
        for (p, n) in never.iter_mut().enumerate() {
            *n = refused(p, r).is_some();
        }
        for (route, f) in routes.iter().zip(&mut found) {
            if route.iter().all(|&p| never[p]) {
                f.0 += 1;
                f.1.get_or_insert((j, *r));
            }
        }
    });
    let source = match requests {
        Requests::Trace(_) => "of the trace",
        Requests::Drawn(_) | Requests::Constant(_) => "drawn for replication 0",
    };
    for ((policy, route), (count, example)) in s.policies.iter().zip(&routes).zip(found) {
        let Some((j, r)) = example else { continue };
        let p = route[0];
        let l = refused(p, &r).expect("refused by every provider of the route");
        if let Requests::Constant(_) = requests {
            warnings.push(format!(
                "policy `{}`: no request can ever be admitted by any provider of its route, \
                 so every job fails (jobs_failed_unadmittable): each has {} input and {} \
                 output tokens, more than `{}`'s limit `{}` can ever hold",
                policy.name,
                r.input,
                r.output,
                s.providers[p].name,
                s.providers[p].limits[l].label()
            ));
            continue;
        }
        warnings.push(format!(
            "policy `{}`: {} of the {} requests {source} can never be admitted by any \
             provider of its route, so their jobs fail (jobs_failed_unadmittable); e.g. job \
             {j}'s request (jobs counted from 0 in arrival order) of {} input and {} output tokens is more than `{}`'s limit `{}` \
             can ever hold",
            policy.name,
            thousands(count),
            thousands(total),
            r.input,
            r.output,
            s.providers[p].name,
            s.providers[p].limits[l].label()
        ));
    }
}

/// Warns about providers that no policy can send to.
fn unreached(s: &Scenario, warnings: &mut Vec<String>) {
    let mut reached = vec![false; s.providers.len()];
    for p in &s.policies {
        for i in p.reachable() {
            reached[i] = true;
        }
    }
    for (p, _) in s.providers.iter().zip(&reached).filter(|(_, r)| !**r) {
        warnings.push(format!(
            "provider `{}` is reached by no policy (no route, quality gate or hedge names it)",
            p.name
        ));
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A mean for a message: at most one decimal.
fn short(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r.fract() == 0.0 && r.abs() < 1e15 {
        thousands(r as u64)
    } else {
        format!("{r}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(short(1567.84), "1567.8");
        assert_eq!(short(250.0), "250");
    }
}
