//! `portico serve`: the container-credentials endpoint every AWS SDK can poll
//! (`AWS_CONTAINER_CREDENTIALS_FULL_URI` + `AWS_CONTAINER_AUTHORIZATION_TOKEN`), so that a
//! long-running program always has keys with more than 15 minutes left. A small HTTP/1.1
//! server on hyper, on a loopback address only; every request must carry the token; one line
//! per request on stderr (time, method, path, status, duration — never a secret).

pub mod bind;
pub mod conn;
pub mod private;
pub mod route;
pub mod source;
pub mod stop;
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
    pub fn check(&self, wanted: &crate::engine::Wanted) -> anyhow::Result<crate::engine::Target> {
        self.state.credentials.check(wanted)
    }

    /// Answers requests until `shutdown` completes. Needs a tokio runtime (current-thread is
    /// enough: a warm answer is a lookup and a copy). Connections are limited as
    /// [`conn`] says: idle ones are closed after [`conn::IDLE_TIMEOUT`], and at the limit
    /// the one idle the longest makes room for the next.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        let listener = tokio::net::TcpListener::from_std(self.listener)?;
        let conns = Arc::new(conn::Connections::new(conn::limit()));
        tokio::pin!(shutdown);
        // Whether the last accept failed for want of resources (said once per spell).
        let mut starved = false;
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = &mut shutdown => return Ok(()),
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                // The client gave up before it was accepted: nothing to do.
                Err(e) if is_per_connection(&e) => continue,
                Err(e) => {
                    // Out of file descriptors (EMFILE, ENFILE) or memory: the connection waits
                    // in the listen queue. Close the longest idle one and wait until a
                    // connection has closed (or a moment, when the descriptors are held
                    // elsewhere) rather than retrying at once.
                    if !starved {
                        say(&format!(
                            "cannot accept a connection ({e}); closing idle ones"
                        ));
                        starved = true;
                    }
                    conns.out_of_descriptors();
                    tokio::select! {
                        () = conns.wait_for_room() => {}
                        () = &mut shutdown => return Ok(()),
                    }
                    continue;
                }
            };
            if starved {
                say(&format!(
                    "accepting connections again (at most {} at once)",
                    conns.cap()
                ));
                starved = false;
            }
            // At the limit, the connection idle the longest makes room before this one is
            // served, and it waits until that one has closed (its descriptor is free again).
            // When every connection has a request in progress, it waits for one to finish (or
            // close); later clients wait in the listen queue meanwhile.
            while conns.at_limit() {
                if !conns.closing() {
                    conns.close_longest_idle();
                }
                tokio::select! {
                    () = conns.wait_for_room() => {}
                    () = &mut shutdown => return Ok(()),
                }
            }
            let _ = stream.set_nodelay(true);
            let conn = conns.open();
            let state = self.state.clone();
            let task_conns = conns.clone();
            tokio::spawn(async move {
                let service_conn = conn.clone();
                let service = hyper::service::service_fn(move |req| {
                    let state = state.clone();
                    let busy = service_conn.request();
                    async move {
                        let response = handle(&state, req).await;
                        drop(busy);
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
                // A client that hangs up mid-request is its own business. No hyper
                // `header_read_timeout`: `serve` already closes a connection that has not
                // completed a request head within IDLE_TIMEOUT of connecting or of its last
                // answer (a request starts only once its head is whole), with one timer per
                // connection instead of one per request (the per-request timer cost about a
                // tenth of the warm requests per second in `cargo bench --bench serve`).
                let connection = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service);
                task_conns.serve(conn, connection).await;
            });
        }
    }
}

/// An accept error that concerns only the connection being accepted (reset or aborted before
/// it was taken), after which the next accept can go ahead at once.
fn is_per_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    )
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

/// A line on stderr that cannot panic (the terminal may have gone).
fn say(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "portico serve: {what}");
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
