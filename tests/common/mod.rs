//! Shared set-up for integration tests: an emulator in-process (real HTTP on 127.0.0.1), a
//! temporary HOME with an AWS config pointing at it, and the real `portico` binary run with an
//! environment that cannot reach the user's own files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

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
