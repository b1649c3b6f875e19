//! `portico_storage` (issue 22) end to end: the real binary against the emulator, with its
//! secrets in the real kernel keyring (read back here through portico's own `vault`) or in a
//! real Secret Service (gnome-keyring-daemon on a private D-Bus bus). After every command the
//! secrets hunt searches every file under HOME and the temp directory for every token, client
//! secret, secret key, session token and assertion the test saw.

mod common;
#[path = "common/keyring.rs"]
mod keyrings;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::serving::Serving;
use common::{assert_success, support, text, TestEnv};
use idc_emulator::Config;
use keyrings::{hunt, item, values, Bus};
use portico::vault::Storage;

/// sha1("emu"): the token's file name, in the AWS CLI's folder or in portico's `tokens`.
const TOKEN_STEM: &str = "6551e797240051925b8a62615f4c8baaa4c1698c";

struct World {
    env: TestEnv,
    bus: Option<Bus>,
}

impl Drop for World {
    fn drop(&mut self) {
        keyrings::unlink_kernel_items(self.env.home.path());
    }
}

impl World {
    /// The usual test world with `portico_storage = STORAGE` in its sso-session.
    fn new(storage: &str, bus: Option<Bus>) -> World {
        let env = TestEnv::new(Config::default());
        let config = std::fs::read_to_string(env.config_path()).unwrap();
        env.write_config(&config.replacen(
            "[sso-session emu]\n",
            &format!("[sso-session emu]\nportico_storage = {storage}\n"),
            1,
        ));
        std::fs::create_dir_all(env.home.path().join("tmp")).unwrap();
        World { env, bus }
    }

    fn home(&self) -> &Path {
        self.env.home.path()
    }

    fn tmp(&self) -> PathBuf {
        self.home().join("tmp")
    }

    /// portico with TMPDIR inside the test's HOME (so the hunt covers it) and this world's bus.
    fn portico(&self) -> Command {
        let mut cmd = self.env.portico();
        cmd.env("TMPDIR", self.tmp())
            .env("PORTICO_KEYRING_TIMEOUT", "20")
            .env_remove("PORTICO_STORAGE");
        match &self.bus {
            Some(bus) => bus.apply(&mut cmd),
            // No bus: a Secret Service call must fail, never find the developer's own.
            None => {
                cmd.env(
                    "DBUS_SESSION_BUS_ADDRESS",
                    format!("unix:path={}", self.home().join("no-bus").display()),
                );
            }
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        let (out, took) = common::output_within(self.portico().args(args), Duration::from_secs(60));
        out.unwrap_or_else(|| panic!("portico {args:?} did not finish in {took:?}"))
    }

    fn device_login(&self) -> Output {
        self.device_login_with(&[])
    }

    fn device_login_with(&self, more: &[&str]) -> Output {
        let child = self
            .portico()
            .args(["login", "--device-code"])
            .args(more)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let code = self.env.wait_for_user_code();
        self.env.emu.approve(&code).unwrap();
        child.wait_with_output().unwrap()
    }

    /// The token's facts file in portico's cache (a keyring session's).
    fn facts(&self) -> PathBuf {
        self.home()
            .join(".cache/portico/tokens")
            .join(format!("{TOKEN_STEM}.json"))
    }

    /// The keyring item of a file, read with this world's bus.
    fn item(&self, storage: Storage, file: &Path) -> Option<serde_json::Value> {
        match &self.bus {
            Some(bus) => bus.as_process_bus(|| item(storage, file)),
            None => item(storage, file),
        }
    }

    fn json_files(&self, folder: &str) -> Vec<PathBuf> {
        std::fs::read_dir(self.home().join(".cache/portico").join(folder))
            .map(|d| {
                d.map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn hunt(&self, secrets: &[String]) {
        hunt(&[self.home(), &self.tmp()], secrets);
    }
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

/// The secret values of a credential_process answer.
fn key_secrets(out: &Output) -> Vec<String> {
    let keys = json(out);
    vec![
        keys["SecretAccessKey"].as_str().unwrap().to_string(),
        keys["SessionToken"].as_str().unwrap().to_string(),
    ]
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Login (device code), credentials, refresh, status, doctor and logout of a session whose
/// storage is `storage`: the token and keys are in the keyring, their files hold no secret,
/// nothing is written under ~/.aws/sso/cache, and logout deletes the items.
fn the_whole_life_of_a_session(world: &World, storage: Storage) {
    let out = world.device_login();
    assert_success(&out);
    assert!(
        !world.env.token_path().exists(),
        "nothing under ~/.aws/sso/cache"
    );
    let sso_cache = world.home().join(".aws/sso/cache");
    assert!(
        std::fs::read_dir(&sso_cache).map_or(true, |mut d| d.next().is_none()),
        "~/.aws/sso/cache stays empty"
    );
    let facts = read_json(&world.facts());
    for secret in ["accessToken", "refreshToken", "clientSecret"] {
        assert!(facts.get(secret).is_none(), "{secret} in the facts file");
    }
    assert_eq!(facts["porticoStorage"], storage.as_str());
    assert!(facts["expiresAt"].is_string() && facts["clientId"].is_string());
    assert_eq!(mode(&world.facts()), 0o600);
    let token = world
        .item(storage, &world.facts())
        .expect("the token's item is in the keyring");
    for secret in ["accessToken", "refreshToken", "clientSecret"] {
        assert!(
            token[secret].is_string(),
            "{secret} not in the item: {token:?}"
        );
    }
    let mut seen = values(&token);

    let out = world.run(&["credentials", "--profile", "dev"]);
    assert_success(&out);
    seen.extend(key_secrets(&out));
    let cached = world.json_files("credentials");
    assert_eq!(cached.len(), 1, "{cached:?}");
    let keys = world
        .item(storage, &cached[0])
        .expect("the keys' item is in the keyring");
    assert_eq!(
        keys["credentials.secretAccessKey"],
        json(&out)["SecretAccessKey"]
    );
    // The warm path: the same keys, from the keyring, no second call.
    let again = world.run(&["credentials", "--profile", "dev"]);
    assert_success(&again);
    assert_eq!(json(&again), json(&out));
    assert_eq!(world.env.stat("GetRoleCredentials"), 1);

    // A token inside the refresh window is refreshed, and the new one goes to the keyring.
    let mut facts = read_json(&world.facts());
    let soon = time::OffsetDateTime::now_utc() + time::Duration::minutes(5);
    facts["expiresAt"] = portico::cache::token::format_time(soon).into();
    std::fs::write(world.facts(), serde_json::to_vec(&facts).unwrap()).unwrap();
    let account = world.env.emu.directory().accounts()[0].clone();
    let other_role = account.roles.get(1).unwrap_or(&account.roles[0]).clone();
    let out = world.run(&[
        "credentials",
        "--account",
        &account.account_id,
        "--role",
        &other_role,
        "--sso-session",
        "emu",
    ]);
    assert_success(&out);
    assert_eq!(world.env.stat("CreateToken:refresh_token"), 1);
    seen.extend(key_secrets(&out));
    let refreshed = world.item(storage, &world.facts()).unwrap();
    assert_ne!(refreshed["accessToken"], token["accessToken"]);
    seen.extend(values(&refreshed));

    // Nothing read from the keyring reaches stderr, even at the highest verbosity.
    let loud = world.run(&["credentials", "--profile", "dev", "-vvv"]);
    assert_success(&loud);
    let said = text(&loud.stderr);
    for (i, secret) in seen.iter().enumerate() {
        assert!(
            !said.contains(secret.as_str()),
            "secret #{i} in -vvv stderr"
        );
    }

    // status reads the facts; doctor checks the backend and counts the items.
    assert_success(&world.run(&["status"]));
    let doctor = world.run(&["doctor", "--sso-session", "emu"]);
    let said = text(&doctor.stderr) + &text(&doctor.stdout);
    assert!(
        said.contains(&format!("{}:", storage.as_str())) && said.contains("unlocked"),
        "{said}"
    );
    world.hunt(&seen);

    // login --force replaces the items: the old sign-in and its cached keys go, a new token
    // is kept.
    let out = world.device_login_with(&["--force"]);
    assert_success(&out);
    let replaced = world.item(storage, &world.facts()).unwrap();
    assert_ne!(replaced["accessToken"], refreshed["accessToken"]);
    assert!(
        world.item(storage, &cached[0]).is_none(),
        "old keys' item deleted"
    );
    seen.extend(values(&replaced));
    world.hunt(&seen);

    let out = world.run(&["logout"]);
    assert_success(&out);
    assert!(!world.facts().exists());
    assert!(
        world.item(storage, &world.facts()).is_none(),
        "token item deleted"
    );
    assert!(
        world.item(storage, &cached[0]).is_none(),
        "keys item deleted"
    );
    assert!(world.json_files("credentials").is_empty());
    world.hunt(&seen);
}

#[test]
fn kernel_keyring_login_credentials_refresh_logout_keep_every_secret_out_of_files() {
    let world = World::new("kernel-keyring", None);
    the_whole_life_of_a_session(&world, Storage::KernelKeyring);
}

#[test]
fn secret_service_login_credentials_refresh_logout_keep_every_secret_out_of_files() {
    let Some(bus) = Bus::with_gnome_keyring() else {
        return;
    };
    let world = World::new("keyring", Some(bus));
    the_whole_life_of_a_session(&world, Storage::Keyring);
}

/// PKCE through the browser, into the kernel keyring.
#[test]
fn pkce_login_puts_the_token_in_the_kernel_keyring() {
    let world = World::new("kernel-keyring", None);
    world.env.emu.set_auto_approve(true);
    let log = world.home().join("browser.log");
    let out = world
        .portico()
        .args(["login"])
        .env("BROWSER", support("fake-browser.py"))
        .env("FAKE_BROWSER_LOG", &log)
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(world.env.stat("CreateToken:authorization_code"), 1);
    assert!(!world.env.token_path().exists());
    let token = world.item(Storage::KernelKeyring, &world.facts()).unwrap();
    world.hunt(&values(&token));
    assert_success(&world.run(&["logout"]));
}

/// `file` → kernel keyring moves the token, the client registration and the cached keys into
/// the keyring and deletes the AWS CLI's files; back to `file` writes the file again and deletes the items. The keys are
/// moved, not fetched again, and the token is not refreshed.
#[test]
fn switching_storage_moves_the_token_and_keys_both_ways() {
    let world = World::new("file", None);
    assert_success(&world.device_login());
    let before = world
        .env
        .token()
        .expect("a file session writes the AWS CLI's file");
    let access = before["accessToken"].as_str().unwrap().to_string();
    let keys = world.run(&["credentials", "--profile", "dev"]);
    assert_success(&keys);

    let out = world
        .portico()
        .env("PORTICO_STORAGE", "kernel-keyring")
        .args(["credentials", "--profile", "dev"])
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(
        json(&out),
        json(&keys),
        "the cached keys moved, not fetched again"
    );
    assert_eq!(world.env.stat("GetRoleCredentials"), 1);
    assert!(!world.env.token_path().exists(), "the file was deleted");
    let moved = world.item(Storage::KernelKeyring, &world.facts()).unwrap();
    assert_eq!(moved["accessToken"], access.as_str());
    let cached = world.json_files("credentials");
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert!(std::fs::read_to_string(&cached[0])
        .unwrap()
        .contains("porticoStorage"));
    assert!(world.item(Storage::KernelKeyring, &cached[0]).is_some());
    let mut seen = values(&moved);
    seen.extend(key_secrets(&out));
    // The client registration moved with the token: its secret is in no file either.
    assert!(
        seen.iter()
            .any(|s| s == moved["clientSecret"].as_str().unwrap()),
        "the hunt looks for the client secret"
    );
    world.hunt(&seen);
    assert_eq!(
        world.env.stat("CreateToken:refresh_token"),
        0,
        "moved, not refreshed"
    );

    let out = world.run(&["credentials", "--profile", "dev"]);
    assert_success(&out);
    assert_eq!(json(&out), json(&keys), "the same keys, moved back");
    assert_eq!(world.env.stat("GetRoleCredentials"), 1);
    let back = world.env.token().expect("back in the AWS CLI's file");
    assert_eq!(back["accessToken"], access.as_str());
    assert!(!world.facts().exists());
    assert!(world.item(Storage::KernelKeyring, &world.facts()).is_none());
    assert!(
        world.item(Storage::KernelKeyring, &cached[0]).is_none(),
        "the keys' item is gone"
    );
    assert!(!std::fs::read_to_string(&cached[0])
        .unwrap()
        .contains("porticoStorage"));
}

/// A saml-session in the kernel keyring: the kept assertion's SAMLResponse and the keys are
/// in the keyring, the files keep the rest.
#[test]
fn a_saml_sign_in_keeps_its_assertion_in_the_kernel_keyring() {
    let world = World::new("file", None);
    let config = std::fs::read_to_string(world.env.config_path()).unwrap();
    world.env.write_config(&format!(
        "{config}\n[saml-session corp]\nidp_url = {}\nportico_storage = kernel-keyring\n",
        world.env.emu.saml_idp_url()
    ));
    world.env.emu.set_auto_approve(true);
    let saml = |args: &[&str]| {
        let mut cmd = world.portico();
        cmd.env("BROWSER", common::stand_in_browser())
            .env("AWS_ENDPOINT_URL_STS", world.env.emu.url())
            .args(args);
        let (out, took) = common::output_within(&mut cmd, Duration::from_secs(60));
        out.unwrap_or_else(|| panic!("portico {args:?} did not finish in {took:?}"))
    };
    assert_success(&saml(&["login", "--saml-session", "corp"]));
    let kept = world.json_files("saml");
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(read_json(&kept[0]).get("samlResponse").is_none());
    let assertion = world.item(Storage::KernelKeyring, &kept[0]).unwrap();
    let mut seen = values(&assertion);
    assert!(seen[0].len() > 100, "the SAMLResponse is in the item");
    let role = world.env.emu.directory().saml_roles()[0].role_arn.clone();
    let out = saml(&["credentials", "--saml-session", "corp", "--role-arn", &role]);
    assert_success(&out);
    seen.extend(key_secrets(&out));
    assert_eq!(world.env.stat("SamlSignIn"), 1, "the kept assertion served");
    world.hunt(&seen);
}

/// `portico serve` hands out keys of a kernel-keyring session; its token stays out of files.
#[test]
fn serve_hands_out_keys_of_a_kernel_keyring_session() {
    let world = World::new("kernel-keyring", None);
    assert_success(&world.device_login());
    let mut cmd = world.portico();
    cmd.args(["serve", "--profile", "dev"]);
    let server = Serving::start(cmd);
    let server_token = server.var("AWS_CONTAINER_AUTHORIZATION_TOKEN").to_string();
    let reply = server.get();
    drop(server);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let body: serde_json::Value =
        serde_json::from_str(reply.split_once("\r\n\r\n").unwrap().1).unwrap();
    let mut seen = vec![
        body["SecretAccessKey"].as_str().unwrap().to_string(),
        body["Token"].as_str().unwrap().to_string(),
        server_token,
    ];
    seen.extend(values(
        &world.item(Storage::KernelKeyring, &world.facts()).unwrap(),
    ));
    world.hunt(&seen);
    assert_success(&world.run(&["logout"]));
}

/// What a keyring failure must look like: exit 9, nothing on stdout, one line naming the
/// backend, the cause and the fix, and no secret written to a file instead.
fn assert_keyring_failure(world: &World, out: &Output, cause: &str) {
    assert_eq!(out.status.code(), Some(9), "stderr: {}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "stdout: {}", text(&out.stdout));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("Secret Service keyring"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains(cause) && lines[0].contains("portico_storage = file"),
        "{stderr}"
    );
    assert!(!world.env.token_path().exists(), "no token file instead");
    assert!(!world.facts().exists(), "no facts without their secrets");
    assert!(world.json_files("credentials").is_empty());
}

/// A locked collection is refused at once (portico never asks to unlock it: that prompts).
#[test]
fn a_locked_secret_service_fails_with_one_line_and_exit_9() {
    let Some(bus) = Bus::with_gnome_keyring() else {
        return;
    };
    let world = World::new("keyring", Some(bus));
    assert_success(&world.device_login());
    world.bus.as_ref().unwrap().lock();
    let out = world.run(&["credentials", "--profile", "dev"]);
    assert_eq!(out.status.code(), Some(9), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("the Secret Service keyring: it is locked")
            && stderr.contains("portico_storage = file"),
        "{stderr}"
    );
    assert!(!world.env.token_path().exists());
    assert!(world.json_files("credentials").is_empty(), "no keys kept");
    // status reads the facts only: a locked keyring does not stop it.
    let status = world.run(&["status", "--json"]);
    assert_success(&status);
    let rows = json(&status);
    let row = rows.as_array().and_then(|r| r.first()).unwrap_or(&rows);
    assert_eq!(row["signedIn"], true, "{rows}");
    assert_eq!(row["canRefresh"], true, "{rows}");
    assert!(
        !text(&status.stderr).contains("locked"),
        "{}",
        text(&status.stderr)
    );
    let doctor = world.run(&["doctor", "--sso-session", "emu"]);
    assert_eq!(doctor.status.code(), Some(8));
    assert!(
        text(&doctor.stdout).contains("it is locked"),
        "{}",
        text(&doctor.stdout)
    );
}

/// A bus without a Secret Service: the sign-in is not written anywhere else.
#[test]
fn no_secret_service_on_the_bus_fails_with_one_line_and_exit_9() {
    let Some(bus) = Bus::empty() else {
        return;
    };
    let world = World::new("keyring", Some(bus));
    // The client registration is the first secret kept: the sign-in fails before any code
    // is shown, so nobody approves a sign-in that cannot be kept.
    let out = world.run(&["login", "--device-code"]);
    assert_keyring_failure(&world, &out, "no Secret Service answers");
    assert_eq!(world.env.emu.pending_user_codes().len(), 0);
}

/// A bus that accepts the connection and never says a word: the call is given up after
/// PORTICO_KEYRING_TIMEOUT.
#[test]
fn a_keyring_that_never_answers_fails_in_bounded_time_with_exit_9() {
    let world = World::new("keyring", None);
    let socket = world.home().join("silent-bus");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let mut cmd = world.portico();
    cmd.args(["login", "--device-code"])
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", socket.display()),
        )
        .env("PORTICO_KEYRING_TIMEOUT", "2");
    let (out, took) = common::output_within(&mut cmd, Duration::from_secs(60));
    let out = out.unwrap_or_else(|| panic!("portico did not give up ({took:?})"));
    assert_keyring_failure(&world, &out, "no answer within 2s");
}

/// `portico login` says once that profiles naming the session with sso_session cannot be
/// served by the AWS CLI from a keyring, and doctor flags them with the fix; `profiles sync
/// --credential-process` writes profiles the AWS CLI runs through portico: 30 parallel AWS CLI
/// calls with the token in its refresh window make one refresh and one GetRoleCredentials per
/// role.
#[test]
fn the_aws_cli_runs_synced_profiles_of_a_kernel_keyring_session() {
    let world = World::new("kernel-keyring", None);
    let out = world.device_login();
    assert_success(&out);
    let stderr = text(&out.stderr);
    let notes: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("AWS CLI cannot read"))
        .collect();
    assert_eq!(notes.len(), 1, "{stderr}");
    assert!(
        notes[0].contains("profile dev") && notes[0].contains("--credential-process"),
        "{stderr}"
    );
    let doctor = world.run(&["doctor", "--sso-session", "emu"]);
    let report = text(&doctor.stdout);
    assert!(
        report.contains("kernel-keyring: the kernel keyring answers and is unlocked")
            && report.contains("profile dev uses sso_session = emu")
            && report.contains("--credential-process"),
        "{report}"
    );
    let sync = world.run(&[
        "profiles",
        "sync",
        "--sso-session",
        "emu",
        "--credential-process",
    ]);
    assert_success(&sync);

    if !Path::new("/usr/bin/aws").exists() {
        common::tool_missing("/usr/bin/aws", "Debian package awscli");
        return;
    }
    let config = std::fs::read_to_string(world.env.config_path()).unwrap();
    let profiles: Vec<String> = config
        .lines()
        .filter_map(|l| l.strip_prefix("[profile ")?.strip_suffix(']'))
        .filter(|p| *p != "dev")
        .take(3)
        .map(String::from)
        .collect();
    assert_eq!(profiles.len(), 3, "{config}");
    // The token is in its refresh window: the first caller refreshes, the others wait on
    // the lock and use that token.
    let mut facts = read_json(&world.facts());
    let soon = time::OffsetDateTime::now_utc() + time::Duration::minutes(5);
    facts["expiresAt"] = portico::cache::token::format_time(soon).into();
    std::fs::write(world.facts(), serde_json::to_vec(&facts).unwrap()).unwrap();
    let portico_dir = Path::new(env!("CARGO_BIN_EXE_portico")).parent().unwrap();
    let children: Vec<_> = (0..30)
        .map(|i| {
            let mut cmd = Command::new("/usr/bin/aws");
            for var in [
                "AWS_PROFILE",
                "AWS_DEFAULT_PROFILE",
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
                "AWS_ENDPOINT_URL",
                "PORTICO_STORAGE",
            ] {
                cmd.env_remove(var);
            }
            cmd.env("HOME", world.home())
                .env("XDG_CACHE_HOME", world.home().join(".cache"))
                .env("TMPDIR", world.tmp())
                .env("AWS_CONFIG_FILE", world.env.config_path())
                .env(
                    "AWS_SHARED_CREDENTIALS_FILE",
                    world.home().join(".aws/credentials"),
                )
                .env("AWS_ENDPOINT_URL_SSO", world.env.emu.url())
                .env("AWS_ENDPOINT_URL_SSO_OIDC", world.env.emu.url())
                .env("AWS_PAGER", "")
                .env("PATH", format!("{}:/usr/bin:/bin", portico_dir.display()))
                .args([
                    "configure",
                    "export-credentials",
                    "--profile",
                    &profiles[i % 3],
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    let mut seen = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_success(&out);
        let keys = json(&out);
        seen.push(keys["SecretAccessKey"].as_str().unwrap().to_string());
        seen.push(keys["SessionToken"].as_str().unwrap().to_string());
    }
    assert_eq!(
        world.env.stat("CreateToken:refresh_token"),
        1,
        "one refresh"
    );
    assert_eq!(
        world.env.stat("GetRoleCredentials"),
        3,
        "one GetRoleCredentials per role"
    );
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen.len(),
        6,
        "three roles' keys, each the same for its ten callers"
    );
    seen.extend(values(
        &world.item(Storage::KernelKeyring, &world.facts()).unwrap(),
    ));
    world.hunt(&seen);
}

/// `portico configure --storage` writes `portico_storage` into the session's section (and a
/// saml-session's); botocore reads the file as before and ignores the key.
#[test]
fn configure_writes_portico_storage_and_botocore_ignores_it() {
    let world = World::new("file", None);
    let out = world.run(&[
        "configure",
        "--sso-session",
        "emu",
        "--start-url",
        &world.env.emu.start_url(),
        "--region",
        &world.env.emu.region(),
        "--storage",
        "kernel-keyring",
        "--yes",
    ]);
    assert_success(&out);
    let config = std::fs::read_to_string(world.env.config_path()).unwrap();
    assert_eq!(
        config.matches("portico_storage = kernel-keyring").count(),
        1,
        "{config}"
    );
    assert!(!config.contains("portico_storage = file"), "{config}");
    let out = world.run(&[
        "configure",
        "--saml-session",
        "corp",
        "--idp-url",
        "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/saml2",
        "--storage",
        "keyring",
        "--yes",
    ]);
    assert_success(&out);
    let config = std::fs::read_to_string(world.env.config_path()).unwrap();
    assert!(
        config.contains("[saml-session corp]") && config.contains("portico_storage = keyring"),
        "{config}"
    );
    let bad = world.run(&["configure", "--sso-session", "emu", "--storage", "disk"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
    // A value no store has is a config error naming the key and the choices.
    world.env.write_config(&config.replace(
        "portico_storage = kernel-keyring",
        "portico_storage = vault",
    ));
    let out = world.run(&["credentials", "--profile", "dev"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("portico_storage in [sso-session emu]")
            && text(&out.stderr).contains("file, keyring, kernel-keyring"),
        "{}",
        text(&out.stderr)
    );
    world.env.write_config(&config);

    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyenv/bin/python");
    if !python.exists() {
        common::tool_missing("target/pyenv", "tests/python-env.sh makes it");
        return;
    }
    const SCRIPT: &str = r#"
import json, sys, botocore.session
s = botocore.session.Session(profile="dev")
print(json.dumps({"profile": s.get_scoped_config(), "sessions": s.full_config.get("sso_sessions", {})}))
"#;
    let out = Command::new(python)
        .env("AWS_CONFIG_FILE", world.env.config_path())
        .env("HOME", world.home())
        .args(["-c", SCRIPT])
        .output()
        .unwrap();
    assert_success(&out);
    let read = json(&out);
    assert_eq!(read["profile"]["sso_session"], "emu");
    assert_eq!(
        read["sessions"]["emu"]["sso_start_url"],
        world.env.emu.start_url()
    );
}

/// A reboot empties the kernel keyring; the files that stay are no sign-in: status says signed
/// out, and credentials asks for a login (exit 4) in one line, without a browser.
#[test]
fn a_token_whose_kernel_key_is_gone_is_signed_out() {
    let world = World::new("kernel-keyring", None);
    assert_success(&world.device_login());
    assert!(portico::vault::delete(
        Storage::KernelKeyring,
        &portico::vault::ItemName::for_file(&world.facts())
    )
    .unwrap());
    let status = world.run(&["status", "--json"]);
    assert_success(&status);
    let rows = json(&status);
    let row = rows.as_array().and_then(|r| r.first()).unwrap_or(&rows);
    assert_eq!(row["signedIn"], false, "{rows}");
    let out = world.run(&["credentials", "--profile", "dev", "--no-login"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
}
