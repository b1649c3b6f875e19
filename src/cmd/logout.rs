//! `portico logout`: revoke the session's token (Logout), delete the token file and the role
//! credentials portico cached for the session, delete the AWS CLI's cached Identity Center role
//! credentials as `aws sso logout` does, and say what was removed.

use crate::cli::LogoutArgs;
use crate::engine;
use crate::exit::Exit;
use crate::identity::Store;
use crate::settings::{Context, Environment, SsoSession};

pub fn run(args: &LogoutArgs) -> anyhow::Result<Exit> {
    let ctx = Context::load(Environment::from_process())?;
    let store = Store::from_env(&ctx.env)?;
    let sessions: Vec<SsoSession> = if args.all {
        let mut all = Vec::new();
        for session in ctx.all_sessions() {
            match session {
                Ok(s) => all.push(s),
                Err(e) => eprintln!("portico: skipping a session: {e}"),
            }
        }
        all
    } else {
        vec![ctx.session(&args.session.selector())?]
    };
    let cache_root = ctx.env.portico_cache_dir()?;
    let runtime = engine::runtime()?;
    let mut removed_any = false;
    for session in &sessions {
        removed_any |= runtime.block_on(logout_one(&store, &cache_root, session))?;
    }
    let (cli_cache, swept) = engine::sweep_aws_cli(&ctx.env.aws_dir()?)?;
    if swept > 0 {
        removed_any = true;
        eprintln!(
            "portico: deleted {swept} role credential file{} the AWS CLI cached in {}",
            if swept == 1 { "" } else { "s" },
            cli_cache.display()
        );
    }
    if !removed_any {
        eprintln!(
            "portico: nothing to remove: not signed in to {}",
            describe(&sessions)
        );
    }
    Ok(Exit::Ok)
}

fn describe(sessions: &[SsoSession]) -> String {
    match sessions {
        [] => "any session".to_string(),
        [one] => one.label(),
        _ => "any configured session".to_string(),
    }
}

/// Returns whether anything was removed.
async fn logout_one(
    store: &Store,
    cache_root: &std::path::Path,
    session: &SsoSession,
) -> anyhow::Result<bool> {
    match store.tokens.load_token(session) {
        // Nothing portico would delete: the sign-out below fails with the same words.
        Err(crate::cache::token::CacheError::NotAFile { .. }) | Ok(_) => {}
        // Another tool's sign-in (an IDE's) is not portico's to end (docs/protocol.md §6).
        Err(crate::cache::token::CacheError::ForeignScopes { path, .. }) => {
            eprintln!(
                "portico: {} holds another tool's token, not a sign-in of portico's: left as it is (`portico login --force` replaces it)",
                path.display()
            );
            return Ok(false);
        }
        Err(e) => eprintln!("portico: {e}; deleting it"),
    }
    let out = engine::sign_out(store, cache_root, session).await?;
    if let Some(why) = &out.refused {
        eprintln!(
            "portico: Identity Center did not confirm the sign-out of {} ({why}); deleting the local token anyway",
            session.label()
        );
    }
    let mut what = Vec::new();
    if out.revoked {
        what.push("revoked the sign-in".to_string());
    }
    if let Some(path) = &out.token_file {
        what.push(format!("deleted {}", path.display()));
    }
    if out.role_credentials > 0 {
        what.push(format!(
            "deleted {} cached role credential file{}",
            out.role_credentials,
            if out.role_credentials == 1 { "" } else { "s" }
        ));
    }
    if what.is_empty() {
        return Ok(false);
    }
    eprintln!(
        "portico: signed out of {}: {}",
        session.label(),
        what.join(", ")
    );
    Ok(true)
}
