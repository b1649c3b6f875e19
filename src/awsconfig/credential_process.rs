//! The `credential_process = portico credentials …` line: [`parse_portico_command`] reads what
//! one asks for (the engine resolves a profile through it, doctor checks it, profile sync
//! recognises its own), [`PorticoCommand::line`] writes one (profile sync), and
//! [`portico_program`] says how such a line names portico. One file, so the reader and the
//! writer cannot drift apart.

use std::path::Path;

use crate::output::shell::{quote, split_command};

/// What a `credential_process = portico credentials …` line asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PorticoCommand {
    /// The program as written (`portico` or a path).
    pub program: String,
    pub profile: Option<String>,
    pub account: Option<String>,
    pub role: Option<String>,
    pub sso_session: Option<String>,
    pub saml_session: Option<String>,
    pub role_arn: Option<String>,
}

impl PorticoCommand {
    /// The line that runs this command: `PROGRAM credentials` and each flag that is set, in the
    /// order `--profile`, `--account`, `--role`, `--sso-session`, `--saml-session`,
    /// `--role-arn`, each value shell-quoted where it needs it. `program` is written as it is
    /// (already quoted by [`portico_program`]). [`parse_portico_command`] reads it back.
    pub fn line(&self) -> String {
        let mut line = format!("{} credentials", self.program);
        for (flag, value) in [
            ("--profile", &self.profile),
            ("--account", &self.account),
            ("--role", &self.role),
            ("--sso-session", &self.sso_session),
            ("--saml-session", &self.saml_session),
            ("--role-arn", &self.role_arn),
        ] {
            if let Some(value) = value {
                line.push_str(&format!(" {flag} {}", quote(value)));
            }
        }
        line
    }
}

/// Parses a credential_process line that runs `portico credentials`; `None` for any other
/// program or subcommand.
pub fn parse_portico_command(line: &str) -> Option<PorticoCommand> {
    let words = split_command(line);
    let program = words.first()?;
    let file = Path::new(program).file_name()?.to_string_lossy();
    if file != "portico" && file != "portico.exe" {
        return None;
    }
    let mut rest = words[1..].iter();
    // Global flags (-v) may come before the subcommand.
    let subcommand = rest.by_ref().find(|w| !w.starts_with('-'))?;
    if subcommand != "credentials" {
        return None;
    }
    let mut cmd = PorticoCommand {
        program: program.clone(),
        ..PorticoCommand::default()
    };
    while let Some(word) = rest.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (word.as_str(), None),
        };
        let slot = match flag {
            "--profile" => &mut cmd.profile,
            "--account" => &mut cmd.account,
            "--role" => &mut cmd.role,
            "--sso-session" => &mut cmd.sso_session,
            "--saml-session" => &mut cmd.saml_session,
            "--role-arn" => &mut cmd.role_arn,
            _ => continue,
        };
        *slot = inline.or_else(|| rest.next().cloned());
    }
    Some(cmd)
}

/// How credential_process lines name portico: plain `portico` when the first `portico` on
/// `PATH` is this very program, else this program's absolute path (quoted if needed), so the
/// AWS CLI runs the portico that wrote the line whatever its `PATH`.
pub fn portico_program() -> String {
    let Some(me) = std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::canonicalize(p).ok())
    else {
        return "portico".to_string();
    };
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("portico"))
            .find(|p| p.is_file())
    });
    match on_path.and_then(|p| std::fs::canonicalize(p).ok()) {
        Some(found) if found == me => "portico".to_string(),
        _ => quote(&me.to_string_lossy()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portico_command_lines_are_recognised() {
        let c = parse_portico_command("/opt/bin/portico -v credentials --profile=dev").unwrap();
        assert_eq!(c.program, "/opt/bin/portico");
        assert_eq!(c.profile.as_deref(), Some("dev"));
        let c = parse_portico_command(
            "portico credentials --account 111122223333 --role Admin --sso-session corp",
        )
        .unwrap();
        assert_eq!(
            (
                c.account.as_deref(),
                c.role.as_deref(),
                c.sso_session.as_deref()
            ),
            (Some("111122223333"), Some("Admin"), Some("corp"))
        );
        assert!(parse_portico_command("aws-vault exec dev --json").is_none());
        assert!(parse_portico_command("portico exec --profile dev -- x").is_none());
        assert!(parse_portico_command("").is_none());
    }

    /// What the writer writes, the reader reads back, spaces and quotes in values included.
    #[test]
    fn written_lines_read_back() {
        let commands = [
            PorticoCommand {
                program: "'/opt/my tools/portico'".into(),
                account: Some("111122223333".into()),
                role: Some("Read Only".into()),
                sso_session: Some("corp".into()),
                ..PorticoCommand::default()
            },
            PorticoCommand {
                program: "portico".into(),
                saml_session: Some("it's".into()),
                role_arn: Some("arn:aws:iam::111122223333:role/Admin".into()),
                ..PorticoCommand::default()
            },
        ];
        assert_eq!(
            commands[0].line(),
            "'/opt/my tools/portico' credentials --account 111122223333 --role 'Read Only' --sso-session corp"
        );
        for cmd in commands {
            let back = parse_portico_command(&cmd.line()).unwrap();
            assert_eq!(
                back,
                PorticoCommand {
                    program: split_command(&cmd.program).remove(0),
                    ..cmd.clone()
                }
            );
        }
    }
}
