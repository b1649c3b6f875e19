//! `configure`'s answers and its apply step: the `[sso-session NAME]` (and maybe a
//! `[profile NAME]` for one account and role) to write, resolved from what the user gave, the
//! existing file and, when something is missing, answers to questions through [`Ask`]; and
//! [`apply`], which writes them into a [`Document`]. `portico configure` and the portal's
//! first-run form both use them.

use crate::awsconfig::edit::{Document, EditError, SectionId, Upserted};
use crate::awsconfig::names::check_name;
use crate::consts as keys;
use crate::model::start_url;
use crate::settings::{check_region, check_start_url};

/// What the user gave up front (`configure`'s flags); `None` (or no scopes) means not given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Given {
    pub sso_session: Option<String>,
    pub start_url: Option<String>,
    pub region: Option<String>,
    pub scopes: Vec<String>,
    pub profile: Option<String>,
    pub account: Option<String>,
    pub role: Option<String>,
    pub profile_region: Option<String>,
}

/// The scope that makes Identity Center issue refresh tokens (see docs/protocol.md §1).
pub const DEFAULT_SCOPE: &str = keys::SCOPE_ACCOUNT_ACCESS;

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
        (keys::SSO_START_URL, answers.start_url.as_str()),
        (keys::SSO_REGION, answers.region.as_str()),
    ];
    if let Some(scopes) = &scopes {
        set.push((keys::SSO_REGISTRATION_SCOPES, scopes.as_str()));
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
    let legacy = [keys::SSO_START_URL, keys::SSO_REGION];
    let removed_legacy = doc
        .section(&id)
        .map(|s| legacy.into_iter().filter(|k| s.get(k).is_some()).collect())
        .unwrap_or_default();
    let mut set = vec![
        (keys::SSO_SESSION, answers.session.as_str()),
        (keys::SSO_ACCOUNT_ID, p.account.as_str()),
        (keys::SSO_ROLE_NAME, p.role.as_str()),
    ];
    if let Some(region) = &p.region {
        set.push((keys::REGION, region.as_str()));
    }
    let profile = doc.upsert(&id, &set, &legacy)?;
    Ok(Applied {
        session,
        profile: Some(profile),
        removed_legacy,
    })
}

/// A 12-digit AWS account ID.
pub fn check_account(account: &str) -> Result<(), String> {
    if crate::model::id::is_account_id(account) {
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
/// The start URL rule (settings' own), worded with the reason ([`start_url::check`]'s).
fn check_url(what: &str, url: &str) -> Result<(), String> {
    start_url::check(url).map_err(|e| format!("{what} {e}"))?;
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

/// Where answers come from when flags are missing: the terminal, or a script in tests.
pub trait Ask {
    /// Asks `question`; `Ok(None)` means stdin ended (the user pressed Ctrl-D).
    fn ask(&mut self, question: &str, default: Option<&str>) -> std::io::Result<Option<String>>;
    /// Something to say between questions (warnings, problems with an answer).
    fn say(&mut self, text: &str);
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

/// A flag's value (`check`ed), else the answer to `question` (offering `old`, what the file
/// holds) when asking, else `old`.
fn given_or_asked(
    given: Option<&String>,
    ask: Option<&mut (dyn Ask + '_)>,
    question: &str,
    old: Option<String>,
    check: impl Fn(&str) -> Result<(), String>,
) -> Result<Option<String>, ConfigureError> {
    Ok(match (given, ask) {
        (Some(value), _) => {
            check(value).map_err(ConfigureError::Invalid)?;
            Some(value.clone())
        }
        (None, Some(a)) => Some(ask_until(a, question, old.as_deref(), check)?),
        (None, None) => old,
    })
}

/// Resolves the flags against the file, asking for what is missing when `ask` is given.
pub fn gather(
    args: &Given,
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
            old(keys::SSO_START_URL).as_deref(),
            |url| check_url("start URL", url),
        )?),
        (None, None) => old(keys::SSO_START_URL),
    };
    let region = match (&args.region, ask.as_deref_mut()) {
        (Some(r), _) => {
            check_region_text("--region", r).map_err(invalid)?;
            Some(r.clone())
        }
        (None, Some(a)) => {
            let default = old(keys::SSO_REGION)
                .or_else(|| start_url.as_deref().and_then(start_url::region_of));
            Some(ask_until(
                a,
                "Region of your Identity Center (sso_region)",
                default.as_deref(),
                |r| check_region_text("region", r),
            )?)
        }
        // Without --region, the Region the start URL's host names (a regional portal URL, a
        // replica's): a start URL given now wins over the old sso_region, which was the old
        // URL's.
        (None, None) => {
            let named = start_url.as_deref().and_then(start_url::region_of);
            if args.start_url.is_some() {
                named.or_else(|| old(keys::SSO_REGION))
            } else {
                old(keys::SSO_REGION).or(named)
            }
        }
    };
    let scopes = if !args.scopes.is_empty() {
        check_scopes(&args.scopes).map_err(invalid)?;
        Some(args.scopes.clone())
    } else if let Some(a) = ask.as_deref_mut() {
        let default =
            old(keys::SSO_REGISTRATION_SCOPES).unwrap_or_else(|| DEFAULT_SCOPE.to_string());
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
            let account = given_or_asked(
                args.account.as_ref(),
                ask.as_deref_mut(),
                "AWS account ID",
                old(keys::SSO_ACCOUNT_ID),
                check_account,
            )?;
            let role = given_or_asked(
                args.role.as_ref(),
                ask.as_deref_mut(),
                "Role (permission set) name",
                old(keys::SSO_ROLE_NAME),
                check_role,
            )?;
            let region = match (&args.profile_region, ask) {
                (Some(r), _) => {
                    check_region_text("--profile-region", r).map_err(invalid)?;
                    Some(r.clone())
                }
                (None, Some(a)) => {
                    let answer = ask_until(
                        a,
                        "Default region for the profile (Enter to leave unset)",
                        old(keys::REGION).as_deref(),
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
pub fn something_missing(args: &Given, doc: &Document) -> bool {
    let Some(session) = &args.sso_session else {
        return true;
    };
    let existing = doc.section(&SectionId::sso_session(session));
    let has = |key: &str| existing.as_ref().is_some_and(|s| s.get(key).is_some());
    if (args.start_url.is_none() && !has(keys::SSO_START_URL))
        || (args.region.is_none() && !has(keys::SSO_REGION))
    {
        return true;
    }
    if let Some(profile) = &args.profile {
        let existing = doc.section(&SectionId::profile(profile));
        let has = |key: &str| existing.as_ref().is_some_and(|s| s.get(key).is_some());
        if (args.account.is_none() && !has(keys::SSO_ACCOUNT_ID))
            || (args.role.is_none() && !has(keys::SSO_ROLE_NAME))
        {
            return true;
        }
    }
    false
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

    fn args() -> Given {
        Given::default()
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
}
