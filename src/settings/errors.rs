//! [`SettingsError`]: why the settings could not be resolved, each message naming the file or
//! profile and the fix; and the closest names an unknown profile's message suggests.

use super::ProfileSource;
use crate::awsconfig::LoadError;

/// Why the settings could not be resolved. Each message names the file or profile and the fix;
/// every name in it is cleaned for the terminal (it may come from the file or the environment).
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("HOME is not set, so ~/.aws cannot be found; set HOME or AWS_CONFIG_FILE")]
    NoHome,
    #[error(transparent)]
    Config(#[from] LoadError),
    #[error(transparent)]
    Storage(#[from] super::storage::BadStorage),
    #[error("{}", profile_not_found(profile, *origin, path, suggestions, *count))]
    ProfileNotFound {
        profile: String,
        origin: ProfileSource,
        path: String,
        /// The closest profile names, best first.
        suggestions: Vec<String>,
        /// How many profiles the file has.
        count: usize,
    },
    #[error("sso-session \"{}\" is not in {path}{}; add a [sso-session {}] section or run `portico configure`", t(name), known("sso-sessions", available), t(name))]
    SessionNotFound {
        name: String,
        path: String,
        available: Vec<String>,
    },
    #[error("[{}] in {path} has no {key}; add `{key} = …` to it", t(section))]
    MissingKey {
        section: String,
        path: String,
        key: &'static str,
    },
    #[error(
        "profile \"{}\" in {path} sets {}; remove {key} from [profile {}]",
        t(profile),
        t(detail),
        t(profile)
    )]
    Mismatch {
        profile: String,
        path: String,
        key: &'static str,
        /// `KEY = VALUE but its sso-session NAME says OTHER`.
        detail: String,
    },
    #[error(
        "profile \"{}\" in {path} asks for its own keys: its credential_process leads back to it ({}); point it at a profile with sso_session, or at --account/--role/--sso-session",
        t(profile),
        t(&chain.join(" → "))
    )]
    ProcessLoop {
        profile: String,
        path: String,
        /// The profiles in the order their credential_process lines named them.
        chain: Vec<String>,
    },
    /// A chained role's profile (role_arn, source_profile, …) that cannot be used; `problem`
    /// says why and the fix.
    #[error("profile \"{}\" in {path} {problem}", t(profile))]
    Chain {
        profile: String,
        path: String,
        problem: String,
    },
    #[error("profile \"{}\" in {path} has no Identity Center settings; give it `sso_session = NAME` (or run `portico configure`)", t(profile))]
    NotSso { profile: String, path: String },
    #[error(
        "profile \"{}\" in {path} has no {key}; add `{key} = …` or pass --account and --role",
        t(profile)
    )]
    NoRole {
        profile: String,
        path: String,
        key: &'static str,
    },
    #[error("{what} \"{}\" is not a valid start URL; it looks like https://d-1234567890.awsapps.com/start", t(value))]
    BadStartUrl { what: String, value: String },
    #[error("{what} \"{}\" is not an AWS region name like eu-central-1", t(value))]
    BadRegion { what: String, value: String },
    #[error(
        "{what} \"{}\" is not an AWS account ID: account IDs are 12 digits, like 111122223333",
        t(value)
    )]
    BadAccount { what: String, value: String },
    #[error("--start-url needs --region (the region your Identity Center lives in)")]
    StartUrlWithoutRegion,
    #[error("{} is not an http(s) URL; fix the variable or unset it", t(.0))]
    BadEndpoint(String),
    #[error("no Identity Center session is configured in {path}; run `portico configure`{}", if *takes_start_url { ", or pass --start-url URL --region REGION" } else { " first" })]
    NothingConfigured { path: String, takes_start_url: bool },
    #[error("{path} has several sso-sessions ({}); pick one with --sso-session or --profile", t(&names.join(", ")))]
    Ambiguous { path: String, names: Vec<String> },
    #[error("saml-session \"{}\" is not in {path}{}; add a [saml-session {}] section or run `portico configure --saml-session {} --idp-url URL`", t(name), known("saml-sessions", available), t(name), t(name))]
    SamlSessionNotFound {
        name: String,
        path: String,
        available: Vec<String>,
    },
    #[error(
        "{key} \"{}\" of [saml-session {}] in {path} {why}",
        t(value),
        t(session)
    )]
    BadSamlSetting {
        session: String,
        path: String,
        key: &'static str,
        value: String,
        /// What is wrong and the fix, e.g. `is not an https URL; use …`.
        why: &'static str,
    },
}

fn t(text: &str) -> String {
    crate::sanitize::for_terminal(text)
}

fn known(what: &str, names: &[String]) -> String {
    if names.is_empty() {
        String::new()
    } else {
        format!(" (known {what}: {})", t(&names.join(", ")))
    }
}

/// The one line for an unknown profile: where the name came from, the closest names, and the
/// commands that show or write profiles (never the whole list: a sync writes hundreds).
fn profile_not_found(
    profile: &str,
    source: ProfileSource,
    path: &str,
    suggestions: &[String],
    count: usize,
) -> String {
    let name = t(profile);
    let mut text = match source {
        ProfileSource::Flag => format!("profile \"{name}\" is not in {path} (named by --profile)"),
        ProfileSource::AwsProfile => {
            format!("profile \"{name}\" is not in {path} (named by AWS_PROFILE)")
        }
        ProfileSource::AwsDefaultProfile => {
            format!("profile \"{name}\" is not in {path} (named by AWS_DEFAULT_PROFILE)")
        }
        ProfileSource::Default => format!(
            "no profile was named (no --profile, AWS_PROFILE or AWS_DEFAULT_PROFILE) and {path} has no [default] profile"
        ),
        ProfileSource::Request => {
            format!("profile \"{name}\" is not in {path} (named by the request's path)")
        }
        ProfileSource::CredentialProcess => format!(
            "profile \"{name}\" is not in {path} (named by another profile's credential_process)"
        ),
    };
    match suggestions {
        [] => {}
        [one] => text.push_str(&format!("; did you mean {}?", t(one))),
        many => {
            let names: Vec<String> = many.iter().map(|n| t(n)).collect();
            let (last, rest) = names.split_last().expect("two or more");
            text.push_str(&format!("; did you mean {} or {last}?", rest.join(", ")));
        }
    }
    let fix = match source {
        ProfileSource::Default => "pass --profile NAME",
        ProfileSource::Flag => "pass the name of a profile in the file",
        ProfileSource::AwsProfile => "set AWS_PROFILE to a profile in the file, or pass --profile",
        ProfileSource::AwsDefaultProfile => {
            "set AWS_DEFAULT_PROFILE to a profile in the file, or pass --profile"
        }
        ProfileSource::Request => "ask for /role/PROFILE with a profile in the file",
        ProfileSource::CredentialProcess => {
            "point that credential_process at a profile in the file"
        }
    };
    if count == 0 {
        text.push_str(
            "; it has no profiles yet: `portico profiles sync` writes one per role assigned to you (or `portico configure` one)",
        );
    } else {
        text.push_str(&format!(
            "; {fix} (`portico list` shows your roles, `portico profiles sync` writes a profile for each)"
        ));
    }
    text
}

/// The profile names closest to `wanted`, best first: the same text in another case, names
/// within a small edit distance, then names that contain it.
pub fn closest_names<'a>(wanted: &str, names: &[&'a str]) -> Vec<&'a str> {
    let lower = wanted.to_lowercase();
    let limit = (wanted.chars().count() / 3).clamp(1, 3);
    let mut scored: Vec<(usize, &str)> = names
        .iter()
        .filter_map(|&name| {
            let other = name.to_lowercase();
            let distance = strsim::damerau_levenshtein(&lower, &other);
            if distance <= limit {
                Some((distance, name))
            } else if lower.chars().count() >= 3 && other.contains(&lower) {
                Some((limit + 1 + other.len() - lower.len(), name))
            } else {
                None
            }
        })
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, name)| name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_names_prefer_small_edits_then_containing_names() {
        let names = ["dev-admin", "dev-read", "prod-admin", "sandbox"];
        assert_eq!(closest_names("dev-admn", &names), ["dev-admin"]);
        assert_eq!(closest_names("DEV-ADMIN", &names), ["dev-admin"]);
        assert_eq!(closest_names("admin", &names), ["dev-admin", "prod-admin"]);
        assert!(closest_names("zzz", &names).is_empty());
    }
}
