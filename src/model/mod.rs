//! The plain types every layer shares, at the bottom of the module graph: role keys
//! ([`RoleCredentials`]), the accounts and roles assigned to a user ([`Account`],
//! [`AccountList`]), how far a listing has got ([`Progress`]), an Identity Center instance as
//! resolved from the config ([`SsoSession`]), and the rules for AWS identifiers ([`id`]), start
//! URLs and the hosts AWS owns ([`start_url`]), and the partitions' endpoint hosts
//! ([`partition`]). Nothing here imports the rest of portico beyond the other leaves (`secret`,
//! `timefmt`, `sanitize`), so files, services, the engine and its consumers can all name these
//! types without importing each other.

pub mod id;
pub mod partition;
mod sso_session;
pub mod start_url;
mod storage;

pub use sso_session::SsoSession;
pub use storage::Storage;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::secret::Secret;
use crate::timefmt::{rfc3339, rfc3339_z};

/// Short-lived keys for one role in one account, whatever their source (GetRoleCredentials,
/// AssumeRoleWithSAML). Also the shape portico's role-credential cache stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleCredentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Secret,
    /// When the keys stop working; whole seconds, UTC.
    #[serde(with = "rfc3339")]
    pub expiration: OffsetDateTime,
    pub account_id: String,
}

impl RoleCredentials {
    /// How long the keys still work at `now` (negative once expired).
    pub fn remaining(&self, now: OffsetDateTime) -> time::Duration {
        self.expiration - now
    }

    /// `expiration` as docs/protocol.md §4 wants it: `2026-11-22T18:00:00Z`.
    pub fn expiration_rfc3339(&self) -> String {
        rfc3339_z(self.expiration)
    }
}

/// An AWS account assigned to the user, with the roles (permission sets) they may use in it.
/// Names come from the service as they are: clean them with
/// [`for_terminal`](crate::sanitize::for_terminal) before display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub account_id: String,
    pub account_name: String,
    pub email_address: String,
    /// Sorted, without duplicates.
    pub roles: Vec<String>,
}

/// For tests: account `id` named `name` (`NAME@example.com`) with `roles`.
#[cfg(test)]
pub(crate) fn test_account(id: &str, name: &str, roles: &[&str]) -> Account {
    Account {
        account_id: id.into(),
        account_name: name.into(),
        email_address: format!("{name}@example.com"),
        roles: roles.iter().map(|r| r.to_string()).collect(),
    }
}

/// Accounts and roles with the time each account's roles were fetched.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountList {
    /// Sorted by account name, then id.
    pub accounts: Vec<Account>,
    /// When each account's roles were fetched; an account missing here has unknown roles.
    pub roles_fetched_at: BTreeMap<String, OffsetDateTime>,
}

impl AccountList {
    /// A list whose roles were all fetched at `at`.
    pub fn fetched_at(accounts: Vec<Account>, at: OffsetDateTime) -> AccountList {
        let roles_fetched_at = accounts
            .iter()
            .map(|a| (a.account_id.clone(), at))
            .collect();
        AccountList {
            accounts,
            roles_fetched_at,
        }
    }

    /// Whether every account's roles are known.
    pub fn is_complete(&self) -> bool {
        self.accounts
            .iter()
            .all(|a| self.roles_fetched_at.contains_key(&a.account_id))
    }
}

/// How far a listing has got, for a progress bar on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Accounts ListAccounts has returned so far.
    pub accounts_seen: usize,
    /// The accounts whose roles this listing lists (every account in a full listing), once
    /// ListAccounts has returned its last page.
    pub accounts_total: Option<usize>,
    /// Of those, the accounts whose roles are listed.
    pub accounts_done: usize,
    /// Portal calls sent, retries included.
    pub calls: u64,
    /// Calls answered with 429 (and retried).
    pub throttled: u64,
    pub elapsed: Duration,
}
