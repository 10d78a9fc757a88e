//! Lists of waiting jobs, kept in order in runs of jobs the policy answers alike, so a
//! run told to wait moves on as a whole instead of each job asking again. Most lists
//! hold one job: those allocate nothing.

use std::collections::VecDeque;

/// Jobs answered alike, in order.
#[derive(Debug)]
pub(super) enum Run {
    One(u32),
    Many(VecDeque<u32>),
}

impl Run {
    pub(super) fn is_empty(&self) -> bool {
        matches!(self, Run::Many(jobs) if jobs.is_empty())
    }

    fn back(&self) -> Option<u32> {
        match self {
            Run::One(job) => Some(*job),
            Run::Many(jobs) => jobs.back().copied(),
        }
    }

    /// Removes the first job.
    pub(super) fn pop_front(&mut self) -> Option<u32> {
        match self {
            Run::One(job) => {
                let job = *job;
                *self = Run::Many(VecDeque::new());
                Some(job)
            }
            Run::Many(jobs) => jobs.pop_front(),
        }
    }

    fn into_deque(self) -> VecDeque<u32> {
        match self {
            Run::One(job) => VecDeque::from([job]),
            Run::Many(jobs) => jobs,
        }
    }

    /// `self` followed by `next`: the shorter of the two is copied into the longer (so a
    /// job is copied O(log n) times).
    fn append(self, next: Run) -> Run {
        if next.is_empty() {
            return self;
        }
        if self.is_empty() {
            return next;
        }
        let (mut first, mut next) = (self.into_deque(), next.into_deque());
        if first.len() < next.len() {
            while let Some(job) = first.pop_back() {
                next.push_front(job);
            }
            Run::Many(next)
        } else {
            first.append(&mut next);
            Run::Many(first)
        }
    }
}

/// Jobs waiting, in the order they would ask again: runs in which each job is answered
/// alike its predecessor ([`crate::policy::driver::RequestDriver::waits_alike`]). No run
/// it holds is empty.
#[derive(Debug, Default)]
pub(super) enum Waiters {
    #[default]
    Empty,
    /// One run (most often of one job).
    One(Run),
    /// Several runs, the first in front.
    Runs(VecDeque<Run>),
}

impl Waiters {
    pub(super) fn is_empty(&self) -> bool {
        match self {
            Waiters::Empty => true,
            Waiters::One(_) => false,
            Waiters::Runs(runs) => runs.is_empty(),
        }
    }

    /// The last job.
    pub(super) fn back(&self) -> Option<u32> {
        match self {
            Waiters::Empty => None,
            Waiters::One(run) => run.back(),
            Waiters::Runs(runs) => runs.back().and_then(Run::back),
        }
    }

    /// Appends `job`; `alike`: whether it is answered alike the last job.
    pub(super) fn push(&mut self, job: u32, alike: bool) {
        if alike && !self.is_empty() {
            self.extend_alike(Run::One(job));
            return;
        }
        match std::mem::take(self) {
            Waiters::Empty => *self = Waiters::One(Run::One(job)),
            Waiters::One(run) => *self = Waiters::Runs(VecDeque::from([run, Run::One(job)])),
            Waiters::Runs(mut runs) => {
                runs.push_back(Run::One(job));
                *self = Waiters::Runs(runs);
            }
        }
    }

    /// Appends `run`, whose first job is answered alike the last job.
    pub(super) fn extend_alike(&mut self, run: Run) {
        if run.is_empty() {
            return;
        }
        match std::mem::take(self) {
            Waiters::Empty => *self = Waiters::One(run),
            Waiters::One(last) => *self = Waiters::One(last.append(run)),
            Waiters::Runs(mut runs) => {
                match runs.pop_back() {
                    Some(last) => runs.push_back(last.append(run)),
                    None => runs.push_back(run),
                }
                *self = Waiters::Runs(runs);
            }
        }
    }

    /// Removes the first run.
    pub(super) fn pop_run(&mut self) -> Option<Run> {
        match self {
            Waiters::Empty => None,
            Waiters::One(_) => match std::mem::take(self) {
                Waiters::One(run) => Some(run),
                _ => unreachable!("matched above"),
            },
            Waiters::Runs(runs) => runs.pop_front(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(mut w: Waiters) -> Vec<Vec<u32>> {
        let runs = std::iter::from_fn(|| w.pop_run())
            .map(|r| Vec::from(r.into_deque()))
            .filter(|r| !r.is_empty())
            .collect();
        assert!(w.is_empty());
        runs
    }

    #[test]
    fn runs_keep_the_order_and_merge_alike_tails() {
        let mut w = Waiters::default();
        w.push(1, false);
        w.push(2, true);
        w.push(3, false);
        w.extend_alike(Run::Many(VecDeque::from([4, 5])));
        w.extend_alike(Run::Many(VecDeque::new()));
        assert_eq!(w.back(), Some(5));
        assert_eq!(drain(w), [vec![1, 2], vec![3, 4, 5]]);
    }

    #[test]
    fn a_short_run_is_copied_into_a_long_one_in_order() {
        let mut w = Waiters::default();
        w.push(1, false);
        w.extend_alike(Run::Many(VecDeque::from([2, 3, 4])));
        w.push(5, true);
        assert_eq!(w.back(), Some(5));
        assert_eq!(drain(w), [vec![1, 2, 3, 4, 5]]);
        let mut w = Waiters::default();
        w.push(9, true);
        assert_eq!(w.back(), Some(9));
        w.push(8, false);
        assert_eq!(drain(w), [vec![9], vec![8]]);
    }

    #[test]
    fn a_run_drained_to_empty_leaves_no_job() {
        let mut run = Run::One(3);
        assert_eq!(run.pop_front(), Some(3));
        assert!(run.is_empty() && run.pop_front().is_none());
        let mut w = Waiters::default();
        w.extend_alike(run);
        assert!(w.is_empty() && w.back().is_none());
    }
}
