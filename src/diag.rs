//! Diagnostics on stderr, at the verbosity `-v` chose, and notices that go to the TUI's status
//! line instead while it owns the screen. stdout is never touched here: it belongs to the
//! command's output (credential_process JSON, shell exports).
//!
//! A tiny hand-written logger: the few levels portico needs do not justify `tracing` and its
//! subscriber stack in a binary whose warm path must start in a millisecond.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

static VERBOSITY: AtomicU8 = AtomicU8::new(0);

/// Sets the verbosity from the number of `-v` flags.
pub fn set_verbosity(level: u8) {
    VERBOSITY.store(level, Ordering::Relaxed);
}

/// Whether messages at `level` (1 = `-v`, 2 = `-vv`) are shown.
pub fn enabled(level: u8) -> bool {
    VERBOSITY.load(Ordering::Relaxed) >= level
}

/// `-v`: what portico is doing (files read, calls made).
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => {
        if $crate::diag::enabled(1) {
            eprintln!("portico: {}", format_args!($($arg)*));
        }
    };
}

/// `-vv`: details (timings, retries, cache decisions).
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::diag::enabled(2) {
            eprintln!("portico: {}", format_args!($($arg)*));
        }
    };
}

/// Where notices go while a full-screen UI owns the terminal.
type Sink = Box<dyn Fn(String) + Send>;

static SINK: Mutex<Option<Sink>> = Mutex::new(None);

/// Tells the user something they should know now (a wait, a fallback), on stderr as
/// `portico: …`. While a [`Redirect`] is alive the text goes to its sink instead: a line on
/// stderr would draw over the TUI's screen. Use through [`notice!`](crate::notice).
pub fn notice(text: String) {
    let sink = SINK.lock().unwrap_or_else(|e| e.into_inner());
    match sink.as_ref() {
        Some(sink) => sink(text),
        None => eprintln!("portico: {text}"),
    }
}

/// Sends notices to `sink` until the returned guard is dropped (the portal turns them into
/// its status line). One at a time: a second redirect replaces the first.
#[must_use = "notices go back to stderr when the guard is dropped"]
pub fn redirect(sink: impl Fn(String) + Send + 'static) -> Redirect {
    *SINK.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(sink));
    Redirect(())
}

/// Whether a full-screen UI owns the terminal (a [`Redirect`] is alive): it handles Ctrl-C and
/// signals itself, and must restore the terminal before the process ends.
pub fn redirected() -> bool {
    SINK.lock().unwrap_or_else(|e| e.into_inner()).is_some()
}

/// While alive, notices go to the sink given to [`redirect`].
pub struct Redirect(());

impl Drop for Redirect {
    fn drop(&mut self) {
        *SINK.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// A notice for the user: stderr, or the TUI's status line while one is up (see [`notice`]).
#[macro_export]
macro_rules! notice {
    ($($arg:tt)*) => {
        $crate::diag::notice(format!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    #[test]
    fn notices_go_to_the_sink_while_redirected() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = seen.clone();
        let guard = super::redirect(move |text| into.lock().unwrap().push(text));
        crate::notice!("waiting for {}", "the lock");
        drop(guard);
        assert_eq!(*seen.lock().unwrap(), ["waiting for the lock"]);
        assert!(super::SINK.lock().unwrap().is_none());
    }
}
