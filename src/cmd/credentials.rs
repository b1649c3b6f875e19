//! `portico credentials`: the credential_process provider, and `obtain`, which `exec` and
//! `console` share. The warm path — valid credentials in portico's cache — reads the config and
//! one file and prints; it never starts an async runtime or builds an SDK client.

use std::io::Write;

use time::OffsetDateTime;

use crate::cache::files::note_unwritable;
use crate::cache::rolecreds::{self, RoleCredsCache};
use crate::cli::{CredentialsArgs, TargetArgs};
use crate::exit::Exit;
use crate::identity::{self, BrowserAvailability, LoginOptions, OnMissing, Store};
use crate::output::{self, RoleCredentials};
use crate::portal::{self, PortalError};
use crate::settings::{Context, Selector, SettingsError, SsoSession};

/// The account and role credentials are asked for, and where they come from.
#[derive(Debug, Clone)]
pub struct Target {
    pub session: SsoSession,
    pub account_id: String,
    pub role_name: String,
    /// The profile's `region`, handed on as `AWS_REGION`.
    pub region: Option<String>,
}

/// `--profile P`, or `--account ID --role NAME [--sso-session S]`, or `AWS_PROFILE`.
pub fn resolve_target(ctx: &Context, args: &TargetArgs) -> Result<Target, SettingsError> {
    if let (Some(account_id), Some(role_name)) = (&args.account, &args.role) {
        let selector = Selector {
            profile: args.profile.clone(),
            sso_session: args.sso_session.clone(),
            ..Selector::default()
        };
        let region = match &args.profile {
            Some(profile) => ctx
                .config
                .profile(profile)
                .and_then(|p| p.get("region"))
                .map(String::from),
            None => None,
        };
        return Ok(Target {
            session: ctx.session(&selector)?,
            account_id: account_id.clone(),
            role_name: role_name.clone(),
            region,
        });
    }
    let p = ctx.selected_role_profile(args.profile.as_deref())?;
    Ok(Target {
        session: p.session,
        account_id: p.account_id,
        role_name: p.role_name,
        region: p.region,
    })
}

/// The profile that names the target's role, for its `portico_browser` and console container:
/// `--profile`, `AWS_PROFILE` or `default`; none with `--account`/`--role` (a `--profile` beside
/// them only lends its region).
pub fn target_profile(ctx: &Context, args: &TargetArgs) -> Option<String> {
    if args.account.is_some() {
        return None;
    }
    Some(
        args.profile
            .clone()
            .or_else(|| ctx.env.profile_from_env().map(String::from))
            .unwrap_or_else(|| "default".to_string()),
    )
}

/// What to do when no usable token is found.
pub fn on_missing(no_login: bool) -> OnMissing {
    if no_login {
        return OnMissing::Fail;
    }
    match identity::browser_available() {
        BrowserAvailability::Yes => OnMissing::Login(LoginOptions::default()),
        // The device flow needs a person watching this terminal; a credential_process caller
        // hides stderr, so fail at once and name the command that works here.
        BrowserAvailability::No(_) => OnMissing::Fail,
    }
}

/// Role credentials for `target`: cached, or fetched once however many processes ask.
/// Cached keys are used only while the session's token file exists (one `stat`): a sign-out
/// by `aws sso logout` or `portico logout` ends them. Where the cache or its lock cannot be
/// written (a read-only HOME), the keys are fetched without them.
pub fn obtain(
    ctx: &Context,
    target: &Target,
    on_missing: &OnMissing,
) -> anyhow::Result<RoleCredentials> {
    let cache = RoleCredsCache::under(&ctx.env.portico_cache_dir()?);
    let store = Store::from_env(&ctx.env)?;
    let key = target.session.cache_key();
    let (account, role) = (target.account_id.as_str(), target.role_name.as_str());
    let token_path = store.tokens.token_path(&target.session);
    if rolecreds::signed_in(&token_path) {
        if let Some(creds) = cache.load(key, account, role, OffsetDateTime::now_utc()) {
            crate::debug!("using cached credentials for {role} in {account}");
            return Ok(creds);
        }
    } else {
        forget_signed_out(&cache, &target.session, &token_path);
    }
    let _guard = cache.lock_with(key, account, role, || {
        crate::info!("another portico process is fetching these credentials; waiting");
    });
    if rolecreds::signed_in(&token_path) {
        if let Some(creds) = cache.load(key, account, role, OffsetDateTime::now_utc()) {
            return Ok(creds);
        }
    }
    let creds = super::runtime()?.block_on(fetch(&store, target, on_missing))?;
    if let Err(e) = cache.store(key, &target.session.start_url, role, &creds) {
        note_unwritable(cache.dir(), &e);
    }
    Ok(creds)
}

/// The session was signed out (its token file is gone): its cached role credentials are
/// deleted, so that a later sign-in by another tool does not bring them back.
fn forget_signed_out(cache: &RoleCredsCache, session: &SsoSession, token_path: &std::path::Path) {
    crate::debug!(
        "{} is gone (signed out of {}); not using cached role credentials",
        token_path.display(),
        session.label()
    );
    match cache.remove_session(session.cache_key()) {
        Ok(removed) if !removed.is_empty() => crate::info!(
            "deleted {} cached role credential file{} of the signed-out {}",
            removed.len(),
            if removed.len() == 1 { "" } else { "s" },
            session.label()
        ),
        Ok(_) => {}
        Err(e) => note_unwritable(cache.dir(), &e),
    }
}

async fn fetch(
    store: &Store,
    target: &Target,
    on_missing: &OnMissing,
) -> anyhow::Result<RoleCredentials> {
    let session = &target.session;
    let token = identity::access_token(store, session, on_missing).await?;
    crate::info!(
        "fetching credentials for {} in {}",
        target.role_name,
        target.account_id
    );
    match portal::role_credentials(session, &token, &target.account_id, &target.role_name).await {
        Err(PortalError::Unauthorized { .. }) => {
            // The token was revoked or expired early: refresh (or sign in) once and retry.
            identity::forget_access_token(store, session)?;
            let token = identity::access_token(store, session, on_missing).await?;
            Ok(
                portal::role_credentials(session, &token, &target.account_id, &target.role_name)
                    .await?,
            )
        }
        other => Ok(other?),
    }
}

/// The command-line path shared by `credentials`, `exec` and `console`: load the config,
/// resolve the target, obtain its credentials.
pub fn for_args(args: &TargetArgs, no_login: bool) -> anyhow::Result<(Target, RoleCredentials)> {
    // Only the profile and its sso-session are read (the warm path, however large the file).
    let env = crate::settings::Environment::from_process();
    let ctx = Context::load_lazy(env, args.profile.as_deref())?;
    let target = resolve_target(&ctx, args)?;
    let mut on_missing = on_missing(no_login);
    if let OnMissing::Login(options) = &mut on_missing {
        // A sign-in on the way opens the browser set for this profile or its session.
        let profile = target_profile(&ctx, args);
        let setting = ctx.browser_setting(None, profile.as_deref(), target.session.name.as_deref());
        match identity::Browser::from_setting(&setting) {
            Ok(browser) => options.browser = browser,
            Err(e) => crate::notice!("{e}; using the default browser"),
        }
        // That browser cannot open here (`none`, or a preset without a display): fail at once
        // with the command that works, as where no browser can open at all.
        if options.browser.availability() != BrowserAvailability::Yes {
            on_missing = OnMissing::Fail;
        }
    }
    let creds = obtain(&ctx, &target, &on_missing)?;
    Ok((target, creds))
}

pub fn run(args: &CredentialsArgs) -> anyhow::Result<Exit> {
    let (target, creds) = for_args(&args.target, args.no_login)?;
    let text = output::render(args.format, &creds, target.region.as_deref());
    // Only now, with everything in hand, does stdout get a byte.
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(Exit::Ok)
}
