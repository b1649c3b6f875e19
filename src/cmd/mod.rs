//! One module per subcommand, each with a `run` that returns the exit status.

pub mod completions;
pub mod configure;
pub mod console;
pub mod credentials;
pub mod demo;
pub mod doctor;
pub mod exec;
pub mod init;
pub mod list;
pub mod login;
pub mod logout;
pub mod portal;
pub mod profiles;
pub mod serve;
pub mod status;

use crate::settings::{Context, Environment};

/// The config file and environment every command starts from.
pub fn context() -> anyhow::Result<Context> {
    Ok(Context::load(Environment::from_process())?)
}

/// A single-threaded tokio runtime for commands that talk to Identity Center. Commands that
/// only read files never build one.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}
