//! The checks of the config file: it parses (`config`), the sessions asked for exist
//! (`sessions`), every sso-session and SSO profile resolves (`profiles`), and every
//! `credential_process` that runs `portico credentials` names what exists
//! (`credential-process`).

use std::path::Path;

use super::{split_fix, Check, Report, Scope, Status};
use crate::awsconfig::LoadError;
use crate::settings::{Context, Environment, Selector, SettingsError, SsoSession};

pub(super) fn check_config(env: &Environment, report: &mut Report) -> Option<Context> {
    let path = match env.config_path() {
        Ok(path) => path,
        Err(e) => {
            let (message, fix) = split_fix(&e.to_string());
            report.add(Check::Config, Status::Fail, message, fix);
            return None;
        }
    };
    let shown = path.display();
    let ctx = match Context::load(env.clone()) {
        Ok(ctx) => ctx,
        Err(SettingsError::Config(LoadError::Parse(e))) => {
            report.add(
                Check::Config,
                Status::Fail,
                format!("{e} (the AWS CLI cannot read this file either)"),
                Some(format!("fix line {} of {shown}", e.line)),
            );
            return None;
        }
        Err(e) => {
            let (message, fix) = split_fix(&e.to_string());
            report.add(
                Check::Config,
                Status::Fail,
                message,
                fix.or(Some(format!("make {shown} readable"))),
            );
            return None;
        }
    };
    if !path.exists() {
        report.add(
            Check::Config,
            Status::Warn,
            format!("there is no config file at {shown}"),
            Some("run `portico configure` to add an sso-session".to_string()),
        );
        return Some(ctx);
    }
    let profiles = ctx.config.profile_names().len();
    let sessions = ctx.config.sso_session_names().len();
    report.pass(
        Check::Config,
        format!(
            "{shown} parses: {profiles} profile{}, {sessions} sso-session{}",
            if profiles == 1 { "" } else { "s" },
            if sessions == 1 { "" } else { "s" }
        ),
    );
    for warning in &ctx.config.warnings() {
        let (message, fix) = split_fix(warning);
        report.add(
            Check::Config,
            Status::Warn,
            message,
            fix.or(Some("merge the repeated sections or keys".to_string())),
        );
    }
    Some(ctx)
}

/// Every sso-session and every profile with SSO settings resolves.
pub(super) fn check_profiles(ctx: &Context, report: &mut Report) {
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
            report.add(Check::Sessions, Status::Fail, message, fix);
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
            report.add(Check::Profiles, Status::Fail, message, fix);
            problems += 1;
        }
    }
    if problems == 0 {
        report.pass(
            Check::Profiles,
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
pub(super) fn check_credential_processes(ctx: &Context, report: &mut Report) {
    use crate::awsconfig::credential_process::parse_portico_command;
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
            report.add(Check::CredentialProcess, Status::Fail, message, Some(fix));
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
                } else if let Err(e) = resolve(ctx, target) {
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
            (None, None, None) if cmd.saml_session.is_some() && cmd.role_arn.is_some() => {
                // The role the line names, resolved as `portico credentials` resolves it.
                if let Err(e) = resolve(ctx, name) {
                    let (message, fix) = split_fix(&e.to_string());
                    fail(
                        format!("profile {name}: credential_process names no usable SAML role: {message}"),
                        fix.unwrap_or_else(|| format!("fix [profile {name}] in {path}")),
                    );
                }
            }
            _ => {
                report.add(
                    Check::CredentialProcess,
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
            Check::CredentialProcess,
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

pub(super) fn select_sessions(
    ctx: &Context,
    scope: &Scope,
    report: &mut Report,
) -> Vec<SsoSession> {
    if scope.sso_session.is_some() || scope.profile.is_some() {
        let selector = Selector {
            profile: scope.profile.clone(),
            sso_session: scope.sso_session.clone(),
            ..Selector::default()
        };
        return match ctx.session(&selector) {
            Ok(session) => vec![session],
            Err(e) => {
                let (message, fix) = split_fix(&e.to_string());
                report.add(Check::Sessions, Status::Fail, message, fix);
                Vec::new()
            }
        };
    }
    // Broken sessions were reported by `check_profiles`.
    let sessions: Vec<SsoSession> = ctx.all_sessions().into_iter().flatten().collect();
    if sessions.is_empty()
        && ctx.config.sso_session_names().is_empty()
        && ctx.saml_session_names().is_empty()
    {
        report.add(
            Check::Sessions,
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

/// Profile `name` resolved as `portico credentials --profile NAME` resolves it (the engine's
/// one rule: its Identity Center keys, else the role its credential_process line names, a
/// loop refused), so that doctor passes exactly what the commands take.
fn resolve(ctx: &Context, name: &str) -> Result<(), SettingsError> {
    let wanted = crate::engine::Wanted::Profile {
        name: name.to_string(),
        origin: crate::settings::ProfileSource::CredentialProcess,
    };
    crate::engine::resolve(ctx, &wanted).map(drop)
}
