//! Profile and sso-session names: which ones portico accepts from the user, and the one way it
//! makes a name for an account and role (`profiles sync` and the portal's `p` key alike).

/// The name template `profiles sync` uses when `--template` is not given, and the portal's
/// proposal for a new profile.
pub const DEFAULT_TEMPLATE: &str = "{account_name}-{role_name}";

/// Names the AWS SDKs accept for profiles and sso-sessions: ASCII letters, digits and
/// `_ - / . % @ : +` (the Rust SDK drops a section with any other character in its name).
/// `what` names the value in the message ("profile name", "sso-session name").
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(format!(
            "{what} {} can only use letters, digits and _ - / . % @ : + (what the AWS SDKs accept)",
            crate::sanitize::quoted(name)
        ))
    }
}

/// Whether [`check_name`] accepts `name`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c))
}

/// A name made from text (account and role names): every character other than ASCII letters,
/// digits, `_`, `.` and `-` becomes `-`, runs of `-` collapse into one, and `-` at either end
/// is dropped. Case is kept. What comes out needs no quoting in any shell and is accepted by
/// [`check_name`] (when not empty).
pub fn clean_name(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
            c
        } else {
            '-'
        };
        if c == '-' && out.ends_with('-') {
            continue;
        }
        out.push(c);
    }
    out.trim_matches('-').to_string()
}

/// The profile name proposed for a role: [`DEFAULT_TEMPLATE`] cleaned by [`clean_name`]
/// (`payments-prod-AdministratorAccess`), or made from `ACCOUNT_ID-ROLE` when the names leave
/// nothing (`日本`, `管理`). The same name `profiles sync` writes by default.
pub fn default_profile_name(account_name: &str, account_id: &str, role_name: &str) -> String {
    let name = clean_name(&format!("{account_name}-{role_name}"));
    if name.is_empty() {
        clean_name(&format!("{account_id}-{role_name}"))
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("profile name", "dev-admin_2/x.y@z:w+q%").is_ok());
        assert!(check_name("profile name", "my profile").is_err());
        assert!(check_name("profile name", "dév").is_err());
        assert!(check_name("profile name", "").is_err());
        assert!(check_name("profile name", "a;b").is_err());
        assert!(check_name("profile name", "a]").is_err());
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(
            clean_name("Payments Prod-AdministratorAccess"),
            "Payments-Prod-AdministratorAccess"
        );
        assert_eq!(clean_name("  a//b  c--d__e.f  "), "a-b-c-d__e.f");
        assert_eq!(clean_name("[x]#;'\"\\y"), "x-y");
        assert_eq!(clean_name("Äpfel-Prod"), "pfel-Prod");
        assert_eq!(clean_name("日本"), "");
        assert_eq!(clean_name("\u{1b}[31mred"), "31mred");
    }

    #[test]
    fn proposed_names_are_valid_and_need_no_quoting() {
        assert_eq!(
            default_profile_name("Payments Prod (EU)", "111122223333", "Admin"),
            "Payments-Prod-EU-Admin"
        );
        assert_eq!(
            default_profile_name("payments-prod", "111122223333", "AdministratorAccess"),
            "payments-prod-AdministratorAccess"
        );
        assert_eq!(
            default_profile_name("日本", "111122223333", "Admin"),
            "Admin"
        );
        assert_eq!(
            default_profile_name("日本", "111122223333", "管理"),
            "111122223333"
        );
        for (account, role) in [("a b;c", "R/x"), ("$(x)", "`y`"), ("Ä", "ö")] {
            let name = default_profile_name(account, "111122223333", role);
            assert!(is_valid_name(&name), "{name}");
            assert_eq!(crate::output::shell::quote(&name), name);
        }
    }
}
