//! The article's tip against Claude's sliding window: force a 2 s sleep every 55 s.
//! Sends that fall in `[k * every, k * every + length)` for k >= 1 wait until the end
//! of the pause.

use super::{Attempt, Guard, GuardContext, GuardParams, GuardVerdict, Setting};
use crate::keys::{Keys, R};
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// Settings of `kind = "pause"`.
#[derive(Clone, Debug, PartialEq)]
pub struct PauseParams {
    /// Period.
    pub every: SimDuration,
    /// Pause at the start of each period after the first.
    pub length: SimDuration,
}

impl PauseParams {
    /// Reads `every` (55 s) and `length` (2 s), which must be shorter.
    pub(crate) fn parse(keys: &Keys, _cx: &GuardContext) -> R<Self> {
        let every = keys
            .duration("every")?
            .unwrap_or(SimDuration::from_secs(55));
        let length = keys
            .duration("length")?
            .unwrap_or(SimDuration::from_secs(2));
        if length >= every {
            return keys.invalid(
                "length",
                "the pause must be shorter than its period `every`",
            );
        }
        Ok(PauseParams { every, length })
    }
}

impl GuardParams for PauseParams {
    const NAME: &'static str = "pause";
    const KEYS: &'static [&'static str] = &["every", "length"];

    fn build(&self, _rng: &dyn Fn() -> SimRng) -> Box<dyn Guard> {
        Box::new(Pause {
            every: self.every,
            length: self.length,
        })
    }

    fn settings(&self) -> Vec<(&'static str, Setting)> {
        vec![
            ("every", Setting::Duration(self.every)),
            ("length", Setting::Duration(self.length)),
        ]
    }
}

/// The pause schedule.
pub struct Pause {
    /// Period.
    pub every: SimDuration,
    /// Pause length.
    pub length: SimDuration,
}

impl Guard for Pause {
    fn check(&mut self, now: SimTime, _a: &Attempt) -> GuardVerdict {
        let k = now.as_nanos() / self.every.as_nanos();
        let start = SimTime::ZERO + self.every.saturating_mul(k);
        if k >= 1 && now < start + self.length {
            GuardVerdict::WaitUntil(start + self.length)
        } else {
            GuardVerdict::Pass
        }
    }

    /// Whether it is pausing (1) or not (0).
    fn gauges(&self, now: SimTime, out: &mut Vec<super::Gauge>) {
        let k = now.as_nanos() / self.every.as_nanos();
        let start = SimTime::ZERO + self.every.saturating_mul(k);
        let paused = k >= 1 && now < start + self.length;
        out.push(super::Gauge {
            name: "paused",
            provider: None,
            part: None,
            value: if paused { 1.0 } else { 0.0 },
            limit: Some(1.0),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_two_seconds_every_fifty_five() {
        let mut p = Pause {
            every: SimDuration::from_secs(55),
            length: SimDuration::from_secs(2),
        };
        let a = Attempt {
            provider: 0,
            input: 1,
            output: 1,
            retry: false,
        };
        let s = SimTime::from_secs;
        assert_eq!(p.check(s(1), &a), GuardVerdict::Pass);
        assert_eq!(p.check(s(55), &a), GuardVerdict::WaitUntil(s(57)));
        assert_eq!(
            p.check(SimTime::from_millis(56_500), &a),
            GuardVerdict::WaitUntil(s(57))
        );
        assert_eq!(p.check(s(57), &a), GuardVerdict::Pass);
        assert_eq!(p.check(s(111), &a), GuardVerdict::WaitUntil(s(112)));
    }
}
