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

/// An [`Entry`] in 16 bytes: the time in the low 62 bits of `word` and the kind of
/// change in its top two (0 admit, 1 admit blocked, 2 exhaust, 3 slots); `payload` holds
/// the admit's input and output tokens (32 bits each), the exhaust's end, or the slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Packed {
    word: u64,
    payload: u64,
}

const TIME_BITS: u32 = 62;
const TIME_MASK: u64 = (1 << TIME_BITS) - 1;
// Every event time is below the clock's limit, so it fits beside the tag.
const _: () = assert!(crate::time::MAX_SIM_TIME.as_nanos() <= TIME_MASK);

impl Packed {
    /// `entry` packed, or `None` when it does not fit (a time past 2^62 ns, a token
    /// count past 2^32): the tape is then dropped, and the run's timeline sampled live.
    fn pack(entry: Entry) -> Option<Packed> {
        let at = entry.at.as_nanos();
        if at > TIME_MASK {
            return None;
        }
        let (tag, payload) = match entry.change {
            Change::Admit {
                input,
                output,
                blocked,
            } => {
                let (input, output) = (u32::try_from(input).ok()?, u32::try_from(output).ok()?);
                (
                    u64::from(blocked),
                    u64::from(input) << 32 | u64::from(output),
                )
            }
            Change::Exhaust { end } => (2, end.as_nanos()),
            Change::Slots { in_flight, queued } => {
                (3, u64::from(in_flight) << 32 | u64::from(queued))
            }
        };
        Some(Packed {
            word: tag << TIME_BITS | at,
            payload,
        })
    }

    fn at(self) -> SimTime {
        SimTime::from_nanos(self.word & TIME_MASK)
    }

    fn change(self) -> Change {
        let (high, low) = ((self.payload >> 32) as u32, self.payload as u32);
        match self.word >> TIME_BITS {
            tag @ (0 | 1) => Change::Admit {
                input: u64::from(high),
                output: u64::from(low),
                blocked: tag == 1,
            },
            2 => Change::Exhaust {
                end: SimTime::from_nanos(self.payload),
            },
            _ => Change::Slots {
                in_flight: high,
                queued: low,
            },
        }
    }
}

/// The recorded changes of one provider, up to a limit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tape {
    entries: Vec<Packed>,
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
        match Packed::pack(entry) {
            Some(packed) if self.entries.len() < self.limit => self.entries.push(packed),
            _ => {
                self.full = true;
                self.entries = Vec::new();
            }
        }
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
        while let Some(&e) = self.tape.entries.get(self.next) {
            let at = e.at();
            if at > t {
                break;
            }
            match e.change() {
                Change::Admit {
                    input,
                    output,
                    blocked,
                } => {
                    self.limits.admit(at, input, output, blocked);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MAX_SIM_TIME;

    #[test]
    fn entries_pack_into_sixteen_bytes_and_back() {
        assert_eq!(std::mem::size_of::<Packed>(), 16);
        let last = SimTime::from_nanos(MAX_SIM_TIME.as_nanos() - 1);
        let changes = [
            Change::Admit {
                input: u64::from(u32::MAX),
                output: 0,
                blocked: false,
            },
            Change::Admit {
                input: 1,
                output: u64::from(u32::MAX),
                blocked: true,
            },
            Change::Exhaust {
                end: SimTime::from_nanos(u64::MAX),
            },
            Change::Slots {
                in_flight: u32::MAX,
                queued: 7,
            },
        ];
        for at in [SimTime::ZERO, SimTime::from_millis(1500), last] {
            for change in changes {
                let e = Entry { at, change };
                let p = Packed::pack(e).expect("fits");
                assert_eq!(
                    Entry {
                        at: p.at(),
                        change: p.change()
                    },
                    e
                );
            }
        }
    }

    #[test]
    fn an_entry_that_does_not_pack_drops_the_tape() {
        let too_many = Change::Admit {
            input: 1 << 32,
            output: 0,
            blocked: false,
        };
        let mut t = Tape::with_limit(10);
        t.push(Entry {
            at: SimTime::ZERO,
            change: Change::Slots {
                in_flight: 1,
                queued: 0,
            },
        });
        assert_eq!(t.len(), 1);
        t.push(Entry {
            at: SimTime::ZERO,
            change: too_many,
        });
        assert!(t.is_full() && t.is_empty());
        let late = SimTime::from_nanos(1 << 62);
        assert_eq!(
            Packed::pack(Entry {
                at: late,
                change: Change::Exhaust { end: late }
            }),
            None
        );
    }
}
