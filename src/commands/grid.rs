//! The grid of a parameter sweep: parses `--set KEY=VALUES` and builds the scenario of
//! every grid point from the scenario file (the `sweep` command runs them with the same
//! seeds at every point; [`crate::stats::sweep`] tabulates the results).
//!
//! A key is a path into the scenario file (`workload.concurrency`,
//! `providers.claude.limits[0].limit`, `policies[1].retry.max_attempts`); values are a
//! list (`1,2,5,10`) or a range `start..end:step` (end included when a step lands on it),
//! numbers or durations (`30s,60s`).

use std::path::Path;

use toml::{Table, Value};

use crate::scenario::{parse_str, Scenario, Seg};
use crate::time::SimDuration;

/// One value of a swept key.
#[derive(Clone, Debug, PartialEq)]
pub struct SetValue {
    /// Position on the x axis (seconds for durations).
    pub x: f64,
    /// What goes into the scenario.
    pub value: Value,
    /// As the user wrote it.
    pub text: String,
}

/// One `--set KEY=VALUES`.
#[derive(Clone, Debug, PartialEq)]
pub struct SetSpec {
    /// The key path as written.
    pub key: String,
    /// The parsed path.
    pub path: Vec<Seg>,
    /// Its values, in order.
    pub values: Vec<SetValue>,
}

fn parse_path(key: &str) -> Result<Vec<Seg>, String> {
    let mut out = Vec::new();
    for part in key.split('.') {
        let (name, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!("`{key}` is not a key path like workload.concurrency or providers.claude.limits[0].limit"));
        }
        out.push(Seg::Key(name.to_string()));
        while !rest.is_empty() {
            let close = rest
                .find(']')
                .ok_or_else(|| format!("`{key}`: unclosed `[`"))?;
            let index: usize = rest[1..close]
                .parse()
                .map_err(|_| format!("`{key}`: `{}` is not an array index", &rest[1..close]))?;
            out.push(Seg::Index(index));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(format!("`{key}` is not a key path"));
            }
        }
    }
    Ok(out)
}

fn parse_value(text: &str) -> Result<SetValue, String> {
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Ok(SetValue {
            x: i as f64,
            value: Value::Integer(i),
            text: t.into(),
        });
    }
    if let Ok(f) = t.parse::<f64>() {
        if f.is_finite() {
            return Ok(SetValue {
                x: f,
                value: Value::Float(f),
                text: t.into(),
            });
        }
    }
    if let Some(d) = SimDuration::parse(t) {
        return Ok(SetValue {
            x: d.as_secs_f64(),
            value: Value::String(t.into()),
            text: t.into(),
        });
    }
    Err(format!("`{t}` is not a number or a duration like \"30s\""))
}

fn range(text: &str) -> Option<Result<Vec<SetValue>, String>> {
    let (span, step) = text.split_once(':')?;
    let (a, b) = span.split_once("..")?;
    let parse = |s: &str| {
        s.trim()
            .parse::<f64>()
            .map_err(|_| format!("`{s}` in range `{text}` is not a number"))
    };
    Some((|| {
        let (a, b, step) = (parse(a)?, parse(b)?, parse(step)?);
        if step.is_nan() || step <= 0.0 || b < a {
            return Err(format!(
                "range `{text}` needs start <= end and a positive step"
            ));
        }
        let n = ((b - a) / step + 1e-9).floor() as u64 + 1;
        if n > MAX_GRID_POINTS {
            return Err(format!(
                "range `{text}` has {n} points; at most {MAX_GRID_POINTS}"
            ));
        }
        let integral = [a, b, step].iter().all(|v| v.fract() == 0.0);
        Ok((0..n)
            .map(|i| {
                let x = a + step * i as f64;
                if integral {
                    SetValue {
                        x,
                        value: Value::Integer(x as i64),
                        text: format!("{}", x as i64),
                    }
                } else {
                    let x = (x * 1e9).round() / 1e9;
                    SetValue {
                        x,
                        value: Value::Float(x),
                        text: format!("{x}"),
                    }
                }
            })
            .collect())
    })())
}

/// Parses one `--set KEY=VALUES` argument.
pub fn parse_set(arg: &str) -> Result<SetSpec, String> {
    let (key, values) = arg
        .split_once('=')
        .ok_or_else(|| format!("--set `{arg}`: expected KEY=VALUES, e.g. workload.concurrency=1,2,5,10 or workload.jobs=100..500:100"))?;
    let key = key.trim();
    let path = parse_path(key).map_err(|e| format!("--set {e}"))?;
    let values = match range(values.trim()) {
        Some(r) => r.map_err(|e| format!("--set {key}: {e}"))?,
        None => values
            .split(',')
            .map(|v| parse_value(v).map_err(|e| format!("--set {key}: {e}")))
            .collect::<Result<Vec<_>, _>>()?,
    };
    if values.is_empty() {
        return Err(format!("--set {key}: no values"));
    }
    Ok(SetSpec {
        key: key.to_string(),
        path,
        values,
    })
}

/// Sets `path` in `table` to `value`. The table holding the last key must exist; the
/// key itself may be new (validation then decides whether it belongs there). A key that
/// holds a table or array cannot be set to a number.
pub fn set(table: &mut Table, key: &str, path: &[Seg], value: Value) -> Result<(), String> {
    let mut root = Value::Table(std::mem::take(table));
    let result = set_in(&mut root, key, path, value);
    if let Value::Table(t) = root {
        *table = t;
    }
    result
}

fn set_in(root: &mut Value, key: &str, path: &[Seg], value: Value) -> Result<(), String> {
    let (last, parents) = path.split_last().expect("a parsed path is never empty");
    let mut cur = root;
    let mut walked = String::new();
    for seg in parents {
        cur = match (seg, cur) {
            (Seg::Key(k), Value::Table(t)) => {
                if !walked.is_empty() {
                    walked.push('.');
                }
                walked.push_str(k);
                t.get_mut(k)
                    .ok_or_else(|| format!("--set {key}: the scenario has no `{walked}`"))?
            }
            (Seg::Index(i), Value::Array(a)) => {
                walked.push_str(&format!("[{i}]"));
                let n = a.len();
                a.get_mut(*i).ok_or_else(|| {
                    format!("--set {key}: `{walked}` is out of range (it has {n} entries)")
                })?
            }
            (Seg::Key(k), _) => {
                return Err(format!(
                    "--set {key}: `{walked}` is not a table, so it has no `{k}`"
                ))
            }
            (Seg::Index(_), _) => return Err(format!("--set {key}: `{walked}` is not an array")),
        };
    }
    match (last, cur) {
        (Seg::Key(k), Value::Table(t)) => {
            if let Some(old) = t.get(k) {
                if matches!(old, Value::Table(_) | Value::Array(_)) {
                    return Err(format!(
                        "--set {key}: `{key}` is a {}; set one of its numbers instead (e.g. {key}.median)",
                        old.type_str()
                    ));
                }
            }
            t.insert(k.clone(), value);
            Ok(())
        }
        (Seg::Index(i), Value::Array(a)) if *i < a.len() => {
            a[*i] = value;
            Ok(())
        }
        _ => Err(format!("--set {key}: no such place in the scenario")),
    }
}

/// Every point of the grid, as one value index per key (the last key varies fastest).
pub fn grid(sets: &[SetSpec]) -> Vec<Vec<usize>> {
    let mut points = vec![Vec::new()];
    for s in sets {
        points = points
            .into_iter()
            .flat_map(|p| {
                (0..s.values.len()).map(move |i| {
                    let mut q = p.clone();
                    q.push(i);
                    q
                })
            })
            .collect();
    }
    points
}

/// The most points a sweep's grid may have (each is a whole run of the scenario).
pub const MAX_GRID_POINTS: u64 = 10_000;

/// Builds the scenario of every grid point from the scenario file's text, checking all
/// of them before anything runs. Errors name the `--set` and what is wrong; a grid of
/// more than [`MAX_GRID_POINTS`] points is refused before any is built.
pub fn scenarios(
    text: &str,
    file: &Path,
    sets: &[SetSpec],
) -> Result<Vec<(Vec<usize>, Scenario)>, String> {
    let sizes: Vec<u64> = sets.iter().map(|s| s.values.len() as u64).collect();
    let total = sizes.iter().try_fold(1u64, |n, &k| n.checked_mul(k));
    if total.is_none_or(|t| t > MAX_GRID_POINTS) {
        let product = sizes
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" x ");
        return Err(format!(
            "the --set grid has {} points ({product}); a sweep runs at most {MAX_GRID_POINTS}",
            total.map_or("more than 2^64".to_string(), |t| t.to_string())
        ));
    }
    let base: Table =
        toml::from_str(text).map_err(|e| format!("{}: {}", file.display(), e.message()))?;
    let dir = file.parent().unwrap_or(Path::new("."));
    let stem = file
        .file_stem()
        .map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
    let mut out = Vec::new();
    for point in grid(sets) {
        let mut table = base.clone();
        let mut desc = Vec::new();
        for (s, &i) in sets.iter().zip(&point) {
            set(&mut table, &s.key, &s.path, s.values[i].value.clone())?;
            desc.push(format!("{}={}", s.key, s.values[i].text));
        }
        let text = toml::to_string(&table).map_err(|e| e.to_string())?;
        let scenario = parse_str(&text, file, dir, &stem).map_err(|mut e| {
            // The line would be one of the rewritten text, not of the file.
            e.line = None;
            e.column = None;
            format!("with --set {}: {e}", desc.join(" "))
        })?;
        out.push((point, scenario));
    }
    Ok(out)
}

/// The swept keys' values at grid point `point`, in `--set` order.
pub fn point_keys(sets: &[SetSpec], point: &[usize]) -> Vec<f64> {
    sets.iter()
        .zip(point)
        .map(|(s, &i)| s.values[i].x)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_ranges_and_durations() {
        let s = parse_set("workload.concurrency=1,2,5").unwrap();
        assert_eq!(
            s.values.iter().map(|v| v.x).collect::<Vec<_>>(),
            [1.0, 2.0, 5.0]
        );
        let s = parse_set("providers.claude.limits[0].limit=4..10:3").unwrap();
        assert_eq!(s.path.len(), 5);
        assert_eq!(
            s.values.iter().map(|v| v.x).collect::<Vec<_>>(),
            [4.0, 7.0, 10.0]
        );
        let s = parse_set("x.rate=0.1..0.3:0.1").unwrap();
        assert_eq!(s.values.len(), 3);
        let s = parse_set("providers.claude.reject_latency=100ms,1s").unwrap();
        assert_eq!(s.values[1].x, 1.0);
        for bad in [
            "workload.concurrency",
            "workload..x=1",
            "a[x]=1",
            "a=1,lots",
            "a=5..1:1",
            "a=1..5:0",
        ] {
            assert!(parse_set(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn grid_is_the_cartesian_product() {
        let a = parse_set("a=1,2").unwrap();
        let b = parse_set("b=1,2,3").unwrap();
        assert_eq!(grid(&[a, b]).len(), 6);
    }
}
