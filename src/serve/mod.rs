//! `portico serve`: the container-credentials endpoint every AWS SDK can poll
//! (`AWS_CONTAINER_CREDENTIALS_FULL_URI` + `AWS_CONTAINER_AUTHORIZATION_TOKEN`), so that a
//! long-running program always has keys with more than 15 minutes left. A small HTTP/1.1
//! server on hyper, on a loopback address only; every request must carry the token; one line
//! per request on stderr (time, method, path, status, duration — never a secret).

pub mod bind;
pub mod private;
pub mod route;
pub mod source;
pub mod token;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use crate::settings::Environment;
pub use route::Route;
use source::{Credentials, Failure};
pub use token::Token;

/// The variable naming the endpoint.
pub const URI_VAR: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
/// The variable holding the token.
pub const TOKEN_VAR: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
/// The variable naming a file that holds the token.
pub const TOKEN_FILE_VAR: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";

/// A bound, not yet running server.
pub struct Server {
    listener: std::net::TcpListener,
    state: Arc<State>,
}

struct State {
    token: Token,
    credentials: Credentials,
}

impl Server {
    /// Listens on `ip:port` (port 0: a free one). `ip` must be a loopback address; the caller
    /// checked it with [`bind::parse_loopback`], and it is checked again here.
    pub fn bind(ip: IpAddr, port: u16, token: Token, env: Environment) -> anyhow::Result<Server> {
        anyhow::ensure!(
            ip.is_loopback(),
            "{ip} is not a loopback address; the credential server listens only on this machine"
        );
        let addr = SocketAddr::new(ip, port);
        let listener = std::net::TcpListener::bind(addr).map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
                "; something else listens there: choose another --port, or leave it out for a free one"
            } else {
                ""
            };
            anyhow::anyhow!("cannot listen on {}:{port}: {e}{hint}", bind::url_host(ip))
        })?;
        listener.set_nonblocking(true)?;
        Ok(Server {
            listener,
            state: Arc::new(State {
                token,
                credentials: Credentials::new(env)?,
            }),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// `http://HOST:PORT` plus the route's path: the value of [`URI_VAR`].
    pub fn uri(&self, route: &Route) -> std::io::Result<String> {
        let addr = self.local_addr()?;
        Ok(format!(
            "http://{}:{}{}",
            bind::url_host(addr.ip()),
            addr.port(),
            route.path()
        ))
    }

    /// Fails when `wanted` names nothing in the config file (checked once, at start).
    pub fn check(&self, wanted: &crate::engine::Wanted) -> anyhow::Result<()> {
        self.state.credentials.check(wanted)
    }

    /// Answers requests until `shutdown` completes. Needs a tokio runtime (current-thread is
    /// enough: a warm answer is a lookup and a copy).
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        let listener = tokio::net::TcpListener::from_std(self.listener)?;
        tokio::pin!(shutdown);
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: say so, and go on.
                        eprintln!("portico serve: cannot accept a connection: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => return Ok(()),
            };
            let _ = stream.set_nodelay(true);
            let state = self.state.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let state = state.clone();
                    async move { Ok::<_, std::convert::Infallible>(handle(&state, req).await) }
                });
                // A client that hangs up mid-request is its own business.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    }
}

async fn handle(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let start = Instant::now();
    let response = answer(state, &req).await;
    log(&req, response.status(), start);
    response
}

async fn answer(state: &State, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    // Exactly one Authorization header, equal to the token byte for byte.
    let mut presented = req.headers().get_all(AUTHORIZATION).iter();
    let authorized = match (presented.next(), presented.next()) {
        (Some(value), None) => state.token.matches(value.as_bytes()),
        _ => false,
    };
    if !authorized {
        return error(&Failure {
            status: 401,
            code: "Unauthorized",
            message: format!(
                "missing or wrong Authorization header; send the token from {TOKEN_VAR}"
            ),
        });
    }
    if req.method() != Method::GET {
        return error(&Failure {
            status: 405,
            code: "MethodNotAllowed",
            message: "only GET is served".to_string(),
        });
    }
    let Some(route) = Route::parse(req.uri().path(), req.uri().query()) else {
        return error(&Failure {
            status: 404,
            code: "NotFound",
            message:
                "no such path; ask for /role/PROFILE or /role/ACCOUNT_ID/ROLE_NAME?sso-session=NAME"
                    .to_string(),
        });
    };
    match state.credentials.get(&route).await {
        Ok(answer) => respond(StatusCode::OK, answer.body),
        Err(failure) => error(&failure),
    }
}

fn respond(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn error(failure: &Failure) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "Code": failure.code, "Message": failure.message });
    respond(
        StatusCode::from_u16(failure.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        Bytes::from(body.to_string()),
    )
}

/// One line on stderr: time, method, path and query (names of profiles, roles and sessions,
/// never a header), status and how long the answer took.
fn log(req: &Request<Incoming>, status: StatusCode, start: Instant) {
    use std::io::Write;
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let line = format!(
        "portico serve: {} {} {} {} {:.1}ms\n",
        crate::timefmt::rfc3339_z(time::OffsetDateTime::now_utc()),
        crate::sanitize::for_terminal(req.method().as_str()),
        crate::sanitize::for_terminal(path),
        status.as_u16(),
        start.elapsed().as_secs_f64() * 1000.0
    );
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}
