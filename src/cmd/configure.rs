//! `portico configure`: create or update an `[sso-session NAME]`, and optionally a
//! `[profile NAME]` for one account and role, in the AWS config file; by flags, or by prompts
//! on stderr when flags are missing and stdin is a terminal. It shows the change as a diff,
//! writes through the line-preserving editor (`awsconfig::edit`), and says what to run next.
//! The answers and the apply step live in [`crate::awsconfig::configure`].

use std::io::{BufRead, IsTerminal, Write};

use crate::awsconfig::configure::{
    apply, gather, something_missing, Answers, Ask, ConfigureError, Given, DEFAULT_SCOPE,
};
use crate::awsconfig::edit::{EditableFile, Saved, SectionId, Upserted};
use crate::awsconfig::start_url;
use crate::cli::ConfigureArgs;
use crate::exit::Exit;
use crate::settings::Environment;

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
