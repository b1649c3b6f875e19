//! Building the aws-sdk-ssooidc and aws-sdk-sso clients: the HTTP stack of [`crate::http`]
//! (proxy and certificates included), the endpoints from the resolved settings, and no
//! credentials (both services' operations are unsigned).

use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_sso::config::retry::RetryConfig;
use aws_sdk_sso::config::timeout::TimeoutConfig;
use aws_sdk_sso::config::{BehaviorVersion, Region};

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
