//! Finds where a key path is written in a TOML text, for error messages.

use toml::de::{DeTable, DeValue};

use super::{KeyPath, Seg};

/// 1-based line and column of byte offset `at`.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Line and column of the deepest part of `path` present in `text`.
pub fn find(text: &str, path: &KeyPath) -> Option<(usize, usize)> {
    let root = DeTable::parse(text).ok()?;
    let mut table: Option<&DeTable> = Some(root.get_ref());
    let mut value: Option<&DeValue> = None;
    let mut best: Option<usize> = None;
    for seg in &path.0 {
        match seg {
            Seg::Key(k) => {
                let t = match (table, value) {
                    (Some(t), _) => t,
                    (None, Some(DeValue::Table(t))) => t,
                    _ => break,
                };
                let Some((key, v)) = t
                    .iter()
                    .find(|(key, _)| key.get_ref().as_ref() == k.as_str())
                else {
                    break;
                };
                best = Some(key.span().start);
                table = None;
                value = Some(v.get_ref());
            }
            Seg::Index(i) => {
                let Some(DeValue::Array(items)) = value else {
                    break;
                };
                let Some(item) = items.get(*i) else {
                    break;
                };
                best = Some(item.span().start);
                table = None;
                value = Some(item.get_ref());
            }
        }
    }
    best.map(|at| line_col(text, at))
}

/// The key path of the innermost key or value written at byte offset `at`.
pub fn key_at(text: &str, at: usize) -> Option<KeyPath> {
    let root = DeTable::parse(text).ok()?;
    let mut path = KeyPath::default();
    let mut found = false;
    walk_table(root.get_ref(), at, &mut path, &mut found);
    found.then_some(path)
}

/// The key path of a duplicated key whose second occurrence starts at byte offset `at`
/// (text with a duplicate key does not parse, so [`key_at`] cannot see it): the
/// duplicate is renamed to a placeholder, the text parsed, and the placeholder's path
/// taken; other duplicates later found in the text are renamed too, so that it parses.
/// `None` when that does not work out (a duplicated table header, another error).
pub fn duplicate_key_at(text: &str, at: usize) -> Option<KeyPath> {
    let (mut patched, key, placeholder) = rename(text, at, 0)?;
    // Other duplicates would keep the text from parsing: rename them as well.
    for n in 1..=64 {
        match DeTable::parse(&patched) {
            Ok(_) => break,
            Err(e) if e.message().starts_with("duplicate key") => {
                let other = e.span()?.start;
                if other <= at {
                    return None;
                }
                patched = rename(&patched, other, n)?.0;
            }
            Err(_) => return None,
        }
    }
    let mut path = key_at(&patched, at)?;
    match path.0.last_mut() {
        Some(Seg::Key(k)) if *k == placeholder => *k = key,
        _ => return None,
    }
    Some(path)
}

/// `text` with the key written at `at` renamed to a placeholder (numbered `n`), the
/// key, and the placeholder.
fn rename(text: &str, at: usize, n: usize) -> Option<(String, String, String)> {
    let rest = text.get(at..)?;
    // A bare key, or a quoted one without escapes ("a b", 'a b'): its text, and the
    // length of the key as written.
    let (key, len, quote) = match rest.chars().next()? {
        quote @ ('"' | '\'') => {
            let end = rest[1..].find(quote)?;
            let key = &rest[1..1 + end];
            if key.contains(['\\', '\n']) {
                return None;
            }
            (key, end + 2, quote)
        }
        _ => {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(rest.len());
            (&rest[..len], len, '"')
        }
    };
    if key.is_empty() {
        return None;
    }
    let placeholder = format!("{key}__ratesim_duplicate{n}");
    let patched = format!("{}{quote}{placeholder}{quote}{}", &text[..at], &rest[len..]);
    Some((patched, key.to_string(), placeholder))
}

fn walk_table(t: &DeTable, at: usize, path: &mut KeyPath, found: &mut bool) {
    for (k, v) in t.iter() {
        let in_key = k.span().contains(&at);
        if in_key || v.span().contains(&at) {
            path.0.push(Seg::Key(k.get_ref().to_string()));
            *found = true;
            if !in_key {
                walk_value(v.get_ref(), at, path, found);
            }
            return;
        }
    }
    // Tables written as `[section]` headers may not cover their keys' spans: look
    // inside every sub-table for the offset.
    for (k, v) in t.iter() {
        let mut inner = KeyPath(vec![Seg::Key(k.get_ref().to_string())]);
        let mut hit = false;
        walk_value(v.get_ref(), at, &mut inner, &mut hit);
        if hit {
            path.0.extend(inner.0);
            *found = true;
            return;
        }
    }
}

fn walk_value(v: &DeValue, at: usize, path: &mut KeyPath, found: &mut bool) {
    match v {
        DeValue::Table(t) => walk_table(t, at, path, found),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let mut inner = KeyPath(vec![Seg::Index(i)]);
                let mut hit = item.span().contains(&at);
                walk_value(item.get_ref(), at, &mut inner, &mut hit);
                if hit {
                    path.0.extend(inner.0);
                    *found = true;
                    return;
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_keys_in_tables_arrays_and_inline_tables() {
        let text = "name = \"x\"\n[providers.claude]\nlimits = [\n  { kind = \"sliding_window\", window = \"0s\" },\n]\n[[policies]]\nname = \"a\"\n[[policies]]\nname = \"b\"\n";
        let p = KeyPath::default()
            .key("providers")
            .key("claude")
            .key("limits")
            .index(0)
            .key("window");
        assert_eq!(find(text, &p).map(|l| l.0), Some(4));
        let p = KeyPath::default().key("policies").index(1).key("name");
        assert_eq!(find(text, &p).map(|l| l.0), Some(9));
    }

    #[test]
    fn names_a_duplicated_key() {
        let text = "[workload]\njobs = 5\njobs = 6\n[[policies]]\nname = \"a\"\n";
        let at = text.rfind("jobs").unwrap();
        assert_eq!(
            duplicate_key_at(text, at).unwrap().to_string(),
            "workload.jobs"
        );
        let text = "[[policies]]\nname = \"a\"\n[[policies]]\nroute = { kind = \"single\", kind = \"chain\" }\n";
        let at = text.rfind("kind").unwrap();
        assert_eq!(
            duplicate_key_at(text, at).unwrap().to_string(),
            "policies[1].route.kind"
        );
        // A duplicated table header is not a key.
        assert_eq!(duplicate_key_at("[a]\n[a]\n", 4), None);
        // Quoted keys, basic and literal.
        let text = "[providers.\"my api\"]\n\"price\" = 1\n\"price\" = 2\n";
        let at = text.rfind("\"price\"").unwrap();
        assert_eq!(
            duplicate_key_at(text, at).unwrap().to_string(),
            "providers.my api.price"
        );
        // Guards: a second duplicate later in the file kept the first from being named.
        let text = "[[policies]]\nretry_by_provider.api = { max_attempts = 2 }\nretry_by_provider.api = {}\n[[policies]]\nname = \"q\"\nname = \"r\"\n";
        let at = text.rfind("api").unwrap();
        assert_eq!(
            duplicate_key_at(text, at).unwrap().to_string(),
            "policies[0].retry_by_provider.api"
        );
        let text = "[workload]\nx = { min = 1, min = 2 }\ny = [{ 'limit' = 3, limit = 4 }]\n";
        let at = text.find("min = 2").unwrap();
        assert_eq!(
            duplicate_key_at(text, at).unwrap().to_string(),
            "workload.x.min"
        );
        let text = "[workload]\n'jobs' = 1\n'jobs' = 2\n";
        let at = text.rfind("'jobs'").unwrap();
        assert_eq!(
            duplicate_key_at(text, at).unwrap().to_string(),
            "workload.jobs"
        );
    }

    #[test]
    fn names_the_key_at_an_offset() {
        let text = "[workload]\njobs = \"ten\"\n[[policies]]\nname = \"a\"\n[[policies]]\nroute = { kind = \"single\", provider = 1 }\n";
        let at = text.find("\"ten\"").unwrap();
        assert_eq!(key_at(text, at).unwrap().to_string(), "workload.jobs");
        let at = text.find("1 }").unwrap();
        assert_eq!(
            key_at(text, at).unwrap().to_string(),
            "policies[1].route.provider"
        );
    }
}
