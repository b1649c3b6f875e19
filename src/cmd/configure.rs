//! `portico configure`: create or update an `[sso-session NAME]`, and optionally a
//! `[profile NAME]` for one account and role, in the AWS config file; by flags, or by prompts
//! on stderr when flags are missing and stdin is a terminal. It shows the change as a diff,
//! writes through the line-preserving editor (`awsconfig::edit`), and says what to run next.
//! The answers and the apply step live in [`crate::configure`].

use std::io::{BufRead, IsTerminal, Write};

use crate::awsconfig::edit::{EditableFile, Saved, SectionId, Upserted};
use crate::cli::ConfigureArgs;
use crate::configure::{
    apply, gather, something_missing, Answers, Ask, ConfigureError, Given, DEFAULT_SCOPE,
};
use crate::exit::Exit;
use crate::model::start_url;
use crate::settings::{check_idp_url, check_region, Environment};

fn given(args: &ConfigureArgs) -> Given {
    Given {
        sso_session: args.sso_session.clone(),
        start_url: args.start_url.clone(),
        region: args.region.clone(),
        scopes: args.scopes.clone(),
        profile: args.profile.clone(),
        account: args.account.clone(),
        role: args.role.clone(),
        profile_region: args.profile_region.clone(),
    }
}

/// Prompts on stderr, answers from stdin.
pub struct Terminal;

impl Ask for Terminal {
    fn ask(&mut self, question: &str, default: Option<&str>) -> std::io::Result<Option<String>> {
        let mut err = std::io::stderr().lock();
        match default {
            Some(d) if !d.is_empty() => write!(err, "{question} [{d}]: ")?,
            _ => write!(err, "{question}: ")?,
        }
        err.flush()?;
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line)? == 0 {
            writeln!(err)?;
            return Ok(None);
        }
        Ok(Some(line.trim().to_string()))
    }

    fn say(&mut self, text: &str) {
        eprintln!("{text}");
    }
}

pub fn run(args: &ConfigureArgs) -> anyhow::Result<Exit> {
    let env = Environment::from_process();
    let path = env.config_path()?;
    let mut file = EditableFile::open_parsed(&path)?;
    for warning in file.doc.warnings() {
        eprintln!("portico: warning: {warning}");
    }
    if let Some(name) = &args.saml_session {
        return configure_saml(args, name, &env, &mut file);
    }
    let given = given(args);
    let interactive = something_missing(&given, &file.doc) && std::io::stdin().is_terminal();
    let mut terminal = Terminal;
    let answers = match gather(
        &given,
        &file.doc,
        interactive.then_some(&mut terminal as &mut dyn Ask),
    ) {
        Ok(answers) => answers,
        Err(e @ (ConfigureError::Missing(_) | ConfigureError::Invalid(_))) => {
            eprintln!("portico: error: {e}");
            return Ok(Exit::Usage);
        }
        Err(ConfigureError::NoAnswer) => {
            eprintln!("portico: no answer (stdin ended); nothing was written");
            return Ok(Exit::Cancelled);
        }
        Err(e) => return Err(e.into()),
    };
    let region_asked = interactive && args.region.is_none();
    for warning in start_url::warnings(&answers.start_url, &answers.region, region_asked) {
        eprintln!("portico: warning: {warning}");
    }
    if start_url::check(&answers.start_url) == Ok(start_url::Shape::Vanity) {
        // Not wrong, but a mistyped AWS host lands here too: say what will happen with it.
        eprintln!(
            "portico: note: {} is not one of Identity Center's own hosts: it is taken as a vanity URL, and each sign-in asks it once where it redirects (which must be an Identity Center URL)",
            crate::sanitize::for_terminal(&answers.start_url)
        );
    }
    if answers
        .scopes
        .as_ref()
        .is_some_and(|s| !s.iter().any(|s| s == DEFAULT_SCOPE))
    {
        eprintln!(
            "portico: warning: without the scope {DEFAULT_SCOPE} Identity Center issues no refresh \
             token, so you will sign in again whenever the token expires"
        );
    }

    let applied = apply(&mut file.doc, &answers)?;
    if let Some(storage) = &args.storage {
        file.doc.upsert(
            &SectionId::sso_session(&answers.session),
            &[(crate::consts::PORTICO_STORAGE, storage.as_str())],
            &[],
        )?;
    }
    let shown = path.display();
    if !file.is_changed() {
        eprintln!("portico: {shown} already has these settings; nothing to write");
        print_next(&answers);
        return Ok(Exit::Ok);
    }
    eprint!("{}", file.diff());
    if args.dry_run {
        eprintln!("portico: dry run: nothing was written to {shown}");
        return Ok(Exit::Ok);
    }
    if interactive && !args.yes {
        let question = format!("Write these changes to {shown}? [Y/n]");
        match terminal.ask(&question, None)? {
            Some(a)
                if a.is_empty() || a.eq_ignore_ascii_case("y") || a.eq_ignore_ascii_case("yes") => {
            }
            _ => {
                eprintln!("portico: nothing was written");
                return Ok(Exit::Cancelled);
            }
        }
    }
    let lock_dir = env.portico_cache_dir()?.join("locks");
    let saved = file.save(&lock_dir)?;
    let verb = |u: Upserted| match u {
        Upserted::Created => "added",
        Upserted::Updated => "updated",
        Upserted::Unchanged => "kept",
    };
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} [sso-session {}] in {shown}",
        capitalise(verb(applied.session)),
        answers.session
    )?;
    if let (Some(p), Some(u)) = (&answers.profile, applied.profile) {
        writeln!(
            out,
            "{} [{}]",
            capitalise(verb(u)),
            SectionId::profile(&p.name)
        )?;
        if !applied.removed_legacy.is_empty() {
            writeln!(
                out,
                "  (removed {} from it: the profile now uses the sso-session)",
                applied.removed_legacy.join(" and ")
            )?;
        }
    }
    if let Saved::Written {
        backup: Some(backup),
    } = saved
    {
        writeln!(out, "The previous file is kept as {}", backup.display())?;
    }
    drop(out);
    print_next(&answers);
    Ok(Exit::Ok)
}

/// `--saml-session NAME --idp-url URL`: the `[saml-session NAME]` section, by flags only.
fn configure_saml(
    args: &ConfigureArgs,
    name: &str,
    env: &Environment,
    file: &mut EditableFile,
) -> anyhow::Result<Exit> {
    let idp_url = args.idp_url.as_deref().unwrap_or_default();
    let checked = crate::awsconfig::names::check_name("saml-session", name)
        .and_then(|()| check_idp_url(idp_url).map_err(|why| format!("--idp-url {} {why}", crate::sanitize::quoted(idp_url))))
        .and_then(|()| match &args.sts_region {
            Some(region) => check_region("--sts-region", region).map_err(|e| e.to_string()),
            None => Ok(()),
        })
        .and_then(|()| match &args.entity_id {
            Some(id) if id.is_empty() || id.chars().any(|c| c.is_whitespace() || c.is_control()) => Err(format!(
                "--entity-id {} is not an identifier like urn:amazon:webservices or urn:amazon:webservices#2",
                crate::sanitize::quoted(id)
            )),
            _ => Ok(()),
        });
    if let Err(e) = checked {
        eprintln!("portico: error: {e}");
        return Ok(Exit::Usage);
    }
    let port = args.acs_port.map(|p| p.to_string());
    let mut set = vec![("idp_url", idp_url)];
    for (key, value) in [
        ("entity_id", args.entity_id.as_deref()),
        ("sts_region", args.sts_region.as_deref()),
        ("acs_port", port.as_deref()),
        (crate::consts::PORTICO_STORAGE, args.storage.as_deref()),
    ] {
        if let Some(value) = value {
            set.push((key, value));
        }
    }
    let id = SectionId {
        kind: crate::awsconfig::SectionKind::Other,
        name: format!("{}{name}", crate::settings::SAML_SESSION_PREFIX),
    };
    let upserted = file.doc.upsert(&id, &set, &[])?;
    let shown = file.doc.path().display().to_string();
    if !file.is_changed() {
        eprintln!("portico: {shown} already has these settings; nothing to write");
    } else {
        eprint!("{}", file.diff());
        if args.dry_run {
            eprintln!("portico: dry run: nothing was written to {shown}");
            return Ok(Exit::Ok);
        }
        let saved = file.save(&env.portico_cache_dir()?.join("locks"))?;
        let verb = match upserted {
            Upserted::Created => "Added",
            Upserted::Updated => "Updated",
            Upserted::Unchanged => "Kept",
        };
        println!("{verb} {} in {shown}", id.header());
        if let Saved::Written {
            backup: Some(backup),
        } = saved
        {
            println!("The previous file is kept as {}", backup.display());
        }
    }
    println!("Next: portico login --saml-session {name}");
    Ok(Exit::Ok)
}

fn print_next(answers: &Answers) {
    println!("Next: portico login --sso-session {}", answers.session);
    if let Some(p) = &answers.profile {
        println!("Then: aws sts get-caller-identity --profile {}", p.name);
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
