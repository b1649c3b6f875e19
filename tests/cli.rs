//! The real binary's basic contract: version, help, usage errors.

use assert_cmd::Command;

fn portico() -> Command {
    Command::cargo_bin("portico").unwrap()
}

#[test]
fn version_prints_name_and_version() {
    let out = portico()
        .arg("--version")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        String::from_utf8(out).unwrap().trim(),
        format!("portico {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_lists_exit_codes_and_examples() {
    let out = portico()
        .arg("--help")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("Exit status:"), "{text}");
    assert!(text.contains("run `portico login`"), "{text}");
    assert!(text.contains("Examples:"), "{text}");
}

#[test]
fn unknown_flag_is_a_usage_error_on_stderr() {
    let assert = portico().arg("--no-such-flag").assert().code(2);
    let out = assert.get_output();
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-such-flag"));
}

/// The subcommands, for checks that go through every `--help`.
const COMMANDS: &[&str] = &[
    "login",
    "logout",
    "credentials",
    "exec",
    "console",
    "list",
    "status",
    "configure",
    "profiles",
    "profiles sync",
    "doctor",
    "completions",
    "init",
    "demo",
];

#[test]
fn help_texts_have_no_stray_line_breaks() {
    for command in std::iter::once("").chain(COMMANDS.iter().copied()) {
        let out = portico()
            .args(command.split_whitespace())
            .arg("--help")
            .env("COLUMNS", "100")
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for pair in lines.windows(2) {
            // A lone word on a line of its own after a full line is a paragraph line too long
            // for the help width, wrapped by clap.
            let widow = !pair[1].starts_with(' ')
                && !pair[1].is_empty()
                && !pair[1].contains(' ')
                && pair[0].len() > 80;
            assert!(
                !widow,
                "`portico {command} --help` breaks a line before {:?}:\n{text}",
                pair[1]
            );
        }
    }
}

#[test]
fn the_portal_format_help_names_one_default() {
    let out = portico()
        .arg("--help")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("default: from $SHELL"), "{text}");
    assert!(!text.contains("(the default)"), "{text}");
}

#[test]
fn init_without_a_shell_takes_the_one_shell_names() {
    let out = portico()
        .arg("init")
        .env("SHELL", "/usr/bin/fish")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("--format fish"), "{text}");
    let out = portico()
        .arg("init")
        .env("SHELL", "/bin/zsh")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(out).unwrap().contains("--format env"));

    let assert = portico()
        .arg("init")
        .env("SHELL", "/bin/tcsh")
        .assert()
        .code(2);
    let out = assert.get_output();
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("tcsh") && err.contains("portico init bash"),
        "{err}"
    );
}
