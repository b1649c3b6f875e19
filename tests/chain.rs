//! Role chaining (issue 21): chained profiles and `--chain` through the real binary, against
//! the emulator's STS AssumeRole (`--chain-roles`, `/_emulator/trust`), with real files —
//! the AWS CLI's assume-role cache shared with the AWS CLI and boto3 both ways.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{assert_success, support, text, TestEnv};
use idc_emulator::{Account, Config, Directory, Identity, TrustUpdate};

const LIMIT: Duration = Duration::from_secs(60);
const HUB: &str = "111111111111";
const WORK: &str = "222222222222";
const PROD: &str = "333333333333";

fn chain_role(account: &str, n: usize) -> String {
    format!("arn:aws:iam::{account}:role/ChainRole{n}")
}

struct World {
    env: TestEnv,
    saml_admin: String,
    runtime: tokio::runtime::Runtime,
}

impl World {
    /// Signed in to Identity Center (`dev` is Admin in HUB) and, with `saml`, to the
    /// saml-session `corp`; chain roles ChainRole1..3 in every account; `extra` appended to
    /// the config.
    fn new(saml: bool, extra: &str) -> World {
        let mut directory = Directory::from_accounts(
            [HUB, WORK, PROD]
                .iter()
                .enumerate()
                .map(|(i, id)| Account {
                    account_id: id.to_string(),
                    account_name: format!("acct{i}"),
                    email_address: format!("aws+{i}@example.com"),
                    roles: vec!["Admin".into()],
                })
                .collect(),
        )
        .unwrap();
        directory.generate_saml_roles(2);
        let saml_admin = directory.saml_roles()[0].role_arn.clone();
        let env = TestEnv::new(Config {
            directory,
            chain_roles: 3,
            ..Config::default()
        });
        env.login();
        env.emu.set_auto_approve(true);
        let config = std::fs::read_to_string(env.config_path()).unwrap();
        env.write_config(&format!(
            "{config}\n[saml-session corp]\nidp_url = {}\n\n[profile saml-src]\ncredential_process = portico credentials --saml-session corp --role-arn {saml_admin}\n{extra}",
            env.emu.saml_idp_url()
        ));
        let world = World {
            env,
            saml_admin,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        };
        if saml {
            let out = world.run(&["login", "--saml-session", "corp"]);
            assert_success(&out);
        }
        world
    }

    fn portico(&self) -> Command {
        let mut cmd = self.env.portico();
        cmd.env("AWS_ENDPOINT_URL_STS", self.env.emu.url())
            .env("BROWSER", support("saml-browser.py"))
            .env("SAML_BROWSER_LOG", self.env.home.path().join("browser.log"))
            .env("PORTICO_HTTP_TIMEOUT", "10")
            .env_remove("PORTICO_MFA_CODE");
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        let (out, took) = common::output_within(self.portico().args(args), LIMIT);
        out.unwrap_or_else(|| panic!("portico {args:?} did not end within {took:?}"))
    }

    /// `portico ARGS` with no controlling terminal (setsid), as a credential_process runs
    /// under a tool started from a script.
    fn run_without_terminal(&self, args: &[&str], vars: &[(&str, &str)]) -> Output {
        let base = self.portico();
        let mut cmd = Command::new("setsid");
        cmd.arg("-w").arg(base.get_program()).args(args);
        for (k, v) in base.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null());
        let (out, took) = common::output_within(&mut cmd, LIMIT);
        out.unwrap_or_else(|| panic!("portico {args:?} did not end within {took:?}"))
    }

    /// `credentials --format json ARGS`: the keys, or the failure.
    fn keys(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["credentials", "--format", "json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert_success(&out);
        serde_json::from_slice(&out.stdout).expect("json")
    }

    /// Whose keys these are: STS GetCallerIdentity at the emulator, signed with them.
    fn caller(&self, keys: &serde_json::Value) -> String {
        let field = |k: &str| keys[k].as_str().unwrap_or_default();
        let sts = self.env.sts_with(
            field("AccessKeyId"),
            field("SecretAccessKey"),
            field("SessionToken"),
        );
        let who = self
            .runtime
            .block_on(sts.get_caller_identity().send())
            .expect("GetCallerIdentity");
        who.arn().unwrap().to_string()
    }

    fn cli_cache(&self) -> PathBuf {
        self.env.home.path().join(".aws/cli/cache")
    }

    fn cli_cache_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.cli_cache())
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "json"))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn assume_roles(&self) -> u64 {
        self.env.stat("AssumeRole")
    }
}

/// Chains of depth 1, 2 and 3 from an Identity Center profile and from a profile of
/// `profiles sync --saml-session` shape.
const CHAINS: &str = "
[profile idc1]
role_arn = arn:aws:iam::222222222222:role/ChainRole1
source_profile = dev
role_session_name = idc1

[profile idc2]
role_arn = arn:aws:iam::333333333333:role/ChainRole2
source_profile = idc1
role_session_name = idc2

[profile idc3]
role_arn = arn:aws:iam::222222222222:role/ChainRole3
source_profile = idc2
role_session_name = idc3
region = eu-west-1

[profile saml1]
role_arn = arn:aws:iam::222222222222:role/ChainRole1
source_profile = saml-src
role_session_name = saml1
external_id = ignored-by-an-open-trust

[profile saml2]
role_arn = arn:aws:iam::333333333333:role/ChainRole2
source_profile = saml1
role_session_name = saml2

[profile saml3]
role_arn = arn:aws:iam::111111111111:role/ChainRole3
source_profile = saml2
role_session_name = saml3

[profile loop-a]
role_arn = arn:aws:iam::222222222222:role/ChainRole1
source_profile = loop-b

[profile loop-b]
role_arn = arn:aws:iam::222222222222:role/ChainRole2
source_profile = loop-a
";

#[test]
fn chains_of_depth_one_to_three_from_identity_center_and_saml() {
    let world = World::new(true, CHAINS);
    for (profile, role, session) in [
        ("idc1", chain_role(WORK, 1), "idc1"),
        ("idc2", chain_role(PROD, 2), "idc2"),
        ("idc3", chain_role(WORK, 3), "idc3"),
        ("saml1", chain_role(WORK, 1), "saml1"),
        ("saml2", chain_role(PROD, 2), "saml2"),
        ("saml3", chain_role(HUB, 3), "saml3"),
    ] {
        let keys = world.keys(&["--profile", profile]);
        assert_eq!(
            world.caller(&keys),
            Identity::of_role(&role, session).arn,
            "{profile}"
        );
    }
    // `list` of a chained profile lists its source's sign-in: the accounts of Identity
    // Center, the roles of the saml-session.
    let out = world.run(&["list", "--profile", "idc3"]);
    assert_success(&out);
    assert!(text(&out.stdout).contains(HUB), "{}", text(&out.stdout));
    let out = world.run(&["list", "--profile", "saml2"]);
    assert_success(&out);
    assert!(
        text(&out.stdout).contains(&world.saml_admin),
        "{}",
        text(&out.stdout)
    );
    // Each chained role assumed once: the depth-3 chains reused depth 1 and 2 from the cache.
    assert_eq!(world.assume_roles(), 6);
    // Asked again: every key from the AWS CLI's cache, no AssumeRole.
    for profile in ["idc3", "saml3"] {
        world.keys(&["--profile", profile]);
    }
    assert_eq!(world.assume_roles(), 6);
    // The same chain ad hoc, after the profile: --chain twice.
    let keys = world.keys(&[
        "--profile",
        "dev",
        "--chain",
        &chain_role(PROD, 1),
        "--chain",
        &chain_role(WORK, 2),
    ]);
    let arn = world.caller(&keys);
    assert!(
        arn.starts_with(&format!("arn:aws:sts::{WORK}:assumed-role/ChainRole2/")),
        "{arn}"
    );
    // And after a SAML role.
    let keys = world.keys(&[
        "--saml-session",
        "corp",
        "--role-arn",
        &world.saml_admin,
        "--chain",
        &chain_role(PROD, 3),
    ]);
    assert!(world
        .caller(&keys)
        .starts_with(&format!("arn:aws:sts::{PROD}:assumed-role/ChainRole3/")));
}

#[test]
fn a_loop_is_refused_naming_the_chain() {
    let world = World::new(false, CHAINS);
    let out = world.run(&["credentials", "--profile", "loop-a"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("loop-a → loop-b → loop-a"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(world.assume_roles(), 0);
}

/// Sets the trust of `role_arn` through the emulator's control API.
fn trust(world: &World, update: TrustUpdate) {
    world.env.emu.set_trust(update).unwrap();
}

#[test]
fn refusals_are_one_line_with_the_cause_and_exit_code() {
    let extra = "
[profile wrong-id]
role_arn = arn:aws:iam::222222222222:role/ChainRole1
source_profile = dev
external_id = not-the-one

[profile untrusted]
role_arn = arn:aws:iam::333333333333:role/ChainRole1
source_profile = dev

[profile mfa]
role_arn = arn:aws:iam::333333333333:role/ChainRole2
source_profile = dev
mfa_serial = arn:aws:iam::111111111111:mfa/alice

[profile mfa-process]
credential_process = portico credentials --profile mfa
";
    let world = World::new(false, extra);
    trust(
        &world,
        TrustUpdate {
            role_arn: chain_role(WORK, 1),
            external_id: Some("k7-right".into()),
            ..TrustUpdate::default()
        },
    );
    trust(
        &world,
        TrustUpdate {
            role_arn: chain_role(PROD, 1),
            trusted: Some(vec![format!("arn:aws:iam::{WORK}:role/Someone")]),
            ..TrustUpdate::default()
        },
    );
    let seed = "JBSWY3DPEHPK3PXP";
    trust(
        &world,
        TrustUpdate {
            role_arn: chain_role(PROD, 2),
            mfa_serial: Some("arn:aws:iam::111111111111:mfa/alice".into()),
            mfa_seed: Some(seed.into()),
            ..TrustUpdate::default()
        },
    );
    let one_line = |out: &Output, code: i32, needles: &[&str]| {
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert!(out.stdout.is_empty(), "stdout: {}", text(&out.stdout));
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        for needle in needles {
            assert!(err.contains(needle), "{needle:?} not in {err}");
        }
    };
    let out = world.run(&["credentials", "--profile", "wrong-id"]);
    one_line(
        &out,
        6,
        &["AccessDenied", "external_id = not-the-one", "trust policy"],
    );
    let out = world.run(&["credentials", "--profile", "untrusted"]);
    one_line(
        &out,
        6,
        &[
            "AccessDenied",
            "trust policy must allow the source's role AWSReservedSSO_Admin_",
        ],
    );
    // doctor explains the last failure of each chained profile.
    let out = world.run(&["doctor"]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(8), "{report}");
    let line = |profile: &str| {
        report
            .lines()
            .find(|l| l.contains("chained-roles") && l.contains(&format!("profile {profile}:")))
            .unwrap_or_else(|| panic!("no chained-roles line for {profile}:\n{report}"))
            .to_string()
    };
    assert!(
        line("wrong-id").contains("the last AssumeRole failed"),
        "{report}"
    );
    assert!(line("untrusted").contains("AccessDenied"), "{report}");
    assert!(line("mfa").contains("STS at"), "{report}");
    // No code and no terminal: at once, with the fix; no AssumeRole was tried.
    let before = world.assume_roles();
    let out = world.run_without_terminal(&["credentials", "--profile", "mfa"], &[]);
    one_line(&out, 4, &["MFA code", "--mfa-code", "PORTICO_MFA_CODE"]);
    assert_eq!(world.assume_roles(), before);
    // A wrong code: refused by STS.
    let out = world.run_without_terminal(
        &["credentials", "--profile", "mfa", "--mfa-code", "000000"],
        &[],
    );
    one_line(&out, 6, &["AccessDenied", "MFA code"]);
    // The right one from PORTICO_MFA_CODE, through another profile's credential_process line.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let code = idc_emulator::totp_code(seed, now).unwrap();
    let out = world.run_without_terminal(
        &[
            "credentials",
            "--profile",
            "mfa-process",
            "--format",
            "json",
        ],
        &[("PORTICO_MFA_CODE", &code)],
    );
    assert_success(&out);
    let keys: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(world
        .caller(&keys)
        .starts_with(&format!("arn:aws:sts::{PROD}:assumed-role/ChainRole2/")));
    // Cached: the next call asks for no code.
    let out = world.run_without_terminal(&["credentials", "--profile", "mfa"], &[]);
    assert_success(&out);
}

#[test]
fn thirty_parallel_callers_make_one_assume_role() {
    let world = World::new(false, CHAINS);
    world.env.emu.reset_stats();
    let children: Vec<_> = (0..30)
        .map(|_| {
            world
                .portico()
                .args(["credentials", "--profile", "idc2"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut first: Option<String> = None;
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_success(&out);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let id = json["AccessKeyId"].as_str().unwrap().to_string();
        assert_eq!(first.get_or_insert(id.clone()), &id, "one set of keys");
    }
    // idc2 is two AssumeRoles deep (idc1, then idc2), and one GetRoleCredentials under them.
    assert_eq!(world.assume_roles(), 2);
    assert_eq!(world.env.stat("GetRoleCredentials"), 1);
}

#[test]
fn logout_deletes_the_chained_keys_derived_from_the_session() {
    let world = World::new(false, CHAINS);
    world.keys(&["--profile", "idc2"]);
    assert_eq!(world.cli_cache_files().len(), 2, "idc1 and idc2 cached");
    let out = world.run(&["logout", "--sso-session", "emu"]);
    assert_success(&out);
    assert!(
        world.cli_cache_files().is_empty(),
        "{:?}",
        world.cli_cache_files()
    );
    let out = world.run(&["credentials", "--profile", "idc2", "--no-login"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
}

#[test]
fn keys_are_handed_out_only_while_the_source_is_signed_in() {
    let world = World::new(false, CHAINS);
    world.keys(&["--profile", "idc1"]);
    // The sign-in ends behind portico's back (`aws sso logout` deletes the token file).
    std::fs::remove_file(world.env.token_path()).unwrap();
    let out = world.run(&["credentials", "--profile", "idc1", "--no-login"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(world.cli_cache_files().is_empty(), "derived keys deleted");
}

#[test]
fn a_long_duration_is_cut_to_an_hour_and_said() {
    let world = World::new(
        false,
        "
[profile long]
role_arn = arn:aws:iam::222222222222:role/ChainRole1
source_profile = dev
duration_seconds = 7200
",
    );
    let out = world.run(&["credentials", "--profile", "long"]);
    assert_success(&out);
    let err = text(&out.stderr);
    assert!(
        err.contains("duration_seconds = 7200 is cut to 3600") && err.contains("role chaining"),
        "{err}"
    );
    // The console link of a chained role: no SessionDuration (the federation endpoint refuses
    // it with role-chained keys), said on stderr.
    let out = world
        .portico()
        .env(
            "PORTICO_FEDERATION_ENDPOINT",
            format!("{}/federation", world.env.emu.url()),
        )
        .args([
            "console",
            "--profile",
            "long",
            "--print",
            "--duration",
            "7200",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    assert!(
        text(&out.stdout).contains("SigninToken="),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("its console session lasts one hour (--duration is not taken"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn profiles_sync_leaves_chained_profiles_alone() {
    let world = World::new(false, CHAINS);
    let section = |config: &str, name: &str| -> String {
        let start = config.find(&format!("[profile {name}]")).unwrap();
        let rest = &config[start..];
        let end = rest[1..].find("\n[").map_or(rest.len(), |i| i + 1);
        rest[..end].to_string()
    };
    let before = std::fs::read_to_string(world.env.config_path()).unwrap();
    let out = world.run(&[
        "profiles",
        "sync",
        "--sso-session",
        "emu",
        "--credential-process",
    ]);
    assert_success(&out);
    let after = std::fs::read_to_string(world.env.config_path()).unwrap();
    assert_ne!(before, after, "sync wrote its profiles");
    for name in ["idc1", "idc2", "idc3", "saml1", "loop-a"] {
        assert_eq!(section(&before, name), section(&after, name), "{name}");
    }
    // Still usable after the sync.
    world.keys(&["--profile", "idc2"]);
}

// ---- The AWS CLI and boto3 share the cache with portico, both ways. ----

fn pyenv_python() -> Option<PathBuf> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyenv/bin/python");
    python.exists().then_some(python)
}

/// `python -c` that assumes the profile's role with botocore's file cache in the AWS CLI's
/// directory (botocore's own default is ~/.aws/boto/cache) and prints the keys.
const BOTO3: &str = r#"
import boto3, json, os, sys
from botocore.utils import JSONFileCache
session = boto3.Session(profile_name=sys.argv[1])
provider = session._session.get_component('credential_provider').get_provider('assume-role')
provider.cache = JSONFileCache(os.path.expanduser('~/.aws/cli/cache'))
frozen = session.get_credentials().get_frozen_credentials()
print(json.dumps({"AccessKeyId": frozen.access_key, "SecretAccessKey": frozen.secret_key,
                  "SessionToken": frozen.token}))
"#;

/// A tool's environment: the world's HOME, config and endpoints, and nothing of the user's.
fn tool(world: &World, program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    let home = world.env.home.path();
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", world.env.config_path())
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .env("AWS_ENDPOINT_URL_STS", world.env.emu.url())
        .env("AWS_ENDPOINT_URL_SSO", world.env.emu.url())
        .env("AWS_ENDPOINT_URL_SSO_OIDC", world.env.emu.url())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("PYTHONUTF8", "1")
        .stdin(Stdio::null());
    cmd
}

fn boto3_keys(world: &World, python: &Path, profile: &str) -> serde_json::Value {
    let out = tool(world, python)
        .args(["-c", BOTO3, profile])
        .output()
        .unwrap();
    assert_success(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `aws sts get-caller-identity --profile P` with an AWS CLI that honours
/// AWS_ENDPOINT_URL_STS (v1 with botocore 1.31 or later): it assumes the role itself (or takes
/// it from its cache) and asks who it is.
fn aws_cli_caller(world: &World, aws: &Path, profile: &str) -> String {
    caller_arn(aws_cli(world, aws), profile)
}

/// The `Arn` of `aws sts get-caller-identity --profile P` run by `cmd` (an AWS CLI).
fn caller_arn(mut cmd: Command, profile: &str) -> String {
    let out = cmd
        .args([
            "sts",
            "get-caller-identity",
            "--profile",
            profile,
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["Arn"].as_str().unwrap().to_string()
}

/// `aws configure export-credentials --profile P` (AWS CLI v2): the keys it would use. Debian's
/// awscli 2.9 predates AWS_ENDPOINT_URL_STS, so it must find them in the cache: any request
/// it tried would go to a closed loopback proxy and fail.
fn aws_cli_exported(world: &World, aws: &Path, profile: &str) -> serde_json::Value {
    let proxy = common::closed_port_url();
    let out = aws_cli(world, aws)
        .env("HTTPS_PROXY", &proxy)
        .env("HTTP_PROXY", &proxy)
        .args([
            "configure",
            "export-credentials",
            "--profile",
            profile,
            "--format",
            "process",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn aws_cli(world: &World, aws: &Path) -> Command {
    let mut cmd = tool(world, aws);
    // A pyenv shim finds its interpreter through PYENV_ROOT, which HOME no longer gives.
    if let Some(root) = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")))
        .filter(|r| r.is_dir())
    {
        cmd.env("PYENV_ROOT", root);
    }
    cmd
}

/// Chained profiles whose source is a profile with static keys (the emulator's issued keys,
/// copied in): botocore resolves the source itself, so every tool reads the same chain.
fn static_source(world: &World) -> String {
    let keys = world.keys(&["--profile", "dev"]);
    format!(
        "
[profile keys]
aws_access_key_id = {}
aws_secret_access_key = {}
aws_session_token = {}

[profile shared-a]
role_arn = arn:aws:iam::222222222222:role/ChainRole1
source_profile = keys
role_session_name = shared

[profile shared-b]
role_arn = arn:aws:iam::333333333333:role/ChainRole2
source_profile = keys
role_session_name = shared
external_id = x-1
",
        keys["AccessKeyId"].as_str().unwrap(),
        keys["SecretAccessKey"].as_str().unwrap(),
        keys["SessionToken"].as_str().unwrap()
    )
}

#[test]
fn the_aws_cli_and_boto3_share_the_cache_with_portico_both_ways() {
    let Some(python) = pyenv_python() else {
        common::tool_missing(
            "target/pyenv (tests/python-env.sh)",
            "boto3 reads the cache",
        );
        return;
    };
    let world = World::new(false, "");
    let config = std::fs::read_to_string(world.env.config_path()).unwrap();
    world
        .env
        .write_config(&format!("{config}{}", static_source(&world)));
    let debian = common::awscli::of_major("2");
    if debian.is_none() {
        common::tool_missing("Debian's awscli (aws-cli/2)", "the AWS CLI reads the cache");
    }
    let v1 = common::awscli::of_major("1");
    if v1.is_none() {
        common::tool_missing("an AWS CLI v1 on PATH", "the AWS CLI writes the cache");
    }
    let want_a = Identity::of_role(&chain_role(WORK, 1), "shared").arn;
    let want_b = Identity::of_role(&chain_role(PROD, 2), "shared").arn;

    // portico first; boto3 and both AWS CLIs take its file: no AssumeRole.
    let keys = world.keys(&["--profile", "shared-a"]);
    assert_eq!(world.caller(&keys), want_a);
    assert_eq!(world.assume_roles(), 1);
    let boto = boto3_keys(&world, &python, "shared-a");
    assert_eq!(
        boto["AccessKeyId"], keys["AccessKeyId"],
        "boto3 used portico's file"
    );
    if let Some(aws) = &debian {
        let got = aws_cli_exported(&world, aws, "shared-a");
        assert_eq!(
            got["AccessKeyId"], keys["AccessKeyId"],
            "aws v2 used portico's file"
        );
    }
    if let Some(aws) = &v1 {
        assert_eq!(aws_cli_caller(&world, aws, "shared-a"), want_a);
    }
    assert_eq!(world.assume_roles(), 1, "no tool assumed the role again");

    // boto3 first; portico takes its file.
    let boto = boto3_keys(&world, &python, "shared-b");
    assert_eq!(world.caller(&boto), want_b);
    assert_eq!(world.assume_roles(), 2);
    let keys = world.keys(&["--profile", "shared-b"]);
    assert_eq!(
        keys["AccessKeyId"], boto["AccessKeyId"],
        "portico used boto3's file"
    );
    assert_eq!(world.assume_roles(), 2);

    // The AWS CLI first; portico (and Debian's AWS CLI) take its file.
    if let Some(aws) = &v1 {
        for f in world.cli_cache_files() {
            std::fs::remove_file(f).unwrap();
        }
        assert_eq!(aws_cli_caller(&world, aws, "shared-b"), want_b);
        assert_eq!(world.assume_roles(), 3);
        let keys = world.keys(&["--profile", "shared-b"]);
        assert_eq!(world.caller(&keys), want_b);
        assert_eq!(world.assume_roles(), 3, "portico used the AWS CLI's file");
        if let Some(debian) = &debian {
            let got = aws_cli_exported(&world, debian, "shared-b");
            assert_eq!(got["AccessKeyId"], keys["AccessKeyId"]);
        }
    }
    // Every file 0600.
    for f in world.cli_cache_files() {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
}

/// Debian's AWS CLI (`/usr/bin/aws`, 2.9, which predates AWS_ENDPOINT_URL_STS: its SSO and
/// STS clients reach the emulator through rule sets in the test's `~/.aws/models`) resolving a
/// chained profile whose source is an Identity Center profile portico signed in: it reads
/// portico's token, assumes the role once and writes the AWS CLI's cache; portico hands out
/// the same keys with no AssumeRole. And the other way: portico's file serves the AWS CLI.
/// An HTTPS proxy on a closed port makes any request to AWS itself fail.
///
/// The source is a legacy profile (`sso_start_url` in the profile): AWS CLI 2.9 cannot use an
/// `sso_session` profile as a `source_profile` (aws/aws-cli#7496, fixed in later releases).
#[test]
fn debian_aws_cli_and_portico_share_a_chained_identity_center_profile_both_ways() {
    if !common::awscli::installed() {
        return;
    }
    let world = World::new(
        false,
        "
[profile cli-first]
role_arn = arn:aws:iam::222222222222:role/ChainRole1
source_profile = legacy
role_session_name = debian

[profile portico-first]
role_arn = arn:aws:iam::333333333333:role/ChainRole2
source_profile = legacy
role_session_name = debian
",
    );
    let config = std::fs::read_to_string(world.env.config_path()).unwrap();
    world.env.write_config(&format!(
        "{config}\n[profile legacy]\nsso_start_url = {}\nsso_region = {}\nsso_account_id = {HUB}\nsso_role_name = Admin\n",
        world.env.emu.start_url(),
        world.env.emu.region(),
    ));
    // portico signs the legacy profile in (the emulator approves the device code itself).
    assert_success(&world.run(&["login", "--profile", "legacy", "--device-code"]));
    common::awscli::point_at_emulator(&world.env);
    let proxy = common::closed_port_url();
    let caller = |profile: &str| -> String {
        // The emulator is plain HTTP; AWS itself is HTTPS only, so through the closed proxy.
        // (NO_PROXY cannot serve here: botocore picks the proxy by the endpoint's name before
        // the rule set sends the request to the emulator.)
        let mut cmd = common::awscli::command(&world.env);
        cmd.env("HTTPS_PROXY", &proxy);
        caller_arn(cmd, profile)
    };
    let assumed_by = |arn: &str| -> Vec<serde_json::Value> {
        world
            .cli_cache_files()
            .iter()
            .map(|f| serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap())
            .filter(|doc: &serde_json::Value| doc["AssumedRoleUser"]["Arn"] == arn)
            .collect()
    };
    let want_cli = Identity::of_role(&chain_role(WORK, 1), "debian").arn;
    let want_portico = Identity::of_role(&chain_role(PROD, 2), "debian").arn;
    assert_eq!(world.assume_roles(), 0);

    // The AWS CLI first: one AssumeRole (with the role keys of portico's token), one file.
    let roles_before = world.env.stat("GetRoleCredentials");
    assert_eq!(caller("cli-first"), want_cli);
    assert_eq!(world.assume_roles(), 1);
    assert!(
        world.env.stat("GetRoleCredentials") > roles_before,
        "the AWS CLI used portico's token"
    );
    let files = assumed_by(&want_cli);
    let [doc] = files.as_slice() else {
        panic!("one cache file for {want_cli}: {files:?}")
    };
    // portico takes the AWS CLI's file: the same keys, no AssumeRole; they are the role's.
    let keys = world.keys(&["--profile", "cli-first"]);
    assert_eq!(keys["AccessKeyId"], doc["Credentials"]["AccessKeyId"]);
    assert_eq!(world.assume_roles(), 1, "portico used the AWS CLI's file");
    assert_eq!(world.caller(&keys), want_cli);
    // And the AWS CLI again: its own file, no AssumeRole.
    assert_eq!(caller("cli-first"), want_cli);
    assert_eq!(world.assume_roles(), 1);

    // portico first: the AWS CLI takes portico's file.
    let keys = world.keys(&["--profile", "portico-first"]);
    assert_eq!(world.caller(&keys), want_portico);
    assert_eq!(world.assume_roles(), 2);
    assert_eq!(assumed_by(&want_portico).len(), 1);
    assert_eq!(caller("portico-first"), want_portico);
    // Its keys are portico's (with every proxy closed: it asks nothing to give them).
    let out = common::awscli::command(&world.env)
        .env("HTTPS_PROXY", &proxy)
        .env("HTTP_PROXY", &proxy)
        .args([
            "configure",
            "export-credentials",
            "--profile",
            "portico-first",
            "--format",
            "process",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    let exported: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(exported["AccessKeyId"], keys["AccessKeyId"]);
    assert_eq!(world.assume_roles(), 2, "the AWS CLI used portico's file");
    assert_eq!(assumed_by(&want_portico).len(), 1);
}

/// `mfa_serial` with a terminal: the prompt is on the terminal (botocore's words), never on
/// stdout, and the code typed there assumes the role.
#[test]
fn the_mfa_code_is_asked_on_the_terminal_never_on_stdout() {
    let world = World::new(
        false,
        "
[profile mfa]
role_arn = arn:aws:iam::333333333333:role/ChainRole2
source_profile = dev
mfa_serial = arn:aws:iam::111111111111:mfa/alice
",
    );
    let seed = "JBSWY3DPEHPK3PXP";
    trust(
        &world,
        TrustUpdate {
            role_arn: chain_role(PROD, 2),
            mfa_serial: Some("arn:aws:iam::111111111111:mfa/alice".into()),
            mfa_seed: Some(seed.into()),
            ..TrustUpdate::default()
        },
    );
    let home = world.env.home.path();
    let out = home.join("keys.json");
    // The pane's shell gets the world's environment from a script (tmux's server has the test's).
    let base = world.portico();
    let mut script = String::from("#!/bin/sh\nunset PORTICO_MFA_CODE AWS_PROFILE\n");
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            script.push_str(&format!(
                "export {}='{}'\n",
                k.to_string_lossy(),
                v.to_string_lossy()
            ));
        }
    }
    script.push_str(&format!(
        "'{}' credentials --profile mfa --format json > '{out}.part' && mv '{out}.part' '{out}'\nsleep 30\n",
        base.get_program().to_string_lossy(),
        out = out.display()
    ));
    let script_path = home.join("mfa.sh");
    std::fs::write(&script_path, script).unwrap();
    let tmux = common::tmux::Tmux::start(&format!("sh '{}'", script_path.display()));
    tmux.wait_for_text("Enter MFA code for arn:aws:iam::111111111111:mfa/alice:");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let code = idc_emulator::totp_code(seed, now).unwrap();
    tmux.type_text(&code);
    tmux.keys(&["Enter"]);
    let printed = common::wait_until(LIMIT, || std::fs::read_to_string(&out).ok())
        .unwrap_or_else(|| panic!("no keys; the pane shows:\n{}", tmux.screen()));
    assert!(
        !printed.contains("MFA"),
        "the prompt reached stdout: {printed}"
    );
    // Not echoed (as botocore's getpass prompt).
    let screen = tmux.screen();
    assert!(!screen.contains(&code), "the code was echoed:\n{screen}");
    let keys: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert!(world
        .caller(&keys)
        .starts_with(&format!("arn:aws:sts::{PROD}:assumed-role/ChainRole2/")));
}

/// Keys in the AWS CLI's file with under 15 minutes left are assumed again, as botocore does,
/// and the file is replaced with the new ones.
#[test]
fn keys_with_under_fifteen_minutes_left_are_assumed_again() {
    let world = World::new(false, CHAINS);
    let first = world.keys(&["--profile", "idc1"]);
    assert_eq!(world.assume_roles(), 1);
    let files = world.cli_cache_files();
    let [file] = files.as_slice() else {
        panic!("{files:?}")
    };
    let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let soon = time::OffsetDateTime::now_utc() + time::Duration::minutes(14);
    let soon = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}UTC",
        soon.year(),
        u8::from(soon.month()),
        soon.day(),
        soon.hour(),
        soon.minute(),
        soon.second()
    );
    doc["Credentials"]["Expiration"] = serde_json::Value::String(soon);
    std::fs::write(file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let second = world.keys(&["--profile", "idc1"]);
    assert_eq!(world.assume_roles(), 2);
    assert_ne!(first["AccessKeyId"], second["AccessKeyId"]);
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    assert_eq!(doc["Credentials"]["AccessKeyId"], second["AccessKeyId"]);
    // With more than 15 minutes left, the file is used.
    world.keys(&["--profile", "idc1"]);
    assert_eq!(world.assume_roles(), 2);
}

/// `credential_source = Environment`: the environment's keys assume the role; without them,
/// one line naming the variables (exit 3); the EC2 source is refused plainly.
#[test]
fn the_environment_as_the_source() {
    let world = World::new(
        false,
        "
[profile from-env]
role_arn = arn:aws:iam::222222222222:role/ChainRole1
credential_source = Environment
role_session_name = env

[profile from-ec2]
role_arn = arn:aws:iam::222222222222:role/ChainRole1
credential_source = Ec2InstanceMetadata
",
    );
    let source = world.keys(&["--profile", "dev"]);
    let field = |k: &str| source[k].as_str().unwrap().to_string();
    let out = world
        .portico()
        .env("AWS_ACCESS_KEY_ID", field("AccessKeyId"))
        .env("AWS_SECRET_ACCESS_KEY", field("SecretAccessKey"))
        .env("AWS_SESSION_TOKEN", field("SessionToken"))
        .args(["credentials", "--profile", "from-env", "--format", "json"])
        .output()
        .unwrap();
    assert_success(&out);
    let keys: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        world.caller(&keys),
        Identity::of_role(&chain_role(WORK, 1), "env").arn
    );
    let out = world
        .portico()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args(["credentials", "--profile", "from-env", "--no-login"])
        .output()
        .unwrap();
    // The keys assumed a moment ago are in the AWS CLI's cache: handed out (no sign-in to end).
    assert_success(&out);
    for f in world.cli_cache_files() {
        std::fs::remove_file(f).unwrap();
    }
    let out = world
        .portico()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args(["credentials", "--profile", "from-env"])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let out = world.run(&["credentials", "--profile", "from-ec2"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("portico does not fetch instance or container keys"),
        "{err}"
    );
}

/// STS that does not answer: one line naming the endpoint and what to check (exit 7), in
/// bounded time; the source's keys were fetched (from Identity Center) all the same.
#[test]
fn an_unreachable_sts_is_one_line() {
    let world = World::new(false, CHAINS);
    let closed = common::closed_port_url();
    let (out, took) = common::output_within(
        world.portico().env("AWS_ENDPOINT_URL_STS", &closed).args([
            "credentials",
            "--profile",
            "idc1",
        ]),
        LIMIT,
    );
    let out = out.unwrap_or_else(|| panic!("did not end within {took:?}"));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(
        err.contains(&format!("cannot reach STS at {closed}")),
        "{err}"
    );
    assert!(err.contains("AWS_ENDPOINT_URL_STS"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(out.stdout.is_empty());
}
