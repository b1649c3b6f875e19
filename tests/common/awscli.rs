//! The AWS CLI for the tests that check portico and it share files: Debian's (`/usr/bin/aws`,
//! installed by tests/run.sh) pointed at the emulator with a test's HOME, and an `aws` of a
//! given major version wherever it is.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{text, tool_missing, TestEnv};

const DEBIAN: &str = "/usr/bin/aws";

/// Whether Debian's AWS CLI is there; a loud note when not, and a failure under CI
/// ([`tool_missing`]).
pub fn installed() -> bool {
    if Path::new(DEBIAN).exists() {
        return true;
    }
    tool_missing(DEBIAN, "Debian package awscli");
    false
}

/// Endpoint rule sets in `env`'s `~/.aws/models` that send the AWS CLI's SSO, SSO OIDC and
/// STS clients to the emulator: Debian's AWS CLI (2.9) predates `AWS_ENDPOINT_URL_*` (and the
/// vanity resolver), but reads models from `~/.aws/models` before its own (botocore's customer
/// data path).
pub fn point_at_emulator(env: &TestEnv) {
    let builtin = |name: &str, kind: &str| serde_json::json!({"builtIn": name, "required": false, "type": kind});
    let flag = |name: &str| serde_json::json!({"builtIn": name, "required": true, "default": false, "type": "Boolean"});
    for (service, version) in [
        ("sso", "2019-06-10"),
        ("sso-oidc", "2019-06-10"),
        ("sts", "2011-06-15"),
    ] {
        let dir = env
            .home
            .path()
            .join(".aws/models")
            .join(service)
            .join(version);
        std::fs::create_dir_all(&dir).unwrap();
        let mut parameters = serde_json::json!({
            "Region": builtin("AWS::Region", "String"),
            "UseDualStack": flag("AWS::UseDualStack"),
            "UseFIPS": flag("AWS::UseFIPS"),
            "Endpoint": builtin("SDK::Endpoint", "String"),
        });
        if service == "sts" {
            // STS's own rule set declares this built-in too (as tests/conformance's does).
            parameters["UseGlobalEndpoint"] = flag("AWS::STS::UseGlobalEndpoint");
        }
        let rules = serde_json::json!({
            "version": "1.0",
            "parameters": parameters,
            "rules": [{"conditions": [], "type": "endpoint",
                       "endpoint": {"url": env.emu.url(), "properties": {}, "headers": {}}}],
        });
        std::fs::write(
            dir.join("endpoint-rule-set-1.json"),
            serde_json::to_vec(&rules).unwrap(),
        )
        .unwrap();
    }
}

/// Debian's AWS CLI with `env`'s HOME and config and nothing of the user's (check
/// [`installed`] and call [`point_at_emulator`] first).
pub fn command(env: &TestEnv) -> Command {
    let mut cmd = Command::new(DEBIAN);
    for var in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_DATA_PATH",
        "AWS_ENDPOINT_URL",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", env.home.path())
        .env("AWS_CONFIG_FILE", env.config_path())
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            env.home.path().join(".aws/credentials"),
        )
        .env("AWS_ENDPOINT_URL_SSO", env.emu.url())
        .env("AWS_ENDPOINT_URL_SSO_OIDC", env.emu.url())
        .env("AWS_ENDPOINT_URL_STS", env.emu.url())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_PAGER", "")
        .stdin(Stdio::null());
    cmd
}

/// The `aws` of a major version (`"1"`, `"2"`): the first on PATH, else Debian's or one in
/// /usr/local/bin or /bin, that says it is `aws-cli/MAJOR.…`.
pub fn of_major(major: &str) -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join("aws")).collect())
        .unwrap_or_default();
    candidates.extend([DEBIAN, "/usr/local/bin/aws", "/bin/aws"].map(PathBuf::from));
    candidates.into_iter().find(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| text(&o.stdout).starts_with(&format!("aws-cli/{major}.")))
    })
}
