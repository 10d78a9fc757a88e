//! LiteLLM's deployment cooldowns (router `cooldown_time` 5 s, `allowed_fails` 3): a
//! provider cools down when, within the current minute, its failures exceed
//! `allowed_fails`, or more than `failure_rate` (50 %) of at least `min_requests` (5)
//! requests failed; and at once on a 429 when the route has more than one provider.
//! While cooling it is skipped (LiteLLM errors when every deployment cools) or, with
//! `while_out = "wait"`, waited for.

use super::{
    Attempt, Feedback, Guard, GuardContext, GuardParams, GuardVerdict, OutUntil, Setting, WhileOut,
};
use crate::keys::{Keys, R};
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// Settings of `kind = "cooldown"`.
#[derive(Clone, Debug, PartialEq)]
pub struct CooldownParams {
    /// Failures allowed in a minute before a cooldown.
    pub allowed_fails: u32,
    /// Cooldown length.
    pub cooldown_time: SimDuration,
    /// A 429 cools the provider at once when the route has more than one provider.
    pub immediate_on_429: bool,
    /// Cool when failures exceed this share of the minute's requests...
    pub failure_rate: f64,
    /// ...and the minute has at least this many requests.
    pub min_requests: u32,
    /// Several providers in the route.
    pub multi: bool,
    /// Skip or wait while cooling.
    pub while_out: WhileOut,
}

impl CooldownParams {
    /// Reads LiteLLM's settings with its defaults: `allowed_fails` 3, `cooldown_time`
    /// 5 s, `immediate_on_429` true, `failure_rate` 0.5, `min_requests` 5, and
    /// `while_out` (skip).
    pub(crate) fn parse(keys: &Keys, cx: &GuardContext) -> R<Self> {
        Ok(CooldownParams {
            allowed_fails: match keys.int("allowed_fails")? {
                None => 3,
                Some(a) if (0..=u32::MAX as i64).contains(&a) => a as u32,
                Some(a) => {
                    return keys.invalid("allowed_fails", format!("a whole number >= 0 (got {a})"))
                }
            },
            cooldown_time: keys
                .duration("cooldown_time")?
                .unwrap_or(SimDuration::from_secs(5)),
            immediate_on_429: keys.bool("immediate_on_429")?.unwrap_or(true),
            failure_rate: keys.share("failure_rate", 0.5, 1.0)?,
            min_requests: keys.count("min_requests")?.unwrap_or(5),
            multi: cx.route_size > 1,
            while_out: super::while_out(keys)?,
        })
    }
}

impl GuardParams for CooldownParams {
    const NAME: &'static str = "cooldown";
    const KEYS: &'static [&'static str] = &[
        "allowed_fails",
        "cooldown_time",
        "immediate_on_429",
        "failure_rate",
        "min_requests",
        "while_out",
    ];

    fn build(&self, _rng: &dyn Fn() -> SimRng) -> Box<dyn Guard> {
        Box::new(Cooldown::new(
            self.allowed_fails,
            self.cooldown_time,
            self.immediate_on_429 && self.multi,
            self.failure_rate,
            self.min_requests,
            self.while_out,
        ))
    }

    fn settings(&self) -> Vec<(&'static str, Setting)> {
        vec![
            ("allowed_fails", Setting::Int(self.allowed_fails as u64)),
            ("cooldown_time", Setting::Duration(self.cooldown_time)),
            ("immediate_on_429", Setting::Bool(self.immediate_on_429)),
            ("failure_rate", Setting::Float(self.failure_rate)),
            ("min_requests", Setting::Int(self.min_requests as u64)),
            ("while_out", Setting::Str(self.while_out.name())),
        ]
    }
}

#[derive(Clone, Copy, Default)]
struct Minute {
    index: u64,
    requests: u32,
    fails: u32,
}

/// Per-provider counts of the current minute and cooldowns.
pub struct Cooldown {
    allowed_fails: u32,
    cooldown_time: SimDuration,
    immediate_on_429: bool,
    failure_rate: f64,
    min_requests: u32,
    while_out: WhileOut,
    minutes: Vec<Minute>,
    out: OutUntil,
}

impl Cooldown {
    /// The rule with its parameters.
    pub fn new(
        allowed_fails: u32,
        cooldown_time: SimDuration,
        immediate_on_429: bool,
        failure_rate: f64,
        min_requests: u32,
        while_out: WhileOut,
    ) -> Self {
        Cooldown {
            allowed_fails,
            cooldown_time,
            immediate_on_429,
            failure_rate,
            min_requests,
            while_out,
            minutes: Vec::new(),
            out: OutUntil::default(),
        }
    }

    fn minute(&mut self, now: SimTime, provider: usize) -> &mut Minute {
        if self.minutes.len() <= provider {
            self.minutes.resize(provider + 1, Minute::default());
        }
        let index = now.as_nanos() / SimDuration::from_secs(60).as_nanos();
        let m = &mut self.minutes[provider];
        if m.index != index {
            *m = Minute {
                index,
                ..Minute::default()
            };
        }
        m
    }
}

impl Guard for Cooldown {
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

    fn on_response(&mut self, now: SimTime, f: &Feedback) {
        let (allowed, rate, min) = (self.allowed_fails, self.failure_rate, self.min_requests);
        let m = self.minute(now, f.provider);
        m.requests += 1;
        let Some(status) = f.status else {
            return;
        };
        m.fails += 1;
        let too_many = m.fails > allowed;
        let too_often = m.requests >= min && m.fails as f64 > rate * m.requests as f64;
        if too_many || too_often || (status == 429 && self.immediate_on_429) {
            self.out.set(now, f.provider, now + self.cooldown_time);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Hint;

    fn fb(provider: usize, status: Option<u16>) -> Feedback<'static> {
        Feedback {
            provider,
            status,
            hint: Hint::Unknown,
            sent_at: SimTime::ZERO,
            cost: 0.0,
            retry: false,
            usage: &[],
        }
    }

    #[test]
    fn a_429_ejects_exactly_that_provider_for_cooldown_time() {
        let mut c = Cooldown::new(3, SimDuration::from_secs(5), true, 0.5, 5, WhileOut::Skip);
        let t = SimTime::from_secs(10);
        c.on_response(t, &fb(1, Some(429)));
        let to = |p| Attempt {
            provider: p,
            input: 1,
            output: 1,
            retry: false,
        };
        assert_eq!(c.check(t, &to(1)), GuardVerdict::Unavailable);
        assert_eq!(c.check(t, &to(0)), GuardVerdict::Pass);
        assert_eq!(
            c.check(SimTime::from_millis(14_999), &to(1)),
            GuardVerdict::Unavailable
        );
        assert_eq!(c.check(SimTime::from_secs(15), &to(1)), GuardVerdict::Pass);
    }

    #[test]
    fn allowed_fails_and_failure_rate() {
        let to0 = Attempt {
            provider: 0,
            input: 1,
            output: 1,
            retry: false,
        };
        let t = SimTime::from_secs(1);
        // Single deployment: 503s count; the 4th failure (> 3 allowed) cools.
        let mut c = Cooldown::new(
            3,
            SimDuration::from_secs(5),
            false,
            1.0,
            1000,
            WhileOut::Wait,
        );
        for _ in 0..3 {
            c.on_response(t, &fb(0, Some(503)));
        }
        assert_eq!(c.check(t, &to0), GuardVerdict::Pass);
        c.on_response(t, &fb(0, Some(503)));
        assert_eq!(
            c.check(t, &to0),
            GuardVerdict::WaitUntil(SimTime::from_secs(6))
        );
        // More than half of at least 5 requests failed.
        let mut c = Cooldown::new(
            100,
            SimDuration::from_secs(5),
            false,
            0.5,
            5,
            WhileOut::Skip,
        );
        for _ in 0..2 {
            c.on_response(t, &fb(0, None));
        }
        for _ in 0..2 {
            c.on_response(t, &fb(0, Some(500)));
        }
        assert_eq!(c.check(t, &to0), GuardVerdict::Pass);
        c.on_response(t, &fb(0, Some(500)));
        assert_eq!(c.check(t, &to0), GuardVerdict::Unavailable);
    }
}
