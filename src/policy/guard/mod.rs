//! Client-side admission guards: checks a policy runs, in order, before it sends a
//! request. A guard can let the request pass, make it wait, or refuse it locally; it
//! learns from every response. One file per guard, owning its settings
//! ([`GuardParams`]), their parsing and defaults, and its behaviour; the `registry!`
//! invocation below lists them once, and from it come [`GuardSpec`] and [`KINDS`].
//! Adding a guard is a new file, its `mod` and `pub use` lines and one registry line.

mod adaptive_throttle;
mod aimd;
mod circuit_breaker;
mod client_bucket;
mod cooldown;
mod eject;
mod pacer;
mod pause;
mod predictive;
mod recent_failures;
mod retry_budget;
mod spend_budget;

pub use adaptive_throttle::{AdaptiveThrottle, AdaptiveThrottleParams};
pub use aimd::{Aimd, AimdParams};
pub use circuit_breaker::{CircuitBreaker, CircuitBreakerParams};
pub use client_bucket::{ClientBucket, ClientBucketParams};
pub use cooldown::{Cooldown, CooldownParams};
pub use eject::{Eject, EjectParams};
pub use pacer::{Pacer, PacerParams};
pub use pause::{Pause, PauseParams};
pub use predictive::{PredictiveGuard, PredictiveParams};
pub use recent_failures::{RecentFailures, RecentFailuresParams};
pub use retry_budget::{RetryBudget, RetryBudgetParams, RetryBudgetStyle};
pub use spend_budget::{SpendBudget, SpendBudgetParams};

use crate::keys::{one_of, Keys, R};
use crate::provider::limiter::Usage;
use crate::provider::{Hint, ProviderSpec};
use crate::rng::{stream, SimRng, Source};
use crate::time::{SimDuration, SimTime};

/// A request about to be sent, as a guard sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// Provider it goes to.
    pub provider: usize,
    /// Input tokens.
    pub input: u64,
    /// Output tokens (the request's `max_tokens`).
    pub output: u64,
    /// Whether an earlier attempt of the same request failed.
    pub retry: bool,
}

/// A response, as a guard sees it.
#[derive(Clone, Copy, Debug)]
pub struct Feedback<'a> {
    /// Provider that answered.
    pub provider: usize,
    /// `None` when served, else the rejection status.
    pub status: Option<u16>,
    /// The rejection's retry-after hint.
    pub hint: Hint,
    /// When the request was sent.
    pub sent_at: SimTime,
    /// What the request cost (0 for a rejection).
    pub cost: f64,
    /// Whether the attempt answered was a retry.
    pub retry: bool,
    /// The provider's rate-limit headers: every limit's usage at the response.
    pub usage: &'a [Usage],
}

/// One reading of a guard's state, for the limiter timeline: `value` of `name` (against
/// `limit` when it has one), for `provider` or, `None`, the whole client; `part` names
/// one of the provider's published limits (the pacer's copy of it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gauge {
    /// What is measured, e.g. `tokens taken`.
    pub name: &'static str,
    /// The provider it is about, or `None` for the whole client.
    pub provider: Option<usize>,
    /// Index of the provider's limit it copies (the pacer), if any.
    pub part: Option<usize>,
    /// The reading.
    pub value: f64,
    /// What it is held against, if anything.
    pub limit: Option<f64>,
}

/// A guard's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardVerdict {
    /// Send.
    Pass,
    /// Try again at this time.
    WaitUntil(SimTime),
    /// Try again when a response arrives (a client-side concurrency limit is full).
    WaitForResponse,
    /// The provider is out of rotation (cooling, circuit open, ejected): pick another
    /// or move on, without using an attempt.
    Unavailable,
    /// Refused locally (counts as a failed attempt).
    Refuse,
}

/// The behaviour every guard implements. Only `check` is required.
pub trait Guard: Send {
    /// Whether `a` may be sent at `now`. Uses nothing up (see `commit`).
    fn check(&mut self, now: SimTime, a: &Attempt) -> GuardVerdict;
    /// Every guard passed `a`, which is sent at `now`: take what it uses.
    fn commit(&mut self, _now: SimTime, _a: &Attempt) {}
    /// Whether `a` and `b` always get the same verdict from `check`, pass or not (in any
    /// state, at any time), and `check` changes nothing for either but what a second
    /// check at the same time would find unchanged. Then a request waiting behind
    /// another alike one need not ask again when that one was just told to wait: it would
    /// be told the same. False (ask every time) unless a guard knows better.
    fn alike(&self, _a: &Attempt, _b: &Attempt) -> bool {
        false
    }
    /// Whether, when `check` tells `a` to wait, a `check` of `b` right after it, at the
    /// same time, would tell `b` the same, with neither check changing what a second
    /// check at that time would answer: [`Guard::alike`] without its promise that `a`
    /// and `b` also pass alike (the pacer's queue: whatever their sizes, a request asking
    /// behind one told to wait is told the same). A policy asks this only of the last
    /// guard that may wait (see [`Guard::may_wait`]); the guards before it must pass `b`
    /// whenever they pass `a`, so they must be [`Guard::alike`].
    fn alike_when_waiting(&self, a: &Attempt, b: &Attempt) -> bool {
        self.alike(a, b)
    }
    /// Whether `check` may ever answer [`GuardVerdict::WaitUntil`] or
    /// [`GuardVerdict::WaitForResponse`].
    fn may_wait(&self) -> bool {
        true
    }
    /// A response arrived at `now`.
    fn on_response(&mut self, _now: SimTime, _f: &Feedback) {}
    /// Whether this guard reads rate-limit headers (the engine only collects them then).
    fn wants_usage(&self) -> bool {
        false
    }
    /// Its state at `now`, for the limiter timeline (read-only: observing changes
    /// nothing). None by default.
    fn gauges(&self, _now: SimTime, _out: &mut Vec<Gauge>) {}
    /// Whether it takes providers out of rotation ([`Guard::out_until`]): the timeline
    /// then shows when each provider was out.
    fn rotates(&self) -> bool {
        false
    }
    /// Until when this guard keeps `provider` out of rotation, if it does at `now`.
    fn out_until(&self, _now: SimTime, _provider: usize) -> Option<SimTime> {
        None
    }
    /// Total provider-time this guard has taken providers out of rotation.
    fn out_total(&self) -> SimDuration {
        SimDuration::ZERO
    }
    /// Whether the request is sent anyway when this guard has every provider it could
    /// still go to out of rotation (Portkey's circuit breaker), instead of failing.
    fn bypass_when_all_out(&self) -> bool {
        false
    }
}

/// What a health guard does while its provider is out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhileOut {
    /// Refuse locally: a chain moves on to its next provider (LiteLLM's error).
    Skip,
    /// Wait for the earliest recovery.
    Wait,
}

/// What a guard's settings may refer to, while a policy is read.
pub(crate) struct GuardContext<'a> {
    /// The scenario's provider names, by index.
    pub names: &'a [&'a str],
    /// The scenario's providers.
    pub providers: &'a [ProviderSpec],
    /// How many providers the policy's route can use.
    pub route_size: usize,
}

/// What each guard kind's settings provide. Each implementation also has an inherent
/// `parse(&Keys, &GuardContext) -> R<Self>` reading its `KEYS` from a scenario file,
/// with its defaults.
pub trait GuardParams: Clone + std::fmt::Debug + PartialEq {
    /// The `kind` a scenario file gives, e.g. `"cooldown"`.
    const NAME: &'static str;
    /// The settings of this kind, besides `kind`.
    const KEYS: &'static [&'static str];
    /// The guard in its initial state; `rng` gives its random stream, if it draws.
    fn build(&self, rng: &dyn Fn() -> SimRng) -> Box<dyn Guard>;
    /// Every setting as a scenario file would give it, defaults included, so that
    /// reading them back builds these parameters again (`validate --resolved`).
    fn settings(&self) -> Vec<(&'static str, Setting)>;
}

/// A guard setting's value, as a scenario file gives it (for `validate --resolved`).
#[derive(Clone, Debug, PartialEq)]
pub enum Setting {
    /// A whole number.
    Int(u64),
    /// A number.
    Float(f64),
    /// true or false.
    Bool(bool),
    /// A string.
    Str(&'static str),
    /// A duration.
    Duration(SimDuration),
    /// A provider, by index.
    Provider(usize),
    /// Providers, by index.
    Providers(Vec<usize>),
    /// HTTP statuses.
    Statuses(Vec<u16>),
}

impl WhileOut {
    /// The name a scenario file gives.
    pub fn name(self) -> &'static str {
        match self {
            WhileOut::Skip => "skip",
            WhileOut::Wait => "wait",
        }
    }
}

/// The registry: one line per guard kind, `Variant(Params)`.
macro_rules! registry {
    ($($(#[$doc:meta])* $variant:ident($params:ident),)*) => {
        /// A guard, as configured.
        #[derive(Clone, Debug, PartialEq)]
        pub enum GuardSpec {
            $($(#[$doc])* $variant($params),)*
        }

        /// The `kind` names of the guards, in registry order.
        pub const KINDS: &[&str] = &[$(<$params as GuardParams>::NAME),*];

        impl GuardSpec {
            /// The `kind` a scenario file gives.
            pub fn name(&self) -> &'static str {
                match self {
                    $(GuardSpec::$variant(_) => <$params as GuardParams>::NAME,)*
                }
            }

            /// The guard in its initial state. `seed`, `replication`, `policy` and
            /// `index` name the stream of a guard that draws random numbers.
            pub fn build(
                &self,
                seed: u64,
                replication: u64,
                policy: u32,
                index: u32,
            ) -> Box<dyn Guard> {
                let rng = || stream(seed, replication, Source::Guard(policy, index));
                match self {
                    $(GuardSpec::$variant(p) => p.build(&rng),)*
                }
            }

            /// Every setting, defaults included, as a scenario file gives it.
            pub fn settings(&self) -> Vec<(&'static str, Setting)> {
                match self {
                    $(GuardSpec::$variant(p) => p.settings(),)*
                }
            }

            /// Reads a guard from `keys`: its kind, then that kind's settings.
            pub(crate) fn parse(keys: &Keys, cx: &GuardContext) -> R<GuardSpec> {
                let kind = keys.kind(KINDS)?;
                $(if kind == <$params as GuardParams>::NAME {
                    keys.only(kind, <$params as GuardParams>::KEYS)?;
                    return $params::parse(keys, cx).map(GuardSpec::$variant);
                })*
                keys.invalid(
                    "kind",
                    format!("unknown guard kind `{kind}`; expected {}", one_of(KINDS)),
                )
            }
        }
    };
}

registry! {
    /// The article's predictive 429 guard (a TTLCache counter).
    Predictive(PredictiveParams),
    /// The article's client token bucket (discrete ticks).
    ClientBucket(ClientBucketParams),
    /// Google SRE client-side adaptive throttling.
    AdaptiveThrottle(AdaptiveThrottleParams),
    /// A retry budget (Finagle or Envoy style).
    RetryBudget(RetryBudgetParams),
    /// The article's tip: force a pause of `length` every `every`.
    Pause(PauseParams),
    /// Stop using some providers once spend reaches a share of a budget.
    SpendBudget(SpendBudgetParams),
    /// LiteLLM's deployment cooldowns.
    Cooldown(CooldownParams),
    /// Portkey's circuit breaker.
    CircuitBreaker(CircuitBreakerParams),
    /// Helicone: a 429 ejects the provider for its retry-after.
    Eject(EjectParams),
    /// OpenRouter: skip providers that failed recently.
    RecentFailures(RecentFailuresParams),
    /// AIMD adaptive concurrency (Netflix concurrency-limits).
    Aimd(AimdParams),
    /// Header-aware pacer: waits until every limit would admit the request.
    Pacer(PacerParams),
}

/// `while_out = "skip" | "wait"` (skip by default), for the health guards.
pub(crate) fn while_out(keys: &Keys) -> R<WhileOut> {
    match keys.str("while_out")?.unwrap_or("skip") {
        "skip" => Ok(WhileOut::Skip),
        "wait" => Ok(WhileOut::Wait),
        other => keys.invalid(
            "while_out",
            format!("unknown `{other}`; expected \"skip\" (move on, as the gateways do) or \"wait\" (for the earliest recovery)"),
        ),
    }
}

/// Per-provider "out until" times, shared by the health guards, and the total time
/// providers were out (overlapping periods counted once).
#[derive(Clone, Debug, Default)]
pub(crate) struct OutUntil(Vec<SimTime>, SimDuration);

impl OutUntil {
    /// Takes `provider` out from `now` until `until` (extending any current period).
    pub(crate) fn set(&mut self, now: SimTime, provider: usize, until: SimTime) {
        if self.0.len() <= provider {
            self.0.resize(provider + 1, SimTime::ZERO);
        }
        let from = self.0[provider].max(now);
        self.1 += until.saturating_since(from);
        self.0[provider] = self.0[provider].max(until);
    }

    /// Provider-time out of rotation so far.
    pub(crate) fn total(&self) -> SimDuration {
        self.1
    }

    pub(crate) fn verdict(
        &self,
        now: SimTime,
        provider: usize,
        while_out: WhileOut,
    ) -> GuardVerdict {
        match self.until(now, provider) {
            Some(t) => match while_out {
                WhileOut::Skip => GuardVerdict::Unavailable,
                WhileOut::Wait => GuardVerdict::WaitUntil(t),
            },
            None => GuardVerdict::Pass,
        }
    }

    pub(crate) fn until(&self, now: SimTime, provider: usize) -> Option<SimTime> {
        self.0.get(provider).copied().filter(|&t| t > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Invalid, KeyPath};

    fn parse(text: &str, route_size: usize) -> Result<GuardSpec, Invalid> {
        let t: toml::Table = text.parse().expect("valid TOML");
        let cx = GuardContext {
            names: &["claude", "local"],
            providers: &[],
            route_size,
        };
        GuardSpec::parse(&Keys::new(&t, KeyPath::default().key("g")), &cx)
    }

    #[test]
    fn every_registered_kind_parses_with_its_defaults() {
        for kind in KINDS {
            let extra = match *kind {
                "predictive" => "provider = \"claude\"",
                "spend_budget" => "budget_usd = 10\nproviders = [\"local\"]",
                _ => "",
            };
            let spec = parse(&format!("kind = \"{kind}\"\n{extra}"), 2)
                .unwrap_or_else(|e| panic!("{kind}: {}", e.message));
            assert_eq!(spec.name(), *kind);
        }
        let GuardSpec::Cooldown(c) = parse("kind = \"cooldown\"", 1).unwrap() else {
            panic!("a cooldown")
        };
        assert_eq!((c.allowed_fails, c.min_requests, c.multi), (3, 5, false));
        assert_eq!(c.cooldown_time, SimDuration::from_secs(5));
        let GuardSpec::RetryBudget(b) =
            parse("kind = \"retry_budget\"\nstyle = \"envoy\"", 1).unwrap()
        else {
            panic!("a retry budget")
        };
        assert_eq!((b.ratio, b.min), (0.2, 3.0));
    }

    #[test]
    fn a_key_of_another_kind_is_refused_with_this_kinds_keys() {
        let e = parse("kind = \"pause\"\nprovider = \"claude\"", 1).unwrap_err();
        assert_eq!(e.path.to_string(), "g.provider");
        assert_eq!(
            e.message,
            "not a setting of kind = \"pause\"; it takes: every, length"
        );
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let e = parse(
            "kind = \"circuit_breaker\"\non_status_codes = [429, \"500\"]",
            1,
        )
        .unwrap_err();
        assert_eq!(e.path.to_string(), "g.on_status_codes[1]");
        assert_eq!(
            e.message,
            "invalid type: string \"500\", expected a whole number"
        );
        let e = parse("kind = \"predictive\"\nprovider = \"claud\"", 1).unwrap_err();
        assert_eq!(e.path.to_string(), "g.provider");
        assert!(e.message.starts_with("no provider named `claud`"));
    }

    #[test]
    fn an_unknown_kind_lists_the_registered_ones() {
        let e = parse("kind = \"nope\"", 1).unwrap_err();
        assert_eq!(e.path.to_string(), "g.kind");
        assert!(e
            .message
            .starts_with("unknown guard kind `nope`; expected \"predictive\", \"token_bucket\""));
        assert!(e.message.ends_with("\"aimd\" or \"pacer\""));
    }

    #[test]
    fn overlapping_outages_count_once() {
        let s = SimTime::from_secs;
        let mut out = OutUntil::default();
        out.set(s(0), 1, s(10));
        out.set(s(5), 1, s(15));
        out.set(s(20), 0, s(25));
        assert_eq!(out.total(), SimDuration::from_secs(20));
        assert_eq!(out.until(s(12), 1), Some(s(15)));
        assert_eq!(out.until(s(15), 1), None);
    }
}
