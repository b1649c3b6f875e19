//! Tokens another tool wrote into a file portico shares (docs/protocol.md §11): the AWS CLI's
//! token files have no `scopes` field, but IDE toolkits (the AWS Toolkit for VS Code, Amazon Q)
//! write one, into `sha1(session name)` for a config sso-session and `sha1(startUrl)` for their
//! own connections — the very files of an sso-session of the same name or of a legacy profile.
//! A token whose scopes lack the session's (`codewhisperer:*` only, no `sso:account:access`)
//! gets 401 from GetRoleCredentials, so portico neither uses it nor writes over it; only
//! `portico login --force` replaces it.

use crate::cache::token::TokenFile;
use crate::consts::SCOPE_ACCOUNT_ACCESS;

/// The scopes a token in the session's file must have: the session's registration scopes, or
/// (for a legacy set-up, which registers none) the one the portal API needs.
pub fn needed(session_scopes: &[String]) -> Vec<String> {
    if session_scopes.is_empty() {
        vec![SCOPE_ACCOUNT_ACCESS.to_string()]
    } else {
        session_scopes.to_vec()
    }
}

/// The token's own `scopes`, when it has that field and they do not cover `session_scopes`:
/// the token is another tool's and not for this session. `None`: usable (no `scopes` field, as
/// the AWS CLI writes, or scopes that cover the session's).
pub fn clash(token: &TokenFile, session_scopes: &[String]) -> Option<Vec<String>> {
    let list = token.extra.get("scopes")?.as_array()?;
    let have: Vec<String> = list
        .iter()
        .filter_map(|s| s.as_str().map(String::from))
        .collect();
    let covered = needed(session_scopes)
        .iter()
        .all(|scope| have.contains(scope));
    (!covered).then_some(have)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(scopes: Option<serde_json::Value>) -> TokenFile {
        let mut json = serde_json::json!({"accessToken": "a", "expiresAt": "2030-01-01T00:00:00Z"});
        if let Some(scopes) = scopes {
            json["scopes"] = scopes;
        }
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn scopes_that_do_not_cover_the_sessions_clash() {
        let session = vec!["sso:account:access".to_string()];
        assert_eq!(clash(&token(None), &session), None);
        assert_eq!(
            clash(
                &token(Some(serde_json::json!([
                    "sso:account:access",
                    "codewhisperer:completions"
                ]))),
                &session
            ),
            None
        );
        assert_eq!(
            clash(
                &token(Some(serde_json::json!(["codewhisperer:completions"]))),
                &session
            ),
            Some(vec!["codewhisperer:completions".to_string()])
        );
        // A legacy set-up registers no scopes, yet needs the portal's.
        assert_eq!(
            clash(
                &token(Some(serde_json::json!(["codewhisperer:analysis"]))),
                &[]
            ),
            Some(vec!["codewhisperer:analysis".to_string()])
        );
        assert_eq!(
            clash(&token(Some(serde_json::json!(["sso:account:access"]))), &[]),
            None
        );
    }
}
