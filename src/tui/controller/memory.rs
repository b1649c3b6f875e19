//! What the portal remembers between runs, in `~/.cache/portico/portal.json`: the sso-session
//! used last (preselected in the session choice) and the roles picked recently (marked ★ and
//! listed first).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::cache::files::write_private;
use crate::tui::RecentUse;

/// Roles remembered as recently used (across sessions).
const RECENT_KEEP: usize = 100;

/// What `~/.cache/portico/portal.json` remembers between runs.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    #[serde(default)]
    pub last_session: Option<String>,
    /// Most recent first.
    #[serde(default)]
    pub recent: Vec<Used>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Used {
    /// The session's cache key (its name, or the start URL of a legacy set-up).
    pub session: String,
    pub account_id: String,
    pub role: String,
    #[serde(with = "crate::timefmt::rfc3339")]
    pub used_at: OffsetDateTime,
}

impl Memory {
    pub fn path(cache_root: &Path) -> PathBuf {
        cache_root.join("portal.json")
    }

    /// The remembered state; a missing or unreadable file is a fresh start, never an error.
    pub fn load(path: &Path) -> Memory {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        write_private(
            path,
            &serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?,
        )
    }

    /// Puts the role first in the history.
    pub fn record(&mut self, session: &str, account_id: &str, role: &str, now: OffsetDateTime) {
        self.recent
            .retain(|u| !(u.session == session && u.account_id == account_id && u.role == role));
        self.recent.insert(
            0,
            Used {
                session: session.to_string(),
                account_id: account_id.to_string(),
                role: role.to_string(),
                used_at: now,
            },
        );
        self.recent.truncate(RECENT_KEEP);
    }

    pub fn recent_for(&self, session: &str) -> Vec<RecentUse> {
        self.recent
            .iter()
            .filter(|u| u.session == session)
            .map(|u| RecentUse {
                account_id: u.account_id.clone(),
                role: u.role.clone(),
                used_at: u.used_at,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn memory_keeps_recent_roles_per_session_newest_first() {
        let mut m = Memory::default();
        let t = datetime!(2026-03-01 12:00 UTC);
        m.record("corp", "111", "Admin", t);
        m.record("corp", "222", "Read", t + time::Duration::minutes(1));
        m.record("other", "333", "Admin", t);
        m.record("corp", "111", "Admin", t + time::Duration::minutes(2));
        let recent = m.recent_for("corp");
        assert_eq!(
            recent
                .iter()
                .map(|r| (r.account_id.as_str(), r.role.as_str()))
                .collect::<Vec<_>>(),
            [("111", "Admin"), ("222", "Read")]
        );
        assert_eq!(recent[0].used_at, t + time::Duration::minutes(2));
        for i in 0..2 * RECENT_KEEP {
            m.record("corp", &i.to_string(), "R", t);
        }
        assert_eq!(m.recent.len(), RECENT_KEEP);
    }

    #[test]
    fn memory_survives_a_round_trip_and_a_corrupt_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = Memory::path(dir.path());
        assert_eq!(Memory::load(&path), Memory::default());
        let mut m = Memory {
            last_session: Some("corp".into()),
            ..Memory::default()
        };
        m.record("corp", "111", "Admin", datetime!(2026-03-01 12:00 UTC));
        m.save(&path).unwrap();
        assert_eq!(Memory::load(&path), m);
        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(Memory::load(&path), Memory::default());
    }
}
