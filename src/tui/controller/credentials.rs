//! Role credentials for the selected row. An effect that needs them (exports, copy, shell,
//! console) goes ahead when they are at hand — left by the fetch job a moment ago, or cached —
//! and otherwise starts the fetch job (the engine's `obtain`), which answers with the keys and
//! asks for the effect again (`CredentialsReady`). The console's sign-in link is made by a job
//! the same way.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::console;
use crate::engine::{self, BrowserChoice, Target};
use crate::model::RoleCredentials;
use crate::tui::{Action, App, Choice, Effect, LoginState, Source};

use super::chained;
use super::jobs::Job;
use super::portal::Portal;
use super::{apply, fetching, show_error};

/// Role credentials the fetch job left for the effect that is asked for again, and whose they
/// are.
pub(super) struct Fetched {
    pub(super) session: String,
    pub(super) choice: Choice,
    pub(super) creds: RoleCredentials,
}

/// A console sign-in link the link job made for a row. It signs in whoever opens it: it is
/// never printed or logged, and only used for the press it was made for.
pub(super) struct Link {
    choice: Choice,
    url: String,
    made: Instant,
}

impl Link {
    /// A link older than this was made for a press whose answer the user walked away from
    /// (it is valid for 15 minutes, which the pop-up promises): a new one is made.
    const FOR_ITS_PRESS: Duration = Duration::from_secs(60);

    pub(super) fn url(&self) -> &str {
        &self.url
    }
}

/// The row an effect that needs role credentials is about.
fn credential_choice(effect: &Effect) -> Option<&Choice> {
    match effect {
        Effect::PrintExports(choice)
        | Effect::CopyExports(choice)
        | Effect::Subshell(choice)
        | Effect::OpenConsole(choice) => Some(choice),
        _ => None,
    }
}

/// The answer of the job in `slot` once it has given one or ended without (the slot is then
/// emptied); `None` while it runs, and for a job of an epoch other than `epoch`.
fn answer<T>(slot: &mut Option<Job<T>>, epoch: u64) -> Option<T> {
    let job = slot.as_mut()?;
    let answer = job.answer();
    if answer.is_none() && job.is_running() {
        return None;
    }
    let current = job.epoch() == epoch;
    *slot = None;
    answer.filter(|_| current)
}

impl Portal {
    /// An effect that needs the row's credentials: `Break` (for `run`, which has the terminal)
    /// when they are at hand, else a job that gets them and asks again.
    pub(super) fn hand_out(&mut self, effect: Effect, app: &mut App) -> ControlFlow<Effect> {
        let Some(choice) = credential_choice(&effect).cloned() else {
            return ControlFlow::Continue(());
        };
        self.collect();
        let console = matches!(effect, Effect::OpenConsole(_));
        if console && self.link.as_ref().is_some_and(|l| l.choice == choice) {
            return ControlFlow::Break(effect);
        }
        match self.at_hand(&choice) {
            // The console link is made by a job too: the keys go into it.
            Ok(true) if console => {
                apply(app, Action::Status(fetching(&choice)));
                // One link at a time; the key can be pressed again after it.
                if !self.linking.as_ref().is_some_and(|job| job.is_running()) {
                    match self.credentials(&choice) {
                        Ok((creds, region)) => self.fetch_link(effect, creds, region),
                        Err(e) => show_error(app, &e),
                    }
                    apply(app, Action::RecentUses(self.recent()));
                }
            }
            Ok(true) => return ControlFlow::Break(effect),
            Ok(false) => {
                let note = fetching(&choice);
                self.fetch_credentials(effect);
                apply(app, Action::Status(note));
            }
            Err(e) => show_error(app, &e),
        }
        ControlFlow::Continue(())
    }

    /// Takes what the fetch and link jobs answered, once they have (their action brought the
    /// effect here); an answer of an ended epoch, or a link made for another press, is dropped.
    fn collect(&mut self) {
        let epoch = self.epoch.current();
        if let Some(fetched) = answer(&mut self.fetch, epoch) {
            self.fetched = Some(fetched);
        }
        self.link = answer(&mut self.linking, epoch)
            .filter(|link| link.made.elapsed() < Link::FOR_ITS_PRESS);
    }

    /// Whether the credentials for `choice` can be had without the network: fetched in the
    /// background a moment ago, or in the role-credential cache — both through the engine, which
    /// hands out keys only while their sign-in exists (after `aws sso logout` or `portico
    /// logout` elsewhere they are gone). `false` means a fetch is needed, which
    /// [`Self::fetch_credentials`] does off the UI thread.
    pub(super) fn at_hand(&mut self, choice: &Choice) -> anyhow::Result<bool> {
        let (key, target, _) = self.source_target(choice)?;
        if self.fetched_for(&key, &target, choice) {
            return Ok(true);
        }
        if self.engine.cached(&target, engine::MIN_REMAINING).is_some() {
            return Ok(true);
        }
        if let (Source::IdentityCenter, Some(session)) = (&choice.source, &self.current) {
            let token_fresh = matches!(
                self.store.tokens.load_token_facts(session),
                Ok(Some(t)) if t.is_fresh(OffsetDateTime::now_utc())
            );
            if self.signing_in() && !token_fresh {
                // The sign-in holds the session's lock until the user approves: the fetch
                // would wait for it, and the credentials would arrive long after the key was
                // pressed.
                anyhow::bail!("still signing in; try again once the sign-in is done");
            }
        }
        Ok(false)
    }

    /// Whether the fetch job left keys for `choice` that may still be handed out; keys whose
    /// sign-in ended meanwhile are dropped.
    fn fetched_for(&mut self, key: &str, target: &Target, choice: &Choice) -> bool {
        if !self
            .fetched
            .as_ref()
            .is_some_and(|f| f.session == key && f.choice == *choice)
        {
            return false;
        }
        if self.engine.still_signed_in(target) {
            return true;
        }
        self.fetched = None;
        false
    }

    /// Fetches the credentials `effect` needs in a job, which answers with them and asks for
    /// the effect again (`CredentialsReady`), which then finds them at hand.
    fn fetch_credentials(&mut self, effect: Effect) {
        let Some(choice) = credential_choice(&effect).cloned() else {
            return;
        };
        let (key, target, on_missing) = match self.source_target(&choice) {
            Ok(found) => found,
            Err(e) => {
                let _ = self.tx.send(Action::Error(e.to_string()));
                return;
            }
        };
        if self.fetch.as_ref().is_some_and(|job| job.is_running()) {
            // The fetch under way reports first; the key can be pressed again after it.
            return;
        }
        // No prompt on /dev/tty under the TUI: a chained role that wants an MFA code says how
        // to give one instead.
        if let Some(why) = chained::mfa_refusal(&target) {
            let _ = self.tx.send(Action::Error(why));
            return;
        }
        let open = self.current.clone();
        let engine = self.engine.clone();
        let job = self
            .runtime
            .spawn_answer(self.courier(), move |courier| async move {
                match engine
                    .obtain(&target, &on_missing, engine::MIN_REMAINING)
                    .await
                {
                    Ok(creds) => Some((
                        Fetched {
                            session: key,
                            choice,
                            creds,
                        },
                        Action::CredentialsReady(effect),
                    )),
                    // A chained row's source is signed out: name the sign-in it needs (only
                    // the open session's is the signed-out screen's to start).
                    Err(e)
                        if matches!(target, Target::Chained(_)) && chained::sign_in_missing(&e) =>
                    {
                        let (why, open_session) = chained::sign_in_needed(&target, open.as_ref());
                        if open_session {
                            courier.send(Action::LoginState(LoginState::SignedOut));
                        }
                        courier.send(Action::Error(why));
                        None
                    }
                    Err(e) => {
                        courier.fail(&e);
                        None
                    }
                }
            });
        self.fetch = Some(job);
    }

    /// Makes the console sign-in link for `effect`'s row in a job, which answers with it and
    /// asks for the effect again; `run` then opens it.
    fn fetch_link(&mut self, effect: Effect, creds: RoleCredentials, region: Option<String>) {
        let Some(choice) = credential_choice(&effect).cloned() else {
            return;
        };
        let job = self
            .runtime
            .spawn_answer(self.courier(), move |courier| async move {
                match console::link(&creds, region.as_deref(), None, None).await {
                    Ok(url) => Some((
                        Link {
                            choice,
                            url,
                            made: Instant::now(),
                        },
                        Action::CredentialsReady(effect),
                    )),
                    Err(e) => {
                        courier.fail(&e.into());
                        None
                    }
                }
            });
        self.linking = Some(job);
    }

    /// Role credentials for the chosen row (fetched in the background a moment ago, or
    /// cached: see [`Self::at_hand`]), and the region of a profile for that role, if one
    /// names it.
    pub(super) fn credentials(
        &mut self,
        choice: &Choice,
    ) -> anyhow::Result<(RoleCredentials, Option<String>)> {
        let (key, target, _) = self.source_target(choice)?;
        let region = self.region(choice);
        let creds = match self.fetched.take() {
            // Fetched in the background a moment ago, and the sign-in is still there.
            Some(f)
                if f.session == key
                    && f.choice == *choice
                    && self.engine.still_signed_in(&target) =>
            {
                f.creds
            }
            // Else cached (through the engine's signed-in check; at hand means this is the
            // engine's warm path, with no runtime), or an error naming the fix (`portico
            // login` where the row's browser can open).
            _ => {
                // Keys that ran out since they were found at hand would be assumed again here:
                // never with a prompt on the terminal the screen holds.
                if self.engine.cached(&target, engine::MIN_REMAINING).is_none() {
                    if let Some(why) = chained::mfa_refusal(&target) {
                        anyhow::bail!(why);
                    }
                }
                let setting = target.browser_setting(&self.ctx, self.browser_flag.as_deref(), None);
                let fail = engine::sign_in_policy(&self.ctx, true, BrowserChoice::Setting(setting));
                self.engine.obtain_blocking(&target, &fail)?
            }
        };
        self.memory.record(
            &key,
            &choice.account_id,
            &choice.role,
            OffsetDateTime::now_utc(),
        );
        self.save_memory();
        Ok((creds, region))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::SsoSession;
    use std::path::PathBuf;

    /// A portal over a config with one sso-session in a temporary HOME, opened on it, and a
    /// row of it.
    fn portal_in(home: &std::path::Path) -> (Portal, SsoSession, Choice) {
        let mut portal = Portal::over_config(
            home,
            "[sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = eu-central-1\n",
        );
        let session = portal.ctx.named_session("corp").unwrap();
        portal.current = Some(session.clone());
        let choice = Choice {
            account_id: "111122223333".into(),
            account_name: "prod".into(),
            role: "Admin".into(),
            source: Source::IdentityCenter,
        };
        (portal, session, choice)
    }

    /// Signs in the way the AWS CLI leaves it: the token file in `~/.aws/sso/cache`.
    fn write_token(portal: &Portal, session: &SsoSession) -> PathBuf {
        let path = portal.store.tokens.token_path(session);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            format!(
                r#"{{"startUrl":"{}","region":"eu-central-1","accessToken":"aoa-token","expiresAt":"2099-01-01T00:00:00Z"}}"#,
                session.start_url
            ),
        )
        .unwrap();
        path
    }

    fn keys() -> RoleCredentials {
        RoleCredentials {
            access_key_id: "ASIACACHEDKEY".into(),
            secret_access_key: crate::secret::Secret::new("cached-secret"),
            session_token: crate::secret::Secret::new("cached-token"),
            expiration: OffsetDateTime::now_utc() + time::Duration::hours(1),
            account_id: "111122223333".into(),
        }
    }

    /// `aws sso logout` deletes the token file (shared/PROTOCOL.md §3): from then on the
    /// portal's "keys at hand" is the engine's answer — no keys — whether they sit in the
    /// role-credential cache or were fetched in the background a moment before.
    #[test]
    fn after_a_sign_out_by_the_aws_cli_the_portal_hands_out_no_cached_keys() {
        let home = tempfile::tempdir().unwrap();
        let (mut portal, session, choice) = portal_in(home.path());
        let token = write_token(&portal, &session);
        let cache = crate::cache::rolecreds::RoleCredsCache::under(&portal.cache_root);
        let file = cache
            .store(session.cache_key(), &session.start_url, "Admin", &keys())
            .unwrap();
        assert!(portal.at_hand(&choice).unwrap(), "signed in: cached keys");
        let (got, _) = portal.credentials(&choice).unwrap();
        assert_eq!(got.access_key_id, "ASIACACHEDKEY");

        std::fs::remove_file(&token).unwrap();
        assert!(
            !portal.at_hand(&choice).unwrap(),
            "signed out: none at hand"
        );
        assert!(!file.exists(), "the signed-out session's keys are deleted");
        let err = portal.credentials(&choice).unwrap_err();
        assert!(format!("{err:#}").contains("not signed in"), "{err:#}");

        // Keys a background fetch left a moment before the sign-out go the same way.
        write_token(&portal, &session);
        portal.fetched = Some(Fetched {
            session: session.cache_key().to_string(),
            choice: choice.clone(),
            creds: keys(),
        });
        assert!(portal.at_hand(&choice).unwrap(), "fetched and signed in");
        std::fs::remove_file(&token).unwrap();
        assert!(
            !portal.at_hand(&choice).unwrap(),
            "fetched, then signed out"
        );
        portal.fetched = Some(Fetched {
            session: session.cache_key().to_string(),
            choice: choice.clone(),
            creds: keys(),
        });
        assert!(portal.credentials(&choice).is_err(), "not handed out");
    }

    /// Keys fetched for a row of the session open before are not handed out once another
    /// session (or the same one, afresh) is opened: a new epoch begins.
    #[test]
    fn opening_a_session_drops_the_keys_fetched_before() {
        let home = tempfile::tempdir().unwrap();
        let (mut portal, session, choice) = portal_in(home.path());
        write_token(&portal, &session);
        portal.fetched = Some(Fetched {
            session: session.cache_key().to_string(),
            choice: choice.clone(),
            creds: keys(),
        });
        assert!(portal.at_hand(&choice).unwrap(), "fetched a moment ago");
        let epoch = portal.epoch.current();
        let mut app = App::new(OffsetDateTime::now_utc());
        portal.open(session, &mut app);
        assert_ne!(portal.epoch.current(), epoch, "a new epoch");
        assert!(portal.fetched.is_none());
        assert!(!portal.at_hand(&choice).unwrap(), "nothing at hand");
    }
}
