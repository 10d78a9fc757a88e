//! Routes: which provider a request goes to first, and which ones follow when it gives
//! up on a provider. A weighted route (a LiteLLM "model group") picks among its
//! candidates with a strategy ([`Pick`], one file each in `policy/pick/`); what the
//! strategies learn (requests in flight, latency, usage, peak EWMA) is kept in
//! [`Router`], fed by the policy's sends and responses.

use rand::Rng;

use super::pick::{draw, Candidate, Group};
pub use super::pick::{Pick, Terms};
use crate::time::SimTime;

/// The most provider steps one request can take (its pick and every fallback).
pub const MAX_STEPS: usize = 16;

/// The most providers a scenario can have (a plan stores provider indices as bytes, to
/// keep the per-request state small).
pub const MAX_PROVIDERS: usize = 256;

/// A request's field a conditional route can test (Portkey's `query` fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// Prompt tokens.
    InputTokens,
    /// Completion tokens (`params.max_tokens`).
    OutputTokens,
    /// Both.
    Tokens,
}

/// A comparison in a condition (Portkey's `$eq`, `$ne`, `$gt`, `$gte`, `$lt`, `$lte`,
/// `$in`, `$nin`).
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// `$eq`.
    Eq(f64),
    /// `$ne`.
    Ne(f64),
    /// `$gt`.
    Gt(f64),
    /// `$gte`.
    Gte(f64),
    /// `$lt`.
    Lt(f64),
    /// `$lte`.
    Lte(f64),
    /// `$in`.
    In(Vec<f64>),
    /// `$nin`.
    Nin(Vec<f64>),
}

impl Op {
    fn holds(&self, x: f64) -> bool {
        match self {
            Op::Eq(v) => x == *v,
            Op::Ne(v) => x != *v,
            Op::Gt(v) => x > *v,
            Op::Gte(v) => x >= *v,
            Op::Lt(v) => x < *v,
            Op::Lte(v) => x <= *v,
            Op::In(vs) => vs.contains(&x),
            Op::Nin(vs) => !vs.contains(&x),
        }
    }
}

/// What a request looks like to a conditional route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestInfo {
    /// Prompt tokens.
    pub input: u64,
    /// Completion tokens.
    pub output: u64,
}

impl RequestInfo {
    fn get(&self, f: Field) -> f64 {
        match f {
            Field::InputTokens => self.input as f64,
            Field::OutputTokens => self.output as f64,
            Field::Tokens => (self.input + self.output) as f64,
        }
    }
}

/// A condition: every comparison must hold (a Portkey `query` object).
pub type Query = Vec<(Field, Op)>;

/// A node of a nested route (Portkey's targets and strategies).
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// One provider.
    Provider(usize),
    /// Try the targets in order; move on only after a rejection with one of the gate's
    /// statuses (gate 0: any failure; else `gates[gate - 1]`).
    Fallback {
        /// Targets in order.
        targets: Vec<Node>,
        /// Which statuses move the request on.
        gate: u8,
    },
    /// Pick one target per request, at random by weight, among the targets with a
    /// provider in rotation.
    Loadbalance {
        /// Targets.
        targets: Vec<Node>,
        /// Their weights.
        weights: Vec<f64>,
    },
    /// The first rule whose query holds names the target, else `default`.
    Conditional {
        /// Targets.
        targets: Vec<Node>,
        /// (query, target index), in order.
        rules: Vec<(Query, usize)>,
        /// Target index when no rule holds.
        default: usize,
    },
}

impl Node {
    fn collect(&self, out: &mut Vec<usize>) {
        match self {
            Node::Provider(p) => {
                if !out.contains(p) {
                    out.push(*p)
                }
            }
            Node::Fallback { targets, .. }
            | Node::Loadbalance { targets, .. }
            | Node::Conditional { targets, .. } => {
                for t in targets {
                    t.collect(out);
                }
            }
        }
    }

    /// The most steps a request can take through this node.
    pub fn depth(&self) -> usize {
        match self {
            Node::Provider(_) => 1,
            Node::Fallback { targets, .. } => targets.iter().map(Node::depth).sum(),
            Node::Loadbalance { targets, .. } | Node::Conditional { targets, .. } => {
                targets.iter().map(Node::depth).max().unwrap_or(0)
            }
        }
    }

    fn any(&self, ok: &dyn Fn(usize) -> bool) -> bool {
        match self {
            Node::Provider(p) => ok(*p),
            Node::Fallback { targets, .. }
            | Node::Loadbalance { targets, .. }
            | Node::Conditional { targets, .. } => targets.iter().any(|t| t.any(ok)),
        }
    }
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
    /// Pick a provider per request by weight; `fallbacks` follow in order.
    Weighted {
        /// Candidates.
        providers: Vec<usize>,
        /// Their weights (positive).
        weights: Vec<f64>,
        /// How to pick.
        pick: Pick,
        /// Providers to try after the picked one gives up.
        fallbacks: Vec<usize>,
        /// Retries stay on the picked provider (`true`) or pick again (`false`).
        sticky: bool,
        /// Each candidate's published terms.
        terms: Vec<Terms>,
        /// Priority tier of each candidate (LiteLLM `order`): a pick only considers the
        /// lowest tier with a candidate in rotation.
        order: Vec<u32>,
    },
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
            RouteSpec::Weighted {
                providers,
                fallbacks,
                ..
            } => Box::new(providers.iter().chain(fallbacks)),
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

/// The latency a failed request counts as, in seconds.
pub const FAILURE_LATENCY_S: f64 = 60.0;

/// The decay time of the peak-EWMA latency (Finagle's default: 10 s).
const EWMA_TAU_S: f64 = 10.0;

/// A route's state during one replication.
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
            RouteSpec::Weighted { providers, .. } => providers.len(),
        };
        Router {
            current: vec![0.0; n],
            candidates: vec![Candidate::default(); n],
        }
    }

    fn index(spec: &RouteSpec, provider: usize) -> Option<usize> {
        match spec {
            RouteSpec::Chain(_) | RouteSpec::Tree { .. } => None,
            RouteSpec::Weighted { providers, .. } => providers.iter().position(|&p| p == provider),
        }
    }

    fn roll_minute(c: &mut Candidate, now: SimTime) {
        let m = now.0 / SimTime::from_secs(60).0;
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
        let (providers, weights, pick, terms, order) = match spec {
            RouteSpec::Weighted {
                providers,
                weights,
                pick,
                terms,
                order,
                ..
            } => (providers, weights, pick, terms, order),
            RouteSpec::Chain(c) => return Some(c[0]),
            RouteSpec::Tree { .. } => {
                unreachable!("a nested route is sticky: its requests never pick again")
            }
        };
        let n = providers.len();
        // A group lists each provider once, so it fits (no allocation per pick).
        let mut allowed = [false; MAX_PROVIDERS];
        let allowed = &mut allowed[..n];
        for (a, &p) in allowed.iter_mut().zip(providers) {
            *a = ok(p);
        }
        // Priority tiers: only the lowest tier with a candidate in rotation competes.
        let tier = (0..n).filter(|&i| allowed[i]).map(|i| order[i]).min()?;
        for (a, &o) in allowed.iter_mut().zip(order) {
            *a = *a && o == tier;
        }
        for c in &mut self.candidates {
            Self::roll_minute(c, now);
        }
        let first_allowed = allowed.iter().position(|&a| a).expect("one is allowed");
        let mut group = Group {
            allowed,
            first_allowed,
            weights,
            terms,
            candidates: &self.candidates,
            current: &mut self.current,
            tokens,
        };
        let chosen = pick.choose(&mut group, rng);
        Some(providers[chosen])
    }

    /// Whether retries stay on the picked provider.
    pub fn sticky(spec: &RouteSpec) -> bool {
        match spec {
            RouteSpec::Chain(_) | RouteSpec::Tree { .. } => true,
            RouteSpec::Weighted { sticky, .. } => *sticky,
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
            RouteSpec::Weighted { fallbacks, .. } => {
                let tokens = info.input + info.output;
                let first = match self.pick(spec, now, tokens, ok, rng) {
                    Some(p) => p,
                    None => self
                        .pick(spec, now, tokens, &|_| true, rng)
                        .expect("a group has a candidate"),
                };
                let mut plan = Plan::of(&[first]);
                for &f in fallbacks {
                    plan.push(f, 0);
                }
                plan
            }
            RouteSpec::Tree { root, .. } => {
                let mut plan = Plan::new();
                Self::resolve(root, 0, info, ok, rng, &mut plan);
                plan
            }
        }
    }

    /// Appends `node`'s steps for `info` to `plan`; `exit` is the gate on leaving the
    /// node's last step.
    fn resolve<R: Rng + ?Sized>(
        node: &Node,
        exit: u8,
        info: &RequestInfo,
        ok: &dyn Fn(usize) -> bool,
        rng: &mut R,
        plan: &mut Plan,
    ) {
        match node {
            Node::Provider(p) => plan.push(*p, exit),
            Node::Fallback { targets, gate } => {
                let last = targets.len().saturating_sub(1);
                for (i, t) in targets.iter().enumerate() {
                    Self::resolve(t, if i == last { exit } else { *gate }, info, ok, rng, plan);
                }
            }
            Node::Loadbalance { targets, weights } => {
                // Portkey skips targets whose circuits are all open; with none left it
                // picks among them all.
                let any = targets.iter().any(|t| t.any(ok));
                let chosen = draw(rng, targets.len(), |i| {
                    if !any || targets[i].any(ok) {
                        weights[i]
                    } else {
                        0.0
                    }
                });
                Self::resolve(&targets[chosen], exit, info, ok, rng, plan);
            }
            Node::Conditional {
                targets,
                rules,
                default,
            } => {
                let chosen = rules
                    .iter()
                    .find(|(q, _)| q.iter().all(|(f, op)| op.holds(info.get(*f))))
                    .map_or(*default, |(_, t)| *t);
                Self::resolve(&targets[chosen], exit, info, ok, rng, plan);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Source};

    const FREE: Terms = Terms {
        price_per_1k: 1.0,
        rpm: f64::INFINITY,
        tpm: f64::INFINITY,
    };

    fn group(pick: Pick, terms: Vec<Terms>) -> RouteSpec {
        let n = terms.len();
        RouteSpec::Weighted {
            providers: (0..n).collect(),
            weights: vec![1.0; n],
            pick,
            fallbacks: vec![],
            sticky: false,
            terms,
            order: vec![1; n],
        }
    }

    #[test]
    fn least_busy_spreads_and_cost_based_respects_minute_limits() {
        let spec = group(Pick::LeastBusy, vec![FREE; 3]);
        let mut r = Router::new(&spec);
        let mut rng = stream(0, 0, Source::Routing(0));
        let t = SimTime::ZERO;
        let picks: Vec<usize> = (0..3)
            .map(|_| {
                let p = r.pick(&spec, t, 10, &|_| true, &mut rng).unwrap();
                r.on_send(&spec, t, p, 10);
                p
            })
            .collect();
        assert_eq!(picks, [0, 1, 2]);
        let cheap = Terms {
            price_per_1k: 0.01,
            rpm: 2.0,
            tpm: f64::INFINITY,
        };
        let dear = Terms {
            price_per_1k: 0.1,
            ..FREE
        };
        let spec = group(Pick::CostBased, vec![dear, cheap]);
        let mut r = Router::new(&spec);
        let picks: Vec<usize> = (0..4)
            .map(|_| {
                let p = r.pick(&spec, t, 10, &|_| true, &mut rng).unwrap();
                r.on_send(&spec, t, p, 10);
                p
            })
            .collect();
        // The cheap one until its 2 requests a minute are used, then the dear one.
        assert_eq!(picks, [1, 1, 0, 0]);
        assert_eq!(
            r.pick(&spec, SimTime::from_secs(60), 10, &|_| true, &mut rng)
                .unwrap(),
            1
        );
    }

    #[test]
    fn latency_and_p2c_prefer_the_fast_provider() {
        let mut rng = stream(0, 0, Source::Routing(0));
        for pick in [Pick::LatencyBased, Pick::P2cEwma] {
            let spec = group(pick, vec![FREE; 2]);
            let mut r = Router::new(&spec);
            let t = SimTime::from_secs(1);
            // Provider 0 answers in 10 s, provider 1 in 1 s.
            r.on_send(&spec, SimTime::ZERO, 0, 10);
            r.on_response(&spec, SimTime::from_secs(10), 0, SimTime::ZERO, 100, true);
            r.on_send(&spec, SimTime::ZERO, 1, 10);
            r.on_response(&spec, t, 1, SimTime::ZERO, 100, true);
            let fast = (0..100)
                .filter(|_| {
                    r.pick(&spec, SimTime::from_secs(10), 10, &|_| true, &mut rng)
                        .unwrap()
                        == 1
                })
                .count();
            assert_eq!(fast, 100, "{pick:?}");
        }
    }

    #[test]
    fn price_weighting_follows_inverse_square_prices() {
        let spec = group(
            Pick::PriceWeighted,
            vec![
                Terms {
                    price_per_1k: 1.0,
                    ..FREE
                },
                Terms {
                    price_per_1k: 2.0,
                    ..FREE
                },
            ],
        );
        let mut r = Router::new(&spec);
        let mut rng = stream(0, 0, Source::Routing(0));
        let n = 40_000;
        let cheap = (0..n)
            .filter(|_| {
                r.pick(&spec, SimTime::ZERO, 1, &|_| true, &mut rng)
                    .unwrap()
                    == 0
            })
            .count();
        // Weights 1 and 1/4: the cheap one 80 % of the time.
        assert!((cheap as f64 / n as f64 - 0.8).abs() < 0.01);
    }

    #[test]
    fn nested_plans_carry_each_fallbacks_status_gate() {
        // fallback(on 429) [0, fallback(any) [1, 2]], then a conditional on prompt size.
        let spec = RouteSpec::Tree {
            root: Node::Fallback {
                targets: vec![
                    Node::Provider(0),
                    Node::Fallback {
                        targets: vec![Node::Provider(1), Node::Provider(2)],
                        gate: 0,
                    },
                ],
                gate: 1,
            },
            gates: vec![vec![429]],
        };
        let mut r = Router::new(&spec);
        let mut rng = stream(0, 0, Source::Routing(0));
        let info = RequestInfo {
            input: 10,
            output: 10,
        };
        let plan = r.plan(&spec, SimTime::ZERO, &info, &|_| true, &mut rng);
        assert_eq!(
            (0..plan.len())
                .map(|i| plan.provider(i))
                .collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert!(spec.gate_allows(plan.gate(0), Some(429)));
        assert!(!spec.gate_allows(plan.gate(0), Some(503)));
        // A local refusal is not a status: it always moves on.
        assert!(spec.gate_allows(plan.gate(0), None));
        assert!(spec.gate_allows(plan.gate(1), Some(503)));
        let cond = RouteSpec::Tree {
            root: Node::Conditional {
                targets: vec![Node::Provider(0), Node::Provider(1)],
                rules: vec![(vec![(Field::InputTokens, Op::Gt(500.0))], 1)],
                default: 0,
            },
            gates: vec![],
        };
        let mut r = Router::new(&cond);
        let first = |r: &mut Router, rng: &mut _, input| {
            let info = RequestInfo { input, output: 0 };
            r.plan(&cond, SimTime::ZERO, &info, &|_| true, rng)
                .provider(0)
        };
        assert_eq!(first(&mut r, &mut rng, 501), 1);
        assert_eq!(first(&mut r, &mut rng, 500), 0);
    }

    #[test]
    fn comparisons_follow_portkeys_operators() {
        let cases = [
            (Op::Eq(3.0), [false, true, false]),
            (Op::Ne(3.0), [true, false, true]),
            (Op::Gt(3.0), [false, false, true]),
            (Op::Gte(3.0), [false, true, true]),
            (Op::Lt(3.0), [true, false, false]),
            (Op::Lte(3.0), [true, true, false]),
            (Op::In(vec![2.0, 4.0]), [true, false, true]),
            (Op::Nin(vec![2.0, 4.0]), [false, true, false]),
        ];
        for (op, want) in cases {
            let got = [2.0, 3.0, 4.0].map(|x| op.holds(x));
            assert_eq!(got, want, "{op:?}");
        }
    }

    #[test]
    fn order_tiers_pick_the_lowest_tier_in_rotation() {
        let spec = RouteSpec::Weighted {
            providers: vec![0, 1, 2],
            weights: vec![1.0; 3],
            pick: Pick::Random,
            fallbacks: vec![],
            sticky: false,
            terms: vec![FREE; 3],
            order: vec![2, 1, 1],
        };
        let mut r = Router::new(&spec);
        let mut rng = stream(0, 0, Source::Routing(0));
        for _ in 0..100 {
            let p = r
                .pick(&spec, SimTime::ZERO, 1, &|_| true, &mut rng)
                .unwrap();
            assert!(p == 1 || p == 2);
        }
        let p = r.pick(&spec, SimTime::ZERO, 1, &|p| p == 0, &mut rng);
        assert_eq!(p, Some(0));
    }

    #[test]
    fn round_robin_gives_exact_shares() {
        let spec = RouteSpec::Weighted {
            providers: vec![0, 1],
            weights: vec![2.0, 3.0],
            pick: Pick::RoundRobin,
            fallbacks: vec![],
            sticky: true,
            terms: vec![FREE; 2],
            order: vec![1; 2],
        };
        let mut r = Router::new(&spec);
        let mut rng = stream(0, 0, Source::Routing(0));
        let picks: Vec<usize> = (0..10)
            .map(|_| {
                r.pick(&spec, SimTime::ZERO, 1, &|_| true, &mut rng)
                    .unwrap()
            })
            .collect();
        assert_eq!(picks.iter().filter(|&&p| p == 0).count(), 4);
        assert_eq!(&picks[..5], &[1, 0, 1, 0, 1]);
    }

    #[test]
    fn random_pick_follows_the_weights() {
        let spec = RouteSpec::Weighted {
            providers: vec![0, 1],
            weights: vec![1.0, 3.0],
            pick: Pick::Random,
            fallbacks: vec![],
            sticky: true,
            terms: vec![FREE; 2],
            order: vec![1; 2],
        };
        let mut r = Router::new(&spec);
        let mut rng = stream(0, 0, Source::Routing(0));
        let n = 40_000;
        let zeros = (0..n)
            .filter(|_| {
                r.pick(&spec, SimTime::ZERO, 1, &|_| true, &mut rng)
                    .unwrap()
                    == 0
            })
            .count();
        assert!((zeros as f64 / n as f64 - 0.25).abs() < 0.01);
    }
}
