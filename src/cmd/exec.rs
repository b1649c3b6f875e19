//! `portico exec -- CMD ARGS…`: run a command with the role's credentials in its environment.
//! On Unix portico replaces itself with the command (execvp), so the command's exit code and
//! signals are its own, exactly as if it had been started directly. A command that cannot be
//! started exits as a shell would: 127 when it is not found, 126 when it cannot be run.
//! With `--serve` portico stays, running a private credential server for the command.

use std::process::Command;

use crate::cli::ExecArgs;
use crate::engine::{self, Wanted};
use crate::exit::Exit;
use crate::output::{self, child};
use crate::settings::Environment;

pub fn run(args: &ExecArgs) -> anyhow::Result<Exit> {
    let env = Environment::from_process();
    let wanted = args.target.wanted(&env);
    let (resolved, creds) = engine::obtain_wanted(env.clone(), &wanted, args.no_login)?;
    let (program, rest) = args
        .command
        .split_first()
        .expect("clap requires at least one word after --");
    let mut command = Command::new(program);
    command.args(rest);
    // Credentials from elsewhere must not shadow the ones we hand over.
    if args.serve {
        return serve(command, program, env, &wanted, resolved.region.as_deref());
    }
    child::with_vars(
        &mut command,
        output::env_vars(&creds, resolved.region.as_deref()),
    );
    spawn(command, program)
}

/// `--serve`: the command gets a private credential server instead of static keys; portico
/// stays to run the server, and ends with the command's exit code or signal.
fn serve(
    mut command: Command,
    program: &str,
    env: Environment,
    wanted: &Wanted,
    region: Option<&str>,
) -> anyhow::Result<Exit> {
    use crate::serve::{private, Route};
    // The route of the very role whose keys were just obtained: a SAML role, an account and
    // role, or the profile.
    let route = Route::for_wanted(wanted);
    let server = private::Private::start(env, &route)?;
    let mut vars = server.vars().to_vec();
    if let Some(region) = region {
        vars.push(("AWS_REGION", region.to_string()));
        vars.push(("AWS_DEFAULT_REGION", region.to_string()));
    }
    child::with_vars(&mut command, vars);
    let status = match private::run_passing_signals(&mut command) {
        Ok(status) => status,
        Err(err) => return Ok(not_started(program, &err)),
    };
    server.stop();
    crate::exit::exit_like(status)
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
