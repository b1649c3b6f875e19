//! The SSO OIDC service (docs/protocol.md §1): RegisterClient, StartDeviceAuthorization and
//! CreateToken with the device-code, authorization-code (PKCE) and refresh-token grants.

use crate::app::{App, Service};
use crate::state::{
    epoch_secs, random_token, same_start_url, Client, DeviceStatus, Grant, IssuedTokens, Store,
    DEVICE_CODE_TTL, POLL_INTERVAL, REGISTRATION_TTL,
};
use crate::stats::Counter;
use crate::wire::{OidcError, OidcFailure};
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Instant;
use url::Url;

type Outcome = Result<serde_json::Value, OidcFailure>;

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, OidcFailure> {
    serde_json::from_slice(body).map_err(|e| {
        OidcFailure::new(
            OidcError::InvalidRequest,
            format!("The request body is not valid: {e}"),
        )
    })
}

fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, OidcFailure> {
    match value.as_deref() {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(OidcFailure::new(
            OidcError::InvalidRequest,
            format!("{name} is required"),
        )),
    }
}

fn respond(app: &App, outcome: Outcome) -> Response {
    match outcome {
        Ok(body) => app.success(&body),
        Err(failure) => failure.into_response(),
    }
}

/// A redirect URI the service accepts: `http://127.0.0.1[:port]/oauth/callback`.
pub fn loopback_redirect(uri: &str) -> Option<Url> {
    let url = Url::parse(uri).ok()?;
    let ok = url.scheme() == "http"
        && url.host_str() == Some("127.0.0.1")
        && url.path() == "/oauth/callback"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    ok.then_some(url)
}

/// The base64url SHA-256 of the verifier, compared with the challenge (trailing `=` ignored).
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let valid_verifier = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    valid_verifier
        && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
            == challenge.trim_end_matches('=')
}

/// Checks a client's id and secret; the registration must not have expired.
fn authenticate<'a>(
    store: &'a Store,
    client_id: &str,
    client_secret: &str,
    now: Instant,
) -> Result<&'a Client, OidcFailure> {
    match store.clients.get(client_id) {
        Some(c) if c.secret == client_secret && now < c.expires_at => Ok(c),
        Some(c) if c.secret == client_secret => Err(OidcFailure::new(
            OidcError::InvalidClient,
            "The client registration has expired",
        )),
        _ => Err(OidcFailure::new(
            OidcError::InvalidClient,
            "Invalid client id or secret",
        )),
    }
}

fn wrong_instance(app: &App) -> OidcFailure {
    OidcFailure::new(
        OidcError::InvalidRequest,
        format!(
            "Invalid start URL: no IAM Identity Center instance with this start URL in {}",
            app.settings.region
        ),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegisterClientRequest {
    client_name: Option<String>,
    client_type: Option<String>,
    scopes: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    redirect_uris: Option<Vec<String>>,
    issuer_url: Option<String>,
}

pub async fn register_client(State(app): State<Arc<App>>, body: Bytes) -> Response {
    if let Err(fault) = app
        .admit(Some(Counter::RegisterClient), Service::Oidc)
        .await
    {
        return fault;
    }
    let outcome = register(&app, &body);
    respond(&app, outcome)
}

fn register(app: &App, body: &[u8]) -> Outcome {
    let req: RegisterClientRequest = parse(body)?;
    let name = required(&req.client_name, "clientName")?;
    let client_type = required(&req.client_type, "clientType")?;
    if client_type != "public" {
        return Err(OidcFailure::new(
            OidcError::InvalidClientMetadata,
            "Invalid client type: only public clients are supported",
        ));
    }
    // Without grantTypes a registration gets the device flow with refresh tokens: the AWS CLI
    // registers that way for its device flow and the live service hands it refresh tokens.
    let grants = match req.grant_types.as_deref() {
        None | Some([]) => vec![Grant::DeviceCode, Grant::RefreshToken],
        Some(list) => list
            .iter()
            .map(|g| {
                Grant::parse(g).ok_or_else(|| {
                    OidcFailure::new(
                        OidcError::UnsupportedGrantType,
                        format!("Unsupported grant type: {g}"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let scopes = req.scopes.unwrap_or_default();
    if let Some(bad) = scopes
        .iter()
        .find(|s| s.is_empty() || s.contains(char::is_whitespace))
    {
        return Err(OidcFailure::new(
            OidcError::InvalidScope,
            format!("Invalid scope: {bad:?}"),
        ));
    }
    let redirect_uris = req.redirect_uris.unwrap_or_default();
    if let Some(bad) = redirect_uris
        .iter()
        .find(|u| loopback_redirect(u).is_none())
    {
        return Err(OidcFailure::new(
            OidcError::InvalidRedirectUri,
            format!("Invalid redirect URI {bad}: only http://127.0.0.1/oauth/callback is allowed"),
        ));
    }
    if let Some(issuer) = req.issuer_url.as_deref() {
        app.store()
            .start_urls_sent
            .push(("RegisterClient", issuer.to_string()));
        if !same_start_url(issuer, &app.settings.start_url) {
            return Err(wrong_instance(app));
        }
    }

    let client_id = random_token("", 22);
    let client_secret = random_token("", 256);
    let issued_at = epoch_secs();
    let expires_at_epoch = issued_at + REGISTRATION_TTL.as_secs();
    app.store().clients.insert(
        client_id.clone(),
        Client {
            secret: client_secret.clone(),
            name: name.to_string(),
            scopes,
            grants,
            redirect_uris,
            expires_at: Instant::now() + REGISTRATION_TTL,
        },
    );
    let url = &app.settings.url;
    Ok(json!({
        "clientId": client_id,
        "clientSecret": client_secret,
        "clientIdIssuedAt": issued_at,
        "clientSecretExpiresAt": expires_at_epoch,
        "authorizationEndpoint": format!("{url}/authorize"),
        "tokenEndpoint": format!("{url}/token"),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartDeviceAuthorizationRequest {
    client_id: Option<String>,
    client_secret: Option<String>,
    start_url: Option<String>,
}

pub async fn start_device_authorization(State(app): State<Arc<App>>, body: Bytes) -> Response {
    if let Err(fault) = app
        .admit(Some(Counter::StartDeviceAuthorization), Service::Oidc)
        .await
    {
        return fault;
    }
    let outcome = device_authorization(&app, &body);
    respond(&app, outcome)
}

fn device_authorization(app: &App, body: &[u8]) -> Outcome {
    let req: StartDeviceAuthorizationRequest = parse(body)?;
    let client_id = required(&req.client_id, "clientId")?;
    let client_secret = required(&req.client_secret, "clientSecret")?;
    let start_url = required(&req.start_url, "startUrl")?;
    let now = Instant::now();
    let mut store = app.store();
    store
        .start_urls_sent
        .push(("StartDeviceAuthorization", start_url.to_string()));
    let client = authenticate(&store, client_id, client_secret, now)?;
    if !client.grants.contains(&Grant::DeviceCode) {
        return Err(OidcFailure::new(
            OidcError::UnauthorizedClient,
            "The client is not registered for the device code grant",
        ));
    }
    if !same_start_url(start_url, &app.settings.start_url) {
        return Err(wrong_instance(app));
    }
    let (device_code, user_code) = store.new_device_authorization(client_id, now);
    let url = &app.settings.url;
    Ok(json!({
        "deviceCode": device_code,
        "userCode": user_code,
        "verificationUri": format!("{url}/device"),
        "verificationUriComplete": format!("{url}/device?user_code={user_code}"),
        "expiresIn": DEVICE_CODE_TTL.as_secs(),
        "interval": POLL_INTERVAL.as_secs(),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateTokenRequest {
    client_id: Option<String>,
    client_secret: Option<String>,
    grant_type: Option<String>,
    device_code: Option<String>,
    code: Option<String>,
    code_verifier: Option<String>,
    redirect_uri: Option<String>,
    refresh_token: Option<String>,
    scope: Option<Vec<String>>,
}

pub async fn create_token(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let req = parse::<CreateTokenRequest>(&body);
    let grant = req
        .as_ref()
        .ok()
        .and_then(|r| r.grant_type.as_deref())
        .and_then(Grant::parse);
    let counter = grant.map(|g| match g {
        Grant::DeviceCode => Counter::CreateTokenDeviceCode,
        Grant::AuthorizationCode => Counter::CreateTokenAuthorizationCode,
        Grant::RefreshToken => Counter::CreateTokenRefreshToken,
    });
    if let Err(fault) = app.admit(counter, Service::Oidc).await {
        return fault;
    }
    if grant == Some(Grant::RefreshToken) {
        app.pass_refresh_gate().await;
    }
    let outcome = req.and_then(|req| token(&app, &req, grant));
    respond(&app, outcome)
}

fn token(app: &App, req: &CreateTokenRequest, grant: Option<Grant>) -> Outcome {
    let client_id = required(&req.client_id, "clientId")?;
    let client_secret = required(&req.client_secret, "clientSecret")?;
    let grant_type = required(&req.grant_type, "grantType")?;
    let now = Instant::now();
    let mut store = app.store();
    let client = authenticate(&store, client_id, client_secret, now)?;
    let Some(grant) = grant else {
        return Err(OidcFailure::new(
            OidcError::UnsupportedGrantType,
            format!("Unsupported grant type: {grant_type}"),
        ));
    };
    if !client.grants.contains(&grant) {
        return Err(OidcFailure::new(
            OidcError::UnauthorizedClient,
            format!("The client is not registered for the {grant_type} grant"),
        ));
    }
    // Requested scopes must be among the registered ones (when the client registered any).
    if let (Some(scopes), false) = (&req.scope, client.scopes.is_empty()) {
        if let Some(bad) = scopes.iter().find(|s| !client.scopes.contains(s)) {
            return Err(OidcFailure::new(
                OidcError::InvalidScope,
                format!("Scope {bad} was not registered for this client"),
            ));
        }
    }
    let issued = match grant {
        Grant::DeviceCode => device_code_grant(app, &mut store, req, client_id, now)?,
        Grant::AuthorizationCode => authorization_code_grant(app, &mut store, req, client_id, now)?,
        Grant::RefreshToken => refresh_token_grant(app, &mut store, req, client_id, now)?,
    };
    let mut body = json!({
        "accessToken": issued.access_token,
        "tokenType": "Bearer",
        "expiresIn": issued.expires_in,
    });
    if let Some(refresh) = issued.refresh_token {
        body["refreshToken"] = json!(refresh);
    }
    Ok(body)
}

fn invalid_grant(description: &str) -> OidcFailure {
    OidcFailure::new(OidcError::InvalidGrant, description)
}

fn device_code_grant(
    app: &App,
    store: &mut Store,
    req: &CreateTokenRequest,
    client_id: &str,
    now: Instant,
) -> Result<IssuedTokens, OidcFailure> {
    let device_code = required(&req.device_code, "deviceCode")?;
    let device = match store.devices.get_mut(device_code) {
        Some(d) if d.client_id == client_id => d,
        _ => return Err(invalid_grant("Invalid device code")),
    };
    if device.status == DeviceStatus::Redeemed {
        return Err(invalid_grant("The device code has already been used"));
    }
    if now >= device.expires_at {
        return Err(OidcFailure::new(
            OidcError::ExpiredToken,
            "The device code has expired",
        ));
    }
    match device.status {
        DeviceStatus::Denied => Err(OidcFailure::new(
            OidcError::AccessDenied,
            "The user denied the authorization request",
        )),
        DeviceStatus::Pending => {
            let previous = device.last_poll.replace(now);
            let too_soon = previous.is_some_and(|p| now.duration_since(p) < POLL_INTERVAL / 2);
            Err(if too_soon {
                OidcFailure::new(OidcError::SlowDown, "Client is polling too quickly")
            } else {
                OidcFailure::new(
                    OidcError::AuthorizationPending,
                    "The user has not yet approved the authorization request",
                )
            })
        }
        DeviceStatus::Approved | DeviceStatus::Redeemed => {
            device.status = DeviceStatus::Redeemed;
            Ok(store.issue_new_session(client_id, now, &app.settings))
        }
    }
}

fn authorization_code_grant(
    app: &App,
    store: &mut Store,
    req: &CreateTokenRequest,
    client_id: &str,
    now: Instant,
) -> Result<IssuedTokens, OidcFailure> {
    let code = required(&req.code, "code")?;
    let Some(grant) = store.auth_codes.get(code) else {
        return Err(invalid_grant("Invalid authorization code"));
    };
    if grant.client_id != client_id {
        return Err(invalid_grant(
            "The authorization code was issued to another client",
        ));
    }
    if now >= grant.expires_at {
        return Err(OidcFailure::new(
            OidcError::ExpiredToken,
            "The authorization code has expired",
        ));
    }
    if req.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return Err(invalid_grant(
            "redirectUri does not match the one of the authorization request",
        ));
    }
    let verifier = req.code_verifier.as_deref().unwrap_or_default();
    if !pkce_matches(verifier, &grant.code_challenge) {
        return Err(invalid_grant(
            "codeVerifier does not match the code challenge",
        ));
    }
    store.auth_codes.remove(code);
    Ok(store.issue_new_session(client_id, now, &app.settings))
}

fn refresh_token_grant(
    app: &App,
    store: &mut Store,
    req: &CreateTokenRequest,
    client_id: &str,
    now: Instant,
) -> Result<IssuedTokens, OidcFailure> {
    let token = required(&req.refresh_token, "refreshToken")?;
    let session = match store.refresh_tokens.get(token) {
        Some(t) if t.client_id == client_id && !t.spent => t.session,
        _ => return Err(invalid_grant("Invalid refresh token")),
    };
    if store.session_revoked(session) {
        return Err(invalid_grant("Invalid refresh token"));
    }
    if let Some(t) = store.refresh_tokens.get_mut(token) {
        t.spent = true;
    }
    Ok(store.issue_tokens(session, client_id, now, &app.settings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_shapes() {
        assert!(loopback_redirect("http://127.0.0.1/oauth/callback").is_some());
        assert!(loopback_redirect("http://127.0.0.1:54321/oauth/callback").is_some());
        assert!(loopback_redirect("https://127.0.0.1/oauth/callback").is_none());
        assert!(loopback_redirect("http://localhost/oauth/callback").is_none());
        assert!(loopback_redirect("http://127.0.0.1/callback").is_none());
        assert!(loopback_redirect("http://127.0.0.1/oauth/callback?x=1").is_none());
    }

    #[test]
    fn pkce_s256() {
        // The challenge as Python's hashlib and base64.urlsafe_b64encode compute it.
        let verifier = "dBjftJeZ4CVP-mJ92K9ZEW1SW8MkqSA4hNKOv0ho-2Q";
        let challenge = "-mkZUv1OHhHK7xQ1JrwYIWO1O1-KS6yRTe2VUtrvC0I";
        assert!(pkce_matches(verifier, challenge));
        assert!(pkce_matches(verifier, &format!("{challenge}=")));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mJ92K9ZEW1SW8MkqSA4hNKOv0ho-2R",
            challenge
        ));
        assert!(!pkce_matches("short", challenge));
    }
}
