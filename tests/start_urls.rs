//! Start URLs of every shape Identity Center hands out (issue 24, docs/protocol.md §11), with
//! the real binary, real files and real HTTP: `configure` reading the Region from every
//! regional host (replica Regions as sessions of their own), `doctor` flagging an sso_region
//! the host disagrees with, vanity start URLs resolved at login through an https redirector on
//! loopback (tests/support/vanity-redirector.py: a company's web server, with its own test CA)
//! against the emulator, and tokens an IDE toolkit wrote with `scopes` of its own.
//!
//! The emulator serves one start URL and refuses a RegisterClient `issuerUrl` or a
//! StartDeviceAuthorization `startUrl` that names another (the way a wrong start URL or Region
//! shows up at AWS): a sign-in through a vanity URL that works shows it saw the resolved URL,
//! and the control case (a redirect to another AWS-owned URL) shows it refuses the rest.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use common::{assert_success, awscli, support, text, tool_missing, TestEnv};
use idc_emulator::Config;
use serde_json::{json, Value};

/// What the vanity URL resolves to: a regional portal URL in eu-west-1 (the emulator's).
const RESOLVED: &str = "https://ssoins-1234567890abcdef.portal.eu-west-1.app.aws";
const RESOLVED_REGION: &str = "eu-west-1";
/// The Region configured before the sign-in: another one, which the sign-in corrects.
const CONFIGURED_REGION: &str = "us-east-1";

/// A company's https web server on 127.0.0.1 answering each path as `routes.json` says.
struct Redirector {
    child: Child,
    dir: tempfile::TempDir,
    url: String,
}

impl Redirector {
    fn start(routes: &Value) -> Option<Redirector> {
        for (tool, why) in [
            ("python3", "the vanity redirector"),
            ("openssl", "the redirector's test CA"),
        ] {
            let found = Command::new(tool)
                .arg(if tool == "python3" {
                    "--version"
                } else {
                    "version"
                })
                .output()
                .is_ok_and(|o| o.status.success());
            if !found && tool_missing(tool, why) {
                return None;
            }
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("routes.json"), routes.to_string()).unwrap();
        let mut child = Command::new("python3")
            .arg(support("vanity-redirector.py"))
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .strip_prefix("port ")
            .unwrap_or_else(|| panic!("the redirector did not start: {line:?}"))
            .trim()
            .to_string();
        Some(Redirector {
            child,
            dir,
            url: format!("https://127.0.0.1:{port}"),
        })
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The requests it got, as "METHOD PATH".
    fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("requests.log"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }
}

impl Drop for Redirector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The emulator serving [`RESOLVED`], and a config whose `[sso-session corp]` has the vanity
/// URL `start_url` in [`CONFIGURED_REGION`], with profile `dev`.
fn vanity_world(start_url: &str) -> (TestEnv, String) {
    let env = TestEnv::new(Config {
        start_url: RESOLVED.to_string(),
        region: RESOLVED_REGION.to_string(),
        auto_approve: true,
        ..Config::default()
    });
    let first = env.emu.directory().accounts()[0].clone();
    let config = format!(
        "# the company's config\n[sso-session corp]\nsso_start_url = {start_url}\n\
         ; set by hand\nsso_region = {CONFIGURED_REGION}\nsso_registration_scopes = sso:account:access\n\n\
         [profile dev]\nsso_session = corp\nsso_account_id = {}\nsso_role_name = {}\nregion = eu-west-1\n",
        first.account_id, first.roles[0]
    );
    env.write_config(&config);
    (env, config)
}

fn portico(env: &TestEnv, redirector: &Redirector) -> Command {
    let mut cmd = env.portico();
    cmd.env("AWS_CA_BUNDLE", redirector.ca())
        .env("PORTICO_HTTP_TIMEOUT", "10");
    cmd
}

/// `~/.aws/sso/cache/{sha1(key)}.json`, the name computed as botocore does (python's hashlib).
fn token_path(env: &TestEnv, key: &str) -> PathBuf {
    let out = Command::new("python3")
        .args([
            "-c",
            "import hashlib,sys; print(hashlib.sha1(sys.argv[1].encode()).hexdigest())",
            key,
        ])
        .output()
        .unwrap();
    assert_success(&out);
    env.home
        .path()
        .join(format!(".aws/sso/cache/{}.json", text(&out.stdout).trim()))
}

fn device_login(env: &TestEnv, redirector: &Redirector) -> Output {
    portico(env, redirector)
        .args(["login", "--device-code"])
        .output()
        .unwrap()
}

/// The lines portico wrote to stderr.
fn lines(out: &Output) -> Vec<String> {
    text(&out.stderr).lines().map(String::from).collect()
}

/// `portico configure ARGS`, which must succeed without a warning.
fn configure_without_warning(env: &TestEnv, args: &[&str]) {
    let out = env.portico().arg("configure").args(args).output().unwrap();
    assert_success(&out);
    assert!(
        !text(&out.stderr).contains("warning"),
        "{args:?}: {}",
        text(&out.stderr)
    );
}

/// Debian's AWS CLI (which predates the vanity resolver) with this test's HOME, its SSO and
/// SSO OIDC clients sent to the emulator.
fn aws_cli(env: &TestEnv) -> Option<Command> {
    if !awscli::installed() {
        return None;
    }
    awscli::point_at_emulator(env);
    Some(awscli::command(env))
}

/// The vanity URL redirects (302, with a query and a trailing `/` to normalise away) to a
/// regional portal URL in eu-west-1 while sso_region says us-east-1. The device sign-in sends
/// the resolved URL as `startUrl` (the emulator takes no other), in the resolved Region; the
/// token file is the sso-session's, with the configured URL as its `startUrl`; sso_region is
/// written back (every other byte kept) and the line says so. Then the AWS CLI reads the
/// token and gets keys with it, and portico's warm path gets keys without asking the
/// redirector again.
#[test]
fn a_vanity_url_signs_in_with_its_target_and_keeps_the_files_of_the_configured_url() {
    let Some(redirector) = Redirector::start(&json!({
        "/start": {"HEAD": [302, format!("{RESOLVED}/?from=vanity#/")]}
    })) else {
        return;
    };
    let vanity = format!("{}/start", redirector.url);
    let (env, config) = vanity_world(&vanity);

    let out = device_login(&env, &redirector);
    assert_success(&out);
    assert_eq!(
        redirector.requests(),
        vec!["HEAD /start"],
        "one HEAD, no GET"
    );
    assert_eq!(
        env.emu.start_urls_sent(),
        vec![("StartDeviceAuthorization", RESOLVED.to_string())],
        "the normalised target went on the wire"
    );
    let said = text(&out.stderr);
    assert!(
        said.contains(&format!(
            "sso_region of [sso-session corp] updated to {RESOLVED_REGION}"
        )) && said.contains(&format!("(was {CONFIGURED_REGION})"))
            && said.contains(RESOLVED),
        "{said}"
    );
    // Only the sso_region line changed.
    let now = std::fs::read_to_string(env.config_path()).unwrap();
    assert_eq!(
        now,
        config.replace(
            &format!("sso_region = {CONFIGURED_REGION}"),
            &format!("sso_region = {RESOLVED_REGION}")
        ),
        "the config keeps every other byte"
    );

    let path = token_path(&env, "corp");
    let token: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(token["startUrl"], vanity.as_str(), "the configured URL");
    assert_eq!(token["region"], RESOLVED_REGION);

    // The AWS CLI (which knows no vanity URLs) and portico share the token.
    if let Some(mut aws) = aws_cli(&env) {
        let out = aws
            .args(["configure", "export-credentials", "--profile", "dev"])
            .output()
            .unwrap();
        assert_success(&out);
        let keys: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(keys["AccessKeyId"].is_string(), "{keys}");
    }
    let out = portico(&env, &redirector)
        .args(["credentials", "--profile", "dev"])
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(
        redirector.requests().len(),
        1,
        "the warm path never looks the vanity URL up"
    );
    assert_eq!(env.stat("StartDeviceAuthorization"), 1, "no new sign-in");
}

/// The browser (PKCE) flow sends the resolved URL as RegisterClient's `issuerUrl`; a server
/// that answers HEAD with 405 is asked once more with GET, as the AWS CLI does. The Region is
/// the configured one when the target names none (an awsapps URL).
#[test]
fn the_browser_flow_registers_with_the_target_as_issuer_and_get_follows_a_405() {
    let target = "https://d-1234567890.awsapps.com/start";
    let Some(redirector) = Redirector::start(&json!({
        "/sso": {"HEAD": [405, null], "GET": [307, target]}
    })) else {
        return;
    };
    let env = TestEnv::new(Config {
        start_url: target.to_string(),
        region: CONFIGURED_REGION.to_string(),
        auto_approve: true,
        ..Config::default()
    });
    let vanity = format!("{}/sso", redirector.url);
    let config = format!(
        "[sso-session corp]\nsso_start_url = {vanity}\nsso_region = {CONFIGURED_REGION}\nsso_registration_scopes = sso:account:access\n"
    );
    env.write_config(&config);
    let out = portico(&env, &redirector)
        .args(["login", "--sso-session", "corp"])
        .env("BROWSER", support("fake-browser.py"))
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(redirector.requests(), vec!["HEAD /sso", "GET /sso"]);
    assert_eq!(
        env.emu.start_urls_sent(),
        vec![("RegisterClient", target.to_string())]
    );
    assert!(
        !text(&out.stderr).contains("sso_region of"),
        "same Region: nothing to write"
    );
    assert_eq!(std::fs::read_to_string(env.config_path()).unwrap(), config);
    let token: Value =
        serde_json::from_slice(&std::fs::read(token_path(&env, "corp")).unwrap()).unwrap();
    assert_eq!(token["startUrl"], vanity.as_str());
}

/// A vanity URL that does not lead to Identity Center: one line naming what it pointed at and
/// the fix, before anything is sent to Identity Center; nothing written. The control case (a
/// redirect to an AWS-owned URL the emulator does not serve) reaches the emulator and is
/// refused there, which shows the emulator checks the URL it is sent.
#[test]
fn a_vanity_url_that_does_not_lead_to_identity_center_is_one_line() {
    let Some(redirector) = Redirector::start(&json!({
        "/evil": {"HEAD": [302, "https://evil-app.aws.example.com/start"]},
        "/lookalike": {"HEAD": [301, "https://awsapps.com.evil.test/start"]},
        "/ip": {"HEAD": [308, "https://52.94.236.248/start"]},
        "/userinfo": {"HEAD": [302, "https://d-1234567890.awsapps.com@evil.test/start"]},
        "/plain": {"HEAD": [302, "http://d-1234567890.awsapps.com/start"]},
        "/loop": {"HEAD": [302, "/loop"]},
        "/page": {"HEAD": [200, null]},
        "/nowhere": {"HEAD": [302, null]},
        "/other": {"HEAD": [302, "https://d-9999999999.awsapps.com/start"]},
    })) else {
        return;
    };
    let base = &redirector.url;
    for (path, says) in [
        (
            "/evil",
            "it redirects to https://evil-app.aws.example.com/start, which is not an Identity Center host of AWS".to_string(),
        ),
        (
            "/lookalike",
            "it redirects to https://awsapps.com.evil.test/start, which is not an Identity Center host of AWS".to_string(),
        ),
        (
            "/ip",
            "it redirects to https://52.94.236.248/start, which is not an Identity Center host of AWS".to_string(),
        ),
        (
            "/userinfo",
            "which is not an Identity Center host of AWS".to_string(),
        ),
        (
            "/plain",
            "it redirects to http://d-1234567890.awsapps.com/start, which is not an https URL"
                .to_string(),
        ),
        ("/loop", "it redirects to itself".to_string()),
        (
            "/page",
            "it answered HTTP 200 without redirecting to Identity Center".to_string(),
        ),
        ("/nowhere", "it answered HTTP 302 without a Location".to_string()),
        ("/gone", "failed to resolve the start URL".to_string() + &format!(" {base}/gone: it answered HTTP 404")),
    ] {
        let vanity = format!("{base}{path}");
        let (env, config) = vanity_world(&vanity);
        let out = device_login(&env, &redirector);
        let said = lines(&out);
        assert!(!out.status.success(), "{path}: {said:?}");
        assert_eq!(said.len(), 1, "{path}: one line: {said:?}");
        assert!(said[0].contains(&vanity), "{path}: names the URL: {said:?}");
        assert!(said[0].contains(&says), "{path}: {said:?}");
        assert!(said[0].contains("set sso_start_url to"), "{path}: the fix: {said:?}");
        assert_eq!(env.stat("RegisterClient"), 0, "{path}: nothing sent");
        assert!(env.emu.start_urls_sent().is_empty(), "{path}");
        assert!(!token_path(&env, "corp").exists(), "{path}");
        assert_eq!(std::fs::read_to_string(env.config_path()).unwrap(), config);
    }
    // One request per attempt, never a second one after a redirect.
    let requests = redirector.requests();
    assert_eq!(requests.len(), 9, "{requests:?}");
    assert!(
        requests.iter().all(|r| r.starts_with("HEAD ")),
        "{requests:?}"
    );

    // The control: an AWS-owned target the emulator does not serve reaches it and is refused.
    let (env, _) = vanity_world(&format!("{base}/other"));
    let out = device_login(&env, &redirector);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("does not know the start URL"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        env.emu.start_urls_sent(),
        vec![(
            "StartDeviceAuthorization",
            "https://d-9999999999.awsapps.com/start".to_string()
        )]
    );
}

/// `configure` reads the Region from every host pattern that carries one, replica Regions
/// included: a replica's regional portal URL is an sso-session of its own, without warnings.
/// A URL with a user name in it is refused in one line.
#[test]
fn configure_takes_the_region_from_every_regional_host() {
    let env = TestEnv::new(Config::default());
    env.write_config("");
    for (session, url, region) in [
        (
            "corp",
            "https://ssoins-1234567890abcdef.portal.us-east-1.app.aws",
            "us-east-1",
        ),
        (
            "corp-eu",
            "https://ssoins-111111h2222j33pp.eu-west-1.portal.amazonaws.com",
            "eu-west-1",
        ),
        (
            "gov",
            "https://ssoins-1234567890abcdef.us-gov-west-1.portal.amazonaws.com",
            "us-gov-west-1",
        ),
        (
            "cn",
            "https://ssoins-1234567890abcdef.cn-north-1.portal.amazonaws.com.cn",
            "cn-north-1",
        ),
        (
            "cn2",
            "https://ssoins-1234567890abcdef.portal.cn-northwest-1.app.amazonwebservices.com.cn",
            "cn-northwest-1",
        ),
        (
            "eusc",
            "https://ssoins-1234567890abcdef.eusc-de-east-1.portal.amazonaws.eu",
            "eusc-de-east-1",
        ),
        (
            "eusc2",
            "https://ssoins-1234567890abcdef.portal.eusc-de-east-1.api.amazonwebservices.eu",
            "eusc-de-east-1",
        ),
    ] {
        configure_without_warning(&env, &["--sso-session", session, "--start-url", url]);
        let config = std::fs::read_to_string(env.config_path()).unwrap();
        assert!(
            config.contains(&format!(
                "[sso-session {session}]\nsso_start_url = {url}\nsso_region = {region}\n"
            )),
            "{url}:\n{config}"
        );
    }
    // The issuer URL of the European Sovereign Cloud names no Region: --region gives it.
    configure_without_warning(
        &env,
        &[
            "--sso-session",
            "eusc-issuer",
            "--start-url",
            "https://identitycenter.amazonaws.eu/ssoins-1234567890abcdef",
            "--region",
            "eusc-de-east-1",
        ],
    );

    // A company's own address is a vanity URL: written, with a note of what happens with it.
    let out = env
        .portico()
        .args([
            "configure",
            "--sso-session",
            "vanity",
            "--start-url",
            "https://sso.example.com/aws",
            "--region",
            "us-east-1",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    assert!(
        text(&out.stderr).contains("https://sso.example.com/aws is not one of Identity Center's own hosts: it is taken as a vanity URL"),
        "{}",
        text(&out.stderr)
    );

    let before = std::fs::read_to_string(env.config_path()).unwrap();
    let out = env
        .portico()
        .args([
            "configure",
            "--sso-session",
            "x",
            "--start-url",
            "https://alice@d-1234567890.awsapps.com/start",
            "--region",
            "us-east-1",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = lines(&out);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].contains("has a user name or password in it"),
        "{said:?}"
    );
    assert_eq!(std::fs::read_to_string(env.config_path()).unwrap(), before);
}

/// doctor fails the start-url-region check, with the fix, when sso_region is not the Region
/// the start URL's host names.
#[test]
fn doctor_flags_an_sso_region_the_host_disagrees_with() {
    let env = TestEnv::new(Config::default());
    env.write_config(
        "[sso-session corp-eu]\nsso_start_url = https://ssoins-111111h2222j33pp.eu-west-1.portal.amazonaws.com\n\
         sso_region = us-east-1\nsso_registration_scopes = sso:account:access\n",
    );
    let out = env
        .portico()
        .args(["doctor", "--json", "--sso-session", "corp-eu"])
        .output()
        .unwrap();
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stdout)));
    let region: Vec<&Value> = findings
        .iter()
        .filter(|f| f["check"] == "start-url-region")
        .collect();
    assert_eq!(region.len(), 1, "{findings:?}");
    assert_eq!(region[0]["status"], "fail", "{region:?}");
    assert!(
        region[0]["message"]
            .as_str()
            .unwrap()
            .contains("is in region eu-west-1"),
        "{region:?}"
    );
    assert_eq!(region[0]["fix"], "set sso_region = eu-west-1");
}

/// doctor resolves a vanity URL as a sign-in does: RegisterClient names the target (which the
/// emulator knows), a target in another Region than sso_region fails with the fix, and a
/// target that is not AWS-owned fails with the sign-in's line.
#[test]
fn doctor_checks_a_vanity_url_by_its_target() {
    let Some(redirector) = Redirector::start(&json!({
        "/here": {"HEAD": [302, RESOLVED]},
        "/evil": {"HEAD": [302, "https://evil-app.aws.example.com/start"]},
    })) else {
        return;
    };
    for (path, region, status, says) in [
        ("/here", RESOLVED_REGION, "pass", "knows the start URL"),
        (
            "/here",
            CONFIGURED_REGION,
            "fail",
            "in region eu-west-1, but sso_region is us-east-1",
        ),
        (
            "/evil",
            RESOLVED_REGION,
            "fail",
            "which is not an Identity Center host of AWS",
        ),
    ] {
        let (env, config) = vanity_world(&format!("{}{path}", redirector.url));
        env.write_config(&config.replace(
            &format!("sso_region = {CONFIGURED_REGION}"),
            &format!("sso_region = {region}"),
        ));
        let out = portico(&env, &redirector)
            .args(["doctor", "--json", "--sso-session", "corp"])
            .output()
            .unwrap();
        let findings: Vec<Value> = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stdout)));
        let check = findings
            .iter()
            .find(|f| f["check"] == "start-url-region")
            .unwrap_or_else(|| panic!("{findings:?}"));
        assert_eq!(check["status"], status, "{path} {region}: {check}");
        assert!(
            check["message"].as_str().unwrap().contains(says),
            "{path} {region}: {check}"
        );
        if status == "fail" {
            assert!(check["fix"].is_string(), "{check}");
        }
        let sent = if status == "pass" {
            vec![("RegisterClient", RESOLVED.to_string())]
        } else {
            Vec::new()
        };
        assert_eq!(env.emu.start_urls_sent(), sent, "{path} {region}");
    }
}

/// An IDE toolkit's token (`scopes` without sso:account:access) in the sso-session's file: not
/// used, the message names the clash and the way out, the file untouched — by `credentials`,
/// by `login` (which would otherwise write over it) — and doctor reports it. `login --force`
/// replaces it. With sso:account:access among its scopes the token is used.
#[test]
fn a_token_another_tool_wrote_with_other_scopes_is_neither_used_nor_overwritten() {
    let env = TestEnv::new(Config::default());
    env.login();
    let mut token: Value = env.token().unwrap();
    token["scopes"] = json!(["codewhisperer:completions", "codewhisperer:analysis"]);
    let ide = serde_json::to_vec_pretty(&token).unwrap();
    std::fs::write(env.token_path(), &ide).unwrap();
    let calls = env.stat("GetRoleCredentials");

    for args in [
        &["credentials", "--profile", "dev"][..],
        &["login", "--device-code"][..],
    ] {
        let out = env.portico().args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: stdout stays empty");
        let said = lines(&out);
        assert_eq!(said.len(), 1, "{args:?}: {said:?}");
        for part in [
            "holds another tool's token for sso-session emu",
            "codewhisperer:completions",
            "without sso:account:access",
            "another [sso-session NAME]",
            "portico login --force",
        ] {
            assert!(said[0].contains(part), "{args:?}: {part}: {said:?}");
        }
        assert_eq!(
            std::fs::read(env.token_path()).unwrap(),
            ide,
            "{args:?}: untouched"
        );
    }
    // logout does not end another tool's sign-in either.
    let out = env.portico().args(["logout"]).output().unwrap();
    assert!(
        text(&out.stderr).contains("holds another tool's token, not a sign-in of portico's"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read(env.token_path()).unwrap(),
        ide,
        "logout: untouched"
    );
    assert_eq!(env.stat("Logout"), 0);
    assert_eq!(
        env.stat("GetRoleCredentials"),
        calls,
        "the token was not sent"
    );
    assert_eq!(
        env.stat("StartDeviceAuthorization"),
        1,
        "no sign-in started"
    );

    let out = env
        .portico()
        .args(["doctor", "--json", "--sso-session", "emu"])
        .output()
        .unwrap();
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let check = findings
        .iter()
        .find(|f| f["check"] == "token")
        .unwrap_or_else(|| panic!("{findings:?}"));
    assert_eq!(check["status"], "fail", "{check}");
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .contains("another tool's token"),
        "{check}"
    );
    assert!(
        check["fix"]
            .as_str()
            .unwrap()
            .contains("portico login --force"),
        "{check}"
    );

    // With the session's scope among its own, the same token is used.
    token["scopes"] = json!(["sso:account:access", "codewhisperer:completions"]);
    std::fs::write(env.token_path(), serde_json::to_vec(&token).unwrap()).unwrap();
    let out = env
        .portico()
        .args(["credentials", "--profile", "dev"])
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(env.stat("GetRoleCredentials"), calls + 1);

    // `login --force` replaces another tool's token.
    token["scopes"] = json!(["codewhisperer:completions"]);
    std::fs::write(env.token_path(), serde_json::to_vec(&token).unwrap()).unwrap();
    let child = env
        .portico()
        .args(["login", "--device-code", "--force"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let code = env.wait_for_user_code();
    env.emu.approve(&code).unwrap();
    assert_success(&child.wait_with_output().unwrap());
    let now = env.token().unwrap();
    assert!(now.get("scopes").is_none(), "portico's own token: {now}");
}

/// Multi-Region Identity Center: the primary Region's portal URL and a replica's are two
/// sso-sessions, configured without warnings (the Region from each host), each signed in on
/// its own (an emulator per Region: sign-ins are not replicated) into a token file of its own.
#[test]
fn a_replica_region_is_an_sso_session_of_its_own() {
    const PRIMARY: &str = "https://ssoins-111111h2222j33pp.portal.us-east-1.app.aws";
    const REPLICA: &str = "https://ssoins-111111h2222j33pp.eu-west-1.portal.amazonaws.com";
    let primary = TestEnv::new(Config {
        start_url: PRIMARY.to_string(),
        region: "us-east-1".to_string(),
        auto_approve: true,
        ..Config::default()
    });
    let replica = idc_emulator::start_blocking(Config {
        start_url: REPLICA.to_string(),
        region: "eu-west-1".to_string(),
        auto_approve: true,
        ..Config::default()
    })
    .unwrap();
    primary.write_config("");
    for (name, url) in [("corp", PRIMARY), ("corp-eu", REPLICA)] {
        configure_without_warning(&primary, &["--sso-session", name, "--start-url", url]);
    }
    let login = |name: &str, emulator: &str| {
        let out = primary
            .portico()
            .args(["login", "--device-code", "--sso-session", name])
            .env("AWS_ENDPOINT_URL_SSO_OIDC", emulator)
            .env("AWS_ENDPOINT_URL_SSO", emulator)
            .output()
            .unwrap();
        assert_success(&out);
    };
    login("corp", &primary.emu.url());
    login("corp-eu", &replica.url());
    for (name, url, region) in [
        ("corp", PRIMARY, "us-east-1"),
        ("corp-eu", REPLICA, "eu-west-1"),
    ] {
        let token: Value =
            serde_json::from_slice(&std::fs::read(token_path(&primary, name)).unwrap()).unwrap();
        assert_eq!(token["startUrl"], url, "{name}");
        assert_eq!(token["region"], region, "{name}");
    }
    assert_eq!(primary.stat("StartDeviceAuthorization"), 1);
    assert_eq!(replica.stats()["StartDeviceAuthorization"], 1);
}

/// The European Sovereign Cloud's console link: for a profile in `eusc-de-east-1` the link
/// lands on `https://eusc-de-east-1.console.amazonaws-eusc.eu/…` (the emulator's federation
/// endpoint standing in), and without the stand-in the sign-in token is asked of
/// `https://eusc-de-east-1.signin.amazonaws-eusc.eu/federation` — here through a proxy on a
/// closed loopback port, so that nothing leaves the machine and the error names the endpoint.
#[test]
fn the_eusc_console_link_uses_the_eusc_hosts() {
    let env = TestEnv::new(Config::default());
    env.login();
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&config.replace("region = eu-west-1", "region = eusc-de-east-1"));
    let out = env
        .portico()
        .args(["console", "--profile", "dev", "--print"])
        .env(
            "PORTICO_FEDERATION_ENDPOINT",
            format!("{}/federation", env.emu.url()),
        )
        .output()
        .unwrap();
    assert_success(&out);
    let link = url::Url::parse(text(&out.stdout).trim()).unwrap();
    let destination = link
        .query_pairs()
        .find(|(k, _)| k == "Destination")
        .map(|(_, v)| v.into_owned());
    assert_eq!(
        destination.as_deref(),
        Some("https://eusc-de-east-1.console.amazonaws-eusc.eu/console/home?region=eusc-de-east-1")
    );

    let mut cmd = env.portico();
    for var in [
        "NO_PROXY",
        "no_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd
        .args(["console", "--profile", "dev", "--print"])
        .env("HTTPS_PROXY", common::closed_port_url())
        .env("PORTICO_HTTP_TIMEOUT", "10")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("https://eusc-de-east-1.signin.amazonaws-eusc.eu/federation"),
        "{}",
        text(&out.stderr)
    );
}

/// The lookup is a request like the others (src/http): without the redirector's CA in
/// `AWS_CA_BUNDLE` it fails in one line naming the TLS problem and its fix; through a proxy
/// (`HTTPS_PROXY`, loopback proxied on request) that is not there, in one line naming the proxy.
#[test]
fn the_vanity_lookup_goes_through_the_proxy_and_certificate_set_up() {
    let Some(redirector) = Redirector::start(&json!({
        "/start": {"HEAD": [302, RESOLVED]}
    })) else {
        return;
    };
    let (env, _) = vanity_world(&format!("{}/start", redirector.url));
    let out = env
        .portico()
        .args(["login", "--device-code"])
        .env_remove("AWS_CA_BUNDLE")
        .env("PORTICO_HTTP_TIMEOUT", "10")
        .output()
        .unwrap();
    let said = lines(&out);
    assert!(!out.status.success());
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].contains("failed to resolve the start URL") && said[0].contains("AWS_CA_BUNDLE"),
        "{said:?}"
    );

    let proxy = common::closed_port_url();
    let mut cmd = portico(&env, &redirector);
    for var in [
        "NO_PROXY",
        "no_proxy",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd
        .args(["login", "--device-code"])
        .env("HTTPS_PROXY", &proxy)
        .env("PORTICO_PROXY_LOOPBACK", "1")
        .output()
        .unwrap();
    let said = lines(&out);
    assert!(!out.status.success());
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].contains("failed to resolve the start URL")
            && said[0].contains(&proxy["http://".len()..]),
        "{said:?}"
    );
    assert!(redirector.requests().is_empty(), "nothing reached it");
    assert_eq!(env.stat("RegisterClient"), 0);
}

/// The AWS Toolkit keeps its own connections under `sha1(startUrl)`: a legacy profile's token
/// file. A token there with only `codewhisperer:*` scopes is not used for the legacy profile
/// (which registers no scopes, yet needs sso:account:access); without `scopes` it is.
#[test]
fn a_legacy_profiles_file_holding_an_ide_connection_is_not_used() {
    let env = TestEnv::new(Config::default());
    env.login();
    let mut token = env.token().unwrap();
    let first = env.emu.directory().accounts()[0].clone();
    env.write_config(&format!(
        "[profile legacy]\nsso_start_url = {}\nsso_region = {}\nsso_account_id = {}\nsso_role_name = {}\n",
        env.emu.start_url(),
        env.emu.region(),
        first.account_id,
        first.roles[0]
    ));
    let path = token_path(&env, &env.emu.start_url());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    token["scopes"] = json!(["codewhisperer:completions"]);
    let ide = serde_json::to_vec(&token).unwrap();
    std::fs::write(&path, &ide).unwrap();
    let credentials = || {
        env.portico()
            .args(["credentials", "--profile", "legacy"])
            .output()
            .unwrap()
    };
    let out = credentials();
    assert!(!out.status.success());
    let said = lines(&out);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].contains("holds another tool's token for start URL")
            && said[0].contains("without sso:account:access"),
        "{said:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), ide);

    token.as_object_mut().unwrap().remove("scopes");
    std::fs::write(&path, serde_json::to_vec(&token).unwrap()).unwrap();
    assert_success(&credentials());
}
