//! `portico exec -- CMD ARGS…`: run a command with the role's credentials in its environment.
//! On Unix portico replaces itself with the command (execvp), so the command's exit code and
//! signals are its own, exactly as if it had been started directly.

use std::process::Command;

use crate::cli::ExecArgs;
use crate::exit::Exit;
use crate::output;

pub fn run(args: &ExecArgs) -> anyhow::Result<Exit> {
    let (target, creds) = super::credentials::for_args(&args.target, args.no_login)?;
    let (program, rest) = args
        .command
        .split_first()
        .expect("clap requires at least one word after --");
    let mut command = Command::new(program);
    command.args(rest);
    // Credentials from elsewhere must not shadow the ones we hand over.
    for var in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN"] {
        command.env_remove(var);
    }
    for (name, value) in output::env_vars(&creds, target.region.as_deref()) {
        command.env(name, value);
    }
    spawn(command, program)
}

#[cfg(unix)]
fn spawn(mut command: Command, program: &str) -> anyhow::Result<Exit> {
    use std::os::unix::process::CommandExt;
    let err = command.exec();
    Err(anyhow::anyhow!("cannot run {program}: {err}"))
}

#[cfg(not(unix))]
fn spawn(mut command: Command, program: &str) -> anyhow::Result<Exit> {
    let status = command
        .status()
        .map_err(|e| anyhow::anyhow!("cannot run {program}: {e}"))?;
    std::process::exit(status.code().unwrap_or(1));
}
