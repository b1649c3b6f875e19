//! Steering the emulator from tests and scripts: the in-process [`Control`] and the
//! `/_emulator/*` JSON endpoints that mirror it. Control calls are never delayed, throttled
//! or garbled, and are not counted in the stats.

use crate::app::App;
use crate::directory::Directory;
use crate::faults::{Faults, FaultsUpdate};
use crate::gate::GateState;
use crate::state::ControlError;
use crate::sts::Identity;
use crate::trust::TrustUpdate;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// In-process handle on a running emulator; cheap to clone.
#[derive(Debug, Clone)]
pub struct Control {
    app: Arc<App>,
}

impl Control {
    pub(crate) fn new(app: Arc<App>) -> Control {
        Control { app }
    }

    /// Base URL of the one server, e.g. `http://127.0.0.1:40123`: use it as both
    /// `AWS_ENDPOINT_URL_SSO` and `AWS_ENDPOINT_URL_SSO_OIDC`.
    pub fn url(&self) -> String {
        self.app.settings.url.clone()
    }

    /// The one start URL this instance serves.
    pub fn start_url(&self) -> String {
        self.app.settings.start_url.clone()
    }

    /// The region this instance pretends to live in.
    pub fn region(&self) -> String {
        self.app.settings.region.clone()
    }

    /// The SAML IdP's sign-in URL for the configured tenant: `{url}/{tenant}/saml2`.
    pub fn saml_idp_url(&self) -> String {
        format!(
            "{}/{}/saml2",
            self.app.settings.url, self.app.settings.saml.tenant
        )
    }

    /// The federation metadata URL of the configured tenant (the signing certificate).
    pub fn saml_metadata_url(&self) -> String {
        format!(
            "{}/{}/federationmetadata/2007-06/federationmetadata.xml",
            self.app.settings.url, self.app.settings.saml.tenant
        )
    }

    /// The clock of the SAML IdP and STS runs `seconds` ahead of real time (negative:
    /// behind): assertions are stamped, and checked, at that time.
    pub fn set_saml_clock_offset(&self, seconds: i64) {
        self.app.store().saml_clock_offset = seconds;
    }

    /// The accounts and roles the portal serves.
    pub fn directory(&self) -> &Directory {
        &self.app.settings.directory
    }

    /// Approves a pending device authorization, as the verification page's button does.
    pub fn approve(&self, user_code: &str) -> Result<(), ControlError> {
        self.app
            .store()
            .decide_device(user_code, true, Instant::now())
    }

    /// Denies a pending device authorization; polling then answers AccessDeniedException.
    pub fn deny(&self, user_code: &str) -> Result<(), ControlError> {
        self.app
            .store()
            .decide_device(user_code, false, Instant::now())
    }

    /// With auto-approve on, device codes are approved when issued and /authorize redirects
    /// at once with a code.
    pub fn set_auto_approve(&self, enabled: bool) {
        self.app.store().auto_approve = enabled;
    }

    /// User codes of device authorizations waiting for a decision, sorted.
    pub fn pending_user_codes(&self) -> Vec<String> {
        self.app.store().pending_user_codes(Instant::now())
    }

    pub fn faults(&self) -> Faults {
        self.app.faults().get()
    }

    /// Replaces all fault settings. Refused (unchanged) when a value is out of range.
    pub fn set_faults(&self, faults: Faults) -> Result<(), String> {
        faults.validate()?;
        self.app.faults().set(faults);
        Ok(())
    }

    /// Changes the fault settings given, keeps the others; returns the new settings.
    pub fn update_faults(&self, update: FaultsUpdate) -> Result<Faults, String> {
        let mut state = self.app.faults();
        let next = state.get().updated(&update)?;
        state.set(next);
        Ok(next)
    }

    /// Pending device codes, authorization requests, unredeemed authorization codes and
    /// unanswered SAML sign-in pages expire now. Returns how many.
    pub fn expire_pending(&self) -> usize {
        self.app.store().expire_pending(Instant::now())
    }

    /// Every access token expires now; refresh tokens still work. Returns how many.
    pub fn expire_access_tokens(&self) -> usize {
        self.app.store().expire_access_tokens(Instant::now())
    }

    /// Every session is revoked: access and refresh tokens stop working. Returns how many.
    pub fn revoke_all(&self) -> usize {
        self.app.store().revoke_all()
    }

    /// Requests by operation plus `throttled` and `failed`; every key present.
    /// Whose keys each successful console `getSigninToken` was given, oldest first: what a
    /// test asks to tell that a console link signs in as the role it asked for.
    pub fn federated(&self) -> Vec<Identity> {
        self.app.store().federated.clone()
    }

    /// Every start URL a client named, oldest first: `("RegisterClient", issuerUrl)` and
    /// `("StartDeviceAuthorization", startUrl)`, refused ones included — what a test asks to
    /// tell which URL went on the wire (a vanity URL's target, not the URL configured).
    pub fn start_urls_sent(&self) -> Vec<(&'static str, String)> {
        self.app.store().start_urls_sent.clone()
    }

    pub fn stats(&self) -> BTreeMap<String, u64> {
        self.app.stats.snapshot()
    }

    pub fn reset_stats(&self) {
        self.app.stats.reset();
    }

    /// The next `count` `CreateToken` calls with the refresh-token grant are held when they
    /// arrive (counted, then waiting before the refresh token is looked at) until
    /// [`Control::release_refreshes`]; 0 holds no more. To stage, without timing, which of two
    /// programs holding the same refresh token spends it first. Returns the gate's state.
    pub fn hold_refreshes(&self, count: usize) -> GateState {
        let mut gate = self.app.refresh_gate();
        gate.arm(count);
        gate.state()
    }

    /// How many refresh-token grants the gate will still hold, and how many wait now.
    pub fn refresh_gate(&self) -> GateState {
        self.app.refresh_gate().state()
    }

    /// Lets the oldest `count` held refresh-token grants (all when `None`) go on, in the order
    /// they arrived. Returns how many went.
    pub fn release_refreshes(&self, count: Option<usize>) -> usize {
        self.app.refresh_gate().release(count)
    }

    /// Gives one IAM role a new trust for STS AssumeRole (the whole of it: fields left out
    /// take their defaults), making the role if it did not exist. Refused, changing nothing,
    /// when a field is malformed. See src/trust.rs.
    pub fn set_trust(&self, update: TrustUpdate) -> Result<(), String> {
        let (role_arn, trust) = update.into_trust()?;
        self.app.store().trust.insert(role_arn, trust);
        Ok(())
    }

    /// How many chain roles (`ChainRole1`…) every account has (`--chain-roles`).
    pub fn chain_roles(&self) -> usize {
        self.app.settings.chain_roles
    }

    /// Serves `directory` from now on: the accounts and roles assigned to the user change,
    /// as when an administrator assigns or removes a permission set between two runs.
    pub fn set_directory(&self, directory: Directory) {
        self.app.settings.directory.replace(directory);
    }
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({ "error": code, "message": message.into() })),
    )
        .into_response()
}

/// Parses a control body (an empty body reads as `{}`); a bad one is answered with 400.
fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Box<Response>> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            e.to_string(),
        ))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserCodeBody {
    user_code: String,
}

async fn decide(app: Arc<App>, bytes: Bytes, approve: bool) -> Response {
    let req: UserCodeBody = match body(&bytes) {
        Ok(r) => r,
        Err(e) => return *e,
    };
    let control = Control::new(app);
    let result = if approve {
        control.approve(&req.user_code)
    } else {
        control.deny(&req.user_code)
    };
    match result {
        Ok(()) => Json(json!({
            "userCode": crate::state::normalize_user_code(&req.user_code),
            "status": if approve { "approved" } else { "denied" },
        }))
        .into_response(),
        Err(e @ ControlError::UnknownUserCode(_)) => {
            error(StatusCode::NOT_FOUND, "unknown_user_code", e.to_string())
        }
        Err(e @ ControlError::NotPending(_)) => {
            error(StatusCode::CONFLICT, "not_pending", e.to_string())
        }
    }
}

/// `POST /_emulator/approve {"userCode":"…"}`
pub async fn approve(State(app): State<Arc<App>>, bytes: Bytes) -> Response {
    decide(app, bytes, true).await
}

/// `POST /_emulator/deny {"userCode":"…"}`
pub async fn deny(State(app): State<Arc<App>>, bytes: Bytes) -> Response {
    decide(app, bytes, false).await
}

#[derive(Deserialize)]
struct AutoApproveBody {
    enabled: bool,
}

/// `POST /_emulator/auto-approve {"enabled":true}`
pub async fn auto_approve(State(app): State<Arc<App>>, bytes: Bytes) -> Response {
    match body::<AutoApproveBody>(&bytes) {
        Ok(req) => {
            Control::new(app).set_auto_approve(req.enabled);
            Json(json!({ "enabled": req.enabled })).into_response()
        }
        Err(e) => *e,
    }
}

/// `GET /_emulator/faults`: the current settings.
pub async fn get_faults(State(app): State<Arc<App>>) -> Response {
    Json(Control::new(app).faults()).into_response()
}

/// `POST /_emulator/faults {"latencyMs":…,"throttleRps":…,"errorRate":…,"garbleBodies":…}`
pub async fn set_faults(State(app): State<Arc<App>>, bytes: Bytes) -> Response {
    let update: FaultsUpdate = match body(&bytes) {
        Ok(u) => u,
        Err(e) => return *e,
    };
    match Control::new(app).update_faults(update) {
        Ok(faults) => Json(faults).into_response(),
        Err(message) => error(StatusCode::BAD_REQUEST, "invalid_request", message),
    }
}

fn count(key: &str, n: usize) -> Response {
    Json(json!({ key: n })).into_response()
}

/// `POST /_emulator/expire-pending`
pub async fn expire_pending(State(app): State<Arc<App>>) -> Response {
    count("expired", Control::new(app).expire_pending())
}

/// `POST /_emulator/expire-access-tokens`
pub async fn expire_access_tokens(State(app): State<Arc<App>>) -> Response {
    count("expired", Control::new(app).expire_access_tokens())
}

/// `POST /_emulator/revoke-all`
pub async fn revoke_all(State(app): State<Arc<App>>) -> Response {
    count("revoked", Control::new(app).revoke_all())
}

/// `GET /_emulator/stats`
pub async fn stats(State(app): State<Arc<App>>) -> Response {
    Json(Control::new(app).stats()).into_response()
}

/// `POST /_emulator/stats/reset`: zeroes the counters and answers with them.
pub async fn reset_stats(State(app): State<Arc<App>>) -> Response {
    let control = Control::new(app);
    control.reset_stats();
    Json(control.stats()).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SamlClockBody {
    offset_secs: i64,
}

/// `POST /_emulator/saml-clock {"offsetSecs":-600}`
pub async fn saml_clock(State(app): State<Arc<App>>, bytes: Bytes) -> Response {
    match body::<SamlClockBody>(&bytes) {
        Ok(req) => {
            Control::new(app).set_saml_clock_offset(req.offset_secs);
            Json(json!({ "offsetSecs": req.offset_secs })).into_response()
        }
        Err(e) => *e,
    }
}

/// `GET /_emulator/federation`: `{"signinTokens":[{"arn","account","userId"}]}`, whose keys
/// each successful getSigninToken was given, oldest first.
pub async fn federation(State(app): State<Arc<App>>) -> Response {
    let identities: Vec<Value> = Control::new(app)
        .federated()
        .into_iter()
        .map(|i| json!({ "arn": i.arn, "account": i.account, "userId": i.user_id }))
        .collect();
    Json(json!({ "signinTokens": identities })).into_response()
}

/// `GET /_emulator/pending`: `{"userCodes":[…]}`, the device codes awaiting a decision.
pub async fn pending(State(app): State<Arc<App>>) -> Response {
    let codes: Vec<Value> = Control::new(app)
        .pending_user_codes()
        .into_iter()
        .map(Value::String)
        .collect();
    Json(json!({ "userCodes": codes })).into_response()
}

/// `GET /_emulator/directory`: the directory served now, in the directory file format.
pub async fn get_directory(State(app): State<Arc<App>>) -> Response {
    Json(Control::new(app).directory()).into_response()
}

/// `POST /_emulator/directory {"accounts":[…]}` (the directory file format): serves it from
/// now on; a directory that would be refused as a file answers 400 and changes nothing.
pub async fn set_directory(State(app): State<Arc<App>>, bytes: Bytes) -> Response {
    let text = String::from_utf8_lossy(&bytes);
    match Directory::from_json(&text) {
        Ok(directory) => {
            let control = Control::new(app);
            control.set_directory(directory);
            count("accounts", control.directory().accounts().len())
        }
        Err(e) => error(StatusCode::BAD_REQUEST, "invalid_request", e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HoldBody {
    count: usize,
}

/// `POST /_emulator/hold-refreshes {"count":N}` → `{"armed":N,"held":K}`
pub async fn hold_refreshes(State(app): State<Arc<App>>, bytes: Bytes) -> Response {
    match body::<HoldBody>(&bytes) {
        Ok(req) => Json(Control::new(app).hold_refreshes(req.count)).into_response(),
        Err(e) => *e,
    }
}

/// `GET /_emulator/hold-refreshes` → `{"armed":N,"held":K}`
pub async fn get_refresh_gate(State(app): State<Arc<App>>) -> Response {
    Json(Control::new(app).refresh_gate()).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseBody {
    count: Option<usize>,
}

/// `POST /_emulator/release-refreshes [{"count":N}]` → `{"released":K}`
pub async fn release_refreshes(State(app): State<Arc<App>>, bytes: Bytes) -> Response {
    match body::<ReleaseBody>(&bytes) {
        Ok(req) => count("released", Control::new(app).release_refreshes(req.count)),
        Err(e) => *e,
    }
}

/// `POST /_emulator/trust {"roleArn","trusted":[…],"externalId","mfaSerial","mfaSeed",
/// "maxSessionDuration"}` → the same object back (without the seed); 400 and no change when a
/// field is malformed.
pub async fn set_trust(State(app): State<Arc<App>>, bytes: Bytes) -> Response {
    let update: TrustUpdate = match body(&bytes) {
        Ok(u) => u,
        Err(e) => return *e,
    };
    let answer = TrustUpdate {
        mfa_seed: None,
        max_session_duration: Some(
            update
                .max_session_duration
                .unwrap_or(crate::trust::ONE_HOUR),
        ),
        ..update.clone()
    };
    match Control::new(app).set_trust(update) {
        Ok(()) => Json(answer).into_response(),
        Err(message) => error(StatusCode::BAD_REQUEST, "invalid_request", message),
    }
}
