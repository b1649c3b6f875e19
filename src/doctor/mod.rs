//! Doctor: checks the set-up end to end and says, for each problem, how to fix it.
//!
//! Each check is a [`Check`]: its name in the report (text and `--json`), and its line in
//! `portico doctor --help`, both come from that type. The checks live one group to a file:
//! [`config`] (the config file, sessions, profiles, credential_process lines), [`files`]
//! (cache permissions), [`server`] (a credential server the environment points at), [`browser`], [`token`] (token and refresh), [`network`] (the budget,
//! the endpoints), [`clock`], [`region`] (start URL against region) and [`assignments`].
//! Adding a check: a variant in [`Check`] (with its name and summary), and a function in the
//! file of its group that [`run`] (or [`network::check_session`], per session) calls.
//!
//! Network use is small and leaves nothing pending: one GET to each endpoint's root (any HTTP
//! answer counts as reachable, and carries the `Date` header), one RegisterClient naming the
//! start URL as issuer (what `portico login` sends; the service answers InvalidRequestException
//! when that region's Identity Center does not know the URL; the registration is not cached and
//! simply expires), and one ListAccounts page. Doctor never signs in and never edits the config
//! file; a token close to expiry is refreshed as by any command. Every network check is bounded
//! (see [`network::Budget`]): a service that hangs costs seconds, not the SDK's three long
//! attempts.

mod assignments;
mod browser;
mod chain;
mod clock;
mod config;
mod files;
mod network;
mod region;
mod saml;
mod server;
mod storage;
mod token;

use std::fmt;
use std::io::Write;

use serde::{Serialize, Serializer};

use crate::identity::Store;
use crate::sanitize::for_terminal;
use crate::settings::Environment;

pub use clock::{clock_finding, parse_http_date};

/// One check of the report. Its [`name`](Check::name) is what the text and `--json` reports
/// print and what `portico doctor --help` lists, so that the three cannot drift apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {
    Config,
    Sessions,
    Profiles,
    CredentialProcess,
    ChainedRoles,
    CachePermissions,
    CredentialServer,
    Browser,
    Storage,
    Token,
    Refresh,
    OidcEndpoint,
    PortalEndpoint,
    Network,
    Clock,
    StartUrlRegion,
    Assignments,
    SamlIdpUrl,
    SamlReplyUrl,
    SamlIdp,
    SamlCertificate,
    StsEndpoint,
    SamlFailure,
}

/// Which part of the set-up a check is about, as `--help` groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Whole,
    SsoSession,
    SamlSession,
}

impl Check {
    /// Every check, in the order a report shows them: those of the whole set-up, then (from
    /// [`Check::Browser`] on) those run once per sso-session, then (from [`Check::SamlIdpUrl`]
    /// on) those run once per saml-session, which reports [`Check::Clock`] too.
    pub const ALL: [Check; 23] = [
        Check::Config,
        Check::Sessions,
        Check::Profiles,
        Check::CredentialProcess,
        Check::ChainedRoles,
        Check::CachePermissions,
        Check::CredentialServer,
        Check::Browser,
        Check::Storage,
        Check::Token,
        Check::Refresh,
        Check::OidcEndpoint,
        Check::PortalEndpoint,
        Check::Network,
        Check::Clock,
        Check::StartUrlRegion,
        Check::Assignments,
        Check::SamlIdpUrl,
        Check::SamlReplyUrl,
        Check::SamlIdp,
        Check::SamlCertificate,
        Check::StsEndpoint,
        Check::SamlFailure,
    ];

    /// The name in the report (text and `--json`) and in `--help`.
    pub fn name(self) -> &'static str {
        match self {
            Check::Config => "config",
            Check::Sessions => "sessions",
            Check::Profiles => "profiles",
            Check::CredentialProcess => "credential-process",
            Check::ChainedRoles => "chained-roles",
            Check::CachePermissions => "cache-permissions",
            Check::CredentialServer => "credential-server",
            Check::Browser => "browser",
            Check::Token => "token",
            Check::Storage => "storage",
            Check::Refresh => "refresh",
            Check::OidcEndpoint => "oidc-endpoint",
            Check::PortalEndpoint => "portal-endpoint",
            Check::Network => "network",
            Check::Clock => "clock",
            Check::StartUrlRegion => "start-url-region",
            Check::Assignments => "assignments",
            Check::SamlIdpUrl => "saml-idp-url",
            Check::SamlReplyUrl => "saml-reply-url",
            Check::SamlIdp => "saml-idp",
            Check::SamlCertificate => "saml-certificate",
            Check::StsEndpoint => "sts-endpoint",
            Check::SamlFailure => "saml-failure",
        }
    }

    /// What the check looks at, for `--help`.
    pub fn summary(self) -> &'static str {
        match self {
            Check::Config => "the config file parses (what botocore refuses is a warning)",
            Check::Sessions => "the sessions asked for (or at least one) exist",
            Check::Profiles => "every sso-session and SSO profile is complete",
            Check::CredentialProcess => {
                "each credential_process running portico names a profile that exists"
            }
            Check::ChainedRoles => "each role_arn profile's source, STS, last AssumeRole failure",
            Check::CachePermissions => "token and credential caches are open to you only",
            Check::CredentialServer => {
                "the container-credentials URI, where set, answers and takes the token"
            }
            Check::Browser => "the command a sign-in would run, and whether its program exists",
            Check::Token => "signed in, and until when",
            Check::Storage => "where secrets are kept; a keyring: unlocked, item count",
            Check::Refresh => "the sign-in can be refreshed without a browser",
            Check::OidcEndpoint => "the OIDC endpoint answers",
            Check::PortalEndpoint => "the portal endpoint answers",
            Check::Network => {
                "each endpoint's proxy (and why), that it answers, TLS with the CA bundles"
            }
            Check::Clock => "this clock agrees with Identity Center's (STS's for a saml-session)",
            Check::StartUrlRegion => "Identity Center in sso_region knows the start URL",
            Check::Assignments => "at least one account is assigned to you",
            Check::SamlIdpUrl => {
                "idp_url has the shape https://login.microsoftonline.com/{tenant}/saml2"
            }
            Check::SamlReplyUrl => "the reply URL the sign-in listener uses, to register in Entra",
            Check::SamlIdp => "the identity provider answers",
            Check::SamlCertificate => {
                "its federation metadata's signing certificate has not expired"
            }
            Check::StsEndpoint => "the STS endpoint of sts_region answers",
            Check::SamlFailure => "the last SAML sign-in or STS failure, explained with its fix",
        }
    }

    /// What the check is about: the whole set-up, each sso-session, or each saml-session
    /// ([`Check::Clock`] runs for both kinds of session; `--help` lists it with the first).
    pub fn group(self) -> Group {
        match self {
            Check::Config
            | Check::Sessions
            | Check::Profiles
            | Check::CredentialProcess
            | Check::ChainedRoles
            | Check::CachePermissions
            | Check::CredentialServer => Group::Whole,
            Check::SamlIdpUrl
            | Check::SamlReplyUrl
            | Check::SamlIdp
            | Check::SamlCertificate
            | Check::StsEndpoint
            | Check::SamlFailure => Group::SamlSession,
            _ => Group::SsoSession,
        }
    }

    /// Whether the check runs once per sso-session (rather than once for the whole set-up).
    pub fn per_session(self) -> bool {
        self.group() == Group::SsoSession
    }

    /// The list of checks for `portico doctor --help`: one line each, name and summary.
    pub fn help_list() -> String {
        let width = Check::ALL.iter().map(|c| c.name().len()).max().unwrap_or(0);
        let line = |c: &Check| format!("  {:<width$}  {}\n", c.name(), c.summary());
        let group = |g: Group| -> String {
            Check::ALL
                .iter()
                .filter(|c| c.group() == g)
                .map(line)
                .collect()
        };
        format!(
            "Checks of the whole set-up:\n{}Checks of each sso-session:\n{}Checks of each saml-session (and clock, network):\n{}",
            group(Group::Whole),
            group(Group::SsoSession),
            group(Group::SamlSession)
        )
    }
}

impl fmt::Display for Check {
    /// The name, padded as the formatter asks (the text report aligns on it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl Serialize for Check {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    /// Not run, because something it needs failed (the message says what).
    Skip,
}

impl Status {
    fn symbol(self) -> &'static str {
        match self {
            Status::Pass => "✓",
            Status::Warn => "!",
            Status::Fail => "✗",
            Status::Skip => "-",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub check: Check,
    pub status: Status,
    pub message: String,
    /// What to do about it; `None` when there is nothing to do.
    pub fix: Option<String>,
    /// The session the check is about (`sso-session NAME` or `start URL …`); `None` for checks
    /// of the whole set-up.
    pub session: Option<String>,
}

/// The findings so far, and the session the next ones are about.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    session: Option<String>,
}

impl Report {
    fn add(&mut self, check: Check, status: Status, message: String, fix: Option<String>) {
        self.findings.push(Finding {
            check,
            status,
            message,
            fix,
            session: self.session.clone(),
        });
    }

    fn pass(&mut self, check: Check, message: String) {
        self.add(check, Status::Pass, message, None);
    }

    /// Whether any check failed.
    pub fn failed(&self) -> bool {
        self.findings.iter().any(|f| f.status == Status::Fail)
    }
}

/// Which sessions to check: every session of the config file, or the one an
/// `--sso-session` or `--profile` names.
#[derive(Debug, Default, Clone)]
pub struct Scope {
    pub sso_session: Option<String>,
    pub profile: Option<String>,
}

/// Runs every check and returns the report; [`Report::failed`] says whether any check failed.
pub fn run(env: &Environment, scope: &Scope) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let ctx = config::check_config(env, &mut report);
    if let Some(ctx) = &ctx {
        config::check_profiles(ctx, &mut report);
        config::check_credential_processes(ctx, &mut report);
        chain::check_chained_roles(ctx, &mut report);
    }
    files::check_cache_permissions(env, &mut report);
    server::check_credential_server(&server::ServerVars::from_process(), &mut report);
    if let Some(ctx) = &ctx {
        let sessions = config::select_sessions(ctx, scope, &mut report);
        // Every saml-session, unless the scope names an sso-session or a profile.
        let saml_sessions = if scope.sso_session.is_some() || scope.profile.is_some() {
            Vec::new()
        } else {
            ctx.saml_session_names()
        };
        if !sessions.is_empty() || !saml_sessions.is_empty() {
            let store = Store::from_env(env)?;
            let runtime = crate::engine::runtime()?;
            let budget = network::Budget::start();
            for session in &sessions {
                report.session = Some(session.label());
                browser::check_browser(ctx, session, &mut report);
                storage::check_storage(ctx, session, &env.portico_cache_dir()?, &mut report);
                runtime.block_on(network::check_session(
                    &store,
                    session,
                    &budget,
                    &mut report,
                ));
            }
            let assertions = crate::saml::AssertionStore::under(&env.portico_cache_dir()?);
            for name in &saml_sessions {
                report.session = Some(format!("saml-session {name}"));
                match ctx.saml_session(name) {
                    Ok(session) => {
                        storage::check_saml_storage(
                            session.storage,
                            &env.portico_cache_dir()?,
                            &mut report,
                        );
                        runtime.block_on(saml::check_saml_session(
                            &assertions,
                            &session,
                            &budget,
                            &mut report,
                        ))
                    }
                    Err(e) => {
                        let (message, fix) = split_fix(&e.to_string());
                        report.add(Check::SamlIdpUrl, Status::Fail, message, fix);
                    }
                }
            }
        }
    }
    Ok(report)
}

/// The report as text: one line per check (symbol, name, message) and an indented fix line.
pub fn print_text(out: &mut impl Write, findings: &[Finding]) -> std::io::Result<()> {
    let mut session: Option<&str> = None;
    for f in findings {
        if f.session.as_deref() != session {
            session = f.session.as_deref();
            if let Some(s) = session {
                writeln!(out, "\n{}", for_terminal(s))?;
            }
        }
        writeln!(
            out,
            "{} {:<18} {}",
            f.status.symbol(),
            f.check,
            for_terminal(&f.message)
        )?;
        if let Some(fix) = &f.fix {
            writeln!(out, "    fix: {}", for_terminal(fix))?;
        }
    }
    let count = |s: Status| findings.iter().filter(|f| f.status == s).count();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut parts = vec![
        format!("{} failed", count(Status::Fail)),
        plural(count(Status::Warn), "warning"),
        format!("{} passed", count(Status::Pass)),
    ];
    if count(Status::Skip) > 0 {
        parts.push(format!("{} skipped", count(Status::Skip)));
    }
    writeln!(out, "\n{}", parts.join(", "))
}

/// Splits "problem; what to do" (how portico's error messages read) into the two.
fn split_fix(text: &str) -> (String, Option<String>) {
    match text.split_once("; ") {
        Some((message, fix)) => (message.to_string(), Some(fix.to_string())),
        None => (text.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_has_one_name_and_a_line_in_the_help_list() {
        let help = Check::help_list();
        let mut names = std::collections::HashSet::new();
        for check in Check::ALL {
            assert!(names.insert(check.name()), "{} twice", check.name());
            let listed = help.lines().any(|line| {
                line.split_whitespace().next() == Some(check.name())
                    && line.ends_with(check.summary())
            });
            assert!(listed, "{} missing in:\n{help}", check.name());
            assert_eq!(format!("{check:<18}|"), format!("{:<18}|", check.name()));
            assert_eq!(
                serde_json::to_string(&check).unwrap(),
                format!("\"{}\"", check.name())
            );
        }
        assert_eq!(help.lines().count(), Check::ALL.len() + 3, "{help}");
    }

    #[test]
    fn fix_splitting() {
        assert_eq!(
            split_fix("a is wrong; do b; then c"),
            ("a is wrong".to_string(), Some("do b; then c".to_string()))
        );
        assert_eq!(split_fix("plain"), ("plain".to_string(), None));
    }

    #[test]
    fn text_report_has_symbols_fix_lines_and_a_summary() {
        let findings = vec![
            Finding {
                check: Check::Config,
                status: Status::Pass,
                message: "ok".into(),
                fix: None,
                session: None,
            },
            Finding {
                check: Check::Token,
                status: Status::Fail,
                message: "not signed in\u{1b}[2J".into(),
                fix: Some("run `portico login`".into()),
                session: Some("sso-session corp".into()),
            },
            Finding {
                check: Check::Clock,
                status: Status::Skip,
                message: "not checked".into(),
                fix: None,
                session: Some("sso-session corp".into()),
            },
        ];
        let mut out = Vec::new();
        print_text(&mut out, &findings).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "✓ config             ok\n\nsso-session corp\n✗ token              not signed in\u{fffd}[2J\n    fix: run `portico login`\n- clock              not checked\n\n1 failed, 0 warnings, 1 passed, 1 skipped\n"
        );
    }
}
