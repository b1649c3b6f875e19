//! Where a session's secrets live when its `portico_storage` names a keyring: the Secret Service
//! (GNOME Keyring, KWallet; `keyring`) or Linux's per-user kernel keyring (`kernel-keyring`).
//! One item per cache file, holding only that file's secret fields (`cache::secrets` splits
//! them off); the file keeps the rest, so `status` and the portal never open the keyring.
//!
//! No silent prompt and no silent fallback: a keyring that is locked, missing or silent gives a
//! [`VaultError`] naming the backend, the cause and the fix, and the caller fails — nothing is
//! ever written to a file instead. Every Secret Service call is bounded in time (see
//! [`timeout`]); the kernel keyring is a system call that answers at once.
//!
//! This sits beside `cache` in the file layer and imports only leaf modules.

use std::path::Path;
use std::time::Duration;

#[cfg(target_os = "linux")]
mod kernel;
#[cfg(target_os = "linux")]
mod secret_service;

pub use crate::model::Storage;

/// One item: the portico cache it belongs to (`scope`, so two HOMEs of one user never share an
/// item) and its name there (`FOLDER/STEM` of the file whose secrets it holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemName {
    scope: String,
    name: String,
}

impl ItemName {
    /// The item of the cache file `path` (`ROOT/FOLDER/STEM.json`).
    pub fn for_file(path: &Path) -> ItemName {
        let folder = path.parent();
        let root = folder.and_then(Path::parent).unwrap_or(Path::new("/"));
        let folder = folder
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = path
            .file_stem()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        ItemName {
            scope: scope_of(root),
            name: format!("{folder}/{stem}"),
        }
    }

    /// `portico:SCOPE:FOLDER/STEM`, the kernel key's description.
    pub fn description(&self) -> String {
        format!("{}{}", scope_prefix(&self.scope), self.name)
    }
}

/// The scope of a portico cache root: the first 16 hex digits of the SHA-1 of its path.
fn scope_of(root: &Path) -> String {
    use sha1::{Digest, Sha1};
    let digest = Sha1::digest(root.as_os_str().as_encoded_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn scope_prefix(scope: &str) -> String {
    format!("portico:{scope}:")
}

/// Why a keyring could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The collection is locked (portico never asks to unlock it: that would prompt).
    Locked,
    /// Nothing answers for the backend (no Secret Service on the bus, no D-Bus session).
    Missing(String),
    /// No answer within the bound.
    NoAnswer(Duration),
    /// The backend asked for a prompt (portico never shows one).
    Prompt,
    /// The kernel keyring's quota for this user is used up.
    Quota,
    /// The backend is not built for this platform.
    Unsupported,
    /// Anything else, in the backend's words (cleaned; never a secret).
    Other(String),
}

/// A keyring that could not be used: one line naming the backend, the cause and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}", storage.backend(), describe(*storage, problem))]
pub struct VaultError {
    pub storage: Storage,
    pub problem: Problem,
}

fn describe(storage: Storage, problem: &Problem) -> String {
    const OR_FILE: &str =
        "or set `portico_storage = file` for the session (`portico configure --storage file`)";
    match problem {
        Problem::Locked => format!(
            "it is locked and portico does not prompt to unlock it; unlock it (log in to the desktop, or `gnome-keyring-daemon --unlock`), {OR_FILE}"
        ),
        Problem::Missing(why) => format!(
            "no Secret Service answers on the D-Bus session bus ({why}); start one (GNOME Keyring, KWallet) in this session, use `portico_storage = kernel-keyring`, {OR_FILE}"
        ),
        Problem::NoAnswer(bound) => format!(
            "no answer within {}s (a prompt nobody sees, or a stuck daemon); check the keyring daemon, raise PORTICO_KEYRING_TIMEOUT, {OR_FILE}",
            bound.as_secs()
        ),
        Problem::Prompt => format!(
            "it asked for a prompt, and portico does not show one; unlock the keyring first, {OR_FILE}"
        ),
        Problem::Quota => format!(
            "this user's key quota is full (/proc/sys/kernel/keys/maxbytes, maxkeys); raise it, use `portico_storage = keyring`, {OR_FILE}"
        ),
        Problem::Unsupported => format!(
            "{} is not built into this portico (Linux only); {OR_FILE}",
            storage.as_str()
        ),
        Problem::Other(what) => format!("{what}; {OR_FILE}"),
    }
}

impl VaultError {
    fn new(storage: Storage, problem: Problem) -> VaultError {
        VaultError { storage, problem }
    }
}

/// How long one Secret Service call may take: `PORTICO_KEYRING_TIMEOUT` seconds, else 10.
pub fn timeout() -> Duration {
    std::env::var("PORTICO_KEYRING_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_secs(10))
}

/// The secret of `item`, `None` if the keyring has no such item.
pub fn get(storage: Storage, item: &ItemName) -> Result<Option<Vec<u8>>, VaultError> {
    match storage {
        Storage::File => Ok(None),
        #[cfg(target_os = "linux")]
        Storage::KernelKeyring => kernel::get(item),
        #[cfg(target_os = "linux")]
        Storage::Keyring => {
            let item = item.clone();
            secret_service::bounded(move |ss| ss.get(&item))
        }
        #[cfg(not(target_os = "linux"))]
        _ => Err(VaultError::new(storage, Problem::Unsupported)),
    }
}

/// Stores `secret` as `item`, replacing an item of that name.
pub fn put(storage: Storage, item: &ItemName, secret: &[u8]) -> Result<(), VaultError> {
    match storage {
        Storage::File => Ok(()),
        #[cfg(target_os = "linux")]
        Storage::KernelKeyring => kernel::put(item, secret),
        #[cfg(target_os = "linux")]
        Storage::Keyring => {
            let item = item.clone();
            let secret = secret.to_vec();
            secret_service::bounded(move |ss| ss.put(&item, &secret))
        }
        #[cfg(not(target_os = "linux"))]
        _ => {
            let _ = (item, secret);
            Err(VaultError::new(storage, Problem::Unsupported))
        }
    }
}

/// Deletes `item`; returns whether there was one.
pub fn delete(storage: Storage, item: &ItemName) -> Result<bool, VaultError> {
    match storage {
        Storage::File => Ok(false),
        #[cfg(target_os = "linux")]
        Storage::KernelKeyring => kernel::delete(item),
        #[cfg(target_os = "linux")]
        Storage::Keyring => {
            let item = item.clone();
            secret_service::bounded(move |ss| ss.delete(&item))
        }
        #[cfg(not(target_os = "linux"))]
        _ => Err(VaultError::new(storage, Problem::Unsupported)),
    }
}

/// What `doctor` reports of a backend: reachable and unlocked, with the number of portico's
/// items of the cache under `root` (never their values).
pub fn count(storage: Storage, root: &Path) -> Result<usize, VaultError> {
    let scope = scope_of(root);
    match storage {
        Storage::File => Ok(0),
        #[cfg(target_os = "linux")]
        Storage::KernelKeyring => kernel::count(&scope),
        #[cfg(target_os = "linux")]
        Storage::Keyring => secret_service::bounded(move |ss| ss.count(&scope)),
        #[cfg(not(target_os = "linux"))]
        _ => {
            let _ = scope;
            Err(VaultError::new(storage, Problem::Unsupported))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_names_round_trip() {
        for s in Storage::ALL {
            assert_eq!(Storage::parse(s.as_str()), Some(s));
        }
        assert_eq!(
            Storage::parse(" Kernel-Keyring "),
            Some(Storage::KernelKeyring)
        );
        assert_eq!(Storage::parse("keychain"), None);
    }

    #[test]
    fn items_are_named_by_folder_and_stem_within_their_cache() {
        let a = ItemName::for_file(Path::new("/h/.cache/portico/tokens/abc.json"));
        assert!(a.description().starts_with("portico:"));
        assert!(a.description().ends_with(":tokens/abc"), "{a:?}");
        let other_home = ItemName::for_file(Path::new("/g/.cache/portico/tokens/abc.json"));
        assert_ne!(a, other_home, "two caches never share an item");
    }

    #[test]
    fn errors_are_one_line_with_the_backend_and_the_fix() {
        for problem in [
            Problem::Locked,
            Problem::Missing("org.freedesktop.secrets was not provided".into()),
            Problem::NoAnswer(Duration::from_secs(3)),
            Problem::Prompt,
            Problem::Quota,
            Problem::Unsupported,
            Problem::Other("x".into()),
        ] {
            let text = VaultError::new(Storage::Keyring, problem).to_string();
            assert!(!text.contains('\n'), "{text}");
            assert!(text.starts_with("the Secret Service keyring: "), "{text}");
            assert!(text.contains("portico_storage = file"), "{text}");
        }
    }
}
