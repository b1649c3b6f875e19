//! The network checks of one session and their bound: `oidc-endpoint` and `portal-endpoint`
//! (one GET to each endpoint's root; any HTTP answer counts), then `clock` from the answer's
//! `Date` header, then [`super::region`] and [`super::assignments`]. [`Budget`] bounds each
//! check and all of them together, so that a service that does not answer costs seconds.

use std::time::{Duration as StdDuration, Instant};

use time::OffsetDateTime;

use super::clock::{clock_finding, parse_http_date};
use super::{assignments, region, token, Check, Report, Status};
use crate::identity::Store;
use crate::sanitize::for_terminal;
use crate::settings::SsoSession;

/// How long doctor's network checks may take: each one at most [`CHECK_LIMIT`] (or one
/// `PORTICO_HTTP_TIMEOUT`, if shorter), all of them together at most [`NETWORK_BUDGET`], so
/// that a service that does not answer costs seconds, not the SDK's three long attempts.
pub(super) struct Budget {
    until: Instant,
}

/// The longest one network check (a probe pair, RegisterClient, the assignments) may take.
const CHECK_LIMIT: StdDuration = StdDuration::from_secs(8);
/// The longest all network checks together may take: one session's three checks at their
/// limit. A whole run stays under 30 s.
const NETWORK_BUDGET: StdDuration = StdDuration::from_secs(24);
/// Less time than this left in the budget is not worth starting a check for.
const TOO_LITTLE: StdDuration = StdDuration::from_millis(500);

impl Budget {
    pub(super) fn start() -> Budget {
        Budget {
            until: Instant::now() + NETWORK_BUDGET,
        }
    }

    /// How long the next check may take, or `None` when the budget is spent.
    pub(super) fn next(&self) -> Option<StdDuration> {
        let left = self.until.saturating_duration_since(Instant::now());
        (left >= TOO_LITTLE).then(|| left.min(CHECK_LIMIT.min(crate::aws::attempt_timeout())))
    }

    pub(super) fn skip(report: &mut Report, check: Check) {
        report.add(
            check,
            Status::Skip,
            format!(
                "not checked: doctor's network checks used up their {} s",
                NETWORK_BUDGET.as_secs()
            ),
            Some("run `portico doctor --sso-session NAME` to check one session".to_string()),
        );
    }
}

/// `8 s`, `0.5 s`.
pub(super) fn seconds(d: StdDuration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

pub(super) async fn check_session(
    store: &Store,
    session: &SsoSession,
    budget: &Budget,
    report: &mut Report,
) {
    let now = OffsetDateTime::now_utc();
    let login = format!("portico login {}", session.selector_flags());
    let token_usable = token::check_token(store, session, now, &login, report);

    let Some(limit) = budget.next() else {
        for check in [
            Check::OidcEndpoint,
            Check::PortalEndpoint,
            Check::Clock,
            Check::StartUrlRegion,
            Check::Assignments,
        ] {
            Budget::skip(report, check);
        }
        return;
    };
    let (oidc, portal) = tokio::join!(
        probe(&session.oidc_endpoint, limit),
        probe(&session.portal_endpoint, limit)
    );
    for (check, service, endpoint, result) in [
        (Check::OidcEndpoint, "OIDC", &session.oidc_endpoint, &oidc),
        (
            Check::PortalEndpoint,
            "portal",
            &session.portal_endpoint,
            &portal,
        ),
    ] {
        match result {
            Ok(p) => report.pass(
                check,
                format!(
                    "the {service} endpoint {endpoint} answered (HTTP {}) in {} ms",
                    p.status,
                    p.elapsed.as_millis()
                ),
            ),
            Err(detail) => {
                report.add(
                    check,
                    Status::Fail,
                    format!("cannot reach the {service} endpoint {endpoint}: {detail}"),
                    Some(
                        if crate::http::route(endpoint).proxy().is_some()
                            || detail.starts_with("TLS")
                        {
                            // The detail holds the proxy's or TLS's own fix.
                            "see the network check for the proxy and the CA bundles in use"
                                .to_string()
                        } else {
                            endpoint_fix(session, check == Check::OidcEndpoint)
                        },
                    ),
                );
            }
        }
    }

    check_network(
        &[
            ("OIDC", &session.oidc_endpoint, failure(&oidc)),
            ("portal", &session.portal_endpoint, failure(&portal)),
        ],
        limit,
        report,
    )
    .await;

    match oidc.as_ref().ok().or(portal.as_ref().ok()) {
        None => report.add(
            Check::Clock,
            Status::Skip,
            "not checked: no endpoint answered".to_string(),
            None,
        ),
        Some(p) => match p.date {
            None => report.add(
                Check::Clock,
                Status::Skip,
                "not checked: the answer carried no Date header".to_string(),
                None,
            ),
            Some(server) => {
                let (status, message) = clock_finding(p.sent, p.received, server);
                let fix = (status != Status::Pass).then(|| {
                    "turn on time synchronisation (`sudo timedatectl set-ntp true` on Linux, \
                     Settings → Date & Time → Set automatically on macOS and Windows); token and \
                     credential expiry are judged by this clock"
                        .to_string()
                });
                report.add(Check::Clock, status, message, fix);
            }
        },
    }

    if oidc.is_ok() {
        match budget.next() {
            Some(limit) => region::check_start_url_region(session, limit, report).await,
            None => Budget::skip(report, Check::StartUrlRegion),
        }
    } else {
        report.add(
            Check::StartUrlRegion,
            Status::Skip,
            "not checked: the OIDC endpoint cannot be reached".to_string(),
            None,
        );
    }

    if portal.is_err() {
        report.add(
            Check::Assignments,
            Status::Skip,
            "not checked: the portal endpoint cannot be reached".to_string(),
            None,
        );
    } else if !token_usable {
        report.add(
            Check::Assignments,
            Status::Skip,
            "not checked: no usable sign-in (see token)".to_string(),
            None,
        );
    } else {
        match budget.next() {
            Some(limit) => {
                assignments::check_assignments(store, session, &login, limit, report).await
            }
            None => Budget::skip(report, Check::Assignments),
        }
    }
}

/// The `network` check: for each endpoint, the route its requests take and why (the proxy
/// variable, or the NO_PROXY entry), whether that proxy answers, and whether TLS verified with
/// the system roots plus the configured bundles (from the endpoint probes just made). The
/// proxy's password is masked.
pub(super) async fn check_network(
    endpoints: &[(&str, &str, Option<&str>)],
    limit: StdDuration,
    report: &mut Report,
) {
    let bundles = crate::http::tls::bundles();
    let roots = if bundles.is_empty() {
        "the system's roots".to_string()
    } else {
        let extra: Vec<String> = bundles
            .iter()
            .map(|b| format!("{} ({})", b.path.display(), b.source))
            .collect();
        format!("the system's roots + {}", extra.join(" + "))
    };
    let mut parts = Vec::new();
    let mut failures = Vec::new();
    let mut fixes = Vec::new();
    for bundle in &bundles {
        if let Err(e) = crate::http::tls::load(bundle) {
            failures.push(e.to_string());
        }
    }
    for (service, endpoint, probe) in endpoints {
        let route = crate::http::route(endpoint);
        let mut part = format!("{service} {endpoint}: {}", route.describe());
        match &route {
            // The CONNECT probe below is plain text: to an https proxy it would send the
            // Proxy-Authorization header (the password) in the clear to its TLS port.
            crate::http::Route::Proxy { proxy, .. } if proxy.is_https() => {
                part.push_str(
                    ", the proxy not probed (an https proxy; the request below goes through it)",
                );
            }
            crate::http::Route::Proxy { proxy, .. } => {
                let target = url::Url::parse(endpoint)
                    .ok()
                    .and_then(|u| Some((u.host_str()?.to_string(), u.port_or_known_default()?)));
                let Some((host, port)) = target else {
                    continue;
                };
                let answer = tokio::time::timeout(limit, connect_probe(proxy, &host, port)).await;
                let shown = proxy.shown();
                let var = proxy.var;
                match answer {
                    Ok(Ok(200)) => part.push_str(", the proxy answers CONNECT with 200"),
                    Ok(Ok(407)) => {
                        failures.push(format!(
                            "the proxy {shown} answers CONNECT {host}:{port} with 407 (authentication required)"
                        ));
                        fixes.push(format!(
                            "put the right user and password in {var} (http://user:password@host:port, percent-encoded)"
                        ));
                    }
                    Ok(Ok(status)) => {
                        failures.push(format!(
                            "the proxy {shown} answers CONNECT {host}:{port} with {status}"
                        ));
                        fixes.push(format!(
                            "ask for {host} to be allowed through the proxy (401/403), check that the proxy can reach it (502), or add it to NO_PROXY"
                        ));
                    }
                    Ok(Err(e)) => {
                        failures.push(format!("the proxy {shown} does not answer ({e})"));
                        fixes.push(format!("check {var} or unset it"));
                    }
                    Err(_) => {
                        failures.push(format!(
                            "the proxy {shown} does not answer within {}",
                            seconds(limit)
                        ));
                        fixes.push(format!("check {var} or unset it"));
                    }
                }
            }
            crate::http::Route::Unusable { var, .. } => {
                failures.push(route.describe());
                fixes.push(format!(
                    "fix {var} (http://[user:password@]host:port) or unset it"
                ));
            }
            crate::http::Route::Direct { .. } => {}
        }
        if endpoint.starts_with("https://") {
            match probe {
                None => part.push_str(&format!(", TLS verified with {roots}")),
                Some(detail) if detail.starts_with("TLS") => {
                    failures.push(format!("{service}: {detail}"));
                }
                Some(_) => part.push_str(", TLS not checked (no answer)"),
            }
        }
        parts.push(part);
    }
    // Two endpoints behind one proxy: its failure once.
    let mut seen = std::collections::HashSet::new();
    failures.retain(|f| seen.insert(f.clone()));
    fixes.retain(|f| seen.insert(f.clone()));
    if failures.is_empty() {
        report.pass(Check::Network, parts.join("; "));
    } else {
        failures.extend(parts);
        let fix = (!fixes.is_empty()).then(|| fixes.join("; "));
        report.add(Check::Network, Status::Fail, failures.join("; "), fix);
    }
}

/// The error of a check's request, for [`check_network`]: `None` when it was answered.
pub(super) fn failure<T>(result: &Result<T, String>) -> Option<&str> {
    result.as_ref().err().map(String::as_str)
}

/// One CONNECT to `host:port` through `proxy`, with its credentials: the status it answers.
/// Written by hand because hyper-util's `Tunnel` keeps the status to itself (it reports 407
/// and "unsuccessful"), and doctor wants to tell 403 from 502. The tunnel is closed at once.
async fn connect_probe(
    proxy: &crate::http::proxy::Proxy,
    host: &str,
    port: u16,
) -> Result<u16, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (proxy_host, proxy_port) = proxy.address();
    let mut stream = tokio::net::TcpStream::connect((proxy_host.as_str(), proxy_port))
        .await
        .map_err(|e| for_terminal(&e.to_string()))?;
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(auth) = proxy.basic_auth() {
        request.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| for_terminal(&e.to_string()))?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.len() < 8192 {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| for_terminal(&e.to_string()))?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    // "HTTP/1.1 200 Connection established"
    let line = String::from_utf8_lossy(&answer);
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| "it closed the connection without an answer to CONNECT".to_string())
}

fn endpoint_fix(session: &SsoSession, oidc: bool) -> String {
    let (default, var) = if oidc {
        (
            format!("https://oidc.{}.amazonaws.com", session.region),
            "AWS_ENDPOINT_URL_SSO_OIDC",
        )
    } else {
        (
            format!("https://portal.sso.{}.amazonaws.com", session.region),
            "AWS_ENDPOINT_URL_SSO",
        )
    };
    let endpoint = if oidc {
        &session.oidc_endpoint
    } else {
        &session.portal_endpoint
    };
    if *endpoint == default {
        format!(
            "check the network (proxy, firewall, VPN) and that sso_region {} is the region your Identity Center is in",
            session.region
        )
    } else {
        format!("check {var} (or AWS_ENDPOINT_URL), which points portico at {endpoint}")
    }
}

/// What one GET to an endpoint's root brought back.
#[derive(Debug, Clone)]
pub(super) struct Probe {
    pub(super) status: u16,
    pub(super) date: Option<OffsetDateTime>,
    pub(super) sent: OffsetDateTime,
    pub(super) received: OffsetDateTime,
    pub(super) elapsed: StdDuration,
}

/// One GET to `{endpoint}/` within `limit`; any HTTP answer counts. Plain HTTP only for
/// `http://` endpoints.
pub(super) async fn probe(endpoint: &str, limit: StdDuration) -> Result<Probe, String> {
    let url = format!("{}/", endpoint.trim_end_matches('/'));
    let sent = OffsetDateTime::now_utc();
    let started = Instant::now();
    let (status, date, _) = get(&url, limit, false).await?;
    Ok(Probe {
        status,
        date: date.as_deref().and_then(parse_http_date),
        sent,
        received: OffsetDateTime::now_utc(),
        elapsed: started.elapsed(),
    })
}

/// The most of a body doctor reads (a federation metadata document is a few kB).
const BODY_LIMIT: usize = 1 << 20;

/// One GET to `url` within `limit`: the status, the `Date` header, and with `body` the body (at
/// most [`BODY_LIMIT`]), through portico's one HTTP stack ([`crate::http`]).
pub(super) async fn get(
    url: &str,
    limit: StdDuration,
    body: bool,
) -> Result<(u16, Option<String>, Vec<u8>), String> {
    let answer = crate::http::get(url, limit, if body { BODY_LIMIT } else { 0 })
        .await
        .map_err(|e| e.to_string())?;
    Ok((answer.status, answer.date, answer.body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_network_budget_bounds_each_check_and_all_of_them() {
        let fresh = Budget::start();
        let limit = fresh.next().unwrap();
        assert!(limit <= CHECK_LIMIT, "{limit:?}");
        let nearly_spent = Budget {
            until: Instant::now() + StdDuration::from_secs(2),
        };
        assert!(nearly_spent.next().unwrap() <= StdDuration::from_secs(2));
        let spent = Budget {
            until: Instant::now() + TOO_LITTLE / 2,
        };
        assert_eq!(spent.next(), None);
        let mut report = Report::default();
        Budget::skip(&mut report, Check::Assignments);
        assert_eq!(report.findings[0].status, Status::Skip);
        assert!(report.findings[0].message.contains("24 s"));
        assert_eq!(seconds(StdDuration::from_millis(500)), "0.5 s");
        assert_eq!(seconds(StdDuration::from_secs(8)), "8 s");
    }
}
