//! The demo world behind `portico demo`: the newcomer's first run, on a machine with neither
//! Identity Center nor Entra. It starts `idc-emulator` (installed beside portico) with generated
//! accounts, SAML roles and automatic approval, makes a throw-away HOME with its own config and
//! caches, and runs the portal (or a command) as a child process whose environment points only
//! at that world. Two kinds of user see their own flow there:
//!
//! - an Identity Center user: the `[sso-session demo]`, signed in beforehand (PKCE, through the
//!   same stand-in browser; the emulator approves at once), with two profiles; the portal lists
//!   the accounts itself, paced as at a company;
//! - a user of Entra's "AWS Single-Account Access" application: the `[saml-session demo-saml]`,
//!   whose `idp_url` is the emulator's SAML IdP and whose `portico_browser` is the emulator's
//!   stand-in browser (`idc-emulator browse {url}`), so a SAML sign-in makes its browser trip
//!   without a browser. With `saml_only` the world has no sso-session at all.
//!
//! Nothing under the user's real `~/.aws` or cache is read or written. On exit — also after an
//! error, Ctrl-C or SIGTERM — the emulator is stopped and the directory deleted.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Deserialize;

use crate::awsconfig::edit::{EditableFile, SectionId};
use crate::model::Account;
use crate::output::child;

/// The sso-session the demo config defines.
pub const SSO_SESSION: &str = "demo";

/// The saml-session the demo config defines.
pub const SAML_SESSION: &str = "demo-saml";

/// Longest wait for the emulator's ready line.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Variables that would point the demo at the user's own setup (besides other credentials and
/// profiles, which [`child::scrub_credentials`] removes). `PORTICO_BROWSER` would win over the
/// saml-session's stand-in browser. `AWS_DEFAULT_REGION` is set to the emulator's instead.
const CLEARED: [&str; 3] = ["AWS_ENDPOINT_URL", "AWS_REGION", "PORTICO_BROWSER"];

/// What the demo shows.
#[derive(Debug, Clone)]
pub struct Options {
    /// Accounts the emulator assigns the Identity Center user.
    pub accounts: u32,
    /// Permission sets in each account.
    pub roles_per_account: u32,
    /// IAM roles the SAML assertion lists (spread over the first three accounts).
    pub saml_roles: u32,
    /// No sso-session: the world of a user whose company uses Entra's SAML application only.
    pub saml_only: bool,
    /// Run this instead of the portal.
    pub command: Vec<String>,
}

/// How the demo ended.
#[derive(Debug)]
pub enum Ended {
    /// The portal or command ran and exited so.
    Exited(ExitStatus),
    /// Ctrl-C, SIGTERM or SIGHUP came before the portal or command started.
    Interrupted,
}

/// Sets up the world, runs the portal or `options.command` in it, and takes the world down.
pub fn run(options: &Options) -> anyhow::Result<Ended> {
    if options.command.is_empty() {
        // Fail before starting anything: the portal needs a terminal.
        crate::tui::check_terminal()?;
    }
    let me = std::env::current_exe().context("cannot find the running portico executable")?;
    let emulator = find_emulator(&me)?;
    let interrupted = watch_signals();
    let world = World::create(&me, &emulator, options)?;
    eprintln!("{}", world.banner(options));
    let prepared = world.prepare(options).and_then(|()| {
        let mut command = match options.command.split_first() {
            None => world.command(&me),
            Some((program, rest)) => {
                let mut c = world.command(Path::new(program));
                c.args(rest);
                c
            }
        };
        command
            .spawn()
            .with_context(|| format!("cannot run {}", command.get_program().to_string_lossy()))
    });
    let child = match prepared {
        Ok(child) => child,
        Err(_) if interrupted.load(Ordering::SeqCst) => return Ok(Ended::Interrupted),
        Err(e) => return Err(e),
    };
    let status = wait(child, &interrupted)?;
    // Stop the emulator and delete the world before saying how it ended.
    drop(world);
    Ok(Ended::Exited(status))
}

/// `idc-emulator` beside the running portico (install.sh puts both in PREFIX/bin; a cargo
/// build both in target/debug), else on PATH.
fn find_emulator(me: &Path) -> anyhow::Result<PathBuf> {
    let name = format!("idc-emulator{}", std::env::consts::EXE_SUFFIX);
    let beside = me.parent().map(|dir| dir.join(&name));
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|dir| dir.join(&name))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    beside
        .into_iter()
        .chain(on_path)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "cannot find idc-emulator beside {} or on PATH; run ./install.sh in the portico source tree (it installs portico and idc-emulator together)",
                me.display()
            )
        })
}

/// The emulator's first line on stdout.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Ready {
    url: String,
    start_url: String,
    region: String,
    saml_idp_url: String,
}

/// The throw-away world: a running emulator and a directory holding HOME. Dropping it stops
/// the one and deletes the other.
struct World {
    emulator: Child,
    url: String,
    /// The emulator's region: the demo shell's default, so that an SDK or the AWS CLI given a
    /// synced profile without `region` (a SAML role's) has one.
    region: String,
    home: PathBuf,
    portico_dir: Option<PathBuf>,
    /// The stand-in browser as a portico browser template: `idc-emulator browse {url}`.
    browser: String,
    dir: tempfile::TempDir,
}

impl World {
    fn create(me: &Path, emulator: &Path, options: &Options) -> anyhow::Result<World> {
        let dir = tempfile::Builder::new()
            .prefix("portico-demo-")
            .tempdir()
            .context("cannot create the demo's temporary directory")?;
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".aws"))
            .with_context(|| format!("creating {}", home.display()))?;
        let log_path = dir.path().join("emulator.log");
        // 0600 like every file portico makes (the directory is private too).
        let log =
            private_file(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
        let mut child = Command::new(emulator)
            .args(["--accounts", &options.accounts.to_string()])
            .args([
                "--roles-per-account",
                &options.roles_per_account.to_string(),
            ])
            .args(["--saml-roles", &options.saml_roles.to_string()])
            .arg("--auto-approve")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", emulator.display()))?;
        let ready = match read_ready(&mut child) {
            Ok(ready) => ready,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                let last = log.lines().last().unwrap_or("no output");
                return Err(e.context(format!(
                    "{} did not start ({})",
                    emulator.display(),
                    crate::sanitize::for_terminal(last.trim())
                )));
            }
        };
        let world = World {
            emulator: child,
            url: ready.url.clone(),
            region: ready.region.clone(),
            home,
            portico_dir: me.parent().map(Path::to_path_buf),
            browser: browser_template(emulator)?,
            dir,
        };
        let config = demo_config(&ready, &world.browser, options.saml_only);
        crate::cache::files::write_private(&world.config_path(), config.as_bytes())
            .with_context(|| format!("writing {}", world.config_path().display()))?;
        Ok(world)
    }

    /// What the demo tells the user before the portal opens.
    fn banner(&self, options: &Options) -> String {
        let who = if options.saml_only {
            format!(
                "portico demo: an Entra-like SAML IdP and STS at {} (the emulator) give you {} IAM roles through\n\
                 portico demo: [saml-session {SAML_SESSION}]; its browser is idc-emulator browse, a stand-in that signs in at once.",
                self.url, options.saml_roles
            )
        } else {
            format!(
                "portico demo: an Identity Center emulator at {} assigns you {} accounts × {} roles ([sso-session {SSO_SESSION}]),\n\
                 portico demo: and its Entra-like SAML IdP {} IAM roles ([saml-session {SAML_SESSION}], signed in through\n\
                 portico demo: idc-emulator browse, a stand-in browser); v in the portal switches between them.",
                self.url, options.accounts, options.roles_per_account, options.saml_roles
            )
        };
        format!(
            "{who}\nportico demo: its world lives in {} and is deleted when you leave.",
            self.dir.path().display()
        )
    }

    /// Signs in to the sso-session and writes its profiles (not for a SAML-only world: the
    /// SAML session signs in when it is first used, through the stand-in browser).
    fn prepare(&self, options: &Options) -> anyhow::Result<()> {
        if options.saml_only {
            return Ok(());
        }
        self.sign_in()?;
        let profiles = self.add_profiles()?;
        if !profiles.is_empty() {
            eprintln!(
                "portico demo: signed in; profiles {} are in the demo config.",
                profiles.join(" and ")
            );
        }
        Ok(())
    }

    fn config_path(&self) -> PathBuf {
        self.home.join(".aws").join("config")
    }

    /// `program` with the environment of the demo world only.
    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        child::scrub_credentials(&mut command);
        for var in CLEARED {
            command.env_remove(var);
        }
        let aws = self.home.join(".aws");
        command
            .env("HOME", &self.home)
            .env("XDG_CACHE_HOME", self.home.join(".cache"))
            .env("AWS_CONFIG_FILE", aws.join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", aws.join("credentials"))
            .env("AWS_ENDPOINT_URL_SSO", &self.url)
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &self.url)
            .env("AWS_ENDPOINT_URL_STS", &self.url)
            .env("AWS_DEFAULT_REGION", &self.region)
            .env(
                crate::console::FEDERATION_ENDPOINT_ENV,
                format!("{}/federation", self.url),
            );
        // `portico` in a demo shell is this portico.
        if let Some(dir) = &self.portico_dir {
            let rest = std::env::var_os("PATH").unwrap_or_default();
            let paths = std::iter::once(dir.clone()).chain(std::env::split_paths(&rest));
            if let Ok(path) = std::env::join_paths(paths) {
                command.env("PATH", path);
            }
        }
        command
    }

    fn portico(&self) -> Command {
        let me = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("portico"));
        self.command(&me)
    }

    /// Signs in through the stand-in browser: the emulator's /authorize redirects at once to
    /// portico's loopback callback, which `idc-emulator browse` follows (no device-code poll
    /// interval to wait out).
    fn sign_in(&self) -> anyhow::Result<()> {
        let out = self
            .portico()
            .args(["login", "--sso-session", SSO_SESSION, "--browser"])
            .arg(&self.browser)
            .stdin(Stdio::null())
            .output()
            .context("cannot run portico login")?;
        if !out.status.success() {
            anyhow::bail!(
                "signing in to the emulator failed: {}",
                crate::sanitize::for_terminal(String::from_utf8_lossy(&out.stderr).trim())
            );
        }
        Ok(())
    }

    /// The accounts the emulator assigns the demo user, from its control route
    /// `GET /_emulator/directory` — one call, where listing them through the portal API is
    /// paced at the service's rate (over a second for 40 accounts). The portal lists them
    /// itself, as it would at a company, while the user watches.
    fn assigned_accounts(&self) -> anyhow::Result<Vec<Account>> {
        // Through the one HTTP stack (loopback is never proxied), its body bounded.
        const LIMIT: usize = 16 << 20;
        let url = format!("{}/_emulator/directory", self.url);
        let body = crate::engine::runtime()?
            .block_on(crate::http::get(&url, START_TIMEOUT, LIMIT))
            .map_err(anyhow::Error::msg)
            .and_then(|answer| {
                anyhow::ensure!(
                    (200..300).contains(&answer.status),
                    "the emulator answered {}",
                    answer.status
                );
                Ok(answer.body)
            });
        let body = body.with_context(|| format!("reading the emulator's directory at {url}"))?;
        #[derive(Deserialize)]
        struct Directory {
            accounts: Vec<Account>,
        }
        let directory: Directory =
            serde_json::from_slice(&body).context("reading the emulator's directory")?;
        Ok(directory.accounts)
    }

    /// Writes two profiles of the sso-session, so that `portico credentials --profile …` and
    /// the AWS CLI have something to try. Returns their names.
    fn add_profiles(&self) -> anyhow::Result<Vec<String>> {
        let accounts = self.assigned_accounts()?;
        let picks: Vec<(&Account, &String)> = accounts
            .iter()
            .filter_map(|a| a.roles.first().map(|r| (a, r)))
            .take(2)
            .collect();
        let mut file = EditableFile::open(&self.config_path())?;
        let mut names = Vec::new();
        for (account, role) in picks {
            let name = crate::awsconfig::names::default_profile_name(
                &account.account_name,
                &account.account_id,
                role,
            );
            file.doc.upsert(
                &SectionId::profile(&name),
                &[
                    ("sso_session", SSO_SESSION),
                    ("sso_account_id", account.account_id.as_str()),
                    ("sso_role_name", role.as_str()),
                    ("region", "eu-west-1"),
                ],
                &[],
            )?;
            names.push(name);
        }
        file.save(&self.home.join(".cache").join("portico").join("locks"))?;
        Ok(names)
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = self.emulator.kill();
        let _ = self.emulator.wait();
    }
}

/// `idc-emulator browse {url}`, the emulator's path quoted as a shell would need it.
fn browser_template(emulator: &Path) -> anyhow::Result<String> {
    let program = emulator.to_str().context(
        "the path of idc-emulator is not UTF-8, so it cannot be written as the demo's browser",
    )?;
    let program = shlex::try_quote(program).context("the path of idc-emulator holds a NUL byte")?;
    Ok(format!("{program} browse {{url}}"))
}

/// The demo's `~/.aws/config`: the sso-session (unless `saml_only`) and the saml-session,
/// whose browser is the emulator's stand-in, `browser`.
fn demo_config(ready: &Ready, browser: &str, saml_only: bool) -> String {
    let mut config = format!(
        "# portico demo: a throw-away config for the emulator at {}\n",
        ready.url
    );
    if !saml_only {
        config.push_str(&format!(
            "[sso-session {SSO_SESSION}]\n\
             sso_start_url = {}\n\
             sso_region = {}\n\
             sso_registration_scopes = sso:account:access\n\n",
            ready.start_url, ready.region
        ));
    }
    config.push_str(&format!(
        "# Entra's SAML application, played by the emulator; idc-emulator browse stands in for\n\
         # the browser that carries the sign-in to portico's loopback listener.\n\
         [saml-session {SAML_SESSION}]\n\
         idp_url = {}\n\
         sts_region = {}\n\
         portico_browser = {browser}\n",
        ready.saml_idp_url, ready.region
    ));
    config
}

/// Reads the emulator's ready line, giving up after [`START_TIMEOUT`].
fn read_ready(child: &mut Child) -> anyhow::Result<Ready> {
    let stdout = child.stdout.take().context("the emulator has no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let read = reader.read_line(&mut line).map(|_| line);
        let _ = tx.send(read);
        // Keep reading so that the emulator never writes into a closed pipe.
        let _ = std::io::copy(&mut reader.take(u64::MAX), &mut std::io::sink());
    });
    let line = rx
        .recv_timeout(START_TIMEOUT)
        .map_err(|_| anyhow::anyhow!("no ready line within {} s", START_TIMEOUT.as_secs()))?
        .context("reading the emulator's ready line")?;
    serde_json::from_str(line.trim()).with_context(|| {
        format!(
            "unexpected first line from the emulator: {}",
            crate::sanitize::quoted(line.trim())
        )
    })
}

/// Waits for the demo's child. On SIGINT, SIGTERM or SIGHUP to this process the child is
/// asked to quit (the portal restores the terminal on SIGTERM) and, failing that, killed.
fn wait(mut child: Child, interrupted: &AtomicBool) -> anyhow::Result<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if interrupted.load(Ordering::SeqCst) {
            terminate(&mut child);
            return Ok(child.wait()?);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn terminate(child: &mut Child) {
    #[cfg(unix)]
    {
        let asked = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + Duration::from_secs(3);
        while asked && Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let _ = child.kill();
}

/// Notes SIGINT, SIGTERM and SIGHUP instead of dying of them, so that the world is always
/// cleaned up.
fn watch_signals() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let set = flag.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let Ok(runtime) = crate::engine::runtime() else {
                let _ = ready_tx.send(());
                return;
            };
            runtime.block_on(async move {
                let signals = (
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::terminate()),
                    signal(SignalKind::hangup()),
                );
                let _ = ready_tx.send(());
                let (Ok(mut int), Ok(mut term), Ok(mut hup)) = signals else {
                    return;
                };
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                    _ = hup.recv() => {}
                }
                set.store(true, Ordering::SeqCst);
            });
        });
        // The handlers are in place before anything is started that needs cleaning up.
        let _ = ready_rx.recv();
    }
    flag
}

/// Creates (or truncates) `path` for writing, mode 0600 whatever the umask.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::awsconfig::ConfigFile;
    use crate::settings::{Context, Environment};

    fn ready() -> Ready {
        Ready {
            url: "http://127.0.0.1:4321".into(),
            start_url: "https://d-1234567890.awsapps.com/start".into(),
            region: "eu-west-1".into(),
            saml_idp_url: "http://127.0.0.1:4321/tenant/saml2".into(),
        }
    }

    fn context(text: &str) -> Context {
        Context {
            env: Environment::default(),
            config: ConfigFile::parse(Path::new("/demo/home/.aws/config"), text).unwrap(),
        }
    }

    #[test]
    fn the_config_holds_both_sessions_and_the_stand_in_browser() {
        let browser = browser_template(Path::new("/opt/my tools/idc-emulator")).unwrap();
        let text = demo_config(&ready(), &browser, false);
        let ctx = context(&text);
        assert_eq!(ctx.config.sso_session_names(), [SSO_SESSION], "{text}");
        let saml = ctx.saml_session(SAML_SESSION).unwrap();
        assert_eq!(saml.idp_url, "http://127.0.0.1:4321/tenant/saml2");
        // The browser template splits back into the emulator's path, `browse` and the URL.
        let browser = ctx.saml_browser_setting(None, SAML_SESSION);
        let value = browser.value.unwrap();
        assert_eq!(
            shlex::split(&value).unwrap(),
            ["/opt/my tools/idc-emulator", "browse", "{url}"]
        );
    }

    #[test]
    fn a_saml_only_config_has_no_sso_session() {
        let text = demo_config(&ready(), "idc-emulator browse {url}", true);
        let ctx = context(&text);
        assert!(ctx.config.sso_session_names().is_empty(), "{text}");
        assert_eq!(ctx.saml_session_names(), [SAML_SESSION]);
    }
}
