//! Lists of waiting jobs, kept in order in runs of jobs the policy answers alike, so a
//! run told to wait moves on as a whole instead of each job asking again.

use std::collections::VecDeque;

/// Jobs waiting, in the order they would ask again: runs in which each job is answered
/// alike its predecessor ([`crate::policy::driver::RequestDriver::waits_alike`]).
#[derive(Debug, Default)]
pub(super) struct Waiters {
    runs: VecDeque<VecDeque<u32>>,
}

impl Waiters {
    pub(super) fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// The last job.
    pub(super) fn back(&self) -> Option<u32> {
        self.runs.back().and_then(|r| r.back().copied())
    }

    /// Appends `job`; `alike`: whether it is answered alike the last job.
    pub(super) fn push(&mut self, job: u32, alike: bool) {
        match self.runs.back_mut() {
            Some(run) if alike => run.push_back(job),
            _ => self.runs.push_back(VecDeque::from([job])),
        }
    }

    /// Appends `run`, whose first job is answered alike the last job: the shorter of
    /// the two runs is copied into the longer (so a job is copied O(log n) times).
    pub(super) fn extend_alike(&mut self, mut run: VecDeque<u32>) {
        match self.runs.back_mut() {
            _ if run.is_empty() => {}
            Some(last) if last.len() < run.len() => {
                while let Some(job) = last.pop_back() {
                    run.push_front(job);
                }
                *last = run;
            }
            Some(last) => last.extend(run),
            None => self.runs.push_back(run),
        }
    }

    /// Removes the first run.
    pub(super) fn pop_run(&mut self) -> Option<VecDeque<u32>> {
        self.runs.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_keep_the_order_and_merge_alike_tails() {
        let mut w = Waiters::default();
        w.push(1, false);
        w.push(2, true);
        w.push(3, false);
        w.extend_alike(VecDeque::from([4, 5]));
        w.extend_alike(VecDeque::new());
        assert_eq!(w.back(), Some(5));
        let runs: Vec<Vec<u32>> = std::iter::from_fn(|| w.pop_run()).map(Vec::from).collect();
        assert_eq!(runs, [vec![1, 2], vec![3, 4, 5]]);
        assert!(w.is_empty());
    }
}
