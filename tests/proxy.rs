//! Behind a corporate proxy (issue 23), with real components: the emulator serving https with
//! a certificate from its own test CA (`--tls-cert-dir`), Debian's tinyproxy as the forward
//! proxy (with and without basic auth), mitmproxy in its regular mode as a TLS-inspecting proxy
//! that re-signs with its own CA, and the real binary. The emulator is on 127.0.0.1, which
//! portico never proxies unless asked: these tests ask with `PORTICO_PROXY_LOOPBACK=1`.
//!
//! tinyproxy and mitmproxy are installed by tests/run.sh (apt-get, and tests/support/mitm-env.sh
//! from PyPI). Where one truly cannot be had, the tests that need it say so on stderr and stop;
//! under CI (`CI` set) a missing tool fails them instead.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use common::{
    assert_success, closed_port_url, support, text, tool_missing, wait_until, SilentServer, TestEnv,
};
use idc_emulator::Config;

/// The exit status of a network failure (src/exit.rs `Exit::Service`).
const NETWORK_FAILURE: i32 = 7;
const PROXY_VARS: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];
const USER: &str = "alice";
/// The proxy password; in URLs percent-encoded (`%2D` is `-`), so that decoding is exercised.
const PASSWORD: &str = "s3cr3t-pw";
const PASSWORD_IN_URL: &str = "s3cr3t%2Dpw";

/// The emulator on https and http, a config with an sso-session, a role profile and a
/// saml-session, and the test CA.
struct World {
    env: TestEnv,
    https: String,
    ca: PathBuf,
    _certs: tempfile::TempDir,
}

fn world() -> World {
    let certs = tempfile::tempdir().unwrap();
    let env = TestEnv::new(Config {
        tls_cert_dir: Some(certs.path().join("emulator")),
        auto_approve: true,
        ..Config::default()
    });
    let https = env.emu.https_url().expect("the emulator serves https");
    let ca = env.emu.ca_file().unwrap().to_path_buf();
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&format!(
        "{config}\n[saml-session corp]\nidp_url = {}\n",
        env.emu.saml_idp_url()
    ));
    World {
        env,
        https,
        ca,
        _certs: certs,
    }
}

impl World {
    fn https_port(&self) -> u16 {
        self.https.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// portico with every AWS endpoint on the emulator's https listener, no proxy variables,
    /// the test CA trusted (AWS_CA_BUNDLE), and the stand-in browsers.
    fn portico(&self) -> Command {
        let mut cmd = self.env.portico();
        for var in PROXY_VARS {
            cmd.env_remove(var);
        }
        cmd.env("AWS_ENDPOINT_URL_SSO", &self.https)
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &self.https)
            .env("AWS_ENDPOINT_URL_STS", &self.https)
            .env(
                "PORTICO_FEDERATION_ENDPOINT",
                format!("{}/federation", self.https),
            )
            .env("AWS_CA_BUNDLE", &self.ca)
            .env("PORTICO_HTTP_TIMEOUT", "10")
            .env("BROWSER", support("proxy-browser.sh"))
            .env("PROXY_TEST_CA", &self.ca)
            .env("PROXY_TEST_BROWSER", support("fake-browser.py"));
        cmd
    }

    /// Every token, listing and key portico keeps, gone: the next commands ask again.
    fn forget(&self) {
        for dir in [".cache", ".aws/sso", ".aws/cli"] {
            let _ = std::fs::remove_dir_all(self.env.home.path().join(dir));
        }
    }

    fn saml_role(&self) -> String {
        self.env.emu.directory().saml_roles()[0].role_arn.clone()
    }

    /// Each command a user runs, as (what, arguments, browser): device and PKCE sign-in, the
    /// listing, credentials, SAML sign-in with AssumeRoleWithSAML, the console link, doctor.
    fn commands(&self) -> Vec<(&'static str, Vec<String>, &'static str)> {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        vec![
            (
                "device login",
                args(&["login", "--device-code"]),
                "fake-browser.py",
            ),
            ("PKCE login", args(&["login", "--force"]), "fake-browser.py"),
            (
                "listing",
                args(&["list", "--json", "--refresh"]),
                "fake-browser.py",
            ),
            (
                "credentials",
                args(&["credentials", "--profile", "dev"]),
                "fake-browser.py",
            ),
            (
                "SAML credentials",
                args(&[
                    "credentials",
                    "--saml-session",
                    "corp",
                    "--role-arn",
                    &self.saml_role(),
                ]),
                "saml-browser.py",
            ),
            (
                "console link",
                args(&["console", "--profile", "dev", "--print"]),
                "fake-browser.py",
            ),
            (
                "doctor",
                args(&["doctor", "--json", "--sso-session", "emu"]),
                "fake-browser.py",
            ),
        ]
    }
}

/// The generic hints of a network error ("check your network …" of the sign-in and STS,
/// "check the network connection …" of the portal and the console link), which must not follow
/// a proxy or TLS failure's own fix.
const GENERIC_HINTS: [&str; 2] = ["check your network", "check the network connection"];

/// Asserts that `stderr`'s lines end with the specific fix, not a generic hint.
fn assert_no_generic_hint(stderr: &str) {
    for hint in GENERIC_HINTS {
        assert!(
            !stderr.contains(hint),
            "a generic hint after the fix: {stderr}"
        );
    }
}

fn run(cmd: &mut Command) -> Output {
    let (out, took) = common::output_within(cmd, Duration::from_secs(90));
    out.unwrap_or_else(|| panic!("{cmd:?} did not finish in {took:?}"))
}

/// doctor's findings: every network check passed.
fn assert_doctor_reached_everything(out: &Output, what: &str) {
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{what}: doctor --json: {e}\n{}", text(&out.stderr)));
    for check in ["oidc-endpoint", "portal-endpoint", "network", "assignments"] {
        assert!(
            findings
                .iter()
                .any(|f| f["check"] == check && f["status"] == "pass"),
            "{what}: {check} did not pass: {findings:#?}"
        );
    }
}

/// doctor's `network` finding.
fn network_finding(out: &Output) -> (String, String) {
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let f = findings
        .iter()
        .find(|f| f["check"] == "network")
        .unwrap_or_else(|| panic!("no network finding: {findings:#?}"));
    (
        f["status"].as_str().unwrap().to_string(),
        f["message"].as_str().unwrap().to_string(),
    )
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let up = wait_until(Duration::from_secs(60), || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited at start ({status})");
        }
        std::net::TcpStream::connect(("127.0.0.1", port))
            .ok()
            .map(|_| ())
    });
    assert!(up.is_some(), "{what} did not listen on {port}");
}

/// Debian's tinyproxy on a free loopback port, logging each request to a file.
struct Tinyproxy {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tinyproxy {
    /// `auth`: require this user and password; `extra`: more configuration lines.
    fn start(auth: bool, extra: &str) -> Option<Tinyproxy> {
        let binary = ["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"]
            .into_iter()
            .find(|p| Path::new(p).exists());
        let Some(binary) = binary else {
            tool_missing("tinyproxy", "Debian package tinyproxy");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = dir.path().join("tinyproxy.log");
        let mut conf = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nLogFile \"{}\"\nLogLevel Connect\nMaxClients 50\nAllow 127.0.0.1\n{extra}\n",
            log.display()
        );
        if auth {
            conf.push_str(&format!("BasicAuth {USER} {PASSWORD}\n"));
        }
        let conf_path = dir.path().join("tinyproxy.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let mut child = Command::new(binary)
            .args(["-d", "-c"])
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_port(port, &mut child, "tinyproxy");
        Some(Tinyproxy {
            child,
            port,
            log,
            _dir: dir,
        })
    }

    fn url(&self, auth: Option<(&str, &str)>) -> String {
        match auth {
            Some((user, password)) => format!("http://{user}:{password}@127.0.0.1:{}", self.port),
            None => format!("http://127.0.0.1:{}", self.port),
        }
    }

    /// How many CONNECTs to `port` the proxy's own log shows.
    fn connects(&self, port: u16) -> usize {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let needle = format!("CONNECT 127.0.0.1:{port} ");
        log.lines().filter(|l| l.contains(&needle)).count()
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs every command of `w` with `setup` applied, asserting each succeeds and that `seen`
/// (what the proxy saw) grew with each one.
fn every_command_succeeds(
    w: &World,
    what: &str,
    setup: &dyn Fn(&mut Command),
    seen: &dyn Fn() -> usize,
) {
    for (name, args, browser) in w.commands() {
        let before = seen();
        let mut cmd = w.portico();
        cmd.args(&args).env("PROXY_TEST_BROWSER", support(browser));
        setup(&mut cmd);
        let out = run(&mut cmd);
        if name == "doctor" {
            assert_doctor_reached_everything(&out, what);
        } else {
            assert!(
                out.status.success(),
                "{what}: {name} failed ({:?}):\n{}",
                out.status,
                text(&out.stderr)
            );
        }
        let after = seen();
        assert!(
            after > before,
            "{what}: the proxy saw no request of {name} ({before} before, {after} after)"
        );
    }
}

#[test]
fn every_command_goes_through_tinyproxy_with_connect() {
    let w = world();
    let Some(proxy) = Tinyproxy::start(false, "") else {
        return;
    };
    let url = proxy.url(None);
    let port = w.https_port();
    every_command_succeeds(
        &w,
        "tinyproxy",
        &|cmd| {
            cmd.env("HTTPS_PROXY", &url)
                .env("PORTICO_PROXY_LOOPBACK", "1");
        },
        &|| proxy.connects(port),
    );

    // With NO_PROXY covering the host, the proxy sees none of it (lowercase and a port entry).
    let before = proxy.connects(port);
    for no_proxy in [
        "127.0.0.1".to_string(),
        format!("localhost,127.0.0.1:{port}"),
    ] {
        for (name, args, browser) in w.commands() {
            if name.contains("login") {
                continue;
            }
            let mut cmd = w.portico();
            cmd.args(&args)
                .env("PROXY_TEST_BROWSER", support(browser))
                .env("https_proxy", &url)
                .env("PORTICO_PROXY_LOOPBACK", "1")
                .env("no_proxy", &no_proxy);
            let out = run(&mut cmd);
            if name != "doctor" {
                assert_success(&out);
            }
        }
    }
    assert_eq!(proxy.connects(port), before, "NO_PROXY was not honoured");

    // doctor says which route each endpoint takes and why.
    let doctor = |cmd: &mut Command| {
        cmd.args(["doctor", "--json", "--sso-session", "emu"])
            .env("HTTPS_PROXY", &url)
            .env("PORTICO_PROXY_LOOPBACK", "1");
        network_finding(&run(cmd))
    };
    let (status, message) = doctor(&mut w.portico());
    assert_eq!(status, "pass", "{message}");
    assert!(
        message.contains(&format!(
            "OIDC {}: through the proxy {url} (HTTPS_PROXY), the proxy answers CONNECT with 200, TLS verified with the system's roots + {} (AWS_CA_BUNDLE)",
            w.https,
            w.ca.display()
        )),
        "{message}"
    );
    // A saml-session's IdP (http here, and HTTP_PROXY is not set) and STS (https) too.
    let out = run(w
        .portico()
        .args(["doctor", "--json"])
        .env("HTTPS_PROXY", &url)
        .env("PORTICO_PROXY_LOOPBACK", "1"));
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let saml = findings
        .iter()
        .find(|f| f["check"] == "network" && f["session"] == "saml-session corp")
        .unwrap_or_else(|| panic!("no network finding for the saml-session: {findings:#?}"));
    let message = saml["message"].as_str().unwrap();
    assert_eq!(saml["status"], "pass", "{message}");
    assert!(
        message.contains(&format!("IdP {}: direct (no http_proxy/HTTP_PROXY/all_proxy/ALL_PROXY set)", w.env.emu.saml_idp_url()))
            && message.contains(&format!("STS {}: through the proxy {url} (HTTPS_PROXY), the proxy answers CONNECT with 200, TLS verified", w.https)),
        "{message}"
    );

    let (status, message) = doctor(w.portico().env("NO_PROXY", "localhost,127.0.0.1"));
    assert_eq!(status, "pass", "{message}");
    assert!(
        message.contains(&format!(
            "portal {}: direct (NO_PROXY entry 127.0.0.1)",
            w.https
        )),
        "{message}"
    );

    // http URLs go through HTTP_PROXY as a forward proxy (absolute-form requests), not CONNECT.
    let http = w.env.emu.url();
    let forwarded = || {
        let log = std::fs::read_to_string(&proxy.log).unwrap_or_default();
        log.lines()
            .filter(|l| l.contains(&format!("GET {http}/assignment/accounts")))
            .count()
    };
    let before_http = forwarded();
    let out = run(w
        .portico()
        .args(["list", "--json", "--refresh"])
        .env("AWS_ENDPOINT_URL_SSO", &http)
        .env("HTTP_PROXY", &url)
        .env("PORTICO_PROXY_LOOPBACK", "1"));
    assert_success(&out);
    assert!(
        forwarded() > before_http,
        "tinyproxy forwarded no GET to {http}"
    );

    // Loopback is direct unless asked: without PORTICO_PROXY_LOOPBACK the proxy sees nothing.
    let before = proxy.connects(port);
    let out = run(w
        .portico()
        .args(["list", "--json"])
        .env("HTTPS_PROXY", &url));
    assert_success(&out);
    assert_eq!(
        proxy.connects(port),
        before,
        "loopback went through the proxy"
    );
}

#[test]
fn proxy_credentials_are_sent_and_never_shown() {
    let w = world();
    let Some(proxy) = Tinyproxy::start(true, "") else {
        return;
    };
    let url = proxy.url(Some((USER, PASSWORD_IN_URL)));
    let port = w.https_port();
    every_command_succeeds(
        &w,
        "tinyproxy with basic auth",
        &|cmd| {
            cmd.env("HTTPS_PROXY", &url)
                .env("PORTICO_PROXY_LOOPBACK", "1")
                .arg("-vvv");
        },
        &|| proxy.connects(port),
    );
    // The console's federation GET at -vvv: its URL's query (the role's keys) is never shown.
    let keys = run(w.portico().args(["credentials", "--profile", "dev"]));
    assert_success(&keys);
    let keys: serde_json::Value = serde_json::from_slice(&keys.stdout).unwrap();
    let secret = keys["SecretAccessKey"].as_str().unwrap().to_string();
    let out = run(w
        .portico()
        .args(["-vvv", "console", "--profile", "dev", "--print"])
        .env("HTTPS_PROXY", &url)
        .env("PORTICO_PROXY_LOOPBACK", "1"));
    assert_success(&out);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("GET https://127.0.0.1:"),
        "-vvv names the GET: {stderr}"
    );
    let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    assert!(
        !stderr.contains(&secret) && !stderr.contains(&encoded),
        "the role's secret key is on stderr: {stderr}"
    );

    // A forward (http) request carries the credentials too.
    let out = run(w
        .portico()
        .args(["list", "--json", "--refresh"])
        .env("AWS_ENDPOINT_URL_SSO", w.env.emu.url())
        .env("HTTP_PROXY", &url)
        .env("PORTICO_PROXY_LOOPBACK", "1"));
    assert_success(&out);

    // doctor names the proxy with the password masked, and checks that it answers.
    let (status, message) = network_finding(&run(w
        .portico()
        .args(["doctor", "--json", "--sso-session", "emu"])
        .env("HTTPS_PROXY", &url)
        .env("PORTICO_PROXY_LOOPBACK", "1")));
    assert_eq!(status, "pass", "{message}");
    assert!(
        message.contains(&format!(
            "through the proxy http://alice:****@127.0.0.1:{} (HTTPS_PROXY), the proxy answers CONNECT with 200",
            proxy.port
        )),
        "{message}"
    );

    // No stream at -vvv holds the password (in either spelling), success or failure.
    for (name, args, browser) in w.commands() {
        for proxy_url in [url.clone(), proxy.url(Some((USER, "wrong%2Dpw")))] {
            let mut cmd = w.portico();
            cmd.arg("-vvv")
                .args(&args)
                .env("PROXY_TEST_BROWSER", support(browser))
                .env("HTTPS_PROXY", &proxy_url)
                .env("PORTICO_PROXY_LOOPBACK", "1");
            let out = run(&mut cmd);
            let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
            for secret in [PASSWORD, PASSWORD_IN_URL, "wrong-pw", "wrong%2Dpw"] {
                assert!(
                    !all.contains(secret),
                    "{name}: the proxy password is in the output:\n{all}"
                );
            }
        }
    }

    // tinyproxy answers a CONNECT with wrong credentials 401 (not 407): named as refused, with
    // the credentials among the causes, and the password masked.
    let out = run(w
        .portico()
        .args(["login", "--device-code"])
        .env("HTTPS_PROXY", proxy.url(Some((USER, "wrong"))))
        .env("PORTICO_PROXY_LOOPBACK", "1"));
    assert_eq!(out.status.code(), Some(NETWORK_FAILURE));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("http://alice:****@127.0.0.1:")
            && stderr.contains("user and password in HTTPS_PROXY are refused"),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong"), "{stderr}");
    assert_no_generic_hint(&stderr);
}

/// Debian's squid on a free loopback port with basic auth (basic_ncsa_auth over an htpasswd
/// file): unlike tinyproxy it answers a CONNECT without valid credentials with a real 407.
struct Squid {
    child: Child,
    port: u16,
    access_log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Squid {
    fn start() -> Option<Squid> {
        let (Some(squid), Some(helper)) = (
            ["/usr/sbin/squid", "/usr/bin/squid"]
                .into_iter()
                .find(|p| Path::new(p).exists()),
            ["/usr/lib/squid/basic_ncsa_auth"]
                .into_iter()
                .find(|p| Path::new(p).exists()),
        ) else {
            tool_missing("squid", "Debian package squid");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        // squid drops to its own user: it must be able to write its logs here.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let hash = Command::new("openssl")
            .args(["passwd", "-apr1", PASSWORD])
            .output()
            .expect("openssl runs");
        assert!(hash.status.success());
        let passwd = dir.path().join("passwd");
        std::fs::write(&passwd, format!("{USER}:{}", text(&hash.stdout))).unwrap();
        std::fs::set_permissions(&passwd, std::fs::Permissions::from_mode(0o644)).unwrap();
        let port = free_port();
        let d = dir.path().display();
        let access_log = dir.path().join("access.log");
        let conf = format!(
            "http_port 127.0.0.1:{port}\n\
             pid_filename {d}/squid.pid\n\
             cache_log {d}/cache.log\n\
             access_log stdio:{d}/access.log\n\
             cache deny all\n\
             cache_mem 8 MB\n\
             coredump_dir {d}\n\
             shutdown_lifetime 0 seconds\n\
             auth_param basic program {helper} {d}/passwd\n\
             auth_param basic realm portico-test\n\
             acl authed proxy_auth REQUIRED\n\
             http_access allow localhost authed\n\
             http_access deny all\n"
        );
        let conf_path = dir.path().join("squid.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let mut child = Command::new(squid)
            .args(["-N", "-f"])
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_port(port, &mut child, "squid");
        Some(Squid {
            child,
            port,
            access_log,
            _dir: dir,
        })
    }

    fn url(&self, auth: Option<(&str, &str)>) -> String {
        match auth {
            Some((user, password)) => format!("http://{user}:{password}@127.0.0.1:{}", self.port),
            None => format!("http://127.0.0.1:{}", self.port),
        }
    }

    /// The access log's lines for CONNECTs to `port` (written when each tunnel closes).
    fn connects(&self, port: u16) -> Vec<String> {
        let log = std::fs::read_to_string(&self.access_log).unwrap_or_default();
        let needle = format!("CONNECT 127.0.0.1:{port} ");
        log.lines()
            .filter(|l| l.contains(&needle))
            .map(String::from)
            .collect()
    }
}

impl Drop for Squid {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_proxy_asking_for_credentials_is_named_with_the_variable() {
    let w = world();
    let Some(squid) = Squid::start() else {
        return;
    };
    let port = w.https_port();
    // The right credentials, percent-encoded in the URL, are accepted (squid's log names the
    // user the tunnel was opened for).
    let out = run(w
        .portico()
        .args(["login", "--device-code"])
        .env("HTTPS_PROXY", squid.url(Some((USER, PASSWORD_IN_URL))))
        .env("PORTICO_PROXY_LOOPBACK", "1"));
    assert_success(&out);
    let tunnels = wait_until(Duration::from_secs(20), || {
        let lines = squid.connects(port);
        lines
            .iter()
            .any(|l| l.contains("TCP_TUNNEL/200") && l.contains(USER))
            .then_some(lines)
    });
    assert!(
        tunnels.is_some(),
        "squid logged no tunnel for {USER}: {:?}",
        squid.connects(port)
    );

    // Wrong credentials, and none: the 407 named, with the variable to fix.
    for (proxy_url, expect) in [
        (
            squid.url(Some((USER, "wrong"))),
            "refused the user and password in HTTPS_PROXY (407",
        ),
        (squid.url(None), "asks for authentication (407"),
    ] {
        let out = run(w
            .portico()
            .args(["credentials", "--profile", "dev"])
            .env("HTTPS_PROXY", &proxy_url)
            .env("PORTICO_PROXY_LOOPBACK", "1"));
        assert_eq!(
            out.status.code(),
            Some(NETWORK_FAILURE),
            "{}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
        let stderr = text(&out.stderr);
        let lines: Vec<&str> = stderr.lines().filter(|l| l.contains(expect)).collect();
        assert_eq!(lines.len(), 1, "one line with the 407:\n{stderr}");
        assert!(!stderr.contains("wrong"), "{stderr}");
        assert!(
            lines[0]
                .trim_end()
                .ends_with("special characters percent-encoded)"),
            "the line ends with the fix: {stderr}"
        );
        assert_no_generic_hint(&stderr);

        let (status, message) = network_finding(&run(w
            .portico()
            .args(["doctor", "--json", "--sso-session", "emu"])
            .env("HTTPS_PROXY", &proxy_url)
            .env("PORTICO_PROXY_LOOPBACK", "1")));
        assert_eq!(status, "fail");
        assert!(
            message.contains("with 407 (authentication required)"),
            "{message}"
        );
        assert!(!message.contains("wrong"), "{message}");
    }
}

#[test]
fn a_proxy_that_refuses_the_tunnel_refuses_the_connection_or_hangs_is_named() {
    let w = world();
    // Signed in directly first, so that each command below makes its one portal call.
    assert_success(&run(w.portico().args(["login", "--device-code"])));

    // A proxy that answers CONNECT with 403 (tinyproxy allows CONNECT to port 1 only).
    if let Some(proxy) = Tinyproxy::start(false, "ConnectPort 1") {
        let out = run(w
            .portico()
            .args(["credentials", "--profile", "dev"])
            .env("HTTPS_PROXY", proxy.url(None))
            .env("PORTICO_PROXY_LOOPBACK", "1"));
        assert_eq!(out.status.code(), Some(NETWORK_FAILURE));
        assert!(out.stdout.is_empty());
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("refused to open a tunnel to 127.0.0.1:")
                && stderr.contains("403 when 127.0.0.1 is not allowed"),
            "{stderr}"
        );
        assert_no_generic_hint(&stderr);
        // doctor tells the status.
        let (status, message) = network_finding(&run(w
            .portico()
            .args(["doctor", "--json", "--sso-session", "emu"])
            .env("HTTPS_PROXY", proxy.url(None))
            .env("PORTICO_PROXY_LOOPBACK", "1")));
        assert_eq!(status, "fail");
        assert!(
            message.contains(&format!(
                "answers CONNECT 127.0.0.1:{} with 403",
                w.https_port()
            )),
            "{message}"
        );
    }

    // Nothing listens where the proxy should be.
    let closed = closed_port_url();
    let out = run(w
        .portico()
        .args(["credentials", "--profile", "dev"])
        .env("HTTPS_PROXY", &closed)
        .env("PORTICO_PROXY_LOOPBACK", "1"));
    assert_eq!(out.status.code(), Some(NETWORK_FAILURE));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "cannot connect to the proxy {closed} from HTTPS_PROXY"
        )),
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().filter(|l| l.contains("proxy")).count(),
        1,
        "one line: {stderr}"
    );
    assert_no_generic_hint(&stderr);

    // doctor: the endpoints point at the network check, which names the proxy once.
    let out = run(w
        .portico()
        .args(["doctor", "--json", "--sso-session", "emu"])
        .env("HTTPS_PROXY", &closed)
        .env("PORTICO_PROXY_LOOPBACK", "1"));
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let oidc = findings
        .iter()
        .find(|f| f["check"] == "oidc-endpoint")
        .unwrap();
    assert_eq!(oidc["status"], "fail");
    assert!(
        oidc["fix"].as_str().unwrap().contains("network check"),
        "{oidc}"
    );
    let (status, message) = network_finding(&out);
    assert_eq!(status, "fail");
    assert_eq!(message.matches("does not answer").count(), 1, "{message}");

    // A proxy that accepts and never answers: bounded by PORTICO_HTTP_TIMEOUT.
    let silent = SilentServer::start();
    let (out, took) = common::output_within(
        w.portico()
            .args(["credentials", "--profile", "dev"])
            .env("HTTPS_PROXY", silent.url())
            .env("PORTICO_PROXY_LOOPBACK", "1")
            .env("PORTICO_HTTP_TIMEOUT", "1"),
        Duration::from_secs(45),
    );
    let out = out.unwrap_or_else(|| panic!("a hanging proxy held portico for {took:?}"));
    assert_eq!(out.status.code(), Some(NETWORK_FAILURE));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "no answer in time through the proxy {}",
            silent.url()
        )) && stderr.contains("PORTICO_HTTP_TIMEOUT"),
        "{stderr}"
    );
    assert_no_generic_hint(&stderr);
}

#[test]
fn an_unknown_authority_is_named_with_the_fix() {
    let w = world();
    // The emulator's CA is not trusted without AWS_CA_BUNDLE: one line with host, reason, fix.
    let out = run(w
        .portico()
        .env_remove("AWS_CA_BUNDLE")
        .args(["login", "--device-code"]));
    assert_eq!(out.status.code(), Some(NETWORK_FAILURE));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("unknown issuer"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("the certificate of 127.0.0.1"),
        "{stderr}"
    );
    assert!(lines[0].contains("AWS_CA_BUNDLE") && lines[0].contains("ca_bundle"));
    assert!(
        !lines[0].contains("proxy"),
        "no proxy was in the path: {stderr}"
    );
    assert_no_generic_hint(&stderr);

    // An unusable bundle is named, not a panic.
    let empty = w.env.home.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let out = run(w
        .portico()
        .env("AWS_CA_BUNDLE", &empty)
        .args(["login", "--device-code"]));
    assert_eq!(out.status.code(), Some(NETWORK_FAILURE));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "AWS_CA_BUNDLE {}: it holds no PEM certificate",
            empty.display()
        )),
        "{stderr}"
    );
}

/// mitmproxy's mitmdump in regular mode on a free port, trusting the emulator's CA upstream
/// and re-signing with its own CA (written to its confdir).
struct Mitm {
    child: Child,
    port: u16,
    ca: PathBuf,
    flows: PathBuf,
    _dir: tempfile::TempDir,
}

impl Mitm {
    fn start(upstream_ca: &Path) -> Option<Mitm> {
        let script = support("mitm-env.sh");
        let setup = Command::new("bash").arg(&script).output().unwrap();
        let mitmdump = text(&setup.stdout)
            .lines()
            .last()
            .unwrap_or_default()
            .to_string();
        if !setup.status.success() || !Path::new(&mitmdump).exists() {
            tool_missing(
                "mitmproxy",
                &format!("tests/support/mitm-env.sh failed: {}", text(&setup.stderr)),
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let flows = dir.path().join("flows.log");
        let log = std::fs::File::create(&flows).unwrap();
        let mut child = Command::new(&mitmdump)
            .args([
                "--mode",
                "regular",
                "--listen-host",
                "127.0.0.1",
                "--listen-port",
            ])
            .arg(port.to_string())
            .arg("--set")
            .arg(format!("confdir={}", dir.path().display()))
            .arg("--set")
            .arg(format!(
                "ssl_verify_upstream_trusted_ca={}",
                upstream_ca.display()
            ))
            .args(["--set", "flow_detail=1"])
            .stdout(log)
            .stderr(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_port(port, &mut child, "mitmdump");
        let ca = dir.path().join("mitmproxy-ca-cert.pem");
        assert!(ca.exists(), "mitmproxy wrote no CA certificate");
        Some(Mitm {
            child,
            port,
            ca,
            flows,
            _dir: dir,
        })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many requests to `https` mitmproxy has logged (one line per flow).
    fn requests(&self, https: &str) -> usize {
        let file = match std::fs::File::open(&self.flows) {
            Ok(f) => f,
            Err(_) => return 0,
        };
        BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .filter(|l| l.contains(https))
            .count()
    }
}

impl Drop for Mitm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_tls_inspecting_proxy_needs_its_authority_and_works_with_it() {
    let w = world();
    let Some(mitm) = Mitm::start(&w.ca) else {
        return;
    };
    let url = mitm.url();
    let through = |cmd: &mut Command| {
        cmd.env("HTTPS_PROXY", &url)
            .env("PORTICO_PROXY_LOOPBACK", "1");
    };

    // Signed in directly first, so that every command below has something to ask.
    assert_success(&run(w.portico().args(["login", "--device-code"])));
    // Signing out: the token is deleted here; the note of why the service was not told names
    // the unknown issuer too.
    let mut cmd = w.portico();
    cmd.arg("logout").env_remove("AWS_CA_BUNDLE");
    through(&mut cmd);
    let out = run(&mut cmd);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("unknown issuer") && stderr.contains(&format!("through the proxy {url}")),
        "{stderr}"
    );

    assert_success(&run(w.portico().args(["login", "--device-code"])));
    // Without the proxy's authority every command fails in one line naming it and the fix.
    for (name, args, browser) in w.commands() {
        let mut cmd = w.portico();
        cmd.args(&args)
            .env("PROXY_TEST_BROWSER", support(browser))
            .env_remove("AWS_CA_BUNDLE");
        through(&mut cmd);
        let out = run(&mut cmd);
        let stderr = text(&out.stderr);
        let stdout = text(&out.stdout);
        let both = format!("{stdout}{stderr}");
        assert!(
            both.contains("unknown issuer")
                && both.contains("AWS_CA_BUNDLE")
                && both.contains(&format!("through the proxy {url}")),
            "{name}: {both}"
        );
        if name == "doctor" {
            continue;
        }
        assert_eq!(out.status.code(), Some(NETWORK_FAILURE), "{name}: {stderr}");
        // One error line (login --force may also note that the sign-out was not confirmed).
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("portico: error:"))
            .collect();
        assert_eq!(errors.len(), 1, "{name}: {stderr}");
        assert!(errors[0].contains("unknown issuer"), "{name}: {stderr}");
        assert_no_generic_hint(&stderr);
        assert!(out.stdout.is_empty(), "{name}: {stderr}");
    }

    // With AWS_CA_BUNDLE naming mitmproxy's authority, every command works through it.
    let https = w.https.clone();
    every_command_succeeds(
        &w,
        "mitmproxy + AWS_CA_BUNDLE",
        &|cmd| {
            through(cmd);
            cmd.env("AWS_CA_BUNDLE", &mitm.ca);
        },
        &|| mitm.requests(&https),
    );

    // And separately with ca_bundle in the profile the command runs under.
    w.forget();
    let config = std::fs::read_to_string(w.env.config_path()).unwrap();
    w.env.write_config(&config.replace(
        "[profile dev]\n",
        &format!("[profile dev]\nca_bundle = {}\n", mitm.ca.display()),
    ));
    every_command_succeeds(
        &w,
        "mitmproxy + ca_bundle",
        &|cmd| {
            through(cmd);
            cmd.env_remove("AWS_CA_BUNDLE").env("AWS_PROFILE", "dev");
        },
        &|| mitm.requests(&https),
    );
}

#[test]
fn an_unusable_proxy_setting_is_named_without_its_password() {
    let w = world();
    for (value, expect) in [
        (
            "socks5://alice:hunter2@127.0.0.1:1080",
            "HTTPS_PROXY is not a usable proxy: socks5 proxies are not supported",
        ),
        (
            "http://alice:hunter2@:3128",
            "HTTPS_PROXY is not a usable proxy: not a proxy URL",
        ),
    ] {
        for args in [
            &["login", "--device-code"][..],
            &["doctor", "--json", "--sso-session", "emu"][..],
        ] {
            let out = run(w
                .portico()
                .args(args)
                .env("HTTPS_PROXY", value)
                .env("PORTICO_PROXY_LOOPBACK", "1"));
            let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
            assert!(all.contains(expect), "{args:?}: {all}");
            assert!(!all.contains("hunter2"), "{args:?}: {all}");
            if args[0] == "login" {
                assert_eq!(out.status.code(), Some(NETWORK_FAILURE), "{all}");
            } else {
                assert_eq!(network_finding(&out).0, "fail", "{all}");
            }
        }
    }
}

#[test]
fn the_warm_path_sets_up_no_proxy_or_tls() {
    let w = world();
    assert_success(&run(w.portico().args(["login", "--device-code"])));
    let first = run(w.portico().args(["credentials", "--profile", "dev"]));
    assert_success(&first);
    // Cached keys: no request, so neither a dead proxy nor an unreadable bundle is touched.
    let out = run(w
        .portico()
        .args(["credentials", "--profile", "dev"])
        .env("HTTPS_PROXY", closed_port_url())
        .env("PORTICO_PROXY_LOOPBACK", "1")
        .env(
            "AWS_CA_BUNDLE",
            w.env.home.path().join("no-such-bundle.pem"),
        ));
    assert_success(&out);
    assert_eq!(out.stdout, first.stdout, "the cached keys");
}
