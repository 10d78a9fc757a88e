//! Hedged requests ("The Tail at Scale", Dean and Barroso 2013): when a request has not
//! been answered after a delay, a second copy goes out; the first answer wins and the
//! other is cancelled, still costing what it used. The delay is fixed or a quantile of
//! the latencies of recent answers.

use std::collections::VecDeque;

use crate::time::SimDuration;

/// When the hedge goes out.
#[derive(Clone, Debug, PartialEq)]
pub enum HedgeDelay {
    /// A fixed delay after the request was admitted.
    Fixed(SimDuration),
    /// The `q` quantile of the last `window` answered requests' latencies; `initial`
    /// until `window / 10` (at least 1) answers were seen.
    Quantile {
        /// Quantile in (0, 1).
        q: f64,
        /// Answers remembered.
        window: usize,
        /// Delay before enough answers.
        initial: SimDuration,
    },
}

/// Hedging, as configured.
#[derive(Clone, Debug, PartialEq)]
pub struct HedgeSpec {
    /// When.
    pub delay: HedgeDelay,
    /// Where: the first of these providers that is not the request's own; empty: the
    /// same provider again.
    pub to: Vec<usize>,
}

impl HedgeSpec {
    /// The provider a hedge of a request on `primary` goes to.
    pub fn target(&self, primary: usize) -> usize {
        self.to
            .iter()
            .copied()
            .find(|&p| p != primary)
            .unwrap_or(primary)
    }
}

/// What hedging has learnt in one replication.
#[derive(Clone, Debug)]
pub struct HedgeState {
    samples: VecDeque<SimDuration>,
    sorted: Vec<SimDuration>,
}

impl HedgeState {
    /// Nothing seen yet.
    pub fn new() -> Self {
        HedgeState {
            samples: VecDeque::new(),
            sorted: Vec::new(),
        }
    }

    /// A request was answered after `latency`.
    pub fn observe(&mut self, spec: &HedgeSpec, latency: SimDuration) {
        if let HedgeDelay::Quantile { window, .. } = spec.delay {
            if self.samples.len() == window {
                let old = self.samples.pop_front().expect("window is positive");
                let i = self.sorted.binary_search(&old).expect("kept in step");
                self.sorted.remove(i);
            }
            self.samples.push_back(latency);
            let i = self.sorted.partition_point(|&x| x <= latency);
            self.sorted.insert(i, latency);
        }
    }

    /// The delay before a hedge now.
    pub fn delay(&self, spec: &HedgeSpec) -> SimDuration {
        match spec.delay {
            HedgeDelay::Fixed(d) => d,
            HedgeDelay::Quantile { q, window, initial } => {
                let n = self.sorted.len();
                if n < (window / 10).max(1) {
                    initial
                } else {
                    // The nearest-rank quantile.
                    let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
                    self.sorted[rank - 1]
                }
            }
        }
    }
}

impl Default for HedgeState {
    fn default() -> Self {
        HedgeState::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_is_the_nearest_rank_quantile_of_the_window() {
        let spec = HedgeSpec {
            delay: HedgeDelay::Quantile {
                q: 0.9,
                window: 20,
                initial: SimDuration::from_secs(7),
            },
            to: vec![],
        };
        let mut h = HedgeState::new();
        assert_eq!(h.delay(&spec), SimDuration::from_secs(7));
        h.observe(&spec, SimDuration::from_secs(1));
        // Below window / 10 = 2 answers: still the initial delay.
        assert_eq!(h.delay(&spec), SimDuration::from_secs(7));
        for s in 2..=20 {
            h.observe(&spec, SimDuration::from_secs(s));
        }
        // 1..=20 s: the 0.9 quantile is the 18th smallest.
        assert_eq!(h.delay(&spec), SimDuration::from_secs(18));
        // 20 more answers of 100 s push every old one out of the window.
        for _ in 0..20 {
            h.observe(&spec, SimDuration::from_secs(100));
        }
        assert_eq!(h.delay(&spec), SimDuration::from_secs(100));
    }

    #[test]
    fn target_skips_the_primary() {
        let spec = HedgeSpec {
            delay: HedgeDelay::Fixed(SimDuration::from_secs(1)),
            to: vec![1, 2],
        };
        assert_eq!(spec.target(0), 1);
        assert_eq!(spec.target(1), 2);
        let same = HedgeSpec { to: vec![], ..spec };
        assert_eq!(same.target(3), 3);
    }
}
