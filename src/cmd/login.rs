//! `portico login`: sign in and cache the token where the AWS CLI finds it too.

use time::OffsetDateTime;

use crate::cli::LoginArgs;
use crate::engine::{self, Engine, SignIn};
use crate::exit::Exit;
use crate::identity::{self, Browser, BrowserAvailability, LoginOptions, Method, Store};
use crate::output::duration;
use crate::saml;
use crate::settings::{Context, Environment};

pub fn run(args: &LoginArgs) -> anyhow::Result<Exit> {
    let ctx = Context::load(Environment::from_process())?;
    if let Some(name) = &args.saml_session {
        return saml_login(&ctx, args, name, None);
    }
    let selector = args.session.selector();
    let session = match engine::sign_in_for(&ctx, &selector)? {
        SignIn::IdentityCenter(session) => session,
        // A profile whose credential_process names a SAML role (`profiles sync --saml-session`).
        SignIn::Saml(session) => {
            let profile = ctx.env.pick_profile(selector.profile.as_deref()).0;
            if args.device_code || args.no_browser || args.force {
                eprintln!(
                    "portico: error: profile \"{}\" signs in to [saml-session {}], which has no --device-code, --no-browser or --force; run `portico login --profile {}` without them",
                    crate::sanitize::for_terminal(&profile),
                    crate::sanitize::for_terminal(&session.name),
                    crate::sanitize::for_terminal(&profile),
                );
                return Ok(Exit::Usage);
            }
            return saml_login(&ctx, args, &session.name, Some(&profile));
        }
    };
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
    let runtime = engine::runtime()?;
    if args.force {
        let cache_root = ctx.env.portico_cache_dir()?;
        let out = runtime.block_on(engine::sign_out(&store, &cache_root, &session))?;
        let mut what = Vec::new();
        if out.revoked {
            what.push("ended the session at Identity Center".to_string());
        }
        if let Some(why) = &out.refused {
            what.push(format!(
                "Identity Center did not confirm the sign-out ({why})"
            ));
        }
        if let Some(path) = &out.token_file {
            what.push(format!("deleted {}", path.display()));
        }
        if out.role_credentials > 0 {
            what.push(format!(
                "deleted {} cached role credential file(s)",
                out.role_credentials
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
        .map(|t| duration::compact(t - now))
        .unwrap_or_else(|| "an unknown time".into());
    let refresh = if token.refresh_token.is_some() {
        "; portico refreshes it without a browser until the refresh token ends"
    } else {
        ""
    };
    let place = match &session.name {
        Some(_) => format!(
            "{} ({})",
            session.label(),
            crate::sanitize::for_terminal(&session.start_url)
        ),
        None => session.label(),
    };
    eprintln!("portico: signed in to {place}; the token is valid for {left}{refresh}.");
    if let (false, Some(name)) = (session.storage.is_file(), &session.name) {
        let profiles = crate::settings::storage::profiles_reading_the_token_file(&ctx, name);
        if !profiles.is_empty() {
            eprintln!(
                "portico: the AWS CLI cannot read this session's token from {} (portico_storage = {}), so profile{} {} (sso_session = {}) will not work there; serve its roles through portico with `portico profiles sync --sso-session {} --credential-process` (a hand-written profile needs its sso_* keys replaced by such a credential_process line).",
                session.storage.backend(),
                session.storage.as_str(),
                if profiles.len() == 1 { "" } else { "s" },
                crate::sanitize::for_terminal(&profiles.join(", ")),
                crate::sanitize::for_terminal(name),
                crate::sanitize::for_terminal(name),
            );
        }
    }
    Ok(Exit::Ok)
}

/// `--saml-session` (or a profile naming one of its roles, whose `portico_browser` comes
/// first): one browser trip; the assertion is kept for the roles assumed next.
fn saml_login(
    ctx: &Context,
    args: &LoginArgs,
    name: &str,
    profile: Option<&str>,
) -> anyhow::Result<Exit> {
    let session = ctx.saml_session(name)?;
    let browser = Browser::from_setting(&ctx.saml_browser_setting_for(
        args.browser.as_deref(),
        profile,
        name,
    ))?;
    let options = LoginOptions {
        timeout: args.timeout,
        browser,
        ..LoginOptions::default()
    };
    let store = Engine::new(&ctx.env)?.saml_store();
    let kept = engine::runtime()?.block_on(saml::sign_in(&store, &session, &options))?;
    let left = duration::compact(kept.not_on_or_after - OffsetDateTime::now_utc());
    eprintln!(
        "portico: signed in to {}; the assertion holds {} role{} and is kept for {left} to assume them.",
        crate::sanitize::for_terminal(&session.label()),
        kept.roles.len(),
        if kept.roles.len() == 1 { "" } else { "s" },
    );
    Ok(Exit::Ok)
}
