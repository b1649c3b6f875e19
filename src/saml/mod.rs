//! SAML straight into IAM roles, through Entra ID's "AWS Single-Account Access" application
//! (docs/protocol.md, SAML sign-in and STS): a browser sign-in whose assertion portico receives
//! on a loopback listener and keeps for its few minutes of life, and STS `AssumeRoleWithSAML`,
//! which turns it into keys for one of the roles it lists.
//!
//! - [`assertion`] gives a usable assertion for a saml-session: the kept one, else one browser
//!   trip (once across processes: the others wait on the session's lock and read the kept one).
//! - [`sign_in`] makes the browser trip whatever is kept (`portico login --saml-session`),
//!   unless another process signed in while it waited for the session's lock.
//! - [`assume`] calls STS for one role of the assertion (remembering which roles refused the
//!   assertion's SessionDuration, so the next call for them asks 3600 at once).
//!
//! The engine's `Target::Saml` uses these; commands go through the engine.

mod durations;
mod errors;
pub mod failure;
mod listener;
mod request;
mod response;
mod store;
mod sts;

use time::OffsetDateTime;

pub use errors::SamlError;
pub use request::AuthnRequest;
pub use response::{parse as parse_response, SamlRole};
pub use store::{Assertion, AssertionStore, MARGIN};
pub use sts::{assume, DEFAULT_DURATION};

use crate::cache::lock;
use crate::identity::{self, BrowserAvailability, LoginOptions, OnMissing};
use crate::secret::Secret;
use crate::settings::SamlSession;

/// For tests: saml-session `corp` on Entra's SAML endpoint, no fixed `acs_port`.
#[cfg(test)]
pub(crate) fn test_session() -> SamlSession {
    SamlSession {
        name: "corp".into(),
        idp_url: "https://login.microsoftonline.com/t/saml2".into(),
        entity_id: "urn:amazon:webservices".into(),
        sts_region: "us-east-1".into(),
        acs_port: None,
        sts_endpoint: "https://sts.us-east-1.amazonaws.com".into(),
        storage: Default::default(),
    }
}

/// The ACS URL for a listener on `port`: what the reply URLs of the Entra application must
/// admit (`http://localhost/saml` admits every port).
pub fn acs_url(port: u16) -> String {
    format!("http://localhost:{port}/saml")
}

/// The reply URL an administrator registers for `session`: fixed with `acs_port`, else the
/// port-less form Entra matches for any port.
pub fn reply_url(session: &SamlSession) -> String {
    match session.acs_port {
        Some(port) => acs_url(port),
        None => "http://localhost/saml".to_string(),
    }
}

/// One browser trip: the AuthnRequest opened in `options.browser`, the response taken on the
/// loopback listener and checked, the assertion kept in `store`. Fails at once where no browser
/// can open. A failure is remembered for `portico doctor` ([`failure`]).
///
/// Holds the saml-session's lock, so that a second `portico login --saml-session` waits
/// instead of opening a second browser tab, and then uses the assertion the first one kept.
/// Ctrl-C ends it with [`SamlError::Cancelled`].
pub async fn sign_in(
    store: &AssertionStore,
    session: &SamlSession,
    options: &LoginOptions,
) -> Result<Assertion, SamlError> {
    cancellable(async {
        // What was kept before waiting: an assertion that appears while we wait is another
        // process's fresh sign-in.
        let before = store.load_any(session);
        let (_lock, waited) = take_lock(store, session).await?;
        if waited {
            if let Some(kept) = store.load(session, OffsetDateTime::now_utc()) {
                let new = before
                    .as_ref()
                    .is_none_or(|old| old.saml_response.expose() != kept.saml_response.expose());
                if new {
                    crate::notice!(
                        "another portico process just signed in to {}; using that sign-in",
                        crate::sanitize::for_terminal(&session.label())
                    );
                    return Ok(kept);
                }
            }
        }
        sign_in_locked(store, session, options).await
    })
    .await
}

/// [`sign_in`] for a caller that holds the session's lock.
async fn sign_in_locked(
    store: &AssertionStore,
    session: &SamlSession,
    options: &LoginOptions,
) -> Result<Assertion, SamlError> {
    let result = browser_trip(store, session, options).await;
    if let Err(e) = &result {
        failure::remember(store, session, None, e);
    }
    result
}

/// Runs a sign-in so that Ctrl-C ends it with [`SamlError::Cancelled`] (which exits 130 with
/// "portico: cancelled", as the Identity Center sign-ins do) instead of the default kill.
/// Listening for Ctrl-C takes it over for the rest of the process, and the caller may go on to
/// more network calls (AssumeRoleWithSAML): a later Ctrl-C still ends the caller's work that
/// runs through [`identity::until_cancelled`] as cancelled. The portal handles
/// Ctrl-C and signals itself (it must restore the terminal first): there the work just runs.
async fn cancellable<T>(
    work: impl std::future::Future<Output = Result<T, SamlError>>,
) -> Result<T, SamlError> {
    if crate::diag::redirected() {
        return work.await;
    }
    let mut interrupt = identity::Interrupt::new();
    let result = tokio::select! {
        biased;
        _ = interrupt.recv() => return Err(SamlError::Cancelled),
        result = work => result,
    };
    interrupt.keep_honouring();
    result
}

/// Takes the saml-session's sign-in lock; the flag says whether another process held it (and
/// so may have just signed in). On a thread of its own ([`lock::take_on_thread`]): the caller
/// stays cancellable by Ctrl-C.
async fn take_lock(
    store: &AssertionStore,
    session: &SamlSession,
) -> Result<(lock::SessionLock, bool), SamlError> {
    let (store, session) = (store.clone(), session.clone());
    lock::take_on_thread(move |waiting| {
        store.lock(&session, || {
            waiting();
            crate::notice!(
                "another portico process is signing in to {}; waiting for it…",
                crate::sanitize::for_terminal(&session.label())
            );
        })
    })
    .await
    .ok_or_else(|| SamlError::Service {
        detail: "the thread waiting for the sign-in lock ended".into(),
    })
}

async fn browser_trip(
    store: &AssertionStore,
    session: &SamlSession,
    options: &LoginOptions,
) -> Result<Assertion, SamlError> {
    if options.no_browser || options.browser.is_none() {
        return Err(SamlError::NoBrowser {
            reason: "no browser is to be opened (--no-browser or browser `none`); the answer must reach this machine's loopback listener".into(),
        });
    }
    if let BrowserAvailability::No(reason) = options.browser.availability() {
        return Err(SamlError::NoBrowser {
            reason: reason.to_string(),
        });
    }
    let listener = listener::bind(session.acs_port).await?;
    let port = listener
        .local_addr()
        .map_err(|source| SamlError::Listener {
            address: "127.0.0.1".into(),
            source,
            fix: "check that loopback networking works here",
        })?
        .port();
    let acs = acs_url(port);
    let request = AuthnRequest::new(&session.idp_url, &session.entity_id, &acs).map_err(|_| {
        SamlError::Malformed {
            why: "idp_url is not a URL".into(),
        }
    })?;
    let container = session.name.as_str();
    match options.browser.open(&request.url, container) {
        // A notice: on stderr, or in the portal's status line (nothing may draw over it).
        Ok(Some(opener)) => crate::notice!(
            "asked {opener} to open the SAML sign-in of {}; waiting for the browser (up to {}; Ctrl-C to cancel)…",
            session.label(),
            crate::output::duration::spoken_std(options.timeout)
        ),
        Ok(None) => {}
        Err(e) => {
            return Err(SamlError::NoBrowser {
                reason: e.to_string(),
            })
        }
    }
    let expect = listener::Expect {
        request_id: request.id.clone(),
        relay_state: Secret::new(request.relay_state.clone()),
    };
    let posted = tokio::time::timeout(options.timeout, listener::wait(&listener, &expect))
        .await
        .map_err(|_| SamlError::Timeout {
            acs,
            reply: reply_url(session),
            seconds: options.timeout.as_secs(),
        })??;
    drop(listener);
    // The listener checked its expiry and roles before answering the browser.
    let kept = Assertion::new(session, posted);
    match store.store(session, &kept) {
        Ok(path) => crate::debug!("kept the SAML assertion in {}", path.display()),
        // Never a file instead: the sign-in fails with the keyring's line.
        Err(crate::cache::secrets::SplitError::Vault(e)) => return Err(e.into()),
        Err(crate::cache::secrets::SplitError::Io(e)) => crate::cache::files::note_unwritable(
            store
                .path(session)
                .parent()
                .unwrap_or(std::path::Path::new(".")),
            &e,
        ),
        Err(e) => crate::debug!("cannot keep the SAML assertion: {e}"),
    }
    Ok(kept)
}

/// A usable assertion for `session`: the kept one, else a sign-in as `on_missing` allows —
/// taken once however many processes ask at the same moment.
pub async fn assertion(
    store: &AssertionStore,
    session: &SamlSession,
    on_missing: &OnMissing,
) -> Result<Assertion, SamlError> {
    if let Some(kept) = store.try_load(session, OffsetDateTime::now_utc())? {
        return Ok(kept);
    }
    match on_missing {
        OnMissing::Login(_) => cancellable(assertion_locked(store, session, on_missing)).await,
        OnMissing::Fail(_) => assertion_locked(store, session, on_missing).await,
    }
}

async fn assertion_locked(
    store: &AssertionStore,
    session: &SamlSession,
    on_missing: &OnMissing,
) -> Result<Assertion, SamlError> {
    let (_lock, _) = take_lock(store, session).await?;
    if let Some(kept) = store.load(session, OffsetDateTime::now_utc()) {
        return Ok(kept);
    }
    match on_missing {
        OnMissing::Login(options) => sign_in_locked(store, session, options).await,
        OnMissing::Fail(browser) => Err(match browser {
            BrowserAvailability::No(reason) => SamlError::NoBrowser {
                reason: reason.to_string(),
            },
            BrowserAvailability::Yes => SamlError::LoginRequired {
                session: session.label(),
                name: crate::sanitize::for_terminal(&session.name),
            },
        }),
    }
}

/// The roles a saml-session's user may take: those of the kept assertion (however old: the
/// roles outlive the assertion's five minutes), else of a new sign-in as `on_missing` allows;
/// `refresh` signs in again whatever is kept. The portal and doctor list roles through this.
pub async fn roles(
    store: &AssertionStore,
    session: &SamlSession,
    on_missing: &OnMissing,
    refresh: bool,
) -> Result<Vec<SamlRole>, SamlError> {
    if !refresh {
        if let Some(kept) = store.load_any(session) {
            return Ok(kept.roles);
        }
    }
    let assertion = match (refresh, on_missing) {
        (true, OnMissing::Login(options)) => sign_in(store, session, options).await?,
        _ => assertion(store, session, on_missing).await?,
    };
    Ok(assertion.roles)
}
