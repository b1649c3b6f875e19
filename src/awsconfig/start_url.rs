//! The AWS access portal URL (`sso_start_url`): what portico accepts, which shapes IAM
//! Identity Center hands out (docs/protocol.md §6), and the region an `ssoins` URL names.
//! `configure`, the settings loader, the portal's first-run form and `doctor` all use these.

use std::fmt;

/// A start URL portico will not use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadStartUrl {
    pub value: String,
    pub why: &'static str,
}

impl fmt::Display for BadStartUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}; {SHAPES}",
            crate::sanitize::quoted(&self.value),
            self.why
        )
    }
}

impl std::error::Error for BadStartUrl {}

/// The shapes, worded for messages.
pub const SHAPES: &str = "a start URL looks like https://d-1234567890.awsapps.com/start, \
                          https://ALIAS.awsapps.com/start or https://ssoins-….portal.REGION.app.aws";

/// What kind of start URL a valid one is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// `https://d-1234567890.awsapps.com/start`, `https://ALIAS.awsapps.com/start`, the same
    /// under `awsapps.cn` (China regions), or `…/directory/d-…` (GovCloud's
    /// `https://start.us-gov-home.awsapps.com/directory/d-1234567890`).
    AwsApps,
    /// `https://ssoins-0123456789abcdef.portal.REGION.app.aws`, which names its region.
    Instance { region: String },
    /// `http://localhost…`, `http://127.0.0.1…` or `http://[::1]…`: a local emulator.
    Loopback,
    /// An https URL of none of the known shapes: maybe a new one, maybe a mistake.
    Unknown,
}

/// Checks that `url` is an https URL with a host (or http to this machine, for an emulator)
/// and tells its shape. Only the scheme and host are refused here; an unknown shape is the
/// caller's to warn about or refuse.
pub fn check(url: &str) -> Result<Shape, BadStartUrl> {
    let bad = |why| BadStartUrl {
        value: url.to_string(),
        why,
    };
    if url.is_empty() {
        return Err(bad("is empty"));
    }
    let parsed = url::Url::parse(url).map_err(|_| bad("is not a URL"))?;
    let host = match parsed.host_str() {
        Some(h) if !h.is_empty() => h.to_ascii_lowercase(),
        _ => return Err(bad("has no host")),
    };
    match parsed.scheme() {
        "https" => {}
        "http" if matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]") => {
            return Ok(Shape::Loopback)
        }
        _ => return Err(bad("is not an https URL")),
    }
    let path = parsed.path().trim_end_matches('/');
    let awsapps = ["awsapps.com", "awsapps.cn"].iter().any(|domain| {
        host.strip_suffix(domain)
            .and_then(|h| h.strip_suffix('.'))
            .is_some_and(|labels| labels.split('.').all(valid_label))
    });
    if awsapps && (path == "/start" || path.starts_with("/directory/")) {
        return Ok(Shape::AwsApps);
    }
    if let Some(region) = region_of(url) {
        if path.is_empty() {
            return Ok(Shape::Instance { region });
        }
    }
    Ok(Shape::Unknown)
}

/// One DNS label of an awsapps host: `d-1234567890`, an alias, `start`, `us-gov-home`.
fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The region an `https://ssoins-<16 hex>.portal.REGION.app.aws` start URL names.
pub fn region_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?.to_ascii_lowercase();
    let rest = host.strip_prefix("ssoins-")?;
    let (id, rest) = rest.split_once(".portal.")?;
    let region = rest.strip_suffix(".app.aws")?;
    let ok = id.len() == 16
        && id.chars().all(|c| c.is_ascii_hexdigit())
        && crate::model::id::is_region(region);
    ok.then(|| region.to_string())
}

/// Doubts about a start URL that is valid but unusual, and about the region next to it; each
/// is worded for the user, who gave the region as a flag or (`asked`) as an answer to a prompt.
/// Empty for the known shapes.
pub fn warnings(start_url: &str, region: &str, asked: bool) -> Vec<String> {
    let mut warnings = Vec::new();
    let Ok(shape) = check(start_url) else {
        return warnings;
    };
    match shape {
        Shape::Unknown => warnings.push(format!(
            "{start_url} does not look like an Identity Center start URL \
             (https://d-xxxxxxxxxx.awsapps.com/start, https://ALIAS.awsapps.com/start or \
             https://ssoins-….portal.REGION.app.aws); copy it from the IAM Identity Center \
             console, Settings → Identity source → AWS access portal URL"
        )),
        Shape::Instance { region: url_region } if url_region != region => warnings.push(format!(
            "the start URL is in region {url_region} but the region given is {region}; \
                 Identity Center lives in one region and a wrong sso_region is the most common \
                 set-up mistake ({fix})",
            fix = if asked {
                format!("answer {url_region} when asked for the region")
            } else {
                format!("use --region {url_region}")
            }
        )),
        _ => {}
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_url_shapes() {
        for good in [
            "https://d-1234567890.awsapps.com/start",
            "https://d-1234567890.awsapps.com/start/",
            "https://my-corp.awsapps.com/start/#/",
            "https://ssoins-1234567890abcdef.portal.us-east-1.app.aws",
            "https://start.us-gov-home.awsapps.com/directory/d-1234567890",
            "https://d-1234567890.awsapps.cn/start",
        ] {
            assert_eq!(
                warnings(good, "us-east-1", false),
                Vec::<String>::new(),
                "{good}"
            );
            assert!(
                !matches!(check(good), Ok(Shape::Unknown) | Err(_)),
                "{good}"
            );
        }
        for odd in [
            "https://example.com/start",
            "https://d-1234567890.awsapps.com/portal",
            "https://d-1234567890.awsapps.com/",
            "https://-corp.awsapps.com/start",
            "https://ssoins-0123.portal.eu-west-1.app.aws",
            "https://ssoins-0123456789abcdef.portal.europe.app.aws",
        ] {
            assert_eq!(check(odd), Ok(Shape::Unknown), "{odd}");
            assert_eq!(warnings(odd, "us-east-1", false).len(), 1, "{odd}");
        }
        for bad in [
            "",
            "d-1234567890.awsapps.com/start",
            "http://d-1234567890.awsapps.com/start",
            "http://nope",
            "ftp://d-1234567890.awsapps.com/start",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
        assert_eq!(check("http://127.0.0.1:4566/start"), Ok(Shape::Loopback));
        assert_eq!(
            check("https://ssoins-0123456789abcdef.portal.eu-west-1.app.aws/"),
            Ok(Shape::Instance {
                region: "eu-west-1".into()
            })
        );
    }

    #[test]
    fn a_region_other_than_the_urls_is_named() {
        let url = "https://ssoins-1234567890abcdef.portal.eu-west-2.app.aws";
        assert_eq!(region_of(url).as_deref(), Some("eu-west-2"));
        assert_eq!(region_of("https://d-1234567890.awsapps.com/start"), None);
        let w = warnings(url, "us-east-1", false);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("--region eu-west-2"), "{}", w[0]);
        // Given at a prompt, the region is not a flag the user typed.
        let w = warnings(url, "us-east-1", true);
        assert!(!w[0].contains("--region"), "{}", w[0]);
        assert!(w[0].contains("answer eu-west-2 when asked"), "{}", w[0]);
    }
}
