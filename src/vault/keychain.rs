//! The macOS Keychain backend (`keyring` on macOS), through the `security-framework` crate
//! (Apple's Security framework; already in the lock for TLS). Items are generic passwords in
//! the user's default keychain (the login keychain): service `portico:SCOPE`, account
//! `FOLDER/STEM`, label `portico FOLDER/STEM`.
//!
//! Built but untested: nothing here runs on a Mac before a release; it was type-checked for
//! `x86_64-apple-darwin` only (see README, "Keeping tokens out of files").
//!
//! No prompt, ever. The legacy keychain shows a dialog when the keychain is locked or when an
//! item's access list does not name the calling binary (a rebuilt or updated portico); such a
//! dialog would hang a `credential_process` call. portico switches the Security framework's
//! user interaction off for the whole process before its first call
//! (`SecKeychainSetUserInteractionAllowed(false)`: portico never wants a Keychain dialog), so
//! such a call fails at once with `errSecInteractionNotAllowed`, which becomes
//! [`Problem::Prompt`]. Every call also runs under the vault's time bound
//! ([`super::bounded_native`]), for a `securityd` that does not answer. The data protection
//! keychain (which never prompts) needs a signed binary with an access-group entitlement,
//! which a `cargo install`ed portico does not have, so it is not used.

use std::sync::Once;

use security_framework::base::Error;
use security_framework::item::{ItemClass, ItemSearchOptions, Limit};
use security_framework::os::macos::keychain::SecKeychain;
use security_framework::passwords::{
    delete_generic_password_options, generic_password, set_generic_password_options,
    PasswordOptions,
};

use super::{ItemName, Problem, Storage, VaultError};

// OSStatus codes of SecBase.h that portico tells apart.
const ITEM_NOT_FOUND: i32 = -25300;
const INTERACTION_NOT_ALLOWED: i32 = -25308;
const AUTH_FAILED: i32 = -25293;
const NO_SUCH_KEYCHAIN: i32 = -25294;
const NOT_AVAILABLE: i32 = -25291;
const NO_DEFAULT_KEYCHAIN: i32 = -25307;
const USER_CANCELED: i32 = -128;

fn failure(problem: Problem) -> VaultError {
    VaultError::new(Storage::Keyring, problem)
}

fn classify(error: Error) -> VaultError {
    failure(match error.code() {
        INTERACTION_NOT_ALLOWED | USER_CANCELED => Problem::Prompt,
        AUTH_FAILED => Problem::Locked,
        NO_SUCH_KEYCHAIN | NOT_AVAILABLE | NO_DEFAULT_KEYCHAIN => Problem::Missing(format!(
            "no default keychain for this user (OSStatus {})",
            error.code()
        )),
        code => Problem::Other(format!(
            "the Keychain refused: {} (OSStatus {code})",
            crate::sanitize::for_terminal(&error.message().unwrap_or_default())
        )),
    })
}

/// Turns Keychain dialogs off for this process, once, for good (see the module's text).
fn no_dialogs() -> Result<(), VaultError> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| match SecKeychain::disable_user_interaction() {
        // The lock would turn dialogs back on when dropped; portico never wants them.
        Ok(lock) => std::mem::forget(lock),
        Err(e) => result = Err(classify(e)),
    });
    result
}

fn service(scope: &str) -> String {
    format!("portico:{scope}")
}

fn options(item: &ItemName) -> PasswordOptions {
    PasswordOptions::new_generic_password(&service(&item.scope), &item.name)
}

pub(super) fn get(item: &ItemName) -> Result<Option<Vec<u8>>, VaultError> {
    no_dialogs()?;
    match generic_password(options(item)) {
        Ok(secret) => Ok(Some(secret)),
        Err(e) if e.code() == ITEM_NOT_FOUND => Ok(None),
        Err(e) => Err(classify(e)),
    }
}

pub(super) fn put(item: &ItemName, secret: &[u8]) -> Result<(), VaultError> {
    no_dialogs()?;
    let mut options = options(item);
    options.set_label(&format!("portico {}", item.name));
    // Adds the item, or updates the secret of the one with this service and account.
    set_generic_password_options(secret, options).map_err(classify)
}

pub(super) fn delete(item: &ItemName) -> Result<bool, VaultError> {
    no_dialogs()?;
    match delete_generic_password_options(options(item)) {
        Ok(()) => Ok(true),
        Err(e) if e.code() == ITEM_NOT_FOUND => Ok(false),
        Err(e) => Err(classify(e)),
    }
}

/// portico's items of one cache: their attributes only (reading no secret, so no item's
/// access list is consulted), and items that would need a dialog are skipped.
pub(super) fn count(scope: &str) -> Result<usize, VaultError> {
    no_dialogs()?;
    let found = ItemSearchOptions::new()
        .class(ItemClass::generic_password())
        .service(&service(scope))
        .load_attributes(true)
        .skip_authenticated_items(true)
        .limit(Limit::All)
        .search();
    match found {
        Ok(items) => Ok(items.len()),
        Err(e) if e.code() == ITEM_NOT_FOUND => Ok(0),
        Err(e) => Err(classify(e)),
    }
}
