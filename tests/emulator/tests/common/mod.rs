//! Shared helpers for the conformance tests: SDK clients pointed at an emulator, the device
//! login every portal test needs, and a tiny HTTP/1.1 client for the browser-side pages.

#![allow(dead_code)] // each test binary uses a different subset

use aws_sdk_ssooidc::config::retry::RetryConfig;
use aws_sdk_ssooidc::config::{BehaviorVersion, Region, SharedHttpClient};
use idc_emulator::Control;
use std::io::{Read, Write};
use std::net::TcpStream;

pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const PORTAL_SCOPE: &str = "sso:account:access";

/// The lean HTTPS-capable client portico uses (rustls with ring); plain HTTP to the emulator.
pub fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// An SSO OIDC client for the emulator. Retries off, so each call is exactly one request.
pub fn oidc(emu: &Control) -> aws_sdk_ssooidc::Client {
    let config = aws_sdk_ssooidc::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(emu.region()))
        .endpoint_url(emu.url())
        .http_client(http_client())
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_ssooidc::Client::from_conf(config)
}

/// An SSO portal client for the emulator, with the SDK's default retries unless `retries`
/// is false.
pub fn sso(emu: &Control, retries: bool) -> aws_sdk_sso::Client {
    let mut builder = aws_sdk_sso::Config::builder()
        .behavior_version(aws_sdk_sso::config::BehaviorVersion::latest())
        .region(aws_sdk_sso::config::Region::new(emu.region()))
        .endpoint_url(emu.url())
        .http_client(http_client());
    if !retries {
        builder = builder.retry_config(aws_sdk_sso::config::retry::RetryConfig::disabled());
    }
    aws_sdk_sso::Client::from_conf(builder.build())
}

/// Signs in (device login, auto-approved) and gets, through GetRoleCredentials, the keys of
/// permission set `role` (an index) of account `account` (an index) of the emulator's directory.
pub async fn role_credentials(
    emu: &Control,
    account: usize,
    role: usize,
) -> aws_sdk_sso::types::RoleCredentials {
    let (_, token) = device_login(emu, &[], &[]).await;
    let account = emu.directory().accounts()[account].clone();
    sso(emu, false)
        .get_role_credentials()
        .access_token(token.access_token().unwrap())
        .account_id(&account.account_id)
        .role_name(&account.roles[role])
        .send()
        .await
        .unwrap()
        .role_credentials
        .expect("GetRoleCredentials answers with keys")
}

/// An STS client for the emulator signing with `keys` (access key, secret, session token).
/// Retries off, so each call is exactly one request.
pub fn sts_with(emu: &Control, keys: (&str, &str, Option<&str>)) -> aws_sdk_sts::Client {
    let credentials = aws_sdk_sts::config::Credentials::new(
        keys.0,
        keys.1,
        keys.2.map(str::to_string),
        None,
        "test",
    );
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("eu-west-1"))
        .endpoint_url(emu.url())
        .http_client(http_client())
        .credentials_provider(credentials)
        .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

/// A registered client: (id, secret).
pub struct Registration {
    pub client_id: String,
    pub client_secret: String,
}

/// RegisterClient as the AWS CLI's device flow does it (name, type, optional scopes, and
/// grant types only when given).
pub async fn register(
    client: &aws_sdk_ssooidc::Client,
    scopes: &[&str],
    grants: &[&str],
) -> Registration {
    let mut call = client
        .register_client()
        .client_name("conformance")
        .client_type("public");
    for scope in scopes {
        call = call.scopes(*scope);
    }
    for grant in grants {
        call = call.grant_types(*grant);
    }
    let out = call.send().await.expect("RegisterClient");
    Registration {
        client_id: out.client_id().expect("clientId").to_string(),
        client_secret: out.client_secret().expect("clientSecret").to_string(),
    }
}

/// Polls CreateToken once with the device code.
pub async fn poll(
    client: &aws_sdk_ssooidc::Client,
    reg: &Registration,
    device_code: &str,
) -> Result<
    aws_sdk_ssooidc::operation::create_token::CreateTokenOutput,
    aws_sdk_ssooidc::operation::create_token::CreateTokenError,
> {
    client
        .create_token()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .grant_type(DEVICE_GRANT)
        .device_code(device_code)
        .send()
        .await
        .map_err(|e| e.into_service_error())
}

/// Starts a device authorization for the emulator's start URL: (device code, user code).
pub async fn start_device(
    client: &aws_sdk_ssooidc::Client,
    reg: &Registration,
    start_url: &str,
) -> (String, String) {
    let out = client
        .start_device_authorization()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .start_url(start_url)
        .send()
        .await
        .expect("StartDeviceAuthorization");
    (
        out.device_code().expect("deviceCode").to_string(),
        out.user_code().expect("userCode").to_string(),
    )
}

/// A full device login approved through the control API: (registration, token output).
pub async fn device_login(
    emu: &Control,
    scopes: &[&str],
    grants: &[&str],
) -> (
    Registration,
    aws_sdk_ssooidc::operation::create_token::CreateTokenOutput,
) {
    let client = oidc(emu);
    let reg = register(&client, scopes, grants).await;
    let (device_code, user_code) = start_device(&client, &reg, &emu.start_url()).await;
    emu.approve(&user_code).expect("approve");
    let token = poll(&client, &reg, &device_code)
        .await
        .expect("CreateToken");
    (reg, token)
}

/// One HTTP/1.1 response from [`http`].
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// A blocking one-shot HTTP/1.1 request (`Connection: close`) that does not follow redirects.
/// `url` is `http://127.0.0.1:PORT/path?query`; `body` is (content type, text).
pub fn http(method: &str, url: &str, body: Option<(&str, &str)>) -> HttpResponse {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut stream = TcpStream::connect(host).expect("connect");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    match body {
        Some((content_type, text)) => request.push_str(&format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        )),
        None => request.push_str("Content-Length: 0\r\n\r\n"),
    }
    stream.write_all(request.as_bytes()).expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8(raw).expect("utf-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("header end");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    HttpResponse {
        status,
        headers,
        body: body.to_string(),
    }
}

/// [`http`] from async code, off the runtime's worker threads.
pub async fn http_async(method: &str, url: &str, body: Option<(&str, &str)>) -> HttpResponse {
    let (method, url) = (method.to_string(), url.to_string());
    let body = body.map(|(t, b)| (t.to_string(), b.to_string()));
    tokio::task::spawn_blocking(move || {
        http(
            &method,
            &url,
            body.as_ref().map(|(t, b)| (t.as_str(), b.as_str())),
        )
    })
    .await
    .expect("http task")
}

/// Decodes one query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    parsed
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
