//! Where credentials come from. A [`Target`] names one role at one source; commands resolve
//! their arguments into one and hand it to the engine, which alone knows how each kind of
//! source is asked. A new kind of source (an IAM role assumed with a SAML assertion, a role
//! chained from another) is a new variant here and a new arm in the engine, and no command
//! has to learn about it.

use crate::cli::TargetArgs;
use crate::settings::{Context, SamlSession, Selector, SettingsError, SsoSession};

/// One role at one source of credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A permission set's role in an account, through an Identity Center sign-in.
    IdentityCenter(IdcRole),
    /// An IAM role assumed with a SAML assertion from a saml-session's sign-in.
    Saml(SamlRole),
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
        let (account_id, role_name) = parse_role_arn(role_arn)?;
        Some(Target::Saml(SamlRole {
            cache_key: session.cache_key(),
            session,
            role_arn: role_arn.to_string(),
            account_id,
            role_name,
        }))
    }

    pub fn account_id(&self) -> &str {
        match self {
            Target::IdentityCenter(role) => &role.account_id,
            Target::Saml(role) => &role.account_id,
        }
    }

    pub fn role_name(&self) -> &str {
        match self {
            Target::IdentityCenter(role) => &role.role_name,
            Target::Saml(role) => &role.role_name,
        }
    }

    /// The name of the sign-in that serves this target (an sso-session's name), for the
    /// per-session settings such as `portico_browser`; `None` for a legacy profile.
    pub fn session_name(&self) -> Option<&str> {
        match self {
            Target::IdentityCenter(role) => role.session.name.as_deref(),
            Target::Saml(_) => None,
        }
    }

    /// The key under which the sign-in's cached role credentials are filed.
    pub fn cache_key(&self) -> &str {
        match self {
            Target::IdentityCenter(role) => role.session.cache_key(),
            Target::Saml(role) => &role.cache_key,
        }
    }

    /// `ROLE in ACCOUNT`, for messages.
    pub fn describe(&self) -> String {
        format!("{} in {}", self.role_name(), self.account_id())
    }
}

/// A target as a command line names it, with what the profile adds around it.
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

/// `--profile P`, or `--account ID --role NAME [--sso-session S]`, or `AWS_PROFILE`.
pub fn resolve(ctx: &Context, args: &TargetArgs) -> Result<Resolved, SettingsError> {
    if let (Some(name), Some(role_arn)) = (&args.saml_session, &args.role_arn) {
        let session = ctx.saml_session(name)?;
        let target =
            Target::saml(session, role_arn).ok_or_else(|| SettingsError::BadSamlSetting {
                session: name.clone(),
                path: ctx.config.path.display().to_string(),
                key: "--role-arn for",
                value: role_arn.clone(),
                why: "is not an IAM role ARN; use arn:aws:iam::ACCOUNT:role/NAME (see `portico list --saml-session NAME`)",
            })?;
        let region = lent_region(ctx, args);
        return Ok(Resolved {
            target,
            region,
            profile: None,
        });
    }
    if let (Some(account_id), Some(role_name)) = (&args.account, &args.role) {
        let selector = Selector {
            profile: args.profile.clone(),
            sso_session: args.sso_session.clone(),
            ..Selector::default()
        };
        let region = lent_region(ctx, args);
        return Ok(Resolved {
            target: Target::identity_center(ctx.session(&selector)?, account_id, role_name),
            region,
            profile: None,
        });
    }
    // A profile `profiles sync --saml-session` wrote names its SAML role in its
    // credential_process line: `portico credentials --profile P`, `exec`, `console` and the
    // credential server take it as they take an Identity Center profile.
    let (name, _) = ctx.env.pick_profile(args.profile.as_deref());
    let saml = ctx
        .config
        .profile(&name)
        .and_then(|p| p.get(crate::consts::CREDENTIAL_PROCESS))
        .and_then(crate::awsconfig::sync::parse_portico_command)
        .filter(|cmd| cmd.profile.is_none());
    if let Some(crate::awsconfig::sync::PorticoCommand {
        saml_session: Some(saml_session),
        role_arn: Some(role_arn),
        ..
    }) = saml
    {
        let inner = TargetArgs {
            profile: Some(name.clone()),
            saml_session: Some(saml_session),
            role_arn: Some(role_arn),
            ..TargetArgs::default()
        };
        let resolved = resolve(ctx, &inner)?;
        return Ok(Resolved {
            profile: Some(name),
            ..resolved
        });
    }
    let p = ctx.selected_role_profile(args.profile.as_deref())?;
    Ok(Resolved {
        target: Target::identity_center(p.session, &p.account_id, &p.role_name),
        region: p.region,
        profile: Some(p.profile),
    })
}

/// The `region` of the `--profile` given beside explicit role flags (the profile only lends
/// its region then).
fn lent_region(ctx: &Context, args: &TargetArgs) -> Option<String> {
    let profile = ctx.config.profile(args.profile.as_deref()?)?;
    profile.get(crate::consts::REGION).map(String::from)
}

/// `(account, name)` of `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`.
fn parse_role_arn(arn: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, "iam", "", account, resource] = parts.as_slice() else {
        return None;
    };
    let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
    let ok = *prefix == "arn"
        && !partition.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty();
    ok.then(|| (account.to_string(), name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::parse_role_arn;

    #[test]
    fn role_arns() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::111122223333:role/team/Admin"),
            Some(("111122223333".into(), "Admin".into()))
        );
        assert_eq!(
            parse_role_arn("arn:aws:iam::111122223333:saml-provider/X"),
            None
        );
        assert_eq!(parse_role_arn("arn:aws:iam::1111:role/A"), None);
        assert_eq!(parse_role_arn("Admin"), None);
    }
}
