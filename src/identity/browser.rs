//! Whether a browser can be opened here, and opening one without waiting for it.
//!
//! `$BROWSER` is honoured by hand (the `open` crate ignores it): its first `:`-separated entry
//! is run with the URL (in place of `%s`, or appended). The browser process is never waited
//! for: some browser commands return only when the page is closed, which would deadlock
//! against the loopback callback.

use std::process::{Command, Stdio};

/// Whether the browser flow can work on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserAvailability {
    Yes,
    /// No, and why (for the message that explains the switch to the device code).
    No(&'static str),
}

/// Decides from the environment: `$BROWSER`, a graphical session, or the platform.
pub fn browser_available() -> BrowserAvailability {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if set("BROWSER") || cfg!(any(target_os = "macos", target_os = "windows")) {
        return BrowserAvailability::Yes;
    }
    if set("DISPLAY") || set("WAYLAND_DISPLAY") {
        return BrowserAvailability::Yes;
    }
    if set("SSH_CONNECTION") || set("SSH_TTY") {
        return BrowserAvailability::No("this is an SSH session without a display");
    }
    if std::path::Path::new("/.dockerenv").exists() || set("container") {
        return BrowserAvailability::No("this looks like a container without a display");
    }
    BrowserAvailability::No("there is no graphical display (DISPLAY and WAYLAND_DISPLAY are unset) and BROWSER is not set")
}

/// Opens `url` in the user's browser and returns at once. Returns a description of what was
/// asked to open it, for the message the user sees.
pub fn open(url: &str) -> std::io::Result<String> {
    if let Some(browser) = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
    {
        let entry = browser
            .split(':')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        let mut words = entry.split_whitespace().map(String::from);
        let program = words
            .next()
            .ok_or_else(|| std::io::Error::other("BROWSER is empty"))?;
        let mut args: Vec<String> = words.collect();
        if args.iter().any(|a| a.contains("%s")) {
            for a in &mut args {
                *a = a.replace("%s", url);
            }
        } else {
            args.push(url.to_string());
        }
        let mut child = Command::new(&program)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        // Reap it whenever it exits, without making the login wait for it.
        std::thread::spawn(move || {
            let _ = child.wait();
        });
        return Ok(format!("$BROWSER ({program})"));
    }
    open::that_detached(url)?;
    Ok("the default browser".to_string())
}
