//! Which browser a sign-in or console link opens: `--browser`, `PORTICO_BROWSER`, the
//! profile's and the session's `portico_browser`, `BROWSER`, the system default — the value
//! unparsed (`identity::Browser` reads it) with where it came from.

use super::{Context, Selector};
use crate::consts as keys;
use crate::model::SsoSession;
use crate::sanitize::for_terminal;

/// The config key that names the browser for a profile or an sso-session (botocore and the
/// AWS SDKs ignore keys they do not know).
pub const BROWSER_KEY: &str = keys::PORTICO_BROWSER;

/// Where the browser setting came from, for messages and `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserOrigin {
    Flag,
    /// `PORTICO_BROWSER`.
    Variable,
    Profile(String),
    SsoSession(String),
    /// `portico_browser` of a `[saml-session NAME]`.
    SamlSession(String),
    /// `BROWSER`.
    BrowserVariable,
    SystemDefault,
}

impl std::fmt::Display for BrowserOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BrowserOrigin::Flag => f.write_str("--browser"),
            BrowserOrigin::Variable => f.write_str("PORTICO_BROWSER"),
            BrowserOrigin::Profile(p) => {
                write!(f, "{BROWSER_KEY} of [profile {}]", for_terminal(p))
            }
            BrowserOrigin::SsoSession(s) => {
                write!(f, "{BROWSER_KEY} of [sso-session {}]", for_terminal(s))
            }
            BrowserOrigin::SamlSession(s) => {
                write!(f, "{BROWSER_KEY} of [saml-session {}]", for_terminal(s))
            }
            BrowserOrigin::BrowserVariable => f.write_str("BROWSER"),
            BrowserOrigin::SystemDefault => f.write_str("the system default"),
        }
    }
}

/// The browser setting in force (unparsed: `identity::Browser` reads it) and its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserSetting {
    pub value: Option<String>,
    pub origin: BrowserOrigin,
}

impl Context {
    /// The browser for a command: `--browser`, then `PORTICO_BROWSER`, then `portico_browser`
    /// of `profile`, then of `sso_session`, then `BROWSER`, then the system default. Empty
    /// values count as unset.
    pub fn browser_setting(
        &self,
        flag: Option<&str>,
        profile: Option<&str>,
        sso_session: Option<&str>,
    ) -> BrowserSetting {
        let found = |value: Option<&str>, origin: BrowserOrigin| {
            value
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| BrowserSetting {
                    value: Some(v.to_string()),
                    origin,
                })
        };
        found(flag, BrowserOrigin::Flag)
            .or_else(|| found(self.env.portico_browser.as_deref(), BrowserOrigin::Variable))
            .or_else(|| {
                let p = profile?;
                let value = self.config.profile(p)?.get(BROWSER_KEY);
                found(value, BrowserOrigin::Profile(p.to_string()))
            })
            .or_else(|| {
                let s = sso_session?;
                let value = self.config.sso_session(s)?.get(BROWSER_KEY);
                found(value, BrowserOrigin::SsoSession(s.to_string()))
            })
            .or_else(|| found(self.env.browser.as_deref(), BrowserOrigin::BrowserVariable))
            .unwrap_or(BrowserSetting {
                value: None,
                origin: BrowserOrigin::SystemDefault,
            })
    }

    /// The profile of `sso_session` that names this account and role, if one does (for the
    /// portal's console: its `portico_browser` and its container name).
    pub fn profile_for_role(
        &self,
        sso_session: Option<&str>,
        account_id: &str,
        role_name: &str,
    ) -> Option<String> {
        let session = sso_session?;
        self.config
            .profile_names()
            .into_iter()
            .find(|name| {
                self.config.profile(name).is_some_and(|p| {
                    p.get(keys::SSO_SESSION) == Some(session)
                        && p.get(keys::SSO_ACCOUNT_ID) == Some(account_id)
                        && p.get(keys::SSO_ROLE_NAME) == Some(role_name)
                })
            })
            .map(String::from)
    }

    /// The browser for a command that works on a session picked by `selector` (`login`, the
    /// portal): the profile is `--profile`, else the one from the environment (or `default`)
    /// when the session was not named directly.
    pub fn browser_for_session(
        &self,
        flag: Option<&str>,
        selector: &Selector,
        session: &SsoSession,
    ) -> BrowserSetting {
        let profile = selector.profile.clone().or_else(|| {
            if selector.sso_session.is_some() || selector.start_url.is_some() {
                return None;
            }
            Some(self.env.profile_from_env().unwrap_or("default").to_string())
        });
        self.browser_setting(flag, profile.as_deref(), session.name.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use crate::settings::tests::ctx_with;
    use crate::settings::{Context, Environment};

    #[test]
    fn browser_setting_precedence() {
        let text = "[sso-session corp]\nsso_start_url = https://d-1.awsapps.com/start\nsso_region = eu-west-1\nportico_browser = firefox:corp\n\
                    [profile admin]\nsso_session = corp\nportico_browser = firefox-private\n[profile plain]\nsso_session = corp\nportico_browser =\n";
        let env = Environment {
            portico_browser: Some("chrome:Work".into()),
            browser: Some("lynx".into()),
            ..Environment::default()
        };
        let full = ctx_with(text, env.clone());
        let pick = |c: &Context, flag: Option<&str>, profile: Option<&str>| {
            let s = c.browser_setting(flag, profile, Some("corp"));
            (s.value, s.origin.to_string())
        };
        assert_eq!(
            pick(&full, Some("none"), Some("admin")),
            (Some("none".into()), "--browser".into())
        );
        assert_eq!(
            pick(&full, None, Some("admin")),
            (Some("chrome:Work".into()), "PORTICO_BROWSER".into())
        );
        let no_var = ctx_with(
            text,
            Environment {
                portico_browser: None,
                ..env.clone()
            },
        );
        assert_eq!(
            pick(&no_var, None, Some("admin")),
            (
                Some("firefox-private".into()),
                "portico_browser of [profile admin]".into()
            )
        );
        // An empty key does not hide the session's.
        assert_eq!(
            pick(&no_var, None, Some("plain")),
            (
                Some("firefox:corp".into()),
                "portico_browser of [sso-session corp]".into()
            )
        );
        let bare = "[sso-session corp]\nsso_start_url = https://d-1.awsapps.com/start\nsso_region = eu-west-1\n";
        let only_browser = ctx_with(
            bare,
            Environment {
                portico_browser: None,
                ..env
            },
        );
        assert_eq!(
            pick(&only_browser, None, None),
            (Some("lynx".into()), "BROWSER".into())
        );
        assert_eq!(
            pick(&ctx_with(bare, Environment::default()), None, None),
            (None, "the system default".into())
        );
    }
}
