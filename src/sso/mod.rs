//! The Identity Center portal (docs/protocol.md §2): the accounts and roles assigned to the user,
//! and role credentials. Listing ([`listing`]) shows accounts first, lists roles in the order
//! a shared [`priority`] handle gives, refreshes incrementally, and is paced adaptively (see
//! [`pacing`]) because large organisations always meet the portal's 429 throttling; errors are typed so that callers can
//! branch (sign in again on `Unauthorized`, explain `Forbidden`), and every message says what
//! to do next.

pub mod listing;
pub mod pacing;
pub mod priority;

use std::error::Error as StdError;
use std::time::{Duration, Instant};

use aws_sdk_sso::config::http::HttpResponse;
use aws_sdk_sso::config::retry::RetryConfig;
use aws_sdk_sso::error::{ProvideErrorMetadata, SdkError};
use time::OffsetDateTime;

use crate::http::Unreached;
use crate::model::{Account, Progress, RoleCredentials};
use crate::sanitize::for_terminal;
use crate::secret::Secret;
use crate::settings::SsoSession;
pub use listing::{Changes, Listed, Request, Update};
use pacing::PacerConfig;
pub use priority::{Priority, Tier};

/// Why a portal call failed, in the cases callers treat differently.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// The access token expired or was revoked: sign in again.
    #[error("Identity Center no longer accepts the sign-in of {session} (it expired or was revoked); run `portico login {flags}` and try again")]
    Unauthorized { session: String, flags: String },
    /// GetRoleCredentials answered 403 "No access".
    #[error("you have no access to role {role_name} in account {account_id} (Identity Center said \"No access\"); an administrator must assign you that permission set in that account; `portico list --refresh` shows what you have now")]
    Forbidden {
        account_id: String,
        role_name: String,
    },
    /// The account or role does not exist (for this user).
    #[error("Identity Center does not know role {role_name} in account {account_id}; check both with `portico list --refresh`")]
    NotFound {
        account_id: String,
        role_name: String,
    },
    /// ListAccounts returned no accounts at all.
    #[error("no AWS accounts are assigned to you in {session}: an administrator may not have assigned you a permission set yet, or SCIM may not have provisioned your user from Entra ID yet; ask your AWS administrator, then run `portico list --refresh`. If the browser signed you in with another Entra account than the one you meant, run `portico login --force` with a private window or another browser profile (e.g. --browser firefox-private)")]
    NoAssignments { session: String },
    /// 429 TooManyRequestsException beyond the bound: no call got through for a long time.
    #[error("Identity Center kept refusing {operation} with 429 Too Many Requests: {detail} ({throttled} calls throttled); wait a few minutes and try again")]
    Throttled {
        operation: &'static str,
        throttled: u64,
        detail: String,
    },
    /// 5xx, an unreadable answer, or an unexpected refusal.
    #[error("Identity Center failed {operation} ({}{detail}) after {attempts} attempt{}; try again in a few minutes, or run with -vv to see more", status.map(|s| format!("HTTP {s}: ")).unwrap_or_default(), if *attempts == 1 { "" } else { "s" })]
    Service {
        operation: &'static str,
        status: Option<u16>,
        detail: String,
        attempts: u32,
    },
    /// The endpoint could not be reached or did not answer in time.
    #[error("{}", detail.line(&format!("cannot reach Identity Center at {endpoint}"), &format!("check the network connection, and that sso_region {region} is the region your Identity Center is in")))]
    Network {
        endpoint: String,
        region: String,
        detail: Unreached,
    },
}

impl SsoError {
    /// What kind of failure this is, for the exit code and `serve`'s HTTP status.
    pub fn kind(&self) -> crate::failure::FailureKind {
        use crate::failure::FailureKind as K;
        use SsoError as P;
        match self {
            P::Unauthorized { .. } => K::LoginRequired,
            P::Forbidden { .. } | P::NotFound { .. } | P::NoAssignments { .. } => K::AccessDenied,
            P::Throttled { .. } | P::Service { .. } | P::Network { .. } => K::Service,
        }
    }
}

/// Lists every account assigned to the user and the roles in each, sorted by account name
/// then id, with the default pacing. `progress` is called on the caller's task as the listing
/// advances (and about every 250 ms while it waits).
pub async fn list_assignments(
    session: &SsoSession,
    token: &Secret,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vec<Account>, SsoError> {
    list_assignments_with(session, token, &PacerConfig::default(), progress).await
}

/// [`list_assignments`] with explicit pacing, retry and give-up settings.
pub async fn list_assignments_with(
    session: &SsoSession,
    token: &Secret,
    config: &PacerConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vec<Account>, SsoError> {
    let request = Request {
        config: config.clone(),
        ..Request::full(OffsetDateTime::now_utc())
    };
    let mut on_update = |update: Update| {
        if let Update::Progress(p) = update {
            progress(p);
        }
    };
    Ok(listing::list(session, token, &request, &mut on_update)
        .await?
        .list
        .accounts)
}

/// How long [`role_credentials`] keeps retrying a throttled call before it gives up: the same
/// bound as a listing's stall (no call through for this long means the service is not letting
/// this user's calls through at all).
pub const THROTTLE_BOUND: Duration = Duration::from_secs(60);

/// Short-lived credentials for `role_name` in `account_id` (GetRoleCredentials). 429s are
/// retried with jittered exponential backoff for up to [`THROTTLE_BOUND`], so that many
/// processes asking at once (terraform's providers, a test suite's workers) all get through
/// while the service admits any call; 5xx, unreadable answers and network failures are retried
/// three attempts in all.
pub async fn role_credentials(
    session: &SsoSession,
    token: &Secret,
    account_id: &str,
    role_name: &str,
) -> Result<RoleCredentials, SsoError> {
    role_credentials_within(session, token, account_id, role_name, THROTTLE_BOUND).await
}

/// [`role_credentials`] giving up on throttling after `throttle_bound` instead of
/// [`THROTTLE_BOUND`] (tests use a short bound).
pub async fn role_credentials_within(
    session: &SsoSession,
    token: &Secret,
    account_id: &str,
    role_name: &str,
    throttle_bound: Duration,
) -> Result<RoleCredentials, SsoError> {
    const ATTEMPTS: u32 = 3;
    const OPERATION: &str = "GetRoleCredentials";
    let context = Context::new(session);
    // portico retries itself: the SDK's standard mode gives up on 429 after three attempts.
    let client = crate::aws::portal_client(session, RetryConfig::disabled());
    let started = Instant::now();
    let mut backoff = pacing::Backoff::new();
    let (mut attempts, mut throttles, mut errors) = (0u32, 0u32, 0u32);
    let output = loop {
        attempts += 1;
        // Within this process a listing yields the throttle budget to this call.
        let pass = pacing::gate().credential_call().await;
        let result = client
            .get_role_credentials()
            .access_token(token.expose())
            .account_id(account_id)
            .role_name(role_name)
            .send()
            .await;
        drop(pass);
        let error = match result {
            Ok(output) => break output,
            Err(error) => error,
        };
        let failure = classify(&error, &context.endpoint);
        let wait = match failure {
            Failure::Throttled => {
                throttles += 1;
                let wait = backoff.delay(throttles);
                if started.elapsed() + wait > throttle_bound {
                    return Err(SsoError::Throttled {
                        operation: OPERATION,
                        throttled: u64::from(throttles),
                        detail: format!(
                            "gave up after {attempts} attempts in {} s",
                            started.elapsed().as_secs()
                        ),
                    });
                }
                crate::debug!(
                    "GetRoleCredentials throttled (429); retrying in {} ms",
                    wait.as_millis()
                );
                wait
            }
            Failure::Server { .. } | Failure::Network { .. } if errors + 1 < ATTEMPTS => {
                errors += 1;
                let detail = match &failure {
                    Failure::Network { detail } => detail.to_string(),
                    Failure::Server { detail, .. } => detail.clone(),
                    _ => String::new(),
                };
                crate::debug!("GetRoleCredentials failed ({detail}); retrying");
                backoff.delay(errors)
            }
            failure => {
                let attempts = if failure.is_retried() { errors + 1 } else { 1 };
                return Err(context.error(
                    OPERATION,
                    failure,
                    attempts,
                    Some((account_id, role_name)),
                ));
            }
        };
        tokio::time::sleep(wait).await;
    };
    let incomplete = |what: &str| SsoError::Service {
        operation: OPERATION,
        status: Some(200),
        detail: format!("the answer has no {what}"),
        attempts: 1,
    };
    let creds = output
        .role_credentials()
        .ok_or_else(|| incomplete("roleCredentials"))?;
    let expiration = OffsetDateTime::from_unix_timestamp(creds.expiration().div_euclid(1000))
        .map_err(|_| incomplete("valid expiration"))?;
    Ok(RoleCredentials {
        access_key_id: creds
            .access_key_id()
            .ok_or_else(|| incomplete("accessKeyId"))?
            .to_string(),
        secret_access_key: Secret::new(
            creds
                .secret_access_key()
                .ok_or_else(|| incomplete("secretAccessKey"))?,
        ),
        session_token: Secret::new(
            creds
                .session_token()
                .ok_or_else(|| incomplete("sessionToken"))?,
        ),
        expiration,
        account_id: account_id.to_string(),
    })
}

/// What kind of failure an SDK error is, by HTTP status and exception name.
#[derive(Debug)]
enum Failure {
    Throttled,
    Unauthorized,
    Forbidden,
    NotFound,
    /// 5xx, or an answer that could not be read: worth retrying.
    Server {
        status: Option<u16>,
        detail: String,
    },
    /// No connection or no answer in time: worth a few retries.
    Network {
        detail: Unreached,
    },
    /// Anything else (400 InvalidRequestException, unexpected statuses): retrying will not help.
    Other {
        status: Option<u16>,
        detail: String,
    },
}

impl Failure {
    /// Whether the SDK's standard retry mode retries it.
    fn is_retried(&self) -> bool {
        matches!(
            self,
            Failure::Throttled | Failure::Server { .. } | Failure::Network { .. }
        )
    }
}

/// `endpoint` is the portal endpoint called: a proxy or TLS failure on the way to it is
/// worded by [`crate::http::explain`].
fn classify<E>(error: &SdkError<E, HttpResponse>, endpoint: &str) -> Failure
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    match error {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let err = service.err();
            let code = err.code();
            let detail = || {
                let text = match (code, err.message()) {
                    (Some(code), Some(message)) => format!("{code}: {message}"),
                    (Some(code), None) => code.to_string(),
                    (None, Some(message)) => message.to_string(),
                    (None, None) => "no error details".to_string(),
                };
                clean(&text)
            };
            match (code, status) {
                (Some("TooManyRequestsException"), _) | (_, 429) => Failure::Throttled,
                (Some("UnauthorizedException"), _) | (_, 401) => Failure::Unauthorized,
                (Some("ForbiddenException"), _) | (_, 403) => Failure::Forbidden,
                (Some("ResourceNotFoundException"), _) | (_, 404) => Failure::NotFound,
                // A success status with an error means the body could not be parsed.
                (_, 200..=299) => Failure::Server {
                    status: Some(status),
                    detail: "unreadable answer".to_string(),
                },
                (_, 500..=599) => Failure::Server {
                    status: Some(status),
                    detail: detail(),
                },
                _ => Failure::Other {
                    status: Some(status),
                    detail: detail(),
                },
            }
        }
        SdkError::ResponseError(response) => Failure::Server {
            status: Some(response.raw().status().as_u16()),
            detail: "unreadable answer".to_string(),
        },
        SdkError::TimeoutError(_) => Failure::Network {
            detail: Unreached::from(
                crate::http::explain(error, endpoint)
                    .or_else(|| crate::http::explain_timeout(endpoint)),
                || "no answer in time".to_string(),
            ),
        },
        SdkError::DispatchFailure(dispatch) => Failure::Network {
            detail: Unreached::from(crate::http::explain(error, endpoint), || {
                match dispatch.is_timeout() {
                    true => "no answer in time".to_string(),
                    false => clean(&root_cause(error)),
                }
            }),
        },
        SdkError::ConstructionFailure(_) => Failure::Other {
            status: None,
            detail: clean(&root_cause(error)),
        },
        _ => Failure::Other {
            status: None,
            detail: clean(&root_cause(error)),
        },
    }
}

/// The innermost message of an error chain ("Connection refused (os error 111)").
fn root_cause(error: &(dyn StdError + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

/// One line, no control characters, not too long: fit for an error message.
fn clean(text: &str) -> String {
    let line: String = for_terminal(text.trim()).chars().take(200).collect();
    line
}

/// What error messages name: the session and the endpoint.
struct Context {
    session: String,
    flags: String,
    endpoint: String,
    region: String,
}

impl Context {
    fn new(session: &SsoSession) -> Context {
        Context {
            session: session.label(),
            flags: session.selector_flags(),
            endpoint: for_terminal(&session.portal_endpoint),
            region: for_terminal(&session.region),
        }
    }

    /// The caller-facing error for a failure of `operation`; `role` is the (account, role)
    /// asked for, if any.
    fn error(
        &self,
        operation: &'static str,
        failure: Failure,
        attempts: u32,
        role: Option<(&str, &str)>,
    ) -> SsoError {
        match (failure, role) {
            (Failure::Throttled, _) => SsoError::Throttled {
                operation,
                throttled: u64::from(attempts),
                detail: format!("gave up after {attempts} attempts"),
            },
            (Failure::Unauthorized, _) => SsoError::Unauthorized {
                session: self.session.clone(),
                flags: self.flags.clone(),
            },
            (Failure::Forbidden, Some((account, role))) => SsoError::Forbidden {
                account_id: for_terminal(account),
                role_name: for_terminal(role),
            },
            (Failure::NotFound, Some((account, role))) => SsoError::NotFound {
                account_id: for_terminal(account),
                role_name: for_terminal(role),
            },
            (Failure::Forbidden, None) => SsoError::Service {
                operation,
                status: Some(403),
                detail: "access refused".to_string(),
                attempts,
            },
            (Failure::NotFound, None) => SsoError::Service {
                operation,
                status: Some(404),
                detail: "not found".to_string(),
                attempts,
            },
            (Failure::Server { status, detail } | Failure::Other { status, detail }, _) => {
                SsoError::Service {
                    operation,
                    status,
                    detail,
                    attempts,
                }
            }
            (Failure::Network { detail }, _) => SsoError::Network {
                endpoint: self.endpoint.clone(),
                region: self.region.clone(),
                detail,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_and_say_what_to_do() {
        let errors = [
            SsoError::Unauthorized {
                session: "sso-session corp".into(),
                flags: "--sso-session corp".into(),
            },
            SsoError::Forbidden {
                account_id: "111122223333".into(),
                role_name: "AdministratorAccess".into(),
            },
            SsoError::NotFound {
                account_id: "111122223333".into(),
                role_name: "AdministratorAccess".into(),
            },
            SsoError::NoAssignments {
                session: "sso-session corp".into(),
            },
            SsoError::Throttled {
                operation: "ListAccountRoles",
                throttled: 120,
                detail: "no call succeeded for 60 s".into(),
            },
            SsoError::Service {
                operation: "ListAccounts",
                status: Some(500),
                detail: "InternalServerException: boom".into(),
                attempts: 6,
            },
            SsoError::Network {
                endpoint: "https://portal.sso.eu-central-1.amazonaws.com".into(),
                region: "eu-central-1".into(),
                detail: Unreached::Plain("Connection refused (os error 111)".into()),
            },
        ];
        for e in &errors {
            let text = e.to_string();
            assert!(!text.contains('\n'), "{text}");
            assert!(
                ["run", "ask", "try again", "check", "must"]
                    .iter()
                    .any(|w| text.contains(w)),
                "{text}"
            );
        }
        let forbidden = errors[1].to_string();
        assert!(forbidden.contains("no access to role AdministratorAccess in account 111122223333"));
        assert!(forbidden.contains("administrator must assign"));
        assert!(errors[0]
            .to_string()
            .contains("portico login --sso-session corp"));
        assert!(errors[3].to_string().contains("SCIM"));
        assert!(errors[5].to_string().contains("HTTP 500"));
        assert!(errors[6].to_string().contains("sso_region eu-central-1"));
        let one = SsoError::Service {
            operation: "GetRoleCredentials",
            status: None,
            detail: "x".into(),
            attempts: 1,
        };
        assert!(one.to_string().contains("after 1 attempt;"), "{one}");
    }

    #[test]
    fn clean_keeps_one_short_line() {
        assert_eq!(clean(" a\nb\u{1b}[2J "), "a\u{fffd}b\u{fffd}[2J");
        assert_eq!(clean(&"x".repeat(500)).len(), 200);
    }
}
