//! `portico console`: a console sign-in link for the role (docs/protocol.md §5), opened in the
//! browser or printed.

use crate::cli::ConsoleArgs;
use crate::console;
use crate::exit::Exit;

pub fn run(args: &ConsoleArgs) -> anyhow::Result<Exit> {
    let (target, creds) = super::credentials::for_args(&args.target, args.no_login)?;
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
    if args.print {
        println!("{url}");
        return Ok(Exit::Ok);
    }
    match crate::identity::open_browser(&url) {
        Ok(opener) => eprintln!(
            "portico: asked {opener} to open the console as {} in {} (the link is valid for 15 minutes)",
            target.role_name, target.account_id
        ),
        Err(e) => {
            eprintln!("portico: could not open a browser ({e}); here is the link (valid for 15 minutes):");
            println!("{url}");
        }
    }
    Ok(Exit::Ok)
}
