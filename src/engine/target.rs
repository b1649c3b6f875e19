//! Where credentials come from. A [`Target`] names one role at one source. Callers say what
//! they want in plain values — a [`Wanted`]: a profile, an account and role, a SAML role; the
//! command line's flags and the credential server's routes both become one — and [`resolve`]
//! turns it into a target against the config file, which they hand to the engine, which alone
//! knows how each kind of source is asked. A new kind of source (a role chained from another)
//! is a new variant here, an arm in `resolve` and in the engine, and a route; no command has to
//! learn about it.

use super::chain::{self, ChainedRole};
use crate::awsconfig::credential_process::{parse_portico_command, PorticoCommand};
use crate::consts as keys;
use crate::model::id::RoleArn;
use crate::settings::{
    BrowserSetting, Context, ProfileSource, SamlSession, Selector, SettingsError, SsoSession,
};

/// One role at one source of credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A permission set's role in an account, through an Identity Center sign-in.
    IdentityCenter(IdcRole),
    /// An IAM role assumed with a SAML assertion from a saml-session's sign-in.
    Saml(SamlRole),
    /// An IAM role assumed (STS AssumeRole) with the keys of another source.
    Chained(ChainedRole),
}

/// An IAM role of a saml-session, named by its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlRole {
    pub session: SamlSession,
    /// `arn:aws:iam::ACCOUNT:role/NAME`.
    pub role_arn: String,
    pub account_id: String,
    pub role_name: String,
    /// The session's cache key, kept here so [`Target::cache_key`] can lend it.
    cache_key: String,
}

/// An Identity Center account and role, and the sso-session that signs in for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdcRole {
    pub session: SsoSession,
    pub account_id: String,
    pub role_name: String,
}

impl Target {
    /// An Identity Center role.
    pub fn identity_center(session: SsoSession, account_id: &str, role_name: &str) -> Target {
        Target::IdentityCenter(IdcRole {
            session,
            account_id: account_id.to_string(),
            role_name: role_name.to_string(),
        })
    }

    /// A role of a saml-session; `None` when `role_arn` is not an IAM role ARN.
    pub fn saml(session: SamlSession, role_arn: &str) -> Option<Target> {
        let arn = RoleArn::parse(role_arn)?;
        Some(Target::Saml(SamlRole {
            cache_key: session.cache_key(),
            session,
            role_arn: role_arn.to_string(),
            account_id: arn.account_id.to_string(),
            role_name: arn.name.to_string(),
        }))
    }

    pub fn account_id(&self) -> &str {
        match self {
            Target::IdentityCenter(role) => &role.account_id,
            Target::Saml(role) => &role.account_id,
            Target::Chained(role) => &role.account_id,
        }
    }

    pub fn role_name(&self) -> &str {
        match self {
            Target::IdentityCenter(role) => &role.role_name,
            Target::Saml(role) => &role.role_name,
            Target::Chained(role) => &role.role_name,
        }
    }

    /// The browser setting for this target's sign-in and console: `--browser` (`flag`),
    /// `PORTICO_BROWSER`, the `portico_browser` of `profile` (the one naming the role), then of
    /// the sso-session or saml-session that signs in for it, `BROWSER`, the system default.
    pub fn browser_setting(
        &self,
        ctx: &Context,
        flag: Option<&str>,
        profile: Option<&str>,
    ) -> BrowserSetting {
        match self {
            Target::IdentityCenter(role) => {
                ctx.browser_setting(flag, profile, role.session.name.as_deref())
            }
            Target::Saml(role) => ctx.saml_browser_setting_for(flag, profile, &role.session.name),
            // The sign-in at the bottom of the chain opens the browser, and the console.
            Target::Chained(role) => match role.signed_in_source() {
                Some(source) => source.browser_setting(ctx, flag, profile),
                None => ctx.browser_setting(flag, profile, None),
            },
        }
    }

    /// The key under which the sign-in's cached role credentials are filed.
    pub fn cache_key(&self) -> &str {
        match self {
            Target::IdentityCenter(role) => role.session.cache_key(),
            Target::Saml(role) => &role.cache_key,
            Target::Chained(role) => &role.cache_key,
        }
    }

    /// Whether the keys come from role chaining (AssumeRole with another role's keys): STS
    /// gives them at most one hour, and the console federation endpoint takes no
    /// `SessionDuration` with them (the console session lasts as long as the keys' hour).
    pub fn role_chained(&self) -> bool {
        matches!(self, Target::Chained(role) if role.source_is_role())
    }

    /// Where the session's secrets are kept (`portico_storage`); a chained role's are kept
    /// where its source's are (files for static keys and the environment).
    pub fn storage(&self) -> crate::model::Storage {
        match self {
            Target::IdentityCenter(role) => role.session.storage,
            Target::Saml(role) => role.session.storage,
            Target::Chained(role) => role.storage(),
        }
    }

    /// `ROLE in ACCOUNT`, for messages.
    pub fn describe(&self) -> String {
        format!("{} in {}", self.role_name(), self.account_id())
    }
}

/// What a caller asks credentials for, in plain values: a command line's target flags
/// (`cli::TargetArgs::wanted`), a credential server's route, a profile's credential_process.
/// [`resolve`] turns it into a [`Target`] against the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// A profile of the config file, and where its name came from (for the error when the file
    /// has no such profile).
    Profile { name: String, origin: ProfileSource },
    /// An Identity Center account and role: of the sso-session named, else of `profile`'s
    /// sso-session, else of the only one in the file. `profile` also lends its `region`.
    Role {
        account_id: String,
        role_name: String,
        sso_session: Option<String>,
        profile: Option<String>,
    },
    /// An IAM role of a saml-session; `profile` only lends its `region`.
    Saml {
        session: String,
        role_arn: String,
        profile: Option<String>,
    },
    /// Roles assumed one after the other from `source` (`--chain ROLE_ARN`, repeatable; none
    /// with only `--mfa-code`), and the MFA code for the chained roles that ask for one.
    Chain {
        source: Box<Wanted>,
        role_arns: Vec<String>,
        mfa_code: Option<String>,
    },
}

impl Wanted {
    /// The profile whose section resolving reads (for the warm path's partial load).
    pub fn profile(&self) -> Option<&str> {
        match self {
            Wanted::Profile { name, .. } => Some(name),
            Wanted::Role { profile, .. } | Wanted::Saml { profile, .. } => profile.as_deref(),
            Wanted::Chain { source, .. } => source.profile(),
        }
    }
}

/// A target as a caller names it, with what the profile adds around it.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub target: Target,
    /// The profile's `region`, handed on as `AWS_REGION`.
    pub region: Option<String>,
    /// The profile that names the role, for its `portico_browser` and console container:
    /// `--profile`, `AWS_PROFILE` or `default`; none with `--account`/`--role` (a `--profile`
    /// beside them only lends its region).
    pub profile: Option<String>,
}

/// The role `wanted` names in the config file. A profile without Identity Center keys whose
/// credential_process runs `portico credentials` (as `profiles sync --credential-process` and
/// `profiles sync --saml-session` write them) is taken as the role that line names, as the AWS
/// CLI and the SDKs take it.
pub fn resolve(ctx: &Context, wanted: &Wanted) -> Result<Resolved, SettingsError> {
    resolve_from(ctx, wanted, &mut Vec::new())
}

/// [`resolve`], with the profiles whose credential_process or source_profile led here (to
/// refuse a loop).
pub(super) fn resolve_from(
    ctx: &Context,
    wanted: &Wanted,
    seen: &mut Vec<String>,
) -> Result<Resolved, SettingsError> {
    match wanted {
        Wanted::Chain {
            source,
            role_arns,
            mfa_code,
        } => {
            let source = resolve_from(ctx, source, seen)?;
            let mut resolved = chain::resolve_adhoc(ctx, source, role_arns)?;
            if let Some(code) = mfa_code {
                chain::give_mfa_code(&mut resolved.target, code);
            }
            Ok(resolved)
        }
        Wanted::Saml {
            session,
            role_arn,
            profile,
        } => {
            // The profile beside a saml-session lends its `ca_bundle` too (as its region).
            if let Some(profile) = profile {
                ctx.note_ca_bundle(profile);
            }
            let saml = ctx.saml_session(session)?;
            let target =
                Target::saml(saml, role_arn).ok_or_else(|| SettingsError::BadSamlSetting {
                    session: session.clone(),
                    path: ctx.config.path.display().to_string(),
                    key: "--role-arn for",
                    value: role_arn.clone(),
                    why: "is not an IAM role ARN; use arn:aws:iam::ACCOUNT:role/NAME (see `portico list --saml-session NAME`)",
                })?;
            Ok(Resolved {
                target,
                region: lent_region(ctx, profile.as_deref()),
                profile: None,
            })
        }
        Wanted::Role {
            account_id,
            role_name,
            sso_session,
            profile,
        } => {
            let selector = Selector {
                profile: profile.clone(),
                sso_session: sso_session.clone(),
                ..Selector::default()
            };
            Ok(Resolved {
                target: Target::identity_center(ctx.session(&selector)?, account_id, role_name),
                region: lent_region(ctx, profile.as_deref()),
                profile: None,
            })
        }
        Wanted::Profile { name, origin } => {
            if chain::is_chained(ctx, name) {
                ctx.note_ca_bundle(name);
                // The warm path read only this profile's section; its source needs the file.
                if ctx.config.is_partial() {
                    let full = Context::load(ctx.env.clone())?;
                    return chain::resolve_profile(&full, name, seen);
                }
                return chain::resolve_profile(ctx, name, seen);
            }
            if let Some(inner) = process_target(ctx, name) {
                // The profile named (not only the one its line leads to) lends its `ca_bundle`.
                ctx.note_ca_bundle(name);
                return resolve_process(ctx, name, inner, seen);
            }
            let p = ctx.role_profile_from(name, *origin)?;
            Ok(Resolved {
                target: Target::identity_center(p.session, &p.account_id, &p.role_name),
                region: p.region,
                profile: Some(p.profile),
            })
        }
    }
}

/// The sign-in behind a session or profile: what `login`, `list` and the portal sign in to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    IdentityCenter(SsoSession),
    Saml(SamlSession),
}

/// The sign-in `selector` names, as [`Context::session`] finds it, except that a profile
/// resolved as the role its credential_process names (see [`resolve`]) signs in with that
/// role's sso-session or saml-session: `login --profile P`, `list --profile P` and the portal
/// take the profiles `profiles sync --credential-process` writes as `credentials` does.
pub fn sign_in_for(ctx: &Context, selector: &Selector) -> Result<SignIn, SettingsError> {
    if selector.sso_session.is_none() && selector.start_url.is_none() {
        let (name, origin) = ctx.env.pick_profile(selector.profile.as_deref());
        if process_target(ctx, &name).is_some() || chain::is_chained(ctx, &name) {
            let wanted = Wanted::Profile {
                name: name.clone(),
                origin,
            };
            let target = resolve(ctx, &wanted)?.target;
            // A chained role signs in with the source at the bottom of its chain.
            let signed_in = match &target {
                Target::Chained(role) => role.signed_in_source().cloned(),
                other => Some(other.clone()),
            };
            return match signed_in {
                Some(Target::IdentityCenter(role)) => Ok(SignIn::IdentityCenter(role.session)),
                Some(Target::Saml(role)) => Ok(SignIn::Saml(role.session)),
                _ => Err(SettingsError::Chain {
                    profile: name,
                    path: ctx.config.path.display().to_string(),
                    problem: "assumes its role with static or environment keys, so there is nothing to sign in to".into(),
                }),
            };
        }
    }
    ctx.session(selector).map(SignIn::IdentityCenter)
}

/// What the credential_process of profile `name` asks portico for, when the profile has no
/// Identity Center keys of its own and that line runs `portico credentials`.
fn process_target(ctx: &Context, name: &str) -> Option<Wanted> {
    let section = ctx.config.profile(name)?;
    let own_sso = [keys::SSO_SESSION, keys::SSO_START_URL, keys::SSO_ACCOUNT_ID]
        .iter()
        .any(|key| section.get(key).is_some());
    if own_sso {
        return None;
    }
    let cmd = parse_portico_command(section.get(keys::CREDENTIAL_PROCESS)?)?;
    match cmd {
        PorticoCommand {
            saml_session: Some(session),
            role_arn: Some(role_arn),
            ..
        } => Some(Wanted::Saml {
            session,
            role_arn,
            profile: None,
        }),
        PorticoCommand {
            account: Some(account_id),
            role: Some(role_name),
            sso_session,
            profile,
            ..
        } => Some(Wanted::Role {
            account_id,
            role_name,
            sso_session,
            profile,
        }),
        PorticoCommand {
            profile: Some(other),
            ..
        } => Some(Wanted::Profile {
            name: other,
            origin: ProfileSource::CredentialProcess,
        }),
        _ => None,
    }
}

/// Profile `name` as the role its credential_process names: that role, with the profile's own
/// `region` (else the one the role's profile has) and its `portico_browser`.
fn resolve_process(
    ctx: &Context,
    name: &str,
    inner: Wanted,
    seen: &mut Vec<String>,
) -> Result<Resolved, SettingsError> {
    seen.push(name.to_string());
    if let Wanted::Profile { name: next, .. } = &inner {
        if seen.contains(next) {
            seen.push(next.clone());
            return Err(SettingsError::ProcessLoop {
                profile: seen[0].clone(),
                path: ctx.config.path.display().to_string(),
                chain: seen.clone(),
            });
        }
    }
    // The warm path read only this profile's section; another profile needs the whole file.
    let full;
    let ctx = match inner.profile() {
        Some(other) if other != name && ctx.config.is_partial() => {
            full = Context::load(ctx.env.clone())?;
            &full
        }
        _ => ctx,
    };
    let resolved = resolve_from(ctx, &inner, seen)?;
    let own = ctx
        .config
        .profile(name)
        .and_then(|p| p.get(keys::REGION))
        .map(String::from);
    if let Some(region) = &own {
        crate::settings::check_region(&format!("region of [profile {name}]"), region)?;
    }
    Ok(Resolved {
        region: own.or(resolved.region),
        profile: Some(name.to_string()),
        target: resolved.target,
    })
}

/// The `region` of the profile given beside explicit role flags (the profile only lends
/// its region then).
fn lent_region(ctx: &Context, profile: Option<&str>) -> Option<String> {
    let profile = ctx.config.profile(profile?)?;
    profile.get(keys::REGION).map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Environment;

    const CONFIG: &str = "\
[sso-session corp]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = eu-central-1

[profile dev]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Admin

[profile synced]
credential_process = portico credentials --account 444455556666 --role Read --sso-session corp
region = us-west-2

[profile via]
credential_process = /opt/bin/portico -v credentials --profile=synced

[profile lends]
region = eu-north-1

[profile with-profile]
credential_process = portico credentials --profile lends --account 444455556666 --role Read --sso-session corp

[profile loop]
credential_process = portico credentials --profile loop

[saml-session aws]
idp_url = https://login.microsoftonline.com/tenant/saml2

[profile saml-admin]
credential_process = portico credentials --saml-session aws --role-arn arn:aws:iam::111122223333:role/Admin
";

    fn env(dir: &std::path::Path) -> Environment {
        let path = dir.join("config");
        std::fs::write(&path, CONFIG).unwrap();
        Environment {
            home: Some(dir.to_path_buf()),
            cache_home: Some(dir.join("cache")),
            config_file: Some(path),
            ..Environment::default()
        }
    }

    fn profile(name: &str) -> Wanted {
        Wanted::Profile {
            name: name.into(),
            origin: ProfileSource::Flag,
        }
    }

    #[test]
    fn the_profile_named_lends_its_ca_bundle_to_every_kind_of_target() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "{CONFIG}\n[profile bundled-synced]\ncredential_process = portico credentials --profile synced\nca_bundle = {0}/synced.pem\n\n[profile bundled-region]\nca_bundle = {0}/saml.pem\n",
            dir.path().display()
        );
        let mut env = env(dir.path());
        std::fs::write(env.config_file.as_ref().unwrap(), text).unwrap();
        env.profile = None;
        let ctx = Context::load(env).unwrap();
        let noted = |file: &str| {
            let path = dir.path().join(file);
            let found = crate::http::tls::bundles().iter().any(|b| b.path == path);
            crate::http::tls::forget_profile_bundle(&path);
            found
        };
        resolve(&ctx, &profile("bundled-synced")).unwrap();
        assert!(noted("synced.pem"), "a synced profile's own ca_bundle");
        let saml = Wanted::Saml {
            session: "aws".into(),
            role_arn: "arn:aws:iam::111122223333:role/Admin".into(),
            profile: Some("bundled-region".into()),
        };
        resolve(&ctx, &saml).unwrap();
        assert!(
            noted("saml.pem"),
            "the ca_bundle of --profile beside --saml-session"
        );
    }

    #[test]
    fn a_profile_is_the_role_its_credential_process_names() {
        let dir = tempfile::tempdir().unwrap();
        let full = Context::load(env(dir.path())).unwrap();
        for ctx in [
            full.clone(),
            // The warm path's partial load reads a named profile from the whole file.
            Context::load_lazy(env(dir.path()), Some("via")).unwrap(),
        ] {
            let r = resolve(&ctx, &profile("via")).unwrap();
            assert_eq!(
                (r.target.account_id(), r.target.role_name()),
                ("444455556666", "Read")
            );
            assert!(matches!(r.target, Target::IdentityCenter(_)));
            assert_eq!(r.profile.as_deref(), Some("via"));
            assert_eq!(r.region.as_deref(), Some("us-west-2"), "synced's region");
        }
        let r = resolve(&full, &profile("synced")).unwrap();
        assert_eq!(r.profile.as_deref(), Some("synced"));
        let r = resolve(&full, &profile("with-profile")).unwrap();
        assert_eq!(r.region.as_deref(), Some("eu-north-1"), "lent by --profile");
        let r = resolve(&full, &profile("saml-admin")).unwrap();
        assert!(matches!(r.target, Target::Saml(_)));
        assert_eq!(r.profile.as_deref(), Some("saml-admin"));
        // An Identity Center profile is itself.
        let r = resolve(&full, &profile("dev")).unwrap();
        assert_eq!(r.target.role_name(), "Admin");
    }

    #[test]
    fn a_credential_process_leading_back_to_its_profile_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Context::load(env(dir.path())).unwrap();
        let err = resolve(&ctx, &profile("loop")).unwrap_err().to_string();
        assert!(err.contains("loop → loop"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }
}
