//! The recommendation: which policy to use, and why, in numbers.
//!
//! A [`Decision`] (the scenario's `[decision]`, which `run --minimize/--maximize/--require`
//! override) is an objective and requirements on the means.
//!
//! The policies that meet every requirement are ordered by failures first (the failure
//! tiers of [`crate::stats::compare`]: a policy that fails more jobs, by its paired
//! interval, never comes before one that fails fewer) and then by the objective's mean;
//! the first is recommended and the second is the runner-up. The lead is the paired
//! difference of the objective between the two (same replications), with its 95%
//! interval: the recommendation is *ahead* when the interval lies wholly on its side of 0,
//! else *tied*. When no policy meets the requirements, the closest is named: the one
//! whose means miss them by the least, each shortfall measured relative to the larger of
//! the required value and 1, summed over the requirements (ties by the same order).

pub use crate::scenario::{Decision, Direction, Op, Requirement, REQUIREMENT_HELP};

use crate::metrics::Results;
use crate::stats::compare::{paired_difference, Comparison};
use crate::stats::{estimate, Estimate};

/// The recommendation of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// What was optimised.
    pub decision: Decision,
    /// Policies meeting every requirement, best first.
    pub meets: Vec<usize>,
    /// The recommended policy: the first of `meets`.
    pub recommended: Option<usize>,
    /// The second of `meets`.
    pub runner_up: Option<usize>,
    /// The objective's paired difference, recommended minus runner-up.
    pub lead: Option<Estimate>,
    /// When no policy meets the requirements: the one that misses them by the least.
    pub closest: Option<usize>,
    /// Whether the recommendation fails fewer jobs than the runner-up (it is in a better
    /// failure tier): then it is ahead whatever the objective says.
    pub fewer_failures: bool,
}

impl Verdict {
    /// The verdict of `decision` on `results`, whose comparison is `comparison` (for the
    /// failure tiers). Metrics the decision names that the run lacks meet nothing.
    pub fn new(decision: &Decision, results: &Results, comparison: &Comparison) -> Verdict {
        let n = results.policies.len();
        let column = |name: &str, p: usize| -> Vec<f64> {
            match results.catalog.index(name) {
                Some(m) => results.runs[p].iter().map(|r| r[m]).collect(),
                None => vec![f64::NAN; results.runs[p].len()],
            }
        };
        let mean = |name: &str, p: usize| estimate(&column(name, p)).mean;
        // Each policy's failure tier and objective ("lower is better", undefined last),
        // once: the orderings below compare them many times.
        let tiers: Vec<usize> = (0..n)
            .map(|p| {
                comparison
                    .metric("jobs_failed")
                    .and_then(|m| m.rank_of(p))
                    .unwrap_or(usize::MAX)
            })
            .collect();
        let scores: Vec<f64> = (0..n)
            .map(|p| {
                let x = mean(&decision.objective, p);
                match (x.is_finite(), decision.direction) {
                    (false, _) => f64::INFINITY,
                    (true, Direction::Minimize) => x,
                    (true, Direction::Maximize) => -x,
                }
            })
            .collect();
        let tier = |p: usize| tiers[p];
        let score = |p: usize| scores[p];
        let order = |ps: &mut Vec<usize>| {
            ps.sort_by(|&a, &b| {
                tier(a)
                    .cmp(&tier(b))
                    .then(score(a).total_cmp(&score(b)))
                    .then(a.cmp(&b))
            })
        };
        let mut meets: Vec<usize> = (0..n)
            .filter(|&p| decision.require.iter().all(|r| r.holds(mean(&r.metric, p))))
            .collect();
        order(&mut meets);
        let recommended = meets.first().copied();
        let runner_up = meets.get(1).copied();
        let lead = match (recommended, runner_up) {
            (Some(a), Some(b)) => Some(paired_difference(
                &column(&decision.objective, a),
                &column(&decision.objective, b),
            )),
            _ => None,
        };
        let closest = if recommended.is_some() || n == 0 {
            None
        } else {
            // Failures first here too, then the shortfall, then the objective.
            let missed: Vec<f64> = (0..n)
                .map(|p| {
                    decision
                        .require
                        .iter()
                        .map(|r| r.shortfall(mean(&r.metric, p)))
                        .sum()
                })
                .collect();
            (0..n).min_by(|&a, &b| {
                tier(a)
                    .cmp(&tier(b))
                    .then(missed[a].total_cmp(&missed[b]))
                    .then(score(a).total_cmp(&score(b)))
                    .then(a.cmp(&b))
            })
        };
        let fewer_failures = match (recommended, runner_up) {
            (Some(a), Some(b)) => tier(a) < tier(b),
            _ => false,
        };
        Verdict {
            decision: decision.clone(),
            meets,
            recommended,
            runner_up,
            lead,
            closest,
            fewer_failures,
        }
    }

    /// Whether the recommendation is ahead of the runner-up: it fails fewer jobs
    /// ([`Verdict::fewer_failures`]), or the objective's paired interval lies wholly on
    /// its side of 0; `None` without a runner-up.
    pub fn ahead(&self) -> Option<bool> {
        self.runner_up?;
        if self.fewer_failures {
            return Some(true);
        }
        let d = self.lead?;
        if d.n < 2 {
            return Some(false);
        }
        Some(match self.decision.direction {
            Direction::Minimize => d.ci_high < 0.0,
            Direction::Maximize => d.ci_low > 0.0,
        })
    }
}
