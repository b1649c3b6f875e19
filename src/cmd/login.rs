//! `portico login`: sign in and cache the token where the AWS CLI finds it too.

use time::OffsetDateTime;

use crate::cli::LoginArgs;
use crate::exit::Exit;
use crate::identity::{self, LoginOptions, Method, Store};

pub fn run(args: &LoginArgs) -> anyhow::Result<Exit> {
    let ctx = super::context()?;
    let session = ctx.session(&args.session.selector())?;
    let store = Store::from_env(&ctx.env)?;
    let options = LoginOptions {
        method: if args.device_code {
            Method::DeviceCode
        } else {
            Method::Auto
        },
        no_browser: args.no_browser,
        timeout: args.timeout,
        reporter: None,
    };
    let token = super::runtime()?.block_on(identity::login(&store, &session, &options))?;
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
