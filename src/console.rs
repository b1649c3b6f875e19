//! Console sign-in links (docs/protocol.md §5): role credentials are exchanged at the federation
//! endpoint for a sign-in token, which goes into a `…/federation?Action=login` link that signs
//! the browser in to the AWS Management Console (valid 15 minutes, single use).
//!
//! The one GET goes through [`crate::http::get`] (the SDK clients' connector, proxy and
//! certificates included): the portal SDK client cannot send arbitrary requests.

use crate::model::RoleCredentials;
use crate::sanitize::for_terminal;

/// The environment variable that replaces the federation endpoint (tests point it at the
/// emulator's `…/federation`).
pub const FEDERATION_ENDPOINT_ENV: &str = "PORTICO_FEDERATION_ENDPOINT";

/// The global federation endpoint, used when no region is known.
pub const DEFAULT_FEDERATION_ENDPOINT: &str = "https://signin.aws.amazon.com/federation";

/// The `Issuer` portico names in login links (the console shows it when the session ends).
pub const DEFAULT_ISSUER: &str = "portico";

/// Why no sign-in link could be made. Messages never contain the credentials or the token.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("{endpoint} is not an http(s) URL; fix {FEDERATION_ENDPOINT_ENV} or unset it")]
    BadEndpoint { endpoint: String },
    #[error("{}", detail.line(&format!("cannot reach the console sign-in endpoint {endpoint}"), &format!("check the network connection (and {FEDERATION_ENDPOINT_ENV} if it is set)")))]
    Network {
        endpoint: String,
        detail: crate::http::Unreached,
    },
    #[error("the console sign-in endpoint {endpoint} refused the role credentials (HTTP {status}: {detail}); they may have expired: fetch new ones and try again")]
    Refused {
        endpoint: String,
        status: u16,
        detail: String,
    },
    #[error("the console sign-in endpoint {endpoint} answered without a sign-in token ({detail}); try again, and check {FEDERATION_ENDPOINT_ENV} if it is set")]
    BadAnswer { endpoint: String, detail: String },
}

impl ConsoleError {
    /// Every console failure is the service's (or its address's): as any unreachable service.
    pub fn kind(&self) -> crate::failure::FailureKind {
        crate::failure::FailureKind::Service
    }
}

/// The federation endpoint for `region`: `override_url` (from [`FEDERATION_ENDPOINT_ENV`]) if
/// given; the GovCloud and China partitions' own hosts; the European Sovereign Cloud's
/// regional sign-in host (`https://eusc-de-east-1.signin.amazonaws-eusc.eu/federation`: the
/// Sign-In service's host is in AWS's endpoint rules, its `/federation` path only in other
/// clients, docs/protocol.md §11); the regional host
/// `https://{region}.signin.aws.amazon.com/federation` elsewhere; the global one for
/// us-east-1 or no region.
pub fn federation_endpoint(region: Option<&str>, override_url: Option<&str>) -> String {
    if let Some(url) = override_url.filter(|u| !u.is_empty()) {
        return url.to_string();
    }
    match region {
        None | Some("") | Some("us-east-1") => DEFAULT_FEDERATION_ENDPOINT.to_string(),
        Some(r) if r.starts_with("us-gov-") => {
            "https://signin.amazonaws-us-gov.com/federation".to_string()
        }
        Some(r) if r.starts_with("cn-") => "https://signin.amazonaws.cn/federation".to_string(),
        Some(r) if r.starts_with("eusc-") && crate::model::id::is_region(r) => {
            format!("https://{r}.signin.amazonaws-eusc.eu/federation")
        }
        Some(r) => format!("https://{r}.signin.aws.amazon.com/federation"),
    }
}

/// The console page to land on: the service's home (`s3`, `ec2`, …) or the console home, in
/// `region` if given. A `service` that is already an https URL is used as it is.
pub fn console_destination(service: Option<&str>, region: Option<&str>) -> String {
    if let Some(url) = service.filter(|s| s.starts_with("https://")) {
        return url.to_string();
    }
    let host = match region {
        Some(r) if r.starts_with("us-gov-") => "https://console.amazonaws-us-gov.com".to_string(),
        Some(r) if r.starts_with("cn-") => "https://console.amazonaws.cn".to_string(),
        // The European Sovereign Cloud's console is per Region (as other clients have it; no
        // AWS document reachable here confirms it, docs/protocol.md §11).
        Some(r) if r.starts_with("eusc-") && crate::model::id::is_region(r) => {
            format!("https://{r}.console.amazonaws-eusc.eu")
        }
        _ => "https://console.aws.amazon.com".to_string(),
    };
    let service = service
        .map(|s| s.trim_matches('/'))
        .filter(|s| !s.is_empty())
        .unwrap_or("console");
    let mut url = url::Url::parse(&host).expect("a console host with a region name is a URL");
    if let Ok(mut path) = url.path_segments_mut() {
        path.clear();
        path.extend(service.split('/'));
        path.push("home");
    }
    if let Some(region) = region.filter(|r| !r.is_empty()) {
        url.query_pairs_mut().append_pair("region", region);
    }
    url.to_string()
}

/// The Firefox container (`firefox-container` without a name, `{container}` in a command) a
/// role's console opens in: the profile's name, else `ACCOUNT-ROLE`, so that consoles of several
/// roles stay signed in side by side.
pub fn container_name(profile: Option<&str>, account_id: &str, role_name: &str) -> String {
    match profile.filter(|p| !p.is_empty()) {
        Some(profile) => profile.to_string(),
        None => format!("{account_id}-{role_name}"),
    }
}

/// The console sign-in link for `creds`, the one way `portico console` and the portal make it:
/// the federation endpoint for `region` (or `PORTICO_FEDERATION_ENDPOINT`'s override), the
/// console of `service` (or the home page) in `region`, portico as the issuer. The link signs
/// in whoever opens it: show it only to the user.
pub async fn link(
    creds: &RoleCredentials,
    region: Option<&str>,
    service: Option<&str>,
    session_duration: Option<u32>,
) -> Result<String, ConsoleError> {
    let override_url = std::env::var(FEDERATION_ENDPOINT_ENV)
        .ok()
        .filter(|v| !v.is_empty());
    let endpoint = federation_endpoint(region, override_url.as_deref());
    let destination = console_destination(service, region);
    signin_url(
        &endpoint,
        creds,
        &destination,
        DEFAULT_ISSUER,
        session_duration,
    )
    .await
}

/// [`link`] for one-shot commands and the portal's event loop: on a runtime of its own.
pub fn link_blocking(
    creds: &RoleCredentials,
    region: Option<&str>,
    service: Option<&str>,
    session_duration: Option<u32>,
) -> anyhow::Result<String> {
    Ok(crate::engine::runtime()?.block_on(link(creds, region, service, session_duration))?)
}

/// Exchanges `creds` for a sign-in token at `endpoint` and returns the login link for
/// `destination`. `session_duration` (900–43200 s) sets how long the console session lasts.
/// The link signs in whoever opens it: show it only to the user.
pub async fn signin_url(
    endpoint: &str,
    creds: &RoleCredentials,
    destination: &str,
    issuer: &str,
    session_duration: Option<u32>,
) -> Result<String, ConsoleError> {
    let request = token_request_url(endpoint, creds, session_duration)?;
    let (status, body) = get(endpoint, &request).await?;
    if !(200..300).contains(&status) {
        return Err(ConsoleError::Refused {
            endpoint: endpoint.to_string(),
            status,
            detail: excerpt(&body),
        });
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "SigninToken")]
        signin_token: String,
    }
    let answer: Answer = serde_json::from_slice(&body).map_err(|e| ConsoleError::BadAnswer {
        endpoint: endpoint.to_string(),
        detail: e.to_string(),
    })?;
    login_url(endpoint, &answer.signin_token, destination, issuer)
}

/// `…?Action=login&Issuer=…&Destination=…&SigninToken=…`.
pub fn login_url(
    endpoint: &str,
    signin_token: &str,
    destination: &str,
    issuer: &str,
) -> Result<String, ConsoleError> {
    let mut url = parse_endpoint(endpoint)?;
    url.query_pairs_mut()
        .append_pair("Action", "login")
        .append_pair("Issuer", issuer)
        .append_pair("Destination", destination)
        .append_pair("SigninToken", signin_token);
    Ok(url.to_string())
}

/// `…?Action=getSigninToken&Session={"sessionId","sessionKey","sessionToken"}` (URL-encoded).
/// Holds the secret key: never log it.
fn token_request_url(
    endpoint: &str,
    creds: &RoleCredentials,
    session_duration: Option<u32>,
) -> Result<String, ConsoleError> {
    let session = serde_json::json!({
        "sessionId": creds.access_key_id,
        "sessionKey": creds.secret_access_key.expose(),
        "sessionToken": creds.session_token.expose(),
    });
    let mut url = parse_endpoint(endpoint)?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("Action", "getSigninToken");
        if let Some(seconds) = session_duration {
            query.append_pair("SessionDuration", &seconds.to_string());
        }
        query.append_pair("Session", &session.to_string());
    }
    Ok(url.to_string())
}

fn parse_endpoint(endpoint: &str) -> Result<url::Url, ConsoleError> {
    url::Url::parse(endpoint)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| ConsoleError::BadEndpoint {
            endpoint: for_terminal(endpoint),
        })
}

/// One GET through portico's one HTTP stack ([`crate::http`]: proxy and certificates
/// included), bounded by `PORTICO_HTTP_TIMEOUT`.
async fn get(endpoint: &str, url: &str) -> Result<(u16, Vec<u8>), ConsoleError> {
    // The sign-in token is a few kB; anything larger is not the federation endpoint's answer.
    const BODY_LIMIT: usize = 1 << 20;
    let answer = crate::http::get(url, crate::aws::attempt_timeout(), BODY_LIMIT)
        .await
        .map_err(|detail| ConsoleError::Network {
            endpoint: endpoint.to_string(),
            detail,
        })?;
    Ok((answer.status, answer.body))
}

/// The start of an error body, on one line.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = for_terminal(text.trim());
    if text.is_empty() {
        "no details".to_string()
    } else {
        text.chars().take(200).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn endpoints_by_region_and_override() {
        assert_eq!(federation_endpoint(None, None), DEFAULT_FEDERATION_ENDPOINT);
        assert_eq!(
            federation_endpoint(Some("us-east-1"), None),
            DEFAULT_FEDERATION_ENDPOINT
        );
        assert_eq!(
            federation_endpoint(Some("eu-central-1"), None),
            "https://eu-central-1.signin.aws.amazon.com/federation"
        );
        assert_eq!(
            federation_endpoint(Some("us-gov-west-1"), None),
            "https://signin.amazonaws-us-gov.com/federation"
        );
        assert_eq!(
            federation_endpoint(Some("cn-north-1"), None),
            "https://signin.amazonaws.cn/federation"
        );
        assert_eq!(
            federation_endpoint(Some("eusc-de-east-1"), None),
            "https://eusc-de-east-1.signin.amazonaws-eusc.eu/federation"
        );
        assert_eq!(
            console_destination(Some("s3"), Some("eusc-de-east-1")),
            "https://eusc-de-east-1.console.amazonaws-eusc.eu/s3/home?region=eusc-de-east-1"
        );
        // Not a region: the global host, never a host made of the text.
        assert_eq!(
            console_destination(None, Some("eusc-x/evil")),
            "https://console.aws.amazon.com/console/home?region=eusc-x%2Fevil"
        );
        assert_eq!(
            federation_endpoint(Some("eu-central-1"), Some("http://127.0.0.1:9/federation")),
            "http://127.0.0.1:9/federation"
        );
        assert_eq!(
            federation_endpoint(None, Some("")),
            DEFAULT_FEDERATION_ENDPOINT
        );
    }

    #[test]
    fn destinations() {
        assert_eq!(
            console_destination(Some("s3"), Some("eu-west-1")),
            "https://console.aws.amazon.com/s3/home?region=eu-west-1"
        );
        assert_eq!(
            console_destination(None, Some("eu-west-1")),
            "https://console.aws.amazon.com/console/home?region=eu-west-1"
        );
        assert_eq!(
            console_destination(None, None),
            "https://console.aws.amazon.com/console/home"
        );
        assert_eq!(
            console_destination(Some("ec2"), Some("us-gov-west-1")),
            "https://console.amazonaws-us-gov.com/ec2/home?region=us-gov-west-1"
        );
        assert_eq!(
            console_destination(Some("a b?"), None),
            "https://console.aws.amazon.com/a%20b%3F/home"
        );
        assert_eq!(
            console_destination(Some("https://example.com/x"), Some("eu-west-1")),
            "https://example.com/x"
        );
    }

    #[test]
    fn login_and_token_urls_are_encoded() {
        let url = login_url(
            "https://signin.aws.amazon.com/federation",
            "tok+/=",
            "https://console.aws.amazon.com/s3/home?region=eu-west-1",
            "portico",
        )
        .unwrap();
        assert_eq!(
            url,
            "https://signin.aws.amazon.com/federation?Action=login&Issuer=portico\
             &Destination=https%3A%2F%2Fconsole.aws.amazon.com%2Fs3%2Fhome%3Fregion%3Deu-west-1\
             &SigninToken=tok%2B%2F%3D"
        );
        let creds = RoleCredentials {
            access_key_id: "ASIAX".into(),
            secret_access_key: Secret::new("se/cr+et"),
            session_token: Secret::new("to=ken"),
            expiration: time::OffsetDateTime::UNIX_EPOCH,
            account_id: "111122223333".into(),
        };
        let request = token_request_url(DEFAULT_FEDERATION_ENDPOINT, &creds, Some(3600)).unwrap();
        let parsed = url::Url::parse(&request).unwrap();
        let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        assert_eq!(pairs[0], ("Action".into(), "getSigninToken".into()));
        assert_eq!(pairs[1], ("SessionDuration".into(), "3600".into()));
        let session: serde_json::Value = serde_json::from_str(&pairs[2].1).unwrap();
        assert_eq!(
            session,
            serde_json::json!({"sessionId": "ASIAX", "sessionKey": "se/cr+et", "sessionToken": "to=ken"})
        );
        assert!(matches!(
            login_url("ftp://x/federation", "t", "d", "i"),
            Err(ConsoleError::BadEndpoint { .. })
        ));
    }
}
