//! Conformance through aws-sdk-ssooidc and aws-sdk-sso: the SDKs nobody here wrote must see
//! the shapes, statuses and modelled error variants of the real services.

mod common;

use aws_sdk_sso::error::ProvideErrorMetadata;
use aws_sdk_sso::operation::list_accounts::ListAccountsError;
use aws_sdk_ssooidc::operation::create_token::CreateTokenError;
use aws_sdk_ssooidc::operation::register_client::RegisterClientError;
use aws_sdk_ssooidc::operation::start_device_authorization::StartDeviceAuthorizationError;
use common::*;
use idc_emulator::{Config, Directory, Faults};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn generated(accounts: usize, roles: usize) -> Config {
    Config {
        directory: Directory::generate(accounts, roles),
        ..Config::default()
    }
}

async fn all_accounts(
    client: &aws_sdk_sso::Client,
    token: &str,
    page_size: Option<i32>,
) -> Vec<aws_sdk_sso::types::AccountInfo> {
    let mut paginator = client.list_accounts().access_token(token).into_paginator();
    if let Some(size) = page_size {
        paginator = paginator.page_size(size);
    }
    paginator
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("ListAccounts pages")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_flow_then_every_portal_call() {
    let emu = idc_emulator::spawn(generated(250, 3)).await.unwrap();
    let client = oidc(&emu);
    let reg = register(&client, &[PORTAL_SCOPE], &[]).await;

    let auth = client
        .start_device_authorization()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .start_url(emu.start_url())
        .send()
        .await
        .unwrap();
    let user_code = auth.user_code().unwrap().to_string();
    assert_eq!(auth.expires_in(), 600);
    assert_eq!(auth.interval(), 1);
    assert_eq!(
        auth.verification_uri(),
        Some(format!("{}/device", emu.url()).as_str())
    );
    assert_eq!(
        auth.verification_uri_complete(),
        Some(format!("{}/device?user_code={user_code}", emu.url()).as_str())
    );
    assert_eq!(emu.pending_user_codes(), vec![user_code.clone()]);

    let device_code = auth.device_code().unwrap();
    let pending = poll(&client, &reg, device_code).await.unwrap_err();
    assert!(pending.is_authorization_pending_exception(), "{pending:?}");
    assert_eq!(pending.code(), Some("AuthorizationPendingException"));

    emu.approve(&user_code).unwrap();
    let token = poll(&client, &reg, device_code).await.unwrap();
    assert_eq!(token.token_type(), Some("Bearer"));
    assert_eq!(
        token.expires_in(),
        3600,
        "a refresh token shortens the access token"
    );
    assert!(token.refresh_token().is_some());
    let access = token.access_token().unwrap();

    let sso = sso(&emu, true);
    emu.reset_stats();
    let accounts = all_accounts(&sso, access, Some(100)).await;
    assert_eq!(accounts.len(), 250);
    let expected: Vec<_> = emu
        .directory()
        .accounts()
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    let got: Vec<_> = accounts.iter().filter_map(|a| a.account_id()).collect();
    assert_eq!(got, expected);
    assert_eq!(emu.stats()["ListAccounts"], 3, "pages of 100, 100, 50");

    let default_pages = all_accounts(&sso, access, None).await;
    assert_eq!(default_pages.len(), 250);
    assert_eq!(
        emu.stats()["ListAccounts"],
        3 + 250_u64.div_ceil(idc_emulator::DEFAULT_PAGE_SIZE as u64)
    );

    let first = &emu.directory().accounts()[0];
    let roles = sso
        .list_account_roles()
        .access_token(access)
        .account_id(&first.account_id)
        .send()
        .await
        .unwrap();
    let names: Vec<_> = roles
        .role_list()
        .iter()
        .filter_map(|r| r.role_name())
        .collect();
    assert_eq!(
        names,
        first.roles.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(roles.next_token().is_none());
    assert!(roles
        .role_list()
        .iter()
        .all(|r| r.account_id() == Some(first.account_id.as_str())));

    let creds = sso
        .get_role_credentials()
        .access_token(access)
        .account_id(&first.account_id)
        .role_name(&first.roles[0])
        .send()
        .await
        .unwrap();
    let creds = creds.role_credentials().unwrap();
    assert!(creds.access_key_id().unwrap().starts_with("ASIA"));
    assert_eq!(creds.access_key_id().unwrap().len(), 20);
    assert!(creds.secret_access_key().unwrap().len() >= 40);
    assert!(!creds.session_token().unwrap().is_empty());
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let ttl_ms = creds.expiration() - now_ms;
    assert!(
        (3_590_000..=3_600_000).contains(&ttl_ms),
        "expiration is epoch milliseconds: {ttl_ms}"
    );

    sso.logout().access_token(access).send().await.unwrap();
    let after = sso
        .list_accounts()
        .access_token(access)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(after.is_unauthorized_exception(), "{after:?}");
    assert_eq!(after.message(), Some("Session token not found or invalid"));

    let refresh = client
        .create_token()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .grant_type("refresh_token")
        .refresh_token(token.refresh_token().unwrap())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        refresh.is_invalid_grant_exception(),
        "logout revokes refresh tokens: {refresh:?}"
    );

    let stats = emu.stats();
    assert_eq!(stats["ListAccountRoles"], 1);
    assert_eq!(stats["GetRoleCredentials"], 1);
    assert_eq!(stats["Logout"], 1);
    assert_eq!(stats["CreateToken:refresh_token"], 1);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_faster_than_half_the_interval_slows_down() {
    let emu = idc_emulator::spawn(Config::default()).await.unwrap();
    let client = oidc(&emu);
    let reg = register(&client, &[], &[]).await;
    let (device_code, _) = start_device(&client, &reg, &emu.start_url()).await;

    // Two polls back to back: the second slows down. On a machine so loaded that the second
    // left more than half the interval after the first, pending was the right answer: try
    // again (bounded) rather than fail by timing.
    let mut polls = 0;
    let mut slowed = false;
    for _ in 0..10 {
        // From before the first is sent to after the second is answered: at least the gap the
        // emulator saw between them.
        let sent = std::time::Instant::now();
        let first = poll(&client, &reg, &device_code).await.unwrap_err();
        assert!(first.is_authorization_pending_exception(), "{first:?}");
        let second = poll(&client, &reg, &device_code).await.unwrap_err();
        polls += 2;
        if matches!(second, CreateTokenError::SlowDownException(_)) {
            assert_eq!(second.code(), Some("SlowDownException"));
            slowed = true;
            break;
        }
        assert!(second.is_authorization_pending_exception(), "{second:?}");
        assert!(
            sent.elapsed() >= Duration::from_millis(500),
            "a poll within half the interval was not slowed down"
        );
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert!(slowed, "no two polls were ever within half an interval");

    // Half the 1 s interval later, polling is welcome again. Not a synchronisation: the
    // emulator measures the time between two polls, and a slower machine only lengthens it.
    tokio::time::sleep(Duration::from_millis(550)).await;
    let third = poll(&client, &reg, &device_code).await.unwrap_err();
    assert!(third.is_authorization_pending_exception(), "{third:?}");
    assert_eq!(emu.stats()["CreateToken:device_code"], polls + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_expired_and_reused_device_codes() {
    let emu = idc_emulator::spawn(Config::default()).await.unwrap();
    let client = oidc(&emu);
    let reg = register(&client, &[], &[]).await;

    let (denied, user_code) = start_device(&client, &reg, &emu.start_url()).await;
    emu.deny(&user_code).unwrap();
    let err = poll(&client, &reg, &denied).await.unwrap_err();
    assert!(
        matches!(err, CreateTokenError::AccessDeniedException(_)),
        "{err:?}"
    );
    assert!(
        emu.approve(&user_code).is_err(),
        "a denied code cannot be approved"
    );

    let (expired, user_code) = start_device(&client, &reg, &emu.start_url()).await;
    assert_eq!(emu.expire_pending(), 1);
    let err = poll(&client, &reg, &expired).await.unwrap_err();
    assert!(err.is_expired_token_exception(), "{err:?}");
    assert!(
        emu.approve(&user_code).is_err(),
        "an expired code cannot be approved"
    );
    assert!(emu.pending_user_codes().is_empty());

    let (once, user_code) = start_device(&client, &reg, &emu.start_url()).await;
    emu.approve(&user_code).unwrap();
    poll(&client, &reg, &once).await.unwrap();
    let err = poll(&client, &reg, &once).await.unwrap_err();
    assert!(
        err.is_invalid_grant_exception(),
        "device codes are one-time: {err:?}"
    );

    let err = poll(&client, &reg, "not-a-device-code").await.unwrap_err();
    assert!(err.is_invalid_grant_exception(), "{err:?}");
    assert!(matches!(
        emu.approve("ZZZZ-ZZZZ"),
        Err(idc_emulator::ControlError::UnknownUserCode(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_rotate() {
    let emu = idc_emulator::spawn(Config::default()).await.unwrap();
    let client = oidc(&emu);
    let (reg, token) = device_login(&emu, &[PORTAL_SCOPE], &[DEVICE_GRANT, "refresh_token"]).await;
    let first = token.refresh_token().unwrap().to_string();

    let refresh = |token: String| {
        client
            .create_token()
            .client_id(&reg.client_id)
            .client_secret(&reg.client_secret)
            .grant_type("refresh_token")
            .refresh_token(token)
            .send()
    };
    let rotated = refresh(first.clone()).await.unwrap();
    let second = rotated.refresh_token().unwrap().to_string();
    assert_ne!(first, second);
    assert_eq!(rotated.expires_in(), 3600);
    assert_ne!(rotated.access_token(), token.access_token());

    let reused = refresh(first).await.unwrap_err().into_service_error();
    assert!(
        reused.is_invalid_grant_exception(),
        "the old refresh token stops working: {reused:?}"
    );
    let bogus = refresh("aorNotARefreshToken".into())
        .await
        .unwrap_err()
        .into_service_error();
    assert!(bogus.is_invalid_grant_exception(), "{bogus:?}");
    assert_eq!(bogus.code(), Some("InvalidGrantException"));

    let third = refresh(second).await.unwrap();
    assert!(third.refresh_token().is_some());
    sso(&emu, false)
        .list_accounts()
        .access_token(third.access_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(emu.stats()["CreateToken:refresh_token"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_need_the_portal_scope_and_the_grant() {
    let emu = idc_emulator::spawn(Config::default()).await.unwrap();

    let (_, no_scope) = device_login(&emu, &[], &[]).await;
    assert!(no_scope.refresh_token().is_none());
    assert_eq!(no_scope.expires_in(), 28_800);

    let (reg, no_grant) = device_login(&emu, &[PORTAL_SCOPE], &[DEVICE_GRANT]).await;
    assert!(no_grant.refresh_token().is_none());
    assert_eq!(no_grant.expires_in(), 28_800);
    let err = oidc(&emu)
        .create_token()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .grant_type("refresh_token")
        .refresh_token("anything")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_unauthorized_client_exception(), "{err:?}");

    let err = oidc(&emu)
        .create_token()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .grant_type("password")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_unsupported_grant_type_exception(), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_token_ttl_can_be_overridden() {
    let emu = idc_emulator::spawn(Config {
        access_token_ttl: Some(60),
        role_credential_ttl: 900,
        ..Config::default()
    })
    .await
    .unwrap();
    let (_, token) = device_login(&emu, &[PORTAL_SCOPE], &[]).await;
    assert_eq!(token.expires_in(), 60);
    let account = &emu.directory().accounts()[1];
    let creds = sso(&emu, false)
        .get_role_credentials()
        .access_token(token.access_token().unwrap())
        .account_id(&account.account_id)
        .role_name(&account.roles[1])
        .send()
        .await
        .unwrap();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let ttl_ms = creds.role_credentials().unwrap().expiration() - now_ms;
    assert!((890_000..=900_000).contains(&ttl_ms), "{ttl_ms}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_and_revoked_tokens_are_unauthorized() {
    let emu = idc_emulator::spawn(Config::default()).await.unwrap();
    let (reg, token) = device_login(&emu, &[PORTAL_SCOPE], &[]).await;
    let sso = sso(&emu, false);
    let access = token.access_token().unwrap();
    sso.list_accounts()
        .access_token(access)
        .send()
        .await
        .unwrap();

    assert_eq!(emu.expire_access_tokens(), 1);
    let err = sso
        .list_accounts()
        .access_token(access)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_unauthorized_exception(), "{err:?}");
    let err = sso
        .list_accounts()
        .access_token("aoaUnknown")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_unauthorized_exception(), "{err:?}");

    let refreshed = oidc(&emu)
        .create_token()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .grant_type("refresh_token")
        .refresh_token(token.refresh_token().unwrap())
        .send()
        .await
        .unwrap();
    let access = refreshed.access_token().unwrap();
    sso.list_accounts()
        .access_token(access)
        .send()
        .await
        .unwrap();

    assert_eq!(emu.revoke_all(), 1);
    let err = sso
        .list_accounts()
        .access_token(access)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, ListAccountsError::UnauthorizedException(_)),
        "{err:?}"
    );
    let err = oidc(&emu)
        .create_token()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .grant_type("refresh_token")
        .refresh_token(refreshed.refresh_token().unwrap())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_grant_exception(), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_throttles_with_429() {
    let emu = idc_emulator::spawn(Config {
        faults: Faults {
            throttle_rps: 5.0,
            ..Faults::default()
        },
        ..Config::default()
    })
    .await
    .unwrap();
    let (_, token) = device_login(&emu, &[], &[]).await;
    let sso = sso(&emu, false);
    let account = &emu.directory().accounts()[0];
    let (mut ok, mut throttled) = (0, 0);
    for _ in 0..60 {
        match sso
            .list_account_roles()
            .access_token(token.access_token().unwrap())
            .account_id(&account.account_id)
            .send()
            .await
        {
            Ok(_) => ok += 1,
            Err(e) => {
                let e = e.into_service_error();
                assert!(e.is_too_many_requests_exception(), "{e:?}");
                assert_eq!(e.code(), Some("TooManyRequestsException"));
                assert_eq!(e.message(), Some("Rate exceeded"));
                throttled += 1;
            }
        }
    }
    assert!(ok >= 5, "one second of burst passes: {ok}");
    assert!(throttled >= 20, "{throttled}");
    let stats = emu.stats();
    assert_eq!(stats["ListAccountRoles"], 60, "throttled calls still count");
    assert_eq!(stats["throttled"], throttled);
    assert_eq!(
        stats["CreateToken:device_code"], 1,
        "OIDC calls are never throttled"
    );

    emu.update_faults(idc_emulator::FaultsUpdate {
        throttle_rps: Some(0.0),
        ..Default::default()
    })
    .unwrap();
    for _ in 0..20 {
        sso.list_accounts()
            .access_token(token.access_token().unwrap())
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unassigned_roles_and_accounts_are_forbidden() {
    let emu = idc_emulator::spawn(generated(4, 2)).await.unwrap();
    let (_, token) = device_login(&emu, &[], &[]).await;
    let sso = sso(&emu, false);
    let access = token.access_token().unwrap();
    let account = &emu.directory().accounts()[0];
    let unassigned = ["AdministratorAccess", "ReadOnlyAccess", "PowerUserAccess"]
        .into_iter()
        .find(|r| !account.roles.iter().any(|a| a == r))
        .unwrap();

    for (account_id, role) in [
        (account.account_id.as_str(), unassigned),
        ("000000000000", account.roles[0].as_str()),
    ] {
        let err = sso
            .get_role_credentials()
            .access_token(access)
            .account_id(account_id)
            .role_name(role)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
        let err = err.into_service_error();
        assert!(
            !err.is_unauthorized_exception() && !err.is_invalid_request_exception(),
            "ForbiddenException is outside the model: {err:?}"
        );
        assert_eq!(err.code(), Some("ForbiddenException"));
        assert_eq!(err.message(), Some("No access"));
    }
    let err = sso
        .list_account_roles()
        .access_token(access)
        .account_id("000000000000")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ForbiddenException"));

    let err = sso
        .list_accounts()
        .access_token(access)
        .max_results(101)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_request_exception(), "{err:?}");
    let err = sso
        .list_accounts()
        .access_token(access)
        .next_token("not-a-token")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_request_exception(), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_instance_and_bad_clients_are_refused() {
    let emu = idc_emulator::spawn(Config {
        region: "eu-central-1".into(),
        ..Config::default()
    })
    .await
    .unwrap();
    let client = oidc(&emu);
    let reg = register(&client, &[], &[]).await;

    let err = client
        .start_device_authorization()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .start_url("https://d-1111111111.awsapps.com/start")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(
            err,
            StartDeviceAuthorizationError::InvalidRequestException(_)
        ),
        "{err:?}"
    );
    // The start URL as users write it (trailing slash or #/) is the same instance.
    start_device(&client, &reg, &format!("{}/#/", emu.start_url())).await;

    let err = client
        .start_device_authorization()
        .client_id(&reg.client_id)
        .client_secret("wrong")
        .start_url(emu.start_url())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(401));
    assert!(err.into_service_error().is_invalid_client_exception());
    let err = poll(
        &client,
        &Registration {
            client_id: "nobody".into(),
            client_secret: "x".into(),
        },
        "x",
    )
    .await
    .unwrap_err();
    assert!(err.is_invalid_client_exception(), "{err:?}");

    let err = client
        .register_client()
        .client_name("x")
        .client_type("public")
        .issuer_url("https://d-1111111111.awsapps.com/start")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, RegisterClientError::InvalidRequestException(_)),
        "{err:?}"
    );
    let err = client
        .register_client()
        .client_name("x")
        .client_type("confidential")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_client_metadata_exception(), "{err:?}");
    let err = client
        .register_client()
        .client_name("x")
        .client_type("public")
        .redirect_uris("https://example.com/callback")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_redirect_uri_exception(), "{err:?}");
    let err = client
        .register_client()
        .client_name("x")
        .client_type("public")
        .grant_types("client_credentials")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_unsupported_grant_type_exception(), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_garbled_bodies() {
    let emu = idc_emulator::spawn(Config::default()).await.unwrap();
    let (_, token) = device_login(&emu, &[], &[]).await;
    let access = token.access_token().unwrap();
    let sso = sso(&emu, false);

    emu.update_faults(idc_emulator::FaultsUpdate {
        error_rate: Some(1.0),
        ..Default::default()
    })
    .unwrap();
    let err = sso
        .list_accounts()
        .access_token(access)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
    assert_eq!(
        err.into_service_error().code(),
        Some("InternalServerException")
    );
    let err = oidc(&emu)
        .register_client()
        .client_name("x")
        .client_type("public")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_internal_server_exception(), "{err:?}");
    assert_eq!(emu.stats()["failed"], 2);

    emu.update_faults(idc_emulator::FaultsUpdate {
        error_rate: Some(0.0),
        garble_bodies: Some(true),
        ..Default::default()
    })
    .unwrap();
    let err = sso
        .list_accounts()
        .access_token(access)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(200));
    let err = err.into_service_error();
    assert_eq!(err.code(), None, "a cut 200 body fails to parse: {err:?}");
    // Errors stay intact, so a client can still tell why it failed.
    let err = sso
        .list_accounts()
        .access_token("aoaUnknown")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_unauthorized_exception());
    assert_eq!(emu.faults().latency_ms, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_delays_service_calls_not_control_calls() {
    let emu = idc_emulator::spawn(Config {
        faults: Faults {
            latency_ms: 200,
            ..Faults::default()
        },
        ..Config::default()
    })
    .await
    .unwrap();
    // A lower bound only: a slower machine makes the call take longer, never shorter.
    let started = std::time::Instant::now();
    register(&oidc(&emu), &[], &[]).await;
    assert!(started.elapsed() >= Duration::from_millis(200));

    // With an hour of latency a service call is held; a control call made meanwhile answers
    // while it is still held. No clock is read: the order of the two answers is the test.
    emu.update_faults(idc_emulator::FaultsUpdate {
        latency_ms: Some(3_600_000),
        ..Default::default()
    })
    .unwrap();
    let client = oidc(&emu);
    let held = tokio::spawn(async move { register(&client, &[], &[]).await });
    let arrived = async {
        while emu.stats()["RegisterClient"] < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), arrived)
        .await
        .expect("the held call reaches the emulator");
    let stats = tokio::time::timeout(
        Duration::from_secs(60),
        http_async("GET", &format!("{}/_emulator/stats", emu.url()), None),
    )
    .await
    .expect("the control call is not held");
    assert_eq!(stats.status, 200);
    assert!(!held.is_finished(), "the service call is still held");
    held.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_directory_is_deterministic() {
    assert_eq!(Directory::generate(250, 3), Directory::generate(250, 3));
    let mut listings = Vec::new();
    for _ in 0..2 {
        let emu = idc_emulator::spawn(generated(250, 3)).await.unwrap();
        let (_, token) = device_login(&emu, &[], &[]).await;
        let sso = sso(&emu, false);
        let access = token.access_token().unwrap();
        let accounts = all_accounts(&sso, access, Some(100)).await;
        let mut listing: Vec<String> = accounts
            .iter()
            .map(|a| {
                format!(
                    "{} {} {}",
                    a.account_id().unwrap(),
                    a.account_name().unwrap(),
                    a.email_address().unwrap()
                )
            })
            .collect();
        for account in accounts.iter().take(5) {
            let roles = sso
                .list_account_roles()
                .access_token(access)
                .account_id(account.account_id().unwrap())
                .send()
                .await
                .unwrap();
            listing.extend(
                roles
                    .role_list()
                    .iter()
                    .map(|r| r.role_name().unwrap().to_string()),
            );
        }
        listings.push(listing);
    }
    assert_eq!(listings[0], listings[1]);
    let ids: std::collections::HashSet<_> = listings[0][..250].iter().map(|l| &l[..12]).collect();
    assert_eq!(ids.len(), 250);
    assert!(listings[0][..250]
        .iter()
        .all(|l| l[..12].bytes().all(|b| b.is_ascii_digit())));
}

/// GetCallerIdentity through aws-sdk-sts (which signs with aws-sigv4; the emulator checks the
/// signature with code of its own): Identity Center's keys are the session of the
/// permission set's `AWSReservedSSO_…` role; keys it never issued, a wrong secret, a missing
/// or wrong session token each get STS's error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_caller_identity_names_whose_keys_they_are() {
    use aws_sdk_sts::error::ProvideErrorMetadata;
    let emu = idc_emulator::spawn(generated(3, 2)).await.unwrap();
    let creds = role_credentials(&emu, 1, 1).await;
    let account = emu.directory().accounts()[1].clone();
    let (key, secret, session) = (
        creds.access_key_id().unwrap(),
        creds.secret_access_key().unwrap(),
        creds.session_token().unwrap(),
    );
    let who = sts_with(&emu, (key, secret, Some(session)))
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(who.account(), Some(account.account_id.as_str()));
    let arn = who.arn().unwrap();
    let prefix = format!(
        "arn:aws:sts::{}:assumed-role/AWSReservedSSO_{}_",
        account.account_id, account.roles[1]
    );
    let rest = arn.strip_prefix(&prefix).unwrap_or_else(|| panic!("{arn}"));
    let (suffix, user) = rest.split_once('/').unwrap();
    assert!(
        suffix.len() == 16 && suffix.bytes().all(|b| b.is_ascii_hexdigit()),
        "{arn}"
    );
    assert_eq!(user, idc_emulator::DEFAULT_USER);
    let user_id = who.user_id().unwrap();
    assert!(
        user_id.starts_with("AROA") && user_id.ends_with(&format!(":{user}")),
        "{user_id}"
    );

    let refused = |keys: (&str, &str, Option<&str>)| {
        let sts = sts_with(&emu, keys);
        async move {
            let err = sts.get_caller_identity().send().await.unwrap_err();
            let status = err.raw_response().map(|r| r.status().as_u16());
            let err = err.into_service_error();
            (status, err.code().map(str::to_string))
        }
    };
    let forbidden = |code: &str| (Some(403), Some(code.to_string()));
    assert_eq!(
        refused(("ASIAUNKNOWNKEY000000", secret, Some(session))).await,
        forbidden("InvalidClientTokenId")
    );
    let mut wrong = secret.to_string();
    wrong.replace_range(..1, if wrong.starts_with('x') { "y" } else { "x" });
    assert_eq!(
        refused((key, &wrong, Some(session))).await,
        forbidden("SignatureDoesNotMatch")
    );
    assert_eq!(
        refused((key, secret, None)).await,
        forbidden("InvalidClientTokenId")
    );
    assert_eq!(
        refused((key, secret, Some("another-token"))).await,
        forbidden("InvalidClientTokenId")
    );
    assert_eq!(emu.stats()["GetCallerIdentity"], 5);
    emu.shutdown().await;
}

/// Keys past their expiry get `ExpiredToken` (403), as STS answers a signed call with them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_caller_identity_refuses_expired_keys() {
    use aws_sdk_sts::error::ProvideErrorMetadata;
    let emu = idc_emulator::spawn(Config {
        role_credential_ttl: 0,
        ..generated(1, 1)
    })
    .await
    .unwrap();
    let creds = role_credentials(&emu, 0, 0).await;
    let err = sts_with(
        &emu,
        (
            creds.access_key_id().unwrap(),
            creds.secret_access_key().unwrap(),
            creds.session_token(),
        ),
    )
    .get_caller_identity()
    .send()
    .await
    .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    assert_eq!(err.into_service_error().code(), Some("ExpiredToken"));
    emu.shutdown().await;
}
