//! STS `AssumeRole` (docs/protocol.md §11): a role session the emulator issued keys for asks,
//! SigV4-signed with those keys (checked by `sts::caller` before this runs), for keys of another
//! IAM role — role chaining. The role's trust (src/trust.rs) decides: the principals it trusts,
//! its `sts:ExternalId`, its MFA device, its MaxSessionDuration; and since every caller here is
//! a role session, STS's one-hour limit for role chaining applies to every call.

use crate::app::App;
use crate::saml::saml_time;
use crate::state::{epoch_secs, random_token, RoleCredential};
use crate::sts::{
    packed_policy, region_disabled, required, upper_token, validation, xml_escape, Caller,
    Identity, StsError, StsFailure, STS_NS,
};
use crate::trust::{is_role_arn, totp_step, Trust, CHAIN_ROLE_PREFIX, ONE_HOUR};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

pub const MAX_SESSION_EXCEEDED: &str =
    "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.";
pub const CHAINING_LIMIT: &str =
    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.";
pub const MFA_BOTH: &str =
    "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code.";
pub const MFA_SERIAL: &str = "MultiFactorAuthentication failed, unable to validate MFA code.  \
     Please verify your MFA serial number is valid and associated with this user.";
pub const MFA_CODE: &str = "MultiFactorAuthentication failed with invalid MFA one time pass code.";

/// The trust of `role_arn`, if such a role exists: one `POST /_emulator/trust` set, else a
/// chain role's default when it is `ChainRoleK` (1 ≤ K ≤ `--chain-roles`) of an account in the
/// directory.
fn trust_of(app: &App, role_arn: &str) -> Option<Trust> {
    if let Some(trust) = app.store().trust.get(role_arn) {
        return Some(trust.clone());
    }
    let rest = role_arn.strip_prefix("arn:aws:iam::")?;
    let (account, name) = rest.split_once(":role/")?;
    let k: usize = name.strip_prefix(CHAIN_ROLE_PREFIX)?.parse().ok()?;
    let generated = (1..=app.settings.chain_roles).contains(&k)
        && name == format!("{CHAIN_ROLE_PREFIX}{k}")
        && app.settings.directory.account(account).is_some();
    generated.then(Trust::default)
}

/// One member's constraint check: `Some(message part)` when it fails.
fn constraint(
    p: &HashMap<String, String>,
    param: &str,
    member: &str,
    len: (usize, usize),
    pattern: &str,
    allowed: impl Fn(char) -> bool,
) -> Option<String> {
    let v = p.get(param)?;
    let n = v.chars().count();
    let why = if n < len.0 {
        format!("Member must have length greater than or equal to {}", len.0)
    } else if n > len.1 {
        format!("Member must have length less than or equal to {}", len.1)
    } else if !v.chars().all(allowed) {
        format!("Member must satisfy regular expression pattern: {pattern}")
    } else {
        return None;
    };
    Some(format!(
        "Value '{v}' at '{member}' failed to satisfy constraint: {why}"
    ))
}

fn word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The API model's constraints on AssumeRole's members, all of them reported at once as STS
/// does ("2 validation errors detected: …; …"). Returns DurationSeconds (3600 when left out).
fn check_members(p: &HashMap<String, String>) -> Result<u64, StsFailure> {
    let mut errors: Vec<String> = [
        constraint(p, "RoleArn", "roleArn", (20, 2048), "", |_| true),
        constraint(
            p,
            "RoleSessionName",
            "roleSessionName",
            (2, 64),
            r"[\w+=,.@-]*",
            |c| word(c) || "+=,.@-".contains(c),
        ),
        constraint(
            p,
            "ExternalId",
            "externalId",
            (2, 1224),
            r"[\w+=,.@:\/-]*",
            |c| word(c) || "+=,.@:/-".contains(c),
        ),
        constraint(
            p,
            "SerialNumber",
            "serialNumber",
            (9, 256),
            r"[\w+=/:,.@-]*",
            |c| word(c) || "+=/:,.@-".contains(c),
        ),
        constraint(p, "TokenCode", "tokenCode", (6, 6), r"[\d]*", |c| {
            c.is_ascii_digit()
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut duration = ONE_HOUR;
    if let Some(raw) = p.get("DurationSeconds") {
        let at = format!("Value '{raw}' at 'durationSeconds' failed to satisfy constraint");
        match raw.parse::<i64>() {
            Err(_) => errors.push(format!("{at}: Member must be a number")),
            Ok(n) if n < 900 => errors.push(format!(
                "{at}: Member must have value greater than or equal to 900"
            )),
            Ok(n) if n > 43_200 => errors.push(format!(
                "{at}: Member must have value less than or equal to 43200"
            )),
            Ok(n) => duration = n as u64,
        }
    }
    match errors.len() {
        0 => Ok(duration),
        1 => Err(validation(format!(
            "1 validation error detected: {}",
            errors[0]
        ))),
        n => Err(validation(format!(
            "{n} validation errors detected: {}",
            errors.join("; ")
        ))),
    }
}

fn denied(who: &Caller, role_arn: &str) -> StsFailure {
    StsFailure::new(
        StsError::AccessDenied,
        format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            who.identity.arn
        ),
    )
}

/// The MFA condition of `trust`, checked; a code accepted is spent.
fn check_mfa(
    app: &App,
    trust: &Trust,
    who: &Caller,
    role_arn: &str,
    p: &HashMap<String, String>,
) -> Result<(), StsFailure> {
    let Some(mfa) = &trust.mfa else {
        return Ok(());
    };
    let mfa_denied = |message: &str| StsFailure::new(StsError::AccessDenied, message);
    let (serial, code) = match (p.get("SerialNumber"), p.get("TokenCode")) {
        // No MFA at all: the policy's condition is simply not met.
        (None, None) => return Err(denied(who, role_arn)),
        (Some(serial), Some(code)) => (serial, code),
        _ => return Err(mfa_denied(MFA_BOTH)),
    };
    if *serial != mfa.serial {
        return Err(mfa_denied(MFA_SERIAL));
    }
    let step = totp_step(&mfa.key, code, epoch_secs()).ok_or_else(|| mfa_denied(MFA_CODE))?;
    // IAM takes each code once; with a step either way accepted, three codes are good at any
    // moment, so a second call need not wait for the clock.
    if !app.store().mfa_used.insert((mfa.serial.clone(), step)) {
        return Err(mfa_denied(MFA_CODE));
    }
    Ok(())
}

/// Answers an AssumeRole whose signature `sts::caller` verified: the checks in the order
/// tests/emulator/README.md lists them, then new keys, remembered so that they sign later
/// calls.
pub(crate) fn answer(
    app: &App,
    who: &Caller,
    p: &HashMap<String, String>,
    request_id: &str,
) -> Result<String, StsFailure> {
    let role_arn = required(p, "RoleArn")?;
    let session = required(p, "RoleSessionName")?;
    let duration = check_members(p)?;
    let packed = packed_policy(p)?;
    if app.settings.saml.sts_region_disabled {
        return Err(region_disabled(role_arn));
    }

    let trust = trust_of(app, role_arn)
        .filter(|_| is_role_arn(role_arn))
        .ok_or_else(|| denied(who, role_arn))?;
    if !trust.trusted.admit(&who.role_arn, &who.identity.arn) {
        return Err(denied(who, role_arn));
    }
    if let Some(external_id) = &trust.external_id {
        if p.get("ExternalId") != Some(external_id) {
            return Err(denied(who, role_arn));
        }
    }
    check_mfa(app, &trust, who, role_arn, p)?;
    if duration > trust.max_session_duration {
        return Err(validation(MAX_SESSION_EXCEEDED));
    }
    // Every key the emulator issues is a role session's (Identity Center's permission-set
    // role, a SAML role, an assumed role): assuming a role with one is role chaining.
    if duration > ONE_HOUR {
        return Err(validation(CHAINING_LIMIT));
    }

    let identity = Identity::of_role(role_arn, session);
    let access_key_id = upper_token("ASIA", 16);
    let secret = random_token("", 40);
    let token = format!("IQoJb3JpZ2luX2VjE{}", random_token("", 380));
    let expires = OffsetDateTime::now_utc() + time::Duration::seconds(duration as i64);
    app.store().role_credentials.insert(
        access_key_id.clone(),
        RoleCredential {
            role_arn: role_arn.to_string(),
            chained: true,
            account_id: identity.account.clone(),
            role_name: role_arn.rsplit('/').next().unwrap_or_default().to_string(),
            identity: identity.clone(),
            secret_access_key: secret.clone(),
            session_token: token.clone(),
            expires_at: Instant::now() + Duration::from_secs(duration),
        },
    );
    let packed = packed
        .map(|p| format!("\n    <PackedPolicySize>{p}</PackedPolicySize>"))
        .unwrap_or_default();
    let e = xml_escape;
    Ok(format!(
        "<AssumeRoleResponse xmlns=\"{STS_NS}\">\n  <AssumeRoleResult>\n    \
         <AssumedRoleUser>\n      <Arn>{arn}</Arn>\n      \
         <AssumedRoleId>{user_id}</AssumedRoleId>\n    </AssumedRoleUser>\n    \
         <Credentials>\n      <AccessKeyId>{access_key_id}</AccessKeyId>\n      \
         <SecretAccessKey>{secret}</SecretAccessKey>\n      \
         <SessionToken>{token}</SessionToken>\n      \
         <Expiration>{expiration}</Expiration>\n    </Credentials>{packed}\n  \
         </AssumeRoleResult>\n  <ResponseMetadata>\n    \
         <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n\
         </AssumeRoleResponse>\n",
        arn = e(&identity.arn),
        user_id = e(&identity.user_id),
        expiration = saml_time(expires.replace_nanosecond(0).unwrap_or(expires)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn members_are_checked_and_reported_together() {
        let good = [
            ("RoleArn", "arn:aws:iam::111122223333:role/ChainRole1"),
            ("RoleSessionName", "alice@corp.example"),
        ];
        assert_eq!(check_members(&params(&good)).unwrap(), 3600);
        let mut with = good.to_vec();
        with.push(("DurationSeconds", "900"));
        assert_eq!(check_members(&params(&with)).unwrap(), 900);

        let one = check_members(&params(&[
            ("RoleArn", "arn:aws:iam::111122223333:role/ChainRole1"),
            ("RoleSessionName", "has space"),
        ]))
        .unwrap_err();
        assert_eq!(one.kind, StsError::Validation);
        assert_eq!(
            one.message,
            "1 validation error detected: Value 'has space' at 'roleSessionName' failed to \
             satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        );
        let two = check_members(&params(&[
            ("RoleArn", "arn:aws:iam::111122223333:role/ChainRole1"),
            ("RoleSessionName", "s"),
            ("DurationSeconds", "60"),
            ("TokenCode", "12345"),
        ]))
        .unwrap_err();
        assert!(
            two.message.starts_with("3 validation errors detected: "),
            "{}",
            two.message
        );
        assert!(two.message.contains("'60' at 'durationSeconds'"));
        assert!(two.message.contains("at 'tokenCode'"));
    }
}
