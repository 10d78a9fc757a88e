//! The article's client token bucket: `TokenBucket(rate=5, capacity=50)`, starting full,
//! a background thread adding `rate` tokens once per tick (capped at capacity), and a
//! non-blocking `consume(n)`. A request that finds it empty waits for the next tick.

use super::{Attempt, Guard, GuardVerdict};
use crate::provider::limiter::{Limiter, TokenBucket, Verdict};
use crate::time::SimTime;

/// The bucket and the provider it guards.
#[derive(Clone, Debug)]
pub struct ClientBucket {
    provider: Option<usize>,
    bucket: TokenBucket,
    cost: u64,
}

impl ClientBucket {
    /// `rate` tokens every `tick`, capacity `capacity`, `cost` per request.
    pub fn new(
        provider: Option<usize>,
        rate: f64,
        capacity: f64,
        tick: SimTime,
        cost: u64,
    ) -> Self {
        ClientBucket {
            provider,
            bucket: TokenBucket::discrete(capacity, rate / tick.as_secs_f64(), tick),
            cost,
        }
    }

    fn guards(&self, provider: usize) -> bool {
        self.provider.is_none_or(|p| p == provider)
    }
}

impl Guard for ClientBucket {
    /// Whether `consume(cost)` would succeed, or the tick at which to try again.
    fn check(&mut self, now: SimTime, a: &Attempt) -> GuardVerdict {
        if !self.guards(a.provider) {
            return GuardVerdict::Pass;
        }
        match self.bucket.check(now, self.cost) {
            Verdict::Admit => GuardVerdict::Pass,
            Verdict::NotUntil(t) => GuardVerdict::WaitUntil(t),
            Verdict::Never => GuardVerdict::Refuse,
        }
    }

    /// `consume(cost)`, after every guard passed.
    fn commit(&mut self, now: SimTime, a: &Attempt) {
        if self.guards(a.provider) {
            self.bucket.consume(now, self.cost);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Attempt = Attempt {
        provider: 0,
        input: 1,
        output: 1,
        retry: false,
    };

    #[test]
    fn fifty_pass_at_once_then_five_per_tick() {
        let mut b = ClientBucket::new(None, 5.0, 50.0, SimTime::from_secs(1), 1);
        let t0 = SimTime::from_millis(10);
        for _ in 0..50 {
            assert_eq!(b.check(t0, &A), GuardVerdict::Pass);
            b.commit(t0, &A);
        }
        assert_eq!(
            b.check(t0, &A),
            GuardVerdict::WaitUntil(SimTime::from_secs(1))
        );
        let t1 = SimTime::from_secs(1);
        for _ in 0..5 {
            assert_eq!(b.check(t1, &A), GuardVerdict::Pass);
            b.commit(t1, &A);
        }
        assert_eq!(
            b.check(t1, &A),
            GuardVerdict::WaitUntil(SimTime::from_secs(2))
        );
    }
}
