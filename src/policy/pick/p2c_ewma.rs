//! `p2c-peak-ewma`: power of two choices: of two distinct random candidates, the one
//! with the lower peak-EWMA latency × (requests in flight + 1) (Helicone gateway,
//! Finagle).

use rand::Rng;

use super::Group;

pub(super) const STICKY: bool = false;
pub(super) const WEIGHTS_FROM_LIMITS: bool = false;

pub(super) fn choose<R: Rng + ?Sized>(g: &mut Group<'_>, rng: &mut R) -> usize {
    // Two distinct candidates among those allowed (in rotation, lowest tier).
    let n = g.len();
    let nth = |k: usize| (0..n).filter(|&i| g.allowed[i]).nth(k).expect("k < m");
    let m = g.allowed.iter().filter(|&&a| a).count();
    let x = rng.random_range(0..m);
    let y = if m > 1 {
        (x + 1 + rng.random_range(0..m - 1)) % m
    } else {
        x
    };
    let (a, b) = (nth(x), nth(y));
    let load = |i: usize| {
        let c = &g.candidates[i];
        c.ewma * (c.in_flight as f64 + 1.0)
    };
    if load(b) < load(a) {
        b
    } else {
        a
    }
}
