//! The future-event list: a binary heap ordered by (time, insertion sequence), so events
//! at the same instant come out in the order they were scheduled.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::time::SimTime;

struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: reverse so the earliest (time, seq) is on top.
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// A priority queue of events keyed by virtual time, FIFO among equal times.
///
/// ```
/// use ratesim::engine::EventQueue;
/// use ratesim::SimTime;
/// let mut q = EventQueue::new();
/// q.schedule(SimTime::from_nanos(5), "b");
/// q.schedule(SimTime::from_nanos(1), "a");
/// q.schedule(SimTime::from_nanos(5), "c");
/// let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
/// assert_eq!(order, ["a", "b", "c"]);
/// ```
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    /// One event kept out of the heap ([`EventQueue::schedule_next`]).
    next: Option<Entry<E>>,
    seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next: None,
            seq: 0,
        }
    }

    /// An empty queue with room for `n` events.
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(n),
            next: None,
            seq: 0,
        }
    }

    /// Schedules `event` at `time`.
    pub fn schedule(&mut self, time: SimTime, event: E) {
        self.seq += 1;
        self.heap.push(Entry {
            time,
            seq: self.seq,
            event,
        });
    }

    /// Schedules `event` at `time` like [`EventQueue::schedule`] (same order, same
    /// sequence), in a slot beside the heap that holds one event: for a stream of events
    /// each of which schedules the next (the arrivals), it saves a heap push and pop
    /// per event. The slot must be empty: the previous such event has been popped.
    pub fn schedule_next(&mut self, time: SimTime, event: E) {
        debug_assert!(self.next.is_none(), "the side slot is taken");
        self.seq += 1;
        self.next = Some(Entry {
            time,
            seq: self.seq,
            event,
        });
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let side_first = match (&self.next, self.heap.peek()) {
            (Some(n), Some(h)) => (n.time, n.seq) < (h.time, h.seq),
            (Some(_), None) => true,
            (None, _) => false,
        };
        let e = if side_first {
            self.next.take()
        } else {
            self.heap.pop()
        };
        e.map(|e| (e.time, e.event))
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len() + usize::from(self.next.is_some())
    }

    /// How many events have been scheduled so far: unchanged between two points means
    /// nothing was scheduled in between (the engine's wait lists use it to keep the
    /// order of waiters exactly as separate events would have it).
    pub fn scheduled(&self) -> u64 {
        self.seq
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty() && self.next.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any mix of schedules (at the time being handled, later, or even earlier; in the
        /// heap or the side slot) and pops comes out as a queue sorted by (time,
        /// sequence) would give it.
        #[test]
        fn pops_in_time_then_schedule_order(ops in prop::collection::vec((0u8..5, 0u64..6), 1..200)) {
            let mut q = EventQueue::new();
            let mut reference: Vec<(u64, u64)> = Vec::new();
            let (mut seq, mut now) = (0u64, 0u64);
            // The sequence number of the event in the side slot, while there is one.
            let mut side: Option<u64> = None;
            for (op, dt) in ops {
                if op == 0 {
                    let want = reference.iter().min().copied();
                    if let Some(w) = want {
                        reference.retain(|&e| e != w);
                    }
                    let got = q.pop().map(|(t, s): (SimTime, u64)| (t.as_nanos(), s));
                    prop_assert_eq!(got, want);
                    if got.is_some_and(|(_, s)| Some(s) == side) {
                        side = None;
                    }
                    if let Some((t, _)) = got {
                        now = t;
                    }
                } else {
                    // Mostly now or later; op 3 schedules before now.
                    let t = if op == 3 { now.saturating_sub(dt) } else { now + dt % 2 * dt };
                    seq += 1;
                    if op == 4 && side.is_none() {
                        q.schedule_next(SimTime::from_nanos(t), seq);
                        side = Some(seq);
                    } else {
                        q.schedule(SimTime::from_nanos(t), seq);
                    }
                    reference.push((t, seq));
                }
                prop_assert_eq!(q.len(), reference.len());
            }
        }
    }
}
