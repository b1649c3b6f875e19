//! The `assignments` check: one ListAccounts page with the session's token, so that a user
//! with no account assigned (or not yet provisioned by SCIM) is told whom to ask.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration as StdDuration;

use super::network::seconds;
use super::{split_fix, Check, Report, Status};
use crate::identity::{self, IdentityError, OnMissing, Store};
use crate::sanitize::for_terminal;
use crate::settings::SsoSession;
use aws_sdk_sso::error::SdkError;
use aws_sdk_sso::operation::list_accounts::ListAccountsError;

pub(super) async fn check_assignments(
    store: &Store,
    session: &SsoSession,
    login: &str,
    limit: StdDuration,
    report: &mut Report,
) {
    let check = Check::Assignments;
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
        identity::access_token(store, session, &OnMissing::fail_by_environment()),
    )
    .await;
    let Ok(token) = token else {
        no_answer(report, "refreshing the token", &session.oidc_endpoint);
        return;
    };
    // The token is asked for first on its own, so that a missing sign-in reads as such; the
    // call below takes it again from the cache.
    match token {
        Ok(_) => {}
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
    // other failures keep the SDK's three attempts. The count of 429s outlives a timeout, so
    // that the finding says the service was throttling rather than silent.
    let throttled_calls = AtomicU32::new(0);
    let list = |token: crate::secret::Secret| {
        let client = client.clone();
        let throttled_calls = &throttled_calls;
        async move {
            let mut backoff = crate::sso::pacing::Backoff::new();
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
                throttled_calls.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(backoff.delay(throttles)).await;
            }
        }
    };
    // The service may have ended the token early: refresh it once and ask again, as every
    // command does, so that doctor reports what a command would meet.
    let refused = |result: &Result<_, SdkError<ListAccountsError, _>>| {
        result
            .as_ref()
            .err()
            .and_then(|e| e.as_service_error())
            .is_some_and(|e| e.is_unauthorized_exception())
    };
    let fail = OnMissing::fail_by_environment();
    let attempts = crate::engine::with_token(store, session, &fail, |token| {
        let list = &list;
        async move {
            let result = list(token).await;
            match refused(&result) {
                true => Err(crate::sso::SsoError::Unauthorized {
                    session: session.label(),
                    flags: String::new(),
                }),
                false => Ok(result),
            }
        }
    });
    let Ok(result) = tokio::time::timeout_at(until, attempts).await else {
        match throttled_calls.load(Ordering::Relaxed) {
            0 => no_answer(report, "ListAccounts", &session.portal_endpoint),
            n => report.add(
                check,
                Status::Fail,
                format!(
                    "Identity Center throttled ListAccounts (429 Too Many Requests, {n} time{}) and let no call through within {}",
                    if n == 1 { "" } else { "s" },
                    seconds(limit)
                ),
                Some(
                    "wait a minute and run `portico doctor` again; if it persists, another program \
                     (or many portico calls at once) is using up this account's Identity Center \
                     request rate"
                        .to_string(),
                ),
            ),
        }
        return;
    };
    let result = match result {
        Ok(result) => result,
        // Refused twice, or the token could not be renewed.
        Err(_) => {
            refused_sign_in(report, check, session, login);
            return;
        }
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
            report.add(
                check,
                Status::Fail,
                format!(
                    "ListAccounts failed: {}",
                    identity::describe_portal_error(&err, &session.portal_endpoint)
                ),
                Some("run `portico doctor -vv` again later".to_string()),
            );
        }
    }
}

fn refused_sign_in(report: &mut Report, check: Check, session: &SsoSession, login: &str) {
    report.add(
        check,
        Status::Fail,
        format!(
            "Identity Center refused the sign-in of {} (the token expired early or was revoked)",
            session.label()
        ),
        Some(format!("run `{login}`")),
    );
}
