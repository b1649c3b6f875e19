//! Messages and exit codes at the seams (issue 19, items 12–14, 16–18): names from files are
//! cleaned before they reach a terminal, an OS error is said once, the exit code follows the
//! cause, limits are refused with a reason, and a refresh raced by another tool (the AWS CLI,
//! which takes no lock) ends with that tool's token, not a refusal.

mod common;

use std::process::Output;
use std::time::Duration;

use common::{assert_success, awscli, text, wait_until, TestEnv};
use idc_emulator::{Config, FaultsUpdate};

/// The escape sequence every hostile name here carries: "turn the text red".
const RED: &str = "\u{1b}[31m";
/// What it looks like once cleaned.
const CLEANED: &str = "\u{fffd}[31m";

/// Exit codes (portico --help, EXIT STATUS).
const USAGE: i32 = 2;
const CONFIG: i32 = 3;
const LOGIN_REQUIRED: i32 = 4;
const ACCESS_DENIED: i32 = 6;
const CHECKS_FAILED: i32 = 8;

fn run(env: &TestEnv, args: &[&str]) -> Output {
    env.portico()
        .env("AWS_ENDPOINT_URL_STS", env.emu.url())
        .args(args)
        .output()
        .unwrap()
}

/// Neither stream holds an escape character; returns stderr.
fn no_escapes(out: &Output, what: &str) -> String {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        !stdout.contains('\u{1b}') && !stderr.contains('\u{1b}'),
        "{what}: a raw escape sequence reached the terminal\nstdout: {stdout:?}\nstderr: {stderr:?}"
    );
    stderr
}

/// A config whose sso-session, profiles and role carry escape sequences: `p…` names a role the
/// user does not have (so the refusal quotes it), `q…` an sso-session that is not in the file.
fn hostile_config(env: &TestEnv) -> (String, String) {
    let account = &env.emu.directory().accounts()[0];
    let session = format!("e{RED}");
    let profile = format!("p{RED}");
    env.write_config(&format!(
        "[sso-session {session}]\nsso_start_url = {start}\nsso_region = {region}\nsso_registration_scopes = sso:account:access\n\n\
         [profile {profile}]\nsso_session = {session}\nsso_account_id = {id}\nsso_role_name = Admin{RED}\n\n\
         [profile good{RED}]\nsso_session = {session}\nsso_account_id = {id}\nsso_role_name = {role}\n\n\
         [profile q{RED}]\nsso_session = missing{RED}\nsso_account_id = {id}\nsso_role_name = {role}\n",
        start = env.emu.start_url(),
        region = env.emu.region(),
        id = account.account_id,
        role = account.roles[0],
    ));
    (session, profile)
}

/// Item 12: every message that quotes a name from the file cleans it — in `list`,
/// `credentials`, `exec`, `logout` and `console`, signed in or not, with and without `-v`.
#[test]
fn names_with_escape_sequences_are_cleaned_in_every_message() {
    let env = TestEnv::new(Config::default());
    let (session, profile) = hostile_config(&env);
    let good = format!("good{RED}");
    let missing = format!("q{RED}");

    // Not signed in: each command names the sso-session it needs a sign-in to.
    for args in [
        vec!["list"],
        vec!["list", "--sso-session", &session],
        vec!["credentials", "--profile", &profile],
        vec!["exec", "--profile", &profile, "--", "true"],
        vec!["console", "--print", "--profile", &profile],
        vec!["-v", "credentials", "--profile", &good],
    ] {
        let out = run(&env, &args);
        let stderr = no_escapes(&out, &args.join(" "));
        assert_eq!(
            out.status.code(),
            Some(LOGIN_REQUIRED),
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains(&format!("not signed in to sso-session e{CLEANED}"))
                && stderr.contains(&format!("--sso-session e{CLEANED}")),
            "{args:?}: {stderr}"
        );
    }
    // A profile naming an sso-session that is not in the file.
    let out = run(&env, &["credentials", "--profile", &missing]);
    let stderr = no_escapes(&out, "credentials --profile q…");
    assert_eq!(out.status.code(), Some(CONFIG), "{stderr}");
    assert!(stderr.contains(&format!("missing{CLEANED}")), "{stderr}");
    // Nothing to sign out of.
    let out = run(&env, &["logout", "--sso-session", &session]);
    let stderr = no_escapes(&out, "logout before login");
    assert!(
        stderr.contains(&format!("not signed in to sso-session e{CLEANED}")),
        "{stderr}"
    );

    // Signed in (its own lines name the session too).
    let child = env
        .portico()
        .args(["login", "--device-code", "--sso-session", &session])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let code = env.wait_for_user_code();
    env.emu.approve(&code).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_success(&out);
    no_escapes(&out, "login");

    // A role the user does not have: the refusal quotes the role's name.
    for args in [
        vec!["-vv", "credentials", "--profile", &profile],
        vec!["-v", "exec", "--profile", &profile, "--", "true"],
    ] {
        let out = run(&env, &args);
        let stderr = no_escapes(&out, &args.join(" "));
        assert_eq!(out.status.code(), Some(ACCESS_DENIED), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("Admin{CLEANED}")),
            "{args:?}: {stderr}"
        );
    }
    for args in [
        vec!["-vv", "credentials", "--profile", &good],
        vec!["-vv", "list", "--sso-session", &session],
        vec!["status"],
    ] {
        let out = run(&env, &args);
        no_escapes(&out, &args.join(" "));
        assert_success(&out);
    }
    let out = run(&env, &["-v", "logout", "--sso-session", &session]);
    let stderr = no_escapes(&out, "logout");
    assert_success(&out);
    assert!(
        stderr.contains(&format!("signed out of sso-session e{CLEANED}")),
        "{stderr}"
    );
}

/// How many times an OS error ("(os error N)") is quoted.
fn os_errors(stderr: &str) -> usize {
    stderr.matches("(os error").count()
}

/// Item 13: a token path that is a directory is a sign-in to replace (exit 4, as a corrupt
/// token file), said in one line; an OS error in a message is said once.
#[test]
fn a_token_path_that_is_a_directory_exits_as_a_token_problem_and_says_it_once() {
    let env = TestEnv::new(Config::default());
    std::fs::create_dir_all(env.token_path()).unwrap();
    for args in [
        vec!["credentials", "--profile", "dev"],
        vec!["list"],
        vec!["exec", "--profile", "dev", "--", "true"],
        vec!["logout"],
    ] {
        let out = run(&env, &args);
        let stderr = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(LOGIN_REQUIRED),
            "{args:?}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains("is a directory, not a token file") && os_errors(&stderr) == 0,
            "{args:?}: {stderr}"
        );
    }

    // `~/.aws/sso` is a file: reading the token fails with ENOTDIR, quoted once.
    let env = TestEnv::new(Config::default());
    std::fs::write(env.home.path().join(".aws/sso"), "not a directory").unwrap();
    let out = run(&env, &["credentials", "--profile", "dev"]);
    let stderr = text(&out.stderr);
    assert_eq!(os_errors(&stderr), 1, "{stderr}");
    assert!(stderr.contains("(os error 20)"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// Item 14: `status` with a config that is a symlink loop fails as every other command does.
#[test]
fn status_with_a_config_that_is_a_symlink_loop_exits_3_like_the_others() {
    let env = TestEnv::new(Config::default());
    let config = env.config_path();
    std::fs::remove_file(&config).unwrap();
    std::os::unix::fs::symlink(&config, &config).unwrap();
    let list = run(&env, &["list"]);
    assert_eq!(list.status.code(), Some(CONFIG), "{}", text(&list.stderr));
    for args in [vec!["status"], vec!["status", "--json"]] {
        let out = run(&env, &args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(CONFIG), "{args:?}: {stderr}");
        assert_eq!(stderr, text(&list.stderr), "{args:?}");
        assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    }
}

/// Item 14: a `--timeout` past a day is refused with the limit, not turned into "up to
/// 2562047788015215 h".
#[test]
fn a_timeout_past_a_day_is_refused_with_the_limit() {
    let env = TestEnv::new(Config::default());
    for value in ["86401", "9223372036854775807", "99999999999999999999999"] {
        // Bounded: a value taken as valid would start a sign-in that waits for a browser.
        let (out, _) = common::output_within(
            env.portico().args(["login", "--timeout", value]),
            Duration::from_secs(60),
        );
        let out = out.expect("a refused --timeout ends at once");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(USAGE), "{value}: {stderr}");
        assert!(
            stderr.contains("more than a day") && stderr.contains("86400"),
            "{value}: {stderr}"
        );
        assert!(!stderr.contains(" h"), "{value}: {stderr}");
    }
    let out = run(&env, &["login", "--timeout", "0"]);
    assert_eq!(out.status.code(), Some(USAGE));
    assert!(text(&out.stderr).contains("above 0"));
}

/// Item 14: doctor under throttling says the service throttled, not that it was silent.
#[test]
fn doctor_under_throttling_says_it_was_throttled() {
    let env = TestEnv::new(Config::default());
    env.login();
    // A bucket of one call, refilled once in 1000 s: the first ListAccounts passes, every later
    // portal call is answered 429.
    env.emu
        .update_faults(FaultsUpdate {
            throttle_rps: Some(0.001),
            ..FaultsUpdate::default()
        })
        .unwrap();
    let first = run(&env, &["doctor", "--json"]);
    let findings: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let assignments = |findings: &serde_json::Value| {
        findings
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check"] == "assignments")
            .cloned()
            .unwrap()
    };
    assert_eq!(assignments(&findings)["status"], "pass", "{findings:#}");

    let out = run(&env, &["doctor", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(CHECKS_FAILED),
        "{}",
        text(&out.stderr)
    );
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let finding = assignments(&findings);
    let message = finding["message"].as_str().unwrap();
    assert_eq!(finding["status"], "fail", "{findings:#}");
    assert!(
        message.contains("throttled ListAccounts") && message.contains("429"),
        "{message}"
    );
    assert!(!message.contains("no answer"), "{message}");
    assert!(
        finding["fix"].as_str().unwrap().contains("wait a minute"),
        "{finding}"
    );
    assert!(env.stat("throttled") > 0);
}

// ---------------------------------------------------------------------------------------------
// Items 16 and 18: refreshes raced by other programs and by other portico processes.

/// The token file with its access token made expired (a refresh is then needed at once).
fn expire_access_token(env: &TestEnv) -> serde_json::Value {
    let mut token = env.token().expect("signed in");
    token["expiresAt"] = "2020-01-01T00:00:00Z".into();
    std::fs::write(env.token_path(), serde_json::to_vec(&token).unwrap()).unwrap();
    token
}

/// What another program (the AWS CLI) does on refresh: CreateToken with the file's refresh
/// token, and a token file as it would write it. The refresh token in `token` is spent after.
fn refresh_as_another_program(env: &TestEnv, token: &serde_json::Value) -> serde_json::Value {
    let session = portico::settings::SsoSession {
        name: Some("emu".into()),
        start_url: env.emu.start_url(),
        region: env.emu.region(),
        scopes: vec!["sso:account:access".into()],
        configured_scopes: None,
        oidc_endpoint: env.emu.url(),
        portal_endpoint: env.emu.url(),
        storage: Default::default(),
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let out = runtime
        .block_on(
            portico::aws::oidc_client(&session)
                .create_token()
                .client_id(token["clientId"].as_str().unwrap())
                .client_secret(token["clientSecret"].as_str().unwrap())
                .grant_type("refresh_token")
                .refresh_token(token["refreshToken"].as_str().unwrap())
                .send(),
        )
        .expect("the other program's refresh");
    let mut newer = token.clone();
    newer["accessToken"] = out.access_token().unwrap().into();
    newer["refreshToken"] = out.refresh_token().unwrap().into();
    let expires =
        time::OffsetDateTime::now_utc() + time::Duration::seconds(out.expires_in().into());
    newer["expiresAt"] = portico::timefmt::rfc3339_z(expires).into();
    newer
}

/// botocore's `JSONFileCache` write: in place, truncate then write (not a rename).
fn write_in_place(path: &std::path::Path, value: &serde_json::Value) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .unwrap();
    file.write_all(&serde_json::to_vec(value).unwrap()).unwrap();
}

/// Waits (with a deadline) until `n` refresh-token grants are held at the emulator's refresh
/// gate; `child`, whose refresh is the last one awaited, must not end before.
fn wait_held(env: &TestEnv, child: &mut std::process::Child, n: usize, who: &str) {
    wait_until(Duration::from_secs(120), || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{who} ended ({status}) before its refresh reached Identity Center");
        }
        (env.emu.refresh_gate().held == n).then_some(())
    })
    .unwrap_or_else(|| panic!("{who}'s refresh never reached Identity Center"));
}

/// Item 16, deterministic: another program spent the refresh token, and writes its token while
/// portico's refresh is on its way (the AWS CLI writes after its answer, and takes no lock):
/// the emulator holds portico's refresh until the file is written, then refuses it. portico
/// looks at the file again and uses that token: no sign-in needed, no refusal remembered, and
/// the other program's file is left as it wrote it.
#[test]
fn a_refresh_refused_because_another_program_spent_the_token_uses_that_programs_token() {
    let env = TestEnv::new(Config::default());
    env.login();
    let token = expire_access_token(&env);
    let newer = refresh_as_another_program(&env, &token);
    let refreshes_before = env.stat("CreateToken:refresh_token");

    env.emu.hold_refreshes(1);
    let mut child = env
        .portico()
        .args(["-v", "credentials", "--profile", "dev"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_held(&env, &mut child, 1, "portico");
    // The other program's write lands while portico's refresh waits for its answer.
    write_in_place(&env.token_path(), &newer);
    assert_eq!(env.emu.release_refreshes(None), 1);
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\n{stderr}",
        out.status.code()
    );
    assert!(
        stderr.contains("refused the refresh"),
        "the refresh was not refused:\n{stderr}"
    );
    let creds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(creds["AccessKeyId"].is_string(), "{creds}");
    assert!(
        stderr.contains("another program refreshed the sign-in"),
        "{stderr}"
    );
    assert_eq!(
        env.stat("CreateToken:refresh_token"),
        refreshes_before + 1,
        "one refused refresh, no sign-in"
    );
    assert_eq!(
        env.token().unwrap(),
        newer,
        "the other program's file is kept"
    );
    // status does not call the other program's token refused.
    let status = run(&env, &["status"]);
    let said = text(&status.stdout);
    assert!(
        said.contains("refreshes automatically") && !said.contains("refused"),
        "{said}"
    );
}

/// Item 16: a refresh refused while the file still holds the refused token is remembered —
/// and the next portico process neither asks Identity Center again nor waits again.
#[test]
fn a_refusal_of_the_current_token_is_remembered_and_not_asked_again() {
    let env = TestEnv::new(Config::default());
    env.login();
    let token = expire_access_token(&env);
    // Spent by someone who never writes the file back.
    refresh_as_another_program(&env, &token);
    let before = env.stat("CreateToken:refresh_token");
    let out = run(&env, &["credentials", "--profile", "dev"]);
    assert_eq!(
        out.status.code(),
        Some(LOGIN_REQUIRED),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("refused to refresh"));
    assert_eq!(env.stat("CreateToken:refresh_token"), before + 1);
    let status = run(&env, &["status"]);
    assert!(text(&status.stdout).contains("refused to refresh it at"));
    let again = run(&env, &["credentials", "--profile", "dev"]);
    assert_eq!(again.status.code(), Some(LOGIN_REQUIRED));
    assert_eq!(
        env.stat("CreateToken:refresh_token"),
        before + 1,
        "not asked again"
    );
}

/// `~/.cache/portico/locks/{sha1("emu")}.lock`, the session lock portico processes share.
fn session_lock(env: &TestEnv) -> std::fs::File {
    let dir = env.home.path().join(".cache/portico/locks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("6551e797240051925b8a62615f4c8baaa4c1698c.lock"))
        .unwrap()
}

/// Item 18: a process that waits on another's refresh says "refreshing", not "signing in".
#[test]
fn waiting_on_another_process_that_refreshes_says_refreshing() {
    use std::io::{BufRead, BufReader};
    let env = TestEnv::new(Config::default());
    env.login();
    expire_access_token(&env);
    // Another portico process holds the session lock (as one refreshing would).
    let lock = session_lock(&env);
    lock.lock().unwrap();
    let mut child = env
        .portico()
        .args(["credentials", "--profile", "dev"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("waiting for it") {
                let _ = tx.send(line.clone());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("portico waits for the lock");
    assert_eq!(
        line,
        "portico: another portico process is refreshing the sign-in to sso-session emu; waiting for it…"
    );
    lock.unlock().unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = reader.join().unwrap();
    assert!(out.status.success(), "{stderr}");
}

/// Item 16 with the real AWS CLI: with the access token already expired, `aws configure
/// export-credentials` and `portico credentials` both refresh with the refresh token in the
/// file (the AWS CLI takes no lock). The emulator holds both refreshes until both have
/// arrived, then lets the AWS CLI's go first: it spends the refresh token and writes its token,
/// and portico's refresh is refused. portico then uses the AWS CLI's token: it gets keys, the
/// file keeps the AWS CLI's token, and no refusal is remembered. Two more portico processes
/// that start meanwhile wait for the first one's lock and use that token without refreshing.
/// The race is staged by the order of the answers, so it happens every round. (The issue's
/// round was five of each at once; which of them raced depended on timing.)
#[test]
fn portico_racing_the_aws_cli_for_a_refresh_uses_the_token_the_cli_wrote() {
    if !awscli::installed() {
        return;
    }
    let env = TestEnv::new(Config::default());
    awscli::point_at_emulator(&env);
    env.login();
    for round in 0..2 {
        // Both tools keep role keys; without them, each needs the token at once.
        for cache in [".aws/cli/cache", ".cache/portico/credentials"] {
            let _ = std::fs::remove_dir_all(env.home.path().join(cache));
        }
        let spent = expire_access_token(&env);
        let refreshes = env.stat("CreateToken:refresh_token");
        env.emu.hold_refreshes(2);

        let mut cmd = awscli::command(&env);
        cmd.args(["configure", "export-credentials", "--profile", "dev"]);
        let mut cli = spawn_piped(cmd);
        wait_held(&env, &mut cli, 1, "the AWS CLI");
        let mut cmd = env.portico();
        cmd.args(["-v", "credentials", "--profile", "dev"]);
        let mut racer = spawn_piped(cmd);
        wait_held(&env, &mut racer, 2, "portico");
        // Held in its refresh, this portico process holds the session lock: these wait for it.
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let mut cmd = env.portico();
                cmd.args(["-v", "credentials", "--profile", "dev"]);
                spawn_piped(cmd)
            })
            .collect();

        // The AWS CLI's refresh is answered first: it spends the refresh token.
        assert_eq!(env.emu.release_refreshes(Some(1)), 1);
        let out = cli.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "round {round}: the AWS CLI failed:\n{}",
            text(&out.stderr)
        );
        let written = env.token().expect("the AWS CLI wrote its token");
        assert_ne!(
            written["accessToken"], spent["accessToken"],
            "round {round}: the AWS CLI refreshed"
        );
        // portico's refresh, with the same refresh token, is refused.
        assert_eq!(env.emu.release_refreshes(None), 1);
        let out = racer.wait_with_output().unwrap();
        let stderr = text(&out.stderr);
        assert!(
            out.status.success(),
            "round {round}: portico failed (exit {:?}):\n{stderr}",
            out.status.code()
        );
        assert!(
            stderr.contains("refused the refresh")
                && stderr.contains("another program refreshed the sign-in"),
            "round {round}: portico did not use the AWS CLI's token:\n{stderr}"
        );
        let creds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(creds["AccessKeyId"].is_string(), "{creds}");
        for waiter in waiters {
            let out = waiter.wait_with_output().unwrap();
            let stderr = text(&out.stderr);
            assert!(out.status.success(), "round {round}: {stderr}");
            assert!(
                !stderr.contains("refus"),
                "round {round}: a waiter refreshed:\n{stderr}"
            );
            let creds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert!(creds["AccessKeyId"].is_string(), "{creds}");
        }
        assert_eq!(
            env.stat("CreateToken:refresh_token"),
            refreshes + 2,
            "round {round}: the AWS CLI's refresh and portico's refused one, nothing more"
        );
        assert_eq!(
            env.emu.refresh_gate(),
            idc_emulator::GateState { armed: 0, held: 0 }
        );
        assert_eq!(
            env.token().unwrap(),
            written,
            "round {round}: the AWS CLI's token is kept"
        );
        let status = run(&env, &["status"]);
        let said = text(&status.stdout);
        assert!(
            said.contains("refreshes automatically") && !said.contains("refused"),
            "round {round}: {said}"
        );
    }
}

fn spawn_piped(mut cmd: std::process::Command) -> std::process::Child {
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Item 17: the client registration the AWS CLI shares.

/// The config of TestEnv without `sso_registration_scopes` (as `aws configure sso` may leave it).
fn without_registration_scopes(env: &TestEnv) {
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&config.replace("sso_registration_scopes = sso:account:access\n", ""));
}

/// The files in `~/.aws/sso/cache` other than the token: the shared registration(s).
fn registrations(env: &TestEnv) -> Vec<serde_json::Value> {
    let dir = env.home.path().join(".aws/sso/cache");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path != env.token_path() {
            found.push(serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap());
        }
    }
    found
}

fn aws_sso_login(env: &TestEnv) {
    let mut cmd = awscli::command(env);
    cmd.args(["sso", "login", "--profile", "dev", "--no-browser"]);
    let (out, _) = common::output_within(&mut cmd, Duration::from_secs(120));
    let out = out.expect("aws sso login ends (the emulator approves at once)");
    assert_success(&out);
}

/// After `aws sso login` (device code) with no `sso_registration_scopes`, the shared file holds
/// a registration without scopes: it gets no refresh token, so portico's device login cannot use
/// it. portico keeps a registration of its own instead of taking the file, so that neither tool
/// registers again on its next sign-in.
#[test]
fn after_the_aws_clis_device_login_both_tools_keep_their_registrations() {
    if !awscli::installed() {
        return;
    }
    let env = TestEnv::new(Config::default());
    without_registration_scopes(&env);
    awscli::point_at_emulator(&env);
    env.emu.set_auto_approve(true);

    aws_sso_login(&env);
    assert_eq!(env.stat("RegisterClient"), 1);
    let cli = registrations(&env);
    assert_eq!(cli.len(), 1, "{cli:?}");
    assert!(cli[0].get("scopes").is_none(), "{}", cli[0]);

    let out = run(&env, &["login", "--device-code"]);
    assert_success(&out);
    assert_eq!(
        env.stat("RegisterClient"),
        2,
        "portico needs a scoped client"
    );
    assert!(
        env.token().unwrap()["refreshToken"].is_string(),
        "portico's sign-in can refresh"
    );
    assert_eq!(
        registrations(&env),
        cli,
        "the AWS CLI's registration is left in place"
    );

    // Each tool's next sign-in reuses its own registration.
    let out = run(&env, &["login", "--device-code", "--force"]);
    assert_success(&out);
    aws_sso_login(&env);
    assert_eq!(env.stat("RegisterClient"), 2, "nobody registered again");
    assert_eq!(registrations(&env), cli);
    let mut export = awscli::command(&env);
    export.args(["configure", "export-credentials", "--profile", "dev"]);
    assert_success(&export.output().unwrap());
}

/// The other way round: a registration portico made first serves the AWS CLI's device flow,
/// which reuses it — one RegisterClient for both tools.
#[test]
fn the_aws_cli_reuses_the_registration_portico_made() {
    if !awscli::installed() {
        return;
    }
    let env = TestEnv::new(Config::default());
    without_registration_scopes(&env);
    awscli::point_at_emulator(&env);
    env.emu.set_auto_approve(true);
    assert_success(&run(&env, &["login", "--device-code"]));
    let ours = registrations(&env);
    assert_eq!(ours.len(), 1);
    aws_sso_login(&env);
    assert_success(&run(&env, &["login", "--device-code", "--force"]));
    assert_eq!(env.stat("RegisterClient"), 1);
    assert_eq!(registrations(&env), ours);
}
