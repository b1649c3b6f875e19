//! The endpoints portico derives from a Region (src/model/partition.rs) against the SDKs' own
//! endpoint resolvers (their rule sets and partitions table, compiled into aws-sdk-ssooidc,
//! aws-sdk-sso and aws-sdk-sts): the European Sovereign Cloud's `eusc-de-east-1` above all,
//! and one Region of every other partition. No network: the resolvers only compute URLs.

use aws_smithy_types::endpoint::Endpoint;
use portico::model::partition::{oidc_endpoint, portal_endpoint, sts_endpoint, Partition};

const REGIONS: [&str; 8] = [
    "eusc-de-east-1",
    "eu-west-1",
    "us-east-1",
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-west-1",
    "us-isob-east-1",
    "eu-isoe-west-1",
];

fn url(endpoint: Endpoint) -> String {
    endpoint.url().trim_end_matches('/').to_string()
}

#[tokio::test]
async fn oidc_portal_and_sts_hosts_are_the_sdk_resolvers() {
    use aws_sdk_sso::config::endpoint::ResolveEndpoint as _;
    use aws_sdk_ssooidc::config::endpoint::ResolveEndpoint as _;
    use aws_sdk_sts::config::endpoint::ResolveEndpoint as _;
    for region in REGIONS {
        let params = aws_sdk_ssooidc::config::endpoint::Params::builder()
            .region(region)
            .build()
            .unwrap();
        let sdk = aws_sdk_ssooidc::config::endpoint::DefaultResolver::new()
            .resolve_endpoint(&params)
            .await
            .unwrap();
        assert_eq!(oidc_endpoint(region), url(sdk), "OIDC in {region}");

        let params = aws_sdk_sso::config::endpoint::Params::builder()
            .region(region)
            .build()
            .unwrap();
        let sdk = aws_sdk_sso::config::endpoint::DefaultResolver::new()
            .resolve_endpoint(&params)
            .await
            .unwrap();
        assert_eq!(portal_endpoint(region), url(sdk), "portal in {region}");

        let params = aws_sdk_sts::config::endpoint::Params::builder()
            .region(region)
            .build()
            .unwrap();
        let sdk = aws_sdk_sts::config::endpoint::DefaultResolver::new()
            .resolve_endpoint(&params)
            .await
            .unwrap();
        assert_eq!(sts_endpoint(region), url(sdk), "STS in {region}");
    }
    // The facts of docs/protocol.md §11, spelled out.
    assert_eq!(Partition::of_region("eusc-de-east-1").name(), "aws-eusc");
    assert_eq!(
        oidc_endpoint("eusc-de-east-1"),
        "https://oidc.eusc-de-east-1.amazonaws.eu"
    );
    assert_eq!(
        portal_endpoint("eusc-de-east-1"),
        "https://portal.sso.eusc-de-east-1.amazonaws.eu"
    );
    assert_eq!(
        sts_endpoint("eusc-de-east-1"),
        "https://sts.eusc-de-east-1.amazonaws.eu"
    );
}
