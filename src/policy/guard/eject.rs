//! The Helicone gateway's rate-limit handling: a 429 ejects the provider until its
//! retry-after hint (30 s when the response carries none).

use super::{
    Attempt, Feedback, Guard, GuardContext, GuardParams, GuardVerdict, OutUntil, Setting, WhileOut,
};
use crate::keys::{Keys, R};
use crate::provider::Hint;
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// Settings of `kind = "eject_on_429"`.
#[derive(Clone, Debug, PartialEq)]
pub struct EjectParams {
    /// Ejection when the 429 carries no hint.
    pub default: SimDuration,
    /// Skip or wait while ejected.
    pub while_out: WhileOut,
}

impl EjectParams {
    /// Reads `default` (30 s) and `while_out` (skip).
    pub(crate) fn parse(keys: &Keys, _cx: &GuardContext) -> R<Self> {
        Ok(EjectParams {
            default: keys
                .duration("default")?
                .unwrap_or(SimDuration::from_secs(30)),
            while_out: super::while_out(keys)?,
        })
    }
}

impl GuardParams for EjectParams {
    const NAME: &'static str = "eject_on_429";
    const KEYS: &'static [&'static str] = &["default", "while_out"];

    fn build(&self, _rng: &dyn Fn() -> SimRng) -> Box<dyn Guard> {
        Box::new(Eject::new(self.default, self.while_out))
    }

    fn settings(&self) -> Vec<(&'static str, Setting)> {
        vec![
            ("default", Setting::Duration(self.default)),
            ("while_out", Setting::Str(self.while_out.name())),
        ]
    }
}

/// Ejected providers.
pub struct Eject {
    default: SimDuration,
    while_out: WhileOut,
    out: OutUntil,
}

impl Eject {
    /// Ejections of `default` length when a 429 has no hint.
    pub fn new(default: SimDuration, while_out: WhileOut) -> Self {
        Eject {
            default,
            while_out,
            out: OutUntil::default(),
        }
    }
}

impl Guard for Eject {
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
        self.out.verdict(now, a.provider, self.while_out)
    }

    /// The verdict depends on the provider and the time alone, and checking changes
    /// nothing.
    fn alike(&self, a: &Attempt, b: &Attempt) -> bool {
        a.provider == b.provider
    }

    /// Only while an ejected provider is waited for.
    fn may_wait(&self) -> bool {
        self.while_out == WhileOut::Wait
    }

    fn on_response(&mut self, now: SimTime, f: &Feedback) {
        if f.status == Some(429) {
            let until = match f.hint {
                Hint::After(d) => now + d,
                _ => now + self.default,
            };
            self.out.set(now, f.provider, until);
        }
    }
}
