//! Client-side admission guards: checks a policy runs before it sends a request. A guard
//! can let the request pass, make it wait, or refuse it locally.

mod client_bucket;
mod predictive;

pub use client_bucket::ClientBucket;
pub use predictive::PredictiveGuard;

use crate::time::SimTime;

/// A guard, as configured.
#[derive(Clone, Debug, PartialEq)]
pub enum GuardSpec {
    /// The article's predictive 429 guard (a TTLCache counter).
    Predictive {
        /// Provider guarded.
        provider: usize,
        /// Refuse when the counter is at least this.
        limit: u32,
        /// The cache entry's time to live, reset on every write.
        ttl: SimTime,
    },
    /// The article's client token bucket (discrete ticks).
    ClientBucket {
        /// Provider guarded; `None` guards every provider.
        provider: Option<usize>,
        /// Tokens added per tick.
        rate: f64,
        /// Bucket size (starts full).
        capacity: f64,
        /// Tick length.
        tick: SimTime,
        /// Tokens one request takes.
        cost: u64,
    },
}

/// A guard's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardVerdict {
    /// Send.
    Pass,
    /// Try again at this time.
    WaitUntil(SimTime),
    /// Refused locally (counts as a failed attempt).
    Refuse,
}

/// A guard's state during one replication.
#[derive(Clone, Debug)]
pub enum Guard {
    /// See [`PredictiveGuard`].
    Predictive(PredictiveGuard),
    /// See [`ClientBucket`].
    ClientBucket(ClientBucket),
}

impl Guard {
    /// The guard in its initial state.
    pub fn new(spec: &GuardSpec) -> Self {
        match *spec {
            GuardSpec::Predictive {
                provider,
                limit,
                ttl,
            } => Guard::Predictive(PredictiveGuard::new(provider, limit, ttl)),
            GuardSpec::ClientBucket {
                provider,
                rate,
                capacity,
                tick,
                cost,
            } => Guard::ClientBucket(ClientBucket::new(provider, rate, capacity, tick, cost)),
        }
    }

    /// Checks a request to `provider` at `now`, using nothing up.
    pub fn check(&mut self, now: SimTime, provider: usize) -> GuardVerdict {
        match self {
            Guard::Predictive(g) => g.check(now, provider),
            Guard::ClientBucket(g) => g.check(now, provider),
        }
    }

    /// Every guard passed the request: take what it uses (a client bucket's tokens).
    pub fn commit(&mut self, now: SimTime, provider: usize) {
        if let Guard::ClientBucket(g) = self {
            g.commit(now, provider);
        }
    }

    /// A response (success or rejection) from `provider` arrived at `now`.
    pub fn on_response(&mut self, now: SimTime, provider: usize) {
        if let Guard::Predictive(g) = self {
            g.on_response(now, provider);
        }
    }
}
