//! `portico list`: the accounts and roles assigned to the user, from the account cache when it
//! is fresh, else listed from Identity Center with adaptive pacing and a progress line: an
//! incremental refresh of the cached list when it has expired (the accounts, and the roles of
//! new accounts and of the oldest few), a full listing without one or with `--refresh` (which
//! then says on stderr what changed since the cached list).
//! As with `credentials`, the cache serves only a session that is still signed in: after a
//! sign-out (`portico logout`, `aws sso logout`) the list is fetched again, which needs a sign-in
//! (`--no-login`: exit 4, "run portico login").

use std::io::{IsTerminal, Write};

use serde::Serialize;
use time::OffsetDateTime;

use crate::cache::accounts::AccountsCache;
use crate::cli::ListArgs;
use crate::engine::{self, BrowserChoice};
use crate::exit::Exit;
use crate::identity::Store;
use crate::output::progress::ProgressLine;
use crate::output::table;
use crate::portal::{Account, AccountList, Request, Update};
use crate::sanitize::for_terminal;
use crate::settings::{Context, Environment};

pub fn run(args: &ListArgs) -> anyhow::Result<Exit> {
    let ctx = Context::load(Environment::from_process())?;
    let session = ctx.session(&args.session.selector())?;
    let cache = AccountsCache::under(&ctx.env.portico_cache_dir()?);
    let store = Store::from_env(&ctx.env)?;
    let cached = match args.refresh {
        true => None,
        false => engine::cached_accounts(&cache, &store, &session),
    };
    let list = match cached {
        Some(cached) => AccountList {
            accounts: cached.accounts,
            roles_fetched_at: cached.roles_fetched_at,
        },
        None => {
            let on_missing = engine::sign_in_policy(
                &ctx,
                args.no_login,
                BrowserChoice::Configured {
                    profile: None,
                    session: session.name.as_deref(),
                },
            );
            let previous = engine::previous_accounts(&cache, &session);
            let mut line = ProgressLine::stderr();
            let request = Request {
                previous: previous.as_ref(),
                relist_all: args.refresh,
                ..Request::full(OffsetDateTime::now_utc())
            };
            let listed = engine::runtime()?.block_on(engine::refresh_accounts(
                &store,
                &session,
                &on_missing,
                &request,
                &mut |update| {
                    if let Update::Progress(p) = update {
                        line.show(p);
                    }
                },
            ));
            line.finish();
            let listed = listed?;
            engine::store_account_list(&cache, &session, &listed.list);
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
