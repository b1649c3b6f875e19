//! What can go wrong while signing in, each worded with the fix, and the mapping from SDK
//! errors. No message here ever contains a token or a client secret: SDK errors are described
//! by their code, HTTP status and the service's own message, never by the request.

use std::path::PathBuf;

use aws_sdk_ssooidc::config::http::HttpResponse;
use aws_sdk_ssooidc::error::{ProvideErrorMetadata, SdkError};

use crate::cache::token::CacheError;
use crate::http::Unreached;
use crate::sanitize::for_terminal;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("{reason}; run `{command}`")]
    LoginRequired { reason: String, command: String },
    #[error("sign-in was denied {place}; run `portico login` again and approve it")]
    Denied { place: &'static str },
    #[error("the sign-in code expired before it was approved; run `portico login` again and approve within {minutes} minutes")]
    CodeExpired { minutes: i64 },
    #[error("no answer from the browser within {seconds} s; run `portico login` again, or `portico login --device-code` if the browser cannot reach this machine")]
    Timeout { seconds: u64 },
    #[error("sign-in cancelled")]
    Cancelled,
    #[error("Identity Center in {region} does not know the start URL {start_url}: check that sso_region is the region your Identity Center lives in (the most common set-up mistake) and that the start URL is right ({detail})")]
    WrongRegion {
        start_url: String,
        region: String,
        detail: String,
    },
    /// A vanity start URL that does not lead to Identity Center (`identity::vanity`); the line
    /// names what it pointed at and the fix. `unreached`: no answer came (a network failure).
    #[error("{line}")]
    StartUrl { line: String, unreached: bool },
    #[error("{}", detail.line(&format!("cannot reach {endpoint}"), "check your network and that the region is right"))]
    Network {
        endpoint: String,
        detail: crate::http::Unreached,
    },
    #[error("Identity Center's {operation} failed: {detail}; try again later, or run with -v for details")]
    Service {
        operation: &'static str,
        detail: String,
    },
    #[error("cannot open the loopback listener for the browser's answer: {0}; use `portico login --device-code`")]
    Listener(std::io::Error),
    /// The OS error is in the message, not the `source`, so that a chain says it once.
    #[error("cannot take the sign-in lock in {}: {error}", dir.display())]
    Lock { dir: PathBuf, error: std::io::Error },
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl IdentityError {
    /// What kind of failure this is, for the exit code and `serve`'s HTTP status.
    pub fn kind(&self) -> crate::failure::FailureKind {
        use crate::failure::FailureKind as K;
        use IdentityError as I;
        match self {
            I::LoginRequired { .. } => K::LoginRequired,
            I::Denied { .. } | I::CodeExpired { .. } | I::Timeout { .. } => K::LoginFailed,
            I::Cancelled => K::Cancelled,
            I::WrongRegion { .. }
            | I::StartUrl {
                unreached: false, ..
            }
            | I::Cache(CacheError::ForeignScopes { .. }) => K::Config,
            I::StartUrl {
                unreached: true, ..
            } => K::Service,
            // Their messages say "run `portico login`" (after moving a directory away), so they
            // count as every other such message.
            I::Cache(CacheError::Corrupt { .. } | CacheError::NotAFile { .. }) => K::LoginRequired,
            I::Network { .. } | I::Service { .. } => K::Service,
            I::Cache(CacheError::Keyring(_)) => K::Keyring,
            I::Listener(_) | I::Lock { .. } | I::Cache(_) => K::Other,
        }
    }
}

/// Describes an SDK failure without the request (which carries secrets). An answer that
/// could not be parsed reads "unreadable answer", as the portal's do.
pub(crate) fn from_sdk<E>(
    operation: &'static str,
    endpoint: &str,
    err: &SdkError<E, HttpResponse>,
) -> IdentityError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::DispatchFailure(failure) => IdentityError::Network {
            endpoint: endpoint.to_string(),
            detail: Unreached::from(crate::http::explain(err, endpoint), || {
                match failure.is_timeout() {
                    true => "timed out".to_string(),
                    false => "connection failed".to_string(),
                }
            }),
        },
        SdkError::TimeoutError(_) => IdentityError::Network {
            endpoint: endpoint.to_string(),
            detail: Unreached::from(
                crate::http::explain(err, endpoint)
                    .or_else(|| crate::http::explain_timeout(endpoint)),
                || "timed out".to_string(),
            ),
        },
        SdkError::ServiceError(service) => {
            let e = service.err();
            let status = service.raw().status().as_u16();
            let detail = match (e.code(), e.message()) {
                // A success status with an error: the body could not be parsed.
                _ if (200..300).contains(&status) => {
                    format!("unreadable answer (HTTP {status})")
                }
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_string(),
                (None, Some(message)) => format!("HTTP {status}: {message}"),
                (None, None) => format!("unreadable answer (HTTP {status})"),
            };
            IdentityError::Service {
                operation,
                detail: for_terminal(&detail),
            }
        }
        SdkError::ResponseError(response) => IdentityError::Service {
            operation,
            detail: format!(
                "unreadable answer (HTTP {})",
                response.raw().status().as_u16()
            ),
        },
        _ => IdentityError::Service {
            operation,
            detail: "the request could not be built".to_string(),
        },
    }
}

/// A short description of a portal (aws-sdk-sso) failure for a warning line, naming the cause
/// as the portal's own errors do: the service's code and message, "unreadable answer" for a
/// body that could not be read, "no answer in time" or the OS's reason when it was not reached.
/// A proxy or TLS failure on the way to `endpoint` is worded by [`crate::http::explain`].
pub fn describe_portal_error<E>(
    err: &aws_sdk_sso::error::SdkError<E, aws_sdk_sso::config::http::HttpResponse>,
    endpoint: &str,
) -> String
where
    E: aws_sdk_sso::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_sdk_sso::error::SdkError as S;
    if matches!(err, S::TimeoutError(_) | S::DispatchFailure(_)) {
        let explained = crate::http::explain(err, endpoint).or_else(|| {
            matches!(err, S::TimeoutError(_))
                .then(|| crate::http::explain_timeout(endpoint))
                .flatten()
        });
        if let Some(explained) = explained {
            return format!("could not reach the portal: {explained}");
        }
    }
    match err {
        // A success status with an error: the body could not be parsed.
        S::ServiceError(service) if service.raw().status().is_success() => {
            "unreadable answer".to_string()
        }
        S::ServiceError(service) => for_terminal(&format!(
            "{}: {}",
            service.err().code().unwrap_or("error"),
            service.err().message().unwrap_or("no message")
        )),
        S::TimeoutError(_) => "could not reach the portal: no answer in time".to_string(),
        S::DispatchFailure(failure) if failure.is_timeout() => {
            "could not reach the portal: no answer in time".to_string()
        }
        S::DispatchFailure(_) => {
            let mut cause: &(dyn std::error::Error + 'static) = err;
            while let Some(source) = cause.source() {
                cause = source;
            }
            for_terminal(&format!("could not reach the portal: {cause}"))
        }
        _ => "unreadable answer".to_string(),
    }
}
