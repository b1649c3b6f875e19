//! The listing job's work: the accounts and their roles, shown as they arrive and cached.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::cache::accounts::AccountsCache;
use crate::identity::{OnMissing, Store};
use crate::model::{Account, AccountList, Progress};
use crate::settings::SsoSession;
use crate::sso::{Priority, Request, SsoError, Update};
use crate::tui::Action;

use super::jobs::Courier;

/// Lists the accounts, caches and shows them: an incremental refresh of the cached list, or
/// everything on a first run. The accounts show as soon as they are listed (at once, page by
/// page, on a first run), their roles marked loading until they arrive in `priority`'s order;
/// a refresh ends with what changed on the status line.
pub(super) async fn list_accounts(
    courier: &Courier,
    store: &Store,
    session: &SsoSession,
    cache: &AccountsCache,
    priority: &Priority,
) {
    courier.send(Action::RefreshStarted);
    let previous = cache.load_list(session.cache_key()).map(|(list, _)| list);
    let request = Request {
        previous: previous.as_ref(),
        priority: priority.clone(),
        ..Request::full(OffsetDateTime::now_utc())
    };
    let mut shown = Shown::new(courier, previous.as_ref());
    let mut on_update = |update: Update| shown.update(update);
    let result = crate::engine::refresh_accounts(
        store,
        session,
        &OnMissing::fail_by_environment(),
        &request,
        &mut on_update,
    )
    .await;
    match result {
        Ok(listed) => {
            let now = OffsetDateTime::now_utc();
            if let Err(e) = cache.store_list(session.cache_key(), &listed.list, now) {
                courier.send(Action::Error(format!(
                    "could not cache the account list ({e}); it is shown anyway"
                )));
            }
            courier.send(Action::AccountsLoaded {
                accounts: listed.list.accounts,
                fetched_at: now,
            });
            if previous.is_some() {
                courier.send(Action::Status(format!(
                    "account list refreshed: {}",
                    listed.changes
                )));
            }
        }
        Err(e) => {
            if let Some(SsoError::NoAssignments { .. }) = e.downcast_ref() {
                // An empty list is the truth; the message says what to do about it.
                let _ = cache.store(session.cache_key(), &[], OffsetDateTime::now_utc());
                courier.send(Action::AccountsLoaded {
                    accounts: Vec::new(),
                    fetched_at: OffsetDateTime::now_utc(),
                });
            }
            courier.fail(&e);
        }
    }
}

/// What a listing under way has shown the app: the accounts listed so far, with the roles
/// known, sent as `AccountsListed` at most every [`Shown::EVERY`] (and at once for the first
/// page and when the last page is in); progress as `Progress`.
struct Shown<'a> {
    courier: &'a Courier,
    /// Accounts whose roles the previous list knows; `None` on a first run.
    known: Option<HashSet<String>>,
    accounts: Vec<Account>,
    index: HashMap<String, usize>,
    loading: HashSet<String>,
    pages_done: bool,
    last_list: Option<Instant>,
    last_progress: Option<Instant>,
}

impl<'a> Shown<'a> {
    const EVERY: Duration = Duration::from_millis(150);

    fn new(courier: &'a Courier, previous: Option<&AccountList>) -> Shown<'a> {
        Shown {
            courier,
            known: previous.map(|list| list.roles_fetched_at.keys().cloned().collect()),
            accounts: Vec::new(),
            index: HashMap::new(),
            loading: HashSet::new(),
            pages_done: false,
            last_list: None,
            last_progress: None,
        }
    }

    fn update(&mut self, update: Update) {
        let urgent = match update {
            Update::Page(page) => {
                for account in page {
                    let known = self
                        .known
                        .as_ref()
                        .is_some_and(|k| k.contains(&account.account_id));
                    if !known {
                        self.loading.insert(account.account_id.clone());
                    }
                    self.index
                        .insert(account.account_id.clone(), self.accounts.len());
                    self.accounts.push(account);
                }
                self.last_list.is_none()
            }
            Update::AccountsDone { .. } => {
                self.pages_done = true;
                true
            }
            Update::Roles { account_id, roles } => {
                if let Some(&i) = self.index.get(&account_id) {
                    self.accounts[i].roles = roles;
                }
                self.loading.remove(&account_id);
                false
            }
            Update::Progress(p) => {
                self.progress(p);
                return;
            }
        };
        // A refresh keeps showing the cached list until every account is listed.
        let may_show = self.known.is_none() || self.pages_done;
        let due = self.last_list.is_none_or(|at| at.elapsed() >= Self::EVERY);
        if may_show && (urgent || due) {
            self.last_list = Some(Instant::now());
            self.courier.send(Action::AccountsListed {
                accounts: self.accounts.clone(),
                loading: self.loading.iter().cloned().collect(),
            });
        }
    }

    fn progress(&mut self, p: Progress) {
        let due = self
            .last_progress
            .is_none_or(|at| at.elapsed() >= Duration::from_millis(100));
        if due || p.accounts_total == Some(p.accounts_done) {
            self.last_progress = Some(Instant::now());
            self.courier.send(Action::Progress {
                accounts_done: p.accounts_done,
                accounts_total: p.accounts_total,
            });
        }
        // Roles that arrived since the last list are shown once the pause is over.
        if (self.known.is_none() || self.pages_done)
            && self.last_list.is_some_and(|at| at.elapsed() >= Self::EVERY)
        {
            self.last_list = Some(Instant::now());
            self.courier.send(Action::AccountsListed {
                accounts: self.accounts.clone(),
                loading: self.loading.iter().cloned().collect(),
            });
        }
    }
}
