//! `portico configure`: create or update an `[sso-session NAME]`, and optionally a
//! `[profile NAME]` for one account and role, in the AWS config file; by flags, or by prompts
//! on stderr when flags are missing and stdin is a terminal. It shows the change as a diff,
//! writes through the line-preserving editor (`awsconfig::edit`), and says what to run next.
//!
//! The pieces the TUI's first-run form needs too are public: [`Answers`], [`apply`],
//! [`start_url_warnings`] and the checks.

use std::io::{BufRead, IsTerminal, Write};

use crate::awsconfig::edit::{Document, EditError, EditableFile, Saved, SectionId, Upserted};
use crate::cli::ConfigureArgs;
use crate::exit::Exit;
use crate::settings::{check_idp_url, check_region, check_start_url, Environment};

/// The scope that makes Identity Center issue refresh tokens (see docs/protocol.md §1).
pub const DEFAULT_SCOPE: &str = "sso:account:access";

/// What is written: an sso-session, and maybe a profile for one account and role in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answers {
    pub session: String,
    pub start_url: String,
    pub region: String,
    /// `None` leaves `sso_registration_scopes` as it is in an existing session.
    pub scopes: Option<Vec<String>>,
    pub profile: Option<ProfileAnswers>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileAnswers {
    pub name: String,
    pub account: String,
    pub role: String,
    /// The profile's default `region`; `None` leaves it as it is.
    pub region: Option<String>,
}

/// What [`apply`] did to each section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub session: Upserted,
    pub profile: Option<Upserted>,
    /// Legacy keys (`sso_start_url`, `sso_region`) taken out of the profile, which now points at
    /// the session instead (the Rust SDK refuses a profile with both).
    pub removed_legacy: Vec<&'static str>,
}

/// Writes `answers` into `doc`: the session's keys, then the profile's (pointing at the session).
pub fn apply(doc: &mut Document, answers: &Answers) -> Result<Applied, EditError> {
    let scopes = answers.scopes.as_ref().map(|s| s.join(", "));
    let mut set = vec![
        ("sso_start_url", answers.start_url.as_str()),
        ("sso_region", answers.region.as_str()),
    ];
    if let Some(scopes) = &scopes {
        set.push(("sso_registration_scopes", scopes.as_str()));
    }
    let session = doc.upsert(&SectionId::sso_session(&answers.session), &set, &[])?;
    let Some(p) = &answers.profile else {
        return Ok(Applied {
            session,
            profile: None,
            removed_legacy: Vec::new(),
        });
    };
    let id = SectionId::profile(&p.name);
    let legacy = ["sso_start_url", "sso_region"];
    let removed_legacy = doc
        .section(&id)
        .map(|s| legacy.into_iter().filter(|k| s.get(k).is_some()).collect())
        .unwrap_or_default();
    let mut set = vec![
        ("sso_session", answers.session.as_str()),
        ("sso_account_id", p.account.as_str()),
        ("sso_role_name", p.role.as_str()),
    ];
    if let Some(region) = &p.region {
        set.push(("region", region.as_str()));
    }
    let profile = doc.upsert(&id, &set, &legacy)?;
    Ok(Applied {
        session,
        profile: Some(profile),
        removed_legacy,
    })
}

/// Names the AWS SDKs accept for profiles and sso-sessions (the Rust SDK drops others).
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} {} can only use letters, digits and _ - / . % @ : + (what the AWS SDKs accept)",
            crate::sanitize::quoted(name)
        ))
    }
}

/// A 12-digit AWS account ID.
pub fn check_account(account: &str) -> Result<(), String> {
    if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "account {} is not a 12-digit AWS account ID",
            crate::sanitize::quoted(account)
        ))
    }
}

/// A role (permission set) name as IAM allows it.
pub fn check_role(role: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&role.len())
        && role
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "role {} is not a role name (letters, digits and + = , . @ _ -, up to 64)",
            crate::sanitize::quoted(role)
        ))
    }
}

/// `what` names the value as the user gave it: the flag, or "start URL" for an answer to a
/// prompt (a message must not name a flag the user never typed).
fn check_url(what: &str, url: &str) -> Result<(), String> {
    check_start_url(what, url).map_err(|e| e.to_string())
}

fn check_region_text(what: &str, region: &str) -> Result<(), String> {
    check_region(what, region).map_err(|e| e.to_string())
}

fn check_scopes(scopes: &[String]) -> Result<(), String> {
    match scopes
        .iter()
        .find(|s| s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        Some(bad) => Err(format!(
            "scope {} is not a scope like {DEFAULT_SCOPE}",
            crate::sanitize::quoted(bad)
        )),
        None if scopes.is_empty() => Err("give at least one scope".to_string()),
        None => Ok(()),
    }
}

/// The region a start URL names, for `https://ssoins-….portal.REGION.app.aws`.
pub fn start_url_region(url: &str) -> Option<String> {
    let host = url::Url::parse(url).ok()?.host_str()?.to_string();
    let rest = host.strip_prefix("ssoins-")?;
    let (_, rest) = rest.split_once(".portal.")?;
    Some(rest.strip_suffix(".app.aws")?.to_string())
}

/// Doubts about a start URL that is valid but unusual, and about the region next to it; each
/// is worded for the user, who gave the region as a flag or (`asked`) as an answer to a prompt.
/// Empty for the known shapes (docs/protocol.md §6).
pub fn start_url_warnings(start_url: &str, region: &str, asked: bool) -> Vec<String> {
    let mut warnings = Vec::new();
    let Ok(url) = url::Url::parse(start_url) else {
        return warnings;
    };
    let host = url.host_str().unwrap_or_default();
    let path = url.path().trim_end_matches('/');
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    };
    let awsapps = ["awsapps.com", "awsapps.cn"].iter().any(|d| {
        host.strip_suffix(d)
            .and_then(|h| h.strip_suffix('.'))
            .is_some_and(label_ok)
    }) && (path == "/start" || path.starts_with("/directory/"));
    let ssoins = host.starts_with("ssoins-")
        && start_url_region(start_url).is_some()
        && (path.is_empty() || path == "/start");
    if !awsapps && !ssoins {
        warnings.push(format!(
            "{start_url} does not look like an Identity Center start URL \
             (https://d-xxxxxxxxxx.awsapps.com/start, https://ALIAS.awsapps.com/start or \
             https://ssoins-….portal.REGION.app.aws); copy it from the IAM Identity Center \
             console, Settings → Identity source → AWS access portal URL"
        ));
    }
    if let Some(url_region) = start_url_region(start_url) {
        if url_region != region {
            warnings.push(format!(
                "the start URL is in region {url_region} but the region given is {region}; \
                 Identity Center lives in one region and a wrong sso_region is the most common \
                 set-up mistake ({fix})",
                fix = if asked {
                    format!("answer {url_region} when asked for the region")
                } else {
                    format!("use --region {url_region}")
                }
            ));
        }
    }
    warnings
}

/// Where answers come from when flags are missing: the terminal, or a script in tests.
pub trait Ask {
    /// Asks `question`; `Ok(None)` means stdin ended (the user pressed Ctrl-D).
    fn ask(&mut self, question: &str, default: Option<&str>) -> std::io::Result<Option<String>>;
    /// Something to say between questions (warnings, problems with an answer).
    fn say(&mut self, text: &str);
}

/// Prompts on stderr, answers from stdin.
pub struct Terminal;

impl Ask for Terminal {
    fn ask(&mut self, question: &str, default: Option<&str>) -> std::io::Result<Option<String>> {
        let mut err = std::io::stderr().lock();
        match default {
            Some(d) if !d.is_empty() => write!(err, "{question} [{d}]: ")?,
            _ => write!(err, "{question}: ")?,
        }
        err.flush()?;
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line)? == 0 {
            writeln!(err)?;
            return Ok(None);
        }
        Ok(Some(line.trim().to_string()))
    }

    fn say(&mut self, text: &str) {
        eprintln!("{text}");
    }
}

/// Why `configure` cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum ConfigureError {
    /// Flags missing and no terminal to ask on.
    #[error("missing {}: stdin is not a terminal, so portico cannot ask; pass them as flags", .0.join(", "))]
    Missing(Vec<&'static str>),
    /// A flag's value is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// stdin ended while portico was asking.
    #[error("no answer (stdin ended); nothing was written")]
    NoAnswer,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Asks until `check` accepts the answer (Enter takes `default`).
fn ask_until(
    ask: &mut dyn Ask,
    question: &str,
    default: Option<&str>,
    check: impl Fn(&str) -> Result<(), String>,
) -> Result<String, ConfigureError> {
    loop {
        let answer = ask
            .ask(question, default)?
            .ok_or(ConfigureError::NoAnswer)?;
        let answer = match (answer.is_empty(), default) {
            (true, Some(d)) => d.to_string(),
            _ => answer,
        };
        match check(&answer) {
            Ok(()) => return Ok(answer),
            Err(why) => ask.say(&format!("  {why}")),
        }
    }
}

/// Resolves the flags against the file, asking for what is missing when `ask` is given.
pub fn gather(
    args: &ConfigureArgs,
    doc: &Document,
    mut ask: Option<&mut dyn Ask>,
) -> Result<Answers, ConfigureError> {
    let invalid = ConfigureError::Invalid;
    let sessions: Vec<String> = doc
        .sections()
        .into_iter()
        .filter(|s| s.id.kind == crate::awsconfig::SectionKind::SsoSession)
        .map(|s| s.id.name)
        .collect();
    let exists = |id: &SectionId| doc.section(id).is_some();
    let name_check = |what: &'static str, make: fn(String) -> SectionId| {
        move |name: &str| {
            if exists(&make(name.to_string())) {
                Ok(())
            } else {
                check_name(what, name)
            }
        }
    };
    let session_check = name_check("sso-session name", SectionId::sso_session);

    // The session.
    let session = match (&args.sso_session, ask.as_deref_mut()) {
        (Some(name), _) => {
            session_check(name).map_err(invalid)?;
            name.clone()
        }
        (None, Some(a)) => {
            if !sessions.is_empty() {
                a.say(&format!(
                    "sso-sessions in the config file: {}",
                    sessions.join(", ")
                ));
            }
            let default = (sessions.len() == 1).then(|| sessions[0].as_str());
            ask_until(a, "SSO session name", default, session_check)?
        }
        (None, None) => String::new(),
    };
    let existing = doc.section(&SectionId::sso_session(&session));
    let old = |key: &str| existing.as_ref().and_then(|s| s.get(key).map(String::from));

    let start_url = match (&args.start_url, ask.as_deref_mut()) {
        (Some(url), _) => {
            check_url("--start-url", url).map_err(invalid)?;
            Some(url.clone())
        }
        (None, Some(a)) => Some(ask_until(
            a,
            "Start URL (AWS access portal URL)",
            old("sso_start_url").as_deref(),
            |url| check_url("start URL", url),
        )?),
        (None, None) => old("sso_start_url"),
    };
    let region = match (&args.region, ask.as_deref_mut()) {
        (Some(r), _) => {
            check_region_text("--region", r).map_err(invalid)?;
            Some(r.clone())
        }
        (None, Some(a)) => {
            let default =
                old("sso_region").or_else(|| start_url.as_deref().and_then(start_url_region));
            Some(ask_until(
                a,
                "Region of your Identity Center (sso_region)",
                default.as_deref(),
                |r| check_region_text("region", r),
            )?)
        }
        (None, None) => old("sso_region"),
    };
    let scopes = if !args.scopes.is_empty() {
        check_scopes(&args.scopes).map_err(invalid)?;
        Some(args.scopes.clone())
    } else if let Some(a) = ask.as_deref_mut() {
        let default = old("sso_registration_scopes").unwrap_or_else(|| DEFAULT_SCOPE.to_string());
        let answer = ask_until(a, "Registration scopes", Some(&default), |s| {
            check_scopes(&split_scopes(s))
        })?;
        Some(split_scopes(&answer))
    } else if existing.is_some() {
        None
    } else {
        Some(vec![DEFAULT_SCOPE.to_string()])
    };

    // The profile, if one is wanted.
    let profile_check = name_check("profile name", SectionId::profile);
    let profile_name = match (&args.profile, ask.as_deref_mut()) {
        (Some(p), _) => {
            profile_check(p).map_err(invalid)?;
            Some(p.clone())
        }
        (None, Some(a)) => {
            let answer = ask_until(
                a,
                "Also write a profile for one account and role? Profile name (Enter to skip)",
                None,
                |p| {
                    if p.is_empty() {
                        Ok(())
                    } else {
                        profile_check(p)
                    }
                },
            )?;
            (!answer.is_empty()).then_some(answer)
        }
        (None, None) => None,
    };
    let mut missing = Vec::new();
    if session.is_empty() {
        missing.push("--sso-session");
    }
    if start_url.is_none() {
        missing.push("--start-url");
    }
    if region.is_none() {
        missing.push("--region");
    }
    let profile = match profile_name {
        None => None,
        Some(name) => {
            let existing = doc.section(&SectionId::profile(&name));
            let old = |key: &str| existing.as_ref().and_then(|s| s.get(key).map(String::from));
            let account = match (&args.account, ask.as_deref_mut()) {
                (Some(a), _) => {
                    check_account(a).map_err(invalid)?;
                    Some(a.clone())
                }
                (None, Some(a)) => Some(ask_until(
                    a,
                    "AWS account ID",
                    old("sso_account_id").as_deref(),
                    check_account,
                )?),
                (None, None) => old("sso_account_id"),
            };
            let role = match (&args.role, ask.as_deref_mut()) {
                (Some(r), _) => {
                    check_role(r).map_err(invalid)?;
                    Some(r.clone())
                }
                (None, Some(a)) => Some(ask_until(
                    a,
                    "Role (permission set) name",
                    old("sso_role_name").as_deref(),
                    check_role,
                )?),
                (None, None) => old("sso_role_name"),
            };
            let region = match (&args.profile_region, ask) {
                (Some(r), _) => {
                    check_region_text("--profile-region", r).map_err(invalid)?;
                    Some(r.clone())
                }
                (None, Some(a)) => {
                    let answer = ask_until(
                        a,
                        "Default region for the profile (Enter to leave unset)",
                        old("region").as_deref(),
                        |r| {
                            if r.is_empty() {
                                Ok(())
                            } else {
                                check_region_text("region", r)
                            }
                        },
                    )?;
                    (!answer.is_empty()).then_some(answer)
                }
                (None, None) => None,
            };
            if account.is_none() {
                missing.push("--account");
            }
            if role.is_none() {
                missing.push("--role");
            }
            match (account, role) {
                (Some(account), Some(role)) => Some(ProfileAnswers {
                    name,
                    account,
                    role,
                    region,
                }),
                _ => None,
            }
        }
    };
    if !missing.is_empty() {
        return Err(ConfigureError::Missing(missing));
    }
    Ok(Answers {
        session,
        start_url: start_url.unwrap_or_default(),
        region: region.unwrap_or_default(),
        scopes,
        profile,
    })
}

fn split_scopes(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Whether the flags leave something to ask: the session name, or values that neither the
/// flags nor the existing sections give.
fn something_missing(args: &ConfigureArgs, doc: &Document) -> bool {
    let Some(session) = &args.sso_session else {
        return true;
    };
    let existing = doc.section(&SectionId::sso_session(session));
    let has = |key: &str| existing.as_ref().is_some_and(|s| s.get(key).is_some());
    if (args.start_url.is_none() && !has("sso_start_url"))
        || (args.region.is_none() && !has("sso_region"))
    {
        return true;
    }
    if let Some(profile) = &args.profile {
        let existing = doc.section(&SectionId::profile(profile));
        let has = |key: &str| existing.as_ref().is_some_and(|s| s.get(key).is_some());
        if (args.account.is_none() && !has("sso_account_id"))
            || (args.role.is_none() && !has("sso_role_name"))
        {
            return true;
        }
    }
    false
}

pub fn run(args: &ConfigureArgs) -> anyhow::Result<Exit> {
    let env = Environment::from_process();
    let path = env.config_path()?;
    let mut file = EditableFile::open_parsed(&path)?;
    for warning in file.doc.warnings() {
        eprintln!("portico: warning: {warning}");
    }
    if let Some(name) = &args.saml_session {
        return configure_saml(args, name, &env, &mut file);
    }
    let interactive = something_missing(args, &file.doc) && std::io::stdin().is_terminal();
    let mut terminal = Terminal;
    let answers = match gather(
        args,
        &file.doc,
        interactive.then_some(&mut terminal as &mut dyn Ask),
    ) {
        Ok(answers) => answers,
        Err(e @ (ConfigureError::Missing(_) | ConfigureError::Invalid(_))) => {
            eprintln!("portico: error: {e}");
            return Ok(Exit::Usage);
        }
        Err(ConfigureError::NoAnswer) => {
            eprintln!("portico: no answer (stdin ended); nothing was written");
            return Ok(Exit::Cancelled);
        }
        Err(e) => return Err(e.into()),
    };
    let region_asked = interactive && args.region.is_none();
    for warning in start_url_warnings(&answers.start_url, &answers.region, region_asked) {
        eprintln!("portico: warning: {warning}");
    }
    if answers
        .scopes
        .as_ref()
        .is_some_and(|s| !s.iter().any(|s| s == DEFAULT_SCOPE))
    {
        eprintln!(
            "portico: warning: without the scope {DEFAULT_SCOPE} Identity Center issues no refresh \
             token, so you will sign in again whenever the token expires"
        );
    }

    let applied = apply(&mut file.doc, &answers)?;
    let shown = path.display();
    if !file.is_changed() {
        eprintln!("portico: {shown} already has these settings; nothing to write");
        print_next(&answers);
        return Ok(Exit::Ok);
    }
    eprint!("{}", file.diff());
    if args.dry_run {
        eprintln!("portico: dry run: nothing was written to {shown}");
        return Ok(Exit::Ok);
    }
    if interactive && !args.yes {
        let question = format!("Write these changes to {shown}? [Y/n]");
        match terminal.ask(&question, None)? {
            Some(a)
                if a.is_empty() || a.eq_ignore_ascii_case("y") || a.eq_ignore_ascii_case("yes") => {
            }
            _ => {
                eprintln!("portico: nothing was written");
                return Ok(Exit::Cancelled);
            }
        }
    }
    let lock_dir = env.portico_cache_dir()?.join("locks");
    let saved = file.save(&lock_dir)?;
    let verb = |u: Upserted| match u {
        Upserted::Created => "added",
        Upserted::Updated => "updated",
        Upserted::Unchanged => "kept",
    };
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} [sso-session {}] in {shown}",
        capitalise(verb(applied.session)),
        answers.session
    )?;
    if let (Some(p), Some(u)) = (&answers.profile, applied.profile) {
        writeln!(
            out,
            "{} [{}]",
            capitalise(verb(u)),
            SectionId::profile(&p.name)
        )?;
        if !applied.removed_legacy.is_empty() {
            writeln!(
                out,
                "  (removed {} from it: the profile now uses the sso-session)",
                applied.removed_legacy.join(" and ")
            )?;
        }
    }
    if let Saved::Written {
        backup: Some(backup),
    } = saved
    {
        writeln!(out, "The previous file is kept as {}", backup.display())?;
    }
    drop(out);
    print_next(&answers);
    Ok(Exit::Ok)
}

/// `--saml-session NAME --idp-url URL`: the `[saml-session NAME]` section, by flags only.
fn configure_saml(
    args: &ConfigureArgs,
    name: &str,
    env: &Environment,
    file: &mut EditableFile,
) -> anyhow::Result<Exit> {
    let idp_url = args.idp_url.as_deref().unwrap_or_default();
    let checked = check_name("saml-session", name)
        .and_then(|()| check_idp_url(idp_url).map_err(|why| format!("--idp-url {} {why}", crate::sanitize::quoted(idp_url))))
        .and_then(|()| match &args.sts_region {
            Some(region) => check_region_text("--sts-region", region),
            None => Ok(()),
        })
        .and_then(|()| match &args.entity_id {
            Some(id) if id.is_empty() || id.chars().any(|c| c.is_whitespace() || c.is_control()) => Err(format!(
                "--entity-id {} is not an identifier like urn:amazon:webservices or urn:amazon:webservices#2",
                crate::sanitize::quoted(id)
            )),
            _ => Ok(()),
        });
    if let Err(e) = checked {
        eprintln!("portico: error: {e}");
        return Ok(Exit::Usage);
    }
    let port = args.acs_port.map(|p| p.to_string());
    let mut set = vec![("idp_url", idp_url)];
    for (key, value) in [
        ("entity_id", args.entity_id.as_deref()),
        ("sts_region", args.sts_region.as_deref()),
        ("acs_port", port.as_deref()),
    ] {
        if let Some(value) = value {
            set.push((key, value));
        }
    }
    let id = SectionId {
        kind: crate::awsconfig::SectionKind::Other,
        name: format!("{}{name}", crate::settings::SAML_SESSION_PREFIX),
    };
    let upserted = file.doc.upsert(&id, &set, &[])?;
    let shown = file.doc.path().display().to_string();
    if !file.is_changed() {
        eprintln!("portico: {shown} already has these settings; nothing to write");
    } else {
        eprint!("{}", file.diff());
        if args.dry_run {
            eprintln!("portico: dry run: nothing was written to {shown}");
            return Ok(Exit::Ok);
        }
        let saved = file.save(&env.portico_cache_dir()?.join("locks"))?;
        let verb = match upserted {
            Upserted::Created => "Added",
            Upserted::Updated => "Updated",
            Upserted::Unchanged => "Kept",
        };
        println!("{verb} {} in {shown}", id.header());
        if let Saved::Written {
            backup: Some(backup),
        } = saved
        {
            println!("The previous file is kept as {}", backup.display());
        }
    }
    println!("Next: portico login --saml-session {name}");
    Ok(Exit::Ok)
}

fn print_next(answers: &Answers) {
    println!("Next: portico login --sso-session {}", answers.session);
    if let Some(p) = &answers.profile {
        println!("Then: aws sts get-caller-identity --profile {}", p.name);
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::path::Path;

    struct Script {
        answers: VecDeque<&'static str>,
        asked: Vec<String>,
        said: Vec<String>,
    }

    impl Script {
        fn new(answers: &[&'static str]) -> Script {
            Script {
                answers: answers.iter().copied().collect(),
                asked: Vec::new(),
                said: Vec::new(),
            }
        }
    }

    impl Ask for Script {
        fn ask(
            &mut self,
            question: &str,
            default: Option<&str>,
        ) -> std::io::Result<Option<String>> {
            self.asked
                .push(format!("{question} [{}]", default.unwrap_or("")));
            Ok(self.answers.pop_front().map(String::from))
        }
        fn say(&mut self, text: &str) {
            self.said.push(text.to_string());
        }
    }

    fn args() -> ConfigureArgs {
        ConfigureArgs {
            sso_session: None,
            start_url: None,
            region: None,
            scopes: Vec::new(),
            profile: None,
            account: None,
            role: None,
            profile_region: None,
            saml_session: None,
            idp_url: None,
            entity_id: None,
            sts_region: None,
            acs_port: None,
            yes: false,
            dry_run: false,
        }
    }

    fn doc(text: &str) -> Document {
        Document::parse(Path::new("config"), text)
    }

    #[test]
    fn asks_for_everything_missing_and_retries_bad_answers() {
        let mut script = Script::new(&[
            "corp",
            "http://nope",
            "https://ssoins-1234567890abcdef.portal.eu-west-2.app.aws",
            "",
            "",
            "dev",
            "123",
            "111122223333",
            "Admin",
            "",
        ]);
        let answers = gather(&args(), &doc(""), Some(&mut script)).unwrap();
        assert_eq!(
            answers,
            Answers {
                session: "corp".into(),
                start_url: "https://ssoins-1234567890abcdef.portal.eu-west-2.app.aws".into(),
                region: "eu-west-2".into(),
                scopes: Some(vec![DEFAULT_SCOPE.into()]),
                profile: Some(ProfileAnswers {
                    name: "dev".into(),
                    account: "111122223333".into(),
                    role: "Admin".into(),
                    region: None,
                }),
            }
        );
        // The region's default came from the ssoins URL; bad answers were explained.
        assert!(
            script.asked[3].ends_with("[eu-west-2]"),
            "{:?}",
            script.asked
        );
        assert_eq!(script.said.len(), 2, "{:?}", script.said);
        // Answers to prompts are not flags: no message names one.
        assert!(
            script.said.iter().all(|s| !s.contains("--")),
            "{:?}",
            script.said
        );
    }

    #[test]
    fn defaults_come_from_the_existing_session() {
        let d = doc("[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n");
        let mut script = Script::new(&["", "", "", "", ""]);
        let answers = gather(&args(), &d, Some(&mut script)).unwrap();
        assert_eq!(answers.session, "corp");
        assert_eq!(answers.start_url, "https://corp.awsapps.com/start");
        assert_eq!(answers.region, "us-east-1");
        assert_eq!(answers.profile, None);
        assert!(script.said[0].contains("corp"));
    }

    #[test]
    fn without_a_terminal_missing_flags_are_named() {
        let err = gather(&args(), &doc(""), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing --sso-session, --start-url, --region: stdin is not a terminal, so portico \
             cannot ask; pass them as flags"
        );
        let mut a = args();
        a.sso_session = Some("corp".into());
        a.profile = Some("dev".into());
        let d = doc("[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n");
        let err = gather(&a, &d, None).unwrap_err();
        assert!(
            err.to_string().starts_with("missing --account, --role:"),
            "{err}"
        );
        assert!(something_missing(&a, &d));
    }

    #[test]
    fn an_existing_session_is_updated_without_touching_its_scopes() {
        let mut a = args();
        a.sso_session = Some("corp".into());
        a.region = Some("eu-west-1".into());
        let mut d = doc("[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n");
        assert!(!something_missing(&a, &d));
        let answers = gather(&a, &d, None).unwrap();
        assert_eq!(answers.scopes, None);
        let applied = apply(&mut d, &answers).unwrap();
        assert_eq!(applied.session, Upserted::Updated);
        assert_eq!(
            d.render(),
            "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n"
        );
    }

    #[test]
    fn a_legacy_profile_is_pointed_at_the_session() {
        let mut d = doc("[profile dev]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 111122223333\nsso_role_name = Admin\n");
        let answers = Answers {
            session: "corp".into(),
            start_url: "https://corp.awsapps.com/start".into(),
            region: "us-east-1".into(),
            scopes: Some(vec![DEFAULT_SCOPE.into()]),
            profile: Some(ProfileAnswers {
                name: "dev".into(),
                account: "111122223333".into(),
                role: "Admin".into(),
                region: Some("eu-west-1".into()),
            }),
        };
        let applied = apply(&mut d, &answers).unwrap();
        assert_eq!(applied.removed_legacy, vec!["sso_start_url", "sso_region"]);
        assert_eq!(
            d.render(),
            "[profile dev]\nsso_account_id = 111122223333\nsso_role_name = Admin\nsso_session = corp\nregion = eu-west-1\n\n\
             [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n"
        );
    }

    #[test]
    fn names_and_values_are_checked() {
        assert!(check_name("profile name", "dev-admin_2/x.y@z:w+q%").is_ok());
        assert!(check_name("profile name", "my profile").is_err());
        assert!(check_name("profile name", "dév").is_err());
        assert!(check_account("111122223333").is_ok());
        assert!(check_account("11112222333").is_err());
        assert!(check_role("AWSAdministratorAccess").is_ok());
        assert!(check_role("Admin Access").is_err());
        // An existing non-ASCII profile may still be updated.
        let mut a = args();
        a.sso_session = Some("corp".into());
        a.start_url = Some("https://corp.awsapps.com/start".into());
        a.region = Some("us-east-1".into());
        a.profile = Some("開発".into());
        a.account = Some("111122223333".into());
        a.role = Some("Admin".into());
        assert!(gather(&a, &doc("[profile 開発]\nregion = x\n"), None).is_ok());
        assert!(matches!(
            gather(&a, &doc(""), None),
            Err(ConfigureError::Invalid(_))
        ));
    }

    #[test]
    fn start_url_shapes() {
        for good in [
            "https://d-1234567890.awsapps.com/start",
            "https://d-1234567890.awsapps.com/start/",
            "https://my-corp.awsapps.com/start/#/",
            "https://ssoins-1234567890abcdef.portal.us-east-1.app.aws",
            "https://start.us-gov-home.awsapps.com/directory/d-1234567890",
        ] {
            assert_eq!(
                start_url_warnings(good, "us-east-1", false),
                Vec::<String>::new(),
                "{good}"
            );
        }
        for odd in [
            "https://example.com/start",
            "https://d-1234567890.awsapps.com/portal",
        ] {
            assert_eq!(
                start_url_warnings(odd, "us-east-1", false).len(),
                1,
                "{odd}"
            );
        }
        let w = start_url_warnings(
            "https://ssoins-1234567890abcdef.portal.eu-west-2.app.aws",
            "us-east-1",
            false,
        );
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("--region eu-west-2"), "{}", w[0]);
        // Given at a prompt, the region is not a flag the user typed.
        let w = start_url_warnings(
            "https://ssoins-1234567890abcdef.portal.eu-west-2.app.aws",
            "us-east-1",
            true,
        );
        assert!(!w[0].contains("--region"), "{}", w[0]);
        assert!(w[0].contains("answer eu-west-2 when asked"), "{}", w[0]);
    }
}
