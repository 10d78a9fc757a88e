//! A provider's rate limits checked together: the one admission rule of a provider
//! (simulated here, or served over HTTP by a live mock), whose checks the client-side
//! pacer reuses on its copy of the published limits.
//!
//! Every limit must admit a request; the latest "not until" of those that refuse is the
//! hint, and "never" beats everything. A rejected request still uses up the limits that
//! count rejections, and then the hint includes it. A decision names which limits
//! refused, so that a chart can mark the limit that said no.

use super::limiter::{Limiter, LimiterState, Unit, Usage, Verdict};
use super::LimitSpec;
use crate::time::SimTime;

/// The most limits one provider can have (a [`LimitSet`] is a 64-bit mask).
pub const MAX_LIMITS: usize = 64;

/// A set of a provider's limits, by their position in its `limits` list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LimitSet(u64);

impl LimitSet {
    /// No limit.
    pub const EMPTY: LimitSet = LimitSet(0);

    /// The set of limit `i` alone.
    pub fn single(i: usize) -> Self {
        let mut set = LimitSet::EMPTY;
        set.insert(i);
        set
    }

    /// Whether limit `i` is in the set.
    pub fn contains(self, i: usize) -> bool {
        i < MAX_LIMITS && self.0 & (1 << i) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The limits in the set, in order.
    pub fn iter(self) -> impl Iterator<Item = usize> {
        (0..MAX_LIMITS).filter(move |&i| self.contains(i))
    }

    fn insert(&mut self, i: usize) {
        if i < MAX_LIMITS {
            self.0 |= 1 << i;
        }
    }
}

/// What a provider's limits say to a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Admitted; every limit took the request.
    Admit,
    /// Rejected.
    Refuse {
        /// When it could pass ([`Verdict::Admit`]: the limits would have admitted it, the
        /// provider refused it for another reason).
        verdict: Verdict,
        /// The limits that refused it.
        refused: LimitSet,
    },
}

/// A provider's limits and what each counts.
#[derive(Clone, Debug)]
pub struct Limits {
    limits: Vec<(LimiterState, Unit, bool)>,
}

impl Limits {
    /// Fresh limiters for `specs`, each in its initial state. At most [`MAX_LIMITS`]
    /// (the scenario parser enforces it); limits beyond are never named in a
    /// [`LimitSet`].
    pub fn new(specs: &[LimitSpec]) -> Self {
        Limits {
            limits: specs
                .iter()
                .map(|s| (s.build(), s.unit, s.count_rejected))
                .collect(),
        }
    }

    /// Whether a request of `input` and `output` tokens would pass every limit at
    /// `now`, and which limits would refuse it. Uses up nothing.
    #[inline]
    pub fn check(&mut self, now: SimTime, input: u64, output: u64) -> (Verdict, LimitSet) {
        let mut verdict = Verdict::Admit;
        let mut refused = LimitSet::EMPTY;
        for (i, (limiter, unit, _)) in self.limits.iter_mut().enumerate() {
            let v = limiter.check(now, unit.amount(input, output));
            if v != Verdict::Admit {
                refused.insert(i);
            }
            verdict = verdict.and(v);
        }
        (verdict, refused)
    }

    /// Every limit takes a request of `input` and `output` tokens at `now`.
    #[inline]
    pub fn consume(&mut self, now: SimTime, input: u64, output: u64) {
        for (limiter, unit, _) in &mut self.limits {
            limiter.consume(now, unit.amount(input, output));
        }
    }

    /// Decides a request of `input` and `output` tokens at `now`: admitted when every
    /// limit admits it and `blocked` is false (`blocked`: something else, a full
    /// concurrency cap, refuses it). An admitted request is taken by every limit; a
    /// rejected one by the limits that count rejections, and then its hint includes it.
    #[inline]
    pub fn admit(&mut self, now: SimTime, input: u64, output: u64, blocked: bool) -> Decision {
        let (mut verdict, refused) = self.check(now, input, output);
        if verdict == Verdict::Admit && !blocked {
            self.consume(now, input, output);
            return Decision::Admit;
        }
        let mut counted = false;
        for (limiter, unit, count_rejected) in &mut self.limits {
            if *count_rejected {
                limiter.consume(now, unit.amount(input, output));
                counted = true;
            }
        }
        if counted && verdict != Verdict::Admit {
            // The rejected request now counts too: the hint must include it.
            verdict = match self.check(now, input, output).0 {
                Verdict::Admit => Verdict::NotUntil(now),
                v => v,
            };
        }
        Decision::Refuse { verdict, refused }
    }

    /// Leaves no quota in any limit at `now` (an online-state reset).
    pub fn exhaust(&mut self, now: SimTime) {
        for (limiter, _, _) in &mut self.limits {
            limiter.exhaust(now);
        }
    }

    /// Usage of each limit at `now`, in order (for rate-limit headers and timelines).
    pub fn usage(&self, now: SimTime) -> impl Iterator<Item = Usage> + '_ {
        self.limits.iter().map(move |(l, _, _)| l.usage(now))
    }

    /// Raises each limit's usage at `now` to at least what `usage` reports for it (a
    /// client's copy of a provider's limits catching up with its rate-limit headers).
    pub fn sync(&mut self, now: SimTime, usage: &[Usage]) {
        for ((limiter, _, _), u) in self.limits.iter_mut().zip(usage) {
            limiter.sync(now, u.used);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::limiter::SlidingWindowParams;
    use crate::provider::LimitKind;
    use crate::time::SimDuration;

    fn s(x: u64) -> SimTime {
        SimTime::from_secs(x)
    }

    fn window(limit: u64, unit: Unit, count_rejected: bool) -> LimitSpec {
        LimitSpec {
            kind: LimitKind::SlidingWindow(
                SlidingWindowParams::new(SimDuration::from_secs(60), limit).expect("valid"),
            ),
            unit,
            count_rejected,
        }
    }

    #[test]
    fn the_limit_that_refuses_is_named_and_the_latest_hint_wins() {
        // 2 requests and 1,000 tokens per minute.
        let mut l = Limits::new(&[
            window(2, Unit::Requests, false),
            window(1000, Unit::Tokens, false),
        ]);
        assert_eq!(l.admit(s(0), 300, 300, false), Decision::Admit);
        // 600 more tokens: only the token limit refuses, until the first request leaves.
        assert_eq!(
            l.admit(s(1), 300, 300, false),
            Decision::Refuse {
                verdict: Verdict::NotUntil(s(60)),
                refused: LimitSet::single(1)
            }
        );
        assert_eq!(l.admit(s(2), 10, 10, false), Decision::Admit);
        // A third request: the request limit refuses; with 600 tokens, both do.
        assert_eq!(
            l.admit(s(3), 10, 10, false),
            Decision::Refuse {
                verdict: Verdict::NotUntil(s(60)),
                refused: LimitSet::single(0)
            }
        );
        let Decision::Refuse { refused, .. } = l.admit(s(3), 300, 300, false) else {
            panic!("two requests are in the window");
        };
        assert_eq!(refused.iter().collect::<Vec<_>>(), vec![0, 1]);
        // A refusal used nothing up: at 60 s the first request left the window.
        assert_eq!(l.admit(s(60), 10, 10, false), Decision::Admit);
    }

    #[test]
    fn a_blocked_request_is_refused_without_a_limit_and_takes_nothing() {
        let mut l = Limits::new(&[window(1, Unit::Requests, false)]);
        assert_eq!(
            l.admit(s(0), 1, 1, true),
            Decision::Refuse {
                verdict: Verdict::Admit,
                refused: LimitSet::EMPTY
            }
        );
        assert_eq!(l.admit(s(0), 1, 1, false), Decision::Admit);
    }

    #[test]
    fn a_counted_rejection_pushes_the_hint_back() {
        let mut l = Limits::new(&[window(1, Unit::Requests, true)]);
        assert_eq!(l.admit(s(0), 1, 1, false), Decision::Admit);
        // The rejection at 30 s counts: the window holds it until 90 s.
        assert_eq!(
            l.admit(s(30), 1, 1, false),
            Decision::Refuse {
                verdict: Verdict::NotUntil(s(90)),
                refused: LimitSet::single(0)
            }
        );
        assert!(matches!(
            l.admit(s(60), 1, 1, false),
            Decision::Refuse { .. }
        ));
    }

    #[test]
    fn sync_raises_usage_to_the_headers() {
        let mut l = Limits::new(&[window(10, Unit::Requests, false)]);
        let reported = Usage {
            used: 4.0,
            limit: 10.0,
            reset: s(60),
        };
        l.sync(s(0), &[reported]);
        assert_eq!(l.usage(s(0)).next().map(|u| u.used), Some(4.0));
        // Never lowers it.
        l.sync(
            s(0),
            &[Usage {
                used: 1.0,
                ..reported
            }],
        );
        assert_eq!(l.usage(s(0)).next().map(|u| u.used), Some(4.0));
    }

    #[test]
    fn a_1000_token_window_never_admits_tokens_whose_sum_passes_u64() {
        // Guards: input + output wrapped, so 2^63 + 2^63 tokens counted as 0 and were
        // admitted, and a rejection that counts wrapped the window's total.
        let half = 1u64 << 63;
        let mut l = Limits::new(&[window(1000, Unit::Tokens, true)]);
        assert_eq!(
            l.admit(s(0), half, half, false),
            Decision::Refuse {
                verdict: Verdict::Never,
                refused: LimitSet::single(0)
            }
        );
        assert_eq!(l.check(s(0), u64::MAX, u64::MAX).0, Verdict::Never);
        assert_eq!(l.check(s(1), 500, 400).0, Verdict::NotUntil(s(60)));
        assert_eq!(l.check(s(61), 500, 400).0, Verdict::Admit);
    }
}
