//! `cost-based-routing`: the cheapest candidate (input plus output price per 1k tokens)
//! not over its published per-minute limits (LiteLLM cost-based-routing).

use rand::Rng;

use super::Group;

pub(super) const STICKY: bool = false;
pub(super) const WEIGHTS_FROM_LIMITS: bool = false;

pub(super) fn choose<R: Rng + ?Sized>(g: &mut Group<'_>, _rng: &mut R) -> usize {
    g.argmin(|i| {
        if g.under_limits(i) {
            g.terms[i].price_per_1k
        } else {
            f64::INFINITY
        }
    })
}
