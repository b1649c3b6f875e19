//! `portico init SHELL`: a shell function that opens the portal and applies the credentials
//! of the role picked to the shell it runs in. A child process cannot change its parent's
//! environment, so the portal prints shell code on stdout and the function evaluates it —
//! only when the portal printed some (a quit with q or Esc exits 0 and prints nothing), so
//! leaving the portal leaves the shell as it was.

use std::io::Write;

use crate::cli::{InitArgs, InitShell};
use crate::exit::Exit;

pub fn run(args: &InitArgs) -> anyhow::Result<Exit> {
    if !valid_name(&args.name) {
        eprintln!(
            "portico: error: {} cannot be a function name: use letters, digits, '_' and '-' (not first)",
            crate::sanitize::quoted(&args.name)
        );
        return Ok(Exit::Usage);
    }
    let shell = match args.shell {
        Some(shell) => shell,
        None => {
            let from_env = std::env::var("SHELL").ok().filter(|s| !s.is_empty());
            match shell_named(from_env.as_deref(), cfg!(windows)) {
                Some(shell) => shell,
                None => {
                    let named = match &from_env {
                        Some(s) => format!("$SHELL is {}", crate::sanitize::for_terminal(s)),
                        None => "$SHELL is not set".to_string(),
                    };
                    eprintln!(
                        "portico: error: {named}, which is not a shell portico init knows; name yours: portico init bash|zsh|fish|powershell"
                    );
                    return Ok(Exit::Usage);
                }
            }
        }
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(snippet(shell, &args.name).as_bytes())?;
    stdout.flush()?;
    Ok(Exit::Ok)
}

/// The shell `$SHELL` names (`/usr/bin/fish`, `/bin/zsh`, `pwsh.exe`); with none set, Windows
/// means PowerShell. `None` for a shell without a function here (tcsh, nu…).
fn shell_named(shell: Option<&str>, windows: bool) -> Option<InitShell> {
    let Some(path) = shell else {
        return windows.then_some(InitShell::Powershell);
    };
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let name = name.trim_end_matches(".exe").to_ascii_lowercase();
    match name.as_str() {
        "bash" | "sh" => Some(InitShell::Bash),
        "zsh" => Some(InitShell::Zsh),
        "fish" => Some(InitShell::Fish),
        "pwsh" | "powershell" => Some(InitShell::Powershell),
        _ => None,
    }
}

/// Names every supported shell accepts for a function.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The function for `shell`, named `name`. The format is pinned to the shell the function is
/// for, so a fish started from a bash login (`$SHELL` = bash) still gets fish code.
pub fn snippet(shell: InitShell, name: &str) -> String {
    match shell {
        InitShell::Bash | InitShell::Zsh => format!(
            r#"# portico: `{name}` opens the portal; Enter applies the chosen role's credentials
# to this shell. Arguments go to the portal ({name} --sso-session corp).
{name}() {{
    local portico_exports
    portico_exports="$(command portico --format env "$@")" || return $?
    eval "$portico_exports"
}}
"#
        ),
        InitShell::Fish => format!(
            r#"# portico: `{name}` opens the portal; Enter applies the chosen role's credentials
# to this shell. Arguments go to the portal ({name} --sso-session corp).
function {name} --description 'portico: pick an AWS account and role for this shell'
    set -l portico_exports (command portico --format fish $argv)
    or return $status
    string join \n -- $portico_exports | source
end
"#
        ),
        InitShell::Powershell => format!(
            r#"# portico: `{name}` opens the portal; Enter applies the chosen role's credentials
# to this shell. Arguments go to the portal ({name} --sso-session corp).
function {name} {{
    $portico = Get-Command -Name portico -CommandType Application | Select-Object -First 1
    $exports = & $portico --format powershell @args
    if ($LASTEXITCODE -ne 0 -or -not $exports) {{ return }}
    $exports | Out-String | Invoke-Expression
}}
"#
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(valid_name("pt"));
        assert!(valid_name("aws_pick-2"));
        assert!(!valid_name(""));
        assert!(!valid_name("2pt"));
        assert!(!valid_name("pt;rm"));
        assert!(!valid_name("p t"));
    }

    #[test]
    fn the_shell_comes_from_its_path() {
        assert_eq!(shell_named(Some("/bin/bash"), false), Some(InitShell::Bash));
        assert_eq!(
            shell_named(Some("/usr/bin/zsh"), false),
            Some(InitShell::Zsh)
        );
        assert_eq!(
            shell_named(Some("/opt/homebrew/bin/fish"), false),
            Some(InitShell::Fish)
        );
        assert_eq!(
            shell_named(Some("C:\\Program Files\\PowerShell\\7\\pwsh.exe"), true),
            Some(InitShell::Powershell)
        );
        assert_eq!(shell_named(Some("/bin/tcsh"), false), None);
        assert_eq!(shell_named(None, false), None);
        assert_eq!(shell_named(None, true), Some(InitShell::Powershell));
    }

    #[test]
    fn each_shell_gets_its_own_format() {
        assert!(snippet(InitShell::Bash, "pt").contains("--format env"));
        assert!(snippet(InitShell::Zsh, "pt").starts_with("# portico"));
        assert!(snippet(InitShell::Fish, "pt").contains("--format fish"));
        assert!(snippet(InitShell::Powershell, "pt").contains("--format powershell"));
        // A quit exits 0 with nothing printed: PowerShell must not evaluate the empty output.
        assert!(snippet(InitShell::Powershell, "pt").contains("-not $exports) { return }"));
        assert!(snippet(InitShell::Bash, "aws_pick").contains("aws_pick() {"));
    }
}
