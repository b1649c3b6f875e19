//! The Entra-like SAML identity provider of "AWS Single-Account Access" (docs/protocol.md,
//! SAML sign-in): SP-initiated sign-in at `GET /{tenant}/saml2` (HTTP-Redirect binding in, an
//! auto-submitting HTTP-POST form out), its sign-in page, reply-URL checks (AADSTS50011) and
//! the federation metadata that publishes the signing certificate.

use crate::app::App;
use crate::browser::escape;
use crate::dsig::Signer;
use crate::state::random_token;
use crate::stats::Counter;
use crate::wire::form_params;
use crate::xml;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use url::Url;

pub const PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
pub const ROLE_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/Role";
pub const SESSION_NAME_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/RoleSessionName";
pub const SESSION_DURATION_ATTRIBUTE: &str =
    "https://aws.amazon.com/SAML/Attributes/SessionDuration";
pub const PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
/// The identifier of the AWS application; `#suffix` forms name further instances.
pub const AWS_ENTITY_ID: &str = "urn:amazon:webservices";
/// The tenant served when none is given.
pub const DEFAULT_TENANT: &str = "5b1c1f6e-8e4a-4d2b-9f3c-7a6d0e2b4c81";
/// The application (client) id shown in Entra's error pages.
pub const APP_ID: &str = "0c3a7e2d-1f4b-4a96-8d5e-2b7f9c1e6a40";
/// The user the IdP signs in: NameID and RoleSessionName.
pub const DEFAULT_USER: &str = "user@corp.example";
/// The reply URLs registered when none are given.
pub const DEFAULT_REPLY_URLS: [&str; 2] = [
    "https://signin.aws.amazon.com/saml",
    "http://localhost/saml",
];
/// SubjectConfirmation lifetime: an assertion must be redeemed within 5 minutes.
pub const CONFIRMATION_TTL: i64 = 300;
/// Conditions lifetime: 70 minutes.
pub const CONDITIONS_TTL: i64 = 4200;
/// How long a sign-in page waits for its button.
const SIGNIN_PAGE_TTL: Duration = Duration::from_secs(600);

/// The SAML side's settings, fixed at start.
#[derive(Debug, Clone)]
pub struct SamlSettings {
    /// The tenant whose issuer the SAML providers trust.
    pub tenant: String,
    pub reply_urls: Vec<String>,
    /// `SAML:aud` patterns a role accepts unless it lists its own.
    pub aud: Vec<String>,
    /// The SessionDuration attribute; None leaves it out.
    pub session_duration: Option<u64>,
    pub user: String,
    /// STS answers RegionDisabledException.
    pub sts_region_disabled: bool,
}

impl Default for SamlSettings {
    fn default() -> Self {
        let reply_urls: Vec<String> = DEFAULT_REPLY_URLS.iter().map(|s| s.to_string()).collect();
        SamlSettings {
            tenant: DEFAULT_TENANT.to_string(),
            aud: default_aud(&reply_urls),
            reply_urls,
            session_duration: Some(28_800),
            user: DEFAULT_USER.to_string(),
            sts_region_disabled: false,
        }
    }
}

/// The `SAML:aud` patterns that accept every reply URL: the URLs themselves, and for a
/// port-less `http://localhost` URL also the same with `:*`, as Entra sends any port there.
pub fn default_aud(reply_urls: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for url in reply_urls {
        out.push(url.clone());
        if let Ok(u) = Url::parse(url) {
            if is_localhost(&u) && u.port().is_none() {
                out.push(format!(
                    "http://localhost:*{}",
                    &url[u.origin().ascii_serialization().len()..]
                ));
            }
        }
    }
    out
}

fn is_localhost(u: &Url) -> bool {
    u.scheme() == "http" && u.host_str() == Some("localhost")
}

/// Entra's reply-URL rule: an exact match, except that the port is ignored when the
/// registered URL is `http://localhost`; a registered URL with `*` is a wildcard pattern.
pub fn reply_url_matches(registered: &str, acs: &str) -> bool {
    if registered.contains('*') {
        return string_like(registered, acs);
    }
    let (Ok(r), Ok(a)) = (Url::parse(registered), Url::parse(acs)) else {
        return false;
    };
    if is_localhost(&r) && is_localhost(&a) {
        return r.path() == a.path() && r.query() == a.query() && a.fragment().is_none();
    }
    r == a
}

/// IAM's `StringLike`: `*` any run of characters, `?` one character, case-sensitive.
pub fn string_like(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    let (mut pi, mut vi, mut star, mut mark) = (0, 0, None, 0);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The issuer (entity id) of a tenant's assertions.
pub fn issuer(tenant: &str) -> String {
    format!("https://sts.windows.net/{tenant}/")
}

/// An instant as SAML writes it: `2026-12-01T20:00:00.123Z`.
pub fn saml_time(t: OffsetDateTime) -> String {
    let t = t
        .replace_nanosecond(t.millisecond() as u32 * 1_000_000)
        .unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_default()
}

/// A sign-in waiting on the sign-in page's button.
#[derive(Debug)]
pub struct PendingSignIn {
    tenant: String,
    request: AuthnRequest,
    relay_state: Option<String>,
    pub expires_at: Instant,
}

#[derive(Debug, Clone)]
struct AuthnRequest {
    id: String,
    acs: String,
    audience: String,
}

/// An Entra error page: the AADSTS code and message, status 400 as Entra answers.
fn entra_error(code: &str, message: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in to your account</title></head>\
         <body><h1>Sorry, but we’re having trouble signing you in.</h1>\n\
         <p id=\"error\">{code}: {message}</p></body></html>\n",
        code = escape(code),
        message = escape(message),
    );
    (StatusCode::BAD_REQUEST, Html(html)).into_response()
}

/// Decodes `SAMLRequest` (base64 of raw DEFLATE) into the parts the IdP uses.
fn decode_request(
    settings: &SamlSettings,
    tenant: &str,
    encoded: &str,
) -> Result<AuthnRequest, (&'static str, String)> {
    let invalid = || {
        (
            "AADSTS75005",
            "The request is not a valid Saml2 protocol message.".to_string(),
        )
    };
    let compressed = STANDARD.decode(encoded.trim()).map_err(|_| invalid())?;
    let mut text = String::new();
    flate2::read::DeflateDecoder::new(compressed.as_slice())
        .take(1 << 20)
        .read_to_string(&mut text)
        .map_err(|_| invalid())?;
    let root = xml::parse(&text).map_err(|_| invalid())?;
    if root.ns != PROTOCOL_NS || root.local != "AuthnRequest" || root.attr("Version") != Some("2.0")
    {
        return Err(invalid());
    }
    let id = root.attr("ID").unwrap_or_default().to_string();
    if !id.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return Err(invalid());
    }
    let entity = root
        .child(ASSERTION_NS, "Issuer")
        .map(|i| i.text().trim().to_string())
        .unwrap_or_default();
    let audience = entity.split('#').next().unwrap_or_default().to_string();
    if audience != AWS_ENTITY_ID {
        return Err((
            "AADSTS700016",
            format!(
                "Application with identifier '{entity}' was not found in the directory '{tenant}'."
            ),
        ));
    }
    let acs = match root.attr("AssertionConsumerServiceURL") {
        Some(acs) => acs.to_string(),
        None => settings.reply_urls.first().cloned().unwrap_or_default(),
    };
    if !settings
        .reply_urls
        .iter()
        .any(|r| reply_url_matches(r, &acs))
    {
        return Err((
            "AADSTS50011",
            format!(
                "The reply URL '{acs}' specified in the request does not match the reply URLs \
                 configured for the application: '{APP_ID}'."
            ),
        ));
    }
    Ok(AuthnRequest { id, acs, audience })
}

/// `GET /{tenant}/saml2?SAMLRequest=…&RelayState=…`: signs the user in (at once with
/// auto-approve, else after the sign-in page's button) and answers the auto-posting form.
pub async fn sign_in(
    State(app): State<Arc<App>>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    app.stats.bump(Counter::SamlSignIn);
    let p = form_params(query.unwrap_or_default().as_bytes());
    let Some(encoded) = p.get("SAMLRequest") else {
        return entra_error(
            "AADSTS750054",
            "SAMLRequest or SAMLResponse must be present as query string parameters in HTTP \
             request for SAML Redirect binding.",
        );
    };
    let request = match decode_request(&app.settings.saml, &tenant, encoded) {
        Ok(r) => r,
        Err((code, message)) => return entra_error(code, &message),
    };
    let relay_state = p.get("RelayState").cloned();
    let mut store = app.store();
    if store.auto_approve {
        let offset = store.saml_clock_offset;
        drop(store);
        return response_form(&app, &tenant, &request, relay_state.as_deref(), offset);
    }
    let id = random_token("", 32);
    store.saml_sign_ins.insert(
        id.clone(),
        PendingSignIn {
            tenant: tenant.clone(),
            request,
            relay_state,
            expires_at: Instant::now() + SIGNIN_PAGE_TTL,
        },
    );
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in to your account</title></head>\
         <body><h1>Sign in</h1>\n<p>Sign in as <b>{user}</b> to <b>AWS Single-Account Access</b>?</p>\
         <form method=\"post\" action=\"/{tenant}/saml2\">\
         <input type=\"hidden\" name=\"request_id\" value=\"{id}\">\
         <button name=\"decision\" value=\"approve\">Sign in</button>\
         <button name=\"decision\" value=\"deny\">Cancel</button></form></body></html>\n",
        user = escape(&app.settings.saml.user),
        tenant = escape(&tenant),
    );
    (StatusCode::OK, Html(html)).into_response()
}

/// `POST /{tenant}/saml2` (form `request_id`, `decision=approve|deny`): the sign-in page's
/// buttons. Approve answers the auto-posting form; cancel shows AADSTS50058-like text.
pub async fn sign_in_decision(
    State(app): State<Arc<App>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    let p = form_params(&body);
    let id = p.get("request_id").map(String::as_str).unwrap_or_default();
    let mut store = app.store();
    let pending = match store.saml_sign_ins.remove(id) {
        Some(s) if s.tenant == tenant && Instant::now() < s.expires_at => s,
        _ => {
            return entra_error(
                "AADSTS90014",
                "The sign-in request is unknown, expired or was already answered.",
            )
        }
    };
    let offset = store.saml_clock_offset;
    drop(store);
    match p.get("decision").map(String::as_str) {
        Some("approve") => response_form(
            &app,
            &tenant,
            &pending.request,
            pending.relay_state.as_deref(),
            offset,
        ),
        _ => entra_error("AADSTS50058", "The user cancelled the sign-in."),
    }
}

/// The HTML Entra answers: a form posting SAMLResponse (and RelayState) to the ACS URL,
/// submitted by script at once.
fn response_form(
    app: &App,
    tenant: &str,
    request: &AuthnRequest,
    relay_state: Option<&str>,
    clock_offset: i64,
) -> Response {
    let now = OffsetDateTime::now_utc() + time::Duration::seconds(clock_offset);
    let xml = signed_response(app, tenant, request, now);
    let relay = relay_state
        .map(|r| {
            format!(
                "<input type=\"hidden\" name=\"RelayState\" value=\"{}\" />",
                escape(r)
            )
        })
        .unwrap_or_default();
    let html = format!(
        "<html><head><title>Working...</title></head><body>\
         <form method=\"POST\" name=\"hiddenform\" action=\"{acs}\">\
         <input type=\"hidden\" name=\"SAMLResponse\" value=\"{response}\" />{relay}\
         <noscript><p>Script is disabled. Click Submit to continue.</p>\
         <input type=\"submit\" value=\"Submit\" /></noscript></form>\
         <script language=\"javascript\">window.setTimeout(function(){{document.forms[0].submit();}}, 0);</script>\
         </body></html>",
        acs = escape(&request.acs),
        response = STANDARD.encode(xml.as_bytes()),
    );
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Html(html),
    )
        .into_response()
}

fn saml_id() -> String {
    let b: [u8; 16] = rand::random();
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "_{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The signed `samlp:Response` XML, laid out as Entra lays it out.
fn signed_response(app: &App, tenant: &str, request: &AuthnRequest, now: OffsetDateTime) -> String {
    let s = &app.settings.saml;
    let t = |secs: i64| saml_time(now + time::Duration::seconds(secs));
    let (response_id, assertion_id) = (saml_id(), saml_id());
    let issuer = escape(&issuer(tenant));
    let roles: String = app
        .settings
        .directory
        .saml_roles()
        .iter()
        .map(|r| {
            format!(
                "<AttributeValue>{},{}</AttributeValue>",
                escape(&r.role_arn),
                escape(&r.principal_arn)
            )
        })
        .collect();
    let duration = s
        .session_duration
        .map(|d| {
            format!(
                "<Attribute Name=\"{SESSION_DURATION_ATTRIBUTE}\"><AttributeValue>{d}</AttributeValue></Attribute>"
            )
        })
        .unwrap_or_default();
    let user = escape(&s.user);
    let doc = format!(
        "<samlp:Response ID=\"{response_id}\" Version=\"2.0\" IssueInstant=\"{now}\" \
         Destination=\"{acs}\" InResponseTo=\"{req}\" xmlns:samlp=\"{PROTOCOL_NS}\">\
         <Issuer xmlns=\"{ASSERTION_NS}\">{issuer}</Issuer>\
         <samlp:Status><samlp:StatusCode Value=\"{SUCCESS}\"/></samlp:Status>\
         <Assertion ID=\"{assertion_id}\" IssueInstant=\"{now}\" Version=\"2.0\" xmlns=\"{ASSERTION_NS}\">\
         <Issuer>{issuer}</Issuer><!--signature-->\
         <Subject><NameID Format=\"{PERSISTENT}\">{user}</NameID>\
         <SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\">\
         <SubjectConfirmationData InResponseTo=\"{req}\" NotOnOrAfter=\"{confirm}\" Recipient=\"{acs}\"/>\
         </SubjectConfirmation></Subject>\
         <Conditions NotBefore=\"{before}\" NotOnOrAfter=\"{after}\">\
         <AudienceRestriction><Audience>{audience}</Audience></AudienceRestriction></Conditions>\
         <AttributeStatement>\
         <Attribute Name=\"http://schemas.microsoft.com/identity/claims/tenantid\"><AttributeValue>{tenant_x}</AttributeValue></Attribute>\
         <Attribute Name=\"{ROLE_ATTRIBUTE}\">{roles}</Attribute>\
         <Attribute Name=\"{SESSION_NAME_ATTRIBUTE}\"><AttributeValue>{user}</AttributeValue></Attribute>\
         {duration}</AttributeStatement>\
         <AuthnStatement AuthnInstant=\"{now}\" SessionIndex=\"{assertion_id}\"><AuthnContext>\
         <AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</AuthnContextClassRef>\
         </AuthnContext></AuthnStatement></Assertion></samlp:Response>",
        now = t(0),
        confirm = t(CONFIRMATION_TTL),
        before = t(-300),
        after = t(CONDITIONS_TTL),
        acs = escape(&request.acs),
        req = escape(&request.id),
        audience = escape(&request.audience),
        tenant_x = escape(tenant),
    );
    app.signer.sign(&doc, &assertion_id)
}

/// `GET /{tenant}/federationmetadata/2007-06/federationmetadata.xml[?appid=…]`: the entity
/// descriptor with the signing certificate, as uploaded to IAM for the SAML provider.
pub async fn metadata(State(app): State<Arc<App>>, Path(tenant): Path<String>) -> Response {
    let body = metadata_xml(&app.signer, &app.settings.url, &tenant);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

fn metadata_xml(signer: &Signer, base: &str, tenant: &str) -> String {
    let sso = escape(&format!("{base}/{tenant}/saml2"));
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
         <EntityDescriptor ID=\"{id}\" entityID=\"{issuer}\" xmlns=\"urn:oasis:names:tc:SAML:2.0:metadata\">\
         <IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\
         <KeyDescriptor use=\"signing\"><KeyInfo xmlns=\"http://www.w3.org/2000/09/xmldsig#\">\
         <X509Data><X509Certificate>{cert}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>\
         <SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{sso}\"/>\
         <SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{sso}\"/>\
         <SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"{sso}\"/>\
         </IDPSSODescriptor></EntityDescriptor>",
        id = saml_id(),
        issuer = escape(&issuer(tenant)),
        cert = signer.cert_base64(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_reply_urls_ignore_the_port() {
        assert!(reply_url_matches(
            "http://localhost/saml",
            "http://localhost:54321/saml"
        ));
        assert!(reply_url_matches(
            "http://localhost:8400/saml",
            "http://localhost:1/saml"
        ));
        assert!(!reply_url_matches(
            "http://localhost/saml",
            "http://localhost:5/other"
        ));
        assert!(!reply_url_matches(
            "http://localhost/saml",
            "http://127.0.0.1:5/saml"
        ));
        assert!(reply_url_matches(
            "https://signin.aws.amazon.com/saml",
            "https://signin.aws.amazon.com/saml"
        ));
        assert!(!reply_url_matches(
            "https://signin.aws.amazon.com/saml",
            "https://signin.aws.amazon.com:8443/saml"
        ));
        assert!(reply_url_matches(
            "https://*.example.com/saml",
            "https://a.example.com/saml"
        ));
        assert!(!reply_url_matches(
            "https://*.example.com/saml",
            "https://a.example.org/saml"
        ));
    }

    #[test]
    fn string_like_globs() {
        assert!(string_like(
            "http://localhost:*/saml",
            "http://localhost:4242/saml"
        ));
        assert!(!string_like(
            "http://localhost:*/saml",
            "http://localhost/saml"
        ));
        assert!(string_like("a?c", "abc"));
        assert!(!string_like("a?c", "ac"));
        assert!(string_like("*", ""));
        assert!(!string_like("abc", "abcd"));
    }

    #[test]
    fn default_aud_widens_a_portless_localhost() {
        let aud = default_aud(&[
            "https://signin.aws.amazon.com/saml".into(),
            "http://localhost/saml".into(),
        ]);
        assert_eq!(
            aud,
            [
                "https://signin.aws.amazon.com/saml",
                "http://localhost/saml",
                "http://localhost:*/saml"
            ]
        );
    }

    #[test]
    fn times_have_milliseconds() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        assert_eq!(saml_time(t), "2023-11-14T22:13:20.123Z");
    }
}
