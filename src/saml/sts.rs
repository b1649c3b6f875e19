//! STS `AssumeRoleWithSAML` (docs/protocol.md, STS): the assertion exactly as the browser posted
//! it, one of its role pairs, and DurationSeconds from its SessionDuration attribute — asked
//! again with 3600 when the role's MaxSessionDuration is shorter, and at once with 3600 while
//! the same assertion is used for that role again ([`durations`](super::durations)). Errors
//! become [`SamlError`]s with the fix; none shows the assertion.

use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

use super::errors::clean;
use super::response::SamlRole;
use super::store::Assertion;
use super::{durations, AssertionStore, SamlError};
use crate::model::RoleCredentials;
use crate::settings::SamlSession;

/// What STS takes when DurationSeconds is not given, and what is asked again after a
/// ValidationError on a longer one.
pub const DEFAULT_DURATION: i32 = 3600;

/// Keys for `role` from `assertion`; `store` keeps the note of a refused SessionDuration.
pub async fn assume(
    store: &AssertionStore,
    session: &SamlSession,
    assertion: &Assertion,
    role: &SamlRole,
) -> Result<RoleCredentials, SamlError> {
    let client = crate::aws::sts_client(&session.sts_region, &session.sts_endpoint, None);
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
    crate::aws::sts_keys(output.credentials, role.account_id().to_string()).map_err(|detail| {
        Refusal::Other(SamlError::Service {
            detail: detail.into(),
        })
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
                detail: crate::aws::sts_unreached(err, &session.sts_endpoint),
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
