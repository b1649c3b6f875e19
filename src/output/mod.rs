//! What `portico credentials` prints: role credentials as credential_process JSON
//! (docs/protocol.md §4), as shell code for bash/zsh, fish, PowerShell and cmd in the shapes
//! `aws configure export-credentials --format` uses, as a dotenv file, or as JSON.
//!
//! Every shell format quotes only when a value needs it, so ordinary credentials (base64 with
//! `/`, `+` and `=`) come out byte for byte as the AWS CLI prints them, and any other value
//! still reaches the shell unchanged instead of being expanded or split.

pub mod child;
pub mod duration;
pub mod progress;
pub mod shell;
pub mod table;

use serde::Serialize;

use crate::model::RoleCredentials;
use shell::{is_plain, quote as posix_quote};

/// The output formats of `portico credentials --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// credential_process JSON on one line (what a credential_process must print)
    #[default]
    Process,
    /// bash/zsh: `export AWS_ACCESS_KEY_ID=…`, for `eval "$(portico credentials --format env)"`
    Env,
    /// bash/zsh variables without `export`: `AWS_ACCESS_KEY_ID=…`
    EnvNoExport,
    /// fish: `set -gx AWS_ACCESS_KEY_ID "…"`
    Fish,
    /// PowerShell: `$Env:AWS_ACCESS_KEY_ID="…"`
    Powershell,
    /// Windows cmd: `set AWS_ACCESS_KEY_ID=…`
    WindowsCmd,
    /// a dotenv file: `AWS_ACCESS_KEY_ID=…` lines
    Dotenv,
    /// a pretty JSON object with the expiration, account id and region
    Json,
}

/// The environment a program gets: keys, expiration, and the region if there is one
/// (`AWS_REGION` for the SDKs, `AWS_DEFAULT_REGION` for the AWS CLI v1 and older tools).
/// `portico exec` sets exactly these.
pub fn env_vars(creds: &RoleCredentials, region: Option<&str>) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("AWS_ACCESS_KEY_ID", creds.access_key_id.clone()),
        (
            "AWS_SECRET_ACCESS_KEY",
            creds.secret_access_key.expose().to_string(),
        ),
        (
            "AWS_SESSION_TOKEN",
            creds.session_token.expose().to_string(),
        ),
        ("AWS_CREDENTIAL_EXPIRATION", creds.expiration_rfc3339()),
    ];
    if let Some(region) = region {
        vars.push(("AWS_REGION", region.to_string()));
        vars.push(("AWS_DEFAULT_REGION", region.to_string()));
    }
    vars
}

/// The text to print on stdout for `format`, ending in a newline.
pub fn render(format: Format, creds: &RoleCredentials, region: Option<&str>) -> String {
    match format {
        Format::Process => {
            let mut out = serde_json::to_string(&ProcessJson::new(creds))
                .expect("strings and numbers always serialize");
            out.push('\n');
            out
        }
        Format::Json => {
            let doc = FullJson {
                process: ProcessJson::new(creds),
                account_id: &creds.account_id,
                region,
            };
            let mut out =
                serde_json::to_string_pretty(&doc).expect("strings and numbers always serialize");
            out.push('\n');
            out
        }
        Format::Env
        | Format::EnvNoExport
        | Format::Fish
        | Format::Powershell
        | Format::WindowsCmd
        | Format::Dotenv => render_vars(format, &env_vars(creds, region))
            .expect("every shell format sets variables"),
    }
}

/// Any variables as `format` sets them (what `portico serve` prints: the container-credentials
/// URI and token), quoted exactly as the credentials are; `json` is one object of them.
/// `None` for `process`, which is credential_process JSON and sets no variables.
pub fn render_vars(format: Format, vars: &[(&str, String)]) -> Option<String> {
    let each = |line: &dyn Fn(&str, &str) -> String| -> String {
        vars.iter().map(|(k, v)| line(k, v) + "\n").collect()
    };
    Some(match format {
        Format::Process => return None,
        Format::Json => {
            let doc: serde_json::Map<String, serde_json::Value> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.clone())))
                .collect();
            let mut out = serde_json::to_string_pretty(&doc).expect("strings always serialize");
            out.push('\n');
            out
        }
        Format::Env => each(&|k, v| format!("export {k}={}", posix_quote(v))),
        Format::EnvNoExport => each(&|k, v| format!("{k}={}", posix_quote(v))),
        Format::Fish => each(&|k, v| format!("set -gx {k} {}", fish_quote(v))),
        Format::Powershell => each(&|k, v| format!("$Env:{k}={}", powershell_quote(v))),
        Format::WindowsCmd => each(&cmd_set),
        Format::Dotenv => each(&|k, v| format!("{k}={}", dotenv_quote(v))),
    })
}

/// docs/protocol.md §4, fields in the order the AWS CLI writes them.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessJson<'a> {
    version: u8,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    session_token: &'a str,
    expiration: String,
}

impl<'a> ProcessJson<'a> {
    fn new(creds: &'a RoleCredentials) -> ProcessJson<'a> {
        ProcessJson {
            version: 1,
            access_key_id: &creds.access_key_id,
            secret_access_key: creds.secret_access_key.expose(),
            session_token: creds.session_token.expose(),
            expiration: creds.expiration_rfc3339(),
        }
    }
}

/// The process JSON plus `AccountId` and `Region` (null without one): still valid
/// credential_process output, so one format serves programs and people.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FullJson<'a> {
    #[serde(flatten)]
    process: ProcessJson<'a>,
    account_id: &'a str,
    region: Option<&'a str>,
}

/// fish: plain values in double quotes (as the AWS CLI prints them), anything else in single
/// quotes, where only `\` and `'` need a backslash.
fn fish_quote(value: &str) -> String {
    if is_plain(value) {
        format!("\"{value}\"")
    } else {
        format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'"))
    }
}

/// PowerShell: plain values in double quotes (as the AWS CLI prints them), anything else in
/// single quotes, where a quote is doubled (PowerShell also takes the typographic single
/// quotes as quotes).
fn powershell_quote(value: &str) -> String {
    if is_plain(value) {
        format!("\"{value}\"")
    } else {
        let mut out = String::from("'");
        for c in value.chars() {
            if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}') {
                out.push(c);
            }
            out.push(c);
        }
        out.push('\'');
        out
    }
}

/// cmd: `set K=V` for plain values (as the AWS CLI prints them); otherwise `set "K=V"`, which
/// keeps `&`, `|`, `<`, `>` and `^` literal. cmd has no way to quote `%` or a line break;
/// credentials never contain them.
fn cmd_set(key: &str, value: &str) -> String {
    if is_plain(value) {
        format!("set {key}={value}")
    } else {
        format!("set \"{key}={value}\"")
    }
}

/// dotenv: plain values bare (what `docker --env-file` needs, as it reads values literally);
/// otherwise single quotes (literal in python-dotenv, Node's dotenv and Compose) or, when the
/// value holds a single quote or line break, double quotes with backslash escapes.
fn dotenv_quote(value: &str) -> String {
    if is_plain(value) {
        value.to_string()
    } else if !value.contains(['\'', '\n', '\r']) {
        format!("'{value}'")
    } else {
        let mut out = String::from("\"");
        for c in value.chars() {
            match c {
                '\\' => out.push_str(r"\\"),
                '"' => out.push_str("\\\""),
                '$' => out.push_str(r"\$"),
                '\n' => out.push_str(r"\n"),
                '\r' => out.push_str(r"\r"),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use std::collections::BTreeMap;
    use std::process::Command;
    use time::macros::datetime;

    fn creds() -> RoleCredentials {
        RoleCredentials {
            access_key_id: "ASIAEXAMPLEKEY123456".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            session_token: Secret::new("IQoJb3JpZ2luX2VjE/+abc==xyz="),
            expiration: datetime!(2026-11-22 18:00:00 UTC),
            account_id: "111122223333".into(),
        }
    }

    /// Values a shell would mangle if they were not quoted right.
    fn nasty() -> RoleCredentials {
        RoleCredentials {
            access_key_id: "-n key with space".into(),
            secret_access_key: Secret::new("a'b\"c$HOME`id`\\n\\ %PATH% & | ; <x> ^ ! * ? ~ #"),
            session_token: Secret::new("line1\nline2 $(echo pwned) 'q' \u{2019}typo\u{2019} {a,b}"),
            ..creds()
        }
    }

    const PROCESS: &str = r#"{"Version":1,"AccessKeyId":"ASIAEXAMPLEKEY123456","SecretAccessKey":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY","SessionToken":"IQoJb3JpZ2luX2VjE/+abc==xyz=","Expiration":"2026-11-22T18:00:00Z"}
"#;

    #[test]
    fn process_is_protocol_json_on_one_line() {
        assert_eq!(
            render(Format::Process, &creds(), Some("eu-west-1")),
            PROCESS
        );
    }

    #[test]
    fn timestamps_are_utc_z_without_fraction() {
        let t = datetime!(2026-01-02 03:04:05.678 +02:00);
        assert_eq!(crate::timefmt::rfc3339_z(t), "2026-01-02T01:04:05Z");
    }

    #[test]
    fn env_formats_match_the_aws_cli() {
        let c = creds();
        assert_eq!(
            render(Format::Env, &c, None),
            "export AWS_ACCESS_KEY_ID=ASIAEXAMPLEKEY123456\n\
             export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n\
             export AWS_SESSION_TOKEN=IQoJb3JpZ2luX2VjE/+abc==xyz=\n\
             export AWS_CREDENTIAL_EXPIRATION=2026-11-22T18:00:00Z\n"
        );
        assert_eq!(
            render(Format::EnvNoExport, &c, Some("eu-west-1")),
            "AWS_ACCESS_KEY_ID=ASIAEXAMPLEKEY123456\n\
             AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n\
             AWS_SESSION_TOKEN=IQoJb3JpZ2luX2VjE/+abc==xyz=\n\
             AWS_CREDENTIAL_EXPIRATION=2026-11-22T18:00:00Z\n\
             AWS_REGION=eu-west-1\n\
             AWS_DEFAULT_REGION=eu-west-1\n"
        );
        assert_eq!(
            render(Format::Fish, &c, Some("eu-west-1")),
            "set -gx AWS_ACCESS_KEY_ID \"ASIAEXAMPLEKEY123456\"\n\
             set -gx AWS_SECRET_ACCESS_KEY \"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\"\n\
             set -gx AWS_SESSION_TOKEN \"IQoJb3JpZ2luX2VjE/+abc==xyz=\"\n\
             set -gx AWS_CREDENTIAL_EXPIRATION \"2026-11-22T18:00:00Z\"\n\
             set -gx AWS_REGION \"eu-west-1\"\n\
             set -gx AWS_DEFAULT_REGION \"eu-west-1\"\n"
        );
        assert_eq!(
            render(Format::Powershell, &c, None),
            "$Env:AWS_ACCESS_KEY_ID=\"ASIAEXAMPLEKEY123456\"\n\
             $Env:AWS_SECRET_ACCESS_KEY=\"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\"\n\
             $Env:AWS_SESSION_TOKEN=\"IQoJb3JpZ2luX2VjE/+abc==xyz=\"\n\
             $Env:AWS_CREDENTIAL_EXPIRATION=\"2026-11-22T18:00:00Z\"\n"
        );
        assert_eq!(
            render(Format::WindowsCmd, &c, Some("eu-west-1")),
            "set AWS_ACCESS_KEY_ID=ASIAEXAMPLEKEY123456\n\
             set AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n\
             set AWS_SESSION_TOKEN=IQoJb3JpZ2luX2VjE/+abc==xyz=\n\
             set AWS_CREDENTIAL_EXPIRATION=2026-11-22T18:00:00Z\n\
             set AWS_REGION=eu-west-1\n\
             set AWS_DEFAULT_REGION=eu-west-1\n"
        );
        assert_eq!(
            render(Format::Dotenv, &c, Some("eu-west-1")),
            "AWS_ACCESS_KEY_ID=ASIAEXAMPLEKEY123456\n\
             AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n\
             AWS_SESSION_TOKEN=IQoJb3JpZ2luX2VjE/+abc==xyz=\n\
             AWS_CREDENTIAL_EXPIRATION=2026-11-22T18:00:00Z\n\
             AWS_REGION=eu-west-1\n\
             AWS_DEFAULT_REGION=eu-west-1\n"
        );
    }

    #[test]
    fn json_has_every_field() {
        let out = render(Format::Json, &creds(), Some("eu-west-1"));
        assert!(out.contains("\n  \"Version\": 1,\n"), "{out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["AccessKeyId"], "ASIAEXAMPLEKEY123456");
        assert_eq!(
            v["SecretAccessKey"],
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        );
        assert_eq!(v["SessionToken"], "IQoJb3JpZ2luX2VjE/+abc==xyz=");
        assert_eq!(v["Expiration"], "2026-11-22T18:00:00Z");
        assert_eq!(v["AccountId"], "111122223333");
        assert_eq!(v["Region"], "eu-west-1");
        let v: serde_json::Value =
            serde_json::from_str(&render(Format::Json, &creds(), None)).unwrap();
        assert!(v["Region"].is_null());
    }

    #[test]
    fn value_enum_names() {
        use clap::ValueEnum;
        let names: Vec<String> = Format::value_variants()
            .iter()
            .map(|f| f.to_possible_value().unwrap().get_name().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "process",
                "env",
                "env-no-export",
                "fish",
                "powershell",
                "windows-cmd",
                "dotenv",
                "json"
            ]
        );
    }

    #[test]
    fn cache_serde_round_trip_keeps_secrets_out_of_debug() {
        let c = creds();
        let text = serde_json::to_string(&c).unwrap();
        assert!(
            text.contains(r#""expiration":"2026-11-22T18:00:00Z""#),
            "{text}"
        );
        let back: RoleCredentials = serde_json::from_str(&text).unwrap();
        assert_eq!(back, c);
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("wJalr") && !debug.contains("IQoJ"),
            "{debug}"
        );
    }

    #[test]
    fn quoting_of_unusual_values() {
        assert_eq!(posix_quote("it's"), r"'it'\''s'");
        assert_eq!(posix_quote(""), "''");
        assert_eq!(fish_quote(r"a\b'c"), r"'a\\b\'c'");
        assert_eq!(powershell_quote("it's $x"), "'it''s $x'");
        assert_eq!(cmd_set("K", "a&b"), "set \"K=a&b\"");
        assert_eq!(dotenv_quote("a b$c"), "'a b$c'");
        assert_eq!(dotenv_quote("it's\n$x"), r#""it's\n\$x""#);
    }

    /// The variables a shell ends up with after running `snippet`, read back through `env`.
    fn through_shell(program: &str, args: &[&str], snippet: &str) -> BTreeMap<String, String> {
        let output = Command::new(program)
            .args(args)
            .arg(snippet)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .output()
            .unwrap_or_else(|e| panic!("running {program}: {e}"));
        assert!(
            output.status.success(),
            "{program} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8(output.stdout).unwrap();
        text.split('\0')
            .filter_map(|pair| pair.split_once('='))
            .filter(|(k, _)| k.starts_with("AWS_"))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn expected(creds: &RoleCredentials, region: Option<&str>) -> BTreeMap<String, String> {
        env_vars(creds, region)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    fn on_path(program: &str) -> bool {
        std::env::var_os("PATH").is_some_and(|paths| {
            std::env::split_paths(&paths).any(|dir| dir.join(program).is_file())
        })
    }

    #[test]
    fn bash_reads_back_the_same_values() {
        if !on_path("bash") {
            eprintln!("note: bash is not on PATH; shell round trip skipped");
            return;
        }
        for c in [creds(), nasty()] {
            let env = render(Format::Env, &c, Some("eu-west-1"));
            let got = through_shell("bash", &["-c"], &format!("{env}env -0"));
            assert_eq!(got, expected(&c, Some("eu-west-1")), "{env}");

            // Not exported: set in the shell, absent from a child's environment.
            let plain = render(Format::EnvNoExport, &c, None);
            let script = format!(
                "{plain}env -0; for v in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
                 AWS_SESSION_TOKEN AWS_CREDENTIAL_EXPIRATION; do \
                 printf 'SHELL_%s=%s\\0' \"$v\" \"${{!v}}\"; done"
            );
            let output = Command::new("bash")
                .arg("-c")
                .arg(&script)
                .env_clear()
                .output()
                .unwrap();
            let text = String::from_utf8(output.stdout).unwrap();
            let vars: BTreeMap<&str, &str> = text
                .split('\0')
                .filter_map(|pair| pair.split_once('='))
                .collect();
            assert!(!vars.contains_key("AWS_ACCESS_KEY_ID"), "{plain}");
            for (k, v) in env_vars(&c, None) {
                assert_eq!(vars.get(format!("SHELL_{k}").as_str()), Some(&v.as_str()));
            }
        }
    }

    #[test]
    fn fish_reads_back_the_same_values() {
        if !on_path("fish") {
            eprintln!("note: fish is not on PATH; fish round trip skipped");
            return;
        }
        for c in [creds(), nasty()] {
            let snippet = render(Format::Fish, &c, Some("eu-west-1"));
            let got = through_shell("fish", &["--no-config", "-c"], &format!("{snippet}env -0"));
            assert_eq!(got, expected(&c, Some("eu-west-1")), "{snippet}");
        }
    }

    #[test]
    fn powershell_reads_back_the_same_values() {
        if !on_path("pwsh") {
            eprintln!("note: pwsh is not on PATH; PowerShell round trip skipped");
            return;
        }
        for c in [creds(), nasty()] {
            let snippet = render(Format::Powershell, &c, Some("eu-west-1"));
            let script = format!(
                "{snippet}Get-ChildItem Env: | Where-Object Name -like 'AWS_*' | \
                 ForEach-Object {{ [Console]::Out.Write($_.Name + '=' + $_.Value + [char]0) }}"
            );
            let got = through_shell(
                "pwsh",
                &["-NoProfile", "-NonInteractive", "-Command"],
                &script,
            );
            assert_eq!(got, expected(&c, Some("eu-west-1")), "{snippet}");
        }
    }
}
