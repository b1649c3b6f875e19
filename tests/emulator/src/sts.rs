//! STS (docs/protocol.md) on `POST /`, query protocol, two operations.
//! AssumeRoleWithSAML (unsigned) checks the assertion as STS does — signature against the
//! provider's certificate, issuer, audience, times, the Recipient against the role's
//! `SAML:aud`, the role/provider pair, DurationSeconds against the role's maximum — and answers
//! XML credentials or an `ErrorResponse`. GetCallerIdentity takes a request SigV4-signed with
//! keys the emulator issued (GetRoleCredentials or AssumeRoleWithSAML), checks the signature
//! with the secret it issued, and names whose keys they are. AssumeRole (src/assume_role.rs)
//! takes such a request too.

use crate::app::{App, Service};
use crate::directory::SamlRole;
use crate::saml::{
    issuer, saml_time, string_like, ASSERTION_NS, PERSISTENT, PROTOCOL_NS, ROLE_ATTRIBUTE,
    SESSION_DURATION_ATTRIBUTE, SESSION_NAME_ATTRIBUTE, SUCCESS,
};
use crate::sigv4::{self, Refusal};
use crate::state::{random_token, RoleCredential};
use crate::stats::Counter;
use crate::wire::{form_params, request_id};
use crate::xml::{self, Element};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::Rng;
use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const VERSION: &str = "2011-06-15";
/// The audiences STS accepts in `AudienceRestriction`.
const AUDIENCES: [&str; 2] = [
    "urn:amazon:webservices",
    "https://signin.aws.amazon.com/saml",
];
/// Clock skew allowed on NotBefore.
const SKEW_SECS: i64 = 300;
/// The packed-policy budget (compressed bytes) behind PackedPolicyTooLarge.
const PACKED_POLICY_LIMIT: usize = 1024;

/// The STS errors this emulator answers: botocore's modelled ones, and those the service
/// sends outside the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StsError {
    MalformedPolicyDocument,
    PackedPolicyTooLarge,
    IdpRejectedClaim,
    InvalidIdentityToken,
    ExpiredToken,
    RegionDisabled,
    Validation,
    AccessDenied,
    InvalidAction,
    MissingParameter,
    Throttling,
    InternalFailure,
    /// A signed call's access key is not one the emulator issued, or its session token is
    /// missing or not the key's.
    InvalidClientTokenId,
    SignatureDoesNotMatch,
    /// A signed call's Authorization header lacks a part.
    IncompleteSignature,
    /// A signed call without an Authorization header.
    MissingAuthenticationToken,
    /// A signed call with keys past their expiry: 403, code `ExpiredToken`, as the SDKs see
    /// STS answer (AssumeRoleWithSAML's expired assertion is `ExpiredToken` above, code
    /// `ExpiredTokenException`, 400).
    ExpiredKeys,
}

impl StsError {
    fn parts(self) -> (StatusCode, &'static str, &'static str) {
        use StsError::*;
        let (status, code) = match self {
            MalformedPolicyDocument => (StatusCode::BAD_REQUEST, "MalformedPolicyDocument"),
            PackedPolicyTooLarge => (StatusCode::BAD_REQUEST, "PackedPolicyTooLarge"),
            IdpRejectedClaim => (StatusCode::FORBIDDEN, "IDPRejectedClaim"),
            InvalidIdentityToken => (StatusCode::BAD_REQUEST, "InvalidIdentityToken"),
            ExpiredToken => (StatusCode::BAD_REQUEST, "ExpiredTokenException"),
            RegionDisabled => (StatusCode::FORBIDDEN, "RegionDisabledException"),
            Validation => (StatusCode::BAD_REQUEST, "ValidationError"),
            AccessDenied => (StatusCode::FORBIDDEN, "AccessDenied"),
            InvalidAction => (StatusCode::BAD_REQUEST, "InvalidAction"),
            MissingParameter => (StatusCode::BAD_REQUEST, "MissingParameter"),
            Throttling => (StatusCode::BAD_REQUEST, "Throttling"),
            InternalFailure => (StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure"),
            InvalidClientTokenId => (StatusCode::FORBIDDEN, "InvalidClientTokenId"),
            SignatureDoesNotMatch => (StatusCode::FORBIDDEN, "SignatureDoesNotMatch"),
            IncompleteSignature => (StatusCode::BAD_REQUEST, "IncompleteSignature"),
            MissingAuthenticationToken => (StatusCode::FORBIDDEN, "MissingAuthenticationToken"),
            ExpiredKeys => (StatusCode::FORBIDDEN, "ExpiredToken"),
        };
        let kind = if self == InternalFailure {
            "Receiver"
        } else {
            "Sender"
        };
        (status, code, kind)
    }
}

/// An STS error answer: `<ErrorResponse>` in the STS namespace, `text/xml`.
#[derive(Debug)]
pub struct StsFailure {
    pub kind: StsError,
    pub message: String,
}

impl StsFailure {
    pub fn new(kind: StsError, message: impl Into<String>) -> StsFailure {
        StsFailure {
            kind,
            message: message.into(),
        }
    }

    fn access_denied() -> StsFailure {
        StsFailure::new(
            StsError::AccessDenied,
            "Not authorized to perform sts:AssumeRoleWithSAML",
        )
    }
}

impl IntoResponse for StsFailure {
    fn into_response(self) -> Response {
        let (status, code, kind) = self.kind.parts();
        let id = request_id();
        let body = format!(
            "<ErrorResponse xmlns=\"{STS_NS}\">\n  <Error>\n    <Type>{kind}</Type>\n    \
             <Code>{code}</Code>\n    <Message>{}</Message>\n  </Error>\n  \
             <RequestId>{id}</RequestId>\n</ErrorResponse>\n",
            xml_escape(&self.message)
        );
        xml_response(status, body.into_bytes(), &id)
    }
}

pub(crate) fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(crate) fn xml_response(status: StatusCode, body: Vec<u8>, id: &str) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(id) = HeaderValue::from_str(id) {
        headers.insert("x-amzn-RequestId", id);
    }
    response
}

/// `POST /` with a form body: the STS query protocol. AssumeRoleWithSAML and
/// GetCallerIdentity are served; another Action is `InvalidAction` (not counted).
pub async fn query(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = form_params(&body);
    let action = p.get("Action").map(String::as_str).unwrap_or_default();
    let counter = match action {
        "AssumeRoleWithSAML" => Counter::AssumeRoleWithSaml,
        "GetCallerIdentity" => Counter::GetCallerIdentity,
        "AssumeRole" => Counter::AssumeRole,
        _ => {
            return StsFailure::new(
                StsError::InvalidAction,
                format!("Could not find operation {action} for version {VERSION}"),
            )
            .into_response()
        }
    };
    if let Err(refused) = app.admit(Some(counter), Service::Sts).await {
        return refused;
    }
    if p.get("Version").map(String::as_str) != Some(VERSION) {
        return StsFailure::new(
            StsError::InvalidAction,
            format!(
                "Could not find operation {action} for version {}",
                p.get("Version")
                    .map(String::as_str)
                    .unwrap_or("NO_VERSION_SPECIFIED")
            ),
        )
        .into_response();
    }
    let id = request_id();
    let request = sigv4::Request {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or_default(),
        headers: &headers,
        body: &body,
    };
    let answer = match counter {
        Counter::GetCallerIdentity => get_caller_identity(&app, &request, &id),
        Counter::AssumeRole => {
            caller(&app, &request).and_then(|who| crate::assume_role::answer(&app, &who, &p, &id))
        }
        _ => assume_role_with_saml(&app, &p, &id),
    };
    match answer {
        Ok(body) => xml_response(StatusCode::OK, app.garbled(body.into_bytes()), &id),
        Err(failure) => failure.into_response(),
    }
}

/// Whose keys signed `request`, checked as STS checks a signed call: the Authorization header
/// complete, the access key one the emulator issued, the session token the key's, the keys
/// not expired, the date within 15 minutes, the signature made with the key's secret.
fn caller(app: &App, request: &sigv4::Request<'_>) -> Result<Caller, StsFailure> {
    let auth = sigv4::authorization(request.headers).map_err(refusal)?;
    let invalid = || {
        StsFailure::new(
            StsError::InvalidClientTokenId,
            "The security token included in the request is invalid.",
        )
    };
    let store = app.store();
    let keys = store
        .role_credentials
        .get(&auth.access_key_id)
        .ok_or_else(invalid)?;
    let token = request
        .headers
        .get("x-amz-security-token")
        .and_then(|v| v.to_str().ok());
    if token != Some(keys.session_token.as_str()) {
        return Err(invalid());
    }
    if Instant::now() >= keys.expires_at {
        return Err(StsFailure::new(
            StsError::ExpiredKeys,
            "The security token included in the request is expired",
        ));
    }
    sigv4::verify(
        &auth,
        &keys.secret_access_key,
        "sts",
        request,
        OffsetDateTime::now_utc(),
    )
    .map_err(refusal)?;
    Ok(Caller {
        identity: keys.identity.clone(),
        role_arn: keys.role_arn.clone(),
    })
}

/// Who signed a request: the session, and the IAM role it is a session of.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub identity: Identity,
    /// `arn:aws:iam::ACCOUNT:role/[PATH/]NAME`
    pub role_arn: String,
}

fn refusal(refusal: Refusal) -> StsFailure {
    match refusal {
        Refusal::Missing => StsFailure::new(
            StsError::MissingAuthenticationToken,
            "Request is missing Authentication Token",
        ),
        Refusal::Incomplete(message) => StsFailure::new(StsError::IncompleteSignature, message),
        Refusal::Mismatch(message) => StsFailure::new(StsError::SignatureDoesNotMatch, message),
    }
}

fn get_caller_identity(
    app: &App,
    request: &sigv4::Request<'_>,
    request_id: &str,
) -> Result<String, StsFailure> {
    let who = caller(app, request)?.identity;
    let e = xml_escape;
    Ok(format!(
        "<GetCallerIdentityResponse xmlns=\"{STS_NS}\">\n  <GetCallerIdentityResult>\n    \
         <Arn>{arn}</Arn>\n    <UserId>{user_id}</UserId>\n    <Account>{account}</Account>\n  \
         </GetCallerIdentityResult>\n  <ResponseMetadata>\n    \
         <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n\
         </GetCallerIdentityResponse>\n",
        arn = e(&who.arn),
        user_id = e(&who.user_id),
        account = e(&who.account),
    ))
}

/// Who holds a set of keys the emulator issued: what GetCallerIdentity answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`
    pub arn: String,
    pub account: String,
    /// `AROA…:SESSION`
    pub user_id: String,
}

impl Identity {
    /// The session named `session` (AssumeRoleWithSAML's RoleSessionName; Identity Center's
    /// user name) of the IAM role `role_arn` (`arn:aws:iam::ACCOUNT:role/[PATH/]NAME`).
    pub fn of_role(role_arn: &str, session: &str) -> Identity {
        let account = role_arn.split(':').nth(4).unwrap_or_default();
        let role_name = role_arn.rsplit('/').next().unwrap_or_default();
        Identity {
            arn: format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session}"),
            account: account.to_string(),
            user_id: format!("{}:{session}", role_id(role_arn)),
        }
    }

    /// Identity Center's keys for permission set `permission_set`: the IAM role it made in
    /// the account is `aws-reserved/sso.amazonaws.com/AWSReservedSSO_{permission set}_{16 hex
    /// digits}`, the session is the user's name.
    pub fn identity_center(account: &str, permission_set: &str, user: &str) -> Identity {
        Identity::of_role(
            &Identity::identity_center_role_arn(account, permission_set),
            user,
        )
    }

    /// The ARN of the IAM role Identity Center made in `account` for `permission_set`, path
    /// and all (what a trust policy names to trust it).
    pub fn identity_center_role_arn(account: &str, permission_set: &str) -> String {
        use sha2::{Digest, Sha256};
        let suffix = sigv4::hex(&Sha256::digest(permission_set.as_bytes())[..8]);
        format!(
            "arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com/\
             AWSReservedSSO_{permission_set}_{suffix}"
        )
    }
}

pub(crate) fn required<'a>(
    p: &'a HashMap<String, String>,
    name: &str,
) -> Result<&'a str, StsFailure> {
    p.get(name).map(String::as_str).ok_or_else(|| {
        StsFailure::new(
            StsError::MissingParameter,
            format!("The request must contain the parameter {name}"),
        )
    })
}

pub(crate) fn validation(message: impl Into<String>) -> StsFailure {
    StsFailure::new(StsError::Validation, message)
}

fn invalid_token(message: &str) -> StsFailure {
    StsFailure::new(StsError::InvalidIdentityToken, message)
}

/// DurationSeconds as given (3600 when left out), checked against the API's range.
fn duration_param(p: &HashMap<String, String>) -> Result<u64, StsFailure> {
    let Some(raw) = p.get("DurationSeconds") else {
        return Ok(3600);
    };
    let n: i64 = raw.parse().map_err(|_| {
        validation(format!(
            "1 validation error detected: Value '{raw}' at 'durationSeconds' failed to satisfy \
             constraint: Member must be a number"
        ))
    })?;
    if n < 900 {
        return Err(validation(format!(
            "1 validation error detected: Value '{n}' at 'durationSeconds' failed to satisfy \
             constraint: Member must have value greater than or equal to 900"
        )));
    }
    if n > 43200 {
        return Err(validation(format!(
            "1 validation error detected: Value '{n}' at 'durationSeconds' failed to satisfy \
             constraint: Member must have value less than or equal to 43200"
        )));
    }
    Ok(n as u64)
}

/// Policy and PolicyArns: JSON checked, and the packed size against the budget. Returns the
/// packed size in percent when a policy was given.
pub(crate) fn packed_policy(p: &HashMap<String, String>) -> Result<Option<u64>, StsFailure> {
    let arns: Vec<&String> = (1..=10)
        .filter_map(|i| p.get(&format!("PolicyArns.member.{i}.arn")))
        .collect();
    let policy = p.get("Policy");
    if policy.is_none() && arns.is_empty() {
        return Ok(None);
    }
    let mut packed = String::new();
    if let Some(policy) = policy {
        match serde_json::from_str::<serde_json::Value>(policy) {
            Ok(serde_json::Value::Object(_)) => {}
            _ => {
                return Err(StsFailure::new(
                    StsError::MalformedPolicyDocument,
                    "The policy is not in the valid JSON format.",
                ))
            }
        }
        packed.push_str(policy);
    }
    for arn in arns {
        packed.push_str(arn);
    }
    let mut encoder =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = encoder.write_all(packed.as_bytes());
    let size = encoder.finish().map_or(usize::MAX, |v| v.len());
    let percent = (size * 100).div_ceil(PACKED_POLICY_LIMIT) as u64;
    if percent > 100 {
        return Err(StsFailure::new(
            StsError::PackedPolicyTooLarge,
            format!(
                "Packed policy consumes {percent}% of allotted space, please use smaller policy \
                 for this request."
            ),
        ));
    }
    Ok(Some(percent))
}

fn parse_time(text: Option<&str>) -> Result<OffsetDateTime, StsFailure> {
    text.and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        .ok_or_else(|| invalid_token("Invalid SAML response: a time is missing or malformed"))
}

/// What a verified assertion says.
struct Claims {
    issuer: String,
    recipient: String,
    subject: String,
    subject_format: String,
    session_name: String,
    session_duration: Option<u64>,
    /// (role ARN, provider ARN) pairs.
    roles: Vec<(String, String)>,
}

fn verify_assertion(app: &App, encoded: &str, now: OffsetDateTime) -> Result<Claims, StsFailure> {
    let compact: String = encoded
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = STANDARD
        .decode(compact)
        .map_err(|_| invalid_token("Invalid SAML response: it is not base64"))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| invalid_token("Invalid SAML response: it is not UTF-8"))?;
    let root = xml::parse(&text)
        .map_err(|_| invalid_token("Invalid SAML response: it is not well-formed XML"))?;
    if root.ns != PROTOCOL_NS || root.local != "Response" {
        return Err(invalid_token("Invalid SAML response: no samlp:Response"));
    }
    let status = root
        .child(PROTOCOL_NS, "Status")
        .and_then(|s| s.child(PROTOCOL_NS, "StatusCode"))
        .and_then(|c| c.attr("Value"));
    if status != Some(SUCCESS) {
        return Err(invalid_token(
            "Invalid SAML response: its status is not Success",
        ));
    }
    let mut assertions = root.children_named(ASSERTION_NS, "Assertion");
    let assertion = assertions
        .next()
        .ok_or_else(|| invalid_token("Invalid SAML response: no assertion"))?;
    if assertions.next().is_some() {
        return Err(invalid_token(
            "Invalid SAML response: more than one assertion",
        ));
    }
    app.signer
        .verify(&root, assertion)
        .map_err(|_| invalid_token("Response signature invalid"))?;

    let issuer_text = assertion
        .child(ASSERTION_NS, "Issuer")
        .map(|i| i.text())
        .unwrap_or_default();
    if issuer_text != issuer(&app.settings.saml.tenant) {
        return Err(StsFailure::new(
            StsError::IdpRejectedClaim,
            "Issuer of the SAML assertion is not the one in the SAML provider's metadata",
        ));
    }
    let conditions = assertion
        .child(ASSERTION_NS, "Conditions")
        .ok_or_else(|| invalid_token("Invalid SAML response: no Conditions"))?;
    if parse_time(conditions.attr("NotBefore"))? > now + time::Duration::seconds(SKEW_SECS) {
        return Err(invalid_token("Response is not yet valid (NotBefore)"));
    }
    let audiences: Vec<String> = conditions
        .children_named(ASSERTION_NS, "AudienceRestriction")
        .flat_map(|r| r.children_named(ASSERTION_NS, "Audience"))
        .map(|a| a.text().trim().to_string())
        .collect();
    if !audiences.iter().any(|a| AUDIENCES.contains(&a.as_str())) {
        return Err(invalid_token(
            "Audience of the SAML assertion is not urn:amazon:webservices",
        ));
    }
    if now >= parse_time(conditions.attr("NotOnOrAfter"))? {
        return Err(StsFailure::new(
            StsError::ExpiredToken,
            "Response is expired (Conditions NotOnOrAfter)",
        ));
    }
    let subject = assertion
        .child(ASSERTION_NS, "Subject")
        .ok_or_else(|| invalid_token("Invalid SAML response: no Subject"))?;
    let name_id = subject.child(ASSERTION_NS, "NameID");
    let confirmation = subject
        .children_named(ASSERTION_NS, "SubjectConfirmation")
        .filter(|c| c.attr("Method") == Some("urn:oasis:names:tc:SAML:2.0:cm:bearer"))
        .find_map(|c| c.child(ASSERTION_NS, "SubjectConfirmationData"))
        .ok_or_else(|| invalid_token("Invalid SAML response: no bearer SubjectConfirmation"))?;
    if now >= parse_time(confirmation.attr("NotOnOrAfter"))? {
        return Err(StsFailure::new(
            StsError::ExpiredToken,
            "Token must be redeemed within 5 minutes of issuance",
        ));
    }
    let recipient = confirmation
        .attr("Recipient")
        .unwrap_or_default()
        .to_string();

    let attributes: Vec<&Element> = assertion
        .children_named(ASSERTION_NS, "AttributeStatement")
        .flat_map(|s| s.children_named(ASSERTION_NS, "Attribute"))
        .collect();
    let values = |name: &str| -> Vec<String> {
        attributes
            .iter()
            .filter(|a| a.attr("Name") == Some(name))
            .flat_map(|a| a.children_named(ASSERTION_NS, "AttributeValue"))
            .map(|v| v.text().trim().to_string())
            .collect()
    };
    let session_name = values(SESSION_NAME_ATTRIBUTE)
        .into_iter()
        .next()
        .filter(|n| {
            (2..=64).contains(&n.chars().count())
                && n.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c))
        })
        .ok_or_else(|| {
            invalid_token("RoleSessionName attribute is missing or not 2–64 of [\\w+=,.@-]")
        })?;
    let session_duration = match values(SESSION_DURATION_ATTRIBUTE).first() {
        None => None,
        Some(v) => match v.parse::<u64>() {
            Ok(d @ 900..=43200) => Some(d),
            _ => {
                return Err(invalid_token(
                    "SessionDuration attribute must be 900–43200 seconds",
                ))
            }
        },
    };
    let roles = values(ROLE_ATTRIBUTE)
        .iter()
        .filter_map(|v| {
            let (a, b) = v.split_once(',')?;
            let (a, b) = (a.trim().to_string(), b.trim().to_string());
            if a.contains(":saml-provider/") {
                Some((b, a))
            } else {
                Some((a, b))
            }
        })
        .collect();
    Ok(Claims {
        issuer: issuer_text,
        recipient,
        subject: name_id.map(|n| n.text()).unwrap_or_default(),
        subject_format: name_id
            .and_then(|n| n.attr("Format"))
            .unwrap_or("urn:oasis:names:tc:SAML:2.0:nameid-format:transient")
            .to_string(),
        session_name,
        session_duration,
        roles,
    })
}

/// `--sts-region-disabled`: STS is not activated in this region for the account of the role
/// asked for (AssumeRoleWithSAML, AssumeRole).
pub(crate) fn region_disabled(role_arn: &str) -> StsFailure {
    let account = role_arn.split(':').nth(4).unwrap_or_default();
    StsFailure::new(
        StsError::RegionDisabled,
        format!(
            "STS is not activated in this region for account:{account}. Your account \
             administrator can activate STS in this region using the IAM Console."
        ),
    )
}

/// The AROA… id of a role: fixed for its ARN.
fn role_id(role_arn: &str) -> String {
    use sha2::{Digest, Sha256};
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let hash = Sha256::digest(role_arn.as_bytes());
    let tail: String = hash
        .iter()
        .take(17)
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect();
    format!("AROA{tail}")
}

pub(crate) fn upper_token(prefix: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut rng = rand::rng();
    let tail: String = (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}{tail}")
}

fn assume_role_with_saml(
    app: &App,
    p: &HashMap<String, String>,
    request_id: &str,
) -> Result<String, StsFailure> {
    let role_arn = required(p, "RoleArn")?;
    let principal_arn = required(p, "PrincipalArn")?;
    let encoded = required(p, "SAMLAssertion")?;
    let duration = duration_param(p)?;
    let packed = packed_policy(p)?;
    let s = &app.settings.saml;
    if s.sts_region_disabled {
        return Err(region_disabled(role_arn));
    }
    let offset = app.store().saml_clock_offset;
    let now = OffsetDateTime::now_utc() + time::Duration::seconds(offset);
    let claims = verify_assertion(app, encoded, now)?;

    let role: &SamlRole = app
        .settings
        .directory
        .saml_roles()
        .iter()
        .find(|r| r.role_arn == role_arn && r.principal_arn == principal_arn)
        .ok_or_else(StsFailure::access_denied)?;
    if !claims
        .roles
        .iter()
        .any(|(r, pr)| r == role_arn && pr == principal_arn)
    {
        return Err(StsFailure::access_denied());
    }
    let patterns = role.saml_aud.as_ref().unwrap_or(&s.aud);
    if !patterns
        .iter()
        .any(|pat| string_like(pat, &claims.recipient))
    {
        return Err(StsFailure::access_denied());
    }
    if duration > role.max_session_duration {
        return Err(validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    let lifetime = claims
        .session_duration
        .map_or(duration, |d| d.min(duration));

    let identity = Identity::of_role(role_arn, &claims.session_name);
    let access_key_id = upper_token("ASIA", 16);
    let secret = random_token("", 40);
    let token = format!("IQoJb3JpZ2luX2VjE{}", random_token("", 380));
    let expires = OffsetDateTime::now_utc() + time::Duration::seconds(lifetime as i64);
    app.store().role_credentials.insert(
        access_key_id.clone(),
        RoleCredential {
            role_arn: role_arn.to_string(),
            chained: false,
            account_id: role.account_id().to_string(),
            role_name: role.role_name().to_string(),
            identity: identity.clone(),
            secret_access_key: secret.clone(),
            session_token: token.clone(),
            expires_at: Instant::now() + Duration::from_secs(lifetime),
        },
    );
    let qualifier = {
        let input = format!(
            "{}{}/{}",
            claims.issuer,
            role.account_id(),
            role.provider_name()
        );
        STANDARD.encode(ring::digest::digest(
            &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            input.as_bytes(),
        ))
    };
    let subject_type = match claims.subject_format.as_str() {
        PERSISTENT => "persistent",
        "urn:oasis:names:tc:SAML:2.0:nameid-format:transient" => "transient",
        other => other,
    };
    let packed = packed
        .map(|p| format!("\n    <PackedPolicySize>{p}</PackedPolicySize>"))
        .unwrap_or_default();
    let e = xml_escape;
    Ok(format!(
        "<AssumeRoleWithSAMLResponse xmlns=\"{STS_NS}\">\n  <AssumeRoleWithSAMLResult>\n    \
         <Audience>{audience}</Audience>\n    <AssumedRoleUser>\n      \
         <AssumedRoleId>{user_id}</AssumedRoleId>\n      \
         <Arn>{arn}</Arn>\n    \
         </AssumedRoleUser>\n    <Credentials>\n      <AccessKeyId>{access_key_id}</AccessKeyId>\n      \
         <SecretAccessKey>{secret}</SecretAccessKey>\n      <SessionToken>{token}</SessionToken>\n      \
         <Expiration>{expiration}</Expiration>\n    </Credentials>\n    \
         <Issuer>{issuer}</Issuer>\n    <NameQualifier>{qualifier}</NameQualifier>{packed}\n    \
         <Subject>{subject}</Subject>\n    <SubjectType>{subject_type}</SubjectType>\n  \
         </AssumeRoleWithSAMLResult>\n  <ResponseMetadata>\n    \
         <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n\
         </AssumeRoleWithSAMLResponse>\n",
        audience = e(&claims.recipient),
        user_id = e(&identity.user_id),
        arn = e(&identity.arn),
        expiration = saml_time(expires.replace_nanosecond(0).unwrap_or(expires)),
        issuer = e(&claims.issuer),
        subject = e(&claims.subject),
        subject_type = e(subject_type),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_shapes() {
        let (status, code, kind) = StsError::IdpRejectedClaim.parts();
        assert_eq!(
            (status.as_u16(), code, kind),
            (403, "IDPRejectedClaim", "Sender")
        );
        let (status, _, kind) = StsError::InternalFailure.parts();
        assert_eq!((status.as_u16(), kind), (500, "Receiver"));
    }

    #[test]
    fn duration_range() {
        let p = |v: &str| HashMap::from([("DurationSeconds".to_string(), v.to_string())]);
        assert_eq!(duration_param(&HashMap::new()).unwrap(), 3600);
        assert!(duration_param(&p("899")).is_err());
        assert!(duration_param(&p("43201")).is_err());
        assert_eq!(duration_param(&p("43200")).unwrap(), 43200);
    }

    #[test]
    fn role_ids_are_stable() {
        let id = role_id("arn:aws:iam::123456789012:role/Admin");
        assert_eq!(id, role_id("arn:aws:iam::123456789012:role/Admin"));
        assert_eq!(id.len(), 21);
        assert!(id.starts_with("AROA"));
    }
}
