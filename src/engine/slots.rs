//! Per-job state kept only for the jobs in progress (at most the workload's
//! concurrency), in reusable slots indexed by job.

/// The state of the jobs in progress, kept in reusable slots (only the jobs in progress
/// need one: at most the workload's concurrency), indexed by job.
pub(super) struct Slots<T> {
    slot_of: Vec<u32>,
    slots: Vec<T>,
    free: Vec<u32>,
    fresh: T,
}

const NO_SLOT: u32 = u32::MAX;

impl<T: Copy> Slots<T> {
    pub(super) fn new(jobs: usize, fresh: T) -> Self {
        Slots {
            fresh,
            slot_of: vec![NO_SLOT; jobs],
            slots: Vec::new(),
            free: Vec::new(),
        }
    }

    /// Job `job` starts: a fresh state, or a reused one that `reset` makes fresh.
    pub(super) fn open(&mut self, job: u32, reset: impl FnOnce(&mut T)) {
        debug_assert!(!self.is_open(job), "job {job} opened twice");
        let slot = match self.free.pop() {
            Some(s) => {
                reset(&mut self.slots[s as usize]);
                s
            }
            None => {
                self.slots.push(self.fresh);
                (self.slots.len() - 1) as u32
            }
        };
        self.slot_of[job as usize] = slot;
    }

    /// Job `job` finished: its slot is free again.
    pub(super) fn close(&mut self, job: u32) {
        let slot = std::mem::replace(&mut self.slot_of[job as usize], NO_SLOT);
        self.free.push(slot);
    }

    /// Whether job `job` is in progress (events of a finished job are stale).
    pub(super) fn is_open(&self, job: u32) -> bool {
        self.slot_of[job as usize] != NO_SLOT
    }
}

impl<T: Copy> std::ops::Index<usize> for Slots<T> {
    type Output = T;
    fn index(&self, job: usize) -> &T {
        debug_assert!(self.is_open(job as u32), "job {job} is not in progress");
        &self.slots[self.slot_of[job] as usize]
    }
}

impl<T: Copy> std::ops::IndexMut<usize> for Slots<T> {
    fn index_mut(&mut self, job: usize) -> &mut T {
        debug_assert!(self.is_open(job as u32), "job {job} is not in progress");
        &mut self.slots[self.slot_of[job] as usize]
    }
}
