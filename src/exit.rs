//! portico's exit codes: one enum, one line each in the man page's EXIT STATUS section.

/// Every exit status portico uses. Scripts may rely on these numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Success.
    Ok = 0,
    /// An error not covered below (I/O, unexpected server answer, …).
    Failure = 1,
    /// Bad command line (clap's own code).
    Usage = 2,
    /// `~/.aws/config` is missing something, names an unknown profile or is malformed.
    Config = 3,
    /// Not signed in, or the sign-in expired and cannot be refreshed: run `portico login`.
    LoginRequired = 4,
    /// Sign-in was denied, expired or timed out before the user approved it.
    LoginFailed = 5,
    /// Identity Center refused: no access to the account or role, or nothing assigned.
    AccessDenied = 6,
    /// The service could not be reached, kept throttling, or answered with errors.
    Service = 7,
    /// `portico doctor` found at least one check that failed.
    ChecksFailed = 8,
    /// `portico exec`: the command was found but could not be run (as shells do).
    NotExecutable = 126,
    /// `portico exec`: no such command (as shells do).
    CommandNotFound = 127,
    /// Cancelled by the user (Ctrl-C or a signal); a deliberate quit of the portal is `Ok`.
    Cancelled = 130,
}

impl Exit {
    /// All codes with the one-line meaning printed in `--help` and the man page.
    pub const ALL: [(Exit, &'static str); 12] = [
        (Exit::Ok, "success"),
        (
            Exit::Failure,
            "an error not listed below (file I/O, unexpected answer)",
        ),
        (Exit::Usage, "invalid command line"),
        (
            Exit::Config,
            "the AWS config file is malformed or lacks what was asked for",
        ),
        (
            Exit::LoginRequired,
            "not signed in, or the sign-in expired and cannot be refreshed: run `portico login`",
        ),
        (
            Exit::LoginFailed,
            "sign-in was denied, expired or timed out (SAML: the response was refused or never came)",
        ),
        (
            Exit::AccessDenied,
            "Identity Center or STS refused access to the account or role",
        ),
        (
            Exit::Service,
            "Identity Center could not be reached, kept throttling or failed",
        ),
        (
            Exit::ChecksFailed,
            "portico doctor found a check that failed",
        ),
        (
            Exit::NotExecutable,
            "exec: the command was found but could not be run",
        ),
        (Exit::CommandNotFound, "exec: the command was not found"),
        (
            Exit::Cancelled,
            "cancelled with Ctrl-C (leaving the portal with q or Esc exits 0)",
        ),
    ];

    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

/// The exit status for an error, from the first error in its chain that portico knows.
pub fn classify(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<crate::identity::IdentityError>() {
            return identity(e);
        }
        if let Some(e) = cause.downcast_ref::<crate::portal::PortalError>() {
            use crate::portal::PortalError as P;
            return match e {
                P::Unauthorized { .. } => Exit::LoginRequired,
                P::Forbidden { .. } | P::NotFound { .. } | P::NoAssignments { .. } => {
                    Exit::AccessDenied
                }
                P::Throttled { .. } | P::Service { .. } | P::Network { .. } => Exit::Service,
            };
        }
        if let Some(e) = cause.downcast_ref::<crate::saml::SamlError>() {
            return saml(e);
        }
        if cause
            .downcast_ref::<crate::console::ConsoleError>()
            .is_some()
        {
            return Exit::Service;
        }
        if let Some(e) = cause.downcast_ref::<crate::awsconfig::edit::EditError>() {
            return edit(e);
        }
        if cause
            .downcast_ref::<crate::settings::SettingsError>()
            .is_some()
            || cause
                .downcast_ref::<crate::awsconfig::LoadError>()
                .is_some()
        {
            return Exit::Config;
        }
    }
    Exit::Failure
}

fn identity(e: &crate::identity::IdentityError) -> Exit {
    use crate::cache::token::CacheError;
    use crate::identity::IdentityError as I;
    match e {
        I::LoginRequired { .. } => Exit::LoginRequired,
        I::Denied { .. } | I::CodeExpired { .. } | I::Timeout { .. } => Exit::LoginFailed,
        I::Cancelled => Exit::Cancelled,
        I::WrongRegion { .. } => Exit::Config,
        // Its message says "run `portico login`", so it exits as every other such message.
        I::Cache(CacheError::Corrupt { .. }) => Exit::LoginRequired,
        I::Network { .. } | I::Service { .. } => Exit::Service,
        I::Listener(_) | I::Lock { .. } | I::Cache(_) => Exit::Failure,
    }
}

/// A SAML sign-in refused or not possible is 4 (no browser: nothing can sign in here) or 5
/// (the answer was wrong, expired or never came); STS refusing the role is 6.
fn saml(e: &crate::saml::SamlError) -> Exit {
    use crate::saml::SamlError as S;
    match e {
        S::NoBrowser { .. } | S::LoginRequired { .. } => Exit::LoginRequired,
        S::Cancelled => Exit::Cancelled,
        S::Timeout { .. }
        | S::WrongPath { .. }
        | S::InResponseTo
        | S::Malformed { .. }
        | S::Status { .. }
        | S::Unsigned
        | S::Expired { .. }
        | S::InvalidIdentityToken { .. }
        | S::ExpiredToken { .. } => Exit::LoginFailed,
        S::NoRoles
        | S::RoleNotInAssertion { .. }
        | S::AccessDenied { .. }
        | S::IdpRejectedClaim { .. } => Exit::AccessDenied,
        S::RegionDisabled { .. } => Exit::Config,
        S::Network { .. } | S::Service { .. } => Exit::Service,
        S::Listener { .. } | S::Store { .. } => Exit::Failure,
    }
}

/// 3 (config) for a file portico will not edit as it is, like the read commands give for it;
/// 1 for I/O, a concurrent change or a value that cannot be written.
fn edit(e: &crate::awsconfig::edit::EditError) -> Exit {
    use crate::awsconfig::edit::EditError as E;
    match e {
        E::NotUtf8 { .. }
        | E::Unreadable { .. }
        | E::NotAFile { .. }
        | E::LinkTargetDirMissing { .. }
        | E::WouldChangeMeaning { .. } => Exit::Config,
        E::Read { .. } | E::Changed { .. } | E::Write { .. } | E::Invalid { .. } => Exit::Failure,
    }
}

/// Ends the process as cancelled, for a Ctrl-C that cannot be returned up the stack (during a
/// sign-in, or a portal that does not answer it): says `message` on stderr and exits 130.
pub fn exit_cancelled(message: Option<&str>) -> ! {
    if let Some(message) = message {
        eprintln!("{message}");
    }
    std::process::exit(i32::from(Exit::Cancelled.code()))
}

/// How `portico serve` answers a request it has no keys for, from the same classification as
/// the exit status: the HTTP status and a short code for its JSON error. A sign-in that is
/// needed is 503 (the server never signs in), a profile or session the config lacks 404.
pub fn http_failure(err: &anyhow::Error) -> (u16, &'static str) {
    match classify(err) {
        Exit::LoginRequired | Exit::LoginFailed => (503, "LoginRequired"),
        Exit::Config => (404, "NotFound"),
        Exit::AccessDenied => (403, "AccessDenied"),
        Exit::Service => (502, "ServiceUnavailable"),
        _ => (500, "InternalError"),
    }
}

/// Ends portico as a command it ran ended (`exec --serve`): with its exit code, or by the
/// same signal, so that the caller sees what it would have seen running the command itself.
pub fn exit_like(status: std::process::ExitStatus) -> ! {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let _ = signal_hook::low_level::emulate_default_handler(signal);
            std::process::exit(128 + signal);
        }
    }
    std::process::exit(status.code().unwrap_or(i32::from(Exit::Failure.code())))
}

/// The EXIT STATUS text shared by `--help` and the man page.
pub fn help_text() -> String {
    let mut text = String::from("Exit status:\n");
    for (exit, meaning) in Exit::ALL {
        text.push_str(&format!("  {:>3}  {meaning}\n", exit.code()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_listed_once() {
        let mut seen = std::collections::BTreeSet::new();
        for (exit, meaning) in Exit::ALL {
            assert!(seen.insert(exit.code()), "duplicate code {}", exit.code());
            assert!(!meaning.is_empty());
        }
        assert_eq!(Exit::Usage.code(), 2, "clap exits with 2 on usage errors");
        assert_eq!(Exit::Cancelled.code(), 130);
        // What shells return for a command they cannot run or find.
        assert_eq!(Exit::NotExecutable.code(), 126);
        assert_eq!(Exit::CommandNotFound.code(), 127);
    }
}
