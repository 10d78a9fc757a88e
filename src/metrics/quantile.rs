//! Percentiles within one replication (job latencies, latency curves).

/// The `q` quantile (0..=1) of sorted values, interpolating linearly between order
/// statistics (type 7, as R and numpy default). NaN when empty.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

/// The `q` quantile (type 7) of unsorted values, by selection in linear time; reorders
/// `xs`. NaN when empty. Agrees with [`quantile_sorted`] on the sorted values.
pub fn quantile_select(xs: &mut [f64], q: f64) -> f64 {
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let (_, &mut a, rest) = xs.select_nth_unstable_by(lo, f64::total_cmp);
    if lo + 1 >= n {
        return a;
    }
    let b = rest.iter().copied().fold(f64::INFINITY, f64::min);
    a + (h - lo as f64) * (b - a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_agrees_with_sorting() {
        let xs: Vec<f64> = (0..1001)
            .map(|i| ((i * 7919) % 1009) as f64 / 3.0)
            .collect();
        let mut sorted = xs.clone();
        sorted.sort_by(f64::total_cmp);
        for q in [0.0, 0.5, 0.95, 0.99, 0.999, 1.0] {
            let mut scratch = xs.clone();
            assert_eq!(
                quantile_select(&mut scratch, q),
                quantile_sorted(&sorted, q),
                "q = {q}"
            );
        }
        assert!(quantile_select(&mut [], 0.5).is_nan());
        assert_eq!(quantile_select(&mut [3.0], 0.99), 3.0);
    }

    #[test]
    fn quantiles_interpolate() {
        let xs = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&xs, 0.5), 2.5);
        assert_eq!(quantile_sorted(&xs, 1.0), 4.0);
        assert!((quantile_sorted(&xs, 0.95) - 3.85).abs() < 1e-12);
    }
}
