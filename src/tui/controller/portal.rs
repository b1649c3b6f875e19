//! The portal's side of the TUI: what it knows of the world (the config, the open session,
//! what it remembers), the jobs it runs, and the effects it carries out without the terminal.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::sync::Arc;

use crate::engine::{self, Engine, SignIn};
use crate::identity::{Browser, Store};
use crate::settings::{Context, Selector, SsoSession};
use crate::sso::Priority;
use crate::tui::{Action, App, Effect, RecentUse};

use super::credentials::{Fetched, Link};
use super::jobs::{Courier, Epoch, Job, Runtime};
use super::memory::Memory;
use super::session::Slot;
use super::{apply, session_info, show_error, Options, Start};

pub(super) struct Portal {
    pub(super) ctx: Context,
    pub(super) store: Store,
    /// One engine for every credential fetch: concurrent fetches of a role share one flight.
    pub(super) engine: Arc<Engine>,
    pub(super) cache_root: PathBuf,
    pub(super) tx: Sender<Action>,
    /// The sessions offered (cache key = the name the TUI shows).
    pub(super) sessions: Vec<SsoSession>,
    pub(super) current: Option<SsoSession>,
    pub(super) memory: Memory,
    /// `--browser` and `--profile`, for the browser that signs in and opens the console.
    pub(super) browser_flag: Option<String>,
    pub(super) profile: Option<String>,
    /// The order the listing lists roles in, which the filter and ⏎ change while it runs.
    pub(super) priority: Priority,

    /// Where the jobs run, and the epoch they belong to (see [`super::jobs`]).
    pub(super) runtime: Runtime,
    pub(super) epoch: Epoch,
    /// Getting a token (a sign-in where needed), then perhaps the list.
    pub(super) sign_in: Option<Slot>,
    /// A listing the user asked for, or a sign-out.
    pub(super) refresh: Option<Slot>,
    /// Listing each saml-session's roles (a browser sign-in where none is kept).
    pub(super) saml_jobs: Vec<Job>,
    /// The credential fetch under way; one at a time.
    pub(super) fetch: Option<Job<Fetched>>,
    /// Credentials the fetch job left for the effect that is asked for again.
    pub(super) fetched: Option<Fetched>,
    /// Making a console link; one at a time.
    pub(super) linking: Option<Job<Link>>,
    /// The console link the link job left, for `run` to open.
    pub(super) link: Option<Link>,
}

impl Portal {
    pub(super) fn new(ctx: Context, tx: Sender<Action>) -> anyhow::Result<Portal> {
        let store = Store::from_env(&ctx.env)?;
        let cache_root = ctx.env.portico_cache_dir()?;
        let engine = Arc::new(Engine::new(&ctx.env)?);
        let memory = Memory::load(&Memory::path(&cache_root));
        let runtime =
            Runtime::start().map_err(|e| anyhow::anyhow!("cannot start background work: {e}"))?;
        Ok(Portal {
            ctx,
            store,
            engine,
            cache_root,
            tx,
            sessions: Vec::new(),
            current: None,
            memory,
            browser_flag: None,
            profile: None,
            priority: Priority::new(),
            runtime,
            epoch: Epoch::new(),
            sign_in: None,
            refresh: None,
            saml_jobs: Vec::new(),
            fetch: None,
            fetched: None,
            linking: None,
            link: None,
        })
    }

    /// The browser for `profile` (or, without one, the session's setting and those above it).
    pub(super) fn browser(
        &self,
        profile: Option<&str>,
        session: Option<&str>,
    ) -> anyhow::Result<Browser> {
        let setting = self
            .ctx
            .browser_setting(self.browser_flag.as_deref(), profile, session);
        Ok(Browser::from_setting(&setting)?)
    }

    /// A courier for a job of the current epoch.
    pub(super) fn courier(&self) -> Courier {
        self.epoch.courier(self.tx.clone())
    }

    /// The session the flags name (resolved before the terminal is taken, so a typo is a
    /// plain error), or the configured sessions to choose from.
    pub(super) fn start(&mut self, args: &Options) -> anyhow::Result<Start> {
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
    pub(super) fn on_effect(&mut self, effect: Effect, app: &mut App) -> ControlFlow<Effect> {
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
                if !self.listing() {
                    self.refresh_list();
                }
            }
            Effect::Prioritise { matching, visible } => {
                self.priority.set_filter_matches(matching);
                self.priority.set_visible(visible);
            }
            Effect::Logout => self.logout(),
            effect @ (Effect::PrintExports(_)
            | Effect::CopyExports(_)
            | Effect::Subshell(_)
            | Effect::OpenConsole(_)) => return self.hand_out(effect, app),
            other @ (Effect::CopyText(_)
            | Effect::PopupClosed
            | Effect::Quit
            | Effect::Interrupted) => return ControlFlow::Break(other),
        }
        ControlFlow::Continue(())
    }

    pub(super) fn recent(&self) -> Vec<RecentUse> {
        self.current
            .as_ref()
            .map(|s| self.memory.recent_for(s.cache_key()))
            .unwrap_or_default()
    }

    pub(super) fn save_memory(&self) {
        // Losing the history is harmless; an error here must not get in the way.
        let _ = self.memory.save(&Memory::path(&self.cache_root));
    }
}

#[cfg(test)]
impl Portal {
    /// For the controller's tests: a portal over a config file holding `config` in the
    /// temporary HOME `home`, opened on no session. Nothing here may call out; were it to, it
    /// would meet a closed loopback port.
    pub(super) fn over_config(home: &std::path::Path, config: &str) -> Portal {
        let path = home.join("config");
        std::fs::write(&path, config).unwrap();
        let env = crate::settings::Environment {
            home: Some(home.to_path_buf()),
            cache_home: Some(home.join("cache")),
            config_file: Some(path),
            endpoint_url: Some("http://127.0.0.1:9".into()),
            ..crate::settings::Environment::default()
        };
        let (tx, _rx) = std::sync::mpsc::channel();
        Portal::new(Context::load(env).unwrap(), tx).unwrap()
    }
}
