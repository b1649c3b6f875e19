//! The portal's background work as jobs (gitui's pattern): every piece of network work is a
//! task on the controller's one [`Runtime`], which reports what it finds as [`Action`]s through
//! the channel the event loop reads (its [`Courier`]). The controller keeps each job's
//! [`Job`] handle: dropping it cancels the work, and a job with an answer (role credentials, a
//! console link) hands it over through it once its action has come back as an effect.
//!
//! Results of work started before the world moved on (another session, a sign-out) are of no
//! use: each job belongs to an [`Epoch`], and its courier drops what it reports after the epoch
//! ended.

use std::future::Future;
use std::sync::mpsc::Sender;

use tokio::sync::{mpsc, oneshot, watch};

use crate::identity::{IdentityError, LoginReporter};
use crate::sso::SsoError;
use crate::tui::{Action, LoginState};

/// Whether `err` means the sign-in is gone and only a new one helps.
pub(super) fn needs_sign_in(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        matches!(
            e.downcast_ref::<IdentityError>(),
            Some(IdentityError::LoginRequired { .. })
        ) || matches!(
            e.downcast_ref::<SsoError>(),
            Some(SsoError::Unauthorized { .. })
        )
    })
}

/// The status-line text for `err`: the CLI's advice (`run portico login`) becomes the key
/// that does it here.
pub(super) fn describe(err: &anyhow::Error) -> String {
    for e in err.chain() {
        if let Some(IdentityError::LoginRequired { reason, .. }) = e.downcast_ref() {
            return format!("{reason}; press ⏎ to sign in");
        }
        if let Some(SsoError::Unauthorized { .. }) = e.downcast_ref() {
            return "Identity Center no longer accepts the sign-in; press ⏎ to sign in again"
                .into();
        }
    }
    crate::diag::error_text(err)
}

/// Starts one job on the runtime's thread.
type Launch = Box<dyn FnOnce() + Send>;

/// The controller's runtime: a current-thread tokio runtime driven by a thread of its own, so
/// jobs run while the event loop waits for keys. Jobs are local tasks (a `LocalSet`): the
/// listing reports through a `&mut dyn FnMut`, so its future is not `Send`. Nothing in a job
/// may block the thread (identity and the engine wait for lock files off it), or every job
/// would wait. Dropping the runtime drops every job still running.
pub(super) struct Runtime {
    launch: mpsc::UnboundedSender<Launch>,
}

impl Runtime {
    pub(super) fn start() -> std::io::Result<Runtime> {
        let runtime = crate::engine::runtime()?;
        let (launch, mut launches) = mpsc::unbounded_channel::<Launch>();
        std::thread::Builder::new()
            .name("portal-jobs".into())
            .spawn(move || {
                let local = tokio::task::LocalSet::new();
                local.block_on(&runtime, async move {
                    while let Some(launch) = launches.recv().await {
                        launch();
                    }
                });
                // The controller is gone: its jobs end with it (their futures are dropped,
                // which releases locks and closes a browser flow's listener).
                drop(local);
                runtime.shutdown_background();
            })?;
        Ok(Runtime { launch })
    }

    /// Runs `work` as a job that reports only through its courier.
    pub(super) fn spawn<F, Fut>(&self, courier: Courier, work: F) -> Job
    where
        F: FnOnce(Courier) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        self.spawn_answer(courier, move |courier| async move {
            work(courier).await;
            None
        })
    }

    /// Runs `work` as a job with an answer: when it gives `Some((answer, action))`, the answer
    /// is kept for [`Job::answer`] and then `action` is sent, so that the controller, asked
    /// through `action`, finds the answer waiting. Neither is delivered once the job's epoch
    /// has ended.
    pub(super) fn spawn_answer<T, F, Fut>(&self, courier: Courier, work: F) -> Job<T>
    where
        T: Send + 'static,
        F: FnOnce(Courier) -> Fut + Send + 'static,
        Fut: Future<Output = Option<(T, Action)>> + 'static,
    {
        let (cancel, cancelled) = oneshot::channel::<()>();
        let (answer, answered) = oneshot::channel::<T>();
        let epoch = courier.mine;
        let tx = courier.tx.clone();
        let launch = Box::new(move || {
            tokio::task::spawn_local(async move {
                let result = tokio::select! {
                    result = work(courier.clone()) => result,
                    // The handle was dropped: the work's future is dropped here.
                    _ = cancelled => None,
                };
                if let Some((value, action)) = result {
                    if courier.is_current() {
                        let _ = answer.send(value);
                        courier.send(action);
                    }
                }
            });
        });
        if self.launch.send(launch).is_err() {
            let _ = tx.send(Action::Error(
                "cannot start background work: its thread ended".into(),
            ));
        }
        Job {
            cancel,
            answer: answered,
            epoch,
        }
    }
}

/// The handle of a job: dropping it cancels the work (its future is dropped, which releases
/// identity's lock and closes a browser flow's listener).
pub(super) struct Job<T = ()> {
    /// Its receiver lives in the job's task, so it closes when the job ends, however it ends.
    cancel: oneshot::Sender<()>,
    answer: oneshot::Receiver<T>,
    epoch: u64,
}

impl<T> Job<T> {
    pub(super) fn is_running(&self) -> bool {
        !self.cancel.is_closed()
    }

    /// The job's answer, once it has given one (see [`Runtime::spawn_answer`]).
    pub(super) fn answer(&mut self) -> Option<T> {
        self.answer.try_recv().ok()
    }

    /// The epoch the job was started in.
    pub(super) fn epoch(&self) -> u64 {
        self.epoch
    }
}

/// The controller's current epoch: a new one begins when the open session changes or is
/// signed out of, and what jobs of an older one report is dropped.
pub(super) struct Epoch(watch::Sender<u64>);

impl Epoch {
    pub(super) fn new() -> Epoch {
        Epoch(watch::Sender::new(0))
    }

    /// Ends the current epoch: its jobs' reports are dropped from now on.
    pub(super) fn next(&self) {
        self.0.send_modify(|n| *n += 1);
    }

    pub(super) fn current(&self) -> u64 {
        *self.0.borrow()
    }

    /// A courier for work that belongs to the current epoch.
    pub(super) fn courier(&self, tx: Sender<Action>) -> Courier {
        Courier {
            tx,
            mine: self.current(),
            epoch: self.0.subscribe(),
        }
    }
}

/// Hands a job's results to the event loop, unless the job's epoch has ended since it started
/// (logout, another session): stale results are dropped.
#[derive(Clone)]
pub(super) struct Courier {
    tx: Sender<Action>,
    epoch: watch::Receiver<u64>,
    mine: u64,
}

impl Courier {
    fn is_current(&self) -> bool {
        *self.epoch.borrow() == self.mine
    }

    pub(super) fn send(&self, action: Action) {
        if self.is_current() {
            let _ = self.tx.send(action);
        }
    }

    pub(super) fn fail(&self, err: &anyhow::Error) {
        if needs_sign_in(err) {
            self.send(Action::LoginState(LoginState::SignedOut));
        }
        self.send(Action::Error(describe(err)));
    }

    /// A reporter that turns the login's URL or device code into the sign-in screens.
    pub(super) fn login_reporter(&self) -> LoginReporter {
        let courier = self.clone();
        LoginReporter::new(move |event| {
            let state = LoginState::Waiting(event);
            courier.send(Action::LoginState(state));
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn login_required_becomes_a_key_to_press() {
        let err = anyhow::Error::from(IdentityError::LoginRequired {
            reason: "not signed in to sso-session corp".into(),
            command: "portico login --sso-session corp".into(),
        });
        assert!(needs_sign_in(&err));
        assert_eq!(
            describe(&err),
            "not signed in to sso-session corp; press ⏎ to sign in"
        );
        let other = anyhow::anyhow!("disk full");
        assert!(!needs_sign_in(&other));
        assert_eq!(describe(&other), "disk full");
    }

    /// Waits for the next action, with a deadline (a job that never reports fails the test
    /// instead of hanging it).
    fn next(rx: &std::sync::mpsc::Receiver<Action>) -> Action {
        rx.recv_timeout(Duration::from_secs(30))
            .expect("the job reported")
    }

    #[test]
    fn a_job_answers_before_its_action_arrives_and_then_stops_running() {
        let runtime = Runtime::start().unwrap();
        let epoch = Epoch::new();
        let (tx, rx) = std::sync::mpsc::channel();
        let mut job = runtime.spawn_answer(epoch.courier(tx), |_| async {
            Some((42, Action::Status("done".into())))
        });
        assert_eq!(next(&rx), Action::Status("done".into()));
        assert_eq!(
            job.answer(),
            Some(42),
            "the answer is there with the action"
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while job.is_running() {
            assert!(std::time::Instant::now() < deadline, "the job never ended");
            std::thread::yield_now();
        }
    }

    #[test]
    fn dropping_a_job_cancels_it_and_a_new_epoch_silences_the_old_ones() {
        let runtime = Runtime::start().unwrap();
        let epoch = Epoch::new();
        let (tx, rx) = std::sync::mpsc::channel();
        // A job that would report only after it is released.
        let (release, released) = oneshot::channel::<()>();
        let job = runtime.spawn(epoch.courier(tx.clone()), move |courier| async move {
            let _ = released.await;
            courier.send(Action::Status("too late".into()));
        });
        assert!(job.is_running());
        drop(job);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !release.is_closed() {
            assert!(
                std::time::Instant::now() < deadline,
                "the work was not dropped with its handle"
            );
            std::thread::yield_now();
        }

        // A job of an ended epoch delivers neither its action nor its answer.
        let (release, released) = oneshot::channel::<()>();
        let mut old = runtime.spawn_answer(epoch.courier(tx.clone()), move |_| async move {
            let _ = released.await;
            Some((1, Action::Status("stale".into())))
        });
        epoch.next();
        release.send(()).unwrap();
        let current = runtime.spawn(epoch.courier(tx), |courier| async move {
            courier.send(Action::Status("current".into()));
        });
        assert_eq!(next(&rx), Action::Status("current".into()));
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while old.is_running() || current.is_running() {
            assert!(std::time::Instant::now() < deadline, "the jobs never ended");
            std::thread::yield_now();
        }
        assert_eq!(old.answer(), None);
        assert!(rx.try_recv().is_err(), "nothing stale arrived");
    }

    /// All jobs share one thread: a job that waits for a session's lock must not hold up the
    /// job that holds it (a sign-in waiting for the browser while the listing, told 401, makes
    /// the token be refreshed), or neither ever ends.
    #[test]
    fn a_job_waiting_for_the_session_lock_lets_the_job_holding_it_run() {
        let home = tempfile::tempdir().unwrap();
        let env = crate::settings::Environment {
            home: Some(home.path().to_path_buf()),
            cache_home: Some(home.path().join("cache")),
            ..crate::settings::Environment::default()
        };
        let store = crate::identity::Store::from_env(&env).unwrap();
        let session = crate::settings::SsoSession {
            name: Some("corp".into()),
            start_url: "https://d-1234567890.awsapps.com/start".into(),
            region: "eu-central-1".into(),
            scopes: vec![],
            configured_scopes: None,
            oidc_endpoint: String::new(),
            portal_endpoint: String::new(),
            storage: Default::default(),
        };
        let runtime = Runtime::start().unwrap();
        let epoch = Epoch::new();
        let (tx, rx) = std::sync::mpsc::channel();
        let (held, is_held) = std::sync::mpsc::channel();
        let (release, released) = oneshot::channel::<()>();
        let (dir, key) = (store.locks.clone(), session.cache_key().to_string());
        let _holder = runtime.spawn(epoch.courier(tx.clone()), move |courier| async move {
            let lock = crate::cache::lock::acquire(&dir, &key, || {}).unwrap();
            held.send(()).unwrap();
            let _ = released.await;
            drop(lock);
            courier.send(Action::Status("released".into()));
        });
        is_held.recv_timeout(Duration::from_secs(30)).unwrap();
        // The waiter lets the holder go before it waits, so the holder can run only while
        // the waiter waits: on the job thread, that would be never.
        let _waiter = runtime.spawn(epoch.courier(tx), move |courier| async move {
            release.send(()).unwrap();
            let result = crate::identity::forget_access_token(&store, &session).await;
            courier.send(Action::Status(format!("forgot: {}", result.is_ok())));
        });
        assert_eq!(next(&rx), Action::Status("released".into()));
        assert_eq!(next(&rx), Action::Status("forgot: true".into()));
    }
}
