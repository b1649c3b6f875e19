//! STS AssumeRole through aws-sdk-sts, the client portico chains roles with: the answer parses
//! into the SDK's types, the keys it gives sign later calls, and the refusals arrive with the
//! codes and statuses the SDK's callers match on. The trust is set in process
//! (`Control::set_trust`) and MFA codes computed with `idc_emulator::totp_code`, as portico's
//! own tests will.

mod common;

use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use common::*;
use idc_emulator::{totp_code, Config, Control, Directory, TrustUpdate};
use std::time::{SystemTime, UNIX_EPOCH};

type Keys = (String, String, Option<String>);

/// An STS client for the emulator signing with `keys`.
fn sts_for(emu: &Control, keys: &Keys) -> aws_sdk_sts::Client {
    sts_with(emu, (&keys.0, &keys.1, keys.2.as_deref()))
}

/// Identity Center keys of the first account's first permission set.
async fn identity_center_keys(emu: &Control) -> Keys {
    let c = role_credentials(emu, 0, 0).await;
    (
        c.access_key_id().unwrap().to_string(),
        c.secret_access_key().unwrap().to_string(),
        c.session_token().map(str::to_string),
    )
}

fn keys_of(out: &aws_sdk_sts::operation::assume_role::AssumeRoleOutput) -> Keys {
    let c = out.credentials().unwrap();
    (
        c.access_key_id().to_string(),
        c.secret_access_key().to_string(),
        Some(c.session_token().to_string()),
    )
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn refused(
    call: aws_sdk_sts::operation::assume_role::builders::AssumeRoleFluentBuilder,
) -> (u16, String, String, AssumeRoleError) {
    let err = call.send().await.unwrap_err();
    let status = err.raw_response().map_or(0, |r| r.status().as_u16());
    let err = err.into_service_error();
    (
        status,
        err.code().unwrap_or_default().to_string(),
        err.message().unwrap_or_default().to_string(),
        err,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_chains_two_roles_and_the_keys_are_theirs() {
    let emu = idc_emulator::spawn(Config {
        directory: Directory::generate(3, 2),
        chain_roles: 2,
        ..Config::default()
    })
    .await
    .unwrap();
    assert_eq!(emu.chain_roles(), 2);
    let source = identity_center_keys(&emu).await;
    let accounts: Vec<String> = emu
        .directory()
        .accounts()
        .iter()
        .map(|a| a.account_id.clone())
        .collect();
    let first_role = format!("arn:aws:iam::{}:role/ChainRole1", accounts[1]);
    let before = now();
    let first = sts_for(&emu, &source)
        .assume_role()
        .role_arn(&first_role)
        .role_session_name("rust-sdk")
        .send()
        .await
        .unwrap();
    let user = first.assumed_role_user().unwrap();
    assert_eq!(
        user.arn(),
        format!(
            "arn:aws:sts::{}:assumed-role/ChainRole1/rust-sdk",
            accounts[1]
        )
    );
    assert!(user.assumed_role_id().starts_with("AROA"));
    assert!(user.assumed_role_id().ends_with(":rust-sdk"));
    let expires = first.credentials().unwrap().expiration().secs() as u64;
    assert!(
        (before + 3600..=now() + 3600).contains(&expires),
        "{expires}"
    );
    // No session policy, no PackedPolicySize (deprecated in the model since 2026-06 for
    // SessionTokenUtilization, which the emulator does not send).
    #[allow(deprecated)]
    let packed = first.packed_policy_size();
    assert_eq!(packed, None);

    let second = sts_for(&emu, &keys_of(&first))
        .assume_role()
        .role_arn(format!("arn:aws:iam::{}:role/ChainRole2", accounts[2]))
        .role_session_name("hop2")
        .duration_seconds(900)
        .send()
        .await
        .unwrap();
    let who = sts_for(&emu, &keys_of(&second))
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        who.arn(),
        Some(format!("arn:aws:sts::{}:assumed-role/ChainRole2/hop2", accounts[2]).as_str())
    );
    assert_eq!(who.account(), Some(accounts[2].as_str()));
    assert_eq!(emu.stats()["AssumeRole"], 2);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_reach_the_sdk_with_stss_codes() {
    let emu = idc_emulator::spawn(Config {
        directory: Directory::generate(2, 1),
        chain_roles: 1,
        ..Config::default()
    })
    .await
    .unwrap();
    let source = identity_center_keys(&emu).await;
    let caller = sts_for(&emu, &source)
        .get_caller_identity()
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    let account = emu.directory().accounts()[1].account_id.clone();
    let role = format!("arn:aws:iam::{account}:role/ChainRole1");
    let sts = sts_for(&emu, &source);
    let assume = || sts.assume_role().role_arn(&role).role_session_name("r1");

    // Not trusted.
    emu.set_trust(TrustUpdate {
        role_arn: role.clone(),
        trusted: Some(vec![format!("arn:aws:iam::{account}:role/Other")]),
        ..TrustUpdate::default()
    })
    .unwrap();
    let (status, code, message, _) = refused(assume()).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
    assert_eq!(
        message,
        format!("User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role}")
    );

    // MFA and an external id, both needed.
    let seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    let serial = format!("arn:aws:iam::{account}:mfa/alice");
    emu.set_trust(TrustUpdate {
        role_arn: role.clone(),
        external_id: Some("xid-1".into()),
        mfa_serial: Some(serial.clone()),
        mfa_seed: Some(seed.into()),
        max_session_duration: Some(7200),
        ..TrustUpdate::default()
    })
    .unwrap();
    let code_now = totp_code(seed, now()).unwrap();
    let (status, code, _, _) = refused(assume().external_id("xid-1")).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
    let (status, _, message, _) = refused(
        assume()
            .serial_number(&serial)
            .token_code(&code_now)
            .external_id("xid-2"),
    )
    .await;
    assert_eq!(status, 403);
    assert!(message.starts_with("User: "), "{message}");
    let ok = assume()
        .serial_number(&serial)
        .token_code(&code_now)
        .external_id("xid-1")
        .send()
        .await
        .unwrap();
    assert!(ok.credentials().is_some());

    // Role chaining: above an hour is refused even where the role allows two.
    let (status, code, message, _) = refused(
        assume()
            .serial_number(&serial)
            .token_code(totp_code(seed, now() + 30).unwrap())
            .external_id("xid-1")
            .duration_seconds(7200),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "ValidationError"));
    assert_eq!(
        message,
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
    );

    // A modelled error: the SDK's own variant.
    emu.set_trust(TrustUpdate {
        role_arn: role.clone(),
        ..TrustUpdate::default()
    })
    .unwrap();
    let (status, _, _, err) = refused(assume().policy("[not a policy")).await;
    assert_eq!(status, 400);
    assert!(
        matches!(err, AssumeRoleError::MalformedPolicyDocumentException(_)),
        "{err:?}"
    );

    // Keys it never issued.
    let stranger = (
        "ASIAZZZZZZZZZZZZZZZZ".to_string(),
        source.1.clone(),
        source.2.clone(),
    );
    let stranger_sts = sts_for(&emu, &stranger);
    let (status, code, _, _) = refused(
        stranger_sts
            .assume_role()
            .role_arn(&role)
            .role_session_name("r1"),
    )
    .await;
    assert_eq!((status, code.as_str()), (403, "InvalidClientTokenId"));
    emu.shutdown().await;
}
