//! Base against head: how each (policy, metric) changed between two runs, how sure that
//! is, and whether it is a regression.
//!
//! # Pairing
//! When the two runs used the same seed and replications and every replication saw the
//! same jobs (their fingerprints agree), replication `r` of base and of head share their
//! jobs and random numbers: the change is taken per replication and gets a Student-t
//! interval over those differences (*paired*). Otherwise the two samples are compared
//! with Welch's interval (*unpaired*), which is wider.
//!
//! # Verdict
//! Each metric has a direction ([`higher_is_better`]; lower is better for the rest) and a
//! noise threshold (default 1% of the base mean; `metric:+2%` relative or `metric:+5`
//! absolute). A change is **Regressed** when its 95% interval lies wholly beyond the
//! threshold in the worse direction and it survives a Benjamini-Hochberg correction
//! (q = 0.05) over every (policy, metric) pair compared; **Improved** likewise in the
//! better direction; else **NoChange**.

use crate::stats::{estimate, t975, Estimate};

/// Metrics for which a higher value is better.
pub const HIGHER_IS_BETTER: &[&str] = &["jobs_completed", "pass_share", "local_hit_ratio"];

/// Whether a higher value of `metric` is better.
pub fn higher_is_better(metric: &str) -> bool {
    HIGHER_IS_BETTER.contains(&metric)
}

/// The false discovery rate of the Benjamini-Hochberg correction.
pub const FDR: f64 = 0.05;

pub use crate::scenario::Threshold;

/// What a change is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Better beyond the threshold, and significant.
    Improved,
    /// Worse beyond the threshold, and significant.
    Regressed,
    /// Neither.
    NoChange,
}

impl Verdict {
    /// `Improved`, `Regressed` or `NoChange`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Improved => "Improved",
            Verdict::Regressed => "Regressed",
            Verdict::NoChange => "NoChange",
        }
    }
}

/// One (policy, metric) compared.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// Policy.
    pub policy: String,
    /// Metric.
    pub metric: String,
    /// Base and head estimates.
    pub base: Estimate,
    /// Head.
    pub head: Estimate,
    /// Head minus base: mean and 95% interval (paired or Welch).
    pub change: Estimate,
    /// The threshold's amount for this base.
    pub threshold: f64,
    /// Two-sided p-value of the change (t-test).
    pub p: f64,
    /// The verdict, after the correction.
    pub verdict: Verdict,
}

impl Change {
    /// The change and its interval in percent of the base mean's magnitude, when that
    /// is not 0.
    pub fn relative(&self) -> Option<(f64, f64, f64)> {
        let b = self.base.mean.abs();
        (b > 0.0 && b.is_finite()).then(|| {
            (
                100.0 * self.change.mean / b,
                100.0 * self.change.ci_low / b,
                100.0 * self.change.ci_high / b,
            )
        })
    }
}

/// The regularized incomplete beta function `I_x(a, b)` (continued fraction, Lentz's
/// method; Numerical Recipes' `betai`).
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_beta = ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
    let front = (a * x.ln() + b * (1.0 - x).ln() - ln_beta).exp();
    let cf = |a: f64, b: f64, x: f64| {
        let tiny = 1e-300;
        let mut c = 1.0;
        let mut d = 1.0 - (a + b) * x / (a + 1.0);
        if d.abs() < tiny {
            d = tiny;
        }
        d = 1.0 / d;
        let mut h = d;
        for m in 1..300 {
            let m = m as f64;
            let aa = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
            for step in [
                aa,
                -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
            ] {
                d = 1.0 + step * d;
                if d.abs() < tiny {
                    d = tiny;
                }
                c = 1.0 + step / c;
                if c.abs() < tiny {
                    c = tiny;
                }
                d = 1.0 / d;
                h *= d * c;
            }
            if (d * c - 1.0).abs() < 1e-15 {
                break;
            }
        }
        h
    };
    if x < (a + 1.0) / (a + b + 2.0) {
        front * cf(a, b, x) / a
    } else {
        1.0 - front * cf(b, a, 1.0 - x) / b
    }
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let mut a = G[0];
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Two-sided p-value of Student's t statistic `t` with `df` degrees of freedom.
pub fn t_p_value(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return if t.is_nan() { 1.0 } else { 0.0 };
    }
    if df <= 0.0 || !df.is_finite() {
        return 1.0;
    }
    incomplete_beta(df / 2.0, 0.5, df / (df + t * t)).clamp(0.0, 1.0)
}

/// Head minus base, paired per replication: mean, t-interval and p-value.
fn paired(base: &[f64], head: &[f64]) -> (Estimate, f64) {
    // Equal values differ by exactly 0 (not by a sum's rounding).
    let d: Vec<f64> = base
        .iter()
        .zip(head)
        .filter(|(b, h)| b.is_finite() && h.is_finite())
        .map(|(b, h)| if b == h { 0.0 } else { h - b })
        .collect();
    let e = estimate(&d);
    let p = if e.n < 2 {
        1.0
    } else if e.half_width() == 0.0 {
        if e.mean == 0.0 {
            1.0
        } else {
            0.0
        }
    } else {
        let se = e.half_width() / t975(e.n - 1);
        t_p_value(e.mean / se, (e.n - 1) as f64)
    };
    (e, p)
}

/// Head minus base, Welch's interval and p-value on the two samples.
fn welch(base: &[f64], head: &[f64]) -> (Estimate, f64) {
    let finite = |v: &[f64]| {
        v.iter()
            .copied()
            .filter(|x| x.is_finite())
            .collect::<Vec<_>>()
    };
    let (b, h) = (finite(base), finite(head));
    let var = |v: &[f64], m: f64| {
        v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() as f64 - 1.0)
    };
    let (eb, eh) = (estimate(&b), estimate(&h));
    let mean = eh.mean - eb.mean;
    if b.len() < 2 || h.len() < 2 {
        let e = Estimate {
            mean,
            ci_low: f64::NAN,
            ci_high: f64::NAN,
            n: b.len().min(h.len()) as u64,
        };
        return (e, 1.0);
    }
    let (qb, qh) = (
        var(&b, eb.mean) / b.len() as f64,
        var(&h, eh.mean) / h.len() as f64,
    );
    let se = (qb + qh).sqrt();
    if se == 0.0 {
        let e = Estimate {
            mean,
            ci_low: mean,
            ci_high: mean,
            n: b.len().min(h.len()) as u64,
        };
        return (e, if mean == 0.0 { 1.0 } else { 0.0 });
    }
    let df =
        (qb + qh).powi(2) / (qb * qb / (b.len() as f64 - 1.0) + qh * qh / (h.len() as f64 - 1.0));
    let half = t975(df.floor().max(1.0) as u64) * se;
    let e = Estimate {
        mean,
        ci_low: mean - half,
        ci_high: mean + half,
        n: b.len().min(h.len()) as u64,
    };
    (e, t_p_value(mean / se, df))
}

/// Which (policy, metric) pairs the Benjamini-Hochberg procedure at `q` keeps among
/// p-values `ps`.
pub fn benjamini_hochberg(ps: &[f64], q: f64) -> Vec<bool> {
    let m = ps.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| ps[a].total_cmp(&ps[b]));
    let mut cut = None;
    for (k, &i) in order.iter().enumerate() {
        if ps[i] <= (k + 1) as f64 / m as f64 * q {
            cut = Some(k);
        }
    }
    let mut keep = vec![false; m];
    if let Some(c) = cut {
        for &i in &order[..=c] {
            keep[i] = true;
        }
    }
    keep
}

/// One (policy, metric) to compare: its values in each replication of base and head.
pub struct Pair<'a> {
    /// Policy.
    pub policy: &'a str,
    /// Metric.
    pub metric: &'a str,
    /// Base's values, one per replication.
    pub base: Vec<f64>,
    /// Head's values.
    pub head: Vec<f64>,
    /// Its threshold.
    pub threshold: Threshold,
}

/// Compares every pair (paired per replication when `paired`), corrects over all of
/// them, and gives each its verdict.
pub fn compare(pairs: &[Pair], paired_runs: bool) -> Vec<Change> {
    let mut out: Vec<Change> = pairs
        .iter()
        .map(|pair| {
            let (change, p) = if paired_runs {
                paired(&pair.base, &pair.head)
            } else {
                welch(&pair.base, &pair.head)
            };
            let base = estimate(&pair.base);
            Change {
                policy: pair.policy.to_string(),
                metric: pair.metric.to_string(),
                base,
                head: estimate(&pair.head),
                change,
                threshold: pair.threshold.amount(base.mean),
                p,
                verdict: Verdict::NoChange,
            }
        })
        .collect();
    let ps: Vec<f64> = out.iter().map(|c| c.p).collect();
    let keep = benjamini_hochberg(&ps, FDR);
    for (c, keep) in out.iter_mut().zip(keep) {
        let (lo, hi, t) = (c.change.ci_low, c.change.ci_high, c.threshold);
        if !(keep && lo.is_finite() && hi.is_finite()) {
            continue;
        }
        let (worse, better) = if higher_is_better(&c.metric) {
            (hi < -t, lo > t)
        } else {
            (lo > t, hi < -t)
        };
        c.verdict = if worse {
            Verdict::Regressed
        } else if better {
            Verdict::Improved
        } else {
            Verdict::NoChange
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_p_values_match_reference_values() {
        // Two-sided tail of Student's t: by numerical integration of its density, and
        // for df = 3 in closed form (0.391002).
        for (t, df, p) in [
            (2.0, 10.0, 0.073_388_03),
            (1.0, 3.0, 0.391_001_95),
            (3.5, 99.0, 0.000_699_06),
            (0.0, 5.0, 1.0),
        ] {
            assert!(
                (t_p_value(t, df) - p).abs() < 1e-6,
                "t {t} df {df}: {}",
                t_p_value(t, df)
            );
        }
    }

    #[test]
    fn thresholds_parse_relative_and_absolute() {
        assert_eq!(Threshold::parse("+2%").unwrap(), Threshold::Relative(0.02));
        assert_eq!(Threshold::parse("5").unwrap(), Threshold::Absolute(5.0));
        assert_eq!(Threshold::Relative(0.02).amount(-50.0), 1.0);
        for bad in ["", "x%", "-1", "+inf", "2%%"] {
            assert!(Threshold::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn benjamini_hochberg_keeps_the_smallest_up_to_the_last_passing_rank() {
        // m = 4, q = 0.05: bounds 0.0125, 0.025, 0.0375, 0.05.
        assert_eq!(
            benjamini_hochberg(&[0.01, 0.035, 0.02, 0.2], 0.05),
            [true, true, true, false]
        );
        assert_eq!(
            benjamini_hochberg(&[0.01, 0.04, 0.03, 0.2], 0.05),
            [true, false, false, false]
        );
        // Step-up: 0.02 misses its bound (0.0167) but the next rank passes (0.024 <=
        // 0.0333), so both are kept.
        assert_eq!(
            benjamini_hochberg(&[0.02, 0.024, 0.9], 0.05),
            [true, true, false]
        );
        assert_eq!(benjamini_hochberg(&[0.03, 0.9], 0.05), [false, false]);
    }

    #[test]
    fn a_clear_worsening_regresses_and_noise_does_not() {
        let base: Vec<f64> = (0..20).map(|r| 100.0 + (r % 5) as f64).collect();
        let worse: Vec<f64> = base.iter().map(|x| x * 1.05).collect();
        let noisy: Vec<f64> = base
            .iter()
            .enumerate()
            .map(|(r, x)| x + if r % 2 == 0 { 0.3 } else { -0.3 })
            .collect();
        let pairs = [
            Pair {
                policy: "p",
                metric: "makespan_s",
                base: base.clone(),
                head: worse.clone(),
                threshold: Threshold::default(),
            },
            Pair {
                policy: "p",
                metric: "rejection_probability",
                base: base.clone(),
                head: noisy,
                threshold: Threshold::default(),
            },
            Pair {
                policy: "p",
                metric: "pass_share",
                base: base.clone(),
                head: worse,
                threshold: Threshold::default(),
            },
        ];
        let c = compare(&pairs, true);
        assert_eq!(c[0].verdict, Verdict::Regressed);
        assert_eq!(c[1].verdict, Verdict::NoChange);
        // Higher is better for pass_share: the same change improves it.
        assert_eq!(c[2].verdict, Verdict::Improved);
        // Paired intervals are narrower than Welch's on correlated replications.
        let w = compare(&pairs[..1], false);
        assert!(c[0].change.half_width() < w[0].change.half_width() / 5.0);
    }
}
