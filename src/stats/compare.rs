//! Comparison that means something: paired differences between policies with 95%
//! intervals, a ranking per key metric that says when policies are statistically
//! indistinguishable, and the Pareto front over (rejection probability, makespan, cost).
//!
//! # Paired differences
//!
//! Replication `r` of every policy runs on the same jobs and random numbers (common
//! random numbers), so two policies' values in one replication are correlated. For an
//! ordered pair of policies (a, b) and a metric, the difference `a - b` is taken per
//! replication, skipping replications where either value is undefined (NaN), and its mean
//! gets a Student-t 95% interval over those differences
//! ([`estimate`]). When replications are positively
//! correlated (a hard workload is hard for every policy) this interval is much narrower
//! than one built from the two policies' separate intervals.
//!
//! # Ranking rule
//!
//! Failures come first. `jobs_failed` is ranked by the rule below on its own (except
//! that where fewer than 2 replications define a difference, different means are
//! different ranks: one run's failures are what happened); its ranks are the *failure
//! tiers*. Every other key metric ranks the policies of the first tier
//! (those that fail the fewest jobs, or are indistinguishable from it) before any of the
//! second, and so on: a policy that fails more jobs, by its paired interval, never ranks
//! above one that fails fewer, however fast or cheap giving up made it. Within a tier, for
//! each key metric ([`KEY_METRICS`]; lower is better for all of them):
//!
//! 1. policies with a defined mean are sorted by mean, ties by scenario order; policies
//!    whose mean is undefined are left unranked;
//! 2. the first policy opens rank 1 and leads it; each next policy joins the current rank
//!    when it is *indistinguishable* from the rank's leader, and otherwise opens the next
//!    rank (numbered 2, 3, ... with no gaps) and leads it;
//! 3. two policies are indistinguishable when the paired 95% interval of their difference
//!    contains 0, or when fewer than 2 replications define both (no interval exists).
//!
//! Reports join the members of a rank with `=`. Only the leader is compared: two
//! non-leading members of one rank may differ significantly from each other, and a leader
//! may be indistinguishable from a member of the rank before. The ranks are a reading aid
//! for the paired intervals, not a multiple-comparison test (no correction is applied).
//!
//! # Pareto front
//!
//! A policy is on the front over the means of [`PARETO_METRICS`] (all minimised) when no
//! other policy is lower or equal on all three and lower on at least one. A policy with an
//! undefined mean on any of them is neither on the front nor dominates another. Only the
//! policies that fail the fewest jobs (lowest mean `jobs_failed`) take part: a policy
//! that gives up on jobs would otherwise look fast and cheap.

use crate::metrics::Results;
use crate::stats::{estimate, Estimate};

/// The metrics that are ranked, all "lower is better".
pub const KEY_METRICS: [&str; 4] = [
    "rejection_probability",
    "makespan_s",
    "monthly_bill_usd",
    "jobs_failed",
];

/// The metrics of the Pareto front, all minimised.
pub const PARETO_METRICS: [&str; 3] = ["rejection_probability", "makespan_s", "monthly_bill_usd"];

/// The comparison of one metric across policies.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricComparison {
    /// Metric name.
    pub metric: String,
    /// `differences[a][b]`: the paired difference policy `a` minus policy `b` (policy
    /// numbers in scenario order), mean and 95% interval over the replications that define
    /// both.
    pub differences: Vec<Vec<Estimate>>,
    /// Ranks, best first; each holds policy numbers, its leader first, by increasing mean.
    pub ranking: Vec<Vec<usize>>,
    /// Policies whose mean is undefined, in scenario order.
    pub unranked: Vec<usize>,
}

impl MetricComparison {
    /// Compares one metric; `values[p]` holds policy `p`'s value in each replication.
    pub fn new(metric: &str, values: &[Vec<f64>]) -> Self {
        Self::within(metric, values, None)
    }

    /// Compares one metric within failure tiers (each a list of policy numbers, best
    /// first; every policy in one of them): the ranks of one tier come before the next
    /// tier's. `None` ranks all policies together.
    pub fn within(metric: &str, values: &[Vec<f64>], tiers: Option<&[Vec<usize>]>) -> Self {
        Self::build(metric, values, tiers, true)
    }

    /// The failure tiers' comparison of `jobs_failed`: as [`MetricComparison::new`],
    /// except that two policies whose difference fewer than 2 replications define are
    /// apart when their means differ (a single run's failures are what happened, not
    /// noise: with one replication, a policy that gave up on 292 jobs is not tied with
    /// one that completed them all).
    pub fn failures(values: &[Vec<f64>]) -> Self {
        Self::build("jobs_failed", values, None, false)
    }

    fn build(
        metric: &str,
        values: &[Vec<f64>],
        tiers: Option<&[Vec<usize>]>,
        few_tie: bool,
    ) -> Self {
        let n = values.len();
        let mut differences = vec![Vec::with_capacity(n); n];
        for a in 0..n {
            for b in 0..n {
                let d = if b < a {
                    // Negating every difference negates the mean and the interval exactly
                    // (`+ 0.0` turns -0 into 0).
                    let e: Estimate = differences[b][a];
                    Estimate {
                        mean: -e.mean + 0.0,
                        ci_low: -e.ci_high + 0.0,
                        ci_high: -e.ci_low + 0.0,
                        n: e.n,
                    }
                } else {
                    paired_difference(&values[a], &values[b])
                };
                differences[a].push(d);
            }
        }
        let means: Vec<f64> = values.iter().map(|v| estimate(v).mean).collect();
        let all = [(0..n).collect::<Vec<usize>>()];
        let mut ranking = Vec::new();
        let mut unranked = Vec::new();
        for tier in tiers.unwrap_or(&all) {
            let (r, u) = rank_among(tier, &means, &differences, few_tie);
            ranking.extend(r);
            unranked.extend(u);
        }
        unranked.sort_unstable();
        MetricComparison {
            metric: metric.to_string(),
            differences,
            ranking,
            unranked,
        }
    }

    /// The rank (1 = best) of policy `p`, if it is ranked.
    pub fn rank_of(&self, p: usize) -> Option<usize> {
        self.ranking
            .iter()
            .position(|group| group.contains(&p))
            .map(|i| i + 1)
    }

    /// The policy with the lowest mean, if any is defined.
    pub fn best(&self) -> Option<usize> {
        self.ranking.first().map(|g| g[0])
    }
}

/// Paired differences, ranks and the Pareto front of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Policy names, in scenario order (the policy numbers used below).
    pub policies: Vec<String>,
    /// One comparison per key metric present, in the order of [`KEY_METRICS`].
    pub metrics: Vec<MetricComparison>,
    /// The metrics of the Pareto front ([`PARETO_METRICS`]; empty when one is missing).
    pub pareto_metrics: Vec<String>,
    /// Policy numbers on the Pareto front, in scenario order.
    pub pareto_front: Vec<usize>,
}

impl Comparison {
    /// The comparison of a run's key metrics.
    pub fn of(results: &Results) -> Self {
        Self::new(&results.policies, results.catalog.names(), &results.runs)
    }

    /// The comparison of the key metrics among `metrics`, from
    /// `runs[policy][replication][metric]` (metric positions as in `metrics`).
    pub fn new(policies: &[String], metrics: &[String], runs: &[Vec<Vec<f64>>]) -> Self {
        let column = |m: usize| -> Vec<Vec<f64>> {
            runs.iter()
                .map(|reps| reps.iter().map(|r| r[m]).collect())
                .collect()
        };
        let index = |name: &str| metrics.iter().position(|m| m == name);
        // The failure tiers: the ranks of `jobs_failed` (the unranked, with no defined
        // value, last).
        let failures = index("jobs_failed").map(|m| MetricComparison::failures(&column(m)));
        let tiers: Option<Vec<Vec<usize>>> = failures.as_ref().map(|f| {
            let mut t = f.ranking.clone();
            if !f.unranked.is_empty() {
                t.push(f.unranked.clone());
            }
            t
        });
        let compared = KEY_METRICS
            .iter()
            .filter_map(|&name| {
                index(name).map(|m| match (name, &failures) {
                    ("jobs_failed", Some(f)) => f.clone(),
                    _ => MetricComparison::within(name, &column(m), tiers.as_deref()),
                })
            })
            .collect();
        let pareto_cols: Option<Vec<usize>> = PARETO_METRICS.iter().map(|&n| index(n)).collect();
        let mean_of =
            |p: usize, m: usize| estimate(&runs[p].iter().map(|r| r[m]).collect::<Vec<_>>()).mean;
        let failed: Vec<f64> = match index("jobs_failed") {
            Some(m) => (0..runs.len()).map(|p| mean_of(p, m)).collect(),
            None => vec![0.0; runs.len()],
        };
        let fewest = failed
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .fold(f64::INFINITY, f64::min);
        let (pareto_metrics, pareto_front) = match pareto_cols {
            Some(cols) => {
                let points: Vec<Vec<f64>> = (0..runs.len())
                    .map(|p| {
                        if failed[p] > fewest + 1e-9 {
                            // Gives up on more jobs than another policy: not eligible.
                            return vec![f64::NAN; cols.len()];
                        }
                        cols.iter().map(|&m| mean_of(p, m)).collect()
                    })
                    .collect();
                (
                    PARETO_METRICS.iter().map(|m| m.to_string()).collect(),
                    pareto_front(&points),
                )
            }
            None => (Vec::new(), Vec::new()),
        };
        Comparison {
            policies: policies.to_vec(),
            metrics: compared,
            pareto_metrics,
            pareto_front,
        }
    }

    /// The comparison of one metric.
    pub fn metric(&self, name: &str) -> Option<&MetricComparison> {
        self.metrics.iter().find(|m| m.metric == name)
    }

    /// Whether policy `p` is on the Pareto front.
    pub fn on_front(&self, p: usize) -> bool {
        self.pareto_front.contains(&p)
    }
}

/// The paired difference `a - b` over the replications where both are defined: its mean
/// and Student-t 95% interval.
pub fn paired_difference(a: &[f64], b: &[f64]) -> Estimate {
    let d: Vec<f64> = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(x, y)| x - y)
        .collect();
    estimate(&d)
}

/// Whether a paired difference does not tell its two policies apart: its interval
/// contains 0, or it rests on fewer than 2 replications.
pub fn indistinguishable(d: &Estimate) -> bool {
    d.n < 2 || !(d.ci_low > 0.0 || d.ci_high < 0.0)
}

/// Ranks (see the module documentation) from each policy's mean and the paired
/// differences `differences[a][b]` (a - b); returns the ranks, best first, and the
/// policies with an undefined mean.
pub fn rank(means: &[f64], differences: &[Vec<Estimate>]) -> (Vec<Vec<usize>>, Vec<usize>) {
    rank_among(
        &(0..means.len()).collect::<Vec<_>>(),
        means,
        differences,
        true,
    )
}

/// [`rank`] of the policies `among` alone.
/// `few_tie`: whether a difference fewer than 2 replications define ties (else the means
/// decide).
fn rank_among(
    among: &[usize],
    means: &[f64],
    differences: &[Vec<Estimate>],
    few_tie: bool,
) -> (Vec<Vec<usize>>, Vec<usize>) {
    let (mut order, unranked): (Vec<usize>, Vec<usize>) =
        among.iter().partition(|&&p| means[p].is_finite());
    order.sort_by(|&a, &b| means[a].total_cmp(&means[b]).then(a.cmp(&b)));
    let mut ranking: Vec<Vec<usize>> = Vec::new();
    for p in order {
        match ranking.last_mut() {
            Some(group)
                if match &differences[p][group[0]] {
                    d if d.n < 2 && !few_tie => means[p] == means[group[0]],
                    d => indistinguishable(d),
                } =>
            {
                group.push(p)
            }
            _ => ranking.push(vec![p]),
        }
    }
    (ranking, unranked)
}

/// Indices of the points not dominated when every coordinate is minimised, in input
/// order. A point with a non-finite coordinate is never on the front and dominates none.
pub fn pareto_front(points: &[Vec<f64>]) -> Vec<usize> {
    let finite = |p: &[f64]| p.iter().all(|x| x.is_finite());
    let dominates = |q: &[f64], p: &[f64]| {
        q.iter().zip(p).all(|(a, b)| a <= b) && q.iter().zip(p).any(|(a, b)| a < b)
    };
    (0..points.len())
        .filter(|&i| {
            finite(&points[i]) && !points.iter().any(|q| finite(q) && dominates(q, &points[i]))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::t975;

    /// Replications where a "hard" draw slows every policy alike.
    fn correlated() -> (Vec<f64>, Vec<f64>) {
        let hard = [10.0, 30.0, 20.0, 50.0, 15.0, 40.0, 25.0, 35.0];
        let noise = [0.3, -0.2, 0.1, -0.4, 0.2, 0.0, -0.1, 0.4];
        let a: Vec<f64> = hard.iter().zip(noise).map(|(h, e)| h + 2.0 + e).collect();
        let b: Vec<f64> = hard.iter().zip(noise).map(|(h, e)| h - e * 0.5).collect();
        (a, b)
    }

    #[test]
    fn paired_interval_is_narrower_than_the_unpaired_one() {
        let (a, b) = correlated();
        let d = paired_difference(&a, &b);
        let (ea, eb) = (estimate(&a), estimate(&b));
        assert!((d.mean - (ea.mean - eb.mean)).abs() < 1e-12);
        // Welch-style unpaired interval for the difference of the means.
        let var = |xs: &[f64], m: f64| {
            xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() - 1) as f64
        };
        let n = a.len() as f64;
        let unpaired =
            t975(2 * a.len() as u64 - 2) * (var(&a, ea.mean) / n + var(&b, eb.mean) / n).sqrt();
        assert!(
            d.half_width() * 10.0 < unpaired,
            "paired {} vs unpaired {unpaired}",
            d.half_width()
        );
        // The unpaired interval contains 0, the paired one does not.
        assert!(ea.mean - eb.mean - unpaired < 0.0);
        assert!(!indistinguishable(&d));
        assert!(d.ci_low > 1.0 && d.ci_high < 3.0);
    }

    #[test]
    fn paired_difference_skips_replications_undefined_in_either() {
        let a = [1.0, f64::NAN, 5.0, 7.0];
        let b = [0.0, 2.0, f64::NAN, 4.0];
        let d = paired_difference(&a, &b);
        assert_eq!(d.n, 2);
        assert_eq!(d.mean, 2.0);
    }

    #[test]
    fn differences_are_antisymmetric() {
        let (a, b) = correlated();
        let c: Vec<f64> = a.iter().map(|x| x * 1.5).collect();
        let m = MetricComparison::new("makespan_s", &[a, b, c]);
        for i in 0..3 {
            assert_eq!(m.differences[i][i].mean, 0.0);
            for j in 0..3 {
                let (x, y) = (m.differences[i][j], m.differences[j][i]);
                assert_eq!(
                    (x.mean, x.ci_low, x.ci_high),
                    (-y.mean, -y.ci_high, -y.ci_low)
                );
            }
        }
    }

    fn est(mean: f64, hw: f64) -> Estimate {
        Estimate {
            mean,
            ci_low: mean - hw,
            ci_high: mean + hw,
            n: 10,
        }
    }

    /// Differences built from means, with the given half-widths (symmetric).
    fn matrix(means: &[f64], hw: &[&[f64]]) -> Vec<Vec<Estimate>> {
        (0..means.len())
            .map(|a| {
                (0..means.len())
                    .map(|b| {
                        let h = if a < b {
                            hw[a][b - a - 1]
                        } else if a > b {
                            hw[b][a - b - 1]
                        } else {
                            0.0
                        };
                        est(means[a] - means[b], h)
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn ranks_group_policies_indistinguishable_from_the_leader() {
        // Means 3, 1, 1.5, 2.2, NaN, 1.2: sorted 1 (p1), 1.2 (p5), 1.5 (p2), 2.2 (p3), 3 (p0).
        let means = [3.0, 1.0, 1.5, 2.2, f64::NAN, 1.2];
        // Half-widths for pairs (a, b), a < b, row a listing b = a+1.. .
        let hw: [&[f64]; 6] = [
            &[1.0, 1.0, 1.0, 1.0, 1.0], // p0 vs p1..p5: p0 - p3 = 0.8 < 1 -> p0 joins p3
            &[0.4, 1.0, 1.0, 0.3],      // p1-p2 = -0.5 (hw .4: differ), p1-p5 = -0.2 (hw .3: same)
            &[0.5, 1.0, 1.0],           // p2-p3 = -0.7 (hw .5: differ), p2-p5 = 0.3 (hw 1: same)
            &[1.0, 1.0],
            &[1.0],
            &[],
        ];
        let d = matrix(&means, &hw);
        let (ranking, unranked) = rank(&means, &d);
        assert_eq!(ranking, vec![vec![1, 5], vec![2], vec![3, 0]]);
        assert_eq!(unranked, vec![4]);
        // p2 is indistinguishable from p5 (a non-leader of rank 1) yet ranks 2: only the
        // leader counts.
        assert!(indistinguishable(&d[2][5]) && !indistinguishable(&d[2][1]));
    }

    #[test]
    fn ties_and_missing_intervals_share_a_rank() {
        // Equal means, zero-width interval at 0: indistinguishable; ties keep scenario order.
        let zero = Estimate {
            mean: 0.0,
            ci_low: 0.0,
            ci_high: 0.0,
            n: 5,
        };
        let d = vec![vec![zero; 2]; 2];
        assert_eq!(rank(&[4.0, 4.0], &d).0, vec![vec![0, 1]]);
        // A constant nonzero difference over 5 replications is a real difference.
        let mut d = d.clone();
        d[1][0] = Estimate {
            mean: 1.0,
            ci_low: 1.0,
            ci_high: 1.0,
            n: 5,
        };
        assert_eq!(rank(&[4.0, 5.0], &d).0, vec![vec![0], vec![1]]);
        // One replication gives no interval: no evidence of a difference.
        d[1][0].n = 1;
        assert_eq!(rank(&[4.0, 5.0], &d).0, vec![vec![0, 1]]);
    }

    #[test]
    fn pareto_front_in_three_dimensions() {
        let pts = vec![
            vec![0.5, 100.0, 10.0],   // 0: front (best rejection)
            vec![0.6, 50.0, 20.0],    // 1: front (best makespan)
            vec![0.7, 120.0, 5.0],    // 2: front (best bill)
            vec![0.6, 100.0, 10.0],   // 3: dominated by 0 (equal on two, worse on one)
            vec![0.6, 60.0, 8.0],     // 4: front (only its bill keeps it there)
            vec![0.6, 50.0, 20.0],    // 5: equal to 1: neither dominates, both on the front
            vec![f64::NAN, 1.0, 1.0], // 6: undefined: off the front, dominates nobody
            vec![0.8, 130.0, 30.0],   // 7: dominated by everyone
        ];
        assert_eq!(pareto_front(&pts), vec![0, 1, 2, 4, 5]);
        // Without the bill, 1 dominates 4.
        let two_d: Vec<Vec<f64>> = pts.iter().map(|p| p[..2].to_vec()).collect();
        assert!(!pareto_front(&two_d).contains(&4));
    }

    #[test]
    fn comparison_of_runs_picks_key_metrics_and_the_front() {
        let metrics: Vec<String> = [
            "attempts",
            "rejection_probability",
            "makespan_s",
            "monthly_bill_usd",
            "jobs_failed",
        ]
        .iter()
        .map(|m| m.to_string())
        .collect();
        let policies: Vec<String> = ["slow", "fast", "dominated"]
            .iter()
            .map(|p| p.to_string())
            .collect();
        // runs[policy][replication][metric]
        let rep = |r: f64, rej: f64, mk: f64, bill: f64| vec![1.0, rej, mk * r, bill, 0.0];
        let runs: Vec<Vec<Vec<f64>>> = vec![
            (1..=6).map(|r| rep(r as f64, 0.1, 100.0, 50.0)).collect(),
            (1..=6).map(|r| rep(r as f64, 0.3, 60.0, 50.0)).collect(),
            (1..=6).map(|r| rep(r as f64, 0.3, 70.0, 60.0)).collect(),
        ];
        let c = Comparison::new(&policies, &metrics, &runs);
        let names: Vec<&str> = c.metrics.iter().map(|m| m.metric.as_str()).collect();
        assert_eq!(names, KEY_METRICS);
        assert_eq!(c.pareto_front, vec![0, 1]);
        assert!(!c.on_front(2));
        let mk = c.metric("makespan_s").unwrap();
        assert_eq!(mk.ranking, vec![vec![1], vec![2], vec![0]]);
        assert_eq!(mk.best(), Some(1));
        assert_eq!(mk.rank_of(0), Some(3));
        let bill = c.metric("monthly_bill_usd").unwrap();
        assert_eq!(bill.ranking, vec![vec![0, 1], vec![2]]);
        let failed = c.metric("jobs_failed").unwrap();
        assert_eq!(failed.ranking, vec![vec![0, 1, 2]]);
    }

    #[test]
    fn a_policy_that_fails_more_jobs_never_ranks_above_one_that_fails_fewer() {
        let metrics: Vec<String> = ["jobs_failed", "makespan_s", "rejection_probability"]
            .iter()
            .map(|m| m.to_string())
            .collect();
        let policies: Vec<String> = ["gives-up", "completes", "mostly"]
            .iter()
            .map(|p| p.to_string())
            .collect();
        // Giving up is fast and sees few rejections; "mostly" fails a job in one run of
        // six, which its paired interval cannot tell from none.
        let runs: Vec<Vec<Vec<f64>>> = vec![
            (0..6).map(|r| vec![290.0, 20.0 + r as f64, 0.01]).collect(),
            (0..6).map(|r| vec![0.0, 365.0 + r as f64, 0.6]).collect(),
            (0..6)
                .map(|r| vec![if r == 3 { 1.0 } else { 0.0 }, 300.0 + r as f64, 0.5])
                .collect(),
        ];
        let c = Comparison::new(&policies, &metrics, &runs);
        let failed = c.metric("jobs_failed").unwrap();
        assert_eq!(failed.ranking, vec![vec![1, 2], vec![0]]);
        let mk = c.metric("makespan_s").unwrap();
        assert_eq!(mk.ranking, vec![vec![2], vec![1], vec![0]]);
        let rej = c.metric("rejection_probability").unwrap();
        assert_eq!(rej.ranking, vec![vec![2], vec![1], vec![0]]);
        assert_eq!(mk.best(), Some(2));
    }
}
