//! The loopback listener a browser answers a sign-in on: the PKCE redirect
//! (`identity::pkce`, a GET of `/oauth/callback`) and the SAML assertion consumer
//! (`saml::listener`, a form POST to `/saml`). One accept loop for both: it binds 127.0.0.1,
//! serves each connection on a task of its own (a browser's idle preconnect sockets must not
//! hold up the answer), reads one request per connection within [`READ_TIMEOUT`] and the
//! [`Limits`] of its protocol, answers the small page the protocol's handler chose and closes
//! the connection. The wait ends when the handler says a request was the answer it waits for;
//! anything else — another local process, a stale tab, a favicon — is answered and ignored.
//! The caller bounds the wait (its sign-in timeout) and makes it cancellable by Ctrl-C.
//!
//! Hand-written: it reads one request per connection from a browser on this machine, and a
//! server framework would be overkill. Nothing here knows a protocol.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// How long one connection may take to send its request.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Binds a listener on 127.0.0.1:`port` (0: a free one).
pub async fn bind(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port)).await
}

/// How much of a request one protocol reads.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most bytes read for the request head.
    pub head: usize,
    /// `None`: no body is read, and only the request line matters — it is taken from what
    /// arrived even when the head was cut short or passed `head`. `Some(max)`: the head must be
    /// whole (within `head` bytes) and is followed by a body of `Content-Length` bytes, at most
    /// `max`; a request that breaks either gets no answer.
    pub body: Option<usize>,
}

/// One request as read: its method, its target (`/path?query`) and its body. No `Debug`: the
/// body may be a SAML assertion.
pub struct Request {
    pub method: String,
    pub target: String,
    pub body: Vec<u8>,
}

/// The page answered to the browser: a title and a line of text. `text` is HTML: escape what
/// comes from outside before putting it there.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub title: &'static str,
    pub text: String,
}

impl Page {
    pub fn new(status: u16, title: &'static str, text: impl Into<String>) -> Page {
        Page {
            status,
            title,
            text: text.into(),
        }
    }

    /// The page of an accepted answer, the same for every protocol.
    pub fn signed_in() -> Page {
        Page::new(
            200,
            "Signed in",
            "portico has your sign-in. You can close this tab and return to the terminal.",
        )
    }
}

/// What a handler makes of one request.
#[derive(Debug)]
pub enum Reply<T> {
    /// Not a request this listener reads: the connection is closed without an answer.
    Close,
    /// Answer the page and keep waiting.
    Ignore(Page),
    /// Answer the page; the wait ends with `T`.
    Done(Page, T),
}

/// How long a failed accept waits before the next one.
const ACCEPT_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// Serves `listener` until `handle` returns [`Reply::Done`] for a request; its value ends the
/// wait. Connections still open then are dropped.
pub async fn serve_until<T, H>(listener: &TcpListener, limits: Limits, handle: H) -> T
where
    T: Send + 'static,
    H: Fn(Request) -> Reply<T> + Clone + Send + 'static,
{
    let (found, mut answers) = mpsc::channel(1);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            Some(answer) = answers.recv() => return answer,
            accepted = listener.accept() => {
                // Finished connections need no more bookkeeping.
                while connections.try_join_next().is_some() {}
                let Ok((stream, _)) = accepted else {
                    // Out of descriptors, or another failed accept: wait for a connection to
                    // end (at most ACCEPT_PAUSE) rather than spin on accept.
                    if connections.is_empty() {
                        tokio::time::sleep(ACCEPT_PAUSE).await;
                    } else {
                        let _ = tokio::time::timeout(ACCEPT_PAUSE, connections.join_next()).await;
                    }
                    continue;
                };
                let (found, handle) = (found.clone(), handle.clone());
                connections.spawn(async move {
                    if let Some(answer) = serve(stream, limits, handle).await {
                        let _ = found.send(answer).await;
                    }
                });
            }
        }
    }
}

/// Answers one connection; `Some` when the handler took it as the answer.
async fn serve<T>(
    mut stream: TcpStream,
    limits: Limits,
    handle: impl Fn(Request) -> Reply<T>,
) -> Option<T> {
    let request = read_request(&mut stream, limits).await?;
    let (page, answer) = match handle(request) {
        Reply::Close => return None,
        Reply::Ignore(page) => (page, None),
        Reply::Done(page, answer) => (page, Some(answer)),
    };
    respond(&mut stream, &page).await;
    answer
}

/// Reads an HTTP/1.x request within [`READ_TIMEOUT`] and `limits`.
async fn read_request(stream: &mut TcpStream, limits: Limits) -> Option<Request> {
    tokio::time::timeout(READ_TIMEOUT, read_within(stream, limits))
        .await
        .ok()?
}

async fn read_within(stream: &mut TcpStream, limits: Limits) -> Option<Request> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let head_end = |buf: &[u8]| {
        buf.windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|at| at + 4)
    };
    let Some(max_body) = limits.body else {
        // The request line is all that is wanted: read until the head ends, the peer stops
        // sending or the limit is reached, and take the first line of what came.
        while head_end(&buf).is_none() && buf.len() < limits.head {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let head = String::from_utf8_lossy(&buf);
        let (method, target) = request_line(head.lines().next()?)?;
        return Some(Request {
            method,
            target,
            body: Vec::new(),
        });
    };
    let end = loop {
        if let Some(end) = head_end(&buf) {
            break end;
        }
        if buf.len() > limits.head {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.lines();
    let (method, target) = request_line(lines.next()?)?;
    let length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    if length > max_body {
        return None;
    }
    while buf.len() < end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(Request {
        method,
        target,
        body: buf[end..end + length].to_vec(),
    })
}

/// `METHOD TARGET …` → (method, target).
fn request_line(line: &str) -> Option<(String, String)> {
    let mut parts = line.split_whitespace();
    Some((parts.next()?.to_string(), parts.next()?.to_string()))
}

/// Writes `page` (never cached) and closes the connection.
async fn respond(stream: &mut TcpStream, page: &Page) {
    let Page {
        status,
        title,
        text,
    } = page;
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        _ => "Not Found",
    };
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>portico: {title}</title></head>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:4em auto\"><h1>{title}</h1><p>{text}</p></body></html>"
    );
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE_ONLY: Limits = Limits {
        head: 16,
        body: None,
    };

    /// Sends `request` (and no more), then reads the answer until the server closes.
    async fn send(port: u16, request: &[u8]) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(request).await.unwrap();
        s.shutdown().await.unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out).await;
        out
    }

    /// `/done` ends the wait with the method, `/close` gets no answer, anything else a 404.
    fn handler(request: Request) -> Reply<String> {
        let page = Page::new(200, "ok", "ok");
        match request.target.as_str() {
            "/done" => Reply::Done(page, request.method),
            "/close" => Reply::Close,
            _ => Reply::Ignore(Page::new(404, "no", "no")),
        }
    }

    #[tokio::test]
    async fn an_idle_connection_never_holds_up_the_answer() {
        let listener = bind(0).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let waiter = tokio::spawn(async move { serve_until(&listener, LINE_ONLY, handler).await });
        // A browser's preconnect: open, and silent.
        let _idle = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        // Only the request line matters: a head cut short (or past the limit) still has it.
        assert!(send(port, b"GET /x HTTP/1.1\r\nCookie: a=b")
            .await
            .starts_with("HTTP/1.1 404 Not Found\r\n"));
        assert_eq!(send(port, b"GET /close HTTP/1.1\r\n\r\n").await, "");
        assert!(!waiter.is_finished());
        let long = format!("GET /done HTTP/1.1\r\nCookie: {}\r\n\r\n", "c".repeat(64));
        let page = send(port, long.as_bytes()).await;
        assert!(page.contains("Cache-Control: no-store"), "{page}");
        assert_eq!(waiter.await.unwrap(), "GET");
    }

    #[tokio::test]
    async fn a_body_is_read_to_its_length_and_a_broken_request_gets_no_answer() {
        let limits = Limits {
            head: 64,
            body: Some(8),
        };
        let listener = bind(0).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let waiter = tokio::spawn(async move {
            serve_until(&listener, limits, |r: Request| {
                Reply::Done(Page::new(200, "ok", "ok"), r.body)
            })
            .await
        });
        // Cut short: a head that never ends.
        assert_eq!(send(port, b"POST /done HTTP/1.1\r\n").await, "");
        let too_big = b"POST /done HTTP/1.1\r\nContent-Length: 9\r\n\r\n123456789";
        assert_eq!(send(port, too_big).await, "");
        assert!(!waiter.is_finished());
        send(
            port,
            b"POST /done HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody",
        )
        .await;
        assert_eq!(waiter.await.unwrap(), b"body");
    }
}
