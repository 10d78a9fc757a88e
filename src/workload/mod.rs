//! Workloads: the jobs of one replication. A batch is a CI queue (every job there at time
//! zero), Poisson is open arrivals, a trace replays recorded jobs. Jobs are generated
//! before any policy runs, from their own streams, so every policy sees the same jobs.

mod csv_trace;

use rand_distr::{Distribution, Exp};

use crate::dist::Random;
use crate::rng::{stream, Source};
use crate::time::{SimDuration, SimTime};
pub use csv_trace::{parse_trace, Trace, TraceColumns, TraceError, MAX_TRACE_BYTES, TRACE_FIELDS};

/// The most jobs one replication holds. Every job of a replication is built in memory
/// (on each worker thread): about 50 bytes a job behind a concurrency cap, up to about
/// 400 while in flight, plus [`REQUEST_BYTES`] a request; validation refuses more.
pub const MAX_JOBS: u64 = 10_000_000;

/// The most requests one replication holds (jobs × `requests_per_job`, or trace rows).
pub const MAX_REQUESTS: u64 = 100_000_000;

/// Bytes a request takes in a replication's jobs (its input and output token counts).
pub const REQUEST_BYTES: u64 = 16;

/// The most tokens a request may have as input, and as output: larger values in a
/// file are refused, and a draw of an unbounded distribution above it counts as this.
/// It keeps every token sum far from `u64::MAX`.
pub const MAX_TOKENS: u64 = 1_000_000_000;

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
        /// The jobs, parsed, grouped and scaled by `time_scale`: the same in every
        /// replication.
        jobs: Jobs,
        /// Multiplies every start time.
        time_scale: f64,
        /// The file read (absolute when it could be resolved), for messages and for
        /// printing the scenario back.
        path: std::path::PathBuf,
        /// The column each field was read from.
        columns: TraceColumns,
        /// Columns of the file that were ignored, in file order.
        ignored: Vec<String>,
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
#[derive(Clone, Debug, Default, PartialEq)]
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

    /// A fingerprint of every arrival and request (FNV-1a over their values): two runs
    /// whose replication has the same fingerprint saw the same jobs.
    pub fn fingerprint(&self) -> u64 {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        let mut eat = |x: u64| {
            for b in x.to_le_bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
            }
        };
        eat(self.arrivals.len() as u64);
        for (j, at) in self.arrivals.iter().enumerate() {
            eat(at.as_nanos());
            for r in self.requests_of(j) {
                eat(r.input);
                eat(r.output);
            }
        }
        h
    }

    /// Total tokens over every request (saturating, though the limits keep it far
    /// below `u64::MAX`: at most [`MAX_REQUESTS`] × 2 × [`MAX_TOKENS`]).
    pub fn total_tokens(&self) -> u64 {
        self.requests
            .iter()
            .map(|r| r.input.saturating_add(r.output))
            .fold(0, u64::saturating_add)
    }
}

/// A drawn token count, at most [`MAX_TOKENS`].
fn tokens(x: f64) -> u64 {
    crate::time::round_u64(x).min(MAX_TOKENS)
}

impl WorkloadSpec {
    /// Generates the jobs of replication `replication` (a trace's, the same in every
    /// replication, are lent rather than copied).
    pub fn generate(&self, seed: u64, replication: u64) -> std::borrow::Cow<'_, Jobs> {
        if let Arrivals::Trace { jobs, .. } = &self.arrivals {
            return std::borrow::Cow::Borrowed(jobs);
        }
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
            Arrivals::Poisson { .. } | Arrivals::Trace { .. } => 0,
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
                // Validation keeps the expected count well below the limits; the stream
                // also stops there, so no draw can hold more.
                let per_job = self.requests_per_job as usize;
                loop {
                    if n.is_some_and(|n| jobs.len() as u32 >= n)
                        || jobs.len() as u64 >= MAX_JOBS
                        || (jobs.requests.len() + per_job) as u64 > MAX_REQUESTS
                    {
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
            Arrivals::Trace { .. } => unreachable!("lent above"),
        }
        std::borrow::Cow::Owned(jobs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs(sizes: &[(u64, u64)], at_ms: u64) -> Jobs {
        let mut j = Jobs::default();
        j.offsets.push(0);
        for &(input, output) in sizes {
            j.arrivals.push(SimTime::from_millis(at_ms));
            j.requests.push(RequestSize { input, output });
            j.offsets.push(j.requests.len() as u32);
        }
        j
    }

    #[test]
    fn fingerprints_tell_jobs_apart() {
        let a = jobs(&[(10, 1), (20, 2)], 0);
        assert_eq!(a.fingerprint(), jobs(&[(10, 1), (20, 2)], 0).fingerprint());
        for other in [
            jobs(&[(10, 1), (20, 3)], 0),
            jobs(&[(20, 2), (10, 1)], 0),
            jobs(&[(10, 1), (20, 2)], 1),
            jobs(&[(10, 1)], 0),
        ] {
            assert_ne!(a.fingerprint(), other.fingerprint(), "{other:?}");
        }
    }
}
