//! The rules a value from the config or the command line must follow (docs/protocol.md §3):
//! start URLs, account IDs, regions and SAML IdP URLs, each checked before any request with a
//! message that names the value and what it should look like.

use super::SettingsError;
use crate::model::id::{is_account_id, is_region};

/// A start URL must be an https URL with a host (`https://d-1234567890.awsapps.com/start`), or
/// http to this machine for a local emulator; the rule is [`crate::model::start_url::check`].
pub fn check_start_url(what: &str, value: &str) -> Result<(), SettingsError> {
    match crate::model::start_url::check(value) {
        Ok(_) => Ok(()),
        Err(_) => Err(SettingsError::BadStartUrl {
            what: what.to_string(),
            value: value.to_string(),
        }),
    }
}

/// An AWS account ID: exactly 12 digits (the rule is [`is_account_id`]). Checked before any
/// request, so that a mistyped ID is named as such instead of coming back from Identity Center
/// as "no access".
pub fn check_account_id(what: &str, value: &str) -> Result<(), SettingsError> {
    if is_account_id(value) {
        Ok(())
    } else {
        Err(SettingsError::BadAccount {
            what: what.to_string(),
            value: value.to_string(),
        })
    }
}

/// A region name: `eu-central-1`, `us-gov-west-1`, `cn-north-1`, `us-isob-east-1` (the rule is
/// [`is_region`]).
pub fn check_region(what: &str, value: &str) -> Result<(), SettingsError> {
    if is_region(value) {
        Ok(())
    } else {
        Err(SettingsError::BadRegion {
            what: what.to_string(),
            value: value.to_string(),
        })
    }
}

/// An IdP URL is https with a host; plain http only to this machine (a local test IdP).
pub fn check_idp_url(value: &str) -> Result<(), &'static str> {
    const WHY: &str = "is not an https URL; use the application's SAML endpoint, https://login.microsoftonline.com/TENANT/saml2";
    let url = url::Url::parse(value).map_err(|_| WHY)?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" if url.host_str().is_some() => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(WHY),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_shapes() {
        for ok in [
            "eu-central-1",
            "us-gov-west-1",
            "cn-north-1",
            "us-isob-east-1",
            "ap-southeast-5",
        ] {
            assert!(check_region("r", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "europe",
            "eu-central",
            "EU-CENTRAL-1",
            "eu--1",
            "eu-central-x",
        ] {
            assert!(check_region("r", bad).is_err(), "{bad}");
        }
    }

    /// The loader, `configure` and the portal's form accept the same start URLs: https, or
    /// http to this machine (a local emulator).
    #[test]
    fn start_urls_follow_the_one_rule() {
        for ok in [
            "https://d-1234567890.awsapps.com/start",
            "https://d-1234567890.awsapps.cn/start",
            "https://start.us-gov-home.awsapps.com/directory/d-1234567890",
            "http://127.0.0.1:4566/start",
            "http://localhost:8080/start",
        ] {
            assert!(check_start_url("--start-url", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "http://example.com/start",
            "d-1.awsapps.com/start",
            "https://",
        ] {
            let err = check_start_url("--start-url", bad).unwrap_err();
            assert!(matches!(err, SettingsError::BadStartUrl { .. }), "{bad}");
        }
    }
}
