//! Profile names: a [`Template`] (`--template`) renders an assignment's base name, and
//! [`assign_names`] resolves collisions in a stable order — `NAME`, `NAME-ACCOUNT_ID`,
//! `NAME-ACCOUNT_ID-2`, … — keeping a name a synced profile already carries while it is still
//! one of its candidates, so a new account never renames existing profiles.

use std::collections::{HashMap, HashSet};

use super::Assignment;
use crate::sanitize::for_terminal;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    AccountName,
    AccountId,
    RoleName,
    Session,
}

/// A parsed `--template`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `{placeholder}`s; an unknown or unclosed one is an error naming the known ones.
    pub fn parse(text: &str) -> Result<Template, String> {
        let known = "{account_name}, {account_id}, {role_name}, {session}";
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let Some(close) = rest[open..].find('}') else {
                return Err(format!(
                    "template {} has a `{{` without `}}`; placeholders are {known}",
                    crate::sanitize::quoted(text)
                ));
            };
            let name = &rest[open + 1..open + close];
            parts.push(match name {
                "account_name" => Part::AccountName,
                "account_id" => Part::AccountId,
                "role_name" => Part::RoleName,
                "session" => Part::Session,
                other => {
                    return Err(format!(
                    "template {} has an unknown placeholder {{{other}}}; placeholders are {known}",
                    crate::sanitize::quoted(text)
                ))
                }
            });
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        if !parts.iter().any(|p| !matches!(p, Part::Text(_))) {
            return Err(format!(
                "template {} has no placeholder, so every profile would get the same name; use {known}", crate::sanitize::quoted(text)
            ));
        }
        Ok(Template { parts })
    }

    /// The raw name for one assignment (not yet cleaned).
    pub fn render(&self, assignment: &Assignment, session: &str) -> String {
        let mut out = String::new();
        for part in &self.parts {
            out.push_str(match part {
                Part::Text(t) => t,
                Part::AccountName => &assignment.account_name,
                Part::AccountId => &assignment.account_id,
                Part::RoleName => &assignment.role_name,
                Part::Session => session,
            });
        }
        out
    }
}

/// The `n`-th name an assignment may take: its base name, then `-ACCOUNT_ID`, then a counter.
fn candidate(base: &str, account_id: &str, n: usize) -> String {
    match n {
        0 => base.to_string(),
        1 => format!("{base}-{account_id}"),
        n => format!("{base}-{account_id}-{n}"),
    }
}

/// Whether `name` is one of [`candidate`]'s answers for `base` and `account_id`.
fn is_candidate(name: &str, base: &str, account_id: &str) -> bool {
    if name == base {
        return true;
    }
    let Some(rest) = name
        .strip_prefix(base)
        .and_then(|r| r.strip_prefix('-'))
        .and_then(|r| r.strip_prefix(account_id))
    else {
        return false;
    };
    rest.is_empty()
        || rest
            .strip_prefix('-')
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| n >= 2 && rest == format!("-{n}"))
}

/// Chooses a name for each assignment (see the module doc). Returns the names in the order of
/// `items`, plus warnings for names the user's own profiles hold.
pub(super) fn assign_names(
    items: &[Assignment],
    bases: &[String],
    taken: &HashSet<String>,
    users: &HashSet<String>,
    existing: &HashMap<(String, String), String>,
) -> (Vec<String>, Vec<String>) {
    let mut used: HashSet<String> = HashSet::new();
    let mut names: Vec<Option<String>> = vec![None; items.len()];
    // Names synced profiles already have stay, as long as they still fit.
    for (i, item) in items.iter().enumerate() {
        let key = (item.account_id.clone(), item.role_name.clone());
        if let Some(name) = existing.get(&key) {
            if is_candidate(name, &bases[i], &item.account_id)
                && !taken.contains(name)
                && used.insert(name.clone())
            {
                names[i] = Some(name.clone());
            }
        }
    }
    let mut warnings = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if names[i].is_some() {
            continue;
        }
        let name = (0..)
            .map(|n| candidate(&bases[i], &item.account_id, n))
            .find(|c| !taken.contains(c) && !used.contains(c))
            .expect("candidates are endless");
        used.insert(name.clone());
        if name != bases[i] {
            let why = if users.contains(&bases[i]) {
                Some(format!(
                    "[profile {}] is your own (it has no portico mark), so it is left as it is",
                    bases[i]
                ))
            } else if bases[i] == "default" {
                Some("`default` is the profile the AWS CLI uses without --profile".to_string())
            } else if taken.contains(&bases[i]) {
                Some(format!(
                    "[profile {}] belongs to another sso-session's sync",
                    bases[i]
                ))
            } else {
                None
            };
            if let Some(why) = why {
                warnings.push(format!(
                    "{why}; account {} ({}) role {} is written as [profile {name}]",
                    for_terminal(&item.account_name),
                    item.account_id,
                    for_terminal(&item.role_name)
                ));
            } else {
                crate::debug!(
                    "{} is used twice; account {} role {} gets {name}",
                    bases[i],
                    item.account_id,
                    item.role_name
                );
            }
        }
        names[i] = Some(name);
    }
    (
        names.into_iter().map(Option::unwrap_or_default).collect(),
        warnings,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, id: &str, role: &str) -> Assignment {
        Assignment {
            account_name: name.into(),
            account_id: id.into(),
            role_name: role.into(),
            role_arn: None,
        }
    }

    #[test]
    fn templates_parse_and_render() {
        let t = Template::parse("{session}/{account_name} ({account_id}) {role_name}").unwrap();
        let a = item("Payments Prod", "111122223333", "Admin");
        assert_eq!(
            t.render(&a, "corp"),
            "corp/Payments Prod (111122223333) Admin"
        );
        assert!(Template::parse("{account}")
            .unwrap_err()
            .contains("unknown placeholder {account}"));
        assert!(Template::parse("{role_name")
            .unwrap_err()
            .contains("without"));
        assert!(Template::parse("fixed")
            .unwrap_err()
            .contains("no placeholder"));
    }

    #[test]
    fn candidates_and_recognising_them() {
        assert_eq!(candidate("a", "1", 0), "a");
        assert_eq!(candidate("a", "1", 1), "a-1");
        assert_eq!(candidate("a", "1", 3), "a-1-3");
        for n in 0..5 {
            assert!(is_candidate(&candidate("a-b", "12", n), "a-b", "12"), "{n}");
        }
        assert!(!is_candidate("a-b-12-1", "a-b", "12"));
        assert!(!is_candidate("a-b-12-02", "a-b", "12"));
        assert!(!is_candidate("a-b-13", "a-b", "12"));
        assert!(!is_candidate("a-bc", "a-b", "12"));
    }
}
