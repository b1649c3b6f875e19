//! Sign-in under faults and odd timing: Ctrl-C while the service hangs, the loopback listener
//! under idle and stray connections, two logins at once, a refused refresh, garbled answers
//! and a corrupt token file, and the client registration shared with the AWS CLI. The real
//! binary against the emulator, with a temporary HOME.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{assert_success, support, text, wait_until, TestEnv};
use idc_emulator::{Config, FaultsUpdate};

fn fresh() -> TestEnv {
    TestEnv::new(Config::default())
}

/// Every OIDC and portal answer takes `ms` milliseconds from now on.
fn latency(env: &TestEnv, ms: u64) {
    env.emu
        .update_faults(FaultsUpdate {
            latency_ms: Some(ms),
            ..FaultsUpdate::default()
        })
        .unwrap();
}

/// One HTTP/1.1 request on a fresh connection; the status line's code, the head and the body.
/// `None` when no complete answer came within `limit`.
fn http(
    port: u16,
    method: &str,
    target: &str,
    body: Option<&str>,
    limit: Duration,
) -> Option<(u16, String, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(limit)).unwrap();
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    let code = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, head.to_string(), body.to_string()))
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

/// The value of query parameter `key` in `url`, percent-decoded (enough for what tests read).
fn query_param(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| {
            v.replace("%3A", ":")
                .replace("%2F", "/")
                .replace("%3a", ":")
                .replace("%2f", "/")
        })
    })
}

/// The path and query of an `http://host:port/...` URL.
fn target_of(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    format!("/{}", rest.split_once('/').unwrap().1)
}

/// Sends SIGINT to `child` and waits (bounded) for it to end: its exit code, its stderr and how
/// long it took after the signal.
#[cfg(unix)]
fn interrupt(mut child: Child) -> (Option<i32>, String, Duration) {
    let sent = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exited = wait_until(Duration::from_secs(30), || child.try_wait().unwrap());
    let took = sent.elapsed();
    if exited.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    (exited.and_then(|s| s.code()), stderr, took)
}

/// Waits (bounded) until the emulator has counted `key` at least `n` times.
fn wait_for_stat(env: &TestEnv, key: &str, n: u64) {
    wait_until(Duration::from_secs(20), || {
        (env.stat(key) >= n).then_some(())
    })
    .unwrap_or_else(|| panic!("{key} reached {n}"));
}

#[cfg(unix)]
fn assert_cancelled(what: &str, child: Child) {
    // The hang and each attempt last an hour: ending (130) within interrupt's wait at all is
    // ending at once — no clock is read.
    let (code, stderr, took) = interrupt(child);
    assert_eq!(code, Some(130), "{what}: exit after {took:?}: {stderr}");
    assert!(stderr.contains("cancelled"), "{what}: {stderr}");
}

/// Ctrl-C cancels at once while a network call of the sign-in hangs: registration (device and
/// browser flows), the device-code poll, the token exchange after the browser's callback, and
/// a sign-in that `credentials` started. Each call would otherwise take 3 × 5 s and exit 7.
#[cfg(unix)]
#[test]
fn ctrl_c_cancels_at_once_while_the_sign_in_service_hangs() {
    let slow = 3_600_000;
    let spawn = |env: &TestEnv, args: &[&str], browser: Option<&str>| {
        let mut cmd = env.portico();
        cmd.args(args)
            .env("PORTICO_HTTP_TIMEOUT", "3600")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(mode) = browser {
            cmd.env("BROWSER", support("fake-browser.py"))
                .env("FAKE_BROWSER_MODE", mode);
        }
        cmd.spawn().unwrap()
    };

    // RegisterClient hangs: device flow, browser flow, and a login started by `credentials`.
    for (what, args, browser) in [
        ("device registration", vec!["login", "--device-code"], None),
        ("browser registration", vec!["login"], Some("approve")),
        (
            "credentials' login",
            vec!["credentials", "--profile", "dev"],
            Some("approve"),
        ),
    ] {
        let env = fresh();
        env.emu.set_auto_approve(true);
        latency(&env, slow);
        let child = spawn(&env, &args, browser);
        wait_for_stat(&env, "RegisterClient", 1);
        assert_cancelled(what, child);
        assert!(env.token().is_none(), "{what}: nothing written");
    }

    // The device-code poll hangs.
    let env = fresh();
    let child = spawn(&env, &["login", "--device-code"], None);
    env.wait_for_user_code();
    latency(&env, slow);
    // The next poll hangs (or the one in flight already does: then no other comes).
    let polls = env.stat("CreateToken:device_code");
    wait_until(Duration::from_secs(5), || {
        (env.stat("CreateToken:device_code") > polls).then_some(())
    });
    assert_cancelled("device poll", child);

    // The token exchange after the callback hangs (the registration is cached by a first
    // sign-in, so the exchange is the only call).
    let env = fresh();
    env.emu.set_auto_approve(true);
    let out = env
        .portico()
        .args(["login"])
        .env("BROWSER", support("fake-browser.py"))
        .output()
        .unwrap();
    assert_success(&out);
    std::fs::remove_file(env.token_path()).unwrap();
    latency(&env, slow);
    let child = spawn(&env, &["login"], Some("approve"));
    wait_for_stat(&env, "CreateToken:authorization_code", 2);
    assert_cancelled("token exchange", child);
    assert!(env.token().is_none(), "nothing written");
}

/// A browser's idle preconnect sockets do not hold up the callback, and a request without this
/// sign-in's state is answered and ignored instead of ending the login.
#[test]
fn the_loopback_listener_serves_idle_connections_and_ignores_stray_callbacks() {
    let env = fresh();
    env.emu.set_auto_approve(true);
    let log = env.home.path().join("browser.log");
    let mut child = env
        .portico()
        .args(["login", "--timeout", "60"])
        .env("BROWSER", support("fake-browser.py"))
        .env("FAKE_BROWSER_MODE", "ignore")
        .env("FAKE_BROWSER_LOG", &log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let authorize = wait_until(Duration::from_secs(20), || {
        std::fs::read_to_string(&log)
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix("opened ").map(String::from))
    })
    .expect("the browser was opened");
    let redirect = query_param(&authorize, "redirect_uri").expect("redirect_uri");
    let port = port_of(redirect.trim_end_matches("/oauth/callback"));

    // Five idle connections, as a browser's preconnects.
    let idle: Vec<TcpStream> = (0..5)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();

    // A callback without state (any local process can send one) and one with a wrong state:
    // both answered, neither ends the login.
    for target in [
        "/oauth/callback?code=stray",
        "/oauth/callback?code=stray&state=not-it",
        "/oauth/callback?error=access_denied",
    ] {
        let (code, _, _) = http(port, "GET", target, None, Duration::from_secs(5))
            .unwrap_or_else(|| panic!("{target} answered within 5 s despite idle connections"));
        assert_eq!(code, 400, "{target}");
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "a stray callback did not end the login"
    );

    // The real callback: the emulator approves and redirects to the listener.
    let emu_port = port_of(&env.emu.url());
    let (code, head, _) = http(
        emu_port,
        "GET",
        &target_of(&authorize),
        None,
        Duration::from_secs(10),
    )
    .expect("authorize answers");
    assert_eq!(code, 302, "{head}");
    let location = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("location")
                .then(|| v.trim().to_string())
        })
        .expect("a Location header");
    let (code, _, body) = http(
        port,
        "GET",
        &target_of(&location),
        None,
        Duration::from_secs(10),
    )
    .expect("the callback is answered");
    assert_eq!(code, 200, "{body}");
    // The idle connections stay open until the login has ended: a listener they held up
    // would not end within the wait at all.
    let exited = wait_until(Duration::from_secs(20), || child.try_wait().unwrap());
    drop(idle);
    let out = child.wait_with_output().unwrap();
    assert_success(&out);
    assert!(
        exited.is_some(),
        "the login ended while idle connections were open"
    );
    assert!(env.token().is_some());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("ignored"), "says what it ignored: {stderr}");
}

/// A second `portico login` that waited for a first one uses the sign-in the first just made.
#[test]
fn two_concurrent_logins_make_one_sign_in() {
    let env = fresh();
    let first = env.spawn_device_login();
    let code = env.wait_for_user_code();
    let mut second = env.spawn_device_login();
    // Wait until the second says it waits for the first.
    let stderr = second.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("another portico process is signing in") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("the second login waits for the first");
    env.emu.approve(&code).unwrap();
    assert_success(&first.wait_with_output().unwrap());
    let exited = wait_until(Duration::from_secs(20), || second.try_wait().unwrap());
    if exited.is_none() {
        let _ = second.kill();
        let _ = second.wait();
    }
    let stderr = reader.join().unwrap();
    assert!(
        exited.is_some_and(|s| s.success()),
        "the second login ended with the first's sign-in: {exited:?}\n{stderr}"
    );
    assert!(stderr.contains("signed in to"), "{stderr}");
    assert_eq!(env.stat("StartDeviceAuthorization"), 1, "one sign-in");
    assert_eq!(env.stat("RegisterClient"), 1);
}

/// Ctrl-C also ends a login that is waiting for another one to finish.
#[cfg(unix)]
#[test]
fn ctrl_c_cancels_a_login_waiting_for_another() {
    let env = fresh();
    let first = env.spawn_device_login();
    env.wait_for_user_code();
    let mut second = env.spawn_device_login();
    let stderr = second.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("another portico process is signing in") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("the second login waits for the first");
    let (code, _, took) = interrupt(second);
    let stderr = reader.join().unwrap();
    assert_eq!(code, Some(130), "after {took:?}: {stderr}");
    // Without the cancel it would wait for the first login's sign-in (ten minutes); ending
    // (130) within interrupt's wait is ending at once.
    assert!(stderr.contains("cancelled"), "{stderr}");
    let (code, _, _) = interrupt(first);
    assert_eq!(code, Some(130));
}

/// Rewrites the cached token's expiry.
fn set_token_expiry(env: &TestEnv, at: &str) {
    let mut token = env.token().unwrap();
    token["expiresAt"] = serde_json::json!(at);
    std::fs::write(env.token_path(), token.to_string()).unwrap();
}

/// After Identity Center refused a refresh, `status` and `doctor` stop promising one until the
/// next sign-in; the AWS CLI's token file gains no field.
#[test]
fn a_refused_refresh_is_reported_until_the_next_sign_in() {
    let env = fresh();
    env.login();
    let fields: Vec<String> = env
        .token()
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    env.emu.revoke_all();
    set_token_expiry(&env, "2020-01-01T00:00:00Z");
    let out = env
        .portico()
        .args(["credentials", "--profile", "dev", "--no-login"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert_eq!(env.stat("CreateToken:refresh_token"), 1);

    let out = env.portico().args(["status"]).output().unwrap();
    let plain = text(&out.stdout);
    assert!(!plain.contains("refreshes automatically"), "{plain}");
    assert!(
        plain.contains("refused") && plain.contains("run `portico login`"),
        "{plain}"
    );
    let out = env.portico().args(["status", "--json"]).output().unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["canRefresh"], false);
    assert!(
        rows[0]["refreshProblem"]
            .as_str()
            .is_some_and(|p| p.contains("refused")),
        "{rows}"
    );

    let out = env.portico().args(["doctor", "--json"]).output().unwrap();
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let refresh: Vec<_> = findings
        .iter()
        .filter(|f| f["check"] == "refresh")
        .collect();
    assert!(!refresh.is_empty(), "{findings:?}");
    assert!(
        refresh
            .iter()
            .all(|f| f["status"] != "pass" && f["message"].as_str().unwrap().contains("refused")),
        "{refresh:?}"
    );
    let mut now: Vec<String> = env
        .token()
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    now.sort();
    let mut before = fields;
    before.sort();
    assert_eq!(
        now, before,
        "the token file keeps the AWS CLI's fields only"
    );

    env.login();
    let out = env.portico().args(["status"]).output().unwrap();
    assert!(
        text(&out.stdout).contains("refreshes automatically"),
        "{}",
        text(&out.stdout)
    );
    let out = env.portico().args(["doctor", "--json"]).output().unwrap();
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["check"] == "refresh" && f["status"] == "pass"),
        "{findings:?}"
    );
}

/// `--timeout` below a minute is said as it is, not rounded up to "1 min".
#[test]
fn the_browser_wait_names_the_real_limit() {
    let env = fresh();
    let out = env
        .portico()
        .args(["login", "--no-browser", "--timeout", "1"])
        .env("BROWSER", support("fake-browser.py"))
        .env("FAKE_BROWSER_MODE", "ignore")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("up to 1 s"), "{stderr}");
    assert!(!stderr.contains("1 min"), "{stderr}");
}

/// A garbled answer from the sign-in service reads as the portal's do; a corrupt token file
/// exits 4 like every other "run `portico login`".
#[test]
fn garbled_answers_and_a_corrupt_token_file() {
    let env = fresh();
    env.emu
        .update_faults(FaultsUpdate {
            garble_bodies: Some(true),
            ..FaultsUpdate::default()
        })
        .unwrap();
    let out = env
        .portico()
        .args(["login", "--device-code"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    assert!(stderr.contains("unreadable answer"), "{stderr}");
    assert!(!stderr.contains("unknown error"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");

    let env = TestEnv::new(Config::default());
    std::fs::create_dir_all(env.token_path().parent().unwrap()).unwrap();
    std::fs::write(env.token_path(), "{\"accessToken\": \"x\", ").unwrap();
    for args in [
        vec!["credentials", "--profile", "dev", "--no-login"],
        vec!["list", "--no-login"],
    ] {
        let out = env.portico().args(&args).output().unwrap();
        let stderr = text(&out.stderr);
        assert!(stderr.contains("portico login"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(4), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
}

/// The registration file name as botocore computes it (python3's json.dumps + sha1).
fn botocore_registration_name(start_url: &str, region: &str, scopes: &str, name: &str) -> String {
    let script = format!(
        "import json,hashlib; print(hashlib.sha1(json.dumps({{'tool':'botocore','startUrl':{start_url:?},\
         'region':{region:?},'scopes':{scopes},'session_name':{name:?}}}, sort_keys=True).encode()).hexdigest())"
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3 runs");
    assert_success(&out);
    format!("{}.json", text(&out.stdout).trim())
}

/// Client registrations live where the AWS CLI looks for them — with and without
/// `sso_registration_scopes` — and the AWS CLI's device registration (no grantTypes) is reused.
#[test]
fn client_registrations_are_shared_with_the_aws_cli() {
    // No sso_registration_scopes: the AWS CLI hashes "scopes": null.
    let env = fresh();
    env.write_config(&format!(
        "[sso-session emu]\nsso_start_url = {}\nsso_region = {}\n",
        env.emu.start_url(),
        env.emu.region()
    ));
    env.login();
    let cache = env.token_path().parent().unwrap().to_path_buf();
    let name = botocore_registration_name(&env.emu.start_url(), &env.emu.region(), "None", "emu");
    let registration: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cache.join(&name)).unwrap_or_else(|e| {
            panic!(
                "{name} ({e}); the cache holds {:?}",
                std::fs::read_dir(&cache)
                    .unwrap()
                    .map(|e| e.unwrap().file_name())
                    .collect::<Vec<_>>()
            )
        }))
        .unwrap();
    assert!(registration["clientId"].is_string());
    // The browser flow cannot use a device-flow client. The shared file keeps the live device
    // registration (the AWS CLI's device flow reuses it): the browser flow's registration, with
    // the authorization-code grant, goes to portico's own cache under the same name, and each
    // flow reuses its own from then on instead of taking the file from the other.
    env.emu.set_auto_approve(true);
    let browser_login = || {
        let out = env
            .portico()
            .args(["login", "--force"])
            .env("BROWSER", support("fake-browser.py"))
            .output()
            .unwrap();
        assert_success(&out);
    };
    browser_login();
    let shared: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cache.join(&name)).unwrap()).unwrap();
    assert_eq!(shared, registration, "the shared device registration stays");
    let own_path = env
        .home
        .path()
        .join(".cache/portico/registrations")
        .join(&name);
    let own: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&own_path).unwrap()).unwrap();
    assert!(
        own["grantTypes"]
            .as_array()
            .is_some_and(|g| g.iter().any(|g| g == "authorization_code")),
        "{own}"
    );
    let registered = env.stat("RegisterClient");
    browser_login();
    env.emu.set_auto_approve(false);
    env.login();
    assert_eq!(
        env.stat("RegisterClient"),
        registered,
        "each flow reuses its registration"
    );

    // With scopes: a registration as the AWS CLI's device flow makes it, no grantTypes.
    let env = fresh();
    let port = port_of(&env.emu.url());
    let (code, _, body) = http(
        port,
        "POST",
        "/client/register",
        Some(r#"{"clientName":"botocore-client-emu","clientType":"public","scopes":["sso:account:access"]}"#),
        Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(code, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let expires = answer["clientSecretExpiresAt"].as_i64().unwrap();
    let script = format!(
        "import datetime; print(datetime.datetime.fromtimestamp({expires}, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))"
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    let aws_cli = serde_json::json!({
        "clientId": answer["clientId"],
        "clientSecret": answer["clientSecret"],
        "expiresAt": text(&out.stdout).trim(),
        "scopes": ["sso:account:access"],
    });
    let name = botocore_registration_name(
        &env.emu.start_url(),
        &env.emu.region(),
        "['sso:account:access']",
        "emu",
    );
    let cache = env.token_path().parent().unwrap().to_path_buf();
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(cache.join(&name), aws_cli.to_string()).unwrap();
    env.emu.reset_stats();
    env.login();
    assert_eq!(
        env.stat("RegisterClient"),
        0,
        "the AWS CLI's registration is reused"
    );
    let token = env.token().unwrap();
    assert_eq!(token["clientId"], answer["clientId"]);
    assert!(token["refreshToken"].is_string());
}

/// A Ctrl-C after the sign-in that `credentials` started, while the rest of the work waits on
/// the network (GetRoleCredentials hangs on a server that accepts and never answers): the
/// sign-in took Ctrl-C over, and it still cancels at once — "cancelled", 130 — with the
/// sign-in kept. (The library returns `Cancelled`; only the edge ends the process.)
#[cfg(unix)]
#[test]
fn ctrl_c_after_a_sign_in_cancels_the_call_that_follows_it() {
    let env = fresh();
    env.emu.set_auto_approve(true);
    let portal = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let portal_url = format!("http://{}", portal.local_addr().unwrap());
    let (accepted, reached) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in portal.incoming() {
            held.push(stream);
            let _ = accepted.send(());
        }
    });
    let child = env
        .portico()
        .args(["credentials", "--profile", "dev"])
        .env("AWS_ENDPOINT_URL_SSO", &portal_url)
        .env("PORTICO_HTTP_TIMEOUT", "3600")
        .env("BROWSER", support("fake-browser.py"))
        .env("FAKE_BROWSER_MODE", "approve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    reached
        .recv_timeout(Duration::from_secs(60))
        .expect("GetRoleCredentials reached the silent portal after the sign-in");
    assert!(
        env.token().is_some(),
        "the sign-in was kept before the call"
    );
    assert_cancelled("GetRoleCredentials after a sign-in", child);
    assert!(env.token().is_some(), "the sign-in is still kept");
}
