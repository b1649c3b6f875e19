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
    /// The keyring `portico_storage` names is locked, missing or did not answer in time.
    Keyring = 9,
    /// `portico exec`: the command was found but could not be run (as shells do).
    NotExecutable = 126,
    /// `portico exec`: no such command (as shells do).
    CommandNotFound = 127,
    /// Cancelled by the user (Ctrl-C or a signal); a deliberate quit of the portal is `Ok`.
    Cancelled = 130,
}

impl Exit {
    /// All codes with the one-line meaning printed in `--help` and the man page.
    pub const ALL: [(Exit, &'static str); 13] = [
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
            Exit::Keyring,
            "the keyring portico_storage names is locked, missing or did not answer in time (nothing is written to a file instead)",
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

/// The exit status for an error, from the first error in its chain that portico knows (the
/// kind its own module gives it, see [`crate::failure`]).
pub fn classify(err: &anyhow::Error) -> Exit {
    use crate::failure::FailureKind as K;
    let kind = err
        .chain()
        .find_map(|cause| {
            if let Some(e) = cause.downcast_ref::<crate::console::ConsoleError>() {
                return Some(e.kind());
            }
            crate::engine::failure::kind_of_cause(cause)
        })
        .unwrap_or(K::Other);
    match kind {
        K::LoginRequired => Exit::LoginRequired,
        K::LoginFailed => Exit::LoginFailed,
        K::AccessDenied => Exit::AccessDenied,
        K::Config => Exit::Config,
        K::Service => Exit::Service,
        K::Keyring => Exit::Keyring,
        K::Cancelled => Exit::Cancelled,
        K::Other => Exit::Failure,
    }
}

/// Ends the process as cancelled, for a Ctrl-C that cannot be returned up the stack (a portal
/// whose loop is blocked on a lock; `cmd/portal.rs` hands it to the controller): says `message`
/// on stderr and exits 130.
pub fn exit_cancelled(message: Option<&str>) -> ! {
    if let Some(message) = message {
        eprintln!("{message}");
    }
    std::process::exit(i32::from(Exit::Cancelled.code()))
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
