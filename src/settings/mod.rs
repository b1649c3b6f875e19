//! Resolving what the user asked for (flags) against the environment and `~/.aws/config` into
//! one value the rest of portico takes: which Identity Center session, which endpoints, which
//! account and role. All validation of docs/protocol.md §3 lives here, with messages that say
//! how to fix the file.
//!
//! [`Context`] (the config file plus the environment) is loaded here; what it resolves is in
//! the files beside this one, one concern each: `environment` (variables, directories, which
//! profile), `sso` (which session; `[sso-session]` sections), `profiles` (a profile's session,
//! account and role), `saml` (`[saml-session]` sections), `browser` (the browser setting),
//! `rules` (what a start URL, account ID, region or IdP URL looks like) and `errors`
//! ([`SettingsError`]). Every public item is re-exported here, so the rest of portico names it
//! `crate::settings::X`.

mod browser;
mod environment;
mod errors;
mod profiles;
mod rules;
mod saml;
mod sso;
pub mod storage;

pub use crate::awsconfig::SAML_SESSION_PREFIX;
pub use crate::model::SsoSession;
pub use browser::{BrowserOrigin, BrowserSetting, BROWSER_KEY};
pub use environment::{Environment, ProfileSource};
pub use errors::{closest_names, SettingsError};
pub use profiles::RoleProfile;
pub use rules::{check_account_id, check_idp_url, check_region, check_start_url};
pub use saml::{SamlSession, DEFAULT_SAML_ENTITY_ID, DEFAULT_STS_REGION};
pub use sso::Selector;

use crate::awsconfig::{saml_session_name, ConfigFile, LoadError, Section, SectionKind};

/// The config file plus the environment: everything resolution reads.
#[derive(Clone)]
pub struct Context {
    pub env: Environment,
    pub config: ConfigFile,
}

impl Context {
    /// Loads the config file named by the environment.
    pub fn load(env: Environment) -> Result<Context, SettingsError> {
        let path = env.config_path()?;
        let config = ConfigFile::load(&path)?;
        Ok(Context { env, config })
    }

    /// [`load`](Self::load) for the warm path, which reads one profile and its sso-session:
    /// only the profile `profile_flag` selects (or the environment's, or `default`), `default`
    /// and the sso-sessions are kept, and only what is read is checked (see
    /// [`ConfigFile::load_only`]).
    pub fn load_lazy(
        env: Environment,
        profile_flag: Option<&str>,
    ) -> Result<Context, SettingsError> {
        let path = env.config_path()?;
        let (profile, _) = env.pick_profile(profile_flag);
        let keep = |kind: SectionKind, name: &str| match kind {
            SectionKind::Profile => name == profile || name == "default",
            SectionKind::SsoSession => true,
            SectionKind::Other => saml_session_name(name).is_some(),
            _ => false,
        };
        let config = ConfigFile::load_only(&path, &keep)?;
        Ok(Context { env, config })
    }

    fn path(&self) -> String {
        self.config.path.display().to_string()
    }

    /// A section just read, or the unreadable line in it (a lazily loaded file is checked as it
    /// is read).
    fn checked<'a>(
        &self,
        section: Option<&'a Section>,
    ) -> Result<Option<&'a Section>, SettingsError> {
        match self.config.read_problem() {
            Some(problem) => Err(SettingsError::Config(LoadError::Parse(problem))),
            None => Ok(section),
        }
    }

    /// `key` of `section` (whose header is `header`), or the error that says to add it.
    fn require<'a>(
        &self,
        section: &'a Section,
        header: &str,
        key: &'static str,
    ) -> Result<&'a str, SettingsError> {
        section.get(key).ok_or_else(|| SettingsError::MissingKey {
            section: header.to_string(),
            path: self.path(),
            key,
        })
    }
}

/// Owned copies of names the config lends, for an error to keep.
fn names(list: Vec<&str>) -> Vec<String> {
    list.into_iter().map(String::from).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::Path;

    pub(crate) const CONFIG: &str = "\
[default]
region = us-east-1

[sso-session corp]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = eu-central-1
sso_registration_scopes = sso:account:access

[profile dev-admin]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = AdministratorAccess
region = eu-west-1

[profile legacy]
sso_start_url = https://legacy.awsapps.com/start
sso_region = us-west-2
sso_account_id = 222233334444
sso_role_name = ReadOnlyAccess

[profile plain]
region = us-east-1

[profile matching]
sso_session = corp
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = eu-central-1

[profile clash]
sso_session = corp
sso_region = us-east-1

[profile dangling]
sso_session = nope

[profile half]
sso_session = corp
sso_account_id = 111122223333
";

    pub(crate) fn ctx_with(text: &str, env: Environment) -> Context {
        Context {
            env,
            config: ConfigFile::parse(Path::new("/home/u/.aws/config"), text).unwrap(),
        }
    }

    pub(crate) fn ctx() -> Context {
        ctx_with(CONFIG, Environment::default())
    }

    #[test]
    fn a_lazily_loaded_config_checks_the_sections_it_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let env = Environment {
            config_file: Some(path.clone()),
            ..Environment::default()
        };
        let text = format!("{CONFIG}\n[profile broken]\nsso_session = corp\nnot a setting\n");
        std::fs::write(&path, &text).unwrap();
        // The warm path does not trip over a line in a profile it does not read...
        let c = Context::load_lazy(env.clone(), Some("dev-admin")).unwrap();
        assert!(c.config.is_partial());
        assert_eq!(
            c.role_profile("dev-admin").unwrap().account_id,
            "111122223333"
        );
        // ...but reports one in the profile it reads, with its line, as a config error.
        let c = Context::load_lazy(env.clone(), Some("broken")).unwrap();
        let err = c.role_profile("broken").unwrap_err();
        assert!(
            matches!(err, SettingsError::Config(LoadError::Parse(_))),
            "{err}"
        );
        let line = text.lines().position(|l| l == "not a setting").unwrap() + 1;
        assert!(
            err.to_string()
                .contains(&format!("line {line}: expected `key = value`")),
            "{err}"
        );
        // Every other command refuses the file at once.
        assert!(Context::load(env.clone()).is_err());
        // An indented `[` may continue a value: then the whole file is read as usual.
        std::fs::write(
            &path,
            format!("{CONFIG}\n[profile x]\nnote = a\n  [odd]\nregion = r\n"),
        )
        .unwrap();
        let c = Context::load_lazy(env.clone(), Some("x")).unwrap();
        assert!(!c.config.is_partial());
        assert_eq!(
            c.config.profile_names().len(),
            Context::load(c.env.clone())
                .unwrap()
                .config
                .profile_names()
                .len()
        );
    }

    /// The warm path streams the file and keeps only what it may need; an unknown profile still
    /// gets suggestions from the whole file.
    #[test]
    fn the_streaming_load_keeps_only_the_profile_default_and_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let mut text = format!("\u{feff}# mine\n{CONFIG}");
        text.push_str(
            &crate::awsconfig::tests::many_profiles(3000)
                .replace("[sso-session corp]", "[sso-session other]"),
        );
        text.push_str("[profile dev-admin]\nregion = ap-south-1\n");
        std::fs::write(&path, &text).unwrap();
        let env = Environment {
            config_file: Some(path.clone()),
            ..Environment::default()
        };
        let c = Context::load_lazy(env.clone(), Some("dev-admin")).unwrap();
        assert!(c.config.is_partial());
        // [default], two [profile dev-admin] and two sso-sessions.
        assert_eq!(c.config.sections().len(), 5);
        let full = Context::load(env.clone()).unwrap();
        let (a, b) = (
            c.config.profile("dev-admin").unwrap(),
            full.config.profile("dev-admin").unwrap(),
        );
        assert_eq!((a.line, &a.settings), (b.line, &b.settings));
        assert_eq!(
            c.config.sso_session("corp").unwrap().line,
            full.config.sso_session("corp").unwrap().line
        );
        let err = Context::load_lazy(env, Some("p2999x"))
            .unwrap()
            .selected_role_profile(Some("p2999x"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean p2999"), "{err}");
    }
}
