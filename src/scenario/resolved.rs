//! Prints a checked [`Scenario`] back as TOML with every default, preset and shorthand
//! filled in (`ratesim validate --resolved`): each setting the engine uses, written out.
//! The text reads back to an equal `Scenario` (the caller checks that before printing),
//! so it runs to byte-identical results. A part that cannot be printed exactly (a
//! duration no string holds exactly) is listed in the error instead of being left out.

use std::fmt::Write as _;

use toml::Value;

use super::{Direction, Scenario};
use crate::dist::Random;
use crate::policy::guard::{GuardSpec, Setting};
use crate::policy::route::{Field, Node, Op, Query};
use crate::policy::{Backoff, HedgeDelay, Jitter, PolicySpec, RetrySpec, RouteSpec};
use crate::provider::limiter::LimitKind;
use crate::provider::{LatencySpec, LimitSpec, OnFull, ProviderSpec};
use crate::time::SimDuration;
use crate::workload::{Arrivals, TRACE_FIELDS};

/// What could not be printed: each part's key path and why.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("cannot print the resolved scenario yet: {}", .0.join("; "))]
pub struct Unprintable(pub Vec<String>);

/// The scenario as TOML, every setting explicit; or the parts that cannot be printed.
pub fn to_toml(s: &Scenario) -> Result<String, Unprintable> {
    let mut w = Writer::default();
    w.top(s);
    w.decision(s);
    w.diff(s);
    w.workload(s);
    for p in &s.providers {
        w.provider(p);
    }
    for (i, p) in s.policies.iter().enumerate() {
        w.policy(s, i, p);
    }
    if w.missing.is_empty() {
        Ok(w.out)
    } else {
        Err(Unprintable(w.missing))
    }
}

#[derive(Default)]
struct Writer {
    out: String,
    missing: Vec<String>,
}

/// A TOML string.
fn string(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// A float, in the shortest form that reads back to the same value.
fn float(x: f64) -> String {
    Value::Float(x).to_string()
}

/// A list of strings.
fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.into_iter().map(string).collect();
    format!("[{}]", items.join(", "))
}

/// An inline table of `key = value` pairs (values already TOML text).
fn inline(pairs: &[(&str, String)]) -> String {
    let items: Vec<String> = pairs.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    format!("{{ {} }}", items.join(", "))
}

/// A duration string that reads back to exactly `d`.
fn duration(d: SimDuration) -> Option<String> {
    let ns = d.as_nanos();
    // Whole seconds and the nanoseconds left add up exactly: the last form always fits.
    let (whole, rest) = (ns / 1_000_000_000, ns % 1_000_000_000);
    let candidates = [
        format!("{}s", d.as_secs_f64()),
        format!("{ns}ns"),
        format!("{whole}s {rest}ns"),
    ];
    candidates
        .into_iter()
        .find(|c| SimDuration::parse(c) == Some(d))
}

/// A duration string for `secs` seconds (a duration-valued random quantity) that reads
/// back to the same number of seconds.
fn duration_secs(secs: f64) -> Option<String> {
    let d = SimDuration::from_secs_f64(secs);
    let c = duration(d)?;
    (SimDuration::parse(&c)?.as_secs_f64() == secs).then_some(c)
}

impl Writer {
    fn line(&mut self, key: &str, value: impl AsRef<str>) {
        let _ = writeln!(self.out, "{key} = {}", value.as_ref());
    }

    fn missing(&mut self, at: String, what: &str) {
        self.missing.push(format!("`{at}` ({what})"));
    }

    fn dur(&mut self, d: SimDuration, at: &str) -> String {
        duration(d).unwrap_or_else(|| {
            self.missing(at.to_string(), "a duration with no exact string form");
            String::new()
        })
    }

    /// A random quantity; `is_duration` writes its values as duration strings.
    fn random(&mut self, r: &Random, is_duration: bool, at: &str) -> String {
        let mut scalar = |x: f64| -> String {
            if is_duration {
                string(&duration_secs(x).unwrap_or_else(|| {
                    self.missing(at.to_string(), "a duration with no exact string form");
                    String::new()
                }))
            } else {
                float(x)
            }
        };
        match r {
            Random::Constant(v) => scalar(*v),
            Random::Uniform { min, max } => inline(&[
                ("dist", string("uniform")),
                ("min", scalar(*min)),
                ("max", scalar(*max)),
            ]),
            Random::Exponential { mean } => {
                inline(&[("dist", string("exponential")), ("mean", scalar(*mean))])
            }
            Random::LogNormal { median, p95 } => inline(&[
                ("dist", string("lognormal")),
                ("median", scalar(*median)),
                ("p95", scalar(*p95)),
            ]),
            Random::Normal { mean, sd } => inline(&[
                ("dist", string("normal")),
                ("mean", scalar(*mean)),
                ("sd", scalar(*sd)),
            ]),
            Random::Empirical(values) => {
                let v: Vec<String> = values.iter().map(|x| scalar(*x)).collect();
                inline(&[
                    ("dist", string("empirical")),
                    ("values", format!("[{}]", v.join(", "))),
                ])
            }
        }
    }

    fn top(&mut self, s: &Scenario) {
        self.out.push_str(
            "# Resolved by `ratesim validate --resolved`: every default, preset and shorthand\n\
             # written out.\n",
        );
        self.line("name", string(&s.name));
        self.line("description", string(&s.description));
        self.line("seed", s.seed.to_string());
        self.line("replications", s.replications.to_string());
        if let Some(m) = s.monthly_tokens {
            self.line("monthly_tokens", float(m));
        }
    }

    /// `[decision]`: the objective and every requirement (the defaults written out).
    fn decision(&mut self, s: &Scenario) {
        let d = &s.decision;
        self.out.push_str("\n[decision]\n");
        let key = match d.direction {
            Direction::Minimize => "minimize",
            Direction::Maximize => "maximize",
        };
        self.line(key, string(&d.objective));
        let require: Vec<String> = d.require.iter().map(|r| r.to_string()).collect();
        self.line("require", strings(require.iter().map(String::as_str)));
    }

    /// `[diff]`: the default threshold and each metric's.
    fn diff(&mut self, s: &Scenario) {
        self.out.push_str("\n[diff]\n");
        self.line("threshold", string(&s.diff.threshold.to_string()));
        if !s.diff.fail_on.is_empty() {
            let cells: Vec<String> = s
                .diff
                .fail_on
                .iter()
                .map(|(m, t)| format!("{} = {}", string(m), string(&t.to_string())))
                .collect();
            self.line("fail_on", format!("{{ {} }}", cells.join(", ")));
        }
    }

    fn workload(&mut self, s: &Scenario) {
        let w = &s.workload;
        self.out.push_str("\n[workload]\n");
        let synthetic = match &w.arrivals {
            Arrivals::Batch { jobs } => {
                self.line("kind", string("batch"));
                self.line("jobs", jobs.to_string());
                true
            }
            Arrivals::Poisson {
                rate_per_s,
                jobs,
                duration,
            } => {
                self.line("kind", string("poisson"));
                self.line("rate_per_s", float(*rate_per_s));
                if let Some(j) = jobs {
                    self.line("jobs", j.to_string());
                }
                if let Some(d) = duration {
                    let d = self.dur(*d, "workload.duration");
                    self.line("duration", string(&d));
                }
                true
            }
            Arrivals::Trace {
                time_scale,
                path,
                columns,
                ..
            } => {
                self.line("kind", string("trace"));
                match path.to_str() {
                    Some(p) => self.line("path", string(p)),
                    None => self.missing("workload.path".into(), "a path that is not UTF-8"),
                }
                self.line("time_scale", float(*time_scale));
                if !columns.is_default() {
                    let pairs: Vec<(&str, String)> = TRACE_FIELDS
                        .iter()
                        .zip(&columns.names)
                        .map(|(f, c)| (*f, string(c)))
                        .collect();
                    self.line("columns", inline(&pairs));
                }
                false
            }
        };
        if let Some(c) = w.concurrency {
            self.line("concurrency", c.to_string());
        }
        if synthetic {
            self.line("requests_per_job", w.requests_per_job.to_string());
            let i = self.random(&w.input_tokens, false, "workload.input_tokens");
            self.line("input_tokens", i);
            let o = self.random(&w.output_tokens, false, "workload.output_tokens");
            self.line("output_tokens", o);
        }
    }

    fn limit(&mut self, l: &LimitSpec, at: &str) -> String {
        let mut pairs = vec![("kind", string(l.kind.name()))];
        match &l.kind {
            LimitKind::SlidingWindow(p) => {
                pairs.push(("window", string(&self.dur(p.window(), at))));
                pairs.push(("limit", p.limit().to_string()));
            }
            LimitKind::FixedWindow(p) => {
                pairs.push(("window", string(&self.dur(p.window(), at))));
                pairs.push(("limit", p.limit().to_string()));
            }
            LimitKind::TokenBucket(p) => {
                pairs.push(("capacity", float(p.capacity())));
                pairs.push(("refill_per_s", float(p.refill_per_s())));
                if let Some(i) = p.fill_interval() {
                    pairs.push(("fill_interval", string(&self.dur(i, at))));
                }
            }
            LimitKind::Gcra(p) => {
                pairs.push(("limit", p.limit().to_string()));
                pairs.push(("period", string(&self.dur(p.period(), at))));
                pairs.push(("burst", p.burst().to_string()));
            }
        }
        pairs.push(("unit", string(l.unit.name())));
        pairs.push(("count_rejected", l.count_rejected.to_string()));
        inline(&pairs)
    }

    fn provider(&mut self, p: &ProviderSpec) {
        let at = format!("providers.{}", p.name);
        let _ = writeln!(self.out, "\n[providers.{}]", p.name);
        let mut limits: Vec<String> = p
            .limits
            .iter()
            .enumerate()
            .map(|(i, l)| self.limit(l, &format!("{at}.limits[{i}]")))
            .collect();
        if let Some(c) = &p.concurrency {
            let on_full = match c.on_full {
                OnFull::Reject => "reject",
                OnFull::Queue => "queue",
            };
            limits.push(inline(&[
                ("kind", string("concurrency")),
                ("limit", c.limit.to_string()),
                ("on_full", string(on_full)),
            ]));
        }
        if limits.is_empty() {
            self.line("limits", "[]");
        } else {
            let _ = writeln!(self.out, "limits = [\n  {},\n]", limits.join(",\n  "));
        }
        self.line("reject_status", p.reject_status.to_string());
        let rl = self.random(&p.reject_latency, true, &format!("{at}.reject_latency"));
        self.line("reject_latency", rl);
        let latency = match &p.latency {
            LatencySpec::Streaming { ttft, tokens_per_s } => inline(&[
                (
                    "ttft",
                    self.random(ttft, true, &format!("{at}.latency.ttft")),
                ),
                (
                    "tokens_per_s",
                    self.random(tokens_per_s, false, &format!("{at}.latency.tokens_per_s")),
                ),
            ]),
            LatencySpec::Total(t) => inline(&[(
                "total",
                self.random(t, true, &format!("{at}.latency.total")),
            )]),
        };
        self.line("latency", latency);
        self.line("price_per_1k_input", float(p.price_per_1k_input));
        self.line("price_per_1k_output", float(p.price_per_1k_output));
        self.line("flat_monthly", float(p.flat_monthly));
        if let Some(o) = &p.outages {
            let v = inline(&[
                ("up", self.random(&o.up, true, &format!("{at}.outages.up"))),
                (
                    "down",
                    self.random(&o.down, true, &format!("{at}.outages.down")),
                ),
                ("status", o.status.to_string()),
            ]);
            self.line("outages", v);
        }
        if let Some(o) = &p.online {
            let v = inline(&[
                (
                    "offline_every",
                    self.random(
                        &o.offline_every,
                        true,
                        &format!("{at}.online.offline_every"),
                    ),
                ),
                (
                    "offline_for",
                    self.random(&o.offline_for, true, &format!("{at}.online.offline_for")),
                ),
                (
                    "reset_after",
                    string(&self.dur(o.reset_after, &format!("{at}.online.reset_after"))),
                ),
                ("status", o.status.to_string()),
            ]);
            self.line("online", v);
        }
        self.line("pass_rate", float(p.pass_rate));
        self.line("local", p.local.to_string());
        let r = self.dur(
            p.retry_after_resolution,
            &format!("{at}.retry_after_resolution"),
        );
        self.line("retry_after_resolution", string(&r));
    }

    fn retry(&mut self, r: &RetrySpec, at: &str) -> String {
        let backoff = match r.backoff {
            Backoff::None => "none",
            Backoff::Constant => "constant",
            Backoff::Exponential => "exponential",
        };
        let jitter = match r.jitter {
            Jitter::None => "none",
            Jitter::Full => "full",
            Jitter::Equal => "equal",
            Jitter::Decorrelated => "decorrelated",
            Jitter::Sdk => "sdk",
        };
        let mut pairs = vec![
            ("max_attempts", r.max_attempts.to_string()),
            ("backoff", string(backoff)),
            ("base", string(&self.dur(r.base, at))),
            ("cap", string(&self.dur(r.cap, at))),
            ("jitter", string(jitter)),
            ("honor_retry_after", r.honor_retry_after.to_string()),
            ("retry_after_max", string(&self.dur(r.retry_after_max, at))),
        ];
        if let Some(b) = r.retry_after_budget {
            pairs.push(("retry_after_budget", string(&self.dur(b, at))));
        }
        let on: Vec<String> = r.retry_on.iter().map(|s| s.to_string()).collect();
        pairs.push(("retry_on", format!("[{}]", on.join(", "))));
        inline(&pairs)
    }

    fn policy(&mut self, s: &Scenario, i: usize, p: &PolicySpec) {
        let at = format!("policies[{i}]");
        let names = |ps: &[usize]| strings(ps.iter().map(|&p| s.providers[p].name.as_str()));
        self.out.push_str("\n[[policies]]\n");
        self.line("name", string(&p.name));
        let fallbacks = p.max_fallbacks.map(|m| ("max_fallbacks", m.to_string()));
        let route = match &p.route {
            RouteSpec::Chain(c) if c.len() == 1 && fallbacks.is_none() => inline(&[
                ("kind", string("single")),
                ("provider", string(&s.providers[c[0]].name)),
            ]),
            RouteSpec::Chain(c) => {
                let mut pairs = vec![("kind", string("chain")), ("providers", names(c))];
                pairs.extend(fallbacks);
                inline(&pairs)
            }
            RouteSpec::Weighted(w) => {
                let pick = crate::policy::Pick::ALL
                    .iter()
                    .find(|(k, _, _)| *k == w.pick)
                    .map_or("random", |(_, name, _)| name);
                let weights: Vec<String> = w.weights.iter().map(|x| float(*x)).collect();
                let order: Vec<String> = w.order.iter().map(|x| x.to_string()).collect();
                let mut pairs = vec![
                    ("kind", string("weighted")),
                    ("providers", names(&w.providers)),
                    ("weights", format!("[{}]", weights.join(", "))),
                    ("pick", string(pick)),
                    ("order", format!("[{}]", order.join(", "))),
                    ("fallbacks", names(&w.fallbacks)),
                    ("sticky", w.sticky.to_string()),
                ];
                pairs.extend(fallbacks);
                inline(&pairs)
            }
            RouteSpec::Tree { root, gates } => {
                let mut pairs = node(s, root, gates);
                if matches!(root, Node::Provider(_)) {
                    self.missing(format!("{at}.route"), "a nested route of one provider");
                }
                pairs.extend(fallbacks);
                inline(&pairs)
            }
        };
        self.line("route", route);
        // The most common rule is `retry`; the others are written out in full. A rule
        // without `retry_after_budget` cannot say so over a default that has one (an
        // unset key comes from `retry`), so the default is one without, if any is.
        let unbudgeted = p.retry.iter().any(|r| r.retry_after_budget.is_none());
        let default = p
            .retry
            .iter()
            .filter(|r| !unbudgeted || r.retry_after_budget.is_none())
            .max_by_key(|r| p.retry.iter().filter(|q| q == r).count())
            .expect("a rule per provider")
            .clone();
        let r = self.retry(&default, &format!("{at}.retry"));
        self.line("retry", r);
        for (k, r) in p.retry.iter().enumerate() {
            if *r != default {
                let name = &s.providers[k].name;
                let v = self.retry(r, &format!("{at}.retry_by_provider.{name}"));
                self.line(&format!("retry_by_provider.{name}"), v);
            }
        }
        let guards: Vec<String> = p
            .guards
            .iter()
            .enumerate()
            .map(|(g, spec)| self.guard(s, spec, &format!("{at}.guards[{g}]")))
            .collect();
        self.line("guards", format!("[{}]", guards.join(", ")));
        if !p.escalate_to.is_empty() {
            self.line(
                "quality_gate",
                inline(&[("escalate_to", names(&p.escalate_to))]),
            );
        }
        if let Some(h) = &p.hedge {
            let mut pairs = match &h.delay {
                HedgeDelay::Fixed(d) => {
                    vec![("after", string(&self.dur(*d, &format!("{at}.hedge.after"))))]
                }
                HedgeDelay::Quantile { q, window, initial } => vec![
                    ("quantile", float(*q)),
                    ("window", window.to_string()),
                    (
                        "initial",
                        string(&self.dur(*initial, &format!("{at}.hedge.initial"))),
                    ),
                ],
            };
            if !h.to.is_empty() {
                pairs.push(("to", names(&h.to)));
            }
            self.line("hedge", inline(&pairs));
        }
    }

    /// A guard: its kind and every setting of it ([`GuardSpec::settings`]).
    fn guard(&mut self, s: &Scenario, g: &GuardSpec, at: &str) -> String {
        let name = |p: usize| string(&s.providers[p].name);
        let mut pairs = vec![("kind", string(g.name()))];
        for (key, value) in g.settings() {
            let text = match value {
                Setting::Int(n) => n.to_string(),
                Setting::Float(x) => float(x),
                Setting::Bool(b) => b.to_string(),
                Setting::Str(v) => string(v),
                Setting::Duration(d) => string(&self.dur(d, &format!("{at}.{key}"))),
                Setting::Provider(p) => name(p),
                Setting::Providers(ps) => strings(ps.iter().map(|&p| s.providers[p].name.as_str())),
                Setting::Statuses(v) => {
                    let v: Vec<String> = v.iter().map(|x| x.to_string()).collect();
                    format!("[{}]", v.join(", "))
                }
            };
            pairs.push((key, text));
        }
        inline(&pairs)
    }
}

/// The keys of a nested route's node: a provider target, or a kind with its targets
/// (a conditional's named `t0`, `t1`, ...). Fallback gates are numbered in reading order, so writing
/// the nodes in order numbers them again the same.
fn node(s: &Scenario, n: &Node, gates: &[Vec<u16>]) -> Vec<(&'static str, String)> {
    let list = |targets: Vec<Vec<(&'static str, String)>>| {
        let items: Vec<String> = targets.iter().map(|t| inline(t)).collect();
        format!("[{}]", items.join(", "))
    };
    match n {
        Node::Provider(p) => vec![("provider", string(&s.providers[*p].name))],
        Node::Fallback(f) => {
            let mut pairs = vec![("kind", string("fallback"))];
            if f.gate > 0 {
                let codes: Vec<String> = gates[f.gate as usize - 1]
                    .iter()
                    .map(|c| c.to_string())
                    .collect();
                pairs.push(("on_status_codes", format!("[{}]", codes.join(", "))));
            }
            let targets = f.targets.iter().map(|t| node(s, t, gates)).collect();
            pairs.push(("targets", list(targets)));
            pairs
        }
        Node::Loadbalance(l) => {
            let targets = l
                .targets
                .iter()
                .zip(&l.weights)
                .map(|(t, w)| {
                    let mut pairs = node(s, t, gates);
                    pairs.push(("weight", float(*w)));
                    pairs
                })
                .collect();
            vec![("kind", string("loadbalance")), ("targets", list(targets))]
        }
        Node::Conditional(c) => {
            let targets = c
                .targets
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let mut pairs = vec![("name", string(&format!("t{i}")))];
                    pairs.extend(node(s, t, gates));
                    pairs
                })
                .collect();
            let conditions: Vec<String> = c
                .rules
                .iter()
                .map(|(q, then)| {
                    inline(&[("query", query(q)), ("then", string(&format!("t{then}")))])
                })
                .collect();
            vec![
                ("kind", string("conditional")),
                ("targets", list(targets)),
                ("conditions", format!("[{}]", conditions.join(", "))),
                ("default", string(&format!("t{}", c.default))),
            ]
        }
    }
}

/// A conditional's query: each field's comparisons, fields in order of first mention.
fn query(q: &Query) -> String {
    let mut fields: Vec<(&'static str, Vec<String>)> = Vec::new();
    for (field, op) in q {
        let name = match field {
            Field::InputTokens => "input_tokens",
            Field::OutputTokens => "output_tokens",
            Field::Tokens => "tokens",
        };
        let numbers = |v: &[f64]| {
            let v: Vec<String> = v.iter().map(|x| float(*x)).collect();
            format!("[{}]", v.join(", "))
        };
        let cmp = match op {
            Op::Eq(x) => format!("\"$eq\" = {}", float(*x)),
            Op::Ne(x) => format!("\"$ne\" = {}", float(*x)),
            Op::Gt(x) => format!("\"$gt\" = {}", float(*x)),
            Op::Gte(x) => format!("\"$gte\" = {}", float(*x)),
            Op::Lt(x) => format!("\"$lt\" = {}", float(*x)),
            Op::Lte(x) => format!("\"$lte\" = {}", float(*x)),
            Op::In(v) => format!("\"$in\" = {}", numbers(v)),
            Op::Nin(v) => format!("\"$nin\" = {}", numbers(v)),
        };
        match fields.iter_mut().find(|(n, _)| *n == name) {
            Some((_, cmps)) => cmps.push(cmp),
            None => fields.push((name, vec![cmp])),
        }
    }
    let items: Vec<String> = fields
        .iter()
        .map(|(n, cmps)| format!("{n} = {{ {} }}", cmps.join(", ")))
        .collect();
    format!("{{ {} }}", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_written_in_a_form_that_reads_back_exactly() {
        for ns in [
            0,
            1,
            999,
            250_000_000,
            1_500_000_000,
            60_000_000_000,
            123_456_789_012_345,
            crate::time::MAX_SIM_TIME.as_nanos() - 1,
            crate::time::MAX_SIM_TIME.as_nanos() - 987_654_321,
        ] {
            let d = SimDuration::from_nanos(ns);
            let text = duration(d).expect("a form");
            assert_eq!(SimDuration::parse(&text), Some(d), "{text}");
        }
        assert_eq!(duration(SimDuration::from_secs(60)).unwrap(), "60s");
        assert_eq!(duration(SimDuration::from_millis(250)).unwrap(), "0.25s");
    }
}
