//! The command line, in one place. Flags are parsed here with no I/O; `settings` resolves them.
//! The man page (`man/portico.1`) is generated from these definitions by `tests/man.rs`.

use clap::{ArgAction, Parser};

/// Examples, shown by `--help` and in the man page (entries separated by blank lines:
/// first line the command, the rest what it does).
pub const EXAMPLES: &str = "\
portico --version
Print the version.

AWS_CONFIG_FILE=./config portico -v --help
Use another config file, and say more on stderr.
";

/// Environment variables portico reads (same format as EXAMPLES).
pub const ENVIRONMENT: &str = "\
AWS_CONFIG_FILE
The AWS config file to read (default ~/.aws/config).

AWS_PROFILE, AWS_DEFAULT_PROFILE
The profile used when --profile is not given.

AWS_ENDPOINT_URL_SSO_OIDC, AWS_ENDPOINT_URL_SSO, AWS_ENDPOINT_URL
Endpoints for the OIDC and portal services, instead of https://oidc.REGION.amazonaws.com and https://portal.sso.REGION.amazonaws.com (used to point portico at the emulator).

HOME
Where ~/.aws is.
";

/// Files portico reads and writes (same format as EXAMPLES).
pub const FILES: &str = "\
~/.aws/config
Profiles and sso-sessions, shared with the AWS CLI and SDKs.

~/.aws/sso/cache/SHA1.json
Sign-in tokens, in the AWS CLI's format, shared with it (mode 0600).
";

fn after_help() -> String {
    format!(
        "{}\nExamples:\n{}",
        crate::exit::help_text(),
        EXAMPLES
            .trim()
            .split("\n\n")
            .map(|e| {
                let mut lines = e.lines();
                let cmd = lines.next().unwrap_or_default();
                let what: Vec<&str> = lines.collect();
                format!("  {cmd}\n      {}", what.join(" "))
            })
            .collect::<Vec<_>>()
            .join("\n")
    )
}

/// portico — AWS IAM Identity Center sign-in and short-lived credentials.
#[derive(Debug, Parser)]
#[command(
    name = "portico",
    version,
    about = "Sign in to AWS IAM Identity Center, pick an account and role, and hand out short-lived credentials",
    long_about = "portico signs you in to AWS IAM Identity Center (also when it is federated with \
Microsoft Entra ID), lists the AWS accounts and permission sets assigned to you, and hands out \
short-lived role credentials. It shares its sign-in with the AWS CLI and SDKs: the token cache \
in ~/.aws/sso/cache is the same file.",
    after_help = after_help(),
)]
pub struct Cli {
    /// Say more on stderr (-v: what is done; -vv: details). Secrets are never printed.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,
}
