//! The fuzzy filter: nucleo's matcher over every row on each keystroke, best score first and
//! the default order (recent use, then name) breaking ties.
//!
//! Matching is synchronous: with the query narrowing as the user types, only the previous
//! matches are scored again, and the results for each shorter query are kept so that
//! Backspace goes back without matching at all.

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher};

use super::rows::Row;

/// The query, its parsed pattern and the rows that match it, best first.
pub struct Filter {
    query: String,
    pattern: Pattern,
    matcher: Matcher,
    /// Indices into the rows, best match first.
    matches: Vec<u32>,
    /// The matches of shorter queries that the current one extends, shortest first.
    history: Vec<(String, Vec<u32>)>,
    keys: Vec<u64>,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter")
            .field("query", &self.query)
            .field("matches", &self.matches.len())
            .finish_non_exhaustive()
    }
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            query: String::new(),
            pattern: Pattern::default(),
            matcher: Matcher::new(Config::DEFAULT),
            matches: Vec::new(),
            history: Vec::new(),
            keys: Vec::new(),
        }
    }
}

impl Filter {
    pub fn query(&self) -> &str {
        &self.query
    }

    /// Row indices that match, best first.
    pub fn matches(&self) -> &[u32] {
        &self.matches
    }

    /// The rows changed (a reload, new recent uses): match the current query against all.
    pub fn set_rows(&mut self, rows: &[Row]) {
        self.history.clear();
        let all: Vec<u32> = (0..rows.len() as u32).collect();
        self.rescore(rows, all);
    }

    /// A new query: narrows the previous matches when the query only grew, goes back to a
    /// kept result when it shrank to an earlier query, and matches everything otherwise.
    pub fn set_query(&mut self, rows: &[Row], query: &str) {
        if query == self.query {
            return;
        }
        // Keep only the results of queries the new one still extends.
        while let Some((q, _)) = self.history.last() {
            if query.starts_with(q.as_str()) && narrows(q, query) {
                break;
            }
            self.history.pop();
        }
        let old_query = std::mem::replace(&mut self.query, query.to_string());
        self.pattern
            .reparse(query, CaseMatching::Smart, Normalization::Smart);
        if let Some((q, _)) = self.history.last() {
            if q == query {
                let (_, matches) = self.history.pop().expect("checked above");
                self.matches = matches;
                return;
            }
        }
        let candidates = if query.starts_with(old_query.as_str()) && narrows(&old_query, query) {
            let previous = std::mem::take(&mut self.matches);
            self.history.push((old_query, previous.clone()));
            previous
        } else if let Some((_, kept)) = self.history.last() {
            kept.clone()
        } else {
            (0..rows.len() as u32).collect()
        };
        self.rescore(rows, candidates);
    }

    fn rescore(&mut self, rows: &[Row], candidates: Vec<u32>) {
        if self.pattern.atoms.is_empty() {
            let mut all = candidates;
            all.sort_unstable();
            self.matches = all;
            return;
        }
        self.keys.clear();
        for &i in &candidates {
            let row = &rows[i as usize];
            if let Some(score) = self
                .pattern
                .score(row.haystack.slice(..), &mut self.matcher)
            {
                // Best score first; rows are in the default order, so the index breaks ties.
                self.keys
                    .push((u64::from(u32::MAX - score) << 32) | u64::from(i));
            }
        }
        self.keys.sort_unstable();
        let mut matches = candidates;
        matches.clear();
        matches.extend(self.keys.iter().map(|k| *k as u32));
        self.matches = matches;
    }

    /// The haystack positions (in characters) the query matched in `row`, sorted, for
    /// highlighting. The matcher is the caller's scratch space, so the view can stay `&self`.
    pub fn highlights(&self, row: &Row, matcher: &mut Matcher, out: &mut Vec<u32>) {
        out.clear();
        if self.pattern.atoms.is_empty() {
            return;
        }
        self.pattern.indices(row.haystack.slice(..), matcher, out);
        out.sort_unstable();
        out.dedup();
    }
}

/// Whether every row matching `new` also matches `old`, given that `new` extends `old`:
/// true unless the extended word is a negation (`!abc` excludes less than `!ab`) or the old
/// query ended in a character whose meaning changes when followed (`$`, `\`).
fn narrows(old: &str, new: &str) -> bool {
    debug_assert!(new.starts_with(old));
    if old.ends_with('$') || old.ends_with('\\') {
        return false;
    }
    let last_word = old.rsplit(char::is_whitespace).next().unwrap_or("");
    let ends_in_space = old.ends_with(char::is_whitespace);
    ends_in_space || !last_word.starts_with('!')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Account;
    use crate::tui::rows::Rows;

    fn rows() -> Rows {
        let names = [
            ("111122223333", "payments-prod", "AdministratorAccess"),
            ("222233334444", "payments-prod-eu", "AdministratorAccess"),
            ("222233334444", "payments-prod-eu", "ReadOnlyAccess"),
            ("333344445555", "platform-admin", "PowerUserAccess"),
            ("444455556666", "sandbox", "AdministratorAccess"),
        ];
        let accounts: Vec<Account> = names
            .iter()
            .map(|(id, name, role)| Account {
                account_id: id.to_string(),
                account_name: name.to_string(),
                email_address: String::new(),
                roles: vec![role.to_string()],
            })
            .collect();
        Rows::build(&accounts, &[])
    }

    fn names(f: &Filter, rows: &Rows) -> Vec<String> {
        f.matches()
            .iter()
            .map(|&i| {
                let r = &rows.rows[i as usize];
                format!("{} {}", r.account_name, r.role)
            })
            .collect()
    }

    /// The filter's answer must not depend on how the user got to the query.
    fn fresh(rows: &Rows, q: &str) -> Vec<u32> {
        let mut f = Filter::default();
        f.set_rows(&rows.rows);
        f.set_query(&rows.rows, q);
        f.matches().to_vec()
    }

    #[test]
    fn fuzzy_words_best_first() {
        let rows = rows();
        let mut f = Filter::default();
        f.set_rows(&rows.rows);
        assert_eq!(f.matches().len(), 5);
        f.set_query(&rows.rows, "pay prd adm");
        assert_eq!(
            names(&f, &rows),
            [
                "payments-prod AdministratorAccess",
                "payments-prod-eu AdministratorAccess"
            ]
        );
    }

    #[test]
    fn typing_and_backspace_agree_with_a_fresh_match() {
        let rows = rows();
        let mut f = Filter::default();
        f.set_rows(&rows.rows);
        let typed = "pay eu !read";
        for end in 1..=typed.len() {
            f.set_query(&rows.rows, &typed[..end]);
            assert_eq!(
                f.matches(),
                fresh(&rows, &typed[..end]),
                "{}",
                &typed[..end]
            );
        }
        for end in (0..typed.len()).rev() {
            f.set_query(&rows.rows, &typed[..end]);
            assert_eq!(
                f.matches(),
                fresh(&rows, &typed[..end]),
                "{}",
                &typed[..end]
            );
        }
        for q in ["adm$", "adm$x", "sand", "sanx", "san", "'pay", "^plat"] {
            f.set_query(&rows.rows, q);
            assert_eq!(f.matches(), fresh(&rows, q), "{q}");
        }
    }

    #[test]
    fn highlights_are_haystack_positions() {
        let rows = rows();
        let mut f = Filter::default();
        f.set_rows(&rows.rows);
        f.set_query(&rows.rows, "sandbox");
        let row = &rows.rows[f.matches()[0] as usize];
        let mut m = Matcher::new(Config::DEFAULT);
        let mut out = Vec::new();
        f.highlights(row, &mut m, &mut out);
        assert_eq!(out, (0..7).collect::<Vec<u32>>());
    }

    #[test]
    fn narrowing_rules() {
        assert!(narrows("ab", "abc"));
        assert!(narrows("ab", "ab c"));
        assert!(!narrows("!ab", "!abc"));
        assert!(narrows("!ab ", "!ab c"));
        assert!(!narrows("ab$", "ab$c"));
        assert!(!narrows("ab\\", "ab\\ "));
    }
}
