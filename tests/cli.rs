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
