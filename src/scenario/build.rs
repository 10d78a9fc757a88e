//! Checks raw scenario values and turns them into typed configuration. Each check names
//! the key path of the value and what would be valid.

use std::path::Path;

use toml::{Table, Value};

use super::raw::*;
use super::{Decision, DiffRules, Direction, Requirement};
use super::{Invalid, KeyPath, Scenario, DEFAULT_REPLICATIONS, DEFAULT_SEED};
use crate::dist::Random;
use crate::keys::{
    bounded_int, duration, invalid, non_negative, one_of, positive, positive_duration,
    provider_list, provider_ref, require, status, Keys, R,
};
use crate::policy::guard::{GuardContext, GuardSpec};
use crate::policy::preset;
use crate::policy::route::{self, RouteContext, MAX_PROVIDERS};
use crate::policy::{Backoff, HedgeDelay, HedgeSpec, Jitter, PolicySpec, RetrySpec, RouteSpec};
use crate::provider::limiter;
use crate::provider::limits::MAX_LIMITS;
use crate::provider::shorthand::{self, ShorthandKind};
use crate::provider::{
    ConcurrencySpec, LatencySpec, LimitSpec, OnFull, OnlineSpec, OutageSpec, ProviderSpec,
};
use crate::time::{SimDuration, MAX_SIM_TIME};
use crate::workload::{
    parse_trace, Arrivals, TraceColumns, WorkloadSpec, MAX_JOBS, MAX_REQUESTS, MAX_TOKENS,
    MAX_TRACE_BYTES, TRACE_FIELDS,
};

/// Errors if a key that does not belong to `kind` is set, for a table read into a raw
/// struct that holds every kind's keys (the workload; the kinds read from a TOML table
/// use [`Keys::only`]).
/// The longest policy or scenario name, in characters (names appear in tables, chart
/// titles and, made safe, in file names).
pub const MAX_NAME_CHARS: usize = 100;

/// A policy or scenario name: not blank, at most [`MAX_NAME_CHARS`] characters, no
/// control characters (a newline would break tables and CSV rows).
fn display_name(name: &str, path: &KeyPath) -> R<()> {
    if name.trim().is_empty() {
        return invalid(path, "must not be empty");
    }
    let n = name.chars().count();
    if n > MAX_NAME_CHARS {
        return invalid(
            path,
            format!("is {n} characters long; a name has at most {MAX_NAME_CHARS}"),
        );
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return invalid(
            path,
            format!("contains the control character {c:?}; a name is one line of printable text"),
        );
    }
    Ok(())
}

fn only(path: &KeyPath, kind: &str, present: &[(&str, bool)], allowed: &[&str]) -> R<()> {
    for (key, set) in present {
        if *set && !allowed.contains(key) {
            return invalid(
                &path.key(key),
                format!(
                    "not a setting of kind = \"{kind}\"; it takes: {}",
                    allowed.join(", ")
                ),
            );
        }
    }
    Ok(())
}

/// The most attempts a retry rule may allow on one provider.
pub const MAX_ATTEMPTS: u64 = 1_000_000;

/// The most metric values a run keeps: replications × policies × metrics per policy
/// (8 bytes each, 1.6 GB at most).
pub const MAX_RESULT_VALUES: u64 = 200_000_000;

/// The highest price per 1,000 tokens, in USD.
pub const MAX_PRICE: f64 = 1e6;

/// The highest flat monthly price, in USD.
pub const MAX_FLAT_MONTHLY: f64 = 1e12;

/// The highest Poisson arrival rate, per second.
pub const MAX_RATE: f64 = 1e9;

/// The longest a run may simulate, for messages: "100 years (3155760000 s)".
fn longest() -> String {
    let s = MAX_SIM_TIME.as_secs_f64();
    format!("{} years ({s} s)", s / (365.25 * 86_400.0))
}

/// A number for a message: plain, or in exponent form once it is long.
fn num(x: f64) -> String {
    if x.abs() < 1e15 {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// A random span (seconds) whose mean must fall within the longest a run may simulate:
/// an average draw past it would end the run with an error.
fn within_run(r: Random, path: &KeyPath) -> R<Random> {
    let mean = r.mean();
    if mean >= MAX_SIM_TIME.as_secs_f64() {
        return invalid(
            path,
            format!(
                "averages {} s, past the longest a run may simulate, {}",
                num(mean),
                longest()
            ),
        );
    }
    Ok(r)
}

/// A random period length that must average at least a millisecond.
fn period(v: &Value, path: &KeyPath) -> R<Random> {
    let r = random(v, path, true)?;
    if r.mean() < 0.001 {
        return invalid(path, "periods must average at least 1ms");
    }
    Ok(r)
}

/// A request's token count (input or output): its largest value, or for an unbounded
/// distribution its 95th percentile, must be at most [`MAX_TOKENS`] (a rarer draw above
/// it counts as [`MAX_TOKENS`]).
fn token_size(r: Random, path: &KeyPath) -> R<Random> {
    let (what, at, x) = match &r {
        Random::Constant(v) => ("the value", path.clone(), *v),
        Random::Uniform { max, .. } => ("max", path.key("max"), *max),
        Random::Empirical(_) => ("the largest value", path.key("values"), r.max()),
        Random::LogNormal { p95, .. } => ("p95", path.key("p95"), *p95),
        Random::Exponential { mean } => (
            "the 95th percentile (mean × ln 20)",
            path.key("mean"),
            mean * 20f64.ln(),
        ),
        Random::Normal { mean, sd } => (
            "the 95th percentile (mean + 1.645 sd)",
            path.key("sd"),
            mean + 1.644_853_626_951_472_2 * sd,
        ),
    };
    if x > MAX_TOKENS as f64 {
        return invalid(
            &at,
            format!(
                "{what} is {} tokens; a request has at most {MAX_TOKENS}",
                num(x)
            ),
        );
    }
    Ok(r)
}

const DIST_HELP: &str = "a plain value, or a table with dist = \"constant\" (value), \"uniform\" (min, max), \"exponential\" (mean), \"lognormal\" (median, p95), \"normal\" (mean, sd) or \"empirical\" (values)";

/// A random quantity: durations (`is_duration`) are given as strings and become seconds.
fn random(v: &Value, path: &KeyPath, is_duration: bool) -> R<Random> {
    let scalar = |v: &Value, path: &KeyPath| -> R<f64> {
        if is_duration {
            return duration(v, path).map(SimDuration::as_secs_f64);
        }
        let x = match v {
            Value::Integer(i) => *i as f64,
            Value::Float(f) => *f,
            other => {
                return invalid(
                    path,
                    format!("expected a number, found {}", other.type_str()),
                )
            }
        };
        non_negative(x, path, "the value")
    };
    let table = match v {
        Value::Table(t) => t,
        _ => return scalar(v, path).map(Random::Constant),
    };
    let Some(kind) = table.get("dist") else {
        return invalid(path, format!("a table needs `dist`; expected {DIST_HELP}"));
    };
    let Some(kind) = kind.as_str() else {
        return invalid(&path.key("dist"), format!("expected a string; {DIST_HELP}"));
    };
    let allowed: &[&str] = match kind {
        "constant" => &["value"],
        "uniform" => &["min", "max"],
        "exponential" => &["mean"],
        "lognormal" => &["median", "p95"],
        "normal" => &["mean", "sd"],
        "empirical" => &["values"],
        other => {
            return invalid(
                &path.key("dist"),
                format!("unknown distribution `{other}`; expected {DIST_HELP}"),
            )
        }
    };
    for key in table.keys() {
        if key != "dist" && !allowed.contains(&key.as_str()) {
            return invalid(
                &path.key(key),
                format!(
                    "not a parameter of dist = \"{kind}\"; it takes: {}",
                    allowed.join(", ")
                ),
            );
        }
    }
    let get = |k: &str| -> R<f64> {
        let p = path.key(k);
        match table.get(k) {
            Some(v) => scalar(v, &p),
            None => invalid(
                &p,
                format!("missing; dist = \"{kind}\" takes: {}", allowed.join(", ")),
            ),
        }
    };
    Ok(match kind {
        "constant" => Random::Constant(get("value")?),
        "uniform" => {
            let (min, max) = (get("min")?, get("max")?);
            if max < min {
                return invalid(
                    &path.key("max"),
                    format!("max ({max}) must be >= min ({min})"),
                );
            }
            Random::Uniform { min, max }
        }
        "exponential" => Random::Exponential {
            mean: positive(get("mean")?, &path.key("mean"), "mean")?,
        },
        "lognormal" => {
            let median = positive(get("median")?, &path.key("median"), "median")?;
            let p95 = get("p95")?;
            if p95 < median {
                return invalid(
                    &path.key("p95"),
                    format!("p95 ({p95}) must be >= median ({median})"),
                );
            }
            Random::LogNormal { median, p95 }
        }
        "normal" => Random::Normal {
            mean: get("mean")?,
            sd: get("sd")?,
        },
        _ => {
            let p = path.key("values");
            let Some(Value::Array(items)) = table.get("values") else {
                return invalid(&p, "expected a non-empty array of values");
            };
            if items.is_empty() {
                return invalid(&p, "expected a non-empty array of values");
            }
            let values = items
                .iter()
                .enumerate()
                .map(|(i, v)| scalar(v, &p.index(i)))
                .collect::<R<Vec<f64>>>()?;
            Random::Empirical(values)
        }
    })
}

pub(crate) fn build(raw: RawScenario, base: &Path, default_name: &str) -> R<Scenario> {
    let root = KeyPath::default();
    let seed = match raw.seed {
        None => DEFAULT_SEED,
        Some(s) if s >= 0 => s as u64,
        Some(s) => return invalid(&root.key("seed"), format!("must be >= 0 (got {s})")),
    };
    let replications = match raw.replications {
        None => DEFAULT_REPLICATIONS,
        Some(r) if (1..=1_000_000).contains(&r) => r as u32,
        Some(r) => {
            return invalid(
                &root.key("replications"),
                format!("must be from 1 to 1000000 (got {r})"),
            )
        }
    };
    let monthly_tokens = raw
        .monthly_tokens
        .map(|m| positive(m, &root.key("monthly_tokens"), "monthly_tokens"))
        .transpose()?;
    let workload = workload(
        require(
            raw.workload.as_ref(),
            &root.key("workload"),
            "a [workload] table with kind = \"batch\", \"poisson\" or \"trace\"",
        )?,
        &root.key("workload"),
        base,
    )?;
    if raw.providers.is_empty() {
        return invalid(
            &root.key("providers"),
            "no providers; define at least one [providers.NAME] table",
        );
    }
    if raw.providers.len() > MAX_PROVIDERS {
        return invalid(
            &root.key("providers"),
            format!(
                "{} providers; a scenario holds at most {MAX_PROVIDERS}",
                raw.providers.len()
            ),
        );
    }
    let providers = raw
        .providers
        .iter()
        .map(|(name, p)| provider(name, p, &root.key("providers").key(name)))
        .collect::<R<Vec<_>>>()?;
    let names: Vec<&str> = providers.iter().map(|p| p.name.as_str()).collect();
    if raw.policies.is_empty() {
        return invalid(
            &root.key("policies"),
            "no policies; add at least one [[policies]] table with a name and a route",
        );
    }
    let mut policies: Vec<PolicySpec> = Vec::new();
    for (i, p) in raw.policies.iter().enumerate() {
        let path = root.key("policies").index(i);
        let spec = policy(p, &path, &names, &providers)?;
        if policies.iter().any(|q| q.name == spec.name) {
            return invalid(
                &path.key("name"),
                format!("policy name `{}` is used twice", spec.name),
            );
        }
        policies.push(spec);
    }
    if let Some(name) = &raw.name {
        display_name(name, &root.key("name"))?;
    }
    // Every replication's metrics are kept until the statistics are taken: at most
    // 32 global ones (rejections by status included) and 11 per provider (5 counts,
    // and a rejection count for each of up to 3 statuses, overall and per provider).
    let metrics = 32 + 11 * providers.len() as u64;
    let values = replications as u64 * policies.len() as u64 * metrics;
    if values > MAX_RESULT_VALUES {
        return invalid(
            &root.key("replications"),
            format!(
                "{replications} replications × {} policies × up to {metrics} metrics are \
                 {values} values to keep; a run keeps at most {MAX_RESULT_VALUES}",
                policies.len()
            ),
        );
    }
    let decision = match &raw.decision {
        None => Decision::default(),
        Some(d) => decision(d, &root.key("decision"))?,
    };
    let diff = match &raw.diff {
        None => DiffRules::default(),
        Some(d) => diff_rules(d, &root.key("diff"))?,
    };
    Ok(Scenario {
        name: raw.name.unwrap_or_else(|| default_name.to_string()),
        description: raw.description.unwrap_or_default(),
        seed,
        replications,
        monthly_tokens,
        workload,
        providers,
        policies,
        decision,
        diff,
    })
}

/// `[diff]`: `threshold` (every metric's, default 1% of the base) and `fail_on`, a
/// threshold by metric: `"+2%"` relative, `"+5"` or `5` absolute. Metric names are
/// checked by the caller.
fn diff_rules(d: &RawDiff, path: &KeyPath) -> R<DiffRules> {
    use super::Threshold;
    let read = |v: &Value, at: &KeyPath| Threshold::from_toml(v).or_else(|e| invalid(at, e));
    let threshold = match &d.threshold {
        None => Threshold::default(),
        Some(v) => read(v, &path.key("threshold"))?,
    };
    let fail_on = match &d.fail_on {
        None => Vec::new(),
        Some(map) => map
            .iter()
            .map(|(m, v)| Ok((m.clone(), read(v, &path.key("fail_on").key(m))?)))
            .collect::<R<Vec<_>>>()?,
    };
    Ok(DiffRules { threshold, fail_on })
}

/// `[decision]`: `minimize` or `maximize` (default: minimize makespan_s) and `require`
/// (default: no failed job in any replication). Metric names are checked by the caller.
fn decision(d: &RawDecision, path: &KeyPath) -> R<Decision> {
    let default = Decision::default();
    let (objective, direction) = match (&d.minimize, &d.maximize) {
        (Some(_), Some(_)) => {
            return invalid(
                &path.key("maximize"),
                "both minimize and maximize are set; a decision has one objective",
            )
        }
        (Some(m), None) => (m.clone(), Direction::Minimize),
        (None, Some(m)) => (m.clone(), Direction::Maximize),
        (None, None) => (default.objective.clone(), default.direction),
    };
    let require = match &d.require {
        None => default.require,
        Some(list) => list
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let at = path.key("require").index(i);
                Requirement::parse(text).or_else(|e| invalid(&at, e))
            })
            .collect::<R<Vec<_>>>()?,
    };
    Ok(Decision {
        objective,
        direction,
        require,
    })
}

fn workload(w: &RawWorkload, path: &KeyPath, base: &Path) -> R<WorkloadSpec> {
    let present = [
        ("jobs", w.jobs.is_some()),
        ("concurrency", w.concurrency.is_some()),
        ("requests_per_job", w.requests_per_job.is_some()),
        ("input_tokens", w.input_tokens.is_some()),
        ("output_tokens", w.output_tokens.is_some()),
        ("rate_per_s", w.rate_per_s.is_some()),
        ("duration", w.duration.is_some()),
        ("path", w.path.is_some()),
        ("time_scale", w.time_scale.is_some()),
        ("columns", w.columns.is_some()),
    ];
    let synthetic = [
        "jobs",
        "concurrency",
        "requests_per_job",
        "input_tokens",
        "output_tokens",
    ];
    let tokens = |key: &str, v: &Option<Value>| -> R<Random> {
        let r = random(
            require(v.as_ref(), &path.key(key), "a token count or distribution, e.g. 1000 or { dist = \"lognormal\", median = 1000, p95 = 4000 }")?,
            &path.key(key),
            false,
        )?;
        token_size(r, &path.key(key))
    };
    let concurrency = w
        .concurrency
        .map(|c| {
            bounded_int(c, &path.key("concurrency"), "concurrency", u32::MAX as u64)
                .map(|c| c as u32)
        })
        .transpose()?;
    let requests_per_job = w
        .requests_per_job
        .map(|r| {
            bounded_int(
                r,
                &path.key("requests_per_job"),
                "requests_per_job",
                MAX_REQUESTS,
            )
        })
        .transpose()?
        .unwrap_or(1) as u32;
    // At most MAX_JOBS jobs, and MAX_REQUESTS requests with `requests_per_job` each.
    let job_count = |j: i64| -> R<u32> {
        let at = path.key("jobs");
        let jobs = bounded_int(j, &at, "jobs", MAX_JOBS)?;
        let requests = jobs * requests_per_job as u64;
        if requests > MAX_REQUESTS {
            return invalid(
                &at,
                format!(
                    "{jobs} jobs of {requests_per_job} requests are {requests} requests; \
                     one replication holds at most {MAX_REQUESTS}"
                ),
            );
        }
        Ok(jobs as u32)
    };
    let arrivals = match w.kind.as_str() {
        "batch" => {
            only(path, "batch", &present, &synthetic)?;
            let jobs = job_count(require(
                w.jobs,
                &path.key("jobs"),
                "the number of jobs in the batch",
            )?)?;
            require(
                concurrency,
                &path.key("concurrency"),
                "how many jobs run at once",
            )?;
            Arrivals::Batch { jobs }
        }
        "poisson" => {
            let mut allowed = synthetic.to_vec();
            allowed.extend(["rate_per_s", "duration"]);
            only(path, "poisson", &present, &allowed)?;
            let rate = positive(
                require(
                    w.rate_per_s,
                    &path.key("rate_per_s"),
                    "mean arrivals per second",
                )?,
                &path.key("rate_per_s"),
                "rate_per_s",
            )?;
            if rate > MAX_RATE {
                return invalid(
                    &path.key("rate_per_s"),
                    format!(
                        "rate_per_s must be at most {} (got {})",
                        num(MAX_RATE),
                        num(rate)
                    ),
                );
            }
            let jobs = w.jobs.map(job_count).transpose()?;
            let duration = w
                .duration
                .as_ref()
                .map(|d| positive_duration(d, &path.key("duration")))
                .transpose()?;
            if jobs.is_none() && duration.is_none() {
                return invalid(path, "a poisson workload needs `jobs` or `duration` to end");
            }
            if let (None, Some(d)) = (jobs, duration) {
                // Half the limits, so that a draw above the mean still fits.
                let expected = rate * d.as_secs_f64();
                let requests = expected * requests_per_job as f64;
                if expected > (MAX_JOBS / 2) as f64 || requests > (MAX_REQUESTS / 2) as f64 {
                    return invalid(
                        &path.key("duration"),
                        format!(
                            "rate_per_s × duration is about {} jobs ({} requests) expected; \
                             a Poisson workload may expect at most {} jobs and {} requests",
                            num(expected.round()),
                            num(requests.round()),
                            MAX_JOBS / 2,
                            MAX_REQUESTS / 2
                        ),
                    );
                }
            }
            Arrivals::Poisson {
                rate_per_s: rate,
                jobs,
                duration,
            }
        }
        "trace" => {
            only(
                path,
                "trace",
                &present,
                &["path", "time_scale", "concurrency", "columns"],
            )?;
            let columns = w
                .columns
                .as_ref()
                .map(|t| trace_columns(t, &path.key("columns")))
                .transpose()?
                .unwrap_or_default();
            let rel = require(w.path.as_ref(), &path.key("path"), "the trace CSV file")?;
            let file = base.join(rel);
            if let Ok(m) = std::fs::metadata(&file) {
                if m.len() > MAX_TRACE_BYTES {
                    return invalid(
                        &path.key("path"),
                        format!(
                            "trace `{}` is {} bytes; a trace file has at most {MAX_TRACE_BYTES}",
                            file.display(),
                            m.len()
                        ),
                    );
                }
            }
            let text = std::fs::read_to_string(&file).map_err(|e| Invalid {
                path: path.key("path"),
                message: format!("cannot read trace `{}`: {e}", file.display()),
            })?;
            let trace = parse_trace(&text, &columns).map_err(|e| Invalid {
                path: path.key("path"),
                message: match e.column {
                    Some(c) => format!("{}:{}:{c}: {}", file.display(), e.line, e.message),
                    None => format!("{}:{}: {}", file.display(), e.line, e.message),
                },
            })?;
            let time_scale = w
                .time_scale
                .map(|s| positive(s, &path.key("time_scale"), "time_scale"))
                .transpose()?
                .unwrap_or(1.0);
            // Rows are sorted by start: the last starts latest. Each start is within
            // the limit (the parser checks), so only a scale can take it past.
            if let Some(&last) = trace.starts.last() {
                let at = last * time_scale;
                if at >= MAX_SIM_TIME.as_secs_f64() {
                    return invalid(
                        &path.key("time_scale"),
                        format!(
                            "the trace's last start, {} s, times {} is {} s, past the \
                             longest a run may simulate, {}",
                            num(last),
                            num(time_scale),
                            num(at),
                            longest()
                        ),
                    );
                }
            }
            let jobs = crate::workload::Jobs {
                arrivals: trace
                    .starts
                    .iter()
                    .map(|s| crate::time::SimTime::from_secs_f64(s * time_scale))
                    .collect(),
                offsets: trace.offsets,
                requests: trace.requests,
            };
            return Ok(WorkloadSpec {
                arrivals: Arrivals::Trace {
                    jobs,
                    time_scale,
                    path: std::fs::canonicalize(&file).unwrap_or(file),
                    columns,
                    ignored: trace.ignored,
                },
                concurrency,
                requests_per_job: 1,
                input_tokens: Random::Constant(0.0),
                output_tokens: Random::Constant(0.0),
            });
        }
        other => {
            return invalid(
                &path.key("kind"),
                format!(
                    "unknown workload kind `{other}`; expected \"batch\", \"poisson\" or \"trace\""
                ),
            )
        }
    };
    Ok(WorkloadSpec {
        arrivals,
        concurrency,
        requests_per_job,
        input_tokens: tokens("input_tokens", &w.input_tokens)?,
        output_tokens: tokens("output_tokens", &w.output_tokens)?,
    })
}

/// `columns = { start_s = "ts", ... }`: the header name of each trace field that is not
/// under its own name; two fields cannot share a column.
fn trace_columns(t: &Table, path: &KeyPath) -> R<TraceColumns> {
    let mut columns = TraceColumns::default();
    for (key, value) in t {
        let at = path.key(key);
        let Some(i) = TRACE_FIELDS.iter().position(|f| f == key) else {
            return invalid(
                &at,
                format!(
                    "not a trace field; columns maps {} to a header name",
                    TRACE_FIELDS.join(", ")
                ),
            );
        };
        let Some(name) = value.as_str() else {
            return invalid(
                &at,
                format!(
                    "expected the header name of the column holding {key}, found {}",
                    value.type_str()
                ),
            );
        };
        if name.trim().is_empty() || name.trim() != name {
            return invalid(
                &at,
                "a header name, not empty and without surrounding spaces",
            );
        }
        columns.names[i] = name.to_string();
    }
    for (i, name) in columns.names.iter().enumerate() {
        if let Some(j) = (0..i).find(|&j| columns.names[j] == *name) {
            return invalid(
                &path.key(TRACE_FIELDS[i]),
                format!(
                    "column `{name}` already holds {}; each field needs its own column",
                    TRACE_FIELDS[j]
                ),
            );
        }
    }
    Ok(columns)
}

/// The `kind` of a provider's concurrency cap, which sits in its `limits` list.
const CONCURRENCY: &str = "concurrency";

/// `{ kind = "concurrency", limit, on_full }`: a cap on requests in service, not a rate
/// limit.
fn concurrency(k: &Keys) -> R<ConcurrencySpec> {
    k.only(CONCURRENCY, &["limit", "on_full"])?;
    let limit = k.require(
        k.at_most("limit", u32::MAX as u64)?,
        "limit",
        "the most requests in service at once",
    )?;
    let on_full = match k.str("on_full")?.unwrap_or("reject") {
        "reject" => OnFull::Reject,
        "queue" => OnFull::Queue,
        other => {
            return k.invalid(
                "on_full",
                format!("unknown `{other}`; expected \"reject\" or \"queue\""),
            )
        }
    };
    Ok(ConcurrencySpec {
        limit: limit as u32,
        on_full,
    })
}

/// The limits of a provider's `rpm`, `tpm`, `itpm` and `otpm`, expanded as its
/// `shorthand_kind` says (`provider::shorthand`).
fn shorthands(p: &RawProvider, path: &KeyPath) -> R<Vec<LimitSpec>> {
    let kind = match p.shorthand_kind.as_deref() {
        None => ShorthandKind::default(),
        Some(name) => match ShorthandKind::from_name(name) {
            Some(k) => k,
            None => {
                let names: Vec<&str> = ShorthandKind::ALL.iter().map(|k| k.name()).collect();
                return invalid(
                    &path.key(shorthand::KIND_KEY),
                    format!("unknown `{name}`; expected {}", one_of(&names)),
                );
            }
        },
    };
    let values = [p.rpm, p.tpm, p.itpm, p.otpm];
    if p.shorthand_kind.is_some() && values.iter().all(Option::is_none) {
        return invalid(
            &path.key(shorthand::KIND_KEY),
            "only used with rpm, tpm, itpm or otpm",
        );
    }
    let mut limits = Vec::new();
    for ((key, unit), value) in shorthand::SHORTHANDS.into_iter().zip(values) {
        if let Some(v) = value {
            let n = bounded_int(v, &path.key(key), key, limiter::MAX_LIMIT)?;
            limits.push(kind.expand(n, unit));
        }
    }
    Ok(limits)
}

fn provider(name: &str, p: &RawProvider, path: &KeyPath) -> R<ProviderSpec> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return invalid(path, "provider names use letters, digits, `-` and `_` only");
    }
    let mut limits = shorthands(p, path)?;
    let mut concurrency: Option<ConcurrencySpec> = None;
    let mut kinds = limiter::KINDS.to_vec();
    kinds.push(CONCURRENCY);
    for (i, l) in p.limits.iter().enumerate() {
        let k = Keys::new(l, path.key("limits").index(i));
        let kind = k.kind(&kinds)?;
        if kind == CONCURRENCY {
            if concurrency.is_some() {
                return invalid(k.path(), "only one concurrency limit per provider");
            }
            concurrency = Some(self::concurrency(&k)?);
            continue;
        }
        match LimitSpec::parse(kind, &k) {
            Some(spec) => limits.push(spec?),
            None => {
                return k.invalid(
                    "kind",
                    format!("unknown limit kind `{kind}`; expected {}", one_of(&kinds)),
                )
            }
        }
    }
    if limits.len() > MAX_LIMITS {
        return invalid(
            &path.key("limits"),
            format!(
                "at most {MAX_LIMITS} rate limits per provider (rpm, tpm, itpm and otpm included)"
            ),
        );
    }
    let latency_path = path.key("latency");
    let lat = require(
        p.latency.as_ref(),
        &latency_path,
        "latency = { ttft = DURATION, tokens_per_s = NUMBER } or latency = { total = DURATION }",
    )?;
    let latency = match (&lat.ttft, &lat.tokens_per_s, &lat.total) {
        (Some(ttft), Some(tps), None) => {
            let tokens_per_s = random(tps, &latency_path.key("tokens_per_s"), false)?;
            if tokens_per_s.max().is_finite() && tokens_per_s.min() <= 0.0 {
                return invalid(
                    &latency_path.key("tokens_per_s"),
                    "output tokens per second must be > 0 in every draw",
                );
            }
            let ttft_path = latency_path.key("ttft");
            LatencySpec::Streaming {
                ttft: within_run(random(ttft, &ttft_path, true)?, &ttft_path)?,
                tokens_per_s,
            }
        }
        (None, None, Some(total)) => {
            let total_path = latency_path.key("total");
            LatencySpec::Total(within_run(random(total, &total_path, true)?, &total_path)?)
        }
        _ => {
            return invalid(
                &latency_path,
                "give either ttft and tokens_per_s, or total alone",
            )
        }
    };
    let price = |v: Option<f64>, key: &str, max: f64| -> R<f64> {
        let x = non_negative(v.unwrap_or(0.0), &path.key(key), key)?;
        if x > max {
            return invalid(
                &path.key(key),
                format!("{key} must be at most {} USD (got {})", num(max), num(x)),
            );
        }
        Ok(x)
    };
    let outages = p
        .outages
        .as_ref()
        .map(|o| -> R<OutageSpec> {
            let op = path.key("outages");
            Ok(OutageSpec {
                up: period(
                    require(o.up.as_ref(), &op.key("up"), "length of an up period")?,
                    &op.key("up"),
                )?,
                down: period(
                    require(o.down.as_ref(), &op.key("down"), "length of a down period")?,
                    &op.key("down"),
                )?,
                status: status(o.status.unwrap_or(503), &op.key("status"))?,
            })
        })
        .transpose()?;
    let online = p
        .online
        .as_ref()
        .map(|o| -> R<OnlineSpec> {
            let op = path.key("online");
            Ok(OnlineSpec {
                offline_every: period(
                    require(
                        o.offline_every.as_ref(),
                        &op.key("offline_every"),
                        "time online between offline periods",
                    )?,
                    &op.key("offline_every"),
                )?,
                offline_for: period(
                    require(
                        o.offline_for.as_ref(),
                        &op.key("offline_for"),
                        "length of an offline period",
                    )?,
                    &op.key("offline_for"),
                )?,
                reset_after: o
                    .reset_after
                    .as_ref()
                    .map(|v| positive_duration(v, &op.key("reset_after")))
                    .transpose()?
                    .unwrap_or(SimDuration::from_secs(30)),
                status: status(o.status.unwrap_or(503), &op.key("status"))?,
            })
        })
        .transpose()?;
    let pass_rate = p.pass_rate.unwrap_or(1.0);
    if !(0.0..=1.0).contains(&pass_rate) {
        return invalid(
            &path.key("pass_rate"),
            format!("a probability from 0 to 1 (got {pass_rate})"),
        );
    }
    Ok(ProviderSpec {
        name: name.to_string(),
        limits,
        concurrency,
        reject_status: status(p.reject_status.unwrap_or(429), &path.key("reject_status"))?,
        reject_latency: p
            .reject_latency
            .as_ref()
            .map(|v| {
                let at = path.key("reject_latency");
                within_run(random(v, &at, true)?, &at)
            })
            .transpose()?
            .unwrap_or(Random::Constant(0.0)),
        latency,
        price_per_1k_input: price(p.price_per_1k_input, "price_per_1k_input", MAX_PRICE)?,
        price_per_1k_output: price(p.price_per_1k_output, "price_per_1k_output", MAX_PRICE)?,
        flat_monthly: price(p.flat_monthly, "flat_monthly", MAX_FLAT_MONTHLY)?,
        outages,
        online,
        pass_rate,
        local: p.local.unwrap_or(false),
        retry_after_resolution: p
            .retry_after_resolution
            .as_ref()
            .map(|v| positive_duration(v, &path.key("retry_after_resolution")))
            .transpose()?
            .unwrap_or(SimDuration::from_secs(1)),
    })
}

fn retry(r: &RawRetry, base: &RetrySpec, path: &KeyPath) -> R<RetrySpec> {
    let mut out = match &r.preset {
        None => base.clone(),
        Some(name) => match crate::policy::retry::preset(name) {
            Some(p) => p,
            None => {
                return invalid(
                    &path.key("preset"),
                    format!(
                        "unknown retry preset `{name}`; expected {}",
                        one_of(&crate::policy::retry::preset_names().collect::<Vec<_>>())
                    ),
                )
            }
        },
    };
    if let Some(m) = r.max_attempts {
        out.max_attempts =
            bounded_int(m, &path.key("max_attempts"), "max_attempts", MAX_ATTEMPTS)? as u32;
    }
    if let Some(b) = &r.backoff {
        out.backoff = match b.as_str() {
            "none" => Backoff::None,
            "constant" => Backoff::Constant,
            "exponential" => Backoff::Exponential,
            other => {
                return invalid(
                    &path.key("backoff"),
                    format!(
                    "unknown backoff `{other}`; expected \"none\", \"constant\" or \"exponential\""
                ),
                )
            }
        };
    }
    if let Some(j) = &r.jitter {
        out.jitter = match j.as_str() {
            "none" => Jitter::None,
            "full" => Jitter::Full,
            "equal" => Jitter::Equal,
            "decorrelated" => Jitter::Decorrelated,
            "sdk" => Jitter::Sdk,
            other => {
                return invalid(
                    &path.key("jitter"),
                    format!("unknown jitter `{other}`; expected \"none\", \"full\", \"equal\", \"decorrelated\" or \"sdk\""),
                )
            }
        };
    }
    if let Some(v) = &r.base {
        out.base = duration(v, &path.key("base"))?;
    }
    if let Some(v) = &r.cap {
        out.cap = duration(v, &path.key("cap"))?;
    }
    if out.cap < out.base {
        return invalid(
            &path.key("cap"),
            format!("cap ({}) must be >= base ({})", out.cap, out.base),
        );
    }
    if let Some(h) = r.honor_retry_after {
        out.honor_retry_after = h;
    }
    if let Some(v) = &r.retry_after_max {
        out.retry_after_max = duration(v, &path.key("retry_after_max"))?;
    }
    if let Some(v) = &r.retry_after_budget {
        out.retry_after_budget = Some(duration(v, &path.key("retry_after_budget"))?);
    }
    if let Some(list) = &r.retry_on {
        out.retry_on = list
            .iter()
            .enumerate()
            .map(|(i, s)| status(*s, &path.key("retry_on").index(i)))
            .collect::<R<Vec<_>>>()?;
    }
    Ok(out)
}

fn policy(
    p: &RawPolicy,
    path: &KeyPath,
    names: &[&str],
    providers: &[ProviderSpec],
) -> R<PolicySpec> {
    let name = require(p.name.clone(), &path.key("name"), "a name for the policy")?;
    let preset = p
        .preset
        .as_deref()
        .map(|n| {
            preset::gateway(n).ok_or_else(|| Invalid {
                path: path.key("preset"),
                message: format!(
                    "unknown preset `{n}`; expected {}",
                    one_of(&preset::names().collect::<Vec<_>>())
                ),
            })
        })
        .transpose()?;
    display_name(&name, &path.key("name"))?;
    let route = require(
        p.route.as_ref(),
        &path.key("route"),
        &format!(
            "route = {{ kind = ..., ... }} with kind = {}",
            one_of(route::KINDS)
        ),
    )?;
    let (route, max_fallbacks) = RouteSpec::parse(
        &Keys::new(route, path.key("route")),
        &RouteContext {
            names,
            providers,
            preset_pick: preset.as_ref().and_then(|g| g.pick),
        },
    )?;
    // The route's own cap, else the preset's.
    let max_fallbacks = max_fallbacks.or(preset.as_ref().and_then(|g| g.max_fallbacks));
    let base_retry = preset
        .as_ref()
        .map_or_else(RetrySpec::default, |g| g.retry.clone());
    let default = match &p.retry {
        Some(r) => retry(r, &base_retry, &path.key("retry"))?,
        None => base_retry,
    };
    let mut retries = vec![default.clone(); names.len()];
    for (pname, r) in &p.retry_by_provider {
        let rpath = path.key("retry_by_provider").key(pname);
        let i = provider_ref(pname, &rpath, names)?;
        retries[i] = retry(r, &default, &rpath)?;
    }
    let cx = GuardContext {
        names,
        providers,
        route_size: route.providers().len(),
    };
    let mut guards = Vec::new();
    for (i, g) in p.guards.iter().flatten().enumerate() {
        let keys = Keys::new(g, path.key("guards").index(i));
        guards.push(GuardSpec::parse(&keys, &cx)?);
    }
    if p.guards.is_none() {
        // A preset's guards take their defaults; an error in one is the preset's.
        for kind in preset.as_ref().map_or(&[][..], |g| g.guards) {
            let table = Table::from_iter([("kind".to_string(), Value::from(*kind))]);
            guards.push(GuardSpec::parse(
                &Keys::new(&table, path.key("preset")),
                &cx,
            )?);
        }
    }
    let escalate_to = match &p.quality_gate {
        None => Vec::new(),
        Some(q) => {
            let at = path.key("quality_gate").key("escalate_to");
            let chain = provider_list(
                Some(&q.escalate_to),
                &at,
                names,
                "the stronger providers a completion that fails the tests is sent to, in order",
            )?;
            route::check_steps(chain.len(), &at)?;
            chain
        }
    };
    Ok(PolicySpec {
        name,
        route,
        retry: retries,
        guards,
        escalate_to,
        max_fallbacks,
        hedge: p
            .hedge
            .as_ref()
            .map(|h| hedge(h, &path.key("hedge"), names))
            .transpose()?,
    })
}

fn hedge(h: &RawHedge, path: &KeyPath, names: &[&str]) -> R<HedgeSpec> {
    let delay = match (&h.after, h.quantile) {
        (Some(_), Some(_)) => {
            return invalid(
                &path.key("quantile"),
                "give either `after` (a fixed delay) or `quantile` (of recent latencies), not both",
            )
        }
        (None, None) => {
            return invalid(
                path,
                "needs `after = \"2s\"` (a fixed delay) or `quantile = 0.95` (of recent answers' latencies)",
            )
        }
        (Some(a), None) => {
            if h.window.is_some() {
                return invalid(&path.key("window"), "only used with `quantile`");
            }
            if h.initial.is_some() {
                return invalid(&path.key("initial"), "only used with `quantile`");
            }
            HedgeDelay::Fixed(duration(a, &path.key("after"))?)
        }
        (None, Some(q)) => {
            if !(q > 0.0 && q < 1.0) {
                return invalid(
                    &path.key("quantile"),
                    format!("must be between 0 and 1, exclusive (got {q})"),
                );
            }
            let window = match h.window {
                Some(w) => bounded_int(w, &path.key("window"), "window", 100_000)? as usize,
                None => 100,
            };
            let initial = match &h.initial {
                Some(v) => duration(v, &path.key("initial"))?,
                None => SimDuration::from_secs(5),
            };
            HedgeDelay::Quantile {
                q,
                window,
                initial,
            }
        }
    };
    let to = match &h.to {
        None => Vec::new(),
        Some(_) => provider_list(
            h.to.as_ref(),
            &path.key("to"),
            names,
            "where hedges go: the first of these that is not the request's own provider",
        )?,
    };
    Ok(HedgeSpec { delay, to })
}
