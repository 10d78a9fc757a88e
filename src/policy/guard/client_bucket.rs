//! The article's client token bucket: `TokenBucket(rate=5, capacity=50)`, starting full,
//! a background thread adding `rate` tokens once per tick (capped at capacity), and a
//! non-blocking `consume(n)`. A request that finds it empty waits for the next tick.

use super::{Attempt, Guard, GuardContext, GuardParams, GuardVerdict, Setting};
use crate::keys::{Keys, R};
use crate::provider::limiter::{LimitParams, Limiter, TokenBucket, TokenBucketParams, Verdict};
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// Settings of `kind = "token_bucket"` (a client-side bucket, not a provider's limit).
#[derive(Clone, Debug, PartialEq)]
pub struct ClientBucketParams {
    /// Provider guarded; `None` guards every provider.
    pub provider: Option<usize>,
    /// The bucket: `rate` tokens per tick as a discrete refill every tick, starting full.
    pub bucket: TokenBucketParams,
    /// Tokens one request takes.
    pub cost: u64,
}

impl ClientBucketParams {
    /// Reads `provider` (every one), `rate` (5 per tick), `capacity` (50), `tick` (1 s)
    /// and `cost` (1).
    pub(crate) fn parse(keys: &Keys, cx: &GuardContext) -> R<Self> {
        let provider = keys.provider("provider", cx.names)?;
        let rate = keys.positive("rate")?.unwrap_or(5.0);
        let capacity = keys.positive("capacity")?.unwrap_or(50.0);
        let tick = keys.duration("tick")?.unwrap_or(SimDuration::from_secs(1));
        let cost = keys.count("cost")?.unwrap_or(1) as u64;
        let bucket = TokenBucketParams::new(capacity, rate / tick.as_secs_f64(), Some(tick))
            .or_else(|e| {
                keys.invalid(
                    "rate",
                    format!("rate per tick is out of range for a token bucket ({e})"),
                )
            })?;
        Ok(ClientBucketParams {
            provider,
            bucket,
            cost,
        })
    }
}

impl GuardParams for ClientBucketParams {
    const NAME: &'static str = "token_bucket";
    const KEYS: &'static [&'static str] = &["provider", "rate", "capacity", "tick", "cost"];

    fn build(&self, _rng: &dyn Fn() -> SimRng) -> Box<dyn Guard> {
        Box::new(ClientBucket::new(self.provider, &self.bucket, self.cost))
    }

    fn settings(&self) -> Vec<(&'static str, Setting)> {
        let tick = self.bucket.fill_interval().expect("a client bucket ticks");
        let mut out = Vec::new();
        out.extend(self.provider.map(|p| ("provider", Setting::Provider(p))));
        out.extend([
            (
                "rate",
                Setting::Float(self.bucket.refill_per_s() * tick.as_secs_f64()),
            ),
            ("capacity", Setting::Float(self.bucket.capacity())),
            ("tick", Setting::Duration(tick)),
            ("cost", Setting::Int(self.cost)),
        ]);
        out
    }
}

/// The bucket and the provider it guards.
#[derive(Clone, Debug)]
pub struct ClientBucket {
    provider: Option<usize>,
    bucket: TokenBucket,
    cost: u64,
}

impl ClientBucket {
    /// A full `bucket` guarding `provider` (every provider when `None`), `cost` per
    /// request.
    pub fn new(provider: Option<usize>, bucket: &TokenBucketParams, cost: u64) -> Self {
        ClientBucket {
            provider,
            bucket: bucket.build(),
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

    /// Every guarded request costs `cost`: the bucket answers them alike.
    fn alike(&self, a: &Attempt, b: &Attempt) -> bool {
        self.guards(a.provider) == self.guards(b.provider)
    }

    /// The bucket's tokens taken, against its capacity.
    fn gauges(&self, now: SimTime, out: &mut Vec<super::Gauge>) {
        use crate::provider::limiter::Limiter;
        let u = self.bucket.usage(now);
        out.push(super::Gauge {
            name: "tokens taken",
            provider: self.provider,
            part: None,
            value: u.used,
            limit: Some(u.limit),
        });
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
        let tick = SimDuration::from_secs(1);
        let bucket = TokenBucketParams::new(50.0, 5.0, Some(tick)).unwrap();
        let mut b = ClientBucket::new(None, &bucket, 1);
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
