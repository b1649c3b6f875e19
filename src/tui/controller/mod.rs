//! The portal's controller: what `portico` with no command runs. The TUI (the rest of
//! `crate::tui`) is pure state and view; this module wires it to the world — the config file,
//! sign-in, the account list and its cache, role credentials, the clipboard, the browser and
//! the shell.
//!
//! Network work runs as jobs (gitui's pattern, `jobs.rs`): tasks on the controller's one
//! runtime, each reporting [`Action`]s through the channel the event loop reads, each cancelled
//! by dropping its handle. The jobs: the sign-in (a token, silently or by a sign-in, then the
//! list; `session.rs`), the listing (`listing.rs`), each saml-session's roles, the sign-out,
//! and, for an effect that needs role credentials, the credential fetch (the engine's `obtain`)
//! and the console link, which answer through their handle and ask for the effect again
//! (`credentials.rs`). A row becomes an engine target in `target.rs`. Effects that need the
//! terminal itself (print and leave, a subshell, the clipboard, the console) leave the event
//! loop, run, and re-enter it (`effects.rs`). Signals are watched on a thread of their own
//! (`signals.rs`).
//!
//! While the TUI is up nothing may write to stdout (it belongs to `eval "$(portico)"`) or
//! stderr (it would draw over the screen): sign-in reports through a [`LoginReporter`],
//! notices (`crate::notice!`: a lock wait, a refresh that fell back) are redirected to the
//! status line, and errors go there too.
//!
//! [`LoginReporter`]: crate::identity::LoginReporter

mod chained;
mod config;
mod credentials;
mod effects;
mod jobs;
mod listing;
mod memory;
mod portal;
mod session;
mod signals;
mod target;

use std::ops::ControlFlow;

use anyhow::Context as _;
use time::OffsetDateTime;

use crate::output::{self, Format};
use crate::settings::{Context, Environment, SsoSession};
use crate::tui::{
    self, check_terminal, Action, App, Choice, CrosstermEvents, Effect, LoginState, SessionInfo,
    Source, TerminalGuard,
};

use effects::{busy, print_exports, share};
use jobs::{describe, needs_sign_in};
use portal::Portal;
use signals::Signals;

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
    let signals = Signals::watch(tx, args.end_when_stuck);
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
    // The chained profiles, beside their sources' rows (read once: `p` writes no chained
    // profiles).
    let (chained, unusable) = portal.chained_rows();
    apply(&mut app, Action::ChainedRoles(chained));
    if let Some(first) = unusable.first() {
        apply(
            &mut app,
            Action::Error(format!("left out a chained profile: {first}")),
        );
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
                portal.subshell(&mut guard, &signals, &choice)
            }
            // The link job has made the link: only the browser or the clipboard is left.
            Effect::OpenConsole(choice) => portal.console(&mut guard, &mut app, &choice),
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

/// The status line while the row's credentials are got.
fn fetching(choice: &Choice) -> String {
    if let Source::Chained { profile } = &choice.source {
        return format!(
            "getting credentials for {} in {} (profile {profile}, assuming the role with its source's keys)…",
            choice.role, choice.account_id
        );
    }
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
}
