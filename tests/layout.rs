//! The layout rule, checked: a command file turns arguments into library calls and prints; it
//! imports no other command, and nothing in the library reaches up into `src/cmd/`; only the
//! commands import the command line; and the module graph has no circles.

use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The lines of `path` that name a command module from outside `src/cmd/mod.rs`.
fn reaches_into_commands(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .filter(|line| line.contains("crate::cmd::") || line.contains("portico::cmd::"))
        .map(|line| format!("{}: {}", path.display(), line.trim()))
        .collect()
}

#[test]
fn no_command_imports_another() {
    let mut files = Vec::new();
    rust_files(&src().join("cmd"), &mut files);
    let mut found = Vec::new();
    for path in files.iter().filter(|p| !p.ends_with("cmd/mod.rs")) {
        found.extend(reaches_into_commands(path));
        let text = std::fs::read_to_string(path).unwrap();
        // `super::` from a command file can only reach `cmd/mod.rs` or a sibling command.
        found.extend(
            text.lines()
                .filter(|line| line.contains("super::") && !line.contains("super::*"))
                .filter(|line| !line.trim_start().starts_with("//"))
                .map(|line| format!("{}: {}", path.display(), line.trim())),
        );
    }
    assert!(
        found.is_empty(),
        "commands reaching into commands:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_library_never_reaches_up_into_the_commands() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let found: Vec<String> = files
        .iter()
        .filter(|p| !p.starts_with(src().join("cmd")) && !p.ends_with("main.rs"))
        .flat_map(|p| reaches_into_commands(p))
        .collect();
    assert!(
        found.is_empty(),
        "library code using src/cmd:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_exit_rs_turns_errors_into_exit_codes() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let found: Vec<String> = files
        .iter()
        .filter(|p| {
            !p.starts_with(src().join("cmd"))
                && !p.ends_with("src/exit.rs")
                && !p.ends_with("src/main.rs")
        })
        .flat_map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            text.lines()
                .filter(|l| {
                    l.contains("Exit::")
                        || l.contains("process::exit")
                        || l.contains("exit_cancelled")
                        || l.contains("exit_like")
                })
                .filter(|l| !l.trim_start().starts_with("//"))
                .map(|l| format!("{}: {}", p.display(), l.trim()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        found.is_empty(),
        "exit codes or an end of the process outside exit.rs, main.rs and cmd/ (return an \
         error, e.g. a Cancelled one, and let the edge end the process):\n{}",
        found.join("\n")
    );
}

/// The top-level module a file under `src/` belongs to: its folder, or the file's stem.
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(src()).unwrap();
    let mut parts = rel.components();
    let first = parts
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    if parts.next().is_some() {
        first
    } else {
        first.trim_end_matches(".rs").to_string()
    }
}

/// The production code of a file: up to its first `#[cfg(test)]` line, without comment lines;
/// nothing for a test-only file (`tests.rs`, `*_tests.rs`).
fn production_lines(path: &Path) -> Vec<(usize, String)> {
    let name = path.file_name().unwrap().to_string_lossy();
    if name == "tests.rs" || name.ends_with("_tests.rs") {
        return Vec::new();
    }
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .enumerate()
        .take_while(|(_, l)| !l.trim_start().starts_with("#[cfg(test)]"))
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect()
}

/// The modules a line names through `crate::X` (and `crate::{X, Y::…}`).
fn crate_paths(line: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    for (at, _) in line.match_indices("crate::") {
        // `portico::crate::` cannot occur; a preceding identifier char means another path.
        if line[..at]
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            continue;
        }
        let rest = &line[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The items at the group's own level: `a::{b, c}` names `a` only.
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if c.is_whitespace() => {}
                    _ if item_start => {
                        item_start = false;
                        let m = ident(&group[i..]);
                        if !m.is_empty() {
                            out.push(m);
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let m = ident(rest);
            if !m.is_empty() {
                out.push(m);
            }
        }
    }
    out
}

/// Module → module edges of the production code, each with every place that makes it.
fn module_graph() -> std::collections::BTreeMap<(String, String), Vec<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let mut edges: std::collections::BTreeMap<(String, String), Vec<String>> =
        std::collections::BTreeMap::new();
    for path in &files {
        let from = module_of(path);
        if from == "main" || from == "lib" {
            continue;
        }
        for (no, line) in production_lines(path) {
            for to in crate_paths(&line) {
                if to != from && to != "self" && to != "super" {
                    let shown = path
                        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                        .unwrap_or(path);
                    let at = format!("{}:{no}", shown.display());
                    let places = edges.entry((from.clone(), to)).or_default();
                    if !places.contains(&at) {
                        places.push(at);
                    }
                }
            }
        }
    }
    edges
}

/// Groups of two or more modules that reach each other (Tarjan's strongly connected components).
fn circles<T>(edges: &std::collections::BTreeMap<(String, String), T>) -> Vec<Vec<String>> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (a, b) in edges.keys() {
        graph.entry(a).or_default().insert(b);
        graph.entry(b).or_default();
    }
    struct State<'a> {
        graph: &'a BTreeMap<&'a str, BTreeSet<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on.insert(v);
        for &w in &s.graph[v] {
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on.remove(w);
                group.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                s.found.push(group);
            }
        }
    }
    let mut state = State {
        graph: &graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        found: Vec::new(),
    };
    for &v in graph.keys() {
        if !state.index.contains_key(v) {
            visit(&mut state, v);
        }
    }
    state.found
}

/// The command line is the edge's: only `cmd/` (and `main.rs`) read clap's types; the library
/// below speaks its own language. Computed from the `crate::` paths of the production code.
#[test]
fn only_the_commands_import_the_command_line() {
    let edges = module_graph();
    // The graph is really read: the commands use the command line, the library the engine.
    assert!(edges.contains_key(&("cmd".into(), "cli".into())));
    assert!(edges.contains_key(&("serve".into(), "engine".into())));
    let found: Vec<String> = edges
        .iter()
        .filter(|((from, to), _)| to == "cli" && from != "cmd")
        .map(|((from, _), at)| format!("{from} -> cli ({})", at.join(", ")))
        .collect();
    assert!(
        found.is_empty(),
        "library modules importing the command line (convert clap's arguments in cmd/):\n{}",
        found.join("\n")
    );
}

/// Each circle (modules that reach each other), named with the edges inside it and the lines
/// that make each edge: what to move to break it.
fn describe_circles(edges: &std::collections::BTreeMap<(String, String), Vec<String>>) -> String {
    let mut text = String::new();
    for circle in circles(edges) {
        text.push_str(&format!(
            "circle of {}: {}\n",
            circle.len(),
            circle.join(" ")
        ));
        for ((from, to), places) in edges {
            if circle.contains(from) && circle.contains(to) {
                text.push_str(&format!("  {from} -> {to}: {}\n", places.join(", ")));
            }
        }
    }
    text
}

/// Arrows only point down the layers (leaf types → files → services → engine → consumers →
/// exit → cli → cmd; docs/layout.md): two modules that import each other, directly or round
/// a longer loop, are one thing that cannot be read, tested or moved apart. Any circle fails,
/// named with the lines that tie it.
#[test]
fn the_module_graph_has_no_circles() {
    let edges = module_graph();
    assert!(
        edges.len() > 50,
        "the graph is really read: {}",
        edges.len()
    );
    let circles = describe_circles(&edges);
    assert!(
        circles.is_empty(),
        "the module graph has circles; move the shared thing down to a module both may \
         import (docs/layout.md shows the layers):\n{circles}"
    );
}

/// The layers of `src/`, lowest first; docs/layout.md draws the same picture. A module may
/// import only modules below it: those of lower layers, and those listed before it in its own
/// layer. A new module gets a place here (the test names any it does not know).
const LAYERS: &[(&str, &[&str])] = &[
    (
        "leaf types and rules",
        &[
            "consts", "failure", "sanitize", "secret", "timefmt", "diag", "debug", "info",
            "notice", "model",
        ],
    ),
    ("plumbing", &["http", "output", "vault"]),
    ("files", &["cache", "awsconfig", "settings"]),
    ("services", &["aws", "identity", "sso", "saml"]),
    ("engine", &["engine"]),
    (
        "consumers",
        &["configure", "console", "serve", "doctor", "tui", "demo"],
    ),
    ("edge", &["exit", "cli", "cmd"]),
];

/// Where a module sits: its layer's index and its place in that layer.
fn rank(module: &str) -> Option<(usize, usize)> {
    LAYERS.iter().enumerate().find_map(|(layer, (_, modules))| {
        modules
            .iter()
            .position(|m| *m == module)
            .map(|at| (layer, at))
    })
}

/// Every import points down the layers of [`LAYERS`] (and so the graph has no circle), and
/// every module of `src/` has its place in them.
#[test]
fn imports_point_down_the_layers() {
    let edges = module_graph();
    assert!(edges.contains_key(&("settings".into(), "awsconfig".into())));
    let mut unplaced: Vec<&String> = edges
        .keys()
        .flat_map(|(from, to)| [from, to])
        .filter(|m| rank(m).is_none())
        .collect();
    unplaced.sort();
    unplaced.dedup();
    assert!(
        unplaced.is_empty(),
        "modules without a layer (give each a place in LAYERS and in docs/layout.md): {unplaced:?}"
    );
    let name = |m: &str| LAYERS[rank(m).unwrap().0].0;
    let up: Vec<String> = edges
        .iter()
        .filter(|((from, to), _)| rank(to) >= rank(from))
        .map(|((from, to), places)| {
            format!(
                "{from} ({}) -> {to} ({}): {}",
                name(from),
                name(to),
                places.join(", ")
            )
        })
        .collect();
    assert!(
        up.is_empty(),
        "imports that point up the layers (move the shared piece down, e.g. to model, or the \
         caller up):\n{}",
        up.join("\n")
    );
}

/// The circle finder finds a loop of two and one of three, names the lines of each edge in
/// it, and leaves the edges out of any loop alone.
#[test]
fn circles_are_found_and_named_with_their_lines() {
    let edge = |a: &str, b: &str, at: &str| ((a.to_string(), b.to_string()), vec![at.to_string()]);
    let edges: std::collections::BTreeMap<_, _> = [
        edge("cache", "settings", "src/cache/token.rs:14"),
        edge("settings", "awsconfig", "src/settings.rs:8"),
        edge("awsconfig", "cache", "src/awsconfig/edit/save.rs:167"),
        edge("engine", "cache", "src/engine/mod.rs:1"),
        edge("a", "b", "src/a.rs:1"),
        edge("b", "a", "src/b.rs:2"),
    ]
    .into_iter()
    .collect();
    let found = circles(&edges);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.contains(&vec!["a".to_string(), "b".to_string()]));
    assert!(found.contains(&vec![
        "awsconfig".to_string(),
        "cache".to_string(),
        "settings".to_string()
    ]));
    let text = describe_circles(&edges);
    assert!(
        text.contains("circle of 3: awsconfig cache settings\n")
            && text.contains("  cache -> settings: src/cache/token.rs:14\n")
            && text.contains("  awsconfig -> cache: src/awsconfig/edit/save.rs:167\n"),
        "{text}"
    );
    assert!(!text.contains("engine"), "not in a circle: {text}");
    // Without the edge back, no circle.
    let mut open = edges.clone();
    open.remove(&("awsconfig".to_string(), "cache".to_string()));
    open.remove(&("b".to_string(), "a".to_string()));
    assert!(circles(&open).is_empty());
    assert_eq!(describe_circles(&open), "");
}

/// The graph reader sees `crate::a::b`, `crate::{a, b::c}` and not `other_crate::x` or a
/// comment, and leaves a file's test module out.
#[test]
fn the_module_graph_reader_reads_paths_as_rustc_would() {
    assert_eq!(crate_paths("use crate::cli::Cli;"), ["cli"]);
    assert_eq!(
        crate_paths("use crate::{engine::Target, exit, cli::{A, B}};"),
        ["engine", "exit", "cli"]
    );
    assert_eq!(
        crate_paths("let x = my_crate::cli::f();"),
        Vec::<String>::new()
    );
    assert_eq!(
        crate_paths("crate::exit::classify(&e) + crate::serve::x"),
        ["exit", "serve"]
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sample.rs");
    std::fs::write(
        &file,
        "use crate::engine;\n// use crate::cli;\n#[cfg(test)]\nmod tests { use crate::cli; }\n",
    )
    .unwrap();
    let lines: Vec<String> = production_lines(&file)
        .into_iter()
        .map(|(_, l)| l)
        .collect();
    assert_eq!(lines, ["use crate::engine;"]);
}
