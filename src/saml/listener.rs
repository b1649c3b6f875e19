//! The loopback Assertion Consumer Service: one HTTP listener on 127.0.0.1 that takes the
//! browser's form POST of `SAMLResponse` and `RelayState` to `/saml`. Hand-written, as the PKCE
//! listener is: it reads one request per connection and a server framework would be overkill.
//! Connections are served concurrently (idle preconnects must not hold up the answer); GETs
//! (a favicon, a reload) are answered and ignored, and so is a POST without this sign-in's
//! `RelayState` (another local process, a stale tab: 400 and keep waiting, as the PKCE listener
//! does with a wrong `state`). A POST with it ends the wait, with the assertion or with the
//! reason it was refused — expiry included, checked before answering — which the browser's
//! page says too.

use std::time::Duration;

use time::OffsetDateTime;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::response::{self, ParsedResponse};
use super::{SamlError, MARGIN};
use crate::secret::Secret;

/// The biggest form accepted: Entra's responses are a few kB; a large group claim tens of kB.
const MAX_BODY: usize = 1024 * 1024;

/// What a sign-in must get back.
#[derive(Debug, Clone)]
pub struct Expect {
    pub request_id: String,
    pub relay_state: Secret,
}

/// An accepted response: the form value as posted (passed on byte for byte) and what it says.
#[derive(Debug, Clone)]
pub struct Posted {
    pub saml_response: Secret,
    pub parsed: ParsedResponse,
}

/// Binds the listener: `port`, or a free one.
pub async fn bind(port: Option<u16>) -> Result<TcpListener, SamlError> {
    let port = port.unwrap_or(0);
    TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|source| SamlError::Listener {
            address: format!("127.0.0.1:{port}"),
            fix: if port == 0 {
                "check that loopback networking works here"
            } else {
                "another program uses acs_port; stop it or change acs_port (and the reply URL)"
            },
            source,
        })
}

/// Serves `listener` until a POST with this sign-in's RelayState arrives; its verdict ends the
/// wait.
pub async fn wait(listener: &TcpListener, expect: &Expect) -> Result<Posted, SamlError> {
    let (found, mut verdicts) = mpsc::channel(1);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            Some(verdict) = verdicts.recv() => return verdict,
            accepted = listener.accept() => {
                while connections.try_join_next().is_some() {}
                let Ok((stream, _)) = accepted else { continue };
                let (found, expect) = (found.clone(), expect.clone());
                connections.spawn(async move {
                    if let Some(verdict) = serve(stream, &expect).await {
                        let _ = found.send(verdict).await;
                    }
                });
            }
        }
    }
}

/// Answers one connection; `Some` when it was a POST answering this sign-in (the verdict on it).
async fn serve(mut stream: TcpStream, expect: &Expect) -> Option<Result<Posted, SamlError>> {
    let request = read_request(&mut stream).await?;
    if request.method != "POST" {
        respond(
            &mut stream,
            404,
            "Not here",
            "portico is waiting for the sign-in in another tab.",
        )
        .await;
        return None;
    }
    if !carries_relay_state(&request, expect) {
        respond(
            &mut stream,
            400,
            "Not this sign-in",
            "This answer did not come from the sign-in portico is waiting for (its RelayState is not this sign-in's), so portico ignored it. Return to the terminal.",
        )
        .await;
        crate::notice!(
            "ignored a POST on the SAML listener without this sign-in's RelayState; still waiting for the browser"
        );
        return None;
    }
    let verdict = judge(&request, expect, OffsetDateTime::now_utc());
    match &verdict {
        Ok(_) => {
            respond(
                &mut stream,
                200,
                "Signed in",
                "portico has your sign-in. You can close this tab and return to the terminal.",
            )
            .await
        }
        Err(e) => {
            let text = format!(
                "portico refused this answer: {}",
                html_escape(&e.to_string())
            );
            respond(&mut stream, 400, "Sign-in not accepted", &text).await
        }
    }
    Some(verdict)
}

/// Whether the form holds this sign-in's RelayState. Only such a POST is the answer to this
/// sign-in; anything else any local process could send, and it must not end the wait.
fn carries_relay_state(request: &Request, expect: &Expect) -> bool {
    url::form_urlencoded::parse(&request.body)
        .any(|(key, value)| key == "RelayState" && value == expect.relay_state.expose())
}

/// The checks of an answer that carries this sign-in's RelayState, in order: path, form, the
/// response itself, InResponseTo, its life left at `now`, its roles.
fn judge(request: &Request, expect: &Expect, now: OffsetDateTime) -> Result<Posted, SamlError> {
    let path = request.target.split('?').next().unwrap_or_default();
    if path != "/saml" {
        return Err(SamlError::WrongPath {
            path: super::errors::clean(path),
        });
    }
    let malformed = |why: &str| SamlError::Malformed {
        why: why.to_string(),
    };
    let mut saml_response = None;
    let mut relay_state = None;
    for (key, value) in url::form_urlencoded::parse(&request.body) {
        let slot = match &*key {
            "SAMLResponse" => &mut saml_response,
            "RelayState" => &mut relay_state,
            _ => {
                return Err(malformed(
                    "the form holds fields other than SAMLResponse and RelayState",
                ))
            }
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(malformed("the form repeats a field"));
        }
    }
    let saml_response = saml_response.ok_or_else(|| malformed("the form has no SAMLResponse"))?;
    // `serve` let only a form holding this sign-in's RelayState through; once, as checked above.
    debug_assert_eq!(relay_state.as_deref(), Some(expect.relay_state.expose()));
    let parsed = response::parse(&saml_response)?;
    if parsed.in_response_to.as_deref() != Some(expect.request_id.as_str()) {
        return Err(SamlError::InResponseTo);
    }
    if parsed.not_on_or_after - now <= MARGIN {
        return Err(SamlError::Expired {
            at: crate::timefmt::rfc3339_z(parsed.not_on_or_after),
        });
    }
    if parsed.roles.is_empty() {
        return Err(SamlError::NoRoles);
    }
    Ok(Posted {
        saml_response: Secret::new(saml_response),
        parsed,
    })
}

struct Request {
    method: String,
    target: String,
    body: Vec<u8>,
}

/// Reads an HTTP/1.x request: its head, and a body of `Content-Length` bytes.
async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let read = async {
        let head_end = loop {
            if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            if buf.len() > 64 * 1024 {
                return None;
            }
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.lines();
        let mut parts = lines.next()?.split_whitespace();
        let (method, target) = (parts.next()?.to_string(), parts.next()?.to_string());
        let length = lines
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if length > MAX_BODY {
            return None;
        }
        while buf.len() < head_end + length {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = buf[head_end..head_end + length].to_vec();
        Some(Request {
            method,
            target,
            body,
        })
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .ok()?
}

fn html_escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

async fn respond(stream: &mut TcpStream, status: u16, title: &str, text: &str) {
    crate::identity::respond_page(stream, status, title, text).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    async fn post(port: u16, body: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let request = format!(
            "POST /saml HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(request.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn a_post_without_this_relay_state_is_answered_400_and_the_wait_goes_on() {
        let listener = bind(None).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let expect = Expect {
            request_id: "_id".into(),
            relay_state: Secret::new("right".to_string()),
        };
        let waiter = tokio::spawn(async move { wait(&listener, &expect).await });
        for body in [
            "SAMLResponse=x&RelayState=wrong",
            "SAMLResponse=x",
            "RelayState=",
            "",
        ] {
            let page = post(port, body).await;
            assert!(page.starts_with("HTTP/1.1 400"), "{body}: {page}");
            assert!(page.contains("Not this sign-in"), "{body}: {page}");
        }
        assert!(!waiter.is_finished(), "still waiting for the real answer");
        // This sign-in's RelayState: the verdict ends the wait, and the page says it.
        let page = post(port, "SAMLResponse=%21%21&RelayState=right").await;
        assert!(page.starts_with("HTTP/1.1 400"), "{page}");
        assert!(page.contains("not base64"), "{page}");
        assert!(matches!(
            waiter.await.unwrap(),
            Err(SamlError::Malformed { .. })
        ));
    }
}
