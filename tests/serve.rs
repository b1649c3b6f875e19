//! `portico serve` and `portico exec --serve`: the real binary serving the container-credentials
//! endpoint, real clients (boto3, the AWS CLI v2, the Rust SDK's container provider, raw HTTP)
//! against it, and the emulator behind it counting GetRoleCredentials calls.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::serving::Serving;
use common::{assert_success, text, wait_until, TestEnv};
use idc_emulator::Config;

fn signed_in(config: Config) -> TestEnv {
    let env = TestEnv::new(config);
    env.login();
    env.emu.reset_stats();
    env
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(bytes)))
}

/// Starts `portico serve ARGS` (format `env`); returns as soon as the server listens.
fn serve(env: &TestEnv, args: &[&str]) -> Serving {
    let mut cmd = env.portico();
    cmd.arg("serve").args(args);
    Serving::start(cmd)
}

impl Serving {
    fn uri(&self) -> &str {
        self.var("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    }

    fn token(&self) -> &str {
        self.var("AWS_CONTAINER_AUTHORIZATION_TOKEN")
    }

    /// `127.0.0.1:PORT`.
    fn addr(&self) -> String {
        split_uri(self.uri()).0
    }

    /// GET the printed URI with the printed token.
    fn fetch(&self) -> Reply {
        let (addr, path) = split_uri(self.uri());
        get(&addr, &path, Some(self.token().as_bytes()))
    }

    /// SIGTERM, then the exit status and everything it wrote on stderr.
    fn stop(self) -> (ExitStatus, String) {
        self.stop_with(rustix::process::Signal::TERM)
    }

    /// `signal`, then the exit status and everything it wrote on stderr.
    fn stop_with(self, signal: rustix::process::Signal) -> (ExitStatus, String) {
        self.signal(signal);
        self.wait()
    }
}

/// `http://HOST:PORT/PATH?Q` → (`HOST:PORT`, `/PATH?Q`).
fn split_uri(uri: &str) -> (String, String) {
    let rest = uri.strip_prefix("http://").expect("an http URI");
    let slash = rest.find('/').unwrap_or(rest.len());
    (rest[..slash].to_string(), rest[slash..].to_string())
}

#[derive(Debug)]
struct Reply {
    status: u16,
    body: String,
}

impl Reply {
    fn json(&self) -> serde_json::Value {
        json(self.body.as_bytes())
    }
}

/// One HTTP/1.1 GET over a fresh connection, the Authorization header's value given as raw
/// bytes (so near-misses can be sent exactly).
fn get(addr: &str, path: &str, authorization: Option<&[u8]>) -> Reply {
    let mut request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\n").into_bytes();
    if let Some(value) = authorization {
        request.extend_from_slice(b"Authorization: ");
        request.extend_from_slice(value);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"Connection: close\r\n\r\n");
    raw(addr, &request)
}

fn raw(addr: &str, request: &[u8]) -> Reply {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = text(&response);
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {response}"));
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Reply { status, body }
}

/// What `portico credentials --profile dev` prints, as JSON.
fn reference(env: &TestEnv) -> serde_json::Value {
    let out = env
        .portico()
        .args(["credentials", "--profile", "dev"])
        .output()
        .unwrap();
    assert_success(&out);
    json(&out.stdout)
}

fn pyenv_python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyenv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run tests/python-env.sh first (it builds the virtualenv with boto3)",
        python.display()
    );
    python
}

/// A command with nothing but PATH, an empty HOME, no config files and `vars`: the container
/// endpoint is the only place its SDK can find credentials.
fn isolated(program: impl AsRef<std::ffi::OsStr>, home: &Path, vars: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("PYTHONUTF8", "1")
        .stdin(Stdio::null());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

const BOTO3_PROBE: &str = r#"
import boto3, json
creds = boto3.Session().get_credentials()
frozen = creds.get_frozen_credentials()
print(json.dumps({"method": creds.method, "AccessKeyId": frozen.access_key,
                  "SecretAccessKey": frozen.secret_key, "SessionToken": frozen.token}))
"#;

fn boto3(home: &Path, vars: &[(&str, &str)]) -> serde_json::Value {
    let out = isolated(pyenv_python(), home, vars)
        .args(["-c", BOTO3_PROBE])
        .output()
        .unwrap();
    assert_success(&out);
    json(&out.stdout)
}

fn same_keys(got: &serde_json::Value, want: &serde_json::Value, who: &str) {
    for key in ["AccessKeyId", "SecretAccessKey", "SessionToken"] {
        assert_eq!(got[key], want[key], "{who}: {key}");
    }
}

#[test]
fn boto3_and_the_aws_cli_get_the_keys_portico_credentials_prints() {
    let env = signed_in(Config::default());
    let want = reference(&env);
    let server = serve(&env, &["--profile", "dev"]);
    let home = tempfile::tempdir().unwrap();
    let vars = [
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.uri()),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", server.token()),
    ];

    let got = boto3(home.path(), &vars);
    assert_eq!(got["method"], "container-role", "{got}");
    same_keys(&got, &want, "boto3");

    match common::awscli::of_major("2") {
        Some(aws) => {
            let out = isolated(&aws, home.path(), &vars)
                .args(["configure", "export-credentials", "--format", "process"])
                .output()
                .unwrap();
            assert_success(&out);
            let got = json(&out.stdout);
            same_keys(&got, &want, "aws configure export-credentials");
            let when = |v: &serde_json::Value| {
                time::OffsetDateTime::parse(
                    v.as_str().unwrap(),
                    &time::format_description::well_known::Rfc3339,
                )
                .unwrap()
            };
            assert_eq!(when(&got["Expiration"]), when(&want["Expiration"]));
        }
        None => eprintln!(
            "note: the AWS CLI v2 is not installed (Debian's awscli package is v2); skipping it"
        ),
    }

    // The server's own answer: the container shape, `Token` and `AccountId`.
    let reply = server.fetch();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let doc = reply.json();
    let mut keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "AccessKeyId",
            "AccountId",
            "Expiration",
            "SecretAccessKey",
            "Token"
        ]
    );
    assert_eq!(doc["Token"], want["SessionToken"]);
    assert_eq!(doc["Expiration"], want["Expiration"]);
    assert_eq!(
        doc["AccountId"],
        env.emu.directory().accounts()[0].account_id
    );
    assert_eq!(
        env.stat("GetRoleCredentials"),
        1,
        "all of them from one fetch"
    );
}

#[test]
fn the_rust_sdk_container_provider_gets_the_keys_portico_credentials_prints() {
    let env = signed_in(Config::default());
    let want = reference(&env);
    let server = serve(&env, &["--profile", "dev"]);
    // aws-config's provider reads the process environment only (its own override is crate
    // private). No other test here reads these two: their SDK clients run with a cleared
    // environment, and portico ignores them.
    std::env::set_var("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.uri());
    std::env::set_var("AWS_CONTAINER_AUTHORIZATION_TOKEN", server.token());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let got = runtime
        .block_on(async {
            let config = aws_config::provider_config::ProviderConfig::default()
                .with_http_client(aws_smithy_http_client::Builder::new().build_http());
            aws_config::ecs::EcsCredentialsProvider::builder()
                .configure(&config)
                .build()
                .credentials()
                .await
        })
        .unwrap_or_else(|e| panic!("the Rust SDK's container provider failed: {e}"));
    assert_eq!(got.access_key_id(), want["AccessKeyId"].as_str().unwrap());
    assert_eq!(
        got.secret_access_key(),
        want["SecretAccessKey"].as_str().unwrap()
    );
    assert_eq!(got.session_token(), want["SessionToken"].as_str());
    let expiry = time::OffsetDateTime::from(got.expiry().expect("an expiry"));
    assert_eq!(
        portico::timefmt::rfc3339_z(expiry),
        want["Expiration"].as_str().unwrap()
    );
}

#[test]
fn the_account_and_role_route_serves_any_role_of_a_session() {
    let env = signed_in(Config::default());
    let account = env.emu.directory().accounts()[1].clone();
    let server = serve(
        &env,
        &[
            "--account",
            &account.account_id,
            "--role",
            &account.roles[0],
            "--sso-session",
            "emu",
        ],
    );
    assert!(
        server.uri().ends_with(&format!(
            "/role/{}/{}?sso-session=emu",
            account.account_id, account.roles[0]
        )),
        "{}",
        server.uri()
    );
    let reply = server.fetch();
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["AccountId"], account.account_id);
    let out = env
        .portico()
        .args(["credentials", "--account", &account.account_id, "--role"])
        .arg(&account.roles[0])
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(
        reply.json()["AccessKeyId"],
        json(&out.stdout)["AccessKeyId"]
    );
}

#[test]
fn a_client_asking_across_three_refreshes_always_gets_keys_with_15_minutes_left() {
    // Keys that live 15 minutes and 3 seconds: each set is handed out for about 3 seconds,
    // then fetched again, so three refreshes take about 10 seconds.
    let env = signed_in(Config {
        role_credential_ttl: 15 * 60 + 3,
        ..Config::default()
    });
    let server = serve(&env, &["--profile", "dev"]);
    let mut seen: Vec<String> = Vec::new();
    let mut answers = 0;
    let done = wait_until(Duration::from_secs(60), || {
        let reply = server.fetch();
        assert_eq!(reply.status, 200, "{}", reply.body);
        let doc = reply.json();
        let expiration = time::OffsetDateTime::parse(
            doc["Expiration"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        // More than 15 minutes at the server; the timestamp has whole seconds, and this check
        // runs a moment after the server's.
        let left = expiration - time::OffsetDateTime::now_utc();
        assert!(left >= time::Duration::seconds(15 * 60 - 2), "{left}");
        let key = doc["AccessKeyId"].as_str().unwrap().to_string();
        if seen.last() != Some(&key) {
            assert!(!seen.contains(&key), "an older key came back: {key}");
            seen.push(key);
        }
        answers += 1;
        (seen.len() == 4).then_some(())
    });
    assert!(done.is_some(), "only {} key sets in 60 s", seen.len());
    assert!(answers > seen.len(), "keys were reused between refreshes");
    assert_eq!(
        env.stat("GetRoleCredentials"),
        seen.len() as u64,
        "one GetRoleCredentials per window"
    );
}

#[test]
fn two_hundred_concurrent_first_requests_make_one_get_role_credentials() {
    let env = signed_in(Config::default());
    let server = serve(&env, &["--profile", "dev"]);
    let (addr, path) = split_uri(server.uri());
    let token = server.token().to_string();
    let start = Arc::new(std::sync::Barrier::new(200));
    let clients: Vec<_> = (0..200)
        .map(|_| {
            let (addr, path, token, start) =
                (addr.clone(), path.clone(), token.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                get(&addr, &path, Some(token.as_bytes()))
            })
        })
        .collect();
    let replies: Vec<Reply> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    for reply in &replies {
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            reply.json()["AccessKeyId"],
            replies[0].json()["AccessKeyId"]
        );
    }
    assert_eq!(env.stat("GetRoleCredentials"), 1);
}

#[test]
fn missing_wrong_and_near_miss_tokens_get_401_and_nothing_else() {
    let env = signed_in(Config::default());
    let server = serve(&env, &["--profile", "dev"]);
    let (addr, path) = split_uri(server.uri());
    let token = server.token().as_bytes().to_vec();
    assert_eq!(token.len(), 64, "256 bits as hex");

    let mut one_off = token.clone();
    one_off[10] = if one_off[10] == b'a' { b'b' } else { b'a' };
    let upper = server.token().to_uppercase().into_bytes();
    let near_misses: Vec<(&str, Option<Vec<u8>>)> = vec![
        ("missing", None),
        ("empty", Some(Vec::new())),
        ("wrong", Some(b"not-the-token".to_vec())),
        ("one byte off", Some(one_off)),
        ("a prefix", Some(token[..63].to_vec())),
        ("one byte more", Some([token.as_slice(), b"0"].concat())),
        ("Bearer", Some([b"Bearer ".as_slice(), &token].concat())),
        ("upper case", Some(upper)),
        (
            "a trailing newline as text",
            Some([token.as_slice(), b"\\n"].concat()),
        ),
    ];
    for (what, value) in near_misses {
        let reply = get(&addr, &path, value.as_deref());
        assert_eq!(reply.status, 401, "{what}: {}", reply.body);
        let doc = reply.json();
        assert_eq!(doc["Code"], "Unauthorized", "{what}");
        assert_eq!(doc.as_object().unwrap().len(), 2, "{what}: {doc}");
        assert!(!reply.body.contains("AccessKeyId"), "{what}");
    }
    // A carriage return before the line end, and the right token sent twice beside a wrong one.
    let cr = raw(
        &addr,
        &[
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: ").as_bytes(),
            &token,
            b"\r\r\nConnection: close\r\n\r\n",
        ]
        .concat(),
    );
    assert!(cr.status == 400 || cr.status == 401, "{cr:?}");
    let twice = raw(
        &addr,
        &[
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: wrong\r\nAuthorization: ")
                .as_bytes(),
            &token,
            b"\r\nConnection: close\r\n\r\n",
        ]
        .concat(),
    );
    assert_eq!(twice.status, 401, "{twice:?}");
    assert_eq!(
        env.stat("GetRoleCredentials"),
        0,
        "no keys fetched for them"
    );

    // The exact token gets in (so the refusals above were about the token).
    assert_eq!(get(&addr, &path, Some(&token)).status, 200);
}

#[test]
fn a_profile_not_in_the_config_gets_404_naming_it() {
    let env = signed_in(Config::default());
    let server = serve(&env, &["--profile", "dev"]);
    let addr = server.addr();
    let token = server.token().as_bytes().to_vec();
    let reply = get(&addr, "/role/no-such-profile", Some(&token));
    assert_eq!(reply.status, 404, "{}", reply.body);
    let message = reply.json()["Message"].as_str().unwrap().to_string();
    assert!(message.contains("\"no-such-profile\""), "{message}");
    let reply = get(&addr, "/elsewhere", Some(&token));
    assert_eq!(reply.status, 404, "{}", reply.body);
    assert!(reply.json()["Message"]
        .as_str()
        .unwrap()
        .contains("/role/PROFILE"));
    assert_eq!(env.stat("GetRoleCredentials"), 0);

    // Named at start, the server does not start.
    let out = env
        .portico()
        .args(["serve", "--profile", "no-such-profile"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("\"no-such-profile\""));
    assert!(out.stdout.is_empty());
}

#[test]
fn a_non_loopback_bind_is_refused() {
    let env = TestEnv::new(Config::default());
    for bind in ["0.0.0.0", "192.168.1.10", "::", "example.com"] {
        let out = env
            .portico()
            .args(["serve", "--profile", "dev", "--bind", bind])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bind}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty());
        assert!(
            text(&out.stderr).contains("127.0.0.1"),
            "{}",
            text(&out.stderr)
        );
    }
    // Another loopback address is fine.
    let server = serve(&env, &["--profile", "dev", "--bind", "127.0.0.2"]);
    assert!(
        server.uri().starts_with("http://127.0.0.2:"),
        "{}",
        server.uri()
    );
}

#[test]
fn signed_out_requests_get_503_naming_portico_login_said_once_on_stderr() {
    let env = TestEnv::new(Config::default());
    let server = serve(&env, &["--profile", "dev"]);
    for _ in 0..3 {
        let reply = server.fetch();
        assert_eq!(reply.status, 503, "{}", reply.body);
        let doc = reply.json();
        assert_eq!(doc["Code"], "LoginRequired");
        assert!(
            doc["Message"].as_str().unwrap().contains("portico login"),
            "{doc}"
        );
    }
    let stats = env.emu.stats();
    assert_eq!(stats["StartDeviceAuthorization"], 0, "no sign-in started");
    assert_eq!(stats["GetRoleCredentials"], 0);
    let (status, stderr) = server.stop();
    assert!(status.success(), "{status:?}: {stderr}");
    assert_eq!(
        stderr.matches("portico login").count(),
        1,
        "said once: {stderr}"
    );
}

#[test]
fn one_log_line_per_request_no_secret_on_stderr_and_sigterm_ends_cleanly() {
    let env = signed_in(Config::default());
    let server = serve(&env, &["--profile", "dev"]);
    let token = server.token().to_string();
    let first = server.fetch();
    assert_eq!(first.status, 200);
    assert_eq!(server.fetch().status, 200);
    assert_eq!(get(&server.addr(), "/role/dev", None).status, 401);
    let secret = first.json()["SecretAccessKey"]
        .as_str()
        .unwrap()
        .to_string();
    let session_token = first.json()["Token"].as_str().unwrap().to_string();
    let (status, stderr) = server.stop();
    assert_eq!(status.code(), Some(0), "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(" GET /role/dev "))
        .collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(
        lines[0].contains(" 200 ") && lines[2].contains(" 401 "),
        "{stderr}"
    );
    assert!(stderr.contains("stopped (SIGTERM)"), "{stderr}");
    for hidden in [&token, &secret, &session_token] {
        assert!(
            !stderr.contains(hidden.as_str()),
            "a secret on stderr: {stderr}"
        );
    }
}

#[test]
fn token_file_is_new_private_read_by_boto3_and_deleted_on_stop() {
    let env = signed_in(Config::default());
    let want = reference(&env);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("serve.token");
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let server = serve(
        &env,
        &[
            "--profile",
            "dev",
            "--port",
            &port.to_string(),
            "--token-file",
            path.to_str().unwrap(),
        ],
    );
    let names: Vec<&str> = server.vars.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
        ]
    );
    assert_eq!(server.uri(), format!("http://127.0.0.1:{port}/role/dev"));
    assert_eq!(
        server.var("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
        path.to_str().unwrap()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let home = tempfile::tempdir().unwrap();
    let got = boto3(
        home.path(),
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.uri()),
            (
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                path.to_str().unwrap(),
            ),
        ],
    );
    same_keys(&got, &want, "boto3 with the token file");

    // A second server may not take over an existing token file.
    let out = env
        .portico()
        .args(["serve", "--profile", "dev", "--token-file"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("already exists"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());

    let (status, stderr) = server.stop_with(rustix::process::Signal::INT);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("stopped (SIGINT)"), "{stderr}");
    assert!(
        !path.exists(),
        "the token file is deleted when the server stops"
    );
}

#[test]
fn every_shell_format_points_a_real_shell_at_the_server() {
    let env = signed_in(Config::default());
    let mut shells = vec![
        ("env", "bash", "eval \"$(cat)\""),
        ("env-no-export", "bash", "eval \"$(cat)\""),
    ];
    shells.push(("dotenv", "bash", "set -a; . /dev/stdin; set +a"));
    if Command::new("fish").arg("--version").output().is_ok() {
        shells.push(("fish", "fish", "cat | source"));
    } else {
        eprintln!("note: fish is not installed; tests/run.sh installs it");
    }
    for (format, shell, load) in shells {
        let mut child = env
            .portico()
            .args(["serve", "--profile", "dev", "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut printed = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut printed)
            .unwrap();
        let script = format!(
            "{load}; printf '%s %s' \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\" \"$AWS_CONTAINER_AUTHORIZATION_TOKEN\""
        );
        let mut sh = Command::new(shell)
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        sh.stdin
            .take()
            .unwrap()
            .write_all(printed.as_bytes())
            .unwrap();
        let out = sh.wait_with_output().unwrap();
        assert_success(&out);
        let shown = text(&out.stdout);
        let (uri, token) = shown.split_once(' ').unwrap();
        let (addr, path) = split_uri(uri);
        let reply = get(&addr, &path, Some(token.as_bytes()));
        assert_eq!(reply.status, 200, "{format}: {printed}");
        let _ = child.kill();
        let _ = child.wait();
    }
    // json: one object; process (which sets nothing) is refused.
    let mut child = env
        .portico()
        .args(["serve", "--profile", "dev", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut printed = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut printed)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let doc = json(printed.as_bytes());
    assert!(
        doc["AWS_CONTAINER_CREDENTIALS_FULL_URI"].is_string(),
        "{doc}"
    );
    let out = env
        .portico()
        .args(["serve", "--format", "process"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn eval_of_a_background_serve_returns_with_its_variables() {
    let env = signed_in(Config::default());
    let bin = env!("CARGO_BIN_EXE_portico");
    // The server closes stdout once the lines are out, so the command substitution ends
    // while the server goes on in the background.
    let script = format!(
        r#"eval "$('{bin}' serve --profile dev 2>/dev/null & echo "serve_pid=$!")"; printf '%s %s %s' "$serve_pid" "$AWS_CONTAINER_CREDENTIALS_FULL_URI" "$AWS_CONTAINER_AUTHORIZATION_TOKEN""#
    );
    let probe = env.portico();
    let mut bash = Command::new("bash");
    bash.arg("-c").arg(&script).env_clear();
    for (k, v) in probe.get_envs() {
        if let Some(v) = v {
            bash.env(k, v);
        }
    }
    bash.env("PATH", std::env::var_os("PATH").unwrap_or_default());
    let (out, _) = common::output_within(&mut bash, Duration::from_secs(20));
    let out = out.expect("eval \"$(portico serve … &)\" returns");
    assert_success(&out);
    let shown = text(&out.stdout);
    let words: Vec<&str> = shown.split(' ').collect();
    let pid: i32 = words[0].parse().unwrap();
    let (addr, path) = split_uri(words[1]);
    let reply = get(&addr, &path, Some(words[2].as_bytes()));
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_raw(pid).unwrap(),
        rustix::process::Signal::TERM,
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
fn exec_serve_gives_the_command_a_server_for_its_lifetime() {
    let env = signed_in(Config::default());
    let want = reference(&env);
    env.emu.reset_stats();
    // boto3 in the command finds the keys through the private server, not static keys.
    let out = env
        .portico()
        .env("AWS_ACCESS_KEY_ID", "AKIASTALEKEY")
        .args(["exec", "--serve", "--profile", "dev", "--"])
        .arg(pyenv_python())
        .args(["-c", BOTO3_PROBE])
        .output()
        .unwrap();
    assert_success(&out);
    let got = json(&out.stdout);
    assert_eq!(got["method"], "container-role", "{got}");
    same_keys(&got, &want, "boto3 under exec --serve");
    assert_eq!(env.stat("GetRoleCredentials"), 0, "from the cache");

    // The variables it sees, and the server is gone once it has ended.
    let out = env
        .portico()
        .args(["exec", "--serve", "--profile", "dev", "--", "sh", "-c"])
        .arg(r#"printf '%s|%s|%s' "$AWS_CONTAINER_CREDENTIALS_FULL_URI" "${AWS_ACCESS_KEY_ID-unset}" "$AWS_REGION""#)
        .output()
        .unwrap();
    assert_success(&out);
    let shown = text(&out.stdout);
    let parts: Vec<&str> = shown.split('|').collect();
    assert!(
        parts[0].starts_with("http://127.0.0.1:") && parts[0].ends_with("/role/dev"),
        "{shown}"
    );
    assert_eq!(parts[1..], ["unset", "eu-west-1"]);
    let (addr, _) = split_uri(parts[0]);
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "server still up at {addr}"
    );

    // A command that cannot start exits as shells do; exit code and signal pass through.
    let out = env
        .portico()
        .args([
            "exec",
            "--serve",
            "--profile",
            "dev",
            "--",
            "no-such-command-portico",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127), "{}", text(&out.stderr));
    let out = env
        .portico()
        .args([
            "exec",
            "--serve",
            "--profile",
            "dev",
            "--",
            "sh",
            "-c",
            "exit 7",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7));
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        let out = env
            .portico()
            .args([
                "exec",
                "--serve",
                "--profile",
                "dev",
                "--",
                "sh",
                "-c",
                "kill -TERM $$",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.signal(), Some(15), "{:?}", out.status);

        // SIGTERM to portico reaches the command, which says so and exits 3.
        let mut child = env
            .portico()
            .args(["exec", "--serve", "--profile", "dev", "--", "sh", "-c"])
            .arg("trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 0.05; done")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut ready = [0u8; 6];
        stdout.read_exact(&mut ready).unwrap();
        assert_eq!(&ready, b"ready\n");
        let pid = rustix::process::Pid::from_child(&child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(rest, "got-term\n");
        assert_eq!(status.code(), Some(3));
    }
}

/// `portico doctor --json`'s credential-server finding, with `vars` in its environment.
fn doctor_server_finding(env: &TestEnv, vars: &[(&str, &str)]) -> (Option<i32>, serde_json::Value) {
    let mut cmd = env.portico();
    cmd.args(["doctor", "--json"]);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stdout)));
    let mine: Vec<_> = findings
        .into_iter()
        .filter(|f| f["check"] == "credential-server")
        .collect();
    assert_eq!(mine.len(), 1, "{mine:#?}");
    (out.status.code(), mine[0].clone())
}

#[test]
fn doctor_notices_server_variables_where_nothing_answers() {
    let env = signed_in(Config::default());
    let (code, finding) = doctor_server_finding(&env, &[]);
    assert_eq!(finding["status"], "pass", "{finding}");
    assert_eq!(code, Some(0), "{finding}");

    let server = serve(&env, &["--profile", "dev"]);
    let (uri, token) = (server.uri().to_string(), server.token().to_string());
    let vars = [
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri.as_str()),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", token.as_str()),
    ];
    let (code, finding) = doctor_server_finding(&env, &vars);
    assert_eq!(finding["status"], "pass", "{finding}");
    assert_eq!(code, Some(0), "{finding}");

    // Another server's token (one restarted on the same port prints a new one).
    let (code, finding) = doctor_server_finding(
        &env,
        &[
            vars[0],
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "0".repeat(64).as_str()),
        ],
    );
    assert_eq!(finding["status"], "fail", "{finding}");
    assert!(
        finding["message"].as_str().unwrap().contains("401"),
        "{finding}"
    );
    assert_eq!(code, Some(8));

    let (status, _) = server.stop();
    assert!(status.success());
    let (code, finding) = doctor_server_finding(&env, &vars);
    assert_eq!(finding["status"], "fail", "{finding}");
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.contains(&uri) && message.contains("nothing answers"),
        "{finding}"
    );
    assert!(!message.contains(&token), "the token is never shown");
    assert!(
        finding["fix"].as_str().unwrap().contains("portico serve"),
        "{finding}"
    );
    assert_eq!(code, Some(8));
}

#[test]
fn a_sign_out_ends_what_the_server_hands_out() {
    let env = signed_in(Config::default());
    let server = serve(&env, &["--profile", "dev"]);
    assert_eq!(server.fetch().status, 200);
    assert_success(&env.portico().arg("logout").output().unwrap());
    let reply = server.fetch();
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert!(reply.body.contains("portico login"), "{}", reply.body);
    // Signed in again: keys again, without restarting the server.
    env.login();
    assert_eq!(server.fetch().status, 200);
}
