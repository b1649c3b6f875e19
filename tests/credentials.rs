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
    // A command that cannot be started exits as a shell would: 127 not found, 126 not runnable.
    let out = env
        .portico()
        .args(["exec", "--profile", "dev", "--", "no-such-program-xyz"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cannot run no-such-program-xyz"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(out.stdout.is_empty());
    // Not executable (no x bit; root too is refused) and a directory: 126.
    let script = env.home.path().join("not-executable.sh");
    std::fs::write(&script, "#!/bin/sh\necho ran\n").unwrap();
    for program in [script.clone(), env.home.path().to_path_buf()] {
        let out = env
            .portico()
            .args(["exec", "--profile", "dev", "--"])
            .arg(&program)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(126), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("cannot run"),
            "{}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
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

/// The role-credential files portico cached (`~/.cache/portico/credentials/*.json`).
fn cached_role_files(env: &TestEnv) -> Vec<std::path::PathBuf> {
    let dir = env.home.path().join(".cache/portico/credentials");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect()
}

#[test]
fn a_sign_out_by_the_aws_cli_ends_the_cached_role_credentials() {
    let env = signed_in(Config::default());
    let first = env
        .portico()
        .args(["credentials", "--profile", "dev"])
        .output()
        .unwrap();
    assert_success(&first);
    assert_eq!(cached_role_files(&env).len(), 1);
    // `aws sso logout` deletes the token file (os.remove) and nothing of portico's.
    std::fs::remove_file(env.token_path()).unwrap();
    let out = env
        .portico()
        .args(["credentials", "--profile", "dev", "--no-login"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "no keys after a sign-out");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("not signed in") && stderr.contains("portico login"),
        "{stderr}"
    );
    assert!(
        cached_role_files(&env).is_empty(),
        "the signed-out session's cached keys are deleted"
    );
    assert_eq!(env.stat("GetRoleCredentials"), 1);
    // Signing in again fetches new keys.
    env.login();
    let again = env
        .portico()
        .args(["credentials", "--profile", "dev", "--no-login"])
        .output()
        .unwrap();
    assert_success(&again);
    assert_eq!(env.stat("GetRoleCredentials"), 2);
    assert_ne!(
        json(&again.stdout)["AccessKeyId"],
        json(&first.stdout)["AccessKeyId"]
    );
}

#[test]
fn logout_deletes_the_aws_clis_sso_role_credentials_and_nothing_else() {
    let env = signed_in(Config::default());
    assert_success(
        &env.portico()
            .args(["credentials", "--profile", "dev"])
            .output()
            .unwrap(),
    );
    // ~/.aws/cli/cache as the AWS CLI leaves it: an SSO role's keys (botocore's
    // SSOCredentialFetcher adds "ProviderType": "sso"), an assume-role entry (raw STS answer,
    // no ProviderType), and a file that is not JSON.
    let cli_cache = env.home.path().join(".aws/cli/cache");
    std::fs::create_dir_all(&cli_cache).unwrap();
    let sso = cli_cache.join("5b7ed0c2a1a0fd5f0e24ea8c2f53fb1aa6c1d33f.json");
    std::fs::write(
        &sso,
        r#"{"ProviderType": "sso", "Credentials": {"AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2099-01-01T00:00:00Z", "AccountId": "111122223333"}}"#,
    )
    .unwrap();
    let assume = cli_cache.join("0f2c6b54e2a8d0b3a7f1c9e4d5b6a7c8d9e0f1a2.json");
    let assume_text = r#"{"Credentials": {"AccessKeyId": "ASIAOTHER", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2099-01-01T00:00:00Z"}, "AssumedRoleUser": {"AssumedRoleId": "AROA:x", "Arn": "arn:aws:sts::111122223333:assumed-role/r/x"}}"#;
    std::fs::write(&assume, assume_text).unwrap();
    let junk = cli_cache.join("notes.txt");
    std::fs::write(&junk, "not json").unwrap();

    let out = env.portico().args(["logout"]).output().unwrap();
    assert_success(&out);
    let stderr = text(&out.stderr);
    assert!(
        !sso.exists(),
        "the AWS CLI's SSO role credentials are deleted: {stderr}"
    );
    assert_eq!(std::fs::read_to_string(&assume).unwrap(), assume_text);
    assert!(junk.exists());
    assert!(
        stderr.contains("deleted 1 role credential file the AWS CLI cached"),
        "{stderr}"
    );
    assert!(
        cached_role_files(&env).is_empty(),
        "portico's own are deleted too"
    );
    assert!(env.token().is_none());
}

#[test]
fn list_after_a_sign_out_refuses_like_credentials() {
    let env = signed_in(Config::default());
    assert_success(&env.portico().args(["list"]).output().unwrap());
    assert_success(&env.portico().args(["logout"]).output().unwrap());
    let out = env.portico().args(["list", "--no-login"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("not signed in") && stderr.contains("portico login"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn list_columns_line_up_whatever_the_length_of_an_email() {
    let account = |id: &str, name: &str, email: &str| idc_emulator::Account {
        account_id: id.to_string(),
        account_name: name.to_string(),
        email_address: email.to_string(),
        roles: vec!["AdministratorAccess".to_string()],
    };
    let env = signed_in(Config {
        directory: Directory::from_accounts(vec![
            account(
                "111122223333",
                "payments-prod",
                "aws+payments-prod-eu-central-1@example.com",
            ),
            account("222233334444", "sandbox", "a@example.com"),
            account("333344445555", "データ基盤", "データ@example.jp"),
        ])
        .unwrap(),
        ..Config::default()
    });
    let out = env.portico().args(["list"]).output().unwrap();
    assert_success(&out);
    let table = text(&out.stdout);
    // Where ROLES starts on each line, in terminal cells (CJK letters take two).
    let roles_column = |line: &str| -> usize {
        let at = line
            .find("AdministratorAccess")
            .or_else(|| line.find("ROLES"))
            .unwrap_or_else(|| panic!("no roles in {line:?}"));
        line[..at]
            .chars()
            .map(|c| {
                if ('\u{3000}'..='\u{9fff}').contains(&c) {
                    2
                } else {
                    1
                }
            })
            .sum()
    };
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    let columns: Vec<usize> = lines.iter().map(|l| roles_column(l)).collect();
    assert!(
        columns.windows(2).all(|w| w[0] == w[1]),
        "{columns:?}\n{table}"
    );
    assert!(
        table.contains("aws+payments-prod-eu-central-1@example.com"),
        "not cut in a pipe"
    );
}

#[test]
fn twenty_parallel_callers_for_different_roles_all_get_through_a_5_rps_throttle() {
    let env = signed_in(Config {
        directory: Directory::generate(10, 2),
        ..Config::default()
    });
    env.emu
        .update_faults(idc_emulator::FaultsUpdate {
            throttle_rps: Some(5.0),
            ..Default::default()
        })
        .unwrap();
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
                    ])
                    .args(["--role", role])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap(),
            );
        }
    }
    assert_eq!(children.len(), 20);
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let failed: Vec<String> = outputs
        .iter()
        .filter(|o| !o.status.success())
        .map(|o| format!("exit {:?}: {}", o.status.code(), text(&o.stderr)))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of 20 failed:\n{}",
        failed.len(),
        failed.join("")
    );
    // Every portal call here is a GetRoleCredentials; those not throttled each gave one role.
    let throttled = env.stat("throttled");
    assert!(throttled > 0, "the throttle was met");
    assert_eq!(env.stat("GetRoleCredentials") - throttled, 20);
}

/// A command prefix that runs portico with `dir` mounted read-only, where this machine allows
/// it: a private mount namespace (`unshare -m`, as root; `unshare -rm` in a user namespace
/// otherwise). Root ignores permission bits, so `chmod` alone would test nothing here.
fn read_only_prefix(dir: &std::path::Path) -> Option<Vec<String>> {
    let script = r#"mount --bind -o ro "$0" "$0" && exec "$@""#;
    for flags in ["-m", "-rm"] {
        let probe = Command::new("unshare")
            .args([flags, "sh", "-c", script])
            .arg(dir)
            .args(["sh", "-c", "! touch \"$0/probe\" 2>/dev/null"])
            .arg(dir)
            .output();
        if probe.is_ok_and(|o| o.status.success()) {
            return Some(vec![
                flags.to_string(),
                "sh".into(),
                "-c".into(),
                script.into(),
                dir.display().to_string(),
            ]);
        }
    }
    None
}

#[test]
fn a_read_only_home_still_gets_credentials_with_a_valid_token() {
    let env = signed_in(Config::default());
    let home = env.home.path();
    // What a fresh sign-in leaves: the token, portico's cache folder, no role credentials yet.
    let Some(prefix) = read_only_prefix(home) else {
        eprintln!(
            "skipped: cannot mount {} read-only here (needs `unshare -m` as root or user \
             namespaces); the CI container runs as root and can",
            home.display()
        );
        return;
    };
    let run = |args: &[&str]| {
        let portico = env.portico();
        let mut cmd = Command::new("unshare");
        cmd.args(&prefix).arg(portico.get_program()).args(args);
        for (name, value) in portico.get_envs() {
            match value {
                Some(v) => cmd.env(name, v),
                None => cmd.env_remove(name),
            };
        }
        cmd.stdin(Stdio::null()).output().unwrap()
    };
    let before = std::fs::read(env.token_path()).unwrap();
    let out = run(&["credentials", "--profile", "dev", "--no-login", "-v"]);
    assert_success(&out);
    assert_eq!(json(&out.stdout)["Version"], 1);
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.matches("carrying on without").count(),
        1,
        "said once with -v: {stderr}"
    );
    assert!(stderr.contains("Read-only file system"), "{stderr}");
    // Without -v nothing is said; nothing was written.
    let quiet = run(&["credentials", "--profile", "dev", "--no-login"]);
    assert_success(&quiet);
    assert!(quiet.stderr.is_empty(), "{}", text(&quiet.stderr));
    assert!(cached_role_files(&env).is_empty());
    assert_eq!(std::fs::read(env.token_path()).unwrap(), before);
    // Listing too.
    let list = run(&["list", "--no-login"]);
    assert_success(&list);
    assert!(list.stderr.is_empty(), "{}", text(&list.stderr));
}
