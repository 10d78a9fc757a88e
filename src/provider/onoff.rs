//! An alternating up/down process (outages, online state), generated lazily as time
//! advances from its own random stream, so every policy sees the same periods.

use std::collections::VecDeque;

use crate::dist::Random;
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// The shortest period: shorter draws are lengthened to it, so a process whose
/// distribution can draw zero still moves time forward in sensible steps.
pub const MIN_PERIOD: SimDuration = SimDuration::from_millis(1);

/// Alternating up and down periods, starting up at time zero.
pub struct OnOff {
    up: Random,
    down: Random,
    rng: SimRng,
    is_down: bool,
    end: SimTime,
    /// Down periods (start, end) whose start has been reached and that the owner has not
    /// taken yet (kept only when asked for).
    downs: VecDeque<(SimTime, SimTime)>,
    keep_downs: bool,
}

impl OnOff {
    /// A process with up lengths from `up` and down lengths from `down` (seconds).
    /// With `keep_downs`, the down periods are kept for [`OnOff::downs`].
    pub fn new(up: Random, down: Random, mut rng: SimRng, keep_downs: bool) -> Self {
        let first = SimTime::ZERO + SimDuration::from_secs_f64(up.sample(&mut rng)).max(MIN_PERIOD);
        OnOff {
            up,
            down,
            rng,
            is_down: false,
            end: first,
            downs: VecDeque::new(),
            keep_downs,
        }
    }

    /// Moves the process to `now`. A period whose end would pass the end of the clock
    /// ([`SimTime::MAX`]) ends there, and the process stops: it lasts for the rest of
    /// the run.
    pub fn advance(&mut self, now: SimTime) {
        while now >= self.end && self.end < SimTime::MAX {
            let start = self.end;
            self.is_down = !self.is_down;
            let dist = if self.is_down { &self.down } else { &self.up };
            let len = SimDuration::from_secs_f64(dist.sample(&mut self.rng)).max(MIN_PERIOD);
            self.end = start + len;
            if self.is_down && self.keep_downs {
                self.downs.push_back((start, self.end));
            }
        }
    }

    /// Whether `now` falls in a down period.
    pub fn is_down(&mut self, now: SimTime) -> bool {
        self.advance(now);
        self.is_down
    }

    /// Down periods that have started, oldest first, for the owner to consume.
    pub fn downs(&mut self) -> &mut VecDeque<(SimTime, SimTime)> {
        &mut self.downs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Source};

    #[test]
    fn alternates_constant_periods() {
        let mut p = OnOff::new(
            Random::Constant(10.0),
            Random::Constant(2.0),
            stream(0, 0, Source::Outage(0)),
            true,
        );
        let s = SimTime::from_secs;
        assert!(!p.is_down(s(0)));
        assert!(!p.is_down(SimTime::from_nanos(s(10).as_nanos() - 1)));
        assert!(p.is_down(s(10)));
        assert!(p.is_down(s(11)));
        assert!(!p.is_down(s(12)));
        assert!(p.is_down(s(22)));
        assert_eq!(
            p.downs().iter().copied().collect::<Vec<_>>(),
            vec![(s(10), s(12)), (s(22), s(24))]
        );
    }

    /// Guards the hang (and, keeping downs, the queue growing without end) once a
    /// period's end saturates at the end of the clock: the process stops there. Run on
    /// a thread so that a regression fails in bounded time instead of hanging the suite.
    #[test]
    fn stops_at_the_end_of_the_clock() {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // 1e10 s periods: the second one runs past 2^64 ns and saturates.
            let mut p = OnOff::new(
                Random::Constant(1e10),
                Random::Constant(1e10),
                stream(0, 0, Source::Outage(0)),
                false,
            );
            let first = p.is_down(SimTime::MAX);
            let mut kept = OnOff::new(
                Random::Constant(1e10),
                Random::Constant(1e10),
                stream(0, 0, Source::Online(0)),
                true,
            );
            let down = kept.is_down(SimTime::MAX);
            let downs = kept.downs().iter().copied().collect::<Vec<_>>();
            tx.send((first, down, downs)).unwrap();
        });
        let (first, down, downs) = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("advancing to the end of the clock must return");
        // The down period that reaches the clock's end lasts to the end.
        assert!(first && down);
        let start = SimTime::from_secs(10_000_000_000);
        assert_eq!(downs, vec![(start, SimTime::MAX)]);
    }
}
