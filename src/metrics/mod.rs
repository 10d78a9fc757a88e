//! Per-replication records: what one replication of one policy measured (the recorder
//! the engine writes into), the fixed list of metric names a scenario reports (so every
//! replication yields the same columns), every replication's values ([`Results`]), the
//! capacity bound ([`bound`]), limiter timeline rows ([`timeline`]) and percentiles
//! ([`quantile`]).

pub mod bound;
pub mod quantile;
mod results;
pub mod timeline;

pub use results::{Results, CURVE_POINTS};

use crate::policy::FailReason;
use crate::provider::ProviderSpec;
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};

/// Metric names in report order, for a scenario's providers.
#[derive(Clone, Debug, PartialEq)]
pub struct Catalog {
    names: Vec<String>,
    statuses: Vec<u16>,
    /// (provider, status) pairs with a `rejections_<status>.<provider>` metric.
    pairs: Vec<(usize, u16)>,
}

/// The metrics reported for every policy, before the per-status and per-provider ones.
const GLOBAL: &[&str] = &[
    "attempts",
    "rejections",
    // rejections_<status> follow here
    "rejection_probability",
    "first_rejection_s",
    "jobs_with_rejection_share",
    "guard_refusals",
    "cooldown_s",
    "fallbacks",
    "hedges",
    "attempts_per_job",
    "jobs_completed",
    "jobs_failed",
    "jobs_failed_share",
    "runs_with_failure_share",
    "jobs_failed_gave_up",
    "jobs_failed_unadmittable",
    "makespan_s",
    "makespan_bound_s",
    "makespan_over_bound",
    "job_latency_mean_s",
    "job_latency_p50_s",
    "job_latency_p95_s",
    "job_latency_p99_s",
    "queue_wait_mean_s",
    "cost_usd",
    "monthly_bill_usd",
    "local_hit_ratio",
    "pass_share",
    "quality_escalations",
    "wasted_usd",
    "cost_per_pass_usd",
];

/// Whether a metric is 0 or 1 in each replication, so that its mean is a proportion of
/// replications (its interval is then Wilson's score interval, not Student's t).
pub fn is_indicator(name: &str) -> bool {
    name == "runs_with_failure_share"
}

/// The values a metric can take: every metric is at least 0, and shares, ratios and
/// probabilities are at most 1 (intervals are clipped to this range).
pub fn range(name: &str) -> (f64, f64) {
    const FRACTIONS: &[&str] = &[
        "rejection_probability",
        "jobs_with_rejection_share",
        "jobs_failed_share",
        "runs_with_failure_share",
        "local_hit_ratio",
        "pass_share",
    ];
    if FRACTIONS.contains(&name) {
        (0.0, 1.0)
    } else {
        (0.0, f64::INFINITY)
    }
}

/// Per-provider metrics, reported as `<metric>.<provider>`; then one
/// `rejections_<status>.<provider>` per status each provider can answer with.
const PER_PROVIDER: &[&str] = &["attempts", "rejections", "served", "tokens", "cost_usd"];

impl Catalog {
    /// The catalog for a set of providers: a `rejections_<status>` count for every
    /// status some provider can answer with, in increasing order.
    pub fn new(providers: &[ProviderSpec]) -> Self {
        let mut statuses: Vec<u16> = providers.iter().flat_map(|p| p.statuses()).collect();
        statuses.sort_unstable();
        statuses.dedup();
        let mut names: Vec<String> = Vec::new();
        for (i, g) in GLOBAL.iter().enumerate() {
            names.push((*g).to_string());
            if i == 1 {
                names.extend(statuses.iter().map(|s| format!("rejections_{s}")));
            }
        }
        for m in PER_PROVIDER {
            for p in providers {
                names.push(format!("{m}.{}", p.name));
            }
        }
        let mut pairs = Vec::new();
        for (i, p) in providers.iter().enumerate() {
            let mut own = p.statuses();
            own.sort_unstable();
            own.dedup();
            for s in own {
                names.push(format!("rejections_{s}.{}", p.name));
                pairs.push((i, s));
            }
        }
        Catalog {
            names,
            statuses,
            pairs,
        }
    }

    /// Metric names in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Position of a metric, if reported.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// `Ok` for a metric this catalog reports, else what would be valid.
    pub fn check(&self, name: &str) -> Result<(), String> {
        if self.index(name).is_some() {
            return Ok(());
        }
        Err(format!(
            "unknown metric `{name}`; expected one of {}",
            self.names.join(", ")
        ))
    }

    /// Statuses with a `rejections_<status>` metric.
    pub fn statuses(&self) -> &[u16] {
        &self.statuses
    }
}

/// Counters of one replication of one policy, filled in by the engine.
#[derive(Clone, Debug)]
pub struct Recorder {
    attempts: Vec<u64>,
    rejections: Vec<u64>,
    by_status: Vec<u64>,
    by_pair: Vec<u64>,
    served: Vec<u64>,
    tokens: Vec<u64>,
    cost: Vec<f64>,
    passed: u64,
    jobs_completed: u64,
    failed_gave_up: u64,
    failed_unadmittable: u64,
    jobs_with_rejection: u64,
    latencies: Vec<f64>,
    queue_wait_sum: f64,
    queue_wait_n: u64,
    makespan: SimTime,
    first_rejection: Option<SimTime>,
    /// Requests refused by a client-side guard.
    pub guard_refusals: u64,
    /// Moves to a fallback provider.
    pub fallbacks: u64,
    /// Completions sent again by the quality gate.
    pub escalations: u64,
    /// Provider-time taken out of rotation by health guards.
    pub cooldown: SimDuration,
    /// Hedged copies sent.
    pub hedges: u64,
    wasted: f64,
}

impl Recorder {
    /// Empty counters for `providers` providers and `jobs` jobs.
    pub fn new(catalog: &Catalog, providers: usize, jobs: usize) -> Self {
        Recorder {
            attempts: vec![0; providers],
            rejections: vec![0; providers],
            by_status: vec![0; catalog.statuses.len()],
            by_pair: vec![0; catalog.pairs.len()],
            served: vec![0; providers],
            tokens: vec![0; providers],
            cost: vec![0.0; providers],
            passed: 0,
            jobs_completed: 0,
            failed_gave_up: 0,
            failed_unadmittable: 0,
            jobs_with_rejection: 0,
            latencies: Vec::with_capacity(jobs),
            queue_wait_sum: 0.0,
            queue_wait_n: 0,
            makespan: SimTime::ZERO,
            first_rejection: None,
            guard_refusals: 0,
            fallbacks: 0,
            escalations: 0,
            cooldown: SimDuration::ZERO,
            hedges: 0,
            wasted: 0.0,
        }
    }

    /// A request was sent to `provider`.
    pub fn attempt(&mut self, provider: usize) {
        self.attempts[provider] += 1;
    }

    /// `provider` rejected a request with `status` at `now`.
    pub fn rejection(&mut self, catalog: &Catalog, now: SimTime, provider: usize, status: u16) {
        self.first_rejection.get_or_insert(now);
        self.rejections[provider] += 1;
        if let Some(i) = catalog.statuses.iter().position(|&s| s == status) {
            self.by_status[i] += 1;
        }
        if let Some(i) = catalog
            .pairs
            .iter()
            .position(|&ps| ps == (provider, status))
        {
            self.by_pair[i] += 1;
        }
    }

    /// `provider` served a request of `tokens` tokens costing `cost`.
    pub fn served(&mut self, provider: usize, tokens: u64, cost: f64, passed: bool) {
        self.served[provider] += 1;
        self.tokens[provider] = self.tokens[provider].saturating_add(tokens);
        self.cost[provider] += cost;
        self.passed += passed as u64;
    }

    /// `provider` was paid `cost` for a request that was cancelled (the losing copy of a
    /// hedge). Its tokens are not counted as served, so the monthly projection (cost per
    /// served token) carries the waste.
    pub fn charged(&mut self, provider: usize, cost: f64) {
        self.cost[provider] += cost;
    }

    /// A completion's `cost` was wasted (it failed the quality gate, or lost a hedge).
    pub fn wasted(&mut self, cost: f64) {
        self.wasted += cost;
    }

    /// A job sent its first request `wait` after it arrived.
    pub fn first_send(&mut self, wait: SimDuration) {
        self.queue_wait_sum += wait.as_secs_f64();
        self.queue_wait_n += 1;
    }

    /// A job finished at `now`: completed (`None`) or failed, after `latency`.
    pub fn job_done(
        &mut self,
        now: SimTime,
        latency: SimDuration,
        failed: Option<FailReason>,
        saw_rejection: bool,
    ) {
        self.makespan = self.makespan.max(now);
        self.jobs_with_rejection += saw_rejection as u64;
        match failed {
            None => {
                self.jobs_completed += 1;
                self.latencies.push(latency.as_secs_f64());
            }
            Some(FailReason::GaveUp) => self.failed_gave_up += 1,
            Some(FailReason::Unadmittable) => self.failed_unadmittable += 1,
        }
    }

    /// The metric values in catalog order, and the completed jobs' latencies in seconds
    /// (in no particular order). Undefined values (a ratio over zero, latency with no
    /// completed job) are NaN.
    pub fn finish(
        mut self,
        catalog: &Catalog,
        scenario: &Scenario,
        policy: usize,
    ) -> (Vec<f64>, Vec<f64>) {
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
        let attempts: u64 = self.attempts.iter().sum();
        let rejections: u64 = self.rejections.iter().sum();
        let served: u64 = self.served.iter().sum();
        let tokens: u64 = self.tokens.iter().fold(0, |a, &t| a.saturating_add(t));
        let cost: f64 = self.cost.iter().sum();
        let jobs = self.jobs_completed + self.failed_gave_up + self.failed_unadmittable;
        let latency_mean = ratio(self.latencies.iter().sum(), self.latencies.len() as f64);
        let mut q = |p: f64| quantile::quantile_select(&mut self.latencies, p);
        let providers = &scenario.providers;
        let route = scenario.policies[policy].reachable();
        let flat: f64 = route.iter().map(|&p| providers[p].flat_monthly).sum();
        let variable = match scenario.monthly_tokens {
            Some(m) => ratio(cost * m, tokens as f64),
            None => cost,
        };
        let local_served: u64 = providers
            .iter()
            .zip(&self.served)
            .filter(|(p, _)| p.local)
            .map(|(_, s)| s)
            .sum();
        let mut out = Vec::with_capacity(catalog.names.len());
        out.push(attempts as f64);
        out.push(rejections as f64);
        out.extend(self.by_status.iter().map(|&c| c as f64));
        out.push(ratio(rejections as f64, attempts as f64));
        out.push(self.first_rejection.map_or(f64::NAN, SimTime::as_secs_f64));
        out.push(ratio(self.jobs_with_rejection as f64, jobs as f64));
        out.push(self.guard_refusals as f64);
        out.push(self.cooldown.as_secs_f64());
        out.push(self.fallbacks as f64);
        out.push(self.hedges as f64);
        out.push(ratio(attempts as f64, jobs as f64));
        out.push(self.jobs_completed as f64);
        let failed = self.failed_gave_up + self.failed_unadmittable;
        out.push(failed as f64);
        out.push(ratio(failed as f64, jobs as f64));
        // 1 when this replication failed any job: its mean over replications is the
        // share of runs with a failure (a binomial proportion, see `is_indicator`).
        out.push(if failed > 0 { 1.0 } else { 0.0 });
        out.push(self.failed_gave_up as f64);
        out.push(self.failed_unadmittable as f64);
        out.push(self.makespan.as_secs_f64());
        // The capacity bound is the runner's to fill in (it is the same for every policy).
        out.push(f64::NAN);
        out.push(f64::NAN);
        out.push(latency_mean);
        out.push(q(0.5));
        out.push(q(0.95));
        out.push(q(0.99));
        out.push(ratio(self.queue_wait_sum, self.queue_wait_n as f64));
        out.push(cost);
        out.push(
            flat + if variable.is_nan() && cost == 0.0 {
                0.0
            } else {
                variable
            },
        );
        out.push(ratio(local_served as f64, served as f64));
        out.push(ratio(self.passed as f64, served as f64));
        out.push(self.escalations as f64);
        out.push(self.wasted);
        out.push(ratio(cost, self.passed as f64));
        for v in [&self.attempts, &self.rejections, &self.served, &self.tokens] {
            out.extend(v.iter().map(|&c| c as f64));
        }
        out.extend(self.cost.iter().copied());
        out.extend(self.by_pair.iter().map(|&c| c as f64));
        debug_assert_eq!(out.len(), catalog.names.len());
        (out, self.latencies)
    }
}
