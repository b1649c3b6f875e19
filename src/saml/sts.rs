//! STS `AssumeRoleWithSAML` (docs/protocol.md, STS): the assertion exactly as the browser posted
//! it, one of its role pairs, and DurationSeconds from its SessionDuration attribute — asked
//! again with 3600 when the role's MaxSessionDuration is shorter, and at once with 3600 while
//! the same assertion is used for that role again ([`durations`](super::durations)). Errors
//! become [`SamlError`]s with the fix; none shows the assertion.

use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{BehaviorVersion, Region};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use time::OffsetDateTime;

use super::errors::clean;
use super::response::SamlRole;
use super::store::Assertion;
use super::{durations, AssertionStore, SamlError};
use crate::model::RoleCredentials;
use crate::secret::Secret;
use crate::settings::SamlSession;

/// What STS takes when DurationSeconds is not given, and what is asked again after a
/// ValidationError on a longer one.
pub const DEFAULT_DURATION: i32 = 3600;

fn client(session: &SamlSession) -> aws_sdk_sts::Client {
    let attempt = crate::aws::attempt_timeout();
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(session.sts_region.clone()))
        .endpoint_url(&session.sts_endpoint)
        .http_client(crate::http::sdk_client(&session.sts_endpoint))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(attempt.min(std::time::Duration::from_secs(10)))
                .operation_attempt_timeout(attempt)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

/// Keys for `role` from `assertion`; `store` keeps the note of a refused SessionDuration.
pub async fn assume(
    store: &AssertionStore,
    session: &SamlSession,
    assertion: &Assertion,
    role: &SamlRole,
) -> Result<RoleCredentials, SamlError> {
    let client = client(session);
    // SessionDuration is 900–43200 when Entra sends it; anything else is left to STS's default.
    let mut wanted = assertion
        .session_duration
        .filter(|d| (900..=43_200).contains(d))
        .and_then(|d| i32::try_from(d).ok());
    if let Some(duration) = wanted.filter(|d| *d != DEFAULT_DURATION) {
        if durations::refused(store, session, assertion, &role.role_arn, duration) {
            crate::info!(
                "STS refused DurationSeconds {duration} for {} with this assertion before; asking for {DEFAULT_DURATION}",
                role.role_name()
            );
            wanted = Some(DEFAULT_DURATION);
        }
    }
    match call(&client, session, assertion, role, wanted).await {
        Err(Refusal::Duration(message)) if wanted.is_some_and(|d| d != DEFAULT_DURATION) => {
            let refused = wanted.unwrap_or_default();
            crate::info!(
                "STS refused DurationSeconds {refused} for {} ({}); asking for {DEFAULT_DURATION}",
                role.role_name(),
                clean(&message)
            );
            durations::remember(store, session, assertion, &role.role_arn, refused);
            call(&client, session, assertion, role, Some(DEFAULT_DURATION))
                .await
                .map_err(Refusal::into_error)
        }
        other => other.map_err(Refusal::into_error),
    }
}

enum Refusal {
    /// A ValidationError about DurationSeconds: worth asking again with the default.
    Duration(String),
    Other(SamlError),
}

impl Refusal {
    fn into_error(self) -> SamlError {
        match self {
            Refusal::Duration(message) => SamlError::Service {
                detail: format!("ValidationError: {}", clean(&message)),
            },
            Refusal::Other(e) => e,
        }
    }
}

async fn call(
    client: &aws_sdk_sts::Client,
    session: &SamlSession,
    assertion: &Assertion,
    role: &SamlRole,
    duration: Option<i32>,
) -> Result<RoleCredentials, Refusal> {
    crate::info!(
        "AssumeRoleWithSAML for {} at {}",
        role.role_arn,
        session.sts_endpoint
    );
    let output = client
        .assume_role_with_saml()
        .role_arn(&role.role_arn)
        .principal_arn(&role.principal_arn)
        .saml_assertion(assertion.saml_response.expose())
        .set_duration_seconds(duration)
        .send()
        .await
        .map_err(|err| refusal(session, assertion, role, &err))?;
    let creds = output.credentials.ok_or_else(|| {
        Refusal::Other(SamlError::Service {
            detail: "the answer holds no credentials".into(),
        })
    })?;
    let expiration =
        OffsetDateTime::from_unix_timestamp(creds.expiration.secs()).map_err(|_| {
            Refusal::Other(SamlError::Service {
                detail: "the answer's Expiration is out of range".into(),
            })
        })?;
    Ok(RoleCredentials {
        access_key_id: creds.access_key_id,
        secret_access_key: Secret::new(creds.secret_access_key),
        session_token: Secret::new(creds.session_token),
        expiration,
        account_id: role.account_id().to_string(),
    })
}

fn refusal<E, R>(
    session: &SamlSession,
    assertion: &Assertion,
    role: &SamlRole,
    err: &SdkError<E, R>,
) -> Refusal
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let service = match err {
        SdkError::ServiceError(e) => e.err(),
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            return Refusal::Other(SamlError::Network {
                endpoint: session.sts_endpoint.clone(),
                detail: crate::http::Unreached::from(
                    crate::http::explain(err, &session.sts_endpoint).or_else(|| {
                        matches!(err, SdkError::TimeoutError(_))
                            .then(|| crate::http::explain_timeout(&session.sts_endpoint))
                            .flatten()
                    }),
                    || match err {
                        SdkError::TimeoutError(_) => "no answer in time".into(),
                        _ => "connection failed".into(),
                    },
                ),
            })
        }
        SdkError::ResponseError(_) => {
            return Refusal::Other(SamlError::Service {
                detail: "unreadable answer".into(),
            })
        }
        _ => {
            return Refusal::Other(SamlError::Service {
                detail: "the request could not be sent".into(),
            })
        }
    };
    let code = service.code().unwrap_or("Unknown").to_string();
    let message = service.message().unwrap_or_default().to_string();
    let e = match code.as_str() {
        "ValidationError"
            if message.contains("DurationSeconds") || message.contains("durationSeconds") =>
        {
            return Refusal::Duration(message)
        }
        "AccessDenied" => SamlError::AccessDenied {
            role_arn: clean(&role.role_arn),
            recipient: clean(
                assertion
                    .recipient
                    .as_deref()
                    .unwrap_or("http://localhost/saml"),
            ),
        },
        "InvalidIdentityToken" => SamlError::InvalidIdentityToken {
            message: clean(&message),
        },
        "ExpiredTokenException" => SamlError::ExpiredToken {
            message: clean(&message),
        },
        "IDPRejectedClaim" => SamlError::IdpRejectedClaim {
            message: clean(&message),
        },
        "RegionDisabledException" => SamlError::RegionDisabled {
            region: clean(&session.sts_region),
        },
        _ => SamlError::Service {
            detail: format!("{}: {}", clean(&code), clean(&message)),
        },
    };
    Refusal::Other(e)
}
