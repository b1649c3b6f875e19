//! Signing in to Identity Center: client registration, the browser (PKCE) and device-code
//! flows, refresh, and `access_token`, the one function every command that needs a token calls.
//! It takes the per-session lock around refresh and login so that concurrent processes do the
//! work once.

mod browser;
mod device;
mod errors;
mod pkce;
mod refusal;
mod register;
mod signout;
mod vanity;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use time::{Duration, OffsetDateTime};

use crate::cache::lock;
use crate::cache::token::{format_time, CacheError, TokenCache, TokenFile};
use crate::secret::Secret;
use crate::settings::{Environment, SettingsError, SsoSession};

pub use browser::{browser_available, Browser, BrowserAvailability, BrowserError, Plan};
pub use errors::{describe_portal_error, IdentityError};
pub use signout::{sign_out, SignedOut};
pub use vanity::{resolve as resolve_start_url, Wire};

// doctor still names the grant types through identity; they live in `crate::consts`.
use crate::consts::GRANT_REFRESH_TOKEN;

/// How long the browser flow waits for the user before giving up (the AWS CLI's 10 minutes).
pub const DEFAULT_LOGIN_TIMEOUT: StdDuration = StdDuration::from_secs(600);

/// The files identity works with: the token cache, the lock directory, portico's record of
/// refused refreshes, and portico's own client registrations.
#[derive(Debug, Clone)]
pub struct Store {
    pub tokens: TokenCache,
    pub locks: PathBuf,
    pub refusals: PathBuf,
    /// Where portico keeps a client registration of its own, under the AWS CLI's file name,
    /// when the shared file holds one the AWS CLI still uses but portico's flow cannot (see
    /// `register`): both tools then keep working without taking the file from each other.
    pub own_registrations: TokenCache,
    /// The AWS config file, where a sign-in through a vanity URL that resolved to another
    /// Region writes that Region back (`vanity`); `None`: nowhere (tests).
    pub config: Option<PathBuf>,
}

impl Store {
    /// `~/.aws/sso/cache` for tokens, portico's cache directory for locks, refusals and its own
    /// registrations.
    pub fn from_env(env: &Environment) -> Result<Store, SettingsError> {
        let own = env.portico_cache_dir()?;
        Ok(Store {
            // A session whose secrets are in a keyring keeps its token's facts in portico's
            // cache, never in the AWS CLI's folder.
            tokens: TokenCache::new(env.sso_cache_dir()?).with_facts_dir(own.join("tokens")),
            locks: own.join("locks"),
            refusals: own.join("refresh-refused"),
            own_registrations: TokenCache::new(own.join("registrations")),
            config: env.config_path().ok(),
        })
    }
}

/// Which sign-in flow to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// PKCE in the browser where one can open, else the device code (saying why).
    Auto,
    /// The device code, always.
    DeviceCode,
}

/// How to sign in when a command finds no usable token.
#[derive(Debug, Clone)]
pub struct LoginOptions {
    pub method: Method,
    /// Do not open a browser: print the URL for the user to open.
    pub no_browser: bool,
    pub timeout: StdDuration,
    /// Who shows the URL or the device code. `None`: the login writes them to stderr. The TUI
    /// sets one, because nothing may write over its screen.
    pub reporter: Option<LoginReporter>,
    /// Which browser opens the sign-in page (`none`: print the URL, as `no_browser`).
    pub browser: Browser,
}

impl Default for LoginOptions {
    fn default() -> Self {
        LoginOptions {
            method: Method::Auto,
            no_browser: false,
            timeout: DEFAULT_LOGIN_TIMEOUT,
            reporter: None,
            browser: Browser::default(),
        }
    }
}

/// What a login that waits for the user has to show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginEvent {
    /// The browser flow's sign-in page. `opener` names what was asked to open `url`
    /// (`$BROWSER (firefox)`, `the default browser`); `None` when no browser was asked
    /// (`no_browser`) or none could be started, so the user has to open it.
    Browser { url: String, opener: Option<String> },
    /// The device flow: enter `user_code` at `verification_uri` (or open
    /// `verification_uri_complete`, the QR code's target) before `expires_at`. Cleaned of
    /// control characters.
    DeviceCode {
        verification_uri: String,
        verification_uri_complete: Option<String>,
        user_code: String,
        expires_at: OffsetDateTime,
    },
}

impl LoginEvent {
    /// The URL to open, copy or scan: the browser flow's sign-in page, or the device code's
    /// complete verification URL (the plain one when the service gives no complete one).
    pub fn url(&self) -> &str {
        match self {
            LoginEvent::Browser { url, .. } => url,
            LoginEvent::DeviceCode {
                verification_uri,
                verification_uri_complete,
                ..
            } => verification_uri_complete
                .as_deref()
                .unwrap_or(verification_uri),
        }
    }

    /// The event with every text cleaned for a terminal (URLs and codes come from a server).
    pub fn cleaned(&self) -> LoginEvent {
        use crate::sanitize::for_terminal;
        match self {
            LoginEvent::Browser { url, opener } => LoginEvent::Browser {
                url: for_terminal(url),
                opener: opener.as_deref().map(for_terminal),
            },
            LoginEvent::DeviceCode {
                verification_uri,
                verification_uri_complete,
                user_code,
                expires_at,
            } => LoginEvent::DeviceCode {
                verification_uri: for_terminal(verification_uri),
                verification_uri_complete: verification_uri_complete.as_deref().map(for_terminal),
                user_code: for_terminal(user_code),
                expires_at: *expires_at,
            },
        }
    }
}

/// A callback that receives [`LoginEvent`]s instead of stderr. Called on the login's task; it
/// should hand the event on (to a channel) and return at once.
#[derive(Clone)]
pub struct LoginReporter(Arc<dyn Fn(LoginEvent) + Send + Sync>);

impl LoginReporter {
    pub fn new(report: impl Fn(LoginEvent) + Send + Sync + 'static) -> LoginReporter {
        LoginReporter(Arc::new(report))
    }

    pub fn report(&self, event: LoginEvent) {
        (self.0)(event)
    }
}

impl std::fmt::Debug for LoginReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginReporter")
    }
}

/// What `access_token` does when the token is missing and cannot be refreshed.
#[derive(Debug, Clone)]
pub enum OnMissing {
    /// Fail with a message naming the command that signs in here: `portico login` when the
    /// browser a sign-in would use can open (`Yes`: a configured browser, or a display), else
    /// the way that needs none here (the device code; for SAML, a machine with a browser).
    /// [`crate::engine::sign_in_policy`] works it out from the browser setting.
    Fail(BrowserAvailability),
    /// Sign in (the browser flow only; the device flow needs a person watching the terminal).
    Login(LoginOptions),
}

impl OnMissing {
    /// Fail, with the hint the environment alone gives: for callers with no browser setting at
    /// hand that handle a missing sign-in themselves (the portal signs in, doctor reports it).
    pub fn fail_by_environment() -> OnMissing {
        OnMissing::Fail(browser_available())
    }
}

/// Signs in with the chosen flow and writes the token to the cache. Holds the session lock so
/// that a second `portico login` waits instead of opening a second browser tab, and then uses
/// the sign-in the first one made. Ctrl-C ends it at once at every step, network calls
/// included, with [`IdentityError::Cancelled`].
pub async fn login(
    store: &Store,
    session: &SsoSession,
    options: &LoginOptions,
) -> Result<TokenFile, IdentityError> {
    let mut interrupt = Interrupt::new();
    tokio::select! {
        biased;
        _ = interrupt.recv() => Err(IdentityError::Cancelled),
        result = login_after_others(store, session, options) => result,
    }
}

async fn login_after_others(
    store: &Store,
    session: &SsoSession,
    options: &LoginOptions,
) -> Result<TokenFile, IdentityError> {
    // What the cache held before waiting: a token that appears while we wait is another
    // process's fresh sign-in. (A corrupt file is as good as none: the login replaces it.)
    let before = store.tokens.load_token(session).ok().flatten();
    let (_lock, waited) = take_lock(store, session, Work::SignIn).await?;
    if waited {
        if let Ok(Some(token)) = store.tokens.load_token(session) {
            let new = before
                .as_ref()
                .is_none_or(|old| old.access_token != token.access_token);
            if new && token.is_fresh(OffsetDateTime::now_utc()) {
                crate::notice!(
                    "another portico process just signed in to {}; using that sign-in",
                    session.label()
                );
                return Ok(token);
            }
        }
    }
    login_locked(store, session, options).await
}

async fn login_locked(
    store: &Store,
    configured: &SsoSession,
    options: &LoginOptions,
) -> Result<TokenFile, IdentityError> {
    // Another tool's token in the session's file is never written over (`login --force` signs
    // out first, which deletes it).
    if let Err(e @ CacheError::ForeignScopes { .. }) = store.tokens.load_token(configured) {
        return Err(e.into());
    }
    // A vanity start URL is looked up here, at sign-in only: the sign-in runs with what it
    // resolves to, and every file stays keyed by the configured URL.
    let wire = vanity::resolve(configured).await?;
    let session = &wire.session;
    let client = crate::aws::oidc_client(session);
    let use_device = match options.method {
        Method::DeviceCode => true,
        // The user asked for the URL (`--no-browser`, browser `none`): give it, display or not.
        Method::Auto if options.no_browser || options.browser.is_none() => false,
        Method::Auto => match options.browser.availability() {
            BrowserAvailability::Yes => false,
            BrowserAvailability::No(reason) => {
                if options.reporter.is_none() {
                    eprintln!(
                        "portico: using the device code flow because {reason} (the browser flow needs a browser on this machine)"
                    );
                }
                true
            }
        },
    };
    if !use_device && options.reporter.is_none() {
        let asked_for_url = options.no_browser || options.browser.is_none();
        if let (true, BrowserAvailability::No(reason)) =
            (asked_for_url, browser::display_available())
        {
            eprintln!(
                "portico: {reason}: the sign-in page ends by redirecting to 127.0.0.1 on this machine, so open the URL below in a browser that can reach it (from another computer, forward the port in its redirect_uri with ssh -L), or use --device-code"
            );
        }
    }
    let (token, registration) = if use_device {
        device::run(&client, store, &wire, options.reporter.as_ref()).await?
    } else {
        pkce::run(&client, store, &wire, options).await?
    };
    let now = OffsetDateTime::now_utc();
    let file = TokenFile {
        start_url: Some(session.start_url.clone()),
        region: Some(session.region.clone()),
        access_token: token.access_token,
        expires_at: format_time(now + Duration::seconds(token.expires_in)),
        client_id: Some(registration.client_id),
        client_secret: Some(registration.client_secret),
        registration_expires_at: Some(registration.expires_at),
        refresh_token: token.refresh_token,
        extra: Default::default(),
    };
    store.tokens.store_token(session, &file)?;
    refusal::forget(store, session);
    crate::info!(
        "signed in to {}; token cached in {}",
        session.label(),
        store.tokens.token_path(session).display()
    );
    vanity::write_back_region(store, &wire);
    Ok(file)
}

/// A usable access token for `session`: from the cache, refreshed when less than 15 minutes
/// remain, or (per `on_missing`) from a new login. Where it may sign in, Ctrl-C ends it at once
/// with [`IdentityError::Cancelled`].
pub async fn access_token(
    store: &Store,
    session: &SsoSession,
    on_missing: &OnMissing,
) -> Result<Secret, IdentityError> {
    // Fast path without the lock: most calls find a fresh token.
    let now = OffsetDateTime::now_utc();
    if let Ok(Some(token)) = store.tokens.load_token(session) {
        if token.is_fresh(now) {
            return Ok(token.access_token);
        }
    }
    let OnMissing::Login(options) = on_missing else {
        return access_token_locked(store, session, on_missing).await;
    };
    let mut interrupt = Interrupt::new();
    let result = tokio::select! {
        biased;
        _ = interrupt.recv() => return Err(IdentityError::Cancelled),
        result = access_token_locked(store, session, on_missing) => result,
    };
    if options.reporter.is_none() {
        // Listening for Ctrl-C took it over for the rest of the process (the default action
        // does not come back), and the caller goes on to more network calls: keep honouring
        // it while this runtime runs (the caller's work, run through [`until_cancelled`], then
        // ends with `Cancelled`).
        interrupt.keep_honouring();
    }
    result
}

async fn access_token_locked(
    store: &Store,
    session: &SsoSession,
    on_missing: &OnMissing,
) -> Result<Secret, IdentityError> {
    // What a process holding the lock is most likely doing, for the line said while waiting:
    // with a token that can be refreshed, refreshing it (as this one would).
    let before = store.tokens.load_token(session).ok().flatten();
    let work = match &before {
        Some(token) if refresh_problem(session, token, OffsetDateTime::now_utc()).is_none() => {
            Work::Refresh
        }
        _ => Work::SignIn,
    };
    let (_lock, _) = take_lock(store, session, work).await?;
    // Another process may have refreshed or signed in while we waited for the lock.
    let now = OffsetDateTime::now_utc();
    let cached = match load_settled(store, session).await {
        Ok(cached) => cached,
        // A corrupt file is replaced by a sign-in where one may start.
        Err(e @ CacheError::Corrupt { .. }) => match on_missing {
            OnMissing::Fail(_) => return Err(e.into()),
            OnMissing::Login(options) => {
                crate::notice!("{e}; signing in…");
                return Ok(login_locked(store, session, options).await?.access_token);
            }
        },
        Err(e) => return Err(e.into()),
    };
    let label = session.label();
    let refused = || {
        format!(
            "Identity Center refused to refresh the sign-in to {label} (the refresh token was revoked or has expired)"
        )
    };
    let reason = match &cached {
        Some(token) if token.is_fresh(now) => return Ok(token.access_token.clone()),
        // This very token was refused before (by this or another portico process, after
        // waiting for other programs): asking again would only be refused again.
        Some(token)
            if refresh_problem(session, token, now).is_none()
                && refusal::refused_at(store, session, token).is_some() =>
        {
            if token.is_valid(now) {
                return Ok(token.access_token.clone());
            }
            refused()
        }
        Some(token) => match refresh_problem(session, token, now) {
            None => match refresh(store, session, token).await {
                Ok(fresh) => return Ok(fresh.access_token),
                Err(RefreshFailure::Rejected) => {
                    // Another program that shares the cache but not our lock (the AWS CLI,
                    // boto3) may have spent the refresh token a moment ago: its result is in
                    // the file, or about to be (it writes after its answer came). Failing
                    // that, a token that still works is used to its end.
                    crate::info!(
                        "Identity Center refused the refresh of the sign-in to {label}; looking for a token another program may be writing"
                    );
                    match newer_token(store, session, token).await {
                        Some(newer) => {
                            crate::info!(
                                "another program refreshed the sign-in to {label}; using its token"
                            );
                            return Ok(newer.access_token);
                        }
                        None => {
                            // Still the refused token: `status` and `doctor` say so until the
                            // next sign-in, and other portico processes do not ask again.
                            let now = OffsetDateTime::now_utc();
                            refusal::remember_if_current(store, session, token, now);
                            if token.is_valid(now) {
                                crate::info!("the refresh was refused; using the current token until it expires");
                                return Ok(token.access_token.clone());
                            }
                            refused()
                        }
                    }
                }
                Err(RefreshFailure::Other(e)) if token.is_valid(now) => {
                    crate::notice!("could not refresh the sign-in ({e}); using the current token until it expires");
                    return Ok(token.access_token.clone());
                }
                Err(RefreshFailure::Other(e)) => return Err(e),
            },
            // Without a way to refresh, a token that is still valid is used to the end.
            Some(_) if token.is_valid(now) => return Ok(token.access_token.clone()),
            Some(why) => format!("the sign-in to {label} has expired and {why}"),
        },
        None => format!("not signed in to {label}"),
    };
    match on_missing {
        OnMissing::Fail(browser) => Err(IdentityError::LoginRequired {
            reason,
            command: match browser {
                BrowserAvailability::Yes => format!("portico login {}", session.selector_flags()),
                BrowserAvailability::No(_) => {
                    format!("portico login --device-code {}", session.selector_flags())
                }
            },
        }),
        OnMissing::Login(options) => {
            crate::notice!("{reason}; signing in…");
            Ok(login_locked(store, session, options).await?.access_token)
        }
    }
}

/// How long a token file that reads as corrupt is given to become whole: the AWS CLI (botocore's
/// `JSONFileCache`) rewrites the file in place — truncate, then write — so a reader can meet it
/// empty or half-written for a moment. Only a file that stays unreadable is corrupt.
const HALF_WRITTEN_GRACE: StdDuration = StdDuration::from_millis(500);
/// How long to wait, after a refused refresh, for the token of the program that spent the
/// refresh token to appear in the file: the AWS CLI writes it as soon as its own CreateToken
/// answer is in, which is before ours was refused.
const RACED_REFRESH_WAIT: StdDuration = StdDuration::from_secs(2);
/// How often those two waits look at the file again.
const REREAD_EVERY: StdDuration = StdDuration::from_millis(25);

/// The session's token, read again for up to [`HALF_WRITTEN_GRACE`] while it does not parse.
async fn load_settled(
    store: &Store,
    session: &SsoSession,
) -> Result<Option<TokenFile>, CacheError> {
    let deadline = tokio::time::Instant::now() + HALF_WRITTEN_GRACE;
    loop {
        match store.tokens.load_token(session) {
            Err(CacheError::Corrupt { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(REREAD_EVERY).await;
            }
            other => return other,
        }
    }
}

/// After Identity Center refused to refresh `spent`: a token another program wrote in its place
/// (another access token, valid now), waited for up to [`RACED_REFRESH_WAIT`]; `None` when the
/// file still holds `spent` (or nothing usable) at the end.
async fn newer_token(store: &Store, session: &SsoSession, spent: &TokenFile) -> Option<TokenFile> {
    let deadline = tokio::time::Instant::now() + RACED_REFRESH_WAIT;
    loop {
        // A file that does not parse may be half-written: it is looked at again.
        if let Ok(Some(token)) = store.tokens.load_token(session) {
            if token.access_token != spent.access_token && token.is_valid(OffsetDateTime::now_utc())
            {
                return Some(token);
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(REREAD_EVERY).await;
    }
}

/// Why `token` of `session` cannot be refreshed, or `None` if it can: [`refresh_problem`]'s
/// reasons, or a refresh Identity Center refused since the last sign-in (remembered in
/// portico's own cache, see `refusal`). For `status` and `doctor`.
pub fn refresh_outlook(
    store: &Store,
    session: &SsoSession,
    token: &TokenFile,
    now: OffsetDateTime,
) -> Option<String> {
    if let Some(why) = refresh_problem(session, token, now) {
        return Some(why.to_string());
    }
    refusal::refused_at(store, session, token).map(|at| {
        format!("Identity Center refused to refresh it at {at} (the refresh token was revoked or has expired)")
    })
}

/// Why `token` of `session` cannot be refreshed, or `None` if it can. A legacy profile's token
/// (start URL in the profile) is never refreshed, as in the SDKs.
pub fn refresh_problem(
    session: &SsoSession,
    token: &TokenFile,
    now: OffsetDateTime,
) -> Option<&'static str> {
    if session.name.is_none() {
        return Some(
            "legacy profiles (start URL in the profile) are not refreshed; use an [sso-session]",
        );
    }
    token.refresh_blocker(now)
}

/// Forces the next `access_token` to refresh or sign in (after the portal said 401). The lock
/// is waited for off the runtime's thread: a sign-in on the same runtime (the portal's jobs)
/// may hold it, and would never get to let go of it.
pub async fn forget_access_token(store: &Store, session: &SsoSession) -> Result<(), IdentityError> {
    let (_lock, _) = take_lock(store, session, None).await?;
    if let Some(mut token) = store.tokens.load_token(session)? {
        token.expires_at = format_time(OffsetDateTime::now_utc() - Duration::seconds(1));
        store.tokens.store_token(session, &token)?;
    }
    Ok(())
}

enum RefreshFailure {
    /// The service refused the refresh token: only a new login helps.
    Rejected,
    Other(IdentityError),
}

async fn refresh(
    store: &Store,
    session: &SsoSession,
    token: &TokenFile,
) -> Result<TokenFile, RefreshFailure> {
    let (Some(client_id), Some(client_secret), Some(refresh_token)) =
        (&token.client_id, &token.client_secret, &token.refresh_token)
    else {
        return Err(RefreshFailure::Rejected);
    };
    crate::info!("refreshing the sign-in to {}", session.label());
    let client = crate::aws::oidc_client(session);
    let result = client
        .create_token()
        .client_id(client_id)
        .client_secret(client_secret.expose())
        .grant_type(GRANT_REFRESH_TOKEN)
        .refresh_token(refresh_token.expose())
        .send()
        .await;
    let output = match result {
        Ok(output) => output,
        Err(err) => {
            let service = err.as_service_error();
            if service.is_some_and(|e| {
                e.is_invalid_grant_exception()
                    || e.is_invalid_client_exception()
                    || e.is_unauthorized_client_exception()
                    || e.is_expired_token_exception()
            }) {
                return Err(RefreshFailure::Rejected);
            }
            return Err(RefreshFailure::Other(errors::from_sdk(
                "CreateToken",
                &session.oidc_endpoint,
                &err,
            )));
        }
    };
    let access_token = output
        .access_token()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            RefreshFailure::Other(IdentityError::Service {
                operation: "CreateToken",
                detail: "the answer had no access token".into(),
            })
        })?;
    let now = OffsetDateTime::now_utc();
    let mut fresh = token.clone();
    fresh.access_token = Secret::new(access_token);
    fresh.expires_at = format_time(now + Duration::seconds(output.expires_in().into()));
    // Keep the old refresh token if none came back, as the SDKs do.
    if let Some(rotated) = output.refresh_token().filter(|t| !t.is_empty()) {
        fresh.refresh_token = Some(Secret::new(rotated));
    }
    store
        .tokens
        .store_token(session, &fresh)
        .map_err(|e| RefreshFailure::Other(e.into()))?;
    // A refresh that works again (the service may keep the refresh token unchanged) ends any
    // remembered refusal.
    refusal::forget(store, session);
    crate::debug!("refreshed; new token expires {}", fresh.expires_at);
    Ok(fresh)
}

fn take_lock_blocking(
    store: &Store,
    session: &SsoSession,
    on_wait: impl FnOnce(),
) -> Result<lock::SessionLock, IdentityError> {
    lock::acquire(&store.locks, session.cache_key(), on_wait).map_err(|error| IdentityError::Lock {
        dir: store.locks.clone(),
        error,
    })
}

/// What the process that holds a session's lock is doing, as far as a waiting one can tell:
/// the line it says while waiting names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Work {
    /// Refreshing the token (the waiter found one that can be refreshed).
    Refresh,
    /// Signing in (or signing out).
    SignIn,
}

/// Takes the session lock; the flag says whether another process held it (and so may have
/// just signed in). On a thread of its own ([`lock::take_on_thread`]): the caller stays
/// cancellable by Ctrl-C, and the runtime's thread stays free for the job holding the lock.
/// `work` names what a waiter says it waits for; with `None` it waits without a word.
async fn take_lock(
    store: &Store,
    session: &SsoSession,
    work: impl Into<Option<Work>>,
) -> Result<(lock::SessionLock, bool), IdentityError> {
    let work = work.into();
    let dir = store.locks.clone();
    let (store, session) = (store.clone(), session.clone());
    let taken = lock::take_on_thread(move |waiting| {
        take_lock_blocking(&store, &session, || {
            waiting();
            match work {
                None => {}
                Some(Work::Refresh) => crate::notice!(
                    "another portico process is refreshing the sign-in to {}; waiting for it…",
                    session.label()
                ),
                Some(Work::SignIn) => crate::notice!(
                    "another portico process is signing in to {}; waiting for it…",
                    session.label()
                ),
            }
        })
    })
    .await;
    match taken {
        Some((result, waited)) => result.map(|lock| (lock, waited)),
        None => Err(IdentityError::Lock {
            dir,
            error: std::io::Error::other("the thread waiting for it ended"),
        }),
    }
}

/// Ctrl-C, listened for from the moment the login starts (not only once the wait begins), so
/// an early Ctrl-C also ends in a clean cancel instead of the default kill.
pub(crate) struct Interrupt {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Interrupt {
    pub(crate) fn new() -> Interrupt {
        Interrupt {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok(),
        }
    }

    /// Resolves when the user presses Ctrl-C.
    pub(crate) async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            signal.recv().await;
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }

    /// Once the work it guarded is done: listening took Ctrl-C over for the rest of the process
    /// (the default action does not come back), so while this runtime runs a Ctrl-C is still
    /// honoured: it ends the caller's work that runs through [`until_cancelled`] with
    /// [`IdentityError::Cancelled`] (which the edge reports as "portico: cancelled", exit 130).
    pub(crate) fn keep_honouring(mut self) {
        tokio::spawn(async move {
            self.recv().await;
            LATE_INTERRUPT.send_replace(true);
        });
    }
}

/// Set once a Ctrl-C came after a sign-in took Ctrl-C over ([`Interrupt::keep_honouring`]).
static LATE_INTERRUPT: std::sync::LazyLock<tokio::sync::watch::Sender<bool>> =
    std::sync::LazyLock::new(|| tokio::sync::watch::Sender::new(false));

/// Runs `work`, which may sign in on the way (and so take Ctrl-C over for the rest of the
/// process), so that a Ctrl-C after that sign-in, while the rest of `work` runs (more network
/// calls), ends it with [`IdentityError::Cancelled`] instead of going unanswered. The sign-in
/// itself ends with `Cancelled` on its own. For one-shot commands: each `block_on` whose future
/// may sign in runs it through here.
pub async fn until_cancelled<T, E: From<IdentityError>>(
    work: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let mut late = LATE_INTERRUPT.subscribe();
    tokio::select! {
        biased;
        _ = late.wait_for(|interrupted| *interrupted) => Err(IdentityError::Cancelled.into()),
        result = work => result,
    }
}

/// A token as CreateToken returned it, before it is written to the cache.
struct NewToken {
    access_token: Secret,
    expires_in: i64,
    refresh_token: Option<Secret>,
}

impl NewToken {
    fn from_output(
        output: &aws_sdk_ssooidc::operation::create_token::CreateTokenOutput,
    ) -> Result<NewToken, IdentityError> {
        let access_token =
            output
                .access_token()
                .filter(|t| !t.is_empty())
                .ok_or(IdentityError::Service {
                    operation: "CreateToken",
                    detail: "the answer had no access token".into(),
                })?;
        Ok(NewToken {
            access_token: Secret::new(access_token),
            expires_in: output.expires_in().into(),
            refresh_token: output
                .refresh_token()
                .filter(|t| !t.is_empty())
                .map(Secret::new),
        })
    }
}
