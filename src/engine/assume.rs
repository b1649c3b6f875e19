//! STS `AssumeRole` for a chained role (docs/protocol.md "Role chaining"): the source's keys
//! sign the request (aws-sdk-sts, through `crate::http`'s connector), the profile's
//! `role_session_name`, `external_id`, `mfa_serial` (with a code from `--mfa-code`,
//! `PORTICO_MFA_CODE` or the terminal) and `duration_seconds` become its arguments. Errors
//! become [`ChainError`]s that say the cause and the fix; none shows a key.

use std::io::{BufRead, Write};

use aws_sdk_sts::config::Credentials;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use time::OffsetDateTime;

use super::chain::{ChainedRole, StaticKeys, CHAINED_MAX};
use crate::cache::assumerole::Assumed;
use crate::failure::FailureKind;
use crate::sanitize::for_terminal as t;
use crate::secret::Secret;

/// Why a chained role got no keys. Each message is one line with the cause and the fix.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ChainError {
    #[error("STS refused to let {from} assume {role} (AccessDenied: {message}): the role's trust policy must allow {caller}{extra}")]
    AccessDenied {
        role: String,
        from: String,
        caller: String,
        message: String,
        /// What else the trust policy may ask for that the profile sets.
        extra: String,
    },
    #[error("STS refused {role}: {code}: {message}{fix}")]
    Refused {
        role: String,
        code: String,
        message: String,
        fix: String,
    },
    #[error("{role} needs an MFA code for {serial} and there is no terminal to ask on; pass --mfa-code CODE or set PORTICO_MFA_CODE")]
    NoMfaCode { role: String, serial: String },
    #[error("{role} assumes its role with the environment's keys (credential_source = Environment), but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set; set them or use source_profile")]
    NoEnvironmentKeys { role: String },
    #[error("{}", detail.line(&format!("cannot reach STS at {}", t(endpoint)), "check your network, the profile's region, or AWS_ENDPOINT_URL_STS"))]
    Network {
        endpoint: String,
        detail: crate::http::Unreached,
    },
    #[error(
        "STS AssumeRole failed for {role}: {detail}; try again later, or run with -v for details"
    )]
    Service { role: String, detail: String },
    #[error("cancelled while asking for the MFA code")]
    Cancelled,
}

impl ChainError {
    pub fn kind(&self) -> FailureKind {
        match self {
            ChainError::AccessDenied { .. } => FailureKind::AccessDenied,
            ChainError::Refused { code, .. } => match code.as_str() {
                "ExpiredToken" | "ExpiredTokenException" => FailureKind::LoginRequired,
                "ValidationError" | "RegionDisabledException" | "MalformedPolicyDocument" => {
                    FailureKind::Config
                }
                _ => FailureKind::AccessDenied,
            },
            ChainError::NoMfaCode { .. } => FailureKind::LoginRequired,
            ChainError::NoEnvironmentKeys { .. } => FailureKind::Config,
            ChainError::Network { .. } | ChainError::Service { .. } => FailureKind::Service,
            ChainError::Cancelled => FailureKind::Cancelled,
        }
    }
}

/// The DurationSeconds to ask for: the profile's, else 3600; over 3600 with a role's keys is
/// cut to 3600, saying why (STS refuses longer chained sessions).
pub fn duration(role: &ChainedRole) -> i32 {
    let wanted = role.duration_seconds.unwrap_or(i64::from(CHAINED_MAX));
    if role.source_is_role() && wanted > i64::from(CHAINED_MAX) {
        crate::notice!(
            "{}: duration_seconds = {wanted} is cut to {CHAINED_MAX}: STS gives a role assumed with another role's keys (role chaining) at most one hour",
            role.label()
        );
        return CHAINED_MAX;
    }
    i32::try_from(wanted).unwrap_or(i32::MAX)
}

/// The MFA code for `role`'s `mfa_serial`: `--mfa-code`, `PORTICO_MFA_CODE`, else asked on
/// the terminal (`/dev/tty`, never stdout). No terminal is an error at once, with the fix.
pub fn mfa_code(role: &ChainedRole) -> Result<Option<Secret>, ChainError> {
    let Some(serial) = &role.mfa_serial else {
        return Ok(None);
    };
    if let Some(code) = &role.mfa_code {
        return Ok(Some(code.clone()));
    }
    if let Some(code) = std::env::var("PORTICO_MFA_CODE")
        .ok()
        .filter(|c| !c.trim().is_empty())
    {
        return Ok(Some(Secret::new(code.trim())));
    }
    let no_terminal = || ChainError::NoMfaCode {
        role: role.label(),
        serial: t(serial),
    };
    // The terminal itself: stdout may be a credential_process pipe, stdin a script's.
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|_| no_terminal())?;
    let mut writer = &tty;
    write!(writer, "Enter MFA code for {}: ", t(serial)).map_err(|_| no_terminal())?;
    let _ = writer.flush();
    let mut line = String::new();
    // Not echoed, as botocore's getpass prompt; echo comes back however the read ends.
    let read = {
        let _quiet = Quiet::on(&tty);
        std::io::BufReader::new(&tty).read_line(&mut line)
    }
    .map_err(|_| no_terminal())?;
    let _ = writeln!(writer);
    if read == 0 {
        return Err(ChainError::Cancelled);
    }
    let code = line.trim();
    if code.is_empty() {
        return Err(no_terminal());
    }
    Ok(Some(Secret::new(code)))
}

/// The terminal's echo turned off while it lives (rustix's termios).
struct Quiet<'a> {
    tty: &'a std::fs::File,
    saved: Option<rustix::termios::Termios>,
}

impl<'a> Quiet<'a> {
    fn on(tty: &'a std::fs::File) -> Quiet<'a> {
        use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions};
        let saved = tcgetattr(tty).ok();
        if let Some(saved) = &saved {
            let mut quiet = saved.clone();
            quiet.local_modes.remove(LocalModes::ECHO);
            let _ = tcsetattr(tty, OptionalActions::Now, &quiet);
        }
        Quiet { tty, saved }
    }
}

impl Drop for Quiet<'_> {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ =
                rustix::termios::tcsetattr(self.tty, rustix::termios::OptionalActions::Now, saved);
        }
    }
}

fn client(role: &ChainedRole, keys: &StaticKeys) -> aws_sdk_sts::Client {
    let creds = Credentials::new(
        keys.access_key_id.clone(),
        keys.secret_access_key.expose().to_string(),
        keys.session_token.as_ref().map(|s| s.expose().to_string()),
        None,
        "portico-chain-source",
    );
    crate::aws::sts_client(&role.sts_region, &role.sts_endpoint, Some(creds))
}

/// The role session name: the profile's, else `portico-session-{unix seconds}` (botocore's
/// shape, with portico's name).
fn session_name(role: &ChainedRole) -> String {
    role.role_session_name.clone().unwrap_or_else(|| {
        format!(
            "portico-session-{}",
            OffsetDateTime::now_utc().unix_timestamp()
        )
    })
}

/// `role` assumed with `keys` (the source's), `source_arn` naming the source for messages.
pub async fn assume(
    role: &ChainedRole,
    keys: &StaticKeys,
    source_arn: &str,
    mfa: Option<Secret>,
) -> Result<Assumed, ChainError> {
    let client = client(role, keys);
    let duration = duration(role);
    crate::info!(
        "AssumeRole {} at {} (DurationSeconds {duration})",
        role.role_arn,
        role.sts_endpoint
    );
    let output = client
        .assume_role()
        .role_arn(&role.role_arn)
        .role_session_name(session_name(role))
        .set_external_id(role.external_id.clone())
        .set_serial_number(role.mfa_serial.clone())
        .set_token_code(mfa.map(|c| c.expose().to_string()))
        .duration_seconds(duration)
        .send()
        .await
        .map_err(|err| refusal(role, source_arn, &err))?;
    let service = |detail: &str| ChainError::Service {
        role: role.label(),
        detail: detail.into(),
    };
    let request_id = aws_sdk_sts::operation::RequestId::request_id(&output).map(String::from);
    let user = output.assumed_role_user;
    let arn = user.as_ref().map(|u| u.arn.clone()).unwrap_or_default();
    // botocore adds the account from AssumedRoleUser.Arn; the role's own ARN says the same.
    let account_id = crate::model::id::RoleArn::parse(&role.role_arn)
        .map(|a| a.account_id.to_string())
        .unwrap_or_else(|| role.account_id.clone());
    Ok(Assumed {
        creds: crate::aws::sts_keys(output.credentials, account_id).map_err(service)?,
        assumed_role_id: user.map(|u| u.assumed_role_id).unwrap_or_default(),
        arn,
        request_id,
    })
}

fn refusal<E, R>(role: &ChainedRole, source_arn: &str, err: &SdkError<E, R>) -> ChainError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let service = match err {
        SdkError::ServiceError(e) => e.err(),
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            return ChainError::Network {
                endpoint: role.sts_endpoint.clone(),
                detail: crate::aws::sts_unreached(err, &role.sts_endpoint),
            }
        }
        SdkError::ResponseError(_) => {
            return ChainError::Service {
                role: role.label(),
                detail: "unreadable answer".into(),
            }
        }
        _ => {
            return ChainError::Service {
                role: role.label(),
                detail: "the request could not be sent".into(),
            }
        }
    };
    let code = service.code().unwrap_or("Unknown").to_string();
    let message = t(service.message().unwrap_or_default());
    match code.as_str() {
        "AccessDenied" => {
            let mut extra = String::new();
            if let Some(id) = &role.external_id {
                extra.push_str(&format!(
                    ", with the external ID it expects (this profile sends external_id = {})",
                    t(id)
                ));
            }
            if let Some(serial) = &role.mfa_serial {
                extra.push_str(&format!(
                    ", and a current MFA code for {} (check the code and the device)",
                    t(serial)
                ));
            }
            if role.external_id.is_none() {
                extra.push_str(" (and, if it asks for one, set external_id in the profile)");
            }
            ChainError::AccessDenied {
                role: t(&role.role_arn),
                from: role.source_label(),
                caller: caller_role(&message).unwrap_or_else(|| t(source_arn)),
                message,
                extra,
            }
        }
        "ValidationError" if message.contains("DurationSeconds") => ChainError::Refused {
            role: role.label(),
            code,
            message,
            fix: "; lower duration_seconds (at most the role's MaxSessionDuration, and 3600 for a chained role)".into(),
        },
        "ExpiredToken" | "ExpiredTokenException" => ChainError::Refused {
            role: role.label(),
            code,
            message,
            fix: "; the source's keys expired: sign in again (`portico login`) or renew them"
                .into(),
        },
        "InvalidClientTokenId" | "SignatureDoesNotMatch" => ChainError::Refused {
            role: role.label(),
            code,
            fix: format!(
                "; STS does not take {}: check those keys, or AWS_ENDPOINT_URL_STS",
                role.source_label()
            ),
            message,
        },
        "RegionDisabledException" => ChainError::Refused {
            role: role.label(),
            code,
            message,
            fix: format!(
                "; activate STS in {} or set another region in the profile",
                t(&role.sts_region)
            ),
        },
        _ => ChainError::Service {
            role: role.label(),
            detail: format!("{}: {message}", t(&code)),
        },
    }
}

/// The role of the caller an AccessDenied names ("User: arn:aws:sts::ACCT:assumed-role/ROLE/
/// SESSION is not authorized …"), as a trust policy names it: `role ROLE of account ACCT
/// (arn:aws:iam::ACCT:role/…/ROLE)`.
fn caller_role(message: &str) -> Option<String> {
    let user = message.split("User: ").nth(1)?.split_whitespace().next()?;
    let rest = user.strip_prefix("arn:")?;
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    let [partition, "sts", "", account, resource] = parts.as_slice() else {
        return Some(user.to_string());
    };
    let role = resource.strip_prefix("assumed-role/")?.split('/').next()?;
    Some(format!(
        "the source's role {role} (arn:{partition}:iam::{account}:role/…/{role}, whose session is {user})"
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_caller_of_an_access_denied_is_named_as_a_trust_policy_names_it() {
        let m = "User: arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_Admin_0123/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/ChainRole1";
        let got = super::caller_role(m).unwrap();
        assert!(got.starts_with("the source's role AWSReservedSSO_Admin_0123 (arn:aws:iam::111111111111:role/…/AWSReservedSSO_Admin_0123"), "{got}");
        assert_eq!(super::caller_role("no user here"), None);
    }
}
