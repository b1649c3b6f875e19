//! `portico serve` under pressure: idle and half-sent connections by the hundred, a low limit on
//! open files, and every signal that stops it. The real binary, real sockets, the emulator
//! behind it; every wait is on a condition (a socket reaching EOF, the process ending) with a
//! deadline.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::serving::Serving;
use common::{text, TestEnv};
use idc_emulator::Config;

/// The server's idle timeout (src/serve/conn.rs `IDLE_TIMEOUT`, documented in the README).
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a real request may take while the server is besieged: far beyond a normal answer
/// on a loaded machine, far below "never" (which is what it was).
const ANSWER_DEADLINE: Duration = Duration::from_secs(30);

fn signed_in() -> TestEnv {
    let env = TestEnv::new(Config::default());
    env.login();
    env
}

/// `cmd` (the real binary with the test's environment) run by bash after `ulimit -n LIMIT`,
/// which lowers both the soft and the hard limit; `exec` keeps the process id.
fn with_open_files_limit(cmd: &Command, limit: u32) -> Command {
    let mut bash = Command::new("bash");
    bash.arg("-c")
        .arg(format!("ulimit -n {limit} && exec \"$@\""))
        .arg("bash")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdin(Stdio::null());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => bash.env(key, value),
            None => bash.env_remove(key),
        };
    }
    bash
}

impl Serving {
    /// (`127.0.0.1:PORT`, `/role/…`).
    fn endpoint(&self) -> (SocketAddr, String) {
        let uri = self.var("AWS_CONTAINER_CREDENTIALS_FULL_URI");
        let rest = uri.strip_prefix("http://").unwrap();
        let slash = rest.find('/').unwrap();
        (rest[..slash].parse().unwrap(), rest[slash..].to_string())
    }

    /// GET the printed URI with the token on a new connection; the status, or why there was
    /// none within [`ANSWER_DEADLINE`].
    fn fetch(&self) -> Result<u16, String> {
        let (addr, path) = self.endpoint();
        let token = self.var("AWS_CONTAINER_AUTHORIZATION_TOKEN");
        let started = Instant::now();
        let mut stream = TcpStream::connect_timeout(&addr, ANSWER_DEADLINE)
            .map_err(|e| format!("connect: {e}"))?;
        stream
            .set_read_timeout(Some(ANSWER_DEADLINE))
            .map_err(|e| e.to_string())?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {token}\r\nConnection: close\r\n\r\n"
        );
        stream
            .write_all(request.as_bytes())
            .map_err(|e| format!("send: {e}"))?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).map_err(|e| {
            format!(
                "no answer within {:?} ({e}); server stderr: {}",
                started.elapsed(),
                self.stderr()
            )
        })?;
        let response = text(&response);
        response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no status line: {response:?}"))
    }
}

/// How a socket the test holds ended.
#[derive(Debug, PartialEq)]
enum End {
    /// The server closed it (EOF, or a reset when it had unread bytes from us).
    Closed,
    /// Still open at the deadline.
    Open,
}

/// Reads `stream` until the server closes it or `deadline` passes; whatever the server sends
/// first (an answer to a finished request, a 408 for a half-sent one) is read past.
fn wait_for_close(stream: &mut TcpStream, deadline: Instant) -> End {
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return End::Open;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return End::Closed,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {
                return End::Closed
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return End::Open
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => panic!("reading a held socket: {e}"),
        }
    }
}

/// Sockets that connect and say nothing, sockets that send half a request head and stop, and a
/// keep-alive connection left idle after one answer: with `ulimit -n 256` (400 such sockets
/// would need more descriptors than the server has) a real request is still answered, and the
/// server closes every one of them — the longest idle first when it needs the room, the rest
/// when they have been idle for the idle timeout.
#[test]
fn idle_and_half_sent_connections_are_closed_and_never_starve_a_real_request() {
    let env = signed_in();
    let server = Serving::start(with_open_files_limit(
        env.portico().args(["serve", "--profile", "dev"]),
        256,
    ));
    let (addr, path) = server.endpoint();
    assert_eq!(
        server.fetch(),
        Ok(200),
        "the first request (fills the cache)"
    );

    // A keep-alive client that got its answer and then went quiet.
    let mut kept = TcpStream::connect(addr).unwrap();
    let token = server.var("AWS_CONTAINER_AUTHORIZATION_TOKEN").to_string();
    kept.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {token}\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut held = vec![kept];
    for i in 0..400 {
        let mut stream = TcpStream::connect_timeout(&addr, ANSWER_DEADLINE).unwrap_or_else(|e| {
            panic!(
                "idle socket {i}: the server stopped accepting ({e}); {}",
                server.stderr()
            )
        });
        if i % 4 == 0 {
            // Half a request head, never finished.
            stream
                .write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n").as_bytes())
                .unwrap();
        }
        held.push(stream);
    }

    // Real requests get through while the idle ones are held.
    for _ in 0..3 {
        assert_eq!(
            server.fetch(),
            Ok(200),
            "a real request among 400 idle sockets"
        );
    }

    // Every held socket is closed by the server: none outlives the idle timeout by much.
    let deadline = Instant::now() + IDLE_TIMEOUT + Duration::from_secs(50);
    let still_open = held
        .iter_mut()
        .map(|stream| wait_for_close(stream, deadline))
        .filter(|end| *end == End::Open)
        .count();
    assert_eq!(
        still_open,
        0,
        "idle sockets the server never closed; stderr: {}",
        server.stderr()
    );

    // The limit kept the server within its descriptors: it made room before accepting failed.
    assert!(
        !server.stderr().contains("cannot accept"),
        "{}",
        server.stderr()
    );
    // And it goes on serving, and stops cleanly.
    assert_eq!(server.fetch(), Ok(200));
    server.signal(rustix::process::Signal::TERM);
    let (status, stderr) = server.wait();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains(&token), "the token on stderr: {stderr}");
}

/// With so few descriptors that accepting fails (EMFILE) before the connection limit is
/// reached, the server neither dies nor stalls: it closes idle connections to make room and
/// answers the real request.
#[test]
fn running_out_of_file_descriptors_closes_idle_connections_instead_of_stalling() {
    let env = signed_in();
    let server = Serving::start(with_open_files_limit(
        env.portico().args(["serve", "--profile", "dev"]),
        24,
    ));
    let (addr, _) = server.endpoint();
    assert_eq!(
        server.fetch(),
        Ok(200),
        "the first request (fills the cache)"
    );
    let held: Vec<TcpStream> = (0..60)
        .map(|i| {
            TcpStream::connect_timeout(&addr, ANSWER_DEADLINE).unwrap_or_else(|e| {
                panic!(
                    "socket {i}: the server stopped accepting ({e}); {}",
                    server.stderr()
                )
            })
        })
        .collect();
    for _ in 0..3 {
        assert_eq!(
            server.fetch(),
            Ok(200),
            "a real request with no descriptor to spare"
        );
    }
    let stderr = server.stderr();
    assert!(
        stderr.contains("cannot accept a connection") && stderr.contains("closing idle ones"),
        "the shortage is said on stderr: {stderr}"
    );
    drop(held);
    server.signal(rustix::process::Signal::TERM);
    let (status, stderr) = server.wait();
    assert_eq!(status.code(), Some(0), "{stderr}");
}

/// Each signal that stops `portico serve` stops it cleanly: exit 0, "stopped (SIGNAL)" on
/// stderr, and the `--token-file` file deleted. SIGHUP comes when the terminal closes and
/// SIGQUIT from Ctrl-\; both used to kill it and leave the token behind.
#[test]
fn sighup_sigquit_sigint_and_sigterm_all_delete_the_token_file_and_exit_0() {
    use rustix::process::Signal;
    let env = signed_in();
    let dir = tempfile::tempdir().unwrap();
    for (signal, name) in [
        (Signal::HUP, "SIGHUP"),
        (Signal::QUIT, "SIGQUIT"),
        (Signal::INT, "SIGINT"),
        (Signal::TERM, "SIGTERM"),
    ] {
        let path = dir.path().join(format!("{name}.token"));
        let mut cmd = env.portico();
        cmd.args(["serve", "--profile", "dev", "--token-file"])
            .arg(&path);
        let server = Serving::start(cmd);
        assert_eq!(
            server.var("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
            path.to_str().unwrap()
        );
        assert!(token_file_holds_a_token(&path), "{name}: no token file");
        // At once, as soon as the variables are out: the handlers are in place by then.
        server.signal(signal);
        let (status, stderr) = server.wait();
        assert_eq!(status.code(), Some(0), "{name}: {status:?}; {stderr}");
        assert!(
            stderr.contains(&format!("stopped ({name})")),
            "{name}: {stderr}"
        );
        assert!(!path.exists(), "{name} left the token file behind");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing left in the directory"
    );
}

fn token_file_holds_a_token(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .is_ok_and(|t| t.len() == 64 && t.bytes().all(|c| c.is_ascii_hexdigit()))
}
