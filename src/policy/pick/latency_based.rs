//! `latency-based-routing`: the lowest mean latency per output token over the last 10
//! responses, untried candidates first (LiteLLM latency-based-routing).

use rand::Rng;

use super::Group;

pub(super) const STICKY: bool = false;
pub(super) const WEIGHTS_FROM_LIMITS: bool = false;

pub(super) fn choose<R: Rng + ?Sized>(g: &mut Group<'_>, _rng: &mut R) -> usize {
    g.argmin(|i| {
        let l = &g.candidates[i].latencies;
        if l.is_empty() {
            f64::NEG_INFINITY
        } else {
            l.iter().sum::<f64>() / l.len() as f64
        }
    })
}
