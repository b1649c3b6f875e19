//! The environment a child program gets from portico (`exec`, the portal's shell, the demo's
//! command): variables that would hand it other credentials or another profile are removed
//! first, so the keys portico sets are the ones every SDK and the AWS CLI use.

use std::process::Command;

/// Variables that name other credentials or a profile. Static keys in the environment come
/// before the container endpoint and profiles in every SDK's chain, and a profile variable
/// would make the AWS CLI look elsewhere; `AWS_SECURITY_TOKEN` is the old name some tools
/// still read for the session token.
pub const CREDENTIAL_VARS: [&str; 11] = [
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

/// Removes [`CREDENTIAL_VARS`] from `command`'s environment.
pub fn scrub_credentials(command: &mut Command) {
    for var in CREDENTIAL_VARS {
        command.env_remove(var);
    }
}

/// [`scrub_credentials`], then sets `vars`.
pub fn with_vars<'a>(
    command: &mut Command,
    vars: impl IntoIterator<Item = (&'a str, String)>,
) -> &mut Command {
    scrub_credentials(command);
    for (name, value) in vars {
        command.env(name, value);
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_credentials_and_profiles_never_reach_the_child() {
        let mut command = Command::new("env");
        command
            .env("AWS_PROFILE", "other")
            .env("AWS_SECURITY_TOKEN", "old");
        command.env("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/");
        with_vars(&mut command, [("AWS_ACCESS_KEY_ID", "ASIA1".to_string())]);
        let out = String::from_utf8(command.output().expect("env runs").stdout).unwrap();
        assert!(!out.contains("AWS_PROFILE="), "{out}");
        assert!(!out.contains("AWS_SECURITY_TOKEN="), "{out}");
        assert!(
            !out.contains("AWS_CONTAINER_CREDENTIALS_FULL_URI="),
            "{out}"
        );
        assert!(out.contains("AWS_ACCESS_KEY_ID=ASIA1"), "{out}");
    }
}
