//! OpenRouter's provider routing: providers that failed within the last 30 s are
//! skipped, the rest stay in order (OpenRouter then falls back down the list).

use super::{
    Attempt, Feedback, Guard, GuardContext, GuardParams, GuardVerdict, OutUntil, Setting, WhileOut,
};
use crate::keys::{Keys, R};
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// Settings of `kind = "skip_recent_failures"`.
#[derive(Clone, Debug, PartialEq)]
pub struct RecentFailuresParams {
    /// How long a failure counts.
    pub window: SimDuration,
}

impl RecentFailuresParams {
    /// Reads `window` (30 s).
    pub(crate) fn parse(keys: &Keys, _cx: &GuardContext) -> R<Self> {
        Ok(RecentFailuresParams {
            window: keys
                .duration("window")?
                .unwrap_or(SimDuration::from_secs(30)),
        })
    }
}

impl GuardParams for RecentFailuresParams {
    const NAME: &'static str = "skip_recent_failures";
    const KEYS: &'static [&'static str] = &["window"];

    fn build(&self, _rng: &dyn Fn() -> SimRng) -> Box<dyn Guard> {
        Box::new(RecentFailures::new(self.window))
    }

    fn settings(&self) -> Vec<(&'static str, Setting)> {
        vec![("window", Setting::Duration(self.window))]
    }
}

/// Recent failures per provider.
pub struct RecentFailures {
    window: SimDuration,
    out: OutUntil,
}

impl RecentFailures {
    /// Skip a provider for `window` after each failure.
    pub fn new(window: SimDuration) -> Self {
        RecentFailures {
            window,
            out: OutUntil::default(),
        }
    }
}

impl Guard for RecentFailures {
    fn rotates(&self) -> bool {
        true
    }

    fn out_until(&self, now: SimTime, provider: usize) -> Option<SimTime> {
        self.out.until(now, provider)
    }

    fn out_total(&self) -> SimDuration {
        self.out.total()
    }

    fn check(&mut self, now: SimTime, a: &Attempt) -> GuardVerdict {
        self.out.verdict(now, a.provider, WhileOut::Skip)
    }

    fn on_response(&mut self, now: SimTime, f: &Feedback) {
        if f.status.is_some() {
            self.out.set(now, f.provider, now + self.window);
        }
    }
}
