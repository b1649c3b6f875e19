//! `portico` with no command: the portal. Its controller lives in [`crate::tui::controller`].

use crate::cli::PortalArgs;
use crate::exit::Exit;
use crate::tui::controller::{self, Ended, Options};

pub fn run(args: &PortalArgs) -> anyhow::Result<Exit> {
    let ended = controller::run(&Options {
        format: args.format,
        sso_session: args.sso_session.clone(),
        profile: args.profile.clone(),
        browser: args.browser.clone(),
        // A Ctrl-C the portal cannot act on (its loop is blocked on a lock) ends the process
        // here, at the edge, once the controller has restored the terminal.
        end_when_stuck: Some(|| crate::exit::exit_cancelled(None)),
    })?;
    Ok(match ended {
        // Leaving the portal on purpose is success.
        Ended::Quit => Exit::Ok,
        Ended::Interrupted => Exit::Cancelled,
    })
}
