//! The kind of an error chain, from the first error in it whose module classifies it (see
//! [`crate::failure`]). Here, above the services and the config files whose errors it reads and
//! below every consumer: `serve` maps the kind to an HTTP status, `exit.rs` to an exit code.

use crate::failure::FailureKind;

/// The kind of one error of a chain, if its type is one the engine's layers classify.
pub fn kind_of_cause(cause: &(dyn std::error::Error + 'static)) -> Option<FailureKind> {
    if let Some(e) = cause.downcast_ref::<crate::identity::IdentityError>() {
        return Some(e.kind());
    }
    if let Some(e) = cause.downcast_ref::<crate::sso::SsoError>() {
        return Some(e.kind());
    }
    if let Some(e) = cause.downcast_ref::<crate::saml::SamlError>() {
        return Some(e.kind());
    }
    if let Some(e) = cause.downcast_ref::<super::ChainError>() {
        return Some(e.kind());
    }
    if cause.downcast_ref::<crate::vault::VaultError>().is_some() {
        return Some(FailureKind::Keyring);
    }
    if let Some(e) = cause.downcast_ref::<crate::awsconfig::edit::EditError>() {
        return Some(e.kind());
    }
    if cause
        .downcast_ref::<crate::settings::SettingsError>()
        .is_some()
        || cause
            .downcast_ref::<crate::awsconfig::LoadError>()
            .is_some()
    {
        return Some(FailureKind::Config);
    }
    None
}

/// The kind of `err`: that of the first error in its chain that [`kind_of_cause`] knows, else
/// [`FailureKind::Other`].
pub fn kind(err: &anyhow::Error) -> FailureKind {
    err.chain()
        .find_map(kind_of_cause)
        .unwrap_or(FailureKind::Other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sso::SsoError;

    #[test]
    fn the_first_classified_error_of_the_chain_decides() {
        let unauthorized = SsoError::Unauthorized {
            session: "emu".into(),
            flags: String::new(),
        };
        let err = anyhow::Error::from(unauthorized).context("getting the keys of dev");
        assert_eq!(kind(&err), FailureKind::LoginRequired);
        let cancelled = anyhow::Error::from(crate::identity::IdentityError::Cancelled);
        assert_eq!(kind(&cancelled), FailureKind::Cancelled);
        let io = anyhow::Error::from(std::io::Error::other("disk on fire"));
        assert_eq!(kind(&io), FailureKind::Other);
    }
}
