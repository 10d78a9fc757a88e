//! A provider's tape: every change to its limits and slots during one replication, in
//! order, so that what its limits held can be sampled after the run at times chosen
//! then (the timelines of `run --out` are sampled over the run's makespan, known only
//! at its end). Replaying the tape calls the same limiter code in the same order as the
//! run did, so a sample equals what the provider would have reported at that time.

use super::limiter::Usage;
use super::limits::Limits;
use super::ProviderSpec;
use crate::time::SimTime;

/// One change, made while handling an event at `at`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Entry {
    pub(super) at: SimTime,
    pub(super) change: Change,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Change {
    /// `Limits::admit(at, input, output, blocked)`.
    Admit {
        input: u64,
        output: u64,
        blocked: bool,
    },
    /// `Limits::exhaust(end)` (an online-state reset).
    Exhaust { end: SimTime },
    /// Requests in service and waiting for a slot from now on.
    Slots { in_flight: u32, queued: u32 },
}

/// The recorded changes of one provider, up to a limit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tape {
    entries: Vec<Entry>,
    limit: usize,
    /// Whether changes were dropped at the limit (the tape is then empty).
    full: bool,
}

/// What a provider held at one time: each limit's usage, and its slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slots {
    /// Requests in service.
    pub in_flight: u32,
    /// Requests waiting for a slot.
    pub queued: u32,
}

/// Replays a [`Tape`] against fresh limits, answering what the provider held at
/// non-decreasing times.
pub struct Replay<'a> {
    tape: &'a Tape,
    next: usize,
    limits: Limits,
    slots: Slots,
}

impl Tape {
    /// An empty tape that takes at most `limit` changes.
    pub(super) fn with_limit(limit: usize) -> Self {
        Tape {
            entries: Vec::new(),
            limit,
            full: false,
        }
    }

    /// Records a change; past the limit, drops them all and stays full.
    pub(super) fn push(&mut self, entry: Entry) {
        if self.full {
            return;
        }
        if self.entries.len() >= self.limit {
            self.full = true;
            self.entries = Vec::new();
            return;
        }
        self.entries.push(entry);
    }

    /// Whether the run made more changes than the tape takes: it cannot be replayed.
    pub fn is_full(&self) -> bool {
        self.full
    }

    /// Changes recorded.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A replay of this tape for the provider `spec` it was recorded from (of a full
    /// tape: of nothing).
    pub fn replay<'a>(&'a self, spec: &ProviderSpec) -> Replay<'a> {
        Replay {
            tape: self,
            next: 0,
            limits: Limits::new(&spec.limits),
            slots: Slots {
                in_flight: 0,
                queued: 0,
            },
        }
    }
}

impl Replay<'_> {
    /// Applies every change made while handling events at or before `t`: the state a
    /// sample at `t` sees, taken once those events were handled. Times must not go
    /// backwards between calls.
    pub fn advance_to(&mut self, t: SimTime) {
        while let Some(e) = self.tape.entries.get(self.next) {
            if e.at > t {
                break;
            }
            match e.change {
                Change::Admit {
                    input,
                    output,
                    blocked,
                } => {
                    self.limits.admit(e.at, input, output, blocked);
                }
                Change::Exhaust { end } => self.limits.exhaust(end),
                Change::Slots { in_flight, queued } => self.slots = Slots { in_flight, queued },
            }
            self.next += 1;
        }
    }

    /// Each limit's usage at `t` (after [`Replay::advance_to`]`(t)`), in the spec's order.
    pub fn usage(&self, t: SimTime) -> impl Iterator<Item = Usage> + '_ {
        self.limits.usage(t)
    }

    /// Requests in service and waiting, as of the last change applied.
    pub fn slots(&self) -> Slots {
        self.slots
    }
}
