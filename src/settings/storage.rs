//! `portico_storage` in an `[sso-session]` or `[saml-session]`, and `PORTICO_STORAGE` over it:
//! which store keeps the session's secrets (see `crate::vault`). Kept apart from the rest of
//! the settings so the key's rules and messages are in one place.

use crate::model::Storage;
use crate::sanitize::for_terminal;

/// The variable that overrides every session's `portico_storage`.
pub const ENV: &str = "PORTICO_STORAGE";

/// A `portico_storage` (or `PORTICO_STORAGE`) value that names no store.
#[derive(Debug, thiserror::Error)]
#[error(
    "{where_} is \"{}\", which is not a storage; use one of file, keyring, kernel-keyring",
    for_terminal(value)
)]
pub struct BadStorage {
    where_: String,
    value: String,
}

/// The storage of the section `header` (e.g. `sso-session corp`) of the config at `path`, whose
/// `portico_storage` is `configured`: `PORTICO_STORAGE` if set, else the key, else `file`.
pub fn resolve(configured: Option<&str>, header: &str, path: &str) -> Result<Storage, BadStorage> {
    let env = std::env::var(ENV).ok().filter(|v| !v.trim().is_empty());
    resolve_with(env.as_deref(), configured, header, path)
}

fn resolve_with(
    env: Option<&str>,
    configured: Option<&str>,
    header: &str,
    path: &str,
) -> Result<Storage, BadStorage> {
    if let Some(value) = env {
        return Storage::parse(value).ok_or_else(|| BadStorage {
            where_: ENV.to_string(),
            value: value.to_string(),
        });
    }
    match configured {
        None => Ok(Storage::File),
        Some(value) => Storage::parse(value).ok_or_else(|| BadStorage {
            where_: format!(
                "{} in [{}] of {path}",
                crate::consts::PORTICO_STORAGE,
                for_terminal(header)
            ),
            value: value.to_string(),
        }),
    }
}

/// The profiles of `ctx`'s config that name the sso-session `session` with `sso_session` and
/// have no `credential_process`: the AWS CLI reads such a profile's token from its own file,
/// which a session whose secrets are in a keyring never writes. `portico profiles sync
/// --credential-process` makes them go through portico instead.
pub fn profiles_reading_the_token_file(ctx: &super::Context, session: &str) -> Vec<String> {
    ctx.config
        .profile_names()
        .into_iter()
        .filter(|name| {
            ctx.config.profile(name).is_some_and(|section| {
                section.get(crate::consts::SSO_SESSION) == Some(session)
                    && section.get(crate::consts::CREDENTIAL_PROCESS).is_none()
            })
        })
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_wins_then_the_key_then_file() {
        let r = |env, key| resolve_with(env, key, "sso-session corp", "/c");
        assert_eq!(r(None, None).unwrap(), Storage::File);
        assert_eq!(r(None, Some("keyring")).unwrap(), Storage::Keyring);
        assert_eq!(
            r(Some("kernel-keyring"), Some("keyring")).unwrap(),
            Storage::KernelKeyring
        );
        let bad = r(None, Some("vault")).unwrap_err().to_string();
        assert!(
            bad.contains("portico_storage in [sso-session corp] of /c")
                && bad.contains("file, keyring, kernel-keyring"),
            "{bad}"
        );
        let bad = r(Some("disk"), None).unwrap_err().to_string();
        assert!(bad.starts_with("PORTICO_STORAGE is \"disk\""), "{bad}");
    }
}
