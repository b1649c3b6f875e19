//! `portico profiles sync` end to end: the real binary against the emulator, with a temporary
//! HOME; the written config is read back with portico's reader.

mod common;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use common::{assert_success, text, wait_until, TestEnv};
use idc_emulator::{Config, Directory, EmulatorHandle};
use portico::awsconfig::names::clean_name;
use portico::awsconfig::ConfigFile;
use portico::output::shell::split_command;

const MARKER: &str = "# managed by portico profiles sync (sso-session emu)";

fn signed_in(directory: Directory) -> TestEnv {
    let env = TestEnv::new(Config {
        directory,
        ..Config::default()
    });
    env.login();
    env
}

fn sync(env: &TestEnv, args: &[&str]) -> Output {
    env.portico()
        .args(["profiles", "sync", "--no-login"])
        .args(args)
        .output()
        .unwrap()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// The profile name the default template gives an account and role.
fn generated(account_name: &str, role: &str) -> String {
    clean_name(&format!("{account_name}-{role}"))
}

#[test]
fn first_sync_writes_every_profile_and_a_second_changes_nothing() {
    let env = signed_in(Directory::default());
    let before = read(&env.config_path());
    let out = sync(&env, &["--region", "eu-central-1"]);
    assert_success(&out);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("36 added, 0 updated, 0 removed, 0 unchanged"),
        "{stdout}"
    );
    assert!(stdout.contains("config.portico-backup"), "{stdout}");

    let after = read(&env.config_path());
    assert!(
        after.starts_with(&before),
        "the user's lines come first, untouched"
    );
    assert_eq!(after.matches(MARKER).count(), 36);
    let config = ConfigFile::load(&env.config_path()).unwrap();
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());
    for account in env.emu.directory().accounts() {
        for role in &account.roles {
            let name = generated(&account.account_name, role);
            let p = config
                .profile(&name)
                .unwrap_or_else(|| panic!("no [profile {name}]"));
            assert_eq!(p.get("sso_session"), Some("emu"));
            assert_eq!(p.get("sso_account_id"), Some(account.account_id.as_str()));
            assert_eq!(p.get("sso_role_name"), Some(role.as_str()));
            assert_eq!(p.get("region"), Some("eu-central-1"));
            assert_eq!(p.get("credential_process"), None);
        }
    }
    // The profiles work: portico resolves one to credentials.
    let some = env.emu.directory().accounts()[5].clone();
    let name = generated(&some.account_name, &some.roles[1]);
    let out = env
        .portico()
        .args(["credentials", "--no-login", "--profile", &name])
        .output()
        .unwrap();
    assert_success(&out);

    // A second sync (from the cached list) is a no-op, byte for byte.
    let out = sync(&env, &["--region", "eu-central-1"]);
    assert_success(&out);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("0 added, 0 updated, 0 removed, 36 unchanged"),
        "{stdout}"
    );
    assert!(stdout.contains("Nothing to write"), "{stdout}");
    assert_eq!(read(&env.config_path()), after);
}

#[test]
fn dry_run_prints_the_diff_and_writes_nothing() {
    let env = signed_in(Directory::generate(2, 2));
    let before = read(&env.config_path());
    let out = sync(&env, &["--dry-run"]);
    assert_success(&out);
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("--- "), "{stdout}");
    assert_eq!(stdout.matches("\n+[profile ").count(), 4, "{stdout}");
    assert!(stdout.contains(&format!("\n+{MARKER}\n")), "{stdout}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("4 added") && stderr.contains("nothing was written"),
        "{stderr}"
    );
    assert_eq!(read(&env.config_path()), before);
    assert!(!env.home.path().join(".aws/config.portico-backup").exists());
}

#[test]
fn the_users_own_profile_and_comments_are_never_touched() {
    let env = signed_in(Directory::generate(3, 2));
    let first = env.emu.directory().accounts()[0].clone();
    let taken = generated(&first.account_name, &first.roles[0]);
    let mut config = read(&env.config_path());
    config.push_str(&format!(
        "\n; my own profile, hands off\n[profile {taken}]\nregion = ap-south-1 ; keep\n  # odd indent\noutput = json\n"
    ));
    env.write_config(&config);

    let out = sync(&env, &[]);
    assert_success(&out);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("[profile {taken}] is your own"))
            && stderr.contains(&format!("[profile {taken}-{}]", first.account_id)),
        "{stderr}"
    );
    let after = read(&env.config_path());
    assert!(after.starts_with(&config), "{after}");
    let reader = ConfigFile::load(&env.config_path()).unwrap();
    let mine = reader.profile(&taken).unwrap();
    assert_eq!(mine.get("sso_role_name"), None);
    assert_eq!(mine.get("output"), Some("json"));
    let generated_one = reader
        .profile(&format!("{taken}-{}", first.account_id))
        .unwrap();
    assert_eq!(
        generated_one.get("sso_role_name"),
        Some(first.roles[0].as_str())
    );

    // Later syncs leave the user's profile alone too, and prune only marked ones.
    let out = sync(&env, &["--refresh"]);
    assert_success(&out);
    assert!(text(&out.stdout).contains("6 unchanged"));
    assert_eq!(read(&env.config_path()), after);
}

/// Signs in against another emulator (the device flow, approved through its control API).
fn login_to(env: &TestEnv, emu: &EmulatorHandle) {
    let child = env
        .portico()
        .env("AWS_ENDPOINT_URL_SSO", emu.url())
        .env("AWS_ENDPOINT_URL_SSO_OIDC", emu.url())
        .args(["login", "--device-code"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let Some(code) = wait_until(Duration::from_secs(20), || {
        emu.pending_user_codes().first().cloned()
    }) else {
        let out = child.wait_with_output().unwrap();
        panic!("no device code is pending: {}", text(&out.stderr));
    };
    emu.approve(&code).unwrap();
    assert_success(&child.wait_with_output().unwrap());
}

#[test]
fn an_account_that_is_no_longer_assigned_is_pruned_after_refresh() {
    let env = signed_in(Directory::generate(4, 2));
    assert_success(&sync(&env, &[]));
    let synced = read(&env.config_path());
    assert_eq!(synced.matches(MARKER).count(), 8);

    // The same Identity Center (start URL, region) after an administrator removed the last
    // account's assignments: a second emulator with a smaller directory.
    let accounts = env.emu.directory().accounts().to_vec();
    let gone = accounts[3].clone();
    let smaller = idc_emulator::start_blocking(Config {
        directory: Directory::from_accounts(accounts[..3].to_vec()).unwrap(),
        ..Config::default()
    })
    .unwrap();
    // It cannot know the client registration portico cached with the first one: sign in anew.
    std::fs::remove_dir_all(env.home.path().join(".aws/sso/cache")).unwrap();
    login_to(&env, &smaller);
    let against_smaller = |args: &[&str]| {
        env.portico()
            .env("AWS_ENDPOINT_URL_SSO", smaller.url())
            .env("AWS_ENDPOINT_URL_SSO_OIDC", smaller.url())
            .args(["profiles", "sync", "--no-login"])
            .args(args)
            .output()
            .unwrap()
    };

    // Without --refresh the list cached an hour ago still counts: nothing changes.
    let out = against_smaller(&[]);
    assert_success(&out);
    assert_eq!(read(&env.config_path()), synced);

    // --no-prune keeps it, and says so.
    let out = against_smaller(&["--refresh", "--no-prune"]);
    assert_success(&out);
    assert!(
        text(&out.stdout).contains("2 no longer assigned but kept"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(read(&env.config_path()), synced);

    let out = against_smaller(&["--refresh"]);
    assert_success(&out);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("0 added, 0 updated, 2 removed, 6 unchanged"),
        "{stdout}"
    );
    let reader = ConfigFile::load(&env.config_path()).unwrap();
    for role in &gone.roles {
        assert!(reader
            .profile(&generated(&gone.account_name, role))
            .is_none());
    }
    assert_eq!(reader.profile_names().len(), 1 + 6, "dev plus six synced");
    assert!(reader.profile("dev").is_some(), "the user's profile stays");
}

#[test]
fn credential_process_profiles_run_portico_and_work() {
    let env = signed_in(Directory::generate(2, 1));
    let out = env
        .portico()
        .env("PATH", "/usr/bin:/bin")
        .args([
            "profiles",
            "sync",
            "--no-login",
            "--credential-process",
            "--template",
            "{session}/{account_name} {role_name}",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    assert!(
        text(&out.stderr).contains("not the first `portico` on PATH"),
        "{}",
        text(&out.stderr)
    );
    let reader = ConfigFile::load(&env.config_path()).unwrap();
    let account = env.emu.directory().accounts()[1].clone();
    let name = clean_name(&format!(
        "emu/{} {}",
        account.account_name, account.roles[0]
    ));
    assert!(name.starts_with("emu-"), "{name}");
    let p = reader.profile(&name).unwrap();
    assert_eq!(p.get("sso_session"), None);
    let line = p.get("credential_process").unwrap();
    let words = split_command(line);
    let me = std::fs::canonicalize(env!("CARGO_BIN_EXE_portico")).unwrap();
    assert_eq!(Path::new(&words[0]), me, "{line}");
    assert_eq!(
        words[1..],
        [
            "credentials",
            "--account",
            account.account_id.as_str(),
            "--role",
            account.roles[0].as_str(),
            "--sso-session",
            "emu"
        ]
    );

    // The line works as the AWS CLI would run it.
    let out = env
        .portico()
        .env_clear()
        .env("HOME", env.home.path())
        .env("XDG_CACHE_HOME", env.home.path().join(".cache"))
        .env("AWS_CONFIG_FILE", env.config_path())
        .env("AWS_ENDPOINT_URL_SSO", env.emu.url())
        .env("AWS_ENDPOINT_URL_SSO_OIDC", env.emu.url())
        .args(&words[1..])
        .arg("--no-login")
        .output()
        .unwrap();
    assert_success(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["Version"], 1);

    // With this portico first on PATH, the line says plain `portico`; switching back to the
    // native keys rewrites the synced profiles in place.
    let dir = me.parent().unwrap();
    let out = env
        .portico()
        .env("PATH", dir)
        .args([
            "profiles",
            "sync",
            "--no-login",
            "--credential-process",
            "--template",
            "{session}/{account_name} {role_name}",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    assert!(
        text(&out.stdout).contains("2 updated"),
        "{}",
        text(&out.stdout)
    );
    let reader = ConfigFile::load(&env.config_path()).unwrap();
    assert!(reader
        .profile(&name)
        .unwrap()
        .get("credential_process")
        .unwrap()
        .starts_with("portico credentials "));
    let out = sync(
        &env,
        &["--template", "{session}/{account_name} {role_name}"],
    );
    assert_success(&out);
    let reader = ConfigFile::load(&env.config_path()).unwrap();
    let p = reader.profile(&name).unwrap();
    assert_eq!(p.get("credential_process"), None);
    assert_eq!(p.get("sso_role_name"), Some(account.roles[0].as_str()));
}

#[test]
fn bad_templates_and_legacy_sessions_are_refused() {
    let env = TestEnv::new(Config::default());
    let out = sync(&env, &["--template", "{account}-{role_name}"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("unknown placeholder {account}"));

    env.write_config(&format!(
        "[profile legacy]\nsso_start_url = {}\nsso_region = {}\n",
        env.emu.start_url(),
        env.emu.region()
    ));
    let out = sync(&env, &["--profile", "legacy"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("portico configure --sso-session"));
}

/// `tests/interop/boto_probe.py credentials PROFILE` in the test virtualenv, in this test's world.
fn boto_credentials(env: &TestEnv, profile: &str) -> serde_json::Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("target/pyenv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run tests/python-env.sh first (it builds the virtualenv with boto3)",
        python.display()
    );
    let out = std::process::Command::new(python)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", env.home.path())
        .env("XDG_CACHE_HOME", env.home.path().join(".cache"))
        .env("AWS_CONFIG_FILE", env.config_path())
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            env.home.path().join("no-credentials"),
        )
        .env("AWS_ENDPOINT_URL_SSO", env.emu.url())
        .env("AWS_ENDPOINT_URL_SSO_OIDC", env.emu.url())
        .env("PYTHONUTF8", "1")
        .arg(root.join("tests/interop/boto_probe.py"))
        .args(["credentials", profile])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "boto_probe printed no JSON ({e}): {}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

#[test]
fn boto3_gets_credentials_through_synced_profiles_of_both_styles() {
    let env = signed_in(Directory::generate(2, 2));
    let account = env.emu.directory().accounts()[1].clone();
    let name = generated(&account.account_name, &account.roles[1]);

    assert_success(&sync(&env, &[]));
    let native = boto_credentials(&env, &name);
    assert_eq!(native["ok"], true, "{native}");
    assert_eq!(native["method"], "sso", "{native}");

    let out = env
        .portico()
        .env("PATH", "/usr/bin:/bin")
        .args(["profiles", "sync", "--no-login", "--credential-process"])
        .output()
        .unwrap();
    assert_success(&out);
    let process = boto_credentials(&env, &name);
    assert_eq!(process["ok"], true, "{process}");
    assert_eq!(process["method"], "custom-process", "{process}");
}
