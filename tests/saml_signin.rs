//! The SAML sign-in's listener and its edges, end to end (issue 19, items 5–9): the real binary,
//! the emulator's Entra-like IdP and STS, and the stand-in browser
//! (tests/support/saml-browser.py). Every wait is on a condition with a deadline: a line in the
//! stand-in browser's log, a line on portico's stderr, the process's exit.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{assert_success, support, text, wait_until, TestEnv};
use idc_emulator::Config;

const LIMIT: Duration = Duration::from_secs(60);

struct Saml {
    env: TestEnv,
    log: PathBuf,
    /// The file whose existence lets a held stand-in browser post (`SAML_BROWSER_GO`).
    go: PathBuf,
    /// Where the stand-in browser saves the listener's answer page (`SAML_BROWSER_PAGE`).
    page: PathBuf,
}

impl Saml {
    fn new(config: Config) -> Saml {
        let env = TestEnv::new(Config {
            auto_approve: true,
            ..config
        });
        let config = std::fs::read_to_string(env.config_path()).unwrap();
        env.write_config(&format!(
            "{config}\n[saml-session corp]\nidp_url = {}\n",
            env.emu.saml_idp_url()
        ));
        let log = env.home.path().join("browser.log");
        let go = env.home.path().join("browser.go");
        let page = env.home.path().join("browser.page");
        Saml { env, log, go, page }
    }

    fn portico(&self, mode: &str) -> Command {
        let mut cmd = self.env.portico();
        cmd.env("BROWSER", support("saml-browser.py"))
            .env("SAML_BROWSER_MODE", mode)
            .env("SAML_BROWSER_LOG", &self.log)
            .env("SAML_BROWSER_PAGE", &self.page)
            .env("AWS_ENDPOINT_URL_STS", self.env.emu.url())
            .env("PORTICO_HTTP_TIMEOUT", "10");
        cmd
    }

    /// The same, with the stand-in browser holding the form until [`Saml::go`] is called.
    fn held(&self) -> Command {
        let mut cmd = self.portico("post");
        cmd.env("SAML_BROWSER_GO", &self.go);
        cmd
    }

    fn go(&self) {
        std::fs::write(&self.go, "").unwrap();
    }

    fn run(&self, mode: &str, args: &[&str]) -> Output {
        let (out, took) = common::output_within(self.portico(mode).args(args), LIMIT);
        out.unwrap_or_else(|| panic!("portico {args:?} did not finish in {took:?}"))
    }

    fn browser_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the stand-in browser's log holds a line starting with `prefix`; that line.
    fn wait_for_browser(&self, prefix: &str) -> String {
        wait_until(LIMIT, || {
            self.browser_log()
                .lines()
                .find(|l| l.starts_with(prefix))
                .map(String::from)
        })
        .unwrap_or_else(|| panic!("no {prefix:?} in the browser's log: {}", self.browser_log()))
    }

    fn role_arns(&self) -> Vec<String> {
        self.env
            .emu
            .directory()
            .saml_roles()
            .iter()
            .map(|r| r.role_arn.clone())
            .collect()
    }

    fn cache(&self, dir: &str) -> PathBuf {
        self.env.home.path().join(".cache/portico").join(dir)
    }

    /// The JSON files in the portico cache's `dir`.
    fn cached(&self, dir: &str) -> Vec<PathBuf> {
        std::fs::read_dir(self.cache(dir))
            .map(|d| {
                d.map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A running portico whose stderr is read as it comes, so a test can wait for a line.
struct Running {
    child: Child,
    stderr: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    fn start(cmd: &mut Command) -> Running {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("portico starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (pipe, into) = (child.stderr.take().unwrap(), stderr.clone());
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut all = into.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        Running {
            child,
            stderr,
            reader: Some(reader),
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits (bounded) for the exit; the status, stdout and all of stderr.
    fn finish(mut self) -> (std::process::ExitStatus, String, String) {
        let status = wait_until(LIMIT, || self.child.try_wait().unwrap());
        let Some(status) = status else {
            let _ = self.child.kill();
            let _ = self.child.wait();
            panic!("portico did not finish in {LIMIT:?}: {}", self.stderr());
        };
        let mut stdout = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            out.read_to_string(&mut stdout).unwrap();
        }
        self.reader.take().unwrap().join().unwrap();
        (status, stdout, self.stderr())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A test that failed half-way leaves no portico behind.
        if self.reader.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A raw HTTP/1.1 POST from "another local process": the status code and the page.
fn post(port: u16, path: &str, body: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("the listener");
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: localhost:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {answer}"));
    (status, answer)
}

/// Item 5: a POST without this sign-in's RelayState — from any local process — is answered 400
/// with a page saying why, and the sign-in goes on to take the real browser's answer.
#[test]
fn a_post_without_the_sign_ins_relay_state_is_refused_and_the_sign_in_goes_on() {
    let s = Saml::new(Config::default());
    let login = Running::start(s.held().args(["login", "--saml-session", "corp"]));
    let form = s.wait_for_browser("form ");
    let port: u16 = form
        .split("localhost:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {form:?}"));

    for (path, body) in [
        (
            "/saml",
            "SAMLResponse=PHNhbWxwOlJlc3BvbnNlLz4%3D&RelayState=forged",
        ),
        ("/saml", "SAMLResponse=PHNhbWxwOlJlc3BvbnNlLz4%3D"),
        ("/saml", ""),
        ("/elsewhere", "SAMLResponse=x&RelayState=forged"),
    ] {
        let (status, page) = post(port, path, body);
        assert_eq!(status, 400, "{path} {body:?}: {page}");
        assert!(
            page.contains("did not come from the sign-in portico is waiting for"),
            "{page}"
        );
    }

    s.go();
    let (status, stdout, stderr) = login.finish();
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("signed in to saml-session corp"),
        "{stderr}"
    );
    assert!(
        stderr.contains("ignored a POST on the SAML listener without this sign-in's RelayState"),
        "{stderr}"
    );
    assert!(!stderr.contains("error"), "{stderr}");
    // The browser logs the answer after portico gave it, maybe after portico exited.
    s.wait_for_browser("acs answered 200");
    assert_eq!(s.env.stat("SamlSignIn"), 1);
    assert_eq!(s.cached("saml").len(), 1, "the real answer was kept");
}

/// Item 6: a second `login --saml-session` while the first waits for its browser waits for
/// it, then uses the assertion the first kept: one browser visit, one sign-in at the IdP.
#[test]
fn two_logins_at_once_make_one_browser_sign_in() {
    let s = Saml::new(Config::default());
    let first = Running::start(s.held().args(["login", "--saml-session", "corp"]));
    // The first holds the session's lock from before it opens the browser.
    s.wait_for_browser("form ");
    let second = Running::start(s.held().args(["login", "--saml-session", "corp"]));
    // The second is waiting for the first — or (the failure this test is for) has opened a
    // browser of its own.
    wait_until(LIMIT, || {
        (second
            .stderr()
            .contains("another portico process is signing in to saml-session corp")
            || s.browser_log().matches("form ").count() > 1)
            .then_some(())
    })
    .unwrap_or_else(|| panic!("the second login neither waited nor opened a browser"));

    s.go();
    let (status, _, stderr) = first.finish();
    assert!(status.success(), "first: {status:?}: {stderr}");
    let (status, _, stderr) = second.finish();
    assert!(status.success(), "second: {status:?}: {stderr}");
    assert!(
        stderr.contains(
            "another portico process just signed in to saml-session corp; using that sign-in"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("signed in to saml-session corp"),
        "{stderr}"
    );
    assert_eq!(
        s.browser_log().matches("opened ").count(),
        1,
        "{}",
        s.browser_log()
    );
    assert_eq!(s.env.stat("SamlSignIn"), 1);
}

/// Item 7: an assertion already expired when it arrives is refused before the browser is
/// answered: its page names the failure (not "Signed in"), and the terminal's error is one line.
#[test]
fn an_expired_assertion_gets_a_page_that_names_the_failure() {
    let s = Saml::new(Config::default());
    // The IdP's clock 400 s behind: its assertion outlived its five minutes on arrival.
    s.env.emu.set_saml_clock_offset(-400);
    let out = s.run("post", &["login", "--saml-session", "corp"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("portico: error"))
            .count(),
        1,
        "{err}"
    );
    assert!(err.contains("the SAML assertion expired at"), "{err}");
    s.wait_for_browser("acs answered");
    let page = std::fs::read_to_string(&s.page).expect("the browser saved the page");
    assert!(page.starts_with("400\n"), "{page}");
    assert!(!page.contains("Signed in"), "{page}");
    assert!(
        page.contains("Sign-in not accepted") && page.contains("the SAML assertion expired at"),
        "{page}"
    );
    assert!(s.cached("saml").is_empty(), "nothing kept");
}

/// Item 8: Ctrl-C while a SAML sign-in waits for the browser says "portico: cancelled" and
/// exits 130, as the Identity Center sign-ins do — from `login` and from a credential fetch
/// that signs in on the way.
#[test]
fn ctrl_c_during_a_saml_sign_in_says_cancelled_and_exits_130() {
    let s = Saml::new(Config::default());
    let role = s.role_arns()[0].clone();
    for args in [
        vec!["login", "--saml-session", "corp"],
        vec!["credentials", "--saml-session", "corp", "--role-arn", &role],
    ] {
        let _ = std::fs::remove_file(&s.log);
        let running = Running::start(s.portico("ignore").args(&args));
        // The stand-in browser has the IdP's page: portico is listening and waiting for it.
        s.wait_for_browser("ignored the form");
        let sent = Command::new("kill")
            .args(["-INT", &running.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let (status, stdout, stderr) = running.finish();
        assert_eq!(status.code(), Some(130), "{args:?}: {status:?}: {stderr}");
        assert!(
            stderr.lines().any(|l| l == "portico: cancelled"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
    }
    assert!(s.cached("saml").is_empty(), "nothing kept");
    assert!(s.cached("credentials").is_empty(), "no keys");
}

/// A Ctrl-C after the SAML sign-in, while AssumeRoleWithSAML hangs (STS here accepts and never
/// answers): the sign-in took Ctrl-C over, and it still says "portico: cancelled" and exits 130,
/// the assertion kept. (The library returns `Cancelled`; only the edge ends the process.)
#[test]
fn ctrl_c_after_a_saml_sign_in_cancels_the_assume_role_that_follows_it() {
    let s = Saml::new(Config::default());
    let role = s.role_arns()[0].clone();
    let sts = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sts_url = format!("http://{}", sts.local_addr().unwrap());
    let (accepted, reached) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in sts.incoming() {
            held.push(stream);
            let _ = accepted.send(());
        }
    });
    let running = Running::start(
        s.portico("post")
            .args(["credentials", "--saml-session", "corp", "--role-arn", &role])
            .env("AWS_ENDPOINT_URL_STS", &sts_url)
            .env("PORTICO_HTTP_TIMEOUT", "3600"),
    );
    reached
        .recv_timeout(LIMIT)
        .expect("AssumeRoleWithSAML reached the silent STS after the sign-in");
    assert_eq!(s.cached("saml").len(), 1, "the sign-in was kept first");
    let sent = Command::new("kill")
        .args(["-INT", &running.child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let (status, stdout, stderr) = running.finish();
    assert_eq!(status.code(), Some(130), "{status:?}: {stderr}");
    assert!(
        stderr.lines().any(|l| l == "portico: cancelled"),
        "{stderr}"
    );
    assert!(!stderr.contains("error"), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(s.cached("saml").len(), 1, "the sign-in is still kept");
    assert!(s.cached("credentials").is_empty(), "no keys");
}

/// Item 9: a role whose MaxSessionDuration is below the assertion's SessionDuration refuses it
/// once; while the assertion is the same, the next fetch asks 3600 at once (one call, not two).
/// A new sign-in's assertion is asked its own SessionDuration again.
#[test]
fn a_refused_session_duration_is_not_asked_again_with_the_same_assertion() {
    let s = Saml::new(Config::default());
    let roles = s.role_arns();
    // Role 1's MaxSessionDuration is 3600, below the SessionDuration of 28800.
    let short = &roles[1];
    let fetch = || {
        let out = s.run(
            "post",
            &["credentials", "--saml-session", "corp", "--role-arn", short],
        );
        assert_success(&out);
        let creds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(creds["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    };
    let drop_keys = || {
        for file in s.cached("credentials") {
            std::fs::remove_file(file).unwrap();
        }
    };

    fetch();
    assert_eq!(
        s.env.stat("AssumeRoleWithSAML"),
        2,
        "refused 28800, then 3600"
    );
    // The keys are gone; the kept assertion is not: one call, for 3600 at once.
    drop_keys();
    fetch();
    assert_eq!(s.env.stat("AssumeRoleWithSAML"), 3);
    assert_eq!(s.env.stat("SamlSignIn"), 1);

    // The note beside the kept assertion: private, and without the assertion.
    let notes = s.cached("saml-durations");
    assert_eq!(notes.len(), 1, "{notes:?}");
    let note = std::fs::read_to_string(&notes[0]).unwrap();
    let kept: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&s.cached("saml")[0]).unwrap()).unwrap();
    let assertion = kept["samlResponse"].as_str().unwrap();
    assert!(
        assertion.len() > 100 && !note.contains(&assertion[..100]),
        "{note}"
    );
    assert!(note.contains(short.as_str()), "{note}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&notes[0]).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    // A new sign-in: its SessionDuration is asked again.
    assert_success(&s.run("post", &["login", "--saml-session", "corp"]));
    drop_keys();
    fetch();
    assert_eq!(s.env.stat("AssumeRoleWithSAML"), 5);
    assert_eq!(s.env.stat("SamlSignIn"), 2);
}
