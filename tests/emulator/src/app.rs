//! The state every handler shares, and the one gate every service call passes: count it,
//! delay it, throttle it, maybe fail it; then maybe garble its success body.

use crate::dsig::Signer;
use crate::faults::{garble, FaultState};
use crate::gate::RefreshGate;
use crate::state::{Settings, Store};
use crate::stats::{Counter, Stats};
use crate::sts::{StsError, StsFailure};
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
    Sts,
}

#[derive(Debug)]
pub struct App {
    pub settings: Settings,
    store: Mutex<Store>,
    faults: Mutex<FaultState>,
    refresh_gate: Mutex<RefreshGate>,
    pub stats: Stats,
    pub log_requests: bool,
    /// The SAML IdP's signing key (and so the SAML providers' certificate).
    pub signer: Signer,
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
            refresh_gate: Mutex::new(RefreshGate::default()),
            stats: Stats::default(),
            log_requests,
            signer: Signer::new(),
        }
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    pub fn faults(&self) -> MutexGuard<'_, FaultState> {
        lock(&self.faults)
    }

    pub fn refresh_gate(&self) -> MutexGuard<'_, RefreshGate> {
        lock(&self.refresh_gate)
    }

    /// Waits while the refresh gate holds this refresh-token grant (see `gate`).
    pub async fn pass_refresh_gate(&self) {
        let held = self.refresh_gate().enter();
        if let Some(released) = held {
            // An error means the emulator is going away: go on and answer.
            let _ = released.await;
        }
    }

    /// Counts the call under `counter`, applies latency, then the throttle (portal and STS
    /// calls only) and the error rate. `Err` is the fault's answer, already counted.
    pub async fn admit(&self, counter: Option<Counter>, service: Service) -> Result<(), Response> {
        if let Some(counter) = counter {
            self.stats.bump(counter);
        }
        let latency = self.faults().latency();
        if let Some(latency) = latency {
            tokio::time::sleep(latency).await;
        }
        let throttled = counter.is_some_and(Counter::is_throttled);
        if throttled && !self.faults().admit_portal_call(Instant::now()) {
            self.stats.bump(Counter::Throttled);
            return Err(match service {
                Service::Sts => {
                    StsFailure::new(StsError::Throttling, "Rate exceeded").into_response()
                }
                _ => PortalFailure::new(PortalError::TooManyRequests, "Rate exceeded")
                    .into_response(),
            });
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
                Service::Sts => StsFailure::new(
                    StsError::InternalFailure,
                    "An internal error occurred. Try again.",
                )
                .into_response(),
            });
        }
        Ok(())
    }

    /// A 200 JSON answer, cut short when garbling is on.
    pub fn success(&self, body: &serde_json::Value) -> Response {
        json_response(StatusCode::OK, self.garbled(body.to_string().into_bytes()))
    }

    /// A success body, cut short when garbling is on.
    pub fn garbled(&self, body: Vec<u8>) -> Vec<u8> {
        if self.faults().get().garble_bodies {
            garble(&body)
        } else {
            body
        }
    }
}
