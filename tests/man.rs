//! `man/portico.1` is generated from the clap definitions and checked in; this test fails when
//! it is stale. Regenerate with `PORTICO_UPDATE_MAN=1 cargo test --test man`.

use clap::CommandFactory;
use portico::cli::{Cli, BROWSERS, ENVIRONMENT, EXAMPLES, FILES};
use portico::exit::Exit;
use roff::{bold, roman, Roff};

fn render() -> String {
    let command = Cli::command();
    let man = clap_mangen::Man::new(command.clone()).date("");
    let mut out = Vec::new();
    man.render_title(&mut out).unwrap();
    man.render_name_section(&mut out).unwrap();
    man.render_synopsis_section(&mut out).unwrap();
    man.render_description_section(&mut out).unwrap();
    man.render_options_section(&mut out).unwrap();

    // Each subcommand (and each of theirs, e.g. `profiles sync`) with its own synopsis and
    // options, so the page is complete on its own.
    let subcommands: Vec<(String, &clap::Command)> = command
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .flat_map(|s| {
            let name = format!("portico {}", s.get_name());
            let nested = s
                .get_subcommands()
                .filter(|n| !n.is_hide_set() && n.get_name() != "help")
                .map(move |n| (format!("portico {} {}", s.get_name(), n.get_name()), n));
            std::iter::once((name, s)).chain(nested)
        })
        .collect();
    if !subcommands.is_empty() {
        let mut roff = Roff::new();
        roff.control("SH", ["COMMANDS"]);
        roff.to_writer(&mut out).unwrap();
        for (name, sub) in subcommands {
            let sub_man = clap_mangen::Man::new(
                sub.clone()
                    .bin_name(name.clone())
                    .display_name(name.clone()),
            );
            let mut roff = Roff::new();
            roff.control("SS", [name.as_str()]);
            roff.to_writer(&mut out).unwrap();
            let mut section = Vec::new();
            sub_man.render_synopsis_section(&mut section).unwrap();
            sub_man.render_description_section(&mut section).unwrap();
            sub_man.render_options_section(&mut section).unwrap();
            // Demote the sub-page's .SH headings to plain bold lines inside this .SS.
            let text = String::from_utf8(section).unwrap();
            for line in text.lines() {
                if let Some(heading) = line.strip_prefix(".SH ") {
                    out.extend_from_slice(
                        format!(".TP\n.B {}\n", heading.to_lowercase()).as_bytes(),
                    );
                } else {
                    out.extend_from_slice(line.as_bytes());
                    out.push(b'\n');
                }
            }
        }
    }

    let mut roff = Roff::new();
    roff.control("SH", ["EXIT STATUS"]);
    for (exit, meaning) in Exit::ALL {
        roff.control("TP", [])
            .text([bold(exit.code().to_string())])
            .text([roman(meaning)]);
    }
    for (title, body) in [
        ("ENVIRONMENT", ENVIRONMENT),
        ("SEVERAL ENTRA ACCOUNTS", BROWSERS),
        ("FILES", FILES),
        ("EXAMPLES", EXAMPLES),
    ] {
        roff.control("SH", [title]);
        for entry in body.trim().split("\n\n") {
            let mut lines = entry.lines();
            let head = lines.next().unwrap_or_default().trim();
            roff.control("TP", []).text([bold(head)]);
            let rest: Vec<&str> = lines.map(str::trim).collect();
            roff.text([roman(rest.join(" "))]);
        }
    }
    roff.to_writer(&mut out).unwrap();
    man.render_version_section(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn man_page_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man/portico.1");
    let fresh = render();
    if std::env::var_os("PORTICO_UPDATE_MAN").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == fresh,
        "man/portico.1 is stale: run `PORTICO_UPDATE_MAN=1 cargo test --test man` and commit it"
    );
}

#[test]
fn files_names_every_file_portico_writes() {
    use portico::cache::accounts::AccountsCache;
    use portico::cache::rolecreds::RoleCredsCache;
    let root = std::path::Path::new("~/.cache/portico");
    let credentials = RoleCredsCache::under(root).dir().display().to_string();
    let accounts = AccountsCache::under(root)
        .path("corp")
        .parent()
        .unwrap()
        .display()
        .to_string();
    for written in [
        "~/.aws/config",
        "~/.aws/config.portico-backup",
        ".portico-tmp",
        "~/.aws/sso/cache/",
        &format!("{credentials}/"),
        &format!("{accounts}/"),
        "~/.cache/portico/locks/",
        "~/.cache/portico/portal.json",
    ] {
        assert!(
            FILES.contains(written),
            "FILES does not name {written}:\n{FILES}"
        );
    }
}
