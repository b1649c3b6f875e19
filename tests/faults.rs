//! The fault suite: every command that talks to Identity Center, run as the real binary under
//! each fault the service or the network can throw at it — server errors, garbled bodies,
//! throttling, a hang, a refused connection, a socket that never answers, and tokens the
//! service revoked or ended early.
//!
//! For each case (command × fault) it checks what the README and `src/exit.rs` promise: the
//! documented exit status, a one-line message that names the cause (no Rust debug text, no
//! secret), an empty stdout where stdout carries credentials, an answer in bounded time, and
//! every config and cache file unchanged or still valid.
//!
//! One test per fault; inside it the commands run in parallel, each with its own HOME and its
//! own emulator, so a fault set for one case cannot leak into another. A failing test prints
//! the whole table of its cases, one line each.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::{closed_port_url, output_within, snapshot_files, text, SilentServer, TestEnv};
use idc_emulator::{Config, Directory, Faults};

/// How long any one command may take under a fault. Generous on purpose: a loaded machine must
/// not fail the suite; a command that waits for the SDK's 3 × 30 s or for a user still does.
const LIMIT: Duration = Duration::from_secs(20);
/// doctor's bound (the whole run stays under 30 s).
const DOCTOR_LIMIT: Duration = Duration::from_secs(30);
/// One attempt's timeout where the fault is a hang: far shorter than the hang itself.
const SHORT_TIMEOUT: &str = "0.5";
/// The hang: every OIDC and portal answer delayed by this much.
const HANG_MS: u64 = 5_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Every OIDC and portal call answers 500.
    ServerErrors,
    /// Success bodies are cut to half: unreadable JSON.
    Garbled,
    /// The portal's throttle lets 2 calls a second through, and the bucket starts empty.
    Throttled,
    /// Every answer comes after 5 s; `PORTICO_HTTP_TIMEOUT=0.5` gives up long before.
    Hang,
    /// Nothing listens on the endpoint's port.
    Refused,
    /// The endpoint accepts connections and never answers.
    Silent,
    /// The service revoked every token (an admin ended the session): the local token looks
    /// valid, the service answers 401 and the refresh is refused.
    Revoked,
    /// The service ended the access token early (the refresh token still works).
    Expired,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::ServerErrors => "server-errors",
            Fault::Garbled => "garbled",
            Fault::Throttled => "throttled",
            Fault::Hang => "hang",
            Fault::Refused => "refused",
            Fault::Silent => "silent",
            Fault::Revoked => "revoked",
            Fault::Expired => "expired",
        }
    }

    /// Whether the command must fail under it (throttling lets calls through: success).
    fn is_hard(self) -> bool {
        !matches!(self, Fault::Throttled | Fault::Expired)
    }

    /// The exit status of a command that needs the service: 4 where only a new sign-in helps,
    /// 7 where the service failed.
    fn exit(self) -> i32 {
        match self {
            Fault::Revoked => 4,
            _ => 7,
        }
    }

    /// Words (lower case) of which the error line must hold at least one: the cause, named.
    fn cause_words(self) -> &'static [&'static str] {
        match self {
            Fault::ServerErrors => &["500", "internal", "server error"],
            Fault::Garbled => &["unreadable"],
            Fault::Throttled => &["throttl", "429", "rate exceeded"],
            Fault::Hang | Fault::Silent => &["timed out", "no answer"],
            Fault::Refused => &["refused", "connection failed", "could not connect"],
            Fault::Revoked | Fault::Expired => {
                &["portico login", "unauthorized", "revoked", "expired"]
            }
        }
    }
}

/// What a command is, for what to expect of it under a fault.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Needs the service: fails under a hard fault with exit 7, succeeds under throttling.
    Service,
    /// `login`: like `Service`, from a HOME with no token; the test approves the device code.
    Login,
    /// `logout`: the local sign-out must happen whatever the service does (exit 0, the token
    /// deleted), with a one-line warning naming the cause when the service did not confirm.
    Logout,
    /// `doctor`: a report of checks; a hard fault fails a check (exit 8) that names the cause.
    Doctor,
    /// Reads files only (`status`): the same answer under any fault.
    Offline,
}

struct Row {
    /// The name used in the table.
    name: &'static str,
    args: &'static [&'static str],
    kind: Kind,
    /// stdout carries credentials (or a console link): empty on failure.
    secret_stdout: bool,
    /// Writes `~/.aws/config` on success.
    writes_config: bool,
    /// What stdout holds on success (`{account}`: the first account's id); empty: not checked.
    success_stdout: &'static str,
    /// Runs with `BROWSER` set to the fake browser (tests/support/fake-browser.py), which
    /// completes a PKCE sign-in when the emulator approves at once.
    browser: bool,
}

const EXEC_SCRIPT: &str = r#"test -n "$AWS_SESSION_TOKEN" && echo ran"#;

const ROWS: &[Row] = &[
    Row {
        name: "login",
        args: &["login", "--device-code"],
        kind: Kind::Login,
        secret_stdout: false,
        success_stdout: "",
        writes_config: false,
        browser: false,
    },
    Row {
        name: "login-pkce",
        args: &["login"],
        kind: Kind::Login,
        secret_stdout: false,
        success_stdout: "",
        writes_config: false,
        browser: true,
    },
    Row {
        name: "credentials",
        args: &["credentials", "--profile", "dev"],
        kind: Kind::Service,
        secret_stdout: true,
        success_stdout: r#""SessionToken""#,
        writes_config: false,
        browser: false,
    },
    Row {
        name: "credentials-env",
        args: &["credentials", "--profile", "dev", "--format", "env"],
        kind: Kind::Service,
        secret_stdout: true,
        success_stdout: "export AWS_SESSION_TOKEN=",
        writes_config: false,
        browser: false,
    },
    Row {
        name: "credentials-json",
        args: &["credentials", "--profile", "dev", "--format", "json"],
        kind: Kind::Service,
        secret_stdout: true,
        success_stdout: r#""SessionToken""#,
        writes_config: false,
        browser: false,
    },
    Row {
        name: "exec",
        args: &["exec", "--profile", "dev", "--", "sh", "-c", EXEC_SCRIPT],
        kind: Kind::Service,
        secret_stdout: true,
        success_stdout: "ran\n",
        writes_config: false,
        browser: false,
    },
    Row {
        name: "console",
        args: &["console", "--profile", "dev", "--print"],
        kind: Kind::Service,
        secret_stdout: true,
        success_stdout: "SigninToken=",
        writes_config: false,
        browser: false,
    },
    Row {
        name: "list",
        args: &["list"],
        kind: Kind::Service,
        secret_stdout: false,
        success_stdout: "{account}",
        writes_config: false,
        browser: false,
    },
    Row {
        name: "profiles-sync",
        args: &["profiles", "sync"],
        kind: Kind::Service,
        secret_stdout: false,
        success_stdout: "",
        writes_config: true,
        browser: false,
    },
    Row {
        name: "logout",
        args: &["logout"],
        kind: Kind::Logout,
        secret_stdout: false,
        success_stdout: "",
        writes_config: false,
        browser: false,
    },
    Row {
        name: "doctor",
        args: &["doctor"],
        kind: Kind::Doctor,
        secret_stdout: false,
        success_stdout: "",
        writes_config: false,
        browser: false,
    },
    Row {
        name: "status",
        args: &["status"],
        kind: Kind::Offline,
        secret_stdout: false,
        success_stdout: "signed in",
        writes_config: false,
        browser: false,
    },
];

#[test]
fn server_errors() {
    run_fault(Fault::ServerErrors);
}

#[test]
fn garbled_bodies() {
    run_fault(Fault::Garbled);
}

#[test]
fn throttling() {
    run_fault(Fault::Throttled);
}

#[test]
fn hang_cut_short_by_the_attempt_timeout() {
    run_fault(Fault::Hang);
}

#[test]
fn refused_connection() {
    run_fault(Fault::Refused);
}

#[test]
fn socket_that_never_answers() {
    run_fault(Fault::Silent);
}

#[test]
fn access_tokens_expired_by_the_service() {
    run_fault(Fault::Expired);
}

#[test]
fn tokens_revoked_by_the_service() {
    run_fault(Fault::Revoked);
}

/// Runs every row under `fault` in parallel and fails with the table if any case failed.
fn run_fault(fault: Fault) {
    let outcomes: Vec<(&Row, Result<String, String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = ROWS
            .iter()
            .map(|row| (row, scope.spawn(move || run_case(row, fault))))
            .collect();
        handles
            .into_iter()
            .map(|(row, handle)| {
                let outcome = handle.join().unwrap_or_else(|panic| {
                    Err(format!(
                        "panicked: {}",
                        panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default()
                    ))
                });
                (row, outcome)
            })
            .collect()
    });
    let mut table = String::new();
    let mut failed = 0;
    for (row, outcome) in &outcomes {
        let (verdict, detail) = match outcome {
            Ok(summary) => ("ok", summary),
            Err(why) => {
                failed += 1;
                ("FAIL", why)
            }
        };
        table.push_str(&format!(
            "{:<16} {:<14} {verdict}: {detail}\n",
            row.name,
            fault.name()
        ));
    }
    eprint!("{table}");
    assert_eq!(
        failed,
        0,
        "{failed} case(s) failed under {}:\n{table}",
        fault.name()
    );
}

/// One case: a fresh HOME and emulator, signed in unless the row is `login`, the fault set,
/// the command run once and judged. `Ok` holds a short summary for the table.
fn run_case(row: &Row, fault: Fault) -> Result<String, String> {
    let env = TestEnv::new(Config {
        directory: Directory::generate(3, 2),
        ..Config::default()
    });
    if row.kind != Kind::Login {
        env.login();
    }
    let secrets = secrets_under(env.home.path());
    assert!(
        row.kind == Kind::Login || secrets.len() >= 3,
        "the signed-in HOME holds a token, a refresh token and a client secret"
    );
    let (mut vars, _silent) = inject(fault, &env);
    if row.browser {
        vars.push((
            "BROWSER",
            common::support("fake-browser.py").display().to_string(),
        ));
        env.emu.set_auto_approve(true);
    }
    let command = |verbosity: &[&str]| {
        let mut cmd = env.portico();
        cmd.args(verbosity)
            .args(row.args)
            .envs(vars.iter().cloned());
        cmd
    };
    let limit = if row.kind == Kind::Doctor {
        DOCTOR_LIMIT
    } else {
        LIMIT
    };

    let before = snapshot_files(env.home.path());
    let refused_to_test = AtomicU64::new(0);
    let (output, elapsed) =
        run_command(&env, row, fault, &mut command(&[]), limit, &refused_to_test);
    let out = output.ok_or_else(|| format!("still running after {elapsed:.1?}: killed"))?;
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: text(&out.stdout),
        stderr: text(&out.stderr),
        elapsed,
    };

    // Secrets never reach stderr, nor stdout unless stdout is where credentials go.
    for secret in &secrets {
        if run.stderr.contains(secret.as_str())
            || (!row.secret_stdout && run.stdout.contains(secret))
        {
            // Not shown here: the output holds it.
            return Err(format!(
                "a secret was printed (exit {} in {elapsed:.1?})",
                run.code
            ));
        }
    }
    if let Some(debug) = run.stderr.lines().find_map(debug_text) {
        return Err(format!("Rust debug text {debug:?}; {}", run.shown()));
    }
    judge(row, fault, &env, &run).map_err(|e| format!("{e}; {}", run.shown()))?;
    let after = snapshot_files(env.home.path());
    files_unchanged_or_valid(&env, row, run.code == 0, &before, &after)
        .map_err(|e| format!("{e}; {}", run.shown()))?;

    // Where a failure leaves everything as it was, the same failure at -vvv (every detail
    // portico logs) still prints no secret.
    if row.must_fail(fault)
        && matches!(fault, Fault::ServerErrors | Fault::Garbled | Fault::Revoked)
    {
        let (verbose, _) = output_within(&mut command(&["-vvv"]), limit);
        let verbose = verbose.ok_or("still running at -vvv: killed")?;
        let (out, err) = (text(&verbose.stdout), text(&verbose.stderr));
        if verbose.status.code() != Some(run.code) {
            return Err(format!(
                "at -vvv: exit {:?}, not {}",
                verbose.status.code(),
                run.code
            ));
        }
        if secrets
            .iter()
            .any(|s| err.contains(s.as_str()) || out.contains(s.as_str()))
        {
            return Err("at -vvv a secret was printed".into());
        }
    }

    let throttled = match fault {
        Fault::Throttled => {
            // Not asserted: on a loaded machine a refilled token can reach the command before
            // the test takes it. The table says so.
            let refused = env.stat("throttled") - refused_to_test.load(Ordering::SeqCst);
            format!(", {refused} of its calls throttled")
        }
        _ => String::new(),
    };
    let first = match run.stderr.lines().find(|l| !l.trim().is_empty()) {
        Some(line) => format!(": {line}"),
        None => String::new(),
    };
    Ok(format!(
        "exit {} in {elapsed:.1?}{throttled}{first}",
        run.code
    ))
}

/// Sets `fault` on the emulator, or returns the variables that point portico at a broken
/// endpoint (with the silent server, which must live as long as the case).
fn inject(fault: Fault, env: &TestEnv) -> (Vec<(&'static str, String)>, Option<SilentServer>) {
    let mut vars = vec![(
        "PORTICO_FEDERATION_ENDPOINT",
        format!("{}/federation", env.emu.url()),
    )];
    let mut silent = None;
    match fault {
        Fault::ServerErrors => set_faults(env, |f| f.error_rate = 1.0),
        Fault::Garbled => set_faults(env, |f| f.garble_bodies = true),
        Fault::Throttled => {
            set_faults(env, |f| f.throttle_rps = 2.0);
            env.emu.reset_stats();
        }
        Fault::Hang => {
            set_faults(env, |f| f.latency_ms = HANG_MS);
            vars.push(("PORTICO_HTTP_TIMEOUT", SHORT_TIMEOUT.into()));
        }
        Fault::Refused => {
            let url = closed_port_url();
            vars.push(("AWS_ENDPOINT_URL_SSO", url.clone()));
            vars.push(("AWS_ENDPOINT_URL_SSO_OIDC", url));
        }
        Fault::Silent => {
            let server = SilentServer::start();
            vars.push(("AWS_ENDPOINT_URL_SSO", server.url().into()));
            vars.push(("AWS_ENDPOINT_URL_SSO_OIDC", server.url().into()));
            vars.push(("PORTICO_HTTP_TIMEOUT", SHORT_TIMEOUT.into()));
            silent = Some(server);
        }
        Fault::Revoked => {
            env.emu.revoke_all();
        }
        Fault::Expired => {
            env.emu.expire_access_tokens();
        }
    }
    (vars, silent)
}

/// What one run of the command gave.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    /// The exit status, time and stderr, for a failure message (stderr was checked for
    /// secrets before anything shows it).
    fn shown(&self) -> String {
        format!(
            "exit {} in {:.1?}; stderr: {}",
            self.code,
            self.elapsed,
            self.stderr.trim_end()
        )
    }

    /// doctor's verdicts, without its passing checks.
    fn verdicts(&self) -> String {
        self.stdout
            .lines()
            .filter(|l| l.starts_with('✗') || l.starts_with('!'))
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

impl Row {
    /// Whether the command must fail under `fault` (a fresh sign-in does not care about
    /// revoked tokens).
    fn must_fail(&self, fault: Fault) -> bool {
        fault.is_hard()
            && (self.kind == Kind::Service || (self.kind == Kind::Login && fault != Fault::Revoked))
    }

    /// stdout for a failure message: not where it may hold credentials.
    fn printable(&self, stdout: &str) -> String {
        match self.secret_stdout {
            true => format!("{} bytes", stdout.len()),
            false => format!("{stdout:?}"),
        }
    }
}

/// What the README and `src/exit.rs` promise for this kind of command under this fault.
fn judge(row: &Row, fault: Fault, env: &TestEnv, run: &Run) -> Result<(), String> {
    let (code, stdout, stderr) = (run.code, &run.stdout, &run.stderr);
    match row.kind {
        Kind::Service | Kind::Login if row.must_fail(fault) => {
            if code != fault.exit() {
                return Err(format!("expected exit {}", fault.exit()));
            }
            one_line_naming(stderr, fault)?;
            if row.secret_stdout && !stdout.is_empty() {
                return Err(format!("stdout not empty: {}", row.printable(stdout)));
            }
        }
        Kind::Service | Kind::Login => {
            if code != 0 {
                return Err("expected success".into());
            }
            let account = &env.emu.directory().accounts()[0].account_id;
            let want = row.success_stdout.replace("{account}", account);
            if !stdout.contains(&want) {
                return Err(format!("stdout lacks {want:?}: {}", row.printable(stdout)));
            }
        }
        Kind::Logout => {
            if code != 0 {
                return Err("expected exit 0".into());
            }
            if env.token_path().exists() {
                return Err("the token file is still there".into());
            }
            // Under a hard fault the revocation is not confirmed (a garbled empty answer can
            // still be one): then one line says so and why.
            let may_revoke = matches!(fault, Fault::Throttled | Fault::Garbled);
            if !(may_revoke && stderr.contains("revoked the sign-in")) {
                let warning = stderr
                    .lines()
                    .find(|l| l.contains("did not confirm"))
                    .ok_or("neither revoked nor a warning")?;
                names_cause(warning, fault)?;
            }
        }
        Kind::Doctor => {
            let expected = if fault.is_hard() { 8 } else { 0 };
            if code != expected {
                return Err(format!("expected exit {expected}; {}", run.verdicts()));
            }
            if let Some(debug) = stdout.lines().find_map(debug_text) {
                return Err(format!("Rust debug text {debug:?} in the report"));
            }
            // A failed check is one line that names the cause.
            if fault.is_hard()
                && !stdout
                    .lines()
                    .any(|l| l.starts_with('✗') && names_cause(l, fault).is_ok())
            {
                return Err(format!(
                    "no failed check names the cause; {}",
                    run.verdicts()
                ));
            }
        }
        Kind::Offline => {
            if code != 0 || !stderr.is_empty() || !stdout.contains(row.success_stdout) {
                return Err(format!(
                    "expected exit 0, a quiet stderr and {:?} on stdout: {stdout:?}",
                    row.success_stdout
                ));
            }
        }
    }
    Ok(())
}

fn set_faults(env: &TestEnv, change: impl FnOnce(&mut Faults)) {
    let mut faults = Faults::default();
    change(&mut faults);
    env.emu.set_faults(faults).expect("valid faults");
}

/// Runs the command; meanwhile, under throttling, keeps the throttle shut until the command's
/// first portal call is refused, and for `login` approves the device code once it is pending.
fn run_command(
    env: &TestEnv,
    row: &Row,
    fault: Fault,
    cmd: &mut Command,
    limit: Duration,
    refused_to_test: &AtomicU64,
) -> (Option<std::process::Output>, Duration) {
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let calls_portal = !matches!(row.kind, Kind::Login | Kind::Offline);
        if fault == Fault::Throttled && calls_portal {
            scope.spawn(|| hold_throttle_shut(env, &done, refused_to_test));
        }
        if row.kind == Kind::Login
            && matches!(fault, Fault::Throttled | Fault::Revoked | Fault::Expired)
        {
            scope.spawn(|| {
                while !done.load(Ordering::SeqCst) {
                    if let Some(code) = env.emu.pending_user_codes().first() {
                        env.emu.approve(code).expect("approve the device code");
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
        }
        let result = output_within(cmd, limit);
        done.store(true, Ordering::SeqCst);
        result
    })
}

/// Takes every token the throttle's bucket refills (with unsigned portal calls: the throttle
/// answers before authentication) until the command itself has been refused once, so that its
/// first portal call always meets a 429 and the next ones pass as the bucket refills.
fn hold_throttle_shut(env: &TestEnv, done: &AtomicBool, refused_to_test: &AtomicU64) {
    let url = env.emu.url();
    let addr = url.trim_start_matches("http://");
    let mut own = 0;
    while !done.load(Ordering::SeqCst) {
        let mut conn = std::net::TcpStream::connect(addr).unwrap();
        write!(
            conn,
            "GET /assignment/accounts HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        let _ = conn.read_to_string(&mut answer);
        if answer.starts_with("HTTP/1.1 429") {
            own += 1;
            refused_to_test.store(own, Ordering::SeqCst);
        }
        if env.stat("throttled") > own {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Exactly one line on stderr, and it names the fault.
fn one_line_naming(stderr: &str, fault: Fault) -> Result<(), String> {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    match lines.as_slice() {
        [line] => names_cause(line, fault),
        [] => Err("no message".into()),
        _ => Err(format!("{} lines of message, not one", lines.len())),
    }
}

fn names_cause(line: &str, fault: Fault) -> Result<(), String> {
    let lower = line.to_lowercase();
    if fault.cause_words().iter().any(|w| lower.contains(w)) {
        Ok(())
    } else {
        Err(format!(
            "the message does not name the cause (one of {:?})",
            fault.cause_words()
        ))
    }
}

/// Rust `{:?}` output in a line meant for people: `Name(` or `Name {`, as enum variants and
/// structs print.
fn debug_text(line: &str) -> Option<String> {
    for marker in ["Some(", "None,", "kind: ", "source: ", "Error {", "\\\""] {
        if line.contains(marker) {
            return Some(marker.to_string());
        }
    }
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'(' || (b == b'{' && i > 0 && bytes[i - 1] == b' ') {
            let end = if b == b'{' { i - 1 } else { i };
            let start = line[..end]
                .rfind(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .map_or(0, |p| p + 1);
            let word = &line[start..end];
            if word.len() > 2
                && word.starts_with(|c: char| c.is_ascii_uppercase())
                && word.chars().any(|c| c.is_ascii_lowercase())
            {
                return Some(line[start..=i].to_string());
            }
        }
    }
    None
}

/// The secret values in the HOME's JSON files: tokens, client secrets, role credentials.
fn secrets_under(home: &Path) -> Vec<String> {
    const KEYS: &[&str] = &[
        "accessToken",
        "refreshToken",
        "clientSecret",
        "SecretAccessKey",
        "SessionToken",
        "secretAccessKey",
        "sessionToken",
    ];
    fn walk(value: &serde_json::Value, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map {
                    match v.as_str() {
                        Some(s) if KEYS.contains(&key.as_str()) && s.len() >= 8 => {
                            found.push(s.to_string())
                        }
                        _ => walk(v, found),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    for (path, bytes) in snapshot_files(home) {
        if path.extension().is_some_and(|e| e == "json") {
            if let Ok(value) = serde_json::from_slice(&bytes) {
                walk(&value, &mut found);
            }
        }
    }
    found
}

/// The config is byte for byte the same (or, after a successful sync, still holds every line it
/// had); every JSON file written is JSON; no temporary file is left; nothing is deleted except
/// by `logout`; the token file survives every command but `logout` and still parses.
fn files_unchanged_or_valid(
    env: &TestEnv,
    row: &Row,
    succeeded: bool,
    before: &BTreeMap<PathBuf, Vec<u8>>,
    after: &BTreeMap<PathBuf, Vec<u8>>,
) -> Result<(), String> {
    let config = env.config_path();
    let (old, new) = (&before[&config], after.get(&config));
    let new = new.ok_or("~/.aws/config is gone")?;
    if row.writes_config && succeeded {
        let new = text(new);
        if let Some(lost) = text(old).lines().find(|l| !new.contains(l)) {
            return Err(format!("the sync lost a config line: {lost:?}"));
        }
        let profiles = |t: &str| t.matches("[profile ").count();
        if profiles(&new) <= profiles(&text(old)) {
            return Err("the sync wrote no profile".into());
        }
    } else if old != new {
        return Err("~/.aws/config changed".into());
    }
    for path in before.keys() {
        if !after.contains_key(path) && row.kind != Kind::Logout {
            return Err(format!("{} was deleted", path.display()));
        }
    }
    for (path, bytes) in after {
        if before.get(path) == Some(bytes) {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy();
        if name.contains("tmp") {
            return Err(format!("temporary file left: {}", path.display()));
        }
        if name.ends_with(".json") && serde_json::from_slice::<serde_json::Value>(bytes).is_err() {
            return Err(format!("{} is not JSON", path.display()));
        }
    }
    if row.kind != Kind::Logout && (row.kind != Kind::Login || succeeded) {
        let token = env.token().ok_or("no token file")?;
        if token["accessToken"].as_str().is_none() {
            return Err("the token file has no accessToken".into());
        }
    }
    Ok(())
}

#[test]
fn debug_text_is_caught_and_plain_messages_pass() {
    for debug in [
        r#"could not open a browser (Launcher "gio" failed with ExitStatus(unix_wait_status(512)))"#,
        "cannot reach it: DispatchFailure(DispatchFailure { source: ConnectorError { kind: Io } })",
        "value was Some(3)",
        r#"error: Error { kind: NotFound, message: \"x\" }"#,
    ] {
        assert!(debug_text(debug).is_some(), "{debug}");
    }
    for plain in [
        "portico: error: cannot reach Identity Center at http://127.0.0.1:1 (Connection refused (os error 111)); check the network connection",
        "portico: error: Identity Center failed GetRoleCredentials (HTTP 500: InternalServerException: An internal error occurred. Try again.) after 3 attempts",
        "✗ assignments        ListAccounts failed: unreadable answer",
    ] {
        assert_eq!(debug_text(plain), None, "{plain}");
    }
}
