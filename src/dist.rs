//! Random quantities from scenario files: constant, uniform, exponential, lognormal,
//! truncated normal and empirical distributions.

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal, Normal};

/// z for the 95th percentile of the standard normal distribution.
const Z95: f64 = 1.644_853_626_951_472_2;

/// A distribution of non-negative real values (seconds for durations, counts for tokens).
#[derive(Clone, Debug, PartialEq)]
pub enum Random {
    /// Always `value`.
    Constant(f64),
    /// Uniform on `[min, max]`.
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// Exponential with the given mean.
    Exponential {
        /// Mean.
        mean: f64,
    },
    /// Lognormal given by its median and 95th percentile.
    LogNormal {
        /// Median (= e^mu).
        median: f64,
        /// 95th percentile (= e^(mu + 1.645 sigma)).
        p95: f64,
    },
    /// Normal truncated at zero (negative draws are redrawn).
    Normal {
        /// Mean before truncation.
        mean: f64,
        /// Standard deviation before truncation.
        sd: f64,
    },
    /// Uniform choice among the listed values.
    Empirical(Vec<f64>),
}

impl Random {
    /// Draws one value; never negative.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Random::Constant(v) => *v,
            Random::Uniform { min, max } => {
                if max > min {
                    rng.random_range(*min..=*max)
                } else {
                    *min
                }
            }
            Random::Exponential { mean } => {
                if *mean > 0.0 {
                    Exp::new(1.0 / mean).map(|d| d.sample(rng)).unwrap_or(0.0)
                } else {
                    0.0
                }
            }
            Random::LogNormal { median, p95 } => {
                let mu = median.ln();
                let sigma = ((p95.ln() - mu) / Z95).max(0.0);
                LogNormal::new(mu, sigma)
                    .map(|d| d.sample(rng))
                    .unwrap_or(*median)
            }
            Random::Normal { mean, sd } => {
                let Ok(d) = Normal::new(*mean, *sd) else {
                    return mean.max(0.0);
                };
                // Rejection sampling is exact truncation; after many failures (a mean far
                // below zero) fall back to zero rather than loop forever.
                for _ in 0..1000 {
                    let x: f64 = d.sample(rng);
                    if x >= 0.0 {
                        return x;
                    }
                }
                0.0
            }
            Random::Empirical(values) => values[rng.random_range(0..values.len())],
        }
    }

    /// The mean of the distribution (for the truncated normal, of the untruncated one).
    pub fn mean(&self) -> f64 {
        match self {
            Random::Constant(v) => *v,
            Random::Uniform { min, max } => (min + max) / 2.0,
            Random::Exponential { mean } => *mean,
            Random::LogNormal { median, p95 } => {
                let sigma = ((p95.ln() - median.ln()) / Z95).max(0.0);
                median * (sigma * sigma / 2.0).exp()
            }
            Random::Normal { mean, .. } => *mean,
            Random::Empirical(v) => v.iter().sum::<f64>() / v.len() as f64,
        }
    }

    /// The largest value the distribution can produce (infinite when unbounded).
    pub fn max(&self) -> f64 {
        match self {
            Random::Constant(v) => *v,
            Random::Uniform { max, .. } => *max,
            Random::Empirical(v) => v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            _ => f64::INFINITY,
        }
    }

    /// The smallest value the distribution can produce.
    pub fn min(&self) -> f64 {
        match self {
            Random::Constant(v) => *v,
            Random::Uniform { min, .. } => *min,
            Random::Empirical(v) => v.iter().copied().fold(f64::INFINITY, f64::min),
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Source};

    fn sample_mean(d: &Random, n: usize) -> f64 {
        let mut rng = stream(1, 0, Source::Arrivals);
        (0..n).map(|_| d.sample(&mut rng)).sum::<f64>() / n as f64
    }

    #[test]
    fn sample_means_match_the_distribution_means() {
        let cases = [
            Random::Uniform { min: 1.0, max: 3.0 },
            Random::Exponential { mean: 2.5 },
            Random::LogNormal {
                median: 1000.0,
                p95: 4000.0,
            },
            Random::Empirical(vec![1.0, 2.0, 6.0]),
        ];
        for d in cases {
            let m = sample_mean(&d, 200_000);
            assert!(
                (m - d.mean()).abs() / d.mean() < 0.02,
                "{d:?}: sample mean {m}"
            );
        }
    }

    #[test]
    fn lognormal_median_and_p95_are_the_given_ones() {
        let d = Random::LogNormal {
            median: 2.0,
            p95: 10.0,
        };
        let mut rng = stream(3, 0, Source::Arrivals);
        let mut xs: Vec<f64> = (0..100_000).map(|_| d.sample(&mut rng)).collect();
        xs.sort_by(f64::total_cmp);
        let median = xs[50_000];
        let p95 = xs[95_000];
        assert!((median - 2.0).abs() < 0.05, "median {median}");
        assert!((p95 - 10.0).abs() < 0.4, "p95 {p95}");
    }

    #[test]
    fn truncated_normal_is_never_negative() {
        let d = Random::Normal { mean: 0.1, sd: 1.0 };
        let mut rng = stream(2, 0, Source::Arrivals);
        assert!((0..10_000).all(|_| d.sample(&mut rng) >= 0.0));
    }
}
