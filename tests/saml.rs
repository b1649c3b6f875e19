//! SAML straight into IAM roles, end to end: the real binary, the emulator's Entra-like IdP and
//! STS, and a stand-in browser (tests/support/saml-browser.py) that posts the IdP's
//! auto-submitting form to the loopback listener, as a browser's script does.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use common::{assert_success, support, text, TestEnv};
use idc_emulator::Config;

const USER: &str = "user@corp.example";

struct Saml {
    env: TestEnv,
    log: PathBuf,
}

impl Saml {
    fn new(config: Config) -> Saml {
        let env = TestEnv::new(Config {
            auto_approve: true,
            ..config
        });
        let config = std::fs::read_to_string(env.config_path()).unwrap();
        env.write_config(&format!(
            "{config}\n[saml-session corp]\nidp_url = {}\n",
            env.emu.saml_idp_url()
        ));
        let log = env.home.path().join("browser.log");
        Saml { env, log }
    }

    fn portico(&self, mode: &str) -> Command {
        let mut cmd = self.env.portico();
        cmd.env("BROWSER", support("saml-browser.py"))
            .env("SAML_BROWSER_MODE", mode)
            .env("SAML_BROWSER_LOG", &self.log)
            .env("AWS_ENDPOINT_URL_STS", self.env.emu.url())
            .env("PORTICO_HTTP_TIMEOUT", "10");
        cmd
    }

    fn run(&self, mode: &str, args: &[&str]) -> Output {
        let (out, took) =
            common::output_within(self.portico(mode).args(args), Duration::from_secs(60));
        out.unwrap_or_else(|| panic!("portico {args:?} did not finish in {took:?}"))
    }

    fn role_arns(&self) -> Vec<String> {
        self.env
            .emu
            .directory()
            .saml_roles()
            .iter()
            .map(|r| r.role_arn.clone())
            .collect()
    }

    fn browser_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The JSON files under the portico cache's `dir` (`saml`, `credentials`; not lock files).
    fn cached(&self, dir: &str) -> Vec<PathBuf> {
        std::fs::read_dir(self.env.home.path().join(".cache/portico").join(dir))
            .map(|d| {
                d.map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

#[test]
fn login_list_credentials_and_exec_share_one_sign_in() {
    let s = Saml::new(Config::default());
    let roles = s.role_arns();
    assert!(roles.len() >= 2);

    let out = s.run("post", &["login", "--saml-session", "corp"]);
    assert_success(&out);
    assert!(
        text(&out.stderr).contains("signed in to saml-session corp"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(s.env.stat("SamlSignIn"), 1);
    assert!(
        s.browser_log().contains("post /saml"),
        "{}",
        s.browser_log()
    );
    // The kept assertion is private.
    let kept = s.cached("saml");
    assert_eq!(kept.len(), 1, "{kept:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kept[0]).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    let out = s.run("post", &["list", "--saml-session", "corp", "--json"]);
    assert_success(&out);
    let listed = json(&out);
    let listed: Vec<(String, String)> = listed["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["roleArn"].as_str().unwrap().to_string(),
                r["principalArn"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = s
        .env
        .emu
        .directory()
        .saml_roles()
        .iter()
        .map(|r| (r.role_arn.clone(), r.principal_arn.clone()))
        .collect();
    assert_eq!(listed, expected);
    let out = s.run("post", &["list", "--saml-session", "corp"]);
    assert_success(&out);
    assert!(text(&out.stdout).contains("PROVIDER ARN"));
    assert!(text(&out.stdout).contains(&roles[0]));

    // Role 0 (MaxSessionDuration 43200) takes SessionDuration 28800 at once.
    let out = s.run(
        "post",
        &[
            "credentials",
            "--saml-session",
            "corp",
            "--role-arn",
            &roles[0],
        ],
    );
    assert_success(&out);
    let creds = json(&out);
    assert_eq!(creds["Version"], 1);
    let key = creds["AccessKeyId"].as_str().unwrap().to_string();
    assert!(key.starts_with("ASIA"), "{key}");
    assert_eq!(s.env.stat("AssumeRoleWithSAML"), 1);
    // Role 1 (MaxSessionDuration 3600): ValidationError on 28800, then 3600.
    let out = s.run(
        "post",
        &[
            "credentials",
            "--saml-session",
            "corp",
            "--role-arn",
            &roles[1],
            "--format",
            "env",
        ],
    );
    assert_success(&out);
    assert!(
        text(&out.stdout).contains("export AWS_ACCESS_KEY_ID=ASIA"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(s.env.stat("AssumeRoleWithSAML"), 3);
    assert_eq!(s.env.stat("SamlSignIn"), 1, "one sign-in served every role");

    // Cached keys: exec gets the same key, no call made.
    let out = s.run(
        "post",
        &[
            "exec",
            "--saml-session",
            "corp",
            "--role-arn",
            &roles[0],
            "--",
            "sh",
            "-c",
            "echo $AWS_ACCESS_KEY_ID",
        ],
    );
    assert_success(&out);
    assert_eq!(text(&out.stdout).trim(), key);
    assert_eq!(s.env.stat("AssumeRoleWithSAML"), 3);
}

#[test]
fn thirty_parallel_callers_for_three_roles_make_one_sign_in_and_three_calls() {
    let mut config = Config::default();
    // Every role's MaxSessionDuration admits it: one call per role.
    config.saml.session_duration = Some(3600);
    let s = Saml::new(config);
    let roles = s.role_arns();
    let children: Vec<_> = (0..30)
        .map(|i| {
            s.portico("post")
                .args([
                    "credentials",
                    "--saml-session",
                    "corp",
                    "--role-arn",
                    &roles[i % 3],
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut keys = std::collections::BTreeMap::new();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert_success(&out);
        keys.entry(i % 3)
            .or_insert_with(Vec::new)
            .push(json(&out)["AccessKeyId"].as_str().unwrap().to_string());
    }
    assert_eq!(s.env.stat("SamlSignIn"), 1);
    assert_eq!(s.env.stat("AssumeRoleWithSAML"), 3);
    for (_, k) in keys {
        assert!(k.iter().all(|x| x == &k[0]), "one role, one key: {k:?}");
    }
}

/// A refused sign-in: a one-line error with the fix, exit `code`, stdout empty, nothing kept.
fn refused(s: &Saml, mode: &str, code: i32, says: &str) {
    let roles = s.role_arns();
    let out = s.run(
        mode,
        &[
            "credentials",
            "--saml-session",
            "corp",
            "--role-arn",
            &roles[0],
        ],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{mode}: {err}");
    assert!(out.stdout.is_empty(), "{mode}");
    assert!(err.contains(says), "{mode}: {err}");
    assert_eq!(
        err.trim()
            .lines()
            .filter(|l| l.starts_with("portico: error"))
            .count(),
        1,
        "{mode}: {err}"
    );
    assert!(!err.contains(USER) || mode == "tamper", "{mode}: {err}");
    assert!(s.cached("saml").is_empty(), "{mode}: an assertion was kept");
    assert!(s.cached("credentials").is_empty(), "{mode}: keys were kept");
}

#[test]
fn bad_answers_are_refused_with_the_fix_and_nothing_kept() {
    let s = Saml::new(Config::default());
    // A forged RelayState does not end the sign-in (tests/saml_signin.rs).
    refused(&s, "in-response-to", 5, "InResponseTo");
    refused(&s, "unsigned", 5, "not signed");
    refused(&s, "tamper", 5, "InvalidIdentityToken");
    refused(&s, "path", 5, "/elsewhere");
    refused(
        &s,
        "garbage",
        5,
        "fields other than SAMLResponse and RelayState",
    );
    // An assertion issued 400 s ago (the IdP's clock behind) has outlived its five minutes.
    s.env.emu.set_saml_clock_offset(-400);
    refused(&s, "post", 5, "expired");
    s.env.emu.set_saml_clock_offset(0);
    assert_eq!(
        s.env.stat("AssumeRoleWithSAML"),
        1,
        "only the tampered one reached STS"
    );
}

#[test]
fn a_role_the_assertion_does_not_hold_is_refused() {
    let s = Saml::new(Config::default());
    let out = s.run(
        "post",
        &[
            "credentials",
            "--saml-session",
            "corp",
            "--role-arn",
            "arn:aws:iam::999999999999:role/Nope",
        ],
    );
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("does not hold role arn:aws:iam::999999999999:role/Nope"),
        "{}",
        text(&out.stderr)
    );
    assert!(s.cached("credentials").is_empty());
    assert_eq!(s.env.stat("AssumeRoleWithSAML"), 0);
}

#[test]
fn an_unregistered_reply_url_is_named_when_no_answer_comes() {
    let mut config = Config::default();
    config.saml.reply_urls = vec!["https://signin.aws.amazon.com/saml".into()];
    let s = Saml::new(config);
    let out = s.run(
        "post",
        &["login", "--saml-session", "corp", "--timeout", "3"],
    );
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    common::wait_for_file_text(&s.log, "AADSTS50011", Duration::from_secs(20));
    let err = text(&out.stderr);
    assert!(
        err.contains("AADSTS50011") && err.contains("http://localhost/saml"),
        "{err}"
    );
    assert!(s.cached("saml").is_empty());
}

#[test]
fn without_a_browser_saml_sign_in_fails_at_once() {
    let s = Saml::new(Config::default());
    let roles = s.role_arns();
    let out = s
        .portico("post")
        .env_remove("BROWSER")
        .env("SSH_CONNECTION", "1 2 3 4")
        .args([
            "credentials",
            "--saml-session",
            "corp",
            "--role-arn",
            &roles[0],
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("SAML sign-in needs a browser on this machine"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    assert_eq!(s.env.stat("SamlSignIn"), 0);
}

#[test]
fn botocore_reads_every_profile_beside_a_saml_session() {
    let s = Saml::new(Config::default());
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyenv/bin/python");
    assert!(python.exists(), "run tests/python-env.sh first");
    let out = Command::new(python)
        .arg("-c")
        .arg("import json, sys, botocore.session as b; s = b.Session(); print(json.dumps({p: s.full_config['profiles'][p] for p in s.available_profiles}))")
        .env("AWS_CONFIG_FILE", s.env.config_path())
        .env("HOME", s.env.home.path())
        .output()
        .unwrap();
    assert_success(&out);
    let profiles = json(&out);
    assert_eq!(profiles["dev"]["sso_session"], "emu", "{profiles}");
    assert_eq!(profiles.as_object().unwrap().len(), 1, "{profiles}");
}

#[test]
fn profiles_sync_writes_profiles_whose_credential_process_boto3_runs() {
    let s = Saml::new(Config::default());
    let roles = s.role_arns();
    let out = s.run("post", &["profiles", "sync", "--saml-session", "corp"]);
    assert_success(&out);
    assert!(
        text(&out.stdout).contains("Synced saml-session corp"),
        "{}",
        text(&out.stdout)
    );
    let config = std::fs::read_to_string(s.env.config_path()).unwrap();
    assert!(
        config.contains("# managed by portico profiles sync (saml-session corp)"),
        "{config}"
    );
    let line = config
        .lines()
        .find(|l| l.starts_with("credential_process") && l.contains(&roles[0]))
        .unwrap_or_else(|| panic!("no profile for {}: {config}", roles[0]));
    assert!(
        line.contains("credentials --saml-session corp --role-arn"),
        "{line}"
    );
    let name = config
        .split("\n[profile ")
        .find(|section| section.contains(&roles[0]))
        .and_then(|section| section.split(']').next())
        .unwrap()
        .to_string();
    // A second sync changes nothing.
    let out = s.run("post", &["profiles", "sync", "--saml-session", "corp"]);
    assert_success(&out);
    assert_eq!(
        std::fs::read_to_string(s.env.config_path()).unwrap(),
        config
    );
    assert_eq!(s.env.stat("SamlSignIn"), 1);

    // boto3 runs the profile's credential_process and gets the keys portico hands out.
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyenv/bin/python");
    let mut boto = s.portico("post");
    let program = boto.get_program().to_owned();
    let mut cmd = Command::new(python);
    for (k, v) in boto.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let _ = &mut boto;
    let out = cmd
        .env("AWS_PROFILE", &name)
        .arg("-c")
        .arg("import boto3; print(boto3.Session().get_credentials().get_frozen_credentials().access_key)")
        .output()
        .unwrap();
    assert_success(&out);
    let from_boto = text(&out.stdout).trim().to_string();
    let out = s.run(
        "post",
        &[
            "credentials",
            "--saml-session",
            "corp",
            "--role-arn",
            &roles[0],
        ],
    );
    assert_success(&out);
    assert_eq!(json(&out)["AccessKeyId"].as_str().unwrap(), from_boto);
    assert!(from_boto.starts_with("ASIA"));
    assert_eq!(s.env.stat("AssumeRoleWithSAML"), 1, "{program:?}");

    // The synced profile names its SAML role: `--profile` works as for an Identity Center
    // profile (and so do exec, console and the credential server, which resolve alike).
    let out = s.run("post", &["credentials", "--profile", &name]);
    assert_success(&out);
    assert_eq!(json(&out)["AccessKeyId"].as_str().unwrap(), from_boto);
    let out = s.run(
        "post",
        &[
            "exec",
            "--profile",
            &name,
            "--",
            "sh",
            "-c",
            "echo $AWS_ACCESS_KEY_ID",
        ],
    );
    assert_success(&out);
    assert_eq!(text(&out.stdout).trim(), from_boto);
    assert_eq!(s.env.stat("AssumeRoleWithSAML"), 1);
}

#[test]
fn configure_writes_a_saml_session_the_commands_then_use() {
    let s = Saml::new(Config::default());
    let before = std::fs::read_to_string(s.env.config_path()).unwrap();
    let out = s.run(
        "post",
        &[
            "configure",
            "--saml-session",
            "entra",
            "--idp-url",
            &s.env.emu.saml_idp_url(),
            "--sts-region",
            "eu-west-1",
            "--acs-port",
            "0",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "port 0 is refused: {}",
        text(&out.stderr)
    );
    let out = s.run(
        "post",
        &[
            "configure",
            "--saml-session",
            "entra",
            "--idp-url",
            "http://idp.example/saml2",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("is not an https URL"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(s.env.config_path()).unwrap(),
        before
    );
    let out = s.run(
        "post",
        &[
            "configure",
            "--saml-session",
            "entra",
            "--idp-url",
            &s.env.emu.saml_idp_url(),
            "--sts-region",
            "eu-west-1",
        ],
    );
    assert_success(&out);
    let after = std::fs::read_to_string(s.env.config_path()).unwrap();
    assert!(after.starts_with(&before), "the rest of the file stays");
    assert_eq!(
        &after[before.len()..],
        format!(
            "\n[saml-session entra]\nidp_url = {}\nsts_region = eu-west-1\n",
            s.env.emu.saml_idp_url()
        )
    );
    let out = s.run("post", &["list", "--saml-session", "entra", "--json"]);
    assert_success(&out);
    assert_eq!(
        json(&out)["roles"].as_array().unwrap().len(),
        s.role_arns().len()
    );
}

#[test]
fn console_links_work_for_saml_roles() {
    let s = Saml::new(Config::default());
    let roles = s.role_arns();
    let out = s
        .portico("post")
        .env(
            "PORTICO_FEDERATION_ENDPOINT",
            format!("{}/federation", s.env.emu.url()),
        )
        .args([
            "console",
            "--saml-session",
            "corp",
            "--role-arn",
            &roles[0],
            "--print",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    let link = text(&out.stdout);
    assert!(link.contains("SigninToken="), "{link}");
}

#[test]
fn the_rust_sdk_reads_every_profile_beside_a_saml_session() {
    use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
    use aws_runtime::env_config::section::EnvConfigSections;
    use aws_types::os_shim_internal::{Env, Fs};

    let s = Saml::new(Config::default());
    let text = std::fs::read_to_string(s.env.config_path()).unwrap();
    assert!(text.contains("[saml-session corp]"));
    let files = EnvConfigFiles::builder()
        .include_default_config_file(false)
        .include_default_credentials_file(false)
        .with_contents(EnvConfigFileKind::Config, text)
        .build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let source = runtime
        .block_on(aws_runtime::env_config::source::load(
            &Env::from_slice(&[]),
            &Fs::from_slice(&[]),
            &files,
        ))
        .unwrap();
    let sections = EnvConfigSections::parse(source).unwrap();
    let profiles: Vec<&str> = sections.profiles().collect();
    assert_eq!(profiles, vec!["dev"]);
    assert_eq!(
        sections.get_profile("dev").unwrap().get("sso_session"),
        Some("emu")
    );
    assert!(sections.sso_session("emu").is_some());
}

#[test]
fn a_kept_assertion_sts_calls_expired_is_replaced_by_one_more_sign_in() {
    let s = Saml::new(Config::default());
    let roles = s.role_arns();
    assert_success(&s.run("post", &["login", "--saml-session", "corp"]));
    // STS's clock runs 301 s ahead: the kept assertion is past its five minutes there, while
    // this machine's clock says it is fine. The IdP's clock moves too, so a new one works.
    s.env.emu.set_saml_clock_offset(301);
    let out = s.run(
        "post",
        &[
            "credentials",
            "--saml-session",
            "corp",
            "--role-arn",
            &roles[0],
        ],
    );
    assert_success(&out);
    assert!(json(&out)["AccessKeyId"]
        .as_str()
        .unwrap()
        .starts_with("ASIA"));
    assert_eq!(s.env.stat("SamlSignIn"), 2);
    assert_eq!(s.env.stat("AssumeRoleWithSAML"), 2);
}
