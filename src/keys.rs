//! Key paths (`providers.claude.limits[0].window`) and the errors that name them, and
//! the reader of one kind's settings (a rate limit, a guard) from its TOML table: typed
//! getters that report a bad value with its key path and what would be valid, and the
//! check that every key set is one the kind takes. Also the scalar checks the rest of
//! the parser shares (positive numbers, durations, statuses, provider names).

use std::fmt;

use toml::{Table, Value};

use crate::time::{SimDuration, MAX_SIM_TIME};

/// One step of a key path: a table key or an array index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// `.key`
    Key(String),
    /// `[i]`
    Index(usize),
}

/// A dotted key path such as `providers.claude.limits[0].window`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    /// This path extended by a key.
    pub fn key(&self, k: &str) -> KeyPath {
        let mut v = self.0.clone();
        v.push(Seg::Key(k.to_string()));
        KeyPath(v)
    }

    /// This path extended by an index.
    pub fn index(&self, i: usize) -> KeyPath {
        let mut v = self.0.clone();
        v.push(Seg::Index(i));
        KeyPath(v)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A validation error before it is placed in the file.
#[derive(Clone, Debug)]
pub(crate) struct Invalid {
    pub path: KeyPath,
    pub message: String,
}

/// A check's result: the value, or what is wrong and where.
pub(crate) type R<T> = Result<T, Invalid>;

/// An error at `path`.
pub(crate) fn invalid<T>(path: &KeyPath, message: impl Into<String>) -> R<T> {
    Err(Invalid {
        path: path.clone(),
        message: message.into(),
    })
}

/// `v`, or an error saying it is missing and `what` it should be.
pub(crate) fn require<T>(v: Option<T>, path: &KeyPath, what: &str) -> R<T> {
    match v {
        Some(v) => Ok(v),
        None => invalid(path, format!("missing; {what}")),
    }
}

/// Names as a scenario file writes them: `"a", "b" or "c"`.
pub(crate) fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

pub(crate) fn positive_int(v: i64, path: &KeyPath, what: &str) -> R<u64> {
    if v <= 0 {
        invalid(
            path,
            format!("{what} must be a positive whole number (got {v})"),
        )
    } else {
        Ok(v as u64)
    }
}

/// A positive whole number that fits `max`.
pub(crate) fn bounded_int(v: i64, path: &KeyPath, what: &str, max: u64) -> R<u64> {
    let v = positive_int(v, path, what)?;
    if v > max {
        invalid(path, format!("{what} must be at most {max} (got {v})"))
    } else {
        Ok(v)
    }
}

pub(crate) fn non_negative(v: f64, path: &KeyPath, what: &str) -> R<f64> {
    if !v.is_finite() || v < 0.0 {
        invalid(path, format!("{what} must be a number >= 0 (got {v})"))
    } else {
        Ok(v)
    }
}

pub(crate) fn positive(v: f64, path: &KeyPath, what: &str) -> R<f64> {
    if !v.is_finite() || v <= 0.0 {
        invalid(path, format!("{what} must be a number > 0 (got {v})"))
    } else {
        Ok(v)
    }
}

/// The largest routing weight: a sum of at most 256 of them stays finite and exact
/// enough to draw from.
pub const MAX_WEIGHT: f64 = 1e9;

/// A routing weight: a number > 0 and at most [`MAX_WEIGHT`].
pub(crate) fn weight(v: f64, path: &KeyPath) -> R<f64> {
    let w = positive(v, path, "a weight")?;
    if w > MAX_WEIGHT {
        return invalid(
            path,
            format!("a weight must be at most {MAX_WEIGHT:e} (got {w:e})"),
        );
    }
    Ok(w)
}

pub(crate) fn status(v: i64, path: &KeyPath) -> R<u16> {
    if (100..=599).contains(&v) {
        Ok(v as u16)
    } else {
        invalid(
            path,
            format!("an HTTP status code from 100 to 599 (got {v})"),
        )
    }
}

/// How a duration is written, for messages;
/// a unit test checks it names every spelling of [`crate::time::DURATION_UNITS`].
pub(crate) const DURATION_HELP: &str =
    "a duration string: a number and a unit, or several from the largest unit to the \
     smallest (\"250ms\", \"1.5s\", \"5min\", \"1m30s\", \"1h 30m\"); units: d (day, days), \
     h (hr, hrs, hour, hours), m (min, mins, minute, minutes), s (sec, secs, second, \
     seconds), ms, us (µs), ns";

/// A duration string, at most the longest a run may simulate ([`MAX_SIM_TIME`], 100
/// years): a longer wait or period could never end within a run.
pub(crate) fn duration(v: &Value, path: &KeyPath) -> R<SimDuration> {
    match v {
        Value::String(s) => match SimDuration::parse(s) {
            Some(t) if t.as_nanos() > MAX_SIM_TIME.as_nanos() => invalid(
                path,
                format!(
                    "`{s}` is longer than 100 years ({} s), the longest a run may simulate",
                    MAX_SIM_TIME.as_nanos() / 1_000_000_000
                ),
            ),
            Some(t) => Ok(t),
            None => invalid(path, format!("`{s}` is not {DURATION_HELP}")),
        },
        other => invalid(
            path,
            format!("expected {DURATION_HELP}, found {}", other.type_str()),
        ),
    }
}

pub(crate) fn positive_duration(v: &Value, path: &KeyPath) -> R<SimDuration> {
    let t = duration(v, path)?;
    if t == SimDuration::ZERO {
        invalid(path, format!("must be longer than zero; {DURATION_HELP}"))
    } else {
        Ok(t)
    }
}

pub(crate) fn provider_ref(name: &str, path: &KeyPath, names: &[&str]) -> R<usize> {
    names.iter().position(|n| *n == name).map_or_else(
        || {
            invalid(
                path,
                format!(
                    "no provider named `{name}`; defined providers: {}",
                    names.join(", ")
                ),
            )
        },
        Ok,
    )
}

pub(crate) fn provider_list(
    v: Option<&Vec<String>>,
    path: &KeyPath,
    names: &[&str],
    what: &str,
) -> R<Vec<usize>> {
    let v = require(v, path, what)?;
    if v.is_empty() {
        return invalid(path, format!("empty provider list; {what}"));
    }
    v.iter()
        .enumerate()
        .map(|(i, n)| provider_ref(n, &path.index(i), names))
        .collect()
}

/// The value as the type error names it, e.g. `string "8"` or ``integer `3` ``.
fn found(v: &Value) -> String {
    match v {
        Value::String(s) => format!("string {s:?}"),
        Value::Integer(i) => format!("integer `{i}`"),
        Value::Float(f) if f.is_finite() && f.fract() == 0.0 => format!("floating point `{f}.0`"),
        Value::Float(f) => format!("floating point `{f}`"),
        Value::Boolean(b) => format!("boolean `{b}`"),
        Value::Datetime(d) => format!("datetime `{d}`"),
        Value::Array(_) => "an array".into(),
        Value::Table(_) => "a table".into(),
    }
}

fn wrong_type<T>(v: &Value, path: &KeyPath, expected: &str) -> R<T> {
    invalid(
        path,
        format!("invalid type: {}, expected {expected}", found(v)),
    )
}

/// One kind's table of settings, at `path` in the file.
pub(crate) struct Keys<'a> {
    table: &'a Table,
    path: KeyPath,
}

impl<'a> Keys<'a> {
    /// The settings in `table`, written at `path`.
    pub(crate) fn new(table: &'a Table, path: KeyPath) -> Self {
        Keys { table, path }
    }

    /// Where the table is.
    pub(crate) fn path(&self) -> &KeyPath {
        &self.path
    }

    /// Where `key` is.
    pub(crate) fn at(&self, key: &str) -> KeyPath {
        self.path.key(key)
    }

    /// An error at `key`.
    pub(crate) fn invalid<T>(&self, key: &str, message: impl Into<String>) -> R<T> {
        invalid(&self.at(key), message)
    }

    /// `v`, or an error saying `key` is missing and `what` it should be.
    pub(crate) fn require<T>(&self, v: Option<T>, key: &str, what: &str) -> R<T> {
        require(v, &self.at(key), what)
    }

    /// The `kind` string; `kinds` lists the valid ones for the message when it is missing.
    pub(crate) fn kind(&self, kinds: &[&str]) -> R<&'a str> {
        let kind = self.str("kind")?;
        self.require(kind, "kind", &format!("expected {}", one_of(kinds)))
    }

    /// Errors at the first key (other than `kind`) that `kind` does not take.
    pub(crate) fn only(&self, kind: &str, allowed: &[&str]) -> R<()> {
        self.check_keys(
            &format!("kind = \"{kind}\""),
            |key| key == "kind" || allowed.contains(&key),
            allowed,
        )
    }

    /// Errors at the first key that is not in `allowed`; `what` names the table in the
    /// message (for a table without a kind, e.g. `"a condition"`).
    pub(crate) fn known(&self, what: &str, allowed: &[&str]) -> R<()> {
        self.check_keys(what, |key| allowed.contains(&key), allowed)
    }

    fn check_keys(&self, what: &str, ok: impl Fn(&str) -> bool, allowed: &[&str]) -> R<()> {
        for key in self.table.keys() {
            if !ok(key) {
                return self.invalid(
                    key,
                    format!("not a setting of {what}; it takes: {}", allowed.join(", ")),
                );
            }
        }
        Ok(())
    }

    /// Whether the table has no key.
    pub(crate) fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Every key and its value, for a table whose keys are data (a query's fields).
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&'a str, &'a Value)> {
        self.table.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// A whole number.
    pub(crate) fn int(&self, key: &str) -> R<Option<i64>> {
        match self.table.get(key) {
            None => Ok(None),
            Some(Value::Integer(i)) => Ok(Some(*i)),
            Some(v) => wrong_type(v, &self.at(key), "a whole number"),
        }
    }

    /// A number (whole numbers are numbers too).
    pub(crate) fn float(&self, key: &str) -> R<Option<f64>> {
        match self.table.get(key) {
            None => Ok(None),
            Some(Value::Float(f)) => Ok(Some(*f)),
            Some(Value::Integer(i)) => Ok(Some(*i as f64)),
            Some(v) => wrong_type(v, &self.at(key), "a number"),
        }
    }

    /// `true` or `false`.
    pub(crate) fn bool(&self, key: &str) -> R<Option<bool>> {
        match self.table.get(key) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(*b)),
            Some(v) => wrong_type(v, &self.at(key), "true or false"),
        }
    }

    /// A string.
    pub(crate) fn str(&self, key: &str) -> R<Option<&'a str>> {
        match self.table.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => wrong_type(v, &self.at(key), "a string"),
        }
    }

    /// An array of whole numbers.
    pub(crate) fn ints(&self, key: &str) -> R<Option<Vec<i64>>> {
        self.array(key, |v, path| match v {
            Value::Integer(i) => Ok(*i),
            v => wrong_type(v, path, "a whole number"),
        })
    }

    /// An array of numbers (whole numbers are numbers too).
    pub(crate) fn floats(&self, key: &str) -> R<Option<Vec<f64>>> {
        self.array(key, |v, path| match v {
            Value::Float(f) => Ok(*f),
            Value::Integer(i) => Ok(*i as f64),
            v => wrong_type(v, path, "a number"),
        })
    }

    /// A table, read like this one, at `key`.
    pub(crate) fn table(&self, key: &str) -> R<Option<Keys<'a>>> {
        match self.table.get(key) {
            None => Ok(None),
            Some(Value::Table(t)) => Ok(Some(Keys::new(t, self.at(key)))),
            Some(v) => wrong_type(v, &self.at(key), "a table"),
        }
    }

    /// An array of tables, each read like this one (a nested route's targets).
    pub(crate) fn tables(&self, key: &str) -> R<Option<Vec<Keys<'a>>>> {
        self.array(key, |v, path| match v {
            Value::Table(t) => Ok(Keys::new(t, path.clone())),
            v => wrong_type(v, path, "a table"),
        })
    }

    /// An array of strings.
    pub(crate) fn strings(&self, key: &str) -> R<Option<Vec<String>>> {
        self.array(key, |v, path| match v {
            Value::String(s) => Ok(s.clone()),
            v => wrong_type(v, path, "a string"),
        })
    }

    fn array<T>(&self, key: &str, item: impl Fn(&'a Value, &KeyPath) -> R<T>) -> R<Option<Vec<T>>> {
        let path = self.at(key);
        match self.table.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| item(v, &path.index(i)))
                .collect::<R<Vec<T>>>()
                .map(Some),
            Some(v) => wrong_type(v, &path, "an array [...]"),
        }
    }

    /// A positive whole number of at most `max`.
    pub(crate) fn at_most(&self, key: &str, max: u64) -> R<Option<u64>> {
        self.int(key)?
            .map(|v| bounded_int(v, &self.at(key), key, max))
            .transpose()
    }

    /// A positive whole number that fits a `u32`.
    pub(crate) fn count(&self, key: &str) -> R<Option<u32>> {
        self.int(key)?
            .map(|v| bounded_int(v, &self.at(key), key, u32::MAX as u64).map(|c| c as u32))
            .transpose()
    }

    /// A finite number > 0.
    pub(crate) fn positive(&self, key: &str) -> R<Option<f64>> {
        self.float(key)?
            .map(|v| positive(v, &self.at(key), key))
            .transpose()
    }

    /// A finite number >= 0.
    pub(crate) fn non_negative(&self, key: &str) -> R<Option<f64>> {
        self.float(key)?
            .map(|v| non_negative(v, &self.at(key), key))
            .transpose()
    }

    /// A number from 0 to `max`, `default` when unset.
    pub(crate) fn share(&self, key: &str, default: f64, max: f64) -> R<f64> {
        let x = self.float(key)?.unwrap_or(default);
        if !(0.0..=max).contains(&x) {
            return self.invalid(key, format!("{key} must be from 0 to {max} (got {x})"));
        }
        Ok(x)
    }

    /// A duration longer than zero.
    pub(crate) fn duration(&self, key: &str) -> R<Option<SimDuration>> {
        self.table
            .get(key)
            .map(|v| positive_duration(v, &self.at(key)))
            .transpose()
    }

    /// HTTP status codes.
    pub(crate) fn statuses(&self, key: &str) -> R<Option<Vec<u16>>> {
        let path = self.at(key);
        let Some(list) = self.ints(key)? else {
            return Ok(None);
        };
        list.iter()
            .enumerate()
            .map(|(i, c)| status(*c, &path.index(i)))
            .collect::<R<Vec<_>>>()
            .map(Some)
    }

    /// The index of the provider named by `key`, among `names`.
    pub(crate) fn provider(&self, key: &str, names: &[&str]) -> R<Option<usize>> {
        self.str(key)?
            .map(|n| provider_ref(n, &self.at(key), names))
            .transpose()
    }

    /// A non-empty list of providers among `names`; `what` says what it is for.
    pub(crate) fn providers(&self, key: &str, names: &[&str], what: &str) -> R<Vec<usize>> {
        provider_list(self.strings(key)?.as_ref(), &self.at(key), names, what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        text.parse().expect("valid TOML")
    }

    fn keys(t: &Table) -> Keys<'_> {
        Keys::new(t, KeyPath::default().key("limits").index(0))
    }

    fn error<T: std::fmt::Debug>(r: R<T>) -> (String, String) {
        let e = r.expect_err("should be refused");
        (e.path.to_string(), e.message)
    }

    #[test]
    fn the_duration_message_lists_every_accepted_unit() {
        let units = DURATION_HELP
            .split("units:")
            .nth(1)
            .expect("a list of units");
        let words: Vec<&str> = units
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| !w.is_empty())
            .collect();
        for (names, _) in crate::time::DURATION_UNITS {
            for name in *names {
                assert!(
                    words.contains(name),
                    "`{name}` missing from {DURATION_HELP}"
                );
            }
        }
        let (_, message) = error(duration(&Value::from("1 fortnight"), &KeyPath::default()));
        assert!(message.contains("units: d (day, days)"), "{message}");
    }

    #[test]
    fn a_type_error_names_the_path_and_the_expected_type() {
        let t = table("limit = \"8\"\nrate = true\nwindow = 60\ncodes = [429, \"500\"]");
        let k = keys(&t);
        assert_eq!(
            error(k.int("limit")),
            (
                "limits[0].limit".into(),
                "invalid type: string \"8\", expected a whole number".into()
            )
        );
        assert_eq!(
            error(k.positive("rate")).1,
            "invalid type: boolean `true`, expected a number"
        );
        assert!(error(k.duration("window")).1.contains("found integer"));
        assert_eq!(error(k.statuses("codes")).0, "limits[0].codes[1]");
    }

    #[test]
    fn whole_numbers_are_numbers_but_not_the_other_way() {
        let t = table("capacity = 3\nlimit = 2.0");
        let k = keys(&t);
        assert_eq!(k.float("capacity").unwrap(), Some(3.0));
        assert_eq!(
            error(k.int("limit")).1,
            "invalid type: floating point `2.0`, expected a whole number"
        );
    }

    #[test]
    fn unset_keys_are_none_and_required_ones_say_what_they_are() {
        let t = table("kind = \"x\"");
        let k = keys(&t);
        assert_eq!(k.count("limit").unwrap(), None);
        assert_eq!(k.share("ratio", 0.2, 1.0).unwrap(), 0.2);
        assert_eq!(
            error(k.require(k.duration("ttl").unwrap(), "ttl", "how long")),
            ("limits[0].ttl".into(), "missing; how long".into())
        );
    }

    #[test]
    fn a_key_the_kind_does_not_take_is_refused_with_the_list() {
        let t = table("kind = \"gcra\"\nlimit = 1\ncapacity = 3");
        let k = keys(&t);
        assert!(k.only("gcra", &["limit", "capacity"]).is_ok());
        assert_eq!(
            error(k.only("gcra", &["limit", "period"])),
            (
                "limits[0].capacity".into(),
                "not a setting of kind = \"gcra\"; it takes: limit, period".into()
            )
        );
    }

    #[test]
    fn kinds_are_listed_as_written() {
        assert_eq!(one_of(&["a"]), "\"a\"");
        assert_eq!(one_of(&["a", "b", "c"]), "\"a\", \"b\" or \"c\"");
        let t = table("unit = \"requests\"");
        assert_eq!(
            error(keys(&t).kind(&["a", "b"])).1,
            "missing; expected \"a\" or \"b\""
        );
    }
}
