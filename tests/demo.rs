//! `portico demo` without a terminal: `portico demo -- COMMAND` runs a command in the demo world,
//! which makes the world itself testable: it is signed in and has profiles, its saml-session
//! signs in through the emulator's stand-in browser, it lives in a throw-away directory under
//! TMPDIR, and nothing of the user's own HOME, config or cache is read or written — even when
//! AWS_CONFIG_FILE and XDG_CACHE_HOME point there. The portal in the demo is driven in
//! tests/tui_e2e.rs.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::text;

#[test]
fn the_demo_world_is_signed_in_isolated_and_deleted_afterwards() {
    let portico = Path::new(env!("CARGO_BIN_EXE_portico"));
    let emulator = portico.parent().unwrap().join("idc-emulator");
    assert!(
        emulator.is_file(),
        "{} is missing: build it with `cargo build --workspace` (tests/run.sh does)",
        emulator.display()
    );
    let user = tempfile::tempdir().unwrap();
    let home = user.path().join("home");
    let tmp = user.path().join("tmp");
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::create_dir_all(&tmp).unwrap();
    let config = "[profile mine]\nregion = eu-west-1\n";
    std::fs::write(home.join(".aws/config"), config).unwrap();

    // The Identity Center user's commands, then the SAML user's (the README's): list, keys,
    // profiles sync, and boto3 running a synced profile's credential_process, whose keys STS
    // GetCallerIdentity (at the emulator, through AWS_ENDPOINT_URL_STS) names.
    let script = r#"
        echo "HOME=$HOME"
        echo "URL=$AWS_ENDPOINT_URL_SSO"
        portico list --json | grep -c '"accountId"'
        p=$(sed -n 's/^\[profile \(.*\)\]$/\1/p' "$AWS_CONFIG_FILE" | head -n 1)
        portico credentials --profile "$p" --format env | grep '^export AWS_ACCESS_KEY_ID='
        portico list --saml-session demo-saml --json > saml.json || exit 20
        echo "SAML ROLES=$(grep -c '"roleArn"' saml.json)"
        arn=$(grep -o 'arn:aws:iam::[0-9]*:role/Developer' saml.json | head -n 1)
        echo "ARN=$arn"
        portico credentials --saml-session demo-saml --role-arn "$arn" --format env \
            | grep '^export AWS_ACCESS_KEY_ID=' | sed 's/^/SAML /' || exit 21
        portico profiles sync --saml-session demo-saml || exit 22
        sp=$(grep -B 3 "role-arn $arn" "$AWS_CONFIG_FILE" | sed -n 's/^\[profile \(.*\)\]$/\1/p')
        "$PYTHON" -c "import boto3, sys; print('CALLER=' + boto3.Session(profile_name=sys.argv[1]).client('sts').get_caller_identity()['Arn'])" "$sp" || exit 23
        exit 7
    "#;
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyenv/bin/python");
    assert!(python.exists(), "run tests/python-env.sh first");
    let out = Command::new(portico)
        .args(["demo", "--accounts", "5", "--", "sh", "-c", script])
        .env("PYTHON", &python)
        .env("HOME", &home)
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("AWS_CONFIG_FILE", home.join(".aws/config"))
        .env("AWS_PROFILE", "mine")
        .env("TMPDIR", &tmp)
        // The script's scratch files (saml.json) land beside home and tmp, not in the checkout.
        .current_dir(user.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    // The command's own exit status comes back.
    assert_eq!(
        out.status.code(),
        Some(7),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );

    let value = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("{key} in:\n{stdout}"))
            .to_string()
    };
    let demo_home = value("HOME=");
    assert!(
        Path::new(&demo_home).starts_with(&tmp),
        "the demo's HOME {demo_home} is under TMPDIR {}",
        tmp.display()
    );
    assert!(
        stdout.lines().any(|l| l == "5"),
        "5 accounts listed:\n{stdout}"
    );
    assert!(
        stdout.contains("export AWS_ACCESS_KEY_ID=ASIA"),
        "a demo profile gives credentials:\n{stdout}"
    );
    assert!(stderr.contains("signed in; profiles"), "{stderr}");
    // The SAML session: its roles (a handful by default), keys for one, and keys that STS says
    // are that role's, through a synced profile.
    assert!(
        stdout.lines().any(|l| l == "SAML ROLES=5"),
        "five SAML roles:\n{stdout}\n{stderr}"
    );
    let arn = value("ARN=");
    let (account, role) = arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.split_once(":role/"))
        .unwrap_or_else(|| panic!("a role ARN: {arn}"));
    assert!(
        stdout.contains("SAML export AWS_ACCESS_KEY_ID=ASIA"),
        "{stdout}"
    );
    let caller = value("CALLER=");
    assert!(
        caller.starts_with(&format!("arn:aws:sts::{account}:assumed-role/{role}/")),
        "GetCallerIdentity names {caller}, not {arn}"
    );
    // The stand-in browser made the SAML sign-in (portico says which browser it asked).
    assert!(
        stderr.contains("idc-emulator (portico_browser of [saml-session demo-saml])"),
        "{stderr}"
    );

    // Afterwards: the world is deleted, the emulator stopped, the user's files untouched.
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
    let url = value("URL=");
    let addr = url.trim_start_matches("http://");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the emulator at {url} still answers"
    );
    assert_eq!(
        std::fs::read_to_string(home.join(".aws/config")).unwrap(),
        config
    );
    let mut entries: Vec<String> = walk(&home);
    entries.sort();
    assert_eq!(entries, [".aws", ".aws/config"]);
}

/// `--saml-only`: the world of a user with no Identity Center: no sso-session, nobody signed in
/// to one, and the SAML session works.
#[test]
fn the_saml_only_world_has_no_sso_session() {
    let portico = Path::new(env!("CARGO_BIN_EXE_portico"));
    let tmp = tempfile::tempdir().unwrap();
    let script = r#"
        echo "SSO SESSIONS=$(grep -c '^\[sso-session' "$AWS_CONFIG_FILE")"
        echo "SAML SESSIONS=$(grep -c '^\[saml-session demo-saml\]' "$AWS_CONFIG_FILE")"
        portico list --json > /dev/null 2>&1; echo "SSO LIST=$?"
        echo "SAML ROLES=$(portico list --saml-session demo-saml --json | grep -c '"roleArn"')"
    "#;
    let out = Command::new(portico)
        .args([
            "demo",
            "--saml-only",
            "--saml-roles",
            "3",
            "--",
            "sh",
            "-c",
            script,
        ])
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for line in ["SSO SESSIONS=0", "SAML SESSIONS=1", "SAML ROLES=3"] {
        assert!(
            stdout.lines().any(|l| l == line),
            "{line}:\n{stdout}\n{stderr}"
        );
    }
    // With nothing configured for Identity Center, `portico list` fails as a config problem
    // (exit 3, src/exit.rs), not as a missing sign-in or a crash.
    assert!(
        stdout.lines().any(|l| l == "SSO LIST=3"),
        "portico list without an sso-session:\n{stdout}\n{stderr}"
    );
    assert!(!stderr.contains("signed in; profiles"), "{stderr}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            out.push(path.strip_prefix(dir).unwrap().display().to_string());
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    out
}
