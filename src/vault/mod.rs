//! Where a session's secrets live when its `portico_storage` names a keyring: the Secret Service
//! (GNOME Keyring, KWallet; `keyring`) or Linux's per-user kernel keyring (`kernel-keyring`);
//! on macOS `keyring` is the Keychain and on Windows the Credential Manager (built, untested).
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

#[cfg(any(target_os = "windows", test))]
mod parts;
// `keyring` on macOS and Windows: built, type-checked for those targets, untested here.
#[cfg(target_os = "windows")]
mod credential_manager;
#[cfg(target_os = "windows")]
use credential_manager as native;
#[cfg(target_os = "macos")]
mod keychain;
#[cfg(target_os = "macos")]
use keychain as native;

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

/// How to unlock the `keyring` backend of this platform.
#[cfg(not(any(target_os = "macos", target_os = "windows")))]
const UNLOCK: &str = "log in to the desktop, or `gnome-keyring-daemon --unlock`";
#[cfg(target_os = "macos")]
const UNLOCK: &str = "`security unlock-keychain`";
#[cfg(target_os = "windows")]
const UNLOCK: &str = "sign in to Windows interactively";

/// What to do when the backend wanted a prompt.
#[cfg(not(target_os = "macos"))]
const PROMPT_FIX: &str = "unlock the keyring first";
// The legacy keychain asks when it is locked or when an item's access list does not name this
// portico binary (a rebuilt or updated one).
#[cfg(target_os = "macos")]
const PROMPT_FIX: &str = "unlock the keychain (`security unlock-keychain`), or allow this portico on its `portico:…` items in Keychain Access (or delete them there and sign in again)";

#[cfg(not(any(target_os = "macos", target_os = "windows")))]
fn missing(why: &str, or_file: &str) -> String {
    format!(
        "no Secret Service answers on the D-Bus session bus ({why}); start one (GNOME Keyring, KWallet) in this session, use `portico_storage = kernel-keyring`, {or_file}"
    )
}

#[cfg(target_os = "macos")]
fn missing(why: &str, or_file: &str) -> String {
    format!("the Keychain is not available ({why}); run portico in a logged-in user session (or create a default keychain in Keychain Access), {or_file}")
}

#[cfg(target_os = "windows")]
fn missing(why: &str, or_file: &str) -> String {
    format!("the Credential Manager is not available ({why}); run portico in an interactive sign-in of the user, {or_file}")
}

fn describe(storage: Storage, problem: &Problem) -> String {
    const OR_FILE: &str =
        "or set `portico_storage = file` for the session (`portico configure --storage file`)";
    match problem {
        Problem::Locked => format!(
            "it is locked and portico does not prompt to unlock it; unlock it ({UNLOCK}), {OR_FILE}"
        ),
        Problem::Missing(why) => missing(why, OR_FILE),
        Problem::NoAnswer(bound) => format!(
            "no answer within {}s (a prompt nobody sees, or a stuck daemon); check the keyring daemon, raise PORTICO_KEYRING_TIMEOUT, {OR_FILE}",
            bound.as_secs()
        ),
        Problem::Prompt => format!(
            "it asked for a prompt, and portico does not show one; {PROMPT_FIX}, {OR_FILE}"
        ),
        Problem::Quota => format!(
            "this user's key quota is full (/proc/sys/kernel/keys/maxbytes, maxkeys); raise it, use `portico_storage = keyring`, {OR_FILE}"
        ),
        Problem::Unsupported => format!(
            "{} is not built into this portico ({}); {OR_FILE}",
            storage.as_str(),
            match storage {
                Storage::Keyring => "Linux, macOS and Windows only",
                _ => "Linux only",
            }
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

/// Runs one macOS Keychain or Windows Credential Manager call on a thread of its own and gives
/// up waiting after [`timeout`] (as the Secret Service backend does): the thread is left to
/// finish or to end with the process.
#[cfg(any(target_os = "macos", target_os = "windows"))]
fn bounded_native<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, VaultError> + Send + 'static,
) -> Result<T, VaultError> {
    use std::sync::mpsc;
    let bound = timeout();
    let (send, receive) = mpsc::channel();
    std::thread::Builder::new()
        .name("portico-keyring".into())
        .spawn(move || {
            let _ = send.send(work());
        })
        .map_err(|e| {
            VaultError::new(
                Storage::Keyring,
                Problem::Other(format!("cannot start a thread: {e}")),
            )
        })?;
    match receive.recv_timeout(bound) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            Err(VaultError::new(Storage::Keyring, Problem::NoAnswer(bound)))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(VaultError::new(
            Storage::Keyring,
            Problem::Other("the keyring call ended without an answer".into()),
        )),
    }
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
        #[cfg(any(target_os = "macos", target_os = "windows"))]
        Storage::Keyring => {
            let item = item.clone();
            bounded_native(move || native::get(&item))
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
        #[cfg(any(target_os = "macos", target_os = "windows"))]
        Storage::Keyring => {
            let item = item.clone();
            let secret = secret.to_vec();
            bounded_native(move || native::put(&item, &secret))
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
        #[cfg(any(target_os = "macos", target_os = "windows"))]
        Storage::Keyring => {
            let item = item.clone();
            bounded_native(move || native::delete(&item))
        }
        #[cfg(not(target_os = "linux"))]
        _ => Err(VaultError::new(storage, Problem::Unsupported)),
    }
}

/// What `doctor` reports of a backend: reachable and unlocked, with the number of portico's
/// items of the cache under `root` (never their values) — `None` where the platform's API
/// cannot list items (the Windows Credential Manager).
pub fn count(storage: Storage, root: &Path) -> Result<Option<usize>, VaultError> {
    let scope = scope_of(root);
    match storage {
        Storage::File => Ok(Some(0)),
        #[cfg(target_os = "linux")]
        Storage::KernelKeyring => kernel::count(&scope).map(Some),
        #[cfg(target_os = "linux")]
        Storage::Keyring => secret_service::bounded(move |ss| ss.count(&scope)).map(Some),
        #[cfg(target_os = "macos")]
        Storage::Keyring => bounded_native(move || native::count(&scope)).map(Some),
        #[cfg(target_os = "windows")]
        Storage::Keyring => bounded_native(move || native::count(&scope)),
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
            let backend = format!("{}: ", Storage::Keyring.backend());
            assert!(text.starts_with(&backend), "{text}");
            assert!(text.contains("portico_storage = file"), "{text}");
        }
    }
}
