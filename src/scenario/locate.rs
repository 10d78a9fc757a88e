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
}
