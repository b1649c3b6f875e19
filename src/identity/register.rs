//! Client registration (RegisterClient), cached beside the tokens under the AWS CLI's file name
//! and reused while more than 15 minutes remain and the grant types fit the flow.
//!
//! The AWS CLI reuses that file too, by its own rules: its device flow takes any live
//! registration without the `authorization_code` grant (so portico's device registration serves
//! it), its browser flow only one with it. A registration the AWS CLI made that portico cannot
//! use — the device flow's without `sso:account:access` (no refresh token would come), or the
//! browser flow's for portico's device flow — is left where it is while it lives: portico then
//! keeps a registration of its own in its cache under the same name, and reuses that. Taking
//! the shared file instead would make each tool register again every time the other had signed
//! in last.

use time::OffsetDateTime;

use super::errors::from_sdk;
use super::vanity::Wire;
use super::{IdentityError, Store};
use crate::cache::token::{format_time, Registration};
use crate::consts::{GRANT_AUTHORIZATION_CODE, GRANT_DEVICE_CODE, GRANT_REFRESH_TOKEN};
use crate::secret::Secret;
use crate::settings::SsoSession;

/// The redirect URI registered for the browser flow: no port, as the AWS CLI registers it; the
/// authorize request and the token exchange carry the real port.
pub const REDIRECT_URI: &str = "http://127.0.0.1/oauth/callback";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Pkce,
    Device,
}

impl Flow {
    fn grants(self) -> [&'static str; 2] {
        match self {
            Flow::Pkce => [GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN],
            Flow::Device => [GRANT_DEVICE_CODE, GRANT_REFRESH_TOKEN],
        }
    }
}

/// A registration usable for `flow`: the cached one, or a new one (then cached).
pub async fn client_for(
    client: &aws_sdk_ssooidc::Client,
    store: &Store,
    wire: &Wire,
    flow: Flow,
) -> Result<Registration, IdentityError> {
    let session = &wire.session;
    let grants = flow.grants();
    let now = OffsetDateTime::now_utc();
    if let Some(cached) = store.tokens.load_registration(session) {
        if cached.usable_for(&grants, &session.scopes, now) {
            crate::debug!("reusing the cached client registration");
            return Ok(cached);
        }
    }
    if let Some(own) = store.own_registrations.load_registration(session) {
        if own.usable_for(&grants, &session.scopes, now) {
            crate::debug!(
                "reusing portico's own client registration (the shared one is another tool's)"
            );
            return Ok(own);
        }
    }
    register_new(client, store, wire, flow).await
}

/// Registers a new client and caches it, replacing any cached one (used when the service no
/// longer knows the cached client).
pub async fn register_new(
    client: &aws_sdk_ssooidc::Client,
    store: &Store,
    wire: &Wire,
    flow: Flow,
) -> Result<Registration, IdentityError> {
    let session = &wire.session;
    let grants = flow.grants();
    crate::info!(
        "registering a client with Identity Center ({} flow)",
        match flow {
            Flow::Pkce => "browser",
            Flow::Device => "device code",
        }
    );
    let mut request = client
        .register_client()
        .client_name(format!(
            "portico-{}",
            session.name.as_deref().unwrap_or("legacy")
        ))
        .client_type("public")
        .set_grant_types(Some(grants.iter().map(|g| g.to_string()).collect()));
    if !session.scopes.is_empty() {
        request = request.set_scopes(Some(session.scopes.clone()));
    }
    if flow == Flow::Pkce {
        request = request
            .redirect_uris(REDIRECT_URI)
            // A vanity start URL's target (the files keep the configured URL).
            .issuer_url(&wire.start_url);
    }
    let output = request.send().await.map_err(|err| {
        if err
            .as_service_error()
            .is_some_and(|e| e.is_invalid_request_exception())
        {
            wrong_region(session, &err)
        } else {
            from_sdk("RegisterClient", &session.oidc_endpoint, &err)
        }
    })?;
    let (Some(client_id), Some(client_secret)) = (output.client_id(), output.client_secret())
    else {
        return Err(IdentityError::Service {
            operation: "RegisterClient",
            detail: "the answer had no client id or secret".into(),
        });
    };
    let expires =
        OffsetDateTime::from_unix_timestamp(output.client_secret_expires_at()).map_err(|_| {
            IdentityError::Service {
                operation: "RegisterClient",
                detail: "the answer had an impossible clientSecretExpiresAt".into(),
            }
        })?;
    let registration = Registration {
        client_id: client_id.to_string(),
        client_secret: Secret::new(client_secret),
        expires_at: format_time(expires),
        scopes: (!session.scopes.is_empty()).then(|| session.scopes.clone()),
        grant_types: Some(grants.iter().map(|g| g.to_string()).collect()),
        extra: Default::default(),
    };
    // The shared file is left to the tool that uses it while it holds a live registration
    // portico's flow cannot use; otherwise (none, expired, or portico's own that the service no
    // longer knows) portico's goes there, for the AWS CLI to reuse as well.
    let now = OffsetDateTime::now_utc();
    let taken = store
        .tokens
        .load_registration(session)
        .is_some_and(|shared| {
            shared.is_live(now) && !shared.usable_for(&grants, &session.scopes, now)
        });
    if taken {
        crate::debug!(
            "keeping the new client registration in portico's cache: the shared file holds a live one of another tool's"
        );
        store
            .own_registrations
            .store_registration(session, &registration)?;
    } else {
        store.tokens.store_registration(session, &registration)?;
    }
    Ok(registration)
}

/// InvalidRequestException on a call that names the start URL: the region's Identity Center
/// does not know it, which in practice means `sso_region` is wrong.
pub fn wrong_region<E, R>(
    session: &SsoSession,
    err: &aws_sdk_ssooidc::error::SdkError<E, R>,
) -> IdentityError
where
    E: aws_sdk_ssooidc::error::ProvideErrorMetadata,
{
    let detail = err
        .as_service_error()
        .and_then(|e| e.message())
        .unwrap_or("InvalidRequestException");
    IdentityError::WrongRegion {
        start_url: session.start_url.clone(),
        region: session.region.clone(),
        detail: crate::sanitize::for_terminal(detail),
    }
}
