//! The Helicone gateway's rate-limit handling: a 429 ejects the provider until its
//! retry-after hint (30 s when the response carries none).

use super::{Attempt, Feedback, Guard, GuardVerdict, OutUntil, WhileOut};
use crate::provider::Hint;
use crate::time::SimTime;

/// Ejected providers.
pub struct Eject {
    default: SimTime,
    while_out: WhileOut,
    out: OutUntil,
}

impl Eject {
    /// Ejections of `default` length when a 429 has no hint.
    pub fn new(default: SimTime, while_out: WhileOut) -> Self {
        Eject {
            default,
            while_out,
            out: OutUntil::default(),
        }
    }
}

impl Guard for Eject {
    fn out_until(&self, now: SimTime, provider: usize) -> Option<SimTime> {
        self.out.until(now, provider)
    }

    fn out_total(&self) -> SimTime {
        self.out.total()
    }

    fn check(&mut self, now: SimTime, a: &Attempt) -> GuardVerdict {
        self.out.verdict(now, a.provider, self.while_out)
    }

    fn on_response(&mut self, now: SimTime, f: &Feedback) {
        if f.status == Some(429) {
            let until = match f.hint {
                Hint::At(t) => t.max(now),
                _ => now + self.default,
            };
            self.out.set(now, f.provider, until);
        }
    }
}
