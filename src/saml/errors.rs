//! What can go wrong in a SAML sign-in or an AssumeRoleWithSAML, each worded with the fix. No
//! message holds the assertion, RelayState or a key: STS errors are described by their code and
//! the service's own message, cleaned for the terminal.

use crate::sanitize::for_terminal;

#[derive(Debug, thiserror::Error)]
pub enum SamlError {
    #[error("SAML sign-in needs a browser on this machine ({reason}); run the command where a browser can open, or sign in there and use the AWS keys it gives")]
    NoBrowser { reason: String },
    #[error("sign-in cancelled")]
    Cancelled,
    #[error("no usable SAML assertion for {session}; run `portico login --saml-session {name}`")]
    LoginRequired { session: String, name: String },
    #[error("cannot listen on {address} for the browser's SAML response: {source}; {fix}")]
    Listener {
        address: String,
        source: std::io::Error,
        fix: &'static str,
    },
    #[error("no SAML response reached {acs} within {seconds} s; if the browser shows AADSTS50011, add {reply} to the reply URLs of the Entra application (see portico's README), else run the command again")]
    Timeout {
        acs: String,
        reply: String,
        seconds: u64,
    },
    #[error("the browser posted to {path} on the sign-in listener, not to /saml; add http://localhost/saml (not {path}) to the Entra application's reply URLs")]
    WrongPath { path: String },
    #[error("the SAML response answers another request (InResponseTo is not this sign-in's ID); nothing was kept; run the command again")]
    InResponseTo,
    #[error("the SAML response is not readable: {why}; nothing was kept; run the command again, and check idp_url if it recurs")]
    Malformed { why: String },
    #[error("the identity provider did not sign you in (SAML status {status}); run the command again, or ask your administrator whether you are assigned to the application")]
    Status { status: String },
    #[error("the SAML response is not signed; refusing it (STS would too); check that idp_url is Entra's SAML endpoint of the AWS application")]
    Unsigned,
    #[error("the SAML assertion expired at {at} (sign-ins are good for 5 minutes); check this machine's clock, then run the command again")]
    Expired { at: String },
    #[error("the SAML assertion holds no AWS role (no https://aws.amazon.com/SAML/Attributes/Role values); ask your administrator to assign you a role in the Entra application")]
    NoRoles,
    #[error("the SAML assertion of {session} does not hold role {role_arn}{}; pick one of its roles (`portico list --saml-session {name}`)", known(available))]
    RoleNotInAssertion {
        session: String,
        name: String,
        role_arn: String,
        available: Vec<String>,
    },
    #[error("STS refused AssumeRoleWithSAML for {role_arn} (AccessDenied): the role's trust policy must accept the recipient {recipient} in SAML:aud, and the role must be assigned to you in the Entra application")]
    AccessDenied { role_arn: String, recipient: String },
    #[error("STS refused the SAML assertion (InvalidIdentityToken: {message}); run the command again, and check that the IAM SAML provider holds the application's current metadata")]
    InvalidIdentityToken { message: String },
    #[error("STS says the SAML assertion expired (ExpiredTokenException: {message}); check this machine's clock, then run the command again")]
    ExpiredToken { message: String },
    #[error("STS refused the identity provider's claim (IDPRejectedClaim: {message}); the IAM SAML provider must hold the metadata of this Entra application")]
    IdpRejectedClaim { message: String },
    #[error("STS is not enabled in {region} (RegionDisabledException); set sts_region of the saml-session to an enabled region, e.g. us-east-1")]
    RegionDisabled { region: String },
    #[error("{}", detail.line(&format!("cannot reach {endpoint}"), "check your network and sts_region"))]
    Network {
        endpoint: String,
        detail: crate::http::Unreached,
    },
    #[error(
        "STS AssumeRoleWithSAML failed: {detail}; try again later, or run with -v for details"
    )]
    Service { detail: String },
    /// The keyring `portico_storage` names cannot keep or give the assertion.
    #[error(transparent)]
    Keyring(#[from] crate::vault::VaultError),
    #[error("cannot keep the SAML assertion in {path}: {source}")]
    Store {
        path: String,
        source: std::io::Error,
    },
}

impl SamlError {
    /// What kind of failure this is. A SAML sign-in refused or not possible is a needed login
    /// (no browser: nothing can sign in here) or a failed one (the answer was wrong, expired or
    /// never came); STS refusing the role is access denied.
    pub fn kind(&self) -> crate::failure::FailureKind {
        use crate::failure::FailureKind as K;
        use SamlError as S;
        match self {
            S::NoBrowser { .. } | S::LoginRequired { .. } => K::LoginRequired,
            S::Cancelled => K::Cancelled,
            S::Timeout { .. }
            | S::WrongPath { .. }
            | S::InResponseTo
            | S::Malformed { .. }
            | S::Status { .. }
            | S::Unsigned
            | S::Expired { .. }
            | S::InvalidIdentityToken { .. }
            | S::ExpiredToken { .. } => K::LoginFailed,
            S::NoRoles
            | S::RoleNotInAssertion { .. }
            | S::AccessDenied { .. }
            | S::IdpRejectedClaim { .. } => K::AccessDenied,
            S::RegionDisabled { .. } => K::Config,
            S::Network { .. } | S::Service { .. } => K::Service,
            S::Keyring(_) => K::Keyring,
            S::Listener { .. } | S::Store { .. } => K::Other,
        }
    }
}

/// The first few roles an assertion holds (a message stays one readable line).
fn known(roles: &[String]) -> String {
    const SHOWN: usize = 4;
    match roles.len() {
        0 => String::new(),
        n if n <= SHOWN => format!(" (it holds {})", for_terminal(&roles.join(", "))),
        n => format!(
            " (it holds {} and {} more)",
            for_terminal(&roles[..SHOWN].join(", ")),
            n - SHOWN
        ),
    }
}

/// Service text cleaned for the terminal and cut to one line.
pub(crate) fn clean(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = for_terminal(&one_line);
    if out.chars().count() > 200 {
        out = out.chars().take(200).collect::<String>() + "…";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_role_list_is_cut() {
        let roles: Vec<String> = (0..300)
            .map(|i| format!("arn:aws:iam::111122223333:role/R{i}"))
            .collect();
        let e = SamlError::RoleNotInAssertion {
            session: "saml-session aws".into(),
            name: "aws".into(),
            role_arn: "arn:aws:iam::111122223333:role/X".into(),
            available: roles,
        }
        .to_string();
        assert!(e.contains("role/R3 and 296 more"), "{e}");
        assert!(!e.contains("role/R4,") && e.len() < 400, "{e}");
    }
}
