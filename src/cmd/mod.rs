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
pub mod status;
