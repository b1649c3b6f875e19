//! The listing's progress line on stderr (`portico list`, `profiles sync`): shown only on a
//! terminal and only once a listing takes more than a moment, redrawn in place, and erased
//! when the listing ends.

use std::io::IsTerminal;
use std::time::Duration;

use crate::model::Progress;

/// A progress line for one listing.
#[derive(Debug)]
pub struct ProgressLine {
    interactive: bool,
    shown: bool,
}

impl ProgressLine {
    /// A line on stderr if stderr is a terminal; otherwise nothing is ever drawn.
    pub fn stderr() -> ProgressLine {
        ProgressLine {
            interactive: std::io::stderr().is_terminal(),
            shown: false,
        }
    }

    /// Redraws the line for `p`.
    pub fn show(&mut self, p: Progress) {
        if !self.interactive || p.elapsed < Duration::from_millis(500) {
            return;
        }
        self.shown = true;
        let total = p
            .accounts_total
            .map(|t| t.to_string())
            .unwrap_or_else(|| format!("{}+", p.accounts_seen));
        let throttled = if p.throttled > 0 {
            format!(", {} throttled and retried", p.throttled)
        } else {
            String::new()
        };
        eprint!(
            "\r\x1b[Kportico: listing roles: {}/{total} accounts{throttled}",
            p.accounts_done
        );
    }

    /// Erases the line if it was drawn.
    pub fn finish(self) {
        if self.shown {
            eprint!("\r\x1b[K");
        }
    }
}
