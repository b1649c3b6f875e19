//! A refresh that Identity Center refused, remembered in portico's own cache directory — never
//! in the token file, which the AWS CLI shares and would carry on — so that `status` and
//! `doctor` stop promising a refresh that cannot happen. One small 0600 file per session:
//! `{portico cache}/refresh-refused/{sha1(cache key)}.json`.
//!
//! The record names the refused token by the SHA-1 fingerprints of its refresh and access
//! tokens (one-way digests of long random tokens, not the tokens): when any sign-in — portico's
//! or the AWS CLI's — or a refresh by another program writes a new token, the record no longer
//! applies, even where the service keeps the refresh token unchanged. A refusal is recorded
//! only while the refused token is still the file's: a program that refreshed meanwhile
//! (the AWS CLI spends the same refresh token without portico's lock) is not called refused.
//! A sign-in or a successful refresh by portico also deletes it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Store;
use crate::cache::files::{remove_if_exists, sha1_hex, write_private};
use crate::cache::token::{format_time, parse_time, TokenFile};
use crate::settings::SsoSession;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Refusal {
    refused_at: String,
    refresh_token_sha1: String,
    /// Absent in records of older versions, which then match on the refresh token alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token_sha1: Option<String>,
}

fn path(store: &Store, session: &SsoSession) -> PathBuf {
    store
        .refusals
        .join(format!("{}.json", sha1_hex(session.cache_key())))
}

/// Remembers that the refresh token in `token` was refused at `now` — if `token` is still the
/// one in the token file (another program may have written its own since). Best effort:
/// without the record only `status` and `doctor` are less precise and the next process asks
/// once more, so a write failure is a debug line.
pub(super) fn remember_if_current(
    store: &Store,
    session: &SsoSession,
    token: &TokenFile,
    now: OffsetDateTime,
) {
    let Some(refresh) = &token.refresh_token else {
        return;
    };
    let current = store.tokens.load_token(session).ok().flatten();
    if !current.is_some_and(|c| {
        c.access_token == token.access_token && c.refresh_token == token.refresh_token
    }) {
        crate::debug!("the refused token is no longer the cached one; not recording the refusal");
        return;
    }
    let record = Refusal {
        refused_at: format_time(now),
        refresh_token_sha1: sha1_hex(refresh.expose()),
        access_token_sha1: Some(sha1_hex(token.access_token.expose())),
    };
    let text = serde_json::to_vec(&record).expect("a refusal always serializes");
    if let Err(e) = write_private(&path(store, session), &text) {
        crate::debug!("could not remember the refused refresh ({e})");
    }
}

/// Forgets a refusal (after a new sign-in, or a refresh that worked).
pub(super) fn forget(store: &Store, session: &SsoSession) {
    if let Err(e) = remove_if_exists(&path(store, session)) {
        crate::debug!("could not delete the refused-refresh record ({e})");
    }
}

/// When Identity Center refused the refresh token `token` holds, if it did.
pub(super) fn refused_at(store: &Store, session: &SsoSession, token: &TokenFile) -> Option<String> {
    let refresh = token.refresh_token.as_ref()?;
    let bytes = std::fs::read(path(store, session)).ok()?;
    let record: Refusal = serde_json::from_slice(&bytes).ok()?;
    // A keyring session's token read for its facts has no secrets to compare; the record is
    // forgotten whenever a new token is kept, and no other tool writes such a token, so a
    // record there is the current token's.
    let compare = !token.facts_only();
    if compare && record.refresh_token_sha1 != sha1_hex(refresh.expose()) {
        return None;
    }
    if compare
        && record
            .access_token_sha1
            .is_some_and(|access| access != sha1_hex(token.access_token.expose()))
    {
        return None;
    }
    // Re-formatted, so that nothing but a time from the file reaches a terminal.
    Some(parse_time(&record.refused_at).map_or_else(|| "an unknown time".to_string(), format_time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::token::TokenCache;
    use crate::secret::Secret;
    use time::macros::datetime;

    fn session() -> SsoSession {
        SsoSession {
            name: Some("corp".into()),
            start_url: "https://d-1234567890.awsapps.com/start".into(),
            region: "eu-central-1".into(),
            scopes: vec!["sso:account:access".into()],
            configured_scopes: None,
            oidc_endpoint: "http://x".into(),
            portal_endpoint: "http://x".into(),
            storage: Default::default(),
        }
    }

    fn token(access: &str, refresh: &str) -> TokenFile {
        TokenFile {
            start_url: None,
            region: None,
            access_token: Secret::new(access),
            expires_at: "2026-11-22T18:00:00Z".into(),
            client_id: Some("c".into()),
            client_secret: Some(Secret::new("s")),
            registration_expires_at: Some("2027-01-01T00:00:00Z".into()),
            refresh_token: Some(Secret::new(refresh)),
            extra: Default::default(),
        }
    }

    fn store(dir: &std::path::Path) -> Store {
        Store {
            tokens: TokenCache::new(dir.join("sso")),
            locks: dir.join("locks"),
            refusals: dir.join("refused"),
            own_registrations: TokenCache::new(dir.join("registrations")),
            config: None,
        }
    }

    #[test]
    fn a_refusal_is_kept_only_for_the_token_the_file_still_holds() {
        let dir = tempfile::tempdir().unwrap();
        let (store, session) = (store(dir.path()), session());
        let now = datetime!(2026-11-22 17:00:00 UTC);
        let refused = token("a1", "r1");

        // Another program wrote its token before the refusal was recorded: nothing is kept.
        store
            .tokens
            .store_token(&session, &token("a2", "r2"))
            .unwrap();
        remember_if_current(&store, &session, &refused, now);
        assert_eq!(refused_at(&store, &session, &refused), None);

        // Still the file's token: kept, and said for it.
        store.tokens.store_token(&session, &refused).unwrap();
        remember_if_current(&store, &session, &refused, now);
        assert_eq!(
            refused_at(&store, &session, &refused).as_deref(),
            Some("2026-11-22T17:00:00Z")
        );
        // A token written later with the same refresh token (a service that does not rotate
        // it) but another access token is not the refused one.
        assert_eq!(refused_at(&store, &session, &token("a3", "r1")), None);
        assert_eq!(refused_at(&store, &session, &token("a1", "r9")), None);
        forget(&store, &session);
        assert_eq!(refused_at(&store, &session, &refused), None);
    }
}
