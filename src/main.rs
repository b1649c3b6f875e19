use std::process::ExitCode;

use clap::Parser;
use portico::cli::Cli;
use portico::exit::Exit;

fn main() -> ExitCode {
    let cli = Cli::parse();
    portico::diag::set_verbosity(cli.verbose);
    let mut command = <Cli as clap::CommandFactory>::command();
    match command.print_help() {
        Ok(()) => Exit::Ok.into(),
        Err(_) => Exit::Failure.into(),
    }
}
