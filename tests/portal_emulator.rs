//! The portal, credential-cache and console modules against the real emulator over HTTP:
//! paced listing under throttling, the errors callers branch on, and the console link round
//! trip.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::Instant;

use idc_emulator::{Config, Directory, Faults, Running};
#[path = "common/session.rs"]
mod session;

use portico::console;
use portico::model::{Progress, RoleCredentials};
use portico::secret::Secret;
use portico::settings::SsoSession;
use portico::sso::{self, pacing::PacerConfig, SsoError};
use session::{session_for, sign_in};

async fn emulator(directory: Directory, faults: Faults) -> Running {
    idc_emulator::spawn(Config {
        directory,
        faults,
        ..Config::default()
    })
    .await
    .expect("emulator starts")
}

fn expected_accounts(emu: &Running) -> BTreeMap<String, Vec<String>> {
    emu.directory()
        .accounts()
        .iter()
        .map(|a| {
            let mut roles = a.roles.clone();
            roles.sort();
            (a.account_id.clone(), roles)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_500_accounts_under_a_20_rps_throttle() {
    let emu = emulator(Directory::generate(500, 3), Faults::default()).await;
    let session = session_for(&emu);
    let token = sign_in(&emu, &session).await;
    emu.reset_stats();
    emu.update_faults(idc_emulator::FaultsUpdate {
        throttle_rps: Some(20.0),
        ..Default::default()
    })
    .unwrap();

    let started = Instant::now();
    let mut events: Vec<Progress> = Vec::new();
    let accounts = sso::list_assignments(&session, &token, &mut |p| events.push(p))
        .await
        .expect("listing completes under throttling");
    let elapsed = started.elapsed();

    let got: BTreeMap<String, Vec<String>> = accounts
        .iter()
        .map(|a| (a.account_id.clone(), a.roles.clone()))
        .collect();
    assert_eq!(got.len(), 500);
    assert_eq!(
        got,
        expected_accounts(&emu),
        "every account with every role"
    );
    assert_eq!(got.values().map(Vec::len).sum::<usize>(), 1500);
    let names: Vec<(String, &str)> = accounts
        .iter()
        .map(|a| (a.account_name.to_lowercase(), a.account_id.as_str()))
        .collect();
    assert!(
        names.windows(2).all(|w| w[0] <= w[1]),
        "sorted by name, then id"
    );
    let directory_account = &emu.directory().accounts()[0];
    let listed = accounts
        .iter()
        .find(|a| a.account_id == directory_account.account_id)
        .unwrap();
    assert_eq!(listed.account_name, directory_account.account_name);
    assert_eq!(listed.email_address, directory_account.email_address);

    let stats = emu.stats();
    assert!(stats["ListAccounts"] >= 5, "5 pages of 100: {stats:?}");
    assert!(stats["ListAccountRoles"] >= 500);
    assert!(
        stats["throttled"] > 0,
        "the throttle was exercised: {stats:?}"
    );
    let last = events.last().expect("progress was reported");
    assert_eq!(last.accounts_total, Some(500));
    assert_eq!(last.accounts_done, 500);
    assert_eq!(last.throttled, stats["throttled"]);
    assert_eq!(
        last.calls,
        stats["ListAccounts"] + stats["ListAccountRoles"]
    );
    assert!(events
        .windows(2)
        .all(|w| w[0].accounts_done <= w[1].accounts_done));

    // Reported, not asserted: wall-clock time depends on the machine.
    let successful_calls = 505.0;
    let bound = successful_calls / 20.0;
    eprintln!(
        "listing 500 accounts x 3 roles at 20 rps: {:.2}s, bound {bound:.2}s, ratio {:.3}; \
         {} calls, {} throttled",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() / bound,
        last.calls,
        last.throttled
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_server_errors_and_keeps_every_role() {
    let emu = emulator(Directory::generate(40, 2), Faults::default()).await;
    let session = session_for(&emu);
    let token = sign_in(&emu, &session).await;
    emu.update_faults(idc_emulator::FaultsUpdate {
        error_rate: Some(0.2),
        ..Default::default()
    })
    .unwrap();
    let accounts = sso::list_assignments(&session, &token, &mut |_| {})
        .await
        .expect("5xx are retried");
    let got: BTreeMap<String, Vec<String>> = accounts
        .into_iter()
        .map(|a| (a.account_id, a.roles))
        .collect();
    assert_eq!(got, expected_accounts(&emu));
    assert!(emu.stats()["failed"] > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbled_answers_fail_with_the_operation_after_bounded_retries() {
    let emu = emulator(Directory::generate(3, 1), Faults::default()).await;
    let session = session_for(&emu);
    let token = sign_in(&emu, &session).await;
    emu.reset_stats();
    emu.update_faults(idc_emulator::FaultsUpdate {
        garble_bodies: Some(true),
        ..Default::default()
    })
    .unwrap();
    let config = PacerConfig::default();
    let error = sso::list_assignments_with(&session, &token, &config, &mut |_| {})
        .await
        .unwrap_err();
    match &error {
        SsoError::Service {
            operation,
            status,
            attempts,
            ..
        } => {
            assert_eq!(*operation, "ListAccounts");
            assert_eq!(*status, Some(200));
            assert_eq!(*attempts, config.max_attempts_server_error);
        }
        other => panic!("expected Service, got {other:?}"),
    }
    assert_eq!(
        emu.stats()["ListAccounts"],
        u64::from(config.max_attempts_server_error)
    );
    let text = error.to_string();
    assert!(
        text.contains("ListAccounts") && !text.contains(token.expose()),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_accounts_is_no_assignments() {
    let emu = emulator(
        Directory::from_accounts(Vec::new()).unwrap(),
        Faults::default(),
    )
    .await;
    let session = session_for(&emu);
    let token = sign_in(&emu, &session).await;
    let error = sso::list_assignments(&session, &token, &mut |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SsoError::NoAssignments { session } if session == "sso-session emu"),
        "{error:?}"
    );
    assert!(error.to_string().contains("SCIM"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_credentials_and_their_errors() {
    let emu = emulator(Directory::generate(3, 2), Faults::default()).await;
    let session = session_for(&emu);
    let token = sign_in(&emu, &session).await;
    let account = emu.directory().accounts()[0].clone();

    let before = time::OffsetDateTime::now_utc();
    let creds = sso::role_credentials(&session, &token, &account.account_id, &account.roles[0])
        .await
        .expect("assigned role");
    assert!(creds.access_key_id.starts_with("ASIA"));
    assert_eq!(creds.account_id, account.account_id);
    let left = creds.remaining(before);
    assert!(
        left > time::Duration::minutes(59) && left <= time::Duration::minutes(61),
        "{left}"
    );
    assert_eq!(creds.expiration.nanosecond(), 0, "whole seconds");

    let error = sso::role_credentials(&session, &token, &account.account_id, "NotAssigned")
        .await
        .unwrap_err();
    match &error {
        SsoError::Forbidden {
            account_id,
            role_name,
        } => {
            assert_eq!(account_id, &account.account_id);
            assert_eq!(role_name, "NotAssigned");
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }
    assert!(error.to_string().contains("administrator must assign"));
    assert_eq!(emu.stats()["GetRoleCredentials"], 2, "403 is not retried");

    emu.revoke_all();
    let error = sso::role_credentials(&session, &token, &account.account_id, &account.roles[0])
        .await
        .unwrap_err();
    assert!(matches!(error, SsoError::Unauthorized { .. }), "{error:?}");
    let error = sso::list_assignments(&session, &token, &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(error, SsoError::Unauthorized { .. }), "{error:?}");
    assert!(error
        .to_string()
        .contains("portico login --sso-session emu"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_endpoint_is_a_network_error_naming_it() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let session = SsoSession {
        name: Some("corp".into()),
        start_url: "https://d-0000000000.awsapps.com/start".into(),
        region: "eu-central-1".into(),
        scopes: Vec::new(),
        configured_scopes: None,
        oidc_endpoint: endpoint.clone(),
        portal_endpoint: endpoint.clone(),
        storage: Default::default(),
    };
    let token = Secret::new("not-a-real-token");
    let error = sso::list_assignments(&session, &token, &mut |_| {})
        .await
        .unwrap_err();
    match &error {
        SsoError::Network {
            endpoint: named, ..
        } => assert_eq!(named, &endpoint),
        other => panic!("expected Network, got {other:?}"),
    }
    assert!(
        error.to_string().contains("sso_region eu-central-1"),
        "{error}"
    );
    let error = sso::role_credentials(&session, &token, "111122223333", "Admin")
        .await
        .unwrap_err();
    assert!(matches!(error, SsoError::Network { .. }), "{error:?}");
}

/// A plain HTTP/1.0 GET over std, enough for the emulator's federation page.
fn http_get(url: &str) -> (u16, String) {
    let url = url::Url::parse(url).unwrap();
    let mut stream =
        std::net::TcpStream::connect((url.host_str().unwrap(), url.port().unwrap())).unwrap();
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    write!(stream, "GET {target} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_link_round_trip() {
    let emu = emulator(Directory::generate(3, 2), Faults::default()).await;
    let session = session_for(&emu);
    let token = sign_in(&emu, &session).await;
    let account = emu.directory().accounts()[1].clone();
    let creds = sso::role_credentials(&session, &token, &account.account_id, &account.roles[1])
        .await
        .unwrap();

    let override_url = format!("{}/federation", emu.url());
    let endpoint = console::federation_endpoint(Some("eu-west-1"), Some(&override_url));
    let destination = console::console_destination(Some("s3"), Some("eu-west-1"));
    let link = console::signin_url(
        &endpoint,
        &creds,
        &destination,
        console::DEFAULT_ISSUER,
        Some(3600),
    )
    .await
    .expect("sign-in token");
    assert!(link.starts_with(&format!(
        "{override_url}?Action=login&Issuer=portico&Destination="
    )));
    assert!(!link.contains(creds.secret_access_key.expose()));
    assert_eq!(emu.stats()["GetSigninToken"], 1);

    let (status, page) = tokio::task::spawn_blocking(move || http_get(&link))
        .await
        .unwrap();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&account.account_id), "{page}");
    assert!(page.contains(&account.roles[1]), "{page}");

    // Credentials the service does not know are refused, and the message keeps them out.
    let forged = RoleCredentials {
        secret_access_key: Secret::new("wrong-secret"),
        ..creds.clone()
    };
    let error = console::signin_url(&endpoint, &forged, &destination, "portico", None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, console::ConsoleError::Refused { status: 400, .. }),
        "{error:?}"
    );
    assert!(!error.to_string().contains("wrong-secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_credentials_retry_bounded_then_say_why() {
    let emu = emulator(Directory::generate(2, 1), Faults::default()).await;
    let session = session_for(&emu);
    let token = sign_in(&emu, &session).await;
    let account = emu.directory().accounts()[0].clone();
    let fetch = || sso::role_credentials(&session, &token, &account.account_id, &account.roles[0]);
    let set = |update: idc_emulator::FaultsUpdate| {
        emu.update_faults(update).unwrap();
        emu.reset_stats();
    };

    set(idc_emulator::FaultsUpdate {
        garble_bodies: Some(true),
        ..Default::default()
    });
    let error = fetch().await.unwrap_err();
    assert!(
        matches!(
            error,
            SsoError::Service {
                status: Some(200),
                attempts: 3,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(emu.stats()["GetRoleCredentials"], 3);

    set(idc_emulator::FaultsUpdate {
        garble_bodies: Some(false),
        error_rate: Some(1.0),
        ..Default::default()
    });
    let error = fetch().await.unwrap_err();
    assert!(
        matches!(
            error,
            SsoError::Service {
                status: Some(500),
                attempts: 3,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(emu.stats()["GetRoleCredentials"], 3);

    // A bucket of one call, refilled every 1000 s: the first passes, the rest are throttled.
    set(idc_emulator::FaultsUpdate {
        error_rate: Some(0.0),
        throttle_rps: Some(0.001),
        ..Default::default()
    });
    fetch().await.expect("the first call passes");
    // Throttling is retried with backoff up to a bound (60 s in use; 2 s here), then named.
    // The bucket refills in 1000 s: without the bound the call would retry past the deadline.
    let bound = std::time::Duration::from_secs(2);
    let error = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        sso::role_credentials_within(
            &session,
            &token,
            &account.account_id,
            &account.roles[0],
            bound,
        ),
    )
    .await
    .expect("the call gives up at its bound")
    .unwrap_err();
    assert!(matches!(error, SsoError::Throttled { .. }), "{error:?}");
    assert!(error.to_string().contains("429"), "{error}");
    let calls = emu.stats()["GetRoleCredentials"];
    assert!(calls > 4, "retried past the SDK's three attempts: {calls}");
}
