//! `random` (= `simple-shuffle`): at random in proportion to the weights; without
//! weights, in proportion to each candidate's requests (else tokens) per minute (LiteLLM
//! simple-shuffle).

use rand::Rng;

use super::{draw, Group};

pub(super) const STICKY: bool = false;
pub(super) const WEIGHTS_FROM_LIMITS: bool = true;

pub(super) fn choose<R: Rng + ?Sized>(g: &mut Group<'_>, rng: &mut R) -> usize {
    draw(rng, g.len(), |i| g.masked(g.weights[i], i))
}
