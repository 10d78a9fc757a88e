//! The discrete-event core: one replication of one policy over one set of jobs, on one
//! thread. Events are kept in an [`EventQueue`] ordered by (time, insertion sequence);
//! the clock jumps from event to event.
//!
//! The engine is plumbing: each job's [`RequestDriver`] decides what happens to its
//! requests, and the engine turns the driver's actions into provider calls and events,
//! records the metrics and reports to an [`Observer`].
//!
//! A run may simulate up to [`MAX_SIM_TIME`]: the first event at or past it ends the
//! run with a [`TimeLimit`] error, never with results of a saturated clock.

mod observer;
mod queue;
mod slots;
pub mod timeline;
mod waiters;

pub use observer::{NoObserver, Observer};
pub use queue::EventQueue;
use slots::Slots;
use waiters::Waiters;

use std::collections::VecDeque;

use crate::metrics::{Catalog, Recorder};
use crate::policy::driver::{Action, Answer, Live, Reaction, RequestDriver, Send};
use crate::policy::{FailReason, PolicyState};
use crate::provider::{Admission, Hint, Provider};
use crate::scenario::Scenario;
use crate::time::{SimTime, VirtualClock, MAX_SIM_TIME};
use crate::workload::{Jobs, RequestSize};

#[derive(Clone, Copy, Debug)]
enum Event {
    /// Job arrives (the next arrival is scheduled when this one is handled).
    Arrive(u32),
    /// A waiting job gets a slot (scheduled, not called, so that a chain of jobs
    /// failing at once never deepens the stack).
    Start(u32),
    /// The current requests of the jobs in wait list `n` are ready to be (re)tried, in
    /// order: one event for jobs that waited for the same time, or were parked, one
    /// right after the other (separate events would have come out back to back).
    Wake(u32),
    /// A provider finished serving copy `copy` of the job's current request (a stale
    /// copy, cancelled since, is ignored).
    Served { job: u32, provider: u16, copy: u32 },
    /// A rejection reaches the job (its status and hint wait in the job's state, which
    /// keeps events small: a job has one request in flight at a time).
    Rejected { job: u32, provider: u16 },
    /// Time to hedge copy `copy` of the job's request, if it is still unanswered.
    Hedge { job: u32, copy: u32 },
}

/// A run whose simulated time would pass [`MAX_SIM_TIME`]: what event would have, and
/// where.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error(
    "simulated time would exceed {years} years, the longest a run may simulate: policy \
     `{policy}`, replication {replication}: {cause}",
    years = MAX_SIM_TIME.as_secs_f64() / (365.25 * 86_400.0)
)]
pub struct TimeLimit {
    /// The policy's name.
    pub policy: String,
    /// The replication.
    pub replication: u64,
    /// The event's time (at most [`SimTime::MAX`], where the clock saturates).
    pub at: SimTime,
    /// What the event was and which setting made it that late.
    pub cause: String,
}

/// An instant for an error message: seconds, or the clock's end once it saturated.
fn instant(t: SimTime) -> String {
    if t == SimTime::MAX {
        "the end of the clock (2^64 ns, about 584 years; saturated)".into()
    } else {
        format!("{:.4e} s", t.as_secs_f64())
    }
}

/// Why `event` at `now` (at or past [`MAX_SIM_TIME`]) is that late, naming the setting.
#[cold]
#[inline(never)]
fn time_limit(
    scenario: &Scenario,
    policy: usize,
    replication: u64,
    now: SimTime,
    event: Event,
) -> TimeLimit {
    let at = instant(now);
    let provider = |p: u16| &scenario.providers[p as usize].name;
    let cause = match event {
        Event::Arrive(job) => format!(
            "job {job} arrives at {at} (the workload's arrival times: trace start_s and \
             time_scale, or the Poisson rate)"
        ),
        Event::Start(job) => format!("job {job} would start at {at}"),
        Event::Wake(_) => format!(
            "a waiting job would ask again at {at} (a retry backoff, or a wait a limiter, \
             a guard or a cooldown asked for)"
        ),
        Event::Served {
            job, provider: p, ..
        } => format!(
            "provider `{}`'s response to job {job} would arrive at {at} (its latency, with \
             the request's output tokens)",
            provider(p)
        ),
        Event::Rejected { job, provider: p } => format!(
            "provider `{}`'s rejection of job {job} would arrive at {at} (its \
             reject_latency)",
            provider(p)
        ),
        Event::Hedge { job, .. } => {
            format!("job {job}'s hedge timer would fire at {at} (hedge.after)")
        }
    };
    TimeLimit {
        policy: scenario.policies[policy].name.clone(),
        replication,
        at: now,
        cause,
    }
}

/// A provider's ticket for copy `copy` of `job`'s request.
fn ticket(job: u32, copy: u32) -> u64 {
    job as u64 | (copy as u64) << 32
}

fn unticket(t: u64) -> (u32, u32) {
    (t as u32, (t >> 32) as u32)
}

/// A job in progress: its request protocol, which of its requests it is on, and the
/// rejection on its way back (kept here so that events stay small).
#[derive(Clone, Copy)]
struct JobState {
    driver: RequestDriver,
    request: u32,
    /// The rejected copy, its status and hint.
    pending: (u32, u16, Hint),
}

impl JobState {
    const FRESH: JobState = JobState {
        driver: RequestDriver::new(),
        request: 0,
        pending: (0, 0, Hint::Unknown),
    };

    /// Fresh again for another job (`pending` is always written before it is read).
    fn reset(&mut self) {
        self.driver.reset();
        self.request = 0;
    }
}

/// What one replication of one policy produced.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// Metric values in catalog order.
    pub metrics: Vec<f64>,
    /// Events processed (for throughput benchmarks).
    pub events: u64,
    /// Times the policy was asked whether a request may go ([`PolicyState::asks`]).
    pub asks: u64,
    /// Completed jobs' latencies in seconds, in no particular order.
    pub latencies: Vec<f64>,
}

/// A wait list that a job waiting until `at` may join: nothing was scheduled after it
/// (the queue had scheduled `mark` events).
#[derive(Clone, Copy, Debug)]
struct Open {
    at: SimTime,
    list: u32,
    mark: u64,
}

struct Sim<'a, O: Observer> {
    observer: &'a mut O,
    jobs: &'a Jobs,
    providers: Vec<Provider<'a>>,
    policy: PolicyState<'a>,
    catalog: &'a Catalog,
    rec: Recorder,
    queue: EventQueue<Event>,
    state: Slots<JobState>,
    waiting: VecDeque<u32>,
    active: u32,
    /// Jobs that have ended, completed or failed.
    ended: usize,
    /// Jobs waiting for the next response (a client-side concurrency limit).
    parked: Waiters,
    /// The wait lists of the `Wake` events (a free list of their numbers beside).
    lists: Vec<Waiters>,
    free_lists: Vec<u32>,
    /// The last wait list scheduled, while nothing else has been scheduled since: a job
    /// told to wait for the same time joins it.
    open: Option<Open>,
    /// Scratch space for rate-limit headers.
    usage: Vec<crate::provider::limiter::Usage>,
    concurrency: u32,
    /// Whether a run of alike waiters follows its first job without asking.
    follow: bool,
}

impl<'a, O: Observer> Sim<'a, O> {
    fn size(&self, job: u32) -> RequestSize {
        self.jobs.requests_of(job as usize)[self.state[job as usize].request as usize]
    }

    fn start_request(&mut self, now: SimTime, job: u32) {
        let size = self.size(job);
        let st = &mut self.state[job as usize];
        let action = st
            .driver
            .start(now, &mut self.policy, size.input, size.output);
        self.act(now, job, action);
    }

    /// Carries out the driver's `action` for `job` at `now`.
    fn act(&mut self, now: SimTime, job: u32, mut action: Action) {
        loop {
            action = match action {
                Action::Send(send) => match self.send(now, job, send) {
                    Some(next) => next,
                    None => return,
                },
                Action::HedgeAt { at, copy } => {
                    self.queue.schedule(at, Event::Hedge { job, copy });
                    return;
                }
                Action::WaitUntil(t) => {
                    self.wait_until(t, job);
                    return;
                }
                Action::Park => {
                    self.park(job);
                    return;
                }
                Action::Done => {
                    let st = &mut self.state[job as usize];
                    st.request += 1;
                    if (st.request as usize) < self.jobs.requests_of(job as usize).len() {
                        self.start_request(now, job);
                    } else {
                        self.finish_job(now, job, None);
                    }
                    return;
                }
                Action::Fail(reason) => {
                    self.finish_job(now, job, Some(reason));
                    return;
                }
                Action::Wait => return,
            }
        }
    }

    /// Carries out a reaction to a response: parked jobs ask again, then the action.
    fn react(&mut self, now: SimTime, job: u32, reaction: Reaction) {
        if reaction.wake_parked && !self.parked.is_empty() {
            let parked = std::mem::take(&mut self.parked);
            self.schedule_list(now, parked);
        }
        self.act(now, job, reaction.then);
    }

    /// Whether `b`, waiting right behind `a`, would be answered alike.
    fn alike(&self, a: u32, b: u32) -> bool {
        let (a, b) = (
            &self.state[a as usize].driver,
            &self.state[b as usize].driver,
        );
        a.waits_alike(b, &self.policy)
    }

    /// `job` waits for the next response.
    fn park(&mut self, job: u32) {
        let alike = self.parked.back().is_some_and(|b| self.alike(b, job));
        self.parked.push(job, alike);
    }

    /// `job` waits until `t`: it joins the open wait list for `t` (where its own event
    /// would have come out right after the list's last job), or starts one.
    fn wait_until(&mut self, t: SimTime, job: u32) {
        match self.open {
            Some(o) if o.at == t && o.mark == self.queue.scheduled() => {
                let list = &self.lists[o.list as usize];
                let alike = list.back().is_some_and(|b| self.alike(b, job));
                self.lists[o.list as usize].push(job, alike);
            }
            _ => {
                let mut list = Waiters::default();
                list.push(job, false);
                self.schedule_list(t, list);
            }
        }
    }

    /// Schedules the jobs of `list` to ask again at `t`, as one event.
    fn schedule_list(&mut self, t: SimTime, list: Waiters) {
        let n = match self.free_lists.pop() {
            Some(n) => {
                self.lists[n as usize] = list;
                n
            }
            None => {
                self.lists.push(list);
                (self.lists.len() - 1) as u32
            }
        };
        self.queue.schedule(t, Event::Wake(n));
        self.open = Some(Open {
            at: t,
            list: n,
            mark: self.queue.scheduled(),
        });
    }

    /// The jobs of wait list `n` ask again at `now`, in order. When one is told to wait
    /// by a pure ask ([`crate::policy::PolicyState::pure_wait`]), the rest of its run
    /// would be told the same, one after the other: the run follows it without asking.
    fn wake(&mut self, now: SimTime, n: u32) {
        if self.open.is_some_and(|o| o.list == n) {
            self.open = None;
        }
        let mut list = std::mem::take(&mut self.lists[n as usize]);
        self.free_lists.push(n);
        while let Some(mut run) = list.pop_run() {
            while let Some(job) = run.pop_front() {
                let action = self.state[job as usize].driver.ready(now, &mut self.policy);
                if self.follow && !run.is_empty() && self.policy.pure_wait() {
                    match action {
                        Action::WaitUntil(t) => {
                            self.wait_until(t, job);
                            let o = self.open.expect("the job joined an open list");
                            self.lists[o.list as usize].extend_alike(run);
                            break;
                        }
                        Action::Park => {
                            self.park(job);
                            self.parked.extend_alike(run);
                            break;
                        }
                        _ => {}
                    }
                }
                self.act(now, job, action);
            }
        }
    }

    /// Offers copy `send.copy` of the job's current request to its provider at `now`
    /// and records it: an admitted copy's answer is scheduled once it is in service, a
    /// rejection reaches the job after the provider's rejection latency (a hedge's at
    /// once: it changes nothing for the request). Returns the driver's next action when
    /// there is one now.
    fn send(&mut self, now: SimTime, job: u32, send: Send) -> Option<Action> {
        let j = job as usize;
        let p = send.provider;
        if let Some(from) = send.fallback_from {
            self.observer.fallback(now, from, p);
        }
        if send.first_of_job {
            self.rec.first_send(now - self.jobs.arrivals[j]);
        }
        if let Some(from) = send.hedge_of {
            self.observer.hedge(now, from, p);
        }
        self.rec.attempt(p);
        let size = self.size(job);
        let admission =
            self.providers[p].offer(now, size.input, size.output, ticket(job, send.copy));
        self.observer.attempt(now, p, &admission);
        let copy = send.copy;
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
            Admission::Reject {
                status,
                hint,
                latency,
                ..
            } => {
                self.rec.rejection(self.catalog, now, p, status);
                if send.hedge_of.is_some() {
                    let st = &mut self.state[j];
                    let reaction =
                        st.driver
                            .rejected(now, &mut self.policy, copy, status, hint, &[]);
                    self.react(now, job, reaction);
                    return None;
                }
                self.state[j].pending = (copy, status, hint);
                self.queue.schedule(
                    now + latency,
                    Event::Rejected {
                        job,
                        provider: p as u16,
                    },
                );
                return None;
            }
        };
        Some(self.state[j].driver.admitted(&self.policy, copy, started))
    }

    /// A slot of provider `p` came free at `now`: the next queued request starts.
    fn release(&mut self, now: SimTime, p: usize) {
        if let Some((t, latency)) = self.providers[p].release(now) {
            let (job, copy) = unticket(t);
            self.state[job as usize].driver.started(copy, now, latency);
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

    /// Cancels the losing copy of a hedged request at `now`. A copy still queued leaves
    /// the queue at no cost; one in service pays its prompt and the completion it
    /// generated so far, and frees its slot. Returns what it cost.
    fn cancel(&mut self, now: SimTime, job: u32, loser: Live) -> f64 {
        let p = loser.provider;
        let size = self.size(job);
        match loser.generated(now, size.output) {
            None => {
                let queued = self.providers[p].dequeue(now, ticket(job, loser.copy));
                debug_assert!(queued, "a copy not in service is in its provider's queue");
                0.0
            }
            Some(generated) => {
                let cost = self.providers[p].spec().cost(size.input, generated);
                self.rec.charged(p, cost);
                self.rec.wasted(cost);
                self.release(now, p);
                cost
            }
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
        let latency = now - self.jobs.arrivals[j];
        let saw_rejection = self.state[j].driver.saw_rejection();
        self.rec.job_done(now, latency, failed, saw_rejection);
        self.state.close(job);
        self.active -= 1;
        self.ended += 1;
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
                    // Each arrival schedules the next: one at a time beside the heap.
                    self.queue
                        .schedule_next(self.jobs.arrivals[next], Event::Arrive(next as u32));
                }
                if self.active < self.concurrency {
                    self.active += 1;
                    self.state.open(job, JobState::reset);
                    self.start_request(now, job);
                } else {
                    self.waiting.push_back(job);
                }
            }
            Event::Start(job) => {
                self.state.open(job, JobState::reset);
                self.start_request(now, job)
            }
            Event::Wake(n) => self.wake(now, n),
            // A finished job's hedge timer or cancelled copy is stale.
            Event::Hedge { job, .. } | Event::Served { job, .. } if !self.state.is_open(job) => {}
            Event::Hedge { job, copy } => {
                let st = &mut self.state[job as usize];
                let action = st.driver.hedge_due(now, &mut self.policy, copy);
                self.act(now, job, action);
            }
            Event::Served {
                job,
                provider,
                copy,
            } => {
                let p = provider as usize;
                let Some(answered) = self.state[job as usize].driver.answer(copy) else {
                    // A cancelled copy: its slot was freed when it was cancelled.
                    return;
                };
                // The loser first: freeing the winner's slot may start a queued copy,
                // and that must not be the loser.
                let cancelled_cost = match answered.loser {
                    Some(loser) => self.cancel(now, job, loser),
                    None => 0.0,
                };
                self.release(now, p);
                let size = self.size(job);
                let cost = self.providers[p].spec().cost(size.input, size.output);
                let passed = self.providers[p].passes();
                self.rec
                    .served(p, size.input.saturating_add(size.output), cost, passed);
                self.fill_usage(now, p);
                let answer = Answer {
                    passed,
                    cost,
                    cancelled_cost,
                    usage: &self.usage,
                };
                let st = &mut self.state[job as usize];
                let reaction = st.driver.served(now, &mut self.policy, answered, answer);
                if reaction.escalated {
                    self.rec.wasted(cost);
                }
                self.react(now, job, reaction);
            }
            Event::Rejected { job, provider } => {
                let (copy, status, hint) = self.state[job as usize].pending;
                self.fill_usage(now, provider as usize);
                let st = &mut self.state[job as usize];
                let reaction =
                    st.driver
                        .rejected(now, &mut self.policy, copy, status, hint, &self.usage);
                self.react(now, job, reaction);
            }
        }
    }
}

/// Runs policy `policy` of `scenario` over `jobs` in replication `replication`.
///
/// The providers' and the policy's random streams are seeded from (scenario seed,
/// replication, source), so the result depends on nothing else.
///
/// # Errors
/// [`TimeLimit`] when an event falls at or past [`MAX_SIM_TIME`].
pub fn simulate(
    scenario: &Scenario,
    catalog: &Catalog,
    policy: usize,
    jobs: &Jobs,
    replication: u64,
) -> Result<RunOutput, TimeLimit> {
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
/// A run ended by a [`TimeLimit`] does not call [`Observer::end`].
///
/// # Errors
/// [`TimeLimit`] when an event falls at or past [`MAX_SIM_TIME`].
pub fn simulate_observed<O: Observer>(
    scenario: &Scenario,
    catalog: &Catalog,
    policy: usize,
    jobs: &Jobs,
    replication: u64,
    observer: &mut O,
) -> Result<RunOutput, TimeLimit> {
    let seed = scenario.seed;
    let providers = scenario
        .providers
        .iter()
        .enumerate()
        .map(|(i, spec)| Provider::new(spec, seed, replication, i as u32))
        .collect();
    let follow = !observer.asks_every_waiter();
    let guards = observer.wants_guards();
    let mut sim = Sim {
        observer,
        jobs,
        providers,
        policy: PolicyState::new(&scenario.policies[policy], seed, replication, policy as u32),
        catalog,
        rec: Recorder::new(catalog, scenario.providers.len(), jobs.len()),
        queue: EventQueue::with_capacity(1024),
        state: Slots::new(jobs.len(), JobState::FRESH),
        waiting: VecDeque::new(),
        active: 0,
        ended: 0,
        parked: Waiters::default(),
        lists: Vec::new(),
        free_lists: Vec::new(),
        open: None,
        usage: Vec::new(),
        concurrency: scenario.workload.concurrency.unwrap_or(u32::MAX),
        follow,
    };
    if !jobs.is_empty() {
        sim.queue.schedule_next(jobs.arrivals[0], Event::Arrive(0));
    }
    let mut events = 0u64;
    let mut clock = VirtualClock::default();
    let mut taped = false;
    for (i, p) in sim.providers.iter_mut().enumerate() {
        if let Some(limit) = sim.observer.records(i) {
            p.record(limit);
            taped = true;
        }
    }
    let mut last = None;
    let mut past = None;
    // The run ends with its last job: what is left (a hedge timer of a request answered
    // since, a cancelled copy's answer) is stale and changes nothing.
    while sim.ended < jobs.len() {
        let Some((now, event)) = sim.queue.pop() else {
            break;
        };
        if now >= MAX_SIM_TIME {
            past = Some((now, event));
            break;
        }
        // The guards as they were after every event at the previous time.
        if let Some(t) = last.filter(|&t| guards && t < now) {
            sim.observer.guards(t, &sim.policy);
        }
        clock.advance_to(now);
        events += 1;
        last = Some(now);
        sim.observer.before(now, &sim.providers);
        sim.handle(now, event);
    }
    if let Some(t) = last.filter(|_| guards && past.is_none()) {
        sim.observer.guards(t, &sim.policy);
    }
    if let Some((now, event)) = past {
        return Err(time_limit(scenario, policy, replication, now, event));
    }
    let tapes = if taped {
        sim.providers.iter_mut().map(Provider::take_tape).collect()
    } else {
        Vec::new()
    };
    sim.observer.end(last, tapes);
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
    let asks = sim.policy.asks;
    let (metrics, latencies) = sim.rec.finish(catalog, scenario, policy);
    Ok(RunOutput {
        metrics,
        events,
        asks,
        latencies,
    })
}
