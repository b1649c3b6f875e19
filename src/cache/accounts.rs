//! The account-and-role list of each session, cached so that the picker and `portico list`
//! start instantly: one private JSON file per session with the time the accounts were listed
//! and, per account, the time its roles were (`rolesFetchedAt`; an incremental refresh lists
//! the oldest again). A refresh replaces the whole file, so an account that is no longer
//! assigned disappears. Files of the first format (one time for the whole list) are read as if
//! every account's roles were fetched at that time.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::cache::files::{remove_if_exists, sha1_hex, write_private};
use crate::model::{Account, AccountList};
use crate::timefmt::{rfc3339, rfc3339_z};

/// How long a fetched list is used without asking the portal again. Assignments change
/// rarely; `--refresh` (or `r` in the picker) fetches at once.
pub const DEFAULT_TTL: time::Duration = time::Duration::hours(1);

/// The format written; [`LEGACY_VERSION`] files are still read.
const VERSION: u32 = 2;
/// One `fetchedAt` for the whole list, accounts without `rolesFetchedAt`.
const LEGACY_VERSION: u32 = 1;

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
    accounts: Vec<CachedAccount>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CachedAccount {
    #[serde(flatten)]
    account: Account,
    /// RFC 3339; absent while the account's roles are unknown (and in legacy files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    roles_fetched_at: Option<String>,
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
        self.load_list(session_key)
            .map(|(list, at)| (list.accounts, at))
    }

    /// [`load`](Self::load) with the time each account's roles were fetched.
    pub fn load_list(&self, session_key: &str) -> Option<(AccountList, OffsetDateTime)> {
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
            Ok(entry)
                if (entry.version == VERSION || entry.version == LEGACY_VERSION)
                    && entry.session_key == session_key =>
            {
                let mut list = AccountList::default();
                for cached in entry.accounts {
                    let at = match (entry.version, cached.roles_fetched_at) {
                        (LEGACY_VERSION, _) => Some(entry.fetched_at),
                        (_, Some(text)) => OffsetDateTime::parse(
                            &text,
                            &time::format_description::well_known::Rfc3339,
                        )
                        .ok(),
                        (_, None) => None,
                    };
                    if let Some(at) = at {
                        list.roles_fetched_at
                            .insert(cached.account.account_id.clone(), at);
                    }
                    list.accounts.push(cached.account);
                }
                Some((list, entry.fetched_at))
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

    /// Replaces the session's list with `accounts`, all fetched at `fetched_at`.
    pub fn store(
        &self,
        session_key: &str,
        accounts: &[Account],
        fetched_at: OffsetDateTime,
    ) -> io::Result<PathBuf> {
        let list = AccountList::fetched_at(accounts.to_vec(), fetched_at);
        self.store_list(session_key, &list, fetched_at)
    }

    /// Replaces the session's list with `list`, whose accounts were listed at `fetched_at`.
    pub fn store_list(
        &self,
        session_key: &str,
        list: &AccountList,
        fetched_at: OffsetDateTime,
    ) -> io::Result<PathBuf> {
        let entry = Entry {
            version: VERSION,
            session_key: session_key.to_string(),
            fetched_at,
            accounts: list
                .accounts
                .iter()
                .map(|account| CachedAccount {
                    roles_fetched_at: list
                        .roles_fetched_at
                        .get(&account.account_id)
                        .map(|at| rfc3339_z(*at)),
                    account: account.clone(),
                })
                .collect(),
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

    use crate::model::test_account as account;

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
    fn roles_fetched_at_round_trips_and_unknown_roles_stay_unknown() {
        let root = tempfile::tempdir().unwrap();
        let cache = AccountsCache::new(root.path());
        let t0 = datetime!(2026-03-01 12:00:00 UTC);
        let mut list = AccountList::fetched_at(
            vec![
                account("111122223333", "a", &["R"]),
                account("444455556666", "b", &[]),
            ],
            t0,
        );
        list.roles_fetched_at
            .insert("111122223333".into(), t0 - time::Duration::hours(3));
        list.roles_fetched_at.remove("444455556666");
        cache.store_list("corp", &list, t0).unwrap();
        assert_eq!(cache.load_list("corp"), Some((list.clone(), t0)));
        assert!(!list.is_complete());
    }

    #[test]
    fn first_format_files_are_read_with_the_list_time_per_account() {
        let root = tempfile::tempdir().unwrap();
        let cache = AccountsCache::new(root.path());
        fs::write(
            cache.path("corp"),
            r#"{"version":1,"sessionKey":"corp","fetchedAt":"2026-03-01T12:00:00Z","accounts":[{"accountId":"111122223333","accountName":"a","emailAddress":"a@x","roles":["R"]}]}"#,
        )
        .unwrap();
        let t0 = datetime!(2026-03-01 12:00:00 UTC);
        let (list, at) = cache.load_list("corp").unwrap();
        assert_eq!(at, t0);
        assert_eq!(
            list.accounts,
            [account("111122223333", "a", &["R"])].map(|mut a| {
                a.email_address = "a@x".into();
                a
            })
        );
        assert_eq!(list.roles_fetched_at.get("111122223333"), Some(&t0));
        // Written back in the new format, with the time per account.
        cache.store_list("corp", &list, at).unwrap();
        let text = fs::read_to_string(cache.path("corp")).unwrap();
        assert!(text.contains(r#""version":2"#), "{text}");
        assert!(
            text.contains(r#""rolesFetchedAt":"2026-03-01T12:00:00Z""#),
            "{text}"
        );
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
