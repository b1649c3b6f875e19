//! Sign-in end to end: the real binary against the emulator, with a temporary HOME.

mod common;

use std::process::Stdio;

use common::{assert_success, support, text, TestEnv};
use idc_emulator::Config;

/// How long a stand-in browser may take to write a line of its log.
const LOG_LIMIT: std::time::Duration = std::time::Duration::from_secs(20);

fn env() -> TestEnv {
    TestEnv::new(Config::default())
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn pkce_login_through_the_browser_writes_an_aws_cli_token() {
    let env = env();
    env.emu.set_auto_approve(true);
    let log = env.home.path().join("browser.log");
    let out = env
        .portico()
        .args(["login"])
        .env("BROWSER", support("fake-browser.py"))
        .env("FAKE_BROWSER_LOG", &log)
        .output()
        .unwrap();
    assert_success(&out);
    // The browser writes its last line after portico answered it, maybe after portico exited.
    let browser = common::wait_for_file_text(&log, "callback answered 200", LOG_LIMIT);
    assert!(browser.contains("/authorize?"), "{browser}");
    assert!(out.stdout.is_empty(), "login keeps stdout clean");

    let token = env.token().expect("token file written");
    for field in [
        "startUrl",
        "region",
        "accessToken",
        "expiresAt",
        "clientId",
        "clientSecret",
        "registrationExpiresAt",
        "refreshToken",
    ] {
        assert!(token.get(field).is_some(), "{field} missing: {token}");
    }
    assert_eq!(token["startUrl"], env.emu.start_url());
    let expires = token["expiresAt"].as_str().unwrap();
    assert!(expires.ends_with('Z') && expires.len() == 20, "{expires}");
    assert_eq!(env.stat("CreateToken:authorization_code"), 1);
    #[cfg(unix)]
    {
        assert_eq!(mode(&env.token_path()), 0o600);
        assert_eq!(mode(env.token_path().parent().unwrap()), 0o700);
    }
    // The registration is cached and reused by the next login.
    let out = env
        .portico()
        .args(["login"])
        .env("BROWSER", support("fake-browser.py"))
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(
        env.stat("RegisterClient"),
        1,
        "second login reuses the registration"
    );
}

#[test]
fn a_callback_with_a_forged_state_is_refused_and_nothing_is_written() {
    // The forged callback is answered and ignored: the login keeps waiting for the real one
    // (here, until its timeout), so a stray request cannot end someone's sign-in.
    let env = env();
    env.emu.set_auto_approve(true);
    let log = env.home.path().join("browser.log");
    let out = env
        .portico()
        .args(["login", "--timeout", "2"])
        .env("BROWSER", support("fake-browser.py"))
        .env("FAKE_BROWSER_MODE", "tamper-state")
        .env("FAKE_BROWSER_LOG", &log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("ignored an answer") && stderr.contains("no answer from the browser"),
        "{stderr}"
    );
    common::wait_for_file_text(&log, "callback answered 400", LOG_LIMIT);
    assert!(env.token().is_none(), "no token file");
    assert_eq!(env.stat("CreateToken:authorization_code"), 0);
}

#[test]
fn the_browser_flow_gives_up_after_the_timeout() {
    let env = env();
    let out = env
        .portico()
        .args(["login", "--timeout", "1"])
        .env("BROWSER", support("fake-browser.py"))
        .env("FAKE_BROWSER_MODE", "ignore")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(text(&out.stderr).contains("no answer from the browser within 1 s"));
    assert!(env.token().is_none());
}

#[test]
fn device_login_approved_through_the_control_api() {
    let env = env();
    let child = env.spawn_device_login();
    let code = env.wait_for_user_code();
    env.emu.approve(&code).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_success(&out);
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&code), "the user code is shown: {stderr}");
    assert!(
        stderr.contains(&format!("{}/device", env.emu.url())),
        "{stderr}"
    );
    assert!(
        stderr.contains('█') || stderr.contains('▀'),
        "a QR code is drawn: {stderr}"
    );
    assert!(env.token().unwrap()["refreshToken"].is_string());
    assert!(env.stat("CreateToken:device_code") >= 1);
}

#[test]
fn no_display_means_device_flow_and_says_why() {
    let env = env();
    let child = env
        .portico()
        .args(["login"])
        .env("SSH_CONNECTION", "10.0.0.1 22 10.0.0.2 5555")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let code = env.wait_for_user_code();
    env.emu.approve(&code).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_success(&out);
    assert!(text(&out.stderr)
        .contains("using the device code flow because this is an SSH session without a display"));
}

#[test]
fn denied_and_expired_device_codes_fail_cleanly() {
    let env = env();
    let child = env.spawn_device_login();
    env.emu.deny(&env.wait_for_user_code()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(text(&out.stderr).contains("sign-in was denied at the verification page"));
    assert!(out.stdout.is_empty());
    assert!(env.token().is_none());

    let child = env.spawn_device_login();
    env.wait_for_user_code();
    env.emu.expire_pending();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("the sign-in code expired"));
    assert!(env.token().is_none());
}

#[test]
fn a_start_url_the_region_does_not_know_is_reported_as_a_wrong_region() {
    let env = env();
    env.write_config(&format!(
        "[sso-session emu]\nsso_start_url = https://d-9999999999.awsapps.com/start\nsso_region = {}\n",
        env.emu.region()
    ));
    let out = env
        .portico()
        .args(["login", "--device-code"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("check that sso_region is the region your Identity Center lives in"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

#[test]
fn status_and_logout() {
    let env = env();
    let out = env.portico().args(["status", "--json"]).output().unwrap();
    assert_success(&out);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["session"], "emu");
    assert_eq!(rows[0]["signedIn"], false);

    env.login();
    let out = env.portico().args(["status", "--json"]).output().unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["signedIn"], true);
    assert_eq!(rows[0]["canRefresh"], true);
    assert!(rows[0]["secondsLeft"].as_i64().unwrap() > 3000);
    let out = env.portico().args(["status"]).output().unwrap();
    let plain = text(&out.stdout);
    assert!(
        plain.contains("sso-session emu") && plain.contains("refreshes automatically"),
        "{plain}"
    );

    let access = env.token().unwrap()["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let out = env.portico().args(["logout"]).output().unwrap();
    assert_success(&out);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("revoked the sign-in") && stderr.contains("deleted"),
        "{stderr}"
    );
    assert!(env.token().is_none());
    assert_eq!(env.stat("Logout"), 1);
    assert!(!stderr.contains(&access));
    let out = env.portico().args(["logout", "--all"]).output().unwrap();
    assert_success(&out);
    assert!(text(&out.stderr).contains("nothing to remove"));
}

#[test]
fn no_secret_appears_in_any_output_even_at_the_highest_verbosity() {
    let env = env();
    env.emu.set_auto_approve(true);
    let mut outputs = Vec::new();
    let out = env
        .portico()
        .args(["-vvv", "login"])
        .env("BROWSER", support("fake-browser.py"))
        .output()
        .unwrap();
    assert_success(&out);
    outputs.push(out);
    for args in [vec!["-vvv", "status"], vec!["-vvv", "status", "--json"]] {
        outputs.push(env.portico().args(&args).output().unwrap());
    }
    let token = env.token().unwrap();
    let secrets = [
        token["accessToken"].as_str().unwrap().to_string(),
        token["refreshToken"].as_str().unwrap().to_string(),
        token["clientSecret"].as_str().unwrap().to_string(),
    ];
    outputs.push(env.portico().args(["-vvv", "logout"]).output().unwrap());
    for out in &outputs {
        for secret in &secrets {
            assert!(!text(&out.stdout).contains(secret.as_str()));
            assert!(!text(&out.stderr).contains(secret.as_str()));
        }
    }
}

#[test]
fn config_errors_exit_3_with_one_line() {
    let env = env();
    env.write_config("[profile broken]\nsso_session = nowhere\n");
    let out = env
        .portico()
        .args(["login", "--profile", "broken"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("sso-session \"nowhere\" is not in"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1);
    env.write_config("this is not ini\n");
    let out = env.portico().args(["status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("line 1"));
}

#[cfg(unix)]
#[test]
fn ctrl_c_mid_login_cancels_cleanly_and_writes_nothing() {
    let env = env();
    for args in [vec!["login", "--device-code"], vec!["login"]] {
        let mut cmd = env.portico();
        cmd.args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if args.len() == 1 {
            // The browser flow: the "person" never answers.
            cmd.env("BROWSER", support("fake-browser.py"))
                .env("FAKE_BROWSER_MODE", "ignore");
        }
        let log = env.home.path().join("browser.log");
        cmd.env("FAKE_BROWSER_LOG", &log);
        let child = cmd.spawn().unwrap();
        // Wait until portico is waiting (a device code pending, or the browser opened).
        if args.len() == 2 {
            env.wait_for_user_code();
        } else {
            common::wait_until(std::time::Duration::from_secs(20), || {
                std::fs::read_to_string(&log)
                    .ok()
                    .filter(|l| l.contains("opened"))
            })
            .expect("the browser was opened");
        }
        let status = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(130),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains("cancelled"));
        assert!(env.token().is_none(), "nothing written");
        let leftovers: Vec<_> = std::fs::read_dir(env.token_path().parent().unwrap())
            .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(
            leftovers
                .iter()
                .all(|n| !n.to_string_lossy().starts_with(".portico-")),
            "no temporary files: {leftovers:?}"
        );
    }
}

#[test]
fn a_registration_the_service_no_longer_knows_is_replaced() {
    // Sign in against one Identity Center, then against another with the same start URL (as
    // after a registration was revoked): the cached client is refused and portico registers
    // again instead of failing.
    let env = env();
    env.login();
    let other = idc_emulator::start_blocking(Config::default()).unwrap();
    let child = env
        .portico()
        .args(["login", "--device-code"])
        .env("AWS_ENDPOINT_URL_SSO", other.url())
        .env("AWS_ENDPOINT_URL_SSO_OIDC", other.url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let code = common::wait_until(std::time::Duration::from_secs(20), || {
        other.pending_user_codes().into_iter().next()
    })
    .expect("a device code is pending on the second emulator");
    other.approve(&code).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_success(&out);
    assert_eq!(other.stats()["RegisterClient"], 1);
    assert_eq!(
        other.stats()["StartDeviceAuthorization"],
        2,
        "one refused, one after registering again"
    );
}
