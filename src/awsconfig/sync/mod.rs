//! Profile sync: one `[profile NAME]` per account × role assigned to the user, planned over a
//! [`Document`] of the AWS config file and marked with a comment, so that a later sync updates
//! and prunes only the profiles it wrote. `portico profiles sync` adds the listing, the diff or
//! summary and the write.
//!
//! - **Sources**: an sso-session's accounts and roles ([`assignments`]) and a saml-session's IAM
//!   roles ([`role_assignments`]) feed the one planner, [`sync`]; the [`Source`] decides only
//!   the marker, the `{session}` of the template and the keys (`source.rs`).
//! - **Names** come from a [`Template`] ([`DEFAULT_TEMPLATE`] by default), cleaned by
//!   [`clean_name`]. Collisions are resolved in a stable order: `NAME`,
//!   `NAME-ACCOUNT_ID`, `NAME-ACCOUNT_ID-2`, …; a name a synced profile already carries is kept
//!   while it is still one of its candidates, so a new account never renames existing profiles
//!   (`template.rs`).
//! - **Ownership** is the marker comment `# managed by portico profiles sync (sso-session S)`
//!   (or `(saml-session S)`) right under the header. A profile without it is the user's: never
//!   edited, never deleted, and its name is not used (the generated profile takes the next
//!   candidate, with a warning). The marker names the session, so syncing one session never
//!   prunes another's profiles.
//! - **Keys**: `sso_session`, `sso_account_id`, `sso_role_name`, or with
//!   [`Style::CredentialProcess`]
//!   `credential_process = portico credentials --account … --role … --sso-session …` (a
//!   saml-session's: `--saml-session … --role-arn …`, written by
//!   [`crate::awsconfig::credential_process`]); `region` only when one is given (a region
//!   already in a synced profile is kept otherwise). Keys the user added to a synced profile
//!   stay.
//! - **Batch edits**: thousands of profiles are edited section by section and appended in one
//!   go, checked against what the editor would do, so a sync stays linear in the file
//!   (`batch.rs`).

mod batch;
mod source;
mod template;

use std::collections::{HashMap, HashSet};

use crate::awsconfig::edit::{Document, EditError, SectionId};
use crate::awsconfig::names::clean_name;
use crate::awsconfig::{ConfigFile, LoadError, SectionKind};
use crate::consts as keys;
use batch::{append_sections, apply_edits, borrowed, is_current, Edit};
use template::assign_names;

pub use crate::awsconfig::names::DEFAULT_TEMPLATE;
pub use source::{assignments, marker, role_assignments, Assignment, Source, Style};
pub use template::Template;

/// What to sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// The session whose roles the profiles are for, and how they are written.
    pub source: Source,
    pub template: Template,
    /// `region` for every synced profile; `None` leaves an existing one alone.
    pub region: Option<String>,
    /// Delete synced profiles that are no longer assigned.
    pub prune: bool,
}

/// What a sync did (or would do) to the document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub added: Vec<String>,
    pub updated: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: Vec<String>,
    /// Synced profiles no longer assigned but kept (`--no-prune`).
    pub stale: Vec<String>,
    /// Worded for the user (a name taken by one of the user's profiles, …).
    pub warnings: Vec<String>,
}

impl Outcome {
    /// `N added, N updated, N removed, N unchanged`.
    pub fn counts(&self) -> String {
        let mut text = format!(
            "{} added, {} updated, {} removed, {} unchanged",
            self.added.len(),
            self.updated.len(),
            self.removed.len(),
            self.unchanged.len()
        );
        if !self.stale.is_empty() {
            text.push_str(&format!(
                ", {} no longer assigned but kept",
                self.stale.len()
            ));
        }
        text
    }
}

/// Writes one marked profile per assignment into `doc`, updates the ones this session's sync
/// wrote before, and (with `prune`) deletes those no longer assigned. Profiles without the
/// session's marker are never touched.
pub fn sync(
    doc: &mut Document,
    items: &[Assignment],
    options: &SyncOptions,
) -> Result<Outcome, EditError> {
    if let Some(problem) = doc.problem() {
        return Err(EditError::Unreadable {
            path: doc.path().to_path_buf(),
            source: LoadError::Parse(problem.clone()),
        });
    }
    let marker = options.source.marker();
    let sections: Vec<_> = doc
        .sections()
        .into_iter()
        .filter(|s| s.id.kind == SectionKind::Profile)
        .collect();
    // A name with any unmarked copy is someone else's, even if a marked copy exists too.
    let mut taken: HashSet<String> = HashSet::from(["default".to_string()]);
    let mut users: HashSet<String> = HashSet::new();
    for s in &sections {
        if !s.has_marker(&marker) {
            taken.insert(s.id.name.clone());
            if !s
                .comments
                .iter()
                .any(|c| c.starts_with("managed by portico"))
            {
                users.insert(s.id.name.clone());
            }
        }
    }
    // The synced profiles by name (the last copy), for the keys a renamed profile keeps.
    let synced: HashMap<&str, &crate::awsconfig::edit::SectionInfo> = sections
        .iter()
        .filter(|s| s.has_marker(&marker))
        .map(|s| (s.id.name.as_str(), s))
        .collect();
    let mut managed: Vec<String> = Vec::new();
    let mut managed_set: HashSet<String> = HashSet::new();
    let mut existing: HashMap<(String, String), String> = HashMap::new();
    for s in &sections {
        if s.has_marker(&marker)
            && !taken.contains(&s.id.name)
            && managed_set.insert(s.id.name.clone())
        {
            managed.push(s.id.name.clone());
            if let Some(key) = source::assignment_key(s) {
                existing.entry(key).or_insert_with(|| s.id.name.clone());
            }
        }
    }

    let bases: Vec<String> = items
        .iter()
        .map(|item| {
            let base = clean_name(&options.template.render(item, options.source.name()));
            if base.is_empty() {
                clean_name(&format!("{}-{}", item.account_id, item.role_name))
            } else {
                base
            }
        })
        .collect();
    let (names, warnings) = assign_names(items, &bases, &taken, &users, &existing);

    let mut outcome = Outcome {
        warnings,
        ..Outcome::default()
    };
    let present: HashSet<String> = sections.iter().map(|s| s.id.name.clone()).collect();
    // The synced profiles as readers see them, to skip the (whole-document) edit of each one
    // that is already as it should be.
    let parsed =
        ConfigFile::parse(doc.path(), &doc.render()).map_err(|e| EditError::Unreadable {
            path: doc.path().to_path_buf(),
            source: LoadError::Parse(e),
        })?;
    let mut reader: HashMap<&str, Option<&crate::awsconfig::Section>> = HashMap::new();
    for section in parsed
        .sections()
        .into_iter()
        .filter(|s| s.kind == SectionKind::Profile)
    {
        if !managed_set.contains(&section.name) {
            continue;
        }
        // A repeated section is left to the editor, which knows how to treat the copies.
        reader
            .entry(section.name.as_str())
            .and_modify(|seen| *seen = None)
            .or_insert(Some(section));
    }
    let mut new_sections: Vec<String> = Vec::new();
    let mut edits: Vec<(String, Edit)> = Vec::new();
    for (item, name) in items.iter().zip(&names) {
        let (mut set, remove) = source::profile_keys(&options.source, item);
        if let Some(region) = &options.region {
            set.push((keys::REGION, region.clone()));
        }
        if !present.contains(name) {
            // A new name for an assignment that had a synced profile (a new template): the
            // keys this sync does not set (a region given earlier, keys the user added) move
            // with it, so that only what was asked for changes.
            let key = (item.account_id.clone(), item.role_name.clone());
            let mut all: Vec<(&str, &str)> = borrowed(&set);
            if let Some(old) = existing.get(&key).and_then(|n| synced.get(n.as_str())) {
                for (k, v) in &old.settings {
                    let managed = set.iter().any(|(s, _)| s == k) || remove.contains(&k.as_str());
                    // Only what the editor can write again as it was (no nested values).
                    let writable = !v.is_empty()
                        && !v.chars().any(char::is_control)
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
                    if !managed && writable && !all.iter().any(|(a, _)| a == k) {
                        all.push((k.as_str(), v.as_str()));
                    }
                }
            }
            // Written by the editor into a document of its own (so names and values are checked
            // and formatted as for any edit), then appended with the others in one go.
            let id = SectionId::profile(name);
            let mut single = Document::parse(doc.path(), "");
            single.upsert(&id, &all, &[])?;
            single.mark(&id, &marker)?;
            new_sections.push(single.render());
            outcome.added.push(name.clone());
        } else if is_current(reader.get(name.as_str()), &set, remove) {
            outcome.unchanged.push(name.clone());
        } else {
            edits.push((name.clone(), Edit::Update { set, remove }));
        }
    }
    let wanted: HashSet<&String> = names.iter().collect();
    // A listing without a single role is more likely a glitch than a real loss of every
    // assignment: keep everything rather than empty the file.
    let prune = options.prune && !items.is_empty();
    if options.prune && items.is_empty() && !managed.is_empty() {
        outcome.warnings.push(format!(
            "Identity Center listed no roles for sso-session {}, so no synced profile is removed; \
             run again with --refresh once `portico list --refresh` shows your roles",
            options.source.name()
        ));
    }
    for name in managed.iter().filter(|n| !wanted.contains(n)) {
        if prune {
            edits.push((name.clone(), Edit::Delete));
            outcome.removed.push(name.clone());
        } else {
            outcome.stale.push(name.clone());
        }
    }
    let changed = apply_edits(doc, &edits, &marker)?;
    for (name, edit) in &edits {
        if matches!(edit, Edit::Update { .. }) {
            if changed.contains(name) {
                outcome.updated.push(name.clone());
            } else {
                outcome.unchanged.push(name.clone());
            }
        }
    }
    append_sections(doc, &new_sections)?;
    Ok(outcome)
}

#[cfg(test)]
mod tests;
