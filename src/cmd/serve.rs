//! `portico serve`: starts the container-credentials server (src/serve), prints the variables
//! that point a client at it, and runs until SIGINT, SIGTERM, SIGHUP or SIGQUIT.

use std::io::Write;

use crate::cli::ServeArgs;
use crate::exit::Exit;
use crate::serve::stop::StopSignals;
use crate::serve::{Route, Server, Token, TOKEN_FILE_VAR, TOKEN_VAR, URI_VAR};
use crate::settings::Environment;

pub fn run(args: &ServeArgs) -> anyhow::Result<Exit> {
    let env = Environment::from_process();
    let wanted = args.target.wanted(&env);
    let token = Token::generate()?;
    let server = Server::bind(args.bind, args.port, token.clone(), env)?;
    let target = server.check(&wanted)?;
    let route = Route::for_wanted(&wanted, &target);
    let uri = server.uri(&route)?;
    // The stop signals are caught from here on, before the token file exists: a signal that
    // comes as soon as the variables are printed stops the server cleanly and deletes it.
    let runtime = crate::engine::runtime()?;
    let signals = {
        let _context = runtime.enter();
        StopSignals::install()?
    };

    let token_file = match &args.token_file {
        Some(path) => Some(TokenFile::create(path, &token)?),
        None => None,
    };
    let mut vars = vec![(URI_VAR, uri.clone())];
    match &token_file {
        Some(file) => vars.push((TOKEN_FILE_VAR, file.path_text())),
        None => vars.push((TOKEN_VAR, token.expose().to_string())),
    }
    let text = crate::output::render_vars(args.format, &vars)
        .expect("clap offers only formats that set variables");
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    drop(stdout);
    // Close stdout, so that `eval "$(portico serve … &)"` gets its lines and goes on.
    release_stdout();
    eprintln!(
        "portico serve: listening on {}; Ctrl-C, SIGTERM, SIGHUP or SIGQUIT stops it",
        crate::sanitize::for_terminal(uri.split("/role/").next().unwrap_or(&uri))
    );

    let why = runtime.block_on(async {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let stop = async move {
            let why = signals.recv().await;
            let _ = tx.send(why);
        };
        server.run(stop).await?;
        Ok::<_, std::io::Error>(rx.await.unwrap_or("stop"))
    })?;
    runtime.shutdown_background();
    drop(token_file);
    // After a SIGHUP the terminal may be gone: a failed write must not turn a clean stop
    // into a panic.
    let _ = writeln!(std::io::stderr(), "portico serve: stopped ({why})");
    Ok(Exit::Ok)
}

#[cfg(unix)]
fn release_stdout() {
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        let _ = rustix::stdio::dup2_stdout(&null);
    }
}

#[cfg(not(unix))]
fn release_stdout() {}

/// The token in a new 0600 file, deleted when the server stops.
struct TokenFile {
    path: std::path::PathBuf,
}

impl TokenFile {
    fn create(path: &std::path::Path, token: &Token) -> anyhow::Result<TokenFile> {
        let shown = path.display();
        let path = std::path::absolute(path)
            .map_err(|e| anyhow::anyhow!("cannot use --token-file {shown}: {e}"))?;
        token.write_new(&path).map_err(|e| {
            let fix = if e.kind() == std::io::ErrorKind::AlreadyExists {
                "; it already exists: delete it or name a new file"
            } else {
                ""
            };
            anyhow::anyhow!("cannot write the token to {shown}: {e}{fix}")
        })?;
        Ok(TokenFile { path })
    }

    fn path_text(&self) -> String {
        self.path.display().to_string()
    }
}

impl Drop for TokenFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
