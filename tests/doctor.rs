//! `portico doctor` end to end: the real binary against the emulator with a temporary HOME —
//! a healthy set-up, and each failure the issue names (wrong region, expired token, a cache
//! others can read, no assignments), plus the credential_process and endpoint checks.

mod common;

use std::process::Output;
use std::time::Duration;

use common::{text, TestEnv};
use idc_emulator::{Config, Directory, FaultsUpdate};
use serde_json::Value;

/// Exit status when a check failed (portico --help, EXIT STATUS).
const CHECKS_FAILED: i32 = 8;

fn doctor(env: &TestEnv, args: &[&str]) -> Output {
    env.portico()
        .env("AWS_ENDPOINT_URL_STS", env.emu.url())
        .arg("doctor")
        .args(args)
        .output()
        .unwrap()
}

/// Adds `[saml-session corp]` for the emulator's IdP (its STS through AWS_ENDPOINT_URL_STS).
fn add_saml_session(env: &TestEnv, extra: &str) {
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&format!(
        "{config}\n[saml-session corp]\nidp_url = {}\n{extra}",
        env.emu.saml_idp_url()
    ));
}

/// The `--json` report, checked for shape.
fn report(env: &TestEnv) -> (Option<i32>, Vec<Value>) {
    let out = doctor(env, &["--json"]);
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stdout)));
    for f in &findings {
        assert!(f["check"].is_string(), "{f}");
        assert!(
            ["pass", "warn", "fail", "skip"].contains(&f["status"].as_str().unwrap()),
            "{f}"
        );
        assert!(f["message"].is_string(), "{f}");
        assert!(f["fix"].is_string() || f["fix"].is_null(), "{f}");
        if f["status"] == "fail" {
            assert!(f["fix"].is_string(), "every failure says what to do: {f}");
        }
    }
    (out.status.code(), findings)
}

fn find<'a>(findings: &'a [Value], check: &str, status: &str) -> Vec<&'a Value> {
    findings
        .iter()
        .filter(|f| f["check"] == check && f["status"] == status)
        .collect()
}

fn failures(findings: &[Value]) -> Vec<&Value> {
    findings.iter().filter(|f| f["status"] == "fail").collect()
}

fn signed_in(config: Config) -> TestEnv {
    let env = TestEnv::new(config);
    env.login();
    env
}

#[test]
fn a_healthy_set_up_passes() {
    let env = signed_in(Config::default());
    let out = doctor(&env, &[]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(!stdout.contains('✗'), "{stdout}");
    for line in [
        "✓ config",
        "✓ profiles",
        "✓ credential-process",
        "✓ cache-permissions",
        "\nsso-session emu\n",
        "✓ token",
        "✓ refresh",
        "✓ oidc-endpoint",
        "✓ portal-endpoint",
        "✓ clock",
        "✓ start-url-region",
        "✓ assignments",
        "0 failed, 0 warnings",
    ] {
        assert!(stdout.contains(line), "{line:?} missing in:\n{stdout}");
    }
    assert!(stdout.contains("12 accounts are assigned"), "{stdout}");

    let (code, findings) = report(&env);
    assert_eq!(code, Some(0));
    assert!(
        findings.iter().all(|f| f["status"] == "pass"),
        "{findings:#?}"
    );
    let clock = &find(&findings, "clock", "pass")[0];
    assert_eq!(clock["session"], "sso-session emu");
    assert!(find(&findings, "config", "pass")[0]["session"].is_null());
}

#[test]
fn a_start_url_the_region_does_not_know_fails_as_a_wrong_region() {
    let env = signed_in(Config::default());
    // The emulator's region serves only its own start URL and refuses others with
    // InvalidRequestException, as the service does.
    env.write_config(&format!(
        "[sso-session emu]\nsso_start_url = https://d-9999999999.awsapps.com/start\nsso_region = {}\n\
         sso_registration_scopes = sso:account:access\n",
        env.emu.region()
    ));
    let (code, findings) = report(&env);
    assert_eq!(code, Some(CHECKS_FAILED));
    let wrong = find(&findings, "start-url-region", "fail");
    assert_eq!(wrong.len(), 1, "{findings:#?}");
    let message = wrong[0]["message"].as_str().unwrap();
    assert!(
        message.contains("wrong sso_region") && message.contains("d-9999999999"),
        "{message}"
    );
    assert!(wrong[0]["fix"].as_str().unwrap().contains("sso_region"));
    // The token was issued for the other start URL: that is said too, as the token check's
    // one verdict (not a warning and a pass side by side).
    let tokens: Vec<&Value> = findings.iter().filter(|f| f["check"] == "token").collect();
    assert_eq!(tokens.len(), 1, "{findings:#?}");
    assert_eq!(tokens[0]["status"], "warn", "{findings:#?}");
    let message = tokens[0]["message"].as_str().unwrap();
    assert!(
        message.contains("signed in until") && message.contains(&env.emu.start_url()),
        "{message}"
    );

    let out = doctor(&env, &[]);
    assert_eq!(out.status.code(), Some(CHECKS_FAILED));
    assert!(text(&out.stdout).contains("✗ start-url-region"));
}

#[test]
fn an_expired_token_that_cannot_refresh_fails() {
    let env = signed_in(Config::default());
    let mut token = env.token().unwrap();
    let object = token.as_object_mut().unwrap();
    object.insert("expiresAt".into(), "2020-01-01T00:00:00Z".into());
    object.remove("refreshToken");
    std::fs::write(env.token_path(), serde_json::to_vec(&token).unwrap()).unwrap();

    let (code, findings) = report(&env);
    assert_eq!(code, Some(CHECKS_FAILED));
    let expired = find(&findings, "token", "fail");
    assert_eq!(expired.len(), 1, "{findings:#?}");
    let message = expired[0]["message"].as_str().unwrap();
    assert!(
        message.contains("expired at 2020-01-01T00:00:00Z") && message.contains("no refresh token"),
        "{message}"
    );
    assert!(expired[0]["fix"]
        .as_str()
        .unwrap()
        .contains("portico login --sso-session emu"));
    assert_eq!(find(&findings, "refresh", "warn").len(), 1);
    assert_eq!(find(&findings, "assignments", "skip").len(), 1);
    assert_eq!(failures(&findings).len(), 1, "{findings:#?}");
}

#[cfg(unix)]
#[test]
fn a_cache_others_can_read_fails_with_the_chmod_that_fixes_it() {
    use std::os::unix::fs::PermissionsExt;
    let env = signed_in(Config::default());
    let token = env.token_path();
    let dir = token.parent().unwrap().to_path_buf();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();

    let (code, findings) = report(&env);
    assert_eq!(code, Some(CHECKS_FAILED));
    let failed = find(&findings, "cache-permissions", "fail");
    assert_eq!(failed.len(), 1, "{findings:#?}");
    assert_eq!(
        failed[0]["fix"].as_str().unwrap(),
        format!("chmod 600 {}", token.display())
    );
    assert!(failed[0]["message"].as_str().unwrap().contains("(0644)"));
    assert_eq!(failures(&findings).len(), 1, "{findings:#?}");
    // The folder others can list is a warning (see the next test), with its own fix.
    let open_dir = find(&findings, "cache-permissions", "warn");
    assert_eq!(open_dir.len(), 1, "{findings:#?}");
    assert_eq!(
        open_dir[0]["fix"].as_str().unwrap(),
        format!("chmod 700 {}", dir.display())
    );

    // The fix works.
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(report(&env).0, Some(0));
}

/// The AWS CLI creates ~/.aws/sso/cache with the umask (0755) and its files 0600: others can
/// list hashed names and read nothing. That is a warning with the fix, not a failure.
#[cfg(unix)]
#[test]
fn the_aws_clis_sso_cache_folder_0755_is_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let env = signed_in(Config::default());
    let dir = env.token_path().parent().unwrap().to_path_buf();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();

    let (code, findings) = report(&env);
    assert_eq!(code, Some(0), "{findings:#?}");
    let warned = find(&findings, "cache-permissions", "warn");
    assert_eq!(warned.len(), 1, "{findings:#?}");
    let message = warned[0]["message"].as_str().unwrap();
    assert!(
        message.contains("0755") && message.contains("AWS CLI"),
        "{message}"
    );
    assert_eq!(
        warned[0]["fix"].as_str().unwrap(),
        format!("chmod 700 {}", dir.display())
    );
    let out = doctor(&env, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stdout).contains("0 failed, 1 warning"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn no_assignments_names_the_administrator_and_scim() {
    let env = signed_in(Config {
        directory: Directory::from_accounts(vec![]).unwrap(),
        ..Config::default()
    });
    let (code, findings) = report(&env);
    assert_eq!(code, Some(CHECKS_FAILED));
    let none = find(&findings, "assignments", "fail");
    assert_eq!(none.len(), 1, "{findings:#?}");
    let message = none[0]["message"].as_str().unwrap();
    assert!(
        message.contains("no AWS account is assigned")
            && message.contains("administrator")
            && message.contains("SCIM"),
        "{message}"
    );
    assert_eq!(failures(&findings).len(), 1, "{findings:#?}");
}

#[test]
fn credential_process_lines_must_name_a_profile_that_exists() {
    let env = signed_in(Config::default());
    let mut config = std::fs::read_to_string(env.config_path()).unwrap();
    config.push_str(
        "\n[profile ok]\ncredential_process = portico credentials --profile dev\n\
         \n[profile broken]\ncredential_process = portico -v credentials --profile=nope --format process\n\
         \n[profile other-tool]\ncredential_process = aws-vault exec nope --json\n",
    );
    env.write_config(&config);
    let (code, findings) = report(&env);
    assert_eq!(code, Some(CHECKS_FAILED));
    let failed = find(&findings, "credential-process", "fail");
    assert_eq!(failed.len(), 1, "{findings:#?}");
    let message = failed[0]["message"].as_str().unwrap();
    assert!(
        message.contains("profile broken") && message.contains("profile nope"),
        "{message}"
    );
    assert_eq!(failures(&findings).len(), 1, "{findings:#?}");
}

#[test]
fn an_endpoint_that_does_not_answer_is_named() {
    let env = signed_in(Config::default());
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = env
        .portico()
        .env("AWS_ENDPOINT_URL_SSO", &url)
        .args(["doctor", "--json", "--sso-session", "emu"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(CHECKS_FAILED));
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let failed = find(&findings, "portal-endpoint", "fail");
    assert_eq!(failed.len(), 1, "{findings:#?}");
    assert!(failed[0]["message"].as_str().unwrap().contains(&url));
    assert!(failed[0]["fix"]
        .as_str()
        .unwrap()
        .contains("AWS_ENDPOINT_URL_SSO"));
    assert_eq!(find(&findings, "assignments", "skip").len(), 1);
    assert_eq!(find(&findings, "oidc-endpoint", "pass").len(), 1);
}

#[test]
fn a_config_botocore_refuses_is_a_warning_and_a_broken_one_a_failure() {
    let env = signed_in(Config::default());
    let good = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&format!("{good}\n[profile dev]\noutput = json\n"));
    let (code, findings) = report(&env);
    assert_eq!(code, Some(0), "{findings:#?}");
    let warned = find(&findings, "config", "warn");
    assert_eq!(warned.len(), 1, "{findings:#?}");
    assert!(warned[0]["message"]
        .as_str()
        .unwrap()
        .contains("repeats the one on line"));

    env.write_config(&format!("{good}\nthis is not ini\n"));
    let (code, findings) = report(&env);
    assert_eq!(code, Some(CHECKS_FAILED));
    let failed = find(&findings, "config", "fail");
    assert_eq!(failed.len(), 1, "{findings:#?}");
    assert!(failed[0]["fix"].as_str().unwrap().starts_with("fix line "));
}

#[test]
fn a_service_that_does_not_answer_costs_doctor_seconds_not_minutes() {
    let env = signed_in(Config::default());
    // The endpoints' roots answer at once, but every OIDC and portal call hangs for a minute.
    env.emu
        .update_faults(FaultsUpdate {
            latency_ms: Some(60_000),
            ..FaultsUpdate::default()
        })
        .unwrap();
    env.emu.reset_stats();
    // One attempt to AWS may take 2 s; the SDK would make three of them per call, with
    // back-off between. Each call gets one attempt: counted at the emulator, not timed.
    let out = env
        .portico()
        .args(["doctor", "--json"])
        .env("PORTICO_HTTP_TIMEOUT", "2")
        .output()
        .unwrap();
    for call in ["RegisterClient", "ListAccounts"] {
        common::wait_until(Duration::from_secs(20), || {
            (env.stat(call) >= 1).then_some(())
        })
        .unwrap_or_else(|| panic!("doctor made no {call} call"));
        assert_eq!(env.stat(call), 1, "one {call} attempt, not the SDK's three");
    }
    assert_eq!(
        out.status.code(),
        Some(CHECKS_FAILED),
        "{}",
        text(&out.stderr)
    );
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let region = find(&findings, "start-url-region", "warn");
    assert_eq!(region.len(), 1, "{findings:#?}");
    assert!(
        region[0]["message"]
            .as_str()
            .unwrap()
            .contains("RegisterClient had no answer from"),
        "{findings:#?}"
    );
    let assignments = find(&findings, "assignments", "fail");
    assert_eq!(assignments.len(), 1, "{findings:#?}");
    let message = assignments[0]["message"].as_str().unwrap();
    assert!(
        message.contains("ListAccounts had no answer") && message.contains("within 2 s"),
        "{message}"
    );
    assert!(assignments[0]["fix"]
        .as_str()
        .unwrap()
        .contains("again later"));
}

/// The checks `portico doctor --help` lists are the checks of the type, in its order, and a
/// run reports each of them under that name (a healthy set-up all but `sessions`, which a
/// missing session adds), and no other.
#[test]
fn the_help_lists_the_checks_a_run_reports() {
    use portico::doctor::Check;
    let env = signed_in(Config::default());
    add_saml_session(&env, "");
    let help = text(&doctor(&env, &["--help"]).stdout);
    let listed: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Checks of the whole set-up:"))
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let all: Vec<&str> = Check::ALL.iter().map(|c| c.name()).collect();
    assert_eq!(listed, all, "{help}");

    let (code, findings) = report(&env);
    assert_eq!(code, Some(0), "{findings:#?}");
    let mut reported: Vec<&str> = Vec::new();
    for f in &findings {
        let name = f["check"].as_str().unwrap();
        assert!(listed.contains(&name), "{name} is not in --help:\n{help}");
        if !reported.contains(&name) {
            reported.push(name);
        }
    }
    let without_sessions: Vec<&str> = all.iter().copied().filter(|n| *n != "sessions").collect();
    assert_eq!(reported, without_sessions);

    let out = doctor(&env, &["--json", "--sso-session", "nosuch"]);
    assert_eq!(out.status.code(), Some(CHECKS_FAILED));
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        find(&findings, "sessions", "fail").len(),
        1,
        "{findings:#?}"
    );
}

/// A saml-session alone (no sso-session) is checked without a browser: idp_url's shape (the
/// emulator's host is not Entra's: a warning), the fixed reply URL to register, the IdP, its
/// metadata certificate, STS and the clock against it.
#[test]
fn a_saml_session_is_checked_without_a_browser() {
    let env = TestEnv::new(Config::default());
    env.write_config("");
    add_saml_session(&env, "acs_port = 4711\n");
    let (code, findings) = report(&env);
    assert_eq!(code, Some(0), "{findings:#?}");
    assert!(failures(&findings).is_empty(), "{findings:#?}");
    assert!(find(&findings, "sessions", "fail").is_empty());
    let url = &find(&findings, "saml-idp-url", "warn")[0];
    assert_eq!(url["session"], "saml-session corp");
    assert!(
        url["message"]
            .as_str()
            .unwrap()
            .contains("not Entra's sign-in host"),
        "{url}"
    );
    let reply = &find(&findings, "saml-reply-url", "pass")[0];
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains("exactly http://localhost:4711/saml"),
        "{reply}"
    );
    assert_eq!(
        find(&findings, "saml-idp", "pass").len(),
        1,
        "{findings:#?}"
    );
    let cert = &find(&findings, "saml-certificate", "pass")[0];
    assert!(
        cert["message"].as_str().unwrap().contains("2046-11-26"),
        "{cert}"
    );
    assert_eq!(
        find(&findings, "sts-endpoint", "pass").len(),
        1,
        "{findings:#?}"
    );
    let clock = &find(&findings, "clock", "pass")[0];
    assert!(
        clock["message"].as_str().unwrap().contains("STS's"),
        "{clock}"
    );
    assert_eq!(
        find(&findings, "saml-failure", "pass").len(),
        1,
        "{findings:#?}"
    );

    let out = doctor(&env, &[]);
    assert!(
        text(&out.stdout).contains("\nsaml-session corp\n"),
        "{}",
        text(&out.stdout)
    );

    // A broken idp_url fails with the shape it must have.
    env.write_config(
        "[saml-session corp]\nidp_url = https://login.microsoftonline.com/corp/saml\n",
    );
    let (code, findings) = report(&env);
    assert_eq!(code, Some(CHECKS_FAILED));
    let url = &find(&findings, "saml-idp-url", "fail")[0];
    assert!(
        url["fix"].as_str().unwrap().contains("/{tenant}/saml2"),
        "{url}"
    );
}

/// What a SAML command met is remembered, and doctor explains it with its fix: STS
/// AccessDenied (the trust policy's SAML:aud), and no answer at the listener (AADSTS50011).
#[test]
fn the_last_saml_failure_is_explained_with_its_fix() {
    let mut config = Config {
        auto_approve: true,
        ..Config::default()
    };
    config.saml.aud = vec!["https://signin.aws.amazon.com/saml".into()];
    let env = TestEnv::new(config);
    env.write_config("");
    add_saml_session(&env, "");
    let role = env.emu.directory().saml_roles()[0].role_arn.clone();
    let saml = |args: &[&str]| {
        env.portico()
            .env("BROWSER", common::stand_in_browser())
            .env("AWS_ENDPOINT_URL_STS", env.emu.url())
            .env("PORTICO_HTTP_TIMEOUT", "10")
            .args(args)
            .output()
            .unwrap()
    };
    let out = saml(&["credentials", "--saml-session", "corp", "--role-arn", &role]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("AccessDenied"),
        "{}",
        text(&out.stderr)
    );
    let (code, findings) = report(&env);
    assert_eq!(code, Some(0), "a past failure is a warning: {findings:#?}");
    let last = &find(&findings, "saml-failure", "warn")[0];
    assert!(last["message"].as_str().unwrap().contains(&role), "{last}");
    let fix = last["fix"].as_str().unwrap();
    assert!(
        fix.contains("SAML:aud") && fix.contains("http://localhost:*/saml"),
        "{fix}"
    );

    // The reply URL not registered: Entra shows AADSTS50011 and nothing reaches the listener.
    let mut config = Config {
        auto_approve: true,
        ..Config::default()
    };
    config.saml.reply_urls = vec!["https://signin.aws.amazon.com/saml".into()];
    let env = TestEnv::new(config);
    env.write_config("");
    add_saml_session(&env, "");
    let out = env
        .portico()
        .env("BROWSER", common::stand_in_browser())
        .args(["login", "--saml-session", "corp", "--timeout", "3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    let (_, findings) = report(&env);
    let last = &find(&findings, "saml-failure", "warn")[0];
    let fix = last["fix"].as_str().unwrap();
    assert!(
        fix.contains("AADSTS50011") && fix.contains("http://localhost/saml"),
        "{fix}"
    );
}
