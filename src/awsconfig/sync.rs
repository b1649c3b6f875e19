//! Profile sync: one `[profile NAME]` per account × role assigned to the user, planned over a
//! [`Document`] of the AWS config file and marked with a comment, so that a later sync updates
//! and prunes only the profiles it wrote. `portico profiles sync` adds the account list, the
//! diff or summary and the write.
//!
//! - **Names** come from a [`Template`] ([`DEFAULT_TEMPLATE`] by default), cleaned by
//!   [`clean_name`]. Collisions are resolved in a stable order: `NAME`,
//!   `NAME-ACCOUNT_ID`, `NAME-ACCOUNT_ID-2`, …; a name a synced profile already carries is kept
//!   while it is still one of its candidates, so a new account never renames existing profiles.
//! - **Ownership** is the marker comment `# managed by portico profiles sync (sso-session S)`
//!   right under the header. A profile without it is the user's: never edited, never deleted,
//!   and its name is not used (the generated profile takes the next candidate, with a warning).
//!   The marker names the session, so syncing one session never prunes another's profiles.
//! - **Keys**: `sso_session`, `sso_account_id`, `sso_role_name`, or with
//!   [`Style::CredentialProcess`]
//!   `credential_process = portico credentials --account … --role … --sso-session …`; `region`
//!   only when one is given (a region already in a synced profile is kept otherwise).
//!   Keys the user added to a synced profile stay.
//! - **Batch edits**: thousands of profiles are edited section by section and appended in one
//!   go, checked against what the editor would do, so a sync stays linear in the file.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::awsconfig::edit::{Document, EditError, SectionId, Upserted};
use crate::awsconfig::names::clean_name;
use crate::awsconfig::{ConfigFile, LoadError, SectionKind};
use crate::consts as keys;
use crate::model::id::RoleArn;
use crate::model::Account;
use crate::output::shell::{quote, split_command};
use crate::sanitize::for_terminal;

pub use crate::awsconfig::names::DEFAULT_TEMPLATE;

/// The comment that marks a profile as written by `profiles sync` for `session`.
pub fn marker(session: &str) -> String {
    format!("managed by portico profiles sync (sso-session {session})")
}

/// The marker of the profiles a sync with `options` owns: a saml-session's are its own, never
/// an sso-session's of the same name.
fn marker_of(options: &SyncOptions) -> String {
    match options.style {
        Style::Saml { .. } => format!(
            "managed by portico profiles sync (saml-session {})",
            options.session
        ),
        _ => marker(&options.session),
    }
}

// ---------------------------------------------------------------------------------------------
// Templates and names

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    AccountName,
    AccountId,
    RoleName,
    Session,
}

/// A parsed `--template`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `{placeholder}`s; an unknown or unclosed one is an error naming the known ones.
    pub fn parse(text: &str) -> Result<Template, String> {
        let known = "{account_name}, {account_id}, {role_name}, {session}";
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let Some(close) = rest[open..].find('}') else {
                return Err(format!(
                    "template {} has a `{{` without `}}`; placeholders are {known}",
                    crate::sanitize::quoted(text)
                ));
            };
            let name = &rest[open + 1..open + close];
            parts.push(match name {
                "account_name" => Part::AccountName,
                "account_id" => Part::AccountId,
                "role_name" => Part::RoleName,
                "session" => Part::Session,
                other => {
                    return Err(format!(
                    "template {} has an unknown placeholder {{{other}}}; placeholders are {known}",
                    crate::sanitize::quoted(text)
                ))
                }
            });
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        if !parts.iter().any(|p| !matches!(p, Part::Text(_))) {
            return Err(format!(
                "template {} has no placeholder, so every profile would get the same name; use {known}", crate::sanitize::quoted(text)
            ));
        }
        Ok(Template { parts })
    }

    /// The raw name for one assignment (not yet cleaned).
    pub fn render(&self, assignment: &Assignment, session: &str) -> String {
        let mut out = String::new();
        for part in &self.parts {
            out.push_str(match part {
                Part::Text(t) => t,
                Part::AccountName => &assignment.account_name,
                Part::AccountId => &assignment.account_id,
                Part::RoleName => &assignment.role_name,
                Part::Session => session,
            });
        }
        out
    }
}

/// The `n`-th name an assignment may take: its base name, then `-ACCOUNT_ID`, then a counter.
fn candidate(base: &str, account_id: &str, n: usize) -> String {
    match n {
        0 => base.to_string(),
        1 => format!("{base}-{account_id}"),
        n => format!("{base}-{account_id}-{n}"),
    }
}

/// Whether `name` is one of [`candidate`]'s answers for `base` and `account_id`.
fn is_candidate(name: &str, base: &str, account_id: &str) -> bool {
    if name == base {
        return true;
    }
    let Some(rest) = name
        .strip_prefix(base)
        .and_then(|r| r.strip_prefix('-'))
        .and_then(|r| r.strip_prefix(account_id))
    else {
        return false;
    };
    rest.is_empty()
        || rest
            .strip_prefix('-')
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| n >= 2 && rest == format!("-{n}"))
}

// ---------------------------------------------------------------------------------------------
// credential_process command lines

/// What a `credential_process = portico credentials …` line asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PorticoCommand {
    /// The program as written (`portico` or a path).
    pub program: String,
    pub profile: Option<String>,
    pub account: Option<String>,
    pub role: Option<String>,
    pub sso_session: Option<String>,
    pub saml_session: Option<String>,
    pub role_arn: Option<String>,
}

/// Parses a credential_process line that runs `portico credentials`; `None` for any other
/// program or subcommand.
pub fn parse_portico_command(line: &str) -> Option<PorticoCommand> {
    let words = split_command(line);
    let program = words.first()?;
    let file = Path::new(program).file_name()?.to_string_lossy();
    if file != "portico" && file != "portico.exe" {
        return None;
    }
    let mut rest = words[1..].iter();
    // Global flags (-v) may come before the subcommand.
    let subcommand = rest.by_ref().find(|w| !w.starts_with('-'))?;
    if subcommand != "credentials" {
        return None;
    }
    let mut cmd = PorticoCommand {
        program: program.clone(),
        ..PorticoCommand::default()
    };
    while let Some(word) = rest.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (word.as_str(), None),
        };
        let slot = match flag {
            "--profile" => &mut cmd.profile,
            "--account" => &mut cmd.account,
            "--role" => &mut cmd.role,
            "--sso-session" => &mut cmd.sso_session,
            "--saml-session" => &mut cmd.saml_session,
            "--role-arn" => &mut cmd.role_arn,
            _ => continue,
        };
        *slot = inline.or_else(|| rest.next().cloned());
    }
    Some(cmd)
}

/// How credential_process lines name portico: plain `portico` when the first `portico` on
/// `PATH` is this very program, else this program's absolute path (quoted if needed), so the
/// AWS CLI runs the portico that wrote the line whatever its `PATH`.
pub fn portico_program() -> String {
    let Some(me) = std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::canonicalize(p).ok())
    else {
        return "portico".to_string();
    };
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("portico"))
            .find(|p| p.is_file())
    });
    match on_path.and_then(|p| std::fs::canonicalize(p).ok()) {
        Some(found) if found == me => "portico".to_string(),
        _ => quote(&me.to_string_lossy()),
    }
}

// ---------------------------------------------------------------------------------------------
// Planning the sync

/// One account × role to write a profile for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Assignment {
    pub account_name: String,
    pub account_id: String,
    pub role_name: String,
}

/// Every account × role of a listing, sorted by account name, account id, role.
pub fn assignments(accounts: &[Account]) -> Vec<Assignment> {
    let mut out: Vec<Assignment> = accounts
        .iter()
        .flat_map(|a| {
            a.roles.iter().map(|r| Assignment {
                account_name: a.account_name.clone(),
                account_id: a.account_id.clone(),
                role_name: r.clone(),
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// How profiles are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Style {
    /// `sso_session`, `sso_account_id`, `sso_role_name`.
    Native,
    /// `credential_process = PROGRAM credentials --account … --role … --sso-session …`.
    CredentialProcess { program: String },
    /// A saml-session's roles (`session` is its name):
    /// `credential_process = PROGRAM credentials --saml-session … --role-arn …`, the ARN looked
    /// up by (account id, role name).
    Saml {
        program: String,
        role_arns: HashMap<(String, String), String>,
    },
}

/// What to sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// The `[sso-session NAME]` the profiles use.
    pub session: String,
    pub template: Template,
    pub style: Style,
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

/// The account and role a synced profile is for, read back from its keys.
fn assignment_key(section: &crate::awsconfig::edit::SectionInfo) -> Option<(String, String)> {
    if let (Some(a), Some(r)) = (
        section.get(keys::SSO_ACCOUNT_ID),
        section.get(keys::SSO_ROLE_NAME),
    ) {
        return Some((a.to_string(), r.to_string()));
    }
    let cmd = parse_portico_command(section.get(keys::CREDENTIAL_PROCESS)?)?;
    if let Some(role_arn) = cmd.role_arn {
        let arn = RoleArn::split(&role_arn)?;
        return Some((arn.account_id.to_string(), arn.name.to_string()));
    }
    Some((cmd.account?, cmd.role?))
}

/// Chooses a name for each assignment (see the module doc). Returns the names in the order of
/// `items`, plus warnings for names the user's own profiles hold.
fn assign_names(
    items: &[Assignment],
    bases: &[String],
    taken: &HashSet<String>,
    users: &HashSet<String>,
    existing: &HashMap<(String, String), String>,
) -> (Vec<String>, Vec<String>) {
    let mut used: HashSet<String> = HashSet::new();
    let mut names: Vec<Option<String>> = vec![None; items.len()];
    // Names synced profiles already have stay, as long as they still fit.
    for (i, item) in items.iter().enumerate() {
        let key = (item.account_id.clone(), item.role_name.clone());
        if let Some(name) = existing.get(&key) {
            if is_candidate(name, &bases[i], &item.account_id)
                && !taken.contains(name)
                && used.insert(name.clone())
            {
                names[i] = Some(name.clone());
            }
        }
    }
    let mut warnings = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if names[i].is_some() {
            continue;
        }
        let name = (0..)
            .map(|n| candidate(&bases[i], &item.account_id, n))
            .find(|c| !taken.contains(c) && !used.contains(c))
            .expect("candidates are endless");
        used.insert(name.clone());
        if name != bases[i] {
            let why = if users.contains(&bases[i]) {
                Some(format!(
                    "[profile {}] is your own (it has no portico mark), so it is left as it is",
                    bases[i]
                ))
            } else if bases[i] == "default" {
                Some("`default` is the profile the AWS CLI uses without --profile".to_string())
            } else if taken.contains(&bases[i]) {
                Some(format!(
                    "[profile {}] belongs to another sso-session's sync",
                    bases[i]
                ))
            } else {
                None
            };
            if let Some(why) = why {
                warnings.push(format!(
                    "{why}; account {} ({}) role {} is written as [profile {name}]",
                    for_terminal(&item.account_name),
                    item.account_id,
                    for_terminal(&item.role_name)
                ));
            } else {
                crate::debug!(
                    "{} is used twice; account {} role {} gets {name}",
                    bases[i],
                    item.account_id,
                    item.role_name
                );
            }
        }
        names[i] = Some(name);
    }
    (
        names.into_iter().map(Option::unwrap_or_default).collect(),
        warnings,
    )
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
    let marker = marker_of(options);
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
            if let Some(key) = assignment_key(s) {
                existing.entry(key).or_insert_with(|| s.id.name.clone());
            }
        }
    }

    let bases: Vec<String> = items
        .iter()
        .map(|item| {
            let base = clean_name(&options.template.render(item, &options.session));
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
        let (mut set, remove): (Vec<(&'static str, String)>, &'static [&'static str]) =
            match &options.style {
                Style::Native => (
                    vec![
                        (keys::SSO_SESSION, options.session.clone()),
                        (keys::SSO_ACCOUNT_ID, item.account_id.clone()),
                        (keys::SSO_ROLE_NAME, item.role_name.clone()),
                    ],
                    &[
                        keys::CREDENTIAL_PROCESS,
                        keys::SSO_START_URL,
                        keys::SSO_REGION,
                    ],
                ),
                Style::Saml { program, role_arns } => (
                    vec![(
                        keys::CREDENTIAL_PROCESS,
                        format!(
                            "{program} credentials --saml-session {} --role-arn {}",
                            quote(&options.session),
                            quote(
                                role_arns
                                    .get(&(item.account_id.clone(), item.role_name.clone()))
                                    .map_or("", String::as_str)
                            )
                        ),
                    )],
                    &[
                        keys::SSO_SESSION,
                        keys::SSO_ACCOUNT_ID,
                        keys::SSO_ROLE_NAME,
                        keys::SSO_START_URL,
                        keys::SSO_REGION,
                    ],
                ),
                Style::CredentialProcess { program } => (
                    vec![(
                        keys::CREDENTIAL_PROCESS,
                        format!(
                            "{program} credentials --account {} --role {} --sso-session {}",
                            quote(&item.account_id),
                            quote(&item.role_name),
                            quote(&options.session)
                        ),
                    )],
                    &[
                        keys::SSO_SESSION,
                        keys::SSO_ACCOUNT_ID,
                        keys::SSO_ROLE_NAME,
                        keys::SSO_START_URL,
                        keys::SSO_REGION,
                    ],
                ),
            };
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
            options.session
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

/// A change to one synced profile.
#[derive(Debug, Clone)]
enum Edit {
    Update {
        set: Vec<(&'static str, String)>,
        remove: &'static [&'static str],
    },
    Delete,
}

fn borrowed<'a>(set: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
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
fn apply_edits(
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
fn edit_one_by_one<'a>(
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
fn is_current(
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
fn append_sections(doc: &mut Document, sections: &[String]) -> Result<(), EditError> {
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
    use std::collections::BTreeSet;

    fn item(name: &str, id: &str, role: &str) -> Assignment {
        Assignment {
            account_name: name.into(),
            account_id: id.into(),
            role_name: role.into(),
        }
    }

    fn options(style: Style) -> SyncOptions {
        SyncOptions {
            session: "corp".into(),
            template: Template::parse(DEFAULT_TEMPLATE).unwrap(),
            style,
            region: None,
            prune: true,
        }
    }

    fn doc(text: &str) -> Document {
        Document::parse(Path::new("config"), text)
    }

    fn profile_names(doc: &Document) -> BTreeSet<String> {
        doc.sections()
            .into_iter()
            .filter(|s| s.id.kind == SectionKind::Profile)
            .map(|s| s.id.name)
            .collect()
    }

    #[test]
    fn templates_parse_and_render() {
        let t = Template::parse("{session}/{account_name} ({account_id}) {role_name}").unwrap();
        let a = item("Payments Prod", "111122223333", "Admin");
        assert_eq!(
            t.render(&a, "corp"),
            "corp/Payments Prod (111122223333) Admin"
        );
        assert!(Template::parse("{account}")
            .unwrap_err()
            .contains("unknown placeholder {account}"));
        assert!(Template::parse("{role_name")
            .unwrap_err()
            .contains("without"));
        assert!(Template::parse("fixed")
            .unwrap_err()
            .contains("no placeholder"));
    }

    /// The portal's proposal and a sync with the default template name a role alike.
    #[test]
    fn the_default_template_names_as_the_portal_proposes() {
        let items = vec![
            item("Payments Prod (EU)", "111111111111", "Admin"),
            item("日本", "222222222222", "Read Only"),
            item("日本", "333333333333", "管理"),
        ];
        let mut d = doc("");
        let out = sync(&mut d, &items, &options(Style::Native)).unwrap();
        let proposed: Vec<String> = items
            .iter()
            .map(|i| {
                crate::awsconfig::names::default_profile_name(
                    &i.account_name,
                    &i.account_id,
                    &i.role_name,
                )
            })
            .collect();
        assert_eq!(out.added, proposed);
        assert_eq!(
            proposed,
            vec!["Payments-Prod-EU-Admin", "Read-Only", "333333333333"]
        );
    }

    #[test]
    fn candidates_and_recognising_them() {
        assert_eq!(candidate("a", "1", 0), "a");
        assert_eq!(candidate("a", "1", 1), "a-1");
        assert_eq!(candidate("a", "1", 3), "a-1-3");
        for n in 0..5 {
            assert!(is_candidate(&candidate("a-b", "12", n), "a-b", "12"), "{n}");
        }
        assert!(!is_candidate("a-b-12-1", "a-b", "12"));
        assert!(!is_candidate("a-b-12-02", "a-b", "12"));
        assert!(!is_candidate("a-b-13", "a-b", "12"));
        assert!(!is_candidate("a-bc", "a-b", "12"));
    }

    #[test]
    fn portico_command_lines_are_recognised() {
        let c = parse_portico_command("/opt/bin/portico -v credentials --profile=dev").unwrap();
        assert_eq!(c.program, "/opt/bin/portico");
        assert_eq!(c.profile.as_deref(), Some("dev"));
        let c = parse_portico_command(
            "portico credentials --account 111122223333 --role Admin --sso-session corp",
        )
        .unwrap();
        assert_eq!(
            (
                c.account.as_deref(),
                c.role.as_deref(),
                c.sso_session.as_deref()
            ),
            (Some("111122223333"), Some("Admin"), Some("corp"))
        );
        assert!(parse_portico_command("aws-vault exec dev --json").is_none());
        assert!(parse_portico_command("portico exec --profile dev -- x").is_none());
        assert!(parse_portico_command("").is_none());
    }

    #[test]
    fn first_sync_writes_marked_profiles_and_a_second_changes_nothing() {
        let items = vec![
            item("payments prod", "111122223333", "ReadOnly"),
            item("payments prod", "111122223333", "Admin"),
        ];
        let mut items = items;
        items.sort();
        let mut d = doc("# mine\n[profile own]\nregion = x\n");
        let out = sync(&mut d, &items, &options(Style::Native)).unwrap();
        assert_eq!(
            out.added,
            vec!["payments-prod-Admin", "payments-prod-ReadOnly"]
        );
        assert_eq!(
            d.render(),
            "# mine\n[profile own]\nregion = x\n\n\
             [profile payments-prod-Admin]\n# managed by portico profiles sync (sso-session corp)\n\
             sso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Admin\n\n\
             [profile payments-prod-ReadOnly]\n# managed by portico profiles sync (sso-session corp)\n\
             sso_session = corp\nsso_account_id = 111122223333\nsso_role_name = ReadOnly\n"
        );
        let before = d.render();
        let again = sync(&mut d, &items, &options(Style::Native)).unwrap();
        assert_eq!(again.unchanged.len(), 2);
        assert!(again.added.is_empty() && again.updated.is_empty() && again.removed.is_empty());
        assert_eq!(d.render(), before);
    }

    #[test]
    fn users_profiles_keep_their_names_and_collisions_are_stable() {
        let mut d = doc("[profile a-Admin]\n# my own\nregion = x\n");
        let items = vec![
            item("a", "111111111111", "Admin"),
            item("a", "222222222222", "Admin"),
        ];
        let out = sync(&mut d, &items, &options(Style::Native)).unwrap();
        assert_eq!(
            out.added,
            vec!["a-Admin-111111111111", "a-Admin-222222222222"]
        );
        assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
        assert!(out.warnings[0].contains("[profile a-Admin] is your own"));
        assert!(d
            .render()
            .starts_with("[profile a-Admin]\n# my own\nregion = x\n\n"));

        // Among generated names the first in order gets the plain name; a newcomer that sorts
        // first does not take it away later.
        let mut d = doc("");
        let items = vec![
            item("b", "222222222222", "Admin"),
            item("b.", "333333333333", "Admin"),
        ];
        // "b-Admin" and "b.-Admin" differ; make a real clash with a template on the role only.
        let mut opts = options(Style::Native);
        opts.template = Template::parse("{role_name}").unwrap();
        let out = sync(&mut d, &items, &opts).unwrap();
        assert_eq!(out.added, vec!["Admin", "Admin-333333333333"]);
        let mut grown = vec![item("a", "111111111111", "Admin")];
        grown.extend(items);
        let out = sync(&mut d, &grown, &opts).unwrap();
        assert_eq!(out.added, vec!["Admin-111111111111"]);
        assert_eq!(out.unchanged.len(), 2);
    }

    #[test]
    fn default_is_never_generated() {
        let mut d = doc("");
        let mut opts = options(Style::Native);
        opts.template = Template::parse("{role_name}").unwrap();
        let out = sync(&mut d, &[item("x", "111111111111", "default")], &opts).unwrap();
        assert_eq!(out.added, vec!["default-111111111111"]);
        assert!(out.warnings[0].contains("`default`"));
    }

    #[test]
    fn prune_removes_only_this_sessions_marked_profiles() {
        let text = "[profile gone]\n# managed by portico profiles sync (sso-session corp)\n\
                    sso_session = corp\nsso_account_id = 999999999999\nsso_role_name = Admin\n\n\
                    [profile other]\n# managed by portico profiles sync (sso-session other)\n\
                    sso_session = other\nsso_account_id = 999999999999\nsso_role_name = Admin\n\n\
                    [profile mine]\n# a comment of mine\nsso_session = corp\nsso_account_id = 999999999999\nsso_role_name = Admin\n";
        let mut d = doc(text);
        let items = vec![item("a", "111111111111", "Admin")];
        let mut opts = options(Style::Native);
        opts.prune = false;
        let out = sync(&mut d, &items, &opts).unwrap();
        assert_eq!(out.stale, vec!["gone"]);
        assert!(out.counts().contains("1 no longer assigned but kept"));
        let mut d = doc(text);
        let out = sync(&mut d, &items, &options(Style::Native)).unwrap();
        assert_eq!(out.removed, vec!["gone"]);
        let names = profile_names(&d);
        assert!(names.contains("other") && names.contains("mine") && !names.contains("gone"));
        assert!(
            d.render().starts_with("[profile other]\n"),
            "{}",
            d.render()
        );
    }

    #[test]
    fn an_empty_listing_removes_nothing() {
        let mut d = doc("");
        sync(
            &mut d,
            &[item("a", "111111111111", "Admin")],
            &options(Style::Native),
        )
        .unwrap();
        let before = d.render();
        let out = sync(&mut d, &[], &options(Style::Native)).unwrap();
        assert_eq!(out.stale, vec!["a-Admin"]);
        assert!(out.warnings[0].contains("no synced profile is removed"));
        assert_eq!(d.render(), before);
    }

    #[test]
    fn switching_style_rewrites_the_keys_and_keeps_the_users_additions() {
        let mut d = doc("");
        let items = vec![item("a", "111111111111", "Admin")];
        sync(&mut d, &items, &options(Style::Native)).unwrap();
        d.upsert(&SectionId::profile("a-Admin"), &[("output", "json")], &[])
            .unwrap();
        let mut opts = options(Style::CredentialProcess {
            program: "'/opt/my tools/portico'".into(),
        });
        opts.region = Some("eu-west-1".into());
        let out = sync(&mut d, &items, &opts).unwrap();
        assert_eq!(out.updated, vec!["a-Admin"]);
        assert_eq!(
            d.render(),
            "[profile a-Admin]\n# managed by portico profiles sync (sso-session corp)\n\
             output = json\ncredential_process = '/opt/my tools/portico' credentials --account 111111111111 \
             --role Admin --sso-session corp\nregion = eu-west-1\n"
        );
        // The profile is still recognised as this assignment's.
        let again = sync(&mut d, &items, &opts).unwrap();
        assert_eq!(again.unchanged, vec!["a-Admin"]);
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

    #[test]
    fn a_changed_template_renames_by_adding_and_pruning() {
        let mut d = doc("");
        let items = vec![item("a", "111111111111", "Admin")];
        sync(&mut d, &items, &options(Style::Native)).unwrap();
        let mut opts = options(Style::Native);
        opts.template = Template::parse("{session}-{account_id}-{role_name}").unwrap();
        let out = sync(&mut d, &items, &opts).unwrap();
        assert_eq!(out.added, vec!["corp-111111111111-Admin"]);
        assert_eq!(out.removed, vec!["a-Admin"]);
    }

    #[test]
    fn a_changed_template_keeps_the_region_and_the_users_keys() {
        let mut d = doc("");
        let items = vec![item("a", "111111111111", "Admin")];
        let mut opts = options(Style::Native);
        opts.region = Some("eu-west-1".into());
        sync(&mut d, &items, &opts).unwrap();
        d.upsert(&SectionId::profile("a-Admin"), &[("output", "json")], &[])
            .unwrap();
        let mut opts = options(Style::Native);
        opts.template = Template::parse("{session}-{account_id}-{role_name}").unwrap();
        sync(&mut d, &items, &opts).unwrap();
        let p = d
            .section(&SectionId::profile("corp-111111111111-Admin"))
            .unwrap();
        assert_eq!(p.get("region"), Some("eu-west-1"), "{}", d.render());
        assert_eq!(p.get("output"), Some("json"));
        assert_eq!(p.get("sso_account_id"), Some("111111111111"));
        // A region given now wins over the old one; switching style drops the old style's keys.
        let mut opts = options(Style::CredentialProcess {
            program: "portico".into(),
        });
        opts.template = Template::parse("{account_id}-{role_name}").unwrap();
        opts.region = Some("us-east-2".into());
        sync(&mut d, &items, &opts).unwrap();
        let p = d
            .section(&SectionId::profile("111111111111-Admin"))
            .unwrap();
        assert_eq!(p.get("region"), Some("us-east-2"));
        assert_eq!(p.get("sso_session"), None);
        assert_eq!(p.get("sso_account_id"), None);
        assert_eq!(p.get("output"), Some("json"));
    }

    /// A sync that renames every profile of a large file (a new template) is linear in the
    /// file: 8× the profiles, about 8× the work (see `awsconfig::work`).
    #[test]
    fn a_sync_of_many_profiles_is_linear() {
        let run = |n: usize| {
            let items: Vec<Assignment> = (0..n)
                .map(|i| {
                    item(
                        &format!("acct{i}"),
                        &format!("{:012}", 100_000_000_000u64 + i as u64),
                        "Admin",
                    )
                })
                .collect();
            let mut d = doc("");
            sync(&mut d, &items, &options(Style::Native)).unwrap();
            crate::awsconfig::tests::work_of(|| {
                let mut opts = options(Style::Native);
                opts.template = Template::parse("{session}-{account_id}-{role_name}").unwrap();
                let out = sync(&mut d, &items, &opts).unwrap();
                assert_eq!(out.added.len(), n);
                assert!(d.warnings().is_empty());
            })
        };
        let (small, large) = (run(200), run(1600));
        assert!(
            large <= small * 12,
            "8× the profiles took {}× the work ({small} → {large})",
            large / small.max(1)
        );
    }
}
