//! The list's rows: one per account × role (one per account while its roles are still being
//! listed), cleaned for the terminal, kept in the default order (recently used first, then by
//! account name and role), with the text the fuzzy matcher searches.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use nucleo_matcher::Utf32String;
use time::OffsetDateTime;
use unicode_width::UnicodeWidthStr;

use crate::model::id::RoleArn;
use crate::model::Account;
use crate::saml::SamlRole;
use crate::sanitize::for_terminal;

/// A role the user picked before, and when: given by the caller, which keeps the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentUse {
    pub account_id: String,
    pub role: String,
    pub used_at: OffsetDateTime,
}

/// Where a row's role comes from: the open sso-session (Identity Center), or a saml-session's
/// last assertion (an IAM role assumed with SAML).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Source {
    #[default]
    IdentityCenter,
    Saml {
        /// The saml-session's name.
        session: String,
        role_arn: String,
    },
    /// A chained profile of the config file (`role_arn` with `source_profile` or
    /// `credential_source`): its role assumed with its source's keys.
    Chained {
        /// The profile's name.
        profile: String,
    },
}

/// A chained profile as the list shows it: read from the config by the engine's chain reading
/// (the controller resolves each profile), handed to the app in [`Action::ChainedRoles`].
///
/// [`Action::ChainedRoles`]: super::Action::ChainedRoles
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedProfile {
    pub profile: String,
    /// What `source_profile` names (`environment` for `credential_source = Environment`).
    pub via: String,
    pub role_arn: String,
    /// The account and role of the source's own role, when the source is a role: the row is
    /// listed right after that role's row.
    pub source_role: Option<(String, String)>,
}

/// One line of the list.
#[derive(Debug, Clone)]
pub struct Row {
    pub account_name: String,
    pub account_id: String,
    pub role: String,
    pub source: Source,
    pub last_used: Option<OffsetDateTime>,
    /// The account's roles are still being listed: the row stands for the account, `role` is
    /// empty.
    pub loading: bool,
    /// A chained row's source role (account id, role): the row sorts right after its row.
    pub(crate) anchor: Option<(String, String)>,
    /// `name id role`, separated by spaces so that each field starts a word for the matcher.
    pub(crate) haystack: Utf32String,
    name_chars: u32,
    id_chars: u32,
}

impl Row {
    fn new(account_name: String, account_id: String, role: String) -> Row {
        let haystack = Utf32String::from(format!("{account_name} {account_id} {role}"));
        Row {
            name_chars: account_name.chars().count() as u32,
            id_chars: account_id.chars().count() as u32,
            account_name,
            account_id,
            role,
            source: Source::IdentityCenter,
            last_used: None,
            loading: false,
            anchor: None,
            haystack,
        }
    }

    /// Where each field starts in the haystack, in characters: name, id, role.
    pub(crate) fn field_starts(&self) -> [u32; 3] {
        [
            0,
            self.name_chars + 1,
            self.name_chars + 1 + self.id_chars + 1,
        ]
    }

    /// The key used to keep a selection across reloads.
    pub(crate) fn same_role(&self, account_id: &str, role: &str) -> bool {
        self.account_id == account_id && self.role == role
    }
}

/// The rows and the widths the view lays its columns out by.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub rows: Vec<Row>,
    /// Widest account name and role, in terminal columns.
    pub name_width: usize,
    pub role_width: usize,
}

impl Rows {
    /// One row per account × role, names cleaned of control characters, sorted in the
    /// default order.
    pub fn build(accounts: &[Account], recent: &[RecentUse]) -> Rows {
        Rows::build_listing(accounts, &HashSet::new(), recent)
    }

    /// [`build`](Self::build) while a listing runs: an account in `loading` (roles not known
    /// yet) gets one row marked [`Row::loading`].
    pub fn build_listing(
        accounts: &[Account],
        loading: &HashSet<String>,
        recent: &[RecentUse],
    ) -> Rows {
        let mut rows = Vec::with_capacity(accounts.iter().map(|a| a.roles.len()).sum());
        for account in accounts {
            let name = for_terminal(&account.account_name);
            let id = for_terminal(&account.account_id);
            if loading.contains(&account.account_id) {
                let mut row = Row::new(name.clone(), id.clone(), String::new());
                row.loading = true;
                rows.push(row);
                continue;
            }
            for role in &account.roles {
                rows.push(Row::new(name.clone(), id.clone(), for_terminal(role)));
            }
        }
        let mut built = Rows {
            rows,
            name_width: 0,
            role_width: 0,
        };
        built.settle(recent);
        built
    }

    /// Adds a row per role of saml-session `session`, its account column reading
    /// `SAML NAME` (the account's name is not in the assertion), then restores the default
    /// order.
    pub fn add_saml(&mut self, session: &str, roles: &[SamlRole], recent: &[RecentUse]) {
        let label = for_terminal(&format!("SAML {session}"));
        for role in roles {
            let Some(arn) = RoleArn::split(&role.role_arn) else {
                continue;
            };
            let mut row = Row::new(
                label.clone(),
                for_terminal(arn.account_id),
                for_terminal(arn.name),
            );
            row.source = Source::Saml {
                session: session.to_string(),
                role_arn: role.role_arn.clone(),
            };
            self.rows.push(row);
        }
        self.settle(recent);
    }

    /// Adds a row per chained profile: the account column reads `PROFILE via SOURCE` (so the
    /// filter finds it by either name, or by the word `via`), then the account id and role
    /// from the role ARN; then restores the default order, which lists each right after its
    /// source's row when that is listed.
    pub fn add_chained(&mut self, chained: &[ChainedProfile], recent: &[RecentUse]) {
        for c in chained {
            let Some(arn) = RoleArn::split(&c.role_arn) else {
                continue;
            };
            let mut row = Row::new(
                for_terminal(&format!("{} via {}", c.profile, c.via)),
                for_terminal(arn.account_id),
                for_terminal(arn.name),
            );
            row.source = Source::Chained {
                profile: c.profile.clone(),
            };
            row.anchor = c.source_role.clone();
            self.rows.push(row);
        }
        self.settle(recent);
    }

    /// After rows were added: the columns' widths, then the recent marks and default order.
    fn settle(&mut self, recent: &[RecentUse]) {
        self.name_width = self
            .rows
            .iter()
            .map(|r| r.account_name.width())
            .max()
            .unwrap_or(0);
        self.role_width = self.rows.iter().map(|r| r.role.width()).max().unwrap_or(0);
        self.apply_recent(recent);
    }

    /// Marks recently used rows and restores the default order.
    pub fn apply_recent(&mut self, recent: &[RecentUse]) {
        let mut last: HashMap<(&str, &str), OffsetDateTime> = HashMap::new();
        for r in recent {
            let at = last
                .entry((r.account_id.as_str(), r.role.as_str()))
                .or_insert(r.used_at);
            *at = (*at).max(r.used_at);
        }
        for row in &mut self.rows {
            row.last_used = last
                .get(&(row.account_id.as_str(), row.role.as_str()))
                .copied();
        }
        // A chained row sorts as its source's row (when listed), just after it: "beside its
        // source"; a chain of them follows its first link.
        let mut by_role: HashMap<(&str, &str), usize> = HashMap::new();
        for (i, r) in self.rows.iter().enumerate() {
            let key = (r.account_id.as_str(), r.role.as_str());
            let chained = matches!(r.source, Source::Chained { .. });
            // A role's own row rather than a chained row of the same role.
            if !chained || !by_role.contains_key(&key) {
                by_role.insert(key, i);
            }
        }
        let keys: Vec<SortKey> = (0..self.rows.len())
            .map(|i| {
                let mut at = i;
                let mut after = Vec::new();
                let mut used = self.rows[i].last_used;
                // Up the chain to a row that is not chained (bounded: a loop never resolves,
                // but rows are the caller's).
                for _ in 0..self.rows.len() {
                    let row = &self.rows[at];
                    let source = row
                        .anchor
                        .as_ref()
                        .and_then(|(id, role)| by_role.get(&(id.as_str(), role.as_str())))
                        .filter(|&&s| s != at && !after.contains(&self.rows[s].account_name));
                    let Some(&source) = source else { break };
                    after.push(row.account_name.clone());
                    at = source;
                    used = used.max(self.rows[at].last_used);
                }
                after.reverse();
                let root = &self.rows[at];
                SortKey {
                    used,
                    name: root.account_name.clone(),
                    id: root.account_id.clone(),
                    role: root.role.clone(),
                    after,
                }
            })
            .collect();
        let mut order: Vec<(SortKey, Row)> = keys.into_iter().zip(self.rows.drain(..)).collect();
        order.sort_by(|(a, _), (b, _)| default_order(a, b));
        self.rows = order.into_iter().map(|(_, row)| row).collect();
    }
}

/// Where a row goes in the default order.
struct SortKey {
    used: Option<OffsetDateTime>,
    name: String,
    id: String,
    role: String,
    /// A chained row's name and those of the chained rows between it and the row it sorts
    /// after (outermost first); empty for a row that sorts by itself.
    after: Vec<String>,
}

/// Recently used first (latest first), then account name (ignoring ASCII case), id, role; a
/// chained row right after its source's row.
fn default_order(a: &SortKey, b: &SortKey) -> Ordering {
    b.used
        .cmp(&a.used)
        .then_with(|| caseless(&a.name, &b.name))
        .then_with(|| a.id.cmp(&b.id))
        .then_with(|| caseless(&a.role, &b.role))
        .then_with(|| {
            a.after
                .iter()
                .zip(&b.after)
                .map(|(x, y)| caseless(x, y))
                .find(|o| o.is_ne())
                .unwrap_or_else(|| a.after.len().cmp(&b.after.len()))
        })
}

fn caseless(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
        .then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    use crate::model::test_account as account;

    #[test]
    fn one_row_per_role_recent_first_then_by_name() {
        let accounts = [
            account("2", "beta", &["Admin", "ReadOnly"]),
            account("1", "Alpha", &["Admin"]),
            account("3", "gamma\u{1b}[31m", &["Admin"]),
        ];
        let recent = [RecentUse {
            account_id: "2".into(),
            role: "ReadOnly".into(),
            used_at: datetime!(2026-01-01 00:00 UTC),
        }];
        let rows = Rows::build(&accounts, &recent);
        let order: Vec<_> = rows
            .rows
            .iter()
            .map(|r| format!("{}/{}", r.account_name, r.role))
            .collect();
        assert_eq!(
            order,
            [
                "beta/ReadOnly",
                "Alpha/Admin",
                "beta/Admin",
                "gamma\u{fffd}[31m/Admin"
            ]
        );
        assert!(rows.rows[0].last_used.is_some());
        assert_eq!(rows.name_width, "gamma\u{fffd}[31m".width());
        assert_eq!(rows.rows[1].field_starts(), [0, 6, 8]);
    }
}
