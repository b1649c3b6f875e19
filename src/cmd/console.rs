//! `portico console`: a console sign-in link for the role (docs/protocol.md §5), opened in the
//! browser or printed. Whether a browser can open is decided before anything is fetched; the
//! link holds a sign-in token, so it goes to stdout only when asked for (`--print`, browser
//! `none`) and never into an error.

use anyhow::bail;

use crate::cli::ConsoleArgs;
use crate::console;
use crate::exit::Exit;
use crate::identity::{Browser, BrowserAvailability, OnMissing};

pub fn run(args: &ConsoleArgs) -> anyhow::Result<Exit> {
    let ctx = super::context()?;
    let target = super::credentials::resolve_target(&ctx, &args.target)?;
    let profile = super::credentials::target_profile(&ctx, &args.target);
    let container =
        console::container_name(profile.as_deref(), &target.account_id, &target.role_name);
    let browser = Browser::from_setting(&ctx.browser_setting(
        args.browser.as_deref(),
        profile.as_deref(),
        target.session.name.as_deref(),
    ))?;
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
    let mut on_missing = super::credentials::on_missing(args.no_login);
    if let OnMissing::Login(options) = &mut on_missing {
        // A sign-in on the way uses the same browser.
        options.browser = browser.clone();
    }
    let creds = super::credentials::obtain(&ctx, &target, &on_missing)?;
    let override_url = std::env::var(console::FEDERATION_ENDPOINT_ENV)
        .ok()
        .filter(|v| !v.is_empty());
    let endpoint = console::federation_endpoint(target.region.as_deref(), override_url.as_deref());
    let destination =
        console::console_destination(args.service.as_deref(), target.region.as_deref());
    let url = super::runtime()?.block_on(console::signin_url(
        &endpoint,
        &creds,
        &destination,
        console::DEFAULT_ISSUER,
        args.duration,
    ))?;
    if print {
        println!("{url}");
        return Ok(Exit::Ok);
    }
    match browser.open(&url, &container) {
        Ok(Some(opener)) => eprintln!(
            "portico: asked {opener} to open the console as {} in {} (the link is valid for 15 minutes)",
            target.role_name, target.account_id
        ),
        Ok(None) => println!("{url}"),
        Err(e) => bail!(
            "{e}; run the same command with --print to get the sign-in link (valid 15 minutes)"
        ),
    }
    Ok(Exit::Ok)
}
