//! Where the server's credentials come from: the credential engine, asked for keys with more
//! than [`MIN_REMAINING`] left (botocore refreshes 15 minutes before expiry). A warm request is
//! the engine's synchronous cache read; a miss is one engine flight per role however many
//! requests arrive together (and one GetRoleCredentials across processes, through the engine's
//! lock file). Requests never sign in: a needed sign-in is a 503 naming `portico login`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use hyper::body::Bytes;
use serde::Serialize;

use crate::engine::{BrowserChoice, Engine, Target, Wanted, MIN_REMAINING};
use crate::failure::FailureKind;
use crate::identity::OnMissing;
use crate::model::RoleCredentials;
use crate::settings::{Context, Environment};

use super::route::Route;

/// An answer ready to send: the container-credentials JSON.
#[derive(Debug)]
pub struct Answer {
    pub body: Bytes,
}

/// Why a request got no keys: the HTTP status, a short code and a message for the client.
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

/// The routes asked for so far and the engine behind them, shared by every connection.
pub struct Credentials {
    env: Environment,
    engine: Engine,
    slots: Mutex<HashMap<Route, Arc<Slot>>>,
    /// Whether "sign in with portico login" was said on stderr since keys last came.
    login_said: AtomicBool,
}

#[derive(Default)]
struct Slot {
    /// The role the route names, resolved against the config file by its first request, and
    /// what a missing sign-in says (requests never sign in; the hint follows its browser).
    target: Mutex<Option<(Target, OnMissing)>>,
    /// Held while this route's keys are fetched (or its target resolved): later requests wait
    /// and take the result.
    fetching: tokio::sync::Mutex<()>,
    /// The last fetch that failed, and when it ended: the requests that waited for it get its
    /// answer instead of trying again one after another.
    failed: Mutex<Option<(std::time::Instant, Failure)>>,
}

impl Slot {
    fn target(&self) -> Option<(Target, OnMissing)> {
        self.target
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The container-credentials JSON (docs/protocol.md: `Token`, not `SessionToken`).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerJson<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: &'a str,
    expiration: String,
    account_id: &'a str,
}

impl Credentials {
    /// Credentials resolved against the config file and caches that `env` names.
    pub fn new(env: Environment) -> anyhow::Result<Credentials> {
        Ok(Credentials {
            engine: Engine::new(&env)?,
            env,
            slots: Mutex::new(HashMap::new()),
            login_said: AtomicBool::new(false),
        })
    }

    /// Keys for `route` with more than 15 minutes left: the engine's cache, or one fetch for
    /// all the requests waiting on it. Keys that are fresh from the service but already
    /// shorter-lived than that (a role whose sessions last under 15 minutes) are handed out as
    /// they are.
    pub async fn get(&self, route: &Route) -> Result<Answer, Failure> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.entry(route.clone()).or_default().clone()
        };
        if let Some((target, _)) = slot.target() {
            if let Some(creds) = self.engine.cached(&target, MIN_REMAINING) {
                return Ok(answer(&creds));
            }
        }
        let arrived = std::time::Instant::now();
        let _fetching = slot.fetching.lock().await;
        if let Some((at, failure)) = &*slot.failed.lock().unwrap_or_else(|e| e.into_inner()) {
            if *at >= arrived {
                return Err(failure.clone());
            }
        }
        let result = match slot.target() {
            Some(target) => Ok(target),
            None => self.resolve(route),
        };
        let result = match result {
            Ok((target, on_missing)) => {
                *slot.target.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((target.clone(), on_missing.clone()));
                self.engine
                    .obtain(&target, &on_missing, MIN_REMAINING)
                    .await
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(creds) => {
                self.login_said.store(false, Ordering::Relaxed);
                Ok(answer(&creds))
            }
            Err(err) => {
                let failure = self.failure(route, &err);
                *slot.failed.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((std::time::Instant::now(), failure.clone()));
                Err(failure)
            }
        }
    }

    /// Checks that `wanted` (what the command line asked for) names something the config file
    /// has, for `portico serve` to refuse a bad `--profile` at start rather than on the first
    /// request, with the error saying where the name came from. Returns the target it names.
    pub fn check(&self, wanted: &Wanted) -> anyhow::Result<Target> {
        let ctx = Context::load(self.env.clone())?;
        Ok(crate::engine::resolve(&ctx, wanted)?.target)
    }

    /// The role `route` names in the config file as it is now, and what its missing sign-in
    /// says: `portico login` where its browser can open, as for `credentials --no-login`.
    fn resolve(&self, route: &Route) -> anyhow::Result<(Target, OnMissing)> {
        let ctx = Context::load(self.env.clone())?;
        if let Route::Role { account_id, .. } = route {
            crate::settings::check_account_id("the path's account", account_id)?;
        }
        let resolved = crate::engine::resolve(&ctx, &route.wanted())?;
        let setting = (resolved.target).browser_setting(&ctx, None, resolved.profile.as_deref());
        let on_missing = crate::engine::sign_in_policy(&ctx, true, BrowserChoice::Setting(setting));
        Ok((resolved.target, on_missing))
    }

    fn failure(&self, route: &Route, err: &anyhow::Error) -> Failure {
        // Each cause once (an error quoting its OS error would say it twice with `{:#}`),
        // cleaned: the message goes to stderr and to the client.
        let message = crate::diag::error_text(err);
        let (status, code) = http_failure(crate::engine::failure::kind(err));
        let message = match status {
            503 => {
                if !self.login_said.swap(true, Ordering::Relaxed) {
                    eprintln!(
                        "portico serve: {}; requests get 503 until then",
                        crate::sanitize::for_terminal(&message)
                    );
                }
                if message.contains("portico login") {
                    message
                } else {
                    format!("{message}; run `portico login`")
                }
            }
            404 => format!("no credentials for {}: {message}", route.describe()),
            _ => message,
        };
        Failure {
            status,
            code,
            message,
        }
    }
}

fn answer(creds: &RoleCredentials) -> Answer {
    let json = ContainerJson {
        access_key_id: &creds.access_key_id,
        secret_access_key: creds.secret_access_key.expose(),
        token: creds.session_token.expose(),
        expiration: creds.expiration_rfc3339(),
        account_id: &creds.account_id,
    };
    Answer {
        body: Bytes::from(serde_json::to_vec(&json).expect("strings always serialize")),
    }
}

/// How the server answers a request it has no keys for, from the kind of failure (the one the
/// exit status also comes from): a sign-in that is needed is 503 (the server never signs in), a
/// profile or session the config lacks 404.
fn http_failure(kind: FailureKind) -> (u16, &'static str) {
    match kind {
        FailureKind::LoginRequired | FailureKind::LoginFailed => (503, "LoginRequired"),
        FailureKind::Config => (404, "NotFound"),
        FailureKind::AccessDenied => (403, "AccessDenied"),
        FailureKind::Service => (502, "ServiceUnavailable"),
        // The server's keyring is locked or gone: nothing the client can fix by retrying soon.
        FailureKind::Keyring => (503, "KeyringUnavailable"),
        FailureKind::Cancelled | FailureKind::Other => (500, "InternalError"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saml::SamlError;

    fn credentials(dir: &std::path::Path) -> Credentials {
        Credentials::new(Environment {
            home: Some(dir.to_path_buf()),
            cache_home: Some(dir.join("cache")),
            config_file: Some(dir.join("config")),
            ..Environment::default()
        })
        .unwrap()
    }

    /// An OS error that a message quotes and that is also the error's source (as the SAML
    /// listener's is) is said once in the answer.
    #[test]
    fn a_failure_says_its_os_error_once() {
        let dir = tempfile::tempdir().unwrap();
        let creds = credentials(dir.path());
        let route = Route::Profile("dev".into());
        let os = || std::io::Error::from_raw_os_error(98);
        let said = os().to_string();
        let listener = anyhow::Error::new(SamlError::Listener {
            address: "127.0.0.1:1".into(),
            source: os(),
            fix: "free the port",
        });
        let quoted = anyhow::Error::new(os()).context(format!("cannot read the token: {said}"));
        for (err, status) in [(listener, 500), (quoted, 500)] {
            let failure = creds.failure(&route, &err);
            assert_eq!(failure.status, status, "{}", failure.message);
            assert_eq!(
                failure.message.matches(&said).count(),
                1,
                "{}",
                failure.message
            );
        }
    }
}
