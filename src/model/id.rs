//! The rules for AWS identifiers, each written once: a 12-digit account ID, a region name, and
//! an IAM role ARN read into its account and name. Callers wrap them in their own errors (a
//! settings error naming the key, a flag's one-line message); the rule itself lives here.

/// Whether `text` is an AWS account ID: exactly 12 ASCII digits. Checked before any request,
/// so that a mistyped ID is named as such instead of coming back as "no access".
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `text` has the shape of a region name: `eu-central-1`, `us-gov-west-1`,
/// `cn-north-1`, `us-isob-east-1`, `eusc-de-east-1` (two lowercase letters or the European
/// Sovereign Cloud's `eusc`, one or more lowercase words, a number).
pub fn is_region(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() >= 3
        && (parts[0].len() == 2 || parts[0] == "eusc")
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

/// An IAM role ARN, `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`, read into its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleArn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`, …
    pub partition: &'a str,
    pub account_id: &'a str,
    /// The last part of the role's path: the name STS and the console show.
    pub name: &'a str,
}

impl<'a> RoleArn<'a> {
    /// A role STS can be asked for: the shape of [`RoleArn::split`], a named partition, and a
    /// 12-digit account ID. `None` for anything else (a SAML provider's ARN, a bare name).
    pub fn parse(arn: &'a str) -> Option<RoleArn<'a>> {
        let role = RoleArn::split(arn)?;
        (!role.partition.is_empty() && is_account_id(role.account_id)).then_some(role)
    }

    /// The parts of anything shaped `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME` with an
    /// account and a name, the account unchecked: for showing and matching the roles an
    /// assertion or a profile names, which [`RoleArn::parse`] then checks before use.
    pub fn split(arn: &'a str) -> Option<RoleArn<'a>> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let ["arn", partition, "iam", "", account_id, resource] = parts.as_slice() else {
            return None;
        };
        let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
        (!account_id.is_empty() && !name.is_empty()).then_some(RoleArn {
            partition,
            account_id,
            name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_twelve_digits() {
        assert!(is_account_id("111122223333"));
        assert!(is_account_id("000000000000"));
        for bad in [
            "",
            "11112222333",
            "1111222233334",
            "1111-2222-3333",
            "11112222333a",
            " 111122223333",
            "１１１１２２２２３３３３",
        ] {
            assert!(!is_account_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn region_names() {
        for good in [
            "eu-central-1",
            "us-east-1",
            "us-gov-west-1",
            "cn-north-1",
            "us-isob-east-1",
            "ap-southeast-12",
            "eusc-de-east-1",
        ] {
            assert!(is_region(good), "{good}");
        }
        for bad in [
            "",
            "eu-central",
            "EU-central-1",
            "eu--1",
            "europe-central-1",
            "eu-central-one",
            "eu-central-1 ",
            "eu-central-256",
            "e1-central-1",
            "eusd-de-east-1",
        ] {
            assert!(!is_region(bad), "{bad:?}");
        }
    }

    #[test]
    fn role_arns_are_parsed_into_account_and_name() {
        let role = |p, a, n| {
            Some(RoleArn {
                partition: p,
                account_id: a,
                name: n,
            })
        };
        assert_eq!(
            RoleArn::parse("arn:aws:iam::111122223333:role/team/Admin"),
            role("aws", "111122223333", "Admin")
        );
        assert_eq!(
            RoleArn::parse("arn:aws-us-gov:iam::111122223333:role/Read&Only"),
            role("aws-us-gov", "111122223333", "Read&Only")
        );
        for bad in [
            "arn:aws:iam::111122223333:saml-provider/X",
            "arn:aws:iam::1111:role/A",
            "arn::iam::111122223333:role/A",
            "arn:aws:iam::111122223333:role/",
            "arn:aws:sts::111122223333:role/A",
            "arn:aws:iam:eu-west-1:111122223333:role/A",
            "Admin",
            "",
        ] {
            assert_eq!(RoleArn::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn split_reads_the_shape_and_leaves_the_account_unchecked() {
        assert_eq!(
            RoleArn::split("arn::iam::1111:role/path/A"),
            Some(RoleArn {
                partition: "",
                account_id: "1111",
                name: "A",
            })
        );
        assert_eq!(
            RoleArn::split("arn:aws:iam::111122223333:role/team/Admin"),
            RoleArn::parse("arn:aws:iam::111122223333:role/team/Admin")
        );
        for bad in [
            "arn:aws:iam:::role/A",
            "arn:aws:iam::1111:role/",
            "arn:aws:iam::1111:user/A",
            "arn:aws:iam::1111",
            "Admin",
        ] {
            assert_eq!(RoleArn::split(bad), None, "{bad}");
        }
    }
}
