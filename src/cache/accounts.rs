//! The account-and-role list of each session, cached so that the picker and `portico list`
//! start instantly: one private JSON file per session with the time it was fetched. A refresh
//! replaces the whole file, so an account that is no longer assigned disappears.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::cache::files::{remove_if_exists, sha1_hex, write_private};
use crate::output::rfc3339;
use crate::portal::Account;

/// How long a fetched list is used without asking the portal again. Assignments change
/// rarely; `--refresh` (or `r` in the picker) fetches at once.
pub const DEFAULT_TTL: time::Duration = time::Duration::hours(1);

const VERSION: u32 = 1;

/// The account-list cache in one directory (normally `~/.cache/portico/accounts`).
#[derive(Debug, Clone)]
pub struct AccountsCache {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    version: u32,
    session_key: String,
    #[serde(with = "rfc3339")]
    fetched_at: OffsetDateTime,
    accounts: Vec<Account>,
}

impl AccountsCache {
    /// A cache whose files live directly in `dir` (created 0700 on first store).
    pub fn new(dir: impl Into<PathBuf>) -> AccountsCache {
        AccountsCache { dir: dir.into() }
    }

    /// The cache in `root/accounts`, `root` being portico's cache directory.
    pub fn under(root: &Path) -> AccountsCache {
        AccountsCache::new(root.join("accounts"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The session's file: `sha1(cache_key).json`.
    pub fn path(&self, session_key: &str) -> PathBuf {
        self.dir.join(format!("{}.json", sha1_hex(session_key)))
    }

    /// The session's cached list and when it was fetched, however old (the caller decides with
    /// [`is_fresh`]). Missing or corrupt files are `None`.
    pub fn load(&self, session_key: &str) -> Option<(Vec<Account>, OffsetDateTime)> {
        let path = self.path(session_key);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                if e.kind() != io::ErrorKind::NotFound {
                    crate::debug!("account cache: cannot read {}: {e}", path.display());
                }
                return None;
            }
        };
        match serde_json::from_slice::<Entry>(&bytes) {
            Ok(entry) if entry.version == VERSION && entry.session_key == session_key => {
                Some((entry.accounts, entry.fetched_at))
            }
            Ok(_) => {
                crate::debug!(
                    "account cache: {} is for another session or version; ignoring it",
                    path.display()
                );
                None
            }
            Err(e) => {
                crate::debug!("account cache: ignoring corrupt {}: {e}", path.display());
                None
            }
        }
    }

    /// Replaces the session's list with `accounts`, fetched at `fetched_at`.
    pub fn store(
        &self,
        session_key: &str,
        accounts: &[Account],
        fetched_at: OffsetDateTime,
    ) -> io::Result<PathBuf> {
        let entry = Entry {
            version: VERSION,
            session_key: session_key.to_string(),
            fetched_at,
            accounts: accounts.to_vec(),
        };
        let path = self.path(session_key);
        write_private(
            &path,
            &serde_json::to_vec(&entry).map_err(io::Error::other)?,
        )?;
        Ok(path)
    }

    /// Forgets the session's list (logout). Returns whether there was one.
    pub fn remove(&self, session_key: &str) -> io::Result<bool> {
        remove_if_exists(&self.path(session_key))
    }
}

/// Whether a list fetched at `fetched_at` may still be used at `now`. A fetch time in the
/// future (the clock was set back) is not fresh.
pub fn is_fresh(fetched_at: OffsetDateTime, now: OffsetDateTime, ttl: time::Duration) -> bool {
    fetched_at <= now && now - fetched_at < ttl
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn account(id: &str, name: &str, roles: &[&str]) -> Account {
        Account {
            account_id: id.into(),
            account_name: name.into(),
            email_address: format!("{name}@example.com"),
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }

    #[test]
    fn refresh_replaces_the_list() {
        let root = tempfile::tempdir().unwrap();
        let cache = AccountsCache::under(root.path());
        let t0 = datetime!(2026-03-01 12:00:00 UTC);
        assert!(cache.load("corp").is_none());
        let first = vec![
            account("111122223333", "payments-prod", &["AdministratorAccess"]),
            account("444455556666", "gone", &["ReadOnlyAccess"]),
        ];
        let path = cache.store("corp", &first, t0).unwrap();
        assert!(path.starts_with(root.path().join("accounts")));
        assert_eq!(cache.load("corp"), Some((first, t0)));
        let second = vec![account(
            "111122223333",
            "payments-prod",
            &["ReadOnlyAccess"],
        )];
        let t1 = t0 + time::Duration::minutes(5);
        cache.store("corp", &second, t1).unwrap();
        assert_eq!(cache.load("corp"), Some((second, t1)));
        assert!(cache.load("other").is_none());
        assert!(cache.remove("corp").unwrap());
        assert!(cache.load("corp").is_none());
    }

    #[test]
    fn corrupt_file_is_absent() {
        let root = tempfile::tempdir().unwrap();
        let cache = AccountsCache::new(root.path());
        fs::write(cache.path("corp"), "[1,2").unwrap();
        assert!(cache.load("corp").is_none());
    }

    #[test]
    fn freshness() {
        let t = datetime!(2026-03-01 12:00:00 UTC);
        assert!(is_fresh(t, t, DEFAULT_TTL));
        assert!(is_fresh(t, t + time::Duration::minutes(59), DEFAULT_TTL));
        assert!(!is_fresh(t, t + DEFAULT_TTL, DEFAULT_TTL));
        assert!(!is_fresh(t + time::Duration::minutes(1), t, DEFAULT_TTL));
    }
}
