//! A private credential server for one command (`portico exec --serve`): it listens on a free
//! port of 127.0.0.1 with a token of its own, on a thread of its own, for as long as the command
//! runs, so that a command running for hours always finds fresh keys.

use std::net::{IpAddr, Ipv4Addr};
use std::process::{Command, ExitStatus};

use super::{Route, Server, Token, TOKEN_VAR, URI_VAR};
use crate::settings::Environment;

/// A running private server; [`stop`](Private::stop) (or drop) ends it.
pub struct Private {
    uri: String,
    token: Token,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Private {
    /// Starts a server for `route` on 127.0.0.1 and a free port.
    pub fn start(env: Environment, route: &Route) -> anyhow::Result<Private> {
        let token = Token::generate()?;
        let server = Server::bind(IpAddr::V4(Ipv4Addr::LOCALHOST), 0, token.clone(), env)?;
        let uri = server.uri(route)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("credential-server".into())
            .spawn(move || {
                let ended = runtime.block_on(server.run(async {
                    let _ = stopped.await;
                }));
                if let Err(e) = ended {
                    eprintln!("portico: the credential server stopped: {e}");
                }
                runtime.shutdown_background();
            })?;
        Ok(Private {
            uri,
            token,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// What the command gets: the endpoint and its token.
    pub fn vars(&self) -> [(&'static str, String); 2] {
        [
            (URI_VAR, self.uri.clone()),
            (TOKEN_VAR, self.token.expose().to_string()),
        ]
    }

    /// Ends the server and waits for its thread.
    pub fn stop(mut self) {
        self.end();
    }

    fn end(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        self.end();
    }
}

/// Spawns `command` and waits for it, passing on SIGTERM and SIGHUP sent to portico. SIGINT
/// and SIGQUIT are not passed on: a terminal sends them to the whole foreground process group,
/// the command included; portico only outlives them so that the server lasts as long as the
/// command. The handlers are in place before the command starts, so a signal sent as soon as
/// it runs is passed on too, never taken by portico's default action.
#[cfg(unix)]
pub fn run_passing_signals(command: &mut Command) -> std::io::Result<ExitStatus> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGQUIT, SIGTERM, SIGHUP])?;
    let handle = signals.handle();
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            handle.close();
            return Err(e);
        }
    };
    let pid = rustix::process::Pid::from_child(&child);
    let forwarder = std::thread::spawn(move || {
        for signal in signals.forever() {
            let pass = match signal {
                SIGTERM => Some(rustix::process::Signal::TERM),
                SIGHUP => Some(rustix::process::Signal::HUP),
                _ => None,
            };
            if let Some(pass) = pass {
                let _ = rustix::process::kill_process(pid, pass);
            }
        }
    });
    let status = child.wait();
    handle.close();
    let _ = forwarder.join();
    status
}

#[cfg(not(unix))]
pub fn run_passing_signals(command: &mut Command) -> std::io::Result<ExitStatus> {
    command.status()
}
