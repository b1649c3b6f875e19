//! Credentials end to end: credential_process JSON, shell formats through real shells, the
//! cache and its lock under concurrency, exec, console and list — the real binary against the
//! emulator.

mod common;

use std::process::{Command, Stdio};

use common::{assert_success, text, TestEnv};
use idc_emulator::{Config, Directory};

fn signed_in(config: Config) -> TestEnv {
    let env = TestEnv::new(config);
    env.login();
    env.emu.reset_stats();
    env
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(bytes)))
}

#[test]
fn credential_process_json_is_exact_and_cached() {
    let env = signed_in(Config::default());
    let out = env
        .portico()
        .args(["credentials", "--profile", "dev"])
        .output()
        .unwrap();
    assert_success(&out);
    let doc = json(&out.stdout);
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 5, "{doc}");
    assert_eq!(doc["Version"], 1);
    for key in ["AccessKeyId", "SecretAccessKey", "SessionToken"] {
        assert!(!doc[key].as_str().unwrap().is_empty());
    }
    let exp = doc["Expiration"].as_str().unwrap();
    assert!(exp.ends_with('Z') && exp.len() == 20, "{exp}");
    assert!(
        out.stderr.is_empty(),
        "nothing on stderr on success: {}",
        text(&out.stderr)
    );
    assert_eq!(env.stat("GetRoleCredentials"), 1);

    // Warm: same keys, no call.
    let again = env
        .portico()
        .args(["credentials", "--profile", "dev"])
        .output()
        .unwrap();
    assert_eq!(again.stdout, out.stdout);
    assert_eq!(env.stat("GetRoleCredentials"), 1);
    let logout = env.portico().args(["logout"]).output().unwrap();
    assert!(
        text(&logout.stderr).contains("deleted 1 cached role credential file"),
        "{}",
        text(&logout.stderr)
    );
    env.login();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = env.home.path().join(".cache/portico/credentials");
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{}", path.display());
            }
        }
    }
}

#[test]
fn shell_formats_set_the_same_keys_in_real_shells() {
    let env = signed_in(Config::default());
    let reference = json(
        &env.portico()
            .args(["credentials", "--profile", "dev"])
            .output()
            .unwrap()
            .stdout,
    );
    let expect = format!(
        "{}|{}|{}|eu-west-1|{}",
        reference["AccessKeyId"].as_str().unwrap(),
        reference["SecretAccessKey"].as_str().unwrap(),
        reference["SessionToken"].as_str().unwrap(),
        reference["Expiration"].as_str().unwrap(),
    );
    let bin = env!("CARGO_BIN_EXE_portico");
    let show = r#"printf '%s|%s|%s|%s|%s' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "$AWS_REGION" "$AWS_CREDENTIAL_EXPIRATION""#;
    let bash_env = format!(
        r#"eval "$('{bin}' credentials --profile dev --format env)"; bash -c '{}'"#,
        show.replace('\'', r"'\''")
    );
    let out = env.portico_shell("bash", &bash_env);
    assert_eq!(out, expect, "env (exported to a child shell)");

    let no_export =
        format!(r#"eval "$('{bin}' credentials --profile dev --format env-no-export)"; {show}"#);
    assert_eq!(
        env.portico_shell("bash", &no_export),
        expect,
        "env-no-export"
    );

    let dotenv = format!(
        r#"set -a; . <('{bin}' credentials --profile dev --format dotenv); set +a; {show}"#
    );
    assert_eq!(env.portico_shell("bash", &dotenv), expect, "dotenv");

    if which("fish") {
        let fish = format!(
            r#"'{bin}' credentials --profile dev --format fish | source; printf '%s|%s|%s|%s|%s' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "$AWS_REGION" "$AWS_CREDENTIAL_EXPIRATION""#
        );
        assert_eq!(env.portico_shell("fish", &fish), expect, "fish");
    } else {
        eprintln!("note: fish is not installed; tests/run.sh installs it");
    }
    if which("pwsh") {
        let ps = format!(
            r#"& '{bin}' credentials --profile dev --format powershell | Out-String | Invoke-Expression; Write-Host -NoNewline "$Env:AWS_ACCESS_KEY_ID|$Env:AWS_SECRET_ACCESS_KEY|$Env:AWS_SESSION_TOKEN|$Env:AWS_REGION|$Env:AWS_CREDENTIAL_EXPIRATION""#
        );
        assert_eq!(env.portico_shell("pwsh", &ps), expect, "powershell");
    } else {
        eprintln!("note: pwsh is not installed (not in Debian); the powershell format is checked by unit tests only");
    }
    let doc = json(
        &env.portico()
            .args(["credentials", "--profile", "dev", "--format", "json"])
            .output()
            .unwrap()
            .stdout,
    );
    assert_eq!(doc["AccessKeyId"], reference["AccessKeyId"]);
    assert_eq!(doc["Region"], "eu-west-1");
    let cmd = text(
        &env.portico()
            .args(["credentials", "--profile", "dev", "--format", "windows-cmd"])
            .output()
            .unwrap()
            .stdout,
    );
    assert!(
        cmd.contains(&format!(
            "set AWS_ACCESS_KEY_ID={}",
            reference["AccessKeyId"].as_str().unwrap()
        )),
        "{cmd}"
    );
}

fn which(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

trait Shell {
    fn portico_shell(&self, shell: &str, script: &str) -> String;
}

impl Shell for TestEnv {
    /// Runs `script` in `shell` with the test's environment (so the portico inside reaches
    /// the emulator and the temporary HOME) and returns its stdout.
    fn portico_shell(&self, shell: &str, script: &str) -> String {
        let probe = self.portico();
        let mut cmd = Command::new(shell);
        cmd.arg("-c").arg(script).env_clear();
        for (k, v) in probe.get_envs() {
            if let Some(v) = v {
                cmd.env(k, v);
            }
        }
        cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default());
        let out = cmd.output().unwrap();
        assert_success(&out);
        text(&out.stdout)
    }
}

#[test]
fn fifty_concurrent_cold_callers_make_one_get_role_credentials() {
    let env = signed_in(Config::default());
    let children: Vec<_> = (0..50)
        .map(|_| {
            env.portico()
                .args(["credentials", "--profile", "dev"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for out in &outputs {
        assert_success(out);
        assert_eq!(out.stdout, outputs[0].stdout, "all print the same keys");
    }
    assert_eq!(json(&outputs[0].stdout)["Version"], 1);
    assert_eq!(env.stat("GetRoleCredentials"), 1);
}

#[test]
fn thirty_concurrent_processes_near_expiry_refresh_once() {
    // 10 accounts x 3 roles: 30 different roles, so every process needs the token itself.
    let env = signed_in(Config {
        directory: Directory::generate(10, 3),
        ..Config::default()
    });
    let token_path = env.token_path();
    let mut token = env.token().unwrap();
    let soon = time::OffsetDateTime::now_utc() + time::Duration::minutes(5);
    token["expiresAt"] = portico::cache::token::format_time(soon).into();
    std::fs::write(&token_path, serde_json::to_vec(&token).unwrap()).unwrap();
    let old_refresh = token["refreshToken"].as_str().unwrap().to_string();

    let mut children = Vec::new();
    for account in env.emu.directory().accounts() {
        for role in &account.roles {
            children.push(
                env.portico()
                    .args([
                        "credentials",
                        "--no-login",
                        "--account",
                        &account.account_id,
                        "--role",
                        role,
                    ])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap(),
            );
        }
    }
    assert_eq!(children.len(), 30);
    for child in children {
        assert_success(&child.wait_with_output().unwrap());
    }
    assert_eq!(
        env.stat("CreateToken:refresh_token"),
        1,
        "exactly one refresh"
    );
    assert_eq!(env.stat("GetRoleCredentials"), 30);
    let after = env.token().unwrap();
    assert_ne!(
        after["refreshToken"].as_str().unwrap(),
        old_refresh,
        "the rotated refresh token was written back"
    );
    let expires = portico::cache::token::parse_time(after["expiresAt"].as_str().unwrap()).unwrap();
    assert!(expires > soon + time::Duration::minutes(30));
}

#[test]
fn without_a_sign_in_stdout_stays_empty_and_the_fix_is_named() {
    let env = TestEnv::new(Config::default());
    let out = env
        .portico()
        .args(["credentials", "--profile", "dev"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("portico login --device-code --sso-session emu"),
        "no browser here: {stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");

    // A revoked sign-in whose refresh is refused also ends in exit 4 with the fix.
    env.login();
    env.emu.revoke_all();
    let token_path = env.token_path();
    let mut token = env.token().unwrap();
    token["expiresAt"] = "2020-01-01T00:00:00Z".into();
    std::fs::write(&token_path, serde_json::to_vec(&token).unwrap()).unwrap();
    let out = env
        .portico()
        .args(["credentials", "--profile", "dev"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("refused to refresh"));
}

#[test]
fn unassigned_role_and_unknown_profile() {
    let env = signed_in(Config::default());
    let account = env.emu.directory().accounts()[0].account_id.clone();
    let out = env
        .portico()
        .args(["credentials", "--account", &account, "--role", "NoSuchRole"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("no access to role NoSuchRole"),
        "{}",
        text(&out.stderr)
    );

    let out = env
        .portico()
        .args(["credentials", "--profile", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("profile \"nope\" is not in"));
}

#[test]
fn a_revoked_token_is_refreshed_and_the_call_retried() {
    let env = signed_in(Config::default());
    env.emu.expire_access_tokens();
    let out = env
        .portico()
        .args(["credentials", "--profile", "dev"])
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(env.stat("CreateToken:refresh_token"), 1);
    assert_eq!(
        env.stat("GetRoleCredentials"),
        2,
        "the first call was refused, the retry succeeded"
    );
}

#[test]
fn exec_passes_environment_exit_code_and_signals() {
    let env = signed_in(Config::default());
    let out = env
        .portico()
        .args([
            "exec",
            "--profile",
            "dev",
            "--",
            "sh",
            "-c",
            "echo \"$AWS_ACCESS_KEY_ID $AWS_REGION $AWS_CREDENTIAL_EXPIRATION\"; exit 7",
        ])
        .env("AWS_PROFILE", "dev")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    let parts: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(parts.len(), 3, "{line}");
    assert!(parts[0].starts_with("ASIA"), "{line}");
    assert_eq!(parts[1], "eu-west-1");
    assert!(parts[2].ends_with('Z'));

    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        let out = env
            .portico()
            .args([
                "exec",
                "--profile",
                "dev",
                "--",
                "sh",
                "-c",
                "kill -TERM $$",
            ])
            .output()
            .unwrap();
        assert_eq!(
            out.status.signal(),
            Some(15),
            "the command's signal is passed through"
        );
    }
    let out = env
        .portico()
        .args(["exec", "--profile", "dev", "--", "no-such-program-xyz"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot run no-such-program-xyz"));
}

#[test]
fn console_link_round_trip_through_the_federation_endpoint() {
    let env = signed_in(Config::default());
    let out = env
        .portico()
        .args(["console", "--profile", "dev", "--print", "--service", "s3"])
        .env(
            "PORTICO_FEDERATION_ENDPOINT",
            format!("{}/federation", env.emu.url()),
        )
        .output()
        .unwrap();
    assert_success(&out);
    let link = text(&out.stdout).trim().to_string();
    assert!(
        link.starts_with(&format!("{}/federation?", env.emu.url())),
        "{link}"
    );
    assert!(
        link.contains("Action=login") && link.contains("SigninToken="),
        "{link}"
    );
    assert!(
        link.contains("s3%2Fhome"),
        "destination is the S3 console: {link}"
    );
    assert_eq!(env.stat("GetSigninToken"), 1);
    let page = http_get(&link);
    let account = &env.emu.directory().accounts()[0];
    assert!(page.contains(&account.account_id), "{page}");
    assert!(page.contains(&account.roles[0]), "{page}");
}

/// A minimal HTTP/1.1 GET for a loopback URL.
fn http_get(url: &str) -> String {
    use std::io::{Read, Write};
    let parsed = url::Url::parse(url).unwrap();
    let mut stream =
        std::net::TcpStream::connect((parsed.host_str().unwrap(), parsed.port().unwrap())).unwrap();
    let target = format!("{}?{}", parsed.path(), parsed.query().unwrap_or_default());
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut body = String::new();
    stream.read_to_string(&mut body).unwrap();
    body
}

#[test]
fn list_prints_every_account_and_role_and_caches_them() {
    let env = signed_in(Config {
        directory: Directory::generate(30, 2),
        ..Config::default()
    });
    let out = env.portico().args(["list", "--json"]).output().unwrap();
    assert_success(&out);
    let doc = json(&out.stdout);
    let accounts = doc["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 30);
    assert!(accounts
        .iter()
        .all(|a| a["roles"].as_array().unwrap().len() == 2));
    let calls = env.stat("ListAccountRoles");
    assert_eq!(calls, 30);
    let table = env.portico().args(["list"]).output().unwrap();
    assert_success(&table);
    assert_eq!(
        env.stat("ListAccountRoles"),
        30,
        "second listing comes from the cache"
    );
    assert!(text(&table.stdout).lines().count() == 31);
    env.portico().args(["list", "--refresh"]).output().unwrap();
    assert_eq!(env.stat("ListAccountRoles"), 60, "--refresh asks again");
}

#[test]
fn no_assignments_says_what_the_administrator_must_do() {
    let env = signed_in(Config {
        directory: Directory::from_accounts(Vec::new()).unwrap(),
        ..Config::default()
    });
    let out = env.portico().args(["list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(6));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("no AWS accounts are assigned to you") && stderr.contains("SCIM"),
        "{stderr}"
    );
}

#[test]
fn many_callers_without_a_sign_in_open_one_browser_login() {
    // Ten credential_process calls for ten roles arrive with no token: one browser login
    // serves them all (the others wait on the session lock), not ten tabs.
    let env = TestEnv::new(Config {
        directory: Directory::generate(5, 2),
        auto_approve: true,
        ..Config::default()
    });
    let log = env.home.path().join("browser.log");
    let mut children = Vec::new();
    for account in env.emu.directory().accounts() {
        for role in &account.roles {
            children.push(
                env.portico()
                    .args([
                        "credentials",
                        "--account",
                        &account.account_id,
                        "--role",
                        role,
                    ])
                    .env("BROWSER", common::support("fake-browser.py"))
                    .env("FAKE_BROWSER_LOG", &log)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap(),
            );
        }
    }
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for out in &outputs {
        assert_success(out);
        assert_eq!(json(&out.stdout)["Version"], 1);
    }
    let opened = std::fs::read_to_string(&log)
        .unwrap()
        .matches("opened ")
        .count();
    assert_eq!(opened, 1, "one browser tab");
    assert_eq!(env.stat("CreateToken:authorization_code"), 1);
    assert_eq!(env.stat("GetRoleCredentials"), 10);
}
