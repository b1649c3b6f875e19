//! The portal's background work: a job per thread and runtime, cancelled by dropping it, that
//! reports through a [`Courier`]; and the jobs themselves — listing accounts, signing out —
//! written to report as actions instead of writing to stderr.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use tokio::sync::oneshot;

use crate::cache::accounts::AccountsCache;
use crate::identity::{IdentityError, LoginReporter, OnMissing, Store};
use crate::model::{Account, AccountList, Progress};
use crate::settings::SsoSession;
use crate::sso::{Priority, Request, SsoError, Update};
use crate::tui::{Action, LoginState};

/// Whether `err` means the sign-in is gone and only a new one helps.
pub(super) fn needs_sign_in(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        matches!(
            e.downcast_ref::<IdentityError>(),
            Some(IdentityError::LoginRequired { .. })
        ) || matches!(
            e.downcast_ref::<SsoError>(),
            Some(SsoError::Unauthorized { .. })
        )
    })
}

/// The status-line text for `err`: the CLI's advice (`run portico login`) becomes the key
/// that does it here.
pub(super) fn describe(err: &anyhow::Error) -> String {
    for e in err.chain() {
        if let Some(IdentityError::LoginRequired { reason, .. }) = e.downcast_ref() {
            return format!("{reason}; press ⏎ to sign in");
        }
        if let Some(SsoError::Unauthorized { .. }) = e.downcast_ref() {
            return "Identity Center no longer accepts the sign-in; press ⏎ to sign in again"
                .into();
        }
    }
    crate::diag::error_text(err)
}

/// A background job: dropping it cancels the work (its future is dropped, which releases
/// identity's lock and closes a browser flow's listener).
pub(super) struct Job {
    _cancel: oneshot::Sender<()>,
    running: Arc<AtomicBool>,
}

impl Job {
    pub(super) fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }
}

/// Hands a job's results to the event loop, unless the world has moved on since the job
/// started (logout, another session): stale results are dropped.
#[derive(Clone)]
pub(super) struct Courier {
    tx: Sender<Action>,
    generation: Arc<AtomicU64>,
    mine: u64,
}

impl Courier {
    /// A courier for work that belongs to the current `generation`.
    pub(super) fn new(tx: Sender<Action>, generation: &Arc<AtomicU64>) -> Courier {
        Courier {
            tx,
            generation: generation.clone(),
            mine: generation.load(Ordering::SeqCst),
        }
    }

    pub(super) fn send(&self, action: Action) {
        if self.generation.load(Ordering::SeqCst) == self.mine {
            let _ = self.tx.send(action);
        }
    }

    pub(super) fn fail(&self, err: &anyhow::Error) {
        if needs_sign_in(err) {
            self.send(Action::LoginState(LoginState::SignedOut));
        }
        self.send(Action::Error(describe(err)));
    }

    /// A reporter that turns the login's URL or device code into the sign-in screens.
    pub(super) fn login_reporter(&self) -> LoginReporter {
        let courier = self.clone();
        LoginReporter::new(move |event| {
            let state = LoginState::Waiting(event);
            courier.send(Action::LoginState(state));
        })
    }
}

/// Runs `work` on its own thread and runtime. With `cancel`, the work stops when the
/// returned job is dropped.
pub(super) fn spawn<F, Fut>(courier: Courier, work: F) -> Job
where
    F: FnOnce(Courier) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let (cancel, cancelled) = oneshot::channel::<()>();
    let running = Arc::new(AtomicBool::new(true));
    let flag = running.clone();
    std::thread::spawn(move || {
        match crate::engine::runtime() {
            Ok(runtime) => runtime.block_on(async move {
                tokio::select! {
                    () = work(courier) => {}
                    _ = cancelled => {}
                }
            }),
            Err(e) => courier.send(Action::Error(format!("cannot start background work: {e}"))),
        }
        flag.store(false, Ordering::SeqCst);
    });
    Job {
        _cancel: cancel,
        running,
    }
}

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

/// What `portico logout` does for one session, said in one line instead of on stderr.
/// The AWS CLI's role credentials under `aws_dir` are cleared as `aws sso logout` does.
pub(super) async fn sign_out(
    store: &Store,
    cache_root: &Path,
    aws_dir: Option<&Path>,
    session: &SsoSession,
) -> anyhow::Result<String> {
    let mut done = Vec::new();
    let out = crate::engine::sign_out(store, cache_root, session).await?;
    if out.revoked {
        done.push("revoked the sign-in".to_string());
    }
    if let Some(why) = out.refused {
        done.push(format!(
            "Identity Center did not confirm the sign-out ({why})"
        ));
    }
    if out.token_file.is_some() {
        done.push("deleted the token".to_string());
    }
    if out.role_credentials > 0 {
        done.push(format!(
            "deleted {} cached credentials",
            out.role_credentials
        ));
    }
    if let Some(dir) = aws_dir {
        let (_, swept) = crate::engine::sweep_aws_cli(dir)?;
        if swept > 0 {
            done.push(format!("deleted {swept} the AWS CLI cached"));
        }
    }
    if done.is_empty() {
        done.push("nothing was cached".to_string());
    }
    Ok(format!(
        "signed out of {}: {}",
        session.label(),
        done.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_required_becomes_a_key_to_press() {
        let err = anyhow::Error::from(IdentityError::LoginRequired {
            reason: "not signed in to sso-session corp".into(),
            command: "portico login --sso-session corp".into(),
        });
        assert!(needs_sign_in(&err));
        assert_eq!(
            describe(&err),
            "not signed in to sso-session corp; press ⏎ to sign in"
        );
        let other = anyhow::anyhow!("disk full");
        assert!(!needs_sign_in(&other));
        assert_eq!(describe(&other), "disk full");
    }
}
