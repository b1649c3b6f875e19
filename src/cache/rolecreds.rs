//! portico's role-credential cache: one private JSON file per (session, account, role), reused
//! until shortly before the keys expire, and a lock per role so that many processes asking at
//! once make one GetRoleCredentials call.
//!
//! This is the warm path of `credential_process`: a load is one `open` + `read` of a small file
//! whose name is computed, never a directory scan, and nothing here touches tokio or the SDK.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::cache::files::{remove_if_exists, remove_where, sha1_hex, write_private};
use crate::cache::lock::{self, SessionLock};
use crate::cache::secrets::{self, SplitError};
use crate::model::RoleCredentials;
use crate::vault::Storage;

/// The fields of a file that a keyring keeps when the session's storage is one.
const SECRETS: &[&[&str]] = &[
    &["credentials", "secretAccessKey"],
    &["credentials", "sessionToken"],
];

/// Cached credentials are handed out only with more than this much life left, as the AWS CLI
/// does (botocore refreshes 15 minutes before expiry, so a shorter margin would make it call
/// portico again at once).
pub const MIN_REMAINING: time::Duration = time::Duration::minutes(15);

/// The format version in each file; files of another version are ignored.
const VERSION: u32 = 1;

/// The role-credential cache in one directory (normally `~/.cache/portico/credentials`).
#[derive(Debug, Clone)]
pub struct RoleCredsCache {
    dir: PathBuf,
    /// Where the secret keys of the session asked about are kept (`file` unless
    /// [`for_storage`](Self::for_storage) says otherwise).
    storage: Storage,
}

/// A file as stored: the credentials plus what they are for, so that logout can find every file
/// of a session and a load can check it read the file it meant to.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    version: u32,
    session_key: String,
    start_url: String,
    account_id: String,
    role_name: String,
    credentials: RoleCredentials,
}

/// Held while one process fetches credentials for a role; released on drop (or process exit).
#[derive(Debug)]
pub struct LockGuard {
    _lock: SessionLock,
}

impl RoleCredsCache {
    /// A cache whose files live directly in `dir` (created 0700 on first store).
    pub fn new(dir: impl Into<PathBuf>) -> RoleCredsCache {
        RoleCredsCache {
            dir: dir.into(),
            storage: Storage::File,
        }
    }

    /// The cache in `root/credentials`, `root` being portico's cache directory.
    pub fn under(root: &Path) -> RoleCredsCache {
        RoleCredsCache::new(root.join("credentials"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The same cache for a session whose secrets are kept in `storage`: stores put the secret
    /// key and session token there, and a load moves keys a previous storage kept.
    pub fn for_storage(&self, storage: Storage) -> RoleCredsCache {
        RoleCredsCache {
            dir: self.dir.clone(),
            storage,
        }
    }

    /// The file for a role. The name hashes a JSON array of the three parts, so no two
    /// different triples can share a name by concatenation.
    pub fn path(&self, session_key: &str, account_id: &str, role_name: &str) -> PathBuf {
        self.dir
            .join(format!("{}.json", stem(session_key, account_id, role_name)))
    }

    /// Cached credentials for the role with more than [`MIN_REMAINING`] left at `now`.
    /// A missing, unreadable, corrupt or foreign file is a miss, never an error.
    pub fn load(
        &self,
        session_key: &str,
        account_id: &str,
        role_name: &str,
        now: OffsetDateTime,
    ) -> Option<RoleCredentials> {
        self.load_with_margin(session_key, account_id, role_name, now, MIN_REMAINING)
    }

    /// [`load`](Self::load) with another margin (0 for "anything not yet expired").
    pub fn load_with_margin(
        &self,
        session_key: &str,
        account_id: &str,
        role_name: &str,
        now: OffsetDateTime,
        margin: time::Duration,
    ) -> Option<RoleCredentials> {
        let path = self.path(session_key, account_id, role_name);
        let (bytes, kept) = match secrets::read_kept(&path) {
            Ok(Some(read)) => read,
            Ok(None) => return None,
            Err(e) => {
                crate::debug!(
                    "role credentials cache: cannot read {}: {e}",
                    path.display()
                );
                return None;
            }
        };
        let entry: Entry = match serde_json::from_slice(&bytes) {
            Ok(entry) => entry,
            Err(e) => {
                crate::debug!(
                    "role credentials cache: ignoring corrupt {}: {e}",
                    path.display()
                );
                return None;
            }
        };
        if entry.version != VERSION
            || entry.session_key != session_key
            || entry.account_id != account_id
            || entry.role_name != role_name
        {
            crate::debug!(
                "role credentials cache: {} is for another role; ignoring it",
                path.display()
            );
            return None;
        }
        let left = entry.credentials.remaining(now);
        if left <= margin {
            crate::debug!(
                "role credentials cache: {role_name} in {account_id} has {}s left; fetching new ones",
                left.whole_seconds()
            );
            return None;
        }
        if kept != self.storage {
            self.move_to_storage(&path, &entry);
        }
        Some(entry.credentials)
    }

    /// Keys kept where the session's storage no longer says (a file for a keyring session, a
    /// keyring for a file session) are written where it says now; the old item goes.
    fn move_to_storage(&self, path: &Path, entry: &Entry) {
        let moved = match self.storage.is_file() {
            true => {
                secrets::forget_item(path).and_then(|_| write_entry(path, entry, Storage::File))
            }
            false => write_entry(path, entry, self.storage),
        };
        if let Err(e) = moved {
            crate::debug!(
                "role credentials cache: cannot move {}: {e}",
                path.display()
            );
        }
    }

    /// Stores credentials for the role (0600, atomically replacing any older file).
    pub fn store(
        &self,
        session_key: &str,
        start_url: &str,
        role_name: &str,
        creds: &RoleCredentials,
    ) -> io::Result<PathBuf> {
        let entry = Entry {
            version: VERSION,
            session_key: session_key.to_string(),
            start_url: start_url.to_string(),
            account_id: creds.account_id.clone(),
            role_name: role_name.to_string(),
            credentials: creds.clone(),
        };
        let path = self.path(session_key, &creds.account_id, role_name);
        write_entry(&path, &entry, self.storage).map_err(|e| match e {
            SplitError::Io(e) => e,
            other => io::Error::other(other),
        })?;
        Ok(path)
    }

    /// Forgets one role's credentials (for example after the service refused them).
    pub fn remove(&self, session_key: &str, account_id: &str, role_name: &str) -> io::Result<bool> {
        let path = self.path(session_key, account_id, role_name);
        if let Err(e) = secrets::forget_item(&path) {
            crate::debug!("role credentials cache: {}: {e}", path.display());
        }
        remove_if_exists(&path)
    }

    /// Deletes every cached credential of a session (logout). Returns the files removed.
    /// Corrupt files cannot be attributed and are left alone.
    pub fn remove_session(&self, session_key: &str) -> io::Result<Vec<PathBuf>> {
        remove_where(&self.dir, |path| {
            if path.extension().is_none_or(|ext| ext != "json") {
                return false;
            }
            let Ok(bytes) = fs::read(path) else {
                return false;
            };
            let ours = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .is_some_and(|stored| stored["sessionKey"] == session_key);
            if ours {
                // The keyring item goes with its file; one the keyring cannot delete now is
                // only the keys' secret half, useless without the file.
                if let Err(e) = secrets::forget_item_of(path, &bytes) {
                    crate::debug!("role credentials cache: {}: {e}", path.display());
                }
            }
            ours
        })
    }

    /// Takes the role's lock, blocking while another process holds it. The caller's sequence
    /// is load → (miss) → lock → load again → fetch → store → drop the guard. Where the lock
    /// cannot be made (a read-only HOME), the caller carries on without it: see
    /// [`lock::acquire_or_skip`].
    pub fn lock(&self, session_key: &str, account_id: &str, role_name: &str) -> LockGuard {
        self.lock_with(session_key, account_id, role_name, || {})
    }

    /// [`lock`](Self::lock), calling `on_wait` once if another process holds the lock (to say
    /// on stderr what portico is waiting for).
    pub fn lock_with(
        &self,
        session_key: &str,
        account_id: &str,
        role_name: &str,
        on_wait: impl FnOnce(),
    ) -> LockGuard {
        let key = stable_key(session_key, account_id, role_name);
        LockGuard {
            _lock: lock::acquire_or_skip(&self.dir, &key, on_wait),
        }
    }
}

/// Whether the sign-in that role credentials were fetched with is still there: one `stat` of
/// the session's token file. `aws sso logout` (and `portico logout`) delete that file, and
/// credentials cached for a session that was signed out must not be handed out any more.
/// A file that cannot be examined for another reason counts as present: reading it will say
/// what is wrong.
pub fn signed_in(token_path: &Path) -> bool {
    match fs::metadata(token_path) {
        Ok(_) => true,
        Err(e) => e.kind() != io::ErrorKind::NotFound,
    }
}

/// Writes a file as the cache always has (`file`), or split with its secrets in a keyring.
fn write_entry(path: &Path, entry: &Entry, storage: Storage) -> Result<(), SplitError> {
    if storage.is_file() {
        let json = serde_json::to_vec_pretty(entry).map_err(io::Error::other)?;
        return Ok(write_private(path, &json)?);
    }
    let value = serde_json::to_value(entry).map_err(io::Error::other)?;
    secrets::write(path, &value, SECRETS, storage)
}

fn stable_key(session_key: &str, account_id: &str, role_name: &str) -> String {
    serde_json::to_string(&[session_key, account_id, role_name]).expect("strings always serialize")
}

fn stem(session_key: &str, account_id: &str, role_name: &str) -> String {
    sha1_hex(&stable_key(session_key, account_id, role_name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-03-01 12:00:00 UTC);

    fn creds(account: &str, expires: OffsetDateTime) -> RoleCredentials {
        RoleCredentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Secret::new("secret/key+"),
            session_token: Secret::new("token=="),
            expiration: expires,
            account_id: account.into(),
        }
    }

    #[test]
    fn store_then_load_until_fifteen_minutes_before_expiry() {
        let root = tempfile::tempdir().unwrap();
        let cache = RoleCredsCache::under(root.path());
        let c = creds("111122223333", NOW + time::Duration::hours(1));
        let path = cache
            .store("corp", "https://d-1.awsapps.com/start", "Admin", &c)
            .unwrap();
        assert!(path.starts_with(root.path().join("credentials")));
        assert_eq!(
            cache.load("corp", "111122223333", "Admin", NOW),
            Some(c.clone())
        );
        let at_margin = c.expiration - MIN_REMAINING;
        assert_eq!(cache.load("corp", "111122223333", "Admin", at_margin), None);
        assert!(cache
            .load(
                "corp",
                "111122223333",
                "Admin",
                at_margin - time::Duration::seconds(1)
            )
            .is_some());
        assert!(cache
            .load_with_margin(
                "corp",
                "111122223333",
                "Admin",
                at_margin,
                time::Duration::ZERO
            )
            .is_some());
        // Other roles, accounts and sessions miss.
        assert_eq!(cache.load("corp", "111122223333", "ReadOnly", NOW), None);
        assert_eq!(cache.load("corp", "444455556666", "Admin", NOW), None);
        assert_eq!(cache.load("other", "111122223333", "Admin", NOW), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn file_names_do_not_collide_by_concatenation() {
        let cache = RoleCredsCache::new("/x");
        assert_ne!(cache.path("a", "bc", "d"), cache.path("ab", "c", "d"));
        assert_eq!(cache.path("a", "b", "c"), cache.path("a", "b", "c"));
    }

    #[test]
    fn corrupt_or_foreign_files_are_misses() {
        let root = tempfile::tempdir().unwrap();
        let cache = RoleCredsCache::new(root.path());
        let path = cache.path("corp", "111122223333", "Admin");
        fs::write(&path, b"{not json").unwrap();
        assert_eq!(cache.load("corp", "111122223333", "Admin", NOW), None);
        fs::write(&path, b"").unwrap();
        assert_eq!(cache.load("corp", "111122223333", "Admin", NOW), None);
        // A valid file that names another role (a copied file) is not trusted.
        let c = creds("111122223333", NOW + time::Duration::hours(1));
        let other = cache.store("corp", "u", "Other", &c).unwrap();
        fs::rename(other, &path).unwrap();
        assert_eq!(cache.load("corp", "111122223333", "Admin", NOW), None);
    }

    #[test]
    fn remove_session_deletes_only_that_sessions_files() {
        let root = tempfile::tempdir().unwrap();
        let cache = RoleCredsCache::new(root.path().join("c"));
        assert!(
            cache.remove_session("corp").unwrap().is_empty(),
            "no dir yet"
        );
        let c = creds("111122223333", NOW + time::Duration::hours(1));
        let a = cache.store("corp", "u", "Admin", &c).unwrap();
        let b = cache.store("corp", "u", "ReadOnly", &c).unwrap();
        cache.store("other", "u2", "Admin", &c).unwrap();
        fs::write(cache.dir().join("junk.json"), "x").unwrap();
        let _lock = cache.lock("corp", "111122223333", "Admin");
        let mut expected = vec![a, b];
        expected.sort();
        assert_eq!(cache.remove_session("corp").unwrap(), expected);
        assert_eq!(cache.load("corp", "111122223333", "Admin", NOW), None);
        assert!(cache.load("other", "111122223333", "Admin", NOW).is_some());
        assert!(cache.remove("other", "111122223333", "Admin").unwrap());
    }

    #[test]
    fn signed_in_is_whether_the_token_file_is_there() {
        let root = tempfile::tempdir().unwrap();
        let token = root.path().join("token.json");
        assert!(!signed_in(&token));
        fs::write(&token, "{}").unwrap();
        assert!(signed_in(&token));
        fs::remove_file(&token).unwrap();
        assert!(!signed_in(&token));
    }

    /// The command's sequence in many threads at once: exactly one of them "fetches".
    #[test]
    fn lock_makes_concurrent_callers_fetch_once() {
        let root = tempfile::tempdir().unwrap();
        let cache = RoleCredsCache::new(root.path());
        let fetches = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Barrier::new(16));
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let (cache, fetches, start) = (cache.clone(), fetches.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    if let Some(c) = cache.load("corp", "111122223333", "Admin", NOW) {
                        return c;
                    }
                    let _guard = cache.lock("corp", "111122223333", "Admin");
                    if let Some(c) = cache.load("corp", "111122223333", "Admin", NOW) {
                        return c;
                    }
                    fetches.fetch_add(1, Ordering::SeqCst);
                    let c = creds("111122223333", NOW + time::Duration::hours(1));
                    cache.store("corp", "u", "Admin", &c).unwrap();
                    c
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        assert!(results.windows(2).all(|w| w[0] == w[1]));
    }
}
