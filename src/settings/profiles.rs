//! Profiles: the session a profile signs in with (its `sso_session`, or legacy keys in the
//! profile), a profile that names an account and role ([`RoleProfile`]), the `ca_bundle` it
//! lends to requests, and the one-line message for a profile that is not there.

use std::path::PathBuf;

use super::{
    check_account_id, check_region, check_start_url, closest_names, names, Context, ProfileSource,
    SettingsError,
};
use crate::awsconfig::{ConfigFile, Section};
use crate::consts as keys;
use crate::model::SsoSession;

/// A profile that names an account and role (what credentials are issued for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleProfile {
    pub profile: String,
    pub session: SsoSession,
    pub account_id: String,
    pub role_name: String,
    /// The profile's `region`, handed to programs as `AWS_REGION`.
    pub region: Option<String>,
}

impl Context {
    /// Notes the `ca_bundle` of `profile` (botocore's key) for this process's requests: the
    /// HTTP stack adds its certificates to the system's roots at the first request (see
    /// `crate::http::tls`). `~/` is the home directory.
    pub fn note_ca_bundle(&self, profile: &str) {
        let Some(path) = self
            .config
            .profile(profile)
            .and_then(|section| section.get(keys::CA_BUNDLE))
            .filter(|p| !p.trim().is_empty())
        else {
            return;
        };
        let path = match (path.strip_prefix("~/"), &self.env.home) {
            (Some(rest), Some(home)) => home.join(rest),
            _ => PathBuf::from(path),
        };
        crate::http::tls::note_profile_bundle(profile, &path);
    }

    /// The session a profile uses (through `sso_session`, or legacy keys in the profile).
    pub fn profile_session(&self, profile: &str) -> Result<SsoSession, SettingsError> {
        self.profile_session_from(profile, ProfileSource::Flag)
    }

    /// [`profile_session`](Self::profile_session) for a name that came from `origin`.
    pub fn profile_session_from(
        &self,
        profile: &str,
        origin: ProfileSource,
    ) -> Result<SsoSession, SettingsError> {
        let section = self.find_profile(profile, origin)?;
        self.note_ca_bundle(profile);
        if let Some(name) = section.get(keys::SSO_SESSION) {
            let session = self.named_session(name)?;
            for (key, value) in [
                (keys::SSO_START_URL, &session.start_url),
                (keys::SSO_REGION, &session.region),
            ] {
                if let Some(own) = section.get(key) {
                    if own != value {
                        return Err(SettingsError::Mismatch {
                            profile: profile.to_string(),
                            path: self.path(),
                            key,
                            detail: format!(
                                "{key} = {own} but its sso-session \"{name}\" says {value}"
                            ),
                        });
                    }
                }
            }
            return Ok(session);
        }
        if let Some(start_url) = section.get(keys::SSO_START_URL) {
            let header = format!("profile {profile}");
            let region = self.require(section, &header, keys::SSO_REGION)?;
            check_start_url(&format!("sso_start_url of [{header}]"), start_url)?;
            check_region(&format!("sso_region of [{header}]"), region)?;
            return self.build_session(None, start_url, region, Vec::new());
        }
        Err(SettingsError::NotSso {
            profile: profile.to_string(),
            path: self.path(),
        })
    }

    /// A profile that names an account and role, validated.
    pub fn role_profile(&self, profile: &str) -> Result<RoleProfile, SettingsError> {
        self.role_profile_from(profile, ProfileSource::Flag)
    }

    /// The role profile a command uses: `--profile` (`flag`), else `AWS_PROFILE`, else
    /// `AWS_DEFAULT_PROFILE`, else `default`; an error says which it was.
    pub fn selected_role_profile(&self, flag: Option<&str>) -> Result<RoleProfile, SettingsError> {
        let (profile, origin) = self.env.pick_profile(flag);
        self.role_profile_from(&profile, origin)
    }

    /// [`role_profile`](Self::role_profile) for a name that came from `origin`.
    pub fn role_profile_from(
        &self,
        profile: &str,
        origin: ProfileSource,
    ) -> Result<RoleProfile, SettingsError> {
        let session = self.profile_session_from(profile, origin)?;
        let section = self.find_profile(profile, origin)?;
        let need = |key: &'static str| {
            section
                .get(key)
                .map(String::from)
                .ok_or_else(|| SettingsError::NoRole {
                    profile: profile.to_string(),
                    path: self.path(),
                    key,
                })
        };
        let region = section.get(keys::REGION).map(String::from);
        if let Some(region) = &region {
            check_region(&format!("region of [profile {profile}]"), region)?;
        }
        let account_id = need(keys::SSO_ACCOUNT_ID)?;
        check_account_id(
            &format!("sso_account_id of [profile {profile}]"),
            &account_id,
        )?;
        Ok(RoleProfile {
            profile: profile.to_string(),
            account_id,
            role_name: need(keys::SSO_ROLE_NAME)?,
            region,
            session,
        })
    }

    pub(super) fn find_profile(
        &self,
        profile: &str,
        origin: ProfileSource,
    ) -> Result<&Section, SettingsError> {
        self.checked(self.config.profile(profile))?.ok_or_else(|| {
            // Only some sections were loaded (the warm path): the suggestions need them all.
            let full;
            let config = match self.config.is_partial() {
                true => match ConfigFile::load(&self.config.path) {
                    Ok(loaded) => {
                        full = loaded;
                        &full
                    }
                    Err(_) => &self.config,
                },
                false => &self.config,
            };
            let all = config.profile_names();
            SettingsError::ProfileNotFound {
                profile: profile.to_string(),
                origin,
                path: self.path(),
                suggestions: names(closest_names(profile, &all)),
                count: all.len(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::{ctx, ctx_with, CONFIG};
    use crate::settings::Environment;
    use std::path::Path;

    #[test]
    fn a_resolved_profiles_ca_bundle_is_noted_for_the_http_stack() {
        let text = format!(
            "{CONFIG}\n[profile bundled]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = R\nca_bundle = ~/certs/corp.pem\n"
        );
        let env = Environment {
            home: Some(PathBuf::from("/home/u")),
            ..Environment::default()
        };
        let c = ctx_with(&text, env);
        c.role_profile("bundled").unwrap();
        let noted = crate::http::tls::bundles();
        crate::http::tls::forget_profile_bundle(Path::new("/home/u/certs/corp.pem"));
        assert!(
            noted
                .iter()
                .any(|b| b.path == Path::new("/home/u/certs/corp.pem")
                    && b.source.to_string() == "ca_bundle of profile bundled"),
            "{noted:?}"
        );
    }

    #[test]
    fn role_profile_through_sso_session() {
        let p = ctx().role_profile("dev-admin").unwrap();
        assert_eq!(p.account_id, "111122223333");
        assert_eq!(p.role_name, "AdministratorAccess");
        assert_eq!(p.region.as_deref(), Some("eu-west-1"));
        assert_eq!(p.session.name.as_deref(), Some("corp"));
    }

    #[test]
    fn legacy_profile_uses_start_url_as_cache_key_and_no_scopes() {
        let p = ctx().role_profile("legacy").unwrap();
        assert_eq!(p.session.name, None);
        assert_eq!(p.session.cache_key(), "https://legacy.awsapps.com/start");
        assert!(p.session.scopes.is_empty());
        assert_eq!(p.session.region, "us-west-2");
    }

    #[test]
    fn matching_duplicated_keys_are_accepted_and_mismatches_refused() {
        assert_eq!(
            ctx().profile_session("matching").unwrap().cache_key(),
            "corp"
        );
        let err = ctx().profile_session("clash").unwrap_err().to_string();
        assert!(
            err.contains("sso_region = us-east-1") && err.contains("eu-central-1"),
            "{err}"
        );
        assert!(
            err.contains("remove sso_region from [profile clash]"),
            "{err}"
        );
    }

    #[test]
    fn errors_name_the_problem_and_the_fix() {
        let c = ctx();
        let err = c.profile_session("nope").unwrap_err().to_string();
        assert!(
            err.contains("profile \"nope\" is not in /home/u/.aws/config (named by --profile)"),
            "{err}"
        );
        assert!(
            !err.contains("dev-admin"),
            "no list of every profile: {err}"
        );
        assert!(err.contains("`portico list`"), "{err}");

        let err = c.profile_session("dangling").unwrap_err().to_string();
        assert!(
            err.contains("sso-session \"nope\"") && err.contains("known sso-sessions: corp"),
            "{err}"
        );

        let err = c.profile_session("plain").unwrap_err().to_string();
        assert!(err.contains("no Identity Center settings"), "{err}");

        let err = c.role_profile("half").unwrap_err().to_string();
        assert!(err.contains("no sso_role_name"), "{err}");
    }

    #[test]
    fn an_unknown_profile_says_where_its_name_came_from_and_what_is_close() {
        let err = ctx()
            .selected_role_profile(Some("dev-admn"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "profile \"dev-admn\" is not in /home/u/.aws/config (named by --profile); did you mean dev-admin? \
             pass the name of a profile in the file (`portico list` shows your roles, \
             `portico profiles sync` writes a profile for each)"
                .replace("? pass", "?; pass")
        );
        for (env, origin) in [
            (
                Environment {
                    profile: Some("Dev-Admin\u{1b}".into()),
                    default_profile: Some("ignored".into()),
                    ..Environment::default()
                },
                "(named by AWS_PROFILE)",
            ),
            (
                Environment {
                    default_profile: Some("Dev-Admin\u{1b}".into()),
                    ..Environment::default()
                },
                "(named by AWS_DEFAULT_PROFILE)",
            ),
        ] {
            let err = ctx_with(CONFIG, env)
                .selected_role_profile(None)
                .unwrap_err()
                .to_string();
            assert!(err.contains(origin), "{err}");
            assert!(!err.contains('\u{1b}'), "cleaned: {err}");
            assert!(err.contains("did you mean dev-admin?"), "{err}");
        }
        // No name at all: say so rather than `profile "default"`.
        let err = ctx_with("[profile a]\nregion = us-east-1\n", Environment::default())
            .selected_role_profile(None)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "no profile was named (no --profile, AWS_PROFILE or AWS_DEFAULT_PROFILE)"
            ),
            "{err}"
        );
        assert!(!err.contains("\"default\""), "{err}");
        // Hundreds of profiles: a few suggestions, one line.
        let many: String = (0..300)
            .map(|i| format!("[profile acct{i}-Admin]\nregion = us-east-1\n"))
            .collect();
        let err = ctx_with(&many, Environment::default())
            .selected_role_profile(Some("acct1-admin"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean acct1-Admin, "), "{err}");
        assert!(err.len() < 400 && !err.contains('\n'), "{err}");
    }

    #[test]
    fn account_ids_in_profiles_are_twelve_digits() {
        let c = ctx_with(
            &CONFIG.replace(
                "sso_account_id = 111122223333\nsso_role_name = AdministratorAccess",
                "sso_account_id = 1111222233\nsso_role_name = AdministratorAccess",
            ),
            Environment::default(),
        );
        let err = c.role_profile("dev-admin").unwrap_err().to_string();
        assert!(
            err.contains("sso_account_id of [profile dev-admin] \"1111222233\" is not an AWS account ID: account IDs are 12 digits"),
            "{err}"
        );
    }

    #[test]
    fn the_warm_path_reads_two_sections_of_a_large_config() {
        let c = ctx_with(
            &crate::awsconfig::tests::many_profiles(8000),
            Environment::default(),
        );
        let p = c.selected_role_profile(Some("p7999")).unwrap();
        assert_eq!(p.account_id, "100000007999");
        assert_eq!(c.config.sections_read(), 2);
    }
}
