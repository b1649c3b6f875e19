//! The chained profiles' rows: each profile of the config file with `role_arn` and a
//! `source_profile` or `credential_source`, read through the engine's chain reading
//! ([`engine::chained_profiles`], [`engine::resolve`]), listed beside its source. What the
//! portal will not do for them on its own: start a sign-in the user did not ask for (a row
//! whose source is signed out names the sign-in it needs), or ask for an MFA code on
//! `/dev/tty` under the TUI's raw mode (a row with `mfa_serial` and no code says how to give
//! one).

use crate::engine::{self, ChainSource, ChainedRole, Target, Wanted};
use crate::saml::SamlError;
use crate::settings::{ProfileSource, SsoSession};
use crate::tui::ChainedProfile;

use super::portal::Portal;

/// The variable the engine reads an MFA code from (see `engine::assume::mfa_code`).
const MFA_CODE_VAR: &str = "PORTICO_MFA_CODE";

impl Portal {
    /// The chained profiles as rows, and a line for each that cannot be resolved (a loop, a
    /// missing source, an instance-metadata source…), which is left out of the list.
    pub(super) fn chained_rows(&self) -> (Vec<ChainedProfile>, Vec<String>) {
        let mut rows = Vec::new();
        let mut skipped = Vec::new();
        for name in engine::chained_profiles(&self.ctx) {
            match self.chained_role(&name) {
                Ok(role) => rows.push(ChainedProfile {
                    via: self.via(&name, &role),
                    role_arn: role.role_arn.clone(),
                    source_role: match &role.source {
                        ChainSource::Role(source) => Some((
                            source.account_id().to_string(),
                            source.role_name().to_string(),
                        )),
                        _ => None,
                    },
                    profile: name,
                }),
                Err(e) => skipped.push(e.to_string()),
            }
        }
        (rows, skipped)
    }

    /// Chained profile `name`, resolved as `portico credentials --profile NAME` resolves it.
    pub(super) fn chained_role(&self, name: &str) -> anyhow::Result<ChainedRole> {
        let wanted = Wanted::Profile {
            name: name.to_string(),
            origin: ProfileSource::Flag,
        };
        match engine::resolve(&self.ctx, &wanted)?.target {
            Target::Chained(role) => Ok(role),
            _ => anyhow::bail!("profile {name} is no longer a chained profile"),
        }
    }

    /// The name after `via`: the source profile, or `environment`.
    fn via(&self, name: &str, role: &ChainedRole) -> String {
        match &role.source {
            ChainSource::Keys { profile, .. } => profile.clone(),
            ChainSource::Environment => "environment".into(),
            ChainSource::Role(source) => match source.as_ref() {
                Target::Chained(ChainedRole {
                    profile: Some(p), ..
                }) => p.clone(),
                // An Identity Center or SAML source: the profile's own `source_profile`.
                _ => self
                    .ctx
                    .config
                    .profile(name)
                    .and_then(|p| p.get("source_profile"))
                    .unwrap_or("?")
                    .to_string(),
            },
        }
    }
}

/// Why the portal will not fetch keys for `role` now, when a role of its chain asks for an
/// MFA code and none was given: the portal cannot prompt on the terminal its screen holds.
/// Cached keys are still handed out (the caller asks this only when none are at hand).
pub(super) fn mfa_refusal(target: &Target) -> Option<String> {
    let Target::Chained(role) = target else {
        return None;
    };
    let code_given = std::env::var(MFA_CODE_VAR).is_ok_and(|v| !v.trim().is_empty());
    let mut link = Some(role);
    while let Some(r) = link {
        if r.mfa_serial.is_some() && r.mfa_code.is_none() && !code_given {
            let profile = r.profile.as_deref().unwrap_or_default();
            return Some(format!(
                "{} asks for an MFA code (mfa_serial), which the portal cannot ask for: run `portico credentials --profile {profile} --mfa-code CODE` once (the portal then uses the keys it caches), or start the portal with {MFA_CODE_VAR}=CODE",
                r.label()
            ));
        }
        link = match &r.source {
            ChainSource::Role(source) => match source.as_ref() {
                Target::Chained(inner) => Some(inner),
                _ => None,
            },
            _ => None,
        };
    }
    None
}

/// Whether `err` says a sign-in is missing (a token, as `jobs::needs_sign_in` says, or a SAML
/// assertion): for a chained row it is its source's sign-in, which [`sign_in_needed`] names.
pub(super) fn sign_in_missing(err: &anyhow::Error) -> bool {
    super::jobs::needs_sign_in(err)
        || err.chain().any(|e| {
            matches!(
                e.downcast_ref::<SamlError>(),
                Some(SamlError::LoginRequired { .. } | SamlError::NoBrowser { .. })
            )
        })
}

/// The sign-in a chained row needs, said in one line, and whether it is the open
/// sso-session's (the portal's signed-out screen then signs in with ⏎). The portal starts no
/// sign-in for a row the user only pressed a key on: the one at the bottom of the chain may
/// be another session's, with a browser of its own.
pub(super) fn sign_in_needed(target: &Target, open: Option<&SsoSession>) -> (String, bool) {
    let Target::Chained(role) = target else {
        return (String::new(), false);
    };
    let profile = role.profile.as_deref().unwrap_or_default();
    match role.signed_in_source() {
        Some(Target::IdentityCenter(source)) => {
            let is_open = open.is_some_and(|s| s.cache_key() == source.session.cache_key());
            let how = if is_open {
                "press ⏎ to sign in".to_string()
            } else {
                format!(
                    "sign in with `portico login --profile {profile}` (or open that session: `portico portal --profile {profile}`)"
                )
            };
            (
                format!(
                    "{} needs the sign-in of {}, which is signed out; {how}",
                    role.label(),
                    source.session.label()
                ),
                is_open,
            )
        }
        Some(Target::Saml(source)) => (
            format!(
                "{} needs the sign-in of {}, which has none kept; sign in with `portico login --saml-session {}`",
                role.label(),
                source.session.label(),
                crate::sanitize::for_terminal(&source.session.name)
            ),
            false,
        ),
        _ => (
            format!("{}: {}", role.label(), role.source_label()),
            false,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "\
[sso-session corp]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = eu-central-1

[sso-session other]
sso_start_url = https://d-9999999999.awsapps.com/start
sso_region = eu-west-1

[profile hub]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = PlatformEngineer

[profile far]
sso_session = other
sso_account_id = 111122223333
sso_role_name = Reader

[profile deploy]
role_arn = arn:aws:iam::444455556666:role/Deploy
source_profile = hub

[profile guarded]
role_arn = arn:aws:iam::444455556666:role/Guarded
source_profile = deploy
mfa_serial = arn:aws:iam::111122223333:mfa/alice

[profile remote]
role_arn = arn:aws:iam::444455556666:role/Remote
source_profile = far

[profile looped]
role_arn = arn:aws:iam::444455556666:role/A
source_profile = looped2

[profile looped2]
role_arn = arn:aws:iam::444455556666:role/B
source_profile = looped
";

    fn portal(home: &std::path::Path) -> Portal {
        Portal::over_config(home, CONFIG)
    }

    #[test]
    fn rows_name_their_source_and_a_loop_is_left_out_with_its_reason() {
        let home = tempfile::tempdir().unwrap();
        let (rows, skipped) = portal(home.path()).chained_rows();
        let got: Vec<_> = rows
            .iter()
            .map(|r| (r.profile.as_str(), r.via.as_str(), r.source_role.clone()))
            .collect();
        let role = |a: &str, r: &str| Some((a.to_string(), r.to_string()));
        assert_eq!(
            got,
            [
                ("deploy", "hub", role("111122223333", "PlatformEngineer")),
                ("guarded", "deploy", role("444455556666", "Deploy")),
                ("remote", "far", role("111122223333", "Reader")),
            ]
        );
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert!(
            skipped[0].contains("looped → looped2 → looped"),
            "{skipped:?}"
        );
    }

    #[test]
    fn a_role_that_wants_an_mfa_code_is_refused_with_the_way_to_give_one() {
        let home = tempfile::tempdir().unwrap();
        let portal = portal(home.path());
        let guarded = Target::Chained(portal.chained_role("guarded").unwrap());
        if std::env::var_os(MFA_CODE_VAR).is_none() {
            let why = mfa_refusal(&guarded).expect("refused");
            assert!(why.contains("--profile guarded --mfa-code CODE"), "{why}");
            assert!(why.contains(MFA_CODE_VAR), "{why}");
        }
        let deploy = Target::Chained(portal.chained_role("deploy").unwrap());
        assert_eq!(mfa_refusal(&deploy), None);
        // A code given (as `--mfa-code` gives it) is used instead.
        let Target::Chained(mut role) = guarded else {
            unreachable!()
        };
        role.mfa_code = Some(crate::secret::Secret::new("123456"));
        assert_eq!(mfa_refusal(&Target::Chained(role)), None);
    }

    #[test]
    fn the_sign_in_needed_is_named_and_only_the_open_one_is_pressed_for() {
        let home = tempfile::tempdir().unwrap();
        let portal = portal(home.path());
        let corp = portal.ctx.named_session("corp").unwrap();
        let deploy = Target::Chained(portal.chained_role("deploy").unwrap());
        let (why, open) = sign_in_needed(&deploy, Some(&corp));
        assert!(open);
        assert!(
            why.contains("profile deploy needs the sign-in of sso-session corp"),
            "{why}"
        );
        assert!(why.contains("press ⏎"), "{why}");
        let remote = Target::Chained(portal.chained_role("remote").unwrap());
        let (why, open) = sign_in_needed(&remote, Some(&corp));
        assert!(!open);
        assert!(why.contains("sso-session other"), "{why}");
        assert!(why.contains("portico login --profile remote"), "{why}");
    }
}
