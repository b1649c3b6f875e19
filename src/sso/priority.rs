//! Which accounts' roles a listing lists first: a handle shared between the listing and
//! whoever watches it (the portal), so that what the user does re-orders the work at once.
//!
//! Tiers, first to last: accounts asked for now (⏎ on an account whose roles are unknown),
//! accounts matching the current filter, recently used accounts, the rows on screen, the rest.
//! Filter matches come best match first; within the other tiers accounts keep the order
//! ListAccounts returned them in. The listing asks for
//! its next account only when a call slot is free, so a change applies to the very next call.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// How urgent an account's roles are; lower comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// Asked for by [`Priority::fetch_now`].
    Now,
    /// Matches the current filter.
    Filter,
    /// Recently used (★).
    Recent,
    /// On screen.
    Visible,
    Rest,
}

/// The shared, cheaply cloned priority handle. Setting a tier replaces its accounts.
#[derive(Debug, Clone, Default)]
pub struct Priority {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    tiers: Mutex<Tiers>,
    /// Woken when an account is asked for now, so an idle listing takes it up.
    asked: Notify,
}

#[derive(Debug, Default)]
struct Tiers {
    now: Vec<String>,
    /// Each match with its rank (0 = best).
    filter: HashMap<String, usize>,
    recent: HashSet<String>,
    visible: HashSet<String>,
    /// Asked for now and not yet taken up by the listing.
    requests: Vec<String>,
    /// Every account picked so far, in the order picked: the order the calls were made in,
    /// which is what this type decides (the order answers come back in is the network's).
    picked: Vec<String>,
}

impl Priority {
    pub fn new() -> Priority {
        Priority::default()
    }

    fn tiers(&self) -> std::sync::MutexGuard<'_, Tiers> {
        self.inner.tiers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The accounts matching the filter the user typed, best match first (none while there
    /// is no filter). Returns how many accounts had been picked before it took effect: the
    /// picks from that index of [`picked`](Self::picked) on follow this filter.
    pub fn set_filter_matches<S: Into<String>>(&self, ids: impl IntoIterator<Item = S>) -> usize {
        let mut filter = HashMap::new();
        for (rank, id) in ids.into_iter().enumerate() {
            filter.entry(id.into()).or_insert(rank);
        }
        let mut tiers = self.tiers();
        tiers.filter = filter;
        tiers.picked.len()
    }

    /// The accounts picked so far, in the order their roles were asked for.
    pub fn picked(&self) -> Vec<String> {
        self.tiers().picked.clone()
    }

    /// The recently used accounts.
    pub fn set_recent<S: Into<String>>(&self, ids: impl IntoIterator<Item = S>) {
        self.tiers().recent = ids.into_iter().map(Into::into).collect();
    }

    /// The accounts whose rows are on screen.
    pub fn set_visible<S: Into<String>>(&self, ids: impl IntoIterator<Item = S>) {
        self.tiers().visible = ids.into_iter().map(Into::into).collect();
    }

    /// Lists this account's roles next, before everything else, and again if they are known
    /// from an earlier listing (the user is about to act on them).
    pub fn fetch_now(&self, account_id: &str) {
        {
            let mut tiers = self.tiers();
            if !tiers.now.iter().any(|id| id == account_id) {
                tiers.now.push(account_id.to_string());
            }
            tiers.requests.push(account_id.to_string());
        }
        self.inner.asked.notify_waiters();
    }

    pub fn tier(&self, account_id: &str) -> Tier {
        self.tiers().tier(account_id)
    }

    /// The accounts asked for now since the last call (the listing queues them).
    pub(crate) fn take_requests(&self) -> Vec<String> {
        std::mem::take(&mut self.tiers().requests)
    }

    /// Resolves when [`fetch_now`](Self::fetch_now) is called after `notified` was created.
    pub(crate) fn asked(&self) -> tokio::sync::futures::Notified<'_> {
        self.inner.asked.notified()
    }

    /// Removes and returns the most urgent of `pending` (ids with their listing order).
    pub(crate) fn pick(&self, pending: &mut Vec<(usize, String)>) -> Option<String> {
        let mut tiers = self.tiers();
        let best = pending
            .iter()
            .enumerate()
            .min_by_key(|(_, (order, id))| {
                let rank = tiers.filter.get(id.as_str()).copied().unwrap_or(0);
                (tiers.tier(id), rank, *order)
            })
            .map(|(i, _)| i)?;
        let (_, id) = pending.swap_remove(best);
        tiers.now.retain(|x| *x != id);
        tiers.picked.push(id.clone());
        Some(id)
    }
}

impl Tiers {
    fn tier(&self, id: &str) -> Tier {
        if self.now.iter().any(|x| x == id) {
            Tier::Now
        } else if self.filter.contains_key(id) {
            Tier::Filter
        } else if self.recent.contains(id) {
            Tier::Recent
        } else if self.visible.contains(id) {
            Tier::Visible
        } else {
            Tier::Rest
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(ids: &[&str]) -> Vec<(usize, String)> {
        ids.iter()
            .enumerate()
            .map(|(i, id)| (i, id.to_string()))
            .collect()
    }

    #[test]
    fn tiers_order_the_picks() {
        let p = Priority::new();
        let mut queue = pending(&["a", "b", "c", "d", "e", "f"]);
        p.set_visible(["e", "b"]);
        p.set_recent(["d"]);
        // Best match first: f before c although c was listed first.
        p.set_filter_matches(["f", "c"]);
        p.fetch_now("e");
        let order: Vec<String> = std::iter::from_fn(|| p.pick(&mut queue)).collect();
        assert_eq!(order, ["e", "f", "c", "d", "b", "a"]);
        assert_eq!(p.take_requests(), ["e"]);
        assert!(p.take_requests().is_empty());
        // Once picked, an account asked for now is no longer urgent.
        assert_eq!(p.tier("e"), Tier::Visible);
    }

    #[test]
    fn a_new_filter_applies_to_the_next_pick() {
        let p = Priority::new();
        let mut queue = pending(&["a", "b", "c"]);
        assert_eq!(p.pick(&mut queue).as_deref(), Some("a"));
        p.set_filter_matches(["c"]);
        assert_eq!(p.pick(&mut queue).as_deref(), Some("c"));
        p.set_filter_matches(Vec::<String>::new());
        assert_eq!(p.pick(&mut queue).as_deref(), Some("b"));
        assert_eq!(p.pick(&mut queue), None);
    }
}
