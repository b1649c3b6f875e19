//! The `token` and `refresh` checks: whether a session is signed in, until when, and whether
//! the sign-in can be refreshed without a browser.

use time::{Duration, OffsetDateTime};

use super::{split_fix, Check, Report, Status};
use crate::cache::token::{format_time, parse_time};
use crate::identity::{self, Store};
use crate::settings::SsoSession;

/// The token and refresh checks. Returns whether a token can be had without a login.
pub(super) fn check_token(
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
                Check::Token,
                Status::Fail,
                format!("not signed in (no token in {})", path.display()),
                Some(format!("run `{login}`")),
            );
            report.add(
                Check::Refresh,
                Status::Skip,
                "not checked: no token".to_string(),
                None,
            );
            return false;
        }
        Err(e) => {
            let (message, fix) = split_fix(&e.to_string());
            // Another tool's token is replaced only on request: its own fix says how.
            let fix = match e {
                crate::cache::token::CacheError::ForeignScopes { .. } => fix,
                _ => Some(format!("run `{login}` to replace it")),
            };
            report.add(Check::Token, Status::Fail, message, fix);
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
                        crate::output::duration::spoken(left)
                    ),
                    Some(format!("run `{login}` before it expires")),
                    true,
                )
            } else {
                (
                    Status::Pass,
                    format!(
                        "signed in until {} ({} left)",
                        format_time(at),
                        crate::output::duration::spoken(left)
                    ),
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
    report.add(Check::Token, status, message, fix);
    match refresh {
        None => {
            let until = token
                .registration_expires_at
                .as_deref()
                .and_then(parse_time)
                .map(format_time)
                .unwrap_or_default();
            report.pass(
                Check::Refresh,
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
                Check::Refresh,
                Status::Warn,
                format!("the sign-in cannot be refreshed ({why}), so you sign in again whenever it expires"),
                Some(fix),
            );
        }
    }
    usable
}
