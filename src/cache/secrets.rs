//! A cache file whose secrets live in a keyring (`portico_storage`): the file keeps the JSON
//! with its secret fields taken out and a `porticoStorage` mark naming the backend; the keyring
//! item of the file ([`ItemName::for_file`]) holds those fields. Reading a marked file puts them
//! back, so the token, role-credential and assertion caches read one JSON value whatever the
//! storage, and a reader that only needs the facts (expiry, account, roles) never has to.
//!
//! With `file` storage nothing here is used on write: the caches write their files as before,
//! byte for byte. Reading an unmarked file is one scan for the mark and nothing else.

use std::io;
use std::path::Path;

use serde_json::{Map, Value};

use crate::cache::files::{remove_if_exists, write_private};
use crate::vault::{self, ItemName, Storage, VaultError};

/// The key of the mark in a file whose secrets are in a keyring.
pub const MARK: &str = "porticoStorage";

/// The key listing (by dotted path) the fields a marked file's item holds, so that a reader of
/// the facts alone knows which secrets exist.
pub const KEPT: &str = "porticoKept";

/// The secret fields of the token cache's files (token and client registration).
pub const TOKEN_SECRETS: &[&[&str]] = &[&["accessToken"], &["refreshToken"], &["clientSecret"]];

/// Why a cache file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The file is marked but its keyring item is gone (the keyring was cleared, a reboot
    /// emptied the kernel keyring): the file is no sign-in any more.
    #[error("its secrets are no longer in {}", .0.backend())]
    ItemGone(Storage),
}

/// The storage a file's mark names, `None` for an ordinary file.
pub fn marked(bytes: &[u8]) -> Option<Storage> {
    memchr::memmem::find(bytes, MARK.as_bytes())?;
    let value: Value = serde_json::from_slice(bytes).ok()?;
    value.get(MARK)?.as_str().and_then(Storage::parse)
}

/// The whole JSON of the file at `path` (`None` if there is none): as it is, or with the secrets
/// of a marked file put back from its keyring item.
pub fn read(path: &Path) -> Result<Option<Vec<u8>>, SplitError> {
    Ok(read_kept(path)?.map(|(bytes, _)| bytes))
}

/// [`read`], with where the file's secrets were kept (`File` for an unmarked file).
pub fn read_kept(path: &Path) -> Result<Option<(Vec<u8>, Storage)>, SplitError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let Some(storage) = marked(&bytes) else {
        return Ok(Some((bytes, Storage::File)));
    };
    let mut value: Value = serde_json::from_slice(&bytes).map_err(io::Error::other)?;
    let secrets =
        vault::get(storage, &ItemName::for_file(path))?.ok_or(SplitError::ItemGone(storage))?;
    let secrets: Map<String, Value> = serde_json::from_slice(&secrets)
        .map_err(|e| io::Error::other(format!("its keyring item is not JSON: {e}")))?;
    if let Some(object) = value.as_object_mut() {
        object.remove(MARK);
        object.remove(KEPT);
        for (path, secret) in secrets {
            put_at(object, &path, secret);
        }
    }
    Ok(Some((
        serde_json::to_vec(&value).map_err(io::Error::other)?,
        storage,
    )))
}

/// The file at `path` without opening its keyring item: a marked file's secret fields are empty
/// strings (the mark stays, so the value is known for facts only); an unmarked file as it is.
/// For what needs no secret — expiry, whether a refresh token exists — as `status` shows it.
pub fn read_facts(path: &Path) -> Result<Option<Vec<u8>>, SplitError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if marked(&bytes).is_none() {
        return Ok(Some(bytes));
    }
    let mut value: Value = serde_json::from_slice(&bytes).map_err(io::Error::other)?;
    if let Some(object) = value.as_object_mut() {
        let kept: Vec<String> = object
            .remove(KEPT)
            .and_then(|k| serde_json::from_value(k).ok())
            .unwrap_or_default();
        for path in kept {
            put_at(object, &path, Value::String(String::new()));
        }
    }
    Ok(Some(serde_json::to_vec(&value).map_err(io::Error::other)?))
}

/// Writes `value` to `path` with the fields at `secret_paths` in the `storage` keyring: the
/// keyring first, so a file never marks secrets that are not there.
pub fn write(
    path: &Path,
    value: &Value,
    secret_paths: &[&[&str]],
    storage: Storage,
) -> Result<(), SplitError> {
    debug_assert!(!storage.is_file(), "file storage writes its files itself");
    let mut facts = value.clone();
    let mut secrets = Map::new();
    if let Some(object) = facts.as_object_mut() {
        for field in secret_paths {
            if let Some(secret) = take_at(object, field) {
                secrets.insert(field.join("."), secret);
            }
        }
        object.insert(MARK.into(), Value::String(storage.as_str().into()));
        let kept = secrets.keys().cloned().map(Value::String).collect();
        object.insert(KEPT.into(), Value::Array(kept));
    }
    let secrets = serde_json::to_vec(&secrets).map_err(io::Error::other)?;
    vault::put(storage, &ItemName::for_file(path), &secrets)?;
    let mut text = serde_json::to_vec(&facts).map_err(io::Error::other)?;
    text.push(b'\n');
    write_private(path, &text)?;
    Ok(())
}

/// Deletes the keyring item of the file at `path` if the file is marked (the file stays).
pub fn forget_item(path: &Path) -> Result<bool, SplitError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    forget_item_of(path, &bytes)
}

/// [`forget_item`] for a file already read.
pub fn forget_item_of(path: &Path, bytes: &[u8]) -> Result<bool, SplitError> {
    match marked(bytes) {
        Some(storage) => Ok(vault::delete(storage, &ItemName::for_file(path))?),
        None => Ok(false),
    }
}

/// Deletes the file at `path` and, if it was marked, its keyring item. Returns whether the
/// file existed.
pub fn remove(path: &Path) -> Result<bool, SplitError> {
    forget_item(path)?;
    Ok(remove_if_exists(path)?)
}

fn take_at(object: &mut Map<String, Value>, path: &[&str]) -> Option<Value> {
    match path {
        [] => None,
        [last] => object.remove(*last),
        [first, rest @ ..] => take_at(object.get_mut(*first)?.as_object_mut()?, rest),
    }
}

fn put_at(object: &mut Map<String, Value>, dotted: &str, value: Value) {
    match dotted.split_once('.') {
        None => {
            object.insert(dotted.to_string(), value);
        }
        Some((first, rest)) => {
            let inner = object
                .entry(first.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(inner) = inner.as_object_mut() {
                put_at(inner, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the real kernel keyring: the file holds no secret, reading gives the whole
    /// value back, removing deletes the item too.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_split_file_round_trips_through_the_kernel_keyring() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials").join("x.json");
        let value = serde_json::json!({
            "version": 1,
            "credentials": {"accessKeyId": "AKIA1", "secretAccessKey": "sk-unit-1", "sessionToken": "st-unit-1"},
        });
        let secrets: &[&[&str]] = &[
            &["credentials", "secretAccessKey"],
            &["credentials", "sessionToken"],
        ];
        write(&path, &value, secrets, Storage::KernelKeyring).unwrap();
        let on_disk = std::fs::read_to_string(&path).unwrap();
        assert!(
            !on_disk.contains("sk-unit-1") && !on_disk.contains("st-unit-1"),
            "{on_disk}"
        );
        assert!(on_disk.contains("AKIA1") && on_disk.contains(MARK));
        let back: Value = serde_json::from_slice(&read(&path).unwrap().unwrap()).unwrap();
        assert_eq!(back, value);
        let facts: Value = serde_json::from_slice(&read_facts(&path).unwrap().unwrap()).unwrap();
        assert_eq!(facts["credentials"]["secretAccessKey"], "", "a placeholder");
        assert_eq!(facts["credentials"]["accessKeyId"], "AKIA1");
        assert_eq!(facts[MARK], "kernel-keyring");
        assert!(remove(&path).unwrap());
        assert!(!path.exists());
        assert_eq!(
            vault::get(Storage::KernelKeyring, &ItemName::for_file(&path)).unwrap(),
            None
        );
    }

    #[test]
    fn unmarked_files_read_as_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        std::fs::write(&path, b"{\"accessToken\": \"a\"}\n").unwrap();
        assert_eq!(
            read(&path).unwrap().unwrap(),
            b"{\"accessToken\": \"a\"}\n".to_vec()
        );
        assert!(read(&dir.path().join("none.json")).unwrap().is_none());
    }
}
