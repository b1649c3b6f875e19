//! Misbehaviour on request: added latency, throttling of the portal calls with a token
//! bucket, random 500s, and truncated (garbled) success bodies.

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// The fault settings. All off by default.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Faults {
    /// Added before every OIDC and portal call is answered.
    pub latency_ms: u64,
    /// Portal calls per second allowed by the throttle (0 = no throttle). The bucket holds one
    /// second of calls (`ceil(rps)`, at least 1) and starts full, so a burst of that many calls
    /// passes and the rest see 429 until tokens come back at `rps` per second.
    pub throttle_rps: f64,
    /// Fraction (0..=1) of OIDC and portal calls answered with 500.
    pub error_rate: f64,
    /// Successful JSON bodies of OIDC and portal calls are cut to half their length.
    pub garble_bodies: bool,
}

/// A partial change to [`Faults`]: fields left `None` keep their value.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultsUpdate {
    pub latency_ms: Option<u64>,
    pub throttle_rps: Option<f64>,
    pub error_rate: Option<f64>,
    pub garble_bodies: Option<bool>,
}

impl Faults {
    /// Checks the ranges: a rate is finite and not negative, an error rate at most 1.
    pub fn validate(&self) -> Result<(), String> {
        if !self.throttle_rps.is_finite() || self.throttle_rps < 0.0 {
            return Err(format!(
                "throttleRps {} must be 0 or more",
                self.throttle_rps
            ));
        }
        if !(0.0..=1.0).contains(&self.error_rate) {
            return Err(format!(
                "errorRate {} must be between 0 and 1",
                self.error_rate
            ));
        }
        Ok(())
    }

    /// The settings after `update`, checked.
    pub fn updated(&self, update: &FaultsUpdate) -> Result<Faults, String> {
        let next = Faults {
            latency_ms: update.latency_ms.unwrap_or(self.latency_ms),
            throttle_rps: update.throttle_rps.unwrap_or(self.throttle_rps),
            error_rate: update.error_rate.unwrap_or(self.error_rate),
            garble_bodies: update.garble_bodies.unwrap_or(self.garble_bodies),
        };
        next.validate()?;
        Ok(next)
    }
}

/// A token bucket refilled continuously at `rate` tokens a second, holding one second of
/// calls and full at the start: the emulator's throttle. Public so that clients' pacing can be
/// simulated against the very same rule.
#[derive(Debug)]
pub struct Bucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub fn new(rate: f64, now: Instant) -> Bucket {
        let capacity = rate.ceil().max(1.0);
        Bucket {
            rate,
            capacity,
            tokens: capacity,
            last: now,
        }
    }

    /// Takes a token if there is one at `now`.
    pub fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The live fault settings and the throttle's bucket.
#[derive(Debug)]
pub struct FaultState {
    faults: Faults,
    bucket: Option<Bucket>,
}

impl FaultState {
    pub fn new(faults: Faults) -> FaultState {
        let mut state = FaultState {
            faults: Faults::default(),
            bucket: None,
        };
        state.set(faults);
        state
    }

    pub fn get(&self) -> Faults {
        self.faults
    }

    /// Replaces the settings; a changed throttle starts with a full bucket.
    pub fn set(&mut self, faults: Faults) {
        if faults.throttle_rps != self.faults.throttle_rps || self.bucket.is_none() {
            self.bucket = (faults.throttle_rps > 0.0)
                .then(|| Bucket::new(faults.throttle_rps, Instant::now()));
        }
        self.faults = faults;
    }

    pub fn latency(&self) -> Option<Duration> {
        (self.faults.latency_ms > 0).then(|| Duration::from_millis(self.faults.latency_ms))
    }

    /// Takes a token for one portal call; false means answer 429.
    pub fn admit_portal_call(&mut self, now: Instant) -> bool {
        match &mut self.bucket {
            Some(bucket) => bucket.try_take(now),
            None => true,
        }
    }

    /// Whether this call is picked to fail with a 500.
    pub fn should_fail(&self) -> bool {
        self.faults.error_rate > 0.0 && rand::random::<f64>() < self.faults.error_rate
    }
}

/// Cuts a success body to half its length, as a dropped connection would leave it.
pub fn garble(body: &[u8]) -> Vec<u8> {
    body[..body.len() / 2].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_one_second_of_burst_then_refills() {
        let start = Instant::now();
        let mut state = FaultState::new(Faults {
            throttle_rps: 20.0,
            ..Faults::default()
        });
        let passed = (0..100).filter(|_| state.admit_portal_call(start)).count();
        assert!((20..=21).contains(&passed), "{passed}");
        assert!(!state.admit_portal_call(start));
        let later = start + Duration::from_millis(500);
        let refilled = (0..100).filter(|_| state.admit_portal_call(later)).count();
        assert!((9..=11).contains(&refilled), "{refilled}");
    }

    #[test]
    fn update_keeps_fields_left_out_and_zero_turns_off() {
        let on = Faults {
            latency_ms: 5,
            throttle_rps: 3.0,
            error_rate: 0.5,
            garble_bodies: true,
        };
        let partial = on
            .updated(&FaultsUpdate {
                error_rate: Some(0.0),
                ..FaultsUpdate::default()
            })
            .unwrap();
        assert_eq!(partial.latency_ms, 5);
        assert_eq!(partial.error_rate, 0.0);
        assert!(on
            .updated(&FaultsUpdate {
                error_rate: Some(1.5),
                ..FaultsUpdate::default()
            })
            .is_err());
        let mut state = FaultState::new(Faults::default());
        assert!((0..1000).all(|_| state.admit_portal_call(Instant::now())));
        assert!(!state.should_fail());
    }

    #[test]
    fn garbled_body_is_not_json() {
        let body = br#"{"accountList":[{"accountId":"123456789012"}]}"#;
        assert!(serde_json::from_slice::<serde_json::Value>(&garble(body)).is_err());
    }
}
