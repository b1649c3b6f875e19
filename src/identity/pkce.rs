//! The browser flow: authorization code with PKCE (docs/protocol.md §1). The `oauth2` crate makes
//! the verifier, challenge, state and authorize URL; the loopback listener
//! ([`crate::http::loopback`]) reads one GET per connection on 127.0.0.1, and only a callback
//! carrying this sign-in's state ends the wait: anything else — another local process, a stale
//! tab — is answered and ignored.

use oauth2::basic::BasicClient;
use oauth2::{AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl};
use tokio::net::TcpListener;

use super::errors::from_sdk;
use super::register::{self, Flow};
use super::vanity::Wire;
use super::{IdentityError, LoginEvent, LoginOptions, NewToken, Store};
use crate::cache::token::Registration;
use crate::consts::GRANT_AUTHORIZATION_CODE;
use crate::http::loopback::{self, Page, Reply, Request};

/// What the loopback listener got from the browser.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Callback {
    Code(String),
    Denied,
}

pub(super) async fn run(
    client: &aws_sdk_ssooidc::Client,
    store: &Store,
    wire: &Wire,
    options: &LoginOptions,
) -> Result<(NewToken, Registration), IdentityError> {
    let session = &wire.session;
    let registration = register::client_for(client, store, wire, Flow::Pkce).await?;
    let listener = loopback::bind(0).await.map_err(IdentityError::Listener)?;
    let port = listener
        .local_addr()
        .map_err(IdentityError::Listener)?
        .port();
    let redirect_uri = format!("http://127.0.0.1:{port}/oauth/callback");

    let scopes = if session.scopes.is_empty() {
        crate::consts::SCOPE_ACCOUNT_ACCESS.to_string()
    } else {
        session.scopes.join(" ")
    };
    let invalid = |what: &str| IdentityError::Service {
        operation: "authorize",
        detail: format!("cannot build the {what} URL"),
    };
    let oauth = BasicClient::new(ClientId::new(registration.client_id.clone()))
        .set_auth_uri(
            AuthUrl::new(format!("{}/authorize", session.oidc_endpoint))
                .map_err(|_| invalid("authorize"))?,
        )
        .set_redirect_uri(RedirectUrl::new(redirect_uri.clone()).map_err(|_| invalid("redirect"))?);
    // 48 random bytes make a 64-character verifier, as the AWS CLI sends.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256_len(48);
    let (url, state) = oauth
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        // The service reads the parameter literally named `scopes`.
        .add_extra_param("scopes", scopes)
        .url();

    // `firefox-container` without a name opens the sign-in in a container named for the session.
    let container = session.name.as_deref().unwrap_or("portico");
    if let Some(reporter) = &options.reporter {
        let opener = if options.no_browser {
            None
        } else {
            options.browser.open(url.as_str(), container).ok().flatten()
        };
        reporter.report(LoginEvent::Browser {
            url: url.to_string(),
            opener,
        });
    } else if options.no_browser || options.browser.is_none() {
        eprintln!(
            "portico: to sign in to {}, open this URL in a browser on this machine:\n\n  {url}\n",
            session.label()
        );
    } else {
        match options.browser.open(url.as_str(), container) {
            Ok(Some(opener)) => eprintln!(
                "portico: asked {opener} to open the sign-in page for {}.\n\
                 If no page opened, open this URL yourself:\n\n  {url}\n",
                session.label()
            ),
            // `none` was handled above.
            Ok(None) => {}
            Err(e) => eprintln!(
                "portico: could not open a browser ({e}); open this URL in a browser on this machine:\n\n  {url}\n"
            ),
        }
    }
    if options.reporter.is_none() {
        eprintln!(
            "portico: waiting for the browser (up to {}; Ctrl-C to cancel)…",
            crate::output::duration::spoken_std(options.timeout)
        );
    }

    let callback = tokio::time::timeout(
        options.timeout,
        wait_for_callback(&listener, state.secret()),
    )
    .await
    .map_err(|_| IdentityError::Timeout {
        seconds: options.timeout.as_secs(),
    })?;
    drop(listener);
    let code = match callback {
        Callback::Code(code) => code,
        Callback::Denied => {
            return Err(IdentityError::Denied {
                place: "in the browser",
            })
        }
    };

    let output = client
        .create_token()
        .client_id(&registration.client_id)
        .client_secret(registration.client_secret.expose())
        .grant_type(GRANT_AUTHORIZATION_CODE)
        .code(code)
        .code_verifier(verifier.secret())
        .redirect_uri(&redirect_uri)
        .send()
        .await
        .map_err(|err| from_sdk("CreateToken", &session.oidc_endpoint, &err))?;
    Ok((NewToken::from_output(&output)?, registration))
}

/// How much of a request the callback listener reads: its request line.
const LIMITS: loopback::Limits = loopback::Limits {
    head: 16 * 1024,
    body: None,
};

/// Serves the listener until a request arrives at `/oauth/callback` with this sign-in's
/// `state` and a code (or an error).
async fn wait_for_callback(listener: &TcpListener, state: &str) -> Callback {
    let state = state.to_string();
    loopback::serve_until(listener, LIMITS, move |request| answer(request, &state)).await
}

/// What one request gets; `Done` when it carried the callback of this sign-in.
fn answer(request: Request, state: &str) -> Reply<Callback> {
    if request.method != "GET" || !request.target.starts_with('/') {
        return Reply::Close;
    }
    let Ok(url) = url::Url::parse(&format!("http://127.0.0.1{}", request.target)) else {
        return Reply::Ignore(Page::new(
            400,
            "Bad request",
            "portico could not read this request.",
        ));
    };
    if url.path() != "/oauth/callback" {
        return Reply::Ignore(Page::new(404, "Not found", "Nothing here."));
    }
    let get = |key: &str| {
        url.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    if get("state").as_deref() != Some(state) {
        crate::notice!(
            "ignored an answer on the sign-in listener without this sign-in's state; still waiting for the browser"
        );
        return Reply::Ignore(Page::new(
            400,
            "Not this sign-in",
            "This answer did not come from the sign-in portico is waiting for, so portico ignored it. Return to the terminal.",
        ));
    }
    if let Some(code) = get("code").filter(|c| !c.is_empty()) {
        return Reply::Done(Page::signed_in(), Callback::Code(code));
    }
    let error = get("error").unwrap_or_else(|| "no code".to_string());
    crate::debug!(
        "browser answered with error {}",
        crate::sanitize::for_terminal(&error)
    );
    Reply::Done(
        Page::new(
            200,
            "Sign-in not completed",
            "The sign-in was not approved. You can close this tab; the terminal says what to do next.",
        ),
        Callback::Denied,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    async fn get(port: u16, target: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    async fn listen() -> (TcpListener, u16) {
        let l = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = l.local_addr().unwrap().port();
        (l, port)
    }

    #[tokio::test]
    async fn takes_the_code_when_state_matches_and_ignores_other_paths() {
        let (l, port) = listen().await;
        let waiter = tokio::spawn(async move { wait_for_callback(&l, "st4te").await });
        assert!(get(port, "/favicon.ico").await.starts_with("HTTP/1.1 404"));
        let page = get(port, "/oauth/callback?code=c0de&state=st4te").await;
        assert!(page.starts_with("HTTP/1.1 200") && page.contains("close this tab"));
        assert_eq!(waiter.await.unwrap(), Callback::Code("c0de".into()));
    }

    #[tokio::test]
    async fn answers_and_ignores_a_wrong_or_missing_state() {
        let (l, port) = listen().await;
        let waiter = tokio::spawn(async move { wait_for_callback(&l, "right").await });
        for target in [
            "/oauth/callback?code=c0de&state=wrong",
            "/oauth/callback?code=c0de",
            "/oauth/callback?error=access_denied",
        ] {
            assert!(
                get(port, target).await.starts_with("HTTP/1.1 400"),
                "{target}"
            );
        }
        assert!(!waiter.is_finished(), "still waiting for the real callback");
        get(port, "/oauth/callback?code=real&state=right").await;
        assert_eq!(waiter.await.unwrap(), Callback::Code("real".into()));
    }

    #[tokio::test]
    async fn denial_is_reported() {
        let (l, port) = listen().await;
        let waiter = tokio::spawn(async move { wait_for_callback(&l, "s").await });
        get(port, "/oauth/callback?error=access_denied&state=s").await;
        assert_eq!(waiter.await.unwrap(), Callback::Denied);
    }

    #[test]
    fn limits_are_said_as_given() {
        assert_eq!(
            crate::output::duration::spoken_std(Duration::from_secs(5)),
            "5 s"
        );
        assert_eq!(
            crate::output::duration::spoken_std(Duration::from_secs(600)),
            "10 min"
        );
        assert_eq!(
            crate::output::duration::spoken_std(Duration::from_secs(90)),
            "1 min 30 s"
        );
    }
}
