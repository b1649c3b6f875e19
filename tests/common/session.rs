//! Library-level set-up against a running emulator: an `SsoSession` pointing at it and a
//! signed-in token obtained the way the device flow does it, for tests and benchmarks that call
//! the portal client directly.
#![allow(dead_code)]

use idc_emulator::Running;
use portico::secret::Secret;
use portico::settings::SsoSession;

/// The emulator's session, both services at its URL.
pub fn session_for(emu: &Running) -> SsoSession {
    SsoSession {
        name: Some("emu".into()),
        start_url: emu.start_url(),
        region: emu.region(),
        scopes: vec!["sso:account:access".into()],
        configured_scopes: None,
        oidc_endpoint: emu.url(),
        portal_endpoint: emu.url(),
        storage: Default::default(),
    }
}

/// Signs in the way the device flow does: register, authorize, approve, redeem.
pub async fn sign_in(emu: &Running, session: &SsoSession) -> Secret {
    let oidc = portico::aws::oidc_client(session);
    let client = oidc
        .register_client()
        .client_name("portico-tests")
        .client_type("public")
        .scopes("sso:account:access")
        .send()
        .await
        .expect("RegisterClient");
    let (id, secret) = (client.client_id().unwrap(), client.client_secret().unwrap());
    let device = oidc
        .start_device_authorization()
        .client_id(id)
        .client_secret(secret)
        .start_url(&session.start_url)
        .send()
        .await
        .expect("StartDeviceAuthorization");
    emu.approve(device.user_code().unwrap()).expect("approve");
    let token = oidc
        .create_token()
        .client_id(id)
        .client_secret(secret)
        .grant_type("urn:ietf:params:oauth:grant-type:device_code")
        .device_code(device.device_code().unwrap())
        .send()
        .await
        .expect("CreateToken");
    Secret::new(token.access_token().unwrap())
}
