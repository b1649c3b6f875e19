//! Names fixed by formats portico shares with the AWS CLI and SDKs: the keys of
//! `~/.aws/config` portico reads and writes, and the OAuth scope and grant types of Identity
//! Center's OIDC service (docs/protocol.md §1, §3). A leaf: it imports nothing, so every layer
//! (settings, awsconfig, identity, cache) can name them without depending on another.

/// Config key: the `[sso-session NAME]` a profile uses.
pub const SSO_SESSION: &str = "sso_session";
/// Config key: the AWS access portal URL (in an sso-session, or in a legacy profile).
pub const SSO_START_URL: &str = "sso_start_url";
/// Config key: the region Identity Center lives in.
pub const SSO_REGION: &str = "sso_region";
/// Config key: the account a profile signs into.
pub const SSO_ACCOUNT_ID: &str = "sso_account_id";
/// Config key: the role (permission set) a profile signs into.
pub const SSO_ROLE_NAME: &str = "sso_role_name";
/// Config key: the scopes an sso-session registers its client with, comma separated.
pub const SSO_REGISTRATION_SCOPES: &str = "sso_registration_scopes";
/// Config key: a command whose JSON output gives a profile its credentials.
pub const CREDENTIAL_PROCESS: &str = "credential_process";
/// Config key: a profile's default region for AWS calls.
pub const REGION: &str = "region";
/// Config key: a PEM file of CA certificates to trust (botocore's; portico adds them to the
/// system's roots, see `crate::http::tls`).
pub const CA_BUNDLE: &str = "ca_bundle";
/// Config key (portico's own; botocore and the SDKs ignore keys they do not know): the
/// browser to open for a profile or an sso-session.
pub const PORTICO_BROWSER: &str = "portico_browser";
/// Config key (portico's own) of an sso-session or saml-session: where its secrets are kept
/// (`file`, `keyring`, `kernel-keyring`; see `crate::vault`).
pub const PORTICO_STORAGE: &str = "portico_storage";

/// The scope that makes Identity Center issue refresh tokens; the default registration scope.
pub const SCOPE_ACCOUNT_ACCESS: &str = "sso:account:access";

/// OAuth grant type of the device-authorization flow.
pub const GRANT_DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// OAuth grant type of the authorization-code (PKCE) flow.
pub const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";
/// OAuth grant type of a refresh.
pub const GRANT_REFRESH_TOKEN: &str = "refresh_token";
