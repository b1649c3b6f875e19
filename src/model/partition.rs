//! The AWS partitions and the host names of their endpoints, from the Region's name: the rule
//! the SDKs' endpoint resolvers follow (their `partitions.json`, region regexes and
//! `dnsSuffix`), written once here so that settings (OIDC, portal and STS endpoints) and the
//! console link agree. `tests/start_urls.rs` checks the answers against the SDK's own resolver.

/// An AWS partition: a set of Regions with its own DNS suffix and its own accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    Aws,
    China,
    GovCloud,
    /// The AWS European Sovereign Cloud (`aws-eusc`, Region `eusc-de-east-1`).
    Eusc,
    Iso,
    IsoB,
    IsoE,
    IsoF,
}

impl Partition {
    /// The partition of `region`, by the SDK's region regexes (an unknown prefix is `aws`'s, as
    /// the SDK's default partition).
    pub fn of_region(region: &str) -> Partition {
        let prefixed = |prefix: &str| region.starts_with(prefix);
        if prefixed("cn-") {
            Partition::China
        } else if prefixed("us-gov-") {
            Partition::GovCloud
        } else if prefixed("eusc-") {
            Partition::Eusc
        } else if prefixed("us-isob-") {
            Partition::IsoB
        } else if prefixed("us-isof-") {
            Partition::IsoF
        } else if prefixed("us-iso-") {
            Partition::Iso
        } else if prefixed("eu-isoe-") {
            Partition::IsoE
        } else {
            Partition::Aws
        }
    }

    /// The partition's name, as ARNs spell it.
    pub fn name(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::China => "aws-cn",
            Partition::GovCloud => "aws-us-gov",
            Partition::Eusc => "aws-eusc",
            Partition::Iso => "aws-iso",
            Partition::IsoB => "aws-iso-b",
            Partition::IsoE => "aws-iso-e",
            Partition::IsoF => "aws-iso-f",
        }
    }

    /// The suffix of its regional service hosts (`oidc.{region}.{suffix}`).
    pub fn dns_suffix(self) -> &'static str {
        match self {
            Partition::Aws | Partition::GovCloud => "amazonaws.com",
            Partition::China => "amazonaws.com.cn",
            Partition::Eusc => "amazonaws.eu",
            Partition::Iso => "c2s.ic.gov",
            Partition::IsoB => "sc2s.sgov.gov",
            Partition::IsoE => "cloud.adc-e.uk",
            Partition::IsoF => "csp.hci.ic.gov",
        }
    }
}

/// The regional endpoint of a service whose host starts with `prefix` (`oidc`, `portal.sso`,
/// `sts`): `https://{prefix}.{region}.{dns suffix}`.
pub fn regional_endpoint(prefix: &str, region: &str) -> String {
    let suffix = Partition::of_region(region).dns_suffix();
    format!("https://{prefix}.{region}.{suffix}")
}

/// The OIDC service of `region` (`https://oidc.eusc-de-east-1.amazonaws.eu`).
pub fn oidc_endpoint(region: &str) -> String {
    regional_endpoint("oidc", region)
}

/// The portal service of `region` (`https://portal.sso.eusc-de-east-1.amazonaws.eu`).
pub fn portal_endpoint(region: &str) -> String {
    regional_endpoint("portal.sso", region)
}

/// STS of `region` (`https://sts.eusc-de-east-1.amazonaws.eu`).
pub fn sts_endpoint(region: &str) -> String {
    regional_endpoint("sts", region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_by_region() {
        for (region, name, oidc) in [
            ("eu-west-1", "aws", "https://oidc.eu-west-1.amazonaws.com"),
            (
                "cn-north-1",
                "aws-cn",
                "https://oidc.cn-north-1.amazonaws.com.cn",
            ),
            (
                "us-gov-west-1",
                "aws-us-gov",
                "https://oidc.us-gov-west-1.amazonaws.com",
            ),
            (
                "eusc-de-east-1",
                "aws-eusc",
                "https://oidc.eusc-de-east-1.amazonaws.eu",
            ),
            (
                "us-isob-east-1",
                "aws-iso-b",
                "https://oidc.us-isob-east-1.sc2s.sgov.gov",
            ),
        ] {
            assert_eq!(Partition::of_region(region).name(), name, "{region}");
            assert_eq!(oidc_endpoint(region), oidc, "{region}");
        }
    }
}
