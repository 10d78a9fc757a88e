//! Rate-limiter models. Each takes `now` as an argument and answers whether an amount may
//! pass; a "no" says when it could first pass, or that it never can
//! ([`Verdict::NotUntil`], [`Verdict::Never`]), like `governor`'s `NotUntil` and
//! `InsufficientCapacity`.
//!
//! One file per algorithm, owning its parameters ([`LimitParams`]), their parsing and
//! the facts derived from them; the `registry!` invocation below lists them once, and
//! from it come [`LimitKind`] (a limit as configured), [`LimiterState`] (the closed set
//! the engine dispatches on, without boxing) and [`KINDS`] (the names a scenario file
//! may give). Adding an algorithm is a new file, its `mod` line and one registry line.

mod fixed_window;
mod gcra;
mod sliding_window;
mod token_bucket;

pub use fixed_window::{FixedWindow, FixedWindowParams};
pub use gcra::{Gcra, GcraParams};
pub use sliding_window::{SlidingWindow, SlidingWindowParams};
pub use token_bucket::{TokenBucket, TokenBucketParams};

use std::fmt;

use crate::keys::Invalid;
use crate::keys::{one_of, Keys, R};
use crate::time::{SimDuration, SimTime};

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
    /// Every unit, in the order error messages list them.
    pub const ALL: [Unit; 4] = [
        Unit::Requests,
        Unit::Tokens,
        Unit::InputTokens,
        Unit::OutputTokens,
    ];

    /// The unit a scenario file names `name`.
    pub fn from_name(name: &str) -> Option<Unit> {
        Unit::ALL.into_iter().find(|u| u.name() == name)
    }

    /// The amount a request of `input` and `output` tokens uses of this unit (a sum
    /// past `u64::MAX` stays there, more than any limit holds, rather than wrapping).
    pub fn amount(self, input: u64, output: u64) -> u64 {
        match self {
            Unit::Requests => 1,
            Unit::Tokens => input.saturating_add(output),
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

/// Parameters a limiter cannot be built with, and which parameter is at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LimiterError {
    /// A length, count or rate that must be above zero (and finite) is not.
    #[error("{field} must be positive (and finite)")]
    NotPositive {
        /// The parameter.
        field: &'static str,
    },
    /// A GCRA's emission interval (`period / limit`) would be under a nanosecond.
    #[error("limit per period is finer than 1 ns")]
    TooFine,
    /// A GCRA's burst tolerance (`period / limit * burst`) overflows the clock.
    #[error("burst {burst} is too large for this rate")]
    BurstTooLarge {
        /// The burst asked for.
        burst: u64,
    },
}

impl LimiterError {
    /// The parameter at fault, named as in scenario files.
    pub fn field(&self) -> &'static str {
        match self {
            LimiterError::NotPositive { field } => field,
            LimiterError::TooFine => "limit",
            LimiterError::BurstTooLarge { .. } => "burst",
        }
    }

    /// The error placed at its parameter's key in `keys`.
    pub(crate) fn at(self, keys: &Keys) -> Invalid {
        Invalid {
            path: keys.at(self.field()),
            message: self.to_string(),
        }
    }
}

/// `Ok(())` when `ok`, else the error that `field` must be positive.
pub(crate) fn check_positive(ok: bool, field: &'static str) -> Result<(), LimiterError> {
    if ok {
        Ok(())
    } else {
        Err(LimiterError::NotPositive { field })
    }
}

/// What each limiter kind's parameters provide: the limiter they build and the facts the
/// rest of ratesim derives from a limit. Each implementation also has an inherent
/// `parse(&Keys) -> R<Self>` reading its `KEYS` from a scenario file.
pub trait LimitParams: Clone + fmt::Debug + PartialEq {
    /// The `kind` a scenario file gives, e.g. `"sliding_window"`.
    const NAME: &'static str;
    /// The settings of this kind, besides `kind`, `unit` and `count_rejected`.
    const KEYS: &'static [&'static str];
    /// The limiter model.
    type Limiter: Limiter;
    /// A fresh limiter, in its initial state.
    fn build(&self) -> Self::Limiter;
    /// A short label, e.g. `sliding 8/60s`.
    fn label(&self) -> String;
    /// The sustained rate, in units per minute (a provider's published RPM or TPM).
    fn per_minute(&self) -> f64;
    /// The most it can admit within `[0, t]` (seconds), for the capacity bound.
    fn admissible(&self, t: f64) -> f64;
}

/// The settings every rate limit takes besides its kind's own.
const COMMON_FIRST: &str = "unit";
const COMMON_LAST: &str = "count_rejected";

/// The registry: one line per limiter kind, `Variant(Params => Limiter)`.
macro_rules! registry {
    ($($(#[$doc:meta])* $variant:ident($params:ident => $limiter:ident),)*) => {
        /// A rate limit's algorithm and its parameters.
        #[derive(Clone, Debug, PartialEq)]
        pub enum LimitKind {
            $($(#[$doc])* $variant($params),)*
        }

        /// The limiter models, as one enum so the engine dispatches without boxing.
        #[derive(Clone, Debug)]
        pub enum LimiterState {
            $($(#[$doc])* $variant($limiter),)*
        }

        /// The `kind` names of the rate limits, in registry order.
        pub const KINDS: &[&str] = &[$(<$params as LimitParams>::NAME),*];

        impl LimitKind {
            /// The `kind` a scenario file gives.
            pub fn name(&self) -> &'static str {
                match self {
                    $(LimitKind::$variant(_) => <$params as LimitParams>::NAME,)*
                }
            }

            /// A fresh limiter, in its initial state.
            pub fn build(&self) -> LimiterState {
                match self {
                    $(LimitKind::$variant(p) => LimiterState::$variant(p.build()),)*
                }
            }

            /// A short label, e.g. `sliding 8/60s`.
            pub fn label(&self) -> String {
                match self {
                    $(LimitKind::$variant(p) => p.label(),)*
                }
            }

            /// The sustained rate, in units per minute.
            pub fn per_minute(&self) -> f64 {
                match self {
                    $(LimitKind::$variant(p) => p.per_minute(),)*
                }
            }

            /// The most it can admit within `[0, t]` (seconds).
            pub fn admissible(&self, t: f64) -> f64 {
                match self {
                    $(LimitKind::$variant(p) => p.admissible(t),)*
                }
            }

            /// Reads a limit of kind `name` from `keys`; `None` for a kind not registered.
            fn parse(name: &str, keys: &Keys) -> Option<R<LimitKind>> {
                $(if name == <$params as LimitParams>::NAME {
                    let parsed = keys
                        .only(name, &settings(<$params as LimitParams>::KEYS))
                        .and_then(|()| $params::parse(keys));
                    return Some(parsed.map(LimitKind::$variant));
                })*
                None
            }
        }

        impl Limiter for LimiterState {
            fn check(&mut self, now: SimTime, amount: u64) -> Verdict {
                match self {
                    $(LimiterState::$variant(l) => l.check(now, amount),)*
                }
            }
            fn consume(&mut self, now: SimTime, amount: u64) {
                match self {
                    $(LimiterState::$variant(l) => l.consume(now, amount),)*
                }
            }
            fn exhaust(&mut self, now: SimTime) {
                match self {
                    $(LimiterState::$variant(l) => l.exhaust(now),)*
                }
            }
            fn usage(&self, now: SimTime) -> Usage {
                match self {
                    $(LimiterState::$variant(l) => l.usage(now),)*
                }
            }
            fn sync(&mut self, now: SimTime, used: f64) {
                match self {
                    $(LimiterState::$variant(l) => l.sync(now, used),)*
                }
            }
        }
    };
}

registry! {
    /// Exact sliding-window log.
    SlidingWindow(SlidingWindowParams => SlidingWindow),
    /// Fixed window aligned at time zero.
    FixedWindow(FixedWindowParams => FixedWindow),
    /// Token bucket, continuous or discrete refill.
    TokenBucket(TokenBucketParams => TokenBucket),
    /// Generic cell rate algorithm.
    Gcra(GcraParams => Gcra),
}

/// Every setting of a kind whose own settings are `own`, in the order messages list them.
fn settings(own: &[&'static str]) -> Vec<&'static str> {
    let mut all = vec![COMMON_FIRST];
    all.extend_from_slice(own);
    all.push(COMMON_LAST);
    all
}

/// One limit of a provider, as configured.
#[derive(Clone, Debug, PartialEq)]
pub struct LimitSpec {
    /// The algorithm and its parameters.
    pub kind: LimitKind,
    /// What the limit counts.
    pub unit: Unit,
    /// Whether a rejected request still uses up this limit.
    pub count_rejected: bool,
}

impl LimitSpec {
    /// A fresh limiter, in its initial state.
    pub fn build(&self) -> LimiterState {
        self.kind.build()
    }

    /// A short label, e.g. `sliding 8/60s requests`.
    pub fn label(&self) -> String {
        format!("{} {}", self.kind.label(), self.unit.name())
    }

    /// Reads a rate limit of kind `kind` (already read from `keys`); `None` when no
    /// limiter is registered under that name.
    pub(crate) fn parse(kind: &str, keys: &Keys) -> Option<R<LimitSpec>> {
        // The kind and its keys first: a bad common key must not hide an unknown kind
        // or a key the kind does not take.
        let kind = match LimitKind::parse(kind, keys)? {
            Ok(k) => k,
            Err(e) => return Some(Err(e)),
        };
        let count_rejected = match keys.bool(COMMON_LAST) {
            Ok(c) => c.unwrap_or(false),
            Err(e) => return Some(Err(e)),
        };
        Some(unit(keys).map(|unit| LimitSpec {
            kind,
            unit,
            count_rejected,
        }))
    }
}

fn unit(keys: &Keys) -> R<Unit> {
    let names: Vec<&str> = Unit::ALL.iter().map(|u| u.name()).collect();
    let expected = one_of(&names);
    let name = keys.require(
        keys.str(COMMON_FIRST)?,
        COMMON_FIRST,
        &format!("what the limit counts: {expected}"),
    )?;
    match Unit::from_name(name) {
        Some(u) => Ok(u),
        None => keys.invalid(
            COMMON_FIRST,
            format!("unknown unit `{name}`; expected {expected}"),
        ),
    }
}

/// The most any rate limit may hold or admit per period, in its unit (10^15): a
/// window's or GCRA's `limit` and `burst`, a bucket's `capacity` and `refill_per_s`.
pub const MAX_LIMIT: u64 = 1_000_000_000_000_000;

/// A whole-number amount of a limit at `key`: positive and at most [`MAX_LIMIT`].
pub(crate) fn amount(keys: &Keys, key: &str) -> R<Option<u64>> {
    keys.at_most(key, MAX_LIMIT)
}

/// A real amount of a limit (or per second) at `key`: > 0 and at most [`MAX_LIMIT`].
pub(crate) fn real_amount(keys: &Keys, key: &str) -> R<Option<f64>> {
    let v = keys.positive(key)?;
    if let Some(x) = v {
        if x > MAX_LIMIT as f64 {
            return keys.invalid(
                key,
                format!("{key} must be at most {MAX_LIMIT} (got {x:e})"),
            );
        }
    }
    Ok(v)
}

/// A window length and the most a window holds (`window`, `limit`), for the window kinds.
pub(crate) fn window_and_limit(keys: &Keys) -> R<(SimDuration, u64)> {
    let window = keys.require(
        keys.duration("window")?,
        "window",
        crate::keys::DURATION_HELP,
    )?;
    let limit = keys.require(
        amount(keys, "limit")?,
        "limit",
        "the most a window may hold",
    )?;
    Ok((window, limit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::KeyPath;

    fn parse(text: &str) -> R<LimitSpec> {
        let t: toml::Table = text.parse().expect("valid TOML");
        let k = Keys::new(&t, KeyPath::default().key("limits").index(0));
        let kind = k.kind(KINDS)?;
        LimitSpec::parse(kind, &k).expect("a registered kind")
    }

    #[test]
    fn every_registered_kind_parses_and_labels_itself() {
        let cases = [
            (
                "kind = \"sliding_window\"\nwindow = \"60s\"\nlimit = 8",
                "sliding 8/60s",
            ),
            (
                "kind = \"fixed_window\"\nwindow = \"1m\"\nlimit = 8",
                "fixed 8/60s",
            ),
            (
                "kind = \"token_bucket\"\ncapacity = 10\nrefill_per_s = 0.5",
                "bucket 10+0.5/s",
            ),
            ("kind = \"gcra\"\nlimit = 10\nperiod = \"1s\"", "gcra 10/1s"),
        ];
        // A per-minute refill that is long to write per second.
        let tpm = parse("kind = \"token_bucket\"\ncapacity = 8000\nrefill_per_s = 133.33333333333334\nunit = \"output_tokens\"").unwrap();
        assert_eq!(tpm.label(), "bucket 8000+8000/min output_tokens");
        assert_eq!(KINDS.len(), cases.len());
        for (i, (text, label)) in cases.into_iter().enumerate() {
            let spec = parse(&format!("{text}\nunit = \"requests\"")).unwrap();
            assert_eq!(spec.kind.name(), KINDS[i]);
            assert_eq!(spec.label(), format!("{label} requests"));
            assert!(!spec.count_rejected);
        }
    }

    #[test]
    fn a_key_of_another_kind_is_refused_with_this_kinds_settings() {
        let e = parse(
            "kind = \"gcra\"\nlimit = 1\nperiod = \"1s\"\nunit = \"tokens\"\nwindow = \"1s\"",
        )
        .unwrap_err();
        assert_eq!(e.path.to_string(), "limits[0].window");
        assert_eq!(
            e.message,
            "not a setting of kind = \"gcra\"; it takes: unit, limit, period, burst, count_rejected"
        );
    }

    #[test]
    fn the_unit_is_required_and_checked() {
        let e = parse("kind = \"sliding_window\"\nwindow = \"60s\"\nlimit = 8").unwrap_err();
        assert_eq!(
            e.message,
            "missing; what the limit counts: \"requests\", \"tokens\", \"input_tokens\" or \"output_tokens\""
        );
        let e = parse("kind = \"sliding_window\"\nwindow = \"60s\"\nlimit = 8\nunit = \"reqs\"")
            .unwrap_err();
        assert!(e
            .message
            .starts_with("unknown unit `reqs`; expected \"requests\""));
    }

    #[test]
    fn a_constructor_error_lands_on_its_key() {
        let e = parse("kind = \"gcra\"\nlimit = 10000000000\nperiod = \"1s\"\nunit = \"requests\"")
            .unwrap_err();
        assert_eq!(
            (e.path.to_string(), e.message.as_str()),
            (
                "limits[0].limit".into(),
                "limit per period is finer than 1 ns"
            )
        );
    }
}
