use std::process::ExitCode;

use portico::cli::{Cli, Command};
use portico::exit::Exit;

fn main() -> ExitCode {
    let cli = Cli::parse_checked();
    portico::diag::set_verbosity(cli.verbose);
    match run(cli) {
        Ok(exit) => exit.into(),
        Err(err) => {
            if is_broken_pipe(&err) {
                return Exit::Ok.into();
            }
            let exit = portico::exit::classify(&err);
            if exit != Exit::Cancelled {
                // Messages quote names from files and answers from servers; each layer cleans
                // what it quotes, and error_text is the last line of defence for the terminal.
                eprintln!("portico: error: {}", portico::diag::error_text(&err));
            } else {
                eprintln!("portico: cancelled");
            }
            exit.into()
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        None => portico::cmd::portal::run(&cli.portal),
        Some(Command::Login(args)) => portico::cmd::login::run(&args),
        Some(Command::Logout(args)) => portico::cmd::logout::run(&args),
        Some(Command::Status(args)) => portico::cmd::status::run(&args),
        Some(Command::Credentials(args)) => portico::cmd::credentials::run(&args),
        Some(Command::Exec(args)) => portico::cmd::exec::run(&args),
        Some(Command::Serve(args)) => portico::cmd::serve::run(&args),
        Some(Command::Console(args)) => portico::cmd::console::run(&args),
        Some(Command::List(args)) => portico::cmd::list::run(&args),
        Some(Command::Configure(args)) => portico::cmd::configure::run(&args),
        Some(Command::Profiles(args)) => portico::cmd::profiles::run(&args),
        Some(Command::Doctor(args)) => portico::cmd::doctor::run(&args),
        Some(Command::Completions(args)) => portico::cmd::completions::run(&args),
        Some(Command::Init(args)) => portico::cmd::init::run(&args),
        Some(Command::Demo(args)) => portico::cmd::demo::run(&args),
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
