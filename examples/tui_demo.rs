//! The portal TUI on the real terminal with made-up accounts and no network: a way to try
//! the screens by hand (and to check in tmux that stdout stays clean and the terminal is
//! restored). `eval "$(cargo run -q --example tui_demo)"` sets `DEMO_ACCOUNT`/`DEMO_ROLE`.
//!
//! `L` (logout) panics on purpose when `TUI_DEMO_PANIC=1`, to see the terminal restored.

use std::ops::ControlFlow;
use std::process::ExitCode;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use portico::model::Account;
use portico::tui::{
    run_loop, update, Action, App, CrosstermEvents, Effect, LoginState, RecentUse, SessionInfo,
    TerminalGuard,
};
use time::OffsetDateTime;

fn accounts(n: usize) -> Vec<Account> {
    let teams = [
        "payments",
        "platform",
        "data-lake",
        "identity",
        "logs",
        "sandbox",
    ];
    let envs = ["prod", "staging", "dev"];
    (0..n)
        .map(|i| Account {
            account_id: format!("{:012}", 111_122_223_333u64 + i as u64 * 7919),
            account_name: format!("{}-{}-{i:03}", teams[i % 6], envs[i / 6 % 3]),
            email_address: String::new(),
            roles: vec!["AdministratorAccess".into(), "ReadOnlyAccess".into()],
        })
        .collect()
}

fn main() -> ExitCode {
    let now = OffsetDateTime::now_utc();
    let (tx, rx) = mpsc::channel();
    let feeder = tx.clone();
    thread::spawn(move || {
        let _ = feeder.send(Action::SessionSelected(SessionInfo {
            name: "demo".into(),
            start_url: "https://d-1234567890.awsapps.com/start".into(),
            region: "eu-central-1".into(),
        }));
        let _ = feeder.send(Action::LoginState(LoginState::SignedIn {
            expires_at: now + time::Duration::hours(8),
        }));
        thread::sleep(Duration::from_millis(400));
        let accounts = accounts(300);
        let _ = feeder.send(Action::RecentUses(vec![RecentUse {
            account_id: accounts[7].account_id.clone(),
            role: "ReadOnlyAccess".into(),
            used_at: now,
        }]));
        let _ = feeder.send(Action::AccountsLoaded {
            accounts,
            fetched_at: now,
        });
    });
    let mut app = App::new(now);
    let mut guard = match TerminalGuard::enter() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("tui_demo: cannot use the terminal: {e}");
            return ExitCode::from(1);
        }
    };
    let mut events = CrosstermEvents::new(rx);
    let outcome = run_loop(
        guard.terminal(),
        &mut app,
        &mut events,
        |effect, app| match effect {
            Effect::PrintExports(choice) => ControlFlow::Break(Some(choice)),
            Effect::Quit => ControlFlow::Break(None),
            Effect::Logout if std::env::var_os("TUI_DEMO_PANIC").is_some() => {
                panic!("a deliberate panic to check that the terminal is restored")
            }
            Effect::Refresh => {
                let tx = tx.clone();
                update(app, Action::RefreshStarted);
                thread::spawn(move || {
                    thread::sleep(Duration::from_secs(2));
                    let _ = tx.send(Action::AccountsLoaded {
                        accounts: accounts(300),
                        fetched_at: OffsetDateTime::now_utc(),
                    });
                });
                ControlFlow::Continue(())
            }
            other => {
                update(app, Action::Status(format!("demo: would run {other:?}")));
                ControlFlow::Continue(())
            }
        },
        OffsetDateTime::now_utc,
    );
    drop(guard);
    match outcome {
        Ok(Some(choice)) => {
            println!(
                "export DEMO_ACCOUNT={} DEMO_ROLE={}",
                choice.account_id, choice.role
            );
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::from(130),
        Err(e) => {
            eprintln!("tui_demo: {e}");
            ExitCode::from(1)
        }
    }
}
