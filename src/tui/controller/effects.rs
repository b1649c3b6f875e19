//! The effects that need the terminal itself, which `run` carries out outside the event loop:
//! printing the exports and leaving, the clipboard and its pop-up, a subshell, opening the
//! console.

use std::io::{IsTerminal, Write};
use std::process::{Command, Stdio};

use anyhow::Context as _;
use time::OffsetDateTime;

use crate::console;
use crate::identity::{Browser, BrowserAvailability};
use crate::model::RoleCredentials;
use crate::output::{self, Format};
use crate::tui::{self, Action, App, Choice, TerminalGuard};

use super::apply;
use super::portal::Portal;
use super::signals::Signals;

pub(super) fn print_exports(
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

/// Puts `text` on the clipboard (a clipboard program, else OSC 52) and shows it in a pop-up
/// the user can select it from, whether or not it arrived; returns the status-line note.
pub(super) fn share(guard: &mut TerminalGuard, app: &mut App, what: &str, text: String) -> String {
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
pub(super) fn busy(guard: &mut TerminalGuard, app: &mut App, note: String) {
    apply(app, Action::Status(note));
    let _ = guard
        .terminal()
        .draw(|frame| frame.render_widget(&*app, frame.area()));
}

impl Portal {
    /// Suspends the TUI and runs `$SHELL` on the terminal with the role's credentials.
    pub(super) fn subshell(
        &mut self,
        guard: &mut TerminalGuard,
        signals: &Signals,
        choice: &Choice,
    ) -> anyhow::Result<String> {
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
        let status = signals.suspended(|| {
            let _ = writeln!(
                banner,
                "portico: a shell as {} in {} ({}); the credentials expire at {} UTC. Type `exit` to return to the portal.",
                choice.role,
                choice.account_name,
                choice.account_id,
                clock(creds.expiration)
            );
            command.status()
        });
        guard.resume()?;
        let status = status.with_context(|| format!("cannot run {}", shell.to_string_lossy()))?;
        Ok(match status.code() {
            Some(0) | None => "back from the shell".to_string(),
            Some(code) => format!("back from the shell (it exited with {code})"),
        })
    }

    /// Opens the console sign-in link the link job made for the row in the browser, or, where
    /// no browser can open (SSH), puts it on the clipboard and in a pop-up to copy by hand.
    pub(super) fn console(
        &mut self,
        guard: &mut TerminalGuard,
        app: &mut App,
        choice: &Choice,
    ) -> anyhow::Result<String> {
        let link = self
            .link
            .take()
            .context("the console link is gone; press o again")?;
        let url = link.url().to_string();
        let who = format!("{} in {}", choice.role, choice.account_name);
        let mut copy = |guard: &mut TerminalGuard, why: String| -> anyhow::Result<String> {
            let what = format!("the console link for {who} (valid 15 min)");
            Ok(format!("{why}: {}", share(guard, app, &what, url.clone())))
        };
        // The role's own profile (if the config has one) chooses the browser and names the
        // container; else ACCOUNT-ROLE.
        let profile = self.role_profile(choice);
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
                // The federation endpoint takes no SessionDuration with role-chained keys: the
                // console session ends with them.
                Ok(Some(opener)) if target.role_chained() => Ok(format!(
                    "asked {opener} to open the console as {who} (a chained role: the console session lasts as long as its keys, at most one hour)"
                )),
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
