//! `usage-based-routing-v2`: the fewest tokens sent this minute, skipping candidates
//! whose minute would go over their published requests or tokens per minute (LiteLLM
//! usage-based-routing-v2).

use rand::Rng;

use super::Group;

pub(super) const STICKY: bool = false;
pub(super) const WEIGHTS_FROM_LIMITS: bool = false;

pub(super) fn choose<R: Rng + ?Sized>(g: &mut Group<'_>, _rng: &mut R) -> usize {
    g.argmin(|i| {
        if g.under_limits(i) {
            g.candidates[i].minute_tokens
        } else {
            f64::INFINITY
        }
    })
}
