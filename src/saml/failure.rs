//! The last SAML failure of a saml-session, remembered so that `portico doctor` can explain it
//! with its fix after the command that met it has gone: one small 0600 file beside the kept
//! assertion (`~/.cache/portico/saml-failures/SHA1.json`), written when a sign-in or an
//! AssumeRoleWithSAML fails, deleted when keys are obtained again. It holds the error's kind,
//! its message (which never carries the assertion, RelayState or a key: see [`SamlError`]), the
//! role asked for and the time — no secret.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{AssertionStore, SamlError};
use crate::cache::files::{remove_if_exists, sha1_hex};
use crate::settings::SamlSession;
use crate::timefmt::rfc3339;

/// One remembered failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    #[serde(with = "rfc3339")]
    pub at: OffsetDateTime,
    /// What went wrong, as [`kind`] names it (`AccessDenied`, `reply-url-timeout`…).
    pub kind: String,
    /// The error as the user saw it.
    pub message: String,
    /// The role asked for, when the failure was about one.
    pub role_arn: Option<String>,
}

/// `{cache}/saml-failures/SHA1.json`: beside the kept assertions' folder, not in it (a file
/// there would pass for an assertion).
fn path(store: &AssertionStore, session: &SamlSession) -> PathBuf {
    store.beside("saml-failures", &sha1_hex(&session.cache_key()))
}

/// The kind a failure is filed under: the service's code where there is one, else a short name.
/// `None` for what is not a failure of the set-up (no sign-in kept yet).
pub fn kind(error: &SamlError) -> Option<&'static str> {
    Some(match error {
        SamlError::LoginRequired { .. } | SamlError::Cancelled => return None,
        SamlError::NoBrowser { .. } => "no-browser",
        SamlError::Listener { .. } => "listener",
        SamlError::Timeout { .. } => "reply-url-timeout",
        SamlError::WrongPath { .. } => "wrong-path",
        SamlError::InResponseTo => "in-response-to",
        SamlError::Malformed { .. } => "malformed",
        SamlError::Status { .. } => "idp-status",
        SamlError::Unsigned => "unsigned",
        SamlError::Expired { .. } => "expired-assertion",
        SamlError::NoRoles => "no-roles",
        SamlError::RoleNotInAssertion { .. } => "role-not-in-assertion",
        SamlError::AccessDenied { .. } => "AccessDenied",
        SamlError::InvalidIdentityToken { .. } => "InvalidIdentityToken",
        SamlError::ExpiredToken { .. } => "ExpiredTokenException",
        SamlError::IdpRejectedClaim { .. } => "IDPRejectedClaim",
        SamlError::RegionDisabled { .. } => "RegionDisabledException",
        SamlError::Network { .. } => "network",
        SamlError::Service { detail } if detail.starts_with("ValidationError") => "ValidationError",
        SamlError::Service { .. } => "service",
        SamlError::Store { .. } => "store",
        SamlError::Keyring(_) => "keyring",
    })
}

/// Remembers `error` as the session's last failure. Best effort: without the note only doctor
/// knows less, so a write failure is a debug line.
pub fn remember(
    store: &AssertionStore,
    session: &SamlSession,
    role_arn: Option<&str>,
    error: &SamlError,
) {
    let Some(kind) = kind(error) else {
        return;
    };
    let note = Failure {
        at: OffsetDateTime::now_utc(),
        kind: kind.to_string(),
        message: error.to_string(),
        role_arn: role_arn.map(String::from),
    };
    AssertionStore::write_note(&path(store, session), &note, "remember the SAML failure");
}

/// Forgets the last failure (keys were obtained since).
pub fn forget(store: &AssertionStore, session: &SamlSession) {
    if let Err(e) = remove_if_exists(&path(store, session)) {
        crate::debug!("could not delete the SAML failure note ({e})");
    }
}

/// The session's last failure, if one is remembered (a corrupt note is none).
pub fn last(store: &AssertionStore, session: &SamlSession) -> Option<Failure> {
    AssertionStore::read_note(&path(store, session))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_kept_0600_without_secrets_and_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let store = AssertionStore::under(dir.path());
        let session = crate::saml::test_session();
        assert_eq!(last(&store, &session), None);
        let error = SamlError::AccessDenied {
            role_arn: "arn:aws:iam::111122223333:role/Admin".into(),
            recipient: "http://localhost:4000/saml".into(),
        };
        remember(
            &store,
            &session,
            Some("arn:aws:iam::111122223333:role/Admin"),
            &error,
        );
        let kept = last(&store, &session).unwrap();
        assert_eq!(kept.kind, "AccessDenied");
        assert_eq!(kept.message, error.to_string());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path(&store, &session))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Not a failure of the set-up: the previous note stays.
        remember(
            &store,
            &session,
            None,
            &SamlError::LoginRequired {
                session: "s".into(),
                name: "n".into(),
            },
        );
        assert_eq!(last(&store, &session).unwrap().kind, "AccessDenied");
        // Not in the kept assertions' folder.
        assert!(!dir.path().join("saml").exists());
        forget(&store, &session);
        assert_eq!(last(&store, &session), None);
    }
}
