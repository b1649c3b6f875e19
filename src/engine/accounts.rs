//! The accounts and roles assigned to the user: from the account cache while it is fresh and
//! the session still signed in, else listed from Identity Center (paced; see
//! [`crate::sso::pacing`]) with the token retried once when refused: in full, or as an
//! incremental refresh of the cached list ([`crate::sso::listing`]). `portico list`,
//! `profiles sync` and the portal all read and list through here.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::cache::accounts::{self, AccountsCache};
use crate::identity::{OnMissing, Store};
use crate::model::{Account, AccountList, Progress};
use crate::settings::SsoSession;
use crate::sso::{self, Listed, Request, Update};

use super::with_token;

/// A list from the cache and when it was fetched.
#[derive(Debug, Clone)]
pub struct CachedAccounts {
    pub accounts: Vec<Account>,
    pub fetched_at: OffsetDateTime,
    /// When each account's roles were fetched.
    pub roles_fetched_at: BTreeMap<String, OffsetDateTime>,
}

/// The session's cached list if it is younger than [`accounts::DEFAULT_TTL`], every account's
/// roles are known, and the session is still signed in: after a sign-out (`portico logout`, `aws sso logout`) the list is fetched
/// again, which needs a sign-in.
pub fn cached_accounts(
    cache: &AccountsCache,
    store: &Store,
    session: &SsoSession,
) -> Option<CachedAccounts> {
    let token_path = store.tokens.token_path(session);
    if !store.tokens.has_token(session) {
        crate::debug!(
            "{} is gone (signed out); not using the cached account list",
            token_path.display()
        );
        return None;
    }
    let now = OffsetDateTime::now_utc();
    let (list, fetched_at) = cache.load_list(session.cache_key()).filter(|(list, at)| {
        list.is_complete() && accounts::is_fresh(*at, now, accounts::DEFAULT_TTL)
    })?;
    crate::info!(
        "using the account list cached at {} (--refresh asks Identity Center again)",
        crate::cache::token::format_time(fetched_at)
    );
    Some(CachedAccounts {
        accounts: list.accounts,
        fetched_at,
        roles_fetched_at: list.roles_fetched_at,
    })
}

/// The session's cached list however old, the base of an incremental refresh.
pub fn previous_accounts(cache: &AccountsCache, session: &SsoSession) -> Option<AccountList> {
    cache.load_list(session.cache_key()).map(|(list, _)| list)
}

/// Lists as `request` says (an incremental refresh of its previous list, or everything),
/// reporting `on_update`; the result says what changed.
pub async fn refresh_accounts(
    store: &Store,
    session: &SsoSession,
    on_missing: &OnMissing,
    request: &Request<'_>,
    on_update: &mut dyn FnMut(Update),
) -> anyhow::Result<Listed> {
    // Each attempt reports through the same callback; the attempts never overlap.
    let on_update = std::cell::RefCell::new(on_update);
    let on_update = &on_update;
    with_token(store, session, on_missing, |token| async move {
        let mut report = |u: Update| (on_update.borrow_mut())(u);
        sso::listing::list(session, &token, request, &mut report).await
    })
    .await
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
        sso::list_assignments(session, &token, &mut report).await
    })
    .await
}

/// [`store_accounts`] with the time each account's roles were fetched.
pub fn store_account_list(cache: &AccountsCache, session: &SsoSession, list: &AccountList) {
    if let Err(e) = cache.store_list(session.cache_key(), list, OffsetDateTime::now_utc()) {
        crate::cache::files::note_unwritable(cache.dir(), &e);
    }
}

/// Keeps a fetched list for the next caller; a cache that cannot be written is said once and
/// otherwise ignored (the list is in hand).
pub fn store_accounts(cache: &AccountsCache, session: &SsoSession, list: &[Account]) {
    if let Err(e) = cache.store(session.cache_key(), list, OffsetDateTime::now_utc()) {
        crate::cache::files::note_unwritable(cache.dir(), &e);
    }
}
