//! Signing a session out before a fresh sign-in (`portico login --force`): the portal's Logout
//! ends the session at Identity Center (its refresh tokens die with it), then the token file is
//! deleted, so the next sign-in cannot reuse anything of the old one.

use std::path::PathBuf;

use time::OffsetDateTime;

use super::{describe_portal_error, take_lock, IdentityError, Store, Work};
use crate::settings::SsoSession;

/// What a sign-out did.
#[derive(Debug, Default)]
pub struct SignedOut {
    /// Identity Center confirmed the Logout.
    pub revoked: bool,
    /// Why Identity Center did not confirm it (the local token is deleted anyway).
    pub refused: Option<String>,
    /// The token file that was deleted.
    pub deleted: Option<PathBuf>,
}

/// Calls Logout with the cached access token (if it is still valid) and deletes the token file,
/// under the session lock.
pub async fn sign_out(store: &Store, session: &SsoSession) -> Result<SignedOut, IdentityError> {
    let (_lock, _) = take_lock(store, session, Work::SignIn).await?;
    let mut out = SignedOut::default();
    // An unreadable token file is deleted all the same.
    let token = store.tokens.load_token(session).ok().flatten();
    if let Some(token) = token.filter(|t| t.is_valid(OffsetDateTime::now_utc())) {
        let client =
            crate::aws::portal_client(session, aws_sdk_sso::config::retry::RetryConfig::standard());
        match client
            .logout()
            .access_token(token.access_token.expose())
            .send()
            .await
        {
            Ok(_) => out.revoked = true,
            Err(err) => out.refused = Some(describe_portal_error(&err, &session.portal_endpoint)),
        }
    }
    out.deleted = store.tokens.remove_token(session)?;
    Ok(out)
}
