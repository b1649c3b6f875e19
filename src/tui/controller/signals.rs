//! SIGTERM and SIGHUP (and a SIGINT that did not come as a key) interrupt the portal like
//! Ctrl-C (exit 130), so the terminal is restored; and the way out when the event loop cannot
//! act on them.

use std::sync::mpsc::Sender;
use std::time::Duration;

use tokio::sync::watch;

use crate::tui::{self, Action};

/// Watches for signals on a thread of its own, not as a job: it is the way out when the event
/// loop is stuck waiting for a lock, so it must not depend on anything that can be stuck.
pub(super) struct Signals {
    /// `true` while a subshell has the terminal: Ctrl-C there belongs to the shell.
    suspended: watch::Sender<bool>,
}

impl Signals {
    /// Sends `Interrupt` for each signal. If the loop cannot act on it within a few seconds
    /// (it is waiting for a lock), the terminal is restored here and `end_when_stuck` (the
    /// edge's) ends the process.
    pub(super) fn watch(tx: Sender<Action>, end_when_stuck: Option<fn() -> !>) -> Signals {
        let suspended = watch::Sender::new(false);
        #[cfg(unix)]
        {
            let suspended = suspended.subscribe();
            std::thread::spawn(move || {
                use tokio::signal::unix::{signal, SignalKind};
                let Ok(runtime) = crate::engine::runtime() else {
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
                                if *suspended.borrow() {
                                    continue;
                                }
                            }
                        }
                        let _ = tx.send(Action::Interrupt);
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        if let (false, Some(end)) = (*suspended.borrow(), end_when_stuck) {
                            let _ = tui::restore();
                            end();
                        }
                    }
                });
            });
        }
        #[cfg(not(unix))]
        drop((tx, end_when_stuck));
        Signals { suspended }
    }

    /// Hands Ctrl-C to a subshell while `run` runs.
    pub(super) fn suspended<T>(&self, run: impl FnOnce() -> T) -> T {
        self.suspended.send_replace(true);
        let result = run();
        self.suspended.send_replace(false);
        result
    }
}
