//! The paths `portico serve` answers: `/role/PROFILE` and
//! `/role/ACCOUNT_ID/ROLE_NAME?sso-session=S`, each segment percent-encoded.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What a request asks credentials for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Route {
    /// A profile of the config file with an account and role.
    Profile(String),
    /// An account and role; the sso-session named, or the only one in the config file.
    Role {
        account_id: String,
        role_name: String,
        sso_session: Option<String>,
    },
}

/// Everything but RFC 3986's unreserved characters is encoded in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl Route {
    /// The route for the command line's `--profile` (else `AWS_PROFILE`, `AWS_DEFAULT_PROFILE`
    /// or `default`), or its `--account`/`--role`/`--sso-session`.
    pub fn for_args(args: &crate::cli::TargetArgs, env: &crate::settings::Environment) -> Route {
        match (&args.account, &args.role) {
            (Some(account_id), Some(role_name)) => Route::Role {
                account_id: account_id.clone(),
                role_name: role_name.clone(),
                sso_session: args.sso_session.clone(),
            },
            _ => Route::Profile(env.pick_profile(args.profile.as_deref()).0),
        }
    }

    /// The path and query that ask for this route.
    pub fn path(&self) -> String {
        let seg = |s: &str| utf8_percent_encode(s, SEGMENT).to_string();
        match self {
            Route::Profile(name) => format!("/role/{}", seg(name)),
            Route::Role {
                account_id,
                role_name,
                sso_session,
            } => {
                let mut path = format!("/role/{}/{}", seg(account_id), seg(role_name));
                if let Some(session) = sso_session {
                    path.push_str("?sso-session=");
                    path.push_str(&seg(session));
                }
                path
            }
        }
    }

    /// The route a request path and query ask for; `None` for any other path.
    pub fn parse(path: &str, query: Option<&str>) -> Option<Route> {
        let rest = path.strip_prefix("/role/")?;
        let segments: Vec<String> = rest
            .split('/')
            .map(|s| percent_decode_str(s).decode_utf8().map(|c| c.into_owned()))
            .collect::<Result<_, _>>()
            .ok()?;
        if segments.iter().any(String::is_empty) {
            return None;
        }
        match segments.as_slice() {
            [profile] => Some(Route::Profile(profile.clone())),
            [account_id, role_name] => {
                let sso_session = query.and_then(|q| {
                    url::form_urlencoded::parse(q.as_bytes())
                        .find(|(k, _)| k == "sso-session")
                        .map(|(_, v)| v.into_owned())
                        .filter(|v| !v.is_empty())
                });
                Some(Route::Role {
                    account_id: account_id.clone(),
                    role_name: role_name.clone(),
                    sso_session,
                })
            }
            _ => None,
        }
    }

    /// How messages name what was asked for.
    pub fn describe(&self) -> String {
        match self {
            Route::Profile(name) => format!("profile {}", crate::sanitize::quoted(name)),
            Route::Role {
                account_id,
                role_name,
                ..
            } => format!(
                "role {} in account {}",
                crate::sanitize::quoted(role_name),
                crate::sanitize::quoted(account_id)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(p: &str) -> (&str, Option<&str>) {
        match p.split_once('?') {
            Some((a, b)) => (a, Some(b)),
            None => (p, None),
        }
    }

    #[test]
    fn paths_round_trip() {
        for route in [
            Route::Profile("dev".into()),
            Route::Profile("odd name/with?&%".into()),
            Route::Role {
                account_id: "111122223333".into(),
                role_name: "Admin+Ops".into(),
                sso_session: Some("corp eu".into()),
            },
            Route::Role {
                account_id: "111122223333".into(),
                role_name: "ReadOnly".into(),
                sso_session: None,
            },
        ] {
            let path = route.path();
            let (p, q) = split(&path);
            assert_eq!(Route::parse(p, q), Some(route), "{path}");
        }
    }

    #[test]
    fn other_paths_are_none() {
        for p in [
            "/",
            "/role",
            "/role/",
            "/role//x",
            "/role/a/b/c",
            "/roles/dev",
            "/role/%ff",
        ] {
            assert_eq!(Route::parse(p, None), None, "{p}");
        }
    }
}
