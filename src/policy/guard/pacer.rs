//! The header-aware pacer (ratesim's own; none of the gateways has it). It keeps a copy
//! of each provider's published limits, charges its own sends to the copy, and brings
//! the copy up to the provider's rate-limit headers (limit / remaining / reset) on every
//! response. A request waits until the copy says every limit would admit it, so it
//! sends (almost) no request that will be rejected: only traffic it cannot see (another
//! client, an outage, an online reset) can still get a 429.
//!
//! Requests to one provider go first in, first out: once a request is told to wait
//! until `t`, every request to that provider asking before `t` is told the same, so a
//! small request does not overtake a large one (which would otherwise starve behind a
//! stream of small ones). That also makes every waiting request to a provider answered
//! alike, so the engine wakes them as a queue, as many as can pass, instead of each
//! asking again whenever the copied limits free up.

use super::{Attempt, Feedback, Guard, GuardContext, GuardParams, GuardVerdict, Setting};
use crate::keys::{Keys, R};
use crate::provider::limiter::Verdict;
use crate::provider::limits::Limits;
use crate::provider::LimitSpec;
use crate::rng::SimRng;
use crate::time::SimTime;

/// Settings of `kind = "pacer"`, and the providers' published limits it copies.
#[derive(Clone, Debug, PartialEq)]
pub struct PacerParams {
    /// Provider paced; `None` paces every provider.
    pub provider: Option<usize>,
    /// Each provider's published limits (index = provider).
    pub limits: Vec<Vec<LimitSpec>>,
}

impl PacerParams {
    /// Reads `provider` (every one) and takes every provider's limits.
    pub(crate) fn parse(keys: &Keys, cx: &GuardContext) -> R<Self> {
        Ok(PacerParams {
            provider: keys.provider("provider", cx.names)?,
            limits: cx.providers.iter().map(|p| p.limits.clone()).collect(),
        })
    }
}

impl GuardParams for PacerParams {
    const NAME: &'static str = "pacer";
    const KEYS: &'static [&'static str] = &["provider"];

    fn build(&self, _rng: &dyn Fn() -> SimRng) -> Box<dyn Guard> {
        Box::new(Pacer::new(self.provider, &self.limits))
    }

    fn settings(&self) -> Vec<(&'static str, Setting)> {
        self.provider
            .map(|p| ("provider", Setting::Provider(p)))
            .into_iter()
            .collect()
    }
}

/// The copies of the providers' limits.
pub struct Pacer {
    provider: Option<usize>,
    shadows: Vec<Limits>,
    /// Per provider, the time the last request told to wait was told: until then every
    /// request to it waits (first in, first out).
    held_until: Vec<SimTime>,
}

impl Pacer {
    /// Paces `provider` (every provider when `None`), whose published limits are
    /// `limits[provider]`.
    pub fn new(provider: Option<usize>, limits: &[Vec<LimitSpec>]) -> Self {
        Pacer {
            provider,
            shadows: limits.iter().map(|l| Limits::new(l)).collect(),
            held_until: vec![SimTime::ZERO; limits.len()],
        }
    }

    fn paces(&self, provider: usize) -> bool {
        self.provider.is_none_or(|p| p == provider)
    }
}

impl Guard for Pacer {
    fn check(&mut self, now: SimTime, a: &Attempt) -> GuardVerdict {
        if !self.paces(a.provider) {
            return GuardVerdict::Pass;
        }
        let held = self.held_until[a.provider];
        if now < held {
            return GuardVerdict::WaitUntil(held);
        }
        match self.shadows[a.provider].check(now, a.input, a.output).0 {
            Verdict::NotUntil(t) => {
                self.held_until[a.provider] = t;
                GuardVerdict::WaitUntil(t)
            }
            // Admit, or never: the provider will say so itself.
            _ => GuardVerdict::Pass,
        }
    }

    /// Requests of the same size to the same provider (or two it does not pace).
    fn alike(&self, a: &Attempt, b: &Attempt) -> bool {
        match (self.paces(a.provider), self.paces(b.provider)) {
            (false, false) => true,
            (true, true) => (a.provider, a.input, a.output) == (b.provider, b.input, b.output),
            _ => false,
        }
    }

    /// Requests to the same provider, whatever their sizes (or two it does not pace):
    /// once one is told to wait until `t`, the other, asking before `t`, is told the
    /// same, and asking again changes nothing.
    fn alike_when_waiting(&self, a: &Attempt, b: &Attempt) -> bool {
        match (self.paces(a.provider), self.paces(b.provider)) {
            (false, false) => true,
            (true, true) => a.provider == b.provider,
            _ => false,
        }
    }

    fn commit(&mut self, now: SimTime, a: &Attempt) {
        if self.paces(a.provider) {
            self.shadows[a.provider].consume(now, a.input, a.output);
        }
    }

    fn on_response(&mut self, now: SimTime, f: &Feedback) {
        if !self.paces(f.provider) {
            return;
        }
        self.shadows[f.provider].sync(now, f.usage);
    }

    fn wants_usage(&self) -> bool {
        true
    }

    /// Its copy of each paced provider's limits: what it believes is in use.
    fn gauges(&self, now: SimTime, out: &mut Vec<super::Gauge>) {
        for (p, shadow) in self.shadows.iter().enumerate() {
            if !self.paces(p) {
                continue;
            }
            for (i, u) in shadow.usage(now).enumerate() {
                out.push(super::Gauge {
                    name: "copy of",
                    provider: Some(p),
                    part: Some(i),
                    value: u.used,
                    limit: Some(u.limit),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Keys;
    use crate::provider::limiter::KINDS;
    use crate::scenario::KeyPath;

    /// One provider's limits: `limit` tokens per sliding 10 s.
    fn window(limit: u64) -> Vec<LimitSpec> {
        let text = format!(
            "kind = \"sliding_window\"\nwindow = \"10s\"\nlimit = {limit}\nunit = \"tokens\""
        );
        let t: toml::Table = text.parse().expect("valid TOML");
        let k = Keys::new(&t, KeyPath::default().key("limits").index(0));
        let kind = k.kind(KINDS).expect("a kind");
        vec![LimitSpec::parse(kind, &k)
            .expect("registered")
            .expect("valid")]
    }

    fn tokens(n: u64) -> Attempt {
        Attempt {
            provider: 0,
            input: n,
            output: 0,
            retry: false,
        }
    }

    #[test]
    fn a_small_request_waits_behind_a_large_one_held_before_it() {
        let secs = SimTime::from_secs;
        let mut p = Pacer::new(None, &[window(1000)]);
        assert_eq!(p.check(secs(0), &tokens(800)), GuardVerdict::Pass);
        p.commit(secs(0), &tokens(800));
        // 100 more tokens fit in the window ...
        assert_eq!(p.check(secs(1), &tokens(100)), GuardVerdict::Pass);
        // ... but once 900 are held until the 800 leave it, the 100 queue behind them.
        assert_eq!(
            p.check(secs(1), &tokens(900)),
            GuardVerdict::WaitUntil(secs(10))
        );
        assert_eq!(
            p.check(secs(2), &tokens(100)),
            GuardVerdict::WaitUntil(secs(10))
        );
        // At that time the first in line asks first and goes; the next is asked afresh.
        assert_eq!(p.check(secs(10), &tokens(900)), GuardVerdict::Pass);
        p.commit(secs(10), &tokens(900));
        assert_eq!(p.check(secs(10), &tokens(100)), GuardVerdict::Pass);
    }
}
