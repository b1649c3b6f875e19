//! Property tests of the config editor: it never panics, whatever the input; parse → render
//! with no edit is the identity, byte for byte; and on generated config files (random spacing,
//! indentation, comments, nested sub-settings, CRLF/LF, duplicates, no final newline) an edit
//! keeps every line it does not manage, and the reader sees every other section unchanged.

use std::path::Path;

use portico::awsconfig::edit::{Document, SectionId};
use portico::awsconfig::{ConfigFile, SectionKind, Value};
use proptest::prelude::*;

fn path() -> &'static Path {
    Path::new("config")
}

/// Arbitrary text, and text drawn from the characters that matter to INI.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "(?s)[\\[\\]=:#; \t\r\nabpr\u{feff}é]{0,120}",
        "(?s)(\\[(profile |sso-session |default)[ab]?\\]|[ \t]*[ab] ?[=:] ?[xy]?|[#;].*|[ \t]*)(\r?\n(\\[(profile |sso-session |default)[ab]?\\]|[ \t]*[ab] ?[=:] ?[xy]?|[#;].*|[ \t]*)){0,12}\r?\n?",
    ]
}

fn ids() -> impl Strategy<Value = SectionId> {
    prop_oneof![
        Just(SectionId::profile("default")),
        Just(SectionId::profile("a")),
        Just(SectionId::profile("b")),
        Just(SectionId::profile("é")),
        Just(SectionId::sso_session("a")),
        Just(SectionId::services("a")),
    ]
}

fn header() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just("profile a"),
            Just("profile b"),
            Just("profile  a "),
            Just("profile é"),
            Just("default"),
            Just("profile default"),
            Just("sso-session a"),
            Just("services a"),
            Just("plugins"),
        ],
        prop_oneof![Just(""), Just(" ")],
    )
        .prop_map(|(inner, pad)| format!("{pad}[{inner}]"))
}

fn key() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("region"),
        Just("output"),
        Just("sso_session"),
        Just("Sso_Role_Name"),
        Just("s3"),
        Just("x"),
    ]
}

fn setting() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just(""), Just(" "), Just("\t")],
        key(),
        prop_oneof![
            Just("="),
            Just(" = "),
            Just("   =   "),
            Just(":"),
            Just(" : "),
            Just("\t=\t")
        ],
        prop_oneof![
            Just(""),
            Just("v1"),
            Just("eu-west-1"),
            Just("a b # not a comment"),
            Just("ünï")
        ],
        prop_oneof![Just(""), Just(" "), Just("\t")],
    )
        .prop_map(|(indent, key, eq, value, trail)| format!("{indent}{key}{eq}{value}{trail}"))
}

fn body_line() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => setting(),
        2 => (prop_oneof![Just("    "), Just("\t\t")], prop_oneof![Just("k = v"), Just("max = 20"), Just("z: w")])
            .prop_map(|(i, kv)| format!("{i}{kv}")),
        2 => prop_oneof![Just("# c"), Just("; c"), Just("   # indented"), Just("#")].prop_map(String::from),
        2 => prop_oneof![Just(""), Just("  ")].prop_map(String::from),
    ]
}

/// A config file: comments and blank lines, then sections with bodies; random line endings and
/// maybe no final newline.
fn config() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop_oneof![Just("# top"), Just(""), Just("; x")], 0..3),
        prop::collection::vec((header(), prop::collection::vec(body_line(), 0..6)), 0..6),
        prop::collection::vec(any::<bool>(), 64),
        any::<bool>(),
    )
        .prop_map(|(top, sections, crlf, final_newline)| {
            let mut lines: Vec<String> = top.into_iter().map(String::from).collect();
            for (h, body) in sections {
                lines.push(h);
                lines.extend(body);
            }
            let mut text = String::new();
            let count = lines.len();
            for (n, line) in lines.into_iter().enumerate() {
                text.push_str(&line);
                if n + 1 < count || final_newline {
                    text.push_str(if crlf[n % crlf.len()] { "\r\n" } else { "\n" });
                }
            }
            text
        })
}

#[derive(Debug, Clone)]
enum Op {
    Upsert(Vec<(&'static str, &'static str)>, Vec<&'static str>),
    Delete,
    Mark,
}

fn op() -> impl Strategy<Value = Op> {
    let set = prop::collection::vec(
        (
            prop_oneof![
                Just("region"),
                Just("sso_role_name"),
                Just("s3"),
                Just("new_key")
            ],
            prop_oneof![Just("v-new"), Just("eu-north-1")],
        ),
        0..3,
    );
    let remove =
        prop::collection::vec(prop_oneof![Just("output"), Just("x"), Just("region")], 0..2);
    prop_oneof![
        4 => (set, remove).prop_map(|(s, r)| Op::Upsert(s, r)),
        2 => Just(Op::Delete),
        1 => Just(Op::Mark),
    ]
}

fn run(doc: &mut Document, id: &SectionId, op: &Op) -> Result<(), String> {
    match op {
        Op::Upsert(set, remove) => doc.upsert(id, set, remove).map(drop),
        Op::Delete => doc.delete(id).map(drop),
        Op::Mark => doc.mark(id, "managed by portico").map(drop),
    }
    .map_err(|e| e.to_string())
}

/// Sections as the reader sees them, except those that map to `id`.
/// A section as the reader sees it: kind, name, settings.
type ReadSection = (SectionKind, String, Vec<(String, Value)>);

fn others(text: &str, id: &SectionId) -> Vec<ReadSection> {
    ConfigFile::parse(path(), text)
        .unwrap()
        .sections()
        .into_iter()
        .filter(|s| !(s.kind == id.kind && s.name == id.name))
        .map(|s| {
            (
                s.kind,
                s.name.clone(),
                s.settings.clone().into_iter().collect(),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn any_text_round_trips_and_no_edit_panics(text in any_text(), id in ids(), op in op()) {
        let doc = Document::parse(path(), &text);
        prop_assert_eq!(&doc.render(), &text);
        let _ = doc.sections();
        let _ = doc.warnings();
        let mut edited = doc.clone();
        match run(&mut edited, &id, &op) {
            Ok(()) => {
                let out = edited.render();
                prop_assert!(doc.problem().is_none());
                prop_assert_eq!(Document::parse(path(), &out).render(), out);
            }
            Err(_) => prop_assert_eq!(edited.render(), text),
        }
    }

    #[test]
    fn edits_keep_every_line_they_do_not_manage(text in config(), id in ids(), op in op()) {
        let doc = Document::parse(path(), &text);
        prop_assert_eq!(&doc.render(), &text);
        // Skip the rare generated file the reader (and the AWS CLI) refuses.
        prop_assume!(doc.problem().is_none());
        let mut edited = doc.clone();
        if let Err(e) = run(&mut edited, &id, &op) {
            // Refusing is allowed only where the edit would change how a kept line reads.
            prop_assert!(e.contains("would change how that line reads"), "{}", e);
            prop_assert_eq!(&edited.render(), &text);
            return Ok(());
        }
        let out = edited.render();
        ConfigFile::parse(path(), &out).map_err(|e| TestCaseError::fail(format!("{e}\n{out:?}")))?;

        // 1. Line diff: removed lines lie in the target's sections (or are blank, for a
        //    delete); added lines are the ones the edit writes.
        let managed: Vec<(usize, usize)> = doc
            .sections()
            .iter()
            .filter(|s| s.id == id)
            .map(|s| (s.line - 1, s.last_line - 1))
            .collect();
        let diff = similar::TextDiff::from_lines(text.as_str(), out.as_str());
        let unterminated_last = text.split_inclusive('\n').next_back().filter(|l| !l.ends_with('\n'));
        let original: Vec<&str> = text.split_inclusive('\n').collect();
        let in_managed = |i: usize| managed.iter().any(|(a, b)| (*a..=*b).contains(&i));
        // With repeated lines the diff may align a kept line where the edit kept its twin; an
        // equally short diff removes the managed twin instead, so the line's bytes are managed.
        let twin_managed = |line: &str| (0..original.len()).any(|j| in_managed(j) && original[j] == line);
        for change in diff.iter_all_changes() {
            let line = change.value();
            let body = line.trim_end_matches('\n').trim_end_matches('\r');
            match change.tag() {
                similar::ChangeTag::Equal => {}
                similar::ChangeTag::Delete => {
                    let i = change.old_index().unwrap();
                    let ok = in_managed(i)
                        || twin_managed(line)
                        || (matches!(op, Op::Delete) && body.trim().is_empty())
                        || Some(line) == unterminated_last;
                    prop_assert!(ok, "removed unmanaged line {} {:?}\n{}", i + 1, line, diff.unified_diff());
                }
                similar::ChangeTag::Insert => {
                    let written = match &op {
                        Op::Upsert(set, _) => set.iter().any(|(k, v)| {
                            let t = body.trim();
                            t.starts_with(k) && t.ends_with(v) && t[k.len()..t.len() - v.len()].trim() == "="
                        }) || body == id.header() || body.is_empty()
                            // an in-place replacement keeps the line's own key and spacing
                            || set.iter().any(|(_, v)| body.trim_end().ends_with(v)),
                        Op::Mark => body.trim() == "# managed by portico",
                        Op::Delete => false,
                    };
                    let reterminated = unterminated_last.is_some_and(|l| l == body);
                    prop_assert!(written || reterminated, "added unexpected line {:?}\n{}", line, diff.unified_diff());
                }
            }
        }

        // 2. The reader sees every other section exactly as before.
        prop_assert_eq!(others(&text, &id), others(&out, &id));

        // 3. And the target as asked: the last copy carries each value set, no copy keeps a
        //    removed key, a deleted section is gone.
        let after = ConfigFile::parse(path(), &out).unwrap();
        let copies: Vec<_> = after.sections().into_iter().filter(|s| s.kind == id.kind && s.name == id.name).collect();
        let before_copies = doc.sections().iter().filter(|s| s.id == id).count();
        match &op {
            Op::Delete => prop_assert!(copies.is_empty()),
            Op::Mark => prop_assert_eq!(copies.len(), before_copies),
            Op::Upsert(set, remove) => {
                prop_assert_eq!(copies.len(), before_copies.max(usize::from(!set.is_empty())));
                if let Some(last) = copies.last() {
                    for (k, v) in set.iter().rev().fold(Vec::<(&str, &str)>::new(), |mut acc, (k, v)| {
                        if !acc.iter().any(|(a, _)| a == k) { acc.push((k, v)); }
                        acc
                    }) {
                        prop_assert_eq!(last.settings.get(k), Some(&Value::Text(v.to_string())), "{}\n{:?}", k, out);
                    }
                }
                for copy in &copies {
                    for k in remove {
                        if !set.iter().any(|(s, _)| s == k) {
                            prop_assert!(!copy.settings.contains_key(*k), "{} survived\n{:?}", k, out);
                        }
                    }
                }
            }
        }
    }
}
