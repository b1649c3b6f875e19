//! The `start-url-region` check: whether the Identity Center of `sso_region` knows the start
//! URL (a wrong `sso_region` is the most common set-up mistake), asked with one RegisterClient
//! naming the start URL as issuer, as `portico login` sends it — for a vanity URL, what it
//! resolves to (one request, as at sign-in; docs/protocol.md §6).

use std::time::Duration as StdDuration;

use super::network::seconds;
use super::{Check, Report, Status};
use crate::identity::IdentityError;
use crate::sanitize::for_terminal;
use crate::settings::SsoSession;

/// The redirect URI `portico login` registers (no port, as the AWS CLI registers it).
const REDIRECT_URI: &str = "http://127.0.0.1/oauth/callback";

pub(super) async fn check_start_url_region(
    session: &SsoSession,
    limit: StdDuration,
    report: &mut Report,
) {
    let check = Check::StartUrlRegion;
    let wire = match tokio::time::timeout(limit, crate::identity::resolve_start_url(session)).await
    {
        Ok(Ok(wire)) => wire,
        Ok(Err(e)) => {
            let (message, fix) = super::split_fix(&e.to_string());
            report.add(check, Status::Fail, message, fix);
            return;
        }
        Err(_) => {
            report.add(
                check,
                Status::Warn,
                format!(
                    "could not check: the start URL {} gave no answer within {}",
                    for_terminal(&session.start_url),
                    seconds(limit)
                ),
                Some("run `portico doctor` again later; if it stays slow, check the network (proxy, VPN)".to_string()),
            );
            return;
        }
    };
    if let Some(old) = &wire.moved_from {
        report.add(
            check,
            Status::Fail,
            format!(
                "the start URL {} redirects to {}, in region {}, but sso_region is {old}",
                for_terminal(&session.start_url),
                for_terminal(&wire.start_url),
                wire.session.region
            ),
            Some(format!(
                "set sso_region = {} (`portico login` does it when it signs in)",
                wire.session.region
            )),
        );
        return;
    }
    if let Some(url_region) = crate::model::start_url::region_of(&session.start_url) {
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
        .grant_types(crate::consts::GRANT_AUTHORIZATION_CODE)
        .grant_types(crate::consts::GRANT_REFRESH_TOKEN)
        .redirect_uris(REDIRECT_URI)
        .issuer_url(&wire.start_url);
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
                "Identity Center in {} knows the start URL {}{}",
                session.region,
                for_terminal(&session.start_url),
                if wire.start_url == session.start_url {
                    String::new()
                } else {
                    format!(" (it redirects to {})", for_terminal(&wire.start_url))
                }
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
            detail: crate::http::Unreached::Plain("no answer".to_string()),
        },
        _ => IdentityError::Service {
            operation: "RegisterClient",
            detail: "the answer could not be read".to_string(),
        },
    }
}
