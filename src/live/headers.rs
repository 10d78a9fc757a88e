//! Rate-limit headers: what a provider's limiters show, written the way the real APIs
//! write it (by `ratesim serve`) and read back into [`Usage`] and [`Hint`] (by
//! `ratesim replay`, so that its pacer paces from real headers).
//!
//! The mapping from a scenario's limits to headers, by wire format:
//!
//! | limit's `unit` | Anthropic route (`/v1/messages`)          | OpenAI route (`/v1/chat/completions`) |
//! |----------------|-------------------------------------------|----------------------------------------|
//! | `requests`     | `anthropic-ratelimit-requests-*`          | `x-ratelimit-*-requests`               |
//! | `tokens`       | `anthropic-ratelimit-tokens-*`            | `x-ratelimit-*-tokens`                 |
//! | `input_tokens` | `anthropic-ratelimit-input-tokens-*`      | `x-ratelimit-*-tokens`                 |
//! | `output_tokens`| `anthropic-ratelimit-output-tokens-*`     | `x-ratelimit-*-tokens`                 |
//!
//! Each header family has a limit, a remaining amount and a reset. When several limits
//! share a family (a two-layer bucket, or OpenAI's one token family), the family shows
//! the most restrictive of them, the one with the least remaining, as the real APIs do.
//! `limit` is the limit's capacity, `remaining` what is left of it now (rounded down),
//! and the reset is when it will be whole again absent other traffic: an RFC 3339 time
//! with milliseconds on the Anthropic route, a Go duration (`6m0s`, `1.5s`, `20ms`) on
//! the OpenAI route.
//!
//! A rejection's hint travels as `retry-after` (whole seconds, rounded up: RFC 9110) and
//! `retry-after-ms` (to the microsecond, which the official clients prefer when present).
//! A request no limit can ever hold carries `ratesim-hint: never` and no retry-after.
//!
//! Every time on the wire is real time: with `--time-scale X`, a minute of the scenario
//! is `60/X` seconds on the wire, so a client that honours the headers keeps pace with
//! the scaled clock. [`Epoch`] converts.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderName, HeaderValue};

use super::Wire;
use crate::provider::limiter::{Unit, Usage};
use crate::provider::limits::Limits;
use crate::provider::{Hint, ProviderSpec};
use crate::time::{SimDuration, SimTime};

/// Where scenario time meets the wall clock: the wall time at scenario time zero, and
/// how many times faster than real time the scenario runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Epoch {
    /// The wall-clock time at scenario time zero.
    pub wall: SystemTime,
    /// Scenario seconds per real second (finite, positive).
    pub scale: f64,
}

impl Epoch {
    /// Scenario time zero now, at `scale` (anything but a finite positive number runs at
    /// real time).
    pub fn new(scale: f64) -> Self {
        Self::at(SystemTime::now(), scale)
    }

    /// Scenario time zero at `wall`, at `scale`.
    pub fn at(wall: SystemTime, scale: f64) -> Self {
        Epoch {
            wall,
            scale: if scale.is_finite() && scale > 0.0 {
                scale
            } else {
                1.0
            },
        }
    }

    /// The wall-clock time at scenario time `t`.
    pub fn wall_at(&self, t: SimTime) -> SystemTime {
        self.wall + self.real(t.saturating_since(SimTime::ZERO))
    }

    /// The scenario time at wall-clock time `w` (zero before the epoch).
    pub fn sim_at(&self, w: SystemTime) -> SimTime {
        let since = w.duration_since(self.wall).unwrap_or(Duration::ZERO);
        SimTime::ZERO + self.sim(since)
    }

    /// A scenario duration in real time.
    pub fn real(&self, d: SimDuration) -> Duration {
        Duration::try_from_secs_f64(d.as_secs_f64() / self.scale).unwrap_or(Duration::MAX)
    }

    /// A real duration in scenario time.
    pub fn sim(&self, d: Duration) -> SimDuration {
        SimDuration::from_secs_f64(d.as_secs_f64() * self.scale)
    }
}

/// The header family a limit of `unit` reports under on `wire` (the part between
/// `anthropic-ratelimit-` and `-limit`, or after `x-ratelimit-limit-`).
pub fn family(wire: Wire, unit: Unit) -> &'static str {
    match (wire, unit) {
        (_, Unit::Requests) => "requests",
        (Wire::Anthropic, Unit::Tokens) | (Wire::OpenAi, _) => "tokens",
        (Wire::Anthropic, Unit::InputTokens) => "input-tokens",
        (Wire::Anthropic, Unit::OutputTokens) => "output-tokens",
    }
}

/// The names of a family's three headers on `wire`: limit, remaining, reset.
fn names(wire: Wire, family: &str) -> [String; 3] {
    match wire {
        Wire::Anthropic => ["limit", "remaining", "reset"]
            .map(|part| format!("anthropic-ratelimit-{family}-{part}")),
        Wire::OpenAi => {
            ["limit", "remaining", "reset"].map(|part| format!("x-ratelimit-{part}-{family}"))
        }
    }
}

/// The families `spec`'s limits report under on `wire`, each once, in the order of the
/// first limit that reports under it.
fn families(wire: Wire, units: impl Iterator<Item = Unit>) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for unit in units {
        let f = family(wire, unit);
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

fn insert(out: &mut HeaderMap, name: &str, value: String) {
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(&value),
    ) {
        out.insert(name, value);
    }
}

/// Rate-limit headers for a response of `spec`'s provider whose limits show `usage` (in
/// the order of `spec.limits`, as [`crate::provider::Provider::usage`] gives it) at
/// `now`.
pub fn rate_limit_headers(
    wire: Wire,
    spec: &ProviderSpec,
    usage: &[Usage],
    now: SimTime,
    epoch: &Epoch,
    out: &mut HeaderMap,
) {
    let units = || spec.limits.iter().map(|l| l.unit);
    for fam in families(wire, units()) {
        // The most restrictive limit of the family: least remaining, then smallest.
        let binding = units()
            .zip(usage)
            .filter(|(u, _)| family(wire, *u) == fam)
            .map(|(_, u)| u)
            .min_by(|a, b| {
                remaining(a)
                    .total_cmp(&remaining(b))
                    .then(a.limit.total_cmp(&b.limit))
            });
        let Some(u) = binding else { continue };
        let [limit, left, reset] = names(wire, fam);
        insert(out, &limit, format!("{}", u.limit.max(0.0).round() as u64));
        insert(out, &left, format!("{}", remaining(u).floor() as u64));
        let value = match wire {
            Wire::Anthropic => {
                humantime::format_rfc3339_millis(epoch.wall_at(u.reset.max(now))).to_string()
            }
            Wire::OpenAi => go_duration(epoch.real(u.reset.saturating_since(now))),
        };
        insert(out, &reset, value);
    }
}

fn remaining(u: &Usage) -> f64 {
    (u.limit - u.used).max(0.0)
}

/// `retry-after` (whole real seconds, rounded up) and `retry-after-ms` (real
/// milliseconds to the microsecond) for a rejection's hint; `ratesim-hint: never` for a
/// request no limit can hold; nothing when the provider gives no hint.
pub fn retry_after_headers(hint: Hint, epoch: &Epoch, out: &mut HeaderMap) {
    match hint {
        Hint::After(d) => {
            let real = epoch.real(d);
            let micros = real.as_nanos().div_ceil(1_000);
            let secs = micros.div_ceil(1_000_000);
            insert(out, "retry-after", secs.to_string());
            insert(
                out,
                "retry-after-ms",
                format!("{}.{:03}", micros / 1_000, micros % 1_000),
            );
        }
        Hint::Never => insert(out, "ratesim-hint", "never".to_string()),
        Hint::Unknown => {}
    }
}

/// The hint a rejection's headers give, in scenario time: `retry-after-ms` when present
/// and valid, else `retry-after` (seconds, or an HTTP date), `ratesim-hint: never`, or
/// [`Hint::Unknown`].
pub fn parse_retry_after(headers: &HeaderMap, epoch: &Epoch, received: SystemTime) -> Hint {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if text("ratesim-hint").is_some_and(|v| v.trim().eq_ignore_ascii_case("never")) {
        return Hint::Never;
    }
    if let Some(ms) = text("retry-after-ms")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
    {
        if let Ok(d) = Duration::try_from_secs_f64(ms / 1_000.0) {
            return Hint::After(epoch.sim(d));
        }
    }
    if let Some(v) = text("retry-after").map(str::trim) {
        if let Ok(secs) = v.parse::<u64>() {
            return Hint::After(epoch.sim(Duration::from_secs(secs)));
        }
        if let Ok(at) = httpdate::parse_http_date(v) {
            let wait = at.duration_since(received).unwrap_or(Duration::ZERO);
            return Hint::After(epoch.sim(wait));
        }
    }
    Hint::Unknown
}

/// What `headers` say about each of `spec`'s limits at `now` (scenario time), in the
/// order of `spec.limits`: for the limit a family names (the first of the family whose
/// capacity equals the family's `-limit` header), its usage and reset; for any other
/// limit, nothing used (a client's copy of the limits never lowers its count from a
/// header, so that says nothing).
pub fn parse_usage(
    wire: Wire,
    spec: &ProviderSpec,
    headers: &HeaderMap,
    now: SimTime,
    epoch: &Epoch,
) -> Vec<Usage> {
    let capacities: Vec<f64> = Limits::new(&spec.limits)
        .usage(SimTime::ZERO)
        .map(|u| u.limit)
        .collect();
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let mut out: Vec<Usage> = capacities
        .iter()
        .map(|&limit| Usage {
            used: 0.0,
            limit,
            reset: now,
        })
        .collect();
    for fam in families(wire, spec.limits.iter().map(|l| l.unit)) {
        let [limit, left, reset] = names(wire, fam);
        let (Some(limit), Some(left)) = (
            text(&limit).and_then(|v| v.trim().parse::<f64>().ok()),
            text(&left).and_then(|v| v.trim().parse::<f64>().ok()),
        ) else {
            continue;
        };
        let Some(i) = spec
            .limits
            .iter()
            .zip(&capacities)
            .position(|(l, &c)| family(wire, l.unit) == fam && c.round() == limit)
        else {
            continue;
        };
        let reset = text(&reset).and_then(|v| match wire {
            Wire::Anthropic => humantime::parse_rfc3339_weak(v.trim())
                .ok()
                .map(|w| epoch.sim_at(w).max(now)),
            Wire::OpenAi => parse_go_duration(v.trim()).map(|d| now + epoch.sim(d)),
        });
        out[i] = Usage {
            used: (limit - left).clamp(0.0, limit),
            limit,
            reset: reset.unwrap_or(now),
        };
    }
    out
}

/// A duration the way Go prints one (`time.Duration.String`, which OpenAI's reset
/// headers use), to the millisecond: `0s`, `20ms`, `1.5s`, `6m0s`, `1h2m3.25s`.
pub fn go_duration(d: Duration) -> String {
    let ms = d.as_nanos().div_ceil(1_000_000);
    if ms == 0 {
        return "0s".to_string();
    }
    if ms < 1_000 {
        return format!("{ms}ms");
    }
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let secs = if rest % 1_000 == 0 {
        format!("{}s", rest / 1_000)
    } else {
        let frac = format!("{:03}", rest % 1_000);
        format!("{}.{}s", rest / 1_000, frac.trim_end_matches('0'))
    };
    match (h, m) {
        (0, 0) => secs,
        (0, m) => format!("{m}m{secs}"),
        (h, m) => format!("{h}h{m}m{secs}"),
    }
}

/// Reads a Go duration (`1h2m3.5s`, `20ms`, `1.5us`, `0s`); `None` when it is not one.
pub fn parse_go_duration(text: &str) -> Option<Duration> {
    if text == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = text;
    let mut total = 0.0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let value: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3_600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" | "μs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += value * scale;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::limiter::{SlidingWindowParams, TokenBucketParams};
    use crate::provider::{LimitKind, LimitSpec, Provider};

    fn window(limit: u64, unit: Unit) -> LimitSpec {
        LimitSpec {
            kind: LimitKind::SlidingWindow(
                SlidingWindowParams::new(SimDuration::from_secs(60), limit).expect("valid"),
            ),
            unit,
            count_rejected: false,
        }
    }

    fn spec(limits: Vec<LimitSpec>) -> ProviderSpec {
        ProviderSpec {
            name: "p".into(),
            limits,
            concurrency: None,
            reject_status: 429,
            reject_latency: crate::dist::Random::Constant(0.1),
            latency: crate::provider::LatencySpec::Total(crate::dist::Random::Constant(1.0)),
            price_per_1k_input: 0.0,
            price_per_1k_output: 0.0,
            flat_monthly: 0.0,
            outages: None,
            online: None,
            pass_rate: 1.0,
            local: false,
            retry_after_resolution: SimDuration::from_secs(1),
        }
    }

    fn epoch(scale: f64) -> Epoch {
        Epoch::at(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            scale,
        )
    }

    fn get<'h>(h: &'h HeaderMap, name: &str) -> &'h str {
        h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    #[test]
    fn go_durations_print_and_read_like_go() {
        for (d, text) in [
            (Duration::ZERO, "0s"),
            (Duration::from_millis(20), "20ms"),
            (Duration::from_millis(1_500), "1.5s"),
            (Duration::from_secs(360), "6m0s"),
            (Duration::from_millis(3_723_250), "1h2m3.25s"),
        ] {
            assert_eq!(go_duration(d), text);
            assert_eq!(parse_go_duration(text), Some(d), "{text}");
        }
        assert_eq!(go_duration(Duration::from_micros(1)), "1ms", "rounds up");
        assert_eq!(
            parse_go_duration("1.5us"),
            Some(Duration::from_nanos(1_500))
        );
        for bad in ["", "s", "5", "5x", "1h-2m", "1..2s"] {
            assert_eq!(parse_go_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn anthropic_headers_show_each_unit_with_an_rfc3339_reset() {
        let spec = spec(vec![
            window(50, Unit::Requests),
            window(40_000, Unit::InputTokens),
        ]);
        let mut p = Provider::new(&spec, 1, 0, 0);
        let t = SimTime::from_secs(10);
        assert!(matches!(
            p.offer(t, 1_000, 200, 0),
            crate::provider::Admission::Serve { .. }
        ));
        let usage: Vec<Usage> = p.usage(t).collect();
        let mut h = HeaderMap::new();
        let e = epoch(60.0);
        rate_limit_headers(Wire::Anthropic, &spec, &usage, t, &e, &mut h);
        assert_eq!(get(&h, "anthropic-ratelimit-requests-limit"), "50");
        assert_eq!(get(&h, "anthropic-ratelimit-requests-remaining"), "49");
        assert_eq!(get(&h, "anthropic-ratelimit-input-tokens-limit"), "40000");
        assert_eq!(
            get(&h, "anthropic-ratelimit-input-tokens-remaining"),
            "39000"
        );
        // The window frees the request at 70 s of scenario time: 70/60 s after the epoch.
        assert_eq!(
            get(&h, "anthropic-ratelimit-requests-reset"),
            "2027-01-15T08:00:01.166Z"
        );
        assert!(h.get("anthropic-ratelimit-tokens-limit").is_none());
        // And they read back as the provider's usage.
        let back = parse_usage(Wire::Anthropic, &spec, &h, t, &e);
        assert_eq!(back[0].used, 1.0);
        assert_eq!(back[1].used, 1_000.0);
        assert!((back[0].reset.as_secs_f64() - 70.0).abs() < 0.1);
    }

    #[test]
    fn openai_headers_give_resets_as_scaled_durations() {
        let spec = spec(vec![window(8, Unit::Requests), window(1_000, Unit::Tokens)]);
        let mut p = Provider::new(&spec, 1, 0, 0);
        let t = SimTime::from_secs(0);
        p.offer(t, 300, 100, 0);
        let usage: Vec<Usage> = p.usage(t).collect();
        let mut h = HeaderMap::new();
        let e = epoch(2.0);
        rate_limit_headers(Wire::OpenAi, &spec, &usage, t, &e, &mut h);
        assert_eq!(get(&h, "x-ratelimit-limit-requests"), "8");
        assert_eq!(get(&h, "x-ratelimit-remaining-requests"), "7");
        assert_eq!(get(&h, "x-ratelimit-remaining-tokens"), "600");
        // 60 s of scenario time at twice real speed.
        assert_eq!(get(&h, "x-ratelimit-reset-requests"), "30s");
        let back = parse_usage(Wire::OpenAi, &spec, &h, t, &e);
        assert_eq!(back[1].used, 400.0);
        assert_eq!(back[1].reset, SimTime::from_secs(60));
    }

    #[test]
    fn a_shared_family_shows_its_most_restrictive_limit() {
        let bucket = |capacity: f64, per_s: f64| LimitSpec {
            kind: LimitKind::TokenBucket(
                TokenBucketParams::new(capacity, per_s, None).expect("valid bucket"),
            ),
            unit: Unit::Requests,
            count_rejected: false,
        };
        // Burst 5, sustained 100 per 100 s: after 3 requests the burst has 2 left.
        let spec = spec(vec![bucket(5.0, 1.0), bucket(100.0, 1.0)]);
        let mut p = Provider::new(&spec, 1, 0, 0);
        for i in 0..3 {
            p.offer(SimTime::ZERO, 1, 1, i);
        }
        let usage: Vec<Usage> = p.usage(SimTime::ZERO).collect();
        let mut h = HeaderMap::new();
        rate_limit_headers(
            Wire::OpenAi,
            &spec,
            &usage,
            SimTime::ZERO,
            &epoch(1.0),
            &mut h,
        );
        assert_eq!(get(&h, "x-ratelimit-limit-requests"), "5");
        assert_eq!(get(&h, "x-ratelimit-remaining-requests"), "2");
        let back = parse_usage(Wire::OpenAi, &spec, &h, SimTime::ZERO, &epoch(1.0));
        assert_eq!(back[0].used, 3.0);
        assert_eq!(back[1].used, 0.0, "the other layer is not in the headers");
    }

    #[test]
    fn retry_after_round_trips_at_any_scale() {
        for scale in [1.0, 7.0, 60.0, 100.0] {
            let e = epoch(scale);
            for secs in [1, 13, 60] {
                let hint = Hint::After(SimDuration::from_secs(secs));
                let mut h = HeaderMap::new();
                retry_after_headers(hint, &e, &mut h);
                let real = secs as f64 / scale;
                assert_eq!(get(&h, "retry-after"), format!("{}", real.ceil() as u64));
                let Hint::After(back) = parse_retry_after(&h, &e, SystemTime::now()) else {
                    panic!("no hint read back");
                };
                // Rounded up to the real microsecond: never earlier, at most one
                // microsecond of real time later.
                let err = back.as_secs_f64() - secs as f64;
                assert!(
                    (0.0..=1e-6 * scale + 1e-9).contains(&err),
                    "{scale} {secs} {err}"
                );
            }
        }
        let mut h = HeaderMap::new();
        retry_after_headers(Hint::Never, &epoch(1.0), &mut h);
        assert_eq!(
            parse_retry_after(&h, &epoch(1.0), SystemTime::now()),
            Hint::Never
        );
        let mut h = HeaderMap::new();
        retry_after_headers(Hint::Unknown, &epoch(1.0), &mut h);
        assert!(h.is_empty());
        assert_eq!(
            parse_retry_after(&h, &epoch(1.0), SystemTime::now()),
            Hint::Unknown
        );
    }

    #[test]
    fn whole_second_retry_after_alone_is_read_at_scale() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(
            parse_retry_after(&h, &epoch(30.0), SystemTime::now()),
            Hint::After(SimDuration::from_secs(60))
        );
        h.insert("retry-after-ms", HeaderValue::from_static("nonsense"));
        assert_eq!(
            parse_retry_after(&h, &epoch(30.0), SystemTime::now()),
            Hint::After(SimDuration::from_secs(60)),
            "a malformed retry-after-ms falls back to retry-after"
        );
    }
}
