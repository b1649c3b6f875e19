//! Which roles refused the assertion's SessionDuration: STS answers a DurationSeconds above a
//! role's MaxSessionDuration with a ValidationError, and portico asks again with 3600. Without
//! a note every fetch for such a role would cost that refused call first; with it, the next
//! fetch with the same assertion asks 3600 at once.
//!
//! One small file per saml-session and role beside the kept assertion
//! (`~/.cache/portico/saml-durations/SHA1.json`, 0600 in a 0700 directory, written atomically):
//! the role ARN, the refused duration and the assertion's SHA-1 fingerprint — never the
//! assertion. A note about another assertion (a new sign-in) is no note: the new assertion's
//! SessionDuration is asked again.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::store::Assertion;
use super::AssertionStore;
use crate::cache::files::{sha1_hex, write_private};
use crate::settings::SamlSession;

const VERSION: u32 = 1;

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Note {
    version: u32,
    role_arn: String,
    /// The SHA-1 of the `SAMLResponse` the refusal was for.
    assertion: String,
    /// The DurationSeconds STS refused.
    refused: i32,
}

/// `{cache}/saml-durations/SHA1(session, role).json`: beside the kept assertions' folder, not in
/// it (a file there would pass for an assertion).
fn path(store: &AssertionStore, session: &SamlSession, role_arn: &str) -> PathBuf {
    store.beside(
        "saml-durations",
        &sha1_hex(&format!("{}\n{role_arn}", session.cache_key())),
    )
}

fn fingerprint(assertion: &Assertion) -> String {
    sha1_hex(assertion.saml_response.expose())
}

/// Whether STS refused `duration` for `role_arn` with this very assertion.
pub fn refused(
    store: &AssertionStore,
    session: &SamlSession,
    assertion: &Assertion,
    role_arn: &str,
    duration: i32,
) -> bool {
    let Ok(bytes) = std::fs::read(path(store, session, role_arn)) else {
        return false;
    };
    serde_json::from_slice::<Note>(&bytes).is_ok_and(|note| {
        note.version == VERSION
            && note.role_arn == role_arn
            && note.refused == duration
            && note.assertion == fingerprint(assertion)
    })
}

/// Notes that STS refused `duration` for `role_arn` with `assertion`. Best effort: without the
/// note the next fetch only costs one call more, so a write failure is a debug line.
pub fn remember(
    store: &AssertionStore,
    session: &SamlSession,
    assertion: &Assertion,
    role_arn: &str,
    duration: i32,
) {
    let note = Note {
        version: VERSION,
        role_arn: role_arn.to_string(),
        assertion: fingerprint(assertion),
        refused: duration,
    };
    let text = serde_json::to_vec_pretty(&note).expect("a duration note always serializes");
    if let Err(e) = write_private(&path(store, session, role_arn), &text) {
        crate::debug!("could not note the refused SessionDuration ({e})");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saml::response::ParsedResponse;
    use crate::secret::Secret;

    fn session() -> SamlSession {
        SamlSession {
            name: "corp".into(),
            idp_url: "https://login.microsoftonline.com/t/saml2".into(),
            entity_id: "urn:amazon:webservices".into(),
            sts_region: "us-east-1".into(),
            acs_port: None,
            sts_endpoint: "https://sts.us-east-1.amazonaws.com".into(),
            storage: Default::default(),
        }
    }

    fn assertion(response: &str) -> Assertion {
        Assertion::new(
            &session(),
            crate::saml::listener::Posted {
                saml_response: Secret::new(response.to_string()),
                parsed: ParsedResponse {
                    in_response_to: None,
                    roles: Vec::new(),
                    session_name: None,
                    session_duration: Some(28_800),
                    not_on_or_after: time::OffsetDateTime::now_utc(),
                    recipient: None,
                },
            },
        )
    }

    #[test]
    fn a_refusal_holds_for_its_role_and_assertion_only_and_keeps_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let store = AssertionStore::under(dir.path());
        let (s, first) = (session(), assertion("PHNhbWxwOlJlc3BvbnNlLz4="));
        let role = "arn:aws:iam::111122223333:role/Short";
        assert!(!refused(&store, &s, &first, role, 28_800));
        remember(&store, &s, &first, role, 28_800);
        assert!(refused(&store, &s, &first, role, 28_800));
        assert!(
            !refused(&store, &s, &first, role, 7_200),
            "another duration"
        );
        assert!(!refused(
            &store,
            &s,
            &first,
            "arn:aws:iam::111122223333:role/Other",
            28_800
        ));
        let second = assertion("PHNhbWxwOlJlc3BvbnNlIElEPSJ4Ii8+");
        assert!(!refused(&store, &s, &second, role, 28_800), "a new sign-in");

        let file = path(&store, &s, role);
        assert_eq!(file.parent().unwrap(), dir.path().join("saml-durations"));
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("PHNhbWxw"), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode();
            assert_eq!(mode(&file) & 0o777, 0o600);
            assert_eq!(mode(file.parent().unwrap()) & 0o777, 0o700);
        }
        // A corrupt note is no note.
        std::fs::write(&file, "{").unwrap();
        assert!(!refused(&store, &s, &first, role, 28_800));
    }
}
