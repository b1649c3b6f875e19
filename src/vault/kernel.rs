//! The kernel keyring backend: `user` keys in the caller's per-user keyring (`@u`), described
//! `portico:SCOPE:FOLDER/STEM`. The user keyring lives as long as the user has processes (and
//! never past a reboot), so `credential_process` calls from any terminal of the user share it.
//! Keys are readable by their possessor and by processes of the same user only (as a 0600 file
//! is), so a process whose session keyring does not link `@u` can still read them.

use linux_keyutils::{
    Key, KeyError, KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, KeyType, Permission,
};

use super::{scope_prefix, ItemName, Problem, Storage, VaultError};

fn user_keyring() -> Result<KeyRing, VaultError> {
    KeyRing::from_special_id(KeyRingIdentifier::User, true).map_err(failure)
}

fn failure(error: KeyError) -> VaultError {
    let problem = match error {
        KeyError::QuotaExceeded => Problem::Quota,
        KeyError::OperationNotSupported => Problem::Missing(
            "this kernel has no key management (keyctl is not supported here)".into(),
        ),
        KeyError::AccessDenied | KeyError::PermissionDenied => Problem::Other(
            "permission denied (a container or seccomp profile may block keyctl)".into(),
        ),
        other => Problem::Other(format!("keyctl failed: {other:?}")),
    };
    VaultError::new(Storage::KernelKeyring, problem)
}

fn find(ring: &KeyRing, item: &ItemName) -> Result<Option<Key>, VaultError> {
    match ring.search(&item.description()) {
        Ok(key) => Ok(Some(key)),
        Err(KeyError::KeyDoesNotExist | KeyError::KeyExpired | KeyError::KeyRevoked) => Ok(None),
        Err(e) => Err(failure(e)),
    }
}

pub(super) fn get(item: &ItemName) -> Result<Option<Vec<u8>>, VaultError> {
    let ring = user_keyring()?;
    match find(&ring, item)? {
        None => Ok(None),
        Some(key) => match key.read_to_vec() {
            Ok(bytes) => Ok(Some(bytes)),
            Err(KeyError::KeyDoesNotExist | KeyError::KeyExpired | KeyError::KeyRevoked) => {
                Ok(None)
            }
            Err(e) => Err(failure(e)),
        },
    }
}

pub(super) fn put(item: &ItemName, secret: &[u8]) -> Result<(), VaultError> {
    let ring = user_keyring()?;
    // add_key replaces the payload of a key with the same type and description in place.
    let key = ring.add_key(&item.description(), secret).map_err(failure)?;
    let perms = KeyPermissionsBuilder::builder()
        .posessor(Permission::ALL)
        .user(Permission::ALL)
        .build();
    key.set_perms(perms).map_err(failure)
}

pub(super) fn delete(item: &ItemName) -> Result<bool, VaultError> {
    let ring = user_keyring()?;
    match find(&ring, item)? {
        None => Ok(false),
        // Invalidating removes the key from every keyring at once (unlinking would leave it
        // alive wherever else it is linked).
        Some(key) => match key.invalidate() {
            Ok(()) => Ok(true),
            Err(KeyError::KeyDoesNotExist | KeyError::KeyRevoked) => Ok(false),
            Err(e) => Err(failure(e)),
        },
    }
}

pub(super) fn count(scope: &str) -> Result<usize, VaultError> {
    let ring = user_keyring()?;
    let prefix = scope_prefix(scope);
    // get_links sizes its buffer from `max`; 16384 links is far more than a user keyring holds.
    let links = ring.get_links(16384).map_err(failure)?;
    Ok(links
        .iter()
        .filter_map(|node| node.as_key())
        .filter_map(|key| key.metadata().ok())
        .filter(|m| m.get_type() == KeyType::User && m.get_description().starts_with(&prefix))
        .count())
}
