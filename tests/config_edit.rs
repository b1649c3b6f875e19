//! The config editor against a corpus of awkward real-world files (`tests/corpus/`): after each
//! kind of write the file differs from the original only in the managed lines (checked with a
//! line diff), and Python's botocore (the virtualenv that `tests/python-env.sh` builds) reads
//! every original profile with the same values plus the new ones.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use portico::awsconfig::edit::{Document, SectionId, Upserted};
use portico::awsconfig::{ConfigFile, SectionKind};
use serde_json::{json, Value};

const NEW_SESSION: &[(&str, &str)] = &[
    ("sso_start_url", "https://d-0123456789.awsapps.com/start"),
    ("sso_region", "eu-north-1"),
    ("sso_registration_scopes", "sso:account:access"),
];
const NEW_PROFILE: &[(&str, &str)] = &[
    ("sso_session", "portico-new"),
    ("sso_account_id", "123456789012"),
    ("sso_role_name", "PorticoRole"),
    ("region", "eu-north-1"),
];
const UPDATE_SET: &[(&str, &str)] = &[
    ("region", "ap-southeast-2"),
    ("sso_role_name", "PorticoUpdated"),
];
const UPDATE_REMOVE: &[&str] = &["output"];

#[derive(Debug, Clone)]
enum Op {
    AddSession,
    AddProfile,
    Update(String),
    Delete(String),
}

impl Op {
    fn apply(&self, doc: &mut Document) {
        match self {
            Op::AddSession => {
                let r = doc
                    .upsert(&SectionId::sso_session("portico-new"), NEW_SESSION, &[])
                    .unwrap();
                assert_eq!(r, Upserted::Created);
            }
            Op::AddProfile => {
                let r = doc
                    .upsert(&SectionId::profile("portico-added"), NEW_PROFILE, &[])
                    .unwrap();
                assert_eq!(r, Upserted::Created);
            }
            Op::Update(name) => {
                let r = doc
                    .upsert(&SectionId::profile(name.clone()), UPDATE_SET, UPDATE_REMOVE)
                    .unwrap();
                assert_eq!(r, Upserted::Updated);
            }
            Op::Delete(name) => {
                assert!(doc.delete(&SectionId::profile(name.clone())).unwrap());
            }
        }
    }

    /// Keys the operation may write, with their values.
    fn writes(&self) -> &'static [(&'static str, &'static str)] {
        match self {
            Op::AddSession => NEW_SESSION,
            Op::AddProfile => NEW_PROFILE,
            Op::Update(_) => UPDATE_SET,
            Op::Delete(_) => &[],
        }
    }

    fn new_header(&self) -> Option<&'static str> {
        match self {
            Op::AddSession => Some("[sso-session portico-new]"),
            Op::AddProfile => Some("[profile portico-added]"),
            _ => None,
        }
    }

    /// What botocore should read after the operation, given what it read before.
    fn expected(&self, before: &Value) -> Value {
        let mut after = before.clone();
        let object = |pairs: &[(&str, &str)]| {
            Value::Object(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), json!(v)))
                    .collect(),
            )
        };
        match self {
            Op::AddSession => {
                after["sso_sessions"]["portico-new"] = object(NEW_SESSION);
            }
            Op::AddProfile => {
                after["profiles"]["portico-added"] = object(NEW_PROFILE);
            }
            Op::Update(name) => {
                let profile = after["profiles"][name.as_str()].as_object_mut().unwrap();
                for (k, v) in UPDATE_SET {
                    profile.insert(k.to_string(), json!(v));
                }
                for k in UPDATE_REMOVE {
                    profile.remove(*k);
                }
            }
            Op::Delete(name) => {
                after["profiles"].as_object_mut().unwrap().remove(name);
            }
        }
        after
    }
}

fn corpus() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "config"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    assert!(files.len() >= 10, "corpus is missing: {dir:?}");
    files
}

/// Profile names in the order they first appear.
fn profiles(doc: &Document) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for s in doc.sections() {
        if s.id.kind == SectionKind::Profile && !names.contains(&s.id.name) {
            names.push(s.id.name);
        }
    }
    names
}

/// The operations run on a file: both additions, and (when it has profiles) an update of the
/// first profile (a duplicated one if there is one) and a deletion of the last.
fn ops_for(doc: &Document) -> Vec<Op> {
    let mut ops = vec![Op::AddSession, Op::AddProfile];
    let names = profiles(doc);
    let sections = doc.sections();
    let duplicated = names.iter().find(|n| {
        sections
            .iter()
            .filter(|s| s.id == SectionId::profile(n.as_str()))
            .count()
            > 1
    });
    if let Some(first) = duplicated.or(names.first()) {
        ops.push(Op::Update(first.clone()));
    }
    if let Some(last) = names.last() {
        ops.push(Op::Delete(last.clone()));
    }
    ops
}

/// Line ranges `[header, last setting]` of the copies of the profile, by a simple scan (all
/// headers in the corpus start in column 0).
fn profile_lines(text: &str, name: &str) -> Vec<(usize, usize)> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim();
        let is_header = lines[i].starts_with('[') && t.ends_with(']');
        if is_header {
            let inner = t[1..t.len() - 1].trim();
            let words: Vec<&str> = inner.split_whitespace().collect();
            let this = (words == ["profile", name]) || (name == "default" && inner == "default");
            let mut j = i + 1;
            let mut last = i;
            while j < lines.len() && !lines[j].starts_with('[') {
                let tj = lines[j].trim();
                if !tj.is_empty() && !tj.starts_with('#') && !tj.starts_with(';') {
                    last = j;
                }
                j += 1;
            }
            if this {
                ranges.push((i, last));
            }
            i = j;
        } else {
            i += 1;
        }
    }
    ranges
}

fn split_setting(line: &str) -> Option<(String, String)> {
    let t = line.trim();
    let at = t.find(['=', ':'])?;
    Some((
        t[..at].trim().to_lowercase(),
        t[at + 1..].trim().to_string(),
    ))
}

/// Fails unless every line the diff shows as removed or added is one the operation manages.
fn assert_only_managed(file: &str, op: &Op, before: &str, after: &str, newline: &str) {
    let diff = similar::TextDiff::from_lines(before, after);
    let context = || format!("{file} / {op:?}:\n{}", diff.unified_diff());
    let deleted: Vec<(usize, &str)> = diff
        .iter_all_changes()
        .filter(|c| c.tag() == similar::ChangeTag::Delete)
        .map(|c| (c.old_index().unwrap(), c.value()))
        .collect();
    let inserted: Vec<&str> = diff
        .iter_all_changes()
        .filter(|c| c.tag() == similar::ChangeTag::Insert)
        .map(|c| c.value())
        .collect();
    assert!(
        !deleted.is_empty() || !inserted.is_empty(),
        "nothing changed: {}",
        context()
    );
    // The one change to a line outside the managed region: a last line without a line break
    // gets one when something is appended after it.
    let unterminated_last = deleted
        .iter()
        .find(|(_, l)| !l.ends_with('\n'))
        .map(|(_, l)| l.to_string());
    let managed_ranges = match op {
        Op::Update(n) | Op::Delete(n) => profile_lines(before, n),
        _ => Vec::new(),
    };
    let in_managed = |i: usize| managed_ranges.iter().any(|(a, b)| (*a..=*b).contains(&i));
    for (index, line) in &deleted {
        if Some(line.to_string()) == unterminated_last
            && inserted.contains(&format!("{line}{newline}").as_str())
        {
            continue;
        }
        let ok = match op {
            Op::AddSession | Op::AddProfile => false,
            Op::Delete(_) => in_managed(*index) || line.trim().is_empty(),
            Op::Update(_) => {
                in_managed(*index)
                    && split_setting(line).is_some_and(|(k, _)| {
                        UPDATE_SET.iter().any(|(s, _)| *s == k)
                            || UPDATE_REMOVE.contains(&k.as_str())
                    })
            }
        };
        assert!(
            ok,
            "line {} {line:?} was not the operation's to remove: {}",
            index + 1,
            context()
        );
    }
    let last_inserted = inserted.last().copied();
    for line in &inserted {
        let body = line.trim_end_matches('\n').trim_end_matches('\r');
        let ending = &line[body.len()..];
        if let Some(last) = &unterminated_last {
            if body == last {
                continue;
            }
        }
        assert!(
            ending == newline || (ending.is_empty() && Some(*line) == last_inserted),
            "new line {line:?} does not use the file's line ending {newline:?}: {}",
            context()
        );
        let ok = (body.is_empty() && op.new_header().is_some())
            || Some(body) == op.new_header()
            || split_setting(body)
                .is_some_and(|(k, v)| op.writes().iter().any(|(wk, wv)| *wk == k && *wv == v));
        assert!(
            ok,
            "line {line:?} is not one the operation writes: {}",
            context()
        );
    }
}

fn python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyenv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run tests/python-env.sh first (it builds the virtualenv with botocore)",
        python.display()
    );
    python
}

/// What botocore (`configloader.load_config`) reads from each file, or the error it raises;
/// with `loose`, what configparser reads when it is told to merge duplicate sections.
fn botocore_read(paths: &[PathBuf]) -> BTreeMap<PathBuf, Value> {
    const SCRIPT: &str = r#"
import configparser, json, sys
import botocore.configloader as loader
out = {}
for path in sys.argv[1:]:
    entry = {}
    try:
        entry["ok"] = loader.load_config(path)
    except Exception as e:
        entry["error"] = type(e).__name__ + ": " + str(e)
        cause = e.__context__ or e.__cause__
        entry["cause"] = type(cause).__name__ if cause else None
    loose = configparser.RawConfigParser(strict=False)
    loose.read([path], encoding="utf-8")
    entry["loose"] = {s: dict(loose.items(s)) for s in loose.sections()}
    out[path] = entry
print(json.dumps(out))
"#;
    let output = Command::new(python())
        .env("PYTHONUTF8", "1")
        .arg("-c")
        .arg(SCRIPT)
        .args(paths)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let map: BTreeMap<String, Value> = serde_json::from_slice(&output.stdout).unwrap();
    map.into_iter()
        .map(|(k, v)| (PathBuf::from(k), v))
        .collect()
}

struct Case {
    file: String,
    op: Op,
    before: PathBuf,
    after: PathBuf,
}

#[test]
fn every_write_changes_only_managed_lines_and_botocore_reads_the_rest_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    let mut paths = Vec::new();
    for (file, text) in corpus() {
        let original = Document::parse(Path::new(&file), &text);
        assert_eq!(
            original.render(),
            text,
            "{file}: parse → render is not the identity"
        );
        assert!(
            original.problem().is_none(),
            "{file}: {:?}",
            original.problem()
        );
        let before = dir.path().join(&file);
        std::fs::write(&before, &text).unwrap();
        paths.push(before.clone());
        for (n, op) in ops_for(&original).into_iter().enumerate() {
            let mut doc = original.clone();
            op.apply(&mut doc);
            let result = doc.render();
            assert_only_managed(&file, &op, &text, &result, original.newline());
            ConfigFile::parse(Path::new(&file), &result)
                .unwrap_or_else(|e| panic!("{file} / {op:?}: the reader refuses the result: {e}"));
            // The result is stable: parsing it again and rendering changes nothing.
            assert_eq!(Document::parse(Path::new(&file), &result).render(), result);
            let after = dir.path().join(format!("{file}.{n}.after"));
            std::fs::write(&after, &result).unwrap();
            paths.push(after.clone());
            cases.push(Case {
                file: file.clone(),
                op,
                before: before.clone(),
                after,
            });
        }
    }
    let read = botocore_read(&paths);
    let mut checked = 0;
    for case in &cases {
        let before = &read[&case.before];
        let after = &read[&case.after];
        let what = format!("{} / {:?}", case.file, case.op);
        match (&before.get("ok"), &after.get("ok")) {
            (Some(b), Some(a)) => {
                assert_eq!(
                    *a,
                    &case.op.expected(b),
                    "{what}: botocore reads something else"
                );
                checked += 1;
            }
            (None, None) => {
                // botocore refused the original (a duplicate section): the write must not add
                // a new reason to refuse it.
                assert_eq!(before["cause"], after["cause"], "{what}: {after}");
            }
            _ => panic!("{what}: botocore read one of them only: before {before}, after {after}"),
        }
    }
    assert!(
        checked >= 35,
        "only {checked} cases were compared through botocore"
    );
}

#[test]
fn a_duplicate_section_is_named_and_writes_do_not_make_it_worse() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/duplicate.config");
    let text = std::fs::read_to_string(&path).unwrap();
    let doc = Document::parse(&path, &text);
    let warnings = doc.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("line 15")
            && warnings[0].contains("line 4")
            && warnings[0].contains("[profile dup]")
            && warnings[0].contains("refuse"),
        "{}",
        warnings[0]
    );

    let dir = tempfile::tempdir().unwrap();
    let mut updated = doc.clone();
    updated
        .upsert(&SectionId::profile("dup"), UPDATE_SET, UPDATE_REMOVE)
        .unwrap();
    let mut added = doc.clone();
    added
        .upsert(&SectionId::profile("dup"), &[("cli_pager", "less")], &[])
        .unwrap();
    let mut deleted = doc.clone();
    assert!(deleted.delete(&SectionId::profile("dup")).unwrap());
    let files: Vec<PathBuf> = [
        ("before", &doc),
        ("updated", &updated),
        ("added", &added),
        ("deleted", &deleted),
    ]
    .iter()
    .map(|(name, d)| {
        let p = dir.path().join(name);
        std::fs::write(&p, d.render()).unwrap();
        p
    })
    .collect();
    let read = botocore_read(&files);
    let (before, updated_read, added_read, deleted_read) = (
        &read[&files[0]],
        &read[&files[1]],
        &read[&files[2]],
        &read[&files[3]],
    );

    // Still two copies (never a third), still the same one warning, botocore still refuses for
    // the same reason; merged as the Rust SDK merges them, the new values are what counts.
    for d in [&updated, &added] {
        assert_eq!(d.render().matches("[profile dup]").count(), 2);
        assert_eq!(d.warnings().len(), 1, "{:?}", d.warnings());
    }
    assert_eq!(before["cause"], json!("DuplicateSectionError"), "{before}");
    assert_eq!(updated_read["cause"], before["cause"]);
    assert_eq!(
        updated_read["loose"]["profile dup"],
        json!({"sso_session": "corp", "sso_account_id": "111122223333",
               "sso_role_name": "PorticoUpdated", "region": "ap-southeast-2"})
    );
    assert_eq!(
        added_read["loose"]["profile dup"]["cli_pager"],
        json!("less")
    );
    assert!(
        added.render().ends_with(
            "region = eu-west-1\ncli_pager = less\n\n[profile single]\nregion = us-east-2\n"
        ),
        "a new key goes to the last copy:\n{}",
        added.render()
    );

    // Deleting removes every copy, which also makes the file readable again.
    assert!(!deleted.render().contains("[profile dup]"));
    assert!(deleted.warnings().is_empty());
    let profiles = &deleted_read["ok"]["profiles"];
    assert_eq!(
        profiles,
        &json!({"default": {"region": "us-east-1"}, "single": {"region": "us-east-2"}})
    );
}

#[test]
fn the_python_environment_is_required_not_skipped() {
    // If the venv is missing this fails with the instruction to run tests/python-env.sh.
    let version = Command::new(python())
        .args(["-c", "import botocore; print(botocore.__version__)"])
        .output()
        .unwrap();
    assert!(version.status.success());
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("1."));
}
