//! The terminal: a guard that puts it into raw mode on the alternate screen and always puts
//! it back (on drop, on error, on panic), drawing on `/dev/tty` so stdout stays free for
//! `eval "$(portico)"`; the check that there is a terminal at all; and a small event loop
//! that ties events, `update` and effects.

use std::fs::File;
use std::io::{self, IsTerminal, Stderr, Write};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Once;
use std::time::{Duration, Instant};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, Event,
};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::{cursor, execute};
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::Terminal;
use time::OffsetDateTime;

use super::action::{Action, Effect};
use super::app::App;
use super::keys::action_for;
use super::update::update;

/// The portal needs a terminal to read keys from and draw on; scripts get the commands that
/// do the same without one.
pub fn check_terminal() -> anyhow::Result<()> {
    let tty = cfg!(windows)
        || std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .is_ok();
    if !std::io::stdin().is_terminal() || !tty {
        anyhow::bail!(
            "the portal needs a terminal (stdin is not one); in scripts use `portico list` to see your accounts and roles and `portico credentials` to get keys"
        );
    }
    Ok(())
}

/// Where the TUI draws: the controlling terminal, or stderr when there is none to open.
pub enum TtyWriter {
    Tty(File),
    Stderr(Stderr),
}

impl TtyWriter {
    /// `/dev/tty` if it can be opened, else stderr; never stdout.
    pub fn open() -> TtyWriter {
        match std::fs::OpenOptions::new().write(true).open("/dev/tty") {
            Ok(f) => TtyWriter::Tty(f),
            Err(_) => TtyWriter::Stderr(io::stderr()),
        }
    }
}

impl Write for TtyWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            TtyWriter::Tty(f) => f.write(buf),
            TtyWriter::Stderr(e) => e.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            TtyWriter::Tty(f) => f.flush(),
            TtyWriter::Stderr(e) => e.flush(),
        }
    }
}

pub type TuiTerminal = Terminal<CrosstermBackend<TtyWriter>>;

/// Whether the terminal is in the TUI's modes, so that restoring twice (drop after a panic
/// hook) does nothing the second time.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();

/// Owns the terminal while the TUI runs. Dropping it restores the terminal; so does a
/// panic anywhere while it lives. Ctrl-C arrives as a key in raw mode and quits through
/// `update`, which drops the guard as usual.
pub struct TerminalGuard {
    terminal: TuiTerminal,
}

impl TerminalGuard {
    /// Raw mode, alternate screen, hidden cursor, mouse capture and bracketed paste.
    pub fn enter() -> io::Result<TerminalGuard> {
        PANIC_HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let _ = restore();
                previous(info);
            }));
        });
        let mut out = TtyWriter::open();
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let entered = execute!(
            out,
            EnterAlternateScreen,
            EnableMouseCapture,
            EnableBracketedPaste,
            cursor::Hide
        );
        if let Err(e) = entered {
            let _ = restore();
            return Err(e);
        }
        match Terminal::new(CrosstermBackend::new(out)) {
            Ok(terminal) => Ok(TerminalGuard { terminal }),
            Err(e) => {
                let _ = restore();
                Err(e)
            }
        }
    }

    pub fn terminal(&mut self) -> &mut TuiTerminal {
        &mut self.terminal
    }

    /// Puts `text` on the clipboard with OSC 52, which the terminal emulator carries out,
    /// so it works over SSH too (tmux needs `set -g set-clipboard on`). Terminals that do
    /// not support it ignore the sequence: say "copied" only as "sent to the terminal".
    pub fn copy_to_clipboard(&mut self, text: &str) -> io::Result<()> {
        execute!(
            self.terminal.backend_mut(),
            crossterm::clipboard::CopyToClipboard::to_clipboard_from(text)
        )
    }

    /// Mouse reporting on (the wheel scrolls the list) or off (a drag selects text, as in
    /// any terminal program: while the copy pop-up is up).
    pub fn mouse_capture(&mut self, on: bool) -> io::Result<()> {
        if on {
            execute!(self.terminal.backend_mut(), EnableMouseCapture)
        } else {
            execute!(self.terminal.backend_mut(), DisableMouseCapture)
        }
    }

    /// Gives the terminal back for a while (a subshell); `resume` takes it again.
    pub fn suspend(&mut self) -> io::Result<()> {
        restore()
    }

    pub fn resume(&mut self) -> io::Result<()> {
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        execute!(
            self.terminal.backend_mut(),
            EnterAlternateScreen,
            EnableMouseCapture,
            EnableBracketedPaste,
            cursor::Hide
        )?;
        self.terminal.clear()
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = restore();
    }
}

/// Leaves the TUI's modes: raw mode off, main screen back, cursor shown, mouse and paste
/// reporting off. Safe to call more than once and from a panic hook.
pub fn restore() -> io::Result<()> {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return Ok(());
    }
    let mut out = TtyWriter::open();
    let modes = execute!(
        out,
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        cursor::Show
    );
    let raw = disable_raw_mode();
    modes.and(raw)
}

/// Something for the loop to handle: a terminal event or an action from the caller's work.
#[derive(Debug)]
pub enum Input {
    Terminal(Event),
    App(Action),
}

/// Where the loop waits for input.
pub trait EventSource {
    /// The next input, or `None` when `timeout` passed without one.
    fn next(&mut self, timeout: Duration) -> io::Result<Option<Input>>;
}

/// Terminal events from crossterm, merged with actions that background work (tokio tasks)
/// sends through a channel.
pub struct CrosstermEvents {
    actions: Receiver<Action>,
}

impl CrosstermEvents {
    pub fn new(actions: Receiver<Action>) -> CrosstermEvents {
        CrosstermEvents { actions }
    }
}

impl EventSource for CrosstermEvents {
    fn next(&mut self, timeout: Duration) -> io::Result<Option<Input>> {
        // Poll the terminal in short slices so that background results show promptly.
        let deadline = Instant::now() + timeout;
        loop {
            // A closed channel only means no more background work: the terminal is left.
            if let Ok(action) = self.actions.try_recv() {
                return Ok(Some(Input::App(action)));
            }
            let slice = deadline
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(25));
            if crossterm::event::poll(slice)? {
                return Ok(Some(Input::Terminal(crossterm::event::read()?)));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
        }
    }
}

/// How often the clock ticks for ages and countdowns.
pub const TICK: Duration = Duration::from_secs(1);

/// Runs the TUI until the effect handler breaks out: draw, wait for input (or the next
/// tick), update, hand effects to `on_effect`. Inputs that are already waiting are applied
/// together before the next draw, so a paste or fast typing costs one redraw.
///
/// `on_effect` does the I/O (or starts it on tokio, answering through the channel of
/// [`CrosstermEvents`]) and returns `Break(value)` to leave the loop with `value`.
pub fn run_loop<B, E, T>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    events: &mut E,
    mut on_effect: impl FnMut(Effect, &mut App) -> ControlFlow<T>,
    clock: impl Fn() -> OffsetDateTime,
) -> io::Result<T>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    E: EventSource,
{
    let size = terminal.size().map_err(to_io)?;
    update(
        app,
        Action::Resize {
            width: size.width,
            height: size.height,
        },
    );
    let mut next_tick = Instant::now() + TICK;
    loop {
        terminal
            .draw(|frame| frame.render_widget(&*app, frame.area()))
            .map_err(to_io)?;
        let timeout = next_tick.saturating_duration_since(Instant::now());
        let mut input = events.next(timeout)?;
        if input.is_none() {
            next_tick = Instant::now() + TICK;
            if let Some(effect) = update(app, Action::Tick(clock())) {
                if let ControlFlow::Break(value) = on_effect(effect, app) {
                    return Ok(value);
                }
            }
        }
        // Apply everything already waiting (a paste, fast typing) before the next draw. A
        // listing under way sends the whole list again and again: of lists waiting back to
        // back (the UI fell behind) only the newest is built.
        let mut drained = 0;
        let mut waiting_list: Option<Action> = None;
        while let Some(next) = input {
            let action = match next {
                Input::App(list @ Action::AccountsListed { .. }) => {
                    waiting_list = Some(list);
                    None
                }
                other => {
                    if let Some(list) = waiting_list.take() {
                        if let Some(effect) = update(app, list) {
                            if let ControlFlow::Break(value) = on_effect(effect, app) {
                                return Ok(value);
                            }
                        }
                    }
                    match other {
                        Input::Terminal(event) => action_for(event, app),
                        Input::App(action) => Some(action),
                    }
                }
            };
            if let Some(effect) = action.and_then(|a| update(app, a)) {
                if let ControlFlow::Break(value) = on_effect(effect, app) {
                    return Ok(value);
                }
            }
            drained += 1;
            input = if drained < MAX_INPUTS_PER_FRAME {
                events.next(Duration::ZERO)?
            } else {
                None
            };
        }
        if let Some(effect) = waiting_list.and_then(|list| update(app, list)) {
            if let ControlFlow::Break(value) = on_effect(effect, app) {
                return Ok(value);
            }
        }
    }
}

/// A backend's error as an `io::Error` (crossterm's already is one; the test backend's
/// cannot happen).
fn to_io<E: std::error::Error + Send + Sync + 'static>(e: E) -> io::Error {
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(e);
    match boxed.downcast::<io::Error>() {
        Ok(e) => *e,
        Err(other) => io::Error::other(other),
    }
}

/// Inputs applied between two draws at most, so a flood still shows progress.
const MAX_INPUTS_PER_FRAME: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Account;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ratatui::backend::TestBackend;
    use std::collections::VecDeque;
    use time::macros::datetime;

    /// Inputs from a script; `None` stands for a wait that timed out.
    struct Script(VecDeque<Option<Input>>);

    impl EventSource for Script {
        fn next(&mut self, _timeout: Duration) -> io::Result<Option<Input>> {
            Ok(self.0.pop_front().expect("the script ran out"))
        }
    }

    fn key(c: KeyCode) -> Option<Input> {
        Some(Input::Terminal(Event::Key(KeyEvent::new(
            c,
            KeyModifiers::NONE,
        ))))
    }

    #[test]
    fn run_loop_updates_draws_and_hands_out_effects() {
        let now = datetime!(2026-03-01 12:00 UTC);
        let mut app = App::new(now);
        let accounts = ["alpha", "beta"]
            .iter()
            .enumerate()
            .map(|(i, n)| Account {
                account_id: format!("{i:012}"),
                account_name: n.to_string(),
                email_address: String::new(),
                roles: vec!["Admin".into()],
            })
            .collect();
        let mut events = Script(VecDeque::from([
            Some(Input::App(Action::AccountsLoaded {
                accounts,
                fetched_at: now,
            })),
            key(KeyCode::Char('b')),
            key(KeyCode::Char('e')),
            key(KeyCode::Char('o')), // typed: the filter has the keyboard
            key(KeyCode::Backspace),
            None, // nothing more waiting: draw
            key(KeyCode::Tab),
            key(KeyCode::Char('o')), // now the console key
            key(KeyCode::Enter),
        ]));
        let mut terminal = Terminal::new(TestBackend::new(60, 10)).unwrap();
        let mut seen = Vec::new();
        let printed = run_loop(
            &mut terminal,
            &mut app,
            &mut events,
            |effect, _app| match effect {
                Effect::PrintExports(choice) => ControlFlow::Break(choice),
                other => {
                    seen.push(other);
                    ControlFlow::Continue(())
                }
            },
            || now,
        )
        .unwrap();
        assert_eq!(printed.account_name, "beta");
        assert!(matches!(&seen[..], [Effect::OpenConsole(c)] if c.account_name == "beta"));
        assert_eq!((app.width, app.height), (60, 10));
        assert!(terminal.backend().to_string().contains("> be"));
    }

    #[test]
    fn run_loop_ticks_when_idle() {
        let start = datetime!(2026-03-01 12:00 UTC);
        let mut app = App::new(start);
        let mut events = Script(VecDeque::from([None, key(KeyCode::Esc)]));
        let mut terminal = Terminal::new(TestBackend::new(40, 6)).unwrap();
        let quit = run_loop(
            &mut terminal,
            &mut app,
            &mut events,
            |effect, _| ControlFlow::Break(effect),
            || start + time::Duration::seconds(1),
        )
        .unwrap();
        assert_eq!(quit, Effect::Quit);
        assert_eq!(app.now, start + time::Duration::seconds(1));
    }
}
