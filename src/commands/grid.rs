//! The grid of a parameter sweep: parses `--set KEY=VALUES` and builds the scenario of
//! every grid point from the scenario file (the `sweep` command runs them with the same
//! seeds at every point; [`crate::stats::sweep`] tabulates the results).
//!
//! A key is a path into the scenario file (`workload.concurrency`,
//! `providers.claude.limits[0].limit`, `policies[1].retry.max_attempts`, or a policy by
//! name: `policies.failover-chain.retry.max_attempts`; a name with other characters is
//! quoted, `policies."my policy".retry.max_attempts`). Values are a list (`1,2,5,10`) or
//! a range `start..end:step` of numbers or durations (`30s..90s:30s`, `1m..3m:30s`; end
//! included when a step lands on it). Each listed value is typed by the first that
//! fits: a number, a duration (`30s`), a boolean (`true`, `false`), else a string
//! (`none`, `full`). Keys that move together are zipped: `--set 'K1,K2=a1:b1,a2:b2'`
//! sets K1 to a1 and K2 to b1 at one point, a2 and b2 at the next; zipped keys are one
//! axis of the grid.

use std::path::Path;

use toml::{Table, Value};

use crate::scenario::{parse_str, Scenario, Seg};
use crate::stats::sweep::KeyValue;
use crate::time::SimDuration;

/// One value of a swept key.
#[derive(Clone, Debug, PartialEq)]
pub struct SetValue {
    /// Where it sits on the chart: a number (seconds for durations), or text for a
    /// boolean or string (a category).
    pub at: KeyValue,
    /// What goes into the scenario.
    pub value: Value,
    /// As the user wrote it.
    pub text: String,
}

/// One `--set KEYS=VALUES`: one axis of the grid (several keys when zipped).
#[derive(Clone, Debug, PartialEq)]
pub struct SetSpec {
    /// The key paths as written (more than one when zipped).
    pub keys: Vec<String>,
    /// The parsed paths, one per key.
    pub paths: Vec<Vec<Seg>>,
    /// The axis' values in order: one value per key at each step.
    pub values: Vec<Vec<SetValue>>,
}

/// The most keys a sweep may set in all (zipped keys included).
pub const MAX_KEYS: usize = 8;

fn bad_path(key: &str) -> String {
    format!("`{key}` is not a key path like workload.concurrency, providers.claude.limits[0].limit or policies.NAME.retry.max_attempts")
}

fn parse_path(key: &str) -> Result<Vec<Seg>, String> {
    let mut out = Vec::new();
    let mut rest = key;
    loop {
        // One name: bare (letters, digits, `_`, `-`) or quoted.
        let name;
        if let Some(q) = rest.strip_prefix('"') {
            let close = q
                .find('"')
                .ok_or_else(|| format!("`{key}`: unclosed `\"`"))?;
            name = &q[..close];
            rest = &q[close + 1..];
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            name = &rest[..end];
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(bad_path(key));
            }
            rest = &rest[end..];
        }
        if name.is_empty() {
            return Err(bad_path(key));
        }
        out.push(Seg::Key(name.to_string()));
        while let Some(r) = rest.strip_prefix('[') {
            let close = r
                .find(']')
                .ok_or_else(|| format!("`{key}`: unclosed `[`"))?;
            let index: usize = r[..close]
                .parse()
                .map_err(|_| format!("`{key}`: `{}` is not an array index", &r[..close]))?;
            out.push(Seg::Index(index));
            rest = &r[close + 1..];
        }
        if rest.is_empty() {
            return Ok(out);
        }
        rest = rest.strip_prefix('.').ok_or_else(|| bad_path(key))?;
    }
}

/// Types one listed value: a number, then a duration, then a boolean, then a string.
fn parse_value(text: &str) -> Result<SetValue, String> {
    let t = text.trim();
    let value = |at, value| SetValue {
        at,
        value,
        text: t.into(),
    };
    if t.is_empty() {
        return Err("an empty value; list values between commas, e.g. 1,2,5".into());
    }
    if let Ok(i) = t.parse::<i64>() {
        return Ok(value(KeyValue::Num(i as f64), Value::Integer(i)));
    }
    if let Ok(f) = t.parse::<f64>() {
        if f.is_finite() {
            return Ok(value(KeyValue::Num(f), Value::Float(f)));
        }
    }
    if let Some(d) = SimDuration::parse(t) {
        return Ok(value(
            KeyValue::Num(d.as_secs_f64()),
            Value::String(t.into()),
        ));
    }
    if let Ok(b) = t.parse::<bool>() {
        return Ok(value(KeyValue::Text(t.into()), Value::Boolean(b)));
    }
    Ok(value(KeyValue::Text(t.into()), Value::String(t.into())))
}

/// A range's three ends, all numbers or all durations (in nanoseconds).
enum Ends {
    Numbers(f64, f64, f64),
    Durations(u64, u64, u64),
}

fn range_ends(text: &str, a: &str, b: &str, step: &str) -> Result<Ends, String> {
    let ends = [a.trim(), b.trim(), step.trim()];
    if let Ok(n) = ends
        .iter()
        .map(|s| s.parse::<f64>())
        .collect::<Result<Vec<f64>, _>>()
    {
        return Ok(Ends::Numbers(n[0], n[1], n[2]));
    }
    if let Some(d) = ends
        .iter()
        .map(|s| SimDuration::parse(s))
        .collect::<Option<Vec<_>>>()
    {
        return Ok(Ends::Durations(
            d[0].as_nanos(),
            d[1].as_nanos(),
            d[2].as_nanos(),
        ));
    }
    Err(format!(
        "range `{text}`: start, end and step must be all numbers (1..10:3) or all durations (30s..90s:30s, 1m..3m:30s)"
    ))
}

fn too_many(text: &str, n: u64) -> String {
    format!("range `{text}` has {n} points; at most {MAX_GRID_POINTS}")
}

fn range(text: &str) -> Option<Result<Vec<SetValue>, String>> {
    if !text.contains("..") {
        return None;
    }
    let Some((span, step)) = text.rsplit_once(':') else {
        return Some(Err(format!(
            "range `{text}` has no step; write start..end:step, e.g. 1..10:3 or 30s..90s:30s"
        )));
    };
    let Some((a, b)) = span.split_once("..") else {
        return Some(Err(format!("`{text}` is not a range start..end:step")));
    };
    let need = || format!("range `{text}` needs start <= end and a positive step");
    Some(match range_ends(text, a, b, step) {
        Err(e) => Err(e),
        Ok(Ends::Durations(a, b, step)) => {
            if step == 0 || b < a {
                return Some(Err(need()));
            }
            let n = ((b - a) / step).saturating_add(1);
            if n > MAX_GRID_POINTS {
                return Some(Err(too_many(text, n)));
            }
            Ok((0..n)
                .map(|i| {
                    let d = SimDuration::from_nanos(a + step * i);
                    let text = format!("{}s", crate::output::exact(d.as_secs_f64()));
                    SetValue {
                        at: KeyValue::Num(d.as_secs_f64()),
                        value: Value::String(text.clone()),
                        text,
                    }
                })
                .collect())
        }
        Ok(Ends::Numbers(a, b, step)) => (|| {
            if step.is_nan() || step <= 0.0 || b < a || !a.is_finite() || !b.is_finite() {
                return Err(need());
            }
            let n = ((b - a) / step + 1e-9).floor() as u64 + 1;
            if n > MAX_GRID_POINTS {
                return Err(too_many(text, n));
            }
            let integral = [a, b, step].iter().all(|v| v.fract() == 0.0);
            Ok((0..n)
                .map(|i| {
                    let x = a + step * i as f64;
                    if integral {
                        SetValue {
                            at: KeyValue::Num(x),
                            value: Value::Integer(x as i64),
                            text: format!("{}", x as i64),
                        }
                    } else {
                        let x = (x * 1e9).round() / 1e9;
                        SetValue {
                            at: KeyValue::Num(x),
                            value: Value::Float(x),
                            text: format!("{x}"),
                        }
                    }
                })
                .collect())
        })(),
    })
}

/// Parses one `--set KEYS=VALUES` argument.
pub fn parse_set(arg: &str) -> Result<SetSpec, String> {
    let (keys, values) = arg
        .split_once('=')
        .ok_or_else(|| format!("--set `{arg}`: expected KEY=VALUES, e.g. workload.concurrency=1,2,5,10 or workload.jobs=100..500:100"))?;
    let keys: Vec<String> = keys.split(',').map(|k| k.trim().to_string()).collect();
    let name = keys.join(",");
    if keys.len() > MAX_KEYS {
        return Err(format!(
            "--set {name}: {} keys zipped; a sweep sets at most {MAX_KEYS} keys",
            keys.len()
        ));
    }
    let paths = keys
        .iter()
        .map(|k| parse_path(k).map_err(|e| format!("--set {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(k) = keys
        .iter()
        .enumerate()
        .find_map(|(i, k)| keys[..i].contains(k).then_some(k))
    {
        return Err(format!("--set {name}: `{k}` is zipped twice"));
    }
    let values = values.trim();
    let values: Vec<Vec<SetValue>> = if keys.len() == 1 {
        match range(values) {
            Some(r) => r.map_err(|e| format!("--set {name}: {e}"))?,
            None => values
                .split(',')
                .map(|v| parse_value(v).map_err(|e| format!("--set {name}: {e}")))
                .collect::<Result<Vec<_>, _>>()?,
        }
        .into_iter()
        .map(|v| vec![v])
        .collect()
    } else {
        values
            .split(',')
            .map(|tuple| {
                let parts: Vec<&str> = tuple.split(':').collect();
                if tuple.contains("..") {
                    return Err(format!(
                        "--set {name}: zipped keys take listed values, not ranges (`{}`); list each step, e.g. {}",
                        tuple.trim(),
                        zipped_example(keys.len())
                    ));
                }
                if parts.len() != keys.len() {
                    return Err(format!(
                        "--set {name}: `{}` has {} values; zipped keys take one value per key at each step, separated by `:`, e.g. {}",
                        tuple.trim(),
                        parts.len(),
                        zipped_example(keys.len())
                    ));
                }
                parts
                    .iter()
                    .map(|v| parse_value(v).map_err(|e| format!("--set {name}: {e}")))
                    .collect()
            })
            .collect::<Result<_, _>>()?
    };
    if values.is_empty() {
        return Err(format!("--set {name}: no values"));
    }
    if keys.len() > 1 {
        // The first zipped key is the x axis: one position per step.
        for (i, v) in values.iter().enumerate() {
            if values[..i].iter().any(|w| w[0].at == v[0].at) {
                return Err(format!(
                    "--set {name}: `{}` of `{}` comes twice; the first of zipped keys is charted along the x axis, so its values must differ",
                    v[0].text, keys[0]
                ));
            }
        }
    }
    Ok(SetSpec {
        keys,
        paths,
        values,
    })
}

fn zipped_example(n: usize) -> String {
    let one: Vec<String> = (1..=n).map(|k| format!("{k}")).collect();
    let two: Vec<String> = (1..=n).map(|k| format!("{}", k * 2)).collect();
    format!("K1,...={},{}", one.join(":"), two.join(":"))
}
/// Sets `path` in `table` to `value`. The table holding the last key must exist; the
/// key itself may be new (validation then decides whether it belongs there). A key that
/// holds a table or array cannot be set to a number. In an array of named tables
/// (`policies`), a name picks the entry of that `name`.
pub fn set(table: &mut Table, key: &str, path: &[Seg], value: Value) -> Result<(), String> {
    let mut root = Value::Table(std::mem::take(table));
    let result = set_in(&mut root, key, path, value);
    if let Value::Table(t) = root {
        *table = t;
    }
    result
}

/// The entry of `array` whose `name` is `name`, or an error listing the names.
fn named<'a>(
    array: &'a mut [Value],
    name: &str,
    key: &str,
    walked: &str,
) -> Result<&'a mut Value, String> {
    let name_of = |v: &Value| v.get("name").and_then(Value::as_str).map(str::to_string);
    let names: Vec<String> = array.iter().filter_map(name_of).collect();
    if names.is_empty() {
        return Err(format!(
            "--set {key}: `{walked}` is an array; address its entries by index, e.g. {walked}[0]"
        ));
    }
    match array.iter().position(|v| name_of(v).as_deref() == Some(name)) {
        Some(i) => Ok(&mut array[i]),
        None => Err(format!(
            "--set {key}: `{walked}` has no entry named `{name}`; names: {} (or an index, {walked}[0])",
            names.join(", ")
        )),
    }
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
            (Seg::Key(k), Value::Array(a)) => {
                let entry = named(a, k, key, &walked)?;
                walked.push('.');
                walked.push_str(k);
                entry
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

/// Every point of the grid, as one step index per axis (the last axis varies fastest).
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

/// Every key the sets set, in order (zipped keys one after another).
pub fn keys(sets: &[SetSpec]) -> Vec<String> {
    sets.iter().flat_map(|s| s.keys.iter().cloned()).collect()
}

/// `key=value ...` of grid point `point`, as the user wrote them.
pub fn describe(sets: &[SetSpec], point: &[usize]) -> String {
    sets.iter()
        .zip(point)
        .flat_map(|(s, &i)| {
            s.keys
                .iter()
                .zip(&s.values[i])
                .map(|(k, v)| format!("{k}={}", v.text))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Builds the scenario of every grid point from the scenario file's text, checking all
/// of them before anything runs. Errors name the `--set` and what is wrong; a grid of
/// more than [`MAX_GRID_POINTS`] points, or more than [`MAX_KEYS`] keys, is refused
/// before any is built.
pub fn scenarios(
    text: &str,
    file: &Path,
    sets: &[SetSpec],
) -> Result<Vec<(Vec<usize>, Scenario)>, String> {
    let all = keys(sets);
    if all.len() > MAX_KEYS {
        return Err(format!(
            "the --set options set {} keys; a sweep sets at most {MAX_KEYS}",
            all.len()
        ));
    }
    if let Some(k) = all
        .iter()
        .enumerate()
        .find_map(|(i, k)| all[..i].contains(k).then_some(k))
    {
        return Err(format!(
            "--set {k}: the key is set twice; give it one --set"
        ));
    }
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
        for (s, &i) in sets.iter().zip(&point) {
            for ((key, path), v) in s.keys.iter().zip(&s.paths).zip(&s.values[i]) {
                set(&mut table, key, path, v.value.clone())?;
            }
        }
        let text = toml::to_string(&table).map_err(|e| e.to_string())?;
        let scenario = parse_str(&text, file, dir, &stem).map_err(|mut e| {
            // The line would be one of the rewritten text, not of the file.
            e.line = None;
            e.column = None;
            format!("with --set {}: {e}", describe(sets, &point))
        })?;
        out.push((point, scenario));
    }
    Ok(out)
}

/// The swept keys' values at grid point `point`, in the order of [`keys`].
pub fn point_keys(sets: &[SetSpec], point: &[usize]) -> Vec<KeyValue> {
    sets.iter()
        .zip(point)
        .flat_map(|(s, &i)| s.values[i].iter().map(|v| v.at.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xs(s: &SetSpec) -> Vec<KeyValue> {
        s.values.iter().map(|v| v[0].at.clone()).collect()
    }

    fn nums(v: &[f64]) -> Vec<KeyValue> {
        v.iter().map(|&x| KeyValue::Num(x)).collect()
    }

    #[test]
    fn parses_lists_ranges_and_durations() {
        let s = parse_set("workload.concurrency=1,2,5").unwrap();
        assert_eq!(xs(&s), nums(&[1.0, 2.0, 5.0]));
        let s = parse_set("providers.claude.limits[0].limit=4..10:3").unwrap();
        assert_eq!(s.paths[0].len(), 5);
        assert_eq!(xs(&s), nums(&[4.0, 7.0, 10.0]));
        let s = parse_set("x.rate=0.1..0.3:0.1").unwrap();
        assert_eq!(s.values.len(), 3);
        let s = parse_set("providers.claude.reject_latency=100ms,1s").unwrap();
        assert_eq!(s.values[1][0].at, KeyValue::Num(1.0));
        for bad in [
            "workload.concurrency",
            "workload..x=1",
            "a[x]=1",
            "a=1,,2",
            "a=5..1:1",
            "a=1..5:0",
            "a=1..5s:1",
            "a=1s..5s:0s",
            "a,b=1:2,3",
            "a,b=1:2,1:3",
            "a,a=1:2",
            "a,b,c,d,e,f,g,h,i=1:1:1:1:1:1:1:1:1",
            "policies.\"x=1",
            "a=1..5",
            "a,b=1..2:3",
        ] {
            assert!(parse_set(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn duration_ranges_step_in_nanoseconds_and_mix_units() {
        let s = parse_set("k=30s..90s:30s").unwrap();
        assert_eq!(xs(&s), nums(&[30.0, 60.0, 90.0]));
        assert_eq!(s.values[2][0].value, Value::String("90s".into()));
        let s = parse_set("k=1m..3m:30s").unwrap();
        assert_eq!(xs(&s), nums(&[60.0, 90.0, 120.0, 150.0, 180.0]));
        let s = parse_set("k=100ms..300ms:100ms").unwrap();
        assert_eq!(s.values[2][0].text, "0.3s");
    }

    #[test]
    fn values_are_numbers_then_durations_then_booleans_then_strings() {
        let s = parse_set("k=2,2.5,30s,true,none").unwrap();
        let v: Vec<&Value> = s.values.iter().map(|v| &v[0].value).collect();
        assert_eq!(
            v,
            [
                &Value::Integer(2),
                &Value::Float(2.5),
                &Value::String("30s".into()),
                &Value::Boolean(true),
                &Value::String("none".into())
            ]
        );
        assert_eq!(s.values[4][0].at, KeyValue::Text("none".into()));
    }

    #[test]
    fn zipped_keys_are_one_axis() {
        let s = parse_set("a.x,a.y=1000:16.7,2000:33.3").unwrap();
        assert_eq!(s.keys, ["a.x", "a.y"]);
        assert_eq!(s.values.len(), 2);
        assert_eq!(s.values[1][1].value, Value::Float(33.3));
        let b = parse_set("b=1,2,3").unwrap();
        let sets = [s, b];
        assert_eq!(grid(&sets).len(), 6);
        assert_eq!(point_keys(&sets, &[1, 2]), nums(&[2000.0, 33.3, 3.0]));
    }

    #[test]
    fn paths_take_names_quoted_names_and_indices() {
        let p = parse_path("policies.\"a.b c\".guards[0][1].limit").unwrap();
        assert_eq!(
            p,
            [
                Seg::Key("policies".into()),
                Seg::Key("a.b c".into()),
                Seg::Key("guards".into()),
                Seg::Index(0),
                Seg::Index(1),
                Seg::Key("limit".into()),
            ]
        );
    }

    #[test]
    fn a_policy_name_picks_its_entry_and_an_unknown_name_lists_the_names() {
        let mut t: Table = toml::from_str(
            "[[policies]]\nname = \"a\"\n[[policies]]\nname = \"b.c\"\nretry = { max_attempts = 1 }\n",
        )
        .unwrap();
        let s = parse_set("policies.\"b.c\".retry.max_attempts=3").unwrap();
        set(&mut t, &s.keys[0], &s.paths[0], Value::Integer(3)).unwrap();
        assert_eq!(
            t["policies"][1]["retry"]["max_attempts"].as_integer(),
            Some(3)
        );
        let s = parse_set("policies.z.retry.max_attempts=3").unwrap();
        let e = set(&mut t, &s.keys[0], &s.paths[0], Value::Integer(3)).unwrap_err();
        assert!(e.contains("no entry named `z`; names: a, b.c"), "{e}");
    }

    #[test]
    fn grid_is_the_cartesian_product() {
        let a = parse_set("a=1,2").unwrap();
        let b = parse_set("b=1,2,3").unwrap();
        assert_eq!(grid(&[a, b]).len(), 6);
    }
}
