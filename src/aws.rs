//! Building the aws-sdk-ssooidc and aws-sdk-sso clients: one HTTPS stack (hyper + rustls with
//! ring, native roots), the endpoints from the resolved settings, and no credentials (both
//! services' operations are unsigned).

use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_sso::config::retry::RetryConfig;
use aws_sdk_sso::config::timeout::TimeoutConfig;
use aws_sdk_sso::config::{BehaviorVersion, Region, SharedHttpClient};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

use crate::settings::SsoSession;

/// The one HTTP client, shared by both SDK clients so they share a connection pool.
pub fn http_client() -> SharedHttpClient {
    static CLIENT: OnceLock<SharedHttpClient> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            aws_smithy_http_client::Builder::new()
                .tls_provider(Provider::Rustls(CryptoMode::Ring))
                .build_https()
        })
        .clone()
}

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .operation_attempt_timeout(Duration::from_secs(30))
        .build()
}

/// A client for the OIDC service of the session's region (or `AWS_ENDPOINT_URL_SSO_OIDC`).
pub fn oidc_client(session: &SsoSession) -> aws_sdk_ssooidc::Client {
    let config = aws_sdk_ssooidc::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(session.region.clone()))
        .endpoint_url(&session.oidc_endpoint)
        .http_client(http_client())
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
        .http_client(http_client())
        .timeout_config(timeouts())
        .retry_config(retry)
        .build();
    aws_sdk_sso::Client::from_conf(config)
}
