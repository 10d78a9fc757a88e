//! Routing picks: how a weighted route (a LiteLLM model group, an OpenRouter or Helicone
//! provider list) chooses among its candidates. One file per pick; the [`Pick`] registry
//! below (one line each) names them for scenario files and error messages.
//!
//! A pick sees a [`Group`]: the candidates allowed now (in rotation, lowest priority
//! tier), their weights and published terms, and what the route has learnt of each
//! ([`Candidate`]: requests in flight, recent latencies, this minute's usage, peak EWMA).

mod cost_based;
mod latency_based;
mod least_busy;
mod p2c_ewma;
mod price_weighted;
mod random;
mod round_robin;
mod usage_based;

use std::collections::VecDeque;

use rand::Rng;

use crate::provider::limiter::Unit;
use crate::provider::ProviderSpec;
use crate::time::SimTime;

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

impl Terms {
    /// A provider's terms: its price per 1k tokens (input and output added) and the
    /// requests and tokens per minute its limits allow (infinite when it has none).
    pub fn of(p: &ProviderSpec) -> Terms {
        let mut rpm = f64::INFINITY;
        let mut tpm = f64::INFINITY;
        for l in &p.limits {
            let per_minute = l.kind.per_minute();
            match l.unit {
                Unit::Requests => rpm = rpm.min(per_minute),
                _ => tpm = tpm.min(per_minute),
            }
        }
        Terms {
            price_per_1k: p.price_per_1k_input + p.price_per_1k_output,
            rpm,
            tpm,
        }
    }
}

/// What a route has learnt of one candidate in this replication.
#[derive(Clone, Debug, Default)]
pub struct Candidate {
    /// Requests sent to it and not answered yet.
    pub in_flight: u32,
    /// Seconds per output token of the last 10 responses.
    pub latencies: VecDeque<f64>,
    /// The minute `minute_requests` and `minute_tokens` count.
    pub minute: u64,
    /// Requests sent this minute.
    pub minute_requests: f64,
    /// Tokens sent this minute.
    pub minute_tokens: f64,
    /// Peak-EWMA latency, seconds.
    pub ewma: f64,
    /// When `ewma` was last updated.
    pub ewma_at: SimTime,
}

/// The candidates of one pick.
pub struct Group<'a> {
    /// Which candidates may be chosen (at least one).
    pub allowed: &'a [bool],
    /// The first allowed candidate (what ties go to).
    pub first_allowed: usize,
    /// Their weights.
    pub weights: &'a [f64],
    /// Their published terms.
    pub terms: &'a [Terms],
    /// What the route learnt of each.
    pub candidates: &'a [Candidate],
    /// The smooth round-robin counters, one per candidate.
    pub current: &'a mut [f64],
    /// Tokens of the request being routed.
    pub tokens: u64,
}

impl Group<'_> {
    /// The number of candidates.
    pub fn len(&self) -> usize {
        self.allowed.len()
    }

    /// Whether there is no candidate.
    pub fn is_empty(&self) -> bool {
        self.allowed.is_empty()
    }

    /// The allowed candidate with the lowest `key`; ties go to the earlier one.
    pub fn argmin(&self, key: impl Fn(usize) -> f64) -> usize {
        (0..self.len())
            .filter(|&i| self.allowed[i])
            .fold(self.first_allowed, |best, i| {
                if key(i) < key(best) {
                    i
                } else {
                    best
                }
            })
    }

    /// Whether candidate `i` stays within its published per-minute limits with this
    /// request.
    pub fn under_limits(&self, i: usize) -> bool {
        let c = &self.candidates[i];
        c.minute_requests + 1.0 <= self.terms[i].rpm
            && c.minute_tokens + self.tokens as f64 <= self.terms[i].tpm
    }

    /// `w` for an allowed candidate `i`, else 0.
    pub fn masked(&self, w: f64, i: usize) -> f64 {
        if self.allowed[i] {
            w
        } else {
            0.0
        }
    }
}

/// An index in `0..n` drawn at random in proportion to `weight` (zero weights are
/// never drawn; when all are zero, 0).
pub fn draw<R: Rng + ?Sized>(rng: &mut R, n: usize, weight: impl Fn(usize) -> f64) -> usize {
    let total: f64 = (0..n).map(&weight).sum();
    let mut x = rng.random::<f64>() * total;
    let mut last = 0;
    for i in 0..n {
        let wi = weight(i);
        if wi > 0.0 {
            last = i;
            if x < wi {
                return i;
            }
        }
        x -= wi;
    }
    last
}

/// The registry: each pick's variant, file, name in scenario files and aliases. Adding a
/// pick is its file (with `choose`, `STICKY` and `WEIGHTS_FROM_LIMITS`) and one line here.
macro_rules! picks {
    ($( $(#[$doc:meta])* $variant:ident = $module:ident, $name:literal $(| $alias:literal)* ;)*) => {
        /// How a weighted route picks.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Pick {
            $( $(#[$doc])* $variant, )*
        }

        impl Pick {
            /// Every pick with its name in scenario files and its aliases.
            pub const ALL: &'static [(Pick, &'static str, &'static [&'static str])] =
                &[$( (Pick::$variant, $name, &[$($alias),*]), )*];

            /// Chooses a candidate of `group` (an index into it).
            pub fn choose<R: Rng + ?Sized>(self, group: &mut Group<'_>, rng: &mut R) -> usize {
                match self {
                    $( Pick::$variant => $module::choose(group, rng), )*
                }
            }

            /// Whether retries stay on the picked provider unless the scenario says
            /// otherwise.
            pub fn sticky_by_default(self) -> bool {
                match self {
                    $( Pick::$variant => $module::STICKY, )*
                }
            }

            /// Whether a group without `weights` weighs its candidates by their
            /// published requests (else tokens) per minute, instead of equally.
            pub fn weights_from_limits(self) -> bool {
                match self {
                    $( Pick::$variant => $module::WEIGHTS_FROM_LIMITS, )*
                }
            }
        }
    };
}

picks! {
    /// At random, in proportion to the weights (LiteLLM's simple-shuffle).
    Random = random, "random" | "simple-shuffle";
    /// Smooth weighted round-robin (nginx): exact shares, deterministic.
    RoundRobin = round_robin, "round_robin";
    /// Fewest requests in flight from this client (LiteLLM least-busy).
    LeastBusy = least_busy, "least-busy";
    /// Lowest mean latency per output token over the last 10 responses; untried first
    /// (LiteLLM latency-based-routing).
    LatencyBased = latency_based, "latency-based-routing";
    /// Lowest tokens sent this minute, skipping candidates whose minute would go over
    /// their published requests or tokens per minute (LiteLLM usage-based-routing-v2).
    UsageBased = usage_based, "usage-based-routing-v2";
    /// Cheapest candidate not over its per-minute limits (LiteLLM cost-based-routing).
    CostBased = cost_based, "cost-based-routing";
    /// At random with weight 1/price^2 (OpenRouter's price-weighted load balancing).
    PriceWeighted = price_weighted, "price-weighted";
    /// Power of two choices on peak-EWMA latency times load (Helicone gateway, Finagle).
    P2cEwma = p2c_ewma, "p2c-peak-ewma";
}

impl Pick {
    /// The pick named `name` in a scenario file (or one of its aliases).
    pub fn from_name(name: &str) -> Option<Pick> {
        Pick::ALL
            .iter()
            .find(|(_, n, aliases)| *n == name || aliases.contains(&name))
            .map(|(p, _, _)| *p)
    }

    /// The name a scenario file uses.
    pub fn name(self) -> &'static str {
        Pick::ALL
            .iter()
            .find(|(p, _, _)| *p == self)
            .map(|(_, n, _)| *n)
            .expect("every pick is registered")
    }

    /// The valid names, for error messages: `"random" (= "simple-shuffle"), ... or "x"`.
    pub fn expected() -> String {
        let items: Vec<String> = Pick::ALL
            .iter()
            .map(|(_, name, aliases)| {
                let mut s = format!("\"{name}\"");
                for a in aliases.iter() {
                    s.push_str(&format!(" (= \"{a}\")"));
                }
                s
            })
            .collect();
        match items.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pick_is_found_by_its_names_and_listed() {
        for &(pick, name, aliases) in Pick::ALL {
            assert_eq!(Pick::from_name(name), Some(pick));
            assert_eq!(pick.name(), name);
            for a in aliases {
                assert_eq!(Pick::from_name(a), Some(pick));
            }
            assert!(Pick::expected().contains(&format!("\"{name}\"")));
        }
        assert_eq!(Pick::from_name("fastest"), None);
        assert!(Pick::expected().starts_with("\"random\" (= \"simple-shuffle\"), \"round_robin\""));
        assert!(Pick::expected().ends_with(" or \"p2c-peak-ewma\""));
    }
}
