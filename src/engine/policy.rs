//! What a command does when it needs a sign-in and finds none: sign in with the browser the
//! config chooses for the profile or session, or fail at once naming the command that works
//! here. The rule for every command that obtains credentials or lists accounts.

use crate::identity::{self, Browser, BrowserAvailability, LoginOptions, OnMissing};
use crate::settings::Context;

/// Which browser a sign-in on the way opens.
#[derive(Debug, Clone)]
pub enum BrowserChoice<'a> {
    /// The one `portico_browser` sets for the profile or the session (else `PORTICO_BROWSER`,
    /// `BROWSER`, the default). Where it cannot open here, no sign-in is started.
    Configured {
        profile: Option<&'a str>,
        session: Option<&'a str>,
    },
    /// One the command has chosen already (`console --browser`), used as it is.
    Given(Browser),
}

/// The sign-in policy for a command: `--no-login` fails, and so does a machine where no browser
/// can open (a credential_process caller hides stderr, so the device flow, which needs a person
/// watching this terminal, is never started on the way). Otherwise the browser flow.
pub fn sign_in_policy(ctx: &Context, no_login: bool, choice: BrowserChoice<'_>) -> OnMissing {
    if no_login || identity::browser_available() != BrowserAvailability::Yes {
        return OnMissing::Fail;
    }
    let browser = match choice {
        BrowserChoice::Given(browser) => browser,
        BrowserChoice::Configured { profile, session } => {
            let browser = match Browser::from_setting(&ctx.browser_setting(None, profile, session))
            {
                Ok(browser) => browser,
                Err(e) => {
                    crate::notice!("{e}; using the default browser");
                    Browser::default()
                }
            };
            // That browser cannot open here (`none`, or a preset without a display): fail at
            // once with the command that works, as where no browser can open at all.
            if browser.availability() != BrowserAvailability::Yes {
                return OnMissing::Fail;
            }
            browser
        }
    };
    OnMissing::Login(LoginOptions {
        browser,
        ..LoginOptions::default()
    })
}
