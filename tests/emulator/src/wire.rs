//! How answers look on the wire: the two error shapes (OIDC and portal), JSON success bodies,
//! and the headers every service answer carries.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashMap;

/// The OIDC service's modelled exceptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OidcError {
    AuthorizationPending,
    SlowDown,
    ExpiredToken,
    AccessDenied,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    InvalidClientMetadata,
    InvalidRedirectUri,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidClient,
    InternalServer,
}

impl OidcError {
    /// (HTTP status, exception name, OAuth `error` code).
    fn parts(self) -> (StatusCode, &'static str, &'static str) {
        use OidcError::*;
        match self {
            AuthorizationPending => (
                StatusCode::BAD_REQUEST,
                "AuthorizationPendingException",
                "authorization_pending",
            ),
            SlowDown => (StatusCode::BAD_REQUEST, "SlowDownException", "slow_down"),
            ExpiredToken => (
                StatusCode::BAD_REQUEST,
                "ExpiredTokenException",
                "expired_token",
            ),
            AccessDenied => (
                StatusCode::BAD_REQUEST,
                "AccessDeniedException",
                "access_denied",
            ),
            InvalidGrant => (
                StatusCode::BAD_REQUEST,
                "InvalidGrantException",
                "invalid_grant",
            ),
            InvalidRequest => (
                StatusCode::BAD_REQUEST,
                "InvalidRequestException",
                "invalid_request",
            ),
            InvalidScope => (
                StatusCode::BAD_REQUEST,
                "InvalidScopeException",
                "invalid_scope",
            ),
            InvalidClientMetadata => (
                StatusCode::BAD_REQUEST,
                "InvalidClientMetadataException",
                "invalid_client_metadata",
            ),
            InvalidRedirectUri => (
                StatusCode::BAD_REQUEST,
                "InvalidRedirectUriException",
                "invalid_redirect_uri",
            ),
            UnauthorizedClient => (
                StatusCode::BAD_REQUEST,
                "UnauthorizedClientException",
                "unauthorized_client",
            ),
            UnsupportedGrantType => (
                StatusCode::BAD_REQUEST,
                "UnsupportedGrantTypeException",
                "unsupported_grant_type",
            ),
            InvalidClient => (
                StatusCode::UNAUTHORIZED,
                "InvalidClientException",
                "invalid_client",
            ),
            InternalServer => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerException",
                "server_error",
            ),
        }
    }
}

/// An OIDC error answer: `{"error","error_description","__type"}` plus `x-amzn-ErrorType`.
#[derive(Debug)]
pub struct OidcFailure {
    pub kind: OidcError,
    pub description: String,
}

impl OidcFailure {
    pub fn new(kind: OidcError, description: impl Into<String>) -> OidcFailure {
        OidcFailure {
            kind,
            description: description.into(),
        }
    }
}

impl IntoResponse for OidcFailure {
    fn into_response(self) -> Response {
        let (status, exception, error) = self.kind.parts();
        let body = json!({
            "error": error,
            "error_description": self.description,
            "__type": exception,
        });
        error_response(status, exception, body)
    }
}

/// The portal service's errors: the modelled ones this emulator uses (ResourceNotFound never
/// arises: the directory is fixed) plus the live service's 403 and a 500.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortalError {
    InvalidRequest,
    Unauthorized,
    Forbidden,
    TooManyRequests,
    InternalServer,
}

impl PortalError {
    fn parts(self) -> (StatusCode, &'static str) {
        match self {
            PortalError::InvalidRequest => (StatusCode::BAD_REQUEST, "InvalidRequestException"),
            PortalError::Unauthorized => (StatusCode::UNAUTHORIZED, "UnauthorizedException"),
            PortalError::Forbidden => (StatusCode::FORBIDDEN, "ForbiddenException"),
            PortalError::TooManyRequests => {
                (StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsException")
            }
            PortalError::InternalServer => {
                (StatusCode::INTERNAL_SERVER_ERROR, "InternalServerException")
            }
        }
    }
}

/// A portal error answer: `{"message","__type"}` plus `x-amzn-ErrorType`.
#[derive(Debug)]
pub struct PortalFailure {
    pub kind: PortalError,
    pub message: String,
}

impl PortalFailure {
    pub fn new(kind: PortalError, message: impl Into<String>) -> PortalFailure {
        PortalFailure {
            kind,
            message: message.into(),
        }
    }

    /// The live service's answer to a missing, unknown, expired or revoked access token.
    pub fn unauthorized() -> PortalFailure {
        PortalFailure::new(
            PortalError::Unauthorized,
            "Session token not found or invalid",
        )
    }
}

impl IntoResponse for PortalFailure {
    fn into_response(self) -> Response {
        let (status, exception) = self.kind.parts();
        let body = json!({ "message": self.message, "__type": exception });
        error_response(status, exception, body)
    }
}

fn error_response(
    status: StatusCode,
    exception: &'static str,
    body: serde_json::Value,
) -> Response {
    let mut response = json_response(status, body.to_string().into_bytes());
    response
        .headers_mut()
        .insert("x-amzn-ErrorType", HeaderValue::from_static(exception));
    response
}

/// A JSON answer with the service headers (`Content-Type` and a fresh `x-amzn-RequestId`).
pub fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(id) = HeaderValue::from_str(&request_id()) {
        headers.insert("x-amzn-RequestId", id);
    }
    response
}

/// Decodes a query string (or form body); the first value of a repeated name wins.
pub fn form_params(raw: &[u8]) -> HashMap<String, String> {
    let mut params = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(raw) {
        params
            .entry(k.into_owned())
            .or_insert_with(|| v.into_owned());
    }
    params
}

/// A random UUID-shaped request id, as the services send.
pub fn request_id() -> String {
    let b: [u8; 16] = rand::random();
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oidc_error_carries_header_and_type() {
        let r = OidcFailure::new(OidcError::InvalidClient, "bad").into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers()["x-amzn-ErrorType"], "InvalidClientException");
        assert_eq!(r.headers()["content-type"], "application/json");
    }

    #[test]
    fn request_id_is_uuid_shaped() {
        let id = request_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
    }
}
