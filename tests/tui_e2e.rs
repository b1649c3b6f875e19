//! The portal end to end: the real `portico` binary in a tmux pane, against the emulator, driven
//! by keys the way a person drives it, and checked through what the pane shows and what the
//! shell in it ends up with. Each test has its own tmux server (`tmux -S …/portico-test-PID-N`),
//! killed when the test ends, also on failure. Waits poll the pane (every 50 ms, bounded).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::tmux::{Tmux, LIMIT};
use common::{text, TestEnv};
use idc_emulator::{Account, Config, Directory};

/// Accounts with names a filter can pick apart.
fn directory() -> Directory {
    let account = |id: &str, name: &str, roles: &[&str]| Account {
        account_id: id.to_string(),
        account_name: name.to_string(),
        email_address: format!("aws+{name}@example.com"),
        roles: roles.iter().map(|r| r.to_string()).collect(),
    };
    Directory::from_accounts(vec![
        account(
            "111122223333",
            "payments-prod",
            &["AdministratorAccess", "ReadOnlyAccess"],
        ),
        account("222233334444", "platform-dev", &["PowerUserAccess"]),
        account(
            "333344445555",
            "sandbox",
            &["AdministratorAccess", "Billing"],
        ),
        account("444455556666", "logging", &["ViewOnlyAccess"]),
    ])
    .unwrap()
}

const ROLES: &str = "6 roles";

fn test_env() -> TestEnv {
    TestEnv::new(Config {
        directory: directory(),
        ..Config::default()
    })
}

/// The directory holding the portico binary under test.
fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_portico"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The variables that point portico at the test's world, and keep the user's out.
fn world_vars(env: &TestEnv) -> Vec<(&'static str, String)> {
    let home = env.home.path();
    vec![
        ("HOME", home.display().to_string()),
        ("XDG_CACHE_HOME", home.join(".cache").display().to_string()),
        ("AWS_CONFIG_FILE", env.config_path().display().to_string()),
        ("AWS_ENDPOINT_URL_SSO", env.emu.url()),
        ("AWS_ENDPOINT_URL_SSO_OIDC", env.emu.url()),
        (
            "PORTICO_FEDERATION_ENDPOINT",
            format!("{}/federation", env.emu.url()),
        ),
        ("TMPDIR", home.join("tmp").display().to_string()),
    ]
}

const UNSET: &str = "AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID \
    AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN BROWSER DISPLAY WAYLAND_DISPLAY SSH_CONNECTION SSH_TTY";

/// A bash in the pane with the test's world in its environment and `$ ` as the prompt.
fn bash_pane(env: &TestEnv) -> Tmux {
    bash_pane_with(env, Vec::new())
}

/// [`bash_pane`] with more variables.
fn bash_pane_with(env: &TestEnv, extra: Vec<(&'static str, String)>) -> Tmux {
    let mut rc = format!("PS1='$ '\nunset {UNSET}\nexport SHELL=/bin/bash\n");
    for (name, value) in world_vars(env).into_iter().chain(extra) {
        rc.push_str(&format!("export {name}='{value}'\n"));
    }
    rc.push_str(&format!(
        "export PATH='{}':\"$PATH\"\n",
        bin_dir().display()
    ));
    std::fs::create_dir_all(env.home.path().join("tmp")).unwrap();
    let path = env.home.path().join("bashrc");
    std::fs::write(&path, rc).unwrap();
    let tmux = Tmux::start(&format!(
        "bash --noprofile --rcfile '{}' -i",
        path.display()
    ));
    tmux.wait_for("the shell prompt", |s| s.trim_end().ends_with('$'));
    tmux
}

/// The selected line of the list (the one with the `›` marker).
fn selected_line(screen: &str) -> Option<&str> {
    screen.lines().find(|l| l.starts_with('›'))
}

#[test]
fn exports_of_the_chosen_role_reach_the_calling_shell() {
    let env = test_env();
    env.login();
    let tmux = bash_pane(&env);
    tmux.run(r#"eval "$(portico)"; echo "KEY=$AWS_ACCESS_KEY_ID""#);
    tmux.wait_for_text(ROLES);
    tmux.type_text("pay read");
    tmux.wait_for("payments-prod ReadOnlyAccess selected", |s| {
        selected_line(s)
            .is_some_and(|l| l.contains("payments-prod") && l.contains("ReadOnlyAccess"))
    });
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for_text("KEY=ASIA");
    assert!(
        !screen.contains("export AWS_"),
        "the exports went to the shell, not the screen:\n{screen}"
    );
    // The credentials were those of the role picked, and the pick is remembered.
    let cache =
        portico::cache::rolecreds::RoleCredsCache::under(&env.home.path().join(".cache/portico"));
    assert!(cache
        .load(
            "emu",
            "111122223333",
            "ReadOnlyAccess",
            time::OffsetDateTime::now_utc()
        )
        .is_some());
    let memory =
        std::fs::read_to_string(env.home.path().join(".cache/portico/portal.json")).unwrap();
    assert!(
        memory.contains("ReadOnlyAccess") && memory.contains("\"lastSession\": \"emu\""),
        "{memory}"
    );
}

#[test]
fn ctrl_c_mid_screen_leaves_the_terminal_as_it_was() {
    let env = test_env();
    env.login();
    let tmux = bash_pane(&env);
    tmux.run(concat!(
        r#"out="$(portico)"; echo "EXIT=$? OUT=${#out}"; "#,
        r#"printf 'STTY:%s\n' "$(stty -a | tr ' ;' '\n\n' | grep -Ex -- '-?(icanon|echo)' | sort | tr '\n' ,)""#
    ));
    tmux.wait_for_text(ROLES);
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "1",
        "the portal draws on the alternate screen"
    );
    tmux.type_text("sand");
    tmux.wait_for("the filtered list", |s| {
        s.contains("of 6 roles") && selected_line(s).is_some_and(|l| l.contains("sandbox"))
    });
    tmux.keys(&["C-c"]);
    let screen = tmux.wait_for("the stty line", |s| {
        s.lines().any(|l| l.starts_with("STTY:"))
    });
    assert!(
        screen.contains("EXIT=130 OUT=0"),
        "quiet exit 130, nothing on stdout:\n{screen}"
    );
    assert!(
        screen.contains("STTY:echo,icanon,"),
        "raw mode was left:\n{screen}"
    );
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "0",
        "back on the main screen"
    );
    assert_eq!(tmux.display("#{cursor_flag}"), "1", "the cursor is shown");
    // The prompt is back, below the command's output.
    tmux.wait_for("the prompt", |s| s.trim_end().ends_with('$'));
}

#[test]
fn the_action_keys_copy_open_the_console_save_a_profile_start_a_shell_and_log_out() {
    let env = test_env();
    env.login();
    let tmux = bash_pane(&env);
    // Let OSC 52 from the pane fill tmux's paste buffer, where the test can read it.
    let out = tmux
        .tmux()
        .args(["set-option", "-g", "set-clipboard", "on"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let buffer = || text(&tmux.tmux().arg("show-buffer").output().unwrap().stdout);
    tmux.run(r#"portico; echo "EXIT=$?""#);
    tmux.wait_for_text(ROLES);
    tmux.type_text("platform");
    tmux.wait_for("platform-dev selected", |s| {
        selected_line(s).is_some_and(|l| l.contains("platform-dev"))
    });
    tmux.keys(&["Tab", "c"]);
    // No clipboard program here: OSC 52, which is not claimed to have worked, and the exports
    // on screen to select by hand.
    let screen = tmux.wait_for_text("with OSC 52; your terminal may not support it");
    assert!(
        screen.contains("export AWS_ACCESS_KEY_ID=ASIA"),
        "the exports are shown:\n{screen}"
    );
    assert!(
        buffer().contains("export AWS_ACCESS_KEY_ID=ASIA"),
        "{}",
        buffer()
    );
    tmux.keys(&["Escape"]);
    tmux.wait_for("the list again", |s| {
        selected_line(s).is_some_and(|l| l.contains("platform-dev"))
    });

    // No browser here: the console link goes to the clipboard, and on screen.
    tmux.keys(&["o"]);
    let screen = tmux.wait_for_text("console link");
    let start = format!("{}/federation?Action=login", env.emu.url());
    // tmux files what OSC 52 carried as a buffer of its own, in its own time: wait for it.
    let link = common::wait_until(LIMIT, || Some(buffer()).filter(|b| b.starts_with(&start)));
    assert!(link.is_some(), "the clipboard holds the link: {}", buffer());
    assert!(screen.contains(&start), "the link is shown:\n{screen}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("the list again", |s| {
        selected_line(s).is_some_and(|l| l.contains("platform-dev"))
    });

    tmux.keys(&["p"]);
    tmux.wait_for_text("platform-dev-PowerUserAccess");
    tmux.keys(&["Enter"]);
    tmux.wait_for_text("added [profile platform-dev-PowerUserAccess]");
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    assert!(
        config.ends_with(
            "[profile platform-dev-PowerUserAccess]\nsso_session = emu\n\
             sso_account_id = 222233334444\nsso_role_name = PowerUserAccess\n"
        ),
        "{config}"
    );

    tmux.keys(&["s"]);
    tmux.wait_for_text("Type `exit` to return to the portal");
    tmux.wait_for("the subshell's prompt", |s| {
        s.trim_end().ends_with(['$', '#'])
    });
    tmux.run(r#"echo "SUB=$PORTICO_SUBSHELL KEY=${AWS_ACCESS_KEY_ID:0:4}"; exit"#);
    // Back in the portal, which says so.
    tmux.wait_for_text("back from the shell");
    assert_eq!(tmux.display("#{alternate_on}"), "1");

    tmux.keys(&["L"]);
    tmux.wait_for_text("Signed out");
    assert!(env.token().is_none(), "the token is deleted");
    // A deliberate quit is not a failure: exit 0 (Ctrl-C is 130).
    tmux.keys(&["q"]);
    let screen = tmux.wait_for_text("EXIT=0");
    // The subshell's output stayed on the main screen.
    assert!(
        screen.contains("SUB=platform-dev/PowerUserAccess KEY=ASIA"),
        "{screen}"
    );
}

#[test]
fn signs_in_inside_the_portal_and_esc_cancels_a_sign_in() {
    let env = test_env();
    let tmux = bash_pane(&env);
    tmux.run(r#"portico; echo "EXIT=$?""#);
    // No browser in this environment: the device code, with the code and the QR code.
    tmux.wait_for_text("enter the code");
    let first = env.wait_for_user_code();
    tmux.keys(&["Escape"]);
    tmux.wait_for_text("Sign-in cancelled");
    tmux.keys(&["Enter"]);
    tmux.wait_for_text("enter the code");
    let second = common::wait_until(LIMIT, || {
        env.emu
            .pending_user_codes()
            .into_iter()
            .find(|c| *c != first)
    })
    .expect("a second device code");
    env.emu.approve(&second).unwrap();
    let screen = tmux.wait_for_text(ROLES);
    assert!(
        screen.contains("left"),
        "the header shows the token expiry:\n{screen}"
    );
    assert!(
        env.token().is_some(),
        "the token is cached for the AWS CLI too"
    );
    tmux.keys(&["C-c"]);
    tmux.wait_for_text("EXIT=130");
}

#[test]
fn the_init_function_applies_credentials_in_bash_and_leaves_the_shell_alone_on_quit() {
    let env = test_env();
    env.login();
    let tmux = bash_pane(&env);
    tmux.run(r#"eval "$(portico init bash)"; pt; echo "RC=$? KEY=$AWS_ACCESS_KEY_ID""#);
    tmux.wait_for_text(ROLES);
    tmux.keys(&["Enter"]);
    tmux.wait_for_text("RC=0 KEY=ASIA");
    tmux.run(r#"unset AWS_ACCESS_KEY_ID; pt; echo "RC=$? KEY=${AWS_ACCESS_KEY_ID:-none}""#);
    tmux.wait_for_text("★");
    // Esc quits: exit 0, nothing printed, so the function applies nothing.
    tmux.keys(&["Escape"]);
    tmux.wait_for_text("RC=0 KEY=none");
}

#[test]
fn the_init_function_applies_credentials_in_fish() {
    if Command::new("fish").arg("--version").output().is_err() {
        eprintln!("fish is not installed; skipping (tests/run.sh installs it)");
        return;
    }
    let env = test_env();
    env.login();
    let mut rc = format!("set -e {UNSET}\nset -gx SHELL /usr/bin/fish\n");
    for (name, value) in world_vars(&env) {
        rc.push_str(&format!("set -gx {name} '{value}'\n"));
    }
    rc.push_str(&format!("set -gx PATH '{}' $PATH\n", bin_dir().display()));
    rc.push_str("function fish_prompt; echo -n '$ '; end\nfunction fish_greeting; end\n");
    let path = env.home.path().join("config.fish");
    std::fs::write(&path, rc).unwrap();
    let tmux = Tmux::start(&format!("fish --no-config -C 'source {}'", path.display()));
    tmux.wait_for("the fish prompt", |s| s.trim_end().ends_with('$'));
    tmux.run(r#"portico init fish | source; pt; echo "RC=$status KEY=$AWS_ACCESS_KEY_ID""#);
    tmux.wait_for_text(ROLES);
    tmux.type_text("logging");
    tmux.wait_for_text("1 of 6 roles");
    tmux.keys(&["Enter"]);
    tmux.wait_for_text("RC=0 KEY=ASIA");
}

#[test]
fn without_a_terminal_the_portal_names_the_commands_for_scripts() {
    let env = test_env();
    let out = env.portico().output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("needs a terminal")
            && err.contains("portico list")
            && err.contains("portico credentials"),
        "{err}"
    );
}

/// The demo's world is gone once the demo has ended: the emulator named on `screen` (the
/// demo's first lines) refuses connections, the throw-away directory under the test's TMPDIR is
/// deleted, and the test's own HOME was not touched.
fn assert_demo_left_nothing(env: &TestEnv, screen: &str, config_before: &[u8]) {
    let url = screen
        .lines()
        .find_map(|l| l.split(" at http://").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("the demo names the emulator's address:\n{screen}"));
    assert!(
        std::net::TcpStream::connect(url).is_err(),
        "the emulator at {url} still answers"
    );
    let tmp = env.home.path().join("tmp");
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "{} is not empty",
        tmp.display()
    );
    assert_eq!(std::fs::read(env.config_path()).unwrap(), config_before);
    assert!(!env.home.path().join(".aws/sso").exists());
    assert!(!env.home.path().join(".cache").exists());
}

/// The rows of the demo's saml-session on the screen.
fn saml_rows(screen: &str) -> Vec<&str> {
    screen
        .lines()
        .filter(|l| l.contains("SAML demo-saml"))
        .collect()
}

/// The demo opens the portal on both kinds of role: the sso-session's 40 accounts × 3 roles
/// and the saml-session's 5 IAM roles; `v` shows each source alone and then both again; after
/// Ctrl-C nothing is left.
#[test]
fn the_demo_opens_the_portal_and_cleans_up() {
    let emulator = bin_dir().join("idc-emulator");
    assert!(
        emulator.is_file(),
        "{} is missing: build it with `cargo build --workspace` (tests/run.sh does)",
        emulator.display()
    );
    let env = test_env();
    let config_before = std::fs::read(env.config_path()).unwrap();
    let tmux = bash_pane(&env);
    tmux.run(r#"portico demo; echo "EXIT=$?""#);
    // 40 accounts × 3 roles, signed in and listed, and the 5 SAML roles beside them (listed
    // after a sign-in through the stand-in browser).
    tmux.wait_for_within("the demo's list", Duration::from_secs(60), |s| {
        s.contains("125 roles") && s.contains("demo")
    });
    tmux.keys(&["Tab", "v"]);
    tmux.wait_for("the sso-session's roles alone", |s| {
        s.contains("120 roles") && s.contains("showing the roles of sso-session demo")
    });
    tmux.keys(&["v"]);
    // The pane is read whole once the frame is: the count, the status line and the 5 rows.
    let screen = tmux.wait_for("the saml-session's roles alone", |s| {
        s.contains(" 5 roles")
            && s.contains("showing the roles of saml-session demo-saml")
            && saml_rows(s).len() == 5
    });
    let rows = saml_rows(&screen);
    for name in ["Admin", "ReadOnly", "Developer", "Billing", "Operator"] {
        assert!(
            rows.iter().any(|r| r.trim_end().ends_with(name)),
            "{name}:\n{screen}"
        );
    }
    tmux.keys(&["v"]);
    tmux.wait_for_text("125 roles");
    tmux.keys(&["C-c"]);
    let after = tmux.wait_for_text("EXIT=130");
    assert_demo_left_nothing(&env, &after, &config_before);
}

/// In the demo's shell, the portal's ⏎ on a SAML row signs in through the stand-in browser
/// and hands the shell keys that STS GetCallerIdentity, at the emulator, says are that role's
/// (boto3 asks, through the AWS_ENDPOINT_URL_STS the demo sets). Leaving the shell ends the
/// demo, and nothing is left.
#[test]
fn enter_on_a_demo_saml_row_gives_keys_sts_names_as_that_role() {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyenv/bin/python");
    assert!(python.exists(), "run tests/python-env.sh first");
    let env = test_env();
    let config_before = std::fs::read(env.config_path()).unwrap();
    let tmux = bash_pane(&env);
    tmux.run(r#"portico demo --accounts 5 -- env PS1='demo$ ' bash --noprofile --norc -i; echo "EXIT=$?""#);
    tmux.wait_for_within("the demo's shell", Duration::from_secs(60), |s| {
        s.trim_end().ends_with("demo$")
    });
    tmux.run(r#"eval "$(portico)"; echo "KEY=$AWS_ACCESS_KEY_ID""#);
    // 5 accounts × 3 roles and the 5 SAML roles.
    tmux.wait_for_text(" 20 roles");
    tmux.keys(&["Tab", "v", "v"]);
    tmux.wait_for_text("showing the roles of saml-session demo-saml");
    tmux.keys(&["/"]);
    tmux.type_text("developer");
    let screen = tmux.wait_for("the SAML Developer role selected", |s| {
        selected_line(s).is_some_and(|l| l.contains("SAML demo-saml") && l.contains("Developer"))
    });
    let account = selected_line(&screen)
        .unwrap()
        .split_whitespace()
        .find(|w| w.len() == 12 && w.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("an account ID on the selected line:\n{screen}"))
        .to_string();
    tmux.keys(&["Enter"]);
    tmux.wait_for_text("KEY=ASIA");
    tmux.run(&format!(
        "'{}' -c \"import boto3; print('CALLER=' + boto3.client('sts').get_caller_identity()['Arn'])\"",
        python.display()
    ));
    let screen = tmux.wait_for("GetCallerIdentity's answer", |s| {
        s.lines().any(|l| l.starts_with("CALLER="))
    });
    let caller = screen
        .lines()
        .find_map(|l| l.strip_prefix("CALLER="))
        .unwrap()
        .trim();
    assert!(
        caller.starts_with(&format!("arn:aws:sts::{account}:assumed-role/Developer/")),
        "GetCallerIdentity names {caller}:\n{screen}"
    );
    tmux.run("exit");
    let after = tmux.wait_for_text("EXIT=0");
    assert_demo_left_nothing(&env, &after, &config_before);
}

/// `--saml-only`: the portal as a user with no Identity Center sees it, on the SAML roles at
/// once (no sso-session, so no first-run form asking for a start URL); `q` leaves it clean.
#[test]
fn the_saml_only_demo_opens_on_saml_rows() {
    let env = test_env();
    let config_before = std::fs::read(env.config_path()).unwrap();
    let tmux = bash_pane(&env);
    tmux.run(r#"portico demo --saml-only; echo "EXIT=$?""#);
    let screen = tmux.wait_for_within("the SAML roles", Duration::from_secs(60), |s| {
        s.contains(" 5 roles") && saml_rows(s).len() == 5
    });
    // No sso-session: the title names none (the demo's is `demo (d-0000000000, …)`).
    assert!(!screen.contains("sso-session"), "{screen}");
    assert!(!screen.contains("(d-0000000000"), "{screen}");
    assert!(!screen.to_lowercase().contains("start url"), "{screen}");
    tmux.keys(&["Tab", "q"]);
    let after = tmux.wait_for_text("EXIT=0");
    assert_demo_left_nothing(&env, &after, &config_before);
}

#[test]
fn a_refresh_that_waits_for_the_lock_says_so_on_the_status_line_not_over_the_screen() {
    let env = test_env();
    env.login();
    let tmux = bash_pane(&env);
    tmux.run(r#"portico; echo "EXIT=$?""#);
    tmux.wait_for_text(ROLES);
    // The token nears its end, so the next listing refreshes it first, and another portico
    // process holds the session's lock.
    let mut token = env.token().unwrap();
    let soon = time::OffsetDateTime::now_utc() + time::Duration::minutes(5);
    token["expiresAt"] = portico::cache::token::format_time(soon).into();
    std::fs::write(env.token_path(), serde_json::to_vec(&token).unwrap()).unwrap();
    let locks = env.home.path().join(".cache/portico/locks");
    let lock = portico::cache::lock::acquire(&locks, "emu", || panic!("nobody holds it")).unwrap();

    tmux.keys(&["Tab", "r"]);
    let screen = tmux.wait_for("the wait on the status line", |s| {
        s.lines()
            .any(|l| l.starts_with(" • ") && l.contains("waiting for it"))
    });
    assert!(
        !screen.contains("portico: "),
        "a line was printed over the screen:\n{screen}"
    );
    drop(lock);
    common::wait_until(Duration::from_secs(10), || {
        (env.stat("CreateToken:refresh_token") == 1).then_some(())
    })
    .expect("the refresh went ahead once the lock was free");
    tmux.wait_for(ROLES, |s| s.contains(ROLES) && !s.contains("portico: "));
    tmux.keys(&["q"]);
    tmux.wait_for_text("EXIT=0");
}

#[test]
fn a_clipboard_program_gets_the_text_on_stdin_and_the_text_is_shown_too() {
    let env = test_env();
    env.login();
    // A stand-in `xclip` that records its arguments and what it reads, then leaves a child
    // behind as the real one does (which must not hold the portal's stdout open).
    let bin = env.home.path().join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let record = env.home.path().join("clipboard");
    let script = bin.join("xclip");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{0}.args'\ncat > '{0}.tmp' && mv '{0}.tmp' '{0}'\nsleep 20 &\nexit 0\n",
            record.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let tmux = bash_pane(&env);
    let out = tmux
        .tmux()
        .args(["set-option", "-g", "set-clipboard", "on"])
        .output()
        .unwrap();
    assert!(out.status.success());
    tmux.run(&format!(
        "export DISPLAY=:99 PATH='{}':\"$PATH\"",
        bin.display()
    ));
    tmux.run(r#"out="$(portico)"; echo "EXIT=$? OUT=${#out}""#);
    tmux.wait_for_text(ROLES);
    tmux.type_text("platform");
    tmux.wait_for("platform-dev selected", |s| {
        selected_line(s).is_some_and(|l| l.contains("platform-dev"))
    });
    tmux.keys(&["Tab", "c"]);
    let screen = tmux.wait_for_text("with xclip");
    assert!(
        screen.contains(
            "copied the exports for PowerUserAccess in platform-dev to the clipboard with xclip"
        ),
        "{screen}"
    );
    assert!(screen.contains("export AWS_ACCESS_KEY_ID=ASIA"), "{screen}");
    // The stand-in renames its record into place after reading stdin to the end, which may
    // come just after the portal said "copied": wait for it.
    let copied = common::wait_until(LIMIT, || std::fs::read_to_string(&record).ok())
        .expect("the clipboard program recorded what it read");
    let args = common::wait_until(LIMIT, || {
        std::fs::read_to_string(record.with_extension("args")).ok()
    })
    .expect("the clipboard program recorded its arguments");
    assert!(
        copied.contains("export AWS_ACCESS_KEY_ID=ASIA")
            && copied.contains("export AWS_SECRET_ACCESS_KEY=")
            && copied.contains("export AWS_SESSION_TOKEN="),
        "{copied}"
    );
    // The secrets went through stdin, never the command line.
    assert_eq!(args, "-selection\nclipboard\n-in\n");
    // The program worked, so nothing was sent with OSC 52 (tmux would have a buffer).
    let buffers = tmux.tmux().arg("list-buffers").output().unwrap();
    assert!(buffers.stdout.is_empty(), "{}", text(&buffers.stdout));
    // While the text is shown the mouse is the terminal's, so a plain drag selects it.
    assert_eq!(tmux.display("#{mouse_any_flag}"), "0");

    tmux.keys(&["Escape"]);
    tmux.wait_for("the list again", |s| {
        selected_line(s).is_some_and(|l| l.contains("platform-dev"))
    });
    assert_eq!(
        tmux.display("#{mouse_any_flag}"),
        "1",
        "the wheel scrolls the list again"
    );
    tmux.keys(&["o"]);
    tmux.wait_for_text("console link");
    common::wait_until(LIMIT, || {
        std::fs::read_to_string(&record)
            .ok()
            .filter(|c| c.starts_with(&format!("{}/federation?Action=login", env.emu.url())))
    })
    .expect("the console link reached the clipboard program");
    tmux.keys(&["Escape"]);
    // (q right after Escape would arrive as Alt+q.)
    tmux.wait_for("the list again", |s| {
        selected_line(s).is_some_and(|l| l.contains("platform-dev"))
    });
    tmux.keys(&["q"]);
    // The child the program left does not keep `$(portico)` waiting; nothing was printed.
    tmux.wait_for_text("EXIT=0 OUT=0");
}

/// Every file portico makes is 0600 whatever the umask, so `doctor` passes after everyday use:
/// sign-in, credentials, list and the portal, all under the usual umask 022, in a fresh HOME.
#[test]
fn doctor_passes_after_login_credentials_list_and_the_portal_under_umask_022() {
    let env = test_env();
    let tmux = bash_pane(&env);
    tmux.run("umask 022; portico login --device-code; echo \"LOGIN=$?\"");
    let code = env.wait_for_user_code();
    env.emu.approve(&code).unwrap();
    tmux.wait_for_text("LOGIN=0");
    tmux.run(
        "clear; portico credentials --profile dev >/dev/null && portico list >/dev/null; echo \"USED=$?\"",
    );
    tmux.wait_for_text("USED=0");
    tmux.run(r#"eval "$(portico)"; echo "KEY=${AWS_ACCESS_KEY_ID:0:4}""#);
    tmux.wait_for_text(ROLES);
    tmux.type_text("platform");
    tmux.wait_for("platform-dev selected", |s| {
        selected_line(s).is_some_and(|l| l.contains("platform-dev"))
    });
    tmux.keys(&["Enter"]);
    tmux.wait_for_text("KEY=ASIA");
    tmux.run("clear; portico doctor | grep -v '^✓'; echo \"DOCTOR=${PIPESTATUS[0]}\"");
    let screen = tmux.wait_for_within("doctor", Duration::from_secs(30), |s| {
        s.lines().any(|l| l.starts_with("DOCTOR="))
    });
    assert!(screen.contains("DOCTOR=0"), "{screen}");
}

/// `--browser` in the portal: the sign-in screen names the browser it asked, and `o` opens the
/// role's console in a Firefox container named after the role.
#[test]
fn the_portal_names_the_chosen_browser_and_opens_each_console_in_its_own_container() {
    let env = test_env();
    env.emu.set_auto_approve(true);
    let bin = env.home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let python = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .unwrap();
    let firefox = bin.join("firefox");
    std::fs::write(
        &firefox,
        format!(
            "#!/bin/sh\nFAKE_BROWSER_NAME=firefox exec '{}' '{}' \"$@\"\n",
            text(&python.stdout).trim(),
            common::support("fake-named-browser.py").display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&firefox, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let log = env.home.path().join("argv.jsonl");
    let tmux = bash_pane(&env);
    tmux.run(&format!(
        "export DISPLAY=:0 PATH='{}':\"$PATH\" FAKE_BROWSER_ARGV='{}'",
        bin.display(),
        log.display()
    ));
    // The person does not sign in yet: the screen says which browser was asked.
    tmux.run(r#"FAKE_BROWSER_MODE=ignore portico --browser firefox:work; echo "EXIT=$?""#);
    tmux.wait_for_text("Asked Firefox with profile \"work\" (--browser) to open:");
    tmux.keys(&["Escape"]);
    tmux.wait_for_text("Sign-in cancelled");
    tmux.keys(&["q"]);
    tmux.wait_for_text("EXIT=");

    tmux.run(r#"portico --browser firefox-container; echo "EXIT=$?""#);
    tmux.wait_for_text(ROLES);
    tmux.type_text("platform");
    tmux.wait_for("platform-dev selected", |s| {
        selected_line(s).is_some_and(|l| l.contains("platform-dev"))
    });
    tmux.keys(&["Tab", "o"]);
    tmux.wait_for_text("to open the console");
    // Browsers are started, not waited for: their lines come when they come, and the first
    // run's ignored sign-in may write after the second run's. So each run is found by what it
    // was asked to open, not by its place in the log.
    let last_arg = |run: &serde_json::Value| {
        run["args"]
            .as_array()
            .and_then(|args| args.last())
            .and_then(|arg| arg.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let runs: Vec<String> = common::wait_until(LIMIT, || {
        let body = std::fs::read_to_string(&log).ok()?;
        let args: Vec<String> = body
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|run| last_arg(&run))
            .collect();
        let signed_in = args
            .iter()
            .any(|a| a.starts_with("ext+container:name=emu&url=http"));
        let console = args.iter().any(|a| a.contains("PowerUserAccess&url="));
        (signed_in && console).then_some(args)
    })
    .expect("the sign-in and the console, each opened in its container");
    // The sign-in went to a container named after the session, the console to the role's.
    assert!(
        runs.iter()
            .any(|a| a.starts_with("ext+container:name=222233334444-PowerUserAccess&url=http")),
        "{runs:?}"
    );
    // A deliberate quit is not a failure: exit 0 (the second EXIT=0 on the screen).
    tmux.keys(&["q"]);
    tmux.wait_for("a second \"EXIT=0\"", |s| s.matches("EXIT=0").count() == 2);
}

/// A saml-session's IAM roles are listed beside the sso-session's, marked `SAML corp`: the
/// portal signs in through the (stand-in) browser for them without writing over its screen,
/// and ⏎ on one exports keys STS gave for that role.
#[test]
fn saml_roles_are_listed_beside_identity_center_roles_and_enter_exports_one() {
    let mut dir = directory();
    dir.generate_saml_roles(2);
    let env = TestEnv::new(Config {
        directory: dir,
        ..Config::default()
    });
    env.login();
    // The IdP's sign-in page approves at once, as Entra's session makes it silent.
    env.emu.set_auto_approve(true);
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&format!(
        "{config}\n[saml-session corp]\nidp_url = {}\n",
        env.emu.saml_idp_url()
    ));
    let tmux = bash_pane_with(
        &env,
        vec![
            ("BROWSER", common::stand_in_browser()),
            ("AWS_ENDPOINT_URL_STS", env.emu.url()),
        ],
    );
    tmux.run(r#"eval "$(portico)"; echo "KEY=$AWS_ACCESS_KEY_ID""#);
    let screen = tmux.wait_for_text("8 roles");
    assert!(screen.contains("SAML corp"), "{screen}");
    assert!(
        !screen.contains("portico:"),
        "nothing is written over the screen:\n{screen}"
    );
    assert_eq!(env.stat("SamlSignIn"), 1);
    // Admin: its MaxSessionDuration admits the SessionDuration asked for (one STS call).
    tmux.type_text("saml admin");
    tmux.wait_for("the SAML Admin role selected", |s| {
        selected_line(s).is_some_and(|l| {
            l.contains("SAML corp") && l.contains("111122223333") && l.contains("Admin")
        })
    });
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for_text("KEY=ASIA");
    assert!(!screen.contains("export AWS_"), "{screen}");
    // One sign-in served the list and the keys: STS took the kept assertion.
    assert_eq!(env.stat("SamlSignIn"), 1);
    assert_eq!(env.stat("AssumeRoleWithSAML"), 1);
}

/// With saml-sessions only (no Identity Center at all), the portal lists their roles and ⏎
/// exports one.
#[test]
fn with_saml_sessions_only_the_portal_lists_their_roles() {
    let mut dir = directory();
    dir.generate_saml_roles(2);
    let env = TestEnv::new(Config {
        directory: dir,
        auto_approve: true,
        ..Config::default()
    });
    env.write_config(&format!(
        "[saml-session corp]\nidp_url = {}\n",
        env.emu.saml_idp_url()
    ));
    let tmux = bash_pane_with(
        &env,
        vec![
            ("BROWSER", common::stand_in_browser()),
            ("AWS_ENDPOINT_URL_STS", env.emu.url()),
        ],
    );
    tmux.run(r#"eval "$(portico)"; echo "KEY=$AWS_ACCESS_KEY_ID""#);
    tmux.wait_for_text("2 roles");
    tmux.type_text("admin");
    tmux.wait_for("the SAML Admin role selected", |s| {
        selected_line(s).is_some_and(|l| l.contains("SAML corp") && l.contains("Admin"))
    });
    tmux.keys(&["Enter"]);
    tmux.wait_for_text("KEY=ASIA");
    assert_eq!(env.stat("SamlSignIn"), 1);
    assert_eq!(env.stat("AssumeRoleWithSAML"), 1);
}

/// A signal that finds the portal's loop stuck on a lock it cannot stop waiting for (here the
/// config file's, held by another portico writing it, while `p` saves a profile) still ends
/// the portal: its signal thread restores the terminal and the edge exits 130.
#[cfg(unix)]
#[test]
fn a_signal_while_the_loop_waits_for_a_lock_restores_the_terminal_and_exits_130() {
    let env = test_env();
    env.login();
    let tmux = bash_pane(&env);
    tmux.run(r#"portico; echo "EXIT=$?""#);
    tmux.wait_for_text(ROLES);
    let locks = env.home.path().join(".cache/portico/locks");
    let config = env.config_path();
    let _lock = portico::cache::lock::acquire(&locks, &config.to_string_lossy(), || {
        panic!("nobody holds it")
    })
    .unwrap();
    tmux.type_text("platform");
    tmux.wait_for("platform-dev selected", |s| {
        selected_line(s).is_some_and(|l| l.contains("platform-dev"))
    });
    tmux.keys(&["Tab", "p"]);
    tmux.wait_for_text("platform-dev-PowerUserAccess");
    tmux.keys(&["Enter"]);
    // The portal (the shell's child) waits for the lock: /proc/locks lists its blocked flock.
    let shell = tmux.display("#{pane_pid}");
    let portico = common::wait_until(LIMIT, || {
        let out = Command::new("pgrep")
            .args(["-P", &shell, "-x", "portico"])
            .output()
            .ok()?;
        text(&out.stdout)
            .split_whitespace()
            .next()
            .map(String::from)
    })
    .expect("the portal runs in the pane");
    common::wait_until(LIMIT, || {
        let locks = std::fs::read_to_string("/proc/locks").ok()?;
        locks
            .lines()
            .any(|l| l.contains("->") && l.split_whitespace().any(|w| w == portico.as_str()))
            .then_some(())
    })
    .expect("the portal waits for the config file's lock");
    let killed = Command::new("kill")
        .args(["-TERM", &portico])
        .status()
        .unwrap();
    assert!(killed.success());
    tmux.wait_for_text("EXIT=130");
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "0",
        "the screen is restored"
    );
}

/// A signed-in emulator whose roles can be chained once, a config with the Identity Center
/// profile `hub` (platform-dev's PowerUserAccess), the chained profile `deploy` on it and
/// `more`, and a bash pane whose STS is the emulator.
fn chained_pane(more: &str) -> (TestEnv, Tmux) {
    let env = TestEnv::new(Config {
        directory: directory(),
        chain_roles: 1,
        ..Config::default()
    });
    env.login();
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&format!(
        "{config}\n[profile hub]\nsso_session = emu\nsso_account_id = 222233334444\nsso_role_name = PowerUserAccess\n\
         \n[profile deploy]\nrole_arn = arn:aws:iam::444455556666:role/ChainRole1\nsource_profile = hub\n\
         \n{more}"
    ));
    let tmux = bash_pane_with(&env, vec![("AWS_ENDPOINT_URL_STS", env.emu.url())]);
    (env, tmux)
}

/// Chained profiles (issue 21) are rows of the list beside their source's row, marked
/// `PROFILE via SOURCE`; the filter finds them by the `via` name; ⏎ exports keys of the
/// chained role (one AssumeRole); and a row whose source's sign-in is missing names that
/// sign-in and how to make it, starting none.
#[test]
fn chained_profiles_are_rows_via_their_source_and_a_signed_out_source_is_named() {
    let (env, tmux) = chained_pane(
        "[sso-session other]\nsso_start_url = https://d-9999999999.awsapps.com/start\nsso_region = eu-west-1\n\
         \n[profile elsewhere]\nsso_session = other\nsso_account_id = 333344445555\nsso_role_name = Billing\n\
         \n[profile offside]\nrole_arn = arn:aws:iam::333344445555:role/ChainRole1\nsource_profile = elsewhere\n",
    );
    tmux.run(r#"eval "$(portico --sso-session emu)"; echo "KEY=$AWS_ACCESS_KEY_ID""#);
    // Six Identity Center roles and two chained profiles, every account's roles listed; the
    // chained row beside its source: right after platform-dev's PowerUserAccess row.
    let beside = |s: &str| {
        let lines: Vec<&str> = s.lines().collect();
        lines.windows(2).any(|w| {
            w[0].contains("platform-dev")
                && w[0].contains("PowerUserAccess")
                && w[1].contains("deploy via hub")
                && w[1].contains("444455556666")
                && w[1].contains("ChainRole1")
        })
    };
    tmux.wait_for("the chained row after its source's row", |s| {
        s.contains("8 roles") && !s.contains("roles loading") && beside(s)
    });

    // The source of `offside` is sso-session other, never signed in: ⏎ names that sign-in.
    tmux.type_text("via elsewhere");
    tmux.wait_for("offside selected", |s| {
        selected_line(s).is_some_and(|l| l.contains("offside via elsewhere"))
    });
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for_text("needs the sign-in of sso-session other");
    assert!(
        selected_line(&screen).is_some_and(|l| l.contains("offside via elsewhere")),
        "the list stays, no sign-in screen:\n{screen}"
    );
    assert_eq!(env.stat("AssumeRole"), 0, "no keys without the sign-in");

    // The filter finds the chained row by its source's name; c, o and p work on it, then
    // ⏎ exports its keys: one AssumeRole for them all (the AWS CLI's cache).
    tmux.keys(&["C-u"]);
    tmux.type_text("via hub");
    let deploy = |s: &str| selected_line(s).is_some_and(|l| l.contains("deploy via hub"));
    tmux.wait_for("deploy selected", |s| {
        deploy(s) && s.contains("1 of 8 roles")
    });
    tmux.keys(&["Tab", "c"]);
    tmux.wait_for_text("export AWS_ACCESS_KEY_ID=ASIA");
    tmux.keys(&["Escape"]);
    tmux.wait_for("the list again", deploy);
    tmux.keys(&["o"]);
    let screen = tmux.wait_for_text("console link");
    let start = format!("{}/federation?Action=login", env.emu.url());
    assert!(screen.contains(&start), "the link is shown:\n{screen}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("the list again", deploy);
    tmux.keys(&["p"]);
    tmux.wait_for_text("this row is [profile deploy]");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for_text("KEY=ASIA");
    assert!(!screen.contains("export AWS_"), "{screen}");
    assert_eq!(env.stat("AssumeRole"), 1);
}

/// A chained row whose source is the open sso-session, signed out by another process while
/// the portal is up: ⏎ names that sign-in and turns to the signed-out screen, where ⏎ signs
/// in (and nothing else does). A chained row with `mfa_serial` is not fetched under the TUI
/// (no prompt on /dev/tty under raw mode): the status line says how to give the code.
#[test]
fn a_chained_row_names_the_open_sessions_sign_in_and_an_mfa_row_says_how_to_give_a_code() {
    let (env, tmux) = chained_pane(
        "[profile guarded]\nrole_arn = arn:aws:iam::333344445555:role/ChainRole1\nsource_profile = hub\n\
         mfa_serial = arn:aws:iam::222233334444:mfa/alice\n",
    );
    tmux.run(r#"portico --sso-session emu; echo "EXIT=$?""#);
    tmux.wait_for_text("8 roles");

    tmux.type_text("guarded");
    tmux.wait_for("guarded selected", |s| {
        selected_line(s).is_some_and(|l| l.contains("guarded via hub"))
    });
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for_text("asks for an MFA code");
    assert!(!screen.contains("Enter MFA code"), "no prompt:\n{screen}");
    assert_eq!(env.stat("AssumeRole"), 0);

    // `s`: a subshell with the chained role's keys.
    tmux.keys(&["C-u"]);
    tmux.type_text("deploy via hub");
    let deploy = |s: &str| selected_line(s).is_some_and(|l| l.contains("deploy via hub"));
    tmux.wait_for("deploy selected", deploy);
    tmux.keys(&["Tab", "s"]);
    tmux.wait_for_text("Type `exit` to return to the portal");
    tmux.wait_for("the subshell's prompt", |s| {
        s.trim_end().ends_with(['$', '#'])
    });
    tmux.run(r#"echo "SUB=$PORTICO_SUBSHELL KEY=${AWS_ACCESS_KEY_ID:0:4}"; exit"#);
    tmux.wait_for_text("back from the shell");
    tmux.wait_for("the list again", deploy);
    assert_eq!(env.stat("AssumeRole"), 1);

    // Signed out by another process: ⏎ names the sign-in.
    let out = env
        .portico()
        .args(["logout", "--sso-session", "emu"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for_text("needs the sign-in of sso-session emu");
    assert!(screen.contains("Signed out"), "{screen}");
    assert_eq!(
        env.stat("AssumeRole"),
        1,
        "the cached keys were not handed out"
    );
    tmux.keys(&["q"]);
    let screen = tmux.wait_for_text("EXIT=0");
    assert!(
        screen.contains("SUB=deploy via hub/ChainRole1 KEY=ASIA"),
        "the subshell had the chained role's keys:\n{screen}"
    );
}
