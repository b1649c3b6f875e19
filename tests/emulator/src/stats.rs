//! Request counters by operation, so tests can assert "one refresh, not fifty".

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a request is counted under. A request counts when it arrives, whether or not it
/// succeeds; `Throttled` and `Failed` count responses refused by the fault controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    RegisterClient,
    StartDeviceAuthorization,
    CreateTokenDeviceCode,
    CreateTokenAuthorizationCode,
    CreateTokenRefreshToken,
    ListAccounts,
    ListAccountRoles,
    GetRoleCredentials,
    Logout,
    GetSigninToken,
    SamlSignIn,
    AssumeRoleWithSaml,
    GetCallerIdentity,
    AssumeRole,
    Throttled,
    Failed,
}

impl Counter {
    pub const ALL: [Counter; 16] = [
        Counter::RegisterClient,
        Counter::StartDeviceAuthorization,
        Counter::CreateTokenDeviceCode,
        Counter::CreateTokenAuthorizationCode,
        Counter::CreateTokenRefreshToken,
        Counter::ListAccounts,
        Counter::ListAccountRoles,
        Counter::GetRoleCredentials,
        Counter::Logout,
        Counter::GetSigninToken,
        Counter::SamlSignIn,
        Counter::AssumeRoleWithSaml,
        Counter::GetCallerIdentity,
        Counter::AssumeRole,
        Counter::Throttled,
        Counter::Failed,
    ];

    /// The key in the stats object.
    pub fn key(self) -> &'static str {
        match self {
            Counter::RegisterClient => "RegisterClient",
            Counter::StartDeviceAuthorization => "StartDeviceAuthorization",
            Counter::CreateTokenDeviceCode => "CreateToken:device_code",
            Counter::CreateTokenAuthorizationCode => "CreateToken:authorization_code",
            Counter::CreateTokenRefreshToken => "CreateToken:refresh_token",
            Counter::ListAccounts => "ListAccounts",
            Counter::ListAccountRoles => "ListAccountRoles",
            Counter::GetRoleCredentials => "GetRoleCredentials",
            Counter::Logout => "Logout",
            Counter::GetSigninToken => "GetSigninToken",
            Counter::SamlSignIn => "SamlSignIn",
            Counter::AssumeRoleWithSaml => "AssumeRoleWithSAML",
            Counter::GetCallerIdentity => "GetCallerIdentity",
            Counter::AssumeRole => "AssumeRole",
            Counter::Throttled => "throttled",
            Counter::Failed => "failed",
        }
    }

    /// The calls the throttle applies to: the portal's and STS's.
    pub fn is_throttled(self) -> bool {
        matches!(
            self,
            Counter::ListAccounts
                | Counter::ListAccountRoles
                | Counter::GetRoleCredentials
                | Counter::Logout
                | Counter::AssumeRoleWithSaml
                | Counter::GetCallerIdentity
                | Counter::AssumeRole
        )
    }
}

#[derive(Debug, Default)]
pub struct Stats {
    counts: [AtomicU64; Counter::ALL.len()],
}

impl Stats {
    pub fn bump(&self, counter: Counter) {
        self.counts[counter as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Every key, at 0 when unused.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        Counter::ALL
            .iter()
            .map(|c| {
                (
                    c.key().to_string(),
                    self.counts[*c as usize].load(Ordering::Relaxed),
                )
            })
            .collect()
    }

    pub fn reset(&self) {
        for count in &self.counts {
            count.store(0, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_present() {
        let stats = Stats::default();
        stats.bump(Counter::CreateTokenRefreshToken);
        let snap = stats.snapshot();
        assert_eq!(snap.len(), 16);
        assert_eq!(snap["CreateToken:refresh_token"], 1);
        assert_eq!(snap["failed"], 0);
        stats.reset();
        assert!(stats.snapshot().values().all(|v| *v == 0));
    }
}
