//! Adaptive pacing of portal calls: find the rate Identity Center allows and stay at it.
//!
//! The portal throttles per user with something like a token bucket and answers 429
//! TooManyRequestsException beyond it. The pacer spaces calls at `rate` per second and adapts
//! it AIMD-style, the way TCP finds a link's capacity:
//!
//! - **Probing** (slow start): every success that had to wait for its slot adds a whole call
//!   per second, so the rate doubles about every 0.7 s until the first 429.
//! - **On a 429** the rate is cut (×[`PacerConfig::decrease`]) once per "round": only a call
//!   reserved after the previous cut can cut again, so the burst of 429s that one overshoot
//!   causes counts once. The throttled call is retried after a short jittered backoff.
//! - **After that** every paced success adds a small step, so the rate climbs back about 10 %
//!   a second and probes above the limit again.
//!
//! A bucket banks the calls not made while the rate is below its limit (up to its capacity),
//! so this saw-tooth loses almost nothing: throughput stays at the limit. Calls that did not
//! wait for their slot (concurrency, not pacing, was the limit) do not raise the rate, so it
//! cannot drift far above what is actually sent.
//!
//! All decisions take `now` from the caller; the async side only sleeps. That keeps the logic
//! testable against a simulated bucket without sleeping in tests.
//!
//! **Credentials before listing.** The service's budget is per user, so a listing running at
//! the limit leaves nothing for a GetRoleCredentials the user is waiting on. Within one
//! process the [`Gate`] settles that: a credential call announces itself, listing calls stop
//! being sent, and the credential call goes out once the listing's calls in flight have
//! answered and the bucket has had time to refill a call. Across processes nothing is shared:
//! the listing's pacer and the credential call's [`Backoff`] both back off on 429.

use std::pin::pin;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// The knobs of the pacer and of the listing's retry and give-up rules.
#[derive(Debug, Clone)]
pub struct PacerConfig {
    /// Calls per second before anything is known.
    pub initial_rate: f64,
    pub min_rate: f64,
    pub max_rate: f64,
    /// Calls in flight at most.
    pub concurrency: usize,
    /// The factor a 429 cuts the rate by.
    pub decrease: f64,
    /// Calls per second added per paced success while probing.
    pub probe_step: f64,
    /// Calls per second added per paced success after the first 429.
    pub increase_step: f64,
    /// Longest single backoff after a 429.
    pub max_throttle_backoff: Duration,
    /// Give up (Throttled) when no call has succeeded for this long.
    pub stall_timeout: Duration,
    /// Give up when the whole listing takes longer than this, progress or not.
    pub overall_timeout: Duration,
    /// Attempts for one call failing with 5xx or an unreadable body.
    pub max_attempts_server_error: u32,
    /// Attempts for one call failing to connect or timing out.
    pub max_attempts_network: u32,
}

impl Default for PacerConfig {
    fn default() -> PacerConfig {
        PacerConfig {
            initial_rate: 20.0,
            min_rate: 0.5,
            max_rate: 1000.0,
            concurrency: 16,
            decrease: 0.7,
            probe_step: 1.0,
            increase_step: 0.1,
            max_throttle_backoff: Duration::from_secs(2),
            stall_timeout: Duration::from_secs(60),
            overall_timeout: Duration::from_secs(30 * 60),
            max_attempts_server_error: 6,
            max_attempts_network: 3,
        }
    }
}

/// A reserved send time.
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    /// When the call may be sent.
    pub at: Instant,
    /// When it was reserved: a 429 on a call reserved before the last cut does not cut again.
    reserved: Instant,
    /// Whether pacing delayed it (only those raise the rate).
    paced: bool,
}

/// The shared pacer. Cheap to call from many tasks; the lock is never held across an await.
#[derive(Debug)]
pub struct Pacer {
    config: PacerConfig,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    rate: f64,
    next_slot: Instant,
    probing: bool,
    last_cut: Option<Instant>,
    last_success: Instant,
    cuts: u32,
    rng: u64,
}

impl Pacer {
    pub fn new(config: PacerConfig, now: Instant) -> Pacer {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.as_nanos() as u64);
        Pacer::with_seed(config, now, seed)
    }

    /// A pacer with a fixed jitter seed, for reproducible simulations.
    pub fn with_seed(config: PacerConfig, now: Instant, seed: u64) -> Pacer {
        let rate = config.initial_rate.clamp(config.min_rate, config.max_rate);
        Pacer {
            config,
            state: Mutex::new(State {
                rate,
                next_slot: now,
                probing: true,
                last_cut: None,
                last_success: now,
                cuts: 0,
                // SplitMix64 once, so that nearby seeds give unrelated sequences.
                rng: splitmix(seed) | 1,
            }),
        }
    }

    pub fn config(&self) -> &PacerConfig {
        &self.config
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the numbers inconsistent; keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserves the next send time at the current rate.
    pub fn reserve(&self, now: Instant) -> Slot {
        let mut s = self.state();
        let at = s.next_slot.max(now);
        s.next_slot = at + Duration::from_secs_f64(1.0 / s.rate);
        Slot {
            at,
            reserved: now,
            paced: at > now,
        }
    }

    /// A call sent in `slot` succeeded.
    pub fn on_success(&self, slot: &Slot, now: Instant) {
        let mut s = self.state();
        s.last_success = s.last_success.max(now);
        if slot.paced {
            let step = if s.probing {
                self.config.probe_step
            } else {
                self.config.increase_step
            };
            s.rate = (s.rate + step).min(self.config.max_rate);
        }
    }

    /// A call sent in `slot` got 429 on its `attempt`-th throttle. Cuts the rate (once per
    /// round) and returns how long to wait before reserving a slot for the retry.
    pub fn on_throttled(&self, slot: &Slot, attempt: u32, now: Instant) -> Duration {
        let mut s = self.state();
        if s.last_cut.is_none_or(|cut| slot.reserved >= cut) {
            s.rate = (s.rate * self.config.decrease).max(self.config.min_rate);
            s.probing = false;
            s.last_cut = Some(now);
            s.cuts += 1;
        }
        let base = Duration::from_secs_f64(1.0 / s.rate);
        let backoff = base
            .saturating_mul(1 << attempt.clamp(1, 8).saturating_sub(1))
            .min(self.config.max_throttle_backoff);
        let factor = 0.5 + next_unit(&mut s.rng);
        backoff.mul_f64(factor)
    }

    /// Backoff before retrying a call that failed with 5xx, a garbled body or a network
    /// error on its `attempt`-th try: 100 ms doubling, at most 5 s, jittered.
    pub fn error_backoff(&self, attempt: u32) -> Duration {
        let mut s = self.state();
        let base = Duration::from_millis(100)
            .saturating_mul(1 << attempt.clamp(1, 8).saturating_sub(1))
            .min(Duration::from_secs(5));
        base.mul_f64(0.5 + next_unit(&mut s.rng))
    }

    /// The current rate in calls per second.
    pub fn rate(&self) -> f64 {
        self.state().rate
    }

    /// How many times a 429 cut the rate.
    pub fn cuts(&self) -> u32 {
        self.state().cuts
    }

    /// How long since the last success (or since the start, before the first one).
    pub fn stalled_for(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.state().last_success)
    }
}

/// Jittered exponential backoff for a caller on its own (one GetRoleCredentials call), where
/// no shared pacer sees the other callers: twenty `credential_process` processes throttled at
/// once must not retry in step. "Full jitter": a wait drawn uniformly from
/// `[0, min(cap, base × 2^(n−1)))`, never below `floor`, so the retries of many processes
/// spread over the window and the service lets one through whenever it has room.
#[derive(Debug)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
    pub floor: Duration,
    rng: u64,
}

impl Backoff {
    /// 250 ms doubling to at most 5 s, at least 50 ms, seeded from the clock and the process
    /// id so that processes started in the same instant draw different waits.
    pub fn new() -> Backoff {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.as_nanos() as u64);
        Backoff::with_seed(nanos ^ (u64::from(std::process::id()) << 32))
    }

    pub fn with_seed(seed: u64) -> Backoff {
        Backoff {
            base: Duration::from_millis(250),
            cap: Duration::from_secs(5),
            floor: Duration::from_millis(50),
            rng: splitmix(seed) | 1,
        }
    }

    /// The wait before retry number `attempt` (1 for the first retry).
    pub fn delay(&mut self, attempt: u32) -> Duration {
        let window = self
            .base
            .saturating_mul(1 << attempt.clamp(1, 16).saturating_sub(1))
            .min(self.cap);
        window.mul_f64(next_unit(&mut self.rng)).max(self.floor)
    }
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff::new()
    }
}

/// The process's one [`Gate`], shared by every listing and every credential call in it.
pub fn gate() -> &'static Gate {
    static GATE: LazyLock<Gate> = LazyLock::new(Gate::default);
    &GATE
}

/// Orders listing calls behind credential calls within one process (see the module docs).
/// Hand-written: a priority lock that also waits out a refill interval is not something a
/// semaphore or RwLock crate offers.
#[derive(Debug, Default)]
pub struct Gate {
    state: Mutex<GateState>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct GateState {
    /// Credential calls waiting or in flight.
    credentials: usize,
    /// Listing calls sent and not yet answered.
    listing_in_flight: usize,
    /// When the bucket has refilled a call after every listing call answered so far: each
    /// call's answer (the service took its token at the latest then) plus its listing's
    /// refill time. Several listings (sessions) may share the process.
    refilled_at: Option<Instant>,
}

impl Gate {
    fn state(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until no credential call is waiting, then counts one listing call as in flight
    /// until the returned guard drops. `refill` is how long the bucket takes to refill one call
    /// at the listing's current pace (about two intervals of its rate).
    pub async fn listing_call(&self, refill: Duration) -> ListingCall<'_> {
        loop {
            let mut notified = pin!(self.changed.notified());
            notified.as_mut().enable();
            {
                let mut s = self.state();
                if s.credentials == 0 {
                    s.listing_in_flight += 1;
                    return ListingCall { gate: self, refill };
                }
            }
            notified.await;
        }
    }

    /// Holds listing calls back for as long as the returned pass lives, once the listing's
    /// calls in flight have answered and the bucket has refilled a call. Immediate when no
    /// listing call was answered lately.
    pub async fn credential_call(&self) -> CredentialPass<'_> {
        self.state().credentials += 1;
        let pass = CredentialPass { gate: self };
        loop {
            let mut notified = pin!(self.changed.notified());
            notified.as_mut().enable();
            let ready_at = {
                let s = self.state();
                if s.listing_in_flight > 0 {
                    None
                } else {
                    match s.refilled_at {
                        Some(at) if at > Instant::now() => Some(at),
                        _ => return pass,
                    }
                }
            };
            match ready_at {
                Some(at) => tokio::select! {
                    () = tokio::time::sleep_until(at.into()) => {}
                    () = notified => {}
                },
                None => notified.await,
            }
        }
    }
}

/// A listing call in flight; see [`Gate::listing_call`].
#[derive(Debug)]
pub struct ListingCall<'a> {
    gate: &'a Gate,
    refill: Duration,
}

impl Drop for ListingCall<'_> {
    fn drop(&mut self) {
        {
            let mut s = self.gate.state();
            s.listing_in_flight -= 1;
            let at = Instant::now() + self.refill;
            s.refilled_at = Some(s.refilled_at.map_or(at, |t| t.max(at)));
        }
        self.gate.changed.notify_waiters();
    }
}

/// A credential call's right of way; see [`Gate::credential_call`].
#[derive(Debug)]
pub struct CredentialPass<'a> {
    gate: &'a Gate,
}

impl Drop for CredentialPass<'_> {
    fn drop(&mut self) {
        self.gate.state().credentials -= 1;
        self.gate.changed.notify_waiters();
    }
}

fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// xorshift64*: a uniform number in [0, 1) for jitter; no crate needed for that.
fn next_unit(state: &mut u64) -> f64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    /// The emulator's own throttle, so the simulation meets exactly what the tests meet.
    use idc_emulator::TokenBucket as Bucket;

    #[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
    enum Step {
        /// The worker wants a slot for its current call.
        Ready,
        /// The call reaches the server.
        Arrive,
        /// The answer is back.
        Answer(bool),
    }

    struct Outcome {
        elapsed: Duration,
        throttled: u64,
        sent: u64,
    }

    /// Runs `calls` calls through `workers` workers and the pacer against a bucket of
    /// `limit` calls/s, with `latency` each way, in virtual time.
    fn simulate(calls: u64, limit: f64, workers: usize, latency: Duration, seed: u64) -> Outcome {
        let t0 = Instant::now();
        let pacer = Pacer::with_seed(PacerConfig::default(), t0, seed);
        let mut bucket = Bucket::new(limit, t0);
        let mut heap = BinaryHeap::new();
        let mut slots: Vec<Option<Slot>> = vec![None; workers];
        let mut attempts = vec![0u32; workers];
        let mut seq = 0u64;
        let mut push = |heap: &mut BinaryHeap<_>, at: Instant, worker: usize, step: Step| {
            seq += 1;
            heap.push(Reverse((at - t0, seq, worker, step)));
        };
        let mut started = 0;
        for w in 0..workers.min(calls as usize) {
            push(&mut heap, t0, w, Step::Ready);
            started += 1;
        }
        let (mut done, mut throttled, mut sent, mut end) = (0u64, 0u64, 0u64, t0);
        while let Some(Reverse((offset, _, w, step))) = heap.pop() {
            let now = t0 + offset;
            match step {
                Step::Ready => {
                    let slot = pacer.reserve(now);
                    slots[w] = Some(slot);
                    push(&mut heap, slot.at + latency, w, Step::Arrive);
                }
                Step::Arrive => {
                    sent += 1;
                    let ok = bucket.try_take(now);
                    push(&mut heap, now + latency, w, Step::Answer(ok));
                }
                Step::Answer(ok) => {
                    let slot = slots[w].take().unwrap();
                    if ok {
                        pacer.on_success(&slot, now);
                        done += 1;
                        attempts[w] = 0;
                        end = now;
                        if started < calls {
                            started += 1;
                            push(&mut heap, now, w, Step::Ready);
                        }
                    } else {
                        throttled += 1;
                        attempts[w] += 1;
                        let wait = pacer.on_throttled(&slot, attempts[w], now);
                        push(&mut heap, now + wait, w, Step::Ready);
                    }
                }
            }
        }
        assert_eq!(done, calls);
        Outcome {
            elapsed: end - t0,
            throttled,
            sent,
        }
    }

    #[test]
    fn converges_to_the_allowed_rate_within_fifteen_percent_of_the_bound() {
        for (calls, limit, latency_ms) in [
            (505, 20.0, 2),
            (505, 20.0, 60),
            (2000, 20.0, 2),
            (300, 5.0, 2),
            (3000, 100.0, 2),
            (1000, 50.0, 80),
        ] {
            for seed in 1..=5 {
                let out = simulate(calls, limit, 16, Duration::from_millis(latency_ms), seed);
                let bound = calls as f64 / limit;
                let ratio = out.elapsed.as_secs_f64() / bound;
                assert!(
                    ratio <= 1.15,
                    "{calls} calls at {limit}/s, {latency_ms} ms: {:.2}s vs bound {bound:.2}s \
                     (ratio {ratio:.3}, {} throttled of {} sent)",
                    out.elapsed.as_secs_f64(),
                    out.throttled,
                    out.sent,
                );
                // 429s are the price of probing, not the normal case.
                assert!(
                    out.throttled * 2 < calls,
                    "{calls} at {limit}/s: {} throttled",
                    out.throttled
                );
            }
        }
    }

    #[test]
    fn one_overshoot_cuts_once() {
        let t0 = Instant::now();
        let pacer = Pacer::with_seed(PacerConfig::default(), t0, 7);
        let slots: Vec<Slot> = (0..8).map(|_| pacer.reserve(t0)).collect();
        let later = t0 + Duration::from_millis(500);
        for slot in &slots {
            pacer.on_throttled(slot, 1, later);
        }
        assert_eq!(pacer.cuts(), 1);
        assert!((pacer.rate() - 20.0 * 0.7).abs() < 1e-9, "{}", pacer.rate());
        // A call reserved after the cut that is throttled again cuts again.
        let slot = pacer.reserve(later);
        pacer.on_throttled(&slot, 1, later + Duration::from_millis(10));
        assert_eq!(pacer.cuts(), 2);
    }

    #[test]
    fn unpaced_successes_do_not_raise_the_rate() {
        let t0 = Instant::now();
        let pacer = Pacer::with_seed(PacerConfig::default(), t0, 7);
        for i in 0..50 {
            // One call every second: never waits for a slot.
            let now = t0 + Duration::from_secs(i);
            let slot = pacer.reserve(now);
            pacer.on_success(&slot, now);
        }
        assert_eq!(pacer.rate(), PacerConfig::default().initial_rate);
    }

    #[test]
    fn backoffs_are_short_bounded_and_jittered() {
        let t0 = Instant::now();
        let pacer = Pacer::with_seed(PacerConfig::default(), t0, 3);
        let slot = pacer.reserve(t0);
        let first = pacer.on_throttled(&slot, 1, t0);
        assert!(first <= Duration::from_millis(250), "{first:?}");
        let many = pacer.on_throttled(&slot, 30, t0);
        assert!(many <= Duration::from_secs(3), "{many:?}");
        let waits: Vec<Duration> = (0..10).map(|_| pacer.error_backoff(2)).collect();
        assert!(waits
            .iter()
            .all(|w| *w >= Duration::from_millis(100) && *w <= Duration::from_millis(300)));
        assert!(waits.windows(2).any(|w| w[0] != w[1]), "jittered");
        assert!(pacer.error_backoff(20) <= Duration::from_millis(7500));
        assert_eq!(
            pacer.stalled_for(t0 + Duration::from_secs(3)),
            Duration::from_secs(3)
        );
    }

    #[test]
    fn backoff_grows_to_its_cap_and_is_spread() {
        let mut b = Backoff::with_seed(7);
        let first: Vec<Duration> = (0..200).map(|_| b.delay(1)).collect();
        assert!(
            first.iter().all(|d| *d >= b.floor && *d < b.base),
            "{first:?}"
        );
        let late: Vec<Duration> = (0..200).map(|_| b.delay(30)).collect();
        assert!(late.iter().all(|d| *d < b.cap));
        // Spread over the window, not clustered: both halves are used.
        assert!(late.iter().any(|d| *d < b.cap / 2) && late.iter().any(|d| *d > b.cap / 2));
        // Two processes seeded differently do not retry in step.
        let (mut x, mut y) = (Backoff::with_seed(1), Backoff::with_seed(2));
        assert_ne!(x.delay(3), y.delay(3));
    }
}
