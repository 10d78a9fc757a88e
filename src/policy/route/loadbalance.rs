//! `loadbalance`: Portkey's loadbalance. Each request goes to one target, drawn at random
//! by the targets' `weight` (default 1) among those with a provider in rotation, when the
//! request starts.

use rand::Rng;

use super::{targets, tree, Inner, Node, Plan, ReadTarget, RequestInfo, RouteContext, RouteSpec};
use crate::keys::{Keys, R};
use crate::policy::pick::draw;

pub(super) const NAME: &str = "loadbalance";
pub(super) const KEYS: &[&str] = &["targets"];
pub(super) const FALLS_BACK: bool = true;
pub(super) const TARGET: Option<ReadTarget> = Some(target);

/// A loadbalance node: targets and their weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Loadbalance {
    /// Targets.
    pub targets: Vec<Node>,
    /// Their weights.
    pub weights: Vec<f64>,
}

/// A tree whose root is a loadbalance.
pub(super) fn route(keys: &Keys, cx: &RouteContext) -> R<RouteSpec> {
    tree(keys, cx, target)
}

/// Reads the targets, each with its `weight`.
fn target(keys: &Keys, cx: &RouteContext, gates: &mut Vec<Vec<u16>>) -> R<Node> {
    let list = targets(keys, cx, gates, &["weight"])?;
    let weights = list
        .iter()
        .map(|(_, t)| match t.float("weight")? {
            None => Ok(1.0),
            Some(w) => crate::keys::weight(w, &t.at("weight")),
        })
        .collect::<R<Vec<_>>>()?;
    Ok(Node::Loadbalance(Loadbalance {
        targets: list.into_iter().map(|(node, _)| node).collect(),
        weights,
    }))
}

impl Inner for Loadbalance {
    fn targets(&self) -> &[Node] {
        &self.targets
    }

    /// The steps of one target drawn by weight. Portkey skips targets whose circuits
    /// are all open; with none left it draws among them all.
    fn resolve<R: Rng + ?Sized>(
        &self,
        exit: u8,
        info: &RequestInfo,
        ok: &dyn Fn(usize) -> bool,
        rng: &mut R,
        plan: &mut Plan,
    ) {
        let any = self.targets.iter().any(|t| t.any(ok));
        let chosen = draw(rng, self.targets.len(), |i| {
            if !any || self.targets[i].any(ok) {
                self.weights[i]
            } else {
                0.0
            }
        });
        self.targets[chosen].resolve(exit, info, ok, rng, plan);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::route::Router;
    use crate::rng::{stream, Source};
    use crate::time::SimTime;

    #[test]
    fn draws_by_weight_among_targets_in_rotation() {
        let spec = RouteSpec::Tree {
            root: Node::Loadbalance(Loadbalance {
                targets: vec![Node::Provider(0), Node::Provider(1)],
                weights: vec![1.0, 3.0],
            }),
            gates: vec![],
        };
        let mut r = Router::new(&spec);
        let mut rng = stream(0, 0, Source::Routing(0));
        let info = RequestInfo {
            input: 1,
            output: 1,
        };
        let mut first = |ok: &dyn Fn(usize) -> bool| {
            r.plan(&spec, SimTime::ZERO, &info, ok, &mut rng)
                .provider(0)
        };
        let n = 40_000;
        let zeros = (0..n).filter(|_| first(&|_| true) == 0).count();
        assert!((zeros as f64 / n as f64 - 0.25).abs() < 0.01);
        // Provider 1 out of rotation: always 0; both out: by weight again.
        assert!((0..100).all(|_| first(&|p| p == 0) == 0));
        assert!((0..100).any(|_| first(&|_| false) == 1));
    }
}
