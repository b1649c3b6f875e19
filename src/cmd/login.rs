//! `portico login`: sign in and cache the token where the AWS CLI finds it too.

use time::OffsetDateTime;

use crate::cache::rolecreds::RoleCredsCache;
use crate::cli::LoginArgs;
use crate::exit::Exit;
use crate::identity::{self, Browser, BrowserAvailability, LoginOptions, Method, Store};

pub fn run(args: &LoginArgs) -> anyhow::Result<Exit> {
    let ctx = super::context()?;
    let selector = args.session.selector();
    let session = ctx.session(&selector)?;
    let store = Store::from_env(&ctx.env)?;
    let browser = Browser::from_setting(&ctx.browser_for_session(
        args.browser.as_deref(),
        &selector,
        &session,
    ))?;
    // Decide up front: a browser that would be asked must exist (a preset names the programs
    // it looked for), before anything is signed out or registered.
    if !args.no_browser && !args.device_code && browser.availability() == BrowserAvailability::Yes {
        browser.plan("", session.name.as_deref().unwrap_or("portico"))?;
    }
    let options = LoginOptions {
        method: if args.device_code {
            Method::DeviceCode
        } else {
            Method::Auto
        },
        no_browser: args.no_browser,
        timeout: args.timeout,
        reporter: None,
        browser,
    };
    let runtime = super::runtime()?;
    if args.force {
        let out = runtime.block_on(identity::sign_out(&store, &session))?;
        let creds = RoleCredsCache::under(&ctx.env.portico_cache_dir()?)
            .remove_session(session.cache_key())?;
        let mut what = Vec::new();
        if out.revoked {
            what.push("ended the session at Identity Center".to_string());
        }
        if let Some(why) = &out.refused {
            what.push(format!(
                "Identity Center did not confirm the sign-out ({why})"
            ));
        }
        if let Some(path) = &out.deleted {
            what.push(format!("deleted {}", path.display()));
        }
        if !creds.is_empty() {
            what.push(format!(
                "deleted {} cached role credential file(s)",
                creds.len()
            ));
        }
        if what.is_empty() {
            what.push("there was no sign-in to end".to_string());
        }
        eprintln!(
            "portico: --force: signed out of {} first: {}.",
            session.label(),
            what.join(", ")
        );
    }
    let token = runtime.block_on(identity::login(&store, &session, &options))?;
    let now = OffsetDateTime::now_utc();
    let left = token
        .expires_at()
        .map(|t| crate::cmd::status::human_duration(t - now))
        .unwrap_or_else(|| "an unknown time".into());
    let refresh = if token.refresh_token.is_some() {
        "; portico refreshes it without a browser until the refresh token ends"
    } else {
        ""
    };
    let place = match &session.name {
        Some(_) => format!("{} ({})", session.label(), session.start_url),
        None => session.label(),
    };
    eprintln!("portico: signed in to {place}; the token is valid for {left}{refresh}.");
    Ok(Exit::Ok)
}
