//! The module structure the design promises: the top-level modules follow the data flow
//! and form no cycle, the foundations depend on nothing, and outputs read plain data,
//! never the runner or the engine. Read from the source, so a new `use` that breaks the
//! layering fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`None` for lib.rs and main.rs).
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel
        .components()
        .next()?
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// The top-level modules that `code` names through `crate::` paths, grouped imports
/// (`use crate::{a, b::c}`) included.
fn referenced(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // e.g. `ratesim::` is not `crate::`
        }
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Each item at the group's top level starts a path.
            let (mut depth, mut start) = (1, 0);
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' | ',' if depth == 1 => {
                        out.insert(ident(&group[start..j]));
                        start = j + 1;
                        if c == '}' {
                            break;
                        }
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|n| !n.is_empty() && n.chars().all(|c| !c.is_uppercase()));
    out
}

/// Code outside comments and unit tests.
fn code_of(text: &str) -> String {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Top-level modules each module refers to through `crate::` paths, outside comments
/// and unit tests.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(module) = top_module(&src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        let mut deps = referenced(&code_of(&text));
        deps.remove(&module);
        graph.entry(module).or_default().extend(deps);
    }
    graph
}

/// The modules in dependency order: each may use only those before it. The leaves
/// first, then the model, the parser, the records the engine writes, the engine, and
/// the stages after it.
const ORDER: &[&str] = &[
    "time", "rng", "dist", "keys", "provider", "workload", "policy", "scenario", "metrics",
    "engine", "runner", "stats", "output", "live", "cli", "commands",
];

#[test]
fn each_module_uses_only_the_ones_before_it() {
    let graph = dependencies();
    let rank = |m: &str| ORDER.iter().position(|&o| o == m);
    for (module, deps) in &graph {
        let Some(r) = rank(module) else {
            panic!("module `{module}` is not in the documented order {ORDER:?}");
        };
        for d in deps {
            let Some(rd) = rank(d) else {
                panic!("`{module}` uses `{d}`, which is not in the documented order");
            };
            assert!(
                rd < r || (module == "time" && d == "time"),
                "`{module}` uses `{d}`, which comes after it in {ORDER:?}"
            );
        }
    }
}

#[test]
fn the_scanner_sees_plain_and_grouped_paths() {
    let code = "use crate::engine::Sim;\nuse crate::{metrics::{Catalog, Results}, stats};\n\
                let x = ratesim::runner::replicate; crate::output::human(1.0); crate::Foo;";
    let found: Vec<String> = referenced(code).into_iter().collect();
    assert_eq!(found, ["engine", "metrics", "output", "stats"]);
}

/// A cycle through `start`, if there is one.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in graph.get(at).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, start, next, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    walk(graph, start, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn top_level_modules_form_no_cycle() {
    let graph = dependencies();
    assert!(graph.len() >= 10, "modules found: {:?}", graph.keys());
    for module in graph.keys() {
        if let Some(cycle) = cycle_from(&graph, module) {
            panic!("module cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn foundations_depend_on_nothing_and_outputs_read_plain_data() {
    let graph = dependencies();
    for leaf in ["time", "rng", "dist", "keys"] {
        let deps = &graph[leaf];
        assert!(
            deps.iter().all(|d| d == "time"),
            "{leaf} should be a leaf, uses {deps:?}"
        );
    }
    for (module, forbidden) in [
        ("output", ["engine", "runner", "commands"]),
        ("stats", ["engine", "runner", "output"]),
        ("engine", ["runner", "stats", "output"]),
        ("policy", ["engine", "scenario", "metrics"]),
        ("provider", ["engine", "scenario", "policy"]),
    ] {
        for f in forbidden {
            assert!(
                !graph[module].contains(f),
                "{module} must not use {f}: {:?}",
                graph[module]
            );
        }
    }
}

#[test]
fn the_checker_sees_a_cycle() {
    // The check itself: a graph with a back edge has a cycle, one without has none.
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    assert_eq!(cycle_from(&graph, "a"), None);
    graph.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        cycle_from(&graph, "a"),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
