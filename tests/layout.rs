//! The layout rule, checked: a command file turns arguments into library calls and prints; it
//! imports no other command, and nothing in the library reaches up into `src/cmd/`.

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
                && !p.ends_with("exit.rs")
                && !p.ends_with("main.rs")
                && !p.ends_with("cli.rs")
        })
        .flat_map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            text.lines()
                .filter(|l| l.contains("Exit::") || l.contains("process::exit("))
                .filter(|l| !l.trim_start().starts_with("//"))
                .map(|l| format!("{}: {}", p.display(), l.trim()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        found.is_empty(),
        "exit codes outside exit.rs:\n{}",
        found.join("\n")
    );
}
