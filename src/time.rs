//! Virtual time: an integer count of nanoseconds, converted to seconds only at the edges.
//!
//! [`SimTime`] serves both as an instant (time since the start of a replication) and as a
//! duration, like `governor`'s `Nanos`. Limiter models and policies take it as `now`, so
//! every model can be tested by stepping time by hand.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// A point in (or span of) virtual time, in nanoseconds.
///
/// ```
/// use ratesim::SimTime;
/// let t = SimTime::from_secs(60) + SimTime::from_millis(250);
/// assert_eq!(t.as_secs_f64(), 60.25);
/// assert_eq!(SimTime::parse("1m0.25s"), None); // one unit per string
/// assert_eq!(SimTime::parse("60.25s"), Some(t));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// `x` rounded to the nearest whole number, halves away from zero, as `x.round() as u64`
/// gives it (negative and NaN give 0, values past `u64::MAX` saturate), without the
/// library call `f64::round` needs on baseline x86-64.
#[inline]
pub fn round_u64(x: f64) -> u64 {
    // From 2^52 on every f64 is a whole number.
    const WHOLE: f64 = 4_503_599_627_370_496.0;
    if (0.5..WHOLE).contains(&x) {
        // Exact: for 0.5 <= x < 2^52, x + 0.5 rounds to a value with the same floor as
        // the exact sum (truncation is floor for positive values).
        (x + 0.5) as u64
    } else if x >= WHOLE {
        x as u64
    } else {
        0
    }
}

/// Nanoseconds per second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

impl SimTime {
    /// Time zero: the start of a replication.
    pub const ZERO: SimTime = SimTime(0);
    /// The largest representable time; used as "never".
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Whole seconds.
    pub const fn from_secs(s: u64) -> Self {
        SimTime(s * NANOS_PER_SEC)
    }

    /// Whole milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        SimTime(ms * 1_000_000)
    }

    /// Fractional seconds, rounded to the nearest nanosecond; negative and NaN give zero,
    /// values past the range saturate.
    pub fn from_secs_f64(s: f64) -> Self {
        if s.is_nan() || s <= 0.0 {
            return SimTime::ZERO;
        }
        SimTime(round_u64(s * NANOS_PER_SEC as f64))
    }

    /// Fractional seconds, rounded up to the next nanosecond (for "earliest time" hints,
    /// which must never be early).
    pub fn from_secs_f64_ceil(s: f64) -> Self {
        if s.is_nan() || s <= 0.0 {
            return SimTime::ZERO;
        }
        let ns = (s * NANOS_PER_SEC as f64).ceil();
        if ns >= u64::MAX as f64 {
            SimTime::MAX
        } else {
            SimTime(ns as u64)
        }
    }

    /// The time in seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// Nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// `self - other`, or zero if `other` is later.
    pub fn saturating_sub(self, other: SimTime) -> SimTime {
        SimTime(self.0.saturating_sub(other.0))
    }

    /// `self + other`, saturating at [`SimTime::MAX`].
    pub fn saturating_add(self, other: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(other.0))
    }

    /// Parses a duration string with one unit: `"250ms"`, `"1.5s"`, `"60s"`, `"5m"`,
    /// `"2h"`, also `"ns"`, `"us"` and `"d"`. Returns `None` for anything else,
    /// including negative values and a missing unit.
    pub fn parse(text: &str) -> Option<SimTime> {
        let text = text.trim();
        let split = text
            .find(|c: char| c.is_ascii_alphabetic())
            .filter(|&i| i > 0)?;
        let (number, unit) = text.split_at(split);
        let number = number.trim();
        if number.starts_with('-') || number.starts_with('+') {
            return None;
        }
        let value: f64 = number.parse().ok()?;
        if !value.is_finite() || value < 0.0 {
            return None;
        }
        let scale = match unit.trim() {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return None,
        };
        let secs = value * scale;
        if secs * NANOS_PER_SEC as f64 >= u64::MAX as f64 {
            return None;
        }
        Some(SimTime::from_secs_f64(secs))
    }
}

impl Add for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimTime) -> SimTime {
        self.saturating_add(rhs)
    }
}

impl AddAssign for SimTime {
    fn add_assign(&mut self, rhs: SimTime) {
        *self = *self + rhs;
    }
}

impl Sub for SimTime {
    type Output = SimTime;
    fn sub(self, rhs: SimTime) -> SimTime {
        self.saturating_sub(rhs)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.as_secs_f64())
    }
}

/// Where `now` comes from. The request driver, the policies and the limiters take `now`
/// as an argument; a clock supplies it: [`VirtualClock`] for the discrete-event engine
/// (time jumps from event to event) and [`WallClock`] for live traffic (real time since
/// a start, optionally scaled).
pub trait Clock {
    /// The current time since the clock's start.
    fn now(&self) -> SimTime;
}

/// Virtual time, moved only by its owner (the engine sets it to each event's time).
///
/// ```
/// use ratesim::time::{Clock, SimTime, VirtualClock};
/// let mut clock = VirtualClock::default();
/// clock.advance_to(SimTime::from_secs(5));
/// assert_eq!(clock.now(), SimTime::from_secs(5));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VirtualClock {
    now: SimTime,
}

impl VirtualClock {
    /// Moves the clock to `t`, which must not be before its current time: virtual time
    /// never goes backwards (the engine's event queue yields times in order).
    ///
    /// # Panics
    /// In debug builds, when `t` is earlier than the current time.
    #[inline]
    pub fn advance_to(&mut self, t: SimTime) {
        debug_assert!(
            t >= self.now,
            "virtual time went backwards: {t} < {}",
            self.now
        );
        self.now = t;
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> SimTime {
        self.now
    }
}

/// Real time since the clock was started, times `scale` (2.0 runs the scenario's time
/// twice as fast as the wall clock), for a live server or load driver.
#[derive(Clone, Copy, Debug)]
pub struct WallClock {
    start: std::time::Instant,
    scale: f64,
}

impl WallClock {
    /// A clock at zero now, running `scale` times as fast as real time (`scale` must be
    /// finite and positive; anything else runs at real time).
    pub fn start(scale: f64) -> Self {
        WallClock {
            start: std::time::Instant::now(),
            scale: if scale.is_finite() && scale > 0.0 {
                scale
            } else {
                1.0
            },
        }
    }

    /// The real time until the clock reads `t` (zero when it already does), for a
    /// sleep until a virtual deadline.
    pub fn until(&self, t: SimTime) -> std::time::Duration {
        let ahead = t.saturating_sub(self.now()).as_secs_f64() / self.scale;
        std::time::Duration::try_from_secs_f64(ahead).unwrap_or(std::time::Duration::MAX)
    }
}

impl Clock for WallClock {
    fn now(&self) -> SimTime {
        SimTime::from_secs_f64(self.start.elapsed().as_secs_f64() * self.scale)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_u64_is_round_as_u64(x in prop_oneof![
            any::<f64>(),
            -10.0f64..1e6,
            (0u64..1 << 54).prop_map(|n| n as f64 + 0.5),
            (0u64..1 << 54).prop_map(|n| f64::from_bits((n as f64 + 0.5).to_bits() - 1)),
        ]) {
            prop_assert_eq!(super::round_u64(x), x.round() as u64, "{}", x);
        }
    }

    #[test]
    fn round_u64_edges() {
        for x in [
            0.0,
            -0.0,
            0.49999999999999994,
            0.5,
            1.5,
            2.5,
            -0.5,
            -1e300,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            4503599627370495.5,
            4503599627370497.0,
            9007199254740993.0,
            1.8446744073709552e19,
            1e30,
        ] {
            assert_eq!(super::round_u64(x), x.round() as u64, "{x}");
        }
    }

    use super::*;

    #[test]
    fn parses_every_documented_unit() {
        assert_eq!(SimTime::parse("250ms"), Some(SimTime::from_millis(250)));
        assert_eq!(SimTime::parse("1.5s"), Some(SimTime::from_millis(1500)));
        assert_eq!(SimTime::parse("60s"), Some(SimTime::from_secs(60)));
        assert_eq!(SimTime::parse("5m"), Some(SimTime::from_secs(300)));
        assert_eq!(SimTime::parse("2h"), Some(SimTime::from_secs(7200)));
        assert_eq!(SimTime::parse("0s"), Some(SimTime::ZERO));
        assert_eq!(SimTime::parse("10us"), Some(SimTime(10_000)));
    }

    #[test]
    fn rejects_malformed_durations() {
        for bad in [
            "", "5", "s", "-1s", "1x", "1.5.2s", "inf s", "NaNs", "1e30h",
        ] {
            assert_eq!(SimTime::parse(bad), None, "{bad:?} should not parse");
        }
    }

    #[test]
    fn a_virtual_clock_only_moves_forward() {
        let mut c = VirtualClock::default();
        c.advance_to(SimTime::from_secs(1));
        c.advance_to(SimTime::from_secs(1));
        assert_eq!(c.now(), SimTime::from_secs(1));
        if cfg!(debug_assertions) {
            let back = std::panic::catch_unwind(move || c.advance_to(SimTime::ZERO));
            assert!(back.is_err(), "moving back must panic");
        }
    }

    #[test]
    fn a_wall_clock_scales_real_time() {
        let c = WallClock::start(1000.0);
        let a = c.now();
        // At least 5 ms pass: at 1000x, at least 5 virtual seconds.
        std::thread::sleep(std::time::Duration::from_millis(5));
        let b = c.now();
        assert!(b >= a + SimTime::from_secs(5), "{a} then {b}");
        // 1000x: one virtual hour is 3.6 real seconds away, at most.
        let wait = c.until(a + SimTime::from_secs(3600));
        assert!(wait <= std::time::Duration::from_millis(3600), "{wait:?}");
        assert_eq!(c.until(SimTime::ZERO), std::time::Duration::ZERO);
        // A bad scale runs at real time.
        assert_eq!(WallClock::start(f64::NAN).scale, 1.0);
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(SimTime(5) - SimTime(9), SimTime::ZERO);
        assert_eq!(SimTime::MAX + SimTime(1), SimTime::MAX);
    }
}
