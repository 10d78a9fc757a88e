//! Rate-limiter models. Each takes `now` as an argument and answers whether an amount may
//! pass; a "no" says when it could first pass, or that it never can
//! ([`Verdict::NotUntil`], [`Verdict::Never`]), like `governor`'s `NotUntil` and
//! `InsufficientCapacity`.
//!
//! One file per algorithm; [`LimiterState`] is the closed set the engine dispatches on.
//! Adding an algorithm is a new file, a variant here and a key in the scenario parser.

mod fixed_window;
mod gcra;
mod sliding_window;
mod token_bucket;

pub use fixed_window::FixedWindow;
pub use gcra::Gcra;
pub use sliding_window::SlidingWindow;
pub use token_bucket::TokenBucket;

use crate::time::SimTime;

/// What a limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// One per request.
    Requests,
    /// Input plus output tokens.
    Tokens,
    /// Input tokens only (ITPM).
    InputTokens,
    /// Output tokens only (OTPM).
    OutputTokens,
}

impl Unit {
    /// The amount a request of `input` and `output` tokens uses of this unit.
    pub fn amount(self, input: u64, output: u64) -> u64 {
        match self {
            Unit::Requests => 1,
            Unit::Tokens => input + output,
            Unit::InputTokens => input,
            Unit::OutputTokens => output,
        }
    }

    /// The name used in scenario files and headers.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Requests => "requests",
            Unit::Tokens => "tokens",
            Unit::InputTokens => "input_tokens",
            Unit::OutputTokens => "output_tokens",
        }
    }
}

/// A limiter's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The amount may pass now.
    Admit,
    /// Not now; absent other traffic it would pass at this time, and not before.
    NotUntil(SimTime),
    /// The amount exceeds what the limit can ever hold.
    Never,
}

impl Verdict {
    /// Combines the verdicts of limits that must all admit: the latest "not until" wins,
    /// and "never" beats everything.
    pub fn and(self, other: Verdict) -> Verdict {
        match (self, other) {
            (Verdict::Never, _) | (_, Verdict::Never) => Verdict::Never,
            (Verdict::NotUntil(a), Verdict::NotUntil(b)) => Verdict::NotUntil(a.max(b)),
            (Verdict::NotUntil(a), Verdict::Admit) | (Verdict::Admit, Verdict::NotUntil(a)) => {
                Verdict::NotUntil(a)
            }
            (Verdict::Admit, Verdict::Admit) => Verdict::Admit,
        }
    }
}

/// How full a limit is at some instant: what a provider reports in its rate-limit headers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Usage {
    /// Amount in use (in the window, or taken from the bucket).
    pub used: f64,
    /// The most that can be in use.
    pub limit: f64,
    /// When the limit will be fully available again, absent other traffic.
    pub reset: SimTime,
}

/// The contract every limiter model follows. Time must not go backwards between calls.
pub trait Limiter {
    /// Whether `amount` may pass at `now`. Does not use up anything.
    fn check(&mut self, now: SimTime, amount: u64) -> Verdict;
    /// Uses up `amount` at `now` (after an admission, or a rejection that counts).
    fn consume(&mut self, now: SimTime, amount: u64);
    /// Leaves no quota at `now` (the online-state reset of a Copilot-like provider).
    fn exhaust(&mut self, now: SimTime);
    /// How full the limit is at `now` (not before the last call). Read-only, so that
    /// observing a run never changes it.
    fn usage(&self, now: SimTime) -> Usage;
    /// Raises the usage at `now` to at least `used` (a client's copy of a provider's
    /// limit catching up with the provider's rate-limit headers). Never lowers it.
    fn sync(&mut self, now: SimTime, used: f64) {
        let have = self.usage(now).used;
        if used > have + 1e-9 {
            self.consume(now, (used - have).ceil() as u64);
        }
    }
}

/// The limiter models, as one enum so the engine dispatches without boxing.
#[derive(Clone, Debug)]
pub enum LimiterState {
    /// Exact sliding-window log.
    SlidingWindow(SlidingWindow),
    /// Fixed window aligned at time zero.
    FixedWindow(FixedWindow),
    /// Token bucket, continuous or discrete refill.
    TokenBucket(TokenBucket),
    /// Generic cell rate algorithm.
    Gcra(Gcra),
}

macro_rules! dispatch {
    ($self:ident, $l:ident => $e:expr) => {
        match $self {
            LimiterState::SlidingWindow($l) => $e,
            LimiterState::FixedWindow($l) => $e,
            LimiterState::TokenBucket($l) => $e,
            LimiterState::Gcra($l) => $e,
        }
    };
}

impl Limiter for LimiterState {
    fn check(&mut self, now: SimTime, amount: u64) -> Verdict {
        dispatch!(self, l => l.check(now, amount))
    }
    fn consume(&mut self, now: SimTime, amount: u64) {
        dispatch!(self, l => l.consume(now, amount))
    }
    fn exhaust(&mut self, now: SimTime) {
        dispatch!(self, l => l.exhaust(now))
    }
    fn usage(&self, now: SimTime) -> Usage {
        dispatch!(self, l => l.usage(now))
    }
    fn sync(&mut self, now: SimTime, used: f64) {
        dispatch!(self, l => l.sync(now, used))
    }
}
