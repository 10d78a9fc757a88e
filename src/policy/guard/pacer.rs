//! The header-aware pacer (ratesim's own; none of the gateways has it). It keeps a copy
//! of each provider's published limits, charges its own sends to the copy, and brings
//! the copy up to the provider's rate-limit headers (limit / remaining / reset) on every
//! response. A request waits until the copy says every limit would admit it, so it
//! sends (almost) no request that will be rejected: only traffic it cannot see (another
//! client, an outage, an online reset) can still get a 429.

use super::{Attempt, Feedback, Guard, GuardVerdict};
use crate::provider::limiter::{Limiter, LimiterState, Unit, Verdict};
use crate::provider::LimitSpec;
use crate::time::SimTime;

/// The copies of the providers' limits.
pub struct Pacer {
    provider: Option<usize>,
    shadows: Vec<Vec<(LimiterState, Unit)>>,
}

impl Pacer {
    /// Paces `provider` (every provider when `None`), whose published limits are
    /// `limits[provider]`.
    pub fn new(provider: Option<usize>, limits: &[Vec<LimitSpec>]) -> Self {
        Pacer {
            provider,
            shadows: limits
                .iter()
                .map(|l| l.iter().map(|s| (s.build(), s.unit)).collect())
                .collect(),
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
        let mut verdict = Verdict::Admit;
        for (l, unit) in &mut self.shadows[a.provider] {
            verdict = verdict.and(l.check(now, unit.amount(a.input, a.output)));
        }
        match verdict {
            Verdict::NotUntil(t) => GuardVerdict::WaitUntil(t),
            // Admit, or never: the provider will say so itself.
            _ => GuardVerdict::Pass,
        }
    }

    fn commit(&mut self, now: SimTime, a: &Attempt) {
        if self.paces(a.provider) {
            for (l, unit) in &mut self.shadows[a.provider] {
                l.consume(now, unit.amount(a.input, a.output));
            }
        }
    }

    fn on_response(&mut self, now: SimTime, f: &Feedback) {
        if !self.paces(f.provider) {
            return;
        }
        for ((l, _), usage) in self.shadows[f.provider].iter_mut().zip(f.usage) {
            l.sync(now, usage.used);
        }
    }

    fn wants_usage(&self) -> bool {
        true
    }
}
