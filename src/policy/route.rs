//! Routes: which provider a request goes to first, and which ones follow when it gives
//! up on a provider. A weighted route (a LiteLLM "model group") picks among its
//! candidates with a strategy; the strategies that learn (least busy, latency, usage,
//! peak EWMA) keep their state in [`Router`], fed by the policy's sends and responses.

use std::collections::VecDeque;

use rand::Rng;

use crate::time::SimTime;

/// How a weighted route picks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    /// At random, in proportion to the weights (LiteLLM's simple-shuffle).
    Random,
    /// Smooth weighted round-robin (nginx): exact shares, deterministic.
    RoundRobin,
    /// Fewest requests in flight from this client (LiteLLM least-busy).
    LeastBusy,
    /// Lowest mean latency per output token over the last 10 responses; untried first
    /// (LiteLLM latency-based-routing).
    LatencyBased,
    /// Lowest tokens sent this minute, skipping candidates whose minute would go over
    /// their published requests or tokens per minute (LiteLLM usage-based-routing-v2).
    UsageBased,
    /// Cheapest candidate not over its per-minute limits (LiteLLM cost-based-routing).
    CostBased,
    /// At random with weight 1/price^2 (OpenRouter's price-weighted load balancing).
    PriceWeighted,
    /// Power of two choices on peak-EWMA latency times load (Helicone gateway, Finagle).
    P2cEwma,
}

/// What a strategy knows of a candidate from its published terms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Terms {
    /// USD per 1,000 tokens (input and output prices added).
    pub price_per_1k: f64,
    /// Requests per minute its limits allow (infinite when unlimited).
    pub rpm: f64,
    /// Tokens per minute its limits allow (infinite when unlimited).
    pub tpm: f64,
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
        /// Retries stay on the picked provider (`true`) or pick again (`false`).
        sticky: bool,
        /// Each candidate's published terms.
        terms: Vec<Terms>,
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

/// The latency a failed request counts as, in seconds.
pub const FAILURE_LATENCY_S: f64 = 60.0;

/// The decay time of the peak-EWMA latency (Finagle's default: 10 s).
const EWMA_TAU_S: f64 = 10.0;

#[derive(Clone, Debug, Default)]
struct Candidate {
    in_flight: u32,
    /// Seconds per output token of the last 10 responses.
    latencies: VecDeque<f64>,
    minute: u64,
    minute_requests: f64,
    minute_tokens: f64,
    ewma: f64,
    ewma_at: SimTime,
}

/// A route's state during one replication.
#[derive(Clone, Debug)]
pub struct Router {
    current: Vec<f64>,
    candidates: Vec<Candidate>,
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
            candidates: vec![Candidate::default(); n],
        }
    }

    fn index(spec: &RouteSpec, provider: usize) -> Option<usize> {
        match spec {
            RouteSpec::Chain(_) => None,
            RouteSpec::Weighted { providers, .. } => providers.iter().position(|&p| p == provider),
        }
    }

    fn roll_minute(c: &mut Candidate, now: SimTime) {
        let m = now.0 / SimTime::from_secs(60).0;
        if c.minute != m {
            c.minute = m;
            c.minute_requests = 0.0;
            c.minute_tokens = 0.0;
        }
    }

    /// A request of `tokens` tokens was sent to `provider`.
    pub fn on_send(&mut self, spec: &RouteSpec, now: SimTime, provider: usize, tokens: u64) {
        if let Some(i) = Self::index(spec, provider) {
            let c = &mut self.candidates[i];
            Self::roll_minute(c, now);
            c.in_flight += 1;
            c.minute_requests += 1.0;
            c.minute_tokens += tokens as f64;
        }
    }

    /// `provider` answered at `now` a request sent at `sent_at`, of `output` tokens.
    pub fn on_response(
        &mut self,
        spec: &RouteSpec,
        now: SimTime,
        provider: usize,
        sent_at: SimTime,
        output: u64,
        served: bool,
    ) {
        let Some(i) = Self::index(spec, provider) else {
            return;
        };
        let c = &mut self.candidates[i];
        c.in_flight = c.in_flight.saturating_sub(1);
        // A failure counts as a very slow answer, so the learning strategies avoid a
        // provider that only rejects instead of treating it as untried.
        let latency = if served {
            (now - sent_at).as_secs_f64()
        } else {
            FAILURE_LATENCY_S
        };
        c.latencies.push_back(latency / output.max(1) as f64);
        if c.latencies.len() > 10 {
            c.latencies.pop_front();
        }
        // Peak EWMA: jump up to a slower sample at once, decay towards faster ones.
        if latency > c.ewma {
            c.ewma = latency;
        } else {
            let w = (-(now - c.ewma_at).as_secs_f64() / EWMA_TAU_S).exp();
            c.ewma = c.ewma * w + latency * (1.0 - w);
        }
        c.ewma_at = now;
    }

    /// The first provider for a request of `tokens` tokens at `now`, among the
    /// candidates `ok` accepts; `None` when it accepts none. A chain always starts at
    /// its first provider.
    pub fn pick<R: Rng + ?Sized>(
        &mut self,
        spec: &RouteSpec,
        now: SimTime,
        tokens: u64,
        ok: &dyn Fn(usize) -> bool,
        rng: &mut R,
    ) -> Option<usize> {
        let RouteSpec::Weighted {
            providers,
            weights,
            pick,
            terms,
            ..
        } = spec
        else {
            let RouteSpec::Chain(c) = spec else {
                unreachable!()
            };
            return Some(c[0]);
        };
        let n = providers.len();
        let allowed: Vec<bool> = providers.iter().map(|&p| ok(p)).collect();
        if !allowed.iter().any(|&a| a) {
            return None;
        }
        let weighted = |rng: &mut R, w: &[f64]| -> usize {
            let w: Vec<f64> = w
                .iter()
                .zip(&allowed)
                .map(|(&x, &a)| if a { x } else { 0.0 })
                .collect();
            let total: f64 = w.iter().sum();
            let mut x = rng.random::<f64>() * total;
            let mut last = 0;
            for (i, wi) in w.iter().enumerate() {
                if *wi > 0.0 {
                    last = i;
                    if x < *wi {
                        return i;
                    }
                }
                x -= wi;
            }
            last
        };
        for c in &mut self.candidates {
            Self::roll_minute(c, now);
        }
        let under_limits = |i: usize, c: &Candidate| {
            c.minute_requests + 1.0 <= terms[i].rpm
                && c.minute_tokens + tokens as f64 <= terms[i].tpm
        };
        // Lowest key wins among the allowed; ties go to the earlier candidate.
        let first_ok = allowed.iter().position(|&a| a).expect("one is allowed");
        let argmin = |key: &dyn Fn(usize) -> f64| -> usize {
            (0..n).filter(|&i| allowed[i]).fold(
                first_ok,
                |best, i| if key(i) < key(best) { i } else { best },
            )
        };
        let chosen = match pick {
            Pick::Random => weighted(rng, weights),
            Pick::RoundRobin => {
                let total: f64 = weights
                    .iter()
                    .zip(&allowed)
                    .filter(|(_, &a)| a)
                    .map(|(w, _)| w)
                    .sum();
                let mut best_value = f64::NEG_INFINITY;
                let mut best = first_ok;
                for (i, (c, w)) in self.current.iter_mut().zip(weights).enumerate() {
                    if !allowed[i] {
                        continue;
                    }
                    *c += w;
                    if *c > best_value {
                        best = i;
                        best_value = *c;
                    }
                }
                self.current[best] -= total;
                best
            }
            Pick::LeastBusy => argmin(&|i| self.candidates[i].in_flight as f64),
            Pick::LatencyBased => argmin(&|i| {
                let l = &self.candidates[i].latencies;
                if l.is_empty() {
                    f64::NEG_INFINITY
                } else {
                    l.iter().sum::<f64>() / l.len() as f64
                }
            }),
            Pick::UsageBased => argmin(&|i| {
                let c = &self.candidates[i];
                if under_limits(i, c) {
                    c.minute_tokens
                } else {
                    f64::INFINITY
                }
            }),
            Pick::CostBased => argmin(&|i| {
                let c = &self.candidates[i];
                if under_limits(i, c) {
                    terms[i].price_per_1k
                } else {
                    f64::INFINITY
                }
            }),
            Pick::PriceWeighted => {
                let w: Vec<f64> = terms
                    .iter()
                    .map(|t| 1.0 / t.price_per_1k.max(1e-6).powi(2))
                    .collect();
                weighted(rng, &w)
            }
            Pick::P2cEwma => {
                let a = rng.random_range(0..n);
                let b = if n > 1 {
                    (a + 1 + rng.random_range(0..n - 1)) % n
                } else {
                    a
                };
                let load = |i: usize| {
                    let c = &self.candidates[i];
                    c.ewma * (c.in_flight as f64 + 1.0)
                };
                if load(b) < load(a) {
                    b
                } else {
                    a
                }
            }
        };
        Some(providers[chosen])
    }

    /// Whether retries stay on the picked provider.
    pub fn sticky(spec: &RouteSpec) -> bool {
        match spec {
            RouteSpec::Chain(_) => true,
            RouteSpec::Weighted { sticky, .. } => *sticky,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::{stream, Source};

    const FREE: Terms = Terms {
        price_per_1k: 1.0,
        rpm: f64::INFINITY,
        tpm: f64::INFINITY,
    };

    fn group(pick: Pick, terms: Vec<Terms>) -> RouteSpec {
        let n = terms.len();
        RouteSpec::Weighted {
            providers: (0..n).collect(),
            weights: vec![1.0; n],
            pick,
            fallbacks: vec![],
            sticky: false,
            terms,
        }
    }

    #[test]
    fn least_busy_spreads_and_cost_based_respects_minute_limits() {
        let spec = group(Pick::LeastBusy, vec![FREE; 3]);
        let mut r = Router::new(&spec);
        let mut rng = stream(0, 0, Source::Routing(0));
        let t = SimTime::ZERO;
        let picks: Vec<usize> = (0..3)
            .map(|_| {
                let p = r.pick(&spec, t, 10, &|_| true, &mut rng).unwrap();
                r.on_send(&spec, t, p, 10);
                p
            })
            .collect();
        assert_eq!(picks, [0, 1, 2]);
        let cheap = Terms {
            price_per_1k: 0.01,
            rpm: 2.0,
            tpm: f64::INFINITY,
        };
        let dear = Terms {
            price_per_1k: 0.1,
            ..FREE
        };
        let spec = group(Pick::CostBased, vec![dear, cheap]);
        let mut r = Router::new(&spec);
        let picks: Vec<usize> = (0..4)
            .map(|_| {
                let p = r.pick(&spec, t, 10, &|_| true, &mut rng).unwrap();
                r.on_send(&spec, t, p, 10);
                p
            })
            .collect();
        // The cheap one until its 2 requests a minute are used, then the dear one.
        assert_eq!(picks, [1, 1, 0, 0]);
        assert_eq!(
            r.pick(&spec, SimTime::from_secs(60), 10, &|_| true, &mut rng)
                .unwrap(),
            1
        );
    }

    #[test]
    fn latency_and_p2c_prefer_the_fast_provider() {
        let mut rng = stream(0, 0, Source::Routing(0));
        for pick in [Pick::LatencyBased, Pick::P2cEwma] {
            let spec = group(pick, vec![FREE; 2]);
            let mut r = Router::new(&spec);
            let t = SimTime::from_secs(1);
            // Provider 0 answers in 10 s, provider 1 in 1 s.
            r.on_send(&spec, SimTime::ZERO, 0, 10);
            r.on_response(&spec, SimTime::from_secs(10), 0, SimTime::ZERO, 100, true);
            r.on_send(&spec, SimTime::ZERO, 1, 10);
            r.on_response(&spec, t, 1, SimTime::ZERO, 100, true);
            let fast = (0..100)
                .filter(|_| {
                    r.pick(&spec, SimTime::from_secs(10), 10, &|_| true, &mut rng)
                        .unwrap()
                        == 1
                })
                .count();
            assert_eq!(fast, 100, "{pick:?}");
        }
    }

    #[test]
    fn price_weighting_follows_inverse_square_prices() {
        let spec = group(
            Pick::PriceWeighted,
            vec![
                Terms {
                    price_per_1k: 1.0,
                    ..FREE
                },
                Terms {
                    price_per_1k: 2.0,
                    ..FREE
                },
            ],
        );
        let mut r = Router::new(&spec);
        let mut rng = stream(0, 0, Source::Routing(0));
        let n = 40_000;
        let cheap = (0..n)
            .filter(|_| {
                r.pick(&spec, SimTime::ZERO, 1, &|_| true, &mut rng)
                    .unwrap()
                    == 0
            })
            .count();
        // Weights 1 and 1/4: the cheap one 80 % of the time.
        assert!((cheap as f64 / n as f64 - 0.8).abs() < 0.01);
    }

    #[test]
    fn round_robin_gives_exact_shares() {
        let spec = RouteSpec::Weighted {
            providers: vec![0, 1],
            weights: vec![2.0, 3.0],
            pick: Pick::RoundRobin,
            fallbacks: vec![],
            sticky: true,
            terms: vec![FREE; 2],
        };
        let mut r = Router::new(&spec);
        let mut rng = stream(0, 0, Source::Routing(0));
        let picks: Vec<usize> = (0..10)
            .map(|_| {
                r.pick(&spec, SimTime::ZERO, 1, &|_| true, &mut rng)
                    .unwrap()
            })
            .collect();
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
            sticky: true,
            terms: vec![FREE; 2],
        };
        let mut r = Router::new(&spec);
        let mut rng = stream(0, 0, Source::Routing(0));
        let n = 40_000;
        let zeros = (0..n)
            .filter(|_| {
                r.pick(&spec, SimTime::ZERO, 1, &|_| true, &mut rng)
                    .unwrap()
                    == 0
            })
            .count();
        assert!((zeros as f64 / n as f64 - 0.25).abs() < 0.01);
    }
}
