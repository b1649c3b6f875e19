//! Reading the shared AWS config file (`~/.aws/config`) the way botocore and the Rust SDK do.
//!
//! The grammar is INI as Python's `configparser` (which botocore uses) understands it: `#` and
//! `;` comment lines, `key = value` or `key: value`, keys case-folded, indented continuation
//! lines that turn an empty value into nested sub-settings (`s3 =` followed by `  max_concurrent_requests = 4`).
//! Section names follow botocore's `build_profile_map`: `[default]`, `[profile NAME]`,
//! `[sso-session NAME]`, `[services NAME]`; anything else is kept but is not a profile.
//!
//! This module only reads; writes go through [`edit`], which keeps every other byte. Parsing is
//! by hand because what we need is botocore's exact reading rules plus line numbers for error
//! messages, which no INI crate offers together.

pub mod edit;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// What kind of section a `[...]` header names.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// A parsed config file.
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub sections: Vec<Section>,
    /// Things botocore would refuse or silently drop, worded for the user.
    pub warnings: Vec<String>,
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
    /// Reads and parses `path`. A missing file is an empty config, as for the AWS CLI.
    pub fn load(path: &Path) -> Result<ConfigFile, LoadError> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                Ok(ConfigFile::parse(path, &text)?)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile {
                path: path.to_path_buf(),
                ..ConfigFile::default()
            }),
            Err(source) => Err(LoadError::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Parses config text; `path` is only used in messages.
    pub fn parse(path: &Path, text: &str) -> Result<ConfigFile, ParseError> {
        Parser::new(path).run(text)
    }

    /// The profile section called `name` (`default` matches `[default]` and `[profile default]`).
    /// When both exist, `[profile default]` wins, as in botocore.
    pub fn profile(&self, name: &str) -> Option<&Section> {
        let mut found = None;
        for s in self
            .sections
            .iter()
            .filter(|s| s.kind == SectionKind::Profile)
        {
            if s.name == name {
                found = Some(s);
            }
        }
        found
    }

    /// The `[sso-session NAME]` section.
    /// With duplicates, the last copy wins, as for profiles.
    pub fn sso_session(&self, name: &str) -> Option<&Section> {
        self.sections
            .iter()
            .rev()
            .find(|s| s.kind == SectionKind::SsoSession && s.name == name)
    }

    /// All profile names, in file order, without repeats.
    pub fn profile_names(&self) -> Vec<&str> {
        self.names_of(SectionKind::Profile)
    }

    /// All sso-session names, in file order, without repeats.
    pub fn sso_session_names(&self) -> Vec<&str> {
        self.names_of(SectionKind::SsoSession)
    }

    fn names_of(&self, kind: SectionKind) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for s in self.sections.iter().filter(|s| s.kind == kind) {
            if !names.contains(&s.name.as_str()) {
                names.push(&s.name);
            }
        }
        names
    }
}

/// Why the config file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Not `#[from]`: that would make the ParseError the source too and print it twice.
    #[error("{0}; fix that line (the AWS CLI cannot read this file either)")]
    Parse(ParseError),
}

impl From<ParseError> for LoadError {
    fn from(e: ParseError) -> LoadError {
        LoadError::Parse(e)
    }
}

struct Parser {
    path: String,
    sections: Vec<Section>,
    warnings: Vec<String>,
    /// Key and indentation of the last setting in the current section: a later line indented
    /// deeper than it continues it (configparser's rule).
    last_key: Option<(String, usize)>,
}

impl Parser {
    fn new(path: &Path) -> Parser {
        Parser {
            path: path.display().to_string(),
            sections: Vec::new(),
            warnings: Vec::new(),
            last_key: None,
        }
    }

    fn error(&self, line: usize, problem: impl fmt::Display) -> ParseError {
        ParseError {
            path: self.path.clone(),
            line,
            problem: problem.to_string(),
        }
    }

    fn run(mut self, text: &str) -> Result<ConfigFile, ParseError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, raw) in text.lines().enumerate() {
            let number = index + 1;
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            let trimmed = line.trim();
            // Blank and comment lines neither end nor extend a multi-line value.
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            let indent = line.len() - line.trim_start().len();
            if matches!(&self.last_key, Some((_, key_indent)) if indent > *key_indent) {
                self.continuation(number, trimmed)?;
                continue;
            }
            if trimmed.starts_with('[') {
                self.header(number, trimmed)?;
                continue;
            }
            self.setting(number, trimmed, indent)?;
        }
        Ok(ConfigFile {
            path: PathBuf::from(&self.path),
            sections: self.sections,
            warnings: self.warnings,
        })
    }

    fn header(&mut self, number: usize, trimmed: &str) -> Result<(), ParseError> {
        let Some(inner) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) else {
            return Err(self.error(number, "a section header must look like `[profile NAME]`"));
        };
        let (kind, name) = classify(inner.trim());
        if let Some(previous) = self
            .sections
            .iter()
            .find(|s| s.kind == kind && s.name == name && kind != SectionKind::Other)
        {
            self.warnings.push(format!(
                "{} line {number}: section [{}] repeats the one on line {}; botocore refuses such a file, \
                 merge the two sections",
                self.path,
                inner.trim(),
                previous.line
            ));
        }
        self.sections.push(Section {
            kind,
            name,
            line: number,
            settings: BTreeMap::new(),
        });
        self.last_key = None;
        Ok(())
    }

    fn setting(&mut self, number: usize, trimmed: &str, indent: usize) -> Result<(), ParseError> {
        let Some((key, value)) = split_setting(trimmed) else {
            return Err(self.error(
                number,
                format!(
                    "expected `key = value`, a `[section]` header or a comment, found `{}`",
                    crate::sanitize::for_terminal(trimmed)
                ),
            ));
        };
        if key.is_empty() {
            return Err(self.error(number, "a setting has no name before `=`"));
        }
        let path = self.path.clone();
        let Some(section) = self.sections.last_mut() else {
            return Err(self.error(
                number,
                "a setting comes before any `[section]` header; put it under `[default]` or a `[profile NAME]`",
            ));
        };
        if section.settings.contains_key(&key) {
            self.warnings.push(format!(
                "{path} line {number}: `{key}` is set twice in the same section; the last one is used here, \
                 but botocore refuses such a file"
            ));
        }
        section
            .settings
            .insert(key.clone(), Value::Text(value.to_string()));
        self.last_key = Some((key, indent));
        Ok(())
    }

    fn continuation(&mut self, number: usize, trimmed: &str) -> Result<(), ParseError> {
        let key = self.last_key.clone().map(|(k, _)| k).unwrap_or_default();
        let section = self.sections.last_mut().expect("checked by caller");
        let value = section
            .settings
            .entry(key)
            .or_insert_with(|| Value::Nested(BTreeMap::new()));
        match value {
            Value::Text(text) if text.is_empty() => {
                *value = Value::Nested(BTreeMap::new());
            }
            Value::Text(text) => {
                // A multi-line plain value: configparser joins with newlines.
                text.push('\n');
                text.push_str(trimmed);
                return Ok(());
            }
            Value::Nested(_) => {}
        }
        let Value::Nested(map) = value else {
            unreachable!("made nested above")
        };
        match split_setting(trimmed) {
            Some((k, v)) if !k.is_empty() => {
                map.insert(k, v.to_string());
                Ok(())
            }
            _ => Err(self.error(
                number,
                format!(
                    "an indented line under a setting must be `key = value`, found `{}`",
                    crate::sanitize::for_terminal(trimmed)
                ),
            )),
        }
    }
}

/// Splits `key = value` / `key: value` at the first delimiter; the key is case-folded like
/// configparser's `optionxform`.
fn split_setting(line: &str) -> Option<(String, &str)> {
    let at = line.find(['=', ':'])?;
    let key = line[..at].trim().to_lowercase();
    Some((key, line[at + 1..].trim()))
}

/// Maps a header to its kind and name as botocore's `build_profile_map` does.
pub(crate) fn classify(header: &str) -> (SectionKind, String) {
    if header == "default" {
        return (SectionKind::Profile, "default".to_string());
    }
    for (prefix, kind) in [
        ("profile", SectionKind::Profile),
        ("sso-session", SectionKind::SsoSession),
        ("services", SectionKind::Services),
    ] {
        if let Some(rest) = header.strip_prefix(prefix) {
            if rest.starts_with(char::is_whitespace) {
                let name = rest.trim().trim_matches('"').trim_matches('\'').to_string();
                if !name.is_empty() {
                    return (kind, name);
                }
            }
        }
    }
    (SectionKind::Other, header.to_string())
}

#[cfg(test)]
mod tests {
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
        assert!(cfg.warnings.is_empty());
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
        assert_eq!(cfg.warnings.len(), 2, "{:?}", cfg.warnings);
        assert!(cfg.warnings[0].contains("line 3"), "{}", cfg.warnings[0]);
        assert!(cfg.warnings[1].contains("line 4") && cfg.warnings[1].contains("line 1"));
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
        assert!(cfg.sections.is_empty());
    }
}
