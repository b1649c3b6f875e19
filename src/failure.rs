//! What kind of failure an error is, decided once, next to each error type (`failure()` on
//! `IdentityError`, `SsoError`, `SamlError`, …). This module is a leaf: it imports nothing
//! from the crate, so every layer may name a kind. Each consumer maps the kind to its own
//! answer: `exit.rs` to an exit code, `serve` to an HTTP status.

/// The kinds of failure portico tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Not signed in, or the sign-in expired and cannot be refreshed.
    LoginRequired,
    /// A sign-in was denied, expired or timed out before the user approved it.
    LoginFailed,
    /// The service refused access to the account or role, or nothing is assigned.
    AccessDenied,
    /// The config lacks what was asked for, names something unknown or is malformed.
    Config,
    /// The service could not be reached, kept throttling or answered with errors.
    Service,
    /// The keyring `portico_storage` names is locked, missing or did not answer in time.
    Keyring,
    /// The user pressed Ctrl-C.
    Cancelled,
    /// Anything else (I/O, a lock, an unexpected answer).
    Other,
}
