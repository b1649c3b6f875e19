//! Where a sync's roles come from, and what that changes: an sso-session's accounts and roles
//! (Identity Center) and a saml-session's IAM roles (its assertion) each become a list of
//! [`Assignment`]s and a [`Source`], and feed the one planner, [`super::sync`]. The source
//! decides only the ownership marker, the `{session}` of the template and the keys a profile
//! gets ([`profile_keys`]); naming, ownership, pruning and the batch edits are the planner's.

use crate::awsconfig::credential_process::{parse_portico_command, PorticoCommand};
use crate::awsconfig::edit::SectionInfo;
use crate::consts as keys;
use crate::model::id::RoleArn;
use crate::model::Account;

/// One account × role to write a profile for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Assignment {
    pub account_name: String,
    pub account_id: String,
    pub role_name: String,
    /// The IAM role's ARN, for a saml-session's role (its profile names the role by it).
    pub role_arn: Option<String>,
}

/// Every account × role of an Identity Center listing, sorted by account name, account id,
/// role.
pub fn assignments(accounts: &[Account]) -> Vec<Assignment> {
    let mut out: Vec<Assignment> = accounts
        .iter()
        .flat_map(|a| {
            a.roles.iter().map(|r| Assignment {
                account_name: a.account_name.clone(),
                account_id: a.account_id.clone(),
                role_name: r.clone(),
                role_arn: None,
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// An assignment per IAM role of a saml-session's assertion (given by ARN), sorted as
/// [`assignments`]. IAM roles have no account name here: the account id stands in for
/// `{account_name}`. An ARN not shaped like a role's gives empty parts, as the assertion's
/// roles show it.
pub fn role_assignments<'a>(role_arns: impl IntoIterator<Item = &'a str>) -> Vec<Assignment> {
    let mut out: Vec<Assignment> = role_arns
        .into_iter()
        .map(|arn| {
            let (account_id, role_name) =
                RoleArn::split(arn).map_or(("", ""), |r| (r.account_id, r.name));
            Assignment {
                account_name: account_id.to_string(),
                account_id: account_id.to_string(),
                role_name: role_name.to_string(),
                role_arn: Some(arn.to_string()),
            }
        })
        .collect();
    out.sort();
    // IAM role names are unique in an account: one profile per account and role name.
    out.dedup_by(|a, b| (&a.account_id, &a.role_name) == (&b.account_id, &b.role_name));
    out
}

/// The session whose roles a sync writes profiles for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An `[sso-session NAME]`'s accounts and roles, written in `style`.
    SsoSession { name: String, style: Style },
    /// A `[saml-session NAME]`'s IAM roles: always `credential_process = PROGRAM credentials
    /// --saml-session … --role-arn …` (the AWS CLI knows no SAML sessions).
    SamlSession { name: String, program: String },
}

/// How an sso-session's profiles are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Style {
    /// `sso_session`, `sso_account_id`, `sso_role_name`.
    Native,
    /// `credential_process = PROGRAM credentials --account … --role … --sso-session …`.
    CredentialProcess { program: String },
}

impl Source {
    /// The session's name (the template's `{session}`).
    pub fn name(&self) -> &str {
        match self {
            Source::SsoSession { name, .. } | Source::SamlSession { name, .. } => name,
        }
    }

    /// The comment that marks a profile as this source's: a saml-session's are its own, never
    /// an sso-session's of the same name.
    pub fn marker(&self) -> String {
        match self {
            Source::SsoSession { name, .. } => marker(name),
            Source::SamlSession { name, .. } => {
                format!("managed by portico profiles sync (saml-session {name})")
            }
        }
    }
}

/// The comment that marks a profile as written by `profiles sync` for sso-session `session`.
pub fn marker(session: &str) -> String {
    format!("managed by portico profiles sync (sso-session {session})")
}

/// The keys a synced profile for `item` gets, and the keys of the other ways of writing it,
/// which it must not keep (a profile that switches style drops the old style's keys).
pub(super) fn profile_keys(
    source: &Source,
    item: &Assignment,
) -> (Vec<(&'static str, String)>, &'static [&'static str]) {
    let command = match source {
        Source::SsoSession {
            name,
            style: Style::Native,
        } => {
            return (
                vec![
                    (keys::SSO_SESSION, name.clone()),
                    (keys::SSO_ACCOUNT_ID, item.account_id.clone()),
                    (keys::SSO_ROLE_NAME, item.role_name.clone()),
                ],
                &[
                    keys::CREDENTIAL_PROCESS,
                    keys::SSO_START_URL,
                    keys::SSO_REGION,
                ],
            )
        }
        Source::SsoSession {
            name,
            style: Style::CredentialProcess { program },
        } => PorticoCommand {
            program: program.clone(),
            account: Some(item.account_id.clone()),
            role: Some(item.role_name.clone()),
            sso_session: Some(name.clone()),
            ..PorticoCommand::default()
        },
        Source::SamlSession { name, program } => PorticoCommand {
            program: program.clone(),
            saml_session: Some(name.clone()),
            role_arn: Some(item.role_arn.clone().unwrap_or_default()),
            ..PorticoCommand::default()
        },
    };
    (
        vec![(keys::CREDENTIAL_PROCESS, command.line())],
        &[
            keys::SSO_SESSION,
            keys::SSO_ACCOUNT_ID,
            keys::SSO_ROLE_NAME,
            keys::SSO_START_URL,
            keys::SSO_REGION,
        ],
    )
}

/// The account and role a synced profile is for, read back from the keys [`profile_keys`]
/// gave it (either way of writing it).
pub(super) fn assignment_key(section: &SectionInfo) -> Option<(String, String)> {
    if let (Some(a), Some(r)) = (
        section.get(keys::SSO_ACCOUNT_ID),
        section.get(keys::SSO_ROLE_NAME),
    ) {
        return Some((a.to_string(), r.to_string()));
    }
    let cmd = parse_portico_command(section.get(keys::CREDENTIAL_PROCESS)?)?;
    if let Some(role_arn) = cmd.role_arn {
        let arn = RoleArn::split(&role_arn)?;
        return Some((arn.account_id.to_string(), arn.name.to_string()));
    }
    Some((cmd.account?, cmd.role?))
}
