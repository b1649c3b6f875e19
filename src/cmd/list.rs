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
use crate::engine::{self, BrowserChoice, Engine, SignIn};
use crate::exit::Exit;
use crate::identity::{self, Browser, Store};
use crate::output::progress::ProgressLine;
use crate::output::table;

use crate::model::{Account, AccountList};
use crate::saml;
use crate::sanitize::for_terminal;
use crate::settings::{Context, Environment};
use crate::sso::{Request, Update};

pub fn run(args: &ListArgs) -> anyhow::Result<Exit> {
    let ctx = Context::load(Environment::from_process())?;
    if let Some(name) = &args.saml_session {
        return saml_roles(&ctx, args, name);
    }
    let session = match engine::sign_in_for(&ctx, &args.session.selector())? {
        SignIn::IdentityCenter(session) => session,
        // A profile whose credential_process names a SAML role: that saml-session's roles.
        SignIn::Saml(session) => return saml_roles(&ctx, args, &session.name),
    };
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
            let listed = engine::runtime()?.block_on(identity::until_cancelled(
                engine::refresh_accounts(&store, &session, &on_missing, &request, &mut |update| {
                    if let Update::Progress(p) = update {
                        line.show(p);
                    }
                }),
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
                    .map(|at| crate::timefmt::rfc3339_z(*at)),
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

/// `--saml-session`: the IAM roles of the saml-session's last assertion.
fn saml_roles(ctx: &Context, args: &ListArgs, name: &str) -> anyhow::Result<Exit> {
    let session = ctx.saml_session(name)?;
    let browser = Browser::from_setting(&ctx.saml_browser_setting(None, name))?;
    let on_missing = engine::sign_in_policy(ctx, args.no_login, BrowserChoice::Given(browser));
    let store = Engine::new(&ctx.env)?.saml_store();
    let roles =
        engine::runtime()?.block_on(saml::roles(&store, &session, &on_missing, args.refresh))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let roles: Vec<JsonRole> = roles
            .iter()
            .map(|r| JsonRole {
                account_id: r.account_id(),
                role_name: r.role_name(),
                role_arn: &r.role_arn,
                principal_arn: &r.principal_arn,
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &JsonRoles { roles })?;
        writeln!(out)?;
        return Ok(Exit::Ok);
    }
    let rows: Vec<Vec<String>> = roles
        .iter()
        .map(|r| {
            vec![
                for_terminal(r.account_id()),
                for_terminal(r.role_name()),
                for_terminal(&r.role_arn),
                for_terminal(&r.principal_arn),
            ]
        })
        .collect();
    out.write_all(
        table::render(
            &["ACCOUNT", "ROLE", "ROLE ARN", "PROVIDER ARN"],
            &rows,
            terminal_width(),
        )
        .as_bytes(),
    )?;
    Ok(Exit::Ok)
}

#[derive(Serialize)]
struct JsonRoles<'a> {
    roles: Vec<JsonRole<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonRole<'a> {
    account_id: &'a str,
    role_name: &'a str,
    role_arn: &'a str,
    principal_arn: &'a str,
}

fn terminal_width() -> Option<usize> {
    std::io::stdout()
        .is_terminal()
        .then(|| crossterm::terminal::size().ok())
        .flatten()
        .map(|(columns, _)| usize::from(columns))
}
