//! `route = { ... }`: single providers, chains, weighted groups (LiteLLM model groups
//! with a pick strategy and priority tiers) and nested Portkey-style targets
//! (`fallback`, `loadbalance`, `conditional`).

use toml::Value;

use super::build::{
    invalid, only, positive, positive_int, provider_list, provider_ref, require, status, R,
};
use super::raw::{RawCondition, RawRoute};
use super::KeyPath;
use crate::policy::route::{Field, Node, Op, Query, Terms, MAX_STEPS};
use crate::policy::{Pick, RouteSpec};
use crate::provider::ProviderSpec;

const KINDS: &str =
    "\"single\", \"chain\", \"weighted\", \"fallback\", \"loadbalance\" or \"conditional\"";

fn present(r: &RawRoute) -> [(&'static str, bool); 14] {
    [
        ("provider", r.provider.is_some()),
        ("providers", r.providers.is_some()),
        ("weights", r.weights.is_some()),
        ("pick", r.pick.is_some()),
        ("fallbacks", r.fallbacks.is_some()),
        ("sticky", r.sticky.is_some()),
        ("order", r.order.is_some()),
        ("max_fallbacks", r.max_fallbacks.is_some()),
        ("targets", r.targets.is_some()),
        ("on_status_codes", r.on_status_codes.is_some()),
        ("weight", r.weight.is_some()),
        ("name", r.name.is_some()),
        ("conditions", r.conditions.is_some()),
        ("default", r.default.is_some()),
    ]
}

/// The policy's route and its cap on fallbacks. `preset_pick` and `preset_max_fallbacks`
/// come from a gateway preset and yield to the route's own keys.
pub(super) fn route(
    r: Option<&RawRoute>,
    rp: &KeyPath,
    names: &[&str],
    providers: &[ProviderSpec],
    preset_pick: Option<&str>,
    preset_max_fallbacks: Option<u32>,
) -> R<(RouteSpec, Option<u32>)> {
    let r = require(
        r,
        rp,
        "route = { kind = \"single\", provider = NAME }, { kind = \"chain\", providers = [...] }, { kind = \"weighted\", providers = [...], weights = [...] } or { kind = \"fallback\", targets = [...] }",
    )?;
    let kind = require(r.kind.as_deref(), &rp.key("kind"), KINDS)?;
    let present = present(r);
    let max_fallbacks = match r.max_fallbacks {
        Some(m) if (0..MAX_STEPS as i64).contains(&m) => Some(m as u32),
        Some(m) => {
            return invalid(
                &rp.key("max_fallbacks"),
                format!(
                    "must be a whole number from 0 (never fall back) to {} (got {m})",
                    MAX_STEPS - 1
                ),
            )
        }
        None => preset_max_fallbacks,
    };
    let spec = match kind {
        "single" => {
            only(rp, "single", &present, &["provider"])?;
            let name = require(
                r.provider.as_ref(),
                &rp.key("provider"),
                "the provider's name",
            )?;
            RouteSpec::Chain(vec![provider_ref(name, &rp.key("provider"), names)?])
        }
        "chain" => {
            only(rp, "chain", &present, &["providers", "max_fallbacks"])?;
            let chain = provider_list(
                r.providers.as_ref(),
                &rp.key("providers"),
                names,
                "the providers to try, in order",
            )?;
            steps(chain.len(), &rp.key("providers"))?;
            RouteSpec::Chain(chain)
        }
        "weighted" => weighted(r, rp, names, providers, preset_pick, &present)?,
        "fallback" | "loadbalance" | "conditional" => {
            let mut gates = Vec::new();
            let root = node(r, rp, names, &mut gates, &["max_fallbacks"])?;
            steps(root.depth(), rp)?;
            RouteSpec::Tree { root, gates }
        }
        other => {
            return invalid(
                &rp.key("kind"),
                format!("unknown route kind `{other}`; expected {KINDS}"),
            )
        }
    };
    Ok((spec, max_fallbacks))
}

/// A request can take at most [`MAX_STEPS`] provider steps.
pub(super) fn steps(n: usize, path: &KeyPath) -> R<()> {
    if n > MAX_STEPS {
        return invalid(
            path,
            format!("a request could take {n} provider steps; at most {MAX_STEPS} are supported"),
        );
    }
    Ok(())
}

fn weighted(
    r: &RawRoute,
    rp: &KeyPath,
    names: &[&str],
    all_providers: &[ProviderSpec],
    preset_pick: Option<&str>,
    present: &[(&str, bool)],
) -> R<RouteSpec> {
    only(
        rp,
        "weighted",
        present,
        &[
            "providers",
            "weights",
            "pick",
            "fallbacks",
            "sticky",
            "order",
            "max_fallbacks",
        ],
    )?;
    let providers = provider_list(
        r.providers.as_ref(),
        &rp.key("providers"),
        names,
        "the providers to split between",
    )?;
    for (i, p) in providers.iter().enumerate() {
        if providers[..i].contains(p) {
            return invalid(
                &rp.key("providers").index(i),
                format!("`{}` is listed twice in the group; list each provider once and use `weights` for shares", names[*p]),
            );
        }
    }
    let per_provider = |key: &str, len: usize| -> R<()> {
        if len != providers.len() {
            return invalid(
                &rp.key(key),
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
        .map(|&p| Terms::of(&all_providers[p]))
        .collect();
    let pick_name = r.pick.as_deref().or(preset_pick).unwrap_or("random");
    let weights = match &r.weights {
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
                positive(*x, &rp.key("weights").index(i), "a weight")?;
            }
            w.clone()
        }
    };
    let order = match &r.order {
        None => vec![1; providers.len()],
        Some(o) => {
            per_provider("order", o.len())?;
            o.iter()
                .enumerate()
                .map(|(i, &x)| {
                    positive_int(x, &rp.key("order").index(i), "an order (1 = tried first)")
                        .map(|x| x.min(u32::MAX as u64) as u32)
                })
                .collect::<R<Vec<_>>>()?
        }
    };
    let Some(pick) = Pick::from_name(pick_name) else {
        return invalid(
            &rp.key("pick"),
            format!("unknown pick `{pick_name}`; expected {}", Pick::expected()),
        );
    };
    // Round-robin shares stay on the pick; the other strategies pick again for every
    // retry, as LiteLLM's router does.
    let sticky = r.sticky.unwrap_or(pick.sticky_by_default());
    let fallbacks = match &r.fallbacks {
        None => Vec::new(),
        Some(f) if f.is_empty() => Vec::new(),
        Some(_) => provider_list(
            r.fallbacks.as_ref(),
            &rp.key("fallbacks"),
            names,
            "providers to try after the picked one",
        )?,
    };
    steps(1 + fallbacks.len(), &rp.key("fallbacks"))?;
    Ok(RouteSpec::Weighted {
        providers,
        weights,
        pick,
        fallbacks,
        sticky,
        terms,
        order,
    })
}

/// One target of a nested route; `outer` are the keys its parent reads from it (a
/// loadbalance's `weight`, a conditional's `name`, the route's `max_fallbacks`).
fn node(
    r: &RawRoute,
    path: &KeyPath,
    names: &[&str],
    gates: &mut Vec<Vec<u16>>,
    outer: &[&'static str],
) -> R<Node> {
    let present = present(r);
    let kind = match r.kind.as_deref() {
        Some(k) => k,
        None if r.provider.is_some() => "single",
        None => {
            return invalid(
                &path.key("kind"),
                "a target is { provider = NAME } or { kind = \"fallback\" | \"loadbalance\" | \"conditional\", targets = [...] }",
            )
        }
    };
    let allowed =
        |own: &[&'static str]| -> Vec<&'static str> { own.iter().chain(outer).copied().collect() };
    let targets = |gates: &mut Vec<Vec<u16>>, inner: &[&'static str]| -> R<Vec<Node>> {
        let list = require(
            r.targets.as_ref(),
            &path.key("targets"),
            "the targets, e.g. [{ provider = \"claude\" }, { provider = \"local\" }]",
        )?;
        if list.is_empty() {
            return invalid(&path.key("targets"), "needs at least one target");
        }
        list.iter()
            .enumerate()
            .map(|(i, t)| node(t, &path.key("targets").index(i), names, gates, inner))
            .collect()
    };
    match kind {
        "single" => {
            only(path, "single", &present, &allowed(&["provider"]))?;
            let name = require(
                r.provider.as_ref(),
                &path.key("provider"),
                "the provider's name",
            )?;
            Ok(Node::Provider(provider_ref(
                name,
                &path.key("provider"),
                names,
            )?))
        }
        "fallback" => {
            only(
                path,
                "fallback",
                &present,
                &allowed(&["targets", "on_status_codes"]),
            )?;
            let gate = match &r.on_status_codes {
                None => 0,
                Some(list) => {
                    let codes = list
                        .iter()
                        .enumerate()
                        .map(|(i, c)| status(*c, &path.key("on_status_codes").index(i)))
                        .collect::<R<Vec<_>>>()?;
                    if codes.is_empty() {
                        return invalid(
                            &path.key("on_status_codes"),
                            "an empty list would never fall back; leave the key out to fall back on any failure",
                        );
                    }
                    gates.push(codes);
                    if gates.len() > u8::MAX as usize {
                        return invalid(path, "too many fallback gates in one route (255 at most)");
                    }
                    gates.len() as u8
                }
            };
            Ok(Node::Fallback {
                targets: targets(gates, &[])?,
                gate,
            })
        }
        "loadbalance" => {
            only(path, "loadbalance", &present, &allowed(&["targets"]))?;
            let list = targets(gates, &["weight"])?;
            let raw = r.targets.as_ref().expect("checked above");
            let weights = raw
                .iter()
                .enumerate()
                .map(|(i, t)| match t.weight {
                    None => Ok(1.0),
                    Some(w) => positive(
                        w,
                        &path.key("targets").index(i).key("weight"),
                        "a weight",
                    ),
                })
                .collect::<R<Vec<_>>>()?;
            Ok(Node::Loadbalance {
                targets: list,
                weights,
            })
        }
        "conditional" => {
            only(
                path,
                "conditional",
                &present,
                &allowed(&["targets", "conditions", "default"]),
            )?;
            let list = targets(gates, &["name"])?;
            let raw = r.targets.as_ref().expect("checked above");
            let mut target_names: Vec<&str> = Vec::new();
            for (i, t) in raw.iter().enumerate() {
                let tp = path.key("targets").index(i).key("name");
                let name = require(
                    t.name.as_deref(),
                    &tp,
                    "a name, which conditions' `then` and `default` refer to",
                )?;
                if target_names.contains(&name) {
                    return invalid(&tp, format!("two targets are named `{name}`"));
                }
                target_names.push(name);
            }
            let find = |name: &str, at: &KeyPath| -> R<usize> {
                target_names.iter().position(|n| *n == name).map_or_else(
                    || {
                        invalid(
                            at,
                            format!(
                                "no target named `{name}`; targets: {}",
                                target_names.join(", ")
                            ),
                        )
                    },
                    Ok,
                )
            };
            let conditions = require(
                r.conditions.as_ref(),
                &path.key("conditions"),
                "conditions = [{ query = { input_tokens = { \"$gt\" = 3000 } }, then = NAME }]",
            )?;
            let rules = conditions
                .iter()
                .enumerate()
                .map(|(i, c)| condition(c, &path.key("conditions").index(i), &find))
                .collect::<R<Vec<_>>>()?;
            let default = find(
                require(
                    r.default.as_deref(),
                    &path.key("default"),
                    "the target for requests no condition matches",
                )?,
                &path.key("default"),
            )?;
            Ok(Node::Conditional {
                targets: list,
                rules,
                default,
            })
        }
        other => invalid(
            &path.key("kind"),
            format!("unknown target kind `{other}`; expected \"single\", \"fallback\", \"loadbalance\" or \"conditional\""),
        ),
    }
}

const FIELDS: &str = "\"input_tokens\", \"output_tokens\" (= \"params.max_tokens\") or \"tokens\"";
const OPS: &str = "\"$eq\", \"$ne\", \"$gt\", \"$gte\", \"$lt\", \"$lte\", \"$in\" or \"$nin\"";

fn condition(
    c: &RawCondition,
    path: &KeyPath,
    find: &dyn Fn(&str, &KeyPath) -> R<usize>,
) -> R<(Query, usize)> {
    let then = find(&c.then, &path.key("then"))?;
    let qp = path.key("query");
    if c.query.is_empty() {
        return invalid(
            &qp,
            format!("an empty query; give a field ({FIELDS}) and a comparison"),
        );
    }
    let mut query = Vec::new();
    for (field, v) in &c.query {
        let fp = qp.key(field);
        let f = match field.as_str() {
            "input_tokens" => Field::InputTokens,
            "output_tokens" | "params.max_tokens" => Field::OutputTokens,
            "tokens" => Field::Tokens,
            other => {
                return invalid(&fp, format!("unknown field `{other}`; expected {FIELDS}"));
            }
        };
        match v {
            // A bare number means equality, as in Portkey's queries.
            Value::Integer(_) | Value::Float(_) => query.push((f, Op::Eq(number(v, &fp)?))),
            Value::Table(t) => {
                if t.is_empty() {
                    return invalid(&fp, format!("no comparison; expected one of {OPS}"));
                }
                for (op, x) in t {
                    query.push((f, op_of(op, x, &fp.key(op))?));
                }
            }
            _ => {
                return invalid(
                    &fp,
                    format!("expected a number or a table of comparisons ({OPS})"),
                )
            }
        }
    }
    Ok((query, then))
}

fn number(v: &Value, path: &KeyPath) -> R<f64> {
    match v {
        Value::Integer(i) => Ok(*i as f64),
        Value::Float(f) if f.is_finite() => Ok(*f),
        _ => invalid(path, "expected a number"),
    }
}

fn op_of(op: &str, v: &Value, path: &KeyPath) -> R<Op> {
    let list = |v: &Value| -> R<Vec<f64>> {
        match v {
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, x)| number(x, &path.index(i)))
                .collect(),
            _ => invalid(path, "expected a list of numbers"),
        }
    };
    Ok(match op {
        "$eq" => Op::Eq(number(v, path)?),
        "$ne" => Op::Ne(number(v, path)?),
        "$gt" => Op::Gt(number(v, path)?),
        "$gte" => Op::Gte(number(v, path)?),
        "$lt" => Op::Lt(number(v, path)?),
        "$lte" => Op::Lte(number(v, path)?),
        "$in" => Op::In(list(v)?),
        "$nin" => Op::Nin(list(v)?),
        other => {
            return invalid(
                path,
                format!("unknown comparison `{other}`; expected {OPS}"),
            )
        }
    })
}
