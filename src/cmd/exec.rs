//! `portico exec -- CMD ARGS…`: run a command with the role's credentials in its environment.
//! On Unix portico replaces itself with the command (execvp), so the command's exit code and
//! signals are its own, exactly as if it had been started directly. A command that cannot be
//! started exits as a shell would: 127 when it is not found, 126 when it cannot be run.

use std::process::Command;

use crate::cli::ExecArgs;
use crate::engine;
use crate::exit::Exit;
use crate::output::{self, child};

pub fn run(args: &ExecArgs) -> anyhow::Result<Exit> {
    let (resolved, creds) = engine::obtain_for_args(&args.target, args.no_login)?;
    let (program, rest) = args
        .command
        .split_first()
        .expect("clap requires at least one word after --");
    let mut command = Command::new(program);
    command.args(rest);
    // Credentials from elsewhere must not shadow the ones we hand over.
    child::with_vars(
        &mut command,
        output::env_vars(&creds, resolved.region.as_deref()),
    );
    spawn(command, program)
}

#[cfg(unix)]
fn spawn(mut command: Command, program: &str) -> anyhow::Result<Exit> {
    use std::os::unix::process::CommandExt;
    let err = command.exec();
    Ok(not_started(program, &err))
}

#[cfg(not(unix))]
fn spawn(mut command: Command, program: &str) -> anyhow::Result<Exit> {
    match command.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(err) => Ok(not_started(program, &err)),
    }
}

/// Says why `program` did not start and picks the shell's exit code for it.
fn not_started(program: &str, err: &std::io::Error) -> Exit {
    let shown = crate::sanitize::for_terminal(program);
    if err.kind() == std::io::ErrorKind::NotFound {
        eprintln!("portico: error: cannot run {shown}: no such command (not found in PATH)");
        Exit::CommandNotFound
    } else {
        eprintln!("portico: error: cannot run {shown}: {err}");
        Exit::NotExecutable
    }
}
