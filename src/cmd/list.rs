//! `portico list`: the accounts and roles assigned to the user, from the account cache when it
//! is fresh, else listed from Identity Center with adaptive pacing and a progress line.
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
use crate::portal::{self, Account, PortalError, Progress};
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
    let cached = if args.refresh || !signed_in {
        None
    } else {
        cache
            .load(session.cache_key())
            .filter(|(_, at)| accounts::is_fresh(*at, now, accounts::DEFAULT_TTL))
    };
    let list = match cached {
        Some((list, at)) => {
            crate::info!(
                "using the account list cached at {}",
                crate::cache::token::format_time(at)
            );
            list
        }
        None => {
            let on_missing = super::credentials::on_missing(args.no_login);
            let list = super::runtime()?.block_on(fetch(&store, &session, &on_missing))?;
            if let Err(e) = cache.store(session.cache_key(), &list, OffsetDateTime::now_utc()) {
                note_unwritable(cache.dir(), &e);
            }
            list
        }
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &JsonList { accounts: &list })?;
        writeln!(out)?;
    } else {
        print_table(&mut out, &list)?;
    }
    Ok(Exit::Ok)
}

#[derive(Serialize)]
struct JsonList<'a> {
    accounts: &'a [Account],
}

/// Lists with a progress line on stderr once it takes more than a moment.
pub async fn fetch(
    store: &Store,
    session: &SsoSession,
    on_missing: &identity::OnMissing,
) -> anyhow::Result<Vec<Account>> {
    let token = identity::access_token(store, session, on_missing).await?;
    let result = list_with_progress(session, &token).await;
    match result {
        Err(PortalError::Unauthorized { .. }) => {
            identity::forget_access_token(store, session)?;
            let token = identity::access_token(store, session, on_missing).await?;
            Ok(list_with_progress(session, &token).await?)
        }
        other => Ok(other?),
    }
}

async fn list_with_progress(
    session: &SsoSession,
    token: &crate::secret::Secret,
) -> Result<Vec<Account>, PortalError> {
    let interactive = std::io::stderr().is_terminal();
    let mut shown = false;
    let mut progress = |p: Progress| {
        if !interactive || p.elapsed < Duration::from_millis(500) {
            return;
        }
        shown = true;
        let total = p
            .accounts_total
            .map(|t| t.to_string())
            .unwrap_or_else(|| format!("{}+", p.accounts_seen));
        let throttled = if p.throttled > 0 {
            format!(", {} throttled and retried", p.throttled)
        } else {
            String::new()
        };
        eprint!(
            "\r\x1b[Kportico: listing roles: {}/{total} accounts{throttled}",
            p.accounts_done
        );
    };
    let result = portal::list_assignments(session, token, &mut progress).await;
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
