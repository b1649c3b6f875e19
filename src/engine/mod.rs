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
mod assume;
mod authorized;
mod chain;
pub mod failure;
mod policy;
mod signout;
mod target;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use crate::cache::assumerole::{AssumeRoleCache, DerivedIndex};
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
pub use assume::ChainError;
pub use authorized::with_token;
pub use chain::{chained_profiles, ChainSource, ChainedRole, StaticKeys};
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

/// The last AssumeRole failure of chained role `role` that portico met (its one-line message
/// with the fix), kept until a later AssumeRole of it succeeds; for `portico doctor`.
pub fn last_chain_failure(env: &Environment, role: &ChainedRole) -> Option<String> {
    let dir = env.portico_cache_dir().ok()?;
    let path = DerivedIndex::under(&dir)
        .dir()
        .join(format!("{}.failure", role.key));
    let text = std::fs::read_to_string(path).ok()?;
    Some(crate::sanitize::for_terminal(text.trim()))
}

/// The engine over portico's files: the role-credential cache and the sign-in store.
#[derive(Debug)]
pub struct Engine {
    cache: RoleCredsCache,
    store: Store,
    /// The AWS CLI's assume-role cache (`~/.aws/cli/cache`), where chained roles' keys live.
    assumed: AssumeRoleCache,
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
            AssumeRoleCache::new(crate::cache::awscli::cli_cache_dir(&env.aws_dir()?)),
        ))
    }

    pub fn with_files(cache: RoleCredsCache, store: Store, assumed: AssumeRoleCache) -> Engine {
        Engine {
            cache,
            store,
            assumed,
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
        // A chained role of a file-kept sign-in shares the AWS CLI's assume-role cache; one
        // whose sign-in is kept in a keyring keeps its keys there too, like its source's.
        if let (Target::Chained(role), true) = (target, target.storage().is_file()) {
            let creds = self.assumed.load(
                &role.key,
                &role.account_id,
                OffsetDateTime::now_utc(),
                fresh_for,
            )?;
            crate::debug!(
                "using the AWS CLI's cached keys for {} ({})",
                role.label(),
                self.assumed.path(&role.key).display()
            );
            return Some(creds);
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
        if let (Target::Chained(role), true) = (target, target.storage().is_file()) {
            return self.assumed.remove(&role.key);
        }
        self.cache.for_storage(target.storage()).remove(
            target.cache_key(),
            target.account_id(),
            target.role_name(),
        )
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
            Target::Chained(role) => {
                let result = self.fetch_chained(role, on_missing).await;
                // Remembered for `portico doctor`, which explains it.
                let note = self.derived().dir().join(format!("{}.failure", role.key));
                match &result {
                    Ok(_) => {
                        let _ = crate::cache::files::remove_if_exists(&note);
                    }
                    Err(e) => {
                        if let Some(e) = e.downcast_ref::<ChainError>() {
                            let _ =
                                crate::cache::files::write_private(&note, e.to_string().as_bytes());
                        }
                    }
                }
                result
            }
        }
    }

    /// A chained role: the source's keys (through the engine, so cached and single flight, or
    /// from a file or the environment), then AssumeRole with them. The answer is filed in the
    /// AWS CLI's cache under botocore's key (the AWS CLI and boto3 use it too), and recorded as
    /// derived from the sign-in at the bottom of the chain, so that signing out deletes it.
    async fn fetch_chained(
        &self,
        role: &ChainedRole,
        on_missing: &OnMissing,
    ) -> anyhow::Result<RoleCredentials> {
        let (keys, source_arn) = match &role.source {
            ChainSource::Role(source) => {
                let creds = self.obtain_boxed(source, on_missing, MIN_REMAINING).await?;
                let keys = StaticKeys {
                    access_key_id: creds.access_key_id,
                    secret_access_key: creds.secret_access_key,
                    session_token: Some(creds.session_token),
                };
                (keys, source.describe())
            }
            ChainSource::Keys { profile, keys } => (
                keys.clone(),
                format!("the user whose keys profile {profile} holds"),
            ),
            ChainSource::Environment => (
                StaticKeys::from_environment()
                    .ok_or_else(|| ChainError::NoEnvironmentKeys { role: role.label() })?,
                "the user whose keys the environment holds".to_string(),
            ),
        };
        // The prompt blocks on the terminal: off the runtime, so a Ctrl-C still cancels.
        let asked = role.clone();
        let mfa = tokio::task::spawn_blocking(move || assume::mfa_code(&asked)).await??;
        crate::info!(
            "assuming {} with the keys of {}",
            role.role_arn,
            role.source_label()
        );
        let assumed = assume::assume(role, &keys, &source_arn, mfa).await?;
        if !role.storage().is_file() {
            // Filed by store_creds in the keyring, with the source's sign-in.
            return Ok(assumed.creds);
        }
        match self.assumed.store(&role.key, &assumed) {
            Ok(path) => {
                if let Some(source) = role.signed_in_source() {
                    if let Err(e) = self.derived().record(&role.key, source.cache_key(), &path) {
                        note_unwritable(self.cache.dir(), &e);
                    }
                }
            }
            Err(e) => note_unwritable(self.assumed.dir(), &e),
        }
        Ok(assumed.creds)
    }

    /// [`obtain`](Self::obtain) boxed, for a chained role's source (a chain is a recursion).
    fn obtain_boxed<'a>(
        &'a self,
        target: &'a Target,
        on_missing: &'a OnMissing,
        fresh_for: time::Duration,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = anyhow::Result<RoleCredentials>> + Send + 'a>,
    > {
        Box::pin(self.obtain(target, on_missing, fresh_for))
    }

    /// portico's index of the chained keys it filed, by the sign-in they came from.
    fn derived(&self) -> DerivedIndex {
        DerivedIndex::under(self.cache.dir().parent().unwrap_or(self.cache.dir()))
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
            // Filed by fetch_chained with the whole AssumeRole answer, as the AWS CLI keeps it,
            // unless its sign-in is kept in a keyring: then its keys go there too.
            Target::Chained(_) if target.storage().is_file() => Ok(()),
            Target::Chained(role) => cache
                .store(&role.cache_key, &role.role_arn, &role.role_name, creds)
                .map(drop),
        }
    }

    /// Whether the sign-in behind `target` still exists (one `stat`).
    fn signed_in(&self, target: &Target) -> bool {
        match target {
            Target::IdentityCenter(role) => self.store.tokens.has_token(&role.session),
            // Keys from STS stand on their own until they expire: there is no sign-in to end.
            Target::Saml(_) => true,
            // A chained role's keys stand while the sign-in at the bottom of its chain does.
            Target::Chained(role) => role
                .signed_in_source()
                .is_none_or(|source| self.signed_in(source)),
        }
    }

    /// The sign-in is gone: its cached role credentials are deleted, so that a later sign-in
    /// by another tool does not bring them back.
    fn forget_signed_out(&self, target: &Target) {
        if let Target::Chained(role) = target {
            if let Some(source) = role.signed_in_source() {
                self.forget_signed_out(source);
            }
            return;
        }
        let Target::IdentityCenter(role) = target else {
            return;
        };
        // The chained keys derived from the session go with it (the AWS CLI would hand them
        // out otherwise).
        match self.derived().remove_derived(role.session.cache_key()) {
            Ok(gone) if !gone.is_empty() => crate::info!(
                "deleted {} chained role key file(s) derived from the signed-out {}",
                gone.len(),
                role.session.label()
            ),
            Ok(_) => {}
            Err(e) => note_unwritable(self.cache.dir(), &e),
        }
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
