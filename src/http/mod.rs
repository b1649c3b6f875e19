//! Every request portico makes goes out through here: the SSO OIDC, portal and STS SDK
//! clients ([`sdk_client`]) and the plain GETs (the console federation call, doctor's probes:
//! [`get`]) share one connector setup, so that proxy and certificate settings cannot be
//! forgotten by one of them.
//!
//! One stack: the SDK's own connector (aws-smithy-http-client: hyper + rustls with ring), with
//! its `ProxyConfig` (hyper-util's `Tunnel` for CONNECT, `Proxy-Authorization: Basic` from the
//! proxy URL's percent-decoded credentials) and its `TlsContext` (the system roots plus the
//! extra bundles of [`tls`]). [`proxy`] decides the route per URL. Nothing here runs until a
//! request is made: the warm credential path never builds a connector or reads a certificate.
//! [`explain`] turns a connector failure into one line naming the cause and the fix.

pub mod loopback;
pub mod proxy;
pub mod tls;

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use aws_smithy_http_client::Connector;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use http_body_util::BodyExt;

use crate::sanitize::for_terminal;
pub use proxy::{route, Route};

/// Why no connector can be built: a proxy variable or a CA bundle that cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SetupError {
    #[error("{var} is not a usable proxy: {why}")]
    Proxy { var: &'static str, why: String },
    #[error(transparent)]
    Bundle(#[from] tls::BundleError),
    #[error("the TLS set-up failed: {0}")]
    Tls(String),
}

/// The trusted roots, built once per process at the first request.
fn tls_context() -> Result<TlsContext, SetupError> {
    static CONTEXT: OnceLock<Result<TlsContext, SetupError>> = OnceLock::new();
    CONTEXT
        .get_or_init(|| {
            let mut store = TrustStore::default().with_native_roots(true);
            for bundle in tls::bundles() {
                let pem = tls::load(&bundle)?;
                crate::debug!("trusting the certificates of {} too", bundle.path.display());
                store = store.with_pem_certificate(pem);
            }
            TlsContext::builder()
                .with_trust_store(store)
                .build()
                .map_err(|e| SetupError::Tls(e.to_string()))
        })
        .clone()
}

/// A connector for one route, as the SDK's own builder makes it.
fn connector(
    route: &Route,
    settings: Option<&HttpConnectorSettings>,
    components: Option<&RuntimeComponents>,
) -> Result<Connector, SetupError> {
    let proxy = match route {
        Route::Direct { .. } => ProxyConfig::disabled(),
        Route::Proxy { proxy, .. } => {
            ProxyConfig::all(proxy.connect_url()).map_err(|e| SetupError::Proxy {
                var: proxy.var,
                // The SDK's message quotes nothing of the URL's credentials.
                why: e.to_string(),
            })?
        }
        Route::Unusable { var, why } => {
            return Err(SetupError::Proxy {
                var,
                why: why.clone(),
            })
        }
    };
    let mut builder = Connector::builder().proxy_config(proxy);
    builder.set_connector_settings(settings.cloned());
    if let Some(components) = components {
        builder.set_sleep_impl(components.sleep_impl());
    }
    Ok(builder
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls_context()?)
        .build())
}

/// The HTTP client for SDK clients that talk to `endpoint`: one per route (direct, or each
/// proxy), shared so that clients on the same route share a connection pool.
pub fn sdk_client(endpoint: &str) -> SharedHttpClient {
    static CLIENTS: OnceLock<Mutex<HashMap<String, SharedHttpClient>>> = OnceLock::new();
    let route = proxy::route(endpoint);
    let key = match &route {
        Route::Direct { .. } => String::new(),
        Route::Proxy { proxy, .. } => proxy.connect_url().to_string(),
        Route::Unusable { var, .. } => format!("unusable {var}"),
    };
    let mut clients = CLIENTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    clients
        .entry(key)
        .or_insert_with(|| {
            crate::info!(
                "requests to {} go {}",
                for_terminal(endpoint),
                route.describe()
            );
            SharedHttpClient::new(RoutedClient {
                route,
                cache: Default::default(),
            })
        })
        .clone()
}

/// An SDK HTTP client on one route; the connector is made (and cached per settings) when the
/// SDK first asks for it, as the SDK's own clients do.
#[derive(Debug)]
struct RoutedClient {
    route: Route,
    cache: Mutex<HashMap<String, SharedHttpConnector>>,
}

impl HttpClient for RoutedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let key = format!("{settings:?}");
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(key)
            .or_insert_with(
                || match connector(&self.route, Some(settings), Some(components)) {
                    Ok(connector) => SharedHttpConnector::new(connector),
                    Err(e) => SharedHttpConnector::new(Unusable(Arc::new(e))),
                },
            )
            .clone()
    }
}

/// A connector that fails every request with the setup error (an unusable proxy or bundle):
/// the SDK reports it as a dispatch failure, which [`explain`] words.
#[derive(Debug)]
struct Unusable(Arc<SetupError>);

impl HttpConnector for Unusable {
    fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
        HttpConnectorFuture::ready(Err(ConnectorError::user(Box::new(self.0.clone()))))
    }
}

/// What one GET brought back. Its `Debug` shows the body's length only: the console's
/// federation answer is a sign-in token.
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    /// The `Date` header, as sent.
    pub date: Option<String>,
    /// The `Location` header, as sent (a redirect is never followed here).
    pub location: Option<String>,
    /// The body, up to the limit asked for.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("status", &self.status)
            .field("date", &self.date)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// One GET to `url` within `limit` (connection, proxy tunnel, TLS and body included), over the
/// same connector setup as the SDK clients; at most `body_limit` bytes of body are read (none
/// with 0). Redirects are not followed. The
/// error is one line for a person: [`explain`]'s words, or the innermost cause.
pub async fn get(url: &str, limit: Duration, body_limit: usize) -> Result<Answer, Unreached> {
    send(hyper::Method::GET, url, limit, body_limit).await
}

/// One HEAD to `url`, as [`get`] (a vanity start URL's lookup, `identity::vanity`).
pub async fn head(url: &str, limit: Duration) -> Result<Answer, Unreached> {
    send(hyper::Method::HEAD, url, limit, 0).await
}

async fn send(
    method: hyper::Method,
    url: &str,
    limit: Duration,
    body_limit: usize,
) -> Result<Answer, Unreached> {
    let route = proxy::route(url);
    // Never the query: the console's carries the role's keys.
    crate::info!(
        "{method} {} goes {}",
        for_terminal(&without_query(url)),
        route.describe()
    );
    let settings = HttpConnectorSettings::builder()
        .connect_timeout(limit)
        .read_timeout(limit)
        .build();
    let connector = connector(&route, Some(&settings), None)
        .map_err(|e| Unreached::Explained(e.to_string()))?;
    let not_a_url = || Unreached::Plain("not a URL".to_string());
    let request = hyper::Request::builder()
        .method(method)
        .uri(url)
        .body(SdkBody::empty())
        .map_err(|_| not_a_url())
        .and_then(|r| HttpRequest::try_from(r).map_err(|_| not_a_url()))?;
    let work = async {
        let response = connector
            .call(request)
            .await
            .map_err(|e| Unreached::from(explain(&e, url), || describe(&e, url)))?;
        let status = response.status().as_u16();
        let date = response.headers().get("date").map(String::from);
        let location = response.headers().get("location").map(String::from);
        if body_limit == 0 {
            return Ok(Answer {
                status,
                date,
                location,
                body: Vec::new(),
            });
        }
        let limited = http_body_util::Limited::new(response.into_body(), body_limit);
        let body = match limited.collect().await {
            Ok(collected) => collected.to_bytes().to_vec(),
            Err(e) => {
                return Err(Unreached::Plain(format!(
                    "reading the answer failed ({})",
                    for_terminal(&e.to_string())
                )))
            }
        };
        Ok(Answer {
            status,
            date,
            location,
            body,
        })
    };
    tokio::time::timeout(limit, work).await.map_err(|_| {
        let through = route
            .proxy()
            .map(|p| format!(" through the proxy {}", p.shown()))
            .unwrap_or_default();
        Unreached::Plain(format!(
            "no answer within {} s{through} (PORTICO_HTTP_TIMEOUT sets the limit)",
            limit.as_secs_f64()
        ))
    })?
}

/// `scheme://host:port/path` of `url`, without its query or fragment (which may hold secrets).
fn without_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or_default().to_string()
}

/// Why a request got no answer, as an error line quotes it: a proxy, TLS or set-up failure in
/// [`explain`]'s (or [`explain_timeout`]'s) words, which name the cause and end with its fix,
/// or the network's own reason ("connection failed", "no answer in time", an OS error), after
/// which the caller gives its own hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreached {
    Explained(String),
    Plain(String),
}

impl Unreached {
    /// `explained` if there is one (from [`explain`]), else the plain reason `plain()`.
    pub fn from(explained: Option<String>, plain: impl FnOnce() -> String) -> Unreached {
        match explained {
            Some(text) => Unreached::Explained(text),
            None => Unreached::Plain(plain()),
        }
    }

    /// The line for `what` (say "cannot reach ENDPOINT") that got no answer: `what: EXPLAINED`,
    /// ending with the proxy's or TLS's own fix (a generic "check your network" after it would
    /// only point away from it), else `what (REASON); HINT`.
    pub fn line(&self, what: &str, hint: &str) -> String {
        match self {
            Unreached::Explained(text) => format!("{what}: {text}"),
            Unreached::Plain(reason) => format!("{what} ({reason}); {hint}"),
        }
    }
}

impl std::fmt::Display for Unreached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreached::Explained(text) | Unreached::Plain(text) => f.write_str(text),
        }
    }
}

/// `error` (and its causes) in one line: [`explain`]'s words, or the innermost cause.
pub fn describe(error: &(dyn StdError + 'static), url: &str) -> String {
    explain(error, url).unwrap_or_else(|| innermost(error))
}

/// What went wrong on the way to `url`, when it was the proxy, TLS or the setup: one line
/// with the cause and the fix, the proxy's password masked. `None` for anything else (the
/// caller's own words, "connection failed", "timed out", fit those).
pub fn explain(error: &(dyn StdError + 'static), url: &str) -> Option<String> {
    let route = proxy::route(url);
    let shown = route.proxy().map(|p| p.shown());
    let (host, port) = url::Url::parse(url)
        .ok()
        .map(|u| {
            (
                u.host_str().unwrap_or_default().to_string(),
                u.port_or_known_default().unwrap_or(443),
            )
        })
        .unwrap_or_default();
    let mut timed_out = false;
    for e in causes(error) {
        if let Some(setup) = e.downcast_ref::<Arc<SetupError>>() {
            return Some(setup.to_string());
        }
        if let Some(setup) = e.downcast_ref::<SetupError>() {
            return Some(setup.to_string());
        }
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls::explain(tls, &host, shown.as_deref()));
        }
        if let (Some(tunnel), Some(proxy)) = (tunnel_failure(e), route.proxy()) {
            let p = proxy.shown();
            let var = proxy.var;
            return Some(match tunnel {
                Tunnel::AuthRequired if proxy.has_credentials() => format!(
                    "the proxy {p} refused the user and password in {var} (407 Proxy Authentication Required): correct them (http://user:password@host:port, special characters percent-encoded)"
                ),
                Tunnel::AuthRequired => format!(
                    "the proxy {p} asks for authentication (407 Proxy Authentication Required): put the user and password in {var} (http://user:password@host:port, special characters percent-encoded)"
                ),
                Tunnel::Refused if proxy.has_credentials() => format!(
                    "the proxy {p} refused to open a tunnel to {host}:{port} (it answered CONNECT with an error status: 401 or 403 when the user and password in {var} are refused or {host} is not allowed, 502 when it cannot reach {host}): check the credentials, ask for {host} to be allowed, or add it to NO_PROXY if it can be reached directly; `portico doctor` shows the proxy's answer"
                ),
                Tunnel::Refused => format!(
                    "the proxy {p} refused to open a tunnel to {host}:{port} (it answered CONNECT with an error status: 403 when {host} is not allowed, 502 when it cannot reach {host}): ask for {host} to be allowed, or add it to NO_PROXY if it can be reached directly; `portico doctor` shows the proxy's answer"
                ),
                Tunnel::Closed => format!(
                    "the proxy {p} closed the connection instead of answering CONNECT for {host}:{port}: check {var}"
                ),
                Tunnel::NoConnection => format!(
                    "cannot connect to the proxy {p} from {var} ({}): check the variable, or unset it to connect directly",
                    e.source().map(innermost).unwrap_or_else(|| "no cause given".to_string())
                ),
                Tunnel::Other => format!("the proxy {p} from {var} failed: {}", for_terminal(&e.to_string())),
            });
        }
        if let Some(c) = e.downcast_ref::<ConnectorError>() {
            timed_out |= c.is_timeout();
        }
    }
    if timed_out {
        return explain_timeout(url);
    }
    None
}

/// A request to `url` timed out: when it went through a proxy, one line saying so, with the
/// variable that bounds it (the SDK reports an attempt's timeout apart from its cause, so its
/// callers ask for this in their timeout branch). `None` for a direct request.
pub fn explain_timeout(url: &str) -> Option<String> {
    proxy::route(url).proxy().map(|proxy| {
        format!(
            "no answer in time through the proxy {} from {} (PORTICO_HTTP_TIMEOUT sets the limit): check that the proxy works",
            proxy.shown(),
            proxy.var
        )
    })
}

/// `error` and its causes, outermost first. An `io::Error` made from another error reports
/// that error's *source* as its own, skipping the error itself (the rustls error of a refused
/// certificate is held so), so its inner error is visited too.
fn causes<'a>(error: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        out.push(e);
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            out.extend(causes(inner));
        }
        next = e.source();
        if out.len() > 64 {
            break;
        }
    }
    out
}

/// How a CONNECT through the proxy failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tunnel {
    AuthRequired,
    Refused,
    Closed,
    NoConnection,
    Other,
}

/// hyper-util's `TunnelError` is private to it (only `Tunnel` is exported), so the failure is
/// read from its message, which starts "tunnel error: "; tests/proxy.rs meets each of these
/// against a real proxy, so a change of wording in hyper-util fails a test instead of passing
/// unnoticed.
fn tunnel_failure(error: &(dyn StdError + 'static)) -> Option<Tunnel> {
    let text = error.to_string();
    let what = text.strip_prefix("tunnel error: ")?;
    Some(match what {
        "proxy authorization required" => Tunnel::AuthRequired,
        "unsuccessful" => Tunnel::Refused,
        "unexpected end of file" => Tunnel::Closed,
        "failed to create underlying connection" => Tunnel::NoConnection,
        _ => Tunnel::Other,
    })
}

fn innermost(error: &(dyn StdError + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    for_terminal(&current.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper_util::client::legacy::connect::proxy::Tunnel as HyperTunnel;
    use hyper_util::client::legacy::connect::HttpConnector;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tower_service::Service;

    /// A CONNECT through hyper-util's own `Tunnel` to a listener that answers `answer` (or
    /// closes at once, or is not there): the error `tunnel_failure` must recognise.
    async fn tunnel_error(answer: Option<&'static [u8]>, listening: bool) -> Tunnel {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        if listening {
            tokio::spawn(async move {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut request = [0u8; 1024];
                let _ = socket.read(&mut request).await;
                if let Some(answer) = answer {
                    let _ = socket.write_all(answer).await;
                }
            });
        } else {
            drop(listener);
        }
        let proxy: hyper::Uri = format!("http://{addr}").parse().unwrap();
        let mut tunnel = HyperTunnel::new(proxy, HttpConnector::new());
        let Err(error) = tunnel
            .call("https://example.invalid:443".parse().unwrap())
            .await
        else {
            panic!("the tunnel was opened");
        };
        tunnel_failure(&error).expect("recognised as a tunnel failure")
    }

    #[tokio::test]
    async fn hyper_utils_tunnel_failures_are_recognised() {
        assert_eq!(
            tunnel_error(
                Some(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"),
                true
            )
            .await,
            Tunnel::AuthRequired
        );
        assert_eq!(
            tunnel_error(Some(b"HTTP/1.1 403 Forbidden\r\n\r\n"), true).await,
            Tunnel::Refused
        );
        assert_eq!(tunnel_error(None, true).await, Tunnel::Closed);
        assert_eq!(tunnel_error(None, false).await, Tunnel::NoConnection);
    }

    #[test]
    fn logged_urls_lose_their_query() {
        assert_eq!(
            without_query("https://signin.aws.amazon.com/federation?Action=getSigninToken&Session=%7B%22sessionKey%22%7D"),
            "https://signin.aws.amazon.com/federation"
        );
        assert_eq!(without_query("http://h:1/p#frag"), "http://h:1/p");
    }

    #[test]
    fn a_tls_error_inside_an_io_error_is_found() {
        let rejection = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let text = explain(&rejection, "https://sso.example:443/x").unwrap();
        assert!(text.contains("the certificate of sso.example"), "{text}");
        assert!(text.contains("unknown issuer"), "{text}");
        // Something else is left to the caller's words.
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(explain(&refused, "https://sso.example"), None);
        assert!(describe(&refused, "https://sso.example").contains("refused"));
    }
}
