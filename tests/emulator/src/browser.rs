//! What a browser sees: the device verification page, the /authorize consent page that
//! redirects to the loopback callback, and console federation sign-in (docs/protocol.md §5).

use crate::app::App;
use crate::oidc::loopback_redirect;
use crate::state::{
    random_token, AuthRequest, DeviceStatus, Grant, SigninToken, AUTHORIZATION_TTL,
    SIGNIN_TOKEN_TTL,
};
use crate::stats::Counter;
use crate::wire::{form_params, json_response};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use url::Url;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A complete HTML page; `body` must already be escaped.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title}</title><style>body{{font-family:sans-serif;max-width:36em;margin:3em auto}}\
         .code{{font:bold 2em monospace;letter-spacing:.1em}}button{{font-size:1.1em;margin-right:1em}}</style>\
         </head><body><h1>{title}</h1>\n{body}\n</body></html>\n",
        title = escape(title)
    );
    (status, Html(html)).into_response()
}

fn params(query: Option<String>) -> HashMap<String, String> {
    form_params(query.unwrap_or_default().as_bytes())
}

pub async fn index(State(app): State<Arc<App>>) -> Response {
    let s = &app.settings;
    page(
        StatusCode::OK,
        "IAM Identity Center emulator",
        &format!(
            "<p>Start URL <code>{}</code> in <code>{}</code>, {} accounts.</p>\
             <p><a href=\"/device\">Enter a device code</a></p>",
            escape(&s.start_url),
            escape(&s.region),
            s.directory.accounts().len()
        ),
    )
}

fn code_form() -> String {
    "<form method=\"get\" action=\"/device\"><label>Code <input name=\"user_code\" \
     autocomplete=\"off\" placeholder=\"ABCD-EFGH\"></label> <button>Next</button></form>"
        .to_string()
}

/// `GET /device[?user_code=…]`: the page a device-flow user opens.
pub async fn device_page(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let p = params(query);
    let Some(user_code) = p.get("user_code").filter(|c| !c.trim().is_empty()) else {
        return page(StatusCode::OK, "Authorize request", &code_form());
    };
    let now = Instant::now();
    let mut store = app.store();
    let Some(device) = store.device_by_user_code(user_code) else {
        return page(
            StatusCode::NOT_FOUND,
            "Unknown code",
            &format!(
                "<p>No request has this code. Check it and try again.</p>{}",
                code_form()
            ),
        );
    };
    let code = device.user_code.clone();
    let (status, client_id) = (device.status, device.client_id.clone());
    let expired = now >= device.expires_at;
    let client_name = store
        .clients
        .get(&client_id)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    if expired && matches!(status, DeviceStatus::Pending | DeviceStatus::Approved) {
        return page(
            StatusCode::BAD_REQUEST,
            "Code expired",
            "<p>This request has expired. Start the sign-in again.</p>",
        );
    }
    match status {
        DeviceStatus::Pending => page(
            StatusCode::OK,
            "Authorize request",
            &format!(
                "<p>Allow <b>{name}</b> to access your AWS accounts and roles?</p>\
                 <p class=\"code\">{code}</p>\
                 <form method=\"post\" action=\"/device\">\
                 <input type=\"hidden\" name=\"user_code\" value=\"{code}\">\
                 <button name=\"decision\" value=\"approve\">Approve</button>\
                 <button name=\"decision\" value=\"deny\">Deny</button></form>",
                name = escape(&client_name),
                code = escape(&code),
            ),
        ),
        DeviceStatus::Denied => page(
            StatusCode::OK,
            "Request denied",
            "<p>This request was denied.</p>",
        ),
        DeviceStatus::Approved | DeviceStatus::Redeemed => page(
            StatusCode::OK,
            "Request approved",
            "<p>This request was already approved. You can close this window.</p>",
        ),
    }
}

/// `POST /device` (form `user_code`, `decision=approve|deny`): the buttons of the device page.
pub async fn device_decision(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let p = form_params(&body);
    let user_code = p.get("user_code").map(String::as_str).unwrap_or_default();
    let approve = match p.get("decision").map(String::as_str) {
        Some("approve") => true,
        Some("deny") => false,
        _ => {
            return page(
                StatusCode::BAD_REQUEST,
                "Bad request",
                "<p>Choose Approve or Deny.</p>",
            )
        }
    };
    let result = app
        .store()
        .decide_device(user_code, approve, Instant::now());
    match result {
        Ok(()) if approve => page(
            StatusCode::OK,
            "Request approved",
            "<p>You can close this window and return to your terminal.</p>",
        ),
        Ok(()) => page(
            StatusCode::OK,
            "Request denied",
            "<p>The application will not get access. You can close this window.</p>",
        ),
        Err(e) => page(
            StatusCode::BAD_REQUEST,
            "Request not changed",
            &format!("<p>{}</p>", escape(&e.to_string())),
        ),
    }
}

fn redirect(to: &Url) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, to.as_str().to_string())],
    )
        .into_response()
}

/// The callback URL with the answer's parameters and the client's `state` echoed back.
fn callback(redirect_uri: &str, pairs: &[(&str, &str)], state: Option<&str>) -> Response {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return page(StatusCode::BAD_REQUEST, "Invalid redirect URI", "");
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
        if let Some(state) = state {
            q.append_pair("state", state);
        }
    }
    redirect(&url)
}

/// `GET /authorize?response_type=code&client_id=…&redirect_uri=…&state=…&code_challenge_method=S256&scopes=…&code_challenge=…`
pub async fn authorize(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let p = params(query);
    let get = |k: &str| p.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let now = Instant::now();
    let mut store = app.store();

    // Problems with the client or the redirect URI are shown, never redirected.
    let client_id = get("client_id").unwrap_or_default();
    let client = match store.clients.get(client_id) {
        Some(c) if now < c.expires_at => c,
        _ => {
            return page(
                StatusCode::BAD_REQUEST,
                "Invalid request",
                "<p>Unknown or expired client.</p>",
            )
        }
    };
    let redirect_uri = get("redirect_uri").unwrap_or_default();
    // Registered URIs are all loopback callbacks, and a loopback URI matches on any port
    // (RFC 8252 §7.3), so any registered URI admits any well-formed callback.
    if loopback_redirect(redirect_uri).is_none() || client.redirect_uris.is_empty() {
        return page(
            StatusCode::BAD_REQUEST,
            "Invalid request",
            "<p>The redirect URI is not registered for this client.</p>",
        );
    }

    let state = get("state");
    let fail = |error: &str| callback(redirect_uri, &[("error", error)], state);
    if get("response_type") != Some("code") {
        return fail("unsupported_response_type");
    }
    if !client.grants.contains(&Grant::AuthorizationCode) {
        return fail("unauthorized_client");
    }
    let Some(challenge) = get("code_challenge") else {
        return fail("invalid_request");
    };
    if get("code_challenge_method") != Some("S256") {
        return fail("invalid_request");
    }
    let scopes = get("scopes").unwrap_or_default();
    if !client.scopes.is_empty()
        && scopes
            .split_whitespace()
            .any(|s| !client.scopes.iter().any(|r| r == s))
    {
        return fail("invalid_scope");
    }
    let client_name = client.name.clone();

    if store.auto_approve {
        let code = store.new_auth_code(client_id, redirect_uri, challenge, now);
        return callback(redirect_uri, &[("code", &code)], state);
    }
    let request_id = random_token("", 32);
    store.auth_requests.insert(
        request_id.clone(),
        AuthRequest {
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            state: state.map(str::to_string),
            code_challenge: challenge.to_string(),
            expires_at: now + AUTHORIZATION_TTL,
            decided: false,
        },
    );
    page(
        StatusCode::OK,
        "Allow access?",
        &format!(
            "<p>Allow <b>{name}</b> to access your AWS accounts and roles?</p>\
             <p>Scopes: <code>{scopes}</code></p>\
             <form method=\"post\" action=\"/authorize\">\
             <input type=\"hidden\" name=\"request_id\" value=\"{request_id}\">\
             <button name=\"decision\" value=\"approve\">Approve</button>\
             <button name=\"decision\" value=\"deny\">Deny</button></form>",
            name = escape(&client_name),
            scopes = escape(scopes),
        ),
    )
}

/// `POST /authorize` (form `request_id`, `decision=approve|deny`): the consent buttons.
pub async fn authorize_decision(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let p = form_params(&body);
    let approve = match p.get("decision").map(String::as_str) {
        Some("approve") => true,
        Some("deny") => false,
        _ => {
            return page(
                StatusCode::BAD_REQUEST,
                "Bad request",
                "<p>Choose Approve or Deny.</p>",
            )
        }
    };
    let now = Instant::now();
    let mut store = app.store();
    let id = p.get("request_id").map(String::as_str).unwrap_or_default();
    let Some(request) = store.auth_requests.get_mut(id) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Invalid request",
            "<p>Unknown sign-in request.</p>",
        );
    };
    if request.decided {
        return page(
            StatusCode::BAD_REQUEST,
            "Already answered",
            "<p>This sign-in request was already answered.</p>",
        );
    }
    if now >= request.expires_at {
        return page(
            StatusCode::BAD_REQUEST,
            "Request expired",
            "<p>This sign-in request has expired. Start the sign-in again.</p>",
        );
    }
    request.decided = true;
    let (client_id, redirect_uri, state, challenge) = (
        request.client_id.clone(),
        request.redirect_uri.clone(),
        request.state.clone(),
        request.code_challenge.clone(),
    );
    if approve {
        let code = store.new_auth_code(&client_id, &redirect_uri, &challenge, now);
        callback(&redirect_uri, &[("code", &code)], state.as_deref())
    } else {
        callback(
            &redirect_uri,
            &[("error", "access_denied")],
            state.as_deref(),
        )
    }
}

fn bad_federation(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FederationSession {
    session_id: String,
    session_key: String,
    session_token: String,
}

/// `GET /federation?Action=getSigninToken|login&…`: the console sign-in endpoint.
pub async fn federation(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let p = params(query);
    match p.get("Action").map(String::as_str) {
        Some("getSigninToken") => {
            app.stats.bump(Counter::GetSigninToken);
            get_signin_token(&app, &p)
        }
        Some("login") => login(&app, &p),
        _ => bad_federation("Action must be getSigninToken or login"),
    }
}

fn get_signin_token(app: &App, p: &HashMap<String, String>) -> Response {
    let Some(session) = p
        .get("Session")
        .and_then(|s| serde_json::from_str::<FederationSession>(s).ok())
    else {
        return bad_federation("Session must be JSON with sessionId, sessionKey and sessionToken");
    };
    if let Some(duration) = p.get("SessionDuration") {
        match duration.parse::<u64>() {
            Ok(900..=43200) => {}
            _ => return bad_federation("SessionDuration must be between 900 and 43200 seconds"),
        }
    }
    let now = Instant::now();
    let mut store = app.store();
    let creds = match store.role_credentials.get(&session.session_id) {
        Some(c)
            if c.secret_access_key == session.session_key
                && c.session_token == session.session_token
                && now < c.expires_at =>
        {
            c
        }
        _ => return bad_federation("The session credentials are invalid or expired"),
    };
    // As the federation endpoint answers a console session length asked for with keys of a
    // role assumed by a role (AWS knowledge center, "Invalid credentials parameter"): role
    // chaining keeps the console to the keys' own hour.
    if creds.chained && p.contains_key("SessionDuration") {
        return bad_federation("Invalid credentials parameter");
    }
    let (account_id, role_name) = (creds.account_id.clone(), creds.role_name.clone());
    let identity = creds.identity.clone();
    store.federated.push(identity.clone());
    let token = random_token("", 300);
    store.signin_tokens.insert(
        token.clone(),
        SigninToken {
            account_id,
            role_name,
            identity,
            expires_at: now + SIGNIN_TOKEN_TTL,
            used: false,
        },
    );
    json_response(
        StatusCode::OK,
        json!({ "SigninToken": token }).to_string().into_bytes(),
    )
}

fn login(app: &App, p: &HashMap<String, String>) -> Response {
    let Some(destination) = p.get("Destination").filter(|d| Url::parse(d).is_ok()) else {
        return bad_federation("Destination must be a URL");
    };
    let now = Instant::now();
    let mut store = app.store();
    let token = p.get("SigninToken").map(String::as_str).unwrap_or_default();
    let signin = match store.signin_tokens.get_mut(token) {
        Some(t) if !t.used && now < t.expires_at => t,
        _ => return bad_federation("The sign-in token is invalid or expired"),
    };
    signin.used = true;
    let (account_id, role_name) = (signin.account_id.clone(), signin.role_name.clone());
    let arn = signin.identity.arn.clone();
    let account_name = app
        .settings
        .directory
        .account(&account_id)
        .map(|a| a.account_name.clone())
        .unwrap_or_default();
    page(
        StatusCode::OK,
        "Signed in to the AWS Management Console",
        &format!(
            "<p>Account <b id=\"account-name\">{name}</b> (<span id=\"account-id\">{id}</span>)</p>\
             <p>Role <b id=\"role-name\">{role}</b></p>\
             <p>Signed in as <span id=\"arn\">{arn}</span></p>\
             <p>Issuer {issuer}</p><p>Continue to <a href=\"{dest}\">{dest}</a></p>",
            name = escape(&account_name),
            id = escape(&account_id),
            role = escape(&role_name),
            arn = escape(&arn),
            issuer = escape(p.get("Issuer").map(String::as_str).unwrap_or("(none)")),
            dest = escape(destination),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::normalize_user_code;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn user_code_lookup_is_forgiving() {
        assert_eq!(normalize_user_code(" abcd efgh "), "ABCD-EFGH");
    }
}
