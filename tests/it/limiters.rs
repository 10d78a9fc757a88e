//! Property tests: every limiter model obeys its law for any arrival sequence, and its
//! "not until" hint is exact: admitted at the hinted time, refused just before it (one
//! nanosecond for the integer models, one microsecond for the float token bucket).

use proptest::prelude::*;
use ratesim::provider::limiter::{FixedWindow, Gcra, Limiter, SlidingWindow, TokenBucket, Verdict};
use ratesim::{SimDuration, SimTime};

/// Arrivals as (gap in ms, amount) pairs.
fn arrivals(max_amount: u64) -> impl Strategy<Value = Vec<(u64, u64)>> {
    prop::collection::vec((0u64..3_000, 1..=max_amount), 1..200)
}

/// Feeds arrivals to a limiter, admitting what it admits; returns the admitted
/// (time, amount) pairs and checks every hint on the way (refused `slack` ns before it).
fn drive<L: Limiter + Clone>(
    limiter: &mut L,
    seq: &[(u64, u64)],
    slack: u64,
) -> Vec<(SimTime, u64)> {
    let mut now = SimTime::ZERO;
    let mut admitted = Vec::new();
    for &(gap, amount) in seq {
        now += SimDuration::from_millis(gap);
        match limiter.check(now, amount) {
            Verdict::Admit => {
                limiter.consume(now, amount);
                admitted.push((now, amount));
            }
            Verdict::NotUntil(t) => {
                assert!(
                    t > now,
                    "a refusal's hint {t} is not in the future of {now}"
                );
                // Exact hint: with no other traffic, admitted at t and not just before.
                let mut probe = limiter.clone();
                assert_ne!(
                    probe.check(t - SimDuration::from_nanos(slack).min(t - now), amount),
                    Verdict::Admit,
                    "admitted before the hint"
                );
                assert_eq!(
                    probe.check(t, amount),
                    Verdict::Admit,
                    "not admitted at the hint"
                );
            }
            Verdict::Never => {}
        }
    }
    admitted
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sliding_window_never_holds_more_than_its_limit(
        seq in arrivals(40), limit in 1u64..100, window_s in 1u64..120,
    ) {
        let window = SimDuration::from_secs(window_s);
        let mut w = SlidingWindow::new(window, limit);
        let admitted = drive(&mut w, &seq, 1);
        // Every window (t - W, t] ending at an admission holds at most `limit`.
        for &(t, _) in &admitted {
            let held: u64 = admitted
                .iter()
                .filter(|(u, _)| *u <= t && *u + window > t)
                .map(|(_, a)| a)
                .sum();
            prop_assert!(held <= limit, "window ending {t} holds {held} > {limit}");
        }
        // Never means the amount alone exceeds the limit.
        for &(_, amount) in &seq {
            prop_assert_eq!(w.clone().check(SimTime::MAX, amount) == Verdict::Never, amount > limit);
        }
    }

    #[test]
    fn fixed_window_holds_at_most_its_limit_per_window(
        seq in arrivals(20), limit in 1u64..50, window_s in 1u64..60,
    ) {
        let window = SimDuration::from_secs(window_s);
        let mut w = FixedWindow::new(window, limit);
        let admitted = drive(&mut w, &seq, 1);
        let mut per_window = std::collections::BTreeMap::new();
        for (t, a) in admitted {
            *per_window.entry(t.as_nanos() / window.as_nanos()).or_insert(0) += a;
        }
        for (k, held) in per_window {
            prop_assert!(held <= limit, "window {k} holds {held} > {limit}");
        }
    }

    #[test]
    fn continuous_bucket_admits_at_most_capacity_plus_rate_times_elapsed(
        seq in arrivals(30), capacity in 1u64..200, rate in 0.1f64..50.0,
    ) {
        let mut b = TokenBucket::continuous(capacity as f64, rate);
        let admitted = drive(&mut b, &seq, 1_000);
        for i in 0..admitted.len() {
            let mut total = 0;
            for j in i..admitted.len() {
                total += admitted[j].1;
                let elapsed = (admitted[j].0 - admitted[i].0).as_secs_f64();
                let bound = capacity as f64 + rate * elapsed;
                prop_assert!(total as f64 <= bound + 1e-6, "{total} admitted in {elapsed}s > {bound}");
            }
        }
    }

    #[test]
    fn discrete_bucket_admits_at_most_capacity_plus_fills(
        seq in arrivals(10), capacity in 1u64..60, per_fill in 1u64..10, interval_ms in 100u64..3_000,
    ) {
        let interval = SimDuration::from_millis(interval_ms);
        let rate = per_fill as f64 / interval.as_secs_f64();
        let mut b = TokenBucket::discrete(capacity as f64, rate, interval);
        let admitted = drive(&mut b, &seq, 1_000);
        for i in 0..admitted.len() {
            let mut total = 0;
            for j in i..admitted.len() {
                total += admitted[j].1;
                let fills = admitted[j].0.as_nanos() / interval.as_nanos()
                    - admitted[i].0.as_nanos() / interval.as_nanos();
                let bound = capacity + per_fill * fills;
                prop_assert!(total <= bound, "{total} admitted across {fills} fills > {bound}");
            }
        }
    }

    #[test]
    fn gcra_agrees_with_the_continuous_state_leaky_bucket(
        seq in arrivals(4), limit in 1u64..20, period_s in 1u64..60, burst in 1u64..10,
    ) {
        // ITU-T I.371's second formulation: a bucket X draining at 1 per unit time,
        // last conformance time LCT; n cells conform iff X' + T(n-1) <= tau with
        // X' = max(0, X - (t - LCT)), then X = X' + nT.
        let period = SimDuration::from_secs(period_s);
        let mut g = Gcra::new(limit, period, burst);
        let t_emit = (period.as_nanos() / limit) as i128;
        let tau = t_emit * (burst as i128 - 1);
        let (mut x, mut lct) = (0i128, 0i128);
        let mut now = 0u64;
        for &(gap, n) in &seq {
            now += gap * 1_000_000;
            let n = n as i128;
            let x1 = (x - (now as i128 - lct)).max(0);
            let reference = if t_emit * (n - 1) > tau {
                Verdict::Never
            } else if x1 + t_emit * (n - 1) <= tau {
                Verdict::Admit
            } else {
                Verdict::NotUntil(SimTime::ZERO) // compared by kind below
            };
            let ours = g.check(SimTime::from_nanos(now), n as u64);
            match (reference, ours) {
                (Verdict::Admit, Verdict::Admit) => {
                    g.consume(SimTime::from_nanos(now), n as u64);
                    x = x1 + t_emit * n;
                    lct = now as i128;
                }
                (Verdict::NotUntil(_), Verdict::NotUntil(_)) | (Verdict::Never, Verdict::Never) => {}
                (r, o) => prop_assert!(false, "at {now} weight {n}: reference {r:?}, gcra {o:?}"),
            }
        }
        // And in any span d, at most burst + d/T cells pass.
        let mut g = Gcra::new(limit, period, burst);
        let unit: Vec<(u64, u64)> = seq.iter().map(|&(gap, _)| (gap, 1)).collect();
        let admitted = drive(&mut g, &unit, 1);
        for i in 0..admitted.len() {
            for j in i..admitted.len() {
                let span = (admitted[j].0 - admitted[i].0).as_nanos() as u128;
                let bound = burst as u128 + span / t_emit as u128;
                prop_assert!((j - i + 1) as u128 <= bound);
            }
        }
    }
}
