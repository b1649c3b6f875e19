//! The `storage` check of each session: where `portico_storage` keeps its secrets; for a
//! keyring, that the backend answers and is unlocked, with the number of portico's items in it
//! (never a value), and the profiles the AWS CLI can no longer serve from its own token file.

use std::path::Path;

use super::{split_fix, Check, Report, Status};
use crate::sanitize::for_terminal;
use crate::settings::storage::profiles_reading_the_token_file;
use crate::settings::{Context, SsoSession};
use crate::vault::{self, Storage};

pub(super) fn check_storage(
    ctx: &Context,
    session: &SsoSession,
    cache_root: &Path,
    report: &mut Report,
) {
    let storage = session.storage;
    if storage.is_file() {
        report.pass(
            Check::Storage,
            "file: the token is a 0600 file the AWS CLI shares".into(),
        );
        return;
    }
    match vault::count(storage, cache_root) {
        Ok(count) => report.pass(Check::Storage, answers(storage, count)),
        Err(e) => {
            let (message, fix) = split_fix(&e.to_string());
            report.add(Check::Storage, Status::Fail, message, fix);
            return;
        }
    }
    let Some(name) = &session.name else {
        return;
    };
    let profiles = profiles_reading_the_token_file(ctx, name);
    if !profiles.is_empty() {
        report.add(
            Check::Storage,
            Status::Warn,
            format!(
                "profile{} {} use{} sso_session = {}, whose token the AWS CLI cannot read from {}",
                if profiles.len() == 1 { "" } else { "s" },
                for_terminal(&profiles.join(", ")),
                if profiles.len() == 1 { "s" } else { "" },
                for_terminal(name),
                storage.backend()
            ),
            Some(format!(
                "serve its roles through portico with `portico profiles sync --sso-session {} --credential-process`, and replace the sso_* keys of hand-written profiles by such a credential_process line",
                for_terminal(name)
            )),
        );
    }
}

/// The pass line of a keyring that answers: how many items portico has there, where the
/// platform can tell.
fn answers(storage: Storage, count: Option<usize>) -> String {
    let items = match count {
        Some(count) => format!(
            "{count} item{} of portico in it",
            if count == 1 { "" } else { "s" }
        ),
        None => "count unavailable (this platform's API cannot list items)".into(),
    };
    format!(
        "{}: {} answers and is unlocked; {items}",
        storage.as_str(),
        storage.backend()
    )
}

/// The same for a saml-session (whose profiles go through portico already).
pub(super) fn check_saml_storage(storage: Storage, cache_root: &Path, report: &mut Report) {
    if storage.is_file() {
        return;
    }
    match vault::count(storage, cache_root) {
        Ok(count) => report.pass(Check::Storage, answers(storage, count)),
        Err(e) => {
            let (message, fix) = split_fix(&e.to_string());
            report.add(Check::Storage, Status::Fail, message, fix);
        }
    }
}
