//! `portico list`: the accounts and roles assigned to the user, from the account cache when it
//! is fresh, else listed from Identity Center with adaptive pacing and a progress line.
//! As with `credentials`, the cache serves only a session that is still signed in: after a
//! sign-out (`portico logout`, `aws sso logout`) the list is fetched again, which needs a sign-in
//! (`--no-login`: exit 4, "run portico login").

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::cache::accounts::AccountsCache;
use crate::cli::ListArgs;
use crate::engine::{self, BrowserChoice};
use crate::exit::Exit;
use crate::identity::Store;
use crate::output::progress::ProgressLine;
use crate::output::table;
use crate::portal::Account;
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
        Some(cached) => cached.accounts,
        None => {
            let on_missing = engine::sign_in_policy(
                &ctx,
                args.no_login,
                BrowserChoice::Configured {
                    profile: None,
                    session: session.name.as_deref(),
                },
            );
            let mut line = ProgressLine::stderr();
            let list = engine::runtime()?.block_on(engine::fetch_accounts(
                &store,
                &session,
                &on_missing,
                &mut |p| line.show(p),
            ));
            line.finish();
            let list = list?;
            engine::store_accounts(&cache, &session, &list);
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
