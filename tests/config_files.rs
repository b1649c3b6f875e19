//! The AWS config file as users really have it: links made by dotfile managers, FIFOs and
//! directories where a file should be, bytes that are not UTF-8, escape sequences in names,
//! leftovers of killed writes, profile names from the environment, mistyped account IDs. The
//! real binary, a temporary HOME, no network.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

const SESSION: &str = "[sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = eu-central-1\n\n[profile dev-admin]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Admin\n";

const CONFIGURE: [&str; 8] = [
    "configure",
    "--sso-session",
    "corp",
    "--start-url",
    "https://d-1234567890.awsapps.com/start",
    "--region",
    "eu-central-1",
    "--yes",
];

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        let home = Home {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(home.aws()).unwrap();
        home
    }

    fn aws(&self) -> PathBuf {
        self.dir.path().join(".aws")
    }

    fn config(&self) -> PathBuf {
        self.aws().join("config")
    }

    fn write(&self, text: impl AsRef<[u8]>) {
        std::fs::write(self.config(), text).unwrap();
    }

    /// The real binary in this HOME only, with nothing that could reach a server.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portico"));
        for var in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", self.dir.path())
            .env("XDG_CACHE_HOME", self.dir.path().join(".cache"))
            .env("AWS_CONFIG_FILE", self.config())
            // Nothing listens here: a request that should not be made fails fast.
            .env("AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:9")
            .env("AWS_ENDPOINT_URL_SSO_OIDC", "http://127.0.0.1:9")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("BROWSER")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs `portico ARGS`, killing it if it has not finished in 10 s (a hang fails the test).
    fn run(&self, args: &[&str]) -> Output {
        run_bounded(self.command(args))
    }
}

fn run_bounded(mut cmd: Command) -> Output {
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(10) {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!("still running after 10 s; stderr:\n{}", text(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// stderr is one `portico: error: …` line.
fn one_line_error(out: &Output) -> String {
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("portico: error: "), "{err}");
    err
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path)
        .unwrap()
        .file_type()
        .is_symlink()
}

// ------------------------------------------------------------------------------- profile names

#[test]
fn an_unknown_profile_from_aws_profile_says_so_and_suggests_the_closest() {
    let home = Home::new();
    let mut config = SESSION.to_string();
    for i in 0..120 {
        config.push_str(&format!(
            "\n[profile acct{i}-ReadOnly]\nsso_session = corp\nsso_account_id = 1111222233{:02}\nsso_role_name = ReadOnly\n",
            i % 100
        ));
    }
    home.write(config);
    let out = run_bounded({
        let mut cmd = home.command(&["credentials", "--no-login"]);
        cmd.env("AWS_PROFILE", "dev-admn");
        cmd
    });
    assert_exit(&out, 3);
    assert!(out.stdout.is_empty());
    let err = one_line_error(&out);
    assert!(
        err.contains("profile \"dev-admn\" is not in") && err.contains("(named by AWS_PROFILE)"),
        "{err}"
    );
    assert!(err.contains("did you mean dev-admin?"), "{err}");
    assert!(
        err.contains("`portico list`") && err.contains("`portico profiles sync`"),
        "{err}"
    );
    assert!(
        !err.contains("acct7-ReadOnly"),
        "no list of every profile: {err}"
    );

    let out = run_bounded({
        let mut cmd = home.command(&["exec", "--no-login", "--", "true"]);
        cmd.env("AWS_DEFAULT_PROFILE", "dev_admin");
        cmd
    });
    assert_exit(&out, 3);
    let err = one_line_error(&out);
    assert!(err.contains("(named by AWS_DEFAULT_PROFILE)"), "{err}");
    assert!(err.contains("did you mean dev-admin?"), "{err}");
}

#[test]
fn no_profile_named_is_not_called_profile_default() {
    let home = Home::new();
    home.write(SESSION);
    let out = home.run(&["credentials", "--no-login"]);
    assert_exit(&out, 3);
    let err = one_line_error(&out);
    assert!(
        err.contains("no profile was named (no --profile, AWS_PROFILE or AWS_DEFAULT_PROFILE)"),
        "{err}"
    );
    assert!(!err.contains("profile \"default\""), "{err}");
}

#[test]
fn escape_sequences_in_names_never_reach_the_terminal() {
    let home = Home::new();
    home.write(
        "[sso-session co\u{1b}]0;owned\u{7}rp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = eu-central-1\n\
         [profile dev\u{1b}[2J]\nregion = eu-west-1\n",
    );
    let out = home.run(&["status"]);
    assert_exit(&out, 0);
    let shown = text(&out.stdout) + &text(&out.stderr);
    assert!(shown.contains("sso-session co"), "{shown}");
    assert!(
        !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
        "{shown:?}"
    );

    let out = run_bounded({
        let mut cmd = home.command(&["credentials", "--no-login"]);
        cmd.env("AWS_PROFILE", "dev\u{1b}[2");
        cmd
    });
    assert_exit(&out, 3);
    let err = one_line_error(&out);
    assert!(err.contains("did you mean dev"), "{err:?}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

// ---------------------------------------------------------------------------------- account IDs

#[test]
fn a_short_account_id_is_refused_before_any_request() {
    let home = Home::new();
    home.write(SESSION);
    for args in [
        &[
            "credentials",
            "--account",
            "1111222233",
            "--role",
            "Admin",
            "--no-login",
        ][..],
        &[
            "exec",
            "--account",
            "1111222233",
            "--role",
            "Admin",
            "--",
            "true",
        ],
        &[
            "console",
            "--account",
            "11112222333x",
            "--role",
            "Admin",
            "--print",
        ],
        &[
            "configure",
            "--sso-session",
            "corp",
            "--profile",
            "p",
            "--account",
            "1111222233",
            "--role",
            "Admin",
        ],
    ] {
        let out = home.run(args);
        assert_exit(&out, 2);
        let err = text(&out.stderr);
        assert!(
            err.contains("not a 12-digit AWS account ID"),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty());
    }
    // The same in a profile: named with the profile, exit 3, still no request.
    home.write(SESSION.replace("111122223333", "1111222233"));
    let out = home.run(&["credentials", "--profile", "dev-admin"]);
    assert_exit(&out, 3);
    let err = one_line_error(&out);
    assert!(
        err.contains(
            "sso_account_id of [profile dev-admin] \"1111222233\" is not an AWS account ID"
        ),
        "{err}"
    );
}

// ------------------------------------------------------------------------- what the file is

#[cfg(unix)]
#[test]
fn a_dangling_link_is_written_through_and_stays_a_link() {
    let home = Home::new();
    let dotfiles = home.dir.path().join("dotfiles");
    std::fs::create_dir(&dotfiles).unwrap();
    std::os::unix::fs::symlink("../dotfiles/aws-config", home.config()).unwrap();
    let out = home.run(&CONFIGURE);
    assert_exit(&out, 0);
    assert!(is_link(&home.config()), "the link was replaced");
    let written = std::fs::read_to_string(dotfiles.join("aws-config")).unwrap();
    assert!(written.contains("[sso-session corp]"), "{written}");

    // A live link: the link stays, the target changes.
    let out = home.run(&[
        "configure",
        "--sso-session",
        "corp",
        "--region",
        "eu-west-2",
        "--yes",
    ]);
    assert_exit(&out, 0);
    assert!(is_link(&home.config()));
    let written = std::fs::read_to_string(dotfiles.join("aws-config")).unwrap();
    assert!(written.contains("sso_region = eu-west-2"), "{written}");
}

#[cfg(unix)]
#[test]
fn a_link_into_a_missing_directory_is_refused_with_the_reason() {
    let home = Home::new();
    std::os::unix::fs::symlink("../dotfiles/aws-config", home.config()).unwrap();
    let out = home.run(&CONFIGURE);
    assert_exit(&out, 3);
    // The diff of what would have been written, then one line saying why it was not.
    let err = text(&out.stderr);
    let last = err.lines().last().unwrap_or_default();
    assert!(last.starts_with("portico: error: "), "{err}");
    assert!(last.contains("whose directory does not exist"), "{err}");
    assert!(is_link(&home.config()));
    assert!(!home.dir.path().join("dotfiles").exists());
}

#[cfg(unix)]
#[test]
fn a_fifo_or_a_directory_at_the_config_path_is_refused_at_once() {
    let home = Home::new();
    let made = Command::new("mkfifo").arg(home.config()).status().unwrap();
    assert!(made.success());
    for args in [
        &["credentials", "--profile", "dev-admin", "--no-login"][..],
        &["status"],
        &["list", "--no-login"],
        &CONFIGURE,
        &["profiles", "sync", "--no-login"],
    ] {
        let out = home.run(args);
        assert_exit(&out, 3);
        let err = one_line_error(&out);
        assert!(
            err.contains("is a named pipe (FIFO), not a file"),
            "{args:?}: {err}"
        );
    }
    std::fs::remove_file(home.config()).unwrap();
    std::fs::create_dir(home.config()).unwrap();
    for args in [&["status"][..], &CONFIGURE] {
        let out = home.run(args);
        assert_exit(&out, 3);
        let err = one_line_error(&out);
        assert!(err.contains("is a directory, not a file"), "{err}");
        assert!(!err.contains("os error"), "{err}");
    }
}

#[test]
fn os_errors_are_printed_once() {
    let home = Home::new();
    home.write(SESSION);
    // A config path under a file: reading it fails with ENOTDIR.
    let out = run_bounded({
        let mut cmd = home.command(&["status"]);
        cmd.env("AWS_CONFIG_FILE", home.config().join("config"));
        cmd
    });
    let err = one_line_error(&out);
    assert_eq!(err.matches("(os error").count(), 1, "{err}");
}

#[test]
fn a_config_that_is_not_utf8_exits_3_from_every_command() {
    let home = Home::new();
    home.write(b"[sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = eu-central-1\n# caf\xe9\n");
    for args in [&CONFIGURE[..], &["profiles", "sync", "--no-login"]] {
        let out = home.run(args);
        assert_exit(&out, 3);
        assert!(one_line_error(&out).contains("not UTF-8"));
    }
}

// ------------------------------------------------------------------------------ killed writes

#[test]
fn temporary_files_of_killed_writes_are_removed_by_the_next_write() {
    let home = Home::new();
    home.write(SESSION);
    let stale = home.aws().join(".config.Ab12Cd.portico-tmp");
    let stale_backup = home.aws().join(".config.portico-backup.Xy98Zw.portico-tmp");
    let fresh = home.aws().join(".config.Fresh0.portico-tmp");
    let not_ours = home.aws().join(".config.Ab12Cd.tmp");
    let long_ago = SystemTime::now() - Duration::from_secs(600);
    for path in [&stale, &stale_backup, &not_ours] {
        std::fs::write(path, "[default]\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
    }
    std::fs::write(&fresh, "[default]\n").unwrap();
    let out = home.run(&[
        "configure",
        "--sso-session",
        "corp",
        "--region",
        "eu-west-2",
        "--yes",
    ]);
    assert_exit(&out, 0);
    assert!(!stale.exists() && !stale_backup.exists());
    assert!(
        fresh.exists(),
        "a temporary file under a minute old may be a live write's"
    );
    assert!(not_ours.exists());
}

// ---------------------------------------------------------------------------- hints that work

#[test]
fn profiles_sync_with_no_session_suggests_what_it_accepts() {
    let home = Home::new();
    home.write("[default]\nregion = eu-west-1\n");
    let out = home.run(&["profiles", "sync", "--no-login"]);
    assert_exit(&out, 3);
    let err = one_line_error(&out);
    assert!(err.contains("run `portico configure` first"), "{err}");
    assert!(
        !err.contains("--start-url"),
        "sync has no --start-url: {err}"
    );
    // Commands that take --start-url still offer it.
    let out = home.run(&["list", "--no-login"]);
    assert_exit(&out, 3);
    assert!(one_line_error(&out).contains("--start-url URL --region REGION"));
}

/// Answers typed at the prompts are not flags: no message may name one.
#[test]
fn interactive_configure_names_no_flag_the_user_did_not_type() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return;
    }
    let home = Home::new();
    let answers = "corp\nhttp://nope\nhttps://ssoins-1234567890abcdef.portal.eu-west-2.app.aws\nus-east-1\n\n\nn\n";
    let mut child = Command::new("script")
        .args([
            "-qec",
            &format!("{} configure", env!("CARGO_BIN_EXE_portico")),
            "/dev/null",
        ])
        .env("HOME", home.dir.path())
        .env("XDG_CACHE_HOME", home.dir.path().join(".cache"))
        .env("AWS_CONFIG_FILE", home.config())
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answers.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let screen = text(&out.stdout);
    assert!(
        screen.contains("\"http://nope\" is not an https URL"),
        "{screen}"
    );
    assert!(screen.contains("answer eu-west-2 when asked"), "{screen}");
    assert!(
        !screen.contains("--start-url") && !screen.contains("--region"),
        "{screen}"
    );
}
