//! `portico doctor`: runs the checks of [`crate::doctor`] and prints the report, as text or
//! as JSON.

use std::io::Write;

use crate::cli::DoctorArgs;
use crate::doctor::{self, Scope};
use crate::exit::Exit;
use crate::settings::Environment;

pub fn run(args: &DoctorArgs) -> anyhow::Result<Exit> {
    let scope = Scope {
        sso_session: args.sso_session.clone(),
        profile: args.profile.clone(),
    };
    let report = doctor::run(&Environment::from_process(), &scope)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report.findings)?;
        writeln!(out)?;
    } else {
        doctor::print_text(&mut out, &report.findings)?;
    }
    Ok(if report.failed() {
        Exit::ChecksFailed
    } else {
        Exit::Ok
    })
}
