//! `least-busy`: the candidate with the fewest requests in flight from this client
//! (LiteLLM least-busy).

use rand::Rng;

use super::Group;

pub(super) const STICKY: bool = false;
pub(super) const WEIGHTS_FROM_LIMITS: bool = false;

pub(super) fn choose<R: Rng + ?Sized>(g: &mut Group<'_>, _rng: &mut R) -> usize {
    g.argmin(|i| g.candidates[i].in_flight as f64)
}
