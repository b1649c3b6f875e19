//! `[saml-session NAME]` sections: Entra's SAML application for AWS and the STS endpoint that
//! turns its assertion into role keys, validated into a [`SamlSession`], and the browser a SAML
//! sign-in opens.

use super::{
    check_idp_url, check_region, BrowserOrigin, BrowserSetting, Context, SettingsError, BROWSER_KEY,
};
use crate::awsconfig::{saml_session_name, SectionKind, SAML_SESSION_PREFIX};
use crate::sanitize::for_terminal;

/// The identifier (entity id) of Entra's "AWS Single-Account Access" application.
pub const DEFAULT_SAML_ENTITY_ID: &str = "urn:amazon:webservices";

/// The region whose STS endpoint a SAML session uses by default.
pub const DEFAULT_STS_REGION: &str = "us-east-1";

/// A `[saml-session NAME]`: Entra's SAML application for AWS, signed into in the browser, and
/// the STS endpoint that turns its assertion into role keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlSession {
    pub name: String,
    /// `idp_url`: `https://login.microsoftonline.com/{tenant}/saml2`.
    pub idp_url: String,
    /// `entity_id`: the application's identifier, the AuthnRequest's Issuer.
    pub entity_id: String,
    /// `sts_region`: the regional STS endpoint's region.
    pub sts_region: String,
    /// `acs_port`: a fixed loopback port for the reply URL; `None` picks a free one.
    pub acs_port: Option<u16>,
    /// `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, else `https://sts.{sts_region}.amazonaws.com`.
    pub sts_endpoint: String,
    /// `portico_storage` (or `PORTICO_STORAGE`): where the kept assertion and keys are kept.
    pub storage: crate::model::Storage,
}

impl SamlSession {
    /// The key under which this session's role keys, assertion and locks are filed (never an
    /// sso-session's: those have no space in them).
    pub fn cache_key(&self) -> String {
        format!("{SAML_SESSION_PREFIX}{}", self.name)
    }

    /// How messages name this session, cleaned for a terminal (the name comes from a file).
    pub fn label(&self) -> String {
        format!("saml-session {}", for_terminal(&self.name))
    }
}

impl Context {
    /// The `[saml-session NAME]` sections, in file order.
    pub fn saml_session_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for section in self.config.sections() {
            if section.kind != SectionKind::Other {
                continue;
            }
            if let Some(name) = saml_session_name(&section.name) {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_string());
                }
            }
        }
        names
    }

    /// The `[saml-session NAME]` section, checked (the last copy wins, as for sso-sessions).
    pub fn saml_session(&self, name: &str) -> Result<SamlSession, SettingsError> {
        // The profile a command runs under (AWS_PROFILE or default) lends its ca_bundle.
        self.note_ca_bundle(&self.env.pick_profile(None).0);
        let section = self
            .config
            .sections()
            .into_iter()
            .rev()
            .find(|s| s.kind == SectionKind::Other && saml_session_name(&s.name) == Some(name));
        let section = self
            .checked(section)?
            .ok_or_else(|| SettingsError::SamlSessionNotFound {
                name: name.to_string(),
                path: self.path(),
                available: self.saml_session_names(),
            })?;
        let header = format!("saml-session {name}");
        let bad =
            |key: &'static str, value: &str, why: &'static str| SettingsError::BadSamlSetting {
                session: name.to_string(),
                path: self.path(),
                key,
                value: value.to_string(),
                why,
            };
        let idp_url = self.require(section, &header, "idp_url")?;
        check_idp_url(idp_url).map_err(|why| bad("idp_url", idp_url, why))?;
        let entity_id = section.get("entity_id").unwrap_or(DEFAULT_SAML_ENTITY_ID);
        if entity_id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad(
                "entity_id",
                entity_id,
                "has spaces or control characters; use the application's identifier, e.g. urn:amazon:webservices or urn:amazon:webservices#2",
            ));
        }
        let sts_region = section.get("sts_region").unwrap_or(DEFAULT_STS_REGION);
        check_region(&format!("sts_region of [{header}]"), sts_region)?;
        let acs_port = match section.get("acs_port") {
            None => None,
            Some(text) => Some(
                text.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| bad("acs_port", text, "is not a port number (1-65535); give the port of the reply URL http://localhost:PORT/saml or remove acs_port"))?,
            ),
        };
        let sts_endpoint = match self
            .env
            .endpoint_url_sts
            .as_ref()
            .map(|u| ("AWS_ENDPOINT_URL_STS", u))
            .or(self
                .env
                .endpoint_url
                .as_ref()
                .map(|u| ("AWS_ENDPOINT_URL", u)))
        {
            Some((var, url)) => {
                if url.starts_with("http://") || url.starts_with("https://") {
                    url.trim_end_matches('/').to_string()
                } else {
                    return Err(SettingsError::BadEndpoint(format!("{var}={url}")));
                }
            }
            None => crate::model::partition::sts_endpoint(sts_region),
        };
        Ok(SamlSession {
            name: name.to_string(),
            idp_url: idp_url.to_string(),
            entity_id: entity_id.to_string(),
            sts_region: sts_region.to_string(),
            acs_port,
            sts_endpoint,
            storage: super::storage::resolve(
                section.get(crate::consts::PORTICO_STORAGE),
                &header,
                &self.path(),
            )?,
        })
    }

    /// The browser for a SAML sign-in or console: `--browser`, `PORTICO_BROWSER`, the
    /// saml-session's `portico_browser`, `BROWSER`, the system default.
    pub fn saml_browser_setting(&self, flag: Option<&str>, session: &str) -> BrowserSetting {
        self.saml_browser_setting_for(flag, None, session)
    }

    /// [`saml_browser_setting`](Self::saml_browser_setting) for a role a profile names (one
    /// `profiles sync --saml-session` wrote): that profile's `portico_browser` comes before
    /// the saml-session's, as a profile's comes before its sso-session's.
    pub fn saml_browser_setting_for(
        &self,
        flag: Option<&str>,
        profile: Option<&str>,
        session: &str,
    ) -> BrowserSetting {
        let setting = self.browser_setting(flag, profile, None);
        if matches!(
            setting.origin,
            BrowserOrigin::Flag | BrowserOrigin::Variable | BrowserOrigin::Profile(_)
        ) {
            return setting;
        }
        let value = self
            .config
            .sections()
            .into_iter()
            .rev()
            .find(|s| s.kind == SectionKind::Other && saml_session_name(&s.name) == Some(session))
            .and_then(|s| s.get(BROWSER_KEY))
            .map(str::trim)
            .filter(|v| !v.is_empty());
        match value {
            Some(v) => BrowserSetting {
                value: Some(v.to_string()),
                origin: BrowserOrigin::SamlSession(session.to_string()),
            },
            None => setting,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::awsconfig::ConfigFile;
    use crate::settings::{BrowserOrigin, Environment};
    use std::path::Path;

    fn ctx(text: &str, env: Environment) -> Context {
        Context {
            env,
            config: ConfigFile::parse(Path::new("/home/u/.aws/config"), text).unwrap(),
        }
    }

    const TEXT: &str = "[profile dev]\nregion = eu-west-1\n\
        [saml-session aws]\nidp_url = https://login.microsoftonline.com/t/saml2\n\
        [saml-session  two ]\nidp_url = https://login.microsoftonline.com/t/saml2\nentity_id = urn:amazon:webservices#2\n\
        sts_region = eu-central-1\nacs_port = 8400\nportico_browser = firefox:work\n\
        [saml-sessions x]\nidp_url = https://x/\n";

    #[test]
    fn saml_sessions_with_defaults_and_every_key() {
        let c = ctx(TEXT, Environment::default());
        assert_eq!(c.saml_session_names(), vec!["aws", "two"]);
        let aws = c.saml_session("aws").unwrap();
        assert_eq!(aws.entity_id, "urn:amazon:webservices");
        assert_eq!(aws.sts_region, "us-east-1");
        assert_eq!(aws.sts_endpoint, "https://sts.us-east-1.amazonaws.com");
        assert_eq!(aws.acs_port, None);
        assert_eq!(aws.cache_key(), "saml-session aws");
        let two = c.saml_session("two").unwrap();
        assert_eq!(two.entity_id, "urn:amazon:webservices#2");
        assert_eq!(two.sts_endpoint, "https://sts.eu-central-1.amazonaws.com");
        assert_eq!(two.acs_port, Some(8400));
        let b = c.saml_browser_setting(None, "two");
        assert_eq!(b.value.as_deref(), Some("firefox:work"));
        assert_eq!(
            b.origin.to_string(),
            "portico_browser of [saml-session two]"
        );
        assert_eq!(
            c.saml_browser_setting(None, "aws").origin,
            BrowserOrigin::SystemDefault
        );
        assert_eq!(
            c.saml_browser_setting(Some("none"), "two").origin,
            BrowserOrigin::Flag
        );

        let env = Environment {
            endpoint_url: Some("http://127.0.0.1:9/".into()),
            ..Environment::default()
        };
        assert_eq!(
            ctx(TEXT, env.clone())
                .saml_session("aws")
                .unwrap()
                .sts_endpoint,
            "http://127.0.0.1:9"
        );
        let env = Environment {
            endpoint_url_sts: Some("http://127.0.0.1:7".into()),
            ..env
        };
        assert_eq!(
            ctx(TEXT, env).saml_session("aws").unwrap().sts_endpoint,
            "http://127.0.0.1:7"
        );
    }

    /// Settings and the config editor read a `[saml-session NAME]` header by one rule
    /// (`awsconfig::saml_session_name`): however the header is spaced, the section
    /// `--saml-session aws` reads is the one `configure --saml-session aws` changes (before,
    /// the editor knew only one space and added a second section), and the warm path's loader
    /// keeps it (before, it too knew only one space).
    #[test]
    fn settings_and_the_editor_read_a_saml_session_header_alike() {
        use crate::awsconfig::edit::{Document, SectionId};
        let dir = tempfile::tempdir().unwrap();
        for header in [
            "saml-session aws",
            "saml-session  aws",
            "saml-session\taws",
            " saml-session aws\t",
        ] {
            let text = format!("[{header}]\nidp_url = https://login.microsoftonline.com/t/saml2\n");
            assert_eq!(
                ctx(&text, Environment::default()).saml_session_names(),
                ["aws"],
                "{header:?}"
            );
            let mut doc = Document::parse(Path::new("config"), &text);
            let id = SectionId::saml_session("aws");
            assert!(doc.section(&id).is_some(), "the editor finds [{header:?}]");
            doc.upsert(&id, &[("sts_region", "eu-central-1")], &[])
                .unwrap();
            let edited = ctx(&doc.render(), Environment::default());
            assert_eq!(edited.config.sections().len(), 1, "{}", doc.render());
            assert_eq!(
                edited.saml_session("aws").unwrap().sts_region,
                "eu-central-1"
            );
            let path = dir.path().join("config");
            std::fs::write(&path, &text).unwrap();
            let env = Environment {
                config_file: Some(path),
                ..Environment::default()
            };
            let lazy = Context::load_lazy(env, Some("dev")).unwrap();
            assert!(lazy.saml_session("aws").is_ok(), "{header:?}");
        }
        // Other headers are no saml-session to either.
        for other in [
            "saml-sessionaws",
            "saml-session",
            "Saml-Session aws",
            "saml-sessions x",
        ] {
            assert_eq!(
                crate::awsconfig::saml_session_name(other),
                None,
                "{other:?}"
            );
        }
    }

    #[test]
    fn bad_saml_sessions_name_the_key_and_the_fix() {
        let err = |text: &str, name: &str| {
            ctx(text, Environment::default())
                .saml_session(name)
                .unwrap_err()
                .to_string()
        };
        let e = err(TEXT, "x");
        assert!(
            e.contains("saml-session \"x\" is not in")
                && e.contains("known saml-sessions: aws, two"),
            "{e}"
        );
        let e = err("[saml-session a]\nsts_region = eu-west-1\n", "a");
        assert!(e.contains("has no idp_url"), "{e}");
        let e = err(
            "[saml-session a]\nidp_url = http://login.microsoftonline.com/t/saml2\n",
            "a",
        );
        assert!(
            e.contains("idp_url") && e.contains("is not an https URL"),
            "{e}"
        );
        let e = err(
            "[saml-session a]\nidp_url = https://x/saml2\nacs_port = 70000\n",
            "a",
        );
        assert!(
            e.contains("acs_port \"70000\"") && e.contains("not a port number"),
            "{e}"
        );
        let e = err(
            "[saml-session a]\nidp_url = https://x/saml2\nsts_region = moon\n",
            "a",
        );
        assert!(e.contains("not an AWS region"), "{e}");
        // A local test IdP may be plain http.
        assert!(ctx(
            "[saml-session a]\nidp_url = http://127.0.0.1:8/t/saml2\n",
            Environment::default()
        )
        .saml_session("a")
        .is_ok());
    }
}
