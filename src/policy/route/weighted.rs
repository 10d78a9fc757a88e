//! `weighted`: a group (a LiteLLM model group, an OpenRouter or Helicone provider list).
//! Each request picks a candidate with a [`Pick`] strategy, among those in rotation in
//! the lowest priority tier (`order`); retries stay on the pick when `sticky`, or pick
//! again; then the `fallbacks` follow in order.

use rand::Rng;

use super::{check_steps, Plan, ReadTarget, RequestInfo, RouteContext, RouteSpec, Router};
use super::{Pick, Terms, MAX_PROVIDERS};
use crate::keys::{invalid, positive_int, provider_list, Keys, R};
use crate::policy::pick::Group;
use crate::time::SimTime;

pub(super) const NAME: &str = "weighted";
pub(super) const KEYS: &[&str] = &[
    "providers",
    "weights",
    "pick",
    "fallbacks",
    "sticky",
    "order",
];
pub(super) const FALLS_BACK: bool = true;
/// A whole route only: inside a nested route, `loadbalance` is the group.
pub(super) const TARGET: Option<ReadTarget> = None;

/// A weighted route, as configured.
#[derive(Clone, Debug, PartialEq)]
pub struct Weighted {
    /// Candidates.
    pub providers: Vec<usize>,
    /// Their weights (positive).
    pub weights: Vec<f64>,
    /// How to pick.
    pub pick: Pick,
    /// Providers to try after the picked one gives up.
    pub fallbacks: Vec<usize>,
    /// Retries stay on the picked provider (`true`) or pick again (`false`).
    pub sticky: bool,
    /// Each candidate's published terms.
    pub terms: Vec<Terms>,
    /// Priority tier of each candidate (LiteLLM `order`): a pick only considers the
    /// lowest tier with a candidate in rotation.
    pub order: Vec<u32>,
}

/// Reads the group: its candidates (each once), their weights (by default from their
/// limits for a pick that weighs by them, else equal), tiers and pick (the route's, else
/// the preset's, else `random`), stickiness (the pick's default) and fallbacks.
pub(super) fn route(keys: &Keys, cx: &RouteContext) -> R<RouteSpec> {
    let providers = keys.providers("providers", cx.names, "the providers to split between")?;
    for (i, p) in providers.iter().enumerate() {
        if providers[..i].contains(p) {
            return invalid(
                &keys.at("providers").index(i),
                format!("`{}` is listed twice in the group; list each provider once and use `weights` for shares", cx.names[*p]),
            );
        }
    }
    let per_provider = |key: &str, len: usize| -> R<()> {
        if len != providers.len() {
            return keys.invalid(
                key,
                format!(
                    "{len} {key} for {} providers; give one per provider",
                    providers.len()
                ),
            );
        }
        Ok(())
    };
    let terms: Vec<Terms> = providers
        .iter()
        .map(|&p| Terms::of(&cx.providers[p]))
        .collect();
    let pick_name = keys.str("pick")?.or(cx.preset_pick).unwrap_or("random");
    let weights = match keys.floats("weights")? {
        // LiteLLM's simple-shuffle without weights weighs by the deployments' rpm, else
        // their tpm (here from each provider's limits), else picks uniformly.
        None if Pick::from_name(pick_name).is_some_and(Pick::weights_from_limits) => {
            if terms.iter().all(|t| t.rpm.is_finite()) {
                terms.iter().map(|t| t.rpm).collect()
            } else if terms.iter().all(|t| t.tpm.is_finite()) {
                terms.iter().map(|t| t.tpm).collect()
            } else {
                vec![1.0; providers.len()]
            }
        }
        None => vec![1.0; providers.len()],
        Some(w) => {
            per_provider("weights", w.len())?;
            for (i, x) in w.iter().enumerate() {
                crate::keys::weight(*x, &keys.at("weights").index(i))?;
            }
            w
        }
    };
    let order = match keys.ints("order")? {
        None => vec![1; providers.len()],
        Some(o) => {
            per_provider("order", o.len())?;
            o.iter()
                .enumerate()
                .map(|(i, &x)| {
                    positive_int(x, &keys.at("order").index(i), "an order (1 = tried first)")
                        .map(|x| x.min(u32::MAX as u64) as u32)
                })
                .collect::<R<Vec<_>>>()?
        }
    };
    let Some(pick) = Pick::from_name(pick_name) else {
        return keys.invalid(
            "pick",
            format!("unknown pick `{pick_name}`; expected {}", Pick::expected()),
        );
    };
    // Round-robin shares stay on the pick; the other strategies pick again for every
    // retry, as LiteLLM's router does.
    let sticky = keys.bool("sticky")?.unwrap_or(pick.sticky_by_default());
    let fallbacks = match keys.strings("fallbacks")? {
        None => Vec::new(),
        Some(f) if f.is_empty() => Vec::new(),
        Some(f) => provider_list(
            Some(&f),
            &keys.at("fallbacks"),
            cx.names,
            "providers to try after the picked one",
        )?,
    };
    check_steps(1 + fallbacks.len(), &keys.at("fallbacks"))?;
    Ok(RouteSpec::Weighted(Weighted {
        providers,
        weights,
        pick,
        fallbacks,
        sticky,
        terms,
        order,
    }))
}

impl Weighted {
    /// The pick for a request of `tokens` tokens at `now` among the candidates `ok`
    /// accepts, in the lowest tier that has one; `None` when it accepts none.
    pub(super) fn pick<R: Rng + ?Sized>(
        &self,
        router: &mut Router,
        now: SimTime,
        tokens: u64,
        ok: &dyn Fn(usize) -> bool,
        rng: &mut R,
    ) -> Option<usize> {
        let n = self.providers.len();
        // A group lists each provider once, so it fits (no allocation per pick).
        let mut allowed = [false; MAX_PROVIDERS];
        let allowed = &mut allowed[..n];
        for (a, &p) in allowed.iter_mut().zip(&self.providers) {
            *a = ok(p);
        }
        // Priority tiers: only the lowest tier with a candidate in rotation competes.
        let tier = (0..n)
            .filter(|&i| allowed[i])
            .map(|i| self.order[i])
            .min()?;
        for (a, &o) in allowed.iter_mut().zip(&self.order) {
            *a = *a && o == tier;
        }
        for c in &mut router.candidates {
            Router::roll_minute(c, now);
        }
        let first_allowed = allowed.iter().position(|&a| a).expect("one is allowed");
        let mut group = Group {
            allowed,
            first_allowed,
            weights: &self.weights,
            terms: &self.terms,
            candidates: &router.candidates,
            current: &mut router.current,
            tokens,
        };
        let chosen = self.pick.choose(&mut group, rng);
        Some(self.providers[chosen])
    }

    /// The steps of a new request: the pick among the candidates `ok` accepts (among
    /// all of them when it accepts none), then the fallbacks.
    pub(super) fn plan<R: Rng + ?Sized>(
        &self,
        router: &mut Router,
        now: SimTime,
        info: &RequestInfo,
        ok: &dyn Fn(usize) -> bool,
        rng: &mut R,
    ) -> Plan {
        let tokens = info.input.saturating_add(info.output);
        let first = match self.pick(router, now, tokens, ok, rng) {
            Some(p) => p,
            None => self
                .pick(router, now, tokens, &|_| true, rng)
                .expect("a group has a candidate"),
        };
        let mut plan = Plan::of(&[first]);
        for &f in &self.fallbacks {
            plan.push(f, 0);
        }
        plan
    }

    /// Whether a candidate other than `provider` is in rotation (`live`) in the lowest
    /// tier that has one in rotation: a retry that picks again can go there at once
    /// (LiteLLM's router does not wait then).
    pub fn other_in_rotation(&self, provider: usize, live: impl Fn(usize) -> bool) -> bool {
        let live = |i: &usize| live(self.providers[*i]);
        let n = self.providers.len();
        let tier = (0..n).filter(live).map(|i| self.order[i]).min();
        (0..n).any(|i| self.providers[i] != provider && Some(self.order[i]) == tier && live(&i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Source};

    const FREE: Terms = Terms {
        price_per_1k: 1.0,
        rpm: f64::INFINITY,
        tpm: f64::INFINITY,
    };

    fn group(pick: Pick, terms: Vec<Terms>) -> RouteSpec {
        let n = terms.len();
        RouteSpec::Weighted(Weighted {
            providers: (0..n).collect(),
            weights: vec![1.0; n],
            pick,
            fallbacks: vec![],
            sticky: false,
            terms,
            order: vec![1; n],
        })
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
    fn order_tiers_pick_the_lowest_tier_in_rotation() {
        let spec = RouteSpec::Weighted(Weighted {
            providers: vec![0, 1, 2],
            weights: vec![1.0; 3],
            pick: Pick::Random,
            fallbacks: vec![],
            sticky: false,
            terms: vec![FREE; 3],
            order: vec![2, 1, 1],
        });
        let mut r = Router::new(&spec);
        let mut rng = stream(0, 0, Source::Routing(0));
        for _ in 0..100 {
            let p = r
                .pick(&spec, SimTime::ZERO, 1, &|_| true, &mut rng)
                .unwrap();
            assert!(p == 1 || p == 2);
        }
        let p = r.pick(&spec, SimTime::ZERO, 1, &|p| p == 0, &mut rng);
        assert_eq!(p, Some(0));
        let RouteSpec::Weighted(w) = &spec else {
            unreachable!()
        };
        // Another provider of the tier in rotation; then only the lower tier's.
        assert!(w.other_in_rotation(1, |_| true));
        assert!(!w.other_in_rotation(1, |p| p != 2));
        assert!(w.other_in_rotation(1, |p| p == 0));
    }

    #[test]
    fn round_robin_gives_exact_shares() {
        let spec = RouteSpec::Weighted(Weighted {
            providers: vec![0, 1],
            weights: vec![2.0, 3.0],
            pick: Pick::RoundRobin,
            fallbacks: vec![],
            sticky: true,
            terms: vec![FREE; 2],
            order: vec![1; 2],
        });
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
        let spec = RouteSpec::Weighted(Weighted {
            providers: vec![0, 1],
            weights: vec![1.0, 3.0],
            pick: Pick::Random,
            fallbacks: vec![],
            sticky: true,
            terms: vec![FREE; 2],
            order: vec![1; 2],
        });
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
