//! Calling Identity Center with the session's token, the one way every caller does it: take a
//! token (refreshing, or signing in as `on_missing` allows), make the call, and when the portal
//! refuses the token (revoked, or expired early) forget it and try once more with a new one.

use std::future::Future;

use crate::identity::{self, OnMissing, Store};
use crate::secret::Secret;
use crate::settings::SsoSession;
use crate::sso::SsoError;

/// `call` with a token for `session`, retried once with a new token when the portal answers
/// `Unauthorized`. A second refusal is returned as it is (its message names `portico login`).
/// `call` takes the token by value so that its future borrows nothing of the closure: the
/// engine's futures stay `Send` for callers on a multi-threaded runtime.
pub async fn with_token<T, F, Fut>(
    store: &Store,
    session: &SsoSession,
    on_missing: &OnMissing,
    mut call: F,
) -> anyhow::Result<T>
where
    F: FnMut(Secret) -> Fut,
    Fut: Future<Output = Result<T, SsoError>>,
{
    let token = identity::access_token(store, session, on_missing).await?;
    match call(token).await {
        Err(SsoError::Unauthorized { .. }) => {
            crate::debug!(
                "Identity Center refused the token of {}; getting a new one and retrying once",
                session.label()
            );
            identity::forget_access_token(store, session).await?;
            let token = identity::access_token(store, session, on_missing).await?;
            Ok(call(token).await?)
        }
        other => Ok(other?),
    }
}
