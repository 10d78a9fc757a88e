//! Client policies: where a request goes (a [`RouteSpec`]), what is checked before it is
//! sent (guards), how rejections are retried ([`RetrySpec`]) and when to fall back to the
//! next provider or give up.
//!
//! A policy is a state machine driven by `now`: [`PolicyState::next`] says what to do with
//! a request that is ready to go, and [`PolicyState::on_response`] what to do after a
//! provider answered. [`driver::RequestDriver`] runs the whole request protocol on top of
//! it (copies, hedges and their cancellation, quality-gate re-sends, parking, the order
//! of the hooks) as inputs in, actions out. Neither sees the engine, so the same code
//! drives simulated and live traffic.

pub mod driver;
pub mod guard;
pub mod hedge;
pub mod pick;
pub mod preset;
pub mod retry;
pub mod route;

use crate::provider::limiter::Usage;
use crate::provider::Hint;
use crate::rng::{stream, SimRng, Source};
use crate::time::{SimDuration, SimTime};
use guard::{Attempt, Feedback, Gauge, Guard, GuardSpec, GuardVerdict};
use hedge::HedgeState;
pub use hedge::{HedgeDelay, HedgeSpec};
pub use retry::{Backoff, Jitter, RetrySpec};
pub use route::{Pick, Plan, RequestInfo, RouteSpec, Router};

/// A policy, as configured.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicySpec {
    /// Name used in reports.
    pub name: String,
    /// Where requests go.
    pub route: RouteSpec,
    /// Retry rule per provider index (every provider has one; most share the default).
    pub retry: Vec<RetrySpec>,
    /// Guards checked, in order, before each send.
    pub guards: Vec<GuardSpec>,
    /// Quality gate: a completion that fails the job's tests is sent again along this
    /// chain of stronger providers (empty: no gate).
    pub escalate_to: Vec<usize>,
    /// The most fallbacks one request may take (LiteLLM `max_fallbacks`, 5); `None`:
    /// every step of the route.
    pub max_fallbacks: Option<u32>,
    /// Hedged requests (`None`: off).
    pub hedge: Option<HedgeSpec>,
}

impl PolicySpec {
    /// Every provider the policy can send to: its route's, then its quality gate's and
    /// its hedges'.
    pub fn reachable(&self) -> Vec<usize> {
        let mut out = self.route.providers();
        let hedges = self.hedge.as_ref().map_or(&[][..], |h| &h.to[..]);
        for &p in self.escalate_to.iter().chain(hedges) {
            if !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }
}

/// Why a job was given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailReason {
    /// Every provider's attempts were used up.
    GaveUp,
    /// The request exceeds what the limits can ever admit.
    Unadmittable,
}

/// What to do with a request that is ready to be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Send it to this provider now.
    Send(usize),
    /// Ask again at this time.
    WaitUntil(SimTime),
    /// Ask again when the next response arrives.
    WaitForResponse,
    /// Give the job up.
    Fail(FailReason),
}

/// A provider's answer as the policy sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Response {
    /// Served.
    Success,
    /// Rejected with a status and a hint.
    Rejected {
        /// HTTP status.
        status: u16,
        /// When it could pass.
        hint: Hint,
    },
}

/// Where one request stands in its policy: its provider steps, which one it is on, how
/// many attempts it made.
#[derive(Clone, Copy, Debug)]
pub struct Cursor {
    plan: Plan,
    escalated: bool,
    step: usize,
    attempts_here: u32,
    attempts: u32,
    prev_sleep: SimDuration,
    /// Time spent waiting on retry-after hints (for a retry-after budget).
    hint_waited: SimDuration,
    sent_at: SimTime,
    /// When the copy that answered was sent, if not the request's own send (a hedge).
    answer_sent_at: Option<SimTime>,
    input: u64,
    output: u64,
}

impl Cursor {
    /// The provider this request is on.
    pub fn provider(&self) -> usize {
        self.plan.provider(self.step)
    }
}

/// Whether no guard keeps `provider` out of rotation at `now`.
fn in_rotation(guards: &[Box<dyn Guard>], now: SimTime, provider: usize) -> bool {
    guards.iter().all(|g| g.out_until(now, provider).is_none())
}

/// A policy's state during one replication.
pub struct PolicyState<'a> {
    spec: &'a PolicySpec,
    router: Router,
    guards: Vec<Box<dyn Guard>>,
    wants_usage: bool,
    /// Whether a guard takes providers out of rotation.
    rotates: bool,
    /// The last guard that may make a request wait ([`Guard::may_wait`]).
    last_waiting: Option<usize>,
    /// The providers the policy can reach.
    reach: Vec<usize>,
    jitter_rng: SimRng,
    routing_rng: SimRng,
    /// Requests refused by a guard.
    pub guard_refusals: u64,
    /// Moves to a fallback provider.
    pub fallbacks: u64,
    /// Completions sent again by the quality gate.
    pub escalations: u64,
    /// Hedges sent.
    pub hedges: u64,
    /// Calls of [`PolicyState::next`]: each asks the guards whether a request may go
    /// (the work of waiting, which a cost-linearity test counts).
    pub asks: u64,
    hedge: HedgeState,
    /// The last [`PolicyState::next`] that said to wait did nothing else: no pick drew
    /// a random number, no guard refused, no provider was left.
    pure_wait: bool,
}

impl<'a> PolicyState<'a> {
    /// Fresh state; `index` is the policy's position in the scenario (names its streams).
    pub fn new(spec: &'a PolicySpec, seed: u64, replication: u64, index: u32) -> Self {
        let guards: Vec<Box<dyn Guard>> = spec
            .guards
            .iter()
            .enumerate()
            .map(|(i, g)| g.build(seed, replication, index, i as u32))
            .collect();
        PolicyState {
            spec,
            router: Router::new(&spec.route),
            wants_usage: guards.iter().any(|g| g.wants_usage()),
            rotates: guards.iter().any(|g| g.rotates()),
            last_waiting: guards.iter().rposition(|g| g.may_wait()),
            reach: spec.reachable(),
            guards,
            jitter_rng: stream(seed, replication, Source::Jitter(index)),
            routing_rng: stream(seed, replication, Source::Routing(index)),
            guard_refusals: 0,
            asks: 0,
            fallbacks: 0,
            escalations: 0,
            hedges: 0,
            hedge: HedgeState::new(),
            pure_wait: false,
        }
    }

    /// The configuration.
    pub fn spec(&self) -> &'a PolicySpec {
        self.spec
    }

    /// A cursor for a new request of `input` and `output` tokens at `now` (picks its
    /// first provider).
    pub fn start(&mut self, now: SimTime, input: u64, output: u64) -> Cursor {
        let guards = &self.guards;
        let ok = |p: usize| in_rotation(guards, now, p);
        let info = RequestInfo { input, output };
        let plan = self
            .router
            .plan(&self.spec.route, now, &info, &ok, &mut self.routing_rng);
        let mut c = self.fresh(plan, false);
        c.input = input;
        c.output = output;
        c
    }

    /// Whether no guard keeps `provider` out of rotation at `now`.
    fn available(&self, now: SimTime, provider: usize) -> bool {
        in_rotation(&self.guards, now, provider)
    }

    /// The route's pick among the providers in rotation (other than `except`); when none
    /// is, the plain pick (the guards then decide what happens).
    fn pick(&mut self, now: SimTime, tokens: u64, except: Option<usize>) -> usize {
        let guards = &self.guards;
        let ok = |p: usize| except != Some(p) && in_rotation(guards, now, p);
        match self
            .router
            .pick(&self.spec.route, now, tokens, &ok, &mut self.routing_rng)
        {
            Some(p) => p,
            None => self
                .router
                .pick(
                    &self.spec.route,
                    now,
                    tokens,
                    &|_| true,
                    &mut self.routing_rng,
                )
                .expect("a route has a provider"),
        }
    }

    /// Whether the request is in a group that picks again (not sticky, not escalated,
    /// still at its first step).
    fn repicks(&self, cursor: &Cursor) -> bool {
        cursor.step == 0 && !cursor.escalated && !Router::sticky(&self.spec.route)
    }

    /// Moves the request to its next provider step after a failure with `status`
    /// (`None`: refused locally or out of rotation); false when there is none, when the
    /// step's gate does not move on for `status`, or when the fallbacks are used up.
    fn advance(&mut self, cursor: &mut Cursor, status: Option<u16>) -> bool {
        let has_next = cursor.step + 1 < cursor.plan.len();
        let gate_ok = cursor.escalated
            || self
                .spec
                .route
                .gate_allows(cursor.plan.gate(cursor.step), status);
        let under_cap = cursor.escalated
            || self
                .spec
                .max_fallbacks
                .is_none_or(|m| (cursor.step as u32) < m);
        if has_next && gate_ok && under_cap {
            cursor.step += 1;
            cursor.attempts_here = 0;
            cursor.hint_waited = SimDuration::ZERO;
            cursor.prev_sleep = self.spec.retry[cursor.provider()].base;
            self.fallbacks += 1;
            true
        } else {
            false
        }
    }

    fn fresh(&self, plan: Plan, escalated: bool) -> Cursor {
        Cursor {
            plan,
            escalated,
            step: 0,
            attempts_here: 0,
            attempts: 0,
            prev_sleep: self.spec.retry[plan.provider(0)].base,
            hint_waited: SimDuration::ZERO,
            sent_at: SimTime::ZERO,
            answer_sent_at: None,
            input: 0,
            output: 0,
        }
    }

    /// The quality gate rejected a completion of the request at `cursor`: a cursor that
    /// sends it again along the escalation chain, or `None` when there is no gate or the
    /// request was already escalated.
    pub fn escalate(&mut self, cursor: &Cursor) -> Option<Cursor> {
        if self.spec.escalate_to.is_empty() || cursor.escalated {
            return None;
        }
        self.escalations += 1;
        let mut c = self.fresh(Plan::of(&self.spec.escalate_to), true);
        c.input = cursor.input;
        c.output = cursor.output;
        Some(c)
    }

    /// How long after admission a hedge of the request at `cursor` goes out, and to
    /// which provider; `None` when the policy does not hedge.
    /// A request the quality gate sent again is not hedged (a hedge could go back to
    /// the weaker provider it is escalating away from).
    pub fn hedge_plan(&self, cursor: &Cursor) -> Option<(SimDuration, usize)> {
        let spec = self.spec.hedge.as_ref()?;
        if cursor.escalated {
            return None;
        }
        Some((self.hedge.delay(spec), spec.target(cursor.provider())))
    }

    /// A hedge of `tokens` tokens was sent to `provider` at `now`. Hedges skip the
    /// guards (they are not new requests) but count for the routing strategies.
    pub fn on_hedge_send(&mut self, now: SimTime, provider: usize, tokens: u64) {
        self.hedges += 1;
        self.router.on_send(&self.spec.route, now, provider, tokens);
    }

    /// The hedge sent to `provider` at `sent_at` was rejected (seen at `now`).
    pub fn on_hedge_rejected(
        &mut self,
        now: SimTime,
        provider: usize,
        sent_at: SimTime,
        output: u64,
    ) {
        self.router
            .on_response(&self.spec.route, now, provider, sent_at, output, false);
    }

    /// The losing copy of a hedged request, on `provider`, was cancelled.
    pub fn on_cancel(&mut self, provider: usize) {
        self.router.on_cancel(&self.spec.route, provider);
    }

    /// The copy sent at `sent_at` answers the request at `cursor` (a hedge that won):
    /// the guards and the routing strategies see that copy's latency; the hedge delay
    /// learns the request's latency from its first send.
    pub fn answered_by(&self, cursor: &mut Cursor, sent_at: SimTime) {
        cursor.answer_sent_at = (sent_at != cursor.sent_at).then_some(sent_at);
    }

    /// Every guard's state at `now` ([`Guard::gauges`]), each reading with its guard's
    /// position and kind, then, when a guard takes providers out of rotation, whether each
    /// provider the policy can reach is out (1) or not (0), at position `guards.len()`.
    ///
    /// `owners` receives, for each guard that read anything, (its position, its kind,
    /// how many readings of `out` are its), in order.
    pub fn gauges(
        &self,
        now: SimTime,
        out: &mut Vec<Gauge>,
        owners: &mut Vec<(usize, &'static str, usize)>,
    ) {
        for (i, g) in self.guards.iter().enumerate() {
            let before = out.len();
            g.gauges(now, out);
            if out.len() > before {
                owners.push((i, self.spec.guards[i].name(), out.len() - before));
            }
        }
        if self.rotates {
            let before = out.len();
            for &p in &self.reach {
                let out_now = !in_rotation(&self.guards, now, p);
                out.push(Gauge {
                    name: "out of rotation",
                    provider: Some(p),
                    part: None,
                    value: if out_now { 1.0 } else { 0.0 },
                    limit: Some(1.0),
                });
            }
            owners.push((self.guards.len(), "rotation", out.len() - before));
        }
    }

    /// Total provider-time the guards took providers out of rotation (cooldowns, open
    /// circuits, ejections).
    pub fn out_of_rotation(&self) -> SimDuration {
        self.guards
            .iter()
            .fold(SimDuration::ZERO, |t, g| t + g.out_total())
    }

    /// Whether a guard reads the providers' rate-limit headers (then the caller passes
    /// them to [`PolicyState::on_response`]).
    pub fn wants_usage(&self) -> bool {
        self.wants_usage
    }

    /// The request of `input` and `output` tokens is ready at `now`: run the guards and
    /// decide.
    pub fn next(&mut self, now: SimTime, cursor: &mut Cursor) -> Step {
        self.asks += 1;
        let (input, output) = (cursor.input, cursor.output);
        // Whether this call did anything besides asking the guards.
        let mut acted = false;
        self.pure_wait = false;
        loop {
            if cursor.attempts_here > 0 && self.repicks(cursor) {
                acted = true;
                // A group that is not sticky picks again for every retry (LiteLLM).
                let p = self.pick(now, input.saturating_add(output), None);
                cursor.plan.set_provider(0, p);
            }
            let provider = cursor.provider();
            let attempt = Attempt {
                provider,
                input,
                output,
                retry: cursor.attempts > 0,
            };
            let mut verdict = GuardVerdict::Pass;
            // The providers this request can still go to: its steps within the cap on
            // fallbacks, and, while a group may pick again, every provider of the group.
            let (plan, step) = (cursor.plan, cursor.step);
            let last = match self.spec.max_fallbacks {
                Some(m) if !cursor.escalated => (m as usize).min(plan.len() - 1),
                _ => plan.len() - 1,
            };
            let group: &[usize] = match &self.spec.route {
                RouteSpec::Weighted(w) if self.repicks(cursor) => &w.providers,
                _ => &[],
            };
            for g in &mut self.guards {
                verdict = g.check(now, &attempt);
                if verdict == GuardVerdict::Unavailable
                    && g.bypass_when_all_out()
                    && (step..=last.max(step))
                        .map(|i| plan.provider(i))
                        .chain(group.iter().copied())
                        .all(|p| g.out_until(now, p).is_some())
                {
                    // Every target left is out: this guard steps aside.
                    verdict = GuardVerdict::Pass;
                }
                if verdict != GuardVerdict::Pass {
                    break;
                }
            }
            match verdict {
                GuardVerdict::Pass => {
                    for g in &mut self.guards {
                        g.commit(now, &attempt);
                    }
                    cursor.attempts_here += 1;
                    cursor.attempts += 1;
                    cursor.sent_at = now;
                    cursor.answer_sent_at = None;
                    self.router.on_send(
                        &self.spec.route,
                        now,
                        provider,
                        input.saturating_add(output),
                    );
                    return Step::Send(provider);
                }
                GuardVerdict::WaitUntil(SimTime::MAX) => return Step::Fail(FailReason::GaveUp),
                GuardVerdict::WaitUntil(t) => {
                    self.pure_wait = !acted;
                    return Step::WaitUntil(t.max(now));
                }
                GuardVerdict::WaitForResponse => {
                    self.pure_wait = !acted;
                    return Step::WaitForResponse;
                }
                GuardVerdict::Unavailable => {
                    acted = true;
                    // Out of rotation: another provider of the group, else the next
                    // step, without using an attempt; with nowhere left, an error.
                    self.guard_refusals += 1;
                    if self.repicks(cursor) {
                        let other = self.pick(now, input.saturating_add(output), Some(provider));
                        if other != provider && self.available(now, other) {
                            cursor.plan.set_provider(0, other);
                            continue;
                        }
                    }
                    if self.advance(cursor, None) {
                        continue;
                    }
                    return Step::Fail(FailReason::GaveUp);
                }
                GuardVerdict::Refuse => {
                    acted = true;
                    self.guard_refusals += 1;
                    cursor.attempts_here += 1;
                    cursor.attempts += 1;
                    match self.after_failure(now, cursor, None, Hint::Unknown) {
                        After::Retry(t) if t > now => return Step::WaitUntil(t),
                        After::Retry(_) => continue,
                        After::Fail(r) => return Step::Fail(r),
                        After::Done => unreachable!("a refusal never completes a request"),
                    }
                }
            }
        }
    }

    /// Whether the last [`PolicyState::next`] that said to wait only asked the guards
    /// (see [`PolicyState::waits_alike`]).
    pub fn pure_wait(&self) -> bool {
        self.pure_wait
    }

    /// Whether requests `a` and `b`, both waiting, get the same answer from
    /// [`PolicyState::next`] whenever `a` gets a pure wait ([`PolicyState::pure_wait`]),
    /// and asking changes nothing: neither picks again, every guard before the last that
    /// may wait answers them alike ([`Guard::alike`]) and that one tells them the same
    /// when it tells `a` to wait ([`Guard::alike_when_waiting`]). Then when `a` was just
    /// told to wait, `b` right behind it would be told the same, and need not ask.
    pub fn waits_alike(&self, a: &Cursor, b: &Cursor) -> bool {
        let fixed = |c: &Cursor| !(c.attempts_here > 0 && self.repicks(c));
        let attempt = |c: &Cursor| Attempt {
            provider: c.provider(),
            input: c.input,
            output: c.output,
            retry: c.attempts > 0,
        };
        let (x, y) = (attempt(a), attempt(b));
        // A pure wait comes from a guard that may wait, after every guard before it
        // passed: those must pass `b` too, and the one that said wait tell it the same.
        // Guards after the last that may wait are never asked before a pure wait.
        let last = self.last_waiting;
        fixed(a)
            && fixed(b)
            && self.guards.iter().enumerate().all(|(i, g)| match last {
                Some(l) if i < l => g.alike(&x, &y),
                Some(l) if i == l => g.alike_when_waiting(&x, &y),
                _ => true,
            })
    }

    /// `provider` answered at `now`; the request cost `cost`, and `usage` holds the
    /// provider's rate-limit headers when [`PolicyState::wants_usage`].
    pub fn on_response(
        &mut self,
        now: SimTime,
        cursor: &mut Cursor,
        provider: usize,
        response: Response,
        cost: f64,
        usage: &[Usage],
    ) -> After {
        let (status, hint) = match response {
            Response::Success => (None, Hint::Unknown),
            Response::Rejected { status, hint } => (Some(status), hint),
        };
        let feedback = Feedback {
            provider,
            status,
            hint,
            sent_at: cursor.answer_sent_at.unwrap_or(cursor.sent_at),
            cost,
            retry: cursor.attempts > 1,
            usage,
        };
        for g in &mut self.guards {
            g.on_response(now, &feedback);
        }
        self.router.on_response(
            &self.spec.route,
            now,
            provider,
            cursor.answer_sent_at.unwrap_or(cursor.sent_at),
            cursor.output,
            status.is_none(),
        );
        if let (None, Some(spec)) = (status, &self.spec.hedge) {
            self.hedge.observe(spec, now - cursor.sent_at);
        }
        match response {
            Response::Success => After::Done,
            Response::Rejected { status, hint } => {
                self.after_failure(now, cursor, Some(status), hint)
            }
        }
    }

    fn after_failure(
        &mut self,
        now: SimTime,
        cursor: &mut Cursor,
        status: Option<u16>,
        hint: Hint,
    ) -> After {
        let provider = cursor.provider();
        let retry = &self.spec.retry[provider];
        let retryable = status.is_none_or(|s| retry.retries(s)) && hint != Hint::Never;
        if retryable && cursor.attempts_here < retry.max_attempts {
            let n = cursor.attempts_here - 1;
            let wait = match hint {
                Hint::After(d) => Some(d),
                _ => None,
            };
            let left = retry
                .retry_after_budget
                .map(|b| b.saturating_sub(cursor.hint_waited));
            let delay = match wait {
                // Portkey: a hint beyond the retry-after budget left ends the retries here.
                Some(w) if retry.honor_retry_after && left.is_some_and(|l| w > l) => None,
                Some(w) if retry.honor_retry_after && w <= retry.retry_after_max => {
                    cursor.hint_waited += w;
                    Some(w)
                }
                _ => Some(retry.backoff_delay(n, &mut cursor.prev_sleep, &mut self.jitter_rng)),
            };
            // LiteLLM: no delay while another provider the retry could pick (in the
            // lowest priority tier in rotation) is in rotation.
            let other = self.repicks(cursor)
                && match &self.spec.route {
                    RouteSpec::Weighted(w) => {
                        w.other_in_rotation(provider, |p| self.available(now, p))
                    }
                    RouteSpec::Chain(_) | RouteSpec::Tree { .. } => false,
                };
            if let Some(delay) = delay {
                return After::Retry(if other { now } else { now + delay });
            }
        }
        if self.advance(cursor, status) {
            return After::Retry(now);
        }
        After::Fail(if hint == Hint::Never {
            FailReason::Unadmittable
        } else {
            FailReason::GaveUp
        })
    }
}

/// What follows a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    /// The request is done.
    Done,
    /// Try again (via [`PolicyState::next`]) at this time.
    Retry(SimTime),
    /// Give the job up.
    Fail(FailReason),
}
