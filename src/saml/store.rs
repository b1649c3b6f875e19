//! The kept assertion: the last sign-in of a saml-session, one file
//! (`~/.cache/portico/saml/SHA1.json`, 0600 in a 0700 directory, written atomically), used for
//! each role the user asks keys for until its SubjectConfirmation `NotOnOrAfter`, so several
//! roles cost one browser trip. A lock per saml-session makes concurrent processes sign in once.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::response::SamlRole;
use crate::cache::files::{remove_if_exists, sha1_hex, write_private};
use crate::cache::lock::{self, SessionLock};
use crate::cache::secrets::{self, SplitError};
use crate::secret::Secret;
use crate::settings::SamlSession;
use crate::timefmt::rfc3339;
use crate::vault::{Storage, VaultError};

/// What a keyring keeps of the file when the saml-session's storage is one.
const SECRETS: &[&[&str]] = &[&["samlResponse"]];

/// An assertion is handed to STS only with this much of its life left (the call and a clock a
/// little behind STS's must fit).
pub const MARGIN: time::Duration = time::Duration::seconds(20);

const VERSION: u32 = 1;

/// A sign-in's result, as kept on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assertion {
    version: u32,
    /// The saml-session's cache key, so a file is never used for another session.
    session_key: String,
    pub idp_url: String,
    /// The `SAMLResponse` form value exactly as the browser posted it.
    pub saml_response: Secret,
    #[serde(with = "rfc3339")]
    pub not_on_or_after: OffsetDateTime,
    pub roles: Vec<SamlRole>,
    pub session_name: Option<String>,
    pub session_duration: Option<u32>,
    pub recipient: Option<String>,
}

impl Assertion {
    pub fn new(session: &SamlSession, posted: super::listener::Posted) -> Assertion {
        let p = posted.parsed;
        Assertion {
            version: VERSION,
            session_key: session.cache_key(),
            idp_url: session.idp_url.clone(),
            saml_response: posted.saml_response,
            not_on_or_after: p.not_on_or_after,
            roles: p.roles,
            session_name: p.session_name,
            session_duration: p.session_duration,
            recipient: p.recipient,
        }
    }

    /// Whether STS will still take it at `now` (with [`MARGIN`] to spare).
    pub fn usable(&self, now: OffsetDateTime) -> bool {
        self.not_on_or_after - now > MARGIN
    }

    /// The role pair for `role_arn`, if the assertion holds it.
    pub fn role(&self, role_arn: &str) -> Option<&SamlRole> {
        self.roles.iter().find(|r| r.role_arn == role_arn)
    }
}

fn pretty(value: &serde_json::Value) -> io::Result<Vec<u8>> {
    serde_json::to_vec_pretty(value).map_err(io::Error::other)
}

/// The directory of kept assertions and their locks.
#[derive(Debug, Clone)]
pub struct AssertionStore {
    dir: PathBuf,
    locks: PathBuf,
}

impl AssertionStore {
    /// Under portico's cache root (`~/.cache/portico`).
    pub fn under(root: &Path) -> AssertionStore {
        AssertionStore {
            dir: root.join("saml"),
            locks: root.join("locks"),
        }
    }

    /// `{cache}/FOLDER/STEM.json`: a note about a saml-session beside the kept assertions'
    /// folder, not in it (a file there would pass for an assertion).
    pub(super) fn beside(&self, folder: &str, stem: &str) -> PathBuf {
        self.dir
            .parent()
            .unwrap_or(&self.dir)
            .join(folder)
            .join(format!("{stem}.json"))
    }

    /// Writes `note` to `path` (one of [`Self::beside`]), 0600 and atomically. Best effort:
    /// without a note portico only knows less, so a failure is a debug line, "could not
    /// `what`".
    pub(super) fn write_note(path: &Path, note: &impl Serialize, what: &str) {
        let text = serde_json::to_vec_pretty(note).expect("a note always serializes");
        if let Err(e) = write_private(path, &text) {
            crate::debug!("could not {what} ({e})");
        }
    }

    /// The note at `path`; a missing or corrupt one is none.
    pub(super) fn read_note<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }

    pub fn path(&self, session: &SamlSession) -> PathBuf {
        self.dir
            .join(format!("{}.json", sha1_hex(&session.cache_key())))
    }

    /// The kept assertion of `session` while STS still takes it; a missing, corrupt, foreign or
    /// expired file is a miss.
    pub fn load(&self, session: &SamlSession, now: OffsetDateTime) -> Option<Assertion> {
        self.try_load(session, now).ok().flatten()
    }

    /// [`load`](Self::load), failing when the keyring `portico_storage` names cannot be read
    /// (a sign-in then would only fail to keep its assertion there).
    pub fn try_load(
        &self,
        session: &SamlSession,
        now: OffsetDateTime,
    ) -> Result<Option<Assertion>, VaultError> {
        let path = self.path(session);
        let bytes = match self.read(session) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Ok(None),
            Err(SplitError::Vault(e)) => return Err(e),
            Err(_) => return Ok(None),
        };
        let kept: Assertion = match serde_json::from_slice(&bytes) {
            Ok(kept) => kept,
            Err(e) => {
                crate::debug!("ignoring corrupt {}: {e}", path.display());
                return Ok(None);
            }
        };
        if kept.version != VERSION
            || kept.session_key != session.cache_key()
            || kept.idp_url != session.idp_url
        {
            return Ok(None);
        }
        if !kept.usable(now) {
            crate::debug!("the kept SAML assertion of {} has expired", session.label());
            return Ok(None);
        }
        Ok(Some(kept))
    }

    /// The file's whole JSON, moving an assertion a previous storage kept to the one the
    /// session names now.
    fn read(&self, session: &SamlSession) -> Result<Option<Vec<u8>>, SplitError> {
        let path = self.path(session);
        let Some((bytes, kept)) = secrets::read_kept(&path)? else {
            return Ok(None);
        };
        if kept != session.storage {
            if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                let moved = match session.storage {
                    Storage::File => secrets::forget_item(&path)
                        .and_then(|_| Ok(write_private(&path, &pretty(&value)?)?)),
                    storage => secrets::write(&path, &value, SECRETS, storage),
                };
                if let Err(e) = moved {
                    crate::debug!("cannot move {}: {e}", path.display());
                }
            }
        }
        Ok(Some(bytes))
    }

    /// The kept assertion of `session` however old, for the roles it lists.
    pub fn load_any(&self, session: &SamlSession) -> Option<Assertion> {
        let bytes = self.read(session).ok().flatten()?;
        let kept: Assertion = serde_json::from_slice(&bytes).ok()?;
        (kept.version == VERSION
            && kept.session_key == session.cache_key()
            && kept.idp_url == session.idp_url)
            .then_some(kept)
    }

    /// Keeps the assertion: a 0600 file, or with `portico_storage` naming a keyring, the
    /// `SAMLResponse` there and the rest in the file.
    pub fn store(
        &self,
        session: &SamlSession,
        assertion: &Assertion,
    ) -> Result<PathBuf, SplitError> {
        let path = self.path(session);
        if session.storage.is_file() {
            let json = serde_json::to_vec_pretty(assertion).map_err(io::Error::other)?;
            write_private(&path, &json)?;
        } else {
            let value = serde_json::to_value(assertion).map_err(io::Error::other)?;
            secrets::write(&path, &value, SECRETS, session.storage)?;
        }
        Ok(path)
    }

    pub fn remove(&self, session: &SamlSession) -> io::Result<bool> {
        let path = self.path(session);
        if let Err(e) = secrets::forget_item(&path) {
            crate::debug!("{}: {e}", path.display());
        }
        remove_if_exists(&path)
    }

    /// The saml-session's sign-in lock (blocking while another process signs in); carried on
    /// without where it cannot be made.
    pub fn lock(&self, session: &SamlSession, on_wait: impl FnOnce()) -> SessionLock {
        lock::acquire_or_skip(
            &self.locks,
            &format!("saml-sign-in\n{}", session.cache_key()),
            on_wait,
        )
    }
}
