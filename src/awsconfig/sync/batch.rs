//! Batch edits: thousands of synced profiles are edited section by section and appended in one
//! go, checked against what the editor would do, so that a sync stays linear in the file (each
//! edit of the editor re-reads the whole document).

use std::collections::{HashMap, HashSet};

use crate::awsconfig::edit::{Document, EditError, SectionId, Upserted};
use crate::awsconfig::{LoadError, SectionKind};

/// A change to one synced profile.
#[derive(Debug, Clone)]
pub(super) enum Edit {
    Update {
        set: Vec<(&'static str, String)>,
        remove: &'static [&'static str],
    },
    Delete,
}

/// `set` as the editor takes it.
pub(super) fn borrowed<'a>(set: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    set.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Applies `edits` to the synced profiles they name; returns the names whose text changed.
///
/// Each edit of the editor re-reads the whole document, so thousands of them (a first
/// `--credential-process`, a new template) would take minutes. Instead each profile that appears
/// once is edited on its own — its lines from the header to the next header, as a document of
/// their own — and a deletion drops the header and body and one blank line as
/// [`Document::delete`] does. The result is re-read once and must have exactly the expected
/// sections, or the edits are made one by one through the editor instead (which then refuses
/// what it must). Repeated sections and lines with another line ending go through the editor.
pub(super) fn apply_edits(
    doc: &mut Document,
    edits: &[(String, Edit)],
    marker: &str,
) -> Result<HashSet<String>, EditError> {
    let mut changed = HashSet::new();
    if edits.is_empty() {
        return Ok(changed);
    }
    let by_name: HashMap<&str, &Edit> = edits.iter().map(|(n, e)| (n.as_str(), e)).collect();
    let sections = doc.sections();
    // How many sections each profile name has (`[default]` and `[profile default]` are one).
    let mut copies: HashMap<&str, usize> = HashMap::new();
    for s in sections
        .iter()
        .filter(|s| s.id.kind == SectionKind::Profile)
    {
        *copies.entry(s.id.name.as_str()).or_default() += 1;
    }
    let text = doc.render();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let newline = doc.newline();
    let mut out = String::with_capacity(text.len());
    let mut slow: Vec<&(String, Edit)> = Vec::new();
    let mut expected: Vec<(SectionId, String)> = Vec::new();
    let first_header = sections.first().map_or(lines.len(), |s| s.line - 1);
    out.push_str(&lines[..first_header].concat());
    for (k, section) in sections.iter().enumerate() {
        let start = section.line - 1;
        let end = sections
            .get(k + 1)
            .map_or(lines.len(), |next| next.line - 1);
        let chunk = &lines[start..end];
        let name = section.id.name.as_str();
        let edit = (section.id.kind == SectionKind::Profile && copies.get(name) == Some(&1))
            .then(|| by_name.get(name).copied())
            .flatten();
        let same_endings = chunk.iter().all(|l| {
            !l.ends_with('\n')
                || l.ends_with(newline) && (newline == "\r\n" || !l.ends_with("\r\n"))
        });
        match edit {
            Some(Edit::Update { set, remove }) if same_endings => {
                let original = chunk.concat();
                let mut single = Document::parse(doc.path(), &original);
                single.upsert(&section.id, &borrowed(set), remove)?;
                single.mark(&section.id, marker)?;
                let edited = single.render();
                if edited != original {
                    changed.insert(section.id.name.clone());
                }
                out.push_str(&edited);
                expected.push((section.id.clone(), section.header.clone()));
            }
            Some(Edit::Delete) => {
                let body = section.last_line - start;
                let mut tail = &chunk[body.min(chunk.len())..];
                let tail_blank = tail.first().is_some_and(|l| l.trim().is_empty());
                let at_end = tail.is_empty() && k + 1 == sections.len();
                let prev_blank = out
                    .strip_suffix('\n')
                    .map(|t| t.strip_suffix('\r').unwrap_or(t))
                    .is_some_and(|t| t.rsplit('\n').next().unwrap_or(t).trim().is_empty());
                if out.is_empty() {
                    if tail_blank {
                        tail = &tail[1..];
                    }
                } else if prev_blank && (tail_blank || at_end) {
                    // Drop the blank line before the header (its line ending included).
                    let cut = out[..out.len() - 1].rfind('\n').map_or(0, |i| i + 1);
                    out.truncate(cut);
                }
                out.push_str(&tail.concat());
            }
            _ => {
                if edit.is_some() {
                    slow.extend(edits.iter().find(|(n, _)| n == name));
                }
                out.push_str(&chunk.concat());
                expected.push((section.id.clone(), section.header.clone()));
            }
        }
    }
    let edited = Document::parse(doc.path(), &out);
    let got: Vec<(SectionId, String)> = edited
        .sections()
        .into_iter()
        .map(|s| (s.id, s.header))
        .collect();
    let slow: Vec<&(String, Edit)> = if edited.problem().is_none() && got == expected {
        *doc = edited;
        slow.extend(
            edits
                .iter()
                .filter(|(n, _)| copies.get(n.as_str()).is_some_and(|c| *c > 1)),
        );
        slow
    } else {
        crate::debug!("profiles sync: editing section by section did not check out; using the editor for each");
        changed.clear();
        edits.iter().collect()
    };
    edit_one_by_one(doc, slow, marker, &mut changed)?;
    Ok(changed)
}

/// `edits` through the editor, one at a time (see [`apply_edits`]).
pub(super) fn edit_one_by_one<'a>(
    doc: &mut Document,
    edits: impl IntoIterator<Item = &'a (String, Edit)>,
    marker: &str,
    changed: &mut HashSet<String>,
) -> Result<(), EditError> {
    for (name, edit) in edits {
        let id = SectionId::profile(name);
        match edit {
            Edit::Update { set, remove } => {
                let upserted = doc.upsert(&id, &borrowed(set), remove)?;
                let marked = doc.mark(&id, marker)?;
                if upserted != Upserted::Unchanged || marked {
                    changed.insert(name.clone());
                }
            }
            Edit::Delete => {
                doc.delete(&id)?;
            }
        }
    }
    Ok(())
}

/// Whether a synced profile (its only copy, as the reader sees it) already has exactly the
/// values of `set` and none of the keys of `remove`. The marker is known to be there.
pub(super) fn is_current(
    section: Option<&Option<&crate::awsconfig::Section>>,
    set: &[(&'static str, String)],
    remove: &[&str],
) -> bool {
    let Some(Some(section)) = section else {
        return false;
    };
    set.iter().all(|(key, value)| {
        matches!(section.settings.get(*key), Some(crate::awsconfig::Value::Text(v)) if v == value)
    }) && remove.iter().all(|key| !section.settings.contains_key(*key))
}

/// Appends whole sections (rendered with `\n`) at the end of `doc` as [`Document::upsert`]
/// appends a new one — one blank line before each, the file's line ending, no final newline
/// if the file had none — but re-reading the document once instead of once per section, which
/// keeps a sync of thousands of profiles linear.
pub(super) fn append_sections(doc: &mut Document, sections: &[String]) -> Result<(), EditError> {
    if sections.is_empty() {
        return Ok(());
    }
    let newline = doc.newline();
    let mut text = doc.render();
    let final_newline = text.is_empty() || text.ends_with('\n');
    if !final_newline {
        text.push_str(newline);
    }
    let body = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text);
    let last_line = body.rsplit('\n').next().unwrap_or_default();
    let mut blank_needed = !text.is_empty() && !last_line.trim().is_empty();
    for section in sections {
        if blank_needed {
            text.push_str(newline);
        }
        for line in section.lines() {
            text.push_str(line);
            text.push_str(newline);
        }
        blank_needed = true;
    }
    if !final_newline {
        text.truncate(text.len() - newline.len());
    }
    let edited = Document::parse(doc.path(), &text);
    if let Some(problem) = edited.problem() {
        // Unreachable: a header at column 0 after a blank line cannot join what is above it.
        return Err(EditError::Unreadable {
            path: doc.path().to_path_buf(),
            source: LoadError::Parse(problem.clone()),
        });
    }
    *doc = edited;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn doc(text: &str) -> Document {
        Document::parse(Path::new("config"), text)
    }

    /// The section-by-section path gives what the editor gives one edit at a time.
    #[test]
    fn batched_edits_match_the_editor() {
        let m = "# managed by portico profiles sync (sso-session corp)";
        let managed = |name: &str| {
            format!("[profile {name}]\n{m}\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = {name}\n")
        };
        let (a, b, c) = (managed("a"), managed("b"), managed("c"));
        let docs = [
            format!("{a}\n{b}\n{c}"),
            format!("{a}{b}{c}"),
            format!("# top\n\n{a}\n# about b\n{b}\n\n\n{c}\n"),
            format!("[default]\nregion = x\n\n{a}\n[profile mine]\nregion = y\n\n{b}\n; lead into c\n\n{c}")
                .trim_end()
                .to_string(),
            format!("{a}\n{b}\n{c}").replace('\n', "\r\n"),
            format!("{a}\n[profile mine]\n  region = y\n{b}"),
            format!("{a}\n{b}\n{a}"),
        ];
        let update = |remove: &'static [&'static str]| Edit::Update {
            set: vec![
                (
                    "credential_process",
                    "portico credentials --account 1 --role r".to_string(),
                ),
                ("region", "eu-west-1".to_string()),
            ],
            remove,
        };
        let native: &'static [&'static str] = &["sso_session", "sso_account_id", "sso_role_name"];
        let plans: Vec<Vec<(String, Edit)>> = vec![
            vec![("a".into(), Edit::Delete)],
            vec![("b".into(), Edit::Delete)],
            vec![("c".into(), Edit::Delete)],
            vec![("a".into(), Edit::Delete), ("b".into(), Edit::Delete)],
            vec![("b".into(), Edit::Delete), ("c".into(), Edit::Delete)],
            vec![
                ("a".into(), Edit::Delete),
                ("b".into(), Edit::Delete),
                ("c".into(), Edit::Delete),
            ],
            vec![("a".into(), update(native)), ("c".into(), update(native))],
            vec![("b".into(), update(&[])), ("c".into(), Edit::Delete)],
            vec![("a".into(), update(native)), ("b".into(), Edit::Delete)],
        ];
        for text in &docs {
            for plan in &plans {
                // Edits only ever name synced profiles that are in the file.
                let plan: Vec<(String, Edit)> = plan
                    .iter()
                    .filter(|(n, _)| text.contains(&format!("[profile {n}]")))
                    .cloned()
                    .collect();
                let plan = &plan;
                let mut fast = doc(text);
                let fast_changed = apply_edits(&mut fast, plan, &m[2..]).unwrap();
                let mut slow = doc(text);
                let mut slow_changed = HashSet::new();
                edit_one_by_one(&mut slow, plan, &m[2..], &mut slow_changed).unwrap();
                assert_eq!(fast.render(), slow.render(), "doc {text:?}\nplan {plan:?}");
                assert_eq!(fast_changed, slow_changed, "doc {text:?}\nplan {plan:?}");
            }
        }
    }

    #[test]
    fn an_edit_that_would_change_another_line_is_refused() {
        // Deleting [profile a] would make the indented header below it part of `region`.
        let text = "[profile mine]\nregion = x\n[profile a]\n# managed by portico profiles sync (sso-session corp)\n\
                    \x20 [profile b]\nregion = y\n";
        let mut d = doc(text);
        let err = apply_edits(
            &mut d,
            &[("a".into(), Edit::Delete)],
            "managed by portico profiles sync (sso-session corp)",
        )
        .unwrap_err();
        assert!(matches!(err, EditError::WouldChangeMeaning { .. }), "{err}");
        assert_eq!(d.render(), text);
    }
}
