//! The checks of one saml-session, none of which needs a browser: the shape of `idp_url`, the
//! reply URL the sign-in listener will use (what the administrator registers in the Entra
//! application), the IdP and its federation metadata's signing certificate, the STS endpoint of
//! `sts_region`, this clock against theirs, and the last SAML failure portico met, explained
//! with its fix.

use std::net::{Ipv4Addr, TcpListener};

use base64::Engine as _;
use time::{Date, Month, OffsetDateTime, Time};

use super::clock::clock_finding_against;
use super::network::{get, probe, Budget};
use super::{split_fix, Check, Report, Status};
use crate::cache::token::format_time;
use crate::saml::{self, failure::Failure, AssertionStore};
use crate::settings::SamlSession;

/// The hosts of Entra's sign-in service: the public cloud, US Government and China.
const ENTRA_HOSTS: [&str; 3] = [
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.partner.microsoftonline.cn",
];

/// A certificate that ends sooner than this is a warning.
const CERT_WARNING: time::Duration = time::Duration::days(30);

pub(super) async fn check_saml_session(
    store: &AssertionStore,
    session: &SamlSession,
    budget: &Budget,
    report: &mut Report,
) {
    let (status, message, fix) = idp_url_shape(&session.idp_url);
    report.add(Check::SamlIdpUrl, status, message, fix);
    check_reply_url(session, report);

    let Some(limit) = budget.next() else {
        for check in [
            Check::SamlIdp,
            Check::SamlCertificate,
            Check::StsEndpoint,
            Check::Clock,
        ] {
            Budget::skip(report, check);
        }
        check_last_failure(store, session, report);
        return;
    };
    let metadata_url = metadata_url(&session.idp_url);
    let (idp, metadata, sts) = tokio::join!(
        get(&session.idp_url, limit, false),
        async {
            match &metadata_url {
                Some(url) => Some(get(url, limit, true).await),
                None => None,
            }
        },
        probe(&session.sts_endpoint, limit)
    );
    match &idp {
        Ok((status, _, _)) => report.pass(
            Check::SamlIdp,
            format!(
                "the identity provider {} answered (HTTP {status})",
                session.idp_url
            ),
        ),
        Err(detail) => report.add(
            Check::SamlIdp,
            Status::Fail,
            format!(
                "cannot reach the identity provider {}: {detail}",
                session.idp_url
            ),
            Some("check the network (proxy, firewall, VPN) and idp_url".to_string()),
        ),
    }
    match (metadata_url, metadata) {
        (Some(url), Some(answer)) => {
            let (status, message, fix) =
                certificate_finding(&url, answer, OffsetDateTime::now_utc());
            report.add(Check::SamlCertificate, status, message, fix);
        }
        _ => report.add(
            Check::SamlCertificate,
            Status::Skip,
            "not checked: idp_url does not end in /saml2, so its metadata cannot be found".into(),
            None,
        ),
    }
    match &sts {
        Ok(p) => report.pass(
            Check::StsEndpoint,
            format!(
                "the STS endpoint {} answered (HTTP {}) in {} ms",
                session.sts_endpoint,
                p.status,
                p.elapsed.as_millis()
            ),
        ),
        Err(detail) => report.add(
            Check::StsEndpoint,
            Status::Fail,
            format!("cannot reach the STS endpoint {}: {detail}", session.sts_endpoint),
            Some(format!(
                "check the network (proxy, firewall, VPN), sts_region {} of the saml-session, and AWS_ENDPOINT_URL_STS if set",
                session.sts_region
            )),
        ),
    }
    super::network::check_network(
        &[
            ("IdP", &session.idp_url, super::network::failure(&idp)),
            ("STS", &session.sts_endpoint, super::network::failure(&sts)),
        ],
        limit,
        report,
    )
    .await;
    match sts.as_ref().ok().and_then(|p| Some((p, p.date?))) {
        None => report.add(
            Check::Clock,
            Status::Skip,
            "not checked: STS gave no answer with a Date header".to_string(),
            None,
        ),
        Some((p, server)) => {
            let (status, message) = clock_finding_against(p.sent, p.received, server, "STS's");
            let fix = (status != Status::Pass).then(|| {
                "turn on time synchronisation (`sudo timedatectl set-ntp true` on Linux, \
                 Settings → Date & Time → Set automatically on macOS and Windows); a SAML \
                 assertion lives 5 minutes, and STS judges it by its own clock"
                    .to_string()
            });
            report.add(Check::Clock, status, message, fix);
        }
    }
    check_last_failure(store, session, report);
}

/// `idp_url` against Entra's `https://login.microsoftonline.com/{tenant}/saml2`, the tenant a
/// GUID or a domain.
pub(super) fn idp_url_shape(idp_url: &str) -> (Status, String, Option<String>) {
    let expected = "https://login.microsoftonline.com/{tenant}/saml2 (the tenant's ID or domain; Entra admin center → Enterprise applications → the AWS application → Single sign-on → Login URL)";
    let fail = |why: String| {
        (
            Status::Fail,
            format!("idp_url {idp_url} {why}"),
            Some(format!("set idp_url to {expected}")),
        )
    };
    let Ok(url) = url::Url::parse(idp_url) else {
        return fail("is not a URL".into());
    };
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    let loopback = matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]");
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return fail("is not https".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return fail("carries a query or fragment (portico adds SAMLRequest itself)".into());
    }
    let segments: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
    let [tenant, "saml2"] = segments.as_slice() else {
        return fail("does not end in /{tenant}/saml2".into());
    };
    if !is_guid(tenant) && !is_domain(tenant) {
        return fail(format!(
            "names the tenant {}, which is neither a GUID nor a domain",
            crate::sanitize::quoted(tenant)
        ));
    }
    if !ENTRA_HOSTS.contains(&host.as_str()) {
        return (
            Status::Warn,
            format!("idp_url {idp_url} has the shape of Entra's SAML endpoint, on {host}, which is not Entra's sign-in host"),
            Some("expected for a test IdP; otherwise set idp_url to the application's Login URL on login.microsoftonline.com".into()),
        );
    }
    (
        Status::Pass,
        format!("idp_url is Entra's SAML endpoint of tenant {tenant}"),
        None,
    )
}

fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_domain(text: &str) -> bool {
    let labels: Vec<&str> = text.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|l| l.len() >= 2 && l.bytes().all(|b| b.is_ascii_alphabetic()))
}

/// What the browser will post to, and what the administrator registers for it.
fn check_reply_url(session: &SamlSession, report: &mut Report) {
    let trust = "each role's trust policy must accept it: \"StringLike\": {\"SAML:aud\": [\"https://signin.aws.amazon.com/saml\", \"http://localhost:*/saml\"]}";
    match session.acs_port {
        None => report.pass(
            Check::SamlReplyUrl,
            format!(
                "the browser posts to {} on a free port chosen at each sign-in; the Entra application's reply URLs must include {} (Entra ignores the port of localhost), and {trust}",
                saml::acs_url(0).replace(":0", ":PORT"),
                saml::reply_url(session)
            ),
        ),
        Some(port) => {
            let reply = saml::reply_url(session);
            let message = format!(
                "the browser posts to {reply} (acs_port {port}); the Entra application's reply URLs must include exactly {reply}, and {trust}"
            );
            match TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
                Ok(_) => report.pass(Check::SamlReplyUrl, message),
                Err(e) => report.add(
                    Check::SamlReplyUrl,
                    Status::Warn,
                    format!("{message}; but port {port} cannot be taken now ({e})"),
                    Some(format!(
                        "stop the program listening on port {port}, or choose another acs_port (and register it)"
                    )),
                ),
            }
        }
    }
}

/// The federation metadata beside `…/{tenant}/saml2`.
fn metadata_url(idp_url: &str) -> Option<String> {
    let base = idp_url.trim_end_matches('/').strip_suffix("/saml2")?;
    Some(format!(
        "{base}/federationmetadata/2007-06/federationmetadata.xml"
    ))
}

/// The metadata's first signing certificate: there, and not expired (nor close to it).
fn certificate_finding(
    url: &str,
    answer: Result<(u16, Option<String>, Vec<u8>), String>,
    now: OffsetDateTime,
) -> (Status, String, Option<String>) {
    let fetch_fix = Some(
        "check idp_url; the certificate is also in the Entra application's Single sign-on page (Federation Metadata XML)".to_string(),
    );
    let body = match answer {
        Ok((200, _, body)) => body,
        Ok((status, _, _)) => {
            return (
                Status::Fail,
                format!("the federation metadata {url} answered HTTP {status}"),
                fetch_fix,
            )
        }
        Err(detail) => {
            return (
                Status::Fail,
                format!("cannot fetch the federation metadata {url}: {detail}"),
                fetch_fix,
            )
        }
    };
    let text = String::from_utf8_lossy(&body);
    let Some(not_after) = first_certificate(&text).and_then(|der| certificate_not_after(&der))
    else {
        return (
            Status::Fail,
            format!("the federation metadata {url} holds no readable X509Certificate"),
            fetch_fix,
        );
    };
    let until = format_time(not_after);
    if not_after <= now {
        (
            Status::Fail,
            format!("the IdP's signing certificate expired at {until}"),
            Some("create a new SAML signing certificate in the Entra application, then upload its Federation Metadata XML to the IAM SAML provider".into()),
        )
    } else if not_after - now < CERT_WARNING {
        (
            Status::Warn,
            format!("the IdP's signing certificate expires at {until}"),
            Some("roll the certificate over in the Entra application soon, and upload the new Federation Metadata XML to the IAM SAML provider".into()),
        )
    } else {
        (
            Status::Pass,
            format!("the IdP's signing certificate (from {url}) is valid until {until}"),
            None,
        )
    }
}

/// The DER of the first `<X509Certificate>` (any namespace prefix) in a metadata document.
fn first_certificate(xml: &str) -> Option<Vec<u8>> {
    let open = xml.find("X509Certificate>")? + "X509Certificate>".len();
    let close = open + xml[open..].find('<')?;
    let base64: String = xml[open..close].split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(base64)
        .ok()
}

/// One DER element: its tag, its contents, and what follows it.
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *input.first()?;
    let first = *input.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*input.get(2 + i)?);
        }
        (len, 2 + n)
    };
    let contents = input.get(header..header.checked_add(len)?)?;
    Some((tag, contents, &input[header + len..]))
}

/// `notAfter` of an X.509 certificate. Written by hand (a walk over five DER elements) rather
/// than with an X.509 crate: it is the one field doctor reads, and a parser would add several
/// crates to the build for it.
fn certificate_not_after(cert: &[u8]) -> Option<OffsetDateTime> {
    let (0x30, certificate, _) = der(cert)? else {
        return None;
    };
    let (0x30, tbs, _) = der(certificate)? else {
        return None;
    };
    let mut rest = tbs;
    let (tag, _, after) = der(rest)?;
    if tag == 0xa0 {
        rest = after; // [0] version
    }
    for expected in [0x02, 0x30, 0x30] {
        // serialNumber, signature, issuer
        let (tag, _, after) = der(rest)?;
        if tag != expected {
            return None;
        }
        rest = after;
    }
    let (0x30, validity, _) = der(rest)? else {
        return None;
    };
    let (_, _, after) = der(validity)?; // notBefore
    let (tag, time, _) = der(after)?;
    asn1_time(tag, std::str::from_utf8(time).ok()?)
}

/// UTCTime (`YYMMDDHHMMSSZ`, years 1950–2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`).
fn asn1_time(tag: u8, text: &str) -> Option<OffsetDateTime> {
    let digits = text.strip_suffix('Z')?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (year, rest) = match (tag, digits.len()) {
        (0x17, 12) => {
            let yy: i32 = digits[..2].parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &digits[2..])
        }
        (0x18, 14) => (digits[..4].parse().ok()?, &digits[4..]),
        _ => return None,
    };
    let n = |i: usize| rest[i..i + 2].parse::<u8>().ok();
    let date = Date::from_calendar_date(year, Month::try_from(n(0)?).ok()?, n(2)?).ok()?;
    let time = Time::from_hms(n(4)?, n(6)?, n(8)?).ok()?;
    Some(date.with_time(time).assume_utc())
}

fn check_last_failure(store: &AssertionStore, session: &SamlSession, report: &mut Report) {
    match saml::failure::last(store, session) {
        None => report.pass(
            Check::SamlFailure,
            "no SAML sign-in or STS failure recorded since keys were last obtained".to_string(),
        ),
        Some(failure) => {
            let (message, fix) = explain(session, &failure);
            report.add(Check::SamlFailure, Status::Warn, message, Some(fix));
        }
    }
}

/// The last failure in a line, and its fix: the errors users meet explained here, others with
/// the fix their message carries.
pub(super) fn explain(session: &SamlSession, failure: &Failure) -> (String, String) {
    let (what, own_fix) = split_fix(&failure.message);
    let role = failure
        .role_arn
        .as_deref()
        .map(|r| format!(" for {r}"))
        .unwrap_or_default();
    let name = &session.name;
    let message = format!(
        "the last SAML failure{role}, at {}: {what}",
        format_time(failure.at)
    );
    let fix = match failure.kind.as_str() {
        "reply-url-timeout" | "wrong-path" => format!(
            "when the browser shows AADSTS50011 (the reply URL does not match those of the application), add {} to the reply URLs of the Entra application (Single sign-on → Basic SAML Configuration → Reply URL); otherwise finish the sign-in in the browser in time",
            saml::reply_url(session)
        ),
        "AccessDenied" => "STS AccessDenied: the role's trust policy must accept the loopback recipient in SAML:aud (\"StringLike\": {\"SAML:aud\": [\"https://signin.aws.amazon.com/saml\", \"http://localhost:*/saml\"]}), and the role must be one the Entra application assigns you".to_string(),
        "InvalidIdentityToken" | "IDPRejectedClaim" => format!(
            "STS {}: upload the Entra application's current Federation Metadata XML to the IAM SAML provider (after a certificate rollover it is stale), and check that entity_id is the application's identifier",
            failure.kind
        ),
        "ExpiredTokenException" | "expired-assertion" => format!(
            "the assertion was too old when it was checked (it lives 5 minutes): check this machine's clock (the clock check above), then run `portico login --saml-session {name}`"
        ),
        "ValidationError" => "STS ValidationError on DurationSeconds: the application's SessionDuration claim exceeds the role's maximum session duration, so portico asked again with 3600 s; raise the role's MaxSessionDuration in IAM, or lower SessionDuration in the Entra application's claims".to_string(),
        "role-not-in-assertion" => format!(
            "pick a role the assertion holds (`portico list --saml-session {name}`), or ask the administrator to assign the role in the Entra application"
        ),
        _ => own_fix.unwrap_or_else(|| format!("run `portico login --saml-session {name}` again")),
    };
    (message, fix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn idp_urls_have_entras_shape() {
        let ok = |u: &str| idp_url_shape(u).0;
        assert_eq!(
            ok("https://login.microsoftonline.com/0b7d5c3e-9f3a-4b8e-9c1d-2a3b4c5d6e7f/saml2"),
            Status::Pass
        );
        assert_eq!(
            ok("https://login.microsoftonline.com/corp.example/saml2"),
            Status::Pass
        );
        assert_eq!(ok("http://127.0.0.1:4000/corp.example/saml2"), Status::Warn);
        for bad in [
            "login.microsoftonline.com/corp.example/saml2",
            "http://login.microsoftonline.com/corp.example/saml2",
            "https://login.microsoftonline.com/corp.example/saml",
            "https://login.microsoftonline.com/corp.example/saml2?x=1",
            "https://login.microsoftonline.com/corp/saml2",
            "https://login.microsoftonline.com/0b7d5c3e-9f3a/saml2",
            "https://login.microsoftonline.com/saml2",
        ] {
            let (status, message, fix) = idp_url_shape(bad);
            assert_eq!(status, Status::Fail, "{bad}: {message}");
            assert!(fix.unwrap().contains("/{tenant}/saml2"));
        }
    }

    #[test]
    fn not_after_is_read_from_der() {
        let pem = include_str!("../../tests/emulator/keys/saml-signing-cert.pem");
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let xml = format!("<md:KeyDescriptor><ds:X509Certificate>\n{body}\n</ds:X509Certificate>");
        let der = first_certificate(&xml).unwrap();
        // `openssl x509 -noout -enddate`: notAfter=Nov 26 20:01:48 2046 GMT
        assert_eq!(
            certificate_not_after(&der),
            Some(datetime!(2046-11-26 20:01:48 UTC))
        );
        assert_eq!(certificate_not_after(&der[..40]), None);
        assert_eq!(
            asn1_time(0x18, "20510102030405Z"),
            Some(datetime!(2051-01-02 03:04:05 UTC))
        );
        assert_eq!(
            asn1_time(0x17, "991231235959Z"),
            Some(datetime!(1999-12-31 23:59:59 UTC))
        );
        assert_eq!(asn1_time(0x17, "991331235959Z"), None);

        let ok = |at| certificate_finding("u", Ok((200, None, xml.clone().into_bytes())), at).0;
        assert_eq!(ok(datetime!(2026-01-01 00:00 UTC)), Status::Pass);
        assert_eq!(ok(datetime!(2046-11-10 00:00 UTC)), Status::Warn);
        assert_eq!(ok(datetime!(2046-11-27 00:00 UTC)), Status::Fail);
        let (status, _, _) = certificate_finding(
            "u",
            Ok((404, None, Vec::new())),
            datetime!(2026-01-01 00:00 UTC),
        );
        assert_eq!(status, Status::Fail);
    }

    #[test]
    fn each_failure_users_meet_is_explained() {
        let session = SamlSession {
            name: "corp".into(),
            idp_url: "https://login.microsoftonline.com/corp.example/saml2".into(),
            entity_id: "urn:amazon:webservices".into(),
            sts_region: "us-east-1".into(),
            acs_port: Some(4711),
            sts_endpoint: "https://sts.us-east-1.amazonaws.com".into(),
            storage: Default::default(),
        };
        let fix = |kind: &str| {
            explain(
                &session,
                &Failure {
                    at: datetime!(2026-01-01 00:00 UTC),
                    kind: kind.into(),
                    message: "something failed; do this".into(),
                    role_arn: None,
                },
            )
            .1
        };
        assert!(fix("reply-url-timeout").contains("AADSTS50011"));
        assert!(fix("reply-url-timeout").contains("http://localhost:4711/saml"));
        assert!(fix("AccessDenied").contains("SAML:aud"));
        assert!(fix("InvalidIdentityToken").contains("Federation Metadata XML"));
        assert!(fix("ExpiredTokenException").contains("clock"));
        assert!(fix("ValidationError").contains("3600"));
        assert_eq!(fix("relay-state"), "do this");
    }
}
