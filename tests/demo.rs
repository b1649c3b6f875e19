//! `portico demo` without a terminal: `portico demo -- COMMAND` runs a command in the demo world,
//! which makes the world itself testable: it is signed in and has profiles, it lives in a
//! throw-away directory under TMPDIR, and nothing of the user's own HOME, config or cache is
//! read or written — even when AWS_CONFIG_FILE and XDG_CACHE_HOME point there.

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

    let script = r#"
        echo "HOME=$HOME"
        echo "URL=$AWS_ENDPOINT_URL_SSO"
        portico list --json | grep -c '"accountId"'
        p=$(sed -n 's/^\[profile \(.*\)\]$/\1/p' "$AWS_CONFIG_FILE" | head -n 1)
        portico credentials --profile "$p" --format env | grep '^export AWS_ACCESS_KEY_ID='
        exit 7
    "#;
    let out = Command::new(portico)
        .args(["demo", "--accounts", "5", "--", "sh", "-c", script])
        .env("HOME", &home)
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("AWS_CONFIG_FILE", home.join(".aws/config"))
        .env("AWS_PROFILE", "mine")
        .env("TMPDIR", &tmp)
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
