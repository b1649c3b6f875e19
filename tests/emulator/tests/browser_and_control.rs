//! The browser side (PKCE /authorize, the device page, console federation), the control API
//! over HTTP, the blocking handle, and the command line.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::*;
use idc_emulator::{Config, Control};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const CALLBACK: &str = "http://127.0.0.1:54321/oauth/callback";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// RegisterClient exactly as the AWS CLI does for its PKCE flow.
async fn register_pkce(emu: &Control) -> Registration {
    let out = oidc(emu)
        .register_client()
        .client_name("botocore-client-conformance")
        .client_type("public")
        .grant_types("authorization_code")
        .grant_types("refresh_token")
        .redirect_uris("http://127.0.0.1/oauth/callback")
        .issuer_url(emu.start_url())
        .scopes(PORTAL_SCOPE)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.authorization_endpoint(),
        Some(format!("{}/authorize", emu.url()).as_str())
    );
    assert_eq!(
        out.token_endpoint(),
        Some(format!("{}/token", emu.url()).as_str())
    );
    let issued = out.client_id_issued_at();
    let expires = out.client_secret_expires_at();
    assert_eq!(
        expires - issued,
        90 * 24 * 3600,
        "epoch seconds, 90 days apart"
    );
    Registration {
        client_id: out.client_id().unwrap().to_string(),
        client_secret: out.client_secret().unwrap().to_string(),
    }
}

fn authorize_url(
    emu: &Control,
    reg: &Registration,
    state: &str,
    challenge: &str,
    method: &str,
) -> String {
    let mut url = url::Url::parse(&format!("{}/authorize", emu.url())).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &reg.client_id)
        .append_pair("redirect_uri", CALLBACK)
        .append_pair("state", state)
        .append_pair("code_challenge_method", method)
        .append_pair("scopes", PORTAL_SCOPE);
    format!("{url}&code_challenge={challenge}")
}

/// The hidden `request_id` of a consent page.
fn request_id(page: &str) -> String {
    let start = page
        .find("name=\"request_id\" value=\"")
        .expect("consent form")
        + 25;
    page[start..].split('"').next().unwrap().to_string()
}

async fn exchange(
    emu: &Control,
    reg: &Registration,
    code: &str,
    verifier: &str,
    redirect: &str,
) -> Result<
    aws_sdk_ssooidc::operation::create_token::CreateTokenOutput,
    aws_sdk_ssooidc::operation::create_token::CreateTokenError,
> {
    oidc(emu)
        .create_token()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .grant_type("authorization_code")
        .code(code)
        .code_verifier(verifier)
        .redirect_uri(redirect)
        .send()
        .await
        .map_err(|e| e.into_service_error())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pkce_consent_code_exchange_and_refresh() {
    let emu = idc_emulator::spawn(Config::default()).await.unwrap();
    let reg = register_pkce(&emu).await;
    let verifier = "x".repeat(20) + "Y0-._~abcdefghijklmnopqrstuvwxyzABCDEFGHIJK";
    let consent = http_async(
        "GET",
        &authorize_url(&emu, &reg, "state-1", &challenge(&verifier), "S256"),
        None,
    )
    .await;
    assert_eq!(consent.status, 200);
    assert!(consent.body.contains("Approve") && consent.body.contains("Deny"));

    let form = format!("request_id={}&decision=approve", request_id(&consent.body));
    let redirect = http_async(
        "POST",
        &format!("{}/authorize", emu.url()),
        Some(("application/x-www-form-urlencoded", &form)),
    )
    .await;
    assert_eq!(redirect.status, 302);
    let location = redirect.header("location").unwrap().to_string();
    assert!(location.starts_with(&format!("{CALLBACK}?")), "{location}");
    assert_eq!(query_param(&location, "state").as_deref(), Some("state-1"));
    let code = query_param(&location, "code").unwrap();

    let err = exchange(&emu, &reg, &code, &"z".repeat(64), CALLBACK)
        .await
        .unwrap_err();
    assert!(err.is_invalid_grant_exception(), "wrong verifier: {err:?}");
    let err = exchange(
        &emu,
        &reg,
        &code,
        &verifier,
        "http://127.0.0.1:9/oauth/callback",
    )
    .await
    .unwrap_err();
    assert!(
        err.is_invalid_grant_exception(),
        "redirect URI must match with its port: {err:?}"
    );
    let other = register_pkce(&emu).await;
    let err = exchange(&emu, &other, &code, &verifier, CALLBACK)
        .await
        .unwrap_err();
    assert!(
        err.is_invalid_grant_exception(),
        "code bound to its client: {err:?}"
    );

    let token = exchange(&emu, &reg, &code, &verifier, CALLBACK)
        .await
        .unwrap();
    assert_eq!(token.expires_in(), 3600);
    let refresh = token.refresh_token().unwrap().to_string();
    let err = exchange(&emu, &reg, &code, &verifier, CALLBACK)
        .await
        .unwrap_err();
    assert!(
        err.is_invalid_grant_exception(),
        "codes are one-time: {err:?}"
    );

    let rotated = oidc(&emu)
        .create_token()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .grant_type("refresh_token")
        .refresh_token(&refresh)
        .send()
        .await
        .unwrap();
    assert_ne!(rotated.refresh_token(), Some(refresh.as_str()));
    let err = oidc(&emu)
        .create_token()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .grant_type("refresh_token")
        .refresh_token(&refresh)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_grant_exception(), "{err:?}");

    let stats = emu.stats();
    assert_eq!(stats["CreateToken:authorization_code"], 5);
    assert_eq!(stats["CreateToken:refresh_token"], 2);
    assert_eq!(stats["RegisterClient"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pkce_deny_auto_approve_and_bad_requests() {
    let emu = idc_emulator::spawn(Config::default()).await.unwrap();
    let reg = register_pkce(&emu).await;
    let verifier = "v".repeat(64);

    let consent = http_async(
        "GET",
        &authorize_url(&emu, &reg, "s2", &challenge(&verifier), "S256"),
        None,
    )
    .await;
    let form = format!("request_id={}&decision=deny", request_id(&consent.body));
    let denied = http_async(
        "POST",
        &format!("{}/authorize", emu.url()),
        Some(("application/x-www-form-urlencoded", &form)),
    )
    .await;
    assert_eq!(denied.status, 302);
    let location = denied.header("location").unwrap();
    assert_eq!(
        query_param(location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(location, "state").as_deref(), Some("s2"));
    assert!(query_param(location, "code").is_none());

    // An expired consent page cannot be approved any more.
    let consent = http_async(
        "GET",
        &authorize_url(&emu, &reg, "s3", &challenge(&verifier), "S256"),
        None,
    )
    .await;
    assert_eq!(emu.expire_pending(), 1);
    let form = format!("request_id={}&decision=approve", request_id(&consent.body));
    let expired = http_async(
        "POST",
        &format!("{}/authorize", emu.url()),
        Some(("application/x-www-form-urlencoded", &form)),
    )
    .await;
    assert_eq!(expired.status, 400);

    let plain = http_async(
        "GET",
        &authorize_url(&emu, &reg, "s4", &verifier, "plain"),
        None,
    )
    .await;
    assert_eq!(plain.status, 302);
    assert_eq!(
        query_param(plain.header("location").unwrap(), "error").as_deref(),
        Some("invalid_request")
    );

    let unknown = Registration {
        client_id: "nobody".into(),
        client_secret: String::new(),
    };
    let bad = http_async(
        "GET",
        &authorize_url(&emu, &unknown, "s5", &challenge(&verifier), "S256"),
        None,
    )
    .await;
    assert_eq!(bad.status, 400, "never redirect for an unknown client");
    let elsewhere = authorize_url(&emu, &reg, "s6", &challenge(&verifier), "S256")
        .replace("127.0.0.1%3A54321", "evil.example");
    assert_eq!(http_async("GET", &elsewhere, None).await.status, 400);

    // Device-flow-only clients may not use /authorize.
    let device_only = register(&oidc(&emu), &[], &[DEVICE_GRANT]).await;
    let refused = http_async(
        "GET",
        &authorize_url(&emu, &device_only, "s7", &challenge(&verifier), "S256"),
        None,
    )
    .await;
    assert_eq!(refused.status, 400, "no redirect URI registered");

    emu.set_auto_approve(true);
    let at_once = http_async(
        "GET",
        &authorize_url(&emu, &reg, "s8", &challenge(&verifier), "S256"),
        None,
    )
    .await;
    assert_eq!(at_once.status, 302);
    let location = at_once.header("location").unwrap();
    assert_eq!(query_param(location, "state").as_deref(), Some("s8"));
    let code = query_param(location, "code").unwrap();
    exchange(&emu, &reg, &code, &verifier, CALLBACK)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_verification_page_buttons() {
    let emu = idc_emulator::spawn(Config::default()).await.unwrap();
    let client = oidc(&emu);
    let reg = register(&client, &[], &[]).await;
    let (device_code, user_code) = start_device(&client, &reg, &emu.start_url()).await;

    let page = http_async(
        "GET",
        &format!("{}/device?user_code={user_code}", emu.url()),
        None,
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&user_code)
            && page.body.contains("Approve")
            && page.body.contains("Deny")
    );
    let entry = http_async("GET", &format!("{}/device", emu.url()), None).await;
    assert!(entry.body.contains("name=\"user_code\""));
    let unknown = http_async(
        "GET",
        &format!("{}/device?user_code=ZZZZ-ZZZZ", emu.url()),
        None,
    )
    .await;
    assert_eq!(unknown.status, 404);

    let form = format!(
        "user_code={}&decision=approve",
        user_code.to_lowercase().replace('-', "")
    );
    let approved = http_async(
        "POST",
        &format!("{}/device", emu.url()),
        Some(("application/x-www-form-urlencoded", &form)),
    )
    .await;
    assert_eq!(approved.status, 200);
    assert!(approved.body.contains("approved"));
    assert!(poll(&client, &reg, &device_code)
        .await
        .unwrap()
        .access_token()
        .is_some());

    let (denied_code, user_code) = start_device(&client, &reg, &emu.start_url()).await;
    let form = format!("user_code={user_code}&decision=deny");
    http_async(
        "POST",
        &format!("{}/device", emu.url()),
        Some(("application/x-www-form-urlencoded", &form)),
    )
    .await;
    let err = poll(&client, &reg, &denied_code).await.unwrap_err();
    assert!(err.is_access_denied_exception(), "{err:?}");

    emu.set_auto_approve(true);
    let (instant, _) = start_device(&client, &reg, &emu.start_url()).await;
    assert!(emu.pending_user_codes().is_empty());
    poll(&client, &reg, &instant).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_federation_signs_in_once() {
    let emu = idc_emulator::spawn(Config::default()).await.unwrap();
    let creds = role_credentials(&emu, 2, 0).await;
    let account = emu.directory().accounts()[2].clone();
    let session = serde_json::json!({
        "sessionId": creds.access_key_id(),
        "sessionKey": creds.secret_access_key(),
        "sessionToken": creds.session_token(),
    })
    .to_string();
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();

    let url = format!(
        "{}/federation?Action=getSigninToken&SessionDuration=3600&Session={}",
        emu.url(),
        encode(&session)
    );
    let signin = http_async("GET", &url, None).await;
    assert_eq!(signin.status, 200, "{}", signin.body);
    let signin_token = signin.json()["SigninToken"].as_str().unwrap().to_string();

    let login = format!(
        "{}/federation?Action=login&Issuer=portico&Destination={}&SigninToken={}",
        emu.url(),
        encode("https://console.aws.amazon.com/"),
        encode(&signin_token)
    );
    let page = http_async("GET", &login, None).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&account.account_id));
    assert!(page.body.contains(&account.account_name));
    assert!(page.body.contains(&account.roles[0]));
    assert_eq!(
        http_async("GET", &login, None).await.status,
        400,
        "sign-in tokens are one-time"
    );

    let short = url.replace("SessionDuration=3600", "SessionDuration=60");
    assert_eq!(http_async("GET", &short, None).await.status, 400);
    let forged = session.replace(creds.secret_access_key().unwrap(), "forged");
    let forged = format!(
        "{}/federation?Action=getSigninToken&Session={}",
        emu.url(),
        encode(&forged)
    );
    assert_eq!(http_async("GET", &forged, None).await.status, 400);
    assert_eq!(emu.stats()["GetSigninToken"], 3);

    // Whose keys each sign-in token was made from (the refused ones made none), in the page
    // and at the control route: the session of the permission set's IAM role.
    let federated = http_async("GET", &format!("{}/_emulator/federation", emu.url()), None).await;
    assert_eq!(federated.status, 200);
    let tokens = federated.json()["signinTokens"].as_array().unwrap().clone();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    let arn = tokens[0]["arn"].as_str().unwrap();
    assert!(
        arn.starts_with(&format!(
            "arn:aws:sts::{}:assumed-role/AWSReservedSSO_{}_",
            account.account_id, account.roles[0]
        )),
        "{arn}"
    );
    assert_eq!(tokens[0]["account"], account.account_id.as_str());
    assert!(
        page.body
            .contains(&format!("<span id=\"arn\">{arn}</span>")),
        "{}",
        page.body
    );
    assert_eq!(emu.federated()[0].arn, arn);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_api_over_http() {
    let emu = idc_emulator::spawn(Config::default()).await.unwrap();
    let base = format!("{}/_emulator", emu.url());
    let json = "application/json";

    let stats = http_async("GET", &format!("{base}/stats"), None)
        .await
        .json();
    let keys: Vec<_> = stats.as_object().unwrap().keys().cloned().collect();
    let mut expected = vec![
        "RegisterClient",
        "StartDeviceAuthorization",
        "CreateToken:device_code",
        "CreateToken:authorization_code",
        "CreateToken:refresh_token",
        "ListAccounts",
        "ListAccountRoles",
        "GetRoleCredentials",
        "Logout",
        "GetSigninToken",
        "SamlSignIn",
        "AssumeRoleWithSAML",
        "GetCallerIdentity",
        "AssumeRole",
        "throttled",
        "failed",
    ];
    expected.sort();
    assert_eq!(keys, expected);
    assert!(stats.as_object().unwrap().values().all(|v| v == 0));

    let missing = http_async(
        "POST",
        &format!("{base}/approve"),
        Some((json, r#"{"userCode":"ZZZZ-ZZZZ"}"#)),
    )
    .await;
    assert_eq!(missing.status, 404);
    assert!(missing.json()["message"].as_str().is_some());

    let client = oidc(&emu);
    let reg = register(&client, &[], &[]).await;
    let (device_code, user_code) = start_device(&client, &reg, &emu.start_url()).await;
    let pending = http_async("GET", &format!("{base}/pending"), None)
        .await
        .json();
    assert_eq!(pending["userCodes"][0], user_code);
    let approved = http_async(
        "POST",
        &format!("{base}/approve"),
        Some((json, &format!(r#"{{"userCode":"{user_code}"}}"#))),
    )
    .await;
    assert_eq!(approved.status, 200);
    poll(&client, &reg, &device_code).await.unwrap();
    let denied = http_async(
        "POST",
        &format!("{base}/deny"),
        Some((json, &format!(r#"{{"userCode":"{user_code}"}}"#))),
    )
    .await;
    assert_eq!(denied.status, 409, "a redeemed code cannot be denied");

    let faults = http_async(
        "POST",
        &format!("{base}/faults"),
        Some((json, r#"{"latencyMs":5,"throttleRps":20}"#)),
    )
    .await
    .json();
    assert_eq!(faults["latencyMs"], 5);
    assert_eq!(faults["throttleRps"], 20.0);
    let faults = http_async(
        "POST",
        &format!("{base}/faults"),
        Some((json, r#"{"garbleBodies":true,"latencyMs":0}"#)),
    )
    .await
    .json();
    assert_eq!(
        faults["throttleRps"], 20.0,
        "fields left out keep their value"
    );
    assert_eq!(faults["latencyMs"], 0);
    assert_eq!(faults["garbleBodies"], true);
    let bad = http_async(
        "POST",
        &format!("{base}/faults"),
        Some((json, r#"{"errorRate":2}"#)),
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(emu.faults().error_rate, 0.0);

    let auto = http_async(
        "POST",
        &format!("{base}/auto-approve"),
        Some((json, r#"{"enabled":true}"#)),
    )
    .await;
    assert_eq!(auto.json()["enabled"], true);
    http_async(
        "POST",
        &format!("{base}/faults"),
        Some((json, r#"{"garbleBodies":false}"#)),
    )
    .await;
    let (device_code, _) = start_device(&client, &reg, &emu.start_url()).await;
    poll(&client, &reg, &device_code).await.unwrap();

    for path in ["expire-pending", "expire-access-tokens", "revoke-all"] {
        assert_eq!(
            http_async("POST", &format!("{base}/{path}"), None)
                .await
                .status,
            200,
            "{path}"
        );
    }
    let stats = http_async("GET", &format!("{base}/stats"), None)
        .await
        .json();
    assert_eq!(stats["CreateToken:device_code"], 2);
    assert_eq!(stats["StartDeviceAuthorization"], 2);
    let reset = http_async("POST", &format!("{base}/stats/reset"), None)
        .await
        .json();
    assert_eq!(reset["RegisterClient"], 0);
    assert_eq!(emu.stats()["CreateToken:device_code"], 0);
}

#[test]
fn blocking_handle_serves_while_the_thread_blocks() {
    let emu = idc_emulator::start_blocking(Config {
        auto_approve: true,
        ..Config::default()
    })
    .unwrap();
    let register = http(
        "POST",
        &format!("{}/client/register", emu.url()),
        Some((
            "application/json",
            r#"{"clientName":"n","clientType":"public"}"#,
        )),
    );
    assert_eq!(register.status, 200);
    assert_eq!(register.header("content-type"), Some("application/json"));
    assert!(register.json()["clientId"].is_string());
    let error = http(
        "POST",
        &format!("{}/token", emu.url()),
        Some(("application/json", "{}")),
    );
    assert_eq!(error.status, 400);
    assert_eq!(
        error.header("x-amzn-ErrorType"),
        Some("InvalidRequestException")
    );
    assert_eq!(error.json()["__type"], "InvalidRequestException");
    assert_eq!(error.json()["error"], "invalid_request");
    assert_eq!(emu.stats()["RegisterClient"], 1);
    let url = emu.url();
    emu.shutdown();
    assert!(std::net::TcpStream::connect(url.trim_start_matches("http://")).is_err());
}

#[test]
fn command_line_prints_ready_line_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_idc-emulator"))
        .args([
            "--accounts",
            "7",
            "--roles-per-account",
            "2",
            "--start-url",
            "https://my-org.awsapps.com/start",
            "--region",
            "eu-central-1",
            "--throttle-rps",
            "20",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(ready.as_object().unwrap().len(), 4);
    assert_eq!(ready["startUrl"], "https://my-org.awsapps.com/start");
    assert_eq!(ready["region"], "eu-central-1");
    let url = ready["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"));
    assert_ne!(url, "http://127.0.0.1:0");
    assert_eq!(
        ready["samlIdpUrl"],
        format!("{url}/{}/saml2", idc_emulator::DEFAULT_TENANT)
    );
    let faults = http("GET", &format!("{url}/_emulator/faults"), None).json();
    assert_eq!(faults["throttleRps"], 20.0);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");

    let refused = Command::new(env!("CARGO_BIN_EXE_idc-emulator"))
        .args(["--directory", "x.json", "--accounts", "3"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!refused.success());
}

/// The refresh gate: two holders of one refresh token are held on arrival, and released one at
/// a time, the first spends the token and the second is refused — whatever their timing. The
/// gate is steered and read over HTTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refresh_gate_holds_refreshes_until_released_oldest_first() {
    let emu = idc_emulator::spawn(Config::default()).await.unwrap();
    let base = format!("{}/_emulator", emu.url());
    let json = "application/json";
    let (reg, token) = device_login(&emu, &["sso:account:access"], &[]).await;
    let refresh_token = token.refresh_token().unwrap().to_string();
    let gate = || async { http_async("GET", &format!("{base}/hold-refreshes"), None).await };

    let armed = http_async(
        "POST",
        &format!("{base}/hold-refreshes"),
        Some((json, r#"{"count":2}"#)),
    )
    .await;
    assert_eq!(armed.status, 200);
    assert_eq!(armed.json(), serde_json::json!({"armed": 2, "held": 0}));
    let refresh = |emu: &Control, refresh_token: &str| {
        let client = oidc(emu);
        let (id, secret) = (reg.client_id.clone(), reg.client_secret.clone());
        let refresh_token = refresh_token.to_string();
        tokio::spawn(async move {
            client
                .create_token()
                .client_id(id)
                .client_secret(secret)
                .grant_type("refresh_token")
                .refresh_token(refresh_token)
                .send()
                .await
                .map_err(|e| e.into_service_error())
        })
    };
    let wait_held = |n: u64| async move {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let state = gate().await.json();
            if state["held"] == n {
                return state;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "never {n} held: {state}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let first = refresh(&emu, &refresh_token);
    wait_held(1).await;
    let second = refresh(&emu, &refresh_token);
    assert_eq!(
        wait_held(2).await,
        serde_json::json!({"armed": 0, "held": 2})
    );
    // Both arrived (and count) while neither has been answered.
    assert_eq!(emu.stats()["CreateToken:refresh_token"], 2);
    assert!(!first.is_finished() && !second.is_finished());

    let released = http_async(
        "POST",
        &format!("{base}/release-refreshes"),
        Some((json, r#"{"count":1}"#)),
    )
    .await;
    assert_eq!(released.json(), serde_json::json!({"released": 1}));
    let winner = first
        .await
        .unwrap()
        .expect("the first to go spends the token");
    assert!(winner.refresh_token().is_some());
    assert!(!second.is_finished(), "the second is still held");
    assert_eq!(
        gate().await.json(),
        serde_json::json!({"armed": 0, "held": 1})
    );

    let released = http_async("POST", &format!("{base}/release-refreshes"), None).await;
    assert_eq!(released.json(), serde_json::json!({"released": 1}));
    let loser = second.await.unwrap().unwrap_err();
    assert!(loser.is_invalid_grant_exception(), "{loser:?}");

    // Not armed any more: a refresh goes straight through.
    let rotated = refresh(&emu, winner.refresh_token().unwrap())
        .await
        .unwrap()
        .expect("the winner's token refreshes");
    assert!(rotated.access_token().is_some());
    let bad = http_async(
        "POST",
        &format!("{base}/hold-refreshes"),
        Some((json, r#"{"count":-1}"#)),
    )
    .await;
    assert_eq!(bad.status, 400);
}
