//! `idc-emulator browse URL`: a stand-in for a person at a browser, shipped with the emulator
//! so that `portico demo` and portico's own tests can sign in without a real browser.
//!
//! It does what a browser does with the pages the emulator (or portico's loopback listeners)
//! serve, and no more: it opens the URL, follows redirects, and submits the form that a page's
//! script posts at once (the SAML HTTP-POST binding: hidden inputs and
//! `document.forms[0].submit()`), then follows that answer the same way. It runs no script
//! otherwise, keeps no cookies and never clicks a button: a page that waits for a person ends
//! the trip. It only ever talks to the machine it runs on: a URL, a redirect or a form action
//! whose host is not loopback (127.0.0.0/8, [::1], or `localhost` resolving to those) is
//! refused, and nothing is sent there.
//!
//! Usable as a browser template: `portico_browser = idc-emulator browse {url}`, or
//! `BROWSER="idc-emulator browse"`. Each step goes to stderr and, with `--log FILE` or
//! `IDC_BROWSE_LOG=FILE`, is appended to FILE (portico starts browsers with stderr closed, so
//! tests read the file). Steps name URLs without their query and forms by their field names:
//! an authorization code, a SAMLRequest or a SAMLResponse never appears.

use std::fmt;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HOST, LOCATION, USER_AGENT};
use hyper::{Method, StatusCode};
use hyper_util::rt::TokioIo;
use url::{Host, Url};

/// The variable naming the step log when `--log` is not given.
pub const LOG_ENV: &str = "IDC_BROWSE_LOG";

/// Redirects followed in one trip before giving up (browsers stop at about 20 too).
const MAX_REDIRECTS: usize = 20;
/// Auto-posting forms submitted in one trip (a SAML sign-in needs one).
const MAX_FORMS: usize = 5;
/// The largest page read.
const MAX_BODY: usize = 4 << 20;

pub const BROWSE_HELP: &str = "\
Follows the URL as a browser would for a sign-in that needs no person: redirects, and the form
a page's script submits at once (the SAML HTTP-POST binding), to the end. Only ever talks to
this machine: a URL, redirect or form action that is not http on 127.0.0.0/8, [::1] or
localhost is refused.

Use it as portico's browser:
  portico_browser = idc-emulator browse {url}      (in a [saml-session] or [sso-session])
  BROWSER=\"idc-emulator browse\" portico login

Exit status:
  0  something was handed on and answered 2xx: a form posted, or redirects followed
  1  the trip stopped: an answer other than 2xx or 3xx, a page with no form that posts
     itself (a person would have to act), or too many redirects or forms
  2  bad usage
  3  refused: a URL not on this machine, or not http
  4  no answer: nothing listens there, or no answer within --timeout";

/// `idc-emulator browse`.
#[derive(Debug, clap::Args)]
#[command(after_help = BROWSE_HELP)]
pub struct BrowseArgs {
    /// The URL to open (http on this machine)
    #[arg(value_name = "URL")]
    pub url: String,
    /// Append one line per step to FILE (default: $IDC_BROWSE_LOG, if set)
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Seconds to wait for each answer
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
}

/// Why a trip ended without handing anything on.
#[derive(Debug)]
enum Failure {
    /// A page answered but the trip cannot go on.
    Stopped(String),
    /// A URL that is not http on this machine.
    Refused(String),
    /// No answer.
    Unreachable(String),
}

impl Failure {
    fn code(&self) -> u8 {
        match self {
            Failure::Stopped(_) => 1,
            Failure::Refused(_) => 3,
            Failure::Unreachable(_) => 4,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Stopped(why) | Failure::Refused(why) | Failure::Unreachable(why) => {
                f.write_str(why)
            }
        }
    }
}

/// Where steps are written: stderr, and the log file when one is named.
struct Steps {
    file: Option<std::fs::File>,
}

impl Steps {
    fn open(path: Option<PathBuf>) -> Steps {
        let file = path.and_then(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&p)
                .map_err(|e| eprintln!("idc-emulator browse: cannot open {}: {e}", p.display()))
                .ok()
        });
        Steps { file }
    }

    fn say(&mut self, line: &str) {
        eprintln!("idc-emulator browse: {line}");
        if let Some(file) = &mut self.file {
            let _ = writeln!(file, "{line}");
        }
    }
}

/// Runs `idc-emulator browse` to its exit status.
pub fn run(args: BrowseArgs) -> ExitCode {
    let log = args
        .log
        .clone()
        .or_else(|| std::env::var_os(LOG_ENV).map(PathBuf::from));
    let mut steps = Steps::open(log);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            steps.say(&format!("failed: cannot start the runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let timeout = Duration::from_secs(args.timeout);
    match runtime.block_on(trip(&args.url, timeout, &mut steps)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            steps.say(&format!("failed: {failure}"));
            ExitCode::from(failure.code())
        }
    }
}

/// One request of the trip.
struct Request {
    method: Method,
    url: Url,
    /// The form body of a POST.
    body: Option<String>,
}

/// An answer, read whole.
struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: Vec<u8>,
}

async fn trip(start: &str, timeout: Duration, steps: &mut Steps) -> Result<(), Failure> {
    let url = Url::parse(start)
        .map_err(|e| Failure::Refused(format!("{} is not a URL ({e})", clean(start))))?;
    let mut request = Request {
        method: Method::GET,
        url,
        body: None,
    };
    let mut redirects = 0;
    let mut forms = 0;
    loop {
        check_local(&request.url)?;
        steps.say(&format!(
            "{} {} ({}){}",
            request.method.as_str().to_ascii_lowercase(),
            request.url.path(),
            origin(&request.url),
            request
                .body
                .as_ref()
                .map(|b| format!(" fields {}", field_names(b)))
                .unwrap_or_default()
        ));
        let answer = send(&request, timeout).await?;
        let status = answer.status;
        if status.is_redirection() {
            let Some(location) = answer.location else {
                return Err(Failure::Stopped(format!(
                    "{} answered {status} without a Location",
                    shown(&request.url)
                )));
            };
            let next = request.url.join(&location).map_err(|e| {
                Failure::Stopped(format!(
                    "{} answered {status} with a Location that is not a URL ({e})",
                    shown(&request.url)
                ))
            })?;
            steps.say(&format!(
                "answered {}: redirect to {}",
                status.as_u16(),
                shown(&next)
            ));
            redirects += 1;
            if redirects > MAX_REDIRECTS {
                return Err(Failure::Stopped(format!(
                    "more than {MAX_REDIRECTS} redirects; the last to {}",
                    shown(&next)
                )));
            }
            // 307 and 308 repeat the request as it was; the others turn it into a GET.
            request = match status {
                StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT => Request {
                    url: next,
                    ..request
                },
                _ => Request {
                    method: Method::GET,
                    url: next,
                    body: None,
                },
            };
            continue;
        }
        let page = Page::read(&String::from_utf8_lossy(&answer.body));
        if !status.is_success() {
            steps.say(&format!("answered {}: {}", status.as_u16(), page.summary()));
            return Err(Failure::Stopped(format!(
                "{} answered {status}: {}",
                shown(&request.url),
                page.summary()
            )));
        }
        let Some(form) = page.auto_posted() else {
            steps.say(&format!("answered {}: {}", status.as_u16(), page.summary()));
            if forms > 0 || redirects > 0 {
                return Ok(());
            }
            return Err(Failure::Stopped(format!(
                "{} answered {status} with no form that posts itself: a person would have to act on this page ({})",
                shown(&request.url),
                page.summary()
            )));
        };
        // An empty or missing action submits to the page's own URL.
        let action = request
            .url
            .join(form.action.as_deref().unwrap_or_default())
            .map_err(|e| {
                Failure::Stopped(format!(
                    "the form on {} has an action that is not a URL ({e})",
                    shown(&request.url)
                ))
            })?;
        steps.say(&format!(
            "answered {}: a form that posts itself to {}",
            status.as_u16(),
            shown(&action)
        ));
        forms += 1;
        if forms > MAX_FORMS {
            return Err(Failure::Stopped(format!(
                "more than {MAX_FORMS} forms posted themselves; the last to {}",
                shown(&action)
            )));
        }
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&form.fields)
            .finish();
        request = if form.get {
            let mut url = action;
            url.set_query(Some(&encoded));
            Request {
                method: Method::GET,
                url,
                body: None,
            }
        } else {
            Request {
                method: Method::POST,
                url: action,
                body: Some(encoded),
            }
        };
    }
}

/// Refuses a URL that is not plain http on this machine.
fn check_local(url: &Url) -> Result<(), Failure> {
    if url.scheme() != "http" {
        return Err(Failure::Refused(format!(
            "{} is not an http URL; idc-emulator browse only talks plain http to this machine",
            shown(url)
        )));
    }
    let local = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if local {
        Ok(())
    } else {
        Err(Failure::Refused(format!(
            "{} is not on this machine; idc-emulator browse only talks to 127.0.0.1, [::1] and localhost",
            shown(url)
        )))
    }
}

/// The loopback addresses of a checked URL: an IP literal as it is, `localhost` as the system
/// resolves it, keeping only loopback addresses.
async fn addresses(url: &Url) -> Result<Vec<SocketAddr>, Failure> {
    let port = url.port_or_known_default().unwrap_or(80);
    let found: Vec<SocketAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(Host::Domain(name)) => tokio::net::lookup_host((name, port))
            .await
            .map_err(|e| Failure::Unreachable(format!("cannot resolve {name}: {e}")))?
            .filter(|a| a.ip().is_loopback())
            .collect(),
        None => Vec::new(),
    };
    if found.is_empty() {
        return Err(Failure::Refused(format!(
            "{} resolves to no loopback address",
            shown(url)
        )));
    }
    Ok(found)
}

async fn send(request: &Request, timeout: Duration) -> Result<Answer, Failure> {
    let unreachable =
        |why: String| Failure::Unreachable(format!("cannot reach {}: {why}", shown(&request.url)));
    let exchange = async {
        let mut stream = None;
        let mut last = String::from("no address");
        for addr in addresses(&request.url).await? {
            match tokio::net::TcpStream::connect(addr).await {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = e.to_string(),
            }
        }
        let stream = stream.ok_or_else(|| unreachable(last))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        tokio::spawn(connection);
        let target = match request.url.query() {
            Some(q) => format!("{}?{q}", request.url.path()),
            None => request.url.path().to_string(),
        };
        let host = match request.url.port() {
            Some(port) => format!("{}:{port}", request.url.host_str().unwrap_or_default()),
            None => request.url.host_str().unwrap_or_default().to_string(),
        };
        let mut builder = hyper::Request::builder()
            .method(request.method.clone())
            .uri(target)
            .header(HOST, host)
            .header(
                USER_AGENT,
                concat!("idc-emulator-browse/", env!("CARGO_PKG_VERSION")),
            );
        if request.body.is_some() {
            builder = builder.header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let body = Full::new(Bytes::from(request.body.clone().unwrap_or_default()));
        let http = builder
            .body(body)
            .map_err(|e| Failure::Stopped(format!("cannot make the request: {e}")))?;
        let response = sender
            .send_request(http)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| unreachable(format!("reading the answer: {e}")))?
            .to_bytes()
            .to_vec();
        Ok(Answer {
            status,
            location,
            body,
        })
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| unreachable(format!("no answer within {} s", timeout.as_secs())))?
}

/// A form as the page declares it.
#[derive(Debug, Default, PartialEq, Eq)]
struct Form {
    action: Option<String>,
    /// `method="get"` (else POST: the only method the SAML binding uses).
    get: bool,
    name: Option<String>,
    id: Option<String>,
    /// The fields a script's `submit()` sends: named inputs that are not buttons (checkboxes
    /// and radio buttons only when checked), and textareas.
    fields: Vec<(String, String)>,
}

/// What the stand-in reads from a page: its forms, the script that runs on load, its text.
#[derive(Debug, Default)]
struct Page {
    forms: Vec<Form>,
    /// `<script>` bodies and `onload` attributes.
    scripts: String,
    title: String,
    /// The visible text, whitespace collapsed.
    text: String,
}

impl Page {
    /// Reads `html` with html5gum's WHATWG tokenizer, switching into raw text for script,
    /// style, textarea, title and noscript as a browser with scripting on does (so a
    /// `<noscript>` fallback button is not a field).
    fn read(html: &str) -> Page {
        use html5gum::{DefaultEmitter, Token, Tokenizer};
        let mut emitter = DefaultEmitter::default();
        emitter.naively_switch_states(true);
        let mut page = Page::default();
        let mut open_form: Option<Form> = None;
        // The element whose text is being collected: script, style, title, textarea, noscript.
        let mut raw: Option<(String, Option<String>)> = None;
        let mut raw_text = String::new();
        for token in Tokenizer::new_with_emitter(html, emitter).flatten() {
            match token {
                Token::StartTag(tag) => {
                    let name = String::from_utf8_lossy(&tag.name).to_ascii_lowercase();
                    let attr = |key: &str| {
                        tag.attributes
                            .get(key.as_bytes())
                            .map(|v| String::from_utf8_lossy(&v.value).into_owned())
                    };
                    if let Some(onload) = attr("onload") {
                        page.scripts.push_str(&onload);
                        page.scripts.push('\n');
                    }
                    match name.as_str() {
                        "form" => {
                            if let Some(form) = open_form.take() {
                                page.forms.push(form);
                            }
                            open_form = Some(Form {
                                action: attr("action"),
                                get: attr("method").is_some_and(|m| m.eq_ignore_ascii_case("get")),
                                name: attr("name"),
                                id: attr("id"),
                                fields: Vec::new(),
                            });
                        }
                        "input" => {
                            let kind = attr("type").unwrap_or_default().to_ascii_lowercase();
                            let sent = match kind.as_str() {
                                "submit" | "button" | "image" | "reset" | "file" => false,
                                "checkbox" | "radio" => attr("checked").is_some(),
                                _ => true,
                            };
                            if let (true, Some(form), Some(field)) =
                                (sent, open_form.as_mut(), attr("name"))
                            {
                                let value = attr("value").unwrap_or_else(|| {
                                    if matches!(kind.as_str(), "checkbox" | "radio") {
                                        "on".into()
                                    } else {
                                        String::new()
                                    }
                                });
                                form.fields.push((field, value));
                            }
                        }
                        "script" | "style" | "title" | "textarea" | "noscript"
                            if !tag.self_closing =>
                        {
                            raw = Some((name.clone(), attr("name")));
                            raw_text.clear();
                        }
                        _ => {}
                    }
                }
                Token::EndTag(tag) => {
                    let name = String::from_utf8_lossy(&tag.name).to_ascii_lowercase();
                    if raw.as_ref().is_some_and(|(open, _)| *open == name) {
                        let (open, field) = raw.take().expect("checked");
                        match open.as_str() {
                            "script" => {
                                page.scripts.push_str(&raw_text);
                                page.scripts.push('\n');
                            }
                            "title" => page.title = collapse(&raw_text),
                            "textarea" => {
                                if let (Some(form), Some(field)) = (open_form.as_mut(), field) {
                                    form.fields.push((field, raw_text.clone()));
                                }
                            }
                            _ => {}
                        }
                    } else if name == "form" {
                        if let Some(form) = open_form.take() {
                            page.forms.push(form);
                        }
                    }
                }
                Token::String(text) => {
                    let text = String::from_utf8_lossy(&text);
                    if raw.is_some() {
                        raw_text.push_str(&text);
                    } else {
                        page.text.push_str(&text);
                        page.text.push(' ');
                    }
                }
                _ => {}
            }
        }
        if let Some(form) = open_form.take() {
            page.forms.push(form);
        }
        page.text = collapse(&page.text);
        page
    }

    /// The form the page's script submits at once: `document.forms[N]`, `document.forms.NAME`
    /// or `document.forms["NAME"]`, `document.NAME`, `document.getElementById("ID")`, or the
    /// page's only form when the script submits one that it found another way. `None` when no
    /// script calls `submit()`: such a form waits for a person.
    fn auto_posted(&self) -> Option<&Form> {
        let mut rest = self.scripts.as_str();
        while let Some(at) = rest.find(".submit(") {
            if let Some(form) = self.form_named_by(receiver(&rest[..at])) {
                return Some(form);
            }
            rest = &rest[at + ".submit(".len()..];
        }
        None
    }

    fn form_named_by(&self, expr: &str) -> Option<&Form> {
        let key = |s: &str| s.trim().trim_matches(|c| c == '"' || c == '\'').to_string();
        let by_key = |k: &str| {
            self.forms
                .iter()
                .find(|f| f.name.as_deref() == Some(k) || f.id.as_deref() == Some(k))
        };
        if let Some(inner) = expr
            .strip_prefix("document.forms[")
            .and_then(|s| s.strip_suffix(']'))
        {
            return match inner.trim().parse::<usize>() {
                Ok(n) => self.forms.get(n),
                Err(_) => by_key(&key(inner)),
            };
        }
        if let Some(inner) = expr
            .strip_prefix("document.getElementById(")
            .and_then(|s| s.strip_suffix(')'))
        {
            return self
                .forms
                .iter()
                .find(|f| f.id.as_deref() == Some(key(inner).as_str()));
        }
        if let Some(name) = expr
            .strip_prefix("document.forms.")
            .or_else(|| expr.strip_prefix("document."))
        {
            if let Some(form) = by_key(name) {
                return Some(form);
            }
        }
        // A form the script reached some other way (a variable): the page's only form.
        match self.forms.as_slice() {
            [only] => Some(only),
            _ => None,
        }
    }

    /// The page in a few words for a step line: its title and the start of its text.
    fn summary(&self) -> String {
        const MAX: usize = 300;
        let mut out = match (self.title.is_empty(), self.text.is_empty()) {
            (true, true) => "an empty page".to_string(),
            (false, true) => format!("\"{}\"", self.title),
            (true, false) => self.text.clone(),
            (false, false) => format!("\"{}\": {}", self.title, self.text),
        };
        if out.chars().count() > MAX {
            out = out.chars().take(MAX).collect::<String>() + "…";
        }
        clean(&out)
    }
}

/// The expression a method is called on, from the script text before `.method(`: back to the
/// start of the statement or an unmatched bracket (`f(document.forms[0]` gives
/// `document.forms[0]`).
fn receiver(before: &str) -> &str {
    let mut depth = 0usize;
    for (i, c) in before.char_indices().rev() {
        match c {
            ')' | ']' => depth += 1,
            '(' | '[' if depth == 0 => return &before[i + 1..],
            '(' | '[' => depth -= 1,
            ';' | '{' | '}' | ',' | '=' | '\n' if depth == 0 => return &before[i + 1..],
            c if c.is_whitespace() && depth == 0 => return &before[i + 1..],
            _ => {}
        }
    }
    before
}

/// Whitespace runs become one space.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text from a page or a URL with control characters left out, for a terminal or a log line.
fn clean(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// `scheme://host:port`.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// A URL without its query or fragment (which may hold a code or a SAML message).
fn shown(url: &Url) -> String {
    clean(&format!("{}{}", origin(url), url.path()))
}

/// The field names of a form body, for a step line (the values stay out).
fn field_names(body: &str) -> String {
    let names: Vec<String> = url::form_urlencoded::parse(body.as_bytes())
        .map(|(k, _)| clean(&k))
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRA: &str = "<html><head><title>Working...</title></head><body>\
         <form method=\"POST\" name=\"hiddenform\" action=\"http://localhost:1/saml?a=1&amp;b=2\">\
         <input type=\"hidden\" name=\"SAMLResponse\" value=\"PD94&#43;\" />\
         <input type=\"hidden\" name=\"RelayState\" value=\"r&lt;1\" />\
         <noscript><p>Script is disabled. Click Submit to continue.</p>\
         <input type=\"submit\" name=\"go\" value=\"Submit\" /></noscript></form>\
         <script language=\"javascript\">window.setTimeout(function(){document.forms[0].submit();}, 0);</script>\
         </body></html>";

    #[test]
    fn entras_form_is_read_as_a_browser_reads_it() {
        let page = Page::read(ENTRA);
        let form = page.auto_posted().expect("the script submits forms[0]");
        assert_eq!(
            form.action.as_deref(),
            Some("http://localhost:1/saml?a=1&b=2")
        );
        assert!(!form.get);
        assert_eq!(
            form.fields,
            [
                ("SAMLResponse".to_string(), "PD94+".to_string()),
                ("RelayState".to_string(), "r<1".to_string())
            ]
        );
        assert_eq!(page.title, "Working...");
    }

    #[test]
    fn the_submitted_form_is_found_by_index_name_id_or_onload() {
        let two = "<form name=a action=/a><input name=x value=1></form>\
                   <form id=b action=/b><input name=y value=2><input type=checkbox name=c>\
                   <input type=checkbox name=d checked><textarea name=t>hi &amp; bye</textarea></form>";
        for (script, action) in [
            ("document.forms[1].submit()", "/b"),
            ("document.forms['a'].submit()", "/a"),
            ("document.a.submit();", "/a"),
            ("document.forms.a.submit();", "/a"),
            ("document.getElementById(\"b\").submit()", "/b"),
            ("setTimeout(document.forms[1].submit(), 0)", "/b"),
        ] {
            let page = Page::read(&format!("{two}<script>{script}</script>"));
            let form = page.auto_posted().unwrap_or_else(|| panic!("{script}"));
            assert_eq!(form.action.as_deref(), Some(action), "{script}");
        }
        let page = Page::read(&format!(
            "<body onload=\"document.forms[1].submit()\">{two}"
        ));
        let form = page.auto_posted().unwrap();
        assert_eq!(
            form.fields,
            [
                ("y".to_string(), "2".to_string()),
                ("d".to_string(), "on".to_string()),
                ("t".to_string(), "hi & bye".to_string())
            ]
        );
    }

    #[test]
    fn a_form_no_script_submits_waits_for_a_person() {
        // The emulator's sign-in page without auto-approve: buttons, no script.
        let page = Page::read(
            "<title>Sign in</title><p>Continue as user@corp.example?</p>\
             <form method=post action=/t/saml2><input type=hidden name=request_id value=1>\
             <button name=decision value=approve>Continue</button></form>",
        );
        assert!(page.auto_posted().is_none());
        assert_eq!(
            page.summary(),
            "\"Sign in\": Continue as user@corp.example? Continue"
        );
        // A script that mentions forms but submits none.
        let page = Page::read("<form action=/a></form><script>var x = document.forms;</script>");
        assert!(page.auto_posted().is_none());
    }

    #[test]
    fn only_http_on_this_machine_is_allowed() {
        for ok in [
            "http://127.0.0.1:9/x",
            "http://127.8.9.10/x",
            "http://[::1]:9/x",
            "http://localhost:9/saml",
            "http://LOCALHOST/",
        ] {
            assert!(check_local(&Url::parse(ok).unwrap()).is_ok(), "{ok}");
        }
        for refused in [
            "http://example.com/saml",
            "http://10.0.0.1/",
            "http://localhost.example.com/",
            "https://127.0.0.1/",
            "file:///etc/passwd",
        ] {
            let failure = check_local(&Url::parse(refused).unwrap()).unwrap_err();
            assert_eq!(failure.code(), 3, "{refused}");
        }
    }

    #[test]
    fn steps_leave_queries_and_values_out() {
        let url = Url::parse("http://127.0.0.1:5/cb?code=secret&state=s").unwrap();
        assert_eq!(shown(&url), "http://127.0.0.1:5/cb");
        assert_eq!(
            field_names("SAMLResponse=c2VjcmV0&RelayState=r"),
            "SAMLResponse, RelayState"
        );
    }
}
