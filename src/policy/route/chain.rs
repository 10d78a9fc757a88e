//! `chain`: try providers in order; when a provider's attempts are used up (or a
//! rejection is not retryable there), move on to the next at once; after the last, the
//! job fails.

use super::{check_steps, ReadTarget, RouteContext, RouteSpec};
use crate::keys::{Keys, R};

pub(super) const NAME: &str = "chain";
pub(super) const KEYS: &[&str] = &["providers"];
pub(super) const FALLS_BACK: bool = true;
/// A whole route only: inside a nested route, `fallback` is the chain.
pub(super) const TARGET: Option<ReadTarget> = None;

/// The providers in order, at most a plan's steps.
pub(super) fn route(keys: &Keys, cx: &RouteContext) -> R<RouteSpec> {
    let chain = keys.providers("providers", cx.names, "the providers to try, in order")?;
    check_steps(chain.len(), &keys.at("providers"))?;
    Ok(RouteSpec::Chain(chain))
}
