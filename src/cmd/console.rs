//! `portico console`: a console sign-in link for the role (docs/protocol.md §5), opened in the
//! browser or printed. Whether a browser can open is decided before anything is fetched; the
//! link holds a sign-in token, so it goes to stdout only when asked for (`--print`, browser
//! `none`) and never into an error.

use anyhow::bail;

use crate::cli::ConsoleArgs;
use crate::console;
use crate::engine::{self, BrowserChoice, Engine};
use crate::exit::Exit;
use crate::identity::{Browser, BrowserAvailability};
use crate::settings::{Context, Environment};

pub fn run(args: &ConsoleArgs) -> anyhow::Result<Exit> {
    let ctx = Context::load(Environment::from_process())?;
    let resolved = engine::resolve(&ctx, &args.target.wanted(&ctx.env))?;
    let target = &resolved.target;
    let profile = resolved.profile.as_deref();
    let container = console::container_name(profile, target.account_id(), target.role_name());
    // The saml-session's portico_browser for a SAML role, the sso-session's for the others.
    let browser =
        Browser::from_setting(&target.browser_setting(&ctx, args.browser.as_deref(), profile))?;
    let print = args.print || browser.is_none();
    if !print {
        if let BrowserAvailability::No(reason) = browser.availability() {
            bail!(
                "cannot open the console in a browser: {reason}; run the same command with --print to get the sign-in link (valid 15 minutes) and open it where a browser is"
            );
        }
        // A preset's browser must be installed, a command's program must exist.
        browser.plan("", &container)?;
    }
    // A sign-in on the way uses the same browser.
    let on_missing =
        engine::sign_in_policy(&ctx, args.no_login, BrowserChoice::Given(browser.clone()));
    let creds = Engine::new(&ctx.env)?.obtain_blocking(target, &on_missing)?;
    // The federation endpoint refuses SessionDuration with role-chained keys.
    let duration = if target.role_chained() {
        eprintln!(
            "portico: {} is a chained role: its console session lasts one hour{}",
            target.describe(),
            if args.duration.is_some() {
                " (--duration is not taken with role-chained keys)"
            } else {
                ""
            }
        );
        None
    } else {
        args.duration
    };
    let url = console::link_blocking(
        &creds,
        resolved.region.as_deref(),
        args.service.as_deref(),
        duration,
    )?;
    if print {
        println!("{url}");
        return Ok(Exit::Ok);
    }
    match browser.open(&url, &container) {
        Ok(Some(opener)) => eprintln!(
            "portico: asked {opener} to open the console as {} (the link is valid for 15 minutes)",
            target.describe()
        ),
        Ok(None) => println!("{url}"),
        Err(e) => bail!(
            "{e}; run the same command with --print to get the sign-in link (valid 15 minutes)"
        ),
    }
    Ok(Exit::Ok)
}
