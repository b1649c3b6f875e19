//! The session's jobs: getting a token (silently, or by a sign-in), listing the accounts and
//! the saml-sessions' roles, and signing out.

use std::path::Path;

use time::OffsetDateTime;

use crate::cache::accounts::AccountsCache;
use crate::identity::{self, Browser, IdentityError, LoginOptions, Method, OnMissing, Store};
use crate::saml;
use crate::settings::SsoSession;
use crate::tui::{Action, App, LoginState};

use super::apply;
use super::jobs::{describe, Job};
use super::listing::list_accounts;
use super::portal::Portal;

/// A cached account list younger than this is shown without asking the portal again; an
/// older one is shown at once and refreshed in the background.
const REFRESH_AFTER: time::Duration = time::Duration::minutes(10);

/// A job in the sign-in or the refresh slot, and whether it lists the accounts (a sign-in may
/// only get a token; the refresh slot also carries a sign-out).
pub(super) struct Slot {
    job: Job,
    lists: bool,
}

impl Slot {
    fn listing(&self) -> bool {
        self.lists && self.job.is_running()
    }
}

impl Portal {
    /// Whether a listing is under way (a second one is not started for ⏎ on a loading row).
    pub(super) fn listing(&self) -> bool {
        [&self.sign_in, &self.refresh]
            .into_iter()
            .flatten()
            .any(Slot::listing)
    }

    /// Whether a sign-in job is still getting its token (or the list after it).
    pub(super) fn signing_in(&self) -> bool {
        self.sign_in.as_ref().is_some_and(|s| s.job.is_running())
    }

    /// Works on `session` from now on: the cached list and the recent roles at once, then
    /// the token (refreshed silently, or a sign-in when there is none) and a fresh list.
    pub(super) fn open(&mut self, session: SsoSession, app: &mut App) {
        self.new_epoch();
        let key = session.cache_key().to_string();
        self.current = Some(session);
        let recent = self.memory.recent_for(&key);
        self.priority
            .set_recent(recent.iter().map(|r| r.account_id.clone()));
        self.priority.set_filter_matches(Vec::<String>::new());
        apply(app, Action::RecentUses(recent));
        let now = OffsetDateTime::now_utc();
        let cached = AccountsCache::under(&self.cache_root).load(&key);
        let stale = match &cached {
            Some((_, at)) => *at > now || now - *at >= REFRESH_AFTER,
            None => true,
        };
        if let Some((accounts, fetched_at)) = cached {
            apply(
                app,
                Action::AccountsLoaded {
                    accounts,
                    fetched_at,
                },
            );
        }
        self.connect(None, stale);
        self.list_saml();
    }

    /// The world moved on (another session, a sign-out): what the jobs started before report
    /// from now on is dropped, the session's jobs are cancelled, and keys fetched for the
    /// effect asked again are no longer handed out. A credential fetch under way runs on
    /// (one at a time), its answer unused.
    fn new_epoch(&mut self) {
        self.epoch.next();
        self.sign_in = None;
        self.refresh = None;
        self.fetched = None;
        self.link = None;
    }

    /// Lists each saml-session's roles beside the sso-session's: those of its last assertion,
    /// or of a browser sign-in where none is kept (its notice goes to the status line).
    pub(super) fn list_saml(&mut self) {
        self.saml_jobs.clear();
        let store = self.engine.saml_store();
        for name in self.ctx.saml_session_names() {
            let session = match self.ctx.saml_session(&name) {
                Ok(session) => session,
                Err(e) => {
                    let _ = self.tx.send(Action::Error(e.to_string()));
                    continue;
                }
            };
            let on_missing = self.saml_on_missing(&name);
            let store = store.clone();
            let job = self
                .runtime
                .spawn(self.courier(), move |courier| async move {
                    match saml::roles(&store, &session, &on_missing, false).await {
                        Ok(roles) => courier.send(Action::SamlRoles {
                            session: session.name.clone(),
                            roles,
                        }),
                        Err(e) => courier.fail(&e.into()),
                    }
                });
            self.saml_jobs.push(job);
        }
    }

    /// Gets a token, then lists the accounts if `list`. `device_code: None` first tries the
    /// cached token (refreshing it silently) and signs in only if that fails; `Some` signs in
    /// now, with the device code if `true`.
    pub(super) fn connect(&mut self, device_code: Option<bool>, list: bool) {
        let Some(session) = self.current.clone() else {
            return;
        };
        // Drop a sign-in under way before starting another.
        self.sign_in = None;
        let store = self.store.clone();
        let accounts = AccountsCache::under(&self.cache_root);
        let priority = self.priority.clone();
        let browser = match self.browser(self.profile.as_deref(), session.name.as_deref()) {
            Ok(browser) => browser,
            Err(e) => {
                let _ = self.tx.send(Action::Error(describe(&e)));
                Browser::system()
            }
        };
        let job = self
            .runtime
            .spawn(self.courier(), move |courier| async move {
                let options = |device: bool| LoginOptions {
                    method: if device {
                        Method::DeviceCode
                    } else {
                        Method::Auto
                    },
                    reporter: Some(courier.login_reporter()),
                    browser: browser.clone(),
                    ..LoginOptions::default()
                };
                let token = match device_code {
                    Some(device) => identity::login(&store, &session, &options(device)).await,
                    None => match identity::access_token(
                        &store,
                        &session,
                        &OnMissing::fail_by_environment(),
                    )
                    .await
                    {
                        Ok(_) => store
                            .tokens
                            .load_token(&session)
                            .map_err(IdentityError::from)
                            .and_then(|t| {
                                t.ok_or(IdentityError::Service {
                                    operation: "CreateToken",
                                    detail: "the token vanished from the cache".into(),
                                })
                            }),
                        Err(IdentityError::LoginRequired { .. }) => {
                            identity::login(&store, &session, &options(false)).await
                        }
                        Err(e) => Err(e),
                    },
                };
                let token = match token {
                    Ok(token) => token,
                    Err(IdentityError::Cancelled) => return,
                    Err(e) => {
                        courier.send(Action::LoginState(LoginState::SignedOut));
                        courier.send(Action::Error(describe(&anyhow::Error::from(e))));
                        return;
                    }
                };
                if let Some(expires_at) = token.expires_at() {
                    courier.send(Action::LoginState(LoginState::SignedIn { expires_at }));
                }
                if list {
                    list_accounts(&courier, &store, &session, &accounts, &priority).await;
                }
            });
        self.sign_in = Some(Slot { job, lists: list });
    }

    pub(super) fn refresh_list(&mut self) {
        let Some(session) = self.current.clone() else {
            return;
        };
        let store = self.store.clone();
        let accounts = AccountsCache::under(&self.cache_root);
        let priority = self.priority.clone();
        let job = self
            .runtime
            .spawn(self.courier(), move |courier| async move {
                list_accounts(&courier, &store, &session, &accounts, &priority).await;
            });
        self.refresh = Some(Slot { job, lists: true });
    }

    /// Like `portico logout` for the open session, reporting to the status line.
    pub(super) fn logout(&mut self) {
        let Some(session) = self.current.clone() else {
            return;
        };
        // Results of work started before the logout are of no use any more.
        self.new_epoch();
        let store = self.store.clone();
        let root = self.cache_root.clone();
        let aws_dir = self.ctx.env.aws_dir().ok();
        // Kept in the refresh slot so that it is not cancelled at once; a new session or
        // sign-in does not need to wait for it.
        let job = self
            .runtime
            .spawn(self.courier(), move |courier| async move {
                match sign_out(&store, &root, aws_dir.as_deref(), &session).await {
                    Ok(note) => {
                        courier.send(Action::LoginState(LoginState::SignedOut));
                        courier.send(Action::Status(note));
                    }
                    Err(e) => courier.fail(&e),
                }
            });
        self.refresh = Some(Slot { job, lists: false });
    }
}

/// What `portico logout` does for one session, said in one line instead of on stderr.
/// The AWS CLI's role credentials under `aws_dir` are cleared as `aws sso logout` does.
async fn sign_out(
    store: &Store,
    cache_root: &Path,
    aws_dir: Option<&Path>,
    session: &SsoSession,
) -> anyhow::Result<String> {
    let mut done = Vec::new();
    let out = crate::engine::sign_out(store, cache_root, session).await?;
    if out.revoked {
        done.push("revoked the sign-in".to_string());
    }
    if let Some(why) = out.refused {
        done.push(format!(
            "Identity Center did not confirm the sign-out ({why})"
        ));
    }
    if out.token_file.is_some() {
        done.push("deleted the token".to_string());
    }
    if out.role_credentials > 0 {
        done.push(format!(
            "deleted {} cached credentials",
            out.role_credentials
        ));
    }
    if let Some(dir) = aws_dir {
        let (_, swept) = crate::engine::sweep_aws_cli(dir)?;
        if swept > 0 {
            done.push(format!("deleted {swept} the AWS CLI cached"));
        }
    }
    if done.is_empty() {
        done.push("nothing was cached".to_string());
    }
    Ok(format!(
        "signed out of {}: {}",
        session.label(),
        done.join(", ")
    ))
}
