//! `portico doctor`: checks the set-up end to end and says, for each problem, how to fix it.
//!
//! Checks, in order: the config file parses (botocore's refusals, such as repeated sections,
//! become warnings); every sso-session and SSO profile resolves; every `credential_process`
//! that runs `portico credentials` names a profile (or session) that exists; the token cache and
//! portico's credential cache are private (directories 0700, files 0600). Then per sso-session:
//! the token (present, expiry), whether it can be refreshed, whether the OIDC and portal
//! endpoints answer, the clock against the server's `Date` header, whether the region's Identity
//! Center knows the start URL (a wrong `sso_region` is the most common set-up mistake), and
//! whether at least one account is assigned.
//!
//! Network use is small and leaves nothing pending: one GET to each endpoint's root (any HTTP
//! answer counts as reachable, and carries the `Date` header), one RegisterClient naming the
//! start URL as issuer (what `portico login` sends; the service answers InvalidRequestException
//! when that region's Identity Center does not know the URL; the registration is not cached and
//! simply expires), and one ListAccounts page. Doctor never signs in and never edits the config
//! file; a token close to expiry is refreshed as by any command. Every network check is bounded
//! (see [`Budget`]): a service that hangs costs seconds, not the SDK's three long attempts.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use crate::awsconfig::LoadError;
use crate::cache::token::{format_time, parse_time};
use crate::cli::DoctorArgs;
use crate::exit::Exit;
use crate::identity::{self, IdentityError, OnMissing, Store};
use crate::sanitize::for_terminal;
use crate::settings::{Context, Environment, Selector, SettingsError, SsoSession};

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
    pub check: &'static str,
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
    fn add(&mut self, check: &'static str, status: Status, message: String, fix: Option<String>) {
        self.findings.push(Finding {
            check,
            status,
            message,
            fix,
            session: self.session.clone(),
        });
    }

    fn pass(&mut self, check: &'static str, message: String) {
        self.add(check, Status::Pass, message, None);
    }

    fn failed(&self) -> bool {
        self.findings.iter().any(|f| f.status == Status::Fail)
    }
}

pub fn run(args: &DoctorArgs) -> anyhow::Result<Exit> {
    let env = Environment::from_process();
    let mut report = Report::default();
    let ctx = check_config(&env, &mut report);
    if let Some(ctx) = &ctx {
        check_profiles(ctx, &mut report);
        check_credential_processes(ctx, &mut report);
    }
    check_cache_permissions(&env, &mut report);
    if let Some(ctx) = &ctx {
        let sessions = select_sessions(ctx, args, &mut report);
        if !sessions.is_empty() {
            let store = Store::from_env(&env)?;
            let runtime = super::runtime()?;
            let budget = Budget::start();
            for session in &sessions {
                report.session = Some(session.label());
                check_browser(ctx, session, &mut report);
                runtime.block_on(check_session(&store, session, &budget, &mut report));
            }
        }
    }

    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report.findings)?;
        writeln!(out)?;
    } else {
        print_text(&mut out, &report.findings)?;
    }
    Ok(if report.failed() {
        Exit::ChecksFailed
    } else {
        Exit::Ok
    })
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

// ---------------------------------------------------------------------------------------------
// The config file

fn check_config(env: &Environment, report: &mut Report) -> Option<Context> {
    let path = match env.config_path() {
        Ok(path) => path,
        Err(e) => {
            let (message, fix) = split_fix(&e.to_string());
            report.add("config", Status::Fail, message, fix);
            return None;
        }
    };
    let shown = path.display();
    let ctx = match Context::load(env.clone()) {
        Ok(ctx) => ctx,
        Err(SettingsError::Config(LoadError::Parse(e))) => {
            report.add(
                "config",
                Status::Fail,
                format!("{e} (the AWS CLI cannot read this file either)"),
                Some(format!("fix line {} of {shown}", e.line)),
            );
            return None;
        }
        Err(e) => {
            let (message, fix) = split_fix(&e.to_string());
            report.add(
                "config",
                Status::Fail,
                message,
                fix.or(Some(format!("make {shown} readable"))),
            );
            return None;
        }
    };
    if !path.exists() {
        report.add(
            "config",
            Status::Warn,
            format!("there is no config file at {shown}"),
            Some("run `portico configure` to add an sso-session".to_string()),
        );
        return Some(ctx);
    }
    let profiles = ctx.config.profile_names().len();
    let sessions = ctx.config.sso_session_names().len();
    report.pass(
        "config",
        format!(
            "{shown} parses: {profiles} profile{}, {sessions} sso-session{}",
            if profiles == 1 { "" } else { "s" },
            if sessions == 1 { "" } else { "s" }
        ),
    );
    for warning in &ctx.config.warnings() {
        let (message, fix) = split_fix(warning);
        report.add(
            "config",
            Status::Warn,
            message,
            fix.or(Some("merge the repeated sections or keys".to_string())),
        );
    }
    Some(ctx)
}

/// Every sso-session and every profile with SSO settings resolves.
fn check_profiles(ctx: &Context, report: &mut Report) {
    let mut problems = 0;
    let fallback_fix = |e: &SettingsError| {
        let (message, fix) = split_fix(&e.to_string());
        (
            message,
            fix.or(Some(format!("edit {}", ctx.config.path.display()))),
        )
    };
    let sessions = ctx.config.sso_session_names();
    for name in &sessions {
        if let Err(e) = ctx.named_session(name) {
            let (message, fix) = fallback_fix(&e);
            report.add("sessions", Status::Fail, message, fix);
            problems += 1;
        }
    }
    let mut sso_profiles = 0;
    for name in ctx.config.profile_names() {
        let Some(section) = ctx.config.profile(name) else {
            continue;
        };
        let has = |key| section.get(key).is_some();
        if !has("sso_session") && !has("sso_start_url") {
            continue;
        }
        sso_profiles += 1;
        let result = if has("sso_account_id") || has("sso_role_name") {
            ctx.role_profile(name).map(|_| ())
        } else {
            ctx.profile_session(name).map(|_| ())
        };
        if let Err(e) = result {
            let (message, fix) = fallback_fix(&e);
            report.add("profiles", Status::Fail, message, fix);
            problems += 1;
        }
    }
    if problems == 0 {
        report.pass(
            "profiles",
            format!(
                "{} sso-session{} and {sso_profiles} SSO profile{} are complete",
                sessions.len(),
                if sessions.len() == 1 { "" } else { "s" },
                if sso_profiles == 1 { "" } else { "s" }
            ),
        );
    }
}

/// Profiles whose credential_process runs `portico credentials` name something that exists.
fn check_credential_processes(ctx: &Context, report: &mut Report) {
    use super::profiles::parse_portico_command;
    let path = ctx.config.path.display();
    let mut users = 0;
    let mut problems = 0;
    for name in ctx.config.profile_names() {
        let Some(line) = ctx
            .config
            .profile(name)
            .and_then(|p| p.get("credential_process"))
        else {
            continue;
        };
        let Some(cmd) = parse_portico_command(line) else {
            continue;
        };
        users += 1;
        let mut fail = |message: String, fix: String| {
            report.add("credential-process", Status::Fail, message, Some(fix));
            problems += 1;
        };
        if cmd.program.contains('/') && !Path::new(&cmd.program).is_file() {
            fail(
                format!(
                    "profile {name}: credential_process runs {}, which does not exist",
                    cmd.program
                ),
                "point it at the installed portico, or re-run `portico profiles sync --credential-process`"
                    .to_string(),
            );
            continue;
        }
        match (&cmd.profile, &cmd.account, &cmd.role) {
            (Some(target), None, None) => {
                if ctx.config.profile(target).is_none() {
                    fail(
                        format!(
                            "profile {name}: credential_process asks for profile {target}, which is not in {path}"
                        ),
                        format!(
                            "add [profile {target}] (portico configure --profile {target} …) or change --profile in [profile {name}]"
                        ),
                    );
                } else if let Err(e) = ctx.role_profile(target) {
                    let (message, fix) = split_fix(&e.to_string());
                    fail(
                        format!("profile {name}: credential_process uses profile {target}, but {message}"),
                        fix.unwrap_or_else(|| format!("fix [profile {target}] in {path}")),
                    );
                }
            }
            (_, Some(_), Some(_)) => {
                let selector = Selector {
                    profile: cmd.profile.clone(),
                    sso_session: cmd.sso_session.clone(),
                    ..Selector::default()
                };
                if let Err(e) = ctx.session(&selector) {
                    let (message, fix) = split_fix(&e.to_string());
                    fail(
                        format!(
                            "profile {name}: credential_process names no usable session: {message}"
                        ),
                        fix.unwrap_or_else(|| "add --sso-session NAME to the line".to_string()),
                    );
                }
            }
            _ => {
                report.add(
                    "credential-process",
                    Status::Warn,
                    format!(
                        "profile {name}: credential_process runs portico credentials without --profile \
                         (or --account and --role), so it depends on AWS_PROFILE at run time"
                    ),
                    Some(format!(
                        "name the profile: credential_process = portico credentials --profile PROFILE (in [profile {name}])"
                    )),
                );
            }
        }
    }
    if problems == 0 {
        report.pass(
            "credential-process",
            match users {
                0 => "no profile uses portico as its credential_process".to_string(),
                1 => "1 profile uses portico as its credential_process and names what exists"
                    .to_string(),
                n => format!(
                    "{n} profiles use portico as their credential_process and name what exists"
                ),
            },
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Cache permissions

/// Permission bits other than the owner's.
fn open_to_others(mode: u32) -> bool {
    mode & 0o077 != 0
}

fn check_cache_permissions(env: &Environment, report: &mut Report) {
    // The AWS CLI creates ~/.aws/sso/cache with the umask (0755) and its files 0600: others can
    // list the hashed file names but read nothing, so an open folder there is a warning. The
    // folders portico creates are 0700, and anything else there is a failure.
    let mut dirs: Vec<(PathBuf, &str, Status)> = Vec::new();
    if let Ok(dir) = env.sso_cache_dir() {
        dirs.push((dir, "sign-in tokens", Status::Warn));
    }
    if let Ok(dir) = env.portico_cache_dir() {
        dirs.push((dir.join("credentials"), "role credentials", Status::Fail));
    }
    for (dir, what, open_dir) in dirs {
        check_private_dir(&dir, what, open_dir, report);
    }
}

/// Checks that `dir` and its files are open to the user only; `open_dir` is the verdict for a
/// folder others can list (its files are judged on their own).
#[cfg(unix)]
fn check_private_dir(dir: &Path, what: &str, open_dir: Status, report: &mut Report) {
    use std::os::unix::fs::PermissionsExt;
    let shown = dir.display();
    let mode = match std::fs::metadata(dir) {
        Ok(meta) => meta.permissions().mode() & 0o777,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            report.pass(
                "cache-permissions",
                format!("{shown} ({what}) does not exist yet; portico creates it 0700"),
            );
            return;
        }
        Err(e) => {
            report.add(
                "cache-permissions",
                Status::Warn,
                format!("cannot read {shown}: {e}"),
                Some(format!("check the ownership of {shown}")),
            );
            return;
        }
    };
    let mut problems = false;
    if open_to_others(mode) {
        problems = true;
        let consequence = if open_dir == Status::Fail {
            "other users on this machine can look into it"
        } else {
            "other users on this machine can list its (hashed) file names; the AWS CLI creates it so"
        };
        report.add(
            "cache-permissions",
            open_dir,
            format!("{shown} ({what}) is mode {mode:04o}: {consequence}"),
            Some(format!(
                "chmod 700 {}",
                super::profiles::shell_word(&dir.to_string_lossy())
            )),
        );
    }
    let mut open_files: Vec<(PathBuf, u32)> = Vec::new();
    let mut files = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            files += 1;
            let mode = meta.permissions().mode() & 0o777;
            if open_to_others(mode) {
                open_files.push((entry.path(), mode));
            }
        }
    }
    open_files.sort();
    if !open_files.is_empty() {
        problems = true;
        let listed: Vec<String> = open_files
            .iter()
            .take(3)
            .map(|(p, m)| format!("{} ({m:04o})", p.display()))
            .collect();
        let more = if open_files.len() > 3 {
            format!(" and {} more", open_files.len() - 3)
        } else {
            String::new()
        };
        let fix = if open_files.len() <= 3 {
            let quoted: Vec<String> = open_files
                .iter()
                .map(|(p, _)| super::profiles::shell_word(&p.to_string_lossy()))
                .collect();
            format!("chmod 600 {}", quoted.join(" "))
        } else {
            format!(
                "find {} -type f -exec chmod 600 {{}} +",
                super::profiles::shell_word(&dir.to_string_lossy())
            )
        };
        report.add(
            "cache-permissions",
            Status::Fail,
            format!(
                "{} file{} with {what} can be read by other users: {}{more}",
                open_files.len(),
                if open_files.len() == 1 { "" } else { "s" },
                listed.join(", ")
            ),
            Some(fix),
        );
    }
    if !problems {
        report.pass(
            "cache-permissions",
            format!(
                "{shown} ({what}) and its {files} file{} are open to you only",
                if files == 1 { "" } else { "s" }
            ),
        );
    }
}

#[cfg(not(unix))]
fn check_private_dir(_dir: &Path, _what: &str, _open_dir: Status, _report: &mut Report) {}

// ---------------------------------------------------------------------------------------------
// Sessions

fn select_sessions(ctx: &Context, args: &DoctorArgs, report: &mut Report) -> Vec<SsoSession> {
    if args.sso_session.is_some() || args.profile.is_some() {
        let selector = Selector {
            profile: args.profile.clone(),
            sso_session: args.sso_session.clone(),
            ..Selector::default()
        };
        return match ctx.session(&selector) {
            Ok(session) => vec![session],
            Err(e) => {
                let (message, fix) = split_fix(&e.to_string());
                report.add("sessions", Status::Fail, message, fix);
                Vec::new()
            }
        };
    }
    // Broken sessions were reported by `check_profiles`.
    let sessions: Vec<SsoSession> = ctx.all_sessions().into_iter().flatten().collect();
    if sessions.is_empty() && ctx.config.sso_session_names().is_empty() {
        report.add(
            "sessions",
            Status::Fail,
            format!(
                "{} has no Identity Center session",
                ctx.config.path.display()
            ),
            Some("run `portico configure` to add an sso-session".to_string()),
        );
    }
    sessions
}

/// How long doctor's network checks may take: each one at most [`CHECK_LIMIT`] (or one
/// `PORTICO_HTTP_TIMEOUT`, if shorter), all of them together at most [`NETWORK_BUDGET`], so
/// that a service that does not answer costs seconds, not the SDK's three long attempts.
struct Budget {
    until: Instant,
}

/// The longest one network check (a probe pair, RegisterClient, the assignments) may take.
const CHECK_LIMIT: StdDuration = StdDuration::from_secs(8);
/// The longest all network checks together may take: one session's three checks at their
/// limit. A whole run stays under 30 s.
const NETWORK_BUDGET: StdDuration = StdDuration::from_secs(24);
/// Less time than this left in the budget is not worth starting a check for.
const TOO_LITTLE: StdDuration = StdDuration::from_millis(500);

impl Budget {
    fn start() -> Budget {
        Budget {
            until: Instant::now() + NETWORK_BUDGET,
        }
    }

    /// How long the next check may take, or `None` when the budget is spent.
    fn next(&self) -> Option<StdDuration> {
        let left = self.until.saturating_duration_since(Instant::now());
        (left >= TOO_LITTLE).then(|| left.min(CHECK_LIMIT.min(crate::aws::attempt_timeout())))
    }

    fn skip(report: &mut Report, check: &'static str) {
        report.add(
            check,
            Status::Skip,
            format!(
                "not checked: doctor's network checks used up their {} s",
                NETWORK_BUDGET.as_secs()
            ),
            Some("run `portico doctor --sso-session NAME` to check one session".to_string()),
        );
    }
}

/// `8 s`, `0.5 s`.
fn seconds(d: StdDuration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

async fn check_session(store: &Store, session: &SsoSession, budget: &Budget, report: &mut Report) {
    let now = OffsetDateTime::now_utc();
    let login = format!("portico login {}", session.selector_flags());
    let token_usable = check_token(store, session, now, &login, report);

    let Some(limit) = budget.next() else {
        for check in [
            "oidc-endpoint",
            "portal-endpoint",
            "clock",
            "start-url-region",
            "assignments",
        ] {
            Budget::skip(report, check);
        }
        return;
    };
    let (oidc, portal) = tokio::join!(
        probe(&session.oidc_endpoint, limit),
        probe(&session.portal_endpoint, limit)
    );
    for (check, service, endpoint, result) in [
        ("oidc-endpoint", "OIDC", &session.oidc_endpoint, &oidc),
        (
            "portal-endpoint",
            "portal",
            &session.portal_endpoint,
            &portal,
        ),
    ] {
        match result {
            Ok(p) => report.pass(
                check,
                format!(
                    "the {service} endpoint {endpoint} answered (HTTP {}) in {} ms",
                    p.status,
                    p.elapsed.as_millis()
                ),
            ),
            Err(detail) => {
                report.add(
                    check,
                    Status::Fail,
                    format!("cannot reach the {service} endpoint {endpoint}: {detail}"),
                    Some(endpoint_fix(session, check == "oidc-endpoint")),
                );
            }
        }
    }

    match oidc.as_ref().ok().or(portal.as_ref().ok()) {
        None => report.add(
            "clock",
            Status::Skip,
            "not checked: no endpoint answered".to_string(),
            None,
        ),
        Some(p) => match p.date {
            None => report.add(
                "clock",
                Status::Skip,
                "not checked: the answer carried no Date header".to_string(),
                None,
            ),
            Some(server) => {
                let (status, message) = clock_finding(p.sent, p.received, server);
                let fix = (status != Status::Pass).then(|| {
                    "turn on time synchronisation (`sudo timedatectl set-ntp true` on Linux, \
                     Settings → Date & Time → Set automatically on macOS and Windows); token and \
                     credential expiry are judged by this clock"
                        .to_string()
                });
                report.add("clock", status, message, fix);
            }
        },
    }

    if oidc.is_ok() {
        match budget.next() {
            Some(limit) => check_start_url_region(session, limit, report).await,
            None => Budget::skip(report, "start-url-region"),
        }
    } else {
        report.add(
            "start-url-region",
            Status::Skip,
            "not checked: the OIDC endpoint cannot be reached".to_string(),
            None,
        );
    }

    if portal.is_err() {
        report.add(
            "assignments",
            Status::Skip,
            "not checked: the portal endpoint cannot be reached".to_string(),
            None,
        );
    } else if !token_usable {
        report.add(
            "assignments",
            Status::Skip,
            "not checked: no usable sign-in (see token)".to_string(),
            None,
        );
    } else {
        match budget.next() {
            Some(limit) => check_assignments(store, session, &login, limit, report).await,
            None => Budget::skip(report, "assignments"),
        }
    }
}

/// The token and refresh checks. Returns whether a token can be had without a login.
fn check_token(
    store: &Store,
    session: &SsoSession,
    now: OffsetDateTime,
    login: &str,
    report: &mut Report,
) -> bool {
    let path = store.tokens.token_path(session);
    let token = match store.tokens.load_token(session) {
        Ok(Some(token)) => token,
        Ok(None) => {
            report.add(
                "token",
                Status::Fail,
                format!("not signed in (no token in {})", path.display()),
                Some(format!("run `{login}`")),
            );
            report.add(
                "refresh",
                Status::Skip,
                "not checked: no token".to_string(),
                None,
            );
            return false;
        }
        Err(e) => {
            let (message, _) = split_fix(&e.to_string());
            report.add(
                "token",
                Status::Fail,
                message,
                Some(format!("run `{login}` to replace it")),
            );
            return false;
        }
    };
    // Includes a refresh Identity Center refused since the last sign-in.
    let outlook = identity::refresh_outlook(store, session, &token, now);
    let refresh = outlook.as_deref();
    let (status, message, fix, usable) = match token.expires_at() {
        None => (
            Status::Fail,
            format!(
                "the token in {} has an unreadable expiry \"{}\"",
                path.display(),
                token.expires_at
            ),
            Some(format!("run `{login}` to replace it")),
            false,
        ),
        Some(at) if at > now => {
            let left = at - now;
            if refresh.is_some() && left < Duration::hours(1) {
                (
                    Status::Warn,
                    format!(
                        "signed in until {} ({} left) and the sign-in cannot be refreshed",
                        format_time(at),
                        human(left)
                    ),
                    Some(format!("run `{login}` before it expires")),
                    true,
                )
            } else {
                (
                    Status::Pass,
                    format!("signed in until {} ({} left)", format_time(at), human(left)),
                    None,
                    true,
                )
            }
        }
        Some(at) => match &refresh {
            None => (
                Status::Pass,
                format!(
                    "the access token expired at {}; portico refreshes it on next use",
                    format_time(at)
                ),
                None,
                true,
            ),
            Some(why) => (
                Status::Fail,
                format!(
                    "the sign-in expired at {} and cannot be refreshed: {why}",
                    format_time(at)
                ),
                Some(format!("run `{login}`")),
                false,
            ),
        },
    };
    // One verdict for the token: a token of another start URL turns a pass into a warning.
    let (status, message, fix) = match token.start_url.as_ref() {
        Some(url) if *url != session.start_url => (
            if status == Status::Pass {
                Status::Warn
            } else {
                status
            },
            format!(
                "{message}, but the cached token was issued for start URL {url}, not the session's {}",
                session.start_url
            ),
            fix.or_else(|| Some(format!("run `{login}` to sign in to the configured start URL"))),
        ),
        _ => (status, message, fix),
    };
    report.add("token", status, message, fix);
    match refresh {
        None => {
            let until = token
                .registration_expires_at
                .as_deref()
                .and_then(parse_time)
                .map(format_time)
                .unwrap_or_default();
            report.pass(
                "refresh",
                format!("the sign-in can be refreshed without a browser (client registration valid until {until})"),
            );
        }
        Some(why) => {
            let fix = if session.name.is_none() {
                "move the start URL into an [sso-session] (`portico configure`) and sign in again"
                    .to_string()
            } else if session.scopes.iter().any(|s| s == "sso:account:access") {
                format!("run `{login}` to get a refresh token")
            } else {
                format!(
                    "add `sso_registration_scopes = sso:account:access` to [{}], then run `{login}`",
                    crate::awsconfig::edit::SectionId::sso_session(
                        session.name.clone().unwrap_or_default()
                    )
                )
            };
            report.add(
                "refresh",
                Status::Warn,
                format!("the sign-in cannot be refreshed ({why}), so you sign in again whenever it expires"),
                Some(fix),
            );
        }
    }
    usable
}

fn endpoint_fix(session: &SsoSession, oidc: bool) -> String {
    let (default, var) = if oidc {
        (
            format!("https://oidc.{}.amazonaws.com", session.region),
            "AWS_ENDPOINT_URL_SSO_OIDC",
        )
    } else {
        (
            format!("https://portal.sso.{}.amazonaws.com", session.region),
            "AWS_ENDPOINT_URL_SSO",
        )
    };
    let endpoint = if oidc {
        &session.oidc_endpoint
    } else {
        &session.portal_endpoint
    };
    if *endpoint == default {
        format!(
            "check the network (proxy, firewall, VPN) and that sso_region {} is the region your Identity Center is in",
            session.region
        )
    } else {
        format!("check {var} (or AWS_ENDPOINT_URL), which points portico at {endpoint}")
    }
}

/// How far this machine's clock is from the server's, judged from a `Date` header (whole
/// seconds) received between `sent` and `received`; the allowance covers both uncertainties.
pub fn clock_finding(
    sent: OffsetDateTime,
    received: OffsetDateTime,
    server: OffsetDateTime,
) -> (Status, String) {
    let half: Duration = (received - sent) / 2;
    let local = sent + half;
    // The header is truncated to the second: the server's time was in [server, server + 1 s).
    let skew: Duration = local - (server + Duration::milliseconds(500));
    let allowance = half + Duration::milliseconds(500);
    let beyond = (skew.abs() - allowance).max(Duration::ZERO);
    let direction = if skew.is_positive() {
        "ahead of"
    } else {
        "behind"
    };
    if beyond <= Duration::seconds(60) {
        return (
            Status::Pass,
            format!(
                "this clock is within {} of Identity Center's",
                human(skew.abs().max(Duration::seconds(1)))
            ),
        );
    }
    let text = format!(
        "this clock is {} {direction} Identity Center's (server time {})",
        human(beyond),
        format_time(server)
    );
    if beyond <= Duration::minutes(5) {
        (Status::Warn, text)
    } else {
        (
            Status::Fail,
            format!("{text}: token and credential expiry are misjudged by that much"),
        )
    }
}

/// `3 h 12 min`, `5 min 3 s`, `42 s`.
fn human(d: Duration) -> String {
    let secs = d.whole_seconds().max(0);
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s} s"),
        (0, m) if s == 0 => format!("{m} min"),
        (0, m) => format!("{m} min {s} s"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// An HTTP `Date` header (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn parse_http_date(text: &str) -> Option<OffsetDateTime> {
    PrimitiveDateTime::parse(
        text.trim(),
        format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        ),
    )
    .ok()
    .map(PrimitiveDateTime::assume_utc)
}

/// What one GET to an endpoint's root brought back.
#[derive(Debug, Clone)]
struct Probe {
    status: u16,
    date: Option<OffsetDateTime>,
    sent: OffsetDateTime,
    received: OffsetDateTime,
    elapsed: StdDuration,
}

/// One GET to `{endpoint}/` within `limit`; any HTTP answer counts. Plain HTTP only for
/// `http://` endpoints.
async fn probe(endpoint: &str, limit: StdDuration) -> Result<Probe, String> {
    let uri: hyper::Uri = format!("{}/", endpoint.trim_end_matches('/'))
        .parse()
        .map_err(|_| "not a URL".to_string())?;
    let sent = OffsetDateTime::now_utc();
    let started = Instant::now();
    let answer = if uri.scheme_str() == Some("http") {
        get_head(HttpConnector::new(), uri, limit).await
    } else {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| format!("no usable root certificates: {e}"))?
            .https_only()
            .enable_http1()
            .build();
        get_head(https, uri, limit).await
    };
    let (status, date) = answer?;
    Ok(Probe {
        status,
        date: date.as_deref().and_then(parse_http_date),
        sent,
        received: OffsetDateTime::now_utc(),
        elapsed: started.elapsed(),
    })
}

async fn get_head<C>(
    connector: C,
    uri: hyper::Uri,
    limit: StdDuration,
) -> Result<(u16, Option<String>), String>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    let client: Client<C, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let response = tokio::time::timeout(limit, client.get(uri))
        .await
        .map_err(|_| format!("no answer within {}", seconds(limit)))?
        .map_err(|e| root_cause(&e))?;
    let date = response
        .headers()
        .get(hyper::header::DATE)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    Ok((response.status().as_u16(), date))
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    for_terminal(&current.to_string())
}

/// The redirect URI `portico login` registers (no port, as the AWS CLI registers it).
const REDIRECT_URI: &str = "http://127.0.0.1/oauth/callback";

async fn check_start_url_region(session: &SsoSession, limit: StdDuration, report: &mut Report) {
    let check = "start-url-region";
    if let Some(url_region) = super::configure::start_url_region(&session.start_url) {
        if url_region != session.region {
            report.add(
                check,
                Status::Fail,
                format!(
                    "the start URL {} is in region {url_region}, but sso_region is {}",
                    session.start_url, session.region
                ),
                Some(format!("set sso_region = {url_region}")),
            );
            return;
        }
    }
    let client = crate::aws::oidc_client(session);
    let mut request = client
        .register_client()
        .client_name("portico-doctor")
        .client_type("public")
        .grant_types(identity::GRANT_AUTHORIZATION_CODE)
        .grant_types(identity::GRANT_REFRESH_TOKEN)
        .redirect_uris(REDIRECT_URI)
        .issuer_url(&session.start_url);
    if !session.scopes.is_empty() {
        request = request.set_scopes(Some(session.scopes.clone()));
    }
    let Ok(answer) = tokio::time::timeout(limit, request.send()).await else {
        report.add(
            check,
            Status::Warn,
            format!(
                "could not check: RegisterClient had no answer from {} within {}",
                session.oidc_endpoint,
                seconds(limit)
            ),
            Some("run `portico doctor` again later; if it stays slow, check the network (proxy, VPN)".to_string()),
        );
        return;
    };
    match answer {
        Ok(_) => report.pass(
            check,
            format!(
                "Identity Center in {} knows the start URL {}",
                session.region, session.start_url
            ),
        ),
        Err(err) => {
            use aws_sdk_ssooidc::error::ProvideErrorMetadata;
            match err.as_service_error() {
                Some(e) if e.is_invalid_request_exception() => report.add(
                    check,
                    Status::Fail,
                    format!(
                        "wrong sso_region: Identity Center in {} does not know the start URL {} ({})",
                        session.region,
                        session.start_url,
                        for_terminal(e.message().unwrap_or("InvalidRequestException"))
                    ),
                    Some(
                        "set sso_region to the region your Identity Center lives in (IAM Identity Center \
                         console → Settings → Region) and check the start URL (Settings → AWS access portal URL)"
                            .to_string(),
                    ),
                ),
                Some(e) => report.add(
                    check,
                    Status::Warn,
                    format!(
                        "could not check: RegisterClient answered {}: {}",
                        e.code().unwrap_or("an error"),
                        for_terminal(e.message().unwrap_or("no message"))
                    ),
                    Some("run `portico doctor` again later".to_string()),
                ),
                None => report.add(
                    check,
                    Status::Warn,
                    format!(
                        "could not check: {}",
                        identity_error(session, &err)
                    ),
                    Some("run `portico doctor` again later".to_string()),
                ),
            }
        }
    }
}

fn identity_error<E, R>(
    session: &SsoSession,
    err: &aws_sdk_ssooidc::error::SdkError<E, R>,
) -> IdentityError {
    match err {
        aws_sdk_ssooidc::error::SdkError::DispatchFailure(_)
        | aws_sdk_ssooidc::error::SdkError::TimeoutError(_) => IdentityError::Network {
            endpoint: session.oidc_endpoint.clone(),
            detail: "no answer".to_string(),
        },
        _ => IdentityError::Service {
            operation: "RegisterClient",
            detail: "the answer could not be read".to_string(),
        },
    }
}

async fn check_assignments(
    store: &Store,
    session: &SsoSession,
    login: &str,
    limit: StdDuration,
    report: &mut Report,
) {
    let check = "assignments";
    // The token (refreshed if it is near its end) and ListAccounts share one limit.
    let until = tokio::time::Instant::now() + limit;
    let no_answer = |report: &mut Report, what: &str, endpoint: &str| {
        report.add(
            check,
            Status::Fail,
            format!("{what} had no answer from {endpoint} within {}", seconds(limit)),
            Some("run `portico doctor` again later; if it stays slow, check the network (proxy, VPN)".to_string()),
        );
    };
    let token = tokio::time::timeout_at(
        until,
        identity::access_token(store, session, &OnMissing::Fail),
    )
    .await;
    let Ok(token) = token else {
        no_answer(report, "refreshing the token", &session.oidc_endpoint);
        return;
    };
    let token = match token {
        Ok(token) => token,
        Err(IdentityError::LoginRequired { reason, command }) => {
            report.add(
                check,
                Status::Skip,
                format!("not checked: {reason}"),
                Some(format!("run `{command}`")),
            );
            return;
        }
        Err(e) => {
            let (message, fix) = split_fix(&e.to_string());
            report.add(
                check,
                Status::Fail,
                format!("cannot get a token to ask with: {message}"),
                fix,
            );
            return;
        }
    };
    let client = crate::aws::portal_client(
        session,
        aws_sdk_sso::config::retry::RetryConfig::standard().with_max_attempts(3),
    );
    // Throttling is retried for as long as the check's limit allows, as the commands do;
    // other failures keep the SDK's three attempts.
    let list = |token: crate::secret::Secret| {
        let client = client.clone();
        async move {
            let mut backoff = crate::portal::pacing::Backoff::new();
            let mut throttles = 0;
            loop {
                let result = client
                    .list_accounts()
                    .access_token(token.expose())
                    .max_results(100)
                    .send()
                    .await;
                let throttled = result
                    .as_ref()
                    .err()
                    .and_then(|e| e.as_service_error())
                    .is_some_and(|e| e.is_too_many_requests_exception());
                if !throttled {
                    return result;
                }
                throttles += 1;
                tokio::time::sleep(backoff.delay(throttles)).await;
            }
        }
    };
    let result = tokio::time::timeout_at(until, async {
        let first = list(token).await;
        let refused = first
            .as_ref()
            .err()
            .and_then(|e| e.as_service_error())
            .is_some_and(|e| e.is_unauthorized_exception());
        if !refused {
            return first;
        }
        // The service ended the token early: refresh it once and ask again, as every command
        // does, so that doctor reports what a command would meet.
        if identity::forget_access_token(store, session).is_err() {
            return first;
        }
        match identity::access_token(store, session, &OnMissing::Fail).await {
            Ok(token) => list(token).await,
            Err(_) => first,
        }
    })
    .await;
    let Ok(result) = result else {
        no_answer(report, "ListAccounts", &session.portal_endpoint);
        return;
    };
    match result {
        Ok(page) => {
            let accounts = page.account_list();
            if accounts.is_empty() && page.next_token().is_none() {
                report.add(
                    check,
                    Status::Fail,
                    format!(
                        "no AWS account is assigned to you in {}: an administrator has not assigned you a \
                         permission set yet, or SCIM has not provisioned your user (or its groups) from \
                         Entra ID yet",
                        session.label()
                    ),
                    Some(
                        "ask your AWS administrator to assign you (or a group of yours) a permission set in \
                         an account, and to check SCIM provisioning; then run `portico list --refresh`"
                            .to_string(),
                    ),
                );
            } else {
                let more = if page.next_token().is_some() { "+" } else { "" };
                let first = accounts
                    .first()
                    .and_then(|a| a.account_name())
                    .map(|n| format!(" (first: {})", for_terminal(n)))
                    .unwrap_or_default();
                report.pass(
                    check,
                    format!(
                        "{}{more} account{} assigned to you{first}",
                        accounts.len(),
                        if accounts.len() == 1 && more.is_empty() {
                            " is"
                        } else {
                            "s are"
                        }
                    ),
                );
            }
        }
        Err(err) => {
            let unauthorized = err
                .as_service_error()
                .is_some_and(|e| e.is_unauthorized_exception());
            if unauthorized {
                report.add(
                    check,
                    Status::Fail,
                    format!(
                        "Identity Center refused the sign-in of {} (the token expired early or was revoked)",
                        session.label()
                    ),
                    Some(format!("run `{login}`")),
                );
            } else {
                report.add(
                    check,
                    Status::Fail,
                    format!(
                        "ListAccounts failed: {}",
                        identity::describe_portal_error(&err)
                    ),
                    Some("run `portico doctor -vv` again later".to_string()),
                );
            }
        }
    }
}

/// The browser `portico login` would open for this session (its `portico_browser` and what
/// is above it: PORTICO_BROWSER, BROWSER, the system default), and whether its program exists.
fn check_browser(ctx: &Context, session: &SsoSession, report: &mut Report) {
    let check = "browser";
    let setting = ctx.browser_setting(None, None, session.name.as_deref());
    let origin = setting.origin.to_string();
    let fix_setting = match &session.name {
        Some(name) => format!(
            "install that browser, or set `portico_browser = …` in [sso-session {name}] (or PORTICO_BROWSER) to one that is installed; see portico login --help"
        ),
        None => "install that browser, or set PORTICO_BROWSER to one that is installed; see portico login --help".to_string(),
    };
    check_browser_keys_agree(ctx, session, report);
    let browser = match crate::identity::Browser::from_setting(&setting) {
        Ok(browser) => browser,
        Err(e) => {
            report.add(check, Status::Fail, e.to_string(), Some(fix_setting));
            return;
        }
    };
    let container = session.name.as_deref().unwrap_or("portico");
    let line = browser.command_line(container);
    if let crate::identity::BrowserAvailability::No(why) = browser.availability() {
        let what = match &line {
            Ok(line) => format!("{line} ({origin})"),
            Err(_) => origin,
        };
        let message = if browser.is_none() {
            format!("{what}: portico login prints the sign-in URL")
        } else {
            format!("{what}; {why}, so portico login uses the device code")
        };
        report.pass(check, message);
        return;
    }
    match line {
        Ok(line) => report.pass(check, format!("portico login would run {line} ({origin})")),
        Err(e) => report.add(check, Status::Fail, e.to_string(), Some(fix_setting)),
    }
}

/// botocore (the AWS CLI, boto3) refuses a profile in which a key of its sso-session has
/// another value, `portico_browser` included: such a profile breaks every AWS tool.
fn check_browser_keys_agree(ctx: &Context, session: &SsoSession, report: &mut Report) {
    let key = crate::settings::BROWSER_KEY;
    let Some(name) = &session.name else {
        return;
    };
    let Some(own) = ctx.config.sso_session(name).and_then(|s| s.get(key)) else {
        return;
    };
    for profile in ctx.config.profile_names() {
        let Some(section) = ctx.config.profile(profile) else {
            continue;
        };
        if section.get("sso_session") != Some(name.as_str()) {
            continue;
        }
        if let Some(theirs) = section.get(key).filter(|v| *v != own) {
            report.add(
                "browser",
                Status::Fail,
                format!(
                    "[profile {profile}] sets {key} = {} but its [sso-session {name}] says {}: the AWS CLI and boto3 refuse such a profile (InvalidConfigError)",
                    for_terminal(theirs),
                    for_terminal(own)
                ),
                Some(format!(
                    "remove {key} from [profile {profile}] (the sso-session's applies to it), or from [sso-session {name}]"
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn http_dates_parse() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(datetime!(1994-11-06 08:49:37 UTC))
        );
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_http_date(""), None);
    }

    #[test]
    fn clock_skew_is_judged_with_allowances() {
        let t = datetime!(2026-03-01 12:00:00 UTC);
        let ms = Duration::milliseconds;
        // Same clock, answer in 200 ms: pass.
        let (s, m) = clock_finding(t, t + ms(200), t);
        assert_eq!(s, Status::Pass, "{m}");
        // 90 s ahead: warn; 10 min behind: fail.
        let (s, m) = clock_finding(t, t + ms(200), t - Duration::seconds(90));
        assert_eq!(s, Status::Warn);
        assert!(m.contains("ahead of"), "{m}");
        let (s, m) = clock_finding(t, t + ms(200), t + Duration::minutes(10));
        assert_eq!(s, Status::Fail);
        assert!(m.contains("behind") && m.contains("misjudged"), "{m}");
        // A slow answer widens the allowance: 61 s off with a 4 s round trip still passes.
        let (s, _) = clock_finding(
            t,
            t + Duration::seconds(4),
            t - Duration::seconds(61) + ms(2000),
        );
        assert_eq!(s, Status::Pass);
    }

    #[test]
    fn the_network_budget_bounds_each_check_and_all_of_them() {
        let fresh = Budget::start();
        let limit = fresh.next().unwrap();
        assert!(limit <= CHECK_LIMIT, "{limit:?}");
        let nearly_spent = Budget {
            until: Instant::now() + StdDuration::from_secs(2),
        };
        assert!(nearly_spent.next().unwrap() <= StdDuration::from_secs(2));
        let spent = Budget {
            until: Instant::now() + TOO_LITTLE / 2,
        };
        assert_eq!(spent.next(), None);
        let mut report = Report::default();
        Budget::skip(&mut report, "assignments");
        assert_eq!(report.findings[0].status, Status::Skip);
        assert!(report.findings[0].message.contains("24 s"));
        assert_eq!(seconds(StdDuration::from_millis(500)), "0.5 s");
        assert_eq!(seconds(StdDuration::from_secs(8)), "8 s");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human(Duration::seconds(42)), "42 s");
        assert_eq!(human(Duration::seconds(300)), "5 min");
        assert_eq!(human(Duration::seconds(303)), "5 min 3 s");
        assert_eq!(human(Duration::seconds(3 * 3600 + 720 + 5)), "3 h 12 min");
    }

    #[test]
    fn modes_and_fix_splitting() {
        assert!(!open_to_others(0o600));
        assert!(!open_to_others(0o700));
        assert!(open_to_others(0o644));
        assert!(open_to_others(0o750));
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
                check: "config",
                status: Status::Pass,
                message: "ok".into(),
                fix: None,
                session: None,
            },
            Finding {
                check: "token",
                status: Status::Fail,
                message: "not signed in\u{1b}[2J".into(),
                fix: Some("run `portico login`".into()),
                session: Some("sso-session corp".into()),
            },
            Finding {
                check: "clock",
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
