//! The SSO portal service (docs/protocol.md §2): ListAccounts, ListAccountRoles,
//! GetRoleCredentials and Logout, authorised by the `x-amz-sso_bearer_token` header.

use crate::app::{App, Service};
use crate::state::{epoch_millis, random_token, RoleCredential};
use crate::stats::Counter;
use crate::sts::Identity;
use crate::wire::{form_params, json_response, PortalError, PortalFailure};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Page size when `max_result` is left out (the live service's default is not documented;
/// 20 keeps clients honest about paginating).
pub const DEFAULT_PAGE_SIZE: usize = 20;
/// The model's upper bound for `max_result`.
pub const MAX_PAGE_SIZE: usize = 100;

const BEARER_HEADER: &str = "x-amz-sso_bearer_token";

type Outcome = Result<serde_json::Value, PortalFailure>;

fn invalid(message: impl Into<String>) -> PortalFailure {
    PortalFailure::new(PortalError::InvalidRequest, message)
}

fn no_access() -> PortalFailure {
    PortalFailure::new(PortalError::Forbidden, "No access")
}

/// The session behind the bearer token, or the live service's 401.
fn authorize(app: &App, headers: &HeaderMap) -> Result<usize, PortalFailure> {
    let token = headers
        .get(BEARER_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|t| !t.is_empty())
        .ok_or_else(PortalFailure::unauthorized)?;
    app.store()
        .session_of(token, Instant::now())
        .ok_or_else(PortalFailure::unauthorized)
}

fn required<'a>(p: &'a HashMap<String, String>, name: &str) -> Result<&'a str, PortalFailure> {
    p.get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| invalid(format!("{name} is required")))
}

fn page_size(p: &HashMap<String, String>) -> Result<usize, PortalFailure> {
    match p.get("max_result") {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
            _ => Err(invalid(format!(
                "max_result must be between 1 and {MAX_PAGE_SIZE}"
            ))),
        },
    }
}

/// An opaque page token naming the list it belongs to and where the next page starts.
fn encode_token(list: &str, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1|{list}|{offset}"))
}

fn decode_token(
    p: &HashMap<String, String>,
    list: &str,
    len: usize,
) -> Result<usize, PortalFailure> {
    let Some(token) = p.get("next_token") else {
        return Ok(0);
    };
    let bad = || invalid("Invalid next_token");
    let text = URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let rest = text
        .strip_prefix("v1|")
        .and_then(|r| r.strip_prefix(list))
        .and_then(|r| r.strip_prefix('|'))
        .ok_or_else(bad)?;
    match rest.parse::<usize>() {
        Ok(offset) if offset < len => Ok(offset),
        _ => Err(bad()),
    }
}

/// One page of `items` with `nextToken` when more remain (left out on the last page).
fn paginate<T>(
    items: &[T],
    p: &HashMap<String, String>,
    list: &str,
    key: &str,
    render: impl Fn(&T) -> serde_json::Value,
) -> Outcome {
    let size = page_size(p)?;
    let start = decode_token(p, list, items.len())?;
    let end = (start + size).min(items.len());
    let mut body = json!({ key: items[start..end].iter().map(render).collect::<Vec<_>>() });
    if end < items.len() {
        body["nextToken"] = json!(encode_token(list, end));
    }
    Ok(body)
}

async fn serve(app: &App, counter: Counter, handler: impl FnOnce(&App) -> Outcome) -> Response {
    if let Err(fault) = app.admit(Some(counter), Service::Portal).await {
        return fault;
    }
    match handler(app) {
        Ok(body) => app.success(&body),
        Err(failure) => failure.into_response(),
    }
}

/// `GET /assignment/accounts?max_result=&next_token=`
pub async fn list_accounts(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    serve(&app, Counter::ListAccounts, |app| {
        authorize(app, &headers)?;
        let p = form_params(query.unwrap_or_default().as_bytes());
        paginate(
            app.settings.directory.accounts(),
            &p,
            "accounts",
            "accountList",
            |a| {
                json!({
                    "accountId": a.account_id,
                    "accountName": a.account_name,
                    "emailAddress": a.email_address,
                })
            },
        )
    })
    .await
}

/// `GET /assignment/roles?account_id=&max_result=&next_token=`
pub async fn list_account_roles(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    serve(&app, Counter::ListAccountRoles, |app| {
        authorize(app, &headers)?;
        let p = form_params(query.unwrap_or_default().as_bytes());
        let account_id = required(&p, "account_id")?;
        let account = app
            .settings
            .directory
            .account(account_id)
            .ok_or_else(no_access)?;
        paginate(
            &account.roles,
            &p,
            &format!("roles:{account_id}"),
            "roleList",
            |r| json!({ "roleName": r, "accountId": account_id }),
        )
    })
    .await
}

/// `GET /federation/credentials?role_name=&account_id=`
pub async fn get_role_credentials(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    serve(&app, Counter::GetRoleCredentials, |app| {
        authorize(app, &headers)?;
        let p = form_params(query.unwrap_or_default().as_bytes());
        let role_name = required(&p, "role_name")?;
        let account_id = required(&p, "account_id")?;
        if !app.settings.directory.has_role(account_id, role_name) {
            return Err(no_access());
        }
        let ttl = app.settings.role_credential_ttl;
        let access_key_id = format!("ASIA{}", random_token("", 16).to_ascii_uppercase());
        let secret_access_key = random_token("", 40);
        let session_token = random_token("IQoJb3JpZ2luX2VjE", 360);
        let expiration = epoch_millis() + ttl * 1000;
        app.store().role_credentials.insert(
            access_key_id.clone(),
            RoleCredential {
                role_arn: Identity::identity_center_role_arn(account_id, role_name),
                chained: false,
                account_id: account_id.to_string(),
                role_name: role_name.to_string(),
                identity: Identity::identity_center(account_id, role_name, &app.settings.saml.user),
                secret_access_key: secret_access_key.clone(),
                session_token: session_token.clone(),
                expires_at: Instant::now() + Duration::from_secs(ttl),
            },
        );
        Ok(json!({
            "roleCredentials": {
                "accessKeyId": access_key_id,
                "secretAccessKey": secret_access_key,
                "sessionToken": session_token,
                "expiration": expiration,
            }
        }))
    })
    .await
}

/// `POST /logout`: ends the session of the bearer token (its refresh tokens die with it).
pub async fn logout(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if let Err(fault) = app.admit(Some(Counter::Logout), Service::Portal).await {
        return fault;
    }
    match authorize(&app, &headers) {
        Ok(session) => {
            app.store().end_session(session);
            json_response(StatusCode::OK, Vec::new())
        }
        Err(failure) => failure.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn pages_and_tokens() {
        let items: Vec<u32> = (0..45).collect();
        let first = paginate(&items, &q(&[]), "l", "x", |i| json!(i)).unwrap();
        assert_eq!(first["x"].as_array().unwrap().len(), DEFAULT_PAGE_SIZE);
        let token = first["nextToken"].as_str().unwrap().to_string();
        let second = paginate(
            &items,
            &q(&[("next_token", &token), ("max_result", "100")]),
            "l",
            "x",
            |i| json!(i),
        )
        .unwrap();
        assert_eq!(second["x"].as_array().unwrap().len(), 25);
        assert!(second.get("nextToken").is_none());
        assert!(paginate(
            &items,
            &q(&[("next_token", &token)]),
            "other",
            "x",
            |i| json!(i)
        )
        .is_err());
        assert!(paginate(&items, &q(&[("max_result", "0")]), "l", "x", |i| json!(i)).is_err());
        assert!(paginate(&items, &q(&[("max_result", "101")]), "l", "x", |i| json!(i)).is_err());
        assert!(paginate(
            &items,
            &q(&[("next_token", "garbage")]),
            "l",
            "x",
            |i| json!(i)
        )
        .is_err());
        let empty: Vec<u32> = Vec::new();
        let none = paginate(&empty, &q(&[]), "l", "x", |i| json!(i)).unwrap();
        assert_eq!(none["x"].as_array().unwrap().len(), 0);
    }
}
