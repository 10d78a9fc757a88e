//! What a run shows as it goes: the [`Observer`] hooks the engine calls (the request
//! events and limiter tapes of `run --out` are recorded with them), which cannot change
//! the run.

use crate::policy::PolicyState;
use crate::provider::tape::Tape;
use crate::provider::{Admission, Provider};
use crate::time::SimTime;

/// Watches one replication as it runs; every method has an empty default. Used to
/// record timelines without touching the engine's logic.
pub trait Observer {
    /// Whether provider `provider` should keep a tape of its changes, and of at most how
    /// many ([`Provider::record`]); asked once, before the first event.
    fn records(&self, _provider: usize) -> Option<usize> {
        None
    }
    /// Whether every waiting job asks again for itself, instead of following, without
    /// asking, the job ahead of it that was just told to wait (the wait lists' shortcut,
    /// [`crate::policy::PolicyState::waits_alike`]); asked once, before the first event.
    /// The run is the same either way, which is what the shortcut relies on: tests
    /// compare the two.
    fn asks_every_waiter(&self) -> bool {
        false
    }
    /// Whether [`Observer::guards`] should be called (asked once, before the first event).
    fn wants_guards(&self) -> bool {
        false
    }
    /// Called once every event at `now` was handled, when [`Observer::wants_guards`]:
    /// the policy's guards as they are then ([`PolicyState::gauges`]).
    fn guards(&mut self, _now: SimTime, _policy: &PolicyState) {}
    /// Called once after the last event, with the time of that event (`None`: there was
    /// none) and each provider's tape (`None` where none was asked for).
    fn end(&mut self, _last: Option<SimTime>, _tapes: Vec<Option<Tape>>) {}
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
