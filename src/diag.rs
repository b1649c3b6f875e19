//! Diagnostics on stderr, at the verbosity `-v` chose. stdout is never touched here: it belongs
//! to the command's output (credential_process JSON, shell exports).
//!
//! A tiny hand-written logger: the few levels portico needs do not justify `tracing` and its
//! subscriber stack in a binary whose warm path must start in a millisecond.

use std::sync::atomic::{AtomicU8, Ordering};

static VERBOSITY: AtomicU8 = AtomicU8::new(0);

/// Sets the verbosity from the number of `-v` flags.
pub fn set_verbosity(level: u8) {
    VERBOSITY.store(level, Ordering::Relaxed);
}

/// Whether messages at `level` (1 = `-v`, 2 = `-vv`) are shown.
pub fn enabled(level: u8) -> bool {
    VERBOSITY.load(Ordering::Relaxed) >= level
}

/// `-v`: what portico is doing (files read, calls made).
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => {
        if $crate::diag::enabled(1) {
            eprintln!("portico: {}", format_args!($($arg)*));
        }
    };
}

/// `-vv`: details (timings, retries, cache decisions).
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::diag::enabled(2) {
            eprintln!("portico: {}", format_args!($($arg)*));
        }
    };
}
