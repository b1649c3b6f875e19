//! The AWS access portal URL (`sso_start_url`), one rule for every layer: which hosts AWS owns,
//! the Region a host names, what portico accepts, and how a vanity URL's redirect target is
//! normalised. The facts are the AWS CLI 2.36.7's (`awscli/customizations/sso/resolve.py`,
//! docs/protocol.md §6 and §11). `configure`, the settings loader, the portal's first-run form,
//! `doctor` and the login's vanity lookup (`identity::vanity`) all use these.

use std::fmt;

/// Host suffixes of Identity Center's AWS-owned URLs (each with its leading dot: the host must
/// have a label before it).
const OWNED_SUFFIXES: [&str; 8] = [
    ".app.aws",
    ".portal.amazonaws.com",
    ".portal.amazonaws.com.cn",
    ".app.amazonwebservices.com.cn",
    ".portal.amazonaws.eu",
    ".api.amazonwebservices.eu",
    ".awsapps.com",
    ".awsapps.cn",
];

/// Issuer hosts, owned as they are (they carry no Region).
const OWNED_HOSTS: [&str; 4] = [
    "identitycenter.amazonaws.com",
    "identitycenter.amazonaws.com.cn",
    "identitycenter.amazonaws.eu",
    "identitycenter.us-gov.amazonaws.com",
];

/// The six host patterns that carry a Region, as `(before, after)` around it: the host is
/// `{id}{before}{region}{after}` with `{id}` one DNS label.
const REGIONAL: [(&str, &str); 6] = [
    // {id}.portal.{region}.app.aws
    (".portal.", ".app.aws"),
    // {id}.{region}.portal.amazonaws.com (GovCloud too)
    (".", ".portal.amazonaws.com"),
    // {id}.{region}.portal.amazonaws.com.cn
    (".", ".portal.amazonaws.com.cn"),
    // {id}.portal.{region}.app.amazonwebservices.com.cn
    (".portal.", ".app.amazonwebservices.com.cn"),
    // {id}.{region}.portal.amazonaws.eu
    (".", ".portal.amazonaws.eu"),
    // {id}.portal.{region}.api.amazonwebservices.eu
    (".portal.", ".api.amazonwebservices.eu"),
];

/// A host as the AWS CLI compares it: lower-cased, one trailing dot stripped.
fn canonical_host(host: &str) -> String {
    host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase()
}

/// Whether `host` is one of Identity Center's AWS-owned hosts: a suffix of [`OWNED_SUFFIXES`]
/// or an issuer host. `evil-app.aws.example.com`, `awsapps.com.evil.test` and IP addresses are
/// not.
pub fn host_is_aws_owned(host: &str) -> bool {
    let host = canonical_host(host);
    OWNED_HOSTS.contains(&host.as_str())
        || OWNED_SUFFIXES.iter().any(|suffix| {
            host.strip_suffix(suffix)
                .is_some_and(|before| !before.is_empty() && !before.ends_with('.'))
        })
}

/// The Region a host names, from the six regional patterns (anchored, case-insensitive);
/// `None` for `awsapps` and `identitycenter` hosts and everything else.
pub fn region_of_host(host: &str) -> Option<String> {
    let host = canonical_host(host);
    REGIONAL.iter().find_map(|(before, after)| {
        let rest = host.strip_suffix(after)?;
        // The id is one label; the Region is what lies between it and the suffix.
        let (id, region) = rest.split_once(before)?;
        (dns_label(id) && crate::model::id::is_region(region)).then(|| region.to_string())
    })
}

/// One DNS label: `ssoins-1234567890abcdef`, `d-1234567890`, an alias.
fn dns_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The Region an AWS-owned start URL names (see [`region_of_host`]); `None` when it names none
/// or is not an https URL of an AWS-owned host.
pub fn region_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    if !is_aws_owned_url(&parsed) {
        return None;
    }
    region_of_host(parsed.host_str()?)
}

/// Whether `url` is an https URL of an AWS-owned host with no user name or password in it: a
/// URL used as it is, never looked up as a vanity URL.
pub fn is_aws_owned(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| is_aws_owned_url(&u))
}

fn is_aws_owned_url(url: &url::Url) -> bool {
    url.scheme() == "https"
        && url.username().is_empty()
        && url.password().is_none()
        && matches!(url.host(), Some(url::Host::Domain(host)) if host_is_aws_owned(host))
}

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
pub const SHAPES: &str = "a start URL looks like https://d-1234567890.awsapps.com/start or \
                          https://ssoins-….portal.REGION.app.aws, or is your company's https \
                          address that redirects there";

/// What kind of start URL a valid one is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// An https URL of an AWS-owned host ([`host_is_aws_owned`]), used as it is; `region` is
    /// the Region its host names, if it names one.
    AwsOwned { region: Option<String> },
    /// `http://localhost…`, `http://127.0.0.1…` or `http://[::1]…`: a local emulator.
    Loopback,
    /// Any other https URL: a company's vanity address, looked up at login (one request, the
    /// redirect's target taken without following it; `identity::vanity`).
    Vanity,
}

/// Checks that `url` is an https URL with a host and no user name or password in it (or http
/// to this machine, for an emulator) and tells its shape.
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
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("has a user name or password in it"));
    }
    match parsed.scheme() {
        "https" => {}
        "http" if matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]") => {
            return Ok(Shape::Loopback)
        }
        _ => return Err(bad("is not an https URL")),
    }
    if is_aws_owned_url(&parsed) {
        return Ok(Shape::AwsOwned {
            region: region_of_host(&host),
        });
    }
    Ok(Shape::Vanity)
}

/// Where a vanity URL's redirect points, as the AWS CLI takes it: `location` joined to the
/// request URL `base`, query and fragment dropped, the scheme's default port dropped, a
/// trailing `/` stripped. `None` when the two do not make a URL.
pub fn redirect_target(base: &str, location: &str) -> Option<String> {
    let base = url::Url::parse(base).ok()?;
    let mut target = base.join(location.trim()).ok()?;
    target.set_query(None);
    target.set_fragment(None);
    // `url` leaves the default port out when it serialises; an explicit one stays.
    let text = target.to_string();
    Some(text.trim_end_matches('/').to_string())
}

/// Doubts about a start URL that is valid, and about the region next to it; each is worded for
/// the user, who gave the region as a flag or (`asked`) as an answer to a prompt. Empty when
/// the URL names no Region or the same one.
pub fn warnings(start_url: &str, region: &str, asked: bool) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Ok(Shape::AwsOwned {
        region: Some(url_region),
    }) = check(start_url)
    {
        if url_region != region {
            warnings.push(format!(
                "the start URL is in region {url_region} but the region given is {region}; \
                 Identity Center lives in one region and a wrong sso_region is the most common \
                 set-up mistake ({fix})",
                fix = if asked {
                    format!("answer {url_region} when asked for the region")
                } else {
                    format!("use --region {url_region}")
                }
            ));
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every AWS-owned form of docs/protocol.md §11, with the Region it names.
    const OWNED: &[(&str, Option<&str>)] = &[
        ("https://d-1234567890.awsapps.com/start", None),
        ("https://d-1234567890.awsapps.com/start/", None),
        ("https://my-corp.awsapps.com/start/#/", None),
        ("https://d-1234567890.awsapps.cn/start", None),
        (
            "https://start.us-gov-home.awsapps.com/directory/d-1234567890",
            None,
        ),
        (
            "https://start.cn-north-1.home.awsapps.cn/directory/d-1234567890",
            None,
        ),
        (
            "https://ssoins-1234567890abcdef.portal.us-east-1.app.aws",
            Some("us-east-1"),
        ),
        (
            "https://ssoins-111111h2222j33pp.eu-west-1.portal.amazonaws.com",
            Some("eu-west-1"),
        ),
        (
            "https://ssoins-1234567890abcdef.us-gov-west-1.portal.amazonaws.com",
            Some("us-gov-west-1"),
        ),
        (
            "https://ssoins-1234567890abcdef.cn-north-1.portal.amazonaws.com.cn",
            Some("cn-north-1"),
        ),
        (
            "https://ssoins-1234567890abcdef.portal.cn-northwest-1.app.amazonwebservices.com.cn",
            Some("cn-northwest-1"),
        ),
        (
            "https://ssoins-1234567890abcdef.eusc-de-east-1.portal.amazonaws.eu",
            Some("eusc-de-east-1"),
        ),
        (
            "https://ssoins-1234567890abcdef.portal.eusc-de-east-1.api.amazonwebservices.eu",
            Some("eusc-de-east-1"),
        ),
        (
            "https://SSOINS-1234567890ABCDEF.Portal.EU-West-2.APP.AWS./",
            Some("eu-west-2"),
        ),
        (
            "https://identitycenter.amazonaws.com/ssoins-1234567890abcdef",
            None,
        ),
        (
            "https://identitycenter.amazonaws.com.cn/ssoins-1234567890abcdef",
            None,
        ),
        (
            "https://identitycenter.amazonaws.eu/ssoins-1234567890abcdef",
            None,
        ),
        (
            "https://identitycenter.us-gov.amazonaws.com/ssoins-1234567890abcdef",
            None,
        ),
    ];

    /// Look-alikes: https URLs that are not AWS-owned (vanity URLs at best).
    const NOT_OWNED: &[&str] = &[
        "https://evil-app.aws.example.com/start",
        "https://awsapps.com.evil.test/start",
        "https://d-1234567890.awsapps.com.evil.test/start",
        "https://app.aws/start",
        "https://.app.aws/start",
        "https://xawsapps.com/start",
        "https://identitycenter.amazonaws.com.evil.test/",
        "https://evilidentitycenter.amazonaws.com/",
        "https://52.94.236.248/start",
        "https://[2600:1f18::1]/start",
        "https://example.com/start",
        "https://d-1234567890.awsapps.com@evil.test/start",
    ];

    #[test]
    fn every_aws_owned_form_is_owned_and_names_its_region() {
        for (url, region) in OWNED {
            assert!(is_aws_owned(url), "{url}");
            assert_eq!(region_of(url).as_deref(), *region, "{url}");
            assert_eq!(
                check(url),
                Ok(Shape::AwsOwned {
                    region: region.map(String::from)
                }),
                "{url}"
            );
            // A matching region draws no warning; another one does, naming the URL's.
            if let Some(r) = region {
                assert!(warnings(url, r, false).is_empty(), "{url}");
                let w = warnings(url, "ap-south-1", false);
                assert!(w[0].contains(&format!("--region {r}")), "{url}: {w:?}");
            }
        }
    }

    #[test]
    fn look_alikes_are_not_aws_owned() {
        for url in NOT_OWNED {
            assert!(!is_aws_owned(url), "{url}");
            assert_eq!(region_of(url), None, "{url}");
            assert!(warnings(url, "us-east-1", false).is_empty(), "{url}");
        }
        // Userinfo on an AWS host: not a URL portico sends anywhere.
        for url in [
            "https://alice@d-1234567890.awsapps.com/start",
            "https://a:b@ssoins-1234567890abcdef.portal.us-east-1.app.aws",
        ] {
            assert!(!is_aws_owned(url), "{url}");
            assert_eq!(
                check(url).unwrap_err().why,
                "has a user name or password in it"
            );
        }
        // http to an AWS host is not owned either: the CLI requires https.
        assert!(!is_aws_owned("http://d-1234567890.awsapps.com/start"));
        assert!(host_is_aws_owned("D-1.AWSAPPS.COM."));
        assert!(!host_is_aws_owned("127.0.0.1"));
    }

    #[test]
    fn regional_patterns_are_anchored() {
        for host in [
            // Two labels where the id goes.
            "a.b.portal.us-east-1.app.aws",
            "x.portal.europe.app.aws",
            "x.portal.us-east-1.app.aws.evil.test",
            "x.us-east-1.portal.amazonaws.com.evil.test",
            "portal.us-east-1.app.aws",
            "d-1234567890.awsapps.com",
            "identitycenter.amazonaws.eu",
        ] {
            assert_eq!(region_of_host(host), None, "{host}");
        }
    }

    #[test]
    fn shapes_and_refusals() {
        assert_eq!(check("https://sso.example.com/"), Ok(Shape::Vanity));
        assert_eq!(check("https://127.0.0.1:8443/start"), Ok(Shape::Vanity));
        assert_eq!(check("http://127.0.0.1:4566/start"), Ok(Shape::Loopback));
        for bad in [
            "",
            "d-1234567890.awsapps.com/start",
            "http://d-1234567890.awsapps.com/start",
            "http://nope",
            "ftp://d-1234567890.awsapps.com/start",
            "https://user@sso.example.com/",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redirect_targets_are_normalised_as_the_cli_does() {
        let base = "https://sso.example.com:8443/start?x=1";
        for (location, want) in [
            (
                "https://d-1234567890.awsapps.com/start/?utm=1#/",
                "https://d-1234567890.awsapps.com/start",
            ),
            (
                "https://ssoins-1234567890abcdef.portal.eu-west-1.app.aws:443/",
                "https://ssoins-1234567890abcdef.portal.eu-west-1.app.aws",
            ),
            ("/elsewhere/", "https://sso.example.com:8443/elsewhere"),
            ("next", "https://sso.example.com:8443/next"),
            (
                "http://d-1234567890.awsapps.com/start",
                "http://d-1234567890.awsapps.com/start",
            ),
        ] {
            assert_eq!(
                redirect_target(base, location).as_deref(),
                Some(want),
                "{location}"
            );
        }
    }
}
