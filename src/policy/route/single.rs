//! `single`: every request to one provider. As a whole route it is a chain of one; as a
//! target of a nested route, a leaf (`{ provider = NAME }`, the kind left out).

use super::{Node, ReadTarget, RouteContext, RouteSpec};
use crate::keys::{Keys, R};

pub(super) const NAME: &str = "single";
pub(super) const KEYS: &[&str] = &["provider"];
/// One provider leaves nowhere to fall back to.
pub(super) const FALLS_BACK: bool = false;
pub(super) const TARGET: Option<ReadTarget> = Some(target);

/// The index of the provider named by `provider`.
fn provider(keys: &Keys, cx: &RouteContext) -> R<usize> {
    keys.require(
        keys.provider("provider", cx.names)?,
        "provider",
        "the provider's name",
    )
}

/// A chain of the one provider.
pub(super) fn route(keys: &Keys, cx: &RouteContext) -> R<RouteSpec> {
    Ok(RouteSpec::Chain(vec![provider(keys, cx)?]))
}

fn target(keys: &Keys, cx: &RouteContext, _gates: &mut Vec<Vec<u16>>) -> R<Node> {
    Ok(Node::Provider(provider(keys, cx)?))
}
