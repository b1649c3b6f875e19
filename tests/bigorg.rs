//! Big organisations: incremental refreshes through the real binary (accounts assigned and
//! unassigned between two runs, the calls a routine refresh costs), and, against the real
//! emulator over HTTP, roles listed in the order the filter asks for and credential calls that
//! go first while a listing runs.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::session::{session_for, sign_in};
use common::tmux::Tmux;
use common::{assert_success, text, TestEnv};
use idc_emulator::{Account, Config, Directory, Faults, FaultsUpdate, Running};
use portico::sso::{self, pacing::PacerConfig, Priority, Request, SsoError, Update};
use time::OffsetDateTime;

fn signed_in(directory: Directory) -> TestEnv {
    let env = TestEnv::new(Config {
        directory,
        ..Config::default()
    });
    env.login();
    env
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{e}: {}", text(bytes)))
}

/// `portico list --json [extra]`: account id → (roles, rolesFetchedAt), and stderr.
fn list(env: &TestEnv, extra: &[&str]) -> (BTreeMap<String, (Vec<String>, String)>, String) {
    let out = env
        .portico()
        .args(["list", "--json", "--no-login"])
        .args(extra)
        .output()
        .unwrap();
    assert_success(&out);
    let doc = json(&out.stdout);
    let accounts = doc["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let roles = a["roles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_string())
                .collect();
            let at = a["rolesFetchedAt"]
                .as_str()
                .unwrap_or_else(|| panic!("rolesFetchedAt in {a}"))
                .to_string();
            (a["accountId"].as_str().unwrap().to_string(), (roles, at))
        })
        .collect();
    (accounts, text(&out.stderr))
}

/// Makes the cached account list look `hours` old, so the next `portico list` refreshes it
/// the routine way.
fn age_cache(env: &TestEnv, hours: i64) {
    let dir = env.home.path().join(".cache/portico/accounts");
    let mut files = std::fs::read_dir(&dir).unwrap();
    let path = files.next().expect("one cached list").unwrap().path();
    assert!(files.next().is_none());
    let mut doc = json(&std::fs::read(&path).unwrap());
    let at = OffsetDateTime::now_utc() - time::Duration::hours(hours);
    doc["fetchedAt"] = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
        .into();
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
}

fn sorted_roles(account: &Account) -> Vec<String> {
    let mut roles = account.roles.clone();
    roles.sort();
    roles
}

fn portal_calls(env: &TestEnv) -> u64 {
    env.stat("ListAccounts") + env.stat("ListAccountRoles")
}

#[test]
fn an_unassigned_account_disappears_and_an_assigned_one_appears_with_its_roles() {
    let directory = Directory::generate(30, 2);
    let env = signed_in(directory.clone());
    let (first, _) = list(&env, &[]);
    assert_eq!(first.len(), 30);

    // An administrator unassigns one account and assigns a new one with three roles.
    let gone = directory.accounts()[7].clone();
    let added = Account {
        account_id: "999988887777".into(),
        account_name: "newly-assigned".into(),
        email_address: "aws+new@example.com".into(),
        roles: vec![
            "ReadOnlyAccess".into(),
            "Billing".into(),
            "AdminAccess".into(),
        ],
    };
    let mut accounts: Vec<Account> = directory
        .accounts()
        .iter()
        .filter(|a| a.account_id != gone.account_id)
        .cloned()
        .collect();
    accounts.insert(3, added.clone());
    env.emu
        .set_directory(Directory::from_accounts(accounts).unwrap());

    // A routine refresh (the cached list expired) finds both.
    age_cache(&env, 2);
    env.emu.reset_stats();
    let (second, _) = list(&env, &[]);
    assert_eq!(second.len(), 30);
    assert!(
        !second.contains_key(&gone.account_id),
        "the unassigned account is gone"
    );
    assert_eq!(
        second[&added.account_id].0,
        sorted_roles(&added),
        "with its roles"
    );
    for account in env.emu.directory().accounts() {
        assert_eq!(second[&account.account_id].0, sorted_roles(account));
    }
    assert!(
        env.stat("ListAccountRoles") < 10,
        "only the new account and a few of the oldest: {:?}",
        env.emu.stats()
    );

    // --refresh lists everything again and says what changed.
    let mut accounts = env.emu.directory().accounts().to_vec();
    accounts.retain(|a| a.account_id != added.account_id);
    accounts[0].roles.push("DataScientist".into());
    env.emu
        .set_directory(Directory::from_accounts(accounts.clone()).unwrap());
    let (third, stderr) = list(&env, &["--refresh"]);
    assert!(!third.contains_key(&added.account_id));
    assert_eq!(third[&accounts[0].account_id].0, sorted_roles(&accounts[0]));
    assert!(
        stderr.contains("account list refreshed: +1 role, −1 account"),
        "{stderr}"
    );
}

#[test]
fn a_routine_refresh_costs_a_small_fraction_of_a_full_listing() {
    let env = signed_in(Directory::generate(200, 3));
    env.emu.reset_stats();
    let (full, _) = list(&env, &[]);
    let full_calls = portal_calls(&env);
    assert_eq!(full.len(), 200);
    assert!(
        full_calls >= 202,
        "2 pages and 200 role listings: {full_calls}"
    );

    age_cache(&env, 2);
    env.emu.reset_stats();
    let (refreshed, _) = list(&env, &[]);
    let refresh_calls = portal_calls(&env);
    assert_eq!(refreshed.len(), 200);
    for (id, (roles, _)) in &full {
        assert_eq!(&refreshed[id].0, roles, "roles kept for {id}");
    }
    assert!(
        refresh_calls * 10 <= full_calls,
        "a routine refresh made {refresh_calls} calls, a full listing {full_calls}"
    );
    // Only the re-listed accounts carry a new rolesFetchedAt; the oldest go first next time.
    let relisted = refreshed
        .iter()
        .filter(|(id, (_, at))| *at != full[*id].1)
        .count() as u64;
    assert!(relisted <= env.stat("ListAccountRoles"), "{relisted}");
}

async fn emulator(directory: Directory, faults: Faults) -> Running {
    idc_emulator::spawn(Config {
        directory,
        faults,
        ..Config::default()
    })
    .await
    .expect("emulator starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_listed_in_the_order_the_filter_asks_for() {
    let directory = Directory::generate(60, 2);
    // Every call takes a moment, so that the listing is still running when the filter changes.
    let emu = emulator(
        directory.clone(),
        Faults {
            latency_ms: 10,
            ..Faults::default()
        },
    )
    .await;
    let session = session_for(&emu);
    let token = sign_in(&emu, &session).await;
    let ids: Vec<String> = directory
        .accounts()
        .iter()
        .map(|a| a.account_id.clone())
        .collect();
    // The filter matches accounts the portal lists last.
    let first_filter: BTreeSet<String> = ids[55..].iter().cloned().collect();
    let second_filter: BTreeSet<String> = ids[45..50].iter().cloned().collect();
    let priority = Priority::new();
    priority.set_filter_matches(first_filter.iter().cloned());
    priority.set_visible(ids[40..45].iter().cloned());
    const CONCURRENCY: usize = 2;
    let request = Request {
        priority: priority.clone(),
        config: PacerConfig {
            concurrency: CONCURRENCY,
            ..PacerConfig::default()
        },
        ..Request::full(OffsetDateTime::now_utc())
    };
    // The order is the order the listing asked for roles in (its picks); the order answers
    // arrive in is the network's and, on a loaded machine, not the listing's to keep.
    let mut listed_roles = 0;
    let mut changed_at = None;
    let listed = sso::listing::list(&session, &token, &request, &mut |update| {
        if let Update::Roles { .. } = update {
            listed_roles += 1;
            if listed_roles == 15 {
                // The user types something else.
                changed_at = Some(priority.set_filter_matches(second_filter.iter().cloned()));
            }
        }
    })
    .await
    .expect("listing completes");
    assert_eq!(listed.list.accounts.len(), 60);
    assert_eq!(listed_roles, 60, "every account's roles once");
    let order = priority.picked();
    assert_eq!(order.len(), 60, "every account asked for once: {order:?}");

    let first: BTreeSet<String> = order[..5].iter().cloned().collect();
    assert_eq!(first, first_filter, "filter matches first: {order:?}");
    let visible: BTreeSet<String> = order[5..10].iter().cloned().collect();
    assert_eq!(
        visible,
        ids[40..45].iter().cloned().collect(),
        "then the rows on screen: {order:?}"
    );
    // Every call asked for after the change is ordered by the new filter: its matches next.
    // (Those asked for before the change, had the listing got that far, are done already.)
    let changed_at = changed_at.unwrap();
    let waiting: BTreeSet<String> = second_filter
        .difference(&order[..changed_at].iter().cloned().collect())
        .cloned()
        .collect();
    let next: BTreeSet<String> = order[changed_at..changed_at + waiting.len()]
        .iter()
        .cloned()
        .collect();
    assert_eq!(
        next, waiting,
        "the new filter's matches come next: {order:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_calls_go_first_while_a_listing_runs() {
    let directory = Directory::generate(200, 2);
    let emu = emulator(directory.clone(), Faults::default()).await;
    let session = session_for(&emu);
    let token = sign_in(&emu, &session).await;
    emu.update_faults(FaultsUpdate {
        throttle_rps: Some(20.0),
        ..Default::default()
    })
    .unwrap();
    emu.reset_stats();

    let request = Request::full(OffsetDateTime::now_utc());
    let mut ignore = |_: Update| {};
    let listing = sso::listing::list(&session, &token, &request, &mut ignore);
    let credentials = async {
        // Once the listing has used up the bucket and runs at the limit, ask for credentials a
        // few times: not one may meet a 429 (a zero throttle bound fails on the first).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while emu.stats()["throttled"] == 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the listing reaches the throttle"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for account in &directory.accounts()[..6] {
            let result = sso::role_credentials_within(
                &session,
                &token,
                &account.account_id,
                &account.roles[0],
                Duration::ZERO,
            )
            .await;
            match result {
                Ok(creds) => assert_eq!(creds.account_id, account.account_id),
                Err(e @ SsoError::Throttled { .. }) => {
                    panic!("a credential call was throttled during the listing: {e}")
                }
                Err(e) => panic!("{e}"),
            }
            // Before the next one, the listing drains the bucket again: two more of its calls.
            let listed = || {
                let stats = emu.stats();
                stats["ListAccounts"] + stats["ListAccountRoles"]
            };
            let next = listed() + 2;
            let limit = tokio::time::Instant::now() + Duration::from_secs(20);
            while listed() < next {
                assert!(tokio::time::Instant::now() < limit, "the listing goes on");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    tokio::select! {
        () = credentials => {}
        result = listing => panic!("the listing ended first: {:?}", result.map(|l| l.calls)),
    }
}

/// The portal in a tmux pane of its own server (killed on drop), running `script`.
fn portal_pane(script: &std::path::Path) -> Tmux {
    Tmux::start(&format!("sh '{}'", script.display()))
}

#[test]
fn enter_on_an_account_whose_roles_are_loading_lists_them_then_acts() {
    // 300 accounts listed at 10 calls a second: the last account's roles come after about
    // 30 s unless the portal asks for them first.
    let mut accounts = Directory::generate(300, 2).accounts().to_vec();
    let target = accounts.last_mut().unwrap();
    target.roles = vec!["OnlyRole".into()];
    let target = target.clone();
    let env = signed_in(Directory::from_accounts(accounts).unwrap());
    env.emu
        .update_faults(FaultsUpdate {
            throttle_rps: Some(10.0),
            ..Default::default()
        })
        .unwrap();
    let home = env.home.path();
    let (out, done) = (home.join("out"), home.join("done"));
    let script = home.join("portal.sh");
    std::fs::write(
        &script,
        format!(
            "export HOME='{home}' XDG_CACHE_HOME='{home}/.cache' AWS_CONFIG_FILE='{config}' \
             AWS_ENDPOINT_URL_SSO='{url}' AWS_ENDPOINT_URL_SSO_OIDC='{url}' SHELL=/bin/bash\n\
             unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL BROWSER DISPLAY\n\
             '{portico}' --sso-session emu > '{out}'\necho \"exit=$?\" > '{done}'\nsleep 30\n",
            home = home.display(),
            config = env.config_path().display(),
            url = env.emu.url(),
            portico = env!("CARGO_BIN_EXE_portico"),
            out = out.display(),
            done = done.display(),
        ),
    )
    .unwrap();
    let pane = portal_pane(&script);
    pane.wait_for("accounts with their roles loading", |s| {
        s.contains("roles loading")
    });
    // Every account is listed (one row each while roles load); its roles are not known yet.
    pane.wait_for("all 300 accounts", |s| s.contains("300 roles"));
    // Its id, then ⏎ at once: the keys arrive before any role listing can answer.
    pane.type_text(&target.account_id);
    pane.keys(&["Enter"]);
    let exit = common::wait_until(Duration::from_secs(10), || {
        std::fs::read_to_string(&done).ok()
    });
    assert_eq!(
        exit.as_deref(),
        Some("exit=0\n"),
        "the pane shows:\n{}",
        pane.screen()
    );
    let exports = std::fs::read_to_string(&out).unwrap();
    assert!(exports.contains("AWS_ACCESS_KEY_ID=ASIA"), "{exports}");
    let cache = portico::cache::rolecreds::RoleCredsCache::under(&home.join(".cache/portico"));
    assert!(
        cache
            .load(
                "emu",
                &target.account_id,
                "OnlyRole",
                OffsetDateTime::now_utc()
            )
            .is_some(),
        "the credentials are those of the account's one role"
    );
    assert!(
        env.stat("ListAccountRoles") < 200,
        "acted before the listing got to it: {:?}",
        env.emu.stats()
    );
}

#[test]
fn a_refresh_in_the_portal_says_what_changed_on_the_status_line() {
    let directory = Directory::generate(20, 2);
    let env = signed_in(directory.clone());
    list(&env, &[]);
    let gone = directory.accounts()[4].clone();
    let mut accounts = directory.accounts().to_vec();
    accounts.retain(|a| a.account_id != gone.account_id);
    env.emu
        .set_directory(Directory::from_accounts(accounts).unwrap());
    let home = env.home.path();
    let script = home.join("portal.sh");
    std::fs::write(
        &script,
        format!(
            "export HOME='{home}' XDG_CACHE_HOME='{home}/.cache' AWS_CONFIG_FILE='{config}' \
             AWS_ENDPOINT_URL_SSO='{url}' AWS_ENDPOINT_URL_SSO_OIDC='{url}' SHELL=/bin/bash\n\
             unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL BROWSER DISPLAY\n\
             '{portico}' --sso-session emu > /dev/null\nsleep 30\n",
            home = home.display(),
            config = env.config_path().display(),
            url = env.emu.url(),
            portico = env!("CARGO_BIN_EXE_portico"),
        ),
    )
    .unwrap();
    let pane = portal_pane(&script);
    // The cached list (fresh: no refresh on opening) still has the account.
    pane.wait_for("the cached list", |s| s.contains("40 roles"));
    pane.keys(&["Tab"]);
    pane.keys(&["r"]);
    let screen = pane.wait_for("the refresh's summary", |s| {
        s.contains("account list refreshed: −1 account")
    });
    assert!(screen.contains("38 roles"), "{screen}");
}
