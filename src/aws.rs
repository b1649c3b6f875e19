//! Building the aws-sdk-ssooidc, aws-sdk-sso and aws-sdk-sts clients: the HTTP stack of
//! [`crate::http`] (proxy and certificates included), the endpoints from the resolved settings,
//! and no credentials (the first two services' operations are unsigned; STS's AssumeRole is
//! signed with the keys its caller gives). What both STS callers (`saml::sts`'s
//! AssumeRoleWithSAML, `engine::assume`'s AssumeRole) share lives here too: the client, the
//! line for an STS that was not reached, and the answer's keys as [`RoleCredentials`].

use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_sso::config::retry::RetryConfig;
use aws_sdk_sso::config::timeout::TimeoutConfig;
use aws_sdk_sso::config::{BehaviorVersion, Region};

use crate::http::Unreached;
use crate::model::RoleCredentials;
use crate::secret::Secret;
use crate::settings::SsoSession;

/// The variable that bounds one HTTP attempt to AWS, in seconds (fractions allowed).
pub const HTTP_TIMEOUT_VAR: &str = "PORTICO_HTTP_TIMEOUT";

/// How long one attempt of one request may take before it is abandoned (and retried where the
/// caller retries): 30 s, or `PORTICO_HTTP_TIMEOUT` seconds. A slow network wants it longer; the
/// fault tests make it short so that a server that never answers is noticed in bounded time.
pub fn attempt_timeout() -> Duration {
    static TIMEOUT: OnceLock<Duration> = OnceLock::new();
    *TIMEOUT.get_or_init(|| {
        std::env::var(HTTP_TIMEOUT_VAR)
            .ok()
            .and_then(|v| parse_timeout(&v))
            .unwrap_or(Duration::from_secs(30))
    })
}

/// A positive number of seconds, at most a day; anything else is ignored.
fn parse_timeout(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs > 0.0 && secs <= 86_400.0).then(|| Duration::from_secs_f64(secs))
}

fn timeouts() -> TimeoutConfig {
    let attempt = attempt_timeout();
    TimeoutConfig::builder()
        .connect_timeout(attempt.min(Duration::from_secs(10)))
        .operation_attempt_timeout(attempt)
        .build()
}

/// A client for the OIDC service of the session's region (or `AWS_ENDPOINT_URL_SSO_OIDC`).
pub fn oidc_client(session: &SsoSession) -> aws_sdk_ssooidc::Client {
    let config = aws_sdk_ssooidc::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(session.region.clone()))
        .endpoint_url(&session.oidc_endpoint)
        .http_client(crate::http::sdk_client(&session.oidc_endpoint))
        .timeout_config(timeouts())
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .build();
    aws_sdk_ssooidc::Client::from_conf(config)
}

/// A client for the portal service of the session's region (or `AWS_ENDPOINT_URL_SSO`).
/// `retry` lets callers that pace themselves (listing) turn the SDK's own retries off.
pub fn portal_client(session: &SsoSession, retry: RetryConfig) -> aws_sdk_sso::Client {
    let config = aws_sdk_sso::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(session.region.clone()))
        .endpoint_url(&session.portal_endpoint)
        .http_client(crate::http::sdk_client(&session.portal_endpoint))
        .timeout_config(timeouts())
        .retry_config(retry)
        .build();
    aws_sdk_sso::Client::from_conf(config)
}

/// A client for STS in `region` at `endpoint` (the resolved `AWS_ENDPOINT_URL_STS` or the
/// regional one), signing with `credentials` when there are any (AssumeRoleWithSAML is
/// unsigned).
pub fn sts_client(
    region: &str,
    endpoint: &str,
    credentials: Option<aws_sdk_sts::config::Credentials>,
) -> aws_sdk_sts::Client {
    let mut config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .http_client(crate::http::sdk_client(endpoint))
        .timeout_config(timeouts())
        .retry_config(RetryConfig::standard().with_max_attempts(3));
    if let Some(credentials) = credentials {
        config = config.credentials_provider(credentials);
    }
    aws_sdk_sts::Client::from_conf(config.build())
}

/// Why STS at `endpoint` did not answer `err` (a dispatch failure or a timeout): the proxy's,
/// TLS's or the setup's own words, else "no answer in time" / "connection failed".
pub fn sts_unreached<E, R>(err: &aws_sdk_sts::error::SdkError<E, R>, endpoint: &str) -> Unreached
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    use aws_sdk_sts::error::SdkError;
    let timed_out = matches!(err, SdkError::TimeoutError(_));
    Unreached::from(
        crate::http::explain(err, endpoint).or_else(|| {
            timed_out
                .then(|| crate::http::explain_timeout(endpoint))
                .flatten()
        }),
        || match timed_out {
            true => "no answer in time".into(),
            false => "connection failed".into(),
        },
    )
}

/// The keys of an STS answer (`AssumeRole` or `AssumeRoleWithSAML`) for a role of
/// `account_id`; `Err` says, for the caller's service error, what is wrong with the answer.
pub fn sts_keys(
    credentials: Option<aws_sdk_sts::types::Credentials>,
    account_id: String,
) -> Result<RoleCredentials, &'static str> {
    let creds = credentials.ok_or("the answer holds no credentials")?;
    let expiration = time::OffsetDateTime::from_unix_timestamp(creds.expiration.secs())
        .map_err(|_| "the answer's Expiration is out of range")?;
    Ok(RoleCredentials {
        access_key_id: creds.access_key_id,
        secret_access_key: Secret::new(creds.secret_access_key),
        session_token: Secret::new(creds.session_token),
        expiration,
        account_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_values() {
        assert_eq!(parse_timeout("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_timeout(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_timeout("0"), None);
        assert_eq!(parse_timeout("-1"), None);
        assert_eq!(parse_timeout("soon"), None);
        assert_eq!(parse_timeout("1e9"), None);
    }
}
