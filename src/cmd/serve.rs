//! `portico serve`: starts the container-credentials server (src/serve), prints the variables
//! that point a client at it, and runs until SIGINT or SIGTERM.

use std::io::Write;

use crate::cli::ServeArgs;
use crate::exit::Exit;
use crate::serve::{Route, Server, Token, TOKEN_FILE_VAR, TOKEN_VAR, URI_VAR};
use crate::settings::Environment;

pub fn run(args: &ServeArgs) -> anyhow::Result<Exit> {
    let env = Environment::from_process();
    let wanted = args.target.wanted(&env);
    let route = Route::for_wanted(&wanted);
    let token = Token::generate()?;
    let server = Server::bind(args.bind, args.port, token.clone(), env)?;
    server.check(&wanted)?;
    let uri = server.uri(&route)?;

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
        "portico serve: listening on {}; Ctrl-C or SIGTERM stops it",
        crate::sanitize::for_terminal(uri.split("/role/").next().unwrap_or(&uri))
    );

    let runtime = crate::engine::runtime()?;
    let why = runtime.block_on(async {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let stop = async move {
            let why = stop_signal().await;
            let _ = tx.send(why);
        };
        server.run(stop).await?;
        Ok::<_, std::io::Error>(rx.await.unwrap_or("stop"))
    })?;
    runtime.shutdown_background();
    drop(token_file);
    eprintln!("portico serve: stopped ({why})");
    Ok(Exit::Ok)
}

/// Resolves on SIGINT or SIGTERM with the signal's name.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            };
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    "SIGINT"
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
