//! The `browser` check: the browser `portico login` would open for a session, whether its
//! program exists, and whether its profiles and sso-session agree on `portico_browser`.

use super::{Check, Report, Status};
use crate::sanitize::for_terminal;
use crate::settings::{Context, SsoSession};

/// The browser `portico login` would open for this session (its `portico_browser` and what
/// is above it: PORTICO_BROWSER, BROWSER, the system default), and whether its program exists.
pub(super) fn check_browser(ctx: &Context, session: &SsoSession, report: &mut Report) {
    let check = Check::Browser;
    let setting = ctx.browser_setting(None, None, session.name.as_deref());
    let origin = setting.origin.to_string();
    let fix_setting = match &session.name {
        Some(name) => format!(
            "install that browser, or set `portico_browser = …` in [sso-session {name}] (or PORTICO_BROWSER) to one that is installed; see portico login --help"
        ),
        None => "install that browser, or set PORTICO_BROWSER to one that is installed; see portico login --help".to_string(),
    };
    check_browser_keys_agree(ctx, session, report);
    let browser = match crate::identity::Browser::from_setting(&setting) {
        Ok(browser) => browser,
        Err(e) => {
            report.add(check, Status::Fail, e.to_string(), Some(fix_setting));
            return;
        }
    };
    let container = session.name.as_deref().unwrap_or("portico");
    let line = browser.command_line(container);
    if let crate::identity::BrowserAvailability::No(why) = browser.availability() {
        let what = match &line {
            Ok(line) => format!("{line} ({origin})"),
            Err(_) => origin,
        };
        let message = if browser.is_none() {
            format!("{what}: portico login prints the sign-in URL")
        } else {
            format!("{what}; {why}, so portico login uses the device code")
        };
        report.pass(check, message);
        return;
    }
    match line {
        Ok(line) => report.pass(check, format!("portico login would run {line} ({origin})")),
        Err(e) => report.add(check, Status::Fail, e.to_string(), Some(fix_setting)),
    }
}

/// botocore (the AWS CLI, boto3) refuses a profile in which a key of its sso-session has
/// another value, `portico_browser` included: such a profile breaks every AWS tool.
fn check_browser_keys_agree(ctx: &Context, session: &SsoSession, report: &mut Report) {
    let key = crate::consts::PORTICO_BROWSER;
    let Some(name) = &session.name else {
        return;
    };
    let Some(own) = ctx.config.sso_session(name).and_then(|s| s.get(key)) else {
        return;
    };
    for profile in ctx.config.profile_names() {
        let Some(section) = ctx.config.profile(profile) else {
            continue;
        };
        if section.get("sso_session") != Some(name.as_str()) {
            continue;
        }
        if let Some(theirs) = section.get(key).filter(|v| *v != own) {
            report.add(
                Check::Browser,
                Status::Fail,
                format!(
                    "[profile {profile}] sets {key} = {} but its [sso-session {name}] says {}: the AWS CLI and boto3 refuse such a profile (InvalidConfigError)",
                    for_terminal(theirs),
                    for_terminal(own)
                ),
                Some(format!(
                    "remove {key} from [profile {profile}] (the sso-session's applies to it), or from [sso-session {name}]"
                )),
            );
        }
    }
}
