//! `portico list`: the accounts and roles assigned to the user, from the account cache when it
//! is fresh, else listed from Identity Center with adaptive pacing and a progress line: an
//! incremental refresh of the cached list when it has expired (the accounts, and the roles of
//! new accounts and of the oldest few), a full listing without one or with `--refresh` (which
//! then says on stderr what changed since the cached list).
//! As with `credentials`, the cache serves only a session that is still signed in: after a
//! sign-out (`portico logout`, `aws sso logout`) the list is fetched again, which needs a sign-in
//! (`--no-login`: exit 4, "run portico login").

use std::io::{IsTerminal, Write};
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;

use crate::cache::accounts::{self, AccountsCache};
use crate::cache::files::note_unwritable;
use crate::cache::rolecreds;
use crate::cli::ListArgs;
use crate::exit::Exit;
use crate::identity::{self, Store};
use crate::output::table;
use crate::portal::{self, Account, AccountList, Listed, PortalError, Progress, Request, Update};
use crate::sanitize::for_terminal;
use crate::settings::SsoSession;

pub fn run(args: &ListArgs) -> anyhow::Result<Exit> {
    let ctx = super::context()?;
    let session = ctx.session(&args.session.selector())?;
    let cache = AccountsCache::under(&ctx.env.portico_cache_dir()?);
    let store = Store::from_env(&ctx.env)?;
    let now = OffsetDateTime::now_utc();
    let token_path = store.tokens.token_path(&session);
    let signed_in = rolecreds::signed_in(&token_path);
    if !signed_in {
        crate::debug!(
            "{} is gone (signed out); not using the cached account list",
            token_path.display()
        );
    }
    let cached = cache.load_list(session.cache_key());
    let usable = cached.as_ref().filter(|(list, at)| {
        !args.refresh
            && signed_in
            && list.is_complete()
            && accounts::is_fresh(*at, now, accounts::DEFAULT_TTL)
    });
    let list = match usable {
        Some((list, at)) => {
            crate::info!(
                "using the account list cached at {}",
                crate::cache::token::format_time(*at)
            );
            list.clone()
        }
        None => {
            let on_missing = super::credentials::on_missing(args.no_login);
            let previous = cached.map(|(list, _)| list);
            let listed = super::runtime()?.block_on(refresh(
                &store,
                &session,
                &on_missing,
                previous.as_ref(),
                args.refresh,
            ))?;
            let stored =
                cache.store_list(session.cache_key(), &listed.list, OffsetDateTime::now_utc());
            if let Err(e) = stored {
                note_unwritable(cache.dir(), &e);
            }
            if args.refresh && previous.is_some() {
                eprintln!("portico: account list refreshed: {}", listed.changes);
            }
            listed.list
        }
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        let accounts = list
            .accounts
            .iter()
            .map(|account| JsonAccount {
                account,
                roles_fetched_at: list
                    .roles_fetched_at
                    .get(&account.account_id)
                    .map(|at| crate::output::rfc3339_z(*at)),
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &JsonList { accounts })?;
        writeln!(out)?;
    } else {
        print_table(&mut out, &list.accounts)?;
    }
    Ok(Exit::Ok)
}

#[derive(Serialize)]
struct JsonList<'a> {
    accounts: Vec<JsonAccount<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonAccount<'a> {
    #[serde(flatten)]
    account: &'a Account,
    /// When the account's roles were fetched (RFC 3339).
    roles_fetched_at: Option<String>,
}

/// Lists with a progress line on stderr once it takes more than a moment.
pub async fn fetch(
    store: &Store,
    session: &SsoSession,
    on_missing: &identity::OnMissing,
) -> anyhow::Result<Vec<Account>> {
    Ok(refresh(store, session, on_missing, None, false)
        .await?
        .list
        .accounts)
}

/// Refreshes `previous` incrementally (or lists everything without it, or with `relist_all`),
/// with a progress line on stderr once it takes more than a moment; signs in again once if the
/// token is refused.
pub async fn refresh(
    store: &Store,
    session: &SsoSession,
    on_missing: &identity::OnMissing,
    previous: Option<&AccountList>,
    relist_all: bool,
) -> anyhow::Result<Listed> {
    let token = identity::access_token(store, session, on_missing).await?;
    match list_with_progress(session, &token, previous, relist_all).await {
        Err(PortalError::Unauthorized { .. }) => {
            identity::forget_access_token(store, session)?;
            let token = identity::access_token(store, session, on_missing).await?;
            Ok(list_with_progress(session, &token, previous, relist_all).await?)
        }
        other => Ok(other?),
    }
}

async fn list_with_progress(
    session: &SsoSession,
    token: &crate::secret::Secret,
    previous: Option<&AccountList>,
    relist_all: bool,
) -> Result<Listed, PortalError> {
    let interactive = std::io::stderr().is_terminal();
    let mut shown = false;
    let mut progress = |p: Progress| {
        if !interactive || p.elapsed < Duration::from_millis(500) {
            return;
        }
        shown = true;
        let throttled = if p.throttled > 0 {
            format!(", {} throttled and retried", p.throttled)
        } else {
            String::new()
        };
        match p.accounts_total {
            Some(total) => eprint!(
                "\r\x1b[Kportico: listing roles: {}/{total} accounts{throttled}",
                p.accounts_done
            ),
            None => eprint!(
                "\r\x1b[Kportico: listing accounts: {}{throttled}",
                p.accounts_seen
            ),
        }
    };
    let request = Request {
        previous,
        relist_all,
        ..Request::full(OffsetDateTime::now_utc())
    };
    let result = portal::listing::list(session, token, &request, &mut |update| {
        if let Update::Progress(p) = update {
            progress(p);
        }
    })
    .await;
    if shown {
        eprint!("\r\x1b[K");
    }
    result
}

/// The table, sized from the data; on a terminal, cut with `…` to its width.
fn print_table(out: &mut impl Write, list: &[Account]) -> std::io::Result<()> {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|a| {
            vec![
                for_terminal(&a.account_id),
                for_terminal(&a.account_name),
                for_terminal(&a.email_address),
                for_terminal(&a.roles.join(", ")),
            ]
        })
        .collect();
    let width = std::io::stdout()
        .is_terminal()
        .then(|| crossterm::terminal::size().ok())
        .flatten()
        .map(|(columns, _)| usize::from(columns));
    out.write_all(table::render(&["ACCOUNT", "NAME", "EMAIL", "ROLES"], &rows, width).as_bytes())
}
