//! `portico credentials`: the credential_process provider. The warm path — valid credentials in
//! portico's cache — reads the config and one file and prints; it never starts an async runtime
//! or builds an SDK client (see [`crate::engine`]).

use std::io::Write;

use crate::cli::CredentialsArgs;
use crate::engine;
use crate::exit::Exit;
use crate::output;
use crate::settings::Environment;

pub fn run(args: &CredentialsArgs) -> anyhow::Result<Exit> {
    let env = Environment::from_process();
    let wanted = args.target.wanted(&env);
    let (resolved, creds) = engine::obtain_wanted(env, &wanted, args.no_login)?;
    let text = output::render(args.format, &creds, resolved.region.as_deref());
    // Only now, with everything in hand, does stdout get a byte.
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(Exit::Ok)
}
