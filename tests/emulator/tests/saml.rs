//! The SAML IdP (`/{tenant}/saml2`, federation metadata) and STS AssumeRoleWithSAML on
//! `POST /`, over real HTTP: reply-URL rules (AADSTS50011, the localhost port rule), `#suffix`
//! identifiers, the sign-in page, STS's checks and answers, faults and stats.

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::*;
use idc_emulator::{Config, Control, Faults, SamlSettings, DEFAULT_TENANT};
use std::io::Write;

const ISSUER: &str = "urn:amazon:webservices";

fn auto() -> Config {
    Config {
        auto_approve: true,
        ..Config::default()
    }
}

/// The query of an SP-initiated sign-in: SAMLRequest = base64(raw DEFLATE(AuthnRequest)).
fn saml_query(issuer: &str, acs: Option<&str>, relay: &str) -> String {
    let acs = acs
        .map(|a| format!(" AssertionConsumerServiceURL=\"{a}\""))
        .unwrap_or_default();
    let xml = format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"id42\" \
         Version=\"2.0\" IssueInstant=\"2026-12-01T20:00:00Z\"{acs}><saml:Issuer \
         xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">{issuer}</saml:Issuer>\
         </samlp:AuthnRequest>"
    );
    let mut deflate =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    deflate.write_all(xml.as_bytes()).unwrap();
    let encoded = STANDARD.encode(deflate.finish().unwrap());
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("SAMLRequest", &encoded)
        .append_pair("RelayState", relay)
        .finish()
}

fn sign_in(emu: &Control, issuer: &str, acs: Option<&str>) -> HttpResponse {
    let url = format!("{}?{}", emu.saml_idp_url(), saml_query(issuer, acs, "r&s"));
    http("GET", &url, None)
}

/// A hidden field of an HTML form, HTML entities undone.
fn field(html: &str, name: &str) -> Option<String> {
    let start = html.find(&format!("name=\"{name}\" value=\""))? + name.len() + 15;
    let raw = html[start..].split('"').next()?;
    Some(
        raw.replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

fn form_action(html: &str) -> String {
    let start = html.find("action=\"").expect("a form") + 8;
    html[start..].split('"').next().unwrap().to_string()
}

/// The SAMLResponse of a successful sign-in, base64 as posted.
fn assertion(emu: &Control, acs: &str) -> String {
    let page = sign_in(emu, ISSUER, Some(acs));
    assert_eq!(page.status, 200, "{}", page.body);
    field(&page.body, "SAMLResponse").expect("SAMLResponse field")
}

fn decoded(response: &str) -> String {
    String::from_utf8(STANDARD.decode(response).unwrap()).unwrap()
}

/// Text of the first `<tag>` in an XML answer.
fn text_of(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    Some(xml[start..].split('<').next()?.to_string())
}

/// An attribute value of the first element that has it.
fn attr_of(xml: &str, attr: &str) -> Option<String> {
    let start = xml.find(&format!(" {attr}=\""))? + attr.len() + 3;
    Some(xml[start..].split('"').next()?.to_string())
}

fn sts(emu: &Control, params: &[(&str, &str)]) -> HttpResponse {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        form.append_pair(k, v);
    }
    http(
        "POST",
        &format!("{}/", emu.url()),
        Some(("application/x-www-form-urlencoded", &form.finish())),
    )
}

fn assume(emu: &Control, role: usize, saml: &str, extra: &[(&str, &str)]) -> HttpResponse {
    let r = &emu.directory().saml_roles()[role];
    let mut params = vec![
        ("Action", "AssumeRoleWithSAML"),
        ("Version", "2011-06-15"),
        ("RoleArn", r.role_arn.as_str()),
        ("PrincipalArn", r.principal_arn.as_str()),
        ("SAMLAssertion", saml),
    ];
    params.extend_from_slice(extra);
    sts(emu, &params)
}

fn assert_sts_error(r: &HttpResponse, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("text/xml"));
    assert!(
        r.body
            .starts_with("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"),
        "{}",
        r.body
    );
    assert_eq!(
        text_of(&r.body, "Code").as_deref(),
        Some(code),
        "{}",
        r.body
    );
    assert!(text_of(&r.body, "RequestId").is_some());
}

#[test]
fn unregistered_reply_urls_get_aadsts50011() {
    let emu = idc_emulator::start_blocking(auto()).unwrap();
    for acs in [
        "https://evil.example/saml",
        "http://localhost:5000/other",
        "http://127.0.0.1:5000/saml",
        "https://localhost/saml",
    ] {
        let page = sign_in(&emu, ISSUER, Some(acs));
        assert_eq!(page.status, 400, "{acs}");
        assert!(page.body.contains("AADSTS50011"), "{acs}: {}", page.body);
        assert!(field(&page.body, "SAMLResponse").is_none());
    }
    assert_eq!(emu.stats()["SamlSignIn"], 4);
}

#[test]
fn localhost_reply_url_matches_any_port() {
    let emu = idc_emulator::start_blocking(auto()).unwrap();
    for acs in [
        "http://localhost:54321/saml",
        "http://localhost:1/saml",
        "http://localhost/saml",
    ] {
        let page = sign_in(&emu, ISSUER, Some(acs));
        assert_eq!(page.status, 200, "{acs}: {}", page.body);
        assert_eq!(form_action(&page.body), acs);
        assert_eq!(field(&page.body, "RelayState").as_deref(), Some("r&s"));
        let xml = decoded(&field(&page.body, "SAMLResponse").unwrap());
        assert_eq!(attr_of(&xml, "Destination").as_deref(), Some(acs));
        assert_eq!(attr_of(&xml, "Recipient").as_deref(), Some(acs));
        assert_eq!(attr_of(&xml, "InResponseTo").as_deref(), Some("id42"));
    }
    // A registered port-carrying localhost URL follows the same rule; others are refused.
    let fixed = idc_emulator::start_blocking(Config {
        saml: SamlSettings {
            reply_urls: vec!["http://localhost:8400/saml".into()],
            ..SamlSettings::default()
        },
        ..auto()
    })
    .unwrap();
    assert_eq!(
        sign_in(&fixed, ISSUER, Some("http://localhost:9/saml")).status,
        200
    );
    let aws = sign_in(&fixed, ISSUER, Some("https://signin.aws.amazon.com/saml"));
    assert!(aws.body.contains("AADSTS50011"));
}

#[test]
fn suffix_identifiers_leave_the_suffix_out_of_the_audience() {
    let emu = idc_emulator::start_blocking(auto()).unwrap();
    for issuer in ["urn:amazon:webservices", "urn:amazon:webservices#3"] {
        let page = sign_in(&emu, issuer, Some("http://localhost:4000/saml"));
        assert_eq!(page.status, 200, "{}", page.body);
        let xml = decoded(&field(&page.body, "SAMLResponse").unwrap());
        assert_eq!(
            text_of(&xml, "Audience").as_deref(),
            Some("urn:amazon:webservices")
        );
    }
    let unknown = sign_in(
        &emu,
        "urn:example:other",
        Some("http://localhost:4000/saml"),
    );
    assert_eq!(unknown.status, 400);
    assert!(unknown.body.contains("AADSTS700016"), "{}", unknown.body);
    // Without an ACS URL the first reply URL is used.
    let default = sign_in(&emu, ISSUER, None);
    assert_eq!(
        form_action(&default.body),
        "https://signin.aws.amazon.com/saml"
    );
    // Not a SAML request at all.
    let bad = http(
        "GET",
        &format!("{}?SAMLRequest=bm90IGRlZmxhdGU%3D", emu.saml_idp_url()),
        None,
    );
    assert!(bad.body.contains("AADSTS75005"), "{}", bad.body);
    let none = http("GET", &emu.saml_idp_url(), None);
    assert!(none.body.contains("AADSTS750054"), "{}", none.body);
}

#[test]
fn sign_in_page_waits_for_its_button_unless_auto_approve() {
    let emu = idc_emulator::start_blocking(Config::default()).unwrap();
    let page = sign_in(&emu, ISSUER, Some("http://localhost:4000/saml"));
    assert_eq!(page.status, 200);
    assert!(field(&page.body, "SAMLResponse").is_none());
    let id = field(&page.body, "request_id").expect("sign-in form");
    let post = |decision: &str| {
        http(
            "POST",
            &emu.saml_idp_url(),
            Some((
                "application/x-www-form-urlencoded",
                &format!("request_id={id}&decision={decision}"),
            )),
        )
    };
    let approved = post("approve");
    assert_eq!(approved.status, 200);
    assert_eq!(form_action(&approved.body), "http://localhost:4000/saml");
    assert!(field(&approved.body, "SAMLResponse").is_some());
    assert_eq!(field(&approved.body, "RelayState").as_deref(), Some("r&s"));
    assert_eq!(post("approve").status, 400, "answered once only");

    let waiting = sign_in(&emu, ISSUER, Some("http://localhost:4000/saml"));
    let id = field(&waiting.body, "request_id").unwrap();
    assert_eq!(emu.expire_pending(), 1);
    let late = http(
        "POST",
        &emu.saml_idp_url(),
        Some((
            "application/x-www-form-urlencoded",
            &format!("request_id={id}&decision=approve"),
        )),
    );
    assert_eq!(late.status, 400);
    assert!(late.body.contains("AADSTS90014"));

    emu.set_auto_approve(true);
    let at_once = sign_in(&emu, ISSUER, Some("http://localhost:4000/saml"));
    assert!(field(&at_once.body, "SAMLResponse").is_some());
    assert_eq!(emu.stats()["SamlSignIn"], 3);
}

#[test]
fn metadata_publishes_the_signing_certificate() {
    let emu = idc_emulator::start_blocking(auto()).unwrap();
    let meta = http("GET", &emu.saml_metadata_url(), None);
    assert_eq!(meta.status, 200);
    assert_eq!(
        attr_of(&meta.body, "entityID").unwrap(),
        format!("https://sts.windows.net/{DEFAULT_TENANT}/")
    );
    let xml = decoded(&assertion(&emu, "http://localhost:4000/saml"));
    assert_eq!(
        text_of(&meta.body, "X509Certificate"),
        text_of(&xml, "X509Certificate")
    );
    assert_eq!(
        text_of(&xml, "Issuer").unwrap(),
        format!("https://sts.windows.net/{DEFAULT_TENANT}/")
    );
}

#[test]
fn sts_issues_credentials_and_get_slash_still_serves_the_index() {
    let emu = idc_emulator::start_blocking(auto()).unwrap();
    let saml = assertion(&emu, "http://localhost:4000/saml");
    let ok = assume(&emu, 0, &saml, &[("DurationSeconds", "7200")]);
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.header("content-type"), Some("text/xml"));
    assert!(ok.body.starts_with(
        "<AssumeRoleWithSAMLResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
    ));
    let key = text_of(&ok.body, "AccessKeyId").unwrap();
    assert!(key.starts_with("ASIA") && key.len() == 20, "{key}");
    let role = &emu.directory().saml_roles()[0];
    assert_eq!(
        text_of(&ok.body, "Arn").unwrap(),
        format!(
            "arn:aws:sts::{}:assumed-role/{}/user@corp.example",
            role.account_id(),
            role.role_name()
        )
    );
    assert_eq!(
        text_of(&ok.body, "Audience").as_deref(),
        Some("http://localhost:4000/saml")
    );
    assert_eq!(
        text_of(&ok.body, "SubjectType").as_deref(),
        Some("persistent")
    );
    // The same assertion serves another role of the same sign-in.
    assert_eq!(assume(&emu, 1, &saml, &[]).status, 200);

    let index = http("GET", &format!("{}/", emu.url()), None);
    assert_eq!(index.status, 200);
    assert!(index.body.contains("Identity Center emulator"));
    let other = sts(
        &emu,
        &[("Action", "GetAccessKeyInfo"), ("Version", "2011-06-15")],
    );
    assert_sts_error(&other, 400, "InvalidAction");
    // GetCallerIdentity is served, to signed requests only.
    let unsigned = sts(
        &emu,
        &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
    );
    assert_sts_error(&unsigned, 403, "MissingAuthenticationToken");
    assert_eq!(emu.stats()["GetCallerIdentity"], 1);
    let stats = emu.stats();
    assert_eq!(stats["SamlSignIn"], 1);
    assert_eq!(stats["AssumeRoleWithSAML"], 2);
}

#[test]
fn sts_refuses_what_the_service_refuses() {
    let emu = idc_emulator::start_blocking(auto()).unwrap();
    let saml = assertion(&emu, "http://localhost:4000/saml");

    // One byte changed inside the assertion: the signature no longer verifies.
    let xml = decoded(&saml);
    let at = xml.find("user@corp.example").unwrap();
    let tampered = STANDARD.encode(format!("{}X{}", &xml[..at], &xml[at + 1..]));
    assert_sts_error(
        &assume(&emu, 0, &tampered, &[]),
        400,
        "InvalidIdentityToken",
    );
    assert_sts_error(
        &assume(&emu, 0, "not base64!", &[]),
        400,
        "InvalidIdentityToken",
    );

    // A role the assertion does not list.
    let r = &emu.directory().saml_roles()[0];
    let foreign = sts(
        &emu,
        &[
            ("Action", "AssumeRoleWithSAML"),
            ("Version", "2011-06-15"),
            ("RoleArn", "arn:aws:iam::999999999999:role/Admin"),
            ("PrincipalArn", &r.principal_arn),
            ("SAMLAssertion", &saml),
        ],
    );
    assert_sts_error(&foreign, 403, "AccessDenied");

    // DurationSeconds: outside the API's range, and above the role's maximum (ReadOnly: 3600).
    let low = assume(&emu, 0, &saml, &[("DurationSeconds", "899")]);
    assert_sts_error(&low, 400, "ValidationError");
    let above = assume(&emu, 1, &saml, &[("DurationSeconds", "7200")]);
    assert_sts_error(&above, 400, "ValidationError");
    assert!(above.body.contains("exceeds the MaxSessionDuration"));

    // Policies.
    let malformed = assume(&emu, 0, &saml, &[("Policy", "{not json")]);
    assert_sts_error(&malformed, 400, "MalformedPolicyDocument");

    // An assertion from another tenant: not the provider's issuer.
    let other_tenant = http(
        "GET",
        &format!(
            "{}/11111111-2222-3333-4444-555555555555/saml2?{}",
            emu.url(),
            saml_query(ISSUER, Some("http://localhost:4000/saml"), "x")
        ),
        None,
    );
    let foreign_saml = field(&other_tenant.body, "SAMLResponse").unwrap();
    assert_sts_error(
        &assume(&emu, 0, &foreign_saml, &[]),
        403,
        "IDPRejectedClaim",
    );

    // Past SubjectConfirmation's NotOnOrAfter (5 minutes).
    emu.set_saml_clock_offset(301);
    assert_sts_error(&assume(&emu, 0, &saml, &[]), 400, "ExpiredTokenException");
    emu.set_saml_clock_offset(0);
    assert_eq!(assume(&emu, 0, &saml, &[]).status, 200);
}

#[test]
fn recipient_must_be_accepted_by_the_trust_policy() {
    let emu = idc_emulator::start_blocking(Config {
        saml: SamlSettings {
            aud: vec!["https://signin.aws.amazon.com/saml".into()],
            ..SamlSettings::default()
        },
        ..auto()
    })
    .unwrap();
    let loopback = assertion(&emu, "http://localhost:4000/saml");
    assert_sts_error(&assume(&emu, 0, &loopback, &[]), 403, "AccessDenied");
    let console = assertion(&emu, "https://signin.aws.amazon.com/saml");
    assert_eq!(assume(&emu, 0, &console, &[]).status, 200);
}

#[test]
fn faults_apply_to_sts() {
    let emu = idc_emulator::start_blocking(auto()).unwrap();
    let saml = assertion(&emu, "http://localhost:4000/saml");
    emu.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    })
    .unwrap();
    assert_sts_error(&assume(&emu, 0, &saml, &[]), 500, "InternalFailure");
    emu.set_faults(Faults {
        throttle_rps: 0.1,
        ..Faults::default()
    })
    .unwrap();
    assert_eq!(assume(&emu, 0, &saml, &[]).status, 200);
    assert_sts_error(&assume(&emu, 0, &saml, &[]), 400, "Throttling");
    emu.set_faults(Faults {
        garble_bodies: true,
        ..Faults::default()
    })
    .unwrap();
    let garbled = assume(&emu, 0, &saml, &[]);
    assert_eq!(garbled.status, 200);
    assert!(!garbled.body.contains("</AssumeRoleWithSAMLResponse>"));
    let stats = emu.stats();
    assert_eq!(stats["AssumeRoleWithSAML"], 4);
    assert_eq!(stats["failed"], 1);
    assert_eq!(stats["throttled"], 1);
}

#[test]
fn region_disabled_refuses_every_call() {
    let emu = idc_emulator::start_blocking(Config {
        saml: SamlSettings {
            sts_region_disabled: true,
            ..SamlSettings::default()
        },
        ..auto()
    })
    .unwrap();
    let saml = assertion(&emu, "http://localhost:4000/saml");
    assert_sts_error(&assume(&emu, 0, &saml, &[]), 403, "RegionDisabledException");
}

/// STS through the Rust SDK portico's SAML client uses: no credentials (the operation is
/// modelled as no-auth), the assertion passed as posted, modelled errors as their variants.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_assumes_roles_and_reads_sts_errors() {
    use aws_sdk_sts::error::ProvideErrorMetadata;
    use aws_sdk_sts::operation::assume_role_with_saml::AssumeRoleWithSAMLError as E;

    let emu = idc_emulator::spawn(auto()).await.unwrap();
    let url = format!(
        "{}?{}",
        emu.saml_idp_url(),
        saml_query(ISSUER, Some("http://localhost:4000/saml"), "r")
    );
    let page = http_async("GET", &url, None).await;
    let saml = field(&page.body, "SAMLResponse").unwrap();
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new(emu.region()))
        .endpoint_url(emu.url())
        .http_client(http_client())
        .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
        .build();
    let sts = aws_sdk_sts::Client::from_conf(config);
    let role = emu.directory().saml_roles()[2].clone();
    let call = |assertion: &str, duration: Option<i32>| {
        sts.assume_role_with_saml()
            .role_arn(&role.role_arn)
            .principal_arn(&role.principal_arn)
            .saml_assertion(assertion)
            .set_duration_seconds(duration)
            .send()
    };

    let out = call(&saml, Some(7200)).await.expect("AssumeRoleWithSAML");
    let creds = out.credentials().unwrap();
    assert!(creds.access_key_id().starts_with("ASIA"));
    assert_eq!(creds.secret_access_key().len(), 40);
    let lifetime = creds.expiration().secs() - now_secs();
    assert!((7100..=7300).contains(&lifetime), "{lifetime}");
    assert_eq!(
        out.assumed_role_user().unwrap().arn(),
        format!(
            "arn:aws:sts::{}:assumed-role/Developer/user@corp.example",
            role.account_id()
        )
    );
    assert_eq!(out.audience(), Some("http://localhost:4000/saml"));
    assert_eq!(out.subject_type(), Some("persistent"));

    let xml = decoded(&saml);
    let at = xml.find("<Audience>").unwrap() + 12;
    let tampered = STANDARD.encode(format!("{}Z{}", &xml[..at], &xml[at + 1..]));
    let err = call(&tampered, None)
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, E::InvalidIdentityTokenException(_)),
        "{err:?}"
    );

    let err = call(&saml, Some(20000)).await.unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
    let err = err.into_service_error();
    assert_eq!(err.code(), Some("ValidationError"));

    emu.set_saml_clock_offset(400);
    let err = call(&saml, None).await.unwrap_err().into_service_error();
    assert!(matches!(err, E::ExpiredTokenException(_)), "{err:?}");
    emu.set_saml_clock_offset(0);

    let denied = sts
        .assume_role_with_saml()
        .role_arn(&role.role_arn)
        .principal_arn("arn:aws:iam::999999999999:saml-provider/EntraID")
        .saml_assertion(&saml)
        .send()
        .await
        .unwrap_err();
    assert_eq!(denied.raw_response().unwrap().status().as_u16(), 403);
    assert_eq!(denied.into_service_error().code(), Some("AccessDenied"));
    assert_eq!(emu.stats()["AssumeRoleWithSAML"], 5);
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
