//! `portico completions SHELL`: shell completions generated from the clap definitions, so they
//! never drift from the real flags. Printed on stdout for the user (or `install.sh`) to save.

use crate::cli::{Cli, CompletionsArgs};
use crate::exit::Exit;

pub fn run(args: &CompletionsArgs) -> anyhow::Result<Exit> {
    let mut command = <Cli as clap::CommandFactory>::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut command, "portico", &mut out);
    Ok(Exit::Ok)
}
