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
        let ns = (s * NANOS_PER_SEC as f64).round();
        if ns >= u64::MAX as f64 {
            SimTime::MAX
        } else {
            SimTime(ns as u64)
        }
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

#[cfg(test)]
mod tests {
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
    fn arithmetic_saturates() {
        assert_eq!(SimTime(5) - SimTime(9), SimTime::ZERO);
        assert_eq!(SimTime::MAX + SimTime(1), SimTime::MAX);
    }
}
