//! The header-aware pacer (ratesim's own; none of the gateways has it). It keeps a copy
//! of each provider's published limits, charges its own sends to the copy, and brings
//! the copy up to the provider's rate-limit headers (limit / remaining / reset) on every
//! response. A request waits until the copy says every limit would admit it, so it
//! sends (almost) no request that will be rejected: only traffic it cannot see (another
//! client, an outage, an online reset) can still get a 429.

use super::{Attempt, Feedback, Guard, GuardContext, GuardParams, GuardVerdict};
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
}

/// The copies of the providers' limits.
pub struct Pacer {
    provider: Option<usize>,
    shadows: Vec<Limits>,
}

impl Pacer {
    /// Paces `provider` (every provider when `None`), whose published limits are
    /// `limits[provider]`.
    pub fn new(provider: Option<usize>, limits: &[Vec<LimitSpec>]) -> Self {
        Pacer {
            provider,
            shadows: limits.iter().map(|l| Limits::new(l)).collect(),
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
        match self.shadows[a.provider].check(now, a.input, a.output).0 {
            Verdict::NotUntil(t) => GuardVerdict::WaitUntil(t),
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
}
