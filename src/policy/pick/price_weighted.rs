//! `price-weighted`: at random with weight 1/price² (OpenRouter's load balancing; a
//! candidate with no per-token price takes nearly everything).

use rand::Rng;

use super::{draw, Group};

pub(super) const STICKY: bool = false;
pub(super) const WEIGHTS_FROM_LIMITS: bool = false;

pub(super) fn choose<R: Rng + ?Sized>(g: &mut Group<'_>, rng: &mut R) -> usize {
    draw(rng, g.len(), |i| {
        g.masked(1.0 / g.terms[i].price_per_1k.max(1e-6).powi(2), i)
    })
}
