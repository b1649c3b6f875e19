//! The keys the engine hands out, whatever their source.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::secret::Secret;
use crate::timefmt::{rfc3339, rfc3339_z};

/// Short-lived keys for one role in one account (from GetRoleCredentials today). Also the shape
/// portico's role-credential cache stores.
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
