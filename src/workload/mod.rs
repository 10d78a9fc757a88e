//! Workloads: the jobs of one replication. A batch is a CI queue (every job there at time
//! zero), Poisson is open arrivals, a trace replays recorded jobs. Jobs are generated
//! before any policy runs, from their own streams, so every policy sees the same jobs.

mod csv_trace;

use rand_distr::{Distribution, Exp};

use crate::dist::Random;
use crate::rng::{stream, Source};
use crate::time::{SimDuration, SimTime};
pub use csv_trace::{parse_trace, TraceRow};

/// When jobs arrive.
#[derive(Clone, Debug, PartialEq)]
pub enum Arrivals {
    /// `jobs` jobs, all at time zero.
    Batch {
        /// Number of jobs.
        jobs: u32,
    },
    /// Poisson arrivals at `rate_per_s`, until `jobs` have arrived or `duration` passed.
    Poisson {
        /// Mean arrivals per second.
        rate_per_s: f64,
        /// Stop after this many jobs.
        jobs: Option<u32>,
        /// Stop at this time.
        duration: Option<SimDuration>,
    },
    /// Recorded jobs, in arrival order.
    Trace {
        /// The rows, already parsed and grouped.
        rows: Vec<TraceRow>,
        /// Multiplies every start time.
        time_scale: f64,
    },
}

/// A workload, as configured.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadSpec {
    /// Arrival process.
    pub arrivals: Arrivals,
    /// Most jobs in flight at once; the rest wait FIFO. `None` is unlimited.
    pub concurrency: Option<u32>,
    /// Requests per synthetic job, sent one after another.
    pub requests_per_job: u32,
    /// Input tokens per synthetic request.
    pub input_tokens: Random,
    /// Output tokens per synthetic request.
    pub output_tokens: Random,
}

/// One request's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestSize {
    /// Input tokens.
    pub input: u64,
    /// Output tokens.
    pub output: u64,
}

/// The jobs of one replication: arrival times and request sizes.
#[derive(Clone, Debug, Default)]
pub struct Jobs {
    /// Arrival time of each job, non-decreasing.
    pub arrivals: Vec<SimTime>,
    /// Index into `requests` of each job's first request; one extra entry at the end.
    pub offsets: Vec<u32>,
    /// Every request, job by job.
    pub requests: Vec<RequestSize>,
}

impl Jobs {
    /// Number of jobs.
    pub fn len(&self) -> usize {
        self.arrivals.len()
    }

    /// Whether there are no jobs.
    pub fn is_empty(&self) -> bool {
        self.arrivals.is_empty()
    }

    /// The requests of job `j`.
    pub fn requests_of(&self, j: usize) -> &[RequestSize] {
        &self.requests[self.offsets[j] as usize..self.offsets[j + 1] as usize]
    }

    /// Total tokens over every request.
    pub fn total_tokens(&self) -> u64 {
        self.requests.iter().map(|r| r.input + r.output).sum()
    }
}

fn tokens(x: f64) -> u64 {
    crate::time::round_u64(x)
}

impl WorkloadSpec {
    /// Generates the jobs of replication `replication`.
    pub fn generate(&self, seed: u64, replication: u64) -> Jobs {
        let mut jobs = Jobs::default();
        // Room for the jobs when their number is known (bounded; a Poisson stream that
        // a duration may cut short reserves nothing).
        let known = match &self.arrivals {
            Arrivals::Batch { jobs: n }
            | Arrivals::Poisson {
                jobs: Some(n),
                duration: None,
                ..
            } => *n as usize,
            Arrivals::Poisson { .. } => 0,
            Arrivals::Trace { rows, .. } => rows.len(),
        }
        .min(1 << 20);
        jobs.arrivals.reserve(known);
        jobs.offsets.reserve(known + 1);
        jobs.requests.reserve(
            known
                .saturating_mul(self.requests_per_job as usize)
                .min(1 << 22),
        );
        jobs.offsets.push(0);
        let mut input_rng = stream(seed, replication, Source::InputTokens);
        let mut output_rng = stream(seed, replication, Source::OutputTokens);
        let mut synthetic = |jobs: &mut Jobs, at: SimTime| {
            jobs.arrivals.push(at);
            for _ in 0..self.requests_per_job {
                jobs.requests.push(RequestSize {
                    input: tokens(self.input_tokens.sample(&mut input_rng)),
                    output: tokens(self.output_tokens.sample(&mut output_rng)),
                });
            }
            jobs.offsets.push(jobs.requests.len() as u32);
        };
        match &self.arrivals {
            Arrivals::Batch { jobs: n } => {
                for _ in 0..*n {
                    synthetic(&mut jobs, SimTime::ZERO);
                }
            }
            Arrivals::Poisson {
                rate_per_s,
                jobs: n,
                duration,
            } => {
                let mut rng = stream(seed, replication, Source::Arrivals);
                let gap = Exp::new(*rate_per_s).expect("validated positive rate");
                let mut t = 0.0f64;
                loop {
                    if n.is_some_and(|n| jobs.len() as u32 >= n) {
                        break;
                    }
                    t += gap.sample(&mut rng);
                    let at = SimTime::from_secs_f64(t);
                    if duration.is_some_and(|d| at.since_start() > d) {
                        break;
                    }
                    synthetic(&mut jobs, at);
                }
            }
            Arrivals::Trace { rows, time_scale } => {
                for row in rows {
                    jobs.arrivals
                        .push(SimTime::from_secs_f64(row.start_s * time_scale));
                    jobs.requests.extend(row.requests.iter().copied());
                    jobs.offsets.push(jobs.requests.len() as u32);
                }
            }
        }
        jobs
    }
}
