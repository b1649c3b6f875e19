//! `idc-emulator browse`, the stand-in browser, over real HTTP: small servers made here (a
//! redirect chain, pages with and without forms, a recorder standing for portico's loopback
//! listeners) and the emulator's own SAML IdP. The binary is run as portico runs a browser.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::any;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use idc_emulator::{start_blocking, Config, EmulatorHandle};

/// One request a [`Site`] received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: String,
    content_type: String,
    body: String,
}

type Handler = Arc<dyn Fn(&Seen) -> Response + Send + Sync>;

/// A loopback HTTP server answering with `handler` and recording every request.
struct Site {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    _runtime: tokio::runtime::Runtime,
}

impl Site {
    /// `host` is `127.0.0.1` or `localhost` (how the URL names it; it listens on 127.0.0.1).
    fn start(host: &str, handler: impl Fn(&Seen) -> Response + Send + Sync + 'static) -> Site {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = (seen.clone(), Arc::new(handler) as Handler);
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = Router::new().fallback(any(record)).with_state(state);
        runtime.spawn(async move { axum::serve(listener, app).await });
        Site {
            url: format!("http://{host}:{port}"),
            seen,
            _runtime: runtime,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn record(
    State((seen, handler)): State<(Arc<Mutex<Vec<Seen>>>, Handler)>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let entry = Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let response = handler(&entry);
    seen.lock().unwrap().push(entry);
    response
}

/// An Entra-like page whose script posts `fields` to `action` at once.
fn auto_post(action: &str, fields: &[(&str, &str)]) -> Response {
    let inputs: String = fields
        .iter()
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{k}\" value=\"{v}\" />"))
        .collect();
    Html(format!(
        "<html><head><title>Working...</title></head><body>\
         <form method=\"POST\" name=\"hiddenform\" action=\"{action}\">{inputs}\
         <noscript><input type=\"submit\" value=\"Submit\" /></noscript></form>\
         <script>window.setTimeout(function(){{document.forms[0].submit();}}, 0);</script>\
         </body></html>"
    ))
    .into_response()
}

fn page(text: &str) -> Response {
    Html(format!(
        "<!doctype html><title>Signed in</title><p>{text}</p>"
    ))
    .into_response()
}

/// Runs `idc-emulator browse URL` with a step log; returns its output and the log.
fn browse(url: &str) -> (Output, String) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("browse.log");
    let out = Command::new(env!("CARGO_BIN_EXE_idc-emulator"))
        .args(["browse", url, "--timeout", "10"])
        .env("IDC_BROWSE_LOG", &log)
        .output()
        .unwrap();
    (out, read(&log))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A port on which nothing listens.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The IdP sign-in URL of an SP-initiated SAML sign-in whose reply URL is `acs`.
fn saml_sign_in_url(emu: &EmulatorHandle, acs: &str, relay: &str) -> String {
    let xml = format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"id42\" \
         Version=\"2.0\" IssueInstant=\"2026-12-01T20:00:00Z\" AssertionConsumerServiceURL=\"{acs}\">\
         <saml:Issuer xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">urn:amazon:webservices\
         </saml:Issuer></samlp:AuthnRequest>"
    );
    let mut deflate =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    deflate.write_all(xml.as_bytes()).unwrap();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("SAMLRequest", &STANDARD.encode(deflate.finish().unwrap()))
        .append_pair("RelayState", relay)
        .finish();
    format!("{}?{query}", emu.saml_idp_url())
}

#[test]
fn a_redirect_chain_is_followed_to_the_loopback_callback() {
    // The PKCE shape: /authorize redirects (here twice, relative then absolute) to a callback
    // on another loopback listener, named localhost as portico names its own.
    let callback = Site::start("localhost", |_| page("You are signed in."));
    let target = format!("{}/oauth/callback?code=c0de&state=st", callback.url);
    let idp = Site::start("127.0.0.1", move |seen| match seen.path.as_str() {
        "/authorize" => Redirect::to("/hop?x=1").into_response(),
        "/hop" => (StatusCode::FOUND, [(header::LOCATION, target.clone())]).into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    });
    let (out, log) = browse(&format!("{}/authorize?client_id=c&state=st", idp.url));
    assert!(out.status.success(), "{}", stderr(&out));
    let paths: Vec<String> = idp.seen().iter().map(|s| s.path.clone()).collect();
    assert_eq!(paths, ["/authorize", "/hop"]);
    let arrived = callback.seen();
    assert_eq!(arrived.len(), 1, "{arrived:?}");
    assert_eq!(arrived[0].method, "GET");
    assert_eq!(arrived[0].path, "/oauth/callback");
    assert_eq!(arrived[0].query, "code=c0de&state=st");
    // Each step is logged, without the code.
    assert!(log.contains("get /authorize"), "{log}");
    assert!(log.contains("answered 303: redirect to"), "{log}");
    assert!(
        log.contains("answered 302: redirect to http://localhost:"),
        "{log}"
    );
    assert!(
        log.contains("answered 200: \"Signed in\": You are signed in."),
        "{log}"
    );
    assert!(
        !log.contains("c0de") && !stderr(&out).contains("c0de"),
        "{log}"
    );
}

#[test]
fn the_idps_auto_posting_form_is_posted_to_the_loopback_listener() {
    // The emulator's Entra-like IdP answers the SAML HTTP-POST form; the recorder stands for
    // portico's ACS at http://localhost:PORT/saml.
    let acs = Site::start("localhost", |_| page("Signed in; you can close this tab."));
    let emu = start_blocking(Config {
        auto_approve: true,
        ..Config::default()
    })
    .unwrap();
    let acs_url = format!("{}/saml", acs.url);
    let (out, log) = browse(&saml_sign_in_url(&emu, &acs_url, "r&s <1>"));
    assert!(out.status.success(), "{}", stderr(&out));
    let posted = acs.seen();
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(posted[0].method, "POST");
    assert_eq!(posted[0].path, "/saml");
    assert_eq!(posted[0].content_type, "application/x-www-form-urlencoded");
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(posted[0].body.as_bytes())
        .into_owned()
        .collect();
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["SAMLResponse", "RelayState"]);
    // The RelayState comes back exactly as sent (HTML entities undone).
    assert_eq!(fields[1].1, "r&s <1>");
    let response = String::from_utf8(STANDARD.decode(&fields[0].1).unwrap()).unwrap();
    assert!(
        response.contains(&format!("Destination=\"{acs_url}\"")),
        "{response}"
    );
    assert!(response.contains("InResponseTo=\"id42\""), "{response}");
    assert_eq!(emu.stats().get("SamlSignIn").copied(), Some(1));
    assert!(
        log.contains("a form that posts itself to http://localhost:"),
        "{log}"
    );
    assert!(log.contains("post /saml"), "{log}");
    assert!(log.contains("fields SAMLResponse, RelayState"), "{log}");
    // The assertion never reaches the log or stderr.
    let secret = &fields[0].1[..40];
    assert!(!log.contains(secret) && !stderr(&out).contains(secret));
}

#[test]
fn a_307_after_the_post_repeats_the_post_and_a_303_turns_it_into_a_get() {
    let acs = Site::start("localhost", |seen| match seen.path.as_str() {
        "/saml" => (
            StatusCode::TEMPORARY_REDIRECT,
            [(header::LOCATION, "/saml2")],
        )
            .into_response(),
        "/saml2" => Redirect::to("/done").into_response(),
        _ => page("Signed in."),
    });
    let action = format!("{}/saml", acs.url);
    let idp = Site::start("127.0.0.1", move |_| {
        auto_post(
            &action,
            &[("SAMLResponse", "c2VjcmV0"), ("RelayState", "r")],
        )
    });
    let (out, _) = browse(&format!("{}/idp", idp.url));
    assert!(out.status.success(), "{}", stderr(&out));
    let seen: Vec<(String, String, String)> = acs
        .seen()
        .into_iter()
        .map(|s| (s.method, s.path, s.body))
        .collect();
    let body = "SAMLResponse=c2VjcmV0&RelayState=r".to_string();
    assert_eq!(
        seen,
        [
            ("POST".to_string(), "/saml".to_string(), body.clone()),
            ("POST".to_string(), "/saml2".to_string(), body),
            ("GET".to_string(), "/done".to_string(), String::new()),
        ]
    );
}

#[test]
fn a_page_with_no_form_that_posts_itself_ends_the_trip() {
    // A plain page, opened directly: nothing was handed on.
    let site = Site::start("127.0.0.1", |_| page("Nothing to do here."));
    let (out, log) = browse(&format!("{}/start", site.url));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("answered 200 OK with no form that posts itself"),
        "{}",
        stderr(&out)
    );
    assert!(log.contains("failed: "), "{log}");
    // The emulator's sign-in page without auto-approve has a form, but one a person submits
    // with its buttons: it is not posted.
    let emu = start_blocking(Config::default()).unwrap();
    let acs = Site::start("localhost", |_| page("unexpected"));
    let (out, _) = browse(&saml_sign_in_url(&emu, &format!("{}/saml", acs.url), "r"));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a person would have to act on this page"),
        "{}",
        stderr(&out)
    );
    assert!(acs.seen().is_empty());
    assert_eq!(emu.stats().get("SamlSignIn").copied(), Some(1));
}

#[test]
fn an_error_answer_is_named_with_the_pages_text() {
    // An ACS URL that is not a reply URL of the application: Entra's AADSTS50011 page (400).
    let mut config = Config {
        auto_approve: true,
        ..Config::default()
    };
    config.saml.reply_urls = vec!["https://signin.aws.amazon.com/saml".into()];
    let emu = start_blocking(config).unwrap();
    let acs = Site::start("localhost", |_| page("unexpected"));
    let (out, log) = browse(&saml_sign_in_url(&emu, &format!("{}/saml", acs.url), "r"));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(log.contains("answered 400: "), "{log}");
    assert!(stderr(&out).contains("AADSTS50011"), "{}", stderr(&out));
    assert!(acs.seen().is_empty());
}

#[test]
fn an_unreachable_action_is_named() {
    let port = closed_port();
    let action = format!("http://127.0.0.1:{port}/saml");
    let site = Site::start("127.0.0.1", move |_| {
        auto_post(
            &action,
            &[("SAMLResponse", "c2VjcmV0"), ("RelayState", "r")],
        )
    });
    let (out, log) = browse(&format!("{}/idp", site.url));
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("cannot reach http://127.0.0.1:{port}/saml")),
        "{}",
        stderr(&out)
    );
    assert!(
        log.contains(&format!("post /saml (http://127.0.0.1:{port})")),
        "{log}"
    );
}

#[test]
fn a_form_or_redirect_leaving_this_machine_is_refused() {
    // The action is refused before anything is sent: no name is even looked up (.invalid
    // names never resolve, so an attempt would show as "cannot reach", exit 4, not 3).
    let site = Site::start("127.0.0.1", |seen| match seen.path.as_str() {
        "/form" => auto_post(
            "http://acs.portico-test.invalid/saml",
            &[("SAMLResponse", "c2VjcmV0")],
        ),
        "/away" => Redirect::to("http://idp.portico-test.invalid/next").into_response(),
        _ => page("a page"),
    });
    let (out, log) = browse(&format!("{}/form", site.url));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("http://acs.portico-test.invalid/saml is not on this machine"),
        "{}",
        stderr(&out)
    );
    assert!(!log.contains("post "), "nothing posted: {log}");
    let (out, _) = browse(&format!("{}/away", site.url));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("http://idp.portico-test.invalid/next is not on this machine"),
        "{}",
        stderr(&out)
    );
    // Nor does it start anywhere else, or over another scheme.
    for url in ["http://portico-test.invalid/start", "https://127.0.0.1:1/x"] {
        let (out, _) = browse(url);
        assert_eq!(out.status.code(), Some(3), "{url}: {}", stderr(&out));
    }
    let paths: Vec<String> = site.seen().iter().map(|s| s.path.clone()).collect();
    assert_eq!(paths, ["/form", "/away"]);
}
