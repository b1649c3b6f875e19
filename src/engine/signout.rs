//! Signing out of a session, the one way `portico logout` and the portal's sign-out do it:
//! revoke the token and delete its file (identity's part), delete the role credentials
//! portico cached for the session, and — as `aws sso logout` does — the role credentials the
//! AWS CLI cached from Identity Center.

use std::path::{Path, PathBuf};

use crate::cache::assumerole::DerivedIndex;
use crate::cache::awscli;
use crate::cache::rolecreds::RoleCredsCache;
use crate::identity::{self, Store};
use crate::settings::SsoSession;

/// What signing out of one session did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignOutReport {
    /// Identity Center confirmed the token is revoked.
    pub revoked: bool,
    /// Why Identity Center did not confirm the sign-out (the local token is deleted anyway).
    pub refused: Option<String>,
    /// The token file deleted, if there was one.
    pub token_file: Option<PathBuf>,
    /// How many of portico's cached role credential files were deleted.
    pub role_credentials: usize,
}

impl SignOutReport {
    /// Whether anything was there to remove.
    pub fn removed_anything(&self) -> bool {
        self.revoked || self.token_file.is_some() || self.role_credentials > 0
    }
}

/// Signs out of `session`: revokes and deletes the token, deletes portico's cached role
/// credentials of the session (`cache_root` is portico's cache directory).
pub async fn sign_out(
    store: &Store,
    cache_root: &Path,
    session: &SsoSession,
) -> anyhow::Result<SignOutReport> {
    let out = identity::sign_out(store, session).await?;
    let creds = RoleCredsCache::under(cache_root).remove_session(session.cache_key())?;
    // The chained roles' keys portico assumed from this session's roles (AWS CLI cache files).
    let chained = DerivedIndex::under(cache_root).remove_derived(session.cache_key())?;
    Ok(SignOutReport {
        revoked: out.revoked,
        refused: out.refused,
        token_file: out.deleted,
        role_credentials: creds.len() + chained.len(),
    })
}

/// Deletes the role credentials the AWS CLI cached from Identity Center in `aws_dir`
/// (`~/.aws/cli/cache`, files whose ProviderType is `sso`), as `aws sso logout` does.
/// Returns how many files were deleted.
pub fn sweep_aws_cli(aws_dir: &Path) -> anyhow::Result<(PathBuf, usize)> {
    let cli_cache = awscli::cli_cache_dir(aws_dir);
    let swept = awscli::remove_sso_role_credentials(&cli_cache)
        .map_err(|e| anyhow::anyhow!("cannot clear {}: {e}", cli_cache.display()))?;
    Ok((cli_cache, swept.len()))
}
