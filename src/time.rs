//! Virtual time: integer counts of nanoseconds, converted to seconds only at the edges.
//!
//! [`SimTime`] is an instant (time since the start of a replication) and [`SimDuration`]
//! a span; both keep their representation private. An instant plus a span is an
//! instant; an instant minus an earlier one is a span, and subtracting a later one is a
//! bug (a debug-build panic; [`SimTime::saturating_since`] says so where "zero if it has
//! passed" is meant). Limiter models and policies take `now` as an argument, so every
//! model can be tested by stepping time by hand, and a [`Clock`] supplies it: virtual in
//! the engine, wall-clock for live use.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};

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

/// The longest a run may simulate: 100 years of 365.25 days (3,155,760,000 s). The clock
/// itself holds 2^64 ns, about 584 years, and saturates there; stopping well short of
/// that keeps sums of a time and a span exact. A run with an event at or past this
/// instant is an error ([`crate::engine::TimeLimit`]), and validation rejects the inputs
/// known to reach it.
pub const MAX_SIM_TIME: SimTime = SimTime::from_secs(100 * 36_525 * 864);

/// Nanoseconds in `s` seconds, rounded to the nearest; negative and NaN give zero,
/// values past the range saturate.
fn nanos(s: f64) -> u64 {
    if s.is_nan() || s <= 0.0 {
        return 0;
    }
    round_u64(s * NANOS_PER_SEC as f64)
}

/// Nanoseconds in `s` seconds, rounded up.
fn nanos_ceil(s: f64) -> u64 {
    if s.is_nan() || s <= 0.0 {
        return 0;
    }
    let ns = (s * NANOS_PER_SEC as f64).ceil();
    if ns >= u64::MAX as f64 {
        u64::MAX
    } else {
        ns as u64
    }
}

/// A span of virtual time, in nanoseconds.
///
/// ```
/// use ratesim::time::SimDuration;
/// let d = SimDuration::from_secs(60) + SimDuration::from_millis(250);
/// assert_eq!(d.as_secs_f64(), 60.25);
/// assert_eq!(SimDuration::parse("1m0.25s"), Some(d)); // parts add up
/// assert_eq!(SimDuration::parse("60.25s"), Some(d));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(u64);

/// An instant of virtual time: nanoseconds since the start of a replication.
///
/// ```
/// use ratesim::time::{SimDuration, SimTime};
/// let t = SimTime::from_secs(60) + SimDuration::from_millis(250);
/// assert_eq!(t.as_secs_f64(), 60.25);
/// assert_eq!(t - SimTime::from_secs(60), SimDuration::from_millis(250));
/// assert_eq!(SimTime::from_secs(1).saturating_since(t), SimDuration::ZERO);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(u64);

impl SimDuration {
    /// No time.
    pub const ZERO: SimDuration = SimDuration(0);
    /// The longest representable span; used as "forever".
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    /// Whole nanoseconds.
    pub const fn from_nanos(ns: u64) -> Self {
        SimDuration(ns)
    }

    /// Whole milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * 1_000_000)
    }

    /// Whole seconds.
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * NANOS_PER_SEC)
    }

    /// Fractional seconds, rounded to the nearest nanosecond; negative and NaN give zero,
    /// values past the range saturate.
    pub fn from_secs_f64(s: f64) -> Self {
        SimDuration(nanos(s))
    }

    /// Fractional seconds, rounded up to the next nanosecond.
    pub fn from_secs_f64_ceil(s: f64) -> Self {
        SimDuration(nanos_ceil(s))
    }

    /// The span in seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// Nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// `self - other`, or zero if `other` is longer.
    pub fn saturating_sub(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_sub(other.0))
    }

    /// `self * n`, saturating at [`SimDuration::MAX`].
    pub fn saturating_mul(self, n: u64) -> SimDuration {
        SimDuration(self.0.saturating_mul(n))
    }

    /// Parses a duration string: a number and a unit (`"250ms"`, `"1.5s"`, `"60 s"`,
    /// `"5min"`, `"2hrs"`), or several such parts from the largest unit to the smallest
    /// (`"1m30s"`, `"1h 30m"`), which add up. The units are those of [`DURATION_UNITS`].
    /// Returns `None` for anything else, including negative values, a missing unit and
    /// parts out of order or repeated (`"30s1m"`, `"1s1s"`); a well-formed duration
    /// longer than the clock holds (584 years) is [`SimDuration::MAX`].
    ///
    /// ```
    /// use ratesim::time::SimDuration;
    /// assert_eq!(SimDuration::parse("1m30s"), Some(SimDuration::from_secs(90)));
    /// assert_eq!(SimDuration::parse("1 hr 30 mins"), Some(SimDuration::from_secs(5400)));
    /// assert_eq!(SimDuration::parse("30s1m"), None);
    /// ```
    pub fn parse(text: &str) -> Option<SimDuration> {
        let mut rest = text.trim();
        if rest.is_empty() {
            return None;
        }
        let mut total = SimDuration::ZERO;
        // The scale of the previous part: each next part's unit must be smaller.
        let mut previous = f64::INFINITY;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            let (number, tail) = rest.split_at(digits);
            let tail = tail.trim_start();
            let letters = tail
                .find(|c: char| !c.is_alphabetic())
                .unwrap_or(tail.len());
            let (unit, tail) = tail.split_at(letters);
            let value: f64 = number.parse().ok()?;
            let scale = unit_scale(unit)?;
            if !value.is_finite() || scale >= previous {
                return None;
            }
            previous = scale;
            // Well formed but past 2^64 ns (584 years): the longest span, which a
            // caller bounding durations then refuses by its length.
            total = SimDuration(
                total
                    .0
                    .saturating_add(SimDuration::from_secs_f64(value * scale).0),
            );
            rest = tail.trim_start();
        }
        Some(total)
    }
}

/// The units a duration string takes: each spelling, and its length in seconds. The
/// message for a bad duration lists them (`crate::keys`).
pub const DURATION_UNITS: &[(&[&str], f64)] = &[
    (&["d", "day", "days"], 86_400.0),
    (&["h", "hr", "hrs", "hour", "hours"], 3_600.0),
    (&["m", "min", "mins", "minute", "minutes"], 60.0),
    (&["s", "sec", "secs", "second", "seconds"], 1.0),
    (&["ms"], 1e-3),
    (&["us", "µs"], 1e-6),
    (&["ns"], 1e-9),
];

/// Seconds in one `unit`, if it is a spelling of [`DURATION_UNITS`].
fn unit_scale(unit: &str) -> Option<f64> {
    DURATION_UNITS
        .iter()
        .find(|(names, _)| names.contains(&unit))
        .map(|&(_, scale)| scale)
}

impl SimTime {
    /// Time zero: the start of a replication.
    pub const ZERO: SimTime = SimTime(0);
    /// The latest representable instant; used as "never".
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// `ns` nanoseconds after the start.
    pub const fn from_nanos(ns: u64) -> Self {
        SimTime(ns)
    }

    /// `ms` whole milliseconds after the start.
    pub const fn from_millis(ms: u64) -> Self {
        SimTime(ms * 1_000_000)
    }

    /// `s` whole seconds after the start.
    pub const fn from_secs(s: u64) -> Self {
        SimTime(s * NANOS_PER_SEC)
    }

    /// `s` fractional seconds after the start, rounded to the nearest nanosecond;
    /// negative and NaN give zero, values past the range saturate.
    pub fn from_secs_f64(s: f64) -> Self {
        SimTime(nanos(s))
    }

    /// `s` fractional seconds after the start, rounded up to the next nanosecond (for
    /// "earliest time" hints, which must never be early).
    pub fn from_secs_f64_ceil(s: f64) -> Self {
        SimTime(nanos_ceil(s))
    }

    /// Seconds since the start.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// Nanoseconds since the start.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// The span since the start.
    pub const fn since_start(self) -> SimDuration {
        SimDuration(self.0)
    }

    /// The span from `earlier` to `self`, or zero when `earlier` is in fact later (for
    /// "how long until", where a time already passed means no wait).
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// The span from `earlier` to `self`, or `None` when `earlier` is later.
    pub fn checked_since(self, earlier: SimTime) -> Option<SimDuration> {
        self.0.checked_sub(earlier.0).map(SimDuration)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    /// Saturates at [`SimDuration::MAX`].
    fn add(self, rhs: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for SimDuration {
    fn add_assign(&mut self, rhs: SimDuration) {
        *self = *self + rhs;
    }
}

impl Sub for SimDuration {
    type Output = SimDuration;
    /// A longer span subtracted is a bug (a panic in debug builds; zero in release
    /// builds); [`SimDuration::saturating_sub`] is for when it is not.
    fn sub(self, rhs: SimDuration) -> SimDuration {
        debug_assert!(self >= rhs, "negative duration: {self} - {rhs}");
        self.saturating_sub(rhs)
    }
}

impl SubAssign for SimDuration {
    fn sub_assign(&mut self, rhs: SimDuration) {
        *self = *self - rhs;
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    /// Saturates at [`SimTime::MAX`] ("never").
    fn add(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, rhs: SimDuration) {
        *self = *self + rhs;
    }
}

impl Sub<SimDuration> for SimTime {
    type Output = SimTime;
    /// `rhs` before `self`, clamped at the start (a window reaching back before time
    /// zero starts at zero).
    fn sub(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0.saturating_sub(rhs.0))
    }
}

impl Sub for SimTime {
    type Output = SimDuration;
    /// The span from `rhs` to `self`. A later `rhs` means time ran backwards, a bug: a
    /// panic in debug builds (zero in release builds). [`SimTime::saturating_since`] is
    /// for "zero if it has passed".
    fn sub(self, rhs: SimTime) -> SimDuration {
        debug_assert!(self >= rhs, "time ran backwards: {self} - {rhs}");
        self.saturating_since(rhs)
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.as_secs_f64())
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
        let ahead = t.saturating_since(self.now()).as_secs_f64() / self.scale;
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
        assert_eq!(
            SimDuration::parse("250ms"),
            Some(SimDuration::from_millis(250))
        );
        assert_eq!(
            SimDuration::parse("1.5s"),
            Some(SimDuration::from_millis(1500))
        );
        assert_eq!(SimDuration::parse("60s"), Some(SimDuration::from_secs(60)));
        assert_eq!(SimDuration::parse("5m"), Some(SimDuration::from_secs(300)));
        assert_eq!(SimDuration::parse("2h"), Some(SimDuration::from_secs(7200)));
        assert_eq!(SimDuration::parse("0s"), Some(SimDuration::ZERO));
        assert_eq!(
            SimDuration::parse("10us"),
            Some(SimDuration::from_nanos(10_000))
        );
    }

    #[test]
    fn parses_compound_durations_and_unit_spellings() {
        let secs = |s| Some(SimDuration::from_secs(s));
        for (text, want) in [
            ("1m30s", secs(90)),
            ("1h30m", secs(5400)),
            ("2m 30s", secs(150)),
            ("1 hr 30 mins", secs(5400)),
            ("1d2h3m4s", secs(93_784)),
            ("60sec", secs(60)),
            ("60 secs", secs(60)),
            ("1 second", secs(1)),
            ("2 seconds", secs(2)),
            ("1mins", secs(60)),
            ("2 minutes", secs(120)),
            ("1hr", secs(3600)),
            ("2hrs", secs(7200)),
            ("1 hour", secs(3600)),
            ("3 days", secs(3 * 86_400)),
            ("1day", secs(86_400)),
            ("1s500ms", Some(SimDuration::from_millis(1500))),
            ("60 s", secs(60)),
            ("1min", secs(60)),
            (".5s", Some(SimDuration::from_millis(500))),
        ] {
            assert_eq!(SimDuration::parse(text), want, "{text:?}");
        }
    }

    #[test]
    fn rejects_malformed_durations() {
        for bad in [
            "",
            "5",
            "s",
            "-1s",
            "1x",
            "1.5.2s",
            "inf s",
            "NaNs",
            "1e30h",
            "30s1m",
            "1s1s",
            "1m30",
            "1m-30s",
            "1 m, 30 s",
            "1S",
            "1 fortnight",
            "m30s",
        ] {
            assert_eq!(SimDuration::parse(bad), None, "{bad:?} should not parse");
        }
        // Well formed but too long for the clock: the longest span.
        for long in ["1000000000000h", "9000000h"] {
            assert_eq!(SimDuration::parse(long), Some(SimDuration::MAX), "{long}");
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
        assert!(b >= a + SimDuration::from_secs(5), "{a} then {b}");
        // 1000x: one virtual hour is 3.6 real seconds away, at most.
        let wait = c.until(a + SimDuration::from_secs(3600));
        assert!(wait <= std::time::Duration::from_millis(3600), "{wait:?}");
        assert_eq!(c.until(SimTime::ZERO), std::time::Duration::ZERO);
        // A bad scale runs at real time.
        assert_eq!(WallClock::start(f64::NAN).scale, 1.0);
    }

    #[test]
    fn arithmetic_of_instants_and_spans() {
        let (a, b) = (SimTime::from_nanos(5), SimTime::from_nanos(9));
        assert_eq!(b - a, SimDuration::from_nanos(4));
        assert_eq!(a + SimDuration::from_nanos(4), b);
        // "Never" stays never; a window reaching back past time zero starts at zero.
        assert_eq!(SimTime::MAX + SimDuration::from_nanos(1), SimTime::MAX);
        assert_eq!(a - SimDuration::from_nanos(9), SimTime::ZERO);
        // Explicitly: how long until a time that has passed.
        assert_eq!(a.saturating_since(b), SimDuration::ZERO);
        assert_eq!(a.checked_since(b), None);
        assert_eq!(
            SimDuration::MAX + SimDuration::from_nanos(1),
            SimDuration::MAX
        );
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "time ran backwards")]
    fn an_earlier_instant_minus_a_later_one_is_a_bug() {
        let _ = SimTime::from_nanos(5) - SimTime::from_nanos(9);
    }
}
