//! `portico configure` and `portico completions`, run as the real binary with a temporary HOME
//! and AWS_CONFIG_FILE.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join(".aws/config")
    }

    fn backup(&self) -> PathBuf {
        self.dir.path().join(".aws/config.portico-backup")
    }

    fn write(&self, text: &str) {
        std::fs::create_dir_all(self.dir.path().join(".aws")).unwrap();
        std::fs::write(self.config(), text).unwrap();
    }

    fn read(&self) -> String {
        std::fs::read_to_string(self.config()).unwrap()
    }

    /// The real binary, stdin not a terminal, in this HOME only.
    fn portico(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portico"));
        for var in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "XDG_CACHE_HOME"] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", self.dir.path())
            .env("XDG_CACHE_HOME", self.dir.path().join(".cache"))
            .env("AWS_CONFIG_FILE", self.config())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
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

const SESSION_FLAGS: &[&str] = &[
    "configure",
    "--sso-session",
    "corp",
    "--start-url",
    "https://d-1234567890.awsapps.com/start",
    "--region",
    "eu-central-1",
];

fn with(extra: &[&'static str]) -> Vec<&'static str> {
    SESSION_FLAGS.iter().chain(extra).copied().collect()
}

#[test]
fn all_flags_create_session_and_profile_in_a_new_private_file() {
    let home = Home::new();
    let out = home.portico(&with(&[
        "--profile",
        "dev-admin",
        "--account",
        "111122223333",
        "--role",
        "AdministratorAccess",
        "--profile-region",
        "eu-west-1",
    ]));
    assert_exit(&out, 0);
    assert_eq!(
        home.read(),
        "[sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\n\
         sso_region = eu-central-1\nsso_registration_scopes = sso:account:access\n\n\
         [profile dev-admin]\nsso_session = corp\nsso_account_id = 111122223333\n\
         sso_role_name = AdministratorAccess\nregion = eu-west-1\n"
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Added [sso-session corp]"), "{stdout}");
    assert!(stdout.contains("Added [profile dev-admin]"), "{stdout}");
    assert!(
        stdout.contains("Next: portico login --sso-session corp"),
        "{stdout}"
    );
    // The diff goes to stderr, stdout keeps the summary only.
    let stderr = text(&out.stderr);
    assert!(stderr.contains("+[sso-session corp]\n"), "{stderr}");
    assert!(!stdout.contains("+[sso-session"), "{stdout}");
    assert!(
        !home.backup().exists(),
        "no backup of a file that did not exist"
    );
    #[cfg(unix)]
    {
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&home.config()), 0o600);
        assert_eq!(mode(home.config().parent().unwrap()), 0o700);
    }

    // portico itself now resolves the profile.
    let out = home.portico(&["status", "--json"]);
    assert_exit(&out, 0);
    assert!(text(&out.stdout).contains("corp"), "{}", text(&out.stdout));
}

#[test]
fn updating_changes_one_line_keeps_mode_and_leaves_a_backup() {
    let home = Home::new();
    let original = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/comments-everywhere.config"),
    )
    .unwrap();
    home.write(&original);
    #[cfg(unix)]
    std::fs::set_permissions(home.config(), std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = home.portico(&[
        "configure",
        "--sso-session",
        "corp",
        "--region",
        "eu-west-1",
    ]);
    assert_exit(&out, 0);
    assert_eq!(
        home.read(),
        original.replace("sso_region = eu-central-1\n", "sso_region = eu-west-1\n")
    );
    assert_eq!(std::fs::read_to_string(home.backup()).unwrap(), original);
    assert!(text(&out.stdout).contains("Updated [sso-session corp]"));
    assert!(text(&out.stdout).contains("config.portico-backup"));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("-sso_region = eu-central-1\n+sso_region = eu-west-1\n"),
        "{stderr}"
    );
    #[cfg(unix)]
    assert_eq!(
        std::fs::metadata(home.config())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o640
    );
}

#[test]
fn dry_run_shows_the_diff_and_writes_nothing() {
    let home = Home::new();
    home.write("[default]\r\nregion = us-east-1\r\n");
    let out = home.portico(&with(&["--dry-run"]));
    assert_exit(&out, 0);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("+[sso-session corp]"), "{stderr}");
    assert!(stderr.contains("dry run"), "{stderr}");
    assert_eq!(home.read(), "[default]\r\nregion = us-east-1\r\n");
    assert!(!home.backup().exists());
}

#[test]
fn crlf_files_get_crlf_lines() {
    let home = Home::new();
    home.write("[default]\r\nregion = us-east-1");
    let out = home.portico(&with(&[]));
    assert_exit(&out, 0);
    assert_eq!(
        home.read(),
        "[default]\r\nregion = us-east-1\r\n\r\n[sso-session corp]\r\n\
         sso_start_url = https://d-1234567890.awsapps.com/start\r\nsso_region = eu-central-1\r\n\
         sso_registration_scopes = sso:account:access"
    );
}

#[test]
fn without_a_terminal_missing_flags_are_one_line_naming_them() {
    let home = Home::new();
    let out = home.portico(&["configure", "--sso-session", "corp"]);
    assert_exit(&out, 2);
    assert_eq!(
        text(&out.stderr),
        "portico: error: missing --start-url, --region: stdin is not a terminal, so portico \
         cannot ask; pass them as flags\n"
    );
    assert!(!home.config().exists());

    let out = home.portico(&with(&["--profile", "dev"]));
    assert_exit(&out, 2);
    assert!(
        text(&out.stderr).contains("missing --account, --role"),
        "{}",
        text(&out.stderr)
    );
    assert!(!home.config().exists());
}

#[test]
fn bad_values_are_usage_errors() {
    let home = Home::new();
    for (flag, value, expected) in [
        ("--region", "Frankfurt", "not an AWS region name"),
        (
            "--start-url",
            "http://d-1234567890.awsapps.com/start",
            "is not an https URL",
        ),
        ("--sso-session", "my corp", "can only use letters"),
    ] {
        let mut args: Vec<&str> = SESSION_FLAGS.to_vec();
        let at = args.iter().position(|a| *a == flag).unwrap();
        args[at + 1] = value;
        let out = home.portico(&args);
        assert_exit(&out, 2);
        assert!(
            text(&out.stderr).contains(expected),
            "{}",
            text(&out.stderr)
        );
    }
    let out = home.portico(&with(&["--profile", "p", "--account", "12", "--role", "R"]));
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("12-digit"));
    assert!(!home.config().exists());
}

#[test]
fn an_unusual_start_url_or_mismatched_region_warns_but_writes() {
    let home = Home::new();
    let out = home.portico(&[
        "configure",
        "--sso-session",
        "corp",
        "--start-url",
        "https://ssoins-1234567890abcdef.portal.eu-west-2.app.aws",
        "--region",
        "us-east-1",
    ]);
    assert_exit(&out, 0);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--region eu-west-2"), "{stderr}");
    assert!(home.read().contains("sso_region = us-east-1"));
}

#[test]
fn an_unreadable_config_is_not_touched() {
    let home = Home::new();
    home.write("[default]\nregion = x\nthis is not ini\n");
    let out = home.portico(&with(&[]));
    assert_exit(&out, 3);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("line 3"), "{stderr}");
    assert_eq!(home.read(), "[default]\nregion = x\nthis is not ini\n");
}

#[test]
fn a_duplicate_section_is_warned_about_and_not_made_worse() {
    let home = Home::new();
    let original = "[sso-session corp]\nsso_region = us-east-1\n\n[sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\n";
    home.write(original);
    let out = home.portico(&with(&[]));
    assert_exit(&out, 0);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("line 4: section [sso-session corp] repeats the one on line 1"),
        "{stderr}"
    );
    let after = home.read();
    assert_eq!(after.matches("[sso-session corp]").count(), 2, "{after}");
    assert_eq!(
        after,
        "[sso-session corp]\nsso_region = eu-central-1\n\n[sso-session corp]\n\
         sso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = eu-central-1\n",
        "the last copy is updated, the stale value in the first rewritten, nothing else added"
    );
}

#[test]
fn nothing_to_change_writes_nothing() {
    let home = Home::new();
    home.write("[sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = eu-central-1\nsso_registration_scopes = sso:account:access\n");
    let out = home.portico(&with(&[]));
    assert_exit(&out, 0);
    assert!(text(&out.stderr).contains("nothing to write"));
    assert!(text(&out.stdout).contains("Next: portico login --sso-session corp"));
    assert!(!home.backup().exists());
}

/// The interactive path needs a terminal on stdin: `script` gives the binary a pseudo-terminal
/// and feeds it the answers.
#[test]
fn prompts_on_a_terminal_and_asks_before_writing() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return;
    }
    let home = Home::new();
    home.write("# mine\n[default]\nregion = us-east-1\n");
    let answers = "corp\nhttps://d-1234567890.awsapps.com/start\neu-central-1\n\ndev\n111122223333\nAdmin\n\ny\n";
    let run = |answers: &str| {
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
        child.wait_with_output().unwrap()
    };

    // Saying no writes nothing.
    let out = run(&answers.replace("\ny\n", "\nn\n"));
    assert_exit(&out, 130);
    assert_eq!(home.read(), "# mine\n[default]\nregion = us-east-1\n");

    let out = run(answers);
    assert_exit(&out, 0);
    let screen = text(&out.stdout);
    assert!(screen.contains("SSO session name"), "{screen}");
    assert!(screen.contains("Write these changes to"), "{screen}");
    assert_eq!(
        home.read(),
        "# mine\n[default]\nregion = us-east-1\n\n[sso-session corp]\n\
         sso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = eu-central-1\n\
         sso_registration_scopes = sso:account:access\n\n[profile dev]\nsso_session = corp\n\
         sso_account_id = 111122223333\nsso_role_name = Admin\n"
    );
}

#[test]
fn bash_completions_are_valid_bash() {
    let home = Home::new();
    let out = home.portico(&["completions", "bash"]);
    assert_exit(&out, 0);
    let script = home.dir.path().join("portico.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    assert!(text(&out.stdout).contains("configure"));
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert_exit(&check, 0);
    // Sourcing it registers the completion function.
    let check = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p portico",
            script.display()
        ))
        .output()
        .unwrap();
    assert_exit(&check, 0);
    assert!(
        text(&check.stdout).contains("portico"),
        "{}",
        text(&check.stdout)
    );
}

#[test]
fn other_shells_get_completions_too() {
    let home = Home::new();
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let out = home.portico(&["completions", shell]);
        assert_exit(&out, 0);
        assert!(text(&out.stdout).contains("configure"), "{shell}");
    }
    // Syntax-check with the shells that are installed.
    for (shell, flag, name) in [("fish", "--no-execute", "fish"), ("zsh", "-n", "zsh")] {
        if Command::new(shell).arg("--version").output().is_err() {
            eprintln!("{shell} is not installed; its completions were not syntax-checked");
            continue;
        }
        let out = home.portico(&["completions", name]);
        let file = home.dir.path().join(format!("portico.{name}"));
        std::fs::write(&file, &out.stdout).unwrap();
        let check = Command::new(shell).arg(flag).arg(&file).output().unwrap();
        assert_exit(&check, 0);
    }
    let out = home.portico(&["completions", "tcsh"]);
    assert_exit(&out, 2);
}
