//! Editing `~/.aws/config` so that a write changes only the lines it means to.
//!
//! The file belongs to the user and is shared with the AWS CLI and every SDK: it carries comments
//! (`#`, `;`), blank lines, the user's order and spacing (`key=value`, `key   =   value`, tabs),
//! CRLF line endings, keys portico does not know, nested sub-settings (`s3 =` + indented lines),
//! non-ASCII profile names, sometimes no final newline. A [`Document`] keeps every line as the
//! bytes it was read from plus its line ending, so [`Document::render`] of an untouched document
//! is the input byte for byte; an edit rewrites, drops or inserts whole lines and nothing else:
//!
//! - a value that changes is replaced in place, keeping the line's indentation, key spelling,
//!   spacing around the delimiter and trailing whitespace;
//! - a missing key goes right after the section's last setting (or continuation) line, with that
//!   line's indentation and `=` spacing, before blank and comment lines that lead into the next
//!   section; a new section goes at the end of the file after one blank line;
//! - new lines use the file's line ending (CRLF when most lines end so, else LF); appending after
//!   a last line without a line break gives that line one, and the file keeps having no final
//!   newline;
//! - deleting a section removes its header and body (settings, their continuation lines, the
//!   comments among them) and at most one blank line, so no double gap is left; comments that
//!   lead into the next section, or sit above the deleted header, are kept.
//!
//! **Why by hand.** Before writing this we looked for an INI crate that round-trips comments and
//! formatting exactly (docs.rs and the crates' READMEs): `rust-ini` keeps no comments when it
//! loads and writes `key=value` with its own spacing; `configparser` (Rust, modelled on Python's)
//! strips comments too and normalises on write, as Python's own `configparser` documents that it
//! does; the `ini` crate is a read-only macro over `configparser`; `ini-doc` keeps comments "as
//! much as possible" but re-serialises (no inline comments, spacing not kept); `ini-roundtrip`
//! is a format-preserving *streaming parser* with no editing API whose README says newline styles
//! are not saved. None gives byte-exact edits plus botocore's section and continuation rules, so
//! the editor reuses the reader's rules (`classify`, [`ConfigFile::parse`]) over raw lines.
//!
//! **Duplicates.** botocore (configparser in strict mode) refuses a file in which a section header
//! repeats; the Rust SDK merges the copies, later keys winning; for `[default]` next to
//! `[profile default]` botocore takes the later section and the Rust SDK `[profile default]`.
//! portico never adds another copy. An edit goes to the *last* section that maps to the name
//! (what botocore's profile map and the SDK's merge both let win); a key it sets is also rewritten
//! where an earlier copy already has it, and a key it removes is removed from every copy, so no
//! reader can see a stale value; deleting removes every copy. [`Document::warnings`] names the
//! lines so the user can merge them.
//!
//! An edit that would change how a line it keeps reads (an indented line that would become the
//! continuation of a setting once the section between them is deleted) is refused, not made.
//! A file the reader refuses is never edited.
//!
//! Writing to disk (atomic, backup `config.portico-backup`, refusing when the file changed since
//! it was read) is [`EditableFile`]'s job.

mod save;

pub use save::{backup_path, EditableFile, Saved};

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::{classify, work, ConfigFile, LoadError, ParseError, SectionKind};
use crate::sanitize::for_terminal;

/// A section an edit is aimed at. Two headers name the same section when botocore maps them to
/// the same profile, sso-session or services entry (`[default]` and `[profile default]` do).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SectionId {
    pub kind: SectionKind,
    pub name: String,
}

impl SectionId {
    /// `[profile NAME]`, or `[default]` for `default`.
    pub fn profile(name: impl Into<String>) -> SectionId {
        SectionId {
            kind: SectionKind::Profile,
            name: name.into(),
        }
    }

    /// `[sso-session NAME]`.
    pub fn sso_session(name: impl Into<String>) -> SectionId {
        SectionId {
            kind: SectionKind::SsoSession,
            name: name.into(),
        }
    }

    /// `[saml-session NAME]`, portico's own kind (an `Other` section to the reader).
    pub fn saml_session(name: &str) -> SectionId {
        SectionId {
            kind: SectionKind::Other,
            name: format!("{}{name}", super::SAML_SESSION_PREFIX),
        }
    }

    /// `[services NAME]`.
    pub fn services(name: impl Into<String>) -> SectionId {
        SectionId {
            kind: SectionKind::Services,
            name: name.into(),
        }
    }

    /// The header portico writes for a new section (`[default]` as `aws configure` writes it).
    pub fn header(&self) -> String {
        format!("[{self}]")
    }
}

impl fmt::Display for SectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            SectionKind::Profile if self.name == "default" => f.write_str("default"),
            SectionKind::Profile => write!(f, "profile {}", self.name),
            SectionKind::SsoSession => write!(f, "sso-session {}", self.name),
            SectionKind::Services => write!(f, "services {}", self.name),
            SectionKind::Other => f.write_str(&self.name),
        }
    }
}

/// Why an edit was refused. Nothing is changed when one of these comes back.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The OS error is part of the message and not a `source`, so it is printed once.
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{} is {what}, not a file; the AWS config must be a regular file (replace it, or point AWS_CONFIG_FILE at one)", path.display())]
    NotAFile { path: PathBuf, what: &'static str },
    #[error("{} is a link to {}, whose directory does not exist; create that directory (or replace the link with a file), then re-run", path.display(), target.display())]
    LinkTargetDirMissing { path: PathBuf, target: PathBuf },
    #[error("{} is not UTF-8 text; portico only edits UTF-8 config files (convert it, then re-run)", path.display())]
    NotUtf8 { path: PathBuf },
    #[error("portico does not edit {}, which the AWS CLI cannot read either", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: LoadError,
    },
    #[error("{} changed since portico read it (another program wrote to it); nothing was written, re-run the command", path.display())]
    Changed { path: PathBuf },
    #[error("cannot write {}: {error}", path.display())]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{} line {line}: this edit would change how that line reads (an indented line next to \
             the change would join the setting above it); remove its indentation, then re-run", path.display())]
    WouldChangeMeaning { path: PathBuf, line: usize },
    #[error(
        "{what} \"{}\" cannot be written to the config file: {why}",
        for_terminal(value)
    )]
    Invalid {
        what: &'static str,
        value: String,
        why: &'static str,
    },
}

impl EditError {
    /// A config file portico will not edit as it is counts as a config failure, like the read
    /// commands give for it; I/O, a concurrent change or a value that cannot be written as other.
    pub fn kind(&self) -> crate::failure::FailureKind {
        use crate::failure::FailureKind as K;
        use EditError as E;
        match self {
            E::NotUtf8 { .. }
            | E::Unreadable { .. }
            | E::NotAFile { .. }
            | E::LinkTargetDirMissing { .. }
            | E::WouldChangeMeaning { .. } => K::Config,
            E::Read { .. } | E::Changed { .. } | E::Write { .. } | E::Invalid { .. } => K::Other,
        }
    }
}

/// What an [`Document::upsert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    /// The section did not exist and was appended.
    Created,
    /// The section existed and at least one line changed.
    Updated,
    /// The section already had these values.
    Unchanged,
}

/// One section as listed by [`Document::sections`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionInfo {
    pub id: SectionId,
    /// The header text between the brackets, as written.
    pub header: String,
    /// 1-based line of the header.
    pub line: usize,
    /// 1-based line where the section's body ends: its last setting or continuation line (or
    /// the header, or the comments right under a header without settings). Blank and comment
    /// lines after it lead into the next section and are not the section's.
    pub last_line: usize,
    /// Top-level settings in file order (key case-folded, value trimmed; a nested value
    /// such as `s3 =` shows as an empty string).
    pub settings: Vec<(String, String)>,
    /// Comment lines in the section's body (before its last setting, or right under a header
    /// without settings), without the `#`/`;` and surrounding whitespace.
    pub comments: Vec<String>,
}

impl SectionInfo {
    /// The value of `key` (the last one, if it repeats).
    pub fn get(&self, key: &str) -> Option<&str> {
        let key = key.to_lowercase();
        self.settings
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the section carries `marker` as a comment line (see [`Document::mark`]).
    pub fn has_marker(&self, marker: &str) -> bool {
        self.comments.iter().any(|c| c == marker.trim())
    }
}

/// The config file as lines, each kept exactly as read.
#[derive(Debug, Clone)]
pub struct Document {
    path: PathBuf,
    lines: Vec<Line>,
    /// The line ending new lines get.
    newline: &'static str,
    /// Why the reader refuses the text, if it does; edits are refused then.
    problem: Option<ParseError>,
}

#[derive(Debug, Clone)]
struct Line {
    /// The line without its ending (a BOM on the first line stays here).
    text: String,
    /// `"\n"`, `"\r\n"`, or `""` for a last line without one.
    end: &'static str,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Blank,
    Comment,
    Header {
        id: SectionId,
        raw: String,
    },
    /// `key = value`; the value is `text[value_at..value_end]`.
    Setting {
        key: String,
        value_at: usize,
        value_end: usize,
    },
    /// A line indented deeper than the setting above it: part of that setting's value.
    Continuation,
    /// A line the reader refuses (the edit is refused before it matters).
    Invalid,
}

/// Where one section's lines are: `header`, its body up to `body_end` (exclusive: after the last
/// setting or continuation line), and everything up to the next header at `end`.
#[derive(Debug, Clone)]
struct Span {
    id: SectionId,
    raw: String,
    header: usize,
    body_end: usize,
    end: usize,
}

impl Document {
    /// Splits `text` into lines and classifies them with the reader's rules. Never fails: a text
    /// the reader refuses is kept and rendered as is, but not edited. `path` is for messages.
    pub fn parse(path: &Path, text: &str) -> Document {
        let mut lines = Vec::new();
        let (mut crlf, mut lf) = (0usize, 0usize);
        for piece in text.split_inclusive('\n') {
            let (body, end) = if let Some(body) = piece.strip_suffix("\r\n") {
                crlf += 1;
                (body, "\r\n")
            } else if let Some(body) = piece.strip_suffix('\n') {
                lf += 1;
                (body, "\n")
            } else {
                (piece, "")
            };
            lines.push(Line {
                text: body.to_string(),
                end,
                kind: Kind::Blank,
            });
        }
        classify_lines(&mut lines);
        Document {
            path: path.to_path_buf(),
            lines,
            newline: if crlf > lf { "\r\n" } else { "\n" },
            problem: ConfigFile::parse(path, text).err(),
        }
    }

    /// The text: the input byte for byte when nothing was edited.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(self.lines.iter().map(|l| l.text.len() + 2).sum());
        for line in &self.lines {
            out.push_str(&line.text);
            out.push_str(line.end);
        }
        out
    }

    /// The file the text came from (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The line ending new lines get: the file's own (CRLF when most lines use it).
    pub fn newline(&self) -> &'static str {
        self.newline
    }

    /// Why the reader (and the AWS CLI) cannot read this text, if so. Edits are refused then.
    pub fn problem(&self) -> Option<&ParseError> {
        self.problem.as_ref()
    }

    /// Every section in file order, with its settings and comments.
    pub fn sections(&self) -> Vec<SectionInfo> {
        self.spans().iter().map(|s| self.info(s)).collect()
    }

    /// The section an edit of `id` goes to (the last copy, see the module doc).
    pub fn section(&self, id: &SectionId) -> Option<SectionInfo> {
        self.spans_of(id).last().map(|s| self.info(s))
    }

    /// Sections that carry `marker` (a comment line written by [`Document::mark`]).
    pub fn marked(&self, marker: &str) -> Vec<SectionInfo> {
        self.sections()
            .into_iter()
            .filter(|s| s.has_marker(marker))
            .collect()
    }

    /// Things botocore or the SDKs would refuse or read differently, naming the lines.
    pub fn warnings(&self) -> Vec<String> {
        let path = self.path.display();
        let spans = self.spans();
        // The copy an edit goes to (the last), and the first copy of each header and name.
        let mut edited: HashMap<&SectionId, usize> = HashMap::new();
        for span in &spans {
            work::step(1);
            edited.insert(&span.id, span.header + 1);
        }
        let mut first_raw: HashMap<&str, usize> = HashMap::new();
        let mut first_id: HashMap<&SectionId, usize> = HashMap::new();
        let mut warnings = Vec::new();
        for (i, later) in spans.iter().enumerate() {
            work::step(1);
            let edited_line = edited.get(&later.id).copied().unwrap_or(0);
            match first_raw.get(later.raw.as_str()) {
                Some(&earlier) => {
                    let edited = if later.id.kind == SectionKind::Other {
                        String::new()
                    } else {
                        format!(" (portico edits the one on line {edited_line})")
                    };
                    warnings.push(format!(
                        "{path} line {}: section [{}] repeats the one on line {earlier}; botocore and the AWS CLI refuse \
                         to read this file, merge the two sections{edited}",
                        later.header + 1,
                        for_terminal(&later.raw),
                    ));
                }
                None if later.id.kind != SectionKind::Other => {
                    if let Some(earlier) = first_id.get(&later.id).map(|&e| &spans[e]) {
                        let (earlier_line, earlier_raw) = (earlier.header + 1, &earlier.raw);
                        let what = if later.id == SectionId::profile("default") {
                            "the later one counts for botocore, [profile default] for the Rust SDK"
                        } else {
                            "botocore reads only the later one, the Rust SDK merges them"
                        };
                        warnings.push(format!(
                            "{path} line {}: [{}] and [{}] on line {earlier_line} both define {}; {what}; merge them \
                             (portico edits the one on line {edited_line})",
                            later.header + 1,
                            for_terminal(&later.raw),
                            for_terminal(earlier_raw),
                            for_terminal(&later.id.to_string()),
                        ));
                    }
                }
                None => {}
            }
            first_raw
                .entry(later.raw.as_str())
                .or_insert(later.header + 1);
            first_id.entry(&later.id).or_insert(i);
        }
        for span in &spans {
            let mut seen: HashMap<&str, usize> = HashMap::new();
            for i in span.header + 1..span.body_end {
                work::step(1);
                if let Kind::Setting { key, .. } = &self.lines[i].kind {
                    if let Some(first) = seen.get(key.as_str()) {
                        warnings.push(format!(
                            "{path} line {}: `{}` is set again in [{}] (first on line {first}); botocore \
                             refuses this file, remove one of them",
                            i + 1,
                            for_terminal(key),
                            for_terminal(&span.raw)
                        ));
                    } else {
                        seen.insert(key, i + 1);
                    }
                }
            }
        }
        warnings
    }

    /// Creates the section or updates it: each `(key, value)` of `set` is written (in place when
    /// the key exists, else after the section's last setting), each key of `remove` is deleted.
    /// Keys are matched case-insensitively, as configparser does.
    pub fn upsert(
        &mut self,
        id: &SectionId,
        set: &[(&str, &str)],
        remove: &[&str],
    ) -> Result<Upserted, EditError> {
        self.check_editable(id)?;
        for (key, value) in set {
            check_key(key)?;
            check_value(value)?;
        }
        for key in remove {
            check_key(key)?;
        }
        let spans = self.spans_of(id);
        let Some(target) = spans.last().cloned() else {
            if set.is_empty() {
                return Ok(Upserted::Unchanged);
            }
            check_name(id)?;
            let mut added = vec![id.header()];
            added.extend(set.iter().map(|(k, v)| format!("{k} = {v}")));
            self.apply(&Plan {
                append: added,
                ..Plan::new(self.lines.len())
            })?;
            return Ok(Upserted::Created);
        };

        let mut plan = Plan::new(self.lines.len());
        let mut found = vec![false; set.len()];
        for span in &spans {
            for i in span.header + 1..span.body_end {
                let Kind::Setting {
                    key,
                    value_at,
                    value_end,
                } = &self.lines[i].kind
                else {
                    continue;
                };
                let extent = self.value_extent(i, span.body_end);
                if remove.iter().any(|r| r.to_lowercase() == *key) {
                    plan.drop_range(i, extent);
                    continue;
                }
                let Some(which) = set.iter().rposition(|(k, _)| k.to_lowercase() == *key) else {
                    continue;
                };
                if span.header == target.header {
                    found[which] = true;
                }
                let text = &self.lines[i].text;
                let value = set[which].1;
                if &text[*value_at..*value_end] != value || extent > i + 1 {
                    let head = &text[..*value_at];
                    // `s3 =` had no value: mirror the space before the delimiter after it.
                    let gap = if value_at == value_end
                        && head.ends_with(['=', ':'])
                        && head[..head.len() - 1].ends_with([' ', '\t'])
                    {
                        " "
                    } else {
                        ""
                    };
                    plan.replace[i] = Some(format!("{head}{gap}{value}{}", &text[*value_end..]));
                    plan.drop_range(i + 1, extent);
                }
            }
        }
        let mut missing = Vec::new();
        for (n, (key, value)) in set.iter().enumerate() {
            let later_duplicate = set[n + 1..]
                .iter()
                .any(|(k, _)| k.to_lowercase() == key.to_lowercase());
            if !found[n] && !later_duplicate {
                missing.push((*key, *value));
            }
        }
        if !missing.is_empty() {
            let (indent, spacing) = self.style_for_new_keys(&target, remove);
            plan.insert_after = Some((
                target.body_end - 1,
                missing
                    .iter()
                    .map(|(k, v)| format!("{indent}{k}{spacing}{v}"))
                    .collect(),
            ));
        }
        if plan.is_empty() {
            return Ok(Upserted::Unchanged);
        }
        self.apply(&plan)?;
        Ok(Upserted::Updated)
    }

    /// Deletes every copy of the section. Returns whether there was one.
    pub fn delete(&mut self, id: &SectionId) -> Result<bool, EditError> {
        self.check_editable(id)?;
        let spans = self.spans_of(id);
        if spans.is_empty() {
            return Ok(false);
        }
        let mut plan = Plan::new(self.lines.len());
        for span in &spans {
            plan.drop_range(span.header, span.body_end);
            // Take one blank line with it when blank lines would otherwise meet, trail at the
            // end or lead at the start.
            let kept_before = (0..span.header).rev().find(|&i| !plan.drop[i]);
            let after_blank =
                span.body_end < self.lines.len() && self.lines[span.body_end].kind == Kind::Blank;
            match kept_before {
                Some(i)
                    if self.lines[i].kind == Kind::Blank
                        && (after_blank || span.body_end == self.lines.len()) =>
                {
                    plan.drop[i] = true;
                }
                None if after_blank => plan.drop[span.body_end] = true,
                _ => {}
            }
        }
        self.apply(&plan)?;
        Ok(true)
    }

    /// Puts `# MARKER` right under the section's header unless the section already carries it,
    /// so that a later run can tell the sections it wrote from the user's. Returns whether a
    /// line was added; a missing section is left missing.
    pub fn mark(&mut self, id: &SectionId, marker: &str) -> Result<bool, EditError> {
        self.check_editable(id)?;
        check_value(marker)?;
        let Some(target) = self.spans_of(id).last().cloned() else {
            return Ok(false);
        };
        if self.info(&target).has_marker(marker) {
            return Ok(false);
        }
        let indent = leading_whitespace(&self.lines[target.header].text);
        let mut plan = Plan::new(self.lines.len());
        plan.insert_after = Some((target.header, vec![format!("{indent}# {marker}")]));
        self.apply(&plan)?;
        Ok(true)
    }

    fn check_editable(&self, id: &SectionId) -> Result<(), EditError> {
        if let Some(problem) = &self.problem {
            return Err(EditError::Unreadable {
                path: self.path.clone(),
                source: LoadError::Parse(problem.clone()),
            });
        }
        // `[saml-session NAME]` is portico's own section kind, which botocore skips.
        if id.kind == SectionKind::Other && saml_session_name(id).is_none() {
            return Err(EditError::Invalid {
                what: "section",
                value: id.name.clone(),
                why: "portico edits only profile, sso-session, saml-session and services sections",
            });
        }
        Ok(())
    }

    fn spans(&self) -> Vec<Span> {
        let mut spans: Vec<Span> = Vec::new();
        for (i, line) in self.lines.iter().enumerate() {
            work::step(1);
            match &line.kind {
                Kind::Header { id, raw } => {
                    if let Some(last) = spans.last_mut() {
                        last.end = i;
                    }
                    spans.push(Span {
                        id: id.clone(),
                        raw: raw.clone(),
                        header: i,
                        body_end: i + 1,
                        end: self.lines.len(),
                    });
                }
                Kind::Setting { .. } | Kind::Continuation | Kind::Invalid => {
                    if let Some(last) = spans.last_mut() {
                        last.body_end = i + 1;
                    }
                }
                Kind::Comment | Kind::Blank => {}
            }
        }
        // A section without settings owns the comments directly under its header (a marker,
        // commented-out settings); otherwise comments after the last setting lead into the next.
        for span in &mut spans {
            if span.body_end == span.header + 1 {
                while span.body_end < span.end && self.lines[span.body_end].kind == Kind::Comment {
                    span.body_end += 1;
                }
            }
        }
        spans
    }

    fn spans_of(&self, id: &SectionId) -> Vec<Span> {
        self.spans().into_iter().filter(|s| s.id == *id).collect()
    }

    fn info(&self, span: &Span) -> SectionInfo {
        let mut settings = Vec::new();
        let mut comments = Vec::new();
        for line in &self.lines[span.header + 1..span.body_end] {
            match &line.kind {
                Kind::Setting {
                    key,
                    value_at,
                    value_end,
                } => settings.push((key.clone(), line.text[*value_at..*value_end].to_string())),
                Kind::Comment => {
                    let t = line.text.trim();
                    comments.push(t[1..].trim().to_string());
                }
                _ => {}
            }
        }
        SectionInfo {
            id: span.id.clone(),
            header: span.raw.clone(),
            line: span.header + 1,
            last_line: span.body_end,
            settings,
            comments,
        }
    }

    /// The last line (exclusive) of the value that starts on setting line `i`: its continuation
    /// lines and the blank or comment lines between them.
    fn value_extent(&self, i: usize, limit: usize) -> usize {
        let mut end = i + 1;
        let mut j = i + 1;
        while j < limit {
            match self.lines[j].kind {
                Kind::Continuation => end = j + 1,
                Kind::Blank | Kind::Comment => {}
                _ => break,
            }
            j += 1;
        }
        end
    }

    /// Indentation and `=` spacing for keys added to `span`: the indentation of its last
    /// setting line (settings never indent deeper than the one before them, so the new line can
    /// never read as a continuation), the spacing of the last one with a value that stays;
    /// without settings, the header's indentation and ` = `.
    fn style_for_new_keys(&self, span: &Span, removed: &[&str]) -> (String, String) {
        let settings: Vec<&Line> = self.lines[span.header + 1..span.body_end]
            .iter()
            .filter(|l| matches!(l.kind, Kind::Setting { .. }))
            .collect();
        let indent = match settings.last() {
            Some(line) => leading_whitespace(&line.text).to_string(),
            None => {
                // With no setting, a later line indented deeper than the new key would become its
                // continuation: indent at least as deep as the next non-blank line.
                let next = self.lines[span.body_end..]
                    .iter()
                    .find(|l| !matches!(l.kind, Kind::Blank | Kind::Comment))
                    .map(|l| leading_whitespace(&l.text))
                    .unwrap_or("");
                let own = leading_whitespace(&self.lines[span.header].text);
                if next.len() > own.len() { next } else { own }.to_string()
            }
        };
        let spacing = settings
            .iter()
            .rev()
            .find_map(|line| {
                let Kind::Setting {
                    ref key,
                    value_at,
                    value_end,
                } = line.kind
                else {
                    return None;
                };
                if value_end == value_at || removed.iter().any(|r| r.to_lowercase() == *key) {
                    return None;
                }
                let lead = leading_whitespace(&line.text).len();
                let head = &line.text[lead..value_at];
                let at = head.find(['=', ':'])?;
                if head.as_bytes()[at] != b'=' {
                    return None;
                }
                let before = &head[..at];
                let key_end = before.trim_end().len();
                Some(format!("{}={}", &before[key_end..], &head[at + 1..]))
            })
            .unwrap_or_else(|| " = ".to_string());
        (indent, spacing)
    }

    /// Renders the document with `plan` applied and re-reads the result, so that the lines and
    /// their classification always describe the text. Refuses (and changes nothing) if a line it
    /// kept would read differently afterwards, e.g. an indented header that would become the
    /// continuation of a setting once the section between them is deleted.
    fn apply(&mut self, plan: &Plan) -> Result<(), EditError> {
        let had_final_newline = self.lines.last().is_none_or(|l| !l.end.is_empty());
        // (text, ending, the original line it comes from)
        let mut out: Vec<(String, &'static str, Option<usize>)> = Vec::new();
        for (i, line) in self.lines.iter().enumerate() {
            work::step(1);
            if !plan.drop[i] {
                let text = plan.replace[i].clone().unwrap_or_else(|| line.text.clone());
                out.push((text, line.end, Some(i)));
            }
            if let Some((at, added)) = &plan.insert_after {
                if *at == i {
                    out.extend(added.iter().map(|t| (t.clone(), self.newline, None)));
                }
            }
        }
        if !plan.append.is_empty() {
            if out.last().is_some_and(|(t, _, _)| !t.trim().is_empty()) {
                out.push((String::new(), self.newline, None));
            }
            out.extend(plan.append.iter().map(|t| (t.clone(), self.newline, None)));
        }
        let count = out.len();
        for (n, (_, end, origin)) in out.iter_mut().enumerate() {
            if n + 1 < count {
                if end.is_empty() {
                    *end = self.newline;
                }
            } else if origin.is_none() && !had_final_newline {
                *end = "";
            }
        }
        let mut text = String::new();
        for (t, end, _) in &out {
            text.push_str(t);
            text.push_str(end);
        }
        let mut edited = Document::parse(&self.path, &text);
        // Keep the file's style even if the edit tipped the count (e.g. a two-line CRLF file).
        edited.newline = self.newline;
        for (n, (_, _, origin)) in out.iter().enumerate() {
            let now = &edited.lines[n].kind;
            let same = match origin {
                Some(i) => match (&self.lines[*i].kind, now) {
                    (Kind::Setting { key: a, .. }, Kind::Setting { key: b, .. }) => a == b,
                    (Kind::Header { raw: a, .. }, Kind::Header { raw: b, .. }) => a == b,
                    (was, now) => std::mem::discriminant(was) == std::mem::discriminant(now),
                },
                None => !matches!(now, Kind::Continuation | Kind::Invalid),
            };
            if !same {
                return Err(EditError::WouldChangeMeaning {
                    path: self.path.clone(),
                    line: origin.map_or(n, |i| i) + 1,
                });
            }
        }
        if let (Some(problem), None) = (&edited.problem, &self.problem) {
            // Unreachable while every kept line reads the same; kept as a last guard.
            let line = out
                .get(problem.line.saturating_sub(1))
                .and_then(|(_, _, origin)| *origin)
                .map_or(problem.line, |i| i + 1);
            return Err(EditError::WouldChangeMeaning {
                path: self.path.clone(),
                line,
            });
        }
        *self = edited;
        Ok(())
    }
}

/// Line-level changes: replace some lines, drop some, insert new ones after one line, append
/// new ones at the end.
struct Plan {
    replace: Vec<Option<String>>,
    drop: Vec<bool>,
    insert_after: Option<(usize, Vec<String>)>,
    append: Vec<String>,
}

impl Plan {
    fn new(lines: usize) -> Plan {
        Plan {
            replace: vec![None; lines],
            drop: vec![false; lines],
            insert_after: None,
            append: Vec::new(),
        }
    }

    fn drop_range(&mut self, from: usize, to: usize) {
        for d in &mut self.drop[from..to] {
            *d = true;
        }
    }

    fn is_empty(&self) -> bool {
        self.replace.iter().all(Option::is_none)
            && !self.drop.iter().any(|d| *d)
            && self.insert_after.is_none()
            && self.append.is_empty()
    }
}

/// Classifies each line exactly as the reader does (see `super::Parser::run`).
fn classify_lines(lines: &mut [Line]) {
    // Indentation of the last setting line in the current section; deeper lines continue it.
    let mut last_indent: Option<usize> = None;
    let mut in_section = false;
    for (n, line) in lines.iter_mut().enumerate() {
        work::step(1);
        let bom = if n == 0 && line.text.starts_with('\u{feff}') {
            '\u{feff}'.len_utf8()
        } else {
            0
        };
        let body = &line.text[bom..];
        let trimmed = body.trim();
        line.kind = if trimmed.is_empty() {
            Kind::Blank
        } else if trimmed.starts_with('#') || trimmed.starts_with(';') {
            Kind::Comment
        } else {
            let indent = body.len() - body.trim_start().len();
            if last_indent.is_some_and(|k| indent > k) {
                Kind::Continuation
            } else if trimmed.starts_with('[') {
                last_indent = None;
                match trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
                    Some(inner) => {
                        in_section = true;
                        let (kind, name) = classify(inner.trim());
                        // One id per saml-session however its header is spaced, as settings
                        // reads it: `[saml-session\taws]` is the section `saml-session aws`.
                        let session = (kind == SectionKind::Other)
                            .then(|| super::saml_session_name(&name))
                            .flatten()
                            .map(|n| SectionId::saml_session(n).name);
                        let name = session.unwrap_or(name);
                        Kind::Header {
                            id: SectionId { kind, name },
                            raw: inner.to_string(),
                        }
                    }
                    None => Kind::Invalid,
                }
            } else {
                let rest = &body[indent..];
                match rest.find(['=', ':']) {
                    Some(at) if in_section && !rest[..at].trim().is_empty() => {
                        last_indent = Some(indent);
                        let after = &rest[at + 1..];
                        let value = after.trim();
                        let value_at =
                            bom + indent + at + 1 + (after.len() - after.trim_start().len());
                        Kind::Setting {
                            key: rest[..at].trim().to_lowercase(),
                            value_at,
                            value_end: value_at + value.len(),
                        }
                    }
                    _ => Kind::Invalid,
                }
            }
        };
    }
}

fn leading_whitespace(text: &str) -> &str {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    &text[..text.len() - text.trim_start().len()]
}

/// `NAME` of an `Other` section `saml-session NAME` (the reader's rule,
/// [`super::saml_session_name`]).
fn saml_session_name(id: &SectionId) -> Option<&str> {
    (id.kind == SectionKind::Other)
        .then(|| super::saml_session_name(&id.name))
        .flatten()
}

/// A name for a new header must read back as the same name in botocore (`shlex.split` into
/// exactly two words) and in the reader.
fn check_name(id: &SectionId) -> Result<(), EditError> {
    let bad = |why| {
        Err(EditError::Invalid {
            what: match id.kind {
                SectionKind::SsoSession => "sso-session name",
                SectionKind::Services => "services name",
                SectionKind::Other => "saml-session name",
                _ => "profile name",
            },
            value: id.name.clone(),
            why,
        })
    };
    let name = saml_session_name(id).unwrap_or(&id.name);
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("it contains spaces or control characters");
    }
    if name.contains(['[', ']', '"', '\'', '\\', '#', ';']) {
        return bad("it contains one of [ ] \" ' \\ # ;");
    }
    Ok(())
}

fn check_key(key: &str) -> Result<(), EditError> {
    if key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(EditError::Invalid {
            what: "setting name",
            value: key.to_string(),
            why: "use letters, digits, _ - and .",
        });
    }
    Ok(())
}

fn check_value(value: &str) -> Result<(), EditError> {
    let why = if value.is_empty() {
        "it is empty (remove the setting instead)"
    } else if value.chars().any(char::is_control) {
        "it contains a line break or control character"
    } else if value.trim() != value {
        "it starts or ends with whitespace, which readers drop"
    } else {
        return Ok(());
    };
    Err(EditError::Invalid {
        what: "value",
        value: value.to_string(),
        why,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Document {
        Document::parse(Path::new("config"), text)
    }

    fn upserted(text: &str, id: &SectionId, set: &[(&str, &str)], remove: &[&str]) -> String {
        let mut d = doc(text);
        d.upsert(id, set, remove).expect("edit works");
        d.render()
    }

    #[test]
    fn untouched_documents_render_byte_for_byte() {
        for text in [
            "",
            "\n",
            "[default]",
            "\u{feff}[default]\r\nregion=x\r\n",
            "[profile a]\n  s3 =\n    max = 1\n\n# c\n",
            "garbage\n[oops\n",
            "a\rb\r\n\r\n\n",
        ] {
            assert_eq!(doc(text).render(), text);
        }
    }

    #[test]
    fn updates_in_place_keeping_spacing_and_trailing_whitespace() {
        let text = "[profile a]\r\n  Region   =   us-east-1  \r\noutput=json\r\n";
        let out = upserted(
            text,
            &SectionId::profile("a"),
            &[("region", "eu-west-1")],
            &[],
        );
        assert_eq!(
            out,
            "[profile a]\r\n  Region   =   eu-west-1  \r\noutput=json\r\n"
        );
    }

    #[test]
    fn adds_keys_after_last_setting_before_the_next_sections_comments() {
        let text =
            "[profile a]\nregion=x\n  # about a\ns3 =\n  max = 2\n\n# about b\n[profile b]\n";
        let out = upserted(
            text,
            &SectionId::profile("a"),
            &[("sso_session", "corp")],
            &[],
        );
        assert_eq!(
            out,
            "[profile a]\nregion=x\n  # about a\ns3 =\n  max = 2\nsso_session=corp\n\n# about b\n[profile b]\n"
        );
    }

    #[test]
    fn new_sections_go_at_the_end_in_the_files_line_ending() {
        let out = upserted(
            "[default]\r\nregion = x\r\n",
            &SectionId::sso_session("corp"),
            &[("sso_region", "eu-central-1")],
            &[],
        );
        assert_eq!(
            out,
            "[default]\r\nregion = x\r\n\r\n[sso-session corp]\r\nsso_region = eu-central-1\r\n"
        );
        let out = upserted("", &SectionId::profile("default"), &[("region", "x")], &[]);
        assert_eq!(out, "[default]\nregion = x\n");
    }

    #[test]
    fn no_final_newline_stays_that_way() {
        let out = upserted(
            "[profile a]\nregion = x",
            &SectionId::profile("a"),
            &[("output", "json")],
            &[],
        );
        assert_eq!(out, "[profile a]\nregion = x\noutput = json");
        let out = upserted(
            "[profile a]\nregion = x",
            &SectionId::profile("b"),
            &[("output", "json")],
            &[],
        );
        assert_eq!(out, "[profile a]\nregion = x\n\n[profile b]\noutput = json");
    }

    #[test]
    fn removing_keys_takes_their_continuation_lines() {
        let text = "[profile a]\nsso_start_url = u\n  more\n\n  still\n# end\nregion = r\n";
        let out = upserted(text, &SectionId::profile("a"), &[], &["sso_start_url"]);
        assert_eq!(out, "[profile a]\n# end\nregion = r\n");
    }

    #[test]
    fn setting_a_nested_key_replaces_its_sub_settings() {
        let text = "[profile a]\ns3 =\n  max = 1\nregion = r\n";
        let out = upserted(text, &SectionId::profile("a"), &[("s3", "x")], &[]);
        assert_eq!(out, "[profile a]\ns3 = x\nregion = r\n");
    }

    #[test]
    fn unchanged_values_change_nothing() {
        let text = "[profile a]\nregion   =  r  \n";
        let mut d = doc(text);
        assert_eq!(
            d.upsert(&SectionId::profile("a"), &[("region", "r")], &["nope"])
                .unwrap(),
            Upserted::Unchanged
        );
        assert_eq!(d.render(), text);
    }

    #[test]
    fn delete_takes_the_body_and_one_blank_line_but_keeps_neighbouring_comments() {
        let text = "[default]\nregion = x\n\n# dev account\n[profile dev]\nsso_session = c\n  # inner\nregion = y\n\n# next\n[profile b]\n";
        let mut d = doc(text);
        assert!(d.delete(&SectionId::profile("dev")).unwrap());
        assert_eq!(
            d.render(),
            "[default]\nregion = x\n\n# dev account\n\n# next\n[profile b]\n"
        );
        let mut d = doc("[a]\nk = v\n\n[profile x]\nk = v\n");
        d.delete(&SectionId::profile("x")).unwrap();
        assert_eq!(d.render(), "[a]\nk = v\n");
        let mut d = doc("[profile x]\nk = v\n\n[profile y]\n");
        d.delete(&SectionId::profile("x")).unwrap();
        assert_eq!(d.render(), "[profile y]\n");
        assert!(!d.delete(&SectionId::profile("x")).unwrap());
    }

    #[test]
    fn duplicates_are_named_and_edits_go_to_the_last_copy() {
        let text = "[profile a]\nregion = x\n\n[profile a]\noutput = json\n";
        let d = doc(text);
        let w = d.warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("line 4") && w[0].contains("line 1") && w[0].contains("refuse"),
            "{}",
            w[0]
        );
        let out = upserted(
            text,
            &SectionId::profile("a"),
            &[("region", "y"), ("sso_session", "c")],
            &[],
        );
        assert_eq!(
            out,
            "[profile a]\nregion = y\n\n[profile a]\noutput = json\nregion = y\nsso_session = c\n"
        );
        let mut d = doc(text);
        d.delete(&SectionId::profile("a")).unwrap();
        assert_eq!(d.render(), "");
    }

    #[test]
    fn default_and_profile_default_warn_differently() {
        let d = doc("[profile default]\nregion = a\n[default]\nregion = b\n");
        let w = d.warnings();
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains("Rust SDK") && w[0].contains("line 3"),
            "{}",
            w[0]
        );
        assert_eq!(d.section(&SectionId::profile("default")).unwrap().line, 3);
    }

    #[test]
    fn markers_are_written_under_the_header_and_found_again() {
        let mut d = doc("[profile a]\nregion = x\n");
        let id = SectionId::profile("a");
        assert!(d.mark(&id, "managed by portico").unwrap());
        assert!(!d.mark(&id, "managed by portico").unwrap());
        assert_eq!(
            d.render(),
            "[profile a]\n# managed by portico\nregion = x\n"
        );
        assert_eq!(d.marked("managed by portico").len(), 1);
        let mut d = doc("[profile b]\n\n[profile c]\n");
        let id = SectionId::profile("b");
        d.mark(&id, "m").unwrap();
        d.upsert(&id, &[("region", "r")], &[]).unwrap();
        assert_eq!(d.render(), "[profile b]\n# m\nregion = r\n\n[profile c]\n");
    }

    #[test]
    fn refuses_unreadable_files_and_bad_input() {
        let mut d = doc("[profile a]\nnot a setting\n");
        assert!(matches!(
            d.upsert(&SectionId::profile("a"), &[("region", "x")], &[]),
            Err(EditError::Unreadable { .. })
        ));
        let mut d = doc("");
        for (name, key, value) in [
            ("a b", "region", "x"),
            ("a]", "region", "x"),
            ("a", "re gion", "x"),
            ("a", "region", "x\ny"),
            ("a", "region", " x"),
        ] {
            assert!(d
                .upsert(&SectionId::profile(name), &[(key, value)], &[])
                .is_err());
        }
        assert_eq!(d.render(), "");
    }

    #[test]
    fn sections_list_settings_and_comments() {
        let d = doc("[sso-session corp]\n# hi\nsso_region = r\ns3 =\n  x = 1\n[services s]\n");
        let s = d.sections();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].id, SectionId::sso_session("corp"));
        assert_eq!(s[0].get("SSO_REGION"), Some("r"));
        assert_eq!(s[0].get("s3"), Some(""));
        assert_eq!(s[0].comments, vec!["hi"]);
        assert_eq!(s[1].id, SectionId::services("s"));
    }

    #[test]
    fn new_key_in_an_empty_section_is_not_swallowed_by_an_indented_header() {
        let out = upserted(
            "[profile a]\n  [profile b]\n",
            &SectionId::profile("a"),
            &[("k", "v")],
            &[],
        );
        assert_eq!(out, "[profile a]\n  k = v\n  [profile b]\n");
        let d = doc(&out);
        assert_eq!(d.sections().len(), 2);
    }

    /// Editing grows linearly with the file: 8× the sections, about 8× the work (see
    /// `awsconfig::work`), never the 64× of a quadratic editor.
    #[test]
    fn editing_grows_linearly_with_the_number_of_sections() {
        let run = |n: usize| {
            let text = crate::awsconfig::tests::many_profiles(n);
            crate::awsconfig::tests::work_of(|| {
                let mut d = doc(&text);
                assert!(d.warnings().is_empty());
                assert_eq!(d.sections().len(), n + 1);
                assert_eq!(
                    d.marked("managed by portico profiles sync (sso-session corp)")
                        .len(),
                    n
                );
                let id = SectionId::profile(format!("p{}", n / 2));
                assert!(d.section(&id).is_some());
                d.upsert(&id, &[("region", "us-east-1")], &[]).unwrap();
                d.delete(&SectionId::profile("p1")).unwrap();
                assert!(d.render().len() < text.len());
            })
        };
        let (small, large) = (run(250), run(2000));
        assert!(
            large <= small * 12,
            "8× the profiles took {}× the work ({small} → {large})",
            large / small.max(1)
        );
    }
}
