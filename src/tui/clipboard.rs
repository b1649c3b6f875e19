//! Getting text (the exports, a console or sign-in link) to the user's clipboard, and saying
//! honestly how it went.
//!
//! A clipboard program of the desktop comes first: `wl-copy` under Wayland, `xclip` or `xsel`
//! under X (also an X forwarded over SSH), `pbcopy` on macOS. The text goes to its stdin,
//! never on its command line (where other users could read it in the process list), and the
//! program runs directly, never through a shell. Without one, the text goes out as OSC 52,
//! which the terminal emulator carries out (also over SSH) — or silently ignores (tmux by
//! default, many terminals): so that is reported as "sent", not "copied", and the caller
//! shows the text in a pop-up as well, where the user can select it.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::terminal::TerminalGuard;

/// How the text left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// A clipboard program took it (its name: `xclip`).
    Program(&'static str),
    /// Sent to the terminal with OSC 52; whether it arrived, nobody can tell.
    Osc52,
}

impl Delivery {
    /// The status-line note: "copied … with xclip" or "sent … with OSC 52; …".
    pub fn note(&self, what: &str) -> String {
        match self {
            Delivery::Program(name) => format!("copied {what} to the clipboard with {name}"),
            Delivery::Osc52 => format!(
                "sent {what} with OSC 52; your terminal may not support it (the text is on screen)"
            ),
        }
    }
}

/// A clipboard program and the arguments that make it read the clipboard's text from stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    pub name: &'static str,
    pub path: PathBuf,
    pub args: &'static [&'static str],
}

/// The programs tried, in order, with the variable that says their display is there.
const PROGRAMS: [(&str, &[&str], Option<&str>); 4] = [
    ("wl-copy", &[], Some("WAYLAND_DISPLAY")),
    (
        "xclip",
        &["-selection", "clipboard", "-in"],
        Some("DISPLAY"),
    ),
    ("xsel", &["--clipboard", "--input"], Some("DISPLAY")),
    ("pbcopy", &[], None),
];

/// How long a clipboard program may take to read the text and hand it on (`xclip` and
/// `wl-copy` fork a child that keeps serving the clipboard; the program itself ends).
const PROGRAM_LIMIT: Duration = Duration::from_secs(3);

/// The clipboard program to use: the first of [`PROGRAMS`] whose display variable is set
/// (not empty) and that `find` locates (on `PATH`).
pub fn program(
    var: impl Fn(&str) -> Option<OsString>,
    find: impl Fn(&str) -> Option<PathBuf>,
) -> Option<Program> {
    PROGRAMS.iter().find_map(|(name, args, display)| {
        let shown = display.is_none_or(|v| var(v).is_some_and(|value| !value.is_empty()));
        if !shown {
            return None;
        }
        find(name).map(|path| Program { name, path, args })
    })
}

/// `name` in a directory of `PATH`, as a file that can be run.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(name))
        .find(|candidate| executable(candidate))
}

#[cfg(unix)]
fn executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn executable(path: &Path) -> bool {
    path.is_file()
}

/// Puts `text` on the clipboard with `program`: the text on its stdin, its output discarded
/// (under `eval "$(portico)"` stdout is a pipe a forked `xclip` would hold open), waited for
/// at most [`PROGRAM_LIMIT`].
pub fn copy_with(program: &Program, text: &str) -> io::Result<()> {
    let mut child = Command::new(&program.path)
        .args(program.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let written = child
        .stdin
        .take()
        .map_or(Ok(()), |mut stdin| stdin.write_all(text.as_bytes()));
    // stdin is closed here (dropped), so the program sees the end of the text.
    let status = wait_bounded(&mut child, PROGRAM_LIMIT)?;
    written?;
    match status {
        Some(status) if status.success() => Ok(()),
        Some(status) => Err(io::Error::other(format!(
            "{} failed ({status})",
            program.name
        ))),
        None => Err(io::Error::other(format!(
            "{} did not finish within {} s",
            program.name,
            PROGRAM_LIMIT.as_secs()
        ))),
    }
}

/// The child's exit status, or `None` (after ending it) when it runs longer than `limit`.
fn wait_bounded(
    child: &mut Child,
    limit: Duration,
) -> io::Result<Option<std::process::ExitStatus>> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Puts `text` on the clipboard: with the desktop's clipboard program where there is one (and
/// it works), else with OSC 52 through the terminal.
pub fn copy(guard: &mut TerminalGuard, text: &str) -> io::Result<Delivery> {
    let found = program(|name| std::env::var_os(name), on_path);
    if let Some(program) = found {
        if copy_with(&program, text).is_ok() {
            return Ok(Delivery::Program(program.name));
        }
    }
    guard.copy_to_clipboard(text)?;
    Ok(Delivery::Osc52)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(set: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| {
            set.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    fn installed(names: &'static [&'static str]) -> impl Fn(&str) -> Option<PathBuf> {
        move |name| {
            names
                .contains(&name)
                .then(|| PathBuf::from("/usr/bin").join(name))
        }
    }

    #[test]
    fn the_program_matches_the_display() {
        let all = &["wl-copy", "xclip", "xsel", "pbcopy"];
        let pick = |set, names| program(vars(set), installed(names)).map(|p| p.name);
        assert_eq!(
            pick(&[("WAYLAND_DISPLAY", "wayland-0")], all),
            Some("wl-copy")
        );
        assert_eq!(pick(&[("DISPLAY", ":0")], all), Some("xclip"));
        assert_eq!(pick(&[("DISPLAY", ":0")], &["xsel"]), Some("xsel"));
        // A display variable that is set but empty is no display.
        assert_eq!(pick(&[("DISPLAY", "")], &["xclip"]), None);
        // Installed but no display to talk to (an SSH session): OSC 52 instead.
        assert_eq!(pick(&[], &["wl-copy", "xclip", "xsel"]), None);
        assert_eq!(pick(&[], &["pbcopy"]), Some("pbcopy"));
        let xclip = program(vars(&[("DISPLAY", ":0")]), installed(all)).unwrap();
        assert_eq!(xclip.path, PathBuf::from("/usr/bin/xclip"));
        assert_eq!(xclip.args, ["-selection", "clipboard", "-in"]);
    }

    #[test]
    fn notes_do_not_claim_what_osc_52_cannot_know() {
        assert_eq!(
            Delivery::Program("xclip").note("the link"),
            "copied the link to the clipboard with xclip"
        );
        let osc = Delivery::Osc52.note("the link");
        assert!(osc.starts_with("sent the link with OSC 52; your terminal may not support it"));
    }
}
