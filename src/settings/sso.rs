//! Identity Center sessions: which one a command means ([`Selector`]: `--sso-session`,
//! `--start-url`, a profile, or the only one in the file), and each `[sso-session NAME]`
//! validated into an [`SsoSession`] with its endpoints.

use super::{check_region, check_start_url, names, Context, ProfileSource, SettingsError};
use crate::consts as keys;
use crate::model::SsoSession;

/// How the user picked the Identity Center session on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    pub profile: Option<String>,
    pub sso_session: Option<String>,
    pub start_url: Option<String>,
    pub region: Option<String>,
    /// Whether the command takes `--start-url`/`--region`, so that hints may suggest them.
    pub takes_start_url: bool,
}

impl Context {
    /// The session the selector names. With nothing selected: the session of the profile from
    /// the environment (or `default`) if it has one, else the only sso-session in the file.
    pub fn session(&self, selector: &Selector) -> Result<SsoSession, SettingsError> {
        // The profile a command runs under lends its ca_bundle, as in botocore.
        self.note_ca_bundle(&self.env.pick_profile(selector.profile.as_deref()).0);
        if let Some(start_url) = &selector.start_url {
            let region = selector
                .region
                .as_deref()
                .ok_or(SettingsError::StartUrlWithoutRegion)?;
            check_start_url("--start-url", start_url)?;
            check_region("--region", region)?;
            // A configured session with this start URL keeps its name (and so its cache file).
            let named = self.config.sso_session_names().into_iter().find(|name| {
                self.config.sso_session(name).is_some_and(|s| {
                    s.get(keys::SSO_START_URL) == Some(start_url.as_str())
                        && s.get(keys::SSO_REGION) == Some(region)
                })
            });
            if let Some(name) = named {
                return self.named_session(name);
            }
            return self.build_session(None, start_url, region, Vec::new());
        }
        if let Some(name) = &selector.sso_session {
            return self.named_session(name);
        }
        let (profile, origin) = self.env.pick_profile(selector.profile.as_deref());
        if origin != ProfileSource::Default {
            return self.profile_session_from(&profile, origin);
        }
        if let Some(default) = self.config.profile("default") {
            if default.get(keys::SSO_SESSION).is_some()
                || default.get(keys::SSO_START_URL).is_some()
            {
                return self.profile_session("default");
            }
        }
        match self.config.sso_session_names().as_slice() {
            [] => Err(SettingsError::NothingConfigured {
                path: self.path(),
                takes_start_url: selector.takes_start_url,
            }),
            [only] => self.named_session(only),
            many => Err(SettingsError::Ambiguous {
                path: self.path(),
                names: many.iter().map(|s| s.to_string()).collect(),
            }),
        }
    }

    /// Every configured session (named ones, then legacy start URLs), for `status`.
    pub fn all_sessions(&self) -> Vec<Result<SsoSession, SettingsError>> {
        let mut out: Vec<Result<SsoSession, SettingsError>> = self
            .config
            .sso_session_names()
            .into_iter()
            .map(|name| self.named_session(name))
            .collect();
        for profile in self.config.profile_names() {
            let Some(section) = self.config.profile(profile) else {
                continue;
            };
            if section.get(keys::SSO_SESSION).is_none()
                && section.get(keys::SSO_START_URL).is_some()
            {
                let session = self.profile_session(profile);
                let seen = out.iter().any(|s| match (s, &session) {
                    (Ok(a), Ok(b)) => a.cache_key() == b.cache_key(),
                    _ => false,
                });
                if !seen {
                    out.push(session);
                }
            }
        }
        out
    }

    /// The `[sso-session NAME]` section, validated.
    pub fn named_session(&self, name: &str) -> Result<SsoSession, SettingsError> {
        let section = self
            .checked(self.config.sso_session(name))?
            .ok_or_else(|| SettingsError::SessionNotFound {
                name: name.to_string(),
                path: self.path(),
                available: names(self.config.sso_session_names()),
            })?;
        let header = format!("sso-session {name}");
        let start_url = self.require(section, &header, keys::SSO_START_URL)?;
        let region = self.require(section, &header, keys::SSO_REGION)?;
        check_start_url(&format!("sso_start_url of [{header}]"), start_url)?;
        check_region(&format!("sso_region of [{header}]"), region)?;
        let configured: Option<Vec<String>> =
            section.get(keys::SSO_REGISTRATION_SCOPES).map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            });
        let scopes = configured
            .clone()
            .unwrap_or_else(|| vec![keys::SCOPE_ACCOUNT_ACCESS.to_string()]);
        let mut session = self.build_session(Some(name.to_string()), start_url, region, scopes)?;
        session.configured_scopes = configured;
        let stored = section.get(keys::PORTICO_STORAGE);
        session.storage = super::storage::resolve(stored, &header, &self.path())?;
        Ok(session)
    }

    pub(super) fn build_session(
        &self,
        name: Option<String>,
        start_url: &str,
        region: &str,
        scopes: Vec<String>,
    ) -> Result<SsoSession, SettingsError> {
        let endpoint = |specific: &Option<String>, name: &str, default: String| match specific
            .as_ref()
            .or(self.env.endpoint_url.as_ref())
        {
            Some(url) => {
                if url.starts_with("http://") || url.starts_with("https://") {
                    Ok(url.trim_end_matches('/').to_string())
                } else {
                    Err(SettingsError::BadEndpoint(format!("{name}={url}")))
                }
            }
            None => Ok(default),
        };
        Ok(SsoSession {
            name,
            start_url: start_url.to_string(),
            region: region.to_string(),
            scopes,
            configured_scopes: None,
            // Legacy profiles and a bare --start-url have no section to say it: the variable,
            // else files.
            storage: super::storage::resolve(None, "", &self.path())?,
            oidc_endpoint: endpoint(
                &self.env.endpoint_url_sso_oidc,
                "AWS_ENDPOINT_URL_SSO_OIDC",
                crate::model::partition::oidc_endpoint(region),
            )?,
            portal_endpoint: endpoint(
                &self.env.endpoint_url_sso,
                "AWS_ENDPOINT_URL_SSO",
                crate::model::partition::portal_endpoint(region),
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::{ctx, ctx_with, CONFIG};
    use crate::settings::Environment;

    #[test]
    fn named_session_with_defaults_for_endpoints() {
        let s = ctx().named_session("corp").unwrap();
        assert_eq!(s.cache_key(), "corp");
        assert_eq!(s.region, "eu-central-1");
        assert_eq!(s.scopes, vec!["sso:account:access"]);
        assert_eq!(s.oidc_endpoint, "https://oidc.eu-central-1.amazonaws.com");
        assert_eq!(
            s.portal_endpoint,
            "https://portal.sso.eu-central-1.amazonaws.com"
        );
    }

    #[test]
    fn service_specific_endpoint_variables_win_over_the_global_one() {
        let env = Environment {
            endpoint_url: Some("http://127.0.0.1:9/".into()),
            endpoint_url_sso_oidc: Some("http://127.0.0.1:7".into()),
            ..Environment::default()
        };
        let s = ctx_with(CONFIG, env).named_session("corp").unwrap();
        assert_eq!(s.oidc_endpoint, "http://127.0.0.1:7");
        assert_eq!(s.portal_endpoint, "http://127.0.0.1:9");

        let env = Environment {
            endpoint_url_sso: Some("ftp://x".into()),
            ..Environment::default()
        };
        let err = ctx_with(CONFIG, env).named_session("corp").unwrap_err();
        assert!(
            err.to_string().contains("AWS_ENDPOINT_URL_SSO=ftp://x"),
            "{err}"
        );
    }

    #[test]
    fn incomplete_and_invalid_sessions() {
        let c = ctx_with(
            "[sso-session a]\nsso_region = eu-west-1\n[sso-session b]\nsso_start_url = https://x.awsapps.com/start\nsso_region = europe\n\
             [sso-session c]\nsso_start_url = d-123.awsapps.com/start\nsso_region = eu-west-1\n",
            Environment::default(),
        );
        let err = c.named_session("a").unwrap_err().to_string();
        assert!(
            err.contains("[sso-session a]") && err.contains("no sso_start_url"),
            "{err}"
        );
        let err = c.named_session("b").unwrap_err().to_string();
        assert!(err.contains("\"europe\" is not an AWS region"), "{err}");
        let err = c.named_session("c").unwrap_err().to_string();
        assert!(err.contains("not a valid start URL"), "{err}");
    }

    #[test]
    fn selection_order() {
        let c = ctx();
        // Explicit session, then profile.
        let sel = Selector {
            sso_session: Some("corp".into()),
            ..Selector::default()
        };
        assert_eq!(c.session(&sel).unwrap().cache_key(), "corp");
        let sel = Selector {
            profile: Some("legacy".into()),
            ..Selector::default()
        };
        assert_eq!(c.session(&sel).unwrap().region, "us-west-2");
        // [default] has no SSO settings and there is exactly one sso-session.
        assert_eq!(c.session(&Selector::default()).unwrap().cache_key(), "corp");
        // AWS_PROFILE is honoured.
        let env = Environment {
            profile: Some("legacy".into()),
            ..Environment::default()
        };
        let c2 = ctx_with(CONFIG, env);
        assert_eq!(
            c2.session(&Selector::default()).unwrap().region,
            "us-west-2"
        );
        // AWS_DEFAULT_PROFILE as botocore reads it, below AWS_PROFILE.
        let env = Environment {
            default_profile: Some("legacy".into()),
            ..Environment::default()
        };
        assert_eq!(
            ctx_with(CONFIG, env)
                .session(&Selector::default())
                .unwrap()
                .region,
            "us-west-2"
        );
    }

    #[test]
    fn start_url_flag_reuses_a_matching_named_session() {
        let c = ctx();
        let sel = Selector {
            start_url: Some("https://d-1234567890.awsapps.com/start".into()),
            region: Some("eu-central-1".into()),
            ..Selector::default()
        };
        assert_eq!(c.session(&sel).unwrap().name.as_deref(), Some("corp"));
        let sel = Selector {
            start_url: Some("https://other.awsapps.com/start".into()),
            region: Some("eu-central-1".into()),
            ..Selector::default()
        };
        assert_eq!(
            c.session(&sel).unwrap().cache_key(),
            "https://other.awsapps.com/start"
        );
        let sel = Selector {
            start_url: Some("https://x.awsapps.com/start".into()),
            ..Selector::default()
        };
        assert!(matches!(
            c.session(&sel),
            Err(SettingsError::StartUrlWithoutRegion)
        ));
    }

    #[test]
    fn nothing_or_several_sessions() {
        let c = ctx_with("[default]\nregion = us-east-1\n", Environment::default());
        assert!(matches!(
            c.session(&Selector::default()),
            Err(SettingsError::NothingConfigured { .. })
        ));
        let c = ctx_with(
            "[sso-session a]\nsso_start_url = https://a.awsapps.com/start\nsso_region = eu-west-1\n\
             [sso-session b]\nsso_start_url = https://b.awsapps.com/start\nsso_region = eu-west-1\n",
            Environment::default(),
        );
        let err = c.session(&Selector::default()).unwrap_err().to_string();
        assert!(err.contains("several sso-sessions (a, b)"), "{err}");
        assert_eq!(c.all_sessions().len(), 2);
    }

    #[test]
    fn the_hint_for_an_empty_config_names_only_flags_the_command_has() {
        let c = ctx_with("[default]\nregion = us-east-1\n", Environment::default());
        let err = c.session(&Selector::default()).unwrap_err().to_string();
        assert!(!err.contains("--start-url"), "{err}");
        assert!(err.contains("run `portico configure` first"), "{err}");
        let sel = Selector {
            takes_start_url: true,
            ..Selector::default()
        };
        let err = c.session(&sel).unwrap_err().to_string();
        assert!(err.contains("--start-url URL --region REGION"), "{err}");
    }
}
