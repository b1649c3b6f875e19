//! Everything the emulator remembers: client registrations, device and authorization-code
//! grants in flight, sign-in sessions with their access and refresh tokens, role credentials
//! and console sign-in tokens — and the control operations that change them from outside.

use crate::directory::LiveDirectory;
use crate::saml::{PendingSignIn, SamlSettings};
use rand::distr::{Alphanumeric, SampleString};
use rand::Rng;
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a client registration lives, as live: about 90 days.
pub const REGISTRATION_TTL: Duration = Duration::from_secs(90 * 24 * 3600);
/// Device authorizations expire after 10 minutes, as live.
pub const DEVICE_CODE_TTL: Duration = Duration::from_secs(600);
/// The polling interval handed out with a device authorization, as live.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How long an /authorize consent page and its authorization code stay usable.
pub const AUTHORIZATION_TTL: Duration = Duration::from_secs(600);
/// Console sign-in tokens are valid for 15 minutes.
pub const SIGNIN_TOKEN_TTL: Duration = Duration::from_secs(900);
/// Access token lifetime without a refresh token (live: 8 hours).
pub const ACCESS_TOKEN_TTL: u64 = 28_800;
/// Access token lifetime when a refresh token comes with it (live: 1 hour).
pub const ACCESS_TOKEN_TTL_WITH_REFRESH: u64 = 3_600;
/// The scope that grants portal access; needed (with the refresh_token grant) for refresh tokens.
pub const PORTAL_SCOPE: &str = "sso:account:access";

/// What the emulator serves, fixed at start (the directory may be replaced by a control call).
#[derive(Debug)]
pub struct Settings {
    pub url: String,
    pub start_url: String,
    pub region: String,
    pub access_token_ttl: Option<u64>,
    pub role_credential_ttl: u64,
    /// `--chain-roles N`: every account has the IAM roles ChainRole1…ChainRoleN.
    pub chain_roles: usize,
    pub directory: LiveDirectory,
    pub saml: SamlSettings,
}

/// Seconds since the Unix epoch.
pub fn epoch_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Milliseconds since the Unix epoch.
pub fn epoch_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// An opaque random token: `prefix` followed by `len` alphanumerics.
pub fn random_token(prefix: &str, len: usize) -> String {
    format!(
        "{prefix}{}",
        Alphanumeric.sample_string(&mut rand::rng(), len)
    )
}

fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// A user code like `BXKT-QWRD` (consonants only, so no words and no 0/O confusion).
fn new_user_code() -> String {
    const LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    format!("{}-{}", random_from(LETTERS, 4), random_from(LETTERS, 4))
}

/// Accepts a user code as typed: any case, with or without the dash, spaces ignored.
pub fn normalize_user_code(code: &str) -> String {
    let letters: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if letters.len() == 8 {
        format!("{}-{}", &letters[..4], &letters[4..])
    } else {
        letters
    }
}

/// A start URL compared the way users write it: no fragment, no trailing slash, any case.
pub fn same_start_url(a: &str, b: &str) -> bool {
    fn norm(s: &str) -> String {
        let s = s.split('#').next().unwrap_or(s).trim();
        s.trim_end_matches('/').to_ascii_lowercase()
    }
    norm(a) == norm(b)
}

/// The OAuth grants a client can register for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    DeviceCode,
    AuthorizationCode,
    RefreshToken,
}

impl Grant {
    pub fn parse(s: &str) -> Option<Grant> {
        match s {
            "urn:ietf:params:oauth:grant-type:device_code" => Some(Grant::DeviceCode),
            "authorization_code" => Some(Grant::AuthorizationCode),
            "refresh_token" => Some(Grant::RefreshToken),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub struct Client {
    pub secret: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub grants: Vec<Grant>,
    pub redirect_uris: Vec<String>,
    pub expires_at: Instant,
}

impl Client {
    /// Refresh tokens go only to clients registered with the portal scope and the
    /// refresh_token grant.
    pub fn gets_refresh_tokens(&self) -> bool {
        self.scopes.iter().any(|s| s == PORTAL_SCOPE) && self.grants.contains(&Grant::RefreshToken)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    Pending,
    Approved,
    Denied,
    Redeemed,
}

#[derive(Debug)]
pub struct DeviceAuthorization {
    pub client_id: String,
    pub user_code: String,
    pub status: DeviceStatus,
    pub expires_at: Instant,
    pub last_poll: Option<Instant>,
}

/// An /authorize request waiting on the consent page.
#[derive(Debug)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub code_challenge: String,
    pub expires_at: Instant,
    pub decided: bool,
}

/// An issued authorization code, removed when redeemed.
#[derive(Debug)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub expires_at: Instant,
}

/// One sign-in: the access and refresh tokens descended from one grant.
#[derive(Debug)]
pub struct Session {
    pub revoked: bool,
}

#[derive(Debug)]
pub struct AccessToken {
    pub session: usize,
    pub expires_at: Instant,
}

#[derive(Debug)]
pub struct RefreshToken {
    pub session: usize,
    pub client_id: String,
    pub spent: bool,
}

#[derive(Debug)]
pub struct RoleCredential {
    /// The IAM role these keys are a session of: `arn:aws:iam::ACCOUNT:role/[PATH/]NAME`.
    pub role_arn: String,
    /// Keys AssumeRole gave a role session (role chaining): the console federation endpoint
    /// refuses a `SessionDuration` with them.
    pub chained: bool,
    pub account_id: String,
    pub role_name: String,
    /// Whose keys these are, as GetCallerIdentity names them.
    pub identity: crate::sts::Identity,
    pub secret_access_key: String,
    pub session_token: String,
    pub expires_at: Instant,
}

#[derive(Debug)]
pub struct SigninToken {
    pub account_id: String,
    pub role_name: String,
    pub identity: crate::sts::Identity,
    pub expires_at: Instant,
    pub used: bool,
}

/// Tokens handed out by CreateToken.
#[derive(Debug)]
pub struct IssuedTokens {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: Option<String>,
}

/// Why a control operation was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlError {
    /// No device authorization has this user code.
    UnknownUserCode(String),
    /// The code was already denied (or approved), redeemed, or has expired.
    NotPending(String),
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlError::UnknownUserCode(c) => {
                write!(f, "no device authorization has user code {c}")
            }
            ControlError::NotPending(c) => write!(
                f,
                "the device authorization {c} is no longer pending (decided, redeemed or expired)"
            ),
        }
    }
}

impl std::error::Error for ControlError {}

#[derive(Debug, Default)]
pub struct Store {
    pub clients: HashMap<String, Client>,
    /// By device code.
    pub devices: HashMap<String, DeviceAuthorization>,
    /// User code → device code.
    pub user_codes: HashMap<String, String>,
    /// By request id (the hidden field of the consent page).
    pub auth_requests: HashMap<String, AuthRequest>,
    pub auth_codes: HashMap<String, AuthCode>,
    pub sessions: Vec<Session>,
    pub access_tokens: HashMap<String, AccessToken>,
    pub refresh_tokens: HashMap<String, RefreshToken>,
    /// By access key id.
    pub role_credentials: HashMap<String, RoleCredential>,
    pub signin_tokens: HashMap<String, SigninToken>,
    /// Whose keys each getSigninToken that succeeded was given, oldest first.
    pub federated: Vec<crate::sts::Identity>,
    /// Every start URL a client named, oldest first, with the operation: RegisterClient's
    /// `issuerUrl`, StartDeviceAuthorization's `startUrl` (refused ones too).
    pub start_urls_sent: Vec<(&'static str, String)>,
    pub auto_approve: bool,
    /// SAML sign-ins waiting on the sign-in page, by request id (its hidden field).
    pub saml_sign_ins: HashMap<String, PendingSignIn>,
    /// Seconds added to the clock of the SAML IdP and STS (negative: the past).
    pub saml_clock_offset: i64,
    /// Trust policies set by `POST /_emulator/trust`, by role ARN; they replace a chain role's
    /// default trust, or make a role that did not exist.
    pub trust: HashMap<String, crate::trust::Trust>,
    /// (MFA serial, TOTP step) of every MFA code AssumeRole accepted: IAM takes a code once.
    pub mfa_used: std::collections::HashSet<(String, u64)>,
}

impl Store {
    /// Starts a device authorization; approved at once when auto-approve is on.
    pub fn new_device_authorization(&mut self, client_id: &str, now: Instant) -> (String, String) {
        let device_code = random_token("", 64);
        let user_code = loop {
            let code = new_user_code();
            if !self.user_codes.contains_key(&code) {
                break code;
            }
        };
        let status = if self.auto_approve {
            DeviceStatus::Approved
        } else {
            DeviceStatus::Pending
        };
        self.devices.insert(
            device_code.clone(),
            DeviceAuthorization {
                client_id: client_id.to_string(),
                user_code: user_code.clone(),
                status,
                expires_at: now + DEVICE_CODE_TTL,
                last_poll: None,
            },
        );
        self.user_codes
            .insert(user_code.clone(), device_code.clone());
        (device_code, user_code)
    }

    /// Issues a one-time authorization code bound to the client, the exact redirect URI
    /// (with its port) and the PKCE challenge.
    pub fn new_auth_code(
        &mut self,
        client_id: &str,
        redirect_uri: &str,
        code_challenge: &str,
        now: Instant,
    ) -> String {
        let code = random_token("", 64);
        self.auth_codes.insert(
            code.clone(),
            AuthCode {
                client_id: client_id.to_string(),
                redirect_uri: redirect_uri.to_string(),
                code_challenge: code_challenge.to_string(),
                expires_at: now + AUTHORIZATION_TTL,
            },
        );
        code
    }

    pub fn device_by_user_code(&mut self, user_code: &str) -> Option<&mut DeviceAuthorization> {
        let device_code = self.user_codes.get(&normalize_user_code(user_code))?;
        self.devices.get_mut(device_code)
    }

    /// Approves or denies a pending device authorization, as the verification page does.
    /// Repeating the same decision is harmless.
    pub fn decide_device(
        &mut self,
        user_code: &str,
        approve: bool,
        now: Instant,
    ) -> Result<(), ControlError> {
        let shown = normalize_user_code(user_code);
        let device = self
            .device_by_user_code(user_code)
            .ok_or_else(|| ControlError::UnknownUserCode(shown.clone()))?;
        let wanted = if approve {
            DeviceStatus::Approved
        } else {
            DeviceStatus::Denied
        };
        if device.status == wanted {
            return Ok(());
        }
        if device.status != DeviceStatus::Pending || now >= device.expires_at {
            return Err(ControlError::NotPending(shown));
        }
        device.status = wanted;
        Ok(())
    }

    /// User codes still waiting for a decision, oldest first is not guaranteed.
    pub fn pending_user_codes(&self, now: Instant) -> Vec<String> {
        let mut codes: Vec<String> = self
            .devices
            .values()
            .filter(|d| d.status == DeviceStatus::Pending && now < d.expires_at)
            .map(|d| d.user_code.clone())
            .collect();
        codes.sort();
        codes
    }

    /// Device codes not yet redeemed, authorization requests not yet decided, codes not yet
    /// redeemed and SAML sign-in pages not yet answered all expire now. Returns how many.
    pub fn expire_pending(&mut self, now: Instant) -> usize {
        let mut n = 0;
        for d in self.devices.values_mut() {
            if matches!(d.status, DeviceStatus::Pending | DeviceStatus::Approved)
                && now < d.expires_at
            {
                d.expires_at = now;
                n += 1;
            }
        }
        for r in self.auth_requests.values_mut() {
            if !r.decided && now < r.expires_at {
                r.expires_at = now;
                n += 1;
            }
        }
        for c in self.auth_codes.values_mut() {
            if now < c.expires_at {
                c.expires_at = now;
                n += 1;
            }
        }
        for s in self.saml_sign_ins.values_mut() {
            if now < s.expires_at {
                s.expires_at = now;
                n += 1;
            }
        }
        n
    }

    /// Every live access token expires now; refresh tokens keep working.
    pub fn expire_access_tokens(&mut self, now: Instant) -> usize {
        let mut n = 0;
        for t in self.access_tokens.values_mut() {
            if now < t.expires_at {
                t.expires_at = now;
                n += 1;
            }
        }
        n
    }

    /// Every session ends, as a sign-out everywhere would: access and refresh tokens die.
    pub fn revoke_all(&mut self) -> usize {
        let mut n = 0;
        for s in &mut self.sessions {
            if !s.revoked {
                s.revoked = true;
                n += 1;
            }
        }
        n
    }

    /// Opens a session for `client_id` and issues its first tokens.
    pub fn issue_new_session(
        &mut self,
        client_id: &str,
        now: Instant,
        settings: &Settings,
    ) -> IssuedTokens {
        self.sessions.push(Session { revoked: false });
        let session = self.sessions.len() - 1;
        self.issue_tokens(session, client_id, now, settings)
    }

    /// A new access token (and a refresh token when the client gets them) in `session`.
    pub fn issue_tokens(
        &mut self,
        session: usize,
        client_id: &str,
        now: Instant,
        settings: &Settings,
    ) -> IssuedTokens {
        let refresh = self
            .clients
            .get(client_id)
            .is_some_and(Client::gets_refresh_tokens);
        let expires_in = settings.access_token_ttl.unwrap_or(if refresh {
            ACCESS_TOKEN_TTL_WITH_REFRESH
        } else {
            ACCESS_TOKEN_TTL
        });
        let access_token = random_token("aoa", 120);
        self.access_tokens.insert(
            access_token.clone(),
            AccessToken {
                session,
                expires_at: now + Duration::from_secs(expires_in),
            },
        );
        let refresh_token = refresh.then(|| {
            let token = random_token("aor", 120);
            self.refresh_tokens.insert(
                token.clone(),
                RefreshToken {
                    session,
                    client_id: client_id.to_string(),
                    spent: false,
                },
            );
            token
        });
        IssuedTokens {
            access_token,
            expires_in,
            refresh_token,
        }
    }

    /// The session of a usable access token: known, unexpired, not logged out.
    pub fn session_of(&self, access_token: &str, now: Instant) -> Option<usize> {
        let token = self.access_tokens.get(access_token)?;
        let live =
            now < token.expires_at && self.sessions.get(token.session).is_some_and(|s| !s.revoked);
        live.then_some(token.session)
    }

    /// Ends a session: its access tokens and refresh tokens stop working.
    pub fn end_session(&mut self, session: usize) {
        if let Some(s) = self.sessions.get_mut(session) {
            s.revoked = true;
        }
    }

    pub fn session_revoked(&self, session: usize) -> bool {
        self.sessions.get(session).is_none_or(|s| s.revoked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            url: "http://127.0.0.1:1".into(),
            start_url: "https://d-0000000000.awsapps.com/start".into(),
            region: "us-east-1".into(),
            access_token_ttl: None,
            role_credential_ttl: 3600,
            chain_roles: 0,
            directory: LiveDirectory::new(crate::directory::Directory::default()),
            saml: SamlSettings::default(),
        }
    }

    #[test]
    fn user_codes_normalize() {
        assert_eq!(normalize_user_code("bxkt qwrd"), "BXKT-QWRD");
        assert_eq!(normalize_user_code("BXKT-QWRD"), "BXKT-QWRD");
        let code = new_user_code();
        assert_eq!(normalize_user_code(&code), code);
    }

    #[test]
    fn start_urls_compare_loosely() {
        assert!(same_start_url(
            "https://d-0000000000.awsapps.com/start/#/",
            "https://d-0000000000.awsapps.com/start"
        ));
        assert!(!same_start_url(
            "https://d-1111111111.awsapps.com/start",
            "https://d-0000000000.awsapps.com/start"
        ));
    }

    #[test]
    fn device_decisions() {
        let mut store = Store::default();
        let now = Instant::now();
        let (_, user) = store.new_device_authorization("c", now);
        assert_eq!(store.pending_user_codes(now), vec![user.clone()]);
        assert!(store.decide_device("NOPE-NOPE", true, now).is_err());
        store
            .decide_device(&user.to_lowercase(), false, now)
            .unwrap();
        assert_eq!(
            store.decide_device(&user, true, now),
            Err(ControlError::NotPending(user.clone()))
        );
        assert!(store.pending_user_codes(now).is_empty());
    }

    #[test]
    fn sessions_end_and_tokens_expire() {
        let mut store = Store::default();
        let now = Instant::now();
        let s = settings();
        let issued = store.issue_new_session("c", now, &s);
        assert_eq!(issued.expires_in, ACCESS_TOKEN_TTL);
        assert!(issued.refresh_token.is_none());
        assert!(store.session_of(&issued.access_token, now).is_some());
        assert_eq!(store.expire_access_tokens(now), 1);
        assert!(store.session_of(&issued.access_token, now).is_none());
        let again = store.issue_new_session("c", now, &s);
        assert_eq!(store.revoke_all(), 2);
        assert!(store.session_of(&again.access_token, now).is_none());
    }
}
