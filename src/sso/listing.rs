//! Listing the accounts and their roles: accounts first (ListAccounts, 100 a page), then each
//! account's roles (ListAccountRoles) in the order a shared [`Priority`] gives, all through the
//! adaptive [`Pacer`] and behind credential calls at the process's [`gate`](pacing::gate).
//!
//! A listing given the previous list refreshes it incrementally: the accounts are listed again
//! (cheap: one call per 100 accounts), and roles only for accounts that are new or whose roles
//! are unknown, accounts asked for with [`Priority::fetch_now`], and the [`REFRESH_SHARE`] of
//! accounts whose roles were fetched longest ago; every other account keeps its known roles.
//! Accounts no longer listed disappear. [`Request::relist_all`] lists every account's roles
//! again and still reports what changed. Each account keeps the time its roles were fetched, so
//! that every account's roles are fetched again within about `1 / REFRESH_SHARE` refreshes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sso::config::http::HttpResponse;
use aws_sdk_sso::config::retry::RetryConfig;
use aws_sdk_sso::error::{ProvideErrorMetadata, SdkError};
use time::OffsetDateTime;
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinSet;

use super::pacing::{self, Pacer, PacerConfig, Slot};
use super::priority::Priority;
use super::{classify, Context, Failure, SsoError};
use crate::model::{Account, AccountList, Progress};
use crate::sanitize::for_terminal;
use crate::secret::Secret;
use crate::settings::SsoSession;

/// The share of known accounts whose roles a routine refresh lists again, oldest first.
pub const REFRESH_SHARE: f64 = 0.05;

/// What a refresh changed, e.g. `+3 roles, −1 account`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Changes {
    pub accounts_added: usize,
    pub accounts_removed: usize,
    /// Roles that appeared in accounts listed both times.
    pub roles_added: usize,
    /// Roles that disappeared from accounts listed both times.
    pub roles_removed: usize,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }
}

impl fmt::Display for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("no changes");
        }
        let parts = [
            ('+', self.roles_added, "role"),
            ('−', self.roles_removed, "role"),
            ('+', self.accounts_added, "account"),
            ('−', self.accounts_removed, "account"),
        ];
        let text: Vec<String> = parts
            .iter()
            .filter(|(_, n, _)| *n > 0)
            .map(|(sign, n, what)| format!("{sign}{n} {what}{}", if *n == 1 { "" } else { "s" }))
            .collect();
        f.write_str(&text.join(", "))
    }
}

/// What a listing reports while it runs, on the caller's task.
#[derive(Debug, Clone)]
pub enum Update {
    /// A page of accounts, with the roles known from the previous list (empty when unknown).
    Page(Vec<Account>),
    /// Every account is listed; these ids are no longer assigned.
    AccountsDone { removed: Vec<String> },
    /// An account's roles, sorted.
    Roles {
        account_id: String,
        roles: Vec<String>,
    },
    /// Counts, after every event and about every 250 ms while waiting.
    Progress(Progress),
}

/// How to list.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The list to refresh incrementally; `None` lists every account's roles.
    pub previous: Option<&'a AccountList>,
    /// List every account's roles even with a previous list (which still keeps the roles
    /// shown while the listing runs and is what [`Changes`] compare with).
    pub relist_all: bool,
    pub priority: Priority,
    pub config: PacerConfig,
    /// The time recorded for roles fetched by this listing.
    pub now: OffsetDateTime,
}

impl Request<'_> {
    /// A full listing with the default pacing.
    pub fn full(now: OffsetDateTime) -> Request<'static> {
        Request {
            previous: None,
            relist_all: false,
            priority: Priority::new(),
            config: PacerConfig::default(),
            now,
        }
    }
}

/// The outcome of a listing.
#[derive(Debug, Clone)]
pub struct Listed {
    pub list: AccountList,
    /// Compared with the previous list (all zero without one).
    pub changes: Changes,
    /// Portal calls sent, retries included.
    pub calls: u64,
}

/// Lists the accounts and the roles the request calls for; see the module docs.
pub async fn list(
    session: &SsoSession,
    token: &Secret,
    request: &Request<'_>,
    on_update: &mut dyn FnMut(Update),
) -> Result<Listed, SsoError> {
    let config = &request.config;
    let started = Instant::now();
    let shared = Arc::new(Shared {
        // The pacer retries; the SDK's own retries would hide 429s from it.
        client: crate::aws::portal_client(session, RetryConfig::disabled()),
        token: token.clone(),
        pacer: Pacer::new(config.clone(), started),
        context: Context::new(session),
        calls: AtomicU64::new(0),
        throttled: AtomicU64::new(0),
        queue: Queue::default(),
        priority: request.priority.clone(),
    });
    let previous: HashMap<&str, (&Account, Option<OffsetDateTime>)> = request
        .previous
        .map(|list| {
            list.accounts
                .iter()
                .map(|a| {
                    let at = list.roles_fetched_at.get(&a.account_id).copied();
                    (a.account_id.as_str(), (a, at))
                })
                .collect()
        })
        .unwrap_or_default();
    let (events, mut inbox) = mpsc::unbounded_channel();
    let mut tasks = JoinSet::new();
    tasks.spawn(page_accounts(shared.clone(), events.clone()));

    let mut accounts: Vec<Account> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut fetched: HashMap<String, Vec<String>> = HashMap::new();
    let mut total: Option<usize> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    loop {
        tokio::select! {
            Some(event) = inbox.recv() => match event {
                Event::Page(page) => {
                    let mut fresh = Vec::new();
                    for mut account in page {
                        if seen.insert(account.account_id.clone()) {
                            if let Some((old, _)) = previous.get(account.account_id.as_str()) {
                                account.roles = old.roles.clone();
                            }
                            fresh.push(account.clone());
                            accounts.push(account);
                        }
                    }
                    on_update(Update::Page(fresh));
                }
                Event::PagesDone => {
                    if accounts.is_empty() {
                        return Err(SsoError::NoAssignments {
                            session: shared.context.session.clone(),
                        });
                    }
                    let removed: Vec<String> = request
                        .previous
                        .map(|list| {
                            list.accounts
                                .iter()
                                .filter(|a| !seen.contains(&a.account_id))
                                .map(|a| a.account_id.clone())
                                .collect()
                        })
                        .unwrap_or_default();
                    on_update(Update::AccountsDone { removed });
                    let planned = if request.relist_all {
                        accounts.iter().map(|a| a.account_id.clone()).collect()
                    } else {
                        plan(&accounts, &previous)
                    };
                    total = Some(planned.len());
                    shared.queue.start(planned);
                    for _ in 0..config.concurrency.max(1) {
                        tasks.spawn(list_roles(shared.clone(), events.clone()));
                    }
                }
                Event::Roles(account_id, mut roles) => {
                    roles.sort();
                    roles.dedup();
                    shared.queue.finish(&account_id);
                    on_update(Update::Roles { account_id: account_id.clone(), roles: roles.clone() });
                    fetched.insert(account_id, roles);
                }
                Event::Failed(error) => return Err(error),
            },
            Some(joined) = tasks.join_next() => {
                if let Err(e) = joined {
                    if e.is_panic() {
                        std::panic::resume_unwind(e.into_panic());
                    }
                }
            }
            () = shared.priority.asked() => {}
            _ = tick.tick() => {
                let now = Instant::now();
                let stalled = shared.pacer.stalled_for(now);
                if stalled > config.stall_timeout {
                    return Err(shared.gave_up(format!("no call succeeded for {} s", stalled.as_secs())));
                }
                if now - started > config.overall_timeout {
                    return Err(shared.gave_up(format!(
                        "listing took more than {} minutes",
                        config.overall_timeout.as_secs() / 60
                    )));
                }
            }
        }
        if total.is_some() {
            // Accounts asked for now join the queue, even after the planned ones are done.
            let added = shared.queue.take_requests(&shared.priority, &seen);
            total = total.map(|t| t + added);
        }
        on_update(Update::Progress(Progress {
            accounts_seen: accounts.len(),
            accounts_total: total,
            accounts_done: shared.queue.done(),
            calls: shared.calls.load(Ordering::Relaxed),
            throttled: shared.throttled.load(Ordering::Relaxed),
            elapsed: started.elapsed(),
        }));
        if total.is_some() && shared.queue.is_idle() {
            break;
        }
    }
    shared.queue.close();
    let calls = shared.calls.load(Ordering::Relaxed);
    crate::debug!(
        "listed {} accounts, roles of {} in {:.1}s: {calls} calls, {} throttled, final rate {:.1}/s",
        accounts.len(),
        fetched.len(),
        started.elapsed().as_secs_f64(),
        shared.throttled.load(Ordering::Relaxed),
        shared.pacer.rate()
    );
    let mut changes = Changes::default();
    let mut roles_fetched_at = BTreeMap::new();
    for account in &mut accounts {
        let old = previous.get(account.account_id.as_str());
        match fetched.remove(&account.account_id) {
            Some(roles) => {
                if let Some((old, _)) = old {
                    let before: HashSet<&String> = old.roles.iter().collect();
                    let after: HashSet<&String> = roles.iter().collect();
                    changes.roles_added += after.difference(&before).count();
                    changes.roles_removed += before.difference(&after).count();
                }
                account.roles = roles;
                roles_fetched_at.insert(account.account_id.clone(), request.now);
            }
            None => {
                if let Some((_, Some(at))) = old {
                    roles_fetched_at.insert(account.account_id.clone(), *at);
                }
            }
        }
        if old.is_none() && request.previous.is_some() {
            changes.accounts_added += 1;
        }
    }
    if let Some(list) = request.previous {
        changes.accounts_removed = list
            .accounts
            .iter()
            .filter(|a| !seen.contains(&a.account_id))
            .count();
    }
    sort(&mut accounts);
    Ok(Listed {
        list: AccountList {
            accounts,
            roles_fetched_at,
        },
        changes,
        calls,
    })
}

/// The accounts whose roles to list, in listing order: every account whose roles are unknown,
/// then the [`REFRESH_SHARE`] of the others fetched longest ago.
fn plan(
    accounts: &[Account],
    previous: &HashMap<&str, (&Account, Option<OffsetDateTime>)>,
) -> Vec<String> {
    let mut unknown = Vec::new();
    let mut known = Vec::new();
    for account in accounts {
        match previous.get(account.account_id.as_str()) {
            Some((_, Some(at))) => known.push((*at, account.account_id.clone())),
            _ => unknown.push(account.account_id.clone()),
        }
    }
    if known.is_empty() {
        return unknown;
    }
    known.sort();
    let slice = (accounts.len() as f64 * REFRESH_SHARE).ceil() as usize;
    unknown.extend(known.into_iter().take(slice).map(|(_, id)| id));
    unknown
}

/// Sorted by account name (case-insensitive, then exact), then id.
pub fn sort(accounts: &mut [Account]) {
    accounts.sort_by(|a, b| {
        a.account_name
            .to_lowercase()
            .cmp(&b.account_name.to_lowercase())
            .then_with(|| a.account_name.cmp(&b.account_name))
            .then_with(|| a.account_id.cmp(&b.account_id))
    });
}

/// The accounts waiting for their roles to be listed, shared by the role workers.
#[derive(Debug, Default)]
struct Queue {
    state: Mutex<QueueState>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct QueueState {
    /// Waiting, with their order in the listing.
    pending: Vec<(usize, String)>,
    in_progress: HashSet<String>,
    next_order: usize,
    done: usize,
    closed: bool,
}

impl Queue {
    fn state(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn start(&self, planned: Vec<String>) {
        {
            let mut s = self.state();
            for id in planned {
                let order = s.next_order;
                s.next_order += 1;
                s.pending.push((order, id));
            }
        }
        self.changed.notify_waiters();
    }

    /// Queues the accounts asked for now that are listed and not already waiting or being
    /// listed; returns how many.
    fn take_requests(&self, priority: &Priority, known: &HashSet<String>) -> usize {
        let requests = priority.take_requests();
        if requests.is_empty() {
            return 0;
        }
        let mut added = 0;
        {
            let mut s = self.state();
            for id in requests {
                let queued = s.pending.iter().any(|(_, x)| *x == id) || s.in_progress.contains(&id);
                if known.contains(&id) && !queued {
                    let order = s.next_order;
                    s.next_order += 1;
                    s.pending.push((order, id));
                    added += 1;
                }
            }
        }
        self.changed.notify_waiters();
        added
    }

    fn is_idle(&self) -> bool {
        let s = self.state();
        s.pending.is_empty() && s.in_progress.is_empty()
    }

    fn done(&self) -> usize {
        self.state().done
    }

    fn close(&self) {
        self.state().closed = true;
        self.changed.notify_waiters();
    }

    /// Waits until an account is waiting (`true`) or the queue is closed (`false`).
    async fn wait_for_work(&self) -> bool {
        loop {
            let mut notified = std::pin::pin!(self.changed.notified());
            notified.as_mut().enable();
            {
                let s = self.state();
                if s.closed {
                    return false;
                }
                if !s.pending.is_empty() {
                    return true;
                }
            }
            notified.await;
        }
    }

    /// The most urgent waiting account, now in progress.
    fn pick(&self, priority: &Priority) -> Option<String> {
        let mut s = self.state();
        let id = priority.pick(&mut s.pending)?;
        s.in_progress.insert(id.clone());
        Some(id)
    }

    fn finish(&self, id: &str) {
        {
            let mut s = self.state();
            s.in_progress.remove(id);
            s.done += 1;
        }
        self.changed.notify_waiters();
    }
}

/// What the listing's tasks share.
struct Shared {
    client: aws_sdk_sso::Client,
    token: Secret,
    pacer: Pacer,
    context: Context,
    calls: AtomicU64,
    throttled: AtomicU64,
    queue: Queue,
    priority: Priority,
}

impl Shared {
    /// The error for giving up on a listing that stopped making progress.
    fn gave_up(&self, detail: String) -> SsoError {
        let throttled = self.throttled.load(Ordering::Relaxed);
        if throttled > 0 {
            SsoError::Throttled {
                operation: "ListAccountRoles",
                throttled,
                detail,
            }
        } else {
            SsoError::Network {
                endpoint: self.context.endpoint.clone(),
                region: self.context.region.clone(),
                detail: crate::http::Unreached::Plain(detail),
            }
        }
    }

    /// Reserves the next call slot and waits for it.
    async fn slot(&self) -> Slot {
        let slot = self.pacer.reserve(Instant::now());
        tokio::time::sleep_until(slot.at.into()).await;
        slot
    }
}

/// What the listing's tasks report to the collecting loop.
enum Event {
    Page(Vec<Account>),
    PagesDone,
    Roles(String, Vec<String>),
    Failed(SsoError),
}

/// Pages through ListAccounts, reporting each page as it arrives. Role listing waits until the
/// last page is in: the accounts are what the user sees first.
async fn page_accounts(shared: Arc<Shared>, events: mpsc::UnboundedSender<Event>) {
    const OPERATION: &str = "ListAccounts";
    let mut next_token: Option<String> = None;
    loop {
        let result = paced(&shared, None, || {
            shared
                .client
                .list_accounts()
                .access_token(shared.token.expose())
                .max_results(100)
                .set_next_token(next_token.clone())
                .send()
        })
        .await;
        let output = match result {
            Ok(output) => output,
            Err((failure, attempts)) => {
                let error = shared.context.error(OPERATION, failure, attempts, None);
                let _ = events.send(Event::Failed(error));
                return;
            }
        };
        let page = output
            .account_list()
            .iter()
            .filter_map(|a| {
                Some(Account {
                    account_id: a.account_id()?.to_string(),
                    account_name: a.account_name().unwrap_or_default().to_string(),
                    email_address: a.email_address().unwrap_or_default().to_string(),
                    roles: Vec::new(),
                })
            })
            .collect();
        let _ = events.send(Event::Page(page));
        next_token = output
            .next_token()
            .filter(|t| !t.is_empty())
            .map(String::from);
        if next_token.is_none() {
            let _ = events.send(Event::PagesDone);
            return;
        }
    }
}

/// One role worker: takes the most urgent account once a call slot is free (so a new priority
/// applies to the very next call) and lists its roles, all pages. An account that vanished or
/// became inaccessible since ListAccounts (404/403) is reported with no roles rather than
/// failing the listing.
async fn list_roles(shared: Arc<Shared>, events: mpsc::UnboundedSender<Event>) {
    const OPERATION: &str = "ListAccountRoles";
    while shared.queue.wait_for_work().await {
        let slot = shared.slot().await;
        let Some(account_id) = shared.queue.pick(&shared.priority) else {
            continue;
        };
        let mut first = Some(slot);
        let mut roles = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let result = paced(&shared, first.take(), || {
                shared
                    .client
                    .list_account_roles()
                    .access_token(shared.token.expose())
                    .account_id(&account_id)
                    .max_results(100)
                    .set_next_token(next_token.clone())
                    .send()
            })
            .await;
            let output = match result {
                Ok(output) => output,
                Err((Failure::Forbidden | Failure::NotFound, _)) => {
                    crate::debug!(
                        "account {} went away while listing; leaving it without roles",
                        for_terminal(&account_id)
                    );
                    break;
                }
                Err((failure, attempts)) => {
                    let error = shared.context.error(OPERATION, failure, attempts, None);
                    let _ = events.send(Event::Failed(error));
                    return;
                }
            };
            roles.extend(
                output
                    .role_list()
                    .iter()
                    .filter_map(|r| r.role_name().map(String::from)),
            );
            next_token = output
                .next_token()
                .filter(|t| !t.is_empty())
                .map(String::from);
            if next_token.is_none() {
                break;
            }
        }
        // The collector marks it done when it takes the roles in, so that it never sees an
        // idle queue with roles still on their way.
        let _ = events.send(Event::Roles(account_id, roles));
    }
}

/// Sends one call through the pacer and the process's gate: waits for a slot (`first`, if the
/// caller already waited for one), retries 429 for as long as the caller keeps going (the
/// collecting loop gives up on a stall), and retries server and network errors a bounded
/// number of times. Returns the failure and how many attempts it took.
async fn paced<T, E, F, Fut>(
    shared: &Shared,
    mut first: Option<Slot>,
    mut call: F,
) -> Result<T, (Failure, u32)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let config = shared.pacer.config();
    let (mut attempts, mut throttles, mut server_errors, mut network_errors) = (0u32, 0, 0, 0);
    loop {
        let slot = match first.take() {
            Some(slot) => slot,
            None => shared.slot().await,
        };
        // About two intervals at the current pace refill one call in a bucket the listing
        // keeps at its limit. The pace can be above the service's limit just when the throttle
        // starts answering (that is how the pacer finds it), so a floor of 150 ms covers any
        // limit above ~7 calls a second (Identity Center's is about 20): a credential call
        // waits that much longer at most, and never meets a 429 the listing caused.
        let refill = Duration::from_secs_f64(2.0 / shared.pacer.rate())
            .clamp(Duration::from_millis(150), Duration::from_secs(1));
        let in_flight = pacing::gate().listing_call(refill).await;
        attempts += 1;
        shared.calls.fetch_add(1, Ordering::Relaxed);
        let result = call().await;
        drop(in_flight);
        let error = match result {
            Ok(value) => {
                shared.pacer.on_success(&slot, Instant::now());
                return Ok(value);
            }
            Err(error) => error,
        };
        let wait = match classify(&error, &shared.context.endpoint) {
            Failure::Throttled => {
                throttles += 1;
                shared.throttled.fetch_add(1, Ordering::Relaxed);
                shared.pacer.on_throttled(&slot, throttles, Instant::now())
            }
            Failure::Server { ref detail, .. }
                if server_errors + 1 < config.max_attempts_server_error =>
            {
                server_errors += 1;
                crate::debug!("portal call failed ({detail}); retrying");
                shared.pacer.error_backoff(server_errors)
            }
            Failure::Network { ref detail } if network_errors + 1 < config.max_attempts_network => {
                network_errors += 1;
                crate::debug!("portal call failed ({detail}); retrying");
                shared.pacer.error_backoff(network_errors)
            }
            failure => return Err((failure, attempts)),
        };
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn account(id: &str, name: &str, roles: &[&str]) -> Account {
        Account {
            account_id: id.into(),
            account_name: name.into(),
            email_address: String::new(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }

    #[test]
    fn changes_read_like_the_status_line() {
        assert_eq!(Changes::default().to_string(), "no changes");
        let c = Changes {
            accounts_added: 0,
            accounts_removed: 1,
            roles_added: 3,
            roles_removed: 0,
        };
        assert_eq!(c.to_string(), "+3 roles, −1 account");
        let c = Changes {
            accounts_added: 2,
            accounts_removed: 0,
            roles_added: 1,
            roles_removed: 1,
        };
        assert_eq!(c.to_string(), "+1 role, −1 role, +2 accounts");
    }

    #[test]
    fn plan_takes_unknown_then_the_oldest_share() {
        let t0 = datetime!(2026-03-01 12:00:00 UTC);
        let accounts: Vec<Account> = (0..40)
            .map(|i| account(&format!("{i:012}"), &format!("a{i}"), &[]))
            .collect();
        let mut old = AccountList::fetched_at(accounts[..39].to_vec(), t0);
        // Account 7 is the oldest; account 3's roles are unknown; account 39 is new.
        old.roles_fetched_at.insert(
            accounts[7].account_id.clone(),
            t0 - time::Duration::hours(5),
        );
        old.roles_fetched_at.remove(&accounts[3].account_id);
        let previous = old
            .accounts
            .iter()
            .map(|a| {
                let at = old.roles_fetched_at.get(&a.account_id).copied();
                (a.account_id.as_str(), (a, at))
            })
            .collect();
        let planned = plan(&accounts, &previous);
        // 5 % of 40 accounts is 2 of the known ones: the oldest, then the first by id.
        assert_eq!(
            planned,
            [
                accounts[3].account_id.clone(),
                accounts[39].account_id.clone(),
                accounts[7].account_id.clone(),
                accounts[0].account_id.clone(),
            ]
        );
        assert_eq!(plan(&accounts, &HashMap::new()).len(), 40);
    }
}
