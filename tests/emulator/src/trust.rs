//! Who may assume which IAM role with STS `AssumeRole` (docs/protocol.md §11): the roles'
//! trust policies, reduced to what the emulator checks — the principals trusted, an
//! `sts:ExternalId` condition, an MFA condition (one virtual MFA device, TOTP) and the role's
//! MaxSessionDuration.
//!
//! With `--chain-roles N` every account of the directory has the roles `ChainRole1` …
//! `ChainRoleN`, each trusting every role session the emulator hands out keys for (Identity
//! Center's, SAML's, AssumeRole's: so also each other). `POST /_emulator/trust` gives one role
//! another trust — or makes a role that did not exist — as an administrator editing the trust
//! policy would.

use serde::{Deserialize, Serialize};

/// The name the generated chain roles share, followed by 1…N.
pub const CHAIN_ROLE_PREFIX: &str = "ChainRole";
/// IAM's default MaxSessionDuration, and the most a role session may ask for when it assumes
/// another role (role chaining).
pub const ONE_HOUR: u64 = 3600;
/// IAM's largest MaxSessionDuration.
pub const TWELVE_HOURS: u64 = 43_200;
/// TOTP: 30-second steps, 6 digits, HMAC-SHA-1 (RFC 6238's defaults, what virtual MFA devices
/// use); a code of the step before or after is accepted too, as IAM does for clock drift.
pub const TOTP_STEP_SECS: u64 = 30;

/// The principals a trust policy names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    /// Every role session the emulator issued keys for (the chain roles' default).
    Issued,
    /// `Principal: {"AWS": [...]}`: role ARNs (with their path), assumed-role session ARNs,
    /// `arn:aws:iam::ACCOUNT:root` or a bare account id (any principal of that account), `*`.
    Listed(Vec<String>),
}

impl Principals {
    /// Whether a session of IAM role `role_arn` (`arn:aws:iam::ACCOUNT:role/PATH/NAME`), whose
    /// assumed-role ARN is `session_arn`, is trusted.
    pub fn admit(&self, role_arn: &str, session_arn: &str) -> bool {
        match self {
            Principals::Issued => true,
            Principals::Listed(list) => {
                let account = role_arn.split(':').nth(4).unwrap_or_default();
                let root = format!("arn:aws:iam::{account}:root");
                list.iter().any(|p| {
                    p == "*" || p == role_arn || p == session_arn || *p == root || p == account
                })
            }
        }
    }
}

/// A virtual MFA device the trust policy requires (`aws:MultiFactorAuthPresent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mfa {
    /// `SerialNumber` must equal this (`arn:aws:iam::ACCOUNT:mfa/NAME`).
    pub serial: String,
    /// The TOTP key (decoded from the base32 seed).
    pub key: Vec<u8>,
}

/// One role's trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    pub trusted: Principals,
    /// `sts:ExternalId` must equal this, when set.
    pub external_id: Option<String>,
    pub mfa: Option<Mfa>,
    /// The role's MaxSessionDuration, 3600–43200.
    pub max_session_duration: u64,
}

impl Default for Trust {
    /// A chain role's: every issued role session, no conditions, one hour.
    fn default() -> Trust {
        Trust {
            trusted: Principals::Issued,
            external_id: None,
            mfa: None,
            max_session_duration: ONE_HOUR,
        }
    }
}

/// The body of `POST /_emulator/trust`: the whole new trust of `roleArn`. A field left out
/// takes its default: `trusted` every role session the emulator issued keys for, no external
/// id, no MFA, a MaxSessionDuration of 3600.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrustUpdate {
    pub role_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_serial: Option<String>,
    /// Base32 (RFC 4648, padding and case free), as virtual MFA devices show it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_seed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_session_duration: Option<u64>,
}

/// Whether `arn` is an IAM role ARN: `arn:aws:iam::` twelve digits `:role/` then an optional
/// path and a name of `[\w+=,.@-]`.
pub fn is_role_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:aws:iam::") else {
        return false;
    };
    let Some((account, resource)) = rest.split_once(":role/") else {
        return false;
    };
    let name = resource.rsplit('/').next().unwrap_or_default();
    account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// A principal IAM accepts in a trust policy's `Principal: {"AWS": …}` (of those the emulator
/// knows): `*`, an account id, or an `arn:aws:iam::` / `arn:aws:sts::` ARN.
fn is_principal(p: &str) -> bool {
    p == "*"
        || (p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()))
        || ((p.starts_with("arn:aws:iam::") || p.starts_with("arn:aws:sts::"))
            && p.split(':').count() == 6)
}

impl TrustUpdate {
    /// The role and its new trust, or why the update is refused.
    pub fn into_trust(self) -> Result<(String, Trust), String> {
        if !is_role_arn(&self.role_arn) {
            return Err(format!(
                "roleArn {:?} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
                self.role_arn
            ));
        }
        let trusted = match self.trusted {
            None => Principals::Issued,
            Some(list) => {
                if let Some(bad) = list.iter().find(|p| !is_principal(p)) {
                    return Err(format!(
                        "trusted: {bad:?} is not a principal (an ARN, an account id or *)"
                    ));
                }
                Principals::Listed(list)
            }
        };
        if let Some(id) = &self.external_id {
            if !(2..=1224).contains(&id.len()) {
                return Err("externalId must be 2–1224 characters".into());
            }
        }
        let mfa = match (self.mfa_serial, self.mfa_seed) {
            (None, None) => None,
            (Some(serial), Some(seed)) => Some(Mfa {
                serial,
                key: decode_seed(&seed)
                    .ok_or_else(|| format!("mfaSeed {seed:?} is not base32 (RFC 4648)"))?,
            }),
            _ => return Err("mfaSerial and mfaSeed go together".into()),
        };
        let max = self.max_session_duration.unwrap_or(ONE_HOUR);
        if !(ONE_HOUR..=TWELVE_HOURS).contains(&max) {
            return Err(format!(
                "maxSessionDuration {max} must be 3600–43200 seconds (IAM's range)"
            ));
        }
        Ok((
            self.role_arn,
            Trust {
                trusted,
                external_id: self.external_id,
                mfa,
                max_session_duration: max,
            },
        ))
    }
}

/// A base32 seed as authenticator apps take it: case, spaces and padding do not matter.
fn decode_seed(seed: &str) -> Option<Vec<u8>> {
    let clean: String = seed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let key = data_encoding::BASE32_NOPAD.decode(clean.as_bytes()).ok()?;
    (!key.is_empty()).then_some(key)
}

/// The RFC 4226 HOTP value (6 digits) of `key` at `counter`.
///
/// Hand-written (a dozen lines over ring's HMAC-SHA-1, already in the tree) rather than a TOTP
/// crate, which would bring its own HMAC, SHA-1 and base32 for these few lines; the unit test
/// checks it against RFC 6238's test vectors.
fn hotp(key: &[u8], counter: u64) -> u32 {
    use ring::hmac;
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key);
    let tag = hmac::sign(&key, &counter.to_be_bytes());
    let h = tag.as_ref();
    let offset = (h[h.len() - 1] & 0x0f) as usize;
    let bin = u32::from_be_bytes([
        h[offset] & 0x7f,
        h[offset + 1],
        h[offset + 2],
        h[offset + 3],
    ]);
    bin % 1_000_000
}

/// The TOTP step a code of `key` given at `unix_secs` belongs to (the current step, the one
/// before or the one after), if it is valid.
pub fn totp_step(key: &[u8], code: &str, unix_secs: u64) -> Option<u64> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code: u32 = code.parse().ok()?;
    let now = unix_secs / TOTP_STEP_SECS;
    [now, now.saturating_sub(1), now + 1]
        .into_iter()
        .find(|step| hotp(key, *step) == code)
}

/// The 6-digit TOTP code of a base32 `seed` at `unix_secs`, as an authenticator app shows it:
/// what a test types when a role asks for MFA. `Err` names a seed that is not base32.
pub fn totp_code(seed: &str, unix_secs: u64) -> Result<String, String> {
    let key = decode_seed(seed).ok_or_else(|| format!("{seed:?} is not base32 (RFC 4648)"))?;
    Ok(format!("{:06}", hotp(&key, unix_secs / TOTP_STEP_SECS)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_matches_rfc_6238_sha1_vectors() {
        // RFC 6238 Appendix B, SHA-1, key "12345678901234567890": the 8-digit values'
        // last six digits.
        let seed = data_encoding::BASE32.encode(b"12345678901234567890");
        for (t, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(totp_code(&seed, t).unwrap(), code, "T={t}");
        }
        let lower = seed.to_lowercase().replace('=', "");
        assert_eq!(totp_code(&lower, 59).unwrap(), "287082");
        assert!(totp_code("not base32!", 59).is_err());
    }

    #[test]
    fn a_code_is_good_one_step_either_way_and_no_further() {
        let key = b"12345678901234567890".to_vec();
        let t = 1_111_111_109;
        let step = t / TOTP_STEP_SECS;
        let code = |s: u64| format!("{:06}", hotp(&key, s));
        assert_eq!(totp_step(&key, &code(step), t), Some(step));
        assert_eq!(totp_step(&key, &code(step - 1), t), Some(step - 1));
        assert_eq!(totp_step(&key, &code(step + 1), t), Some(step + 1));
        assert_eq!(totp_step(&key, &code(step + 2), t), None);
        assert_eq!(totp_step(&key, &code(step - 2), t), None);
        assert_eq!(totp_step(&key, "12345", t), None);
        assert_eq!(totp_step(&key, "abcdef", t), None);
    }

    #[test]
    fn principals() {
        let role = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev_0123456789abcdef";
        let session =
            "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_0123456789abcdef/alice";
        assert!(Principals::Issued.admit(role, session));
        let listed = |p: &[&str]| Principals::Listed(p.iter().map(|s| s.to_string()).collect());
        assert!(listed(&[role]).admit(role, session));
        assert!(listed(&[session]).admit(role, session));
        assert!(listed(&["arn:aws:iam::111122223333:root"]).admit(role, session));
        assert!(listed(&["111122223333"]).admit(role, session));
        assert!(listed(&["*"]).admit(role, session));
        assert!(!listed(&[]).admit(role, session));
        assert!(!listed(&["arn:aws:iam::444455556666:root"]).admit(role, session));
        // IAM matches a role with its path: the name alone is another principal.
        assert!(
            !listed(&["arn:aws:iam::111122223333:role/AWSReservedSSO_Dev_0123456789abcdef"])
                .admit(role, session)
        );
    }

    #[test]
    fn updates_are_checked() {
        let ok = TrustUpdate {
            role_arn: "arn:aws:iam::111122223333:role/Deploy".into(),
            mfa_serial: Some("arn:aws:iam::111122223333:mfa/alice".into()),
            mfa_seed: Some("JBSWY3DPEHPK3PXP".into()),
            ..TrustUpdate::default()
        };
        let (arn, trust) = ok.clone().into_trust().unwrap();
        assert_eq!(arn, "arn:aws:iam::111122223333:role/Deploy");
        assert_eq!(trust.trusted, Principals::Issued);
        assert_eq!(trust.max_session_duration, 3600);
        assert_eq!(trust.mfa.unwrap().key, b"Hello!\xde\xad\xbe\xef");
        for bad in [
            TrustUpdate {
                role_arn: "arn:aws:iam::1111:role/Deploy".into(),
                ..TrustUpdate::default()
            },
            TrustUpdate {
                mfa_seed: None,
                ..ok.clone()
            },
            TrustUpdate {
                mfa_seed: Some("1!".into()),
                ..ok.clone()
            },
            TrustUpdate {
                max_session_duration: Some(900),
                ..ok.clone()
            },
            TrustUpdate {
                trusted: Some(vec!["alice".into()]),
                ..ok.clone()
            },
            TrustUpdate {
                external_id: Some("x".into()),
                ..ok.clone()
            },
        ] {
            assert!(bad.clone().into_trust().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn role_arns() {
        assert!(is_role_arn("arn:aws:iam::111122223333:role/ChainRole1"));
        assert!(is_role_arn(
            "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_A_0123"
        ));
        assert!(!is_role_arn("arn:aws:iam::111122223333:user/alice"));
        assert!(!is_role_arn("arn:aws:iam::111122223333:role/"));
        assert!(!is_role_arn("arn:aws:sts::111122223333:assumed-role/R/s"));
    }
}
