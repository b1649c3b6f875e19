//! The signals that stop `portico serve` cleanly (the token file deleted, "stopped" said, exit
//! 0): SIGINT (Ctrl-C), SIGTERM, SIGHUP (the terminal went away) and SIGQUIT (Ctrl-\). Their
//! handlers are installed before the token file is written, so no signal arriving after that
//! can end the process by its default action and leave the file behind.

/// Installed stop signals; [`StopSignals::recv`] waits for the first.
pub struct StopSignals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
    #[cfg(unix)]
    quit: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Installs the handlers. Needs a tokio runtime's context (`Runtime::enter`).
    pub fn install() -> std::io::Result<StopSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(StopSignals {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
                hup: signal(SignalKind::hangup())?,
                quit: signal(SignalKind::quit())?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignals {})
    }

    /// Resolves on the first stop signal, with its name.
    pub async fn recv(mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => "SIGINT",
                _ = self.term.recv() => "SIGTERM",
                _ = self.hup.recv() => "SIGHUP",
                _ = self.quit.recv() => "SIGQUIT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}
