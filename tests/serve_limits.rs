//! `portico serve` under pressure: idle and half-sent connections by the hundred, a low limit on
//! open files, and every signal that stops it. The real binary, real sockets, the emulator
//! behind it; every wait is on a condition (a socket reaching EOF, the process ending) with a
//! deadline.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{text, wait_until, TestEnv};
use idc_emulator::Config;

fn signed_in() -> TestEnv {
    let env = TestEnv::new(Config::default());
    env.login();
    env
}

/// A running `portico serve`, its printed variables and its stderr.
struct Serving {
    child: Child,
    vars: Vec<(String, String)>,
    stderr: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Serving {
    /// Starts `cmd` (a `portico serve`) and reads what it prints; stdout closes once the
    /// server listens.
    fn start(mut cmd: Command) -> Serving {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = stderr.clone();
        let mut pipe = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let vars = stdout
            .lines()
            .filter_map(|line| {
                let (k, v) = line.strip_prefix("export ")?.split_once('=')?;
                Some((k.to_string(), v.trim_matches('\'').to_string()))
            })
            .collect();
        Serving {
            child,
            vars,
            stderr,
            reader: Some(reader),
        }
    }

    fn var(&self, name: &str) -> &str {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{name} not printed: {:?}; {}", self.vars, self.stderr()))
    }

    fn stderr(&self) -> String {
        text(&self.stderr.lock().unwrap())
    }

    fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, signal).unwrap();
    }

    /// Waits (bounded) for the process to end; its status and all it wrote on stderr.
    fn wait(mut self) -> (ExitStatus, String) {
        let status = wait_until(Duration::from_secs(20), || self.child.try_wait().unwrap())
            .unwrap_or_else(|| panic!("portico serve did not end: {}", self.stderr()));
        self.reader.take().unwrap().join().unwrap();
        (status, self.stderr())
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Each signal that stops `portico serve` stops it cleanly: exit 0, "stopped (SIGNAL)" on
/// stderr, and the `--token-file` file deleted. SIGHUP comes when the terminal closes and
/// SIGQUIT from Ctrl-\; both used to kill it and leave the token behind.
#[test]
fn sighup_sigquit_sigint_and_sigterm_all_delete_the_token_file_and_exit_0() {
    use rustix::process::Signal;
    let env = signed_in();
    let dir = tempfile::tempdir().unwrap();
    for (signal, name) in [
        (Signal::HUP, "SIGHUP"),
        (Signal::QUIT, "SIGQUIT"),
        (Signal::INT, "SIGINT"),
        (Signal::TERM, "SIGTERM"),
    ] {
        let path = dir.path().join(format!("{name}.token"));
        let mut cmd = env.portico();
        cmd.args(["serve", "--profile", "dev", "--token-file"])
            .arg(&path);
        let server = Serving::start(cmd);
        assert_eq!(
            server.var("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
            path.to_str().unwrap()
        );
        assert!(token_file_holds_a_token(&path), "{name}: no token file");
        // At once, as soon as the variables are out: the handlers are in place by then.
        server.signal(signal);
        let (status, stderr) = server.wait();
        assert_eq!(status.code(), Some(0), "{name}: {status:?}; {stderr}");
        assert!(
            stderr.contains(&format!("stopped ({name})")),
            "{name}: {stderr}"
        );
        assert!(!path.exists(), "{name} left the token file behind");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing left in the directory"
    );
}

fn token_file_holds_a_token(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .is_ok_and(|t| t.len() == 64 && t.bytes().all(|c| c.is_ascii_hexdigit()))
}
