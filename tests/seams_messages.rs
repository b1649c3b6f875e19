//! Messages and exit codes at the seams (issue 19, items 12–14, 16–18): names from files are
//! cleaned before they reach a terminal, an OS error is said once, the exit code follows the
//! cause, limits are refused with a reason, and a refresh raced by another tool (the AWS CLI,
//! which takes no lock) ends with that tool's token, not a refusal.

mod common;

use std::process::Output;
use std::time::Duration;

use common::{assert_success, text, TestEnv};
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
