//! The Windows Credential Manager backend (`keyring` on Windows), through the `keyring`
//! crate's Windows store (its safe wrapper of `CredReadW`/`CredWriteW`/`CredDeleteW`: portico
//! forbids unsafe code, so it makes no raw Win32 calls of its own). Items are generic
//! credentials of the user, target name `portico:SCOPE:FOLDER/STEM`, user name `portico`,
//! persisted as the crate does (`CRED_PERSIST_ENTERPRISE`: kept across logons, and carried by a
//! roaming profile where the domain has one).
//!
//! Built but untested: nothing here runs on Windows before a release; it was type-checked for
//! `x86_64-pc-windows-gnu` only (see README, "Keeping tokens out of files").
//!
//! A credential holds at most 2560 bytes (`CRED_MAX_CREDENTIAL_BLOB_SIZE`), less than a token
//! with its refresh token may take. A longer secret is split: the item holds the first 2560
//! bytes and `TARGET#2`, `TARGET#3`, … the rest (see [`super::parts`]).
//!
//! The crate cannot list credentials, so `doctor` learns that the Credential Manager answers
//! (a read of an item that does not exist) but not how many items portico has there: the
//! count is unavailable. The Credential Manager shows no dialog for generic credentials; the
//! calls still run under the vault's time bound ([`super::bounded_native`]).

use keyring::Entry;

use super::{parts, scope_prefix, ItemName, Problem, Storage, VaultError};

/// `CRED_MAX_CREDENTIAL_BLOB_SIZE` (wincred.h).
const PART: usize = 2560;

fn failure(problem: Problem) -> VaultError {
    VaultError::new(Storage::Keyring, problem)
}

fn classify(error: keyring::Error) -> VaultError {
    let text = |e: &dyn std::fmt::Display| crate::sanitize::for_terminal(&e.to_string());
    failure(match &error {
        keyring::Error::NoStorageAccess(why) => Problem::Missing(format!(
            "no credential store for this logon ({}; a service or a network logon)",
            text(why)
        )),
        _ => Problem::Other(format!("the Credential Manager refused: {}", text(&error))),
    })
}

fn entry(target: &str) -> Result<Entry, VaultError> {
    Entry::new_with_target(target, "portico", "portico").map_err(classify)
}

fn target(item: &ItemName, part: usize) -> String {
    match part {
        1 => item.description(),
        n => format!("{}#{n}", item.description()),
    }
}

/// The blob of the credential `target`, `None` if there is none.
fn read(target: &str) -> Result<Option<Vec<u8>>, VaultError> {
    match entry(target)?.get_secret() {
        Ok(blob) => Ok(Some(blob)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(classify(e)),
    }
}

/// Deletes the credential `target`; returns whether there was one.
fn remove(target: &str) -> Result<bool, VaultError> {
    match entry(target)?.delete_credential() {
        Ok(()) => Ok(true),
        Err(keyring::Error::NoEntry) => Ok(false),
        Err(e) => Err(classify(e)),
    }
}

pub(super) fn get(item: &ItemName) -> Result<Option<Vec<u8>>, VaultError> {
    parts::join(PART, |part| read(&target(item, part)))
}

pub(super) fn put(item: &ItemName, secret: &[u8]) -> Result<(), VaultError> {
    let parts = parts::split(secret, PART);
    // The continuations first and the item last, so that a reader never finds a new first
    // part before the parts it leads to.
    for (index, blob) in parts.iter().enumerate().skip(1) {
        entry(&target(item, index + 1))?
            .set_secret(blob)
            .map_err(classify)?;
    }
    entry(&target(item, 1))?
        .set_secret(parts[0])
        .map_err(classify)?;
    // Parts of a longer secret written before are no longer read; tidy them away.
    let mut stale = parts.len() + 1;
    while remove(&target(item, stale))? {
        stale += 1;
    }
    Ok(())
}

pub(super) fn delete(item: &ItemName) -> Result<bool, VaultError> {
    let existed = remove(&target(item, 1))?;
    let mut part = 2;
    while remove(&target(item, part))? {
        part += 1;
    }
    Ok(existed)
}

/// That the Credential Manager answers for this logon (a read of a name no item has); the
/// number of portico's items is unavailable (`None`): the crate cannot list credentials.
pub(super) fn count(scope: &str) -> Result<Option<usize>, VaultError> {
    read(&format!("{}doctor-probe", scope_prefix(scope)))?;
    Ok(None)
}
