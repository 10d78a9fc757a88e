//! Routes: which provider a request goes to first, and which ones follow when it gives
//! up on a provider.

use rand::Rng;

/// How a weighted route picks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    /// At random, in proportion to the weights (LiteLLM's simple-shuffle).
    Random,
    /// Smooth weighted round-robin (nginx): exact shares, deterministic.
    RoundRobin,
}

/// A route, as configured. Provider indices refer to the scenario's provider list.
#[derive(Clone, Debug, PartialEq)]
pub enum RouteSpec {
    /// Try providers in order; the first is the primary (`single` is a chain of one).
    Chain(Vec<usize>),
    /// Pick a provider per request by weight; `fallbacks` follow in order.
    Weighted {
        /// Candidates.
        providers: Vec<usize>,
        /// Their weights (positive).
        weights: Vec<f64>,
        /// How to pick.
        pick: Pick,
        /// Providers to try after the picked one gives up.
        fallbacks: Vec<usize>,
    },
}

impl RouteSpec {
    /// Every provider the route can reach, in order of first mention.
    pub fn providers(&self) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        let all: Box<dyn Iterator<Item = &usize>> = match self {
            RouteSpec::Chain(c) => Box::new(c.iter()),
            RouteSpec::Weighted {
                providers,
                fallbacks,
                ..
            } => Box::new(providers.iter().chain(fallbacks)),
        };
        for &p in all {
            if !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }

    /// The providers after the first pick, in order.
    pub fn fallbacks(&self) -> &[usize] {
        match self {
            RouteSpec::Chain(c) => &c[1..],
            RouteSpec::Weighted { fallbacks, .. } => fallbacks,
        }
    }
}

/// A route's state during one replication.
#[derive(Clone, Debug)]
pub struct Router {
    current: Vec<f64>,
}

impl Router {
    /// Fresh state for `spec`.
    pub fn new(spec: &RouteSpec) -> Self {
        let n = match spec {
            RouteSpec::Chain(_) => 0,
            RouteSpec::Weighted { providers, .. } => providers.len(),
        };
        Router {
            current: vec![0.0; n],
        }
    }

    /// The first provider for a new request.
    pub fn pick<R: Rng + ?Sized>(&mut self, spec: &RouteSpec, rng: &mut R) -> usize {
        match spec {
            RouteSpec::Chain(c) => c[0],
            RouteSpec::Weighted {
                providers,
                weights,
                pick: Pick::Random,
                ..
            } => {
                let total: f64 = weights.iter().sum();
                let mut x = rng.random::<f64>() * total;
                for (p, w) in providers.iter().zip(weights) {
                    if x < *w {
                        return *p;
                    }
                    x -= w;
                }
                *providers.last().expect("validated non-empty")
            }
            RouteSpec::Weighted {
                providers,
                weights,
                pick: Pick::RoundRobin,
                ..
            } => {
                let total: f64 = weights.iter().sum();
                let mut best_value = f64::NEG_INFINITY;
                let mut best = 0;
                for (i, (c, w)) in self.current.iter_mut().zip(weights).enumerate() {
                    *c += w;
                    if i == 0 || *c > best_value {
                        best = i;
                        best_value = *c;
                    }
                }
                self.current[best] -= total;
                providers[best]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::{stream, Source};

    #[test]
    fn round_robin_gives_exact_shares() {
        let spec = RouteSpec::Weighted {
            providers: vec![0, 1],
            weights: vec![2.0, 3.0],
            pick: Pick::RoundRobin,
            fallbacks: vec![],
        };
        let mut r = Router::new(&spec);
        let mut rng = stream(0, 0, Source::Routing(0));
        let picks: Vec<usize> = (0..10).map(|_| r.pick(&spec, &mut rng)).collect();
        assert_eq!(picks.iter().filter(|&&p| p == 0).count(), 4);
        assert_eq!(&picks[..5], &[1, 0, 1, 0, 1]);
    }

    #[test]
    fn random_pick_follows_the_weights() {
        let spec = RouteSpec::Weighted {
            providers: vec![0, 1],
            weights: vec![1.0, 3.0],
            pick: Pick::Random,
            fallbacks: vec![],
        };
        let mut r = Router::new(&spec);
        let mut rng = stream(0, 0, Source::Routing(0));
        let n = 40_000;
        let zeros = (0..n).filter(|_| r.pick(&spec, &mut rng) == 0).count();
        assert!((zeros as f64 / n as f64 - 0.25).abs() < 0.01);
    }
}
