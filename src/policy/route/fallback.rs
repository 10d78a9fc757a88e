//! `fallback`: Portkey's fallback. Try the targets in order; move on after a rejection
//! with one of `on_status_codes` (default: any failure, local refusals included); other
//! rejections fail the job.

use rand::Rng;

use super::{targets, tree, Inner, Node, Plan, ReadTarget, RequestInfo, RouteContext, RouteSpec};
use crate::keys::{invalid, Keys, R};

pub(super) const NAME: &str = "fallback";
pub(super) const KEYS: &[&str] = &["targets", "on_status_codes"];
pub(super) const FALLS_BACK: bool = true;
pub(super) const TARGET: Option<ReadTarget> = Some(target);

/// A fallback node: targets in order, and which rejections move a request on.
#[derive(Clone, Debug, PartialEq)]
pub struct Fallback {
    /// Targets in order.
    pub targets: Vec<Node>,
    /// Which statuses move the request on: 0 for any failure, else n for the route's
    /// n-th list of statuses.
    pub gate: u8,
}

/// A tree whose root is a fallback.
pub(super) fn route(keys: &Keys, cx: &RouteContext) -> R<RouteSpec> {
    tree(keys, cx, target)
}

/// Reads the statuses (a new gate in `gates`), then the targets.
fn target(keys: &Keys, cx: &RouteContext, gates: &mut Vec<Vec<u16>>) -> R<Node> {
    let gate = match keys.statuses("on_status_codes")? {
        None => 0,
        Some(codes) if codes.is_empty() => return keys.invalid(
            "on_status_codes",
            "an empty list would never fall back; leave the key out to fall back on any failure",
        ),
        Some(codes) => {
            gates.push(codes);
            if gates.len() > u8::MAX as usize {
                return invalid(
                    keys.path(),
                    "too many fallback gates in one route (255 at most)",
                );
            }
            gates.len() as u8
        }
    };
    let targets = targets(keys, cx, gates, &[])?
        .into_iter()
        .map(|(node, _)| node)
        .collect();
    Ok(Node::Fallback(Fallback { targets, gate }))
}

impl Inner for Fallback {
    fn targets(&self) -> &[Node] {
        &self.targets
    }

    /// Every target may be tried.
    fn depth(&self) -> usize {
        self.targets.iter().map(Node::depth).sum()
    }

    /// Every target's steps in order; leaving one for the next passes this node's gate,
    /// leaving the last passes the parent's.
    fn resolve<R: Rng + ?Sized>(
        &self,
        exit: u8,
        info: &RequestInfo,
        ok: &dyn Fn(usize) -> bool,
        rng: &mut R,
        plan: &mut Plan,
    ) {
        let last = self.targets.len().saturating_sub(1);
        for (i, t) in self.targets.iter().enumerate() {
            let gate = if i == last { exit } else { self.gate };
            t.resolve(gate, info, ok, rng, plan);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::route::Router;
    use crate::rng::{stream, Source};
    use crate::time::SimTime;

    #[test]
    fn nested_plans_carry_each_fallbacks_status_gate() {
        // fallback(on 429) [0, fallback(any) [1, 2]].
        let spec = RouteSpec::Tree {
            root: Node::Fallback(Fallback {
                targets: vec![
                    Node::Provider(0),
                    Node::Fallback(Fallback {
                        targets: vec![Node::Provider(1), Node::Provider(2)],
                        gate: 0,
                    }),
                ],
                gate: 1,
            }),
            gates: vec![vec![429]],
        };
        assert_eq!(spec.providers(), [0, 1, 2]);
        let RouteSpec::Tree { root, .. } = &spec else {
            unreachable!()
        };
        assert_eq!(root.depth(), 3);
        let mut r = Router::new(&spec);
        let mut rng = stream(0, 0, Source::Routing(0));
        let info = RequestInfo {
            input: 10,
            output: 10,
        };
        let plan = r.plan(&spec, SimTime::ZERO, &info, &|_| true, &mut rng);
        assert_eq!(
            (0..plan.len())
                .map(|i| plan.provider(i))
                .collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert!(spec.gate_allows(plan.gate(0), Some(429)));
        assert!(!spec.gate_allows(plan.gate(0), Some(503)));
        // A local refusal is not a status: it always moves on.
        assert!(spec.gate_allows(plan.gate(0), None));
        assert!(spec.gate_allows(plan.gate(1), Some(503)));
    }
}
