//! Which browser opens the sign-in page and the console: presets, command templates, their
//! precedence, and what happens where no browser can open. Stand-in programs under the real
//! browsers' names (a PATH of their own, nothing else on it) record their arguments and then
//! follow the URL as a person would.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{assert_success, support, text, TestEnv};
use idc_emulator::{Config, Directory};

/// The real Python interpreter (not a pyenv shim, which needs PATH).
fn python() -> String {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 runs");
    text(&out.stdout).trim().to_string()
}

/// A directory holding stand-ins named `names` (each a sh wrapper around
/// fake-named-browser.py), to be the whole PATH.
fn fake_bin(dir: &Path, names: &[&str]) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let python = python();
    let script = support("fake-named-browser.py");
    for name in names {
        let path = bin.join(name);
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\nFAKE_BROWSER_NAME='{name}' exec '{python}' '{}' \"$@\"\n",
                script.display()
            ),
        )
        .unwrap();
        set_executable(&path);
    }
    bin
}

fn set_executable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

const ALL: &[&str] = &[
    "firefox",
    "google-chrome",
    "chromium",
    "microsoft-edge",
    "brave-browser",
];

/// Every argv the stand-ins recorded: (program, args).
fn recorded(log: &Path) -> Vec<(String, Vec<String>)> {
    let Ok(body) = std::fs::read_to_string(log) else {
        return Vec::new();
    };
    body.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let args = v["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect();
            (v["program"].as_str().unwrap().to_string(), args)
        })
        .collect()
}

/// `portico` with a display, the stand-ins as the only PATH, and an argv log.
fn with_browsers(env: &TestEnv, bin: &Path, log: &Path) -> Command {
    let mut cmd = env.portico();
    cmd.env("PATH", bin)
        .env("DISPLAY", ":0")
        .env_remove("PORTICO_BROWSER")
        .env("FAKE_BROWSER_ARGV", log);
    cmd
}

fn authorize_prefix(env: &TestEnv) -> String {
    format!("{}/authorize?", env.emu.url().trim_end_matches('/'))
}

#[test]
fn each_preset_runs_its_browser_with_the_documented_arguments() {
    let env = TestEnv::new(Config::default());
    env.emu.set_auto_approve(true);
    let bin = fake_bin(env.home.path(), ALL);
    let prefix = authorize_prefix(&env);
    // (preset, program, the arguments before the URL)
    let cases: &[(&str, &str, &[&str])] = &[
        ("firefox", "firefox", &["--new-tab"]),
        ("firefox:work", "firefox", &["-P", "work", "--new-tab"]),
        ("firefox-private", "firefox", &["--private-window"]),
        (
            "chrome:Profile 1",
            "google-chrome",
            &["--profile-directory=Profile 1"],
        ),
        ("chrome-incognito", "google-chrome", &["--incognito"]),
        (
            "chromium:Default",
            "chromium",
            &["--profile-directory=Default"],
        ),
        ("chromium-incognito", "chromium", &["--incognito"]),
        (
            "edge:Profile 2",
            "microsoft-edge",
            &["--profile-directory=Profile 2"],
        ),
        ("edge-private", "microsoft-edge", &["--inprivate"]),
        (
            "brave:Default",
            "brave-browser",
            &["--profile-directory=Default"],
        ),
        ("brave-private", "brave-browser", &["--incognito"]),
    ];
    for (i, (preset, program, before)) in cases.iter().enumerate() {
        let log = env.home.path().join(format!("argv-{i}.jsonl"));
        let out = with_browsers(&env, &bin, &log)
            .args(["login", "--browser", preset])
            .output()
            .unwrap();
        assert_success(&out);
        let runs = recorded(&log);
        assert_eq!(runs.len(), 1, "{preset}: one browser started: {runs:?}");
        let (ran, args) = &runs[0];
        assert_eq!(ran, program, "{preset}");
        assert_eq!(args.len(), before.len() + 1, "{preset}: {args:?}");
        assert_eq!(&args[..before.len()], *before, "{preset}");
        let url = &args[before.len()];
        assert!(
            url.starts_with(&prefix) && url.contains('&'),
            "{preset}: {url}"
        );
        // The sign-in screen names the browser and profile it asked.
        let stderr = text(&out.stderr);
        let profile = preset.split_once(':').map(|(_, p)| p).unwrap_or("");
        assert!(
            stderr.contains("(--browser) to open the sign-in page") && stderr.contains(profile),
            "{preset}: {stderr}"
        );
    }
    assert_eq!(
        env.stat("CreateToken:authorization_code"),
        cases.len() as u64
    );
}

#[test]
fn firefox_container_wraps_the_url_and_the_console_gets_a_container_per_role() {
    let env = TestEnv::new(Config::default());
    env.emu.set_auto_approve(true);
    let bin = fake_bin(env.home.path(), &["firefox"]);
    let log = env.home.path().join("argv.jsonl");
    let out = with_browsers(&env, &bin, &log)
        .args(["login", "--browser", "firefox-container:Work Entra"])
        .output()
        .unwrap();
    assert_success(&out);
    let runs = recorded(&log);
    let args = &runs[0].1;
    assert_eq!(args[0], "--new-tab");
    assert_eq!(args.len(), 2, "{args:?}");
    let wrapped = args[1]
        .strip_prefix("ext+container:name=Work%20Entra&url=")
        .unwrap_or_else(|| panic!("{}", args[1]));
    // The URL is encoded inside the url= value: its own & and = do not leak out.
    assert!(
        !wrapped.contains('&') && !wrapped.contains('='),
        "{wrapped}"
    );
    assert!(
        text(&out.stderr).contains("Firefox in container \"Work Entra\" (--browser)"),
        "{}",
        text(&out.stderr)
    );

    // The console: a bare firefox-container opens each role in a container named after its
    // profile, or ACCOUNT-ROLE.
    let first = &env.emu.directory().accounts()[0];
    let (account, role) = (first.account_id.clone(), first.roles[0].clone());
    std::fs::remove_file(&log).unwrap();
    for (n, (extra, name)) in [
        (vec!["--profile", "dev"], "dev".to_string()),
        (
            vec!["--account", account.as_str(), "--role", role.as_str()],
            format!("{account}-{role}"),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let out = with_browsers(&env, &bin, &log)
            .args(["console", "--browser", "firefox-container"])
            .args(&extra)
            .env(
                "PORTICO_FEDERATION_ENDPOINT",
                format!("{}/federation", env.emu.url().trim_end_matches('/')),
            )
            .env("FAKE_BROWSER_MODE", "ignore")
            .output()
            .unwrap();
        assert_success(&out);
        assert!(out.stdout.is_empty(), "the link is not printed");
        let runs = recorded_n(&log, n + 1);
        let args = &runs[n].1;
        let expected = format!("ext+container:name={name}&url=http");
        assert!(args[1].starts_with(&expected), "{args:?}");
        assert!(!text(&out.stderr).contains("SigninToken"));
    }
}

#[test]
fn a_template_gets_the_url_as_one_argument_and_never_runs_a_shell() {
    let env = TestEnv::new(Config::default());
    env.login();
    let dir = env.home.path().join("my browsers");
    let bin = fake_bin(&dir, &["open it"]);
    let log = env.home.path().join("argv.jsonl");
    let canary = env.home.path().join("PWNED");
    // A federation endpoint whose query holds what a shell would act on: ; & $( ) and `.
    let endpoint = format!(
        "{}/federation?x=1;touch%20{c};y=$(touch%20{c})&z=`touch%20{c}`",
        env.emu.url().trim_end_matches('/'),
        c = canary.display()
    );
    let template = format!(
        "'{}' --flag=\"a b\" {{url}} --after",
        bin.join("open it").display()
    );
    let out = with_browsers(&env, &bin, &log)
        .args(["console", "--profile", "dev"])
        .env("PORTICO_BROWSER", &template)
        .env("PORTICO_FEDERATION_ENDPOINT", &endpoint)
        .env("FAKE_BROWSER_MODE", "ignore")
        .output()
        .unwrap();
    assert_success(&out);
    let runs = recorded_n(&log, 1);
    assert_eq!(runs.len(), 1, "{runs:?}");
    let args = &runs[0].1;
    assert_eq!(args.len(), 3, "{args:?}");
    assert_eq!(args[0], "--flag=a b");
    assert_eq!(args[2], "--after");
    let url = &args[1];
    assert!(
        url.contains(";touch%20") && url.contains("$(touch") && url.contains("&Action=login"),
        "{url}"
    );
    assert!(url.contains("SigninToken="), "{url}");
    assert!(!canary.exists(), "nothing ran through a shell");
    // The message names the program, not the link.
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("open it") && !stderr.contains("SigninToken"),
        "{stderr}"
    );
}

#[test]
fn precedence_flag_variable_profile_session_browser() {
    let env = TestEnv::new(Config::default());
    env.emu.set_auto_approve(true);
    let bin = fake_bin(env.home.path(), ALL);
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    let config = config
        .replace(
            "sso_registration_scopes = sso:account:access\n",
            "sso_registration_scopes = sso:account:access\nportico_browser = chromium:session\n",
        )
        .replace(
            "[profile dev]\n",
            "[profile dev]\nportico_browser = chrome:profile\n",
        );
    env.write_config(&config);
    let brave = bin.join("brave-browser").display().to_string();
    let run = |args: &[&str], vars: &[(&str, &str)]| -> (String, Vec<String>) {
        let log = env.home.path().join("argv.jsonl");
        let _ = std::fs::remove_file(&log);
        let mut cmd = with_browsers(&env, &bin, &log);
        cmd.arg("login").args(args).env("BROWSER", &brave);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert_success(&out);
        recorded(&log).pop().expect("a browser ran")
    };
    let var = [("PORTICO_BROWSER", "edge:variable")];
    let dev = ["--profile", "dev"];
    let (p, a) = run(&["--profile", "dev", "--browser", "firefox:flag"], &var);
    assert_eq!((p.as_str(), a[1].as_str()), ("firefox", "flag"));
    let (p, a) = run(&dev, &var);
    assert_eq!(
        (p.as_str(), a[0].as_str()),
        ("microsoft-edge", "--profile-directory=variable")
    );
    let (p, a) = run(&dev, &[]);
    assert_eq!(
        (p.as_str(), a[0].as_str()),
        ("google-chrome", "--profile-directory=profile")
    );
    let (p, a) = run(&["--sso-session", "emu"], &[]);
    assert_eq!(
        (p.as_str(), a[0].as_str()),
        ("chromium", "--profile-directory=session")
    );
    // Without any portico setting, BROWSER.
    env.write_config(
        &config
            .replace("portico_browser = chromium:session\n", "")
            .replace("portico_browser = chrome:profile\n", ""),
    );
    let (p, a) = run(&dev, &[]);
    assert_eq!(p, "brave-browser");
    assert!(a[0].starts_with(&authorize_prefix(&env)), "{a:?}");
}

#[test]
fn a_preset_whose_browser_is_missing_fails_naming_what_it_looked_for() {
    let env = TestEnv::new(Config::default());
    env.emu.set_auto_approve(true);
    // Only the alternative name of Chrome is installed.
    let bin = fake_bin(env.home.path(), &["google-chrome-stable"]);
    let log = env.home.path().join("argv.jsonl");
    let out = with_browsers(&env, &bin, &log)
        .args(["login", "--browser", "firefox:work"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "\"firefox:work\" (--browser) needs Firefox, but none of firefox was found on PATH"
        ),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert_eq!(env.stat("RegisterClient"), 0, "decided before any request");

    let out = with_browsers(&env, &bin, &log)
        .args(["login", "--browser", "edge-private"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("none of microsoft-edge, microsoft-edge-stable was found"),
        "{}",
        text(&out.stderr)
    );

    let out = with_browsers(&env, &bin, &log)
        .args(["login", "--browser", "chrome:Work"])
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(recorded(&log)[0].0, "google-chrome-stable");
}

#[test]
fn browser_none_prints_the_sign_in_url_and_opens_nothing() {
    let env = TestEnv::new(Config::default());
    env.emu.set_auto_approve(true);
    let bin = fake_bin(env.home.path(), ALL);
    let log = env.home.path().join("argv.jsonl");
    let mut child = with_browsers(&env, &bin, &log)
        .args(["login", "--browser", "none"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let url = read_url(&mut child, &authorize_prefix(&env));
    follow(&url);
    let status = child.wait().unwrap();
    assert!(status.success());
    assert!(recorded(&log).is_empty(), "no browser ran");
}

/// Reads the child's stderr until a line holds a URL starting with `prefix`; the rest of
/// stderr is drained on a thread, so the child never writes into a closed pipe.
fn read_url(child: &mut std::process::Child, prefix: &str) -> String {
    use std::io::BufRead;
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            let _ = tx.send(line);
        }
    });
    let mut seen = String::new();
    for line in rx {
        if let Some(at) = line.find(prefix) {
            return line[at..].trim().to_string();
        }
        seen.push_str(&line);
        seen.push('\n');
    }
    panic!("no URL starting with {prefix} on stderr:\n{seen}");
}

/// The recorded runs once there are `n` (the browser is started, not waited for).
fn recorded_n(log: &Path, n: usize) -> Vec<(String, Vec<String>)> {
    common::wait_until(std::time::Duration::from_secs(10), || {
        let runs = recorded(log);
        (runs.len() >= n).then_some(runs)
    })
    .unwrap_or_else(|| panic!("{n} browser runs expected: {:?}", recorded(log)))
}

/// Does what the person at the browser does: fetch `url` and follow it to the callback.
fn follow(url: &str) {
    let status = Command::new(python())
        .arg(support("fake-browser.py"))
        .arg(url)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Issue 9, item 5: `--no-browser` on a machine with no display gives the URL (the browser
/// flow), not the device code.
#[test]
fn no_browser_without_a_display_gives_the_url() {
    let env = TestEnv::new(Config::default());
    env.emu.set_auto_approve(true);
    let mut child = env
        .portico()
        .args(["login", "--no-browser"])
        .env("SSH_CONNECTION", "10.0.0.1 22 10.0.0.2 22")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let url = read_url(&mut child, &authorize_prefix(&env));
    follow(&url);
    assert!(child.wait().unwrap().success());
    assert_eq!(env.stat("CreateToken:authorization_code"), 1);
    assert_eq!(env.stat("StartDeviceAuthorization"), 0);
}

/// Issue 9, item 1: where no browser can open, `console` says so and how to get the link,
/// before fetching it; the sign-in token is never printed unasked, nor in an error.
#[test]
fn console_without_a_browser_says_so_and_never_shows_the_token() {
    let env = TestEnv::new(Config::default());
    env.login();
    let federation = format!("{}/federation", env.emu.url().trim_end_matches('/'));
    let out = env
        .portico()
        .args(["console", "--profile", "dev"])
        .env("PORTICO_FEDERATION_ENDPOINT", &federation)
        .env("SSH_CONNECTION", "10.0.0.1 22 10.0.0.2 22")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cannot open the console in a browser: this is an SSH session")
            && stderr.contains("--print"),
        "{stderr}"
    );
    assert!(!stderr.contains("SigninToken"), "{stderr}");
    assert_eq!(
        env.stat("GetSigninToken"),
        0,
        "decided before fetching the link"
    );

    // A display, but the system's URL opener fails (as gio does without a session bus): the
    // error names the openers, never the link.
    let bin = env.home.path().join("failing");
    std::fs::create_dir_all(&bin).unwrap();
    for name in ["xdg-open", "gio"] {
        let path = bin.join(name);
        std::fs::write(&path, "#!/bin/sh\nexit 2\n").unwrap();
        set_executable(&path);
    }
    let out = env
        .portico()
        .args(["console", "--profile", "dev"])
        .env("PORTICO_FEDERATION_ENDPOINT", &federation)
        .env("DISPLAY", ":0")
        .env("PATH", &bin)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("the system's URL opener failed") && stderr.contains("--print"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("SigninToken") && !stderr.contains("federation?"),
        "{stderr}"
    );

    // --print, and the browser `none`, give the link on stdout.
    for how in [["--print"], ["--browser=none"]] {
        let out = env
            .portico()
            .args(["console", "--profile", "dev"])
            .args(how)
            .env("PORTICO_FEDERATION_ENDPOINT", &federation)
            .output()
            .unwrap();
        assert_success(&out);
        assert!(text(&out.stdout).contains("SigninToken="), "{how:?}");
    }
}

/// `login --force`: one Logout with the old token, one new token, and the old access token is
/// refused by the portal afterwards.
#[test]
fn login_force_signs_out_first_and_the_old_token_dies() {
    let env = TestEnv::new(Config::default());
    env.login();
    let old = env.token().unwrap()["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(portal_status(&env, &old), 200);
    let child = env
        .portico()
        .args(["login", "--force", "--device-code"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let code = env.wait_for_user_code();
    env.emu.approve(&code).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_success(&out);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "--force: signed out of sso-session emu first: ended the session at Identity Center"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains(&old), "no token in messages");
    assert_eq!(env.stat("Logout"), 1);
    let new = env.token().unwrap()["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new, old);
    assert_eq!(env.stat("CreateToken:device_code"), 2);
    assert_eq!(portal_status(&env, &old), 401, "the old token is refused");
    assert_eq!(portal_status(&env, &new), 200);
}

/// The HTTP status of ListAccounts with `token`, by a plain request to the emulator.
fn portal_status(env: &TestEnv, token: &str) -> u16 {
    use std::io::{Read, Write};
    let url = url::Url::parse(&env.emu.url()).unwrap();
    let mut stream = std::net::TcpStream::connect((
        url.host_str().unwrap(),
        url.port_or_known_default().unwrap(),
    ))
    .unwrap();
    write!(
        stream,
        "GET /assignment/accounts?max_result=1 HTTP/1.1\r\nHost: {}\r\nx-amz-sso_bearer_token: {token}\r\nConnection: close\r\n\r\n",
        url.host_str().unwrap()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{answer}"))
}

/// With no accounts assigned, the hint names `login --force` and a private window.
#[test]
fn no_accounts_hint_names_force_and_a_private_window() {
    let env = TestEnv::new(Config {
        directory: Directory::from_accounts(Vec::new()).unwrap(),
        ..Config::default()
    });
    env.login();
    let out = env
        .portico()
        .args(["list", "--sso-session", "emu", "--no-login"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("portico login --force") && stderr.contains("private window"),
        "{stderr}"
    );
}

/// `doctor` shows, per session, the command a sign-in would run and whether its program
/// exists.
#[test]
fn doctor_shows_the_browser_command_and_whether_it_exists() {
    let env = TestEnv::new(Config::default());
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&config.replace(
        "sso_registration_scopes = sso:account:access\n",
        "sso_registration_scopes = sso:account:access\nportico_browser = firefox:work\n",
    ));
    let browser_finding = |path: &Path| -> serde_json::Value {
        let log = env.home.path().join("argv.jsonl");
        let out = with_browsers(&env, path, &log)
            .args(["doctor", "--json"])
            .output()
            .unwrap();
        let findings: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
        findings
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check"] == "browser")
            .cloned()
            .unwrap_or_else(|| panic!("no browser check: {findings}"))
    };
    let bin = fake_bin(env.home.path(), &["firefox"]);
    let found = browser_finding(&bin);
    assert_eq!(found["status"], "pass", "{found}");
    assert_eq!(found["session"], "sso-session emu");
    let message = found["message"].as_str().unwrap();
    let expected = format!(
        "portico login would run {} -P work --new-tab URL (portico_browser of [sso-session emu])",
        bin.join("firefox").display()
    );
    assert_eq!(message, expected);

    let empty = env.home.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let missing = browser_finding(&empty);
    assert_eq!(missing["status"], "fail", "{missing}");
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("needs Firefox, but none of firefox was found"),
        "{missing}"
    );
    assert!(missing["fix"]
        .as_str()
        .unwrap()
        .contains("[sso-session emu]"));
}

/// A credential_process call that has to sign in opens the browser set for its profile.
#[test]
fn credentials_sign_in_with_the_profiles_browser() {
    let env = TestEnv::new(Config::default());
    env.emu.set_auto_approve(true);
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&config.replace(
        "[profile dev]\n",
        "[profile dev]\nportico_browser = firefox:everyday\n",
    ));
    let bin = fake_bin(env.home.path(), ALL);
    let log = env.home.path().join("argv.jsonl");
    let out = with_browsers(&env, &bin, &log)
        .args(["credentials", "--profile", "dev"])
        .output()
        .unwrap();
    assert_success(&out);
    let runs = recorded(&log);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].0, "firefox");
    assert_eq!(runs[0].1[..3], ["-P", "everyday", "--new-tab"]);
}

/// botocore (the AWS CLI's and boto3's config reader) passes the `portico_browser` keys by:
/// it still resolves the SSO profile and gets credentials through the shared sign-in, with the
/// key in the profile or in its sso-session; portico reads the same file. botocore refuses a
/// profile whose value differs from its sso-session's (it checks every key the two share), and
/// `doctor` says so. (The Rust SDK's aws-config is not a dependency of portico, so it is not
/// exercised here.)
#[test]
fn botocore_and_portico_still_read_a_config_with_browser_keys() {
    let env = TestEnv::new(Config::default());
    let base = std::fs::read_to_string(env.config_path()).unwrap();
    let in_session = |text: &str| {
        text.replace(
            "sso_registration_scopes = sso:account:access\n",
            "sso_registration_scopes = sso:account:access\nportico_browser = firefox -P 'my work' --new-tab {url}\n",
        )
    };
    let in_profile = |text: &str| {
        text.replace(
            "[profile dev]\n",
            "[profile dev]\nportico_browser = chrome:Profile 1\n",
        )
    };
    env.login();
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyenv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run tests/python-env.sh first (it builds the virtualenv with boto3)",
        python.display()
    );
    let botocore = || -> serde_json::Value {
        let portico = env.portico();
        let mut probe = Command::new(&python);
        probe
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/boto_probe.py"))
            .args(["credentials", "dev"]);
        for (key, value) in portico.get_envs() {
            match value {
                Some(value) => probe.env(key, value),
                None => probe.env_remove(key),
            };
        }
        let out = probe.output().unwrap();
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {} {}", text(&out.stdout), text(&out.stderr)))
    };
    for config in [in_session(&base), in_profile(&base)] {
        env.write_config(&config);
        let result = botocore();
        assert_eq!(result["ok"], true, "{config}\n{result}");
        assert!(result["accessKey"].as_str().is_some_and(|k| !k.is_empty()));
        let out = env
            .portico()
            .args(["credentials", "--profile", "dev", "--no-login"])
            .output()
            .unwrap();
        assert_success(&out);
    }

    // Both, differing: botocore refuses the profile, and doctor says why and what to do.
    env.write_config(&in_profile(&in_session(&base)));
    let result = botocore();
    assert_eq!(result["errorClass"], "InvalidConfigError", "{result}");
    let out = env.portico().args(["doctor", "--json"]).output().unwrap();
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let conflict = findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "browser" && f["status"] == "fail")
        .unwrap_or_else(|| panic!("{findings}"));
    assert!(
        conflict["message"].as_str().unwrap().contains(
            "[profile dev] sets portico_browser = chrome:Profile 1 but its [sso-session emu] says"
        ),
        "{conflict}"
    );
    assert!(conflict["fix"]
        .as_str()
        .unwrap()
        .contains("remove portico_browser from [profile dev]"));
}

/// A credential_process call whose browser cannot open here (a preset with no display, or
/// `none`) fails at once naming `portico login`, instead of a device code nobody sees.
#[test]
fn credentials_whose_browser_cannot_open_fail_at_once() {
    let env = TestEnv::new(Config::default());
    let bin = fake_bin(env.home.path(), ALL);
    let log = env.home.path().join("argv.jsonl");
    for value in ["firefox:everyday", "none"] {
        let config = std::fs::read_to_string(env.config_path()).unwrap();
        let config = config
            .lines()
            .filter(|l| !l.starts_with("portico_browser"))
            .collect::<Vec<_>>()
            .join("\n");
        env.write_config(&config.replace(
            "[profile dev]",
            &format!("[profile dev]\nportico_browser = {value}"),
        ));
        // BROWSER alone would open here; the profile's choice is what cannot.
        let out = with_browsers(&env, &bin, &log)
            .env_remove("DISPLAY")
            .env("BROWSER", bin.join("brave-browser"))
            .args(["credentials", "--profile", "dev"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(4), "{value}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty());
        assert!(
            text(&out.stderr).contains("run `portico login"),
            "{value}: {}",
            text(&out.stderr)
        );
        assert_eq!(env.stat("StartDeviceAuthorization"), 0);
        assert!(recorded(&log).is_empty());
    }
}
