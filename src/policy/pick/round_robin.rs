//! `round_robin`: smooth weighted round-robin (nginx): exact shares, deterministic.
//! Retries stay on the pick by default, so the shares hold.

use rand::Rng;

use super::Group;

pub(super) const STICKY: bool = true;
pub(super) const WEIGHTS_FROM_LIMITS: bool = false;

pub(super) fn choose<R: Rng + ?Sized>(g: &mut Group<'_>, _rng: &mut R) -> usize {
    let total: f64 = g
        .weights
        .iter()
        .zip(g.allowed)
        .filter(|(_, &a)| a)
        .map(|(w, _)| w)
        .sum();
    let mut best_value = f64::NEG_INFINITY;
    let mut best = g.first_allowed;
    for (i, (c, w)) in g.current.iter_mut().zip(g.weights).enumerate() {
        if !g.allowed[i] {
            continue;
        }
        *c += w;
        if *c > best_value {
            best = i;
            best_value = *c;
        }
    }
    g.current[best] -= total;
    best
}
