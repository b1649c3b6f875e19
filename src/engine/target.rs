//! Where credentials come from. A [`Target`] names one role at one source; commands resolve
//! their arguments into one and hand it to the engine, which alone knows how each kind of
//! source is asked. A new kind of source (an IAM role assumed with a SAML assertion, a role
//! chained from another) is a new variant here and a new arm in the engine, and no command
//! has to learn about it.

use crate::cli::TargetArgs;
use crate::settings::{Context, Selector, SettingsError, SsoSession};

/// One role at one source of credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A permission set's role in an account, through an Identity Center sign-in.
    IdentityCenter(IdcRole),
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

    pub fn account_id(&self) -> &str {
        match self {
            Target::IdentityCenter(role) => &role.account_id,
        }
    }

    pub fn role_name(&self) -> &str {
        match self {
            Target::IdentityCenter(role) => &role.role_name,
        }
    }

    /// The name of the sign-in that serves this target (an sso-session's name), for the
    /// per-session settings such as `portico_browser`; `None` for a legacy profile.
    pub fn session_name(&self) -> Option<&str> {
        match self {
            Target::IdentityCenter(role) => role.session.name.as_deref(),
        }
    }

    /// The key under which the sign-in's cached role credentials are filed.
    pub fn cache_key(&self) -> &str {
        match self {
            Target::IdentityCenter(role) => role.session.cache_key(),
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
    if let (Some(account_id), Some(role_name)) = (&args.account, &args.role) {
        let selector = Selector {
            profile: args.profile.clone(),
            sso_session: args.sso_session.clone(),
            ..Selector::default()
        };
        let region = match &args.profile {
            Some(profile) => ctx
                .config
                .profile(profile)
                .and_then(|p| p.get("region"))
                .map(String::from),
            None => None,
        };
        return Ok(Resolved {
            target: Target::identity_center(ctx.session(&selector)?, account_id, role_name),
            region,
            profile: None,
        });
    }
    let p = ctx.selected_role_profile(args.profile.as_deref())?;
    Ok(Resolved {
        target: Target::identity_center(p.session, &p.account_id, &p.role_name),
        region: p.region,
        profile: Some(p.profile),
    })
}
