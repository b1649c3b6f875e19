//! Vanity start URLs, looked up at login as the AWS CLI (≥ 2.35.13) does (docs/protocol.md §11):
//! a start URL that is not AWS-owned gets exactly one `HEAD` (a `GET` if that answers 405 or
//! 501); the `Location` of a 301/302/303/307/308 is taken without following it, joined and
//! normalised ([`crate::model::start_url::redirect_target`]), and must be an https URL of an
//! AWS-owned host. That URL goes on the wire (RegisterClient's `issuerUrl`,
//! StartDeviceAuthorization's `startUrl`) in the Region its host names (else `sso_region`); the
//! configured URL stays the key of the token and registration files and the token's `startUrl`,
//! so that the AWS CLI and portico keep sharing them. Only a sign-in looks up: the warm path
//! (a cached or refreshed token) never does.

use crate::http::Unreached;
use crate::model::start_url::{self, redirect_target, Shape};
use crate::sanitize::for_terminal;
use crate::settings::SsoSession;

use super::{IdentityError, Store};
use crate::awsconfig::edit::{EditableFile, SectionId};
use crate::consts as keys;

/// What a sign-in sends, for a session whose start URL may be a vanity URL.
#[derive(Debug, Clone)]
pub struct Wire {
    /// The session the sign-in runs in: the configured one, or (when the resolved host names
    /// another Region) the same session moved to that Region.
    pub session: SsoSession,
    /// The start URL sent as `issuerUrl` / `startUrl`.
    pub start_url: String,
    /// The configured `sso_region`, when the resolved host names another Region (the caller
    /// writes the new one back after the sign-in succeeded, and says so).
    pub moved_from: Option<String>,
}

/// The start URL and Region a sign-in to `session` uses: the configured ones for an AWS-owned
/// (or loopback) start URL, else the vanity URL's target. One request at most.
pub async fn resolve(session: &SsoSession) -> Result<Wire, IdentityError> {
    let configured = &session.start_url;
    let as_is = || Wire {
        session: session.clone(),
        start_url: configured.clone(),
        moved_from: None,
    };
    if !matches!(start_url::check(configured), Ok(Shape::Vanity)) {
        return Ok(as_is());
    }
    let target = target_of(configured).await?;
    crate::info!(
        "the start URL {} resolves to {}",
        for_terminal(configured),
        for_terminal(&target)
    );
    let region = start_url::region_of(&target);
    let wire = match region {
        Some(region) if region != session.region => Wire {
            session: in_region(session, &region),
            start_url: target,
            moved_from: Some(session.region.clone()),
        },
        _ => Wire {
            session: session.clone(),
            start_url: target,
            moved_from: None,
        },
    };
    Ok(wire)
}

/// Where the vanity URL `url` points: one HEAD (a GET on 405/501), the redirect not followed.
async fn target_of(url: &str) -> Result<String, IdentityError> {
    let shown = for_terminal(url);
    let limit = crate::aws::attempt_timeout();
    let unreached = |e: Unreached| IdentityError::StartUrl {
        line: e.line(
            &format!("failed to resolve the start URL {shown}"),
            "check the network and sso_start_url",
        ),
        unreached: true,
    };
    let mut answer = crate::http::head(url, limit).await.map_err(unreached)?;
    if matches!(answer.status, 405 | 501) {
        crate::debug!("HEAD answered {}; asking with GET", answer.status);
        answer = crate::http::get(url, limit, 0).await.map_err(unreached)?;
    }
    let fix = "set sso_start_url to the AWS access portal URL from the IAM Identity Center \
               console (Settings → Identity source), or to a company address that redirects there";
    let failed = |why: String| IdentityError::StartUrl {
        line: format!("failed to resolve the start URL {shown}: {why}; {fix}"),
        unreached: false,
    };
    let target = match (answer.status, answer.location.as_deref()) {
        (301 | 302 | 303 | 307 | 308, Some(location)) => redirect_target(url, location)
            .ok_or_else(|| {
                failed(format!(
                    "it redirects to {}, which is not a URL",
                    crate::sanitize::quoted(location)
                ))
            })?,
        (status @ (301 | 302 | 303 | 307 | 308), None) => {
            return Err(failed(format!(
                "it answered HTTP {status} without a Location"
            )))
        }
        (status, _) if status >= 400 => return Err(failed(format!("it answered HTTP {status}"))),
        // Any other answer keeps the URL itself (which is not AWS-owned: refused below).
        _ => url.trim_end_matches('/').to_string(),
    };
    let pointed = for_terminal(&target);
    let not_owned = |why: String| IdentityError::StartUrl {
        line: format!(
            "could not resolve the start URL {shown} to an AWS-owned endpoint: {why}; {fix}"
        ),
        unreached: false,
    };
    if target == url.trim_end_matches('/') {
        let redirected = matches!(answer.status, 301 | 302 | 303 | 307 | 308);
        return Err(not_owned(if redirected {
            "it redirects to itself".to_string()
        } else {
            format!(
                "it answered HTTP {} without redirecting to Identity Center",
                answer.status
            )
        }));
    }
    if !target.starts_with("https://") {
        return Err(not_owned(format!(
            "it redirects to {pointed}, which is not an https URL"
        )));
    }
    if !start_url::is_aws_owned(&target) {
        return Err(not_owned(format!(
            "it redirects to {pointed}, which is not an Identity Center host of AWS"
        )));
    }
    Ok(target)
}

/// `session` signing in in `region`: endpoints that were the old Region's defaults become the
/// new Region's; endpoints set by `AWS_ENDPOINT_URL_*` stay as they are.
fn in_region(session: &SsoSession, region: &str) -> SsoSession {
    use crate::model::partition::{oidc_endpoint, portal_endpoint};
    let mut moved = session.clone();
    if session.oidc_endpoint == oidc_endpoint(&session.region) {
        moved.oidc_endpoint = oidc_endpoint(region);
    }
    if session.portal_endpoint == portal_endpoint(&session.region) {
        moved.portal_endpoint = portal_endpoint(region);
    }
    moved.region = region.to_string();
    moved
}

/// After a sign-in whose start URL resolved to a host in another Region: writes that Region
/// back as `sso_region` of the `[sso-session]` (the byte-preserving editor, every other byte
/// kept) and says so, as the AWS CLI does ("SSO region updated to …"). A legacy profile or a
/// `--start-url` set-up has no section portico knows to edit: the line says what to set.
pub fn write_back_region(store: &Store, wire: &Wire) {
    let Some(old) = &wire.moved_from else {
        return;
    };
    let session = &wire.session;
    let region = &session.region;
    let target = for_terminal(&wire.start_url);
    let (Some(name), Some(path)) = (&session.name, &store.config) else {
        crate::notice!(
            "the start URL redirects to {target}, in {region}: set sso_region = {region} (it is {old})"
        );
        return;
    };
    let id = SectionId::sso_session(name.clone());
    let written = EditableFile::open_parsed(path).and_then(|mut file| {
        file.doc.upsert(&id, &[(keys::SSO_REGION, region)], &[])?;
        file.save(&store.locks)
    });
    match written {
        Ok(_) => crate::notice!(
            "sso_region of [sso-session {}] updated to {region} in {} (was {old}): the start URL redirects to {target}",
            for_terminal(name),
            path.display()
        ),
        Err(e) => crate::notice!(
            "the start URL redirects to {target}, in {region}, but sso_region could not be updated ({e}); set sso_region = {region} in [sso-session {}]",
            for_terminal(name)
        ),
    }
}
