//! The accounts and roles assigned to the user: from the account cache while it is fresh and
//! the session still signed in, else listed from Identity Center (paced; see
//! [`crate::portal::pacing`]) with the token retried once when refused. `portico list`,
//! `profiles sync` and the portal all read and list through here.

use time::OffsetDateTime;

use crate::cache::accounts::{self, AccountsCache};
use crate::cache::rolecreds;
use crate::identity::{OnMissing, Store};
use crate::portal::{self, Account, Progress};
use crate::settings::SsoSession;

use super::with_token;

/// A list from the cache and when it was fetched.
#[derive(Debug, Clone)]
pub struct CachedAccounts {
    pub accounts: Vec<Account>,
    pub fetched_at: OffsetDateTime,
}

/// The session's cached list if it is younger than [`accounts::DEFAULT_TTL`] and the session is
/// still signed in: after a sign-out (`portico logout`, `aws sso logout`) the list is fetched
/// again, which needs a sign-in.
pub fn cached_accounts(
    cache: &AccountsCache,
    store: &Store,
    session: &SsoSession,
) -> Option<CachedAccounts> {
    let token_path = store.tokens.token_path(session);
    if !rolecreds::signed_in(&token_path) {
        crate::debug!(
            "{} is gone (signed out); not using the cached account list",
            token_path.display()
        );
        return None;
    }
    let now = OffsetDateTime::now_utc();
    let (accounts, fetched_at) = cache
        .load(session.cache_key())
        .filter(|(_, at)| accounts::is_fresh(*at, now, accounts::DEFAULT_TTL))?;
    crate::info!(
        "using the account list cached at {} (--refresh asks Identity Center again)",
        crate::cache::token::format_time(fetched_at)
    );
    Some(CachedAccounts {
        accounts,
        fetched_at,
    })
}

/// Lists the session's accounts and roles from Identity Center, reporting `progress`.
pub async fn fetch_accounts(
    store: &Store,
    session: &SsoSession,
    on_missing: &OnMissing,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<Vec<Account>> {
    // Each attempt reports through the same callback; the attempts never overlap.
    let progress = std::cell::RefCell::new(progress);
    let progress = &progress;
    with_token(store, session, on_missing, |token| async move {
        let mut report = |p: Progress| (progress.borrow_mut())(p);
        portal::list_assignments(session, &token, &mut report).await
    })
    .await
}

/// Keeps a fetched list for the next caller; a cache that cannot be written is said once and
/// otherwise ignored (the list is in hand).
pub fn store_accounts(cache: &AccountsCache, session: &SsoSession, list: &[Account]) {
    if let Err(e) = cache.store(session.cache_key(), list, OffsetDateTime::now_utc()) {
        crate::cache::files::note_unwritable(cache.dir(), &e);
    }
}
