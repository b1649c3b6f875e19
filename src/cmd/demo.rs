//! `portico demo`: the newcomer's first run, in a throw-away world of the emulator's making
//! (see [`crate::demo`]): the portal, or the command given after `--`, runs there.

use crate::cli::DemoArgs;
use crate::demo::{self, Ended, Options};
use crate::exit::Exit;

pub fn run(args: &DemoArgs) -> anyhow::Result<Exit> {
    let ended = demo::run(&Options {
        accounts: args.accounts,
        roles_per_account: args.roles_per_account,
        saml_roles: args.saml_roles,
        saml_only: args.saml_only,
        command: args.command.clone(),
    })?;
    let status = match ended {
        Ended::Interrupted => return Ok(Exit::Cancelled),
        Ended::Exited(status) => status,
    };
    match status.code() {
        Some(0) => Ok(Exit::Ok),
        Some(130) | None => Ok(Exit::Cancelled),
        // The command's own exit status comes back.
        Some(code) => std::process::exit(code),
    }
}
