//! Benchmark of the portal TUI with 20,000 account × role rows. Not a test: it
//! prints timings and asserts nothing.
//!
//! ```sh
//! cargo run --release --example tui_bench     # targets: first list ≤ 80 ms, keystroke ≤ 10 ms p95
//! ```
//!
//! * first list: the account cache read from disk (`AccountsCache::load`), the app built,
//!   the rows filtered and the first frame drawn into a 120×40 `TestBackend`.
//! * keystroke: one `Action::Input` / `Backspace` through `update` and a full redraw.

use std::time::{Duration, Instant};

use portico::cache::accounts::AccountsCache;
use portico::model::Account;
use portico::tui::{update, Action, App, LoginState, RecentUse, SessionInfo};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use time::OffsetDateTime;

const ACCOUNTS: usize = 5_000;
const ROLES: [&str; 4] = [
    "AdministratorAccess",
    "ReadOnlyAccess",
    "PowerUserAccess",
    "BillingViewer",
];

/// A deterministic spread of realistic names: `payments-prod-eu-0042`.
fn accounts() -> Vec<Account> {
    let teams = [
        "payments",
        "platform",
        "data-lake",
        "identity",
        "logs",
        "search",
        "checkout",
        "mobile-api",
        "ledger",
        "risk",
        "fraud",
        "media",
        "growth",
        "infra",
        "security",
        "sandbox",
        "ml-training",
        "warehouse",
        "catalog",
        "shipping",
    ];
    let envs = ["prod", "staging", "dev", "test", "qa", "perf"];
    let regions = ["eu", "us", "ap", "sa"];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    (0..ACCOUNTS)
        .map(|i| {
            let r = next();
            let name = format!(
                "{}-{}-{}-{:04}",
                teams[(r % 20) as usize],
                envs[(r / 20 % 6) as usize],
                regions[(r / 120 % 4) as usize],
                i
            );
            Account {
                account_id: format!("{:012}", 100_000_000_000u64 + (r % 899_999_999_999)),
                email_address: format!("aws+{name}@example.com"),
                account_name: name,
                roles: ROLES.iter().map(|s| s.to_string()).collect(),
            }
        })
        .collect()
}

fn stats(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{label:<34} n={:<5} median {:>8.2} ms   p95 {:>8.2} ms   max {:>8.2} ms",
        samples.len(),
        pick(0.5).as_secs_f64() * 1e3,
        pick(0.95).as_secs_f64() * 1e3,
        samples[samples.len() - 1].as_secs_f64() * 1e3,
    );
}

fn main() {
    let now = OffsetDateTime::now_utc();
    let dir = tempfile::tempdir().expect("temporary directory");
    let cache = AccountsCache::new(dir.path());
    let accounts = accounts();
    let rows: usize = accounts.iter().map(|a| a.roles.len()).sum();
    cache
        .store("bench", &accounts, now)
        .expect("writing the cache");
    let recent: Vec<RecentUse> = accounts
        .iter()
        .step_by(500)
        .map(|a| RecentUse {
            account_id: a.account_id.clone(),
            role: ROLES[0].into(),
            used_at: now,
        })
        .collect();
    println!(
        "{rows} rows ({ACCOUNTS} accounts × {} roles), 120×40 terminal",
        ROLES.len()
    );

    // First list, from the cache file to the first frame.
    let (mut first, mut load, mut build, mut draw) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut app = None;
    for _ in 0..15 {
        let start = Instant::now();
        let (cached, fetched_at) = cache.load("bench").expect("cache hit");
        let loaded = Instant::now();
        let mut a = App::new(now);
        update(
            &mut a,
            Action::Resize {
                width: 120,
                height: 40,
            },
        );
        update(
            &mut a,
            Action::SessionSelected(SessionInfo {
                name: "corp".into(),
                start_url: "https://d-1234567890.awsapps.com/start".into(),
                region: "eu-central-1".into(),
            }),
        );
        update(
            &mut a,
            Action::LoginState(LoginState::SignedIn { expires_at: now }),
        );
        update(&mut a, Action::RecentUses(recent.clone()));
        update(
            &mut a,
            Action::AccountsLoaded {
                accounts: cached,
                fetched_at,
            },
        );
        let built = Instant::now();
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        terminal.draw(|f| f.render_widget(&a, f.area())).unwrap();
        let end = Instant::now();
        first.push(end - start);
        load.push(loaded - start);
        build.push(built - loaded);
        draw.push(end - built);
        app = Some(a);
    }
    stats("  cache file read + parse", load);
    stats("  rows built + sorted + filtered", build);
    stats("  first frame drawn", draw);
    stats("first list (cache → frame)", first);
    let mut app = app.unwrap();

    // Keystrokes: type queries letter by letter, then erase them, redrawing every time.
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|f| f.render_widget(&app, f.area())).unwrap();
    let queries = [
        "pay prd eu adm",
        "datalake stg",
        "ml train ro",
        "4242",
        "secu prod bill",
    ];
    let (mut typing, mut erasing) = (Vec::new(), Vec::new());
    for _ in 0..6 {
        for q in queries {
            for c in q.chars() {
                let start = Instant::now();
                update(&mut app, Action::Input(c));
                terminal.draw(|f| f.render_widget(&app, f.area())).unwrap();
                typing.push(start.elapsed());
            }
            for _ in q.chars() {
                let start = Instant::now();
                update(&mut app, Action::Backspace);
                terminal.draw(|f| f.render_widget(&app, f.area())).unwrap();
                erasing.push(start.elapsed());
            }
        }
    }
    let all: Vec<Duration> = typing.iter().chain(&erasing).copied().collect();
    let mut redraw = Vec::new();
    for _ in 0..100 {
        let start = Instant::now();
        terminal.draw(|f| f.render_widget(&app, f.area())).unwrap();
        redraw.push(start.elapsed());
    }
    stats("redraw only (no change)", redraw);
    stats("keystroke: type a letter", typing);
    stats("keystroke: backspace", erasing);
    stats("keystroke: all", all);

    // The worst case for the filter: a query that is not a narrowing of the last one, so
    // every row is matched again (a paste, or an edit in the middle).
    let mut fresh = Vec::new();
    for i in 0..60 {
        let q = if i % 2 == 0 {
            "pay prd adm"
        } else {
            "data stg ro"
        };
        let start = Instant::now();
        update(&mut app, Action::ClearInput);
        update(&mut app, Action::Paste(q.into()));
        terminal.draw(|f| f.render_widget(&app, f.area())).unwrap();
        fresh.push(start.elapsed());
    }
    stats("full rematch (paste) + draw", fresh);
    let (shown, total) = app.counts();
    println!("last query matched {shown} of {total}");
}
