//! The portal end to end needs a terminal: a tmux server of its own per test, a pane running a
//! command, keys sent the way a person types them, and waits that poll what the pane shows
//! (every 50 ms, bounded).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::text;

/// How long any one thing may take to show up in the pane.
pub const LIMIT: Duration = Duration::from_secs(10);

static NEXT_SERVER: AtomicUsize = AtomicUsize::new(0);

/// A tmux server of its own with one 100×30 pane running `command`. Its socket lives in a
/// temporary directory, so nothing is left behind in /tmp/tmux-UID.
pub struct Tmux {
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    pub fn start(command: &str) -> Tmux {
        match Command::new("tmux").arg("-V").output() {
            Ok(out) if out.status.success() => {}
            _ => panic!(
                "tmux is not installed: install tmux (apt-get install -y tmux) to run the portal's end-to-end tests"
            ),
        }
        let dir = tempfile::Builder::new()
            .prefix("portico-tmux-")
            .tempdir()
            .unwrap();
        let tmux = Tmux {
            socket: dir.path().join(format!(
                "portico-test-{}-{}",
                std::process::id(),
                NEXT_SERVER.fetch_add(1, Ordering::SeqCst)
            )),
            _dir: dir,
        };
        let out = tmux
            .tmux()
            .args(["new-session", "-d", "-s", "t", "-x", "100", "-y", "30"])
            .arg(command)
            .output()
            .unwrap();
        assert!(out.status.success(), "tmux: {}", text(&out.stderr));
        tmux
    }

    pub fn tmux(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.arg("-S").arg(&self.socket).env_remove("TMUX");
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Key names as tmux knows them: `Enter`, `Escape`, `C-c`, `Tab`, `Down`.
    pub fn keys(&self, keys: &[&str]) {
        let out = self
            .tmux()
            .args(["send-keys", "-t", "t"])
            .args(keys)
            .output()
            .unwrap();
        assert!(out.status.success(), "send-keys: {}", text(&out.stderr));
    }

    /// Text typed as it is.
    pub fn type_text(&self, literal: &str) {
        let out = self
            .tmux()
            .args(["send-keys", "-t", "t", "-l", literal])
            .output()
            .unwrap();
        assert!(out.status.success(), "send-keys: {}", text(&out.stderr));
    }

    /// A command line, then Enter.
    pub fn run(&self, line: &str) {
        self.type_text(line);
        self.keys(&["Enter"]);
    }

    pub fn screen(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-t", "t"])
            .output()
            .unwrap();
        text(&out.stdout)
    }

    pub fn display(&self, format: &str) -> String {
        let out = self
            .tmux()
            .args(["display-message", "-p", "-t", "t", format])
            .output()
            .unwrap();
        text(&out.stdout).trim().to_string()
    }

    /// Polls the pane until `ready` holds, up to `limit`; fails showing the pane.
    pub fn wait_for_within(
        &self,
        what: &str,
        limit: Duration,
        ready: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            if start.elapsed() > limit {
                panic!(
                    "waited {} s for {what}; the pane shows:\n{screen}",
                    limit.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        self.wait_for_within(what, LIMIT, ready)
    }

    pub fn wait_for_text(&self, needle: &str) -> String {
        self.wait_for(&format!("{needle:?}"), |s| s.contains(needle))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").output();
    }
}
