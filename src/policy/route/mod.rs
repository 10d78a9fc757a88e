//! Routes: which provider a request goes to first, and which ones follow when it gives
//! up on a provider. One file per route kind, owning its keys, their parsing and checks
//! (through `Keys` in `src/keys.rs`, which rejects keys the kind does not take), what
//! it builds and its behaviour where that is its own; the `registry!` invocation below
//! lists the kinds once, and from it come [`KINDS`], the reading of a policy's `route`
//! and of a nested route's targets, and [`Node`]. Adding a kind is a new file, its `mod`
//! line and one registry line.
//!
//! Whatever its kind, a route takes one of three shapes ([`RouteSpec`]): a chain
//! (`single`, `chain`), a weighted group (`weighted`, a LiteLLM "model group", which picks
//! among its candidates with a strategy, [`Pick`], one file each in `policy/pick/`), or a
//! tree of nested targets (Portkey's `fallback`, `loadbalance` and `conditional`). What
//! the strategies learn (requests in flight, latency, usage, peak EWMA) is kept in
//! [`Router`], fed by the policy's sends and responses.

mod chain;
mod conditional;
mod fallback;
mod loadbalance;
mod single;
mod weighted;

pub use conditional::{Conditional, Field, Op, Query};
pub use fallback::Fallback;
pub use loadbalance::Loadbalance;
pub use weighted::Weighted;

use rand::Rng;

use super::pick::Candidate;
pub use super::pick::{Pick, Terms};
use crate::keys::{invalid, one_of, KeyPath, Keys, R};
use crate::provider::ProviderSpec;
use crate::time::{SimDuration, SimTime};

/// The most provider steps one request can take (its pick and every fallback).
pub const MAX_STEPS: usize = 16;

/// The most providers a scenario can have (a plan stores provider indices as bytes, to
/// keep the per-request state small).
pub const MAX_PROVIDERS: usize = 256;

/// What a request looks like to a conditional route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestInfo {
    /// Prompt tokens.
    pub input: u64,
    /// Completion tokens.
    pub output: u64,
}

/// The provider steps of one request: the pick, then its fallbacks, each with the gate
/// that decides which rejections move the request on from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    steps: [u8; MAX_STEPS],
    gates: [u8; MAX_STEPS],
    len: u8,
}

impl Plan {
    /// An empty plan.
    pub fn new() -> Self {
        Plan {
            steps: [0; MAX_STEPS],
            gates: [0; MAX_STEPS],
            len: 0,
        }
    }

    /// A plan through `providers` in order, any failure moving on.
    pub fn of(providers: &[usize]) -> Self {
        let mut p = Plan::new();
        for &x in providers {
            p.push(x, 0);
        }
        p
    }

    fn push(&mut self, provider: usize, gate: u8) {
        debug_assert!(provider < MAX_PROVIDERS);
        let i = self.len as usize;
        if i < MAX_STEPS {
            self.steps[i] = provider as u8;
            self.gates[i] = gate;
            self.len += 1;
        }
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there is no step.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The provider of step `i`.
    pub fn provider(&self, i: usize) -> usize {
        self.steps[i] as usize
    }

    /// Replaces the provider of step `i`.
    pub fn set_provider(&mut self, i: usize, provider: usize) {
        self.steps[i] = provider as u8;
    }

    /// The gate on leaving step `i` (0: any failure).
    pub fn gate(&self, i: usize) -> u8 {
        self.gates[i]
    }
}

impl Default for Plan {
    fn default() -> Self {
        Plan::new()
    }
}

/// A route, as configured. Provider indices refer to the scenario's provider list.
#[derive(Clone, Debug, PartialEq)]
pub enum RouteSpec {
    /// Try providers in order; the first is the primary (`single` is a chain of one).
    Chain(Vec<usize>),
    /// Pick a provider per request from a group; its fallbacks follow in order.
    Weighted(Weighted),
    /// A nested route of fallback, loadbalance and conditional targets (Portkey).
    Tree {
        /// The top target.
        root: Node,
        /// The status lists of fallback gates (`gate` n is `gates[n - 1]`).
        gates: Vec<Vec<u16>>,
    },
}

impl RouteSpec {
    /// Every provider the route can reach, in order of first mention.
    pub fn providers(&self) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        let all: Box<dyn Iterator<Item = &usize>> = match self {
            RouteSpec::Chain(c) => Box::new(c.iter()),
            RouteSpec::Weighted(w) => Box::new(w.providers.iter().chain(&w.fallbacks)),
            RouteSpec::Tree { root, .. } => {
                root.collect(&mut out);
                return out;
            }
        };
        for &p in all {
            if !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }

    /// Whether a rejection with `status` (`None`: a local refusal) may move a request on
    /// from a step with `gate`.
    pub fn gate_allows(&self, gate: u8, status: Option<u16>) -> bool {
        match (self, gate, status) {
            (_, 0, _) | (_, _, None) => true,
            (RouteSpec::Tree { gates, .. }, g, Some(s)) => gates[g as usize - 1].contains(&s),
            _ => true,
        }
    }
}

/// What an inner node of a nested route does: a kind registered with `=> Variant`
/// defines the type `Variant`, which becomes that [`Node`] variant.
trait Inner {
    /// The targets it holds.
    fn targets(&self) -> &[Node];

    /// The most provider steps a request can take through it: by default one target's
    /// (a kind that takes one of its targets); a kind that may try several sums them.
    fn depth(&self) -> usize {
        self.targets().iter().map(Node::depth).max().unwrap_or(0)
    }

    /// Appends the steps of a request `info` through it to `plan`; `exit` is the gate on
    /// leaving its last step, `ok` says which providers are in rotation.
    fn resolve<R: Rng + ?Sized>(
        &self,
        exit: u8,
        info: &RequestInfo,
        ok: &dyn Fn(usize) -> bool,
        rng: &mut R,
        plan: &mut Plan,
    );
}

/// Reads a target of a nested route of one kind: its keys are checked already; fallback
/// gates go to `gates`.
type ReadTarget = fn(&Keys, &RouteContext, &mut Vec<Vec<u16>>) -> R<Node>;

/// What a route's settings may refer to, while a policy is read.
pub(crate) struct RouteContext<'a> {
    /// The scenario's provider names, by index.
    pub names: &'a [&'a str],
    /// The scenario's providers (a group's candidates have their published terms).
    pub providers: &'a [ProviderSpec],
    /// The pick of the policy's gateway preset, which a group's own `pick` replaces.
    pub preset_pick: Option<&'a str>,
}

/// The key of a whole route that caps its fallbacks (LiteLLM's `max_fallbacks`).
const MAX_FALLBACKS: &str = "max_fallbacks";

/// `max_fallbacks`, when set: from 0 (never fall back) to one less than the steps a plan
/// holds.
fn max_fallbacks(keys: &Keys) -> R<Option<u32>> {
    match keys.int(MAX_FALLBACKS)? {
        None => Ok(None),
        Some(m) if (0..MAX_STEPS as i64).contains(&m) => Ok(Some(m as u32)),
        Some(m) => keys.invalid(
            MAX_FALLBACKS,
            format!(
                "must be a whole number from 0 (never fall back) to {} (got {m})",
                MAX_STEPS - 1
            ),
        ),
    }
}

/// A request can take at most [`MAX_STEPS`] provider steps.
pub(crate) fn check_steps(n: usize, path: &KeyPath) -> R<()> {
    if n > MAX_STEPS {
        return invalid(
            path,
            format!("a request could take {n} provider steps; at most {MAX_STEPS} are supported"),
        );
    }
    Ok(())
}

/// A whole route of a kind that holds targets: the tree whose root `read` reads from
/// `keys`.
fn tree(keys: &Keys, cx: &RouteContext, read: ReadTarget) -> R<RouteSpec> {
    let mut gates = Vec::new();
    let root = read(keys, cx, &mut gates)?;
    check_steps(root.depth(), keys.path())?;
    Ok(RouteSpec::Tree { root, gates })
}

/// The `targets` of an inner node at `keys`, each read as a target from which its parent
/// also reads the keys `outer`, with its keys for those reads.
fn targets<'a>(
    keys: &Keys<'a>,
    cx: &RouteContext,
    gates: &mut Vec<Vec<u16>>,
    outer: &[&'static str],
) -> R<Vec<(Node, Keys<'a>)>> {
    let list = keys.require(
        keys.tables("targets")?,
        "targets",
        "the targets, e.g. [{ provider = \"claude\" }, { provider = \"local\" }]",
    )?;
    if list.is_empty() {
        return keys.invalid("targets", "needs at least one target");
    }
    list.into_iter()
        .map(|t| Ok((read_target(&t, cx, gates, outer)?, t)))
        .collect()
}

/// The registry: one line per route kind, `module,`, or `module => Variant,` for a kind
/// that holds targets (its file's type `Variant` becomes a [`Node`] variant). Each kind's
/// file has `NAME` (its `kind`), `KEYS` (what it takes besides `kind`), `FALLS_BACK`
/// (whether a whole route of the kind can fall back, and so takes `max_fallbacks`),
/// `route` (reads a policy's route of the kind into a [`RouteSpec`]) and `TARGET` (reads a
/// nested route's target of the kind; `None` for a kind that is only a whole route).
macro_rules! registry {
    ($($module:ident $(=> $variant:ident)?,)*) => {
        /// The `kind` names of the routes, in registry order.
        pub const KINDS: &[&str] = &[$($module::NAME),*];

        /// The kinds a target of a nested route can be, in registry order.
        pub fn target_kinds() -> Vec<&'static str> {
            let mut kinds = Vec::new();
            $(if $module::TARGET.is_some() {
                kinds.push($module::NAME);
            })*
            kinds
        }

        /// A node of a nested route (Portkey's targets and strategies).
        #[derive(Clone, Debug, PartialEq)]
        pub enum Node {
            /// One provider (a `single` target).
            Provider(usize),
            $($(
                #[doc = concat!("A `", stringify!($module), "` node.")]
                $variant($variant),
            )?)*
        }

        impl Node {
            /// The targets it holds (none for a provider).
            fn targets(&self) -> &[Node] {
                match self {
                    Node::Provider(_) => &[],
                    $($(Node::$variant(n) => Inner::targets(n),)?)*
                }
            }

            /// The most steps a request can take through this node.
            pub fn depth(&self) -> usize {
                match self {
                    Node::Provider(_) => 1,
                    $($(Node::$variant(n) => n.depth(),)?)*
                }
            }

            /// Appends this node's steps for `info` to `plan`; `exit` is the gate on
            /// leaving the node's last step.
            fn resolve<R: Rng + ?Sized>(
                &self,
                exit: u8,
                info: &RequestInfo,
                ok: &dyn Fn(usize) -> bool,
                rng: &mut R,
                plan: &mut Plan,
            ) {
                match self {
                    Node::Provider(p) => plan.push(*p, exit),
                    $($(Node::$variant(n) => n.resolve(exit, info, ok, rng, plan),)?)*
                }
            }
        }

        impl RouteSpec {
            /// Reads a policy's route from `keys`: its kind, that kind's keys and
            /// settings, then `max_fallbacks`. Returns the route and the cap on fallbacks
            /// it sets, if any.
            pub(crate) fn parse(keys: &Keys, cx: &RouteContext) -> R<(RouteSpec, Option<u32>)> {
                let kind = keys.kind(KINDS)?;
                $(if kind == $module::NAME {
                    let mut allowed = $module::KEYS.to_vec();
                    if $module::FALLS_BACK {
                        allowed.push(MAX_FALLBACKS);
                    }
                    keys.only(kind, &allowed)?;
                    let spec = $module::route(keys, cx)?;
                    return Ok((spec, max_fallbacks(keys)?));
                })*
                keys.invalid(
                    "kind",
                    format!("unknown route kind `{kind}`; expected {}", one_of(KINDS)),
                )
            }
        }

        /// Reads one target of a nested route at `keys`; `outer` are the keys its parent
        /// reads from it (a loadbalance's `weight`, a conditional's `name`). A target
        /// without a `kind` that names a `provider` is a `single` one, as Portkey writes
        /// it.
        fn read_target(
            keys: &Keys,
            cx: &RouteContext,
            gates: &mut Vec<Vec<u16>>,
            outer: &[&'static str],
        ) -> R<Node> {
            let kinds = target_kinds();
            let kind = match keys.str("kind")? {
                Some(kind) => kind,
                None if keys.str("provider")?.is_some() => single::NAME,
                None => {
                    return keys.invalid(
                        "kind",
                        format!(
                            "missing; a target is {{ provider = NAME }} or has a kind: {}",
                            one_of(&kinds)
                        ),
                    )
                }
            };
            $(if kind == $module::NAME {
                let Some(read) = $module::TARGET else {
                    return keys.invalid(
                        "kind",
                        format!(
                            "a `{kind}` route cannot be a target of a nested route; expected {}",
                            one_of(&kinds)
                        ),
                    );
                };
                let allowed: Vec<&str> = $module::KEYS.iter().chain(outer).copied().collect();
                keys.only(kind, &allowed)?;
                return read(keys, cx, gates);
            })*
            keys.invalid(
                "kind",
                format!("unknown target kind `{kind}`; expected {}", one_of(&kinds)),
            )
        }
    };
}

registry! {
    single,
    chain,
    weighted,
    fallback => Fallback,
    loadbalance => Loadbalance,
    conditional => Conditional,
}

impl Node {
    /// Appends every provider this node can reach that `out` lacks.
    fn collect(&self, out: &mut Vec<usize>) {
        match self {
            Node::Provider(p) => {
                if !out.contains(p) {
                    out.push(*p)
                }
            }
            _ => {
                for t in self.targets() {
                    t.collect(out);
                }
            }
        }
    }

    /// Whether `ok` accepts a provider this node can reach.
    fn any(&self, ok: &dyn Fn(usize) -> bool) -> bool {
        match self {
            Node::Provider(p) => ok(*p),
            _ => self.targets().iter().any(|t| t.any(ok)),
        }
    }
}

/// The latency a failed request counts as, in seconds.
pub const FAILURE_LATENCY_S: f64 = 60.0;

/// The decay time of the peak-EWMA latency (Finagle's default: 10 s).
const EWMA_TAU_S: f64 = 10.0;

/// A route's state during one replication: what a group's strategies learn of its
/// candidates (nothing for a chain or a tree).
#[derive(Clone, Debug)]
pub struct Router {
    current: Vec<f64>,
    candidates: Vec<Candidate>,
}

impl Router {
    /// Fresh state for `spec`.
    pub fn new(spec: &RouteSpec) -> Self {
        let n = match spec {
            RouteSpec::Chain(_) | RouteSpec::Tree { .. } => 0,
            RouteSpec::Weighted(w) => w.providers.len(),
        };
        Router {
            current: vec![0.0; n],
            candidates: vec![Candidate::default(); n],
        }
    }

    fn index(spec: &RouteSpec, provider: usize) -> Option<usize> {
        match spec {
            RouteSpec::Chain(_) | RouteSpec::Tree { .. } => None,
            RouteSpec::Weighted(w) => w.providers.iter().position(|&p| p == provider),
        }
    }

    fn roll_minute(c: &mut Candidate, now: SimTime) {
        let m = now.as_nanos() / SimDuration::from_secs(60).as_nanos();
        if c.minute != m {
            c.minute = m;
            c.minute_requests = 0.0;
            c.minute_tokens = 0.0;
        }
    }

    /// A request of `tokens` tokens was sent to `provider`.
    pub fn on_send(&mut self, spec: &RouteSpec, now: SimTime, provider: usize, tokens: u64) {
        if let Some(i) = Self::index(spec, provider) {
            let c = &mut self.candidates[i];
            Self::roll_minute(c, now);
            c.in_flight += 1;
            c.minute_requests += 1.0;
            c.minute_tokens += tokens as f64;
        }
    }

    /// A request to `provider` was cancelled before it answered.
    pub fn on_cancel(&mut self, spec: &RouteSpec, provider: usize) {
        if let Some(i) = Self::index(spec, provider) {
            let c = &mut self.candidates[i];
            c.in_flight = c.in_flight.saturating_sub(1);
        }
    }

    /// `provider` answered at `now` a request sent at `sent_at`, of `output` tokens.
    pub fn on_response(
        &mut self,
        spec: &RouteSpec,
        now: SimTime,
        provider: usize,
        sent_at: SimTime,
        output: u64,
        served: bool,
    ) {
        let Some(i) = Self::index(spec, provider) else {
            return;
        };
        let c = &mut self.candidates[i];
        c.in_flight = c.in_flight.saturating_sub(1);
        // A failure counts as a very slow answer, so the learning strategies avoid a
        // provider that only rejects instead of treating it as untried.
        let latency = if served {
            (now - sent_at).as_secs_f64()
        } else {
            FAILURE_LATENCY_S
        };
        c.latencies.push_back(latency / output.max(1) as f64);
        if c.latencies.len() > 10 {
            c.latencies.pop_front();
        }
        // Peak EWMA: jump up to a slower sample at once, decay towards faster ones.
        if latency > c.ewma {
            c.ewma = latency;
        } else {
            let w = (-(now - c.ewma_at).as_secs_f64() / EWMA_TAU_S).exp();
            c.ewma = c.ewma * w + latency * (1.0 - w);
        }
        c.ewma_at = now;
    }

    /// The first provider for a request of `tokens` tokens at `now`, among the
    /// candidates `ok` accepts; `None` when it accepts none. A chain always starts at
    /// its first provider.
    pub fn pick<R: Rng + ?Sized>(
        &mut self,
        spec: &RouteSpec,
        now: SimTime,
        tokens: u64,
        ok: &dyn Fn(usize) -> bool,
        rng: &mut R,
    ) -> Option<usize> {
        match spec {
            RouteSpec::Weighted(w) => w.pick(self, now, tokens, ok, rng),
            RouteSpec::Chain(c) => Some(c[0]),
            RouteSpec::Tree { .. } => {
                unreachable!("a nested route is sticky: its requests never pick again")
            }
        }
    }

    /// Whether retries stay on the picked provider.
    pub fn sticky(spec: &RouteSpec) -> bool {
        match spec {
            RouteSpec::Chain(_) | RouteSpec::Tree { .. } => true,
            RouteSpec::Weighted(w) => w.sticky,
        }
    }

    /// The steps of a new request `info` at `now`: the pick among the candidates `ok`
    /// accepts (all of them when it accepts none), then the fallbacks.
    pub fn plan<R: Rng + ?Sized>(
        &mut self,
        spec: &RouteSpec,
        now: SimTime,
        info: &RequestInfo,
        ok: &dyn Fn(usize) -> bool,
        rng: &mut R,
    ) -> Plan {
        match spec {
            RouteSpec::Chain(c) => Plan::of(c),
            RouteSpec::Weighted(w) => w.plan(self, now, info, ok, rng),
            RouteSpec::Tree { root, .. } => {
                let mut plan = Plan::new();
                root.resolve(0, info, ok, rng, &mut plan);
                plan
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Random;
    use crate::keys::Invalid;
    use crate::provider::LatencySpec;

    /// A request can take one step through a target a loadbalance or conditional node
    /// picks, and a step through every target of a fallback: the depth the parser
    /// bounds by `MAX_STEPS`.
    #[test]
    fn depth_takes_one_target_of_a_choice_and_all_of_a_fallback() {
        let p = Node::Provider;
        let fallback = |n: usize| {
            Node::Fallback(Fallback {
                targets: (0..n).map(p).collect(),
                gate: 0,
            })
        };
        let lb = Node::Loadbalance(Loadbalance {
            targets: vec![fallback(2), fallback(3), p(0)],
            weights: vec![1.0; 3],
        });
        assert_eq!(lb.depth(), 3);
        let cond = Node::Conditional(Conditional {
            targets: vec![fallback(4), p(1)],
            rules: vec![],
            default: 1,
        });
        assert_eq!(cond.depth(), 4);
        let outer = Node::Fallback(Fallback {
            targets: vec![lb, cond],
            gate: 0,
        });
        assert_eq!(outer.depth(), 7);
    }

    fn provider(name: &str) -> ProviderSpec {
        ProviderSpec {
            name: name.into(),
            limits: vec![],
            concurrency: None,
            reject_status: 429,
            reject_latency: Random::Constant(0.0),
            latency: LatencySpec::Total(Random::Constant(1.0)),
            price_per_1k_input: 0.0,
            price_per_1k_output: 0.0,
            flat_monthly: 0.0,
            outages: None,
            online: None,
            pass_rate: 1.0,
            local: false,
            retry_after_resolution: crate::time::SimDuration::from_secs(1),
        }
    }

    /// Reads the route table `text` among the providers `a` and `b`.
    fn parse(text: &str) -> Result<(RouteSpec, Option<u32>), Invalid> {
        let t: toml::Table = text.parse().expect("valid TOML");
        let providers = [provider("a"), provider("b")];
        let cx = RouteContext {
            names: &["a", "b"],
            providers: &providers,
            preset_pick: None,
        };
        RouteSpec::parse(&Keys::new(&t, KeyPath::default().key("route")), &cx)
    }

    fn error(text: &str) -> (String, String) {
        let e = parse(text).expect_err("should be refused");
        (e.path.to_string(), e.message)
    }

    /// A route of each kind, with every key of the kind set.
    fn every_key(kind: &str) -> &'static str {
        match kind {
            "single" => "provider = \"a\"",
            "chain" => "providers = [\"a\", \"b\"]\nmax_fallbacks = 1",
            "weighted" => {
                "providers = [\"a\", \"b\"]\nweights = [1, 2]\npick = \"round_robin\"\n\
                 fallbacks = [\"a\"]\nsticky = false\norder = [1, 2]\nmax_fallbacks = 1"
            }
            "fallback" => {
                "targets = [{ provider = \"a\" }, { provider = \"b\" }]\n\
                 on_status_codes = [429]\nmax_fallbacks = 1"
            }
            "loadbalance" => "targets = [{ provider = \"a\", weight = 2 }]\nmax_fallbacks = 1",
            "conditional" => {
                "targets = [{ name = \"x\", provider = \"a\" }]\ndefault = \"x\"\n\
                 conditions = [{ query = { tokens = 3 }, then = \"x\" }]\nmax_fallbacks = 1"
            }
            other => panic!("no example for route kind `{other}`"),
        }
    }

    #[test]
    fn every_registered_kind_parses_with_all_its_keys() {
        for kind in KINDS {
            let (spec, max) = parse(&format!("kind = \"{kind}\"\n{}", every_key(kind)))
                .unwrap_or_else(|e| panic!("{kind}: {}: {}", e.path, e.message));
            assert_eq!(spec.providers()[0], 0, "{kind}");
            assert_eq!(max, (*kind != "single").then_some(1), "{kind}");
        }
        assert_eq!(
            parse("kind = \"single\"\nprovider = \"b\"").unwrap().0,
            RouteSpec::Chain(vec![1])
        );
    }

    #[test]
    fn a_key_of_another_kind_is_refused_with_this_kinds_keys() {
        for kind in KINDS {
            let (path, message) =
                error(&format!("kind = \"{kind}\"\n{}\nrate = 3", every_key(kind)));
            assert_eq!(path, "route.rate", "{kind}");
            let mut keys = match *kind {
                "single" => single::KEYS,
                "chain" => chain::KEYS,
                "weighted" => weighted::KEYS,
                "fallback" => fallback::KEYS,
                "loadbalance" => loadbalance::KEYS,
                _ => conditional::KEYS,
            }
            .to_vec();
            if *kind != "single" {
                keys.push("max_fallbacks");
            }
            assert_eq!(
                message,
                format!(
                    "not a setting of kind = \"{kind}\"; it takes: {}",
                    keys.join(", ")
                )
            );
        }
        // A target takes its kind's keys and those its parent reads, not `max_fallbacks`.
        assert_eq!(
            error(
                "kind = \"loadbalance\"\ntargets = [{ kind = \"fallback\", targets = \
                 [{ provider = \"a\" }], max_fallbacks = 1 }]"
            ),
            (
                "route.targets[0].max_fallbacks".into(),
                "not a setting of kind = \"fallback\"; it takes: targets, on_status_codes, \
                 weight"
                    .into()
            )
        );
    }

    #[test]
    fn unknown_kinds_list_the_registered_ones() {
        assert_eq!(
            error("kind = \"roundrobin\""),
            (
                "route.kind".into(),
                format!(
                    "unknown route kind `roundrobin`; expected {}",
                    one_of(KINDS)
                )
            )
        );
        assert_eq!(
            one_of(KINDS),
            "\"single\", \"chain\", \"weighted\", \"fallback\", \"loadbalance\" or \
             \"conditional\""
        );
        assert_eq!(
            target_kinds(),
            ["single", "fallback", "loadbalance", "conditional"]
        );
        let (path, message) = error("kind = \"fallback\"\ntargets = [{ kind = \"nope\" }]");
        assert_eq!(path, "route.targets[0].kind");
        assert_eq!(
            message,
            "unknown target kind `nope`; expected \"single\", \"fallback\", \"loadbalance\" \
             or \"conditional\""
        );
        let (_, message) =
            error("kind = \"fallback\"\ntargets = [{ kind = \"chain\", providers = [\"a\"] }]");
        assert!(
            message.starts_with("a `chain` route cannot be a target of a nested route"),
            "{message}"
        );
    }
}
