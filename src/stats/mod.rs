//! Statistics across replications: means with Student-t 95% confidence intervals
//! ([`estimate`]), the paired comparison of policies ([`compare`]), the summary that
//! every output reads ([`summary`]) and a sweep's results ([`sweep`]).

pub mod compare;
pub mod diff;
pub mod summary;
pub mod sweep;
pub mod verdict;

use serde::Serialize;

/// Two-sided 97.5% quantiles of Student's t for 1..=30 degrees of freedom.
const T975: [f64; 30] = [
    12.706_204_736,
    4.302_652_730,
    3.182_446_305,
    2.776_445_105,
    2.570_581_836,
    2.446_911_851,
    2.364_624_252,
    2.306_004_135,
    2.262_157_163,
    2.228_138_852,
    2.200_985_160,
    2.178_812_830,
    2.160_368_656,
    2.144_786_688,
    2.131_449_546,
    2.119_905_299,
    2.109_815_578,
    2.100_922_040,
    2.093_024_054,
    2.085_963_447,
    2.079_613_845,
    2.073_873_068,
    2.068_657_610,
    2.063_898_562,
    2.059_538_553,
    2.055_529_439,
    2.051_830_516,
    2.048_407_142,
    2.045_229_642,
    2.042_272_456,
];

/// The 0.975 quantile of Student's t with `df` degrees of freedom: a table up to 30, then
/// the Cornish-Fisher expansion around the normal quantile (error below 1e-6 there).
pub fn t975(df: u64) -> f64 {
    if df == 0 {
        return f64::NAN;
    }
    if df <= 30 {
        return T975[df as usize - 1];
    }
    let z = 1.959_963_984_540_054_f64;
    let n = df as f64;
    let z3 = z.powi(3);
    let z5 = z.powi(5);
    let z7 = z.powi(7);
    let z9 = z.powi(9);
    z + (z3 + z) / (4.0 * n)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * n * n)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * n.powi(3))
        + (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / (92160.0 * n.powi(4))
}

/// A mean and its 95% confidence interval over `n` replications.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// Sample mean.
    pub mean: f64,
    /// Lower bound of the 95% interval.
    pub ci_low: f64,
    /// Upper bound of the 95% interval.
    pub ci_high: f64,
    /// Replications with a defined value.
    pub n: u64,
}

impl Estimate {
    /// Half the width of the interval.
    pub fn half_width(&self) -> f64 {
        (self.ci_high - self.ci_low) / 2.0
    }
}

/// Mean and t-interval of the finite values in `xs` (undefined values, NaN, are left
/// out and not counted in `n`). With one value the interval is the point; with none,
/// everything is NaN.
///
/// ```
/// use ratesim::stats::estimate;
/// let e = estimate(&[1.0, 2.0, 3.0, f64::NAN]);
/// assert_eq!((e.mean, e.n), (2.0, 3));
/// assert!((e.ci_high - (2.0 + 4.302652730 / 3f64.sqrt())).abs() < 1e-9);
/// ```
pub fn estimate(xs: &[f64]) -> Estimate {
    let mut n = 0u64;
    let mut sum = 0.0;
    for &x in xs.iter().filter(|x| x.is_finite()) {
        n += 1;
        sum += x;
    }
    if n == 0 {
        return Estimate {
            mean: f64::NAN,
            ci_low: f64::NAN,
            ci_high: f64::NAN,
            n: 0,
        };
    }
    let mean = sum / n as f64;
    if n == 1 {
        return Estimate {
            mean,
            ci_low: mean,
            ci_high: mean,
            n,
        };
    }
    let ss: f64 = xs
        .iter()
        .filter(|x| x.is_finite())
        .map(|x| (x - mean) * (x - mean))
        .sum();
    let sd = (ss / (n - 1) as f64).sqrt();
    let h = t975(n - 1) * sd / (n as f64).sqrt();
    Estimate {
        mean,
        ci_low: mean - h,
        ci_high: mean + h,
        n,
    }
}

/// Wilson's score interval (95%) of a proportion: `successes` of `n` trials. The mean is
/// the observed share; the interval stays within [0, 1] and is not a point at 0 or 1.
pub fn wilson(successes: u64, n: u64) -> Estimate {
    if n == 0 {
        return estimate(&[]);
    }
    let z = 1.959_963_984_540_054_f64;
    let (k, n_f) = (successes as f64, n as f64);
    let p = k / n_f;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n_f)) / (1.0 + z2 / n_f);
    let half = z / (1.0 + z2 / n_f) * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt();
    // Exactly 0 and 1 at the boundaries (rounding leaves a trace of either).
    Estimate {
        mean: p,
        ci_low: if successes == 0 {
            0.0
        } else {
            (centre - half).max(0.0)
        },
        ci_high: if successes == n {
            1.0
        } else {
            (centre + half).min(1.0)
        },
        n,
    }
}

/// The estimate of metric `name` from its values `xs` in each replication: Wilson's
/// interval for a 0/1 metric ([`crate::metrics::is_indicator`]), else the t-interval
/// ([`estimate`]), clipped to the values the metric can take ([`crate::metrics::range`]).
pub fn estimate_metric(name: &str, xs: &[f64]) -> Estimate {
    if crate::metrics::is_indicator(name) {
        let defined: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
        let ones = defined.iter().filter(|&&x| x > 0.5).count() as u64;
        return wilson(ones, defined.len() as u64);
    }
    let mut e = estimate(xs);
    let (lo, hi) = crate::metrics::range(name);
    if e.n > 0 {
        e.ci_low = e.ci_low.clamp(lo, hi);
        e.ci_high = e.ci_high.clamp(lo, hi);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_intervals_match_reference_values_and_stay_in_range() {
        // 11 of 200, and the boundaries (reference: statsmodels' proportion_confint,
        // method "wilson": 0.030985, 0.095787; 0, 0.036993; 0.722467, 1).
        let e = wilson(11, 200);
        assert_eq!(e.mean, 0.055);
        assert!((e.ci_low - 0.030_985).abs() < 1e-5, "{e:?}");
        assert!((e.ci_high - 0.095_787).abs() < 1e-5, "{e:?}");
        let none = wilson(0, 100);
        assert_eq!((none.mean, none.ci_low), (0.0, 0.0));
        assert!((none.ci_high - 0.036_993).abs() < 1e-5, "{none:?}");
        let all = wilson(10, 10);
        assert_eq!((all.mean, all.ci_high), (1.0, 1.0));
        assert!((all.ci_low - 0.722_467).abs() < 1e-5, "{all:?}");
    }

    #[test]
    fn metric_intervals_stay_within_the_metrics_range() {
        // A count that is mostly 0: the t-interval would go below 0.
        let e = estimate_metric("jobs_failed", &[0.0, 0.0, 0.0, 7.0]);
        assert_eq!(e.ci_low, 0.0);
        assert!(e.ci_high > 7.0);
        let share = estimate_metric("pass_share", &[1.0, 1.0, 0.9]);
        assert!(share.ci_high <= 1.0 && share.ci_low > 0.0);
        let runs = estimate_metric("runs_with_failure_share", &[0.0, 1.0, 0.0, 0.0]);
        assert_eq!((runs.mean, runs.n), (0.25, 4));
        assert!(runs.ci_low > 0.0 && runs.ci_high < 1.0);
    }

    #[test]
    fn t_quantiles_match_tables_past_thirty() {
        // Reference values of the 0.975 quantile.
        for (df, t) in [
            (31, 2.039_513_446),
            (40, 2.021_075_390),
            (60, 2.000_297_822),
            (99, 1.984_216_952),
            (1000, 1.962_339_081),
        ] {
            assert!((t975(df) - t).abs() < 1e-6, "df {df}: {} vs {t}", t975(df));
        }
    }
}
