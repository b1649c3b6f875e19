//! A test-only gate on refresh-token grants: while armed, a `CreateToken` with
//! `grantType=refresh_token` waits after it arrives (it is counted, and the fault controls have
//! had their say) and before Identity Center looks at the refresh token, until a test lets it
//! go. It stages a race between two programs that hold the same refresh token — who spends it
//! first — without depending on timing: hold both, then release them one at a time. Nothing
//! about the answer changes; a held request is only late, as on a slow network.

use std::collections::VecDeque;
use tokio::sync::oneshot;

#[derive(Debug, Default)]
pub struct RefreshGate {
    /// How many of the next refresh-token grants will be held.
    armed: usize,
    /// The held ones, oldest first; a request whose client went away has a closed sender.
    held: VecDeque<oneshot::Sender<()>>,
}

/// What `GET /_emulator/hold-refreshes` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GateState {
    /// How many of the next refresh-token grants will still be held.
    pub armed: usize,
    /// How many are waiting now.
    pub held: usize,
}

impl RefreshGate {
    /// The next `count` refresh-token grants are held (0: none more).
    pub fn arm(&mut self, count: usize) {
        self.armed = count;
    }

    pub fn state(&mut self) -> GateState {
        self.held.retain(|tx| !tx.is_closed());
        GateState {
            armed: self.armed,
            held: self.held.len(),
        }
    }

    /// When armed, takes one from the count and returns what to wait on.
    pub fn enter(&mut self) -> Option<oneshot::Receiver<()>> {
        if self.armed == 0 {
            return None;
        }
        self.armed -= 1;
        let (tx, rx) = oneshot::channel();
        self.held.push_back(tx);
        Some(rx)
    }

    /// Lets the oldest `count` held requests (all of them when `None`) go on, in the order they
    /// arrived; returns how many went.
    pub fn release(&mut self, count: Option<usize>) -> usize {
        let mut released = 0;
        while count.is_none_or(|n| released < n) {
            let Some(tx) = self.held.pop_front() else {
                break;
            };
            if tx.send(()).is_ok() {
                released += 1;
            }
        }
        released
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_only_as_many_as_armed_and_releases_oldest_first() {
        let mut gate = RefreshGate::default();
        assert!(gate.enter().is_none(), "not armed: nothing held");
        gate.arm(2);
        let mut first = gate.enter().unwrap();
        let mut second = gate.enter().unwrap();
        assert!(gate.enter().is_none(), "a third goes straight through");
        assert_eq!(gate.state(), GateState { armed: 0, held: 2 });
        assert_eq!(gate.release(Some(1)), 1);
        assert!(first.try_recv().is_ok());
        assert!(second.try_recv().is_err(), "the second is still held");
        assert_eq!(gate.state(), GateState { armed: 0, held: 1 });
        assert_eq!(gate.release(None), 1);
        assert!(second.try_recv().is_ok());
    }

    #[test]
    fn a_request_whose_client_left_is_not_counted_or_released() {
        let mut gate = RefreshGate::default();
        gate.arm(2);
        drop(gate.enter().unwrap());
        let mut kept = gate.enter().unwrap();
        assert_eq!(gate.state().held, 1);
        assert_eq!(gate.release(Some(1)), 1);
        assert!(kept.try_recv().is_ok());
    }
}
