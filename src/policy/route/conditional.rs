//! `conditional`: Portkey's conditional routing. `conditions = [{ query = QUERY, then =
//! NAME }, ...]`: the first condition whose query holds for the request sends it to the
//! target named by its `then`, else to the one named by `default`. A query tests the
//! request's fields (`input_tokens`, `output_tokens` = `params.max_tokens`, `tokens`)
//! with Portkey's comparisons; several fields must all hold.

use rand::Rng;
use toml::Value;

use super::{targets, tree, Inner, Node, Plan, ReadTarget, RequestInfo, RouteContext, RouteSpec};
use crate::keys::{invalid, KeyPath, Keys, R};

pub(super) const NAME: &str = "conditional";
pub(super) const KEYS: &[&str] = &["targets", "conditions", "default"];
pub(super) const FALLS_BACK: bool = true;
pub(super) const TARGET: Option<ReadTarget> = Some(target);

/// A request's field a conditional route can test (Portkey's `query` fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// Prompt tokens.
    InputTokens,
    /// Completion tokens (`params.max_tokens`).
    OutputTokens,
    /// Both.
    Tokens,
}

impl Field {
    /// The field's value for the request `info`.
    fn of(self, info: &RequestInfo) -> f64 {
        match self {
            Field::InputTokens => info.input as f64,
            Field::OutputTokens => info.output as f64,
            Field::Tokens => (info.input + info.output) as f64,
        }
    }
}

/// A comparison in a condition (Portkey's `$eq`, `$ne`, `$gt`, `$gte`, `$lt`, `$lte`,
/// `$in`, `$nin`).
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// `$eq`.
    Eq(f64),
    /// `$ne`.
    Ne(f64),
    /// `$gt`.
    Gt(f64),
    /// `$gte`.
    Gte(f64),
    /// `$lt`.
    Lt(f64),
    /// `$lte`.
    Lte(f64),
    /// `$in`.
    In(Vec<f64>),
    /// `$nin`.
    Nin(Vec<f64>),
}

impl Op {
    fn holds(&self, x: f64) -> bool {
        match self {
            Op::Eq(v) => x == *v,
            Op::Ne(v) => x != *v,
            Op::Gt(v) => x > *v,
            Op::Gte(v) => x >= *v,
            Op::Lt(v) => x < *v,
            Op::Lte(v) => x <= *v,
            Op::In(vs) => vs.contains(&x),
            Op::Nin(vs) => !vs.contains(&x),
        }
    }
}

/// A condition: every comparison must hold (a Portkey `query` object).
pub type Query = Vec<(Field, Op)>;

/// A conditional node: named targets and the rules that choose one.
#[derive(Clone, Debug, PartialEq)]
pub struct Conditional {
    /// Targets.
    pub targets: Vec<Node>,
    /// (query, target index), in order.
    pub rules: Vec<(Query, usize)>,
    /// Target index when no rule holds.
    pub default: usize,
}

/// A tree whose root is a conditional.
pub(super) fn route(keys: &Keys, cx: &RouteContext) -> R<RouteSpec> {
    tree(keys, cx, target)
}

/// Reads the targets, each with its `name`, then the conditions and the default, which
/// refer to targets by name.
fn target(keys: &Keys, cx: &RouteContext, gates: &mut Vec<Vec<u16>>) -> R<Node> {
    let list = targets(keys, cx, gates, &["name"])?;
    let mut names: Vec<&str> = Vec::new();
    for (_, t) in &list {
        let name = t.require(
            t.str("name")?,
            "name",
            "a name, which conditions' `then` and `default` refer to",
        )?;
        if names.contains(&name) {
            return t.invalid("name", format!("two targets are named `{name}`"));
        }
        names.push(name);
    }
    let find = |name: &str, at: &KeyPath| -> R<usize> {
        names.iter().position(|n| *n == name).map_or_else(
            || {
                invalid(
                    at,
                    format!("no target named `{name}`; targets: {}", names.join(", ")),
                )
            },
            Ok,
        )
    };
    let conditions = keys.require(
        keys.tables("conditions")?,
        "conditions",
        "conditions = [{ query = { input_tokens = { \"$gt\" = 3000 } }, then = NAME }]",
    )?;
    let rules = conditions
        .iter()
        .map(|c| condition(c, &find))
        .collect::<R<Vec<_>>>()?;
    let default = keys.require(
        keys.str("default")?,
        "default",
        "the target for requests no condition matches",
    )?;
    let default = find(default, &keys.at("default"))?;
    Ok(Node::Conditional(Conditional {
        targets: list.into_iter().map(|(node, _)| node).collect(),
        rules,
        default,
    }))
}

impl Inner for Conditional {
    fn targets(&self) -> &[Node] {
        &self.targets
    }

    /// The steps of the target the first rule that holds names, else the default's.
    fn resolve<R: Rng + ?Sized>(
        &self,
        exit: u8,
        info: &RequestInfo,
        ok: &dyn Fn(usize) -> bool,
        rng: &mut R,
        plan: &mut Plan,
    ) {
        let chosen = self
            .rules
            .iter()
            .find(|(q, _)| q.iter().all(|(f, op)| op.holds(f.of(info))))
            .map_or(self.default, |(_, t)| *t);
        self.targets[chosen].resolve(exit, info, ok, rng, plan);
    }
}

const FIELDS: &str = "\"input_tokens\", \"output_tokens\" (= \"params.max_tokens\") or \"tokens\"";
const OPS: &str = "\"$eq\", \"$ne\", \"$gt\", \"$gte\", \"$lt\", \"$lte\", \"$in\" or \"$nin\"";

/// One condition, `{ query = QUERY, then = NAME }`; `find` gives a target's index by
/// name.
fn condition(c: &Keys, find: &dyn Fn(&str, &KeyPath) -> R<usize>) -> R<(Query, usize)> {
    c.known("a condition", &["query", "then"])?;
    let then = c.require(
        c.str("then")?,
        "then",
        "the name of the target the condition sends requests to",
    )?;
    let then = find(then, &c.at("then"))?;
    let q = c.require(
        c.table("query")?,
        "query",
        "the fields to test, e.g. query = { input_tokens = { \"$gt\" = 3000 } }",
    )?;
    if q.is_empty() {
        return invalid(
            q.path(),
            format!("an empty query; give a field ({FIELDS}) and a comparison"),
        );
    }
    let mut query = Vec::new();
    for (field, v) in q.entries() {
        let fp = q.at(field);
        let f = match field {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::route::Router;
    use crate::rng::{stream, Source};
    use crate::time::SimTime;

    #[test]
    fn the_first_rule_that_holds_names_the_target() {
        let cond = RouteSpec::Tree {
            root: Node::Conditional(Conditional {
                targets: vec![Node::Provider(0), Node::Provider(1)],
                rules: vec![(vec![(Field::InputTokens, Op::Gt(500.0))], 1)],
                default: 0,
            }),
            gates: vec![],
        };
        let mut r = Router::new(&cond);
        let mut rng = stream(0, 0, Source::Routing(0));
        let mut first = |input| {
            let info = RequestInfo { input, output: 0 };
            r.plan(&cond, SimTime::ZERO, &info, &|_| true, &mut rng)
                .provider(0)
        };
        assert_eq!(first(501), 1);
        assert_eq!(first(500), 0);
    }

    #[test]
    fn comparisons_follow_portkeys_operators() {
        let cases = [
            (Op::Eq(3.0), [false, true, false]),
            (Op::Ne(3.0), [true, false, true]),
            (Op::Gt(3.0), [false, false, true]),
            (Op::Gte(3.0), [false, true, true]),
            (Op::Lt(3.0), [true, false, false]),
            (Op::Lte(3.0), [true, true, false]),
            (Op::In(vec![2.0, 4.0]), [true, false, true]),
            (Op::Nin(vec![2.0, 4.0]), [false, true, false]),
        ];
        for (op, want) in cases {
            let got = [2.0, 3.0, 4.0].map(|x| op.holds(x));
            assert_eq!(got, want, "{op:?}");
        }
    }
}
