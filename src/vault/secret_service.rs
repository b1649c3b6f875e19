//! The Secret Service backend (GNOME Keyring, KWallet, KeePassXC…) over D-Bus through the
//! pure-Rust `secret-service` crate (zbus). Items live in the default collection with the
//! attributes `application=portico`, `portico-scope=SCOPE`, `portico-item=FOLDER/STEM`.
//!
//! portico never asks the service to unlock anything and never waits on a prompt without a
//! bound: a locked collection is an error at once, and every call runs on a thread of its own
//! that the caller stops waiting for after [`super::timeout`] (a daemon that never answers, a
//! prompt nobody sees). The crate's blocking API runs its own tokio runtime, which must not be
//! started on a thread of portico's runtimes; the thread keeps it apart from them too.

use std::collections::HashMap;
use std::sync::mpsc;

use secret_service::blocking::{Collection, SecretService};
use secret_service::{EncryptionType, Error};

use super::{ItemName, Problem, Storage, VaultError};

const APPLICATION: &str = "portico";

fn failure(problem: Problem) -> VaultError {
    VaultError::new(Storage::Keyring, problem)
}

fn classify(error: Error) -> VaultError {
    let text = |e: &dyn std::fmt::Display| crate::sanitize::for_terminal(&e.to_string());
    failure(match &error {
        Error::Locked => Problem::Locked,
        Error::Prompt | Error::PromptDisconnected => Problem::Prompt,
        Error::Unavailable => Problem::Missing("no D-Bus session or no provider".into()),
        Error::Zbus(zbus::Error::Address(_)) | Error::Zbus(zbus::Error::InputOutput(_)) => {
            Problem::Missing(text(&error))
        }
        Error::Zbus(zbus::Error::MethodError(name, _, _))
            if name.as_str() == "org.freedesktop.DBus.Error.ServiceUnknown"
                || name.as_str() == "org.freedesktop.DBus.Error.NameHasNoOwner" =>
        {
            Problem::Missing("org.freedesktop.secrets is not on the bus".into())
        }
        Error::ZbusFdo(zbus::fdo::Error::ServiceUnknown(_))
        | Error::ZbusFdo(zbus::fdo::Error::NameHasNoOwner(_)) => {
            Problem::Missing("org.freedesktop.secrets is not on the bus".into())
        }
        Error::Zbus(zbus::Error::FDO(fdo))
            if matches!(
                **fdo,
                zbus::fdo::Error::ServiceUnknown(_) | zbus::fdo::Error::NameHasNoOwner(_)
            ) =>
        {
            Problem::Missing("org.freedesktop.secrets is not on the bus".into())
        }
        Error::NoResult => Problem::Other(
            "the default collection does not exist; create one (e.g. log in to the desktop once)"
                .into(),
        ),
        _ => Problem::Other(text(&error)),
    })
}

/// One connection to the service and its default collection, checked to be unlocked.
pub(super) struct Session<'a> {
    collection: Collection<'a>,
}

impl Session<'_> {
    fn attributes(item: &ItemName) -> HashMap<&str, &str> {
        HashMap::from([
            ("application", APPLICATION),
            ("portico-scope", item.scope.as_str()),
            ("portico-item", item.name.as_str()),
        ])
    }

    pub(super) fn get(&self, item: &ItemName) -> Result<Option<Vec<u8>>, VaultError> {
        let found = self
            .collection
            .search_items(Self::attributes(item))
            .map_err(classify)?;
        match found.first() {
            None => Ok(None),
            Some(found) => found.get_secret().map(Some).map_err(classify),
        }
    }

    pub(super) fn put(&self, item: &ItemName, secret: &[u8]) -> Result<(), VaultError> {
        self.collection
            .create_item(
                &format!("portico {}", item.name),
                Self::attributes(item),
                secret,
                true,
                "application/json",
            )
            .map(drop)
            .map_err(classify)
    }

    pub(super) fn delete(&self, item: &ItemName) -> Result<bool, VaultError> {
        let found = self
            .collection
            .search_items(Self::attributes(item))
            .map_err(classify)?;
        for each in &found {
            each.delete().map_err(classify)?;
        }
        Ok(!found.is_empty())
    }

    pub(super) fn count(&self, scope: &str) -> Result<usize, VaultError> {
        let attributes = HashMap::from([("application", APPLICATION), ("portico-scope", scope)]);
        self.collection
            .search_items(attributes)
            .map(|items| items.len())
            .map_err(classify)
    }
}

fn connect_and<T>(
    work: impl FnOnce(&Session<'_>) -> Result<T, VaultError>,
) -> Result<T, VaultError> {
    let service = SecretService::connect(EncryptionType::Dh).map_err(classify)?;
    let collection = service.get_default_collection().map_err(classify)?;
    if collection.is_locked().map_err(classify)? {
        return Err(failure(Problem::Locked));
    }
    let session = Session { collection };
    work(&session)
}

/// Runs `work` against the default collection on a thread of its own, and gives up waiting
/// after [`super::timeout`]: the thread is left to finish or to end with the process.
pub(super) fn bounded<T: Send + 'static>(
    work: impl FnOnce(&Session<'_>) -> Result<T, VaultError> + Send + 'static,
) -> Result<T, VaultError> {
    let bound = super::timeout();
    let (send, receive) = mpsc::channel();
    std::thread::Builder::new()
        .name("portico-keyring".into())
        .spawn(move || {
            let _ = send.send(connect_and(work));
        })
        .map_err(|e| failure(Problem::Other(format!("cannot start a thread: {e}"))))?;
    match receive.recv_timeout(bound) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(failure(Problem::NoAnswer(bound))),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(failure(Problem::Other(
            "the keyring call ended without an answer".into(),
        ))),
    }
}
