//! Keyrings for tests: the real kernel keyring (read through portico's own `vault`), a private
//! D-Bus session bus with a real `gnome-keyring-daemon` as its Secret Service, and the secrets
//! hunt — every file under the given folders searched for every secret value a test saw.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use portico::vault::{self, ItemName, Storage};

/// The secret fields of the keyring item holding `file`'s secrets, as JSON (`None`: no item).
/// Unlinks the kernel-keyring items of the portico caches under `home` from the user's
/// keyring: the tests run as the machine's user, whose keyring outlives the test's HOME, so
/// without this every run would leave its (made-up) secrets there until the next reboot.
pub fn unlink_kernel_items(home: &Path) {
    let prefixes: Vec<String> = [".cache/portico", ".aws/sso", ".aws/cli", ".aws"]
        .iter()
        .map(|root| {
            let name = ItemName::for_file(&home.join(root).join("f/x.json")).description();
            name.trim_end_matches("f/x").to_string()
        })
        .collect();
    let Ok(list) = Command::new("keyctl").args(["rlist", "@u"]).output() else {
        return;
    };
    for id in String::from_utf8_lossy(&list.stdout).split_whitespace() {
        let Ok(described) = Command::new("keyctl").args(["rdescribe", id]).output() else {
            continue;
        };
        // `TYPE;UID;GID;PERM;DESCRIPTION`
        let described = String::from_utf8_lossy(&described.stdout);
        let description = described.trim_end().rsplit(';').next().unwrap_or_default();
        if prefixes.iter().any(|p| description.starts_with(p.as_str())) {
            let _ = Command::new("keyctl").args(["unlink", id, "@u"]).output();
        }
    }
}

pub fn item(storage: Storage, file: &Path) -> Option<serde_json::Value> {
    let bytes = vault::get(storage, &ItemName::for_file(file)).expect("the keyring answers")?;
    Some(serde_json::from_slice(&bytes).expect("an item is JSON"))
}

/// Every string value of `item` (its secrets).
pub fn values(item: &serde_json::Value) -> Vec<String> {
    item.as_object()
        .map(|o| {
            o.values()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Fails if any file under `roots` holds any of `secrets` (values compared, not key names).
/// The message names the file and which secret (by position), never the value.
pub fn hunt(roots: &[&Path], secrets: &[String]) {
    assert!(!secrets.is_empty(), "a hunt needs something to look for");
    for secret in secrets {
        assert!(
            secret.len() >= 8,
            "too short to hunt for: {} chars",
            secret.len()
        );
    }
    let mut found = Vec::new();
    let mut stack: Vec<PathBuf> = roots.iter().map(|p| p.to_path_buf()).collect();
    let mut files = 0;
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
            }
        } else if meta.is_file() {
            files += 1;
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            for (i, secret) in secrets.iter().enumerate() {
                if memchr::memmem::find(&bytes, secret.as_bytes()).is_some() {
                    found.push(format!("{} holds secret #{i}", path.display()));
                }
            }
        }
    }
    assert!(files > 0, "the hunt found no files at all under {roots:?}");
    assert!(found.is_empty(), "secrets in files:\n{}", found.join("\n"));
}

/// A private D-Bus session bus (no service activation: only what a test starts is on it).
pub struct Bus {
    pub dir: tempfile::TempDir,
    pub address: String,
    daemon: Child,
    keyring: Option<Child>,
}

impl Bus {
    /// A bus with nothing on it; `None` (after a loud note) where dbus-daemon is missing.
    pub fn empty() -> Option<Bus> {
        if !Path::new("/usr/bin/dbus-daemon").exists() {
            crate::common::tool_missing(
                "dbus-daemon",
                "the Secret Service tests run a private bus",
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                dir.path().display()
            ),
        )
        .unwrap();
        let mut daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon starts");
        let mut line = String::new();
        BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_string();
        assert!(address.starts_with("unix:"), "dbus-daemon said {address:?}");
        Some(Bus {
            dir,
            address,
            daemon,
            keyring: None,
        })
    }

    /// A bus with gnome-keyring-daemon on it, its login collection created and unlocked.
    pub fn with_gnome_keyring() -> Option<Bus> {
        if !Path::new("/usr/bin/gnome-keyring-daemon").exists() {
            crate::common::tool_missing("gnome-keyring-daemon", "the Secret Service tests use it");
            return None;
        }
        let mut bus = Bus::empty()?;
        let data = bus.dir.path().join("data");
        let runtime = bus.dir.path().join("run");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::create_dir_all(&runtime).unwrap();
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .env("HOME", bus.dir.path())
            .env("XDG_DATA_HOME", &data)
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon starts");
        // The login keyring's password, then end of input.
        keyring
            .stdin
            .take()
            .unwrap()
            .write_all(b"portico-test")
            .unwrap();
        bus.keyring = Some(keyring);
        let on_bus = crate::common::wait_until(Duration::from_secs(20), || {
            bus.has_owner("org.freedesktop.secrets").then_some(())
        });
        assert!(
            on_bus.is_some(),
            "gnome-keyring-daemon never came on the bus"
        );
        Some(bus)
    }

    fn has_owner(&self, name: &str) -> bool {
        Command::new("dbus-send")
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/",
                "org.freedesktop.DBus.NameHasOwner",
                &format!("string:{name}"),
            ])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
    }

    /// Locks the login collection (as a screen lock does), through the service's own Lock.
    pub fn lock(&self) {
        let out = Command::new("dbus-send")
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/collection/login",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The environment a process needs to use this bus (and only it).
    pub fn apply(&self, cmd: &mut Command) {
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &self.address);
    }

    /// Runs `f` with this bus as the test process's own session bus (for `vault` calls made
    /// by the test itself). Tests of one binary run in threads; the variable is process-wide,
    /// so the tests that use it hold [`BUS_ENV`].
    pub fn as_process_bus<T>(&self, f: impl FnOnce() -> T) -> T {
        let _held = BUS_ENV.lock().unwrap_or_else(|e| e.into_inner());
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &self.address);
        let out = f();
        std::env::remove_var("DBUS_SESSION_BUS_ADDRESS");
        out
    }
}

static BUS_ENV: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Drop for Bus {
    fn drop(&mut self) {
        if let Some(keyring) = self.keyring.as_mut() {
            let _ = keyring.kill();
            let _ = keyring.wait();
        }
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}
