//! The user's directory: which accounts and roles (permission sets) the signed-in user is
//! assigned, read from a JSON file or generated deterministically.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::ops::Deref;
use std::path::Path;
use std::sync::RwLock;

/// One AWS account the user is assigned, with the permission sets they may use in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub account_id: String,
    pub account_name: String,
    pub email_address: String,
    pub roles: Vec<String>,
}

/// One IAM role the user may take through SAML: the pair the IdP's Role attribute lists, the
/// role's MaxSessionDuration and the `SAML:aud` values its trust policy accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SamlRole {
    /// `arn:aws:iam::ACCOUNT:role/NAME`.
    pub role_arn: String,
    /// `arn:aws:iam::ACCOUNT:saml-provider/NAME`.
    pub principal_arn: String,
    /// 3600–43200 seconds (IAM's range); 3600 when left out.
    #[serde(default = "default_max_session")]
    pub max_session_duration: u64,
    /// `StringLike` patterns (`*`, `?`) for the Recipient; the emulator's `--saml-aud` when
    /// left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saml_aud: Option<Vec<String>>,
}

fn default_max_session() -> u64 {
    3600
}

impl SamlRole {
    /// The account id in the role ARN.
    pub fn account_id(&self) -> &str {
        self.role_arn.split(':').nth(4).unwrap_or_default()
    }

    /// The role name (the last part of the role ARN).
    pub fn role_name(&self) -> &str {
        self.role_arn.rsplit('/').next().unwrap_or_default()
    }

    /// The SAML provider's name (the last part of the provider ARN).
    pub fn provider_name(&self) -> &str {
        self.principal_arn.rsplit('/').next().unwrap_or_default()
    }
}

/// All assignments of the one user the emulator signs in. Order is the order the portal lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Directory {
    accounts: Vec<Account>,
    /// The roles the SAML IdP lists for the user (Entra's "AWS Single-Account Access").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    saml_roles: Vec<SamlRole>,
}

/// IAM role names the generated SAML roles take, with their MaxSessionDuration.
const SAML_ROLES: &[(&str, u64)] = &[
    ("Admin", 43_200),
    ("ReadOnly", 3_600),
    ("Developer", 14_400),
    ("Billing", 3_600),
    ("Operator", 28_800),
];

/// The SAML provider name every generated role trusts.
pub const SAML_PROVIDER: &str = "EntraID";

/// Why a directory file was refused.
#[derive(Debug)]
pub struct DirectoryError(String);

impl fmt::Display for DirectoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DirectoryError {}

/// Permission-set names as organisations commonly name them (AWS managed job-function sets first).
const ROLE_NAMES: &[&str] = &[
    "AdministratorAccess",
    "ReadOnlyAccess",
    "PowerUserAccess",
    "ViewOnlyAccess",
    "Billing",
    "DatabaseAdministrator",
    "DataScientist",
    "NetworkAdministrator",
    "SecurityAudit",
    "SupportUser",
    "SystemAdministrator",
    "DeveloperAccess",
];

/// Control Tower's landing-zone accounts; every generated organisation starts with them.
const LANDING_ZONE: &[&str] = &["org-management", "log-archive", "security-audit"];

const TEAMS: &[&str] = &[
    "payments",
    "platform",
    "data",
    "identity",
    "search",
    "checkout",
    "billing",
    "analytics",
    "mobile",
    "web",
    "logistics",
    "ml",
    "security",
    "network",
    "observability",
    "catalog",
    "inventory",
    "ledger",
    "fraud",
    "messaging",
    "shared-services",
    "crm",
    "pricing",
    "notifications",
];
const STAGES: &[&str] = &["prod", "staging", "dev", "test", "qa", "sandbox"];
const REGIONS: &[&str] = &["", "-eu", "-us", "-ap"];

/// SAML roles generated with a generated directory.
pub const DEFAULT_SAML_ROLES: usize = 4;

/// A fixed mixing function (SplitMix64): the generated directory depends on nothing but N and M.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn generated_name(index: usize) -> String {
    if let Some(name) = LANDING_ZONE.get(index) {
        return (*name).to_string();
    }
    let i = index - LANDING_ZONE.len();
    let combos = TEAMS.len() * STAGES.len() * REGIONS.len();
    // 385 is coprime with 576 (= combos), so this visits every combination once per cycle
    // while scattering neighbours across teams.
    let c = (i % combos) * 385 % combos;
    let cycle = i / combos;
    let team = TEAMS[c % TEAMS.len()];
    let stage = STAGES[(c / TEAMS.len()) % STAGES.len()];
    let region = REGIONS[c / (TEAMS.len() * STAGES.len())];
    if cycle == 0 {
        format!("{team}-{stage}{region}")
    } else {
        format!("{team}-{stage}{region}-{}", cycle + 1)
    }
}

fn generated_roles(index: usize, count: usize) -> Vec<String> {
    let start = (mix(index as u64 ^ 0x5EED) % ROLE_NAMES.len() as u64) as usize;
    (0..count)
        .map(|k| match ROLE_NAMES.get(k) {
            Some(_) => ROLE_NAMES[(start + k) % ROLE_NAMES.len()].to_string(),
            None => format!("CustomRole{}", k + 1 - ROLE_NAMES.len()),
        })
        .collect()
}

impl Directory {
    /// A realistic organisation of `accounts` accounts with `roles_per_account` permission sets
    /// each. The same arguments always give the same accounts, ids and roles.
    pub fn generate(accounts: usize, roles_per_account: usize) -> Directory {
        let mut ids = HashSet::with_capacity(accounts);
        let list = (0..accounts)
            .map(|index| {
                let mut seed = index as u64;
                let account_id = loop {
                    let id = 100_000_000_000 + mix(seed) % 900_000_000_000;
                    if ids.insert(id) {
                        break id.to_string();
                    }
                    seed = seed.wrapping_add(1 << 40);
                };
                let account_name = generated_name(index);
                Account {
                    email_address: format!("aws+{account_name}@example.com"),
                    account_id,
                    account_name,
                    roles: generated_roles(index, roles_per_account),
                }
            })
            .collect();
        let mut directory = Directory {
            accounts: list,
            saml_roles: Vec::new(),
        };
        directory.generate_saml_roles(DEFAULT_SAML_ROLES);
        directory
    }

    /// Replaces the SAML roles with `count` generated ones spread over the first three
    /// accounts (role k in account k mod 3), named Admin, ReadOnly, Developer, Billing,
    /// Operator, then Role6…, with MaxSessionDuration 43200, 3600, 14400, 3600, 28800, then
    /// 3600. Without accounts there are none.
    pub fn generate_saml_roles(&mut self, count: usize) {
        let spread = self.accounts.len().min(3);
        self.saml_roles = (0..count)
            .filter(|_| spread > 0)
            .map(|k| {
                let account = &self.accounts[k % spread].account_id;
                let (name, max) = match SAML_ROLES.get(k) {
                    Some((name, max)) => ((*name).to_string(), *max),
                    None => (format!("Role{}", k + 1), 3600),
                };
                SamlRole {
                    role_arn: format!("arn:aws:iam::{account}:role/{name}"),
                    principal_arn: format!("arn:aws:iam::{account}:saml-provider/{SAML_PROVIDER}"),
                    max_session_duration: max,
                    saml_aud: None,
                }
            })
            .collect();
    }

    /// The roles the SAML IdP lists for the user.
    pub fn saml_roles(&self) -> &[SamlRole] {
        &self.saml_roles
    }

    /// Builds a directory from accounts given in code, checked like a directory file.
    pub fn from_accounts(accounts: Vec<Account>) -> Result<Directory, DirectoryError> {
        let directory = Directory {
            accounts,
            saml_roles: Vec::new(),
        };
        directory.validate()?;
        Ok(directory)
    }

    /// Parses the directory file format:
    /// `{"accounts":[{"accountId":"123456789012","accountName":"…","emailAddress":"…","roles":["…"]}],
    /// "samlRoles":[{"roleArn":"…","principalArn":"…","maxSessionDuration":3600,"samlAud":["…"]}]}`
    /// (`samlRoles` optional).
    pub fn from_json(text: &str) -> Result<Directory, DirectoryError> {
        let directory: Directory = serde_json::from_str(text)
            .map_err(|e| DirectoryError(format!("not a directory file: {e}")))?;
        directory.validate()?;
        Ok(directory)
    }

    /// Reads and parses a directory file.
    pub fn load(path: &Path) -> Result<Directory, DirectoryError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| DirectoryError(format!("reading {}: {e}", path.display())))?;
        Directory::from_json(&text).map_err(|e| DirectoryError(format!("{}: {e}", path.display())))
    }

    fn validate(&self) -> Result<(), DirectoryError> {
        let mut seen = HashSet::new();
        for account in &self.accounts {
            let id = &account.account_id;
            if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(DirectoryError(format!(
                    "account id {id:?} is not 12 digits"
                )));
            }
            if !seen.insert(id.as_str()) {
                return Err(DirectoryError(format!("account id {id} appears twice")));
            }
            if account.account_name.is_empty() {
                return Err(DirectoryError(format!("account {id} has no name")));
            }
            let mut roles = HashSet::new();
            for role in &account.roles {
                if role.is_empty() || !roles.insert(role.as_str()) {
                    return Err(DirectoryError(format!(
                        "account {id} has an empty or repeated role {role:?}"
                    )));
                }
            }
        }
        let mut pairs = HashSet::new();
        for role in &self.saml_roles {
            let arn = |s: &str, kind: &str| {
                let parts: Vec<&str> = s.splitn(6, ':').collect();
                parts.len() == 6
                    && parts[..3] == ["arn", "aws", "iam"]
                    && parts[4].len() == 12
                    && parts[4].bytes().all(|b| b.is_ascii_digit())
                    && parts[5]
                        .strip_prefix(kind)
                        .is_some_and(|n| n.starts_with('/') && n.len() > 1)
            };
            if !arn(&role.role_arn, "role") || !arn(&role.principal_arn, "saml-provider") {
                return Err(DirectoryError(format!(
                    "SAML role {:?} / {:?}: roleArn must be arn:aws:iam::ACCOUNT:role/NAME and \
                     principalArn arn:aws:iam::ACCOUNT:saml-provider/NAME",
                    role.role_arn, role.principal_arn
                )));
            }
            if !(3600..=43200).contains(&role.max_session_duration) {
                return Err(DirectoryError(format!(
                    "SAML role {}: maxSessionDuration must be 3600–43200",
                    role.role_arn
                )));
            }
            if !pairs.insert(&role.role_arn) {
                return Err(DirectoryError(format!(
                    "SAML role {} appears twice",
                    role.role_arn
                )));
            }
        }
        Ok(())
    }

    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    pub fn account(&self, account_id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.account_id == account_id)
    }

    /// Whether the user is assigned `role_name` in `account_id`.
    pub fn has_role(&self, account_id: &str, role_name: &str) -> bool {
        self.account(account_id)
            .is_some_and(|a| a.roles.iter().any(|r| r == role_name))
    }
}

impl Default for Directory {
    /// The directory used when none is given: 12 accounts × 3 roles.
    fn default() -> Self {
        Directory::generate(12, 3)
    }
}

/// The directory a running emulator serves, which a control call may replace between a test's
/// runs (an account assigned or unassigned). Each directory ever served is leaked so that
/// readers keep a plain `&Directory`: a handful of small replacements in a test process.
#[derive(Debug)]
pub struct LiveDirectory {
    current: RwLock<&'static Directory>,
}

impl LiveDirectory {
    pub fn new(directory: Directory) -> LiveDirectory {
        LiveDirectory {
            current: RwLock::new(Box::leak(Box::new(directory))),
        }
    }

    /// Serves `directory` from now on.
    pub fn replace(&self, directory: Directory) {
        let leaked: &'static Directory = Box::leak(Box::new(directory));
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = leaked;
    }
}

impl Deref for LiveDirectory {
    type Target = Directory;

    fn deref(&self) -> &Directory {
        *self.current.read().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_unique() {
        let a = Directory::generate(2000, 4);
        assert_eq!(a, Directory::generate(2000, 4));
        let ids: HashSet<_> = a.accounts().iter().map(|x| &x.account_id).collect();
        let names: HashSet<_> = a.accounts().iter().map(|x| &x.account_name).collect();
        assert_eq!(ids.len(), 2000);
        assert_eq!(names.len(), 2000);
        assert!(a.accounts().iter().all(|x| x.roles.len() == 4));
        assert!(Directory::from_accounts(a.accounts().to_vec()).is_ok());
    }

    #[test]
    fn names_look_real() {
        let d = Directory::generate(6, 2);
        let first = &d.accounts()[0];
        assert_eq!(first.account_name, "org-management");
        assert_eq!(first.email_address, "aws+org-management@example.com");
        assert!(d.accounts()[3].account_name.contains('-'));
    }

    #[test]
    fn more_roles_than_known_names() {
        let d = Directory::generate(1, ROLE_NAMES.len() + 2);
        let roles = &d.accounts()[0].roles;
        assert_eq!(roles.len(), ROLE_NAMES.len() + 2);
        assert_eq!(roles.iter().collect::<HashSet<_>>().len(), roles.len());
    }

    #[test]
    fn file_format_and_validation() {
        let d = Directory::from_json(
            r#"{"accounts":[{"accountId":"123456789012","accountName":"a","emailAddress":"a@x","roles":["R"]}]}"#,
        )
        .unwrap();
        assert!(d.has_role("123456789012", "R"));
        assert!(!d.has_role("123456789012", "S"));
        assert!(Directory::from_json(
            r#"{"accounts":[{"accountId":"1234","accountName":"a","emailAddress":"a@x","roles":[]}]}"#
        )
        .is_err());
        assert!(Directory::from_json(r#"{"accounts":[],"extra":1}"#).is_err());
        assert!(d.saml_roles().is_empty());
    }

    #[test]
    fn saml_roles_generated_and_read() {
        let d = Directory::generate(12, 3);
        let roles = d.saml_roles();
        assert_eq!(roles.len(), DEFAULT_SAML_ROLES);
        assert_eq!(roles[0].role_name(), "Admin");
        assert_eq!(roles[0].account_id(), d.accounts()[0].account_id);
        assert_eq!(roles[1].account_id(), d.accounts()[1].account_id);
        assert_eq!(roles[3].account_id(), d.accounts()[0].account_id);
        assert_eq!(roles[0].provider_name(), SAML_PROVIDER);
        let f = Directory::from_json(
            r#"{"accounts":[],"samlRoles":[{"roleArn":"arn:aws:iam::123456789012:role/A","principalArn":"arn:aws:iam::123456789012:saml-provider/P","samlAud":["x"]}]}"#,
        )
        .unwrap();
        assert_eq!(f.saml_roles()[0].max_session_duration, 3600);
        assert!(Directory::from_json(
            r#"{"accounts":[],"samlRoles":[{"roleArn":"arn:aws:iam::1:role/A","principalArn":"arn:aws:iam::123456789012:saml-provider/P"}]}"#,
        )
        .is_err());
    }
}
