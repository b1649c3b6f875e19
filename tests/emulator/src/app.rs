//! The state every handler shares, and the one gate every service call passes: count it,
//! delay it, throttle it, maybe fail it; then maybe garble its success body.

use crate::faults::{garble, FaultState};
use crate::state::{Settings, Store};
use crate::stats::{Counter, Stats};
use crate::wire::{json_response, OidcError, OidcFailure, PortalError, PortalFailure};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

/// Which service a call belongs to; decides the shape of fault answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Oidc,
    Portal,
}

#[derive(Debug)]
pub struct App {
    pub settings: Settings,
    store: Mutex<Store>,
    faults: Mutex<FaultState>,
    pub stats: Stats,
    pub log_requests: bool,
}

/// Locks a mutex even if a handler panicked while holding it: one failed request must not
/// wedge the emulator for every later one.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl App {
    pub fn new(settings: Settings, store: Store, faults: FaultState, log_requests: bool) -> App {
        App {
            settings,
            store: Mutex::new(store),
            faults: Mutex::new(faults),
            stats: Stats::default(),
            log_requests,
        }
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    pub fn faults(&self) -> MutexGuard<'_, FaultState> {
        lock(&self.faults)
    }

    /// Counts the call under `counter`, applies latency, then the throttle (portal calls
    /// only) and the error rate. `Err` is the fault's answer, already counted.
    pub async fn admit(&self, counter: Option<Counter>, service: Service) -> Result<(), Response> {
        if let Some(counter) = counter {
            self.stats.bump(counter);
        }
        let latency = self.faults().latency();
        if let Some(latency) = latency {
            tokio::time::sleep(latency).await;
        }
        let portal_call = counter.is_some_and(Counter::is_portal);
        if portal_call && !self.faults().admit_portal_call(Instant::now()) {
            self.stats.bump(Counter::Throttled);
            return Err(
                PortalFailure::new(PortalError::TooManyRequests, "Rate exceeded").into_response(),
            );
        }
        if self.faults().should_fail() {
            self.stats.bump(Counter::Failed);
            return Err(match service {
                Service::Oidc => OidcFailure::new(
                    OidcError::InternalServer,
                    "An internal error occurred. Try again.",
                )
                .into_response(),
                Service::Portal => PortalFailure::new(
                    PortalError::InternalServer,
                    "An internal error occurred. Try again.",
                )
                .into_response(),
            });
        }
        Ok(())
    }

    /// A 200 JSON answer, cut short when garbling is on.
    pub fn success(&self, body: &serde_json::Value) -> Response {
        let mut bytes = body.to_string().into_bytes();
        if self.faults().get().garble_bodies {
            bytes = garble(&bytes);
        }
        json_response(StatusCode::OK, bytes)
    }
}
