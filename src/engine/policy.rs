//! What a command does when it needs a sign-in and finds none: sign in with the browser the
//! config chooses for the profile or session, or fail at once naming the command that works
//! here. The one rule for every command and the portal, for Identity Center and SAML alike.

use crate::identity::{Browser, BrowserAvailability, LoginOptions, OnMissing};
use crate::settings::{BrowserSetting, Context};

/// Which browser a sign-in on the way opens.
#[derive(Debug, Clone)]
pub enum BrowserChoice<'a> {
    /// The one `portico_browser` sets for the profile or the sso-session (else
    /// `PORTICO_BROWSER`, `BROWSER`, the default).
    Configured {
        profile: Option<&'a str>,
        session: Option<&'a str>,
    },
    /// A setting already looked up (see [`super::Target::browser_setting`]); one that cannot
    /// be read is said once and the default browser used, as for `Configured`.
    Setting(BrowserSetting),
    /// One the command has chosen already (`console --browser`), used as it is.
    Given(Browser),
}

/// The sign-in policy for a command: `--no-login` fails; so does a browser that cannot open
/// here (a credential_process caller hides stderr, so the device flow, which needs a person
/// watching this terminal, is never started on the way). Otherwise the browser flow, with the
/// chosen browser.
///
/// Whether a browser can open is [`Browser::availability`] of the browser chosen, and nothing
/// else: a command the user configured (`--browser`, `PORTICO_BROWSER`, `portico_browser`,
/// `BROWSER`; say `wslview {url}`) is always tried, and the guess from the environment
/// (no display, an SSH session, a container) decides only for the system's default browser
/// and the presets, which need a display.
pub fn sign_in_policy(ctx: &Context, no_login: bool, choice: BrowserChoice<'_>) -> OnMissing {
    if no_login {
        return OnMissing::Fail;
    }
    let setting = match choice {
        BrowserChoice::Given(browser) => return policy_for(browser),
        BrowserChoice::Setting(setting) => setting,
        BrowserChoice::Configured { profile, session } => {
            ctx.browser_setting(None, profile, session)
        }
    };
    let browser = match Browser::from_setting(&setting) {
        Ok(browser) => browser,
        Err(e) => {
            crate::notice!("{e}; using the default browser");
            Browser::default()
        }
    };
    policy_for(browser)
}

fn policy_for(browser: Browser) -> OnMissing {
    // That browser cannot open here (`none`, a preset or the default without a display):
    // fail at once with the command that works.
    if browser.availability() != BrowserAvailability::Yes {
        return OnMissing::Fail;
    }
    OnMissing::Login(LoginOptions {
        browser,
        ..LoginOptions::default()
    })
}
