//! The loopback Assertion Consumer Service: one HTTP listener on 127.0.0.1 that takes the
//! browser's form POST of `SAMLResponse` and `RelayState` to `/saml`, on the accept loop the PKCE
//! listener uses too ([`crate::http::loopback`]). GETs
//! (a favicon, a reload) are answered and ignored, and so is a POST without this sign-in's
//! `RelayState` (another local process, a stale tab: 400 and keep waiting, as the PKCE listener
//! does with a wrong `state`). A POST with it ends the wait, with the assertion or with the
//! reason it was refused — expiry included, checked before answering — which the browser's
//! page says too.

use time::OffsetDateTime;
use tokio::net::TcpListener;

use super::response::{self, ParsedResponse};
use super::{SamlError, MARGIN};
use crate::http::loopback::{self, Page, Reply, Request};
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

/// How much of a request the listener reads: a whole one, with a form of at most [`MAX_BODY`].
const LIMITS: loopback::Limits = loopback::Limits {
    head: 64 * 1024,
    body: Some(MAX_BODY),
};

/// Binds the listener: `port`, or a free one.
pub async fn bind(port: Option<u16>) -> Result<TcpListener, SamlError> {
    let port = port.unwrap_or(0);
    loopback::bind(port)
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
    let expect = expect.clone();
    loopback::serve_until(listener, LIMITS, move |request| answer(&request, &expect)).await
}

/// What one request gets; `Done` when it was a POST answering this sign-in (the verdict on it).
fn answer(request: &Request, expect: &Expect) -> Reply<Result<Posted, SamlError>> {
    if request.method != "POST" {
        return Reply::Ignore(Page::new(
            404,
            "Not here",
            "portico is waiting for the sign-in in another tab.",
        ));
    }
    if !carries_relay_state(request, expect) {
        crate::notice!(
            "ignored a POST on the SAML listener without this sign-in's RelayState; still waiting for the browser"
        );
        return Reply::Ignore(Page::new(
            400,
            "Not this sign-in",
            "This answer did not come from the sign-in portico is waiting for (its RelayState is not this sign-in's), so portico ignored it. Return to the terminal.",
        ));
    }
    let verdict = judge(request, expect, OffsetDateTime::now_utc());
    let page = match &verdict {
        Ok(_) => Page::signed_in(),
        Err(e) => Page::new(
            400,
            "Sign-in not accepted",
            format!(
                "portico refused this answer: {}",
                html_escape(&e.to_string())
            ),
        ),
    };
    Reply::Done(page, verdict)
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
    // `answer` let only a form holding this sign-in's RelayState through; once, as checked above.
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

fn html_escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

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
