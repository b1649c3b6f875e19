//! Where a credential source meets a consumer (issue 19's "wrong results" and the profiles the
//! AWS CLI reads): the real binary against the emulator's Identity Center, Entra-like SAML IdP
//! and STS, with the stand-in browsers of tests/support. Whose keys a consumer hands out is
//! told by comparing them with what `portico credentials` printed for the asked role (both
//! come from one cache) and with the keys of the role it must not hand out.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::serving::Serving;
use common::{assert_success, support, text, wait_until, TestEnv};
use idc_emulator::Config;

/// The Identity Center profile `dev` (first account, first role), a `[default]` profile naming
/// another role (the keys no SAML consumer may hand out), and `[saml-session corp]`. Signed in
/// to Identity Center; `extra` is appended to the config.
struct World {
    env: TestEnv,
}

impl World {
    fn new(default_profile: bool, extra: &str) -> World {
        let env = TestEnv::new(Config {
            auto_approve: true,
            ..Config::default()
        });
        let mut config = std::fs::read_to_string(env.config_path()).unwrap();
        if default_profile {
            let accounts = env.emu.directory().accounts();
            let other = accounts.last().unwrap();
            config.push_str(&format!(
                "\n[default]\nsso_session = emu\nsso_account_id = {}\nsso_role_name = {}\n",
                other.account_id,
                other.roles.last().unwrap()
            ));
        }
        config.push_str(&format!(
            "\n[saml-session corp]\nidp_url = {}\n{extra}",
            env.emu.saml_idp_url()
        ));
        env.write_config(&config);
        World { env }
    }

    /// portico with the SAML stand-in browser as `BROWSER` and STS at the emulator.
    fn portico(&self) -> Command {
        let mut cmd = self.env.portico();
        cmd.env("BROWSER", support("saml-browser.py"))
            .env("AWS_ENDPOINT_URL_STS", self.env.emu.url())
            .env(
                "PORTICO_FEDERATION_ENDPOINT",
                format!("{}/federation", self.env.emu.url()),
            )
            .env("PORTICO_HTTP_TIMEOUT", "10");
        cmd
    }

    fn run(&self, cmd: &mut Command) -> Output {
        let (out, took) = common::output_within(cmd, Duration::from_secs(60));
        out.unwrap_or_else(|| panic!("{cmd:?} did not finish in {took:?}"))
    }

    /// `portico ARGS`, which must succeed.
    fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(self.portico().args(args));
        assert_success(&out);
        out
    }

    /// The access key `portico credentials ARGS` prints.
    fn key(&self, args: &[&str]) -> String {
        let out = self.ok(&[&["credentials"], args].concat());
        access_key(&out.stdout)
    }

    /// Signs in to Identity Center (the emulator approves device codes at once).
    fn login(&self) {
        self.ok(&["login", "--device-code"]);
    }

    fn saml_role(&self, n: usize) -> String {
        self.env.emu.directory().saml_roles()[n].role_arn.clone()
    }
}

fn access_key(json: &[u8]) -> String {
    let value: serde_json::Value =
        serde_json::from_slice(json).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(json)));
    value["AccessKeyId"]
        .as_str()
        .unwrap_or_else(|| panic!("no AccessKeyId: {value}"))
        .to_string()
}

/// A command for `exec --serve`: prints the endpoint it was given, then the access key a GET
/// of it with the token returns.
const FETCH: &str = r#"
import json, os, urllib.request
uri = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
request = urllib.request.Request(uri, headers={"Authorization": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]})
print(uri)
print(json.load(urllib.request.urlopen(request, timeout=30))["AccessKeyId"])
"#;

/// `exec --serve TARGET -- python3 FETCH`: (the endpoint, the access key it served).
fn exec_serve(world: &World, target: &[&str]) -> (String, String) {
    let out = world.ok(&[
        &["exec", "--serve"],
        target,
        &["--", "python3", "-c", FETCH],
    ]
    .concat());
    let shown = text(&out.stdout);
    let mut lines = shown.lines();
    let uri = lines.next().unwrap_or_default().to_string();
    let key = lines.next().unwrap_or_default().to_string();
    (uri, key)
}

/// `portico serve TARGET`: the printed endpoint and the access key a GET of it returns.
fn serve_once(world: &World, target: &[&str]) -> (String, String) {
    let (uri, status, body) = serve_get(world, target);
    assert_eq!(status, 200, "{body}");
    (uri, access_key(body.as_bytes()))
}

/// `portico serve TARGET`: the printed endpoint, and the status and body of a GET of it.
fn serve_get(world: &World, target: &[&str]) -> (String, u16, String) {
    serve_get_with(world, target, |_| {})
}

/// [`serve_get`] with `adjust` applied to the server's command (its environment).
fn serve_get_with(
    world: &World,
    target: &[&str],
    adjust: impl FnOnce(&mut Command),
) -> (String, u16, String) {
    let mut cmd = world.portico();
    adjust(&mut cmd);
    cmd.arg("serve").args(target);
    let server = Serving::start(cmd);
    let uri = server.var("AWS_CONTAINER_CREDENTIALS_FULL_URI").to_string();
    let response = server.get();
    drop(server);
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {response}"));
    (uri, status, body.to_string())
}

/// `serve --profile P --account A --role R`: the profile lends its sso-session, and every
/// request gets that session's keys — not those of the sso-session of the server's own
/// `AWS_PROFILE` (here one not signed in, so a request resolved against it got 503), which is
/// where a request naming no session used to fall back. `exec --serve` likewise.
#[test]
fn a_role_beside_a_profile_is_served_from_that_profiles_sso_session() {
    let world = World::new(
        false,
        "\n[sso-session other]\nsso_start_url = https://other.awsapps.com/start\nsso_region = eu-west-1\n\n[profile elsewhere]\nsso_session = other\nsso_account_id = 111122223333\nsso_role_name = Nobody\n",
    );
    world.ok(&["login", "--device-code", "--sso-session", "emu"]);
    let account = world.env.emu.directory().accounts()[1].clone();
    let role = account.roles[0].clone();
    let target = [
        "--profile",
        "dev",
        "--account",
        account.account_id.as_str(),
        "--role",
        role.as_str(),
    ];
    let expected = world.key(&[&target[..], &["--format", "json"]].concat());
    let (uri, status, body) = serve_get_with(&world, &target, |cmd| {
        cmd.env("AWS_PROFILE", "elsewhere");
    });
    assert_eq!(status, 200, "{uri}: {body}");
    assert!(uri.ends_with("?sso-session=emu"), "{uri}");
    assert_eq!(access_key(body.as_bytes()), expected);
    let out = world.run(
        world
            .portico()
            .env("AWS_PROFILE", "elsewhere")
            .args(["exec", "--serve"])
            .args(target)
            .args(["--", "python3", "-c", FETCH]),
    );
    assert_success(&out);
    assert_eq!(text(&out.stdout).lines().nth(1), Some(expected.as_str()));
}

/// Issue 19 item 1: `exec --serve --saml-session S --role-arn A` handed the command the
/// `[default]` profile's keys, and `serve` served them. Both serve the SAML role, at
/// `/role/saml/SESSION/ROLE_ARN`.
#[test]
fn exec_serve_and_serve_hand_out_the_saml_role_never_the_default_profile() {
    let world = World::new(true, "");
    world.login();
    let default_key = world.key(&[]);
    let arn = world.saml_role(0);
    let saml = ["--saml-session", "corp", "--role-arn", arn.as_str()];
    // Before any SAML sign-in the server has nothing to hand out for that role, and says so
    // (a request never opens a browser) — it does not fall back on another role.
    let (_, status, body) = serve_get(&world, &saml);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("portico login --saml-session corp"), "{body}");
    assert_eq!(world.env.stat("SamlSignIn"), 0);
    let saml_key = world.key(&saml);
    assert_ne!(saml_key, default_key);
    world.env.emu.reset_stats();

    let (uri, key) = exec_serve(&world, &saml);
    let path = format!(
        "/role/saml/corp/{}",
        arn.replace(':', "%3A").replace('/', "%2F")
    );
    assert!(uri.ends_with(&path), "{uri} does not end with {path}");
    assert_eq!(key, saml_key, "exec --serve served another role's keys");

    let (uri, key) = serve_once(&world, &saml);
    assert!(uri.ends_with(&path), "{uri}");
    assert_eq!(key, saml_key, "serve served another role's keys");
    assert_eq!(
        world.env.stat("GetRoleCredentials"),
        0,
        "no Identity Center role was asked for"
    );
    assert_eq!(world.env.stat("SamlSignIn"), 0, "the kept assertion served");
}

/// Issue 19 item 1: without a `[default]` profile, and with none named, every consumer says
/// where the profile name came from, never "named by --profile".
#[test]
fn an_unnamed_or_unknown_profile_is_traced_to_where_its_name_came_from() {
    let world = World::new(false, "");
    let consumers: [&[&str]; 5] = [
        &["credentials"],
        &["exec", "--", "true"],
        &["exec", "--serve", "--", "true"],
        &["serve"],
        &["console", "--print"],
    ];
    for (vars, says) in [
        (vec![], "no profile was named"),
        (vec![("AWS_PROFILE", "nope")], "(named by AWS_PROFILE)"),
        (
            vec![("AWS_DEFAULT_PROFILE", "nope")],
            "(named by AWS_DEFAULT_PROFILE)",
        ),
    ] {
        for args in consumers {
            let out = world.run(world.portico().envs(vars.iter().cloned()).args(args));
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(3), "{args:?} {vars:?}: {err}");
            assert!(err.contains(says), "{args:?} {vars:?}: {err}");
            assert!(!err.contains("--profile)"), "{args:?} {vars:?}: {err}");
            assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
        }
    }
}

/// Issue 19 item 2: `console --saml-session` opens the link in the saml-session's
/// `portico_browser`, as `login --saml-session` and the portal sign in with it.
#[test]
fn console_opens_a_saml_role_in_the_saml_sessions_browser() {
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("opened.log");
    let opener = home.path().join("opener.sh");
    std::fs::write(
        &opener,
        format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", log.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let world = World::new(
        false,
        &format!("portico_browser = '{}' {{url}}\n", opener.display()),
    );
    let arn = world.saml_role(0);
    // Signed in through the stand-in IdP browser, named on the command line.
    let sign_in = format!("'{}' {{url}}", support("saml-browser.py").display());
    world.ok(&["login", "--saml-session", "corp", "--browser", &sign_in]);

    let out = world.run(world.portico().env("DISPLAY", ":0").args([
        "console",
        "--saml-session",
        "corp",
        "--role-arn",
        &arn,
    ]));
    assert_success(&out);
    let err = text(&out.stderr);
    assert!(
        err.contains("saml-session corp"),
        "names the saml-session's browser: {err}"
    );
    let opened = wait_until(Duration::from_secs(20), || {
        std::fs::read_to_string(&log)
            .ok()
            .filter(|l| l.ends_with('\n'))
    })
    .unwrap_or_else(|| panic!("the saml-session's browser was not run; stderr: {err}"));
    assert!(
        opened.contains("/federation?Action=login") && opened.contains("SigninToken="),
        "{opened}"
    );
    assert!(out.stdout.is_empty(), "the link is not printed");
}

/// Issue 19 item 4: a browser the user configured is used by `credentials` where the display
/// guess says there is none (a container without a display), for SAML and Identity Center;
/// with nothing configured, the guess still decides.
#[test]
fn a_configured_browser_signs_in_where_no_display_is_guessed() {
    let saml_browser = format!("'{}' {{url}}", support("saml-browser.py").display());
    let world = World::new(false, &format!("portico_browser = {saml_browser}\n"));
    let arn = world.saml_role(0);
    let container = |cmd: &mut Command| {
        cmd.env_remove("BROWSER").env("container", "podman");
    };

    let mut cmd = world.portico();
    container(&mut cmd);
    let out = world.run(cmd.args(["credentials", "--saml-session", "corp", "--role-arn", &arn]));
    assert_success(&out);
    assert!(access_key(&out.stdout).starts_with("ASIA"));
    assert_eq!(world.env.stat("SamlSignIn"), 1);

    // Identity Center: the sso-session's portico_browser, the PKCE flow through it.
    let idc_browser = format!("'{}' {{url}}", support("fake-browser.py").display());
    let config = std::fs::read_to_string(world.env.config_path()).unwrap();
    let without = config.clone();
    world.env.write_config(&config.replacen(
        "sso_registration_scopes = sso:account:access\n",
        &format!("sso_registration_scopes = sso:account:access\nportico_browser = {idc_browser}\n"),
        1,
    ));
    let mut cmd = world.portico();
    container(&mut cmd);
    let out = world.run(cmd.args(["credentials", "--profile", "dev"]));
    assert_success(&out);
    assert!(access_key(&out.stdout).starts_with("ASIA"));
    assert!(world.env.token().is_some(), "signed in through the browser");

    // Nothing configured: in a container without a display, no sign-in starts.
    world.env.write_config(&without);
    std::fs::remove_file(world.env.token_path()).unwrap();
    let mut cmd = world.portico();
    container(&mut cmd);
    let out = world.run(cmd.args(["credentials", "--profile", "dev"]));
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(world.env.token().is_none());
}

/// Issue 19 item 4's loose end: where no sign-in may start (`--no-login`, the credential
/// server), the hint follows the same rule as the sign-in — with a browser configured (the
/// saml-session's or sso-session's `portico_browser`) and no display, `portico login`, which
/// will use it; with nothing configured, the display guess still decides (no browser here, the
/// device code).
#[test]
fn with_no_sign_in_allowed_the_hint_follows_the_configured_browser() {
    let saml_browser = format!("'{}' {{url}}", support("saml-browser.py").display());
    let world = World::new(false, &format!("portico_browser = {saml_browser}\n"));
    let arn = world.saml_role(0);
    let container = |cmd: &mut Command| {
        cmd.env_remove("BROWSER").env("container", "podman");
    };
    let fails = |args: &[&str]| {
        let mut cmd = world.portico();
        container(&mut cmd);
        let out = world.run(cmd.args(args));
        assert_eq!(
            out.status.code(),
            Some(4),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
        let err = text(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        err
    };
    let saml = [
        "credentials",
        "--no-login",
        "--saml-session",
        "corp",
        "--role-arn",
        &arn,
    ];
    let err = fails(&saml);
    assert!(
        err.contains("run `portico login --saml-session corp`"),
        "{err}"
    );
    assert!(!err.contains("needs a browser"), "{err}");
    // The credential server never signs in: its 503 says the same.
    let (_, status, body) = serve_get_with(
        &world,
        &["--saml-session", "corp", "--role-arn", &arn],
        container,
    );
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("portico login --saml-session corp"), "{body}");
    assert!(!body.contains("needs a browser"), "{body}");
    assert_eq!(world.env.stat("SamlSignIn"), 0);

    // Identity Center, not signed in: the sso-session's portico_browser.
    let idc_browser = format!("'{}' {{url}}", support("fake-browser.py").display());
    let config = std::fs::read_to_string(world.env.config_path()).unwrap();
    world.env.write_config(&config.replacen(
        "sso_registration_scopes = sso:account:access\n",
        &format!("sso_registration_scopes = sso:account:access\nportico_browser = {idc_browser}\n"),
        1,
    ));
    let err = fails(&["credentials", "--no-login", "--profile", "dev"]);
    assert!(
        err.contains("run `portico login --sso-session emu`"),
        "{err}"
    );
    assert!(!err.contains("--device-code"), "{err}");

    // Nothing configured: the guess (a container without a display) still decides.
    let bare = config.replace(&format!("portico_browser = {saml_browser}\n"), "");
    world.env.write_config(&bare);
    let err = fails(&saml);
    assert!(
        err.contains("SAML sign-in needs a browser on this machine"),
        "{err}"
    );
    let err = fails(&["credentials", "--no-login", "--profile", "dev"]);
    assert!(
        err.contains("portico login --device-code --sso-session emu"),
        "{err}"
    );
}

/// Issue 19 item 15: a profile `profiles sync --credential-process` wrote (a credential_process
/// line naming the account, role and sso-session, no sso_* keys) works for `credentials`,
/// `exec`, `exec --serve` and `serve`, as it does for the AWS CLI; so does one naming another
/// profile; a line that leads back to its own profile is one error line.
#[test]
fn profiles_synced_with_credential_process_work_in_every_consumer() {
    let world = World::new(false, "");
    world.login();
    let out = world.ok(&["profiles", "sync", "--no-login", "--credential-process"]);
    let config = std::fs::read_to_string(world.env.config_path()).unwrap();
    let first = world.env.emu.directory().accounts()[0].clone();
    let line = format!(
        "--account {} --role {} --sso-session emu",
        first.account_id, first.roles[0]
    );
    // The synced profile of the first account's first role.
    let mut name = None;
    let mut current = None;
    for l in config.lines() {
        if let Some(header) = l
            .strip_prefix("[profile ")
            .and_then(|h| h.strip_suffix(']'))
        {
            current = Some(header.to_string());
        } else if l.starts_with("credential_process") && l.contains(&line) {
            name = current.clone();
        }
    }
    let name = name.unwrap_or_else(|| {
        panic!(
            "no synced profile for {line}: {}\n{config}",
            text(&out.stderr)
        )
    });
    let section = config.split(&format!("[profile {name}]")).nth(1).unwrap();
    let section = section.split("\n[").next().unwrap();
    assert!(
        !section.contains("sso_"),
        "no Identity Center keys: {section}"
    );

    let want = world.key(&[
        "--account",
        &first.account_id,
        "--role",
        &first.roles[0],
        "--sso-session",
        "emu",
    ]);
    world.env.emu.reset_stats();
    let profile = ["--profile", name.as_str()];
    assert_eq!(world.key(&profile), want, "credentials");
    let out = world.ok(&[
        &["exec"],
        &profile[..],
        &["--", "sh", "-c", "echo $AWS_ACCESS_KEY_ID"],
    ]
    .concat());
    assert_eq!(text(&out.stdout).trim(), want, "exec");
    let (_, key) = exec_serve(&world, &profile);
    assert_eq!(key, want, "exec --serve");
    let (_, key) = serve_once(&world, &profile);
    assert_eq!(key, want, "serve");
    assert_eq!(world.env.stat("GetRoleCredentials"), 0, "one role, cached");

    // A profile whose credential_process names another profile; and loops.
    let portico = env!("CARGO_BIN_EXE_portico");
    let arn = world.saml_role(0);
    world.env.write_config(&format!(
        "{config}\n[profile via-dev]\ncredential_process = {portico} credentials --profile dev\n\
         \n[profile via-synced]\ncredential_process = portico credentials --profile {name}\n\
         \n[profile saml-admin]\ncredential_process = portico credentials --saml-session corp --role-arn {arn}\n\
         \n[profile loop]\ncredential_process = portico credentials --profile loop\n\
         \n[profile ping]\ncredential_process = portico credentials --profile pong\n\
         \n[profile pong]\ncredential_process = portico credentials --profile=ping\n"
    ));
    assert_eq!(
        world.key(&["--profile", "via-dev"]),
        world.key(&["--profile", "dev"])
    );
    for (profile, chain) in [("loop", "loop → loop"), ("ping", "ping → pong → ping")] {
        let out = world.run(world.portico().args(["credentials", "--profile", profile]));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.contains(chain), "{err}");
        assert!(out.stdout.is_empty());
    }
    assert_eq!(world.key(&["--profile", "via-synced"]), want);

    // doctor passes and fails exactly what the commands take and refuse.
    let out = world.run(world.portico().args(["doctor", "--json"]));
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stdout)));
    let about = |status: &str| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f["check"] == "credential-process" && f["status"] == status)
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect()
    };
    let (failed, warned) = (about("fail"), about("warn"));
    assert!(warned.is_empty(), "{warned:#?}");
    for profile in ["loop", "ping", "pong"] {
        assert!(
            failed
                .iter()
                .any(|m| m.starts_with(&format!("profile {profile}:")) && m.contains("leads back")),
            "{profile}: {failed:#?}"
        );
    }
    assert_eq!(failed.len(), 3, "{failed:#?}");
}

/// The profile `profiles sync` wrote whose credential_process line holds `needle`.
fn synced_profile(world: &World, needle: &str) -> String {
    let config = std::fs::read_to_string(world.env.config_path()).unwrap();
    let mut current = None;
    for l in config.lines() {
        if let Some(header) = l
            .strip_prefix("[profile ")
            .and_then(|h| h.strip_suffix(']'))
        {
            current = Some(header.to_string());
        } else if l.starts_with("credential_process") && l.contains(needle) {
            let name = current.clone().unwrap();
            let section = config.split(&format!("[profile {name}]\n")).nth(1).unwrap();
            let section = section.split("\n[").next().unwrap();
            assert!(
                !section.contains("sso_"),
                "no Identity Center keys: {section}"
            );
            return name;
        }
    }
    panic!("no synced profile runs {needle}:\n{config}")
}

/// Issue 19 item 15's loose end: `login --profile P`, `list --profile P` and the portal's
/// `--profile P` take a profile `profiles sync --credential-process` or `profiles sync
/// --saml-session` wrote (a credential_process line, no sso_* keys) as the sign-in of the role
/// that line names, as `credentials` does; they said it "has no Identity Center settings".
#[test]
fn login_list_and_the_portal_take_the_sign_in_of_a_synced_profile() {
    let world = World::new(false, "");
    world.login();
    world.ok(&["profiles", "sync", "--no-login", "--credential-process"]);
    world.ok(&["profiles", "sync", "--saml-session", "corp"]);
    let idc = synced_profile(&world, "--sso-session emu");
    let saml = synced_profile(&world, "--saml-session corp");

    let list = |args: &[&str]| {
        text(
            &world
                .ok(&[&["list", "--no-login", "--json"], args].concat())
                .stdout,
        )
    };
    assert_eq!(list(&["--profile", &idc]), list(&["--sso-session", "emu"]));
    assert_eq!(
        list(&["--profile", &saml]),
        list(&["--saml-session", "corp"])
    );

    let out = world.ok(&["login", "--profile", &idc, "--device-code"]);
    assert!(
        text(&out.stderr).contains("signed in to sso-session emu"),
        "{}",
        text(&out.stderr)
    );
    let before = world.env.stat("SamlSignIn");
    let out = world.ok(&["login", "--profile", &saml]);
    assert!(
        text(&out.stderr).contains("signed in to saml-session corp"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(world.env.stat("SamlSignIn"), before + 1);
    // Identity Center's sign-in flags are refused for a SAML role's profile, in one line.
    let out = world.run(
        world
            .portico()
            .args(["login", "--profile", &saml, "--force"]),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr).trim().lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );
    assert_eq!(world.env.stat("SamlSignIn"), before + 1);

    // The portal opens on the sso-session's accounts, or on the SAML roles.
    let first = world.env.emu.directory().accounts()[0].account_name.clone();
    let roles = world.env.emu.directory().saml_roles().len();
    for (profile, shows) in [(&idc, first), (&saml, format!("{roles} roles"))] {
        let home = world.env.home.path();
        let pane = Pane::start(&format!(
            "unset BROWSER AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL\n\
             export HOME='{home}' XDG_CACHE_HOME='{home}/.cache' AWS_CONFIG_FILE='{config}'\n\
             export AWS_ENDPOINT_URL_STS='{url}' AWS_ENDPOINT_URL_SSO='{url}' AWS_ENDPOINT_URL_SSO_OIDC='{url}'\n\
             export TERM=xterm-256color\n\
             '{portico}' --profile '{profile}' >/dev/null 2>'{home}/portal.err'\n\
             echo \"EXIT=$?\"\n\
             read line\n",
            home = home.display(),
            config = world.env.config_path().display(),
            url = world.env.emu.url(),
            portico = env!("CARGO_BIN_EXE_portico"),
        ));
        wait_until(Duration::from_secs(30), || {
            let screen = pane.screen();
            (screen.contains(&shows) || screen.contains("EXIT=")).then_some(())
        });
        let screen = pane.screen();
        let err = std::fs::read_to_string(home.join("portal.err")).unwrap_or_default();
        assert!(screen.contains(&shows), "{profile}: {screen}\n{err}");
        pane.keys(&["Escape"]);
        pane.wait_for("EXIT=0");
    }
}

/// A tmux server of its own (socket in a temporary directory) with one 100×30 pane running
/// `script`; killed when dropped.
struct Pane {
    dir: tempfile::TempDir,
}

impl Pane {
    fn start(script: &str) -> Pane {
        let dir = tempfile::Builder::new()
            .prefix("portico-seams-")
            .tempdir()
            .unwrap();
        let path = dir.path().join("run.sh");
        std::fs::write(&path, script).unwrap();
        let pane = Pane { dir };
        let out = pane
            .tmux()
            .args(["new-session", "-d", "-s", "t", "-x", "100", "-y", "30"])
            .arg(format!("sh '{}'", path.display()))
            .output()
            .expect("tmux is installed (apt-get install -y tmux)");
        assert!(out.status.success(), "tmux: {}", text(&out.stderr));
        pane
    }

    fn tmux(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.arg("-S")
            .arg(self.dir.path().join("socket"))
            .env_remove("TMUX")
            .stdin(Stdio::null());
        cmd
    }

    fn screen(&self) -> String {
        text(
            &self
                .tmux()
                .args(["capture-pane", "-p", "-t", "t"])
                .output()
                .unwrap()
                .stdout,
        )
    }

    /// Polls the pane (bounded) until it shows `needle`.
    fn wait_for(&self, needle: &str) -> String {
        wait_until(Duration::from_secs(30), || {
            Some(self.screen()).filter(|s| s.contains(needle))
        })
        .unwrap_or_else(|| panic!("waited for {needle:?}; the pane shows:\n{}", self.screen()))
    }

    fn keys(&self, keys: &[&str]) {
        let out = self
            .tmux()
            .args(["send-keys", "-t", "t"])
            .args(keys)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").output();
    }
}

/// Issue 19 item 4, the portal: with the saml-session's `portico_browser` set to a command
/// and no display (a container), the portal signs in through it and lists the roles, as
/// `login --saml-session` does — it used to refuse at once.
#[test]
fn the_portal_signs_in_through_a_configured_browser_where_no_display_is_guessed() {
    let saml_browser = format!("'{}' {{url}}", support("saml-browser.py").display());
    let world = World::new(false, "");
    // SAML only: the portal opens on the saml-session's roles.
    world.env.write_config(&format!(
        "[saml-session corp]\nidp_url = {}\nportico_browser = {saml_browser}\n",
        world.env.emu.saml_idp_url()
    ));
    let roles = world.env.emu.directory().saml_roles().len();
    let home = world.env.home.path();
    let pane = Pane::start(&format!(
        "unset BROWSER DISPLAY WAYLAND_DISPLAY SSH_CONNECTION SSH_TTY AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL\n\
         export HOME='{home}' XDG_CACHE_HOME='{home}/.cache' AWS_CONFIG_FILE='{config}'\n\
         export AWS_ENDPOINT_URL_STS='{url}' AWS_ENDPOINT_URL_SSO='{url}' AWS_ENDPOINT_URL_SSO_OIDC='{url}'\n\
         export container=podman TERM=xterm-256color\n\
         '{portico}' >/dev/null\n\
         echo \"EXIT=$?\"\n\
         read line\n",
        home = home.display(),
        config = world.env.config_path().display(),
        url = world.env.emu.url(),
        portico = env!("CARGO_BIN_EXE_portico"),
    ));
    // The count can be drawn a frame before the rows: wait for both on one screen.
    pane.wait_for(&format!("{roles} roles"));
    let screen = pane.wait_for("SAML corp");
    assert!(screen.contains(&format!("{roles} roles")), "{screen}");
    assert_eq!(world.env.stat("SamlSignIn"), 1);
    pane.keys(&["Escape"]);
    pane.wait_for("EXIT=0");
}
