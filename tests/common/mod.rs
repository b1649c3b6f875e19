//! Shared set-up for integration tests: an emulator in-process (real HTTP on 127.0.0.1), a
//! temporary HOME with an AWS config pointing at it, and the real `portico` binary run with an
//! environment that cannot reach the user's own files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub mod awscli;
pub mod serving;
pub mod session;
pub mod tmux;

use idc_emulator::{Config, EmulatorHandle};

pub struct TestEnv {
    pub emu: EmulatorHandle,
    pub home: tempfile::TempDir,
}

impl TestEnv {
    /// An emulator with `config` and a config file with `[sso-session emu]` and profile `dev`
    /// (the first account's first role).
    pub fn new(config: Config) -> TestEnv {
        let emu = idc_emulator::start_blocking(config).expect("emulator starts");
        let home = tempfile::tempdir().unwrap();
        let env = TestEnv { emu, home };
        let mut config = format!(
            "[sso-session emu]\nsso_start_url = {}\nsso_region = {}\nsso_registration_scopes = sso:account:access\n",
            env.emu.start_url(),
            env.emu.region(),
        );
        if let Some(first) = env.emu.directory().accounts().first() {
            config.push_str(&format!(
                "\n[profile dev]\nsso_session = emu\nsso_account_id = {}\nsso_role_name = {}\nregion = eu-west-1\n",
                first.account_id, first.roles[0]
            ));
        }
        env.write_config(&config);
        env
    }

    pub fn write_config(&self, text: &str) {
        let dir = self.home.path().join(".aws");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config"), text).unwrap();
    }

    pub fn config_path(&self) -> PathBuf {
        self.home.path().join(".aws/config")
    }

    /// `~/.aws/sso/cache/{sha1("emu")}.json`.
    pub fn token_path(&self) -> PathBuf {
        self.home
            .path()
            .join(".aws/sso/cache/6551e797240051925b8a62615f4c8baaa4c1698c.json")
    }

    /// The token file as JSON, if there is one.
    pub fn token(&self) -> Option<serde_json::Value> {
        let bytes = std::fs::read(self.token_path()).ok()?;
        Some(serde_json::from_slice(&bytes).expect("token file is JSON"))
    }

    /// The real binary with HOME, caches and endpoints pointing at this test's world only.
    pub fn portico(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portico"));
        for var in [
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_ENDPOINT_URL",
            "BROWSER",
            "DISPLAY",
            "WAYLAND_DISPLAY",
            "SSH_CONNECTION",
            "SSH_TTY",
            "XDG_CACHE_HOME",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", self.home.path())
            .env("XDG_CACHE_HOME", self.home.path().join(".cache"))
            .env("AWS_CONFIG_FILE", self.config_path())
            .env("AWS_ENDPOINT_URL_SSO", self.emu.url())
            .env("AWS_ENDPOINT_URL_SSO_OIDC", self.emu.url())
            .stdin(std::process::Stdio::null());
        cmd
    }

    /// Starts `portico login --device-code` with its output captured; the caller approves,
    /// denies or expires the code and waits.
    pub fn spawn_device_login(&self) -> std::process::Child {
        self.portico()
            .args(["login", "--device-code"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Signs in with the device flow, approving through the control API.
    pub fn login(&self) {
        let child = self.spawn_device_login();
        let code = self.wait_for_user_code();
        self.emu.approve(&code).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_success(&out);
    }

    /// Waits (bounded) until the emulator has exactly one pending device code and returns it.
    pub fn wait_for_user_code(&self) -> String {
        wait_until(Duration::from_secs(20), || {
            let codes = self.emu.pending_user_codes();
            (codes.len() == 1).then(|| codes[0].clone())
        })
        .expect("a device code is pending")
    }

    pub fn stat(&self, key: &str) -> u64 {
        *self
            .emu
            .stats()
            .get(key)
            .unwrap_or_else(|| panic!("stat {key}"))
    }
}

impl TestEnv {
    /// An STS client for the emulator signing with keys portico handed out (access key,
    /// secret, session token), through portico's own HTTP stack: for GetCallerIdentity, which
    /// says whose keys they are (the emulator checks the signature with the secret it issued).
    pub fn sts_with(
        &self,
        access_key_id: &str,
        secret_access_key: &str,
        session_token: &str,
    ) -> aws_sdk_sts::Client {
        let credentials = aws_sdk_sts::config::Credentials::new(
            access_key_id,
            secret_access_key,
            Some(session_token.to_string()),
            None,
            "portico-tests",
        );
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new("us-east-1"))
            .endpoint_url(self.emu.url())
            .http_client(portico::http::sdk_client(&self.emu.url()))
            .credentials_provider(credentials)
            .build();
        aws_sdk_sts::Client::from_conf(config)
    }
}

/// Polls `f` every 20 ms until it returns `Some` or `limit` passes.
pub fn wait_until<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (bounded by `limit`) until the file at `path` holds `needle`, and returns its text.
/// A helper process that logs there (a stand-in browser) may still be writing after the
/// process a test waited for has exited: read its log through this, never at once.
pub fn wait_for_file_text(path: &Path, needle: &str, limit: Duration) -> String {
    wait_until(limit, || {
        std::fs::read_to_string(path)
            .ok()
            .filter(|t| t.contains(needle))
    })
    .unwrap_or_else(|| {
        panic!(
            "waited {limit:?} for {needle:?} in {}, which holds:\n{}",
            path.display(),
            std::fs::read_to_string(path).unwrap_or_default()
        )
    })
}

/// Whether a test tool can be used; a loud note when not (a failure under CI, where
/// tests/run.sh installs every tool: a test that skips there would pass without testing).
pub fn tool_missing(tool: &str, why: &str) -> bool {
    if std::env::var_os("CI").is_some() {
        panic!("{tool} is not installed ({why}); tests/run.sh installs it");
    }
    eprintln!(
        "\n*** SKIPPED: {tool} is not installed here ({why}); run tests/run.sh to install it ***\n"
    );
    true
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// `tests/support/NAME`.
pub fn support(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(name)
}

/// `idc-emulator browse`, the stand-in browser shipped with the emulator, as a `BROWSER` value
/// (portico appends the URL): it follows redirects and posts a page's auto-submitting form, to
/// loopback only. `IDC_BROWSE_LOG=FILE` makes it log one line per step there.
pub fn stand_in_browser() -> String {
    let emulator = Path::new(env!("CARGO_BIN_EXE_portico"))
        .parent()
        .unwrap()
        .join("idc-emulator");
    assert!(
        emulator.is_file(),
        "{} is missing: build it with `cargo build --workspace` (tests/run.sh does)",
        emulator.display()
    );
    let quoted = shlex::try_quote(emulator.to_str().unwrap()).unwrap();
    format!("{quoted} browse")
}

/// Runs `cmd` with stdout and stderr captured, killing it if it has not finished within
/// `limit`. `None` means it was killed; the elapsed time is returned either way for messages.
pub fn output_within(cmd: &mut Command, limit: Duration) -> (Option<Output>, Duration) {
    use std::io::Read;
    let start = Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("portico starts");
    let mut pipes = [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ];
    let readers: Vec<_> = pipes
        .iter_mut()
        .map(|pipe| {
            let mut pipe = pipe.take().unwrap();
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = pipe.read_to_end(&mut bytes);
                bytes
            })
        })
        .collect();
    let status = wait_until(limit, || child.try_wait().unwrap());
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let mut streams = readers.into_iter().map(|r| r.join().unwrap());
    let (stdout, stderr) = (streams.next().unwrap(), streams.next().unwrap());
    let elapsed = start.elapsed();
    let output = status.map(|status| Output {
        status,
        stdout,
        stderr,
    });
    (output, elapsed)
}

/// An `http://127.0.0.1:PORT` where nothing listens: the port was bound, then released, so a
/// connection is refused at once.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// A server that accepts connections and never answers (nor closes them): the network fault
/// only a timeout can end. Dropping it closes the listener and every held connection.
pub struct SilentServer {
    url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SilentServer {
    pub fn start() -> SilentServer {
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    held.push(conn);
                }
            }
        });
        SilentServer {
            url,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = std::net::TcpStream::connect(self.url.trim_start_matches("http://"));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Every regular file under `root` with its bytes, by path.
pub fn snapshot_files(root: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                dirs.push(path);
            } else if kind.is_file() {
                if let Ok(bytes) = std::fs::read(&path) {
                    files.insert(path, bytes);
                }
            }
        }
    }
    files
}
