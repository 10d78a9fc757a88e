//! The discrete-event core: one replication of one policy over one set of jobs, on one
//! thread. Events are kept in an [`EventQueue`] ordered by (time, insertion sequence);
//! the clock jumps from event to event.

mod queue;
pub mod rng;

pub use queue::EventQueue;

use std::collections::VecDeque;

use crate::metrics::{Catalog, Recorder};
use crate::policy::{After, Cursor, FailReason, PolicyState, Response, Step};
use crate::provider::{Admission, Hint, Provider};
use crate::scenario::Scenario;
use crate::time::SimTime;
use crate::workload::Jobs;

#[derive(Clone, Copy, Debug)]
enum Event {
    /// Job arrives (the next arrival is scheduled when this one is handled).
    Arrive(u32),
    /// A waiting job gets a slot (scheduled, not called, so that a chain of jobs
    /// failing at once never deepens the stack).
    Start(u32),
    /// The job's current request is ready to be (re)tried.
    Ready(u32),
    /// A provider finished serving copy `copy` of the job's current request (a stale
    /// copy, cancelled since, is ignored).
    Served { job: u32, provider: u16, copy: u16 },
    /// A rejection reaches the job (its status and hint wait in the job's state, which
    /// keeps events small: a job has one request in flight at a time).
    Rejected { job: u32, provider: u16 },
    /// Time to hedge copy `copy` of the job's request, if it is still unanswered.
    Hedge { job: u32, copy: u16 },
}

/// A copy of a request admitted by a provider and not answered yet.
#[derive(Clone, Copy, Debug)]
struct Live {
    provider: u16,
    copy: u16,
    sent_at: SimTime,
    /// When its service started (`None`: waiting in the provider's queue) and how long
    /// the service takes.
    started: Option<(SimTime, SimTime)>,
}

/// A provider's ticket for copy `copy` of `job`'s request.
fn ticket(job: u32, copy: u16) -> u64 {
    job as u64 | (copy as u64) << 32
}

fn unticket(t: u64) -> (u32, u16) {
    (t as u32, (t >> 32) as u16)
}

/// Watches one replication as it runs; every method has an empty default. Used to
/// record limiter timelines without touching the engine's logic.
pub trait Observer {
    /// Called before the events at `now` are handled: the providers are as they have
    /// been since the previous event.
    fn before(&mut self, _now: SimTime, _providers: &[Provider]) {}
    /// A request was sent to `provider` at `now` and got `admission`.
    fn attempt(&mut self, _now: SimTime, _provider: usize, _admission: &Admission) {}
    /// A request moved from provider `from` to its fallback `to` at `now`.
    fn fallback(&mut self, _now: SimTime, _from: usize, _to: usize) {}
    /// A request on provider `from` was hedged to `to` at `now` (before the hedge's
    /// [`Observer::attempt`]).
    fn hedge(&mut self, _now: SimTime, _from: usize, _to: usize) {}
}

/// An observer that does nothing.
pub struct NoObserver;

impl Observer for NoObserver {}

/// The state of the jobs in progress, kept in reusable slots (only the jobs in progress
/// need one: at most the workload's concurrency), indexed by job.
struct States {
    slot_of: Vec<u32>,
    slots: Vec<JobState>,
    free: Vec<u32>,
}

const NO_SLOT: u32 = u32::MAX;

impl States {
    fn new(jobs: usize) -> Self {
        States {
            slot_of: vec![NO_SLOT; jobs],
            slots: Vec::new(),
            free: Vec::new(),
        }
    }

    /// Job `job` starts: a fresh state.
    fn open(&mut self, job: u32) {
        debug_assert!(!self.is_open(job), "job {job} opened twice");
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = JobState::FRESH;
                s
            }
            None => {
                self.slots.push(JobState::FRESH);
                (self.slots.len() - 1) as u32
            }
        };
        self.slot_of[job as usize] = slot;
    }

    /// Job `job` finished: its slot is free again.
    fn close(&mut self, job: u32) {
        let slot = std::mem::replace(&mut self.slot_of[job as usize], NO_SLOT);
        self.free.push(slot);
    }

    /// Whether job `job` is in progress (events of a finished job are stale).
    fn is_open(&self, job: u32) -> bool {
        self.slot_of[job as usize] != NO_SLOT
    }
}

impl std::ops::Index<usize> for States {
    type Output = JobState;
    fn index(&self, job: usize) -> &JobState {
        debug_assert!(self.is_open(job as u32), "job {job} is not in progress");
        &self.slots[self.slot_of[job] as usize]
    }
}

impl std::ops::IndexMut<usize> for States {
    fn index_mut(&mut self, job: usize) -> &mut JobState {
        debug_assert!(self.is_open(job as u32), "job {job} is not in progress");
        &mut self.slots[self.slot_of[job] as usize]
    }
}

#[derive(Clone, Copy)]
struct JobState {
    cursor: Option<Cursor>,
    request: u32,
    sent: bool,
    saw_rejection: bool,
    /// The rejection on its way back: (status, hint).
    pending: (u16, Hint),
    /// Provider of the current request's last attempt.
    last_provider: Option<u16>,
    /// Copies sent so far (names the next one).
    copies: u16,
    /// The current request's admitted copy, and its hedge.
    primary: Option<Live>,
    hedge: Option<Live>,
}

impl JobState {
    const FRESH: JobState = JobState {
        cursor: None,
        request: 0,
        sent: false,
        saw_rejection: false,
        pending: (0, Hint::Unknown),
        last_provider: None,
        copies: 0,
        primary: None,
        hedge: None,
    };
}

/// What one replication of one policy produced.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// Metric values in catalog order.
    pub metrics: Vec<f64>,
    /// Events processed (for throughput benchmarks).
    pub events: u64,
    /// Completed jobs' latencies in seconds, in no particular order.
    pub latencies: Vec<f64>,
}

struct Sim<'a, O: Observer> {
    observer: &'a mut O,
    jobs: &'a Jobs,
    providers: Vec<Provider<'a>>,
    policy: PolicyState<'a>,
    catalog: &'a Catalog,
    rec: Recorder,
    queue: EventQueue<Event>,
    state: States,
    waiting: VecDeque<u32>,
    active: u32,
    /// Jobs waiting for the next response (a client-side concurrency limit).
    parked: VecDeque<u32>,
    /// Scratch space for rate-limit headers.
    usage: Vec<crate::provider::limiter::Usage>,
    concurrency: u32,
}

impl<'a, O: Observer> Sim<'a, O> {
    fn start_request(&mut self, now: SimTime, job: u32) {
        let size = self.jobs.requests_of(job as usize)[self.state[job as usize].request as usize];
        let st = &mut self.state[job as usize];
        st.cursor = Some(self.policy.start(now, size.input, size.output));
        st.last_provider = None;
        self.try_send(now, job);
    }

    fn try_send(&mut self, now: SimTime, job: u32) {
        let j = job as usize;
        let mut cursor = self.state[j].cursor.expect("a job in flight has a cursor");
        let step = self.policy.next(now, &mut cursor);
        self.state[j].cursor = Some(cursor);
        match step {
            Step::Send(p) => {
                if let Some(prev) = self.state[j].last_provider {
                    if prev as usize != p {
                        self.observer.fallback(now, prev as usize, p);
                    }
                }
                self.state[j].last_provider = Some(p as u16);
                if !self.state[j].sent {
                    self.state[j].sent = true;
                    self.rec.first_send(now - self.jobs.arrivals[j]);
                }
                let (copy, admission) = self.send_copy(now, job, p, false);
                match admission {
                    Admission::Serve { .. } | Admission::Queued => {
                        self.schedule_hedge(now, job, cursor, copy)
                    }
                    Admission::Reject {
                        status,
                        hint,
                        latency,
                        ..
                    } => {
                        self.state[j].pending = (status, hint);
                        self.queue.schedule(
                            now + latency,
                            Event::Rejected {
                                job,
                                provider: p as u16,
                            },
                        )
                    }
                }
            }
            Step::WaitUntil(t) => self.queue.schedule(t, Event::Ready(job)),
            Step::WaitForResponse => self.parked.push_back(job),
            Step::Fail(reason) => self.finish_job(now, job, Some(reason)),
        }
    }

    /// Copy `copy` of the job's request was admitted at `now`: if the policy hedges,
    /// its hedge is due after the policy's delay.
    fn schedule_hedge(&mut self, now: SimTime, job: u32, cursor: Cursor, copy: u16) {
        if let Some((delay, _)) = self.policy.hedge_plan(&cursor) {
            self.queue.schedule(now + delay, Event::Hedge { job, copy });
        }
    }

    /// Sends the hedge of the job's request, unless the copy `copy` it hedges was
    /// answered (or the request has a hedge already).
    fn hedge(&mut self, now: SimTime, job: u32, copy: u16) {
        let j = job as usize;
        let st = self.state[j];
        if st.hedge.is_some() || st.primary.is_none_or(|l| l.copy != copy) {
            return;
        }
        let cursor = st.cursor.expect("an unanswered request has a cursor");
        let (_, h) = self.policy.hedge_plan(&cursor).expect("the policy hedges");
        let size = self.jobs.requests_of(j)[st.request as usize];
        self.observer.hedge(now, cursor.provider(), h);
        self.policy.on_hedge_send(now, h, size.input + size.output);
        if let (_, Admission::Reject { .. }) = self.send_copy(now, job, h, true) {
            // A rejected hedge changes nothing for the request: its first copy is still
            // on its way.
            self.state[j].saw_rejection = true;
            self.policy.on_hedge_rejected(now, h, now, size.output);
        }
    }

    /// Offers a new copy of the job's current request to provider `p` at `now` (its
    /// first copy, or with `hedge` its hedge) and records it: an admitted copy becomes
    /// live and its answer is scheduled once it is in service; a rejection is counted.
    fn send_copy(&mut self, now: SimTime, job: u32, p: usize, hedge: bool) -> (u16, Admission) {
        let j = job as usize;
        self.rec.attempt(p);
        let size = self.jobs.requests_of(j)[self.state[j].request as usize];
        let copy = self.state[j].copies;
        self.state[j].copies = copy.wrapping_add(1);
        let admission = self.providers[p].offer(now, size.input, size.output, ticket(job, copy));
        self.observer.attempt(now, p, &admission);
        let started = match admission {
            Admission::Serve { latency } => {
                self.queue.schedule(
                    now + latency,
                    Event::Served {
                        job,
                        provider: p as u16,
                        copy,
                    },
                );
                Some((now, latency))
            }
            Admission::Queued => None,
            Admission::Reject { status, .. } => {
                self.rec.rejection(self.catalog, now, p, status);
                return (copy, admission);
            }
        };
        let live = Some(Live {
            provider: p as u16,
            copy,
            sent_at: now,
            started,
        });
        if hedge {
            self.state[j].hedge = live;
        } else {
            self.state[j].primary = live;
        }
        (copy, admission)
    }

    /// A slot of provider `p` came free at `now`: the next queued request starts.
    fn release(&mut self, now: SimTime, p: usize) {
        if let Some((t, latency)) = self.providers[p].release() {
            let (job, copy) = unticket(t);
            let st = &mut self.state[job as usize];
            for live in [&mut st.primary, &mut st.hedge].into_iter().flatten() {
                if live.copy == copy {
                    live.started = Some((now, latency));
                }
            }
            self.queue.schedule(
                now + latency,
                Event::Served {
                    job,
                    provider: p as u16,
                    copy,
                },
            );
        }
    }

    /// Cancels the losing copy of a hedged request at `now`. A copy still queued costs
    /// nothing; one in service pays its prompt and the share of its completion generated
    /// so far, and frees its slot.
    /// Returns what it cost.
    fn cancel(&mut self, now: SimTime, job: u32, loser: Live) -> f64 {
        let j = job as usize;
        let p = loser.provider as usize;
        let cost = match loser.started {
            None => {
                let queued = self.providers[p].dequeue(ticket(job, loser.copy));
                debug_assert!(queued, "a copy not in service is in its provider's queue");
                0.0
            }
            Some((start, service)) => {
                let size = self.jobs.requests_of(j)[self.state[j].request as usize];
                let done = if service > SimTime::ZERO {
                    ((now - start).as_secs_f64() / service.as_secs_f64()).min(1.0)
                } else {
                    1.0
                };
                let generated = (size.output as f64 * done).round() as u64;
                let cost = self.providers[p].spec().cost(size.input, generated);
                self.rec.charged(p, cost);
                self.rec.wasted(cost);
                self.release(now, p);
                cost
            }
        };
        self.policy.on_cancel(p);
        cost
    }

    fn after(&mut self, now: SimTime, job: u32, after: After) {
        match after {
            After::Done => {
                let st = &mut self.state[job as usize];
                st.request += 1;
                if (st.request as usize) < self.jobs.requests_of(job as usize).len() {
                    self.start_request(now, job);
                } else {
                    self.finish_job(now, job, None);
                }
            }
            After::Retry(t) if t <= now => self.try_send(now, job),
            After::Retry(t) => self.queue.schedule(t, Event::Ready(job)),
            After::Fail(reason) => self.finish_job(now, job, Some(reason)),
        }
    }

    /// A response reached the policy: parked jobs ask again, in the order they parked.
    fn unpark(&mut self, now: SimTime) {
        for job in self.parked.drain(..) {
            self.queue.schedule(now, Event::Ready(job));
        }
    }

    /// Collects provider `p`'s rate-limit headers, when the policy reads them.
    fn fill_usage(&mut self, now: SimTime, p: usize) {
        self.usage.clear();
        if self.policy.wants_usage() {
            self.usage.extend(self.providers[p].usage(now));
        }
    }

    fn finish_job(&mut self, now: SimTime, job: u32, failed: Option<FailReason>) {
        let j = job as usize;
        self.state[j].cursor = None;
        let latency = now - self.jobs.arrivals[j];
        self.rec
            .job_done(now, latency, failed, self.state[j].saw_rejection);
        self.state.close(job);
        self.active -= 1;
        if let Some(next) = self.waiting.pop_front() {
            self.active += 1;
            self.queue.schedule(now, Event::Start(next));
        }
    }

    fn handle(&mut self, now: SimTime, event: Event) {
        match event {
            Event::Arrive(job) => {
                let next = job as usize + 1;
                if next < self.jobs.len() {
                    self.queue
                        .schedule(self.jobs.arrivals[next], Event::Arrive(next as u32));
                }
                if self.active < self.concurrency {
                    self.active += 1;
                    self.state.open(job);
                    self.start_request(now, job);
                } else {
                    self.waiting.push_back(job);
                }
            }
            Event::Start(job) => {
                self.state.open(job);
                self.start_request(now, job)
            }
            Event::Ready(job) => self.try_send(now, job),
            // A finished job's hedge timer or cancelled copy is stale.
            Event::Hedge { job, .. } | Event::Served { job, .. } if !self.state.is_open(job) => {}
            Event::Hedge { job, copy } => self.hedge(now, job, copy),
            Event::Served {
                job,
                provider,
                copy,
            } => {
                let p = provider as usize;
                let j = job as usize;
                let (primary, hedge) = (self.state[j].primary, self.state[j].hedge);
                let is = |l: Option<Live>| l.is_some_and(|l| l.copy == copy);
                let (winner, loser) = if is(primary) {
                    (primary, hedge)
                } else if is(hedge) {
                    (hedge, primary)
                } else {
                    // A cancelled copy: its slot was freed when it was cancelled.
                    return;
                };
                let winner = winner.expect("matched");
                // The loser first: freeing the winner's slot may start a queued copy,
                // and that must not be the loser.
                let wasted = match loser {
                    Some(loser) => self.cancel(now, job, loser),
                    None => 0.0,
                };
                self.state[j].primary = None;
                self.state[j].hedge = None;
                self.release(now, p);
                let size = self.jobs.requests_of(j)[self.state[j].request as usize];
                let spec = self.providers[p].spec();
                let cost = spec.cost(size.input, size.output);
                let passed = self.providers[p].passes();
                self.rec.served(p, size.input + size.output, cost, passed);
                let mut cursor = self.state[j].cursor.expect("in flight");
                self.policy.answered_by(&mut cursor, winner.sent_at);
                if !passed {
                    if let Some(again) = self.policy.escalate(&cursor) {
                        // The quality gate: the completion failed the job's tests; its
                        // cost is wasted and the request goes to a stronger provider.
                        self.rec.wasted(cost);
                        self.fill_usage(now, p);
                        self.policy.on_response(
                            now,
                            &mut cursor,
                            p,
                            Response::Success,
                            // What the request cost, a cancelled copy included.
                            cost + wasted,
                            &self.usage,
                        );
                        self.state[j].cursor = Some(again);
                        self.state[j].last_provider = None;
                        self.unpark(now);
                        self.try_send(now, job);
                        return;
                    }
                }
                self.fill_usage(now, p);
                let after = self.policy.on_response(
                    now,
                    &mut cursor,
                    p,
                    Response::Success,
                    cost + wasted,
                    &self.usage,
                );
                self.state[j].cursor = Some(cursor);
                self.unpark(now);
                self.after(now, job, after);
            }
            Event::Rejected { job, provider } => {
                let p = provider as usize;
                let j = job as usize;
                let (status, hint) = self.state[j].pending;
                self.state[j].saw_rejection = true;
                let mut cursor = self.state[j].cursor.expect("in flight");
                self.fill_usage(now, p);
                let after = self.policy.on_response(
                    now,
                    &mut cursor,
                    p,
                    Response::Rejected { status, hint },
                    0.0,
                    &self.usage,
                );
                self.state[j].cursor = Some(cursor);
                self.unpark(now);
                self.after(now, job, after);
            }
        }
    }
}

/// Runs policy `policy` of `scenario` over `jobs` in replication `replication`.
///
/// The providers' and the policy's random streams are seeded from (scenario seed,
/// replication, source), so the result depends on nothing else.
pub fn simulate(
    scenario: &Scenario,
    catalog: &Catalog,
    policy: usize,
    jobs: &Jobs,
    replication: u64,
) -> RunOutput {
    simulate_observed(
        scenario,
        catalog,
        policy,
        jobs,
        replication,
        &mut NoObserver,
    )
}

/// [`simulate`], reporting to `observer` as it goes. The observer cannot change the run.
pub fn simulate_observed<O: Observer>(
    scenario: &Scenario,
    catalog: &Catalog,
    policy: usize,
    jobs: &Jobs,
    replication: u64,
    observer: &mut O,
) -> RunOutput {
    let seed = scenario.seed;
    let providers = scenario
        .providers
        .iter()
        .enumerate()
        .map(|(i, spec)| Provider::new(spec, seed, replication, i as u32))
        .collect();
    let mut sim = Sim {
        observer,
        jobs,
        providers,
        policy: PolicyState::new(&scenario.policies[policy], seed, replication, policy as u32),
        catalog,
        rec: Recorder::new(catalog, scenario.providers.len(), jobs.len()),
        queue: EventQueue::with_capacity(1024),
        state: States::new(jobs.len()),
        waiting: VecDeque::new(),
        active: 0,
        parked: VecDeque::new(),
        usage: Vec::new(),
        concurrency: scenario.workload.concurrency.unwrap_or(u32::MAX),
    };
    if !jobs.is_empty() {
        sim.queue.schedule(jobs.arrivals[0], Event::Arrive(0));
    }
    let mut events = 0u64;
    let mut clock = SimTime::ZERO;
    while let Some((now, event)) = sim.queue.pop() {
        debug_assert!(now >= clock, "time went backwards");
        clock = now;
        events += 1;
        sim.observer.before(now, &sim.providers);
        sim.handle(now, event);
    }
    // Checked in release builds too: a broken invariant would silently lose jobs.
    assert_eq!(sim.active, 0, "internal error: a job never finished");
    assert!(
        sim.providers
            .iter()
            .all(|p| p.in_flight() == 0 && p.queued() == 0),
        "internal error: a provider slot was never released"
    );
    sim.rec.guard_refusals = sim.policy.guard_refusals;
    sim.rec.fallbacks = sim.policy.fallbacks;
    sim.rec.escalations = sim.policy.escalations;
    sim.rec.cooldown = sim.policy.out_of_rotation();
    sim.rec.hedges = sim.policy.hedges;
    let (metrics, latencies) = sim.rec.finish(catalog, scenario, policy);
    RunOutput {
        metrics,
        events,
        latencies,
    }
}
