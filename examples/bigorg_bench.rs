//! Benchmark of listing a big organisation (not a test: it prints figures and asserts nothing),
//! the library against the emulator in-process over real HTTP. `bench/bigorg.sh` runs it in
//! release, together with the portal measured through tmux.
//!
//! ```sh
//! cargo run --release --example bigorg_bench   # 5,000 accounts × 5 roles at 20 calls/s
//! ```
//!
//! During one full listing (first run, nothing known):
//! * all accounts in: the time until ListAccounts' last page (the portal's rows can show then);
//! * filter → roles: the filter is set to one account whose roles are not listed yet, as the
//!   portal does on a keystroke; the time until its roles arrive (target ≤ 1.5 s);
//! * GetRoleCredentials latency while the listing runs, and whether any call met a 429 (a zero
//!   throttle bound turns the first 429 into a failure; target: none fails).
//!
//! Then a routine refresh of the list just made: its portal calls as a share of the full
//! listing's (target ≤ 10 %).
//!
//! Knobs (environment): BENCH_ACCOUNTS (5000), BENCH_ROLES_PER_ACCOUNT (5), BENCH_THROTTLE_RPS
//! (20), BENCH_SAMPLES (10: filter changes and credential calls, each).

#[path = "../tests/common/session.rs"]
mod session;
use session::{session_for, sign_in};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use idc_emulator::{Config, Directory, Faults};
use portico::sso::{self, Priority, Request, SsoError, Update};
use time::OffsetDateTime;

fn knob(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn max(values: &[Duration]) -> Duration {
    values.iter().copied().max().unwrap_or_default()
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// What the listing's callback records for the driver.
#[derive(Default)]
struct Seen {
    accounts_done_at: Option<Instant>,
    roles_at: HashMap<String, Instant>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let accounts = knob("BENCH_ACCOUNTS", 5000.0) as usize;
    let roles = knob("BENCH_ROLES_PER_ACCOUNT", 5.0) as usize;
    let rps = knob("BENCH_THROTTLE_RPS", 20.0);
    let samples = knob("BENCH_SAMPLES", 10.0) as usize;
    let directory = Directory::generate(accounts, roles);
    let emu = idc_emulator::spawn(Config {
        directory: directory.clone(),
        faults: Faults::default(),
        ..Config::default()
    })
    .await
    .expect("emulator starts");
    let session = session_for(&emu);
    let token = sign_in(&emu, &session).await;
    emu.update_faults(idc_emulator::FaultsUpdate {
        throttle_rps: Some(rps),
        ..Default::default()
    })
    .unwrap();
    emu.reset_stats();
    eprintln!("bench: {accounts} accounts × {roles} roles at {rps} calls/s; listing everything");

    let priority = Priority::new();
    let request = Request {
        priority: priority.clone(),
        ..Request::full(OffsetDateTime::now_utc())
    };
    let seen = Arc::new(Mutex::new(Seen::default()));
    let started = Instant::now();
    let listing = {
        let seen = seen.clone();
        let (session, token, request) = (session.clone(), token.clone(), request.clone());
        async move {
            let mut on_update = |update: Update| {
                let mut seen = seen.lock().unwrap();
                match update {
                    Update::AccountsDone { .. } => seen.accounts_done_at = Some(Instant::now()),
                    Update::Roles { account_id, .. } => {
                        seen.roles_at.insert(account_id, Instant::now());
                    }
                    _ => {}
                }
            };
            sso::listing::list(&session, &token, &request, &mut on_update).await
        }
    };
    let driver = async {
        while seen.lock().unwrap().accounts_done_at.is_none() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Filter changes, to accounts far down the listing order.
        let mut filter_latency = Vec::new();
        for k in 0..samples {
            let index = accounts - 1 - k * (accounts / (samples + 1)).max(1);
            let id = directory.accounts()[index].account_id.clone();
            if seen.lock().unwrap().roles_at.contains_key(&id) {
                continue;
            }
            let typed = Instant::now();
            priority.set_filter_matches([id.clone()]);
            loop {
                if let Some(at) = seen.lock().unwrap().roles_at.get(&id) {
                    filter_latency.push(at.saturating_duration_since(typed));
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        priority.set_filter_matches(Vec::<String>::new());
        // Credential calls while the listing runs.
        let mut credential_latency = Vec::new();
        let mut throttled = 0;
        for account in directory.accounts().iter().take(samples) {
            let asked = Instant::now();
            match sso::role_credentials_within(
                &session,
                &token,
                &account.account_id,
                &account.roles[0],
                Duration::ZERO,
            )
            .await
            {
                Ok(_) => credential_latency.push(asked.elapsed()),
                Err(SsoError::Throttled { .. }) => throttled += 1,
                Err(e) => panic!("GetRoleCredentials: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        (filter_latency, credential_latency, throttled)
    };
    let (listed, (mut filter_latency, mut credential_latency, throttled)) =
        tokio::join!(listing, driver);
    let listed = listed.expect("the full listing completes");
    let full_elapsed = started.elapsed();
    let stats = emu.stats();
    let full_calls = stats["ListAccounts"] + stats["ListAccountRoles"];
    let accounts_in = seen
        .lock()
        .unwrap()
        .accounts_done_at
        .map(|at| at - started)
        .unwrap_or_default();

    eprintln!("bench: routine refresh");
    emu.reset_stats();
    let refresh = Request {
        previous: Some(&listed.list),
        ..Request::full(OffsetDateTime::now_utc())
    };
    let refreshed = sso::listing::list(&session, &token, &refresh, &mut |_| {})
        .await
        .expect("the refresh completes");
    let stats = emu.stats();
    let refresh_calls = stats["ListAccounts"] + stats["ListAccountRoles"];
    let share = refresh_calls as f64 / full_calls as f64;

    let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
    println!("big organisation: {accounts} accounts × {roles} roles, throttle {rps} calls/s");
    println!(
        "  full listing: {} ({full_calls} calls, {} accounts)",
        secs(full_elapsed),
        listed.list.accounts.len()
    );
    println!(
        "  every account listed (ListAccounts done): {}",
        secs(accounts_in)
    );
    let filter_median = median(&mut filter_latency);
    println!(
        "  filter → its account's roles: median {}, max {} over {} changes (target ≤ 1.5 s) {}",
        secs(filter_median),
        secs(max(&filter_latency)),
        filter_latency.len(),
        verdict(max(&filter_latency) <= Duration::from_millis(1500))
    );
    let credential_median = median(&mut credential_latency);
    println!(
        "  GetRoleCredentials during the listing: median {}, max {} over {} calls; {throttled} met a 429 (target 0) {}",
        secs(credential_median),
        secs(max(&credential_latency)),
        credential_latency.len() + throttled,
        verdict(throttled == 0)
    );
    println!(
        "  routine refresh: {refresh_calls} calls = {:.1} % of a full listing (target ≤ 10 %) {}; {}",
        share * 100.0,
        verdict(share <= 0.10),
        refreshed.changes
    );
}
