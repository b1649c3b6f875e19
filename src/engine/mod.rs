//! The credential engine: role credentials for a [`Target`], from portico's cache while they
//! last, else from the target's source, fetched once however many callers ask at the same
//! moment — in this process (one flight per role) and across processes (a lock file per role).
//!
//! Two doors, one path:
//! - [`Engine::obtain`] is async, for callers that already run a runtime (a server, the
//!   portal's jobs);
//! - [`Engine::obtain_blocking`] is for one-shot commands. Its warm path — valid keys in the
//!   cache — is synchronous: one `stat` and one file read, with no runtime and no SDK client.
//!
//! Adding a kind of source: a variant of [`Target`] and an arm in [`Engine::fetch`]. Nothing
//! above the engine changes.

mod accounts;
mod authorized;
pub mod failure;
mod policy;
mod signout;
mod target;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use crate::cache::files::note_unwritable;
use crate::cache::rolecreds::{self, RoleCredsCache};
use crate::identity::{OnMissing, Store};
use crate::model::RoleCredentials;
use crate::saml;
use crate::settings::{Context, Environment, SettingsError};
use crate::sso;

pub use accounts::{
    cached_accounts, fetch_accounts, previous_accounts, refresh_accounts, store_account_list,
    store_accounts, CachedAccounts,
};
pub use authorized::with_token;
pub use policy::{sign_in_policy, BrowserChoice};
pub use rolecreds::MIN_REMAINING;
pub use signout::{sign_out, sweep_aws_cli, SignOutReport};
pub use target::{resolve, sign_in_for, IdcRole, Resolved, SamlRole, SignIn, Target, Wanted};

/// A single-threaded tokio runtime for one-shot commands that call AWS. Commands that only read
/// files never build one.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// The one-shot door shared by `credentials` and `exec`: read only the profile and its
/// sso-session from the config (the warm path, however large the file), resolve what is
/// wanted, and obtain its keys, signing in on the way as [`sign_in_policy`] allows.
pub fn obtain_wanted(
    env: Environment,
    wanted: &Wanted,
    no_login: bool,
) -> anyhow::Result<(Resolved, RoleCredentials)> {
    let ctx = Context::load_lazy(env, wanted.profile())?;
    let resolved = resolve(&ctx, wanted)?;
    let engine = Engine::new(&ctx.env)?;
    // The warm path works out no sign-in policy (that looks for browsers on PATH).
    if let Some(creds) = engine.cached(&resolved.target, MIN_REMAINING) {
        return Ok((resolved, creds));
    }
    let setting = resolved
        .target
        .browser_setting(&ctx, None, resolved.profile.as_deref());
    let on_missing = sign_in_policy(&ctx, no_login, BrowserChoice::Setting(setting));
    let creds = engine.obtain_blocking(&resolved.target, &on_missing)?;
    Ok((resolved, creds))
}

/// The engine over portico's files: the role-credential cache and the sign-in store.
#[derive(Debug)]
pub struct Engine {
    cache: RoleCredsCache,
    store: Store,
    /// One async lock per role being fetched in this process, so concurrent callers wait for
    /// the first one's answer instead of each taking the lock file in turn.
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Engine {
    /// The engine over the files `env` names (`~/.cache/portico`, `~/.aws/sso/cache`).
    pub fn new(env: &Environment) -> Result<Engine, SettingsError> {
        Ok(Engine::with_files(
            RoleCredsCache::under(&env.portico_cache_dir()?),
            Store::from_env(env)?,
        ))
    }

    pub fn with_files(cache: RoleCredsCache, store: Store) -> Engine {
        Engine {
            cache,
            store,
            flights: Mutex::new(HashMap::new()),
        }
    }

    /// The sign-in store, for callers that also list accounts or sign out.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Cached keys for `target` with more than `fresh_for` left, or `None`. Synchronous and
    /// cheap: one `stat` of the sign-in's token file, one read of the cache file. Keys are
    /// handed out only while their sign-in exists: a sign-out (`portico logout`, `aws sso
    /// logout`) ends them, and they are deleted here.
    pub fn cached(&self, target: &Target, fresh_for: time::Duration) -> Option<RoleCredentials> {
        if !self.still_signed_in(target) {
            return None;
        }
        let creds = self.cache.for_storage(target.storage()).load_with_margin(
            target.cache_key(),
            target.account_id(),
            target.role_name(),
            OffsetDateTime::now_utc(),
            fresh_for,
        )?;
        crate::debug!("using cached credentials for {}", target.describe());
        Some(creds)
    }

    /// Whether keys for `target` may still be handed out: the sign-in behind them exists (one
    /// `stat`). When it is gone (`portico logout`, `aws sso logout`), the sign-in's cached keys
    /// are deleted and this is `false`: a caller holding keys it obtained a moment ago asks
    /// this before handing them out.
    pub fn still_signed_in(&self, target: &Target) -> bool {
        if self.signed_in(target) {
            return true;
        }
        self.forget_signed_out(target);
        false
    }

    /// Keys for `target` with more than [`MIN_REMAINING`] left (as the AWS CLI hands out),
    /// for one-shot commands: the warm path starts no runtime.
    pub fn obtain_blocking(
        &self,
        target: &Target,
        on_missing: &OnMissing,
    ) -> anyhow::Result<RoleCredentials> {
        if let Some(creds) = self.cached(target, MIN_REMAINING) {
            return Ok(creds);
        }
        runtime()?.block_on(crate::identity::until_cancelled(self.obtain(
            target,
            on_missing,
            MIN_REMAINING,
        )))
    }

    /// Keys for `target` with more than `fresh_for` left where the source gives keys that
    /// long (a role whose keys live shorter gets the freshest there are). Cached, or fetched
    /// once: concurrent callers in this process share one flight, other processes wait on the
    /// role's lock file and then read what the first one stored. Where the cache or its lock
    /// cannot be written (a read-only HOME), keys are fetched without them.
    pub async fn obtain(
        &self,
        target: &Target,
        on_missing: &OnMissing,
        fresh_for: time::Duration,
    ) -> anyhow::Result<RoleCredentials> {
        if let Some(creds) = self.cached(target, fresh_for) {
            return Ok(creds);
        }
        let flight = self.flight(target);
        let _flying = flight.lock().await;
        if let Some(creds) = self.cached(target, fresh_for) {
            return Ok(creds);
        }
        let _lock = self.lock_file(target).await?;
        if let Some(creds) = self.cached(target, fresh_for) {
            return Ok(creds);
        }
        let creds = self.fetch(target, on_missing).await?;
        if let Err(e) = self.store_creds(target, &creds) {
            note_unwritable(self.cache.dir(), &e);
        }
        Ok(creds)
    }

    /// Forgets the cached keys of one role (after the service refused them, say).
    pub fn forget(&self, target: &Target) -> std::io::Result<bool> {
        self.cache
            .remove(target.cache_key(), target.account_id(), target.role_name())
    }

    /// The one place that knows how each kind of source gives keys.
    async fn fetch(
        &self,
        target: &Target,
        on_missing: &OnMissing,
    ) -> anyhow::Result<RoleCredentials> {
        match target {
            Target::IdentityCenter(role) => {
                crate::info!(
                    "fetching credentials for {} in {}",
                    role.role_name,
                    role.account_id
                );
                with_token(&self.store, &role.session, on_missing, |token| async move {
                    sso::role_credentials(&role.session, &token, &role.account_id, &role.role_name)
                        .await
                })
                .await
            }
            Target::Saml(role) => {
                let result = self.fetch_saml(role, on_missing).await;
                // Remembered for `portico doctor`, which explains it with its fix.
                match result
                    .as_ref()
                    .map_err(|e| e.downcast_ref::<saml::SamlError>())
                {
                    Ok(_) => saml::failure::forget(&self.saml_store(), &role.session),
                    Err(Some(e)) => saml::failure::remember(
                        &self.saml_store(),
                        &role.session,
                        Some(&role.role_arn),
                        e,
                    ),
                    Err(None) => {}
                }
                result
            }
        }
    }

    /// A SAML role: the kept assertion (or one browser trip), then AssumeRoleWithSAML. A kept
    /// assertion STS no longer takes is dropped and the sign-in made once more.
    async fn fetch_saml(
        &self,
        role: &SamlRole,
        on_missing: &OnMissing,
    ) -> anyhow::Result<RoleCredentials> {
        let store = self.saml_store();
        let mut fresh_sign_in = false;
        loop {
            let assertion = saml::assertion(&store, &role.session, on_missing).await?;
            let pair = assertion.role(&role.role_arn).cloned().ok_or_else(|| {
                saml::SamlError::RoleNotInAssertion {
                    session: role.session.label(),
                    name: crate::sanitize::for_terminal(&role.session.name),
                    role_arn: crate::sanitize::for_terminal(&role.role_arn),
                    available: assertion.roles.iter().map(|r| r.role_arn.clone()).collect(),
                }
            })?;
            crate::info!("assuming {} with the SAML assertion", role.role_arn);
            match saml::assume(&store, &role.session, &assertion, &pair).await {
                Err(saml::SamlError::ExpiredToken { .. })
                    if !fresh_sign_in && matches!(on_missing, OnMissing::Login(_)) =>
                {
                    let _ = store.remove(&role.session);
                    fresh_sign_in = true;
                }
                // An assertion STS will not take is not kept for the next role either.
                Err(
                    e @ (saml::SamlError::InvalidIdentityToken { .. }
                    | saml::SamlError::ExpiredToken { .. }
                    | saml::SamlError::IdpRejectedClaim { .. }),
                ) => {
                    let _ = store.remove(&role.session);
                    return Err(e.into());
                }
                other => return Ok(other?),
            }
        }
    }

    /// Where saml-sessions keep their assertion: beside the role-credential cache.
    pub fn saml_store(&self) -> saml::AssertionStore {
        saml::AssertionStore::under(self.cache.dir().parent().unwrap_or(self.cache.dir()))
    }

    fn store_creds(&self, target: &Target, creds: &RoleCredentials) -> std::io::Result<()> {
        let cache = self.cache.for_storage(target.storage());
        match target {
            Target::IdentityCenter(role) => cache
                .store(
                    role.session.cache_key(),
                    &role.session.start_url,
                    &role.role_name,
                    creds,
                )
                .map(drop),
            Target::Saml(role) => cache
                .store(
                    &role.session.cache_key(),
                    &role.session.idp_url,
                    &role.role_name,
                    creds,
                )
                .map(drop),
        }
    }

    /// Whether the sign-in behind `target` still exists (one `stat`).
    fn signed_in(&self, target: &Target) -> bool {
        match target {
            Target::IdentityCenter(role) => self.store.tokens.has_token(&role.session),
            // Keys from STS stand on their own until they expire: there is no sign-in to end.
            Target::Saml(_) => true,
        }
    }

    /// The sign-in is gone: its cached role credentials are deleted, so that a later sign-in
    /// by another tool does not bring them back.
    fn forget_signed_out(&self, target: &Target) {
        let Target::IdentityCenter(role) = target else {
            return;
        };
        crate::debug!(
            "{} is gone (signed out of {}); not using cached role credentials",
            self.store.tokens.token_path(&role.session).display(),
            role.session.label()
        );
        match self.cache.remove_session(role.session.cache_key()) {
            Ok(removed) if !removed.is_empty() => crate::info!(
                "deleted {} cached role credential file{} of the signed-out {}",
                removed.len(),
                if removed.len() == 1 { "" } else { "s" },
                role.session.label()
            ),
            Ok(_) => {}
            Err(e) => note_unwritable(self.cache.dir(), &e),
        }
    }

    fn flight(&self, target: &Target) -> Arc<tokio::sync::Mutex<()>> {
        let key = format!(
            "{}\n{}\n{}",
            target.cache_key(),
            target.account_id(),
            target.role_name()
        );
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        flights.entry(key).or_default().clone()
    }

    /// The role's lock file, taken on the blocking pool (another process may hold it for as
    /// long as its fetch takes).
    async fn lock_file(&self, target: &Target) -> anyhow::Result<rolecreds::LockGuard> {
        let cache = self.cache.clone();
        let (key, account, role) = (
            target.cache_key().to_string(),
            target.account_id().to_string(),
            target.role_name().to_string(),
        );
        Ok(tokio::task::spawn_blocking(move || {
            cache.lock_with(&key, &account, &role, || {
                crate::info!("another portico process is fetching these credentials; waiting");
            })
        })
        .await?)
    }
}
