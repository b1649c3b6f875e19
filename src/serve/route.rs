//! The paths `portico serve` answers: `/role/PROFILE`,
//! `/role/ACCOUNT_ID/ROLE_NAME?sso-session=S` and `/role/saml/SESSION/ROLE_ARN`, each segment
//! percent-encoded. A route is a plain value; [`Route::wanted`] says what it asks the engine.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::engine::{Target, Wanted};
use crate::settings::ProfileSource;

/// The first segment after `/role/` of a saml-session's role.
const SAML: &str = "saml";

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
    /// An IAM role of a saml-session. Three segments after `/role/`, so it never meets the
    /// account/role route (an account ID is 12 digits, never `saml`).
    Saml { session: String, role_arn: String },
    /// Roles assumed one after the other from `source`'s keys (`--chain`):
    /// `/role/chain/ROLE_ARN…?from=SOURCE_PATH`. Its first segment is never an account ID.
    Chain {
        source: Box<Route>,
        role_arns: Vec<String>,
    },
}

/// The first segment after `/role/` of a chain of roles.
const CHAIN: &str = "chain";

/// Everything but RFC 3986's unreserved characters is encoded in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl Route {
    /// The route that asks for what `wanted` names, resolved to `target`. An account and role
    /// carry the sso-session `target` was resolved against: a `--profile` beside them lends its
    /// sso-session, and a request (which names no profile) must get that session's keys, not
    /// those of whatever `AWS_PROFILE` or `[default]` the server itself would fall back to.
    pub fn for_wanted(wanted: &Wanted, target: &Target) -> Route {
        match wanted {
            Wanted::Profile { name, .. } => Route::Profile(name.clone()),
            Wanted::Role {
                account_id,
                role_name,
                sso_session,
                ..
            } => Route::Role {
                account_id: account_id.clone(),
                role_name: role_name.clone(),
                sso_session: sso_session.clone().or_else(|| match target {
                    Target::IdentityCenter(role) => role.session.name.clone(),
                    _ => None,
                }),
            },
            Wanted::Saml {
                session, role_arn, ..
            } => Route::Saml {
                session: session.clone(),
                role_arn: role_arn.clone(),
            },
            // A chain's route carries no MFA code: a request asks on the server's terminal.
            Wanted::Chain {
                source, role_arns, ..
            } => {
                let mut inner = target;
                for _ in role_arns {
                    if let Target::Chained(role) = inner {
                        if let crate::engine::ChainSource::Role(source) = &role.source {
                            inner = source;
                        }
                    }
                }
                let source = Route::for_wanted(source, inner);
                if role_arns.is_empty() {
                    return source;
                }
                Route::Chain {
                    source: Box::new(source),
                    role_arns: role_arns.clone(),
                }
            }
        }
    }

    /// What a request for this route asks the engine for.
    pub fn wanted(&self) -> Wanted {
        match self.clone() {
            Route::Profile(name) => Wanted::Profile {
                name,
                origin: ProfileSource::Request,
            },
            Route::Role {
                account_id,
                role_name,
                sso_session,
            } => Wanted::Role {
                account_id,
                role_name,
                sso_session,
                profile: None,
            },
            Route::Saml { session, role_arn } => Wanted::Saml {
                session,
                role_arn,
                profile: None,
            },
            Route::Chain { source, role_arns } => Wanted::Chain {
                source: Box::new(source.wanted()),
                role_arns,
                mfa_code: None,
            },
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
            Route::Saml { session, role_arn } => {
                format!("/role/{SAML}/{}/{}", seg(session), seg(role_arn))
            }
            Route::Chain { source, role_arns } => {
                let arns: Vec<String> = role_arns.iter().map(|a| seg(a)).collect();
                format!(
                    "/role/{CHAIN}/{}?from={}",
                    arns.join("/"),
                    seg(&source.path())
                )
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
            [chain, role_arns @ ..] if chain == CHAIN && !role_arns.is_empty() => {
                let from = query.and_then(|q| {
                    url::form_urlencoded::parse(q.as_bytes())
                        .find(|(k, _)| k == "from")
                        .map(|(_, v)| v.into_owned())
                })?;
                let (path, query) = match from.split_once('?') {
                    Some((p, q)) => (p.to_string(), Some(q.to_string())),
                    None => (from, None),
                };
                let source = Route::parse(&path, query.as_deref())?;
                Some(Route::Chain {
                    source: Box::new(source),
                    role_arns: role_arns.to_vec(),
                })
            }
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
            [saml, session, role_arn] if saml == SAML => Some(Route::Saml {
                session: session.clone(),
                role_arn: role_arn.clone(),
            }),
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
            Route::Saml { session, role_arn } => format!(
                "role {} of saml-session {}",
                crate::sanitize::quoted(role_arn),
                crate::sanitize::quoted(session)
            ),
            Route::Chain { source, role_arns } => format!(
                "role {} assumed from {}",
                crate::sanitize::quoted(role_arns.last().map(String::as_str).unwrap_or_default()),
                source.describe()
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
            Route::Saml {
                session: "aws".into(),
                role_arn: "arn:aws:iam::111122223333:role/team/Admin".into(),
            },
            Route::Chain {
                source: Box::new(Route::Role {
                    account_id: "111122223333".into(),
                    role_name: "Admin".into(),
                    sso_session: Some("corp eu".into()),
                }),
                role_arns: vec![
                    "arn:aws:iam::444455556666:role/Deploy".into(),
                    "arn:aws:iam::777788889999:role/team/Ops".into(),
                ],
            },
            Route::Saml {
                session: "odd/name?".into(),
                role_arn: "arn:aws:iam::111122223333:role/A".into(),
            },
            // A profile called `saml` is still a profile.
            Route::Profile("saml".into()),
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
            "/role/saml//arn",
            "/role/saml/aws/arn/more",
            "/roles/dev",
            "/role/%ff",
        ] {
            assert_eq!(Route::parse(p, None), None, "{p}");
        }
    }

    #[test]
    fn a_saml_role_has_its_own_path() {
        let route = Route::Saml {
            session: "aws".into(),
            role_arn: "arn:aws:iam::111122223333:role/team/Admin".into(),
        };
        assert_eq!(
            route.path(),
            "/role/saml/aws/arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fteam%2FAdmin"
        );
        let wanted = Wanted::Saml {
            session: "aws".into(),
            role_arn: "arn:aws:iam::111122223333:role/team/Admin".into(),
            profile: Some("lends-region".into()),
        };
        assert_eq!(Route::for_wanted(&wanted, &idc_target(Some("corp"))), route);
        assert_eq!(
            route.wanted(),
            Wanted::Saml {
                session: "aws".into(),
                role_arn: "arn:aws:iam::111122223333:role/team/Admin".into(),
                profile: None,
            }
        );
    }

    fn idc_target(session: Option<&str>) -> Target {
        let session = crate::settings::SsoSession {
            name: session.map(String::from),
            start_url: "https://d-1234567890.awsapps.com/start".into(),
            region: "eu-west-1".into(),
            scopes: Vec::new(),
            configured_scopes: None,
            oidc_endpoint: "https://oidc.eu-west-1.amazonaws.com".into(),
            portal_endpoint: "https://portal.sso.eu-west-1.amazonaws.com".into(),
            storage: Default::default(),
        };
        Target::identity_center(session, "111122223333", "Admin")
    }

    #[test]
    fn a_role_route_carries_the_sso_session_it_was_resolved_against() {
        let wanted = |sso_session: Option<&str>| Wanted::Role {
            account_id: "111122223333".into(),
            role_name: "Admin".into(),
            sso_session: sso_session.map(String::from),
            profile: Some("lends-its-session".into()),
        };
        let role = |sso_session: Option<&str>| Route::Role {
            account_id: "111122223333".into(),
            role_name: "Admin".into(),
            sso_session: sso_session.map(String::from),
        };
        // The profile's sso-session (as resolved), so a request gets that session's keys.
        assert_eq!(
            Route::for_wanted(&wanted(None), &idc_target(Some("corp"))),
            role(Some("corp"))
        );
        // One named on the command line stays.
        assert_eq!(
            Route::for_wanted(&wanted(Some("other")), &idc_target(Some("other"))),
            role(Some("other"))
        );
        // A legacy profile's start URL has no name a path could carry.
        assert_eq!(
            Route::for_wanted(&wanted(None), &idc_target(None)),
            role(None)
        );
    }

    #[test]
    fn a_requested_profile_is_named_by_the_request() {
        let wanted = Route::Profile("dev".into()).wanted();
        assert_eq!(
            wanted,
            Wanted::Profile {
                name: "dev".into(),
                origin: ProfileSource::Request
            }
        );
    }
}
