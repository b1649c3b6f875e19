//! `portico status`: every configured session, whether it is signed in, until when, and whether
//! it can refresh. Reads files only; never refreshes or calls the network.

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::cache::token::format_time;
use crate::cli::StatusArgs;
use crate::exit::Exit;
use crate::identity::Store;
use crate::output::duration;
use crate::sanitize::for_terminal;
use crate::settings::{Context, Environment, SsoSession};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionStatus {
    /// The sso-session name; null for a legacy profile's start URL.
    session: Option<String>,
    start_url: String,
    region: String,
    signed_in: bool,
    expires_at: Option<String>,
    seconds_left: Option<i64>,
    can_refresh: bool,
    /// Why it cannot refresh, when it cannot.
    refresh_problem: Option<String>,
    token_file: String,
}

pub fn run(args: &StatusArgs) -> anyhow::Result<Exit> {
    let ctx = Context::load(Environment::from_process())?;
    let store = Store::from_env(&ctx.env)?;
    let now = OffsetDateTime::now_utc();
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for session in ctx.all_sessions() {
        match session {
            Ok(session) => rows.push(status_of(&store, &session, now)?),
            Err(e) => problems.push(e.to_string()),
        }
    }
    for problem in &problems {
        eprintln!("portico: {}", for_terminal(problem));
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if rows.is_empty() && problems.is_empty() {
        println!(
            "No Identity Center sessions in {}. Run `portico configure`, or `portico login --start-url URL --region REGION`.",
            ctx.config.path.display()
        );
    } else {
        for row in &rows {
            print_row(row);
        }
    }
    Ok(if problems.is_empty() {
        Exit::Ok
    } else {
        Exit::Config
    })
}

fn status_of(
    store: &Store,
    session: &SsoSession,
    now: OffsetDateTime,
) -> anyhow::Result<SessionStatus> {
    let path = store.tokens.token_path(session);
    // Facts only: status never opens a keyring (it may be locked; nothing here needs a secret).
    let token = match store.tokens.load_token_facts(session) {
        Ok(token) => token,
        Err(e) => {
            eprintln!("portico: {}", for_terminal(&e.to_string()));
            None
        }
    };
    let expires = token.as_ref().and_then(|t| t.expires_at());
    let problem = match &token {
        None => Some("not signed in".to_string()),
        // Includes a refresh Identity Center refused since the last sign-in.
        Some(t) => crate::identity::refresh_outlook(store, session, t, now),
    };
    Ok(SessionStatus {
        session: session.name.clone(),
        start_url: session.start_url.clone(),
        region: session.region.clone(),
        signed_in: token.as_ref().is_some_and(|t| t.is_valid(now)),
        expires_at: expires.map(format_time),
        seconds_left: expires.map(|t| (t - now).whole_seconds().max(0)),
        can_refresh: token.is_some() && problem.is_none(),
        refresh_problem: problem.filter(|_| token.is_some()),
        token_file: path.display().to_string(),
    })
}

fn print_row(row: &SessionStatus) {
    // Names and URLs come from the config file: cleaned before they reach the terminal.
    let name = match &row.session {
        Some(name) => format!("sso-session {}", for_terminal(name)),
        None => "legacy profile".to_string(),
    };
    println!(
        "{name}: {} ({})",
        for_terminal(&row.start_url),
        for_terminal(&row.region)
    );
    let state = match (&row.expires_at, row.seconds_left) {
        (None, _) => "not signed in; run `portico login`".to_string(),
        (Some(at), Some(left)) if row.signed_in => {
            format!(
                "signed in until {at} ({} left)",
                duration::compact(Duration::seconds(left))
            )
        }
        (Some(at), _) => format!("sign-in expired at {at}"),
    };
    let refresh = match (&row.refresh_problem, row.can_refresh) {
        (_, true) => "; refreshes automatically".to_string(),
        // Expired and beyond refresh: only a sign-in helps.
        (Some(why), false) if !row.signed_in => {
            format!("; cannot refresh: {why}; run `portico login`")
        }
        (Some(why), false) => format!("; cannot refresh: {why}"),
        (None, false) => String::new(),
    };
    println!("  {state}{refresh}");
}
