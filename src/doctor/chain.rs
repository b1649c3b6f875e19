//! The chained-roles check: for each profile with `role_arn`, that it resolves as
//! `portico credentials --profile NAME` resolves it (its source exists, no loop, a
//! credential_source portico serves), that STS answers at the endpoint it uses, and the last
//! AssumeRole failure portico met for it, with its fix (AccessDenied: the role's trust policy
//! must allow the source; the external ID; the MFA code).

use super::network::probe;
use super::{split_fix, Check, Report, Status};
use crate::engine::{self, Target, Wanted};
use crate::settings::{Context, ProfileSource};

/// How long STS may take to answer doctor's probe.
const PROBE_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

pub(super) fn check_chained_roles(ctx: &Context, report: &mut Report) {
    let names = engine::chained_profiles(ctx);
    if names.is_empty() {
        report.pass(
            Check::ChainedRoles,
            "no profile chains roles (role_arn)".to_string(),
        );
        return;
    }
    let runtime = engine::runtime().ok();
    let mut probed: Vec<(String, Result<(), String>)> = Vec::new();
    for name in names {
        let wanted = Wanted::Profile {
            name: name.clone(),
            origin: ProfileSource::CredentialProcess,
        };
        let role = match engine::resolve(ctx, &wanted) {
            Ok(resolved) => match resolved.target {
                Target::Chained(role) => role,
                _ => continue,
            },
            Err(e) => {
                let (message, fix) = split_fix(&e.to_string());
                report.add(Check::ChainedRoles, Status::Fail, message, fix);
                continue;
            }
        };
        let reached = match probed.iter().find(|(e, _)| *e == role.sts_endpoint) {
            Some((_, r)) => r.clone(),
            None => {
                let r = match &runtime {
                    Some(rt) => rt
                        .block_on(probe(&role.sts_endpoint, PROBE_LIMIT))
                        .map(drop),
                    None => Err("no runtime".to_string()),
                };
                probed.push((role.sts_endpoint.clone(), r.clone()));
                r
            }
        };
        let describe = format!(
            "profile {name}: assumes {} with {}",
            role.role_arn,
            role.source_label()
        );
        if let Err(detail) = reached {
            report.add(
                Check::ChainedRoles,
                Status::Fail,
                format!(
                    "{describe}, but STS at {} does not answer: {detail}",
                    role.sts_endpoint
                ),
                Some(format!(
                    "check the network (proxy, firewall, VPN), the profile's region ({}), and AWS_ENDPOINT_URL_STS if set",
                    role.sts_region
                )),
            );
            continue;
        }
        match engine::last_chain_failure(&ctx.env, &role) {
            Some(failure) => {
                let (message, fix) = split_fix(&failure);
                report.add(
                    Check::ChainedRoles,
                    Status::Fail,
                    format!("{describe}; the last AssumeRole failed: {message}"),
                    Some(fix.unwrap_or_else(|| explain(&failure))),
                );
            }
            None => report.pass(
                Check::ChainedRoles,
                format!("{describe}; STS at {} answers", role.sts_endpoint),
            ),
        }
    }
}

/// The fix for a failure whose message carries none.
fn explain(failure: &str) -> String {
    if failure.contains("AccessDenied") {
        "the role's trust policy must allow the source role's ARN (and the external_id and MFA it asks for)".into()
    } else {
        "run `portico credentials --profile NAME -v` to see the request".into()
    }
}
