//! Where a row of the portal turns into what the engine works with: its [`Target`], its cache
//! key, how it may sign in, and the region its exports name. A new kind of row (a new
//! [`Source`]) gets its arm here and nowhere else in the controller (a chained profile's rows,
//! and what the portal refuses to do for them, are in `chained.rs`).

use anyhow::Context as _;

use crate::awsconfig::ConfigFile;
use crate::engine::{self, BrowserChoice, Target};
use crate::identity::{Browser, OnMissing};
use crate::settings::SsoSession;
use crate::tui::{Choice, Source};

use super::portal::Portal;

/// The region a profile for this role names (for `AWS_REGION` in the exports): the first
/// profile of the session with the same account and role that has a `region`.
pub(super) fn profile_region(
    config: &ConfigFile,
    session: &SsoSession,
    account_id: &str,
    role: &str,
) -> Option<String> {
    config.profile_names().into_iter().find_map(|name| {
        let p = config.profile(name)?;
        let same_session = match (&session.name, p.get("sso_session")) {
            (Some(ours), Some(theirs)) => ours == theirs,
            (None, None) => p.get("sso_start_url") == Some(session.start_url.as_str()),
            _ => false,
        };
        (same_session
            && p.get("sso_account_id") == Some(account_id)
            && p.get("sso_role_name") == Some(role))
        .then(|| p.get("region").map(String::from))
        .flatten()
    })
}

impl Portal {
    /// The cache key, target and sign-in policy for the chosen row: the open sso-session's
    /// role, or a saml-session's.
    pub(super) fn source_target(
        &self,
        choice: &Choice,
    ) -> anyhow::Result<(String, Target, OnMissing)> {
        match &choice.source {
            Source::IdentityCenter => {
                let session = self.current.clone().context("no session is open")?;
                let target =
                    Target::identity_center(session.clone(), &choice.account_id, &choice.role);
                Ok((
                    session.cache_key().to_string(),
                    target,
                    OnMissing::fail_by_environment(),
                ))
            }
            Source::Saml { session, role_arn } => {
                let saml_session = self.ctx.saml_session(session)?;
                let key = saml_session.cache_key();
                let target = Target::saml(saml_session, role_arn)
                    .context("the SAML role's ARN is not an IAM role ARN")?;
                Ok((key, target, self.saml_on_missing(session)))
            }
            // A chained profile, resolved through the engine's chain reading; its source's
            // sign-in is never started from here (see `chained.rs`).
            Source::Chained { profile } => {
                let target = Target::Chained(self.chained_role(profile)?);
                Ok((
                    target.cache_key().to_string(),
                    target,
                    OnMissing::fail_by_environment(),
                ))
            }
        }
    }

    /// The region for the row's exports: a profile's for the same role, if one names it.
    pub(super) fn region(&self, choice: &Choice) -> Option<String> {
        match (&choice.source, &self.current) {
            (Source::IdentityCenter, Some(session)) => {
                profile_region(&self.ctx.config, session, &choice.account_id, &choice.role)
            }
            (Source::Chained { profile }, _) => self
                .ctx
                .config
                .profile(profile)
                .and_then(|p| p.get("region"))
                .map(String::from),
            _ => None,
        }
    }

    /// The profile that names the row's role, if the config has one: it chooses the browser
    /// and names the console's container. A SAML row's browser is its saml-session's.
    pub(super) fn role_profile(&self, choice: &Choice) -> Option<String> {
        match &choice.source {
            Source::IdentityCenter => {
                let session = self.current.as_ref().and_then(|s| s.name.clone());
                self.ctx
                    .profile_for_role(session.as_deref(), &choice.account_id, &choice.role)
            }
            Source::Saml { .. } => None,
            // The row is the profile: its portico_browser and console container.
            Source::Chained { profile } => Some(profile.clone()),
        }
    }

    /// How a saml-session signs in from the portal: its own browser setting (and `--browser`).
    pub(super) fn saml_on_missing(&self, name: &str) -> OnMissing {
        let setting = self
            .ctx
            .saml_browser_setting(self.browser_flag.as_deref(), name);
        match Browser::from_setting(&setting) {
            Ok(browser) => engine::sign_in_policy(&self.ctx, false, BrowserChoice::Given(browser)),
            Err(_) => OnMissing::fail_by_environment(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_comes_from_a_profile_for_the_same_role() {
        let config = ConfigFile::parse(
            std::path::Path::new("config"),
            "[sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = eu-central-1\n\n\
             [profile other]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Read\nregion = us-east-1\n\n\
             [profile admin]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Admin\nregion = eu-west-1\n",
        )
        .unwrap();
        let session = SsoSession {
            name: Some("corp".into()),
            start_url: "https://d-1234567890.awsapps.com/start".into(),
            region: "eu-central-1".into(),
            scopes: vec![],
            configured_scopes: None,
            oidc_endpoint: String::new(),
            portal_endpoint: String::new(),
            storage: Default::default(),
        };
        assert_eq!(
            profile_region(&config, &session, "111122223333", "Admin").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            profile_region(&config, &session, "111122223333", "Power"),
            None
        );
        let other = SsoSession {
            name: Some("elsewhere".into()),
            ..session
        };
        assert_eq!(
            profile_region(&config, &other, "111122223333", "Admin"),
            None
        );
    }
}
