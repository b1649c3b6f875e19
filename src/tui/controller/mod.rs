//! The portal's controller: what `portico` with no command runs. The TUI (the rest of
//! `crate::tui`) is pure state and view; this module wires it to the world — the config file,
//! sign-in, the account list and its cache, role credentials, the clipboard, the browser and
//! the shell.
//!
//! Network work (sign-in, refresh, listing, logout, fetching role credentials) runs on
//! background threads, each with its own single-threaded tokio runtime, and reports back as
//! [`Action`]s through the channel the event loop reads. A thread per job, rather than tasks
//! on one runtime, because identity's session lock is a blocking file lock: two tasks of one
//! runtime waiting on each other through it would never wake. Effects that need the terminal
//! itself (print and leave, a subshell, the clipboard, the console) leave the event loop, run,
//! and re-enter it.
//!
//! While the TUI is up nothing may write to stdout (it belongs to `eval "$(portico)"`) or
//! stderr (it would draw over the screen): sign-in reports through a [`LoginReporter`],
//! notices (`crate::notice!`: a lock wait, a refresh that fell back) are redirected to the
//! status line, and errors go there too.
//!
//! [`LoginReporter`]: crate::identity::LoginReporter

mod jobs;
mod memory;

use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration as StdDuration;

use anyhow::Context as _;
use time::OffsetDateTime;

use crate::awsconfig::edit::{EditableFile, SectionId};
use crate::awsconfig::ConfigFile;
use crate::cache::accounts::AccountsCache;
use crate::console;
use crate::identity::{
    self, Browser, BrowserAvailability, IdentityError, LoginOptions, Method, OnMissing, Store,
};
use crate::model::RoleCredentials;
use crate::output::{self, Format};
use crate::saml;
use crate::settings::{Context, Environment, Selector, SsoSession};
use crate::sso::Priority;
use crate::tui::{
    self, check_terminal, Action, App, Choice, CrosstermEvents, Effect, LoginState, RecentUse,
    SessionInfo, Source, TerminalGuard,
};

use crate::configure::{self, Answers};
use crate::consts::SCOPE_ACCOUNT_ACCESS as DEFAULT_SCOPE;

use crate::engine::{self, BrowserChoice, Engine, SignIn, Target};

use jobs::{describe, list_accounts, needs_sign_in, sign_out, spawn, Courier, Job};
use memory::Memory;

/// A cached account list younger than this is shown without asking the portal again; an
/// older one is shown at once and refreshed in the background.
const REFRESH_AFTER: time::Duration = time::Duration::minutes(10);

/// Set while a subshell has the terminal: Ctrl-C there belongs to the shell, not the portal.
static SUSPENDED: AtomicBool = AtomicBool::new(false);

/// What the command line asks of the portal.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The shell code format for exports; `None` picks it from `$SHELL`.
    pub format: Option<Format>,
    /// Opens this sso-session at once instead of offering the configured ones.
    pub sso_session: Option<String>,
    /// Opens this profile's session at once; its browser setting applies.
    pub profile: Option<String>,
    /// The browser to sign in and open the console with (`--browser`).
    pub browser: Option<String>,
    /// How the process ends when a Ctrl-C or a signal finds the portal unable to act on it (its
    /// loop is blocked waiting for a lock, which cannot be interrupted): called on the signal
    /// thread once the terminal is restored. The edge (`cmd/portal.rs`) gives it, so that
    /// only the edge ends the process; with `None` the signal waits for the loop.
    pub end_when_stuck: Option<fn() -> !>,
}

/// How a portal session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The user left (q, Esc, or after an action that ends the portal).
    Quit,
    /// Ctrl-C or a signal.
    Interrupted,
}

/// Runs the portal until the user quits or interrupts it.
pub fn run(args: &Options) -> anyhow::Result<Ended> {
    check_terminal()?;
    // `-v` lines on stderr would draw over the screen.
    crate::diag::set_verbosity(0);
    let ctx = Context::load(Environment::from_process())?;
    let format = args
        .format
        .unwrap_or_else(|| shell_format(std::env::var("SHELL").ok().as_deref(), cfg!(windows)));
    let (tx, rx) = std::sync::mpsc::channel();
    let mut portal = Portal::new(ctx, tx.clone())?;
    let start = portal.start(args)?;

    let notices = tx.clone();
    watch_signals(tx, args.end_when_stuck);
    let mut app = App::new(OffsetDateTime::now_utc());
    app.set_colors(tui::colors_wanted(std::env::var_os("NO_COLOR").as_deref()));
    // Declared before the terminal guard, so it ends after the screen is restored.
    let quiet = crate::diag::redirect(move |text| {
        let _ = notices.send(Action::Status(text));
    });
    let mut guard = TerminalGuard::enter().context("cannot set up the terminal for the portal")?;
    let mut events = CrosstermEvents::new(rx);
    match start {
        Start::Open(session, skipped) => {
            apply(&mut app, Action::SessionSelected(session_info(&session)));
            portal.open(session, &mut app);
            report_skipped(&mut app, &skipped);
        }
        Start::Choose(action, skipped) => {
            if let Some(effect) = tui::update(&mut app, action) {
                match portal.on_effect(effect, &mut app) {
                    ControlFlow::Break(Effect::Quit) => return Ok(Ended::Quit),
                    ControlFlow::Break(Effect::Interrupted) => return Ok(Ended::Interrupted),
                    _ => {}
                }
            }
            report_skipped(&mut app, &skipped);
        }
        Start::SamlOnly(skipped) => {
            // The list opens with the first saml-session's roles.
            portal.list_saml();
            report_skipped(&mut app, &skipped);
        }
    }

    loop {
        let effect = tui::run_loop(
            guard.terminal(),
            &mut app,
            &mut events,
            |effect, app| portal.on_effect(effect, app),
            OffsetDateTime::now_utc,
        )?;
        let done = match effect {
            // A deliberate quit is not a failure; an interrupt is (as for any command).
            Effect::Quit => return Ok(Ended::Quit),
            Effect::Interrupted => return Ok(Ended::Interrupted),
            Effect::PrintExports(choice) => {
                busy(&mut guard, &mut app, fetching(&choice));
                match portal.credentials(&choice) {
                    Ok((creds, region)) => {
                        drop(guard);
                        drop(quiet);
                        print_exports(format, &creds, region.as_deref())?;
                        return Ok(Ended::Quit);
                    }
                    Err(e) => Err(e),
                }
            }
            Effect::CopyExports(choice) => {
                busy(&mut guard, &mut app, fetching(&choice));
                portal.credentials(&choice).map(|(creds, region)| {
                    let text = output::render(format, &creds, region.as_deref());
                    let what =
                        format!("the exports for {} in {}", choice.role, choice.account_name);
                    share(&mut guard, &mut app, &what, text)
                })
            }
            Effect::CopyText(text) => Ok(share(&mut guard, &mut app, "the sign-in link", text)),
            Effect::Subshell(choice) => {
                busy(&mut guard, &mut app, fetching(&choice));
                portal.subshell(&mut guard, &choice)
            }
            Effect::OpenConsole(choice) => {
                busy(&mut guard, &mut app, fetching(&choice));
                portal.console(&mut guard, &mut app, &choice)
            }
            Effect::PopupClosed => {
                // The wheel scrolls the list again.
                let _ = guard.mouse_capture(true);
                continue;
            }
            other => {
                // on_effect breaks out only with the effects above.
                let _ = portal.on_effect(other, &mut app);
                continue;
            }
        };
        match done {
            Ok(note) => apply(&mut app, Action::Status(note)),
            Err(e) => show_error(&mut app, &e),
        }
        apply(&mut app, Action::RecentUses(portal.recent()));
    }
}

/// The shell code format for the user's shell: `$SHELL` names it (`/usr/bin/fish`, `pwsh`).
pub fn shell_format(shell: Option<&str>, windows: bool) -> Format {
    let name = shell
        .map(|s| s.rsplit(['/', '\\']).next().unwrap_or(s))
        .map(|s| s.trim_end_matches(".exe").to_ascii_lowercase());
    match name.as_deref() {
        Some("fish") => Format::Fish,
        Some("pwsh" | "powershell") => Format::Powershell,
        Some(_) => Format::Env,
        None if windows => Format::Powershell,
        None => Format::Env,
    }
}

fn print_exports(
    format: Format,
    creds: &RoleCredentials,
    region: Option<&str>,
) -> anyhow::Result<()> {
    let text = output::render(format, creds, region);
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    if std::io::stdout().is_terminal() {
        eprintln!(
            "portico: to apply these to your shell, run eval \"$(portico)\", or define a function with `portico init bash|zsh|fish|powershell`"
        );
    }
    Ok(())
}

/// The row an effect that needs role credentials is about.
fn credential_choice(effect: &Effect) -> Option<&Choice> {
    match effect {
        Effect::PrintExports(choice)
        | Effect::CopyExports(choice)
        | Effect::Subshell(choice)
        | Effect::OpenConsole(choice) => Some(choice),
        _ => None,
    }
}

fn fetching(choice: &Choice) -> String {
    if let Source::Saml { session, .. } = &choice.source {
        return format!(
            "getting credentials for {} in {} from saml-session {session} (signing in through the browser if its sign-in is gone)…",
            choice.role, choice.account_id
        );
    }
    format!(
        "getting credentials for {} in {}…",
        choice.role, choice.account_name
    )
}

/// Puts `text` on the clipboard (a clipboard program, else OSC 52) and shows it in a pop-up
/// the user can select it from, whether or not it arrived; returns the status-line note.
fn share(guard: &mut TerminalGuard, app: &mut App, what: &str, text: String) -> String {
    // Shown whether or not the clipboard took it: the pop-up is the way to copy it by hand.
    let note = match tui::copy_to_clipboard(guard, &text) {
        Ok(delivery) => delivery.note(what),
        Err(e) => format!("could not send {what} to the clipboard ({e}); it is on screen"),
    };
    let mut title = what.to_string();
    if let Some(first) = title.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    apply(
        app,
        Action::ShowPopup(tui::Popup {
            title,
            note: note.clone(),
            text,
        }),
    );
    // While it is up, a plain drag selects its text (the terminal's own selection).
    let _ = guard.mouse_capture(false);
    note
}

/// Shows `note` in the status line at once, before work that blocks the loop for a moment.
fn busy(guard: &mut TerminalGuard, app: &mut App, note: String) {
    apply(app, Action::Status(note));
    let _ = guard
        .terminal()
        .draw(|frame| frame.render_widget(&*app, frame.area()));
}

/// Applies an action that never asks for an effect (results, notes, errors).
fn apply(app: &mut App, action: Action) {
    let effect = tui::update(app, action);
    debug_assert!(effect.is_none(), "a result action asked for {effect:?}");
}

fn show_error(app: &mut App, err: &anyhow::Error) {
    if needs_sign_in(err) {
        apply(app, Action::LoginState(LoginState::SignedOut));
    }
    apply(app, Action::Error(describe(err)));
}

fn report_skipped(app: &mut App, skipped: &[String]) {
    if let Some(first) = skipped.first() {
        apply(app, Action::Error(format!("skipped a session: {first}")));
    }
}

fn session_info(session: &SsoSession) -> SessionInfo {
    SessionInfo {
        name: session.cache_key().to_string(),
        start_url: session.start_url.clone(),
        region: session.region.clone(),
    }
}

/// How the portal starts: on a session the flags named, or with the configured ones.
enum Start {
    Open(SsoSession, Vec<String>),
    Choose(Action, Vec<String>),
    /// No sso-session, but saml-sessions: their roles only.
    SamlOnly(Vec<String>),
}

/// The region a profile for this role names (for `AWS_REGION` in the exports): the first
/// profile of the session with the same account and role that has a `region`.
pub fn profile_region(
    config: &ConfigFile,
    session: &SsoSession,
    account_id: &str,
    role: &str,
) -> Option<String> {
    config.profile_names().into_iter().find_map(|name| {
        let p = config.profile(name)?;
        let same_session = match (&session.name, p.get("sso_session")) {
            (Some(ours), Some(theirs)) => ours == theirs,
            (None, None) => p.get("sso_start_url") == Some(session.start_url.as_str()),
            _ => false,
        };
        (same_session
            && p.get("sso_account_id") == Some(account_id)
            && p.get("sso_role_name") == Some(role))
        .then(|| p.get("region").map(String::from))
        .flatten()
    })
}

/// The portal's side of the TUI: what it knows of the world and the jobs it runs.
struct Portal {
    ctx: Context,
    store: Store,
    cache_root: PathBuf,
    tx: Sender<Action>,
    /// The sessions offered (cache key = the name the TUI shows).
    sessions: Vec<SsoSession>,
    current: Option<SsoSession>,
    memory: Memory,
    generation: Arc<AtomicU64>,
    sign_in: Option<Job>,
    refresh: Option<Job>,
    /// Credentials fetched in the background for the effect that is asked for again.
    fetched: Arc<Mutex<Option<Fetched>>>,
    /// Set while credentials are being fetched: one fetch at a time.
    fetching: Arc<AtomicBool>,
    /// `--browser` and `--profile`, for the browser that signs in and opens the console.
    browser_flag: Option<String>,
    profile: Option<String>,
    /// Listing each saml-session's roles (a browser sign-in where none is kept).
    saml_jobs: Vec<Job>,
    /// The order the listing lists roles in, which the filter and ⏎ change while it runs.
    priority: Priority,
    /// Set while a listing runs (in the sign-in job or the refresh job).
    listing: Arc<AtomicBool>,
}

/// Marks a listing as running for as long as it lives (a cancelled job drops it too).
struct Listing(Arc<AtomicBool>);

impl Listing {
    fn start(flag: &Arc<AtomicBool>) -> Listing {
        flag.store(true, Ordering::SeqCst);
        Listing(flag.clone())
    }
}

impl Drop for Listing {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// Role credentials a background fetch left for the runner, and whose they are.
struct Fetched {
    session: String,
    choice: Choice,
    creds: RoleCredentials,
}

impl Portal {
    fn new(ctx: Context, tx: Sender<Action>) -> anyhow::Result<Portal> {
        let store = Store::from_env(&ctx.env)?;
        let cache_root = ctx.env.portico_cache_dir()?;
        let memory = Memory::load(&Memory::path(&cache_root));
        Ok(Portal {
            ctx,
            store,
            cache_root,
            tx,
            sessions: Vec::new(),
            current: None,
            memory,
            generation: Arc::new(AtomicU64::new(0)),
            sign_in: None,
            refresh: None,
            fetched: Arc::default(),
            fetching: Arc::default(),
            browser_flag: None,
            profile: None,
            saml_jobs: Vec::new(),
            priority: Priority::new(),
            listing: Arc::default(),
        })
    }

    /// The browser for `profile` (or, without one, the session's setting and those above it).
    fn browser(&self, profile: Option<&str>, session: Option<&str>) -> anyhow::Result<Browser> {
        let setting = self
            .ctx
            .browser_setting(self.browser_flag.as_deref(), profile, session);
        Ok(Browser::from_setting(&setting)?)
    }

    fn courier(&self) -> Courier {
        Courier::new(self.tx.clone(), &self.generation)
    }

    /// The session the flags name (resolved before the terminal is taken, so a typo is a
    /// plain error), or the configured sessions to choose from.
    fn start(&mut self, args: &Options) -> anyhow::Result<Start> {
        self.browser_flag = args.browser.clone();
        self.profile = args.profile.clone();
        // A setting that cannot be read is a plain error before the screen is taken.
        if args.browser.is_some() {
            self.browser(None, None)?;
        }
        if args.sso_session.is_some() || args.profile.is_some() {
            let selector = Selector {
                profile: args.profile.clone(),
                sso_session: args.sso_session.clone(),
                ..Selector::default()
            };
            let session = match engine::sign_in_for(&self.ctx, &selector)? {
                SignIn::IdentityCenter(session) => session,
                // A profile whose credential_process names a SAML role: the SAML roles.
                SignIn::Saml(_) => return Ok(Start::SamlOnly(Vec::new())),
            };
            self.sessions = vec![session.clone()];
            return Ok(Start::Open(session, Vec::new()));
        }
        let mut skipped = Vec::new();
        self.sessions.clear();
        for session in self.ctx.all_sessions() {
            match session {
                Ok(s) => self.sessions.push(s),
                Err(e) => skipped.push(e.to_string()),
            }
        }
        if self.sessions.is_empty() && !self.ctx.saml_session_names().is_empty() {
            return Ok(Start::SamlOnly(skipped));
        }
        Ok(Start::Choose(
            Action::Sessions {
                sessions: self.sessions.iter().map(session_info).collect(),
                last: self.memory.last_session.clone(),
                config_path: self.ctx.config.path.display().to_string(),
            },
            skipped,
        ))
    }

    /// Carries out an effect that does not need the terminal; the others break out of the
    /// event loop to `run`.
    fn on_effect(&mut self, effect: Effect, app: &mut App) -> ControlFlow<Effect> {
        match effect {
            Effect::SessionChosen(info) => {
                match self.sessions.iter().find(|s| s.cache_key() == info.name) {
                    Some(session) => {
                        let session = session.clone();
                        self.memory.last_session = Some(info.name.clone());
                        self.save_memory();
                        self.open(session, app);
                    }
                    None => apply(
                        app,
                        Action::Error(format!("no sso-session {} is configured", info.name)),
                    ),
                }
            }
            Effect::WriteSessionConfig(info) => match self.write_session(&info) {
                Ok(session) => {
                    self.memory.last_session = Some(info.name.clone());
                    self.save_memory();
                    apply(app, Action::SessionSelected(info));
                    apply(
                        app,
                        Action::Status(format!(
                            "added [sso-session {}] to {}",
                            session.cache_key(),
                            self.ctx.config.path.display()
                        )),
                    );
                    self.open(session, app);
                }
                Err(e) => show_error(app, &e),
            },
            Effect::StartLogin { device_code } => self.connect(Some(device_code), true),
            Effect::CancelLogin => self.sign_in = None,
            Effect::SaveProfile { choice, name } => match self.save_profile(&choice, &name) {
                Ok(note) => apply(app, Action::Status(note)),
                Err(e) => show_error(app, &e),
            },
            Effect::Refresh => self.refresh_list(),
            Effect::FetchRoles(account_id) => {
                self.priority.fetch_now(&account_id);
                if !self.listing.load(Ordering::SeqCst) {
                    self.refresh_list();
                }
            }
            Effect::Prioritise { matching, visible } => {
                self.priority.set_filter_matches(matching);
                self.priority.set_visible(visible);
            }
            Effect::Logout => self.logout(),
            Effect::PrintExports(ref choice)
            | Effect::CopyExports(ref choice)
            | Effect::Subshell(ref choice)
            | Effect::OpenConsole(ref choice) => match self.at_hand(choice) {
                Ok(true) => return ControlFlow::Break(effect),
                Ok(false) => {
                    let note = fetching(choice);
                    self.fetch_credentials(effect);
                    apply(app, Action::Status(note));
                }
                Err(e) => show_error(app, &e),
            },
            other @ (Effect::CopyText(_)
            | Effect::PopupClosed
            | Effect::Quit
            | Effect::Interrupted) => return ControlFlow::Break(other),
        }
        ControlFlow::Continue(())
    }

    /// Works on `session` from now on: the cached list and the recent roles at once, then
    /// the token (refreshed silently, or a sign-in when there is none) and a fresh list.
    fn open(&mut self, session: SsoSession, app: &mut App) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.sign_in = None;
        self.refresh = None;
        self.take_fetched();
        let key = session.cache_key().to_string();
        self.current = Some(session);
        let recent = self.memory.recent_for(&key);
        self.priority
            .set_recent(recent.iter().map(|r| r.account_id.clone()));
        self.priority.set_filter_matches(Vec::<String>::new());
        apply(app, Action::RecentUses(recent));
        let now = OffsetDateTime::now_utc();
        let cached = AccountsCache::under(&self.cache_root).load(&key);
        let stale = match &cached {
            Some((_, at)) => *at > now || now - *at >= REFRESH_AFTER,
            None => true,
        };
        if let Some((accounts, fetched_at)) = cached {
            apply(
                app,
                Action::AccountsLoaded {
                    accounts,
                    fetched_at,
                },
            );
        }
        self.connect(None, stale);
        self.list_saml();
    }

    /// Lists each saml-session's roles beside the sso-session's: those of its last assertion,
    /// or of a browser sign-in where none is kept (its notice goes to the status line).
    fn list_saml(&mut self) {
        self.saml_jobs.clear();
        let store = match Engine::new(&self.ctx.env) {
            Ok(engine) => engine.saml_store(),
            Err(e) => {
                let _ = self.tx.send(Action::Error(e.to_string()));
                return;
            }
        };
        for name in self.ctx.saml_session_names() {
            let session = match self.ctx.saml_session(&name) {
                Ok(session) => session,
                Err(e) => {
                    let _ = self.tx.send(Action::Error(e.to_string()));
                    continue;
                }
            };
            let on_missing = self.saml_on_missing(&name);
            let store = store.clone();
            self.saml_jobs
                .push(spawn(self.courier(), move |courier| async move {
                    match saml::roles(&store, &session, &on_missing, false).await {
                        Ok(roles) => courier.send(Action::SamlRoles {
                            session: session.name.clone(),
                            roles,
                        }),
                        Err(e) => courier.fail(&e.into()),
                    }
                }));
        }
    }

    /// How a saml-session signs in from the portal: its own browser setting (and `--browser`).
    fn saml_on_missing(&self, name: &str) -> OnMissing {
        let setting = self
            .ctx
            .saml_browser_setting(self.browser_flag.as_deref(), name);
        match Browser::from_setting(&setting) {
            Ok(browser) => engine::sign_in_policy(&self.ctx, false, BrowserChoice::Given(browser)),
            Err(_) => OnMissing::fail_by_environment(),
        }
    }

    /// The cache key, target and sign-in policy for the chosen row: the open sso-session's
    /// role, or a saml-session's.
    fn source_target(&self, choice: &Choice) -> anyhow::Result<(String, Target, OnMissing)> {
        match &choice.source {
            Source::IdentityCenter => {
                let session = self.current.clone().context("no session is open")?;
                let target = self.target(&session, choice);
                Ok((
                    session.cache_key().to_string(),
                    target,
                    OnMissing::fail_by_environment(),
                ))
            }
            Source::Saml { session, role_arn } => {
                let saml_session = self.ctx.saml_session(session)?;
                let key = saml_session.cache_key();
                let target = Target::saml(saml_session, role_arn)
                    .context("the SAML role's ARN is not an IAM role ARN")?;
                Ok((key, target, self.saml_on_missing(session)))
            }
        }
    }

    /// Gets a token, then lists the accounts if `list`. `device_code: None` first tries the
    /// cached token (refreshing it silently) and signs in only if that fails; `Some` signs in
    /// now, with the device code if `true`.
    fn connect(&mut self, device_code: Option<bool>, list: bool) {
        let Some(session) = self.current.clone() else {
            return;
        };
        // Drop a sign-in under way before starting another.
        self.sign_in = None;
        let store = self.store.clone();
        let accounts = AccountsCache::under(&self.cache_root);
        let (priority, listing) = (self.priority.clone(), self.listing.clone());
        let browser = match self.browser(self.profile.as_deref(), session.name.as_deref()) {
            Ok(browser) => browser,
            Err(e) => {
                let _ = self.tx.send(Action::Error(describe(&e)));
                Browser::system()
            }
        };
        self.sign_in = Some(spawn(self.courier(), move |courier| async move {
            let options = |device: bool| LoginOptions {
                method: if device {
                    Method::DeviceCode
                } else {
                    Method::Auto
                },
                reporter: Some(courier.login_reporter()),
                browser: browser.clone(),
                ..LoginOptions::default()
            };
            let token = match device_code {
                Some(device) => identity::login(&store, &session, &options(device)).await,
                None => match identity::access_token(
                    &store,
                    &session,
                    &OnMissing::fail_by_environment(),
                )
                .await
                {
                    Ok(_) => store
                        .tokens
                        .load_token(&session)
                        .map_err(IdentityError::from)
                        .and_then(|t| {
                            t.ok_or(IdentityError::Service {
                                operation: "CreateToken",
                                detail: "the token vanished from the cache".into(),
                            })
                        }),
                    Err(IdentityError::LoginRequired { .. }) => {
                        identity::login(&store, &session, &options(false)).await
                    }
                    Err(e) => Err(e),
                },
            };
            let token = match token {
                Ok(token) => token,
                Err(IdentityError::Cancelled) => return,
                Err(e) => {
                    courier.send(Action::LoginState(LoginState::SignedOut));
                    courier.send(Action::Error(describe(&anyhow::Error::from(e))));
                    return;
                }
            };
            if let Some(expires_at) = token.expires_at() {
                courier.send(Action::LoginState(LoginState::SignedIn { expires_at }));
            }
            if list {
                let _listing = Listing::start(&listing);
                list_accounts(&courier, &store, &session, &accounts, &priority).await;
            }
        }));
    }

    fn refresh_list(&mut self) {
        let Some(session) = self.current.clone() else {
            return;
        };
        let store = self.store.clone();
        let accounts = AccountsCache::under(&self.cache_root);
        let (priority, listing) = (self.priority.clone(), self.listing.clone());
        // Marked at once, so that a second ⏎ does not start another listing meanwhile.
        listing.store(true, Ordering::SeqCst);
        self.refresh = Some(spawn(self.courier(), move |courier| async move {
            let _listing = Listing::start(&listing);
            list_accounts(&courier, &store, &session, &accounts, &priority).await;
        }));
    }

    /// Like `portico logout` for the open session, reporting to the status line.
    fn logout(&mut self) {
        let Some(session) = self.current.clone() else {
            return;
        };
        // Results of work started before the logout are of no use any more.
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.sign_in = None;
        self.refresh = None;
        self.take_fetched();
        let store = self.store.clone();
        let root = self.cache_root.clone();
        let aws_dir = self.ctx.env.aws_dir().ok();
        // Kept in the refresh slot so that it is not cancelled at once; a new session or
        // sign-in does not need to wait for it.
        self.refresh = Some(spawn(self.courier(), move |courier| async move {
            match sign_out(&store, &root, aws_dir.as_deref(), &session).await {
                Ok(note) => {
                    courier.send(Action::LoginState(LoginState::SignedOut));
                    courier.send(Action::Status(note));
                }
                Err(e) => courier.fail(&e),
            }
        }));
    }

    /// Whether the credentials for `choice` can be had without the network: fetched in the
    /// background a moment ago, or in the role-credential cache — both through the engine, which
    /// hands out keys only while their sign-in exists (after `aws sso logout` or `portico
    /// logout` elsewhere they are gone). `false` means a fetch is needed, which
    /// [`Self::fetch_credentials`] does off the UI thread.
    fn at_hand(&self, choice: &Choice) -> anyhow::Result<bool> {
        let (key, target, _) = self.source_target(choice)?;
        let engine = Engine::new(&self.ctx.env)?;
        if self.fetched_for(&engine, &key, &target, choice) {
            return Ok(true);
        }
        if engine.cached(&target, engine::MIN_REMAINING).is_some() {
            return Ok(true);
        }
        if let (Source::IdentityCenter, Some(session)) = (&choice.source, &self.current) {
            let signing_in = self.sign_in.as_ref().is_some_and(Job::is_running);
            let token_fresh = matches!(
                self.store.tokens.load_token_facts(session),
                Ok(Some(t)) if t.is_fresh(OffsetDateTime::now_utc())
            );
            if signing_in && !token_fresh {
                // The sign-in holds the session's lock until the user approves: the fetch
                // would wait for it, and the credentials would arrive long after the key was
                // pressed.
                anyhow::bail!("still signing in; try again once the sign-in is done");
            }
        }
        Ok(false)
    }

    /// Whether the background fetch left keys for `choice` that may still be handed out; keys
    /// whose sign-in ended meanwhile are dropped.
    fn fetched_for(&self, engine: &Engine, key: &str, target: &Target, choice: &Choice) -> bool {
        let mut fetched = self.fetched.lock().unwrap_or_else(PoisonError::into_inner);
        if !fetched
            .as_ref()
            .is_some_and(|f| f.session == key && f.choice == *choice)
        {
            return false;
        }
        if engine.still_signed_in(target) {
            return true;
        }
        *fetched = None;
        false
    }

    /// Fetches the credentials `effect` needs on a thread of its own, then asks for the
    /// effect again (`CredentialsReady`), which finds them at hand.
    fn fetch_credentials(&mut self, effect: Effect) {
        let Some(choice) = credential_choice(&effect) else {
            return;
        };
        let (key, target, on_missing) = match self.source_target(choice) {
            Ok(found) => found,
            Err(e) => {
                let _ = self.tx.send(Action::Error(e.to_string()));
                return;
            }
        };
        if self.fetching.swap(true, Ordering::SeqCst) {
            // The fetch under way reports first; the key can be pressed again after it.
            return;
        }
        let choice = choice.clone();
        let ctx = self.ctx.clone();
        let courier = self.courier();
        let fetched = self.fetched.clone();
        let fetching = self.fetching.clone();
        std::thread::spawn(move || {
            // `obtain` blocks (a lock shared with other portico processes, its own runtime):
            // a plain thread, not a job on a runtime.
            let obtained = Engine::new(&ctx.env)
                .map_err(anyhow::Error::from)
                .and_then(|engine| engine.obtain_blocking(&target, &on_missing));
            match obtained {
                Ok(creds) => {
                    *fetched.lock().unwrap_or_else(PoisonError::into_inner) = Some(Fetched {
                        session: key,
                        choice,
                        creds,
                    });
                    courier.send(Action::CredentialsReady(effect));
                }
                Err(e) => courier.fail(&e),
            }
            fetching.store(false, Ordering::SeqCst);
        });
    }

    fn take_fetched(&self) -> Option<Fetched> {
        self.fetched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn target(&self, session: &SsoSession, choice: &Choice) -> Target {
        Target::identity_center(session.clone(), &choice.account_id, &choice.role)
    }

    /// Role credentials for the chosen row (fetched in the background a moment ago, or
    /// cached: see [`Self::at_hand`]), and the region of a profile for that role, if one
    /// names it.
    fn credentials(
        &mut self,
        choice: &Choice,
    ) -> anyhow::Result<(RoleCredentials, Option<String>)> {
        let (key, target, _) = self.source_target(choice)?;
        let region = match (&choice.source, &self.current) {
            (Source::IdentityCenter, Some(session)) => {
                profile_region(&self.ctx.config, session, &choice.account_id, &choice.role)
            }
            _ => None,
        };
        let engine = Engine::new(&self.ctx.env)?;
        let creds = match self.take_fetched() {
            // Fetched in the background a moment ago, and the sign-in is still there.
            Some(f)
                if f.session == key && f.choice == *choice && engine.still_signed_in(&target) =>
            {
                f.creds
            }
            // Else cached (through the engine's signed-in check), or an error naming the fix
            // (`portico login` where the row's browser can open).
            _ => {
                let setting = target.browser_setting(&self.ctx, self.browser_flag.as_deref(), None);
                let fail = engine::sign_in_policy(&self.ctx, true, BrowserChoice::Setting(setting));
                engine.obtain_blocking(&target, &fail)?
            }
        };
        self.memory.record(
            &key,
            &choice.account_id,
            &choice.role,
            OffsetDateTime::now_utc(),
        );
        self.save_memory();
        Ok((creds, region))
    }

    fn recent(&self) -> Vec<RecentUse> {
        self.current
            .as_ref()
            .map(|s| self.memory.recent_for(s.cache_key()))
            .unwrap_or_default()
    }

    fn save_memory(&self) {
        // Losing the history is harmless; an error here must not get in the way.
        let _ = self.memory.save(&Memory::path(&self.cache_root));
    }

    fn lock_dir(&self) -> PathBuf {
        self.cache_root.join("locks")
    }

    fn reload_config(&mut self) -> anyhow::Result<()> {
        self.ctx = Context::load(self.ctx.env.clone())?;
        Ok(())
    }

    /// The first-run form's `[sso-session]`, written through the line-preserving editor.
    fn write_session(&mut self, info: &SessionInfo) -> anyhow::Result<SsoSession> {
        let path = self.ctx.config.path.clone();
        let mut file = EditableFile::open_parsed(&path)?;
        let answers = Answers {
            session: info.name.clone(),
            start_url: info.start_url.clone(),
            region: info.region.clone(),
            scopes: Some(vec![DEFAULT_SCOPE.to_string()]),
            profile: None,
        };
        configure::apply(&mut file.doc, &answers)?;
        file.save(&self.lock_dir())?;
        self.reload_config()?;
        let session = self.ctx.named_session(&info.name)?;
        self.sessions = vec![session.clone()];
        Ok(session)
    }

    /// `[profile NAME]` pointing at the open session's account and role. An existing profile
    /// is never repurposed: the user picks another name.
    fn save_profile(&mut self, choice: &Choice, name: &str) -> anyhow::Result<String> {
        let session = self.current.clone().context("no session is open")?;
        let Some(session_name) = session.name.clone() else {
            anyhow::bail!(
                "profiles can only point at an [sso-session]; this session comes from a legacy profile (run `portico configure` to add one)"
            );
        };
        let path = self.ctx.config.path.clone();
        let mut file = EditableFile::open_parsed(&path)?;
        let id = SectionId::profile(name);
        if let Some(existing) = file.doc.section(&id) {
            let same = existing.get("sso_session") == Some(session_name.as_str())
                && existing.get("sso_account_id") == Some(choice.account_id.as_str())
                && existing.get("sso_role_name") == Some(choice.role.as_str());
            if same {
                return Ok(format!(
                    "[{id}] in {} already uses {} in {}",
                    path.display(),
                    choice.role,
                    choice.account_name
                ));
            }
            anyhow::bail!(
                "[{id}] already exists in {} (line {}) for something else; choose another name",
                path.display(),
                existing.line
            );
        }
        file.doc.upsert(
            &id,
            &[
                ("sso_session", session_name.as_str()),
                ("sso_account_id", choice.account_id.as_str()),
                ("sso_role_name", choice.role.as_str()),
            ],
            &[],
        )?;
        file.save(&self.lock_dir())?;
        self.reload_config()?;
        Ok(format!("added [{id}] to {}", path.display()))
    }

    /// Suspends the TUI and runs `$SHELL` on the terminal with the role's credentials.
    fn subshell(&mut self, guard: &mut TerminalGuard, choice: &Choice) -> anyhow::Result<String> {
        let (creds, region) = self.credentials(choice)?;
        let shell = std::env::var_os("SHELL")
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| if cfg!(windows) { "cmd.exe" } else { "/bin/sh" }.into());
        let mut command = Command::new(&shell);
        output::child::with_vars(&mut command, output::env_vars(&creds, region.as_deref())).env(
            "PORTICO_SUBSHELL",
            format!("{}/{}", choice.account_name, choice.role),
        );
        // The shell talks to the terminal, never to our stdout: under `eval "$(portico)"`
        // that is a pipe whose content the calling shell would run.
        let mut banner: Box<dyn Write> = match tty() {
            Some(tty) => {
                command
                    .stdin(Stdio::from(tty.try_clone()?))
                    .stdout(Stdio::from(tty.try_clone()?))
                    .stderr(Stdio::from(tty.try_clone()?));
                Box::new(tty)
            }
            // No terminal device to name (Windows): the console the shell inherits is it.
            None => Box::new(std::io::stderr()),
        };
        guard.suspend()?;
        SUSPENDED.store(true, Ordering::SeqCst);
        let _ = writeln!(
            banner,
            "portico: a shell as {} in {} ({}); the credentials expire at {} UTC. Type `exit` to return to the portal.",
            choice.role,
            choice.account_name,
            choice.account_id,
            clock(creds.expiration)
        );
        let status = command.status();
        SUSPENDED.store(false, Ordering::SeqCst);
        guard.resume()?;
        let status = status.with_context(|| format!("cannot run {}", shell.to_string_lossy()))?;
        Ok(match status.code() {
            Some(0) | None => "back from the shell".to_string(),
            Some(code) => format!("back from the shell (it exited with {code})"),
        })
    }

    /// A console sign-in link for the role: opened in the browser, or, where no browser can
    /// open (SSH), put on the clipboard and shown in a pop-up to copy by hand.
    fn console(
        &mut self,
        guard: &mut TerminalGuard,
        app: &mut App,
        choice: &Choice,
    ) -> anyhow::Result<String> {
        let (creds, region) = self.credentials(choice)?;
        let url = console::link_blocking(&creds, region.as_deref(), None, None)?;
        let who = format!("{} in {}", choice.role, choice.account_name);
        let mut copy = |guard: &mut TerminalGuard, why: String| -> anyhow::Result<String> {
            let what = format!("the console link for {who} (valid 15 min)");
            Ok(format!("{why}: {}", share(guard, app, &what, url.clone())))
        };
        // The role's own profile (if the config has one) chooses the browser and names the
        // container; else ACCOUNT-ROLE. A SAML row's browser is its saml-session's.
        let profile = match &choice.source {
            Source::IdentityCenter => {
                let session = self.current.as_ref().and_then(|s| s.name.clone());
                self.ctx
                    .profile_for_role(session.as_deref(), &choice.account_id, &choice.role)
            }
            Source::Saml { .. } => None,
        };
        let container =
            console::container_name(profile.as_deref(), &choice.account_id, &choice.role);
        let (_, target, _) = self.source_target(choice)?;
        let browser = Browser::from_setting(&target.browser_setting(
            &self.ctx,
            self.browser_flag.as_deref(),
            profile.as_deref(),
        ))?;
        match browser.availability() {
            BrowserAvailability::Yes => match browser.open(&url, &container) {
                Ok(Some(opener)) => Ok(format!("asked {opener} to open the console as {who}")),
                Ok(None) => copy(guard, "the browser setting is none".to_string()),
                Err(e) => copy(guard, format!("could not open a browser ({e})")),
            },
            BrowserAvailability::No(why) => copy(guard, why.to_string()),
        }
    }
}

/// The controlling terminal, for the subshell.
fn tty() -> Option<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()
}

fn clock(t: OffsetDateTime) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// SIGTERM and SIGHUP (and a SIGINT that did not come as a key) interrupt like Ctrl-C (exit
/// 130), so the terminal is restored. If the loop cannot act on it within a few seconds (it is waiting
/// for a lock), the terminal is restored here and `end_when_stuck` (the edge's) ends the process.
fn watch_signals(tx: Sender<Action>, end_when_stuck: Option<fn() -> !>) {
    #[cfg(unix)]
    std::thread::spawn(move || {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(runtime) = engine::runtime() else {
            return;
        };
        runtime.block_on(async move {
            let (Ok(mut term), Ok(mut hup), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
                signal(SignalKind::interrupt()),
            ) else {
                return;
            };
            loop {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = hup.recv() => {}
                    _ = int.recv() => {
                        if SUSPENDED.load(Ordering::SeqCst) {
                            continue;
                        }
                    }
                }
                let _ = tx.send(Action::Interrupt);
                tokio::time::sleep(StdDuration::from_secs(3)).await;
                if let (false, Some(end)) = (SUSPENDED.load(Ordering::SeqCst), end_when_stuck) {
                    let _ = tui::restore();
                    end();
                }
            }
        });
    });
    #[cfg(not(unix))]
    drop((tx, end_when_stuck));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shell_picks_the_format() {
        assert_eq!(shell_format(Some("/usr/bin/fish"), false), Format::Fish);
        assert_eq!(
            shell_format(Some("/opt/microsoft/pwsh"), false),
            Format::Powershell
        );
        assert_eq!(
            shell_format(Some("C:\\Program Files\\pwsh.exe"), true),
            Format::Powershell
        );
        assert_eq!(shell_format(Some("/bin/zsh"), false), Format::Env);
        assert_eq!(shell_format(Some("/bin/bash"), false), Format::Env);
        assert_eq!(shell_format(None, false), Format::Env);
        assert_eq!(shell_format(None, true), Format::Powershell);
    }

    #[test]
    fn the_region_comes_from_a_profile_for_the_same_role() {
        let config = ConfigFile::parse(
            std::path::Path::new("config"),
            "[sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = eu-central-1\n\n\
             [profile other]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Read\nregion = us-east-1\n\n\
             [profile admin]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Admin\nregion = eu-west-1\n",
        )
        .unwrap();
        let session = SsoSession {
            name: Some("corp".into()),
            start_url: "https://d-1234567890.awsapps.com/start".into(),
            region: "eu-central-1".into(),
            scopes: vec![],
            configured_scopes: None,
            oidc_endpoint: String::new(),
            portal_endpoint: String::new(),
            storage: Default::default(),
        };
        assert_eq!(
            profile_region(&config, &session, "111122223333", "Admin").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            profile_region(&config, &session, "111122223333", "Power"),
            None
        );
        let other = SsoSession {
            name: Some("elsewhere".into()),
            ..session
        };
        assert_eq!(
            profile_region(&config, &other, "111122223333", "Admin"),
            None
        );
    }

    /// A portal over a config with one sso-session in a temporary HOME, opened on it, and a
    /// row of it.
    fn portal_in(home: &std::path::Path) -> (Portal, SsoSession, Choice) {
        let config = home.join("config");
        std::fs::write(
            &config,
            "[sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = eu-central-1\n",
        )
        .unwrap();
        let env = Environment {
            home: Some(home.to_path_buf()),
            cache_home: Some(home.join("cache")),
            config_file: Some(config),
            // Nothing here may call out; were it to, it would meet a closed loopback port.
            endpoint_url: Some("http://127.0.0.1:9".into()),
            ..Environment::default()
        };
        let ctx = Context::load(env).unwrap();
        let session = ctx.named_session("corp").unwrap();
        let (tx, _rx) = std::sync::mpsc::channel();
        let mut portal = Portal::new(ctx, tx).unwrap();
        portal.current = Some(session.clone());
        let choice = Choice {
            account_id: "111122223333".into(),
            account_name: "prod".into(),
            role: "Admin".into(),
            source: Source::IdentityCenter,
        };
        (portal, session, choice)
    }

    /// Signs in the way the AWS CLI leaves it: the token file in `~/.aws/sso/cache`.
    fn write_token(portal: &Portal, session: &SsoSession) -> PathBuf {
        let path = portal.store.tokens.token_path(session);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            format!(
                r#"{{"startUrl":"{}","region":"eu-central-1","accessToken":"aoa-token","expiresAt":"2099-01-01T00:00:00Z"}}"#,
                session.start_url
            ),
        )
        .unwrap();
        path
    }

    fn keys() -> RoleCredentials {
        RoleCredentials {
            access_key_id: "ASIACACHEDKEY".into(),
            secret_access_key: crate::secret::Secret::new("cached-secret"),
            session_token: crate::secret::Secret::new("cached-token"),
            expiration: OffsetDateTime::now_utc() + time::Duration::hours(1),
            account_id: "111122223333".into(),
        }
    }

    /// `aws sso logout` deletes the token file (shared/PROTOCOL.md §3): from then on the
    /// portal's "keys at hand" is the engine's answer — no keys — whether they sit in the
    /// role-credential cache or were fetched in the background a moment before.
    #[test]
    fn after_a_sign_out_by_the_aws_cli_the_portal_hands_out_no_cached_keys() {
        let home = tempfile::tempdir().unwrap();
        let (mut portal, session, choice) = portal_in(home.path());
        let token = write_token(&portal, &session);
        let cache = crate::cache::rolecreds::RoleCredsCache::under(&portal.cache_root);
        let file = cache
            .store(session.cache_key(), &session.start_url, "Admin", &keys())
            .unwrap();
        assert!(portal.at_hand(&choice).unwrap(), "signed in: cached keys");
        let (got, _) = portal.credentials(&choice).unwrap();
        assert_eq!(got.access_key_id, "ASIACACHEDKEY");

        std::fs::remove_file(&token).unwrap();
        assert!(
            !portal.at_hand(&choice).unwrap(),
            "signed out: none at hand"
        );
        assert!(!file.exists(), "the signed-out session's keys are deleted");
        let err = portal.credentials(&choice).unwrap_err();
        assert!(format!("{err:#}").contains("not signed in"), "{err:#}");

        // Keys a background fetch left a moment before the sign-out go the same way.
        write_token(&portal, &session);
        *portal.fetched.lock().unwrap() = Some(Fetched {
            session: session.cache_key().to_string(),
            choice: choice.clone(),
            creds: keys(),
        });
        assert!(portal.at_hand(&choice).unwrap(), "fetched and signed in");
        std::fs::remove_file(&token).unwrap();
        assert!(
            !portal.at_hand(&choice).unwrap(),
            "fetched, then signed out"
        );
        *portal.fetched.lock().unwrap() = Some(Fetched {
            session: session.cache_key().to_string(),
            choice: choice.clone(),
            creds: keys(),
        });
        assert!(portal.credentials(&choice).is_err(), "not handed out");
    }
}
