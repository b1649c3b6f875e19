//! Reading the shared AWS config file (`~/.aws/config`) the way botocore and the Rust SDK do.
//!
//! The grammar is INI as Python's `configparser` (which botocore uses) understands it: `#` and
//! `;` comment lines, `key = value` or `key: value`, keys case-folded, indented continuation
//! lines that turn an empty value into nested sub-settings (`s3 =` followed by `  max_concurrent_requests = 4`).
//! Section names follow botocore's `build_profile_map`: `[default]`, `[profile NAME]`,
//! `[sso-session NAME]`, `[services NAME]`; anything else is kept but is not a profile.
//!
//! This module only reads; writes go through [`edit`], which keeps every other byte. Beside
//! them: [`sync`] plans `profiles sync`, [`credential_process`] reads and writes the
//! `credential_process = portico credentials …` line, [`names`] holds the rules for profile
//! names (start URLs: [`crate::model::start_url`]), and [`saml_session_name`] the rule for a
//! `[saml-session NAME]` header.
//! Parsing is by hand because what we need is botocore's exact reading rules plus line numbers
//! for error messages, which no INI crate offers together.

//!
//! Loading checks every line (a file botocore refuses is refused here too) and notes where each
//! section starts, in one pass that allocates nothing per line; a section's settings are read
//! the first time something asks for that section. So `portico credentials`, which needs one
//! profile and its sso-session, costs one scan of the file and the reading of two sections,
//! however many profiles a `profiles sync` wrote. Every other use is linear in the file too.

pub mod credential_process;
pub mod edit;
pub mod names;
pub mod sync;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// What kind of section a `[...]` header names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionKind {
    /// `[default]` or `[profile default]`.
    Profile,
    /// `[sso-session NAME]`.
    SsoSession,
    /// `[services NAME]`.
    Services,
    /// A header botocore does not treat as a profile (e.g. `[foo]` in the config file).
    Other,
}

/// A setting's value: a plain string, or nested sub-settings (`s3 =` + indented lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Nested(BTreeMap<String, String>),
}

/// One section of the file, with its settings and the line its header is on (1-based).
#[derive(Debug, Clone)]
pub struct Section {
    pub kind: SectionKind,
    pub name: String,
    pub line: usize,
    pub settings: BTreeMap<String, Value>,
}

impl Section {
    /// A plain (non-nested) setting, with surrounding whitespace removed; empty counts as absent.
    pub fn get(&self, key: &str) -> Option<&str> {
        match self.settings.get(key) {
            Some(Value::Text(v)) if !v.is_empty() => Some(v.as_str()),
            _ => None,
        }
    }
}

/// A parsed config file (see the module doc for what is read when).
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    pub path: PathBuf,
    /// The text without a leading BOM.
    text: String,
    spans: Vec<Span>,
    /// The last section of each kind and name; built when every name is listed (`status`,
    /// `doctor`) or after a few lookups, after which each lookup is one hash.
    index: OnceLock<HashMap<(SectionKind, String), usize>>,
    /// Lookups made without the index.
    scans: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Loaded with [`load_lazy`](Self::load_lazy): sections are checked when read.
    lazy: bool,
    /// Loaded with [`load_only`](Self::load_only): only some sections are here.
    partial: bool,
    /// The first line a lazily loaded file's read sections cannot parse.
    problem: std::sync::Arc<std::sync::Mutex<Option<ParseError>>>,
}

/// Where one section is in the text, and its settings once read.
#[derive(Debug, Clone)]
struct Span {
    kind: SectionKind,
    /// The name as a byte range of the text.
    name: (usize, usize),
    /// 1-based line of the header.
    line: usize,
    /// Byte range from the header line to the next header (or the end of the text).
    body: (usize, usize),
    parsed: OnceLock<Box<Section>>,
}

/// A line of the config file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path} line {line}: {problem}")]
pub struct ParseError {
    pub path: String,
    pub line: usize,
    pub problem: String,
}

impl ConfigFile {
    /// Reads and parses `path`. A missing file (or a link to one) is an empty config, as for the
    /// AWS CLI; anything but a regular file is refused (see [`read_regular`]).
    pub fn load(path: &Path) -> Result<ConfigFile, LoadError> {
        ConfigFile::load_with(path, false)
    }

    fn load_with(path: &Path, lazy: bool) -> Result<ConfigFile, LoadError> {
        // `AWS_CONFIG_FILE=/dev/null` is the usual way to say "no config file".
        let null = cfg!(unix) && path == Path::new("/dev/null");
        match if null { Ok(None) } else { read_regular(path) } {
            Ok(Some(bytes)) => {
                let text = String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
                Ok(ConfigFile::from_text(path, text, lazy)?)
            }
            Ok(None) => Ok(ConfigFile {
                path: path.to_path_buf(),
                ..ConfigFile::default()
            }),
            Err(FileProblem::NotAFile(what)) => Err(LoadError::NotAFile {
                path: path.to_path_buf(),
                what,
            }),
            Err(FileProblem::Io(error)) => Err(LoadError::Io {
                path: path.to_path_buf(),
                error,
            }),
        }
    }

    /// For the warm path (`credentials`, `exec`, `console`), which needs one profile and its
    /// sso-session: finds the sections by their headers alone (a header starts a line with `[`;
    /// memchr jumps from one `[` to the next) and checks the lines of a section only when it is
    /// read; [`read_problem`](Self::read_problem) then says whether one of those is broken.
    /// Broken lines elsewhere in the file are left to the commands that read the whole file. A
    /// file where that shortcut is unsafe (an indented `[`, which may continue a value) is read
    /// as by [`load`](Self::load).
    pub fn load_lazy(path: &Path) -> Result<ConfigFile, LoadError> {
        let mut config = ConfigFile::load_with(path, true)?;
        config.lazy = true;
        Ok(config)
    }

    /// For the warm path, which needs one profile (and `default`) and an sso-session: streams
    /// the file through a small buffer, jumping from one `[` to the next, and keeps only the
    /// sections `keep` wants — so a 10 MB file costs neither 10 MB of memory nor its page
    /// faults. What is kept is checked when read, as with [`load_lazy`](Self::load_lazy).
    /// Name lists on the result hold only what was kept ([`is_partial`](Self::is_partial)).
    /// A file where the shortcut is unsafe (an indented `[`) is read by [`load_lazy`].
    pub fn load_only(
        path: &Path,
        keep: &dyn Fn(SectionKind, &str) -> bool,
    ) -> Result<ConfigFile, LoadError> {
        let null = cfg!(unix) && path == Path::new("/dev/null");
        let io = |error| LoadError::Io {
            path: path.to_path_buf(),
            error,
        };
        // Missing files, FIFOs, directories: the careful way, which says what is wrong (and
        // never opens a FIFO, which would wait for a writer).
        if null || !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
            return ConfigFile::load_lazy(path);
        }
        let file = std::fs::File::open(path).map_err(io)?;
        match stream_sections(file, keep).map_err(io)? {
            Some((text, heads)) => {
                let text = String::from_utf8(text)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
                let mut spans: Vec<Span> = Vec::with_capacity(heads.len());
                for (n, &(kind, name, line, at)) in heads.iter().enumerate() {
                    let end = heads.get(n + 1).map_or(text.len(), |h| h.3);
                    spans.push(Span {
                        kind,
                        name,
                        line,
                        body: (at, end),
                        parsed: OnceLock::new(),
                    });
                }
                let prelude = spans.first().map_or(text.len(), |s| s.body.0);
                scan(path, &text[..prelude], 1)?;
                Ok(ConfigFile {
                    path: path.to_path_buf(),
                    text,
                    spans,
                    lazy: true,
                    partial: true,
                    ..ConfigFile::default()
                })
            }
            None => ConfigFile::load_lazy(path),
        }
    }

    /// Whether only some sections were loaded ([`load_only`](Self::load_only)).
    pub fn is_partial(&self) -> bool {
        self.partial
    }

    /// The first unreadable line in the sections read so far (only a lazily loaded file has one:
    /// [`load`](Self::load) refuses such a file at once).
    pub fn read_problem(&self) -> Option<ParseError> {
        self.problem.lock().ok().and_then(|p| p.clone())
    }

    /// Parses config text; `path` is only used in messages.
    pub fn parse(path: &Path, text: &str) -> Result<ConfigFile, ParseError> {
        ConfigFile::from_text(path, text.to_string(), false)
    }

    /// [`parse`](Self::parse) keeping `text` (a 10 MB file is not copied again).
    fn from_text(path: &Path, mut text: String, lazy: bool) -> Result<ConfigFile, ParseError> {
        if text.starts_with('\u{feff}') {
            text.drain(..'\u{feff}'.len_utf8());
        }
        let spans = match lazy.then(|| headers_only(path, &text)).flatten() {
            Some(spans) => spans?,
            None => scan(path, &text, 1)?,
        };
        Ok(ConfigFile {
            path: path.to_path_buf(),
            text,
            spans,
            ..ConfigFile::default()
        })
    }

    /// The profile section called `name` (`default` matches `[default]` and `[profile default]`).
    /// When both exist, the later one wins, as in botocore.
    pub fn profile(&self, name: &str) -> Option<&Section> {
        self.find(SectionKind::Profile, name)
    }

    /// The `[sso-session NAME]` section.
    /// With duplicates, the last copy wins, as for profiles.
    pub fn sso_session(&self, name: &str) -> Option<&Section> {
        self.find(SectionKind::SsoSession, name)
    }

    /// All profile names, in file order, without repeats.
    pub fn profile_names(&self) -> Vec<&str> {
        self.names_of(SectionKind::Profile)
    }

    /// All sso-session names, in file order, without repeats.
    pub fn sso_session_names(&self) -> Vec<&str> {
        self.names_of(SectionKind::SsoSession)
    }

    /// Every section in file order (repeats included), each read now if it was not yet.
    pub fn sections(&self) -> Vec<&Section> {
        (0..self.spans.len()).map(|i| self.section_at(i)).collect()
    }

    /// How many sections have been read so far (the warm path reads only the ones it needs).
    pub fn sections_read(&self) -> usize {
        self.spans
            .iter()
            .filter(|s| s.parsed.get().is_some())
            .count()
    }

    /// Things botocore would refuse or silently drop, worded for the user. Looks at every line.
    pub fn warnings(&self) -> Vec<String> {
        let path = self.path.display().to_string();
        let mut warnings = Vec::new();
        let mut first: HashMap<(SectionKind, &str), usize> = HashMap::new();
        for span in &self.spans {
            work::step(1);
            if span.kind != SectionKind::Other {
                if let Some(previous) = first.get(&(span.kind, self.name_of(span))) {
                    let header = self.text[span.body.0..span.body.1]
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .trim();
                    warnings.push(format!(
                        "{path} line {}: section {} repeats the one on line {previous}; botocore refuses \
                         such a file, merge the two sections",
                        span.line,
                        crate::sanitize::for_terminal(header),
                    ));
                } else {
                    first.insert((span.kind, self.name_of(span)), span.line);
                }
            }
            let mut seen: HashSet<String> = HashSet::new();
            walk(self.body(span), span.line, |number, _, line| {
                if let Line::Setting(Some((key, _))) = line {
                    let key = key.to_lowercase();
                    if !seen.insert(key.clone()) {
                        warnings.push(format!(
                            "{path} line {number}: `{}` is set twice in the same section; the last one is \
                             used here, but botocore refuses such a file",
                            crate::sanitize::for_terminal(&key)
                        ));
                    }
                }
                Ok::<(), ()>(())
            })
            .ok();
        }
        warnings
    }

    fn name_of(&self, span: &Span) -> &str {
        &self.text[span.name.0..span.name.1]
    }

    fn body(&self, span: &Span) -> &str {
        &self.text[span.body.0..span.body.1]
    }

    fn find(&self, kind: SectionKind, name: &str) -> Option<&Section> {
        // The warm path looks up two or three sections: a scan each is cheaper than an index.
        // Anyone looking up more gets the index, so that no caller is quadratic.
        if self
            .scans
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            >= 4
        {
            self.build_index();
        }
        let at = match self.index.get() {
            Some(index) => {
                work::step(1);
                index.get(&(kind, name.to_string())).copied()
            }
            // One lookup (the warm path) needs no index: compare from the end, the last wins.
            None => self.spans.iter().rposition(|s| {
                work::step(1);
                s.kind == kind && self.name_of(s) == name
            }),
        };
        at.map(|i| self.section_at(i))
    }

    /// Names in file order without repeats. Whoever lists every name is about to look each one
    /// up, so this is where the index is built.
    fn names_of(&self, kind: SectionKind) -> Vec<&str> {
        self.build_index();
        let mut seen: HashSet<&str> = HashSet::new();
        let mut names = Vec::new();
        for s in self.spans.iter().filter(|s| s.kind == kind) {
            work::step(1);
            let name = self.name_of(s);
            if seen.insert(name) {
                names.push(name);
            }
        }
        names
    }

    fn build_index(&self) {
        self.index.get_or_init(|| {
            let mut index = HashMap::with_capacity(self.spans.len());
            for (i, s) in self.spans.iter().enumerate() {
                work::step(1);
                index.insert((s.kind, self.name_of(s).to_string()), i);
            }
            index
        });
    }

    fn section_at(&self, i: usize) -> &Section {
        let span = &self.spans[i];
        span.parsed.get_or_init(|| {
            if self.lazy {
                if let Err(e) = scan(&self.path, self.body(span), span.line) {
                    if let Ok(mut first) = self.problem.lock() {
                        first.get_or_insert(e);
                    }
                }
            }
            let mut settings = BTreeMap::new();
            let mut last_key = String::new();
            walk(self.body(span), span.line, |_, _, line| {
                match line {
                    Line::Setting(Some((key, value))) => {
                        last_key = key.to_lowercase();
                        settings.insert(last_key.clone(), Value::Text(value.to_string()));
                    }
                    Line::Continuation { text, .. } => {
                        continue_value(&mut settings, &last_key, text)
                    }
                    _ => {}
                }
                Ok::<(), ()>(())
            })
            .ok();
            Box::new(Section {
                kind: span.kind,
                name: self.name_of(span).to_string(),
                line: span.line,
                settings,
            })
        })
    }
}

/// Adds an indented line to the value of `key`, as configparser does: under an empty value it is
/// a nested `key = value`, under a plain value it joins it with a newline.
fn continue_value(settings: &mut BTreeMap<String, Value>, key: &str, text: &str) {
    let value = settings
        .entry(key.to_string())
        .or_insert_with(|| Value::Nested(BTreeMap::new()));
    if matches!(value, Value::Text(t) if t.is_empty()) {
        *value = Value::Nested(BTreeMap::new());
    }
    match value {
        Value::Text(t) => {
            t.push('\n');
            t.push_str(text);
        }
        Value::Nested(map) => {
            if let Some((k, v)) = split_setting(text) {
                map.insert(k.to_lowercase(), v.to_string());
            }
        }
    }
}

/// Why the config file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The OS error is part of the message, not a `source`: a source would be printed again.
    #[error("cannot read {}: {error}", path.display())]
    Io { path: PathBuf, error: io::Error },
    #[error("{} is {what}, not a file; the AWS config must be a regular file (replace it, or point AWS_CONFIG_FILE at one)", path.display())]
    NotAFile { path: PathBuf, what: &'static str },
    /// Not `#[from]`: that would make the ParseError the source too and print it twice.
    #[error("{0}; fix that line (the AWS CLI cannot read this file either)")]
    Parse(ParseError),
}

impl From<ParseError> for LoadError {
    fn from(e: ParseError) -> LoadError {
        LoadError::Parse(e)
    }
}

/// Why [`read_regular`] read nothing.
#[derive(Debug)]
pub(crate) enum FileProblem {
    /// What the path is instead of a regular file ("a directory", "a named pipe (FIFO)", …).
    NotAFile(&'static str),
    Io(io::Error),
}

/// The bytes of `path` following links; `None` when it (or a link's target) does not exist.
/// Anything but a regular file is refused before it is opened: opening a FIFO waits for a
/// writer for ever, and a directory or device is never a config file.
pub(crate) fn read_regular(path: &Path) -> Result<Option<Vec<u8>>, FileProblem> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(FileProblem::Io(e)),
    };
    if !meta.is_file() {
        return Err(FileProblem::NotAFile(describe(&meta.file_type())));
    }
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(FileProblem::Io(e)),
    }
}

fn describe(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// One line as the reader classifies it.
enum Line<'a> {
    /// Blank or comment.
    Skip,
    /// `[...]`: the text between the brackets, or `None` when the `]` is missing.
    Header(Option<&'a str>),
    /// `key = value` (key and value trimmed, key as written), or `None` without a delimiter.
    Setting(Option<(&'a str, &'a str)>),
    /// A line indented deeper than the setting above it; `nested` when that setting's value was
    /// empty (so this line must be a `key = value` of its own).
    Continuation { text: &'a str, nested: bool },
}

/// Calls `f` with each line's number (counting from `first_line`), the byte offset where the
/// line starts, and what the line is, in order; stops at the first error `f` returns. The
/// continuation rule is configparser's: a line indented deeper than the last setting of the
/// section continues it; blank and comment lines neither end nor extend it.
///
/// This runs over every line of the file on every command, so the common shapes (no leading or
/// trailing whitespace, ASCII) take a fast path on bytes; anything else goes through `str::trim`,
/// whose Unicode whitespace is what Python's `str.strip` removes too.
fn walk<'a, E>(
    text: &'a str,
    first_line: usize,
    mut f: impl FnMut(usize, usize, Line<'a>) -> Result<(), E>,
) -> Result<(), E> {
    let bytes = text.as_bytes();
    // Indentation of the last setting and whether its value was empty.
    let mut last: Option<(usize, bool)> = None;
    let mut start = 0;
    let mut number = first_line;
    while start < bytes.len() {
        work::step(1);
        // `str::find` with a char looks for the byte with memchr.
        let (mut end, next) = match text[start..].find('\n') {
            Some(i) => {
                let end = start + i;
                // "\r\n" ends the line; a lone "\r" before it is dropped too, as by the
                // reader that came before this one (`str::lines` + one more `\r`).
                let end = if end > start && bytes[end - 1] == b'\r' {
                    end - 1
                } else {
                    end
                };
                (end, start + i + 1)
            }
            None => (bytes.len(), bytes.len()),
        };
        if end > start && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        let line = &text[start..end];
        let line_start = start;
        start = next;
        let this = number;
        number += 1;
        // Fast path: a line that starts and ends with a visible ASCII character needs no trim.
        let lb = line.as_bytes();
        let (indent, trimmed) = match (lb.first(), lb.last()) {
            (Some(a), Some(z)) if a.is_ascii_graphic() && z.is_ascii_graphic() => (0, line),
            _ => {
                let rest = line.trim_start();
                (line.len() - rest.len(), rest.trim_end())
            }
        };
        let first = trimmed.as_bytes().first().copied();
        if matches!(first, None | Some(b'#') | Some(b';')) {
            f(this, line_start, Line::Skip)?;
            continue;
        }
        if let Some((key_indent, nested)) = last {
            if indent > key_indent {
                let text = trimmed;
                f(this, line_start, Line::Continuation { text, nested })?;
                continue;
            }
        }
        if first == Some(b'[') {
            last = None;
            let inner = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']'));
            f(this, line_start, Line::Header(inner))?;
            continue;
        }
        let setting = split_setting(trimmed);
        if let Some((key, value)) = setting {
            if !key.is_empty() {
                last = Some((indent, value.is_empty()));
            }
        }
        f(this, line_start, Line::Setting(setting))?;
    }
    Ok(())
}

/// Checks every line and notes each section, allocating nothing per line.
fn scan(path: &Path, text: &str, first_line: usize) -> Result<Vec<Span>, ParseError> {
    let error = |line: usize, problem: String| ParseError {
        path: path.display().to_string(),
        line,
        problem,
    };
    let base = text.as_ptr() as usize;
    let offset = |s: &str| s.as_ptr() as usize - base;
    let mut spans: Vec<Span> = Vec::new();
    walk(text, first_line, |number, start, line| {
        match line {
            Line::Skip => Ok(()),
            Line::Header(None) => Err(error(
                number,
                "a section header must look like `[profile NAME]`".into(),
            )),
            Line::Header(Some(inner)) => {
                let inner = inner.trim();
                let (kind, name) = classify_str(inner);
                if let Some(last) = spans.last_mut() {
                    last.body.1 = start;
                }
                spans.push(Span {
                    kind,
                    name: (offset(name), offset(name) + name.len()),
                    line: number,
                    body: (start, text.len()),
                    parsed: OnceLock::new(),
                });
                Ok(())
            }
            Line::Setting(None) => Err(error(
                number,
                format!(
                    "expected `key = value`, a `[section]` header or a comment, found `{}`",
                    crate::sanitize::for_terminal(line_text(text, start))
                ),
            )),
            Line::Setting(Some(("", _))) => {
                Err(error(number, "a setting has no name before `=`".into()))
            }
            Line::Setting(Some(_)) if spans.is_empty() => Err(error(
                number,
                "a setting comes before any `[section]` header; put it under `[default]` or a `[profile NAME]`"
                    .into(),
            )),
            Line::Setting(Some(_)) => Ok(()),
            Line::Continuation { text: t, nested } => {
                if nested && split_setting(t).is_none_or(|(k, _)| k.is_empty()) {
                    return Err(error(
                        number,
                        format!(
                            "an indented line under a setting must be `key = value`, found `{}`",
                            crate::sanitize::for_terminal(t)
                        ),
                    ));
                }
                Ok(())
            }
        }
    })?;
    Ok(spans)
}

/// The sections of `text` found from their headers alone (see [`ConfigFile::load_lazy`]), with
/// the lines before the first header checked; `None` when a line starting with an indented `[`
/// makes the shortcut unsafe (it may continue a value) or a header is malformed (the full scan
/// then reports it with its line).
fn headers_only(path: &Path, text: &str) -> Option<Result<Vec<Span>, ParseError>> {
    let bytes = text.as_bytes();
    let mut spans: Vec<Span> = Vec::new();
    let (mut from, mut line, mut counted) = (0, 1, 0);
    while let Some(i) = text[from..].find('[') {
        work::step(1);
        let at = from + i;
        from = at + 1;
        let line_start = bytes[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        if line_start != at {
            if text[line_start..at].trim().is_empty() {
                return None;
            }
            // A `[` inside a value or a comment.
            continue;
        }
        let end = text[at..].find('\n').map_or(text.len(), |e| at + e);
        let inner = text[at..end]
            .trim()
            .strip_prefix('[')?
            .strip_suffix(']')?
            .trim();
        let (kind, name) = classify_str(inner);
        line += bytes[counted..at].iter().filter(|&&b| b == b'\n').count();
        counted = at;
        if let Some(last) = spans.last_mut() {
            last.body.1 = at;
        }
        let name_at = name.as_ptr() as usize - text.as_ptr() as usize;
        spans.push(Span {
            kind,
            name: (name_at, name_at + name.len()),
            line,
            body: (at, text.len()),
            parsed: OnceLock::new(),
        });
    }
    let prelude = spans.first().map_or(text.len(), |s| s.body.0);
    Some(scan(path, &text[..prelude], 1).map(|_| spans))
}

/// A kept section: kind, name (byte range in the kept text), header line, start in the kept text.
type Head = (SectionKind, (usize, usize), usize, usize);

/// Streams `read` keeping the prelude (before the first header) and the sections `keep` wants;
/// see [`ConfigFile::load_only`]. `None` when an indented `[` (or one after non-ASCII text)
/// starts a line, or a header is malformed: the caller reads the whole file instead.
fn stream_sections(
    read: impl io::Read,
    keep: &dyn Fn(SectionKind, &str) -> bool,
) -> io::Result<Option<(Vec<u8>, Vec<Head>)>> {
    use std::io::BufRead;
    let mut reader = io::BufReader::with_capacity(64 * 1024, read);
    let mut kept: Vec<u8> = Vec::new();
    let mut heads: Vec<Head> = Vec::new();
    let mut keeping = true; // the prelude
    let mut line = 1usize;
    // Bytes since the last line break, and whether they were all spaces or tabs.
    let (mut col, mut blank) = (0usize, true);
    let mut header: Option<Vec<u8>> = None;
    let mut first = true;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let mut buf = buf;
        let len = buf.len();
        if first {
            first = false;
            if let Some(rest) = buf.strip_prefix("\u{feff}".as_bytes()) {
                buf = rest;
            }
        }
        let mut i = 0;
        while i < buf.len() {
            work::step(1);
            if let Some(h) = header.as_mut() {
                match memchr::memchr(b'\n', &buf[i..]) {
                    Some(nl) => {
                        h.extend_from_slice(&buf[i..i + nl + 1]);
                        i += nl + 1;
                        let h = header.take().unwrap_or_default();
                        if !finish_header(&h, line, keep, &mut keeping, &mut kept, &mut heads) {
                            return Ok(None);
                        }
                        line += 1;
                        (col, blank) = (0, true);
                    }
                    None => {
                        h.extend_from_slice(&buf[i..]);
                        i = buf.len();
                    }
                }
                continue;
            }
            let next = memchr::memchr(b'[', &buf[i..]).map_or(buf.len(), |p| i + p);
            let segment = &buf[i..next];
            if keeping {
                kept.extend_from_slice(segment);
            }
            let tail = match memchr::memrchr(b'\n', segment) {
                Some(nl) => {
                    line += memchr::memchr_iter(b'\n', segment).count();
                    (col, blank) = (0, true);
                    &segment[nl + 1..]
                }
                None => segment,
            };
            col += tail.len();
            blank = blank
                && tail
                    .iter()
                    .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c'));
            i = next;
            if i < buf.len() {
                if col == 0 {
                    header = Some(Vec::new());
                } else if blank || !tail.is_ascii() {
                    return Ok(None);
                } else {
                    if keeping {
                        kept.push(b'[');
                    }
                    col += 1;
                    blank = false;
                    i += 1;
                }
            }
        }
        reader.consume(len);
    }
    if let Some(h) = header.take() {
        if !finish_header(&h, line, keep, &mut keeping, &mut kept, &mut heads) {
            return Ok(None);
        }
    }
    Ok(Some((kept, heads)))
}

/// A header line found by [`stream_sections`]: starts keeping its section if `keep` wants it.
/// `false` for a header the full reader must report.
fn finish_header(
    raw: &[u8],
    line: usize,
    keep: &dyn Fn(SectionKind, &str) -> bool,
    keeping: &mut bool,
    kept: &mut Vec<u8>,
    heads: &mut Vec<Head>,
) -> bool {
    let Ok(text) = std::str::from_utf8(raw) else {
        return false;
    };
    let Some(inner) = text
        .trim()
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
    else {
        return false;
    };
    let (kind, name) = classify_str(inner.trim());
    *keeping = keep(kind, name);
    if *keeping {
        let at = kept.len();
        let name_at = at + (name.as_ptr() as usize - text.as_ptr() as usize);
        heads.push((kind, (name_at, name_at + name.len()), line, at));
        kept.extend_from_slice(raw);
    }
    true
}

/// The trimmed text of the line starting at byte `start`.
fn line_text(text: &str, start: usize) -> &str {
    text[start..].lines().next().unwrap_or_default().trim()
}

/// Counts units of work (lines looked at, sections compared) so that tests can check that
/// reading and editing grow linearly with the file, without timing anything.
pub(crate) mod work {
    #[cfg(test)]
    thread_local! {
        static STEPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    /// Records `n` units of work (only in tests).
    #[inline(always)]
    pub(crate) fn step(n: u64) {
        #[cfg(test)]
        STEPS.with(|s| s.set(s.get() + n));
        #[cfg(not(test))]
        let _ = n;
    }

    /// The units recorded on this thread since it started.
    #[cfg(test)]
    pub(crate) fn steps() -> u64 {
        STEPS.with(|s| s.get())
    }
}

/// Splits `key = value` / `key: value` at the first delimiter, both trimmed.
fn split_setting(line: &str) -> Option<(&str, &str)> {
    let at = line.bytes().position(|b| b == b'=' || b == b':')?;
    Some((line[..at].trim(), line[at + 1..].trim()))
}

/// Maps a header to its kind and name as botocore's `build_profile_map` does.
pub(crate) fn classify(header: &str) -> (SectionKind, String) {
    let (kind, name) = classify_str(header);
    (kind, name.to_string())
}

/// [`classify`] without allocating: the name is a slice of `header`.
fn classify_str(header: &str) -> (SectionKind, &str) {
    if header == "default" {
        return (SectionKind::Profile, header);
    }
    for (prefix, kind) in [
        ("profile", SectionKind::Profile),
        ("sso-session", SectionKind::SsoSession),
        ("services", SectionKind::Services),
    ] {
        if let Some(rest) = header.strip_prefix(prefix) {
            if rest.starts_with(char::is_whitespace) {
                let name = rest.trim().trim_matches('"').trim_matches('\'');
                if !name.is_empty() {
                    return (kind, name);
                }
            }
        }
    }
    (SectionKind::Other, header)
}

/// The header prefix of a `[saml-session NAME]` section, portico's own kind (botocore and the
/// Rust SDK skip sections of unknown kinds, so the AWS CLI reads the file as before). The
/// reader keeps such a section as [`SectionKind::Other`], named by its whole header.
pub const SAML_SESSION_PREFIX: &str = "saml-session ";

/// `NAME` of a `saml-session NAME` header (the text between `[` and `]`): `saml-session`, then
/// whitespace, then the name, trimmed — the one rule settings (reading a session) and the
/// editor (finding the section to change) both use. `None` for any other header.
pub fn saml_session_name(header: &str) -> Option<&str> {
    let name = header.trim().strip_prefix("saml-session")?;
    if !name.starts_with(char::is_whitespace) {
        return None;
    }
    Some(name.trim()).filter(|n| !n.is_empty())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn parse(text: &str) -> ConfigFile {
        ConfigFile::parse(Path::new("config"), text).expect("parses")
    }

    #[test]
    fn reads_profiles_sessions_and_nested_settings() {
        let cfg = parse(
            "# top comment\n[default]\nregion = eu-west-1\n\n[profile dev]\n; note\nsso_session = corp\n\
             s3 =\n  max_concurrent_requests = 4\n  addressing_style: path\noutput=json\n\
             [sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = eu-central-1\n",
        );
        assert_eq!(cfg.profile_names(), vec!["default", "dev"]);
        assert_eq!(cfg.sso_session_names(), vec!["corp"]);
        let dev = cfg.profile("dev").unwrap();
        assert_eq!(dev.get("sso_session"), Some("corp"));
        assert_eq!(dev.get("output"), Some("json"));
        let Some(Value::Nested(s3)) = dev.settings.get("s3") else {
            panic!("s3 should be nested: {:?}", dev.settings.get("s3"))
        };
        assert_eq!(
            s3.get("max_concurrent_requests").map(String::as_str),
            Some("4")
        );
        assert_eq!(s3.get("addressing_style").map(String::as_str), Some("path"));
        assert_eq!(
            cfg.profile("default").unwrap().get("region"),
            Some("eu-west-1")
        );
        assert!(cfg.warnings().is_empty());
    }

    #[test]
    fn crlf_odd_spacing_case_and_bom() {
        let cfg = parse("\u{feff}[profile   spaced ]\r\n  REGION   =   us-east-2  \r\n\tSso_Role_Name:Admin\r\n");
        let p = cfg.profile("spaced").unwrap();
        assert_eq!(p.get("region"), Some("us-east-2"));
    }

    #[test]
    fn equally_indented_lines_are_separate_settings() {
        let cfg = parse("[profile a]\n  region = us-east-1\n  output = json\n    deeper = x\n");
        let p = cfg.profile("a").unwrap();
        assert_eq!(p.get("region"), Some("us-east-1"));
        // Only a deeper indent continues the previous setting, as in configparser.
        assert_eq!(p.get("output"), Some("json\ndeeper = x"));
    }

    #[test]
    fn blank_lines_and_comments_inside_nested_settings() {
        let cfg = parse("[profile a]\ns3 =\n  one = 1\n\n  # c\n  two = 2\nregion = r\n");
        let p = cfg.profile("a").unwrap();
        let Some(Value::Nested(s3)) = p.settings.get("s3") else {
            panic!()
        };
        assert_eq!(s3.len(), 2);
        assert_eq!(p.get("region"), Some("r"));
    }

    #[test]
    fn profile_default_wins_over_default() {
        let cfg = parse("[profile default]\nregion = a\n[default]\nregion = b\n");
        // Both map to the profile "default"; the later section is returned, matching
        // botocore where the later key in the dict wins.
        assert_eq!(cfg.profile("default").unwrap().get("region"), Some("b"));
    }

    #[test]
    fn non_profile_sections_are_not_profiles() {
        let cfg = parse("[legacy]\nregion = x\n[profilex]\nregion = y\n");
        assert!(cfg.profile("legacy").is_none());
        assert!(cfg.profile_names().is_empty());
    }

    #[test]
    fn duplicate_sections_and_keys_warn_with_lines() {
        let cfg = parse("[profile a]\nregion = x\nregion = y\n[profile a]\noutput = json\n");
        let warnings = cfg.warnings();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("line 3"), "{}", warnings[0]);
        assert!(warnings[1].contains("line 4") && warnings[1].contains("line 1"));
    }

    #[test]
    fn garbage_lines_are_errors_with_line_numbers() {
        let err = ConfigFile::parse(
            Path::new("cfg"),
            "[profile a]\nregion = x\nthis is not ini\n",
        )
        .unwrap_err();
        assert_eq!(err.line, 3);
        assert!(
            err.to_string()
                .starts_with("cfg line 3: expected `key = value`"),
            "{err}"
        );

        let err = ConfigFile::parse(Path::new("cfg"), "region = x\n").unwrap_err();
        assert_eq!(err.line, 1);
        assert!(err.problem.contains("before any `[section]`"));

        let err = ConfigFile::parse(Path::new("cfg"), "[profile a\n").unwrap_err();
        assert!(err.problem.contains("section header"));
    }

    #[test]
    fn control_characters_in_errors_are_cleaned() {
        let err = ConfigFile::parse(Path::new("cfg"), "[default]\n\u{1b}[31mboom\n").unwrap_err();
        assert!(!err.to_string().contains('\u{1b}'));
    }

    #[test]
    fn missing_file_is_empty_config() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = ConfigFile::load(&dir.path().join("nope")).unwrap();
        assert!(cfg.sections().is_empty());
    }

    /// A config as `profiles sync` writes it: one sso-session and `n` profiles.
    pub(crate) fn many_profiles(n: usize) -> String {
        let mut text = String::from(
            "[sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = eu-central-1\n",
        );
        for i in 0..n {
            text.push_str(&format!(
                "\n[profile p{i}]\n# managed by portico profiles sync (sso-session corp)\nsso_session = corp\n\
                 sso_account_id = {:012}\nsso_role_name = Admin\nregion = eu-west-1\n",
                100_000_000_000u64 + i as u64
            ));
        }
        text
    }

    /// Units of work (see [`work`]) that `f` records.
    pub(crate) fn work_of(f: impl FnOnce()) -> u64 {
        let before = work::steps();
        f();
        work::steps() - before
    }

    /// Eight times the sections must cost about eight times the work (a quadratic reader costs
    /// sixty-four times), for every way portico reads: the warm path's single lookup, `status`
    /// and `doctor` looking up every name, warnings, and lookups without listing names first.
    #[test]
    fn reading_grows_linearly_with_the_number_of_sections() {
        let run = |n: usize| {
            let text = many_profiles(n);
            work_of(|| {
                let cfg = parse(&text);
                assert!(cfg.profile(&format!("p{}", n / 2)).is_some());
                let cfg = parse(&text);
                for name in cfg.profile_names() {
                    assert!(cfg.profile(name).is_some());
                }
                assert_eq!(cfg.sso_session_names(), ["corp"]);
                assert!(cfg.warnings().is_empty());
                let cfg = parse(&text);
                for i in 0..n {
                    assert!(cfg.profile(&format!("p{i}")).is_some());
                }
            })
        };
        let (small, large) = (run(250), run(2000));
        assert!(
            large <= small * 12,
            "8× the profiles took {}× the work ({small} → {large})",
            large / small.max(1)
        );
    }

    #[test]
    fn the_warm_path_reads_only_the_sections_it_needs() {
        let cfg = parse(&many_profiles(8000));
        assert_eq!(cfg.sections_read(), 0);
        let p = cfg.profile("p4321").unwrap();
        assert_eq!(p.get("sso_account_id"), Some("100000004321"));
        assert!(cfg.sso_session("corp").is_some());
        assert_eq!(cfg.sections_read(), 2);
        // Errors anywhere are still found at load time, though.
        let broken = many_profiles(100) + "oops\n";
        let err = ConfigFile::parse(Path::new("config"), &broken).unwrap_err();
        assert!(err.problem.contains("expected `key = value`"), "{err}");
    }

    /// The lazy load (the warm path) looks at each header, not at each line, and checks the lines
    /// of the sections it reads.
    #[test]
    fn the_lazy_load_looks_at_headers_not_lines() {
        let text = many_profiles(8000);
        let lines = text.lines().count() as u64;
        let work = work_of(|| {
            let cfg = ConfigFile::from_text(Path::new("config"), text.clone(), true).unwrap();
            assert_eq!(
                cfg.profile("p7000").unwrap().get("sso_session"),
                Some("corp")
            );
            assert!(cfg.sso_session("corp").is_some());
            assert!(cfg.read_problem().is_none());
        });
        assert!(work < lines / 2, "{work} units of work for {lines} lines");
        // What it finds is what the full reader finds.
        let lazy = ConfigFile::from_text(Path::new("config"), text.clone(), true).unwrap();
        let full = parse(&text);
        assert_eq!(lazy.profile_names(), full.profile_names());
        assert_eq!(
            lazy.profile("p123").unwrap().line,
            full.profile("p123").unwrap().line
        );
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let err = ConfigFile::load(&fifo).unwrap_err().to_string();
            assert!(
                err.contains("named pipe (FIFO)") && err.contains("regular file"),
                "{err}"
            );
        }
        let err = ConfigFile::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("is a directory, not a file"), "{err}");
        // A dangling link is a missing file, as for the AWS CLI.
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &link).unwrap();
        assert!(ConfigFile::load(&link).unwrap().sections().is_empty());
    }
}
