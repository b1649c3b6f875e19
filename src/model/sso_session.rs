//! [`SsoSession`]: an Identity Center instance as resolved from the config and the environment.
//! Settings build it (`crate::settings::Context::session` and friends, which also re-export it
//! as `crate::settings::SsoSession`); the token cache names its files after it, and identity,
//! the portal API, the engine and the consumers all take it. It lives at the bottom so that the
//! token cache need not import settings (which reads the config through awsconfig, whose
//! editor takes the cache's locks).

use crate::sanitize::for_terminal;

/// An Identity Center instance and how portico talks to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSession {
    /// The `[sso-session NAME]`; `None` for a legacy profile or a bare `--start-url`.
    pub name: Option<String>,
    pub start_url: String,
    pub region: String,
    /// Scopes to register with; empty for legacy set-ups (which then get no refresh token).
    pub scopes: Vec<String>,
    /// `sso_registration_scopes` as configured, `None` when the key is absent. The AWS CLI
    /// names the client-registration cache file after exactly this (`"scopes": null` when
    /// absent), so sharing that file needs the difference between absent and the default.
    pub configured_scopes: Option<Vec<String>>,
    pub oidc_endpoint: String,
    pub portal_endpoint: String,
    /// `portico_storage` (or `PORTICO_STORAGE`): where the session's secrets are kept.
    pub storage: super::Storage,
}

impl SsoSession {
    /// The token-cache key: the session name, or the start URL for legacy set-ups.
    pub fn cache_key(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.start_url)
    }

    /// How messages name this session, cleaned for a terminal (the name comes from a file).
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("sso-session {}", for_terminal(name)),
            None => format!("start URL {}", for_terminal(&self.start_url)),
        }
    }

    /// The flags that select this session again, for "run this next" hints; cleaned for a
    /// terminal like [`label`](Self::label).
    pub fn selector_flags(&self) -> String {
        match &self.name {
            Some(name) => format!("--sso-session {}", for_terminal(name)),
            None => format!(
                "--start-url {} --region {}",
                for_terminal(&self.start_url),
                for_terminal(&self.region)
            ),
        }
    }
}
