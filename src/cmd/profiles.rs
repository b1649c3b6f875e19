//! `portico profiles sync`: one `[profile NAME]` per account × role assigned to the user,
//! written into the AWS config file. The planning (template, names, ownership marker, batch
//! edits) is [`crate::awsconfig::sync`]; this file adds the account list, the diff or summary
//! and the write.

use std::io::Write;

use time::OffsetDateTime;

use crate::awsconfig::credential_process::portico_program;
use crate::awsconfig::edit::{EditableFile, Saved};
use crate::awsconfig::sync::{
    assignments, role_assignments, sync, Assignment, Source, Style, SyncOptions, Template,
};
use crate::cache::accounts::{self, AccountsCache};
use crate::cli::{ProfilesArgs, ProfilesCommand, SyncArgs};
use crate::engine::{self, Engine};
use crate::exit::Exit;
use crate::identity::{self, Browser, Store};
use crate::model::Account;
use crate::output::progress::ProgressLine;
use crate::saml;
use crate::settings::{check_region, Selector};

pub fn run(args: &ProfilesArgs) -> anyhow::Result<Exit> {
    match &args.command {
        ProfilesCommand::Sync(sync) => run_sync(sync),
    }
}

fn run_sync(args: &SyncArgs) -> anyhow::Result<Exit> {
    let template = match Template::parse(&args.template) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("portico: error: {e}");
            return Ok(Exit::Usage);
        }
    };
    if let Some(region) = &args.region {
        if let Err(e) = check_region("--region", region) {
            eprintln!("portico: error: {e}");
            return Ok(Exit::Usage);
        }
    }
    let ctx = crate::settings::Context::load(crate::settings::Environment::from_process())?;
    if let Some(name) = &args.saml_session {
        return sync_saml(&ctx, name, template, args);
    }
    let selector = Selector {
        profile: args.profile.clone(),
        sso_session: args.sso_session.clone(),
        ..Selector::default()
    };
    let session = ctx.session(&selector)?;
    let Some(session_name) = session.name.clone() else {
        eprintln!(
            "portico: error: {} is a legacy set-up (start URL in the profile); profiles sync writes \
             profiles that use an [sso-session]: run `portico configure --sso-session NAME --start-url {} --region {}` first",
            session.label(),
            crate::sanitize::for_terminal(&session.start_url),
            crate::sanitize::for_terminal(&session.region)
        );
        return Ok(Exit::Config);
    };

    let path = ctx.config.path.clone();
    // A file portico will not edit (not UTF-8, unreadable for the AWS CLI) is refused before
    // signing in or asking Identity Center; it is read again below, after the listing.
    EditableFile::open_parsed(&path)?;
    let list = account_list(&ctx, &session, args)?;
    let items = assignments(&list);
    let file = EditableFile::open_parsed(&path)?;
    for warning in file.doc.warnings() {
        eprintln!("portico: warning: {warning}");
    }
    let style = if args.credential_process {
        let program = portico_program();
        if program != "portico" {
            eprintln!(
                "portico: note: this portico is not the first `portico` on PATH, so credential_process \
                 names it by its full path ({program})"
            );
        }
        Style::CredentialProcess { program }
    } else {
        Style::Native
    };
    let options = SyncOptions {
        source: Source::SsoSession {
            name: session_name.clone(),
            style,
        },
        template,
        region: args.region.clone(),
        prune: !args.no_prune,
    };
    write(&ctx, file, &items, &options, args, &session.label())
}

/// `--saml-session`: a profile per IAM role of the saml-session's assertion, whose
/// credential_process asks portico for that role's keys.
fn sync_saml(
    ctx: &crate::settings::Context,
    name: &str,
    template: Template,
    args: &SyncArgs,
) -> anyhow::Result<Exit> {
    let session = ctx.saml_session(name)?;
    EditableFile::open_parsed(&ctx.config.path)?;
    let browser = Browser::from_setting(&ctx.saml_browser_setting(None, name))?;
    let on_missing =
        engine::sign_in_policy(ctx, args.no_login, engine::BrowserChoice::Given(browser));
    let store = Engine::new(&ctx.env)?.saml_store();
    let roles =
        engine::runtime()?.block_on(saml::roles(&store, &session, &on_missing, args.refresh))?;
    let items = role_assignments(roles.iter().map(|r| r.role_arn.as_str()));
    let file = EditableFile::open_parsed(&ctx.config.path)?;
    for warning in file.doc.warnings() {
        eprintln!("portico: warning: {warning}");
    }
    let options = SyncOptions {
        source: Source::SamlSession {
            name: name.to_string(),
            program: portico_program(),
        },
        template,
        region: args.region.clone(),
        prune: !args.no_prune,
    };
    write(ctx, file, &items, &options, args, &session.label())
}

/// Plans the sync into `file` and shows the diff (`--dry-run`) or writes it with a summary.
fn write(
    ctx: &crate::settings::Context,
    mut file: EditableFile,
    items: &[Assignment],
    options: &SyncOptions,
    args: &SyncArgs,
    label: &str,
) -> anyhow::Result<Exit> {
    let path = ctx.config.path.clone();
    let outcome = sync(&mut file.doc, items, options)?;
    for warning in &outcome.warnings {
        eprintln!("portico: warning: {warning}");
    }
    let shown = path.display();

    if args.dry_run {
        let mut out = std::io::stdout().lock();
        out.write_all(file.diff().as_bytes())?;
        drop(out);
        eprintln!(
            "portico: dry run: {label} would be synced into {shown}: {}; nothing was written",
            outcome.counts()
        );
        return Ok(Exit::Ok);
    }
    let saved = file.save(&ctx.env.portico_cache_dir()?.join("locks"))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "Synced {label} into {shown}: {}", outcome.counts())?;
    for (what, names) in [("Added", &outcome.added), ("Removed", &outcome.removed)] {
        if !names.is_empty() && names.len() <= 20 {
            writeln!(out, "{what}: {}", names.join(", "))?;
        }
    }
    match saved {
        Saved::Written {
            backup: Some(backup),
        } => writeln!(out, "The previous file is kept as {}", backup.display())?,
        Saved::Written { backup: None } => {}
        Saved::Unchanged => writeln!(out, "Nothing to write: {shown} was already in sync")?,
    }
    let example = outcome
        .added
        .first()
        .or(outcome.unchanged.first())
        .or(outcome.updated.first());
    if let Some(name) = example {
        writeln!(out, "Try: aws sts get-caller-identity --profile {name}")?;
    }
    Ok(Exit::Ok)
}

/// The session's accounts and roles: the cached list while fresh (unless `--refresh`), else
/// from Identity Center (and cached).
fn account_list(
    ctx: &crate::settings::Context,
    session: &crate::settings::SsoSession,
    args: &SyncArgs,
) -> anyhow::Result<Vec<Account>> {
    let cache = AccountsCache::under(&ctx.env.portico_cache_dir()?);
    let now = OffsetDateTime::now_utc();
    if !args.refresh {
        if let Some((list, at)) = cache
            .load(session.cache_key())
            .filter(|(_, at)| accounts::is_fresh(*at, now, accounts::DEFAULT_TTL))
        {
            crate::info!(
                "using the account list cached at {} (--refresh asks Identity Center again)",
                crate::cache::token::format_time(at)
            );
            return Ok(list);
        }
    }
    let store = Store::from_env(&ctx.env)?;
    let on_missing = engine::sign_in_policy(
        ctx,
        args.no_login,
        engine::BrowserChoice::Configured {
            profile: None,
            session: session.name.as_deref(),
        },
    );
    let mut line = ProgressLine::stderr();
    let list = engine::runtime()?.block_on(identity::until_cancelled(engine::fetch_accounts(
        &store,
        session,
        &on_missing,
        &mut |p| line.show(p),
    )));
    line.finish();
    let list = list?;
    if let Err(e) = cache.store(session.cache_key(), &list, OffsetDateTime::now_utc()) {
        eprintln!("portico: could not cache the account list ({e}); continuing");
    }
    Ok(list)
}
