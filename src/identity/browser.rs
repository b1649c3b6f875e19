//! Which browser opens a URL, and opening it without a shell and without waiting for it.
//!
//! The choice comes from a setting (`--browser`, `PORTICO_BROWSER`, `portico_browser` in a
//! profile or sso-session, resolved by `settings`), else `$BROWSER`, else the system's URL
//! opener (the `open` crate: xdg-open, gio, … on Linux; `open` on macOS). A setting is a named
//! preset (`firefox:PROFILE`, `chrome-incognito`, `none`, …) or a command template whose words
//! are split as a POSIX shell splits them (`shlex`) and in which `{url}` (and `{container}`)
//! are replaced word by word, so the URL is always exactly one argument, whatever it holds.
//! Nothing is ever run through a shell.
//!
//! The browser process is never waited for: some browser commands return only when the page is
//! closed, which would deadlock against the loopback callback. Messages about a browser never
//! contain the URL: a console link holds a sign-in token.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::sanitize::for_terminal;
use crate::settings::{BrowserOrigin, BrowserSetting};

/// Whether the browser flow can work on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserAvailability {
    Yes,
    /// No, and why (for the message that explains the switch to the device code).
    No(&'static str),
}

/// Decides from the environment alone (`PORTICO_BROWSER`, `BROWSER`, a graphical session, the
/// platform), as [`Browser::availability`] does for the browser the environment chooses.
pub fn browser_available() -> BrowserAvailability {
    Browser::default().availability()
}

/// Whether a graphical browser can come up here (ignoring any browser setting).
pub(super) fn display_available() -> BrowserAvailability {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if cfg!(any(target_os = "macos", target_os = "windows")) {
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

/// The variable that chooses the browser for every session (below `--browser`).
pub const PORTICO_BROWSER: &str = "PORTICO_BROWSER";

/// The preset names, for help texts and "did you mean" errors.
pub const PRESETS: &str = "firefox[:PROFILE], firefox-private, firefox-container[:NAME], \
chrome[:PROFILE_DIR], chrome-incognito, chromium[:PROFILE_DIR], chromium-incognito, \
edge[:PROFILE_DIR], edge-private, brave[:PROFILE_DIR], brave-private, safari, none";

/// Why a browser setting cannot be used. Never holds the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrowserError {
    #[error("the browser setting {} ({origin}) cannot be split into words ({why}); fix its quotes, or use a preset: {PRESETS}", quoted(value))]
    BadTemplate {
        value: String,
        origin: BrowserOrigin,
        why: &'static str,
    },
    #[error("the browser preset {} ({origin}) needs {browser}, but none of {} was found{}; install it, or choose another browser with --browser or portico_browser", quoted(preset), looked_for.join(", "), path_note())]
    NotInstalled {
        preset: String,
        origin: BrowserOrigin,
        browser: &'static str,
        looked_for: Vec<String>,
    },
    #[error("the browser preset {} ({origin}) works on macOS only; on this system choose another browser with --browser or portico_browser", quoted(preset))]
    MacOnly {
        preset: String,
        origin: BrowserOrigin,
    },
    #[error("the browser command {} ({origin}) was not found{}; fix the setting (a program on PATH, or a full path) or use a preset: {PRESETS}", quoted(program), path_note())]
    ProgramNotFound {
        program: String,
        origin: BrowserOrigin,
    },
    #[error("could not start {} ({origin}): {detail}", for_terminal(program))]
    Spawn {
        program: String,
        origin: BrowserOrigin,
        detail: String,
    },
    #[error("the system's URL opener failed (it tried {}); choose a browser with --browser, PORTICO_BROWSER or portico_browser", system_openers().join(", "))]
    SystemOpener,
    #[error("no URL opener is installed (looked for {} on PATH); install one (xdg-utils), or choose a browser with --browser, PORTICO_BROWSER or portico_browser", system_openers().join(", "))]
    NoSystemOpener,
}

/// A value from a file or the command line, in quotes and cleaned for the terminal.
fn quoted(value: &str) -> String {
    format!("\"{}\"", for_terminal(value))
}

fn path_note() -> &'static str {
    if cfg!(target_os = "macos") {
        " on PATH or in /Applications"
    } else {
        " on PATH"
    }
}

/// A browser family: the programs it is installed as, and its flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Firefox,
    Chrome,
    Chromium,
    Edge,
    Brave,
}

impl Family {
    fn name(self) -> &'static str {
        match self {
            Family::Firefox => "Firefox",
            Family::Chrome => "Google Chrome",
            Family::Chromium => "Chromium",
            Family::Edge => "Microsoft Edge",
            Family::Brave => "Brave",
        }
    }

    /// The program names on PATH (Linux packages' names), then the macOS app bundles' binaries.
    fn candidates(self) -> Vec<String> {
        let (path_names, app): (&[&str], &str) = match self {
            Family::Firefox => (&["firefox"], "Firefox.app/Contents/MacOS/firefox"),
            Family::Chrome => (
                &["google-chrome", "google-chrome-stable"],
                "Google Chrome.app/Contents/MacOS/Google Chrome",
            ),
            Family::Chromium => (
                &["chromium", "chromium-browser"],
                "Chromium.app/Contents/MacOS/Chromium",
            ),
            Family::Edge => (
                &["microsoft-edge", "microsoft-edge-stable"],
                "Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
            ),
            Family::Brave => (
                &["brave-browser", "brave"],
                "Brave Browser.app/Contents/MacOS/Brave Browser",
            ),
        };
        let mut out: Vec<String> = path_names.iter().map(|s| s.to_string()).collect();
        if cfg!(target_os = "macos") {
            out.push(format!("/Applications/{app}"));
        }
        out
    }

    fn find(self) -> Option<PathBuf> {
        self.candidates().iter().find_map(|name| find_program(name))
    }
}

/// A named preset: a browser family and how to open the URL in it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Preset {
    /// The browser's own default profile.
    Plain(Family),
    /// `firefox -P NAME` or `--profile-directory=DIR` for the Chromium family.
    Profile(Family, String),
    /// `--private-window` (Firefox), `--incognito` (Chrome, Chromium, Brave), `--inprivate` (Edge).
    Private(Family),
    /// Firefox with the "Open external links in a container" add-on: `ext+container:` URLs.
    /// `None`: the container is named for what is opened (the sso-session, the role).
    Container(Option<String>),
    Safari,
}

/// How a URL is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// Print the URL; open nothing.
    None,
    /// The system's URL opener.
    System,
    Preset(Preset),
    /// Words of a template; `{url}` and `{container}` are replaced in each word.
    Template(Vec<String>),
    /// `$BROWSER`'s first entry: `%s` is the URL.
    Env(Vec<String>),
}

/// A resolved browser choice: what opens URLs, and where that choice came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Browser {
    kind: Kind,
    origin: BrowserOrigin,
    /// The setting as written, for messages.
    value: String,
}

/// What opening a URL will run. Its `Debug` leaves the arguments out: they hold the URL, and a
/// console link holds a sign-in token.
#[derive(Clone, PartialEq, Eq)]
pub enum Plan {
    /// The setting is `none`: show the URL to the user.
    Print,
    /// The system's URL opener.
    System,
    /// This program with these arguments (the URL among them).
    Run { program: PathBuf, args: Vec<String> },
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Plan::Print => f.write_str("Print"),
            Plan::System => f.write_str("System"),
            Plan::Run { program, args } => f
                .debug_struct("Run")
                .field("program", program)
                .field("args", &format_args!("<{} arguments>", args.len()))
                .finish(),
        }
    }
}

impl Default for Browser {
    /// The choice from the environment alone: `PORTICO_BROWSER`, `BROWSER`, the system.
    fn default() -> Browser {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let setting = match (var(PORTICO_BROWSER), var("BROWSER")) {
            (Some(value), _) => BrowserSetting {
                value: Some(value),
                origin: BrowserOrigin::Variable,
            },
            (None, Some(value)) => BrowserSetting {
                value: Some(value),
                origin: BrowserOrigin::BrowserVariable,
            },
            (None, None) => BrowserSetting {
                value: None,
                origin: BrowserOrigin::SystemDefault,
            },
        };
        Browser::from_setting(&setting).unwrap_or_else(|_| Browser::system())
    }
}

impl Browser {
    /// The system's URL opener.
    pub fn system() -> Browser {
        Browser {
            kind: Kind::System,
            origin: BrowserOrigin::SystemDefault,
            value: String::new(),
        }
    }

    /// Parses a setting. A template that cannot be split (an unclosed quote) is refused here;
    /// whether the program exists is checked by [`Browser::plan`].
    pub fn from_setting(setting: &BrowserSetting) -> Result<Browser, BrowserError> {
        let origin = setting.origin.clone();
        let Some(value) = setting.value.as_deref().map(str::trim) else {
            return Ok(Browser::system());
        };
        let browser = |kind| Browser {
            kind,
            origin: origin.clone(),
            value: value.to_string(),
        };
        let words = |value: &str| -> Result<Vec<String>, BrowserError> {
            match shlex::split(value) {
                Some(words) if !words.is_empty() => Ok(words),
                Some(_) => Err(BrowserError::BadTemplate {
                    value: value.to_string(),
                    origin: origin.clone(),
                    why: "it is empty",
                }),
                None => Err(BrowserError::BadTemplate {
                    value: value.to_string(),
                    origin: origin.clone(),
                    why: "a quote is not closed",
                }),
            }
        };
        if origin == BrowserOrigin::BrowserVariable {
            // `$BROWSER` is a `:`-separated list of commands; the first is used.
            let first = value.split(':').next().unwrap_or_default();
            return Ok(browser(Kind::Env(words(first)?)));
        }
        if let Some(preset) = parse_preset(value) {
            return Ok(browser(preset));
        }
        Ok(browser(Kind::Template(words(value)?)))
    }

    /// Where the choice came from.
    pub fn origin(&self) -> &BrowserOrigin {
        &self.origin
    }

    /// Whether this choice is `none` (print the URL, open nothing).
    pub fn is_none(&self) -> bool {
        self.kind == Kind::None
    }

    /// Whether a URL can be opened here: `none` cannot; a preset needs a graphical display;
    /// the system opener needs one too (or `BROWSER`); a command the user wrote is trusted.
    pub fn availability(&self) -> BrowserAvailability {
        match &self.kind {
            Kind::None => BrowserAvailability::No("the browser setting is none"),
            Kind::System => display_available(),
            Kind::Preset(_) => match display_available() {
                BrowserAvailability::Yes => BrowserAvailability::Yes,
                BrowserAvailability::No(_) => BrowserAvailability::No(
                    "there is no graphical display here for the browser preset",
                ),
            },
            Kind::Template(_) | Kind::Env(_) => BrowserAvailability::Yes,
        }
    }

    /// How messages name this browser: which program, profile, container or private window,
    /// and where the choice came from (`firefox with profile "work" (portico_browser of
    /// [sso-session corp])`).
    pub fn describe(&self, container: &str) -> String {
        let what = match &self.kind {
            Kind::None => "no browser (the browser setting is none)".to_string(),
            Kind::System => return "the default browser".to_string(),
            Kind::Env(words) => format!("$BROWSER ({})", for_terminal(&words[0])),
            Kind::Template(words) => for_terminal(&words[0]),
            Kind::Preset(preset) => match preset {
                Preset::Plain(f) => f.name().to_string(),
                Preset::Profile(Family::Firefox, p) => {
                    format!("Firefox with profile {}", quoted(p))
                }
                Preset::Profile(f, p) => {
                    format!("{} with profile directory {}", f.name(), quoted(p))
                }
                Preset::Private(Family::Firefox) => "Firefox in a private window".to_string(),
                Preset::Private(Family::Edge) => {
                    "Microsoft Edge in an InPrivate window".to_string()
                }
                Preset::Private(f) => format!("{} in an incognito window", f.name()),
                Preset::Container(name) => format!(
                    "Firefox in container {}",
                    quoted(name.as_deref().unwrap_or(container))
                ),
                Preset::Safari => "Safari".to_string(),
            },
        };
        match &self.origin {
            BrowserOrigin::BrowserVariable => what,
            origin => format!("{what} ({origin})"),
        }
    }

    /// The command that would open `url`, checked up front: a preset's program must be
    /// installed, a template's program must exist. `container` names the Firefox container
    /// for `firefox-container` without a name and for `{container}` in a template.
    pub fn plan(&self, url: &str, container: &str) -> Result<Plan, BrowserError> {
        match &self.kind {
            Kind::None => Ok(Plan::Print),
            Kind::System => Ok(Plan::System),
            Kind::Env(words) => {
                let (program, rest) = words.split_first().expect("split gives a word");
                let mut args: Vec<String> = rest.to_vec();
                if args.iter().any(|a| a.contains("%s")) {
                    for a in &mut args {
                        *a = a.replace("%s", url);
                    }
                } else {
                    args.push(url.to_string());
                }
                Ok(Plan::Run {
                    program: self.locate(program)?,
                    args,
                })
            }
            Kind::Template(words) => {
                let (program, rest) = words.split_first().expect("split gives a word");
                let has_url = rest.iter().any(|w| w.contains("{url}"));
                let mut args: Vec<String> = rest
                    .iter()
                    .map(|w| w.replace("{container}", container).replace("{url}", url))
                    .collect();
                if !has_url {
                    args.push(url.to_string());
                }
                Ok(Plan::Run {
                    program: self.locate(program)?,
                    args,
                })
            }
            Kind::Preset(preset) => self.plan_preset(preset, url, container),
        }
    }

    fn plan_preset(
        &self,
        preset: &Preset,
        url: &str,
        container: &str,
    ) -> Result<Plan, BrowserError> {
        let family = match preset {
            Preset::Safari => {
                if !cfg!(target_os = "macos") {
                    return Err(BrowserError::MacOnly {
                        preset: self.value.clone(),
                        origin: self.origin.clone(),
                    });
                }
                return Ok(Plan::Run {
                    program: PathBuf::from("/usr/bin/open"),
                    args: vec!["-a".into(), "Safari".into(), url.into()],
                });
            }
            Preset::Plain(f) | Preset::Profile(f, _) | Preset::Private(f) => *f,
            Preset::Container(_) => Family::Firefox,
        };
        let program = family.find().ok_or_else(|| BrowserError::NotInstalled {
            preset: self.value.clone(),
            origin: self.origin.clone(),
            browser: family.name(),
            looked_for: family.candidates(),
        })?;
        let args: Vec<String> = match preset {
            Preset::Plain(Family::Firefox) => vec!["--new-tab".into(), url.into()],
            Preset::Plain(_) => vec![url.into()],
            Preset::Profile(Family::Firefox, profile) => {
                vec!["-P".into(), profile.clone(), "--new-tab".into(), url.into()]
            }
            Preset::Profile(_, dir) => vec![format!("--profile-directory={dir}"), url.into()],
            Preset::Private(Family::Firefox) => vec!["--private-window".into(), url.into()],
            Preset::Private(Family::Edge) => vec!["--inprivate".into(), url.into()],
            Preset::Private(_) => vec!["--incognito".into(), url.into()],
            Preset::Container(name) => vec![
                "--new-tab".into(),
                container_url(name.as_deref().unwrap_or(container), url),
            ],
            Preset::Safari => unreachable!("handled above"),
        };
        Ok(Plan::Run { program, args })
    }

    fn locate(&self, program: &str) -> Result<PathBuf, BrowserError> {
        find_program(program).ok_or_else(|| BrowserError::ProgramNotFound {
            program: program.to_string(),
            origin: self.origin.clone(),
        })
    }

    /// Opens `url` and returns at once, with [`Browser::describe`]'s text for the message the
    /// user sees. `Ok(None)` for `none`: the caller shows the URL.
    pub fn open(&self, url: &str, container: &str) -> Result<Option<String>, BrowserError> {
        match self.plan(url, container)? {
            Plan::Print => Ok(None),
            Plan::System => {
                // The open crate's error names the launcher and the URL: never show it.
                open::that_detached(url).map_err(|_| BrowserError::SystemOpener)?;
                Ok(Some(self.describe(container)))
            }
            Plan::Run { program, args } => {
                spawn_detached(&program, &args).map_err(|e| BrowserError::Spawn {
                    program: program.display().to_string(),
                    origin: self.origin.clone(),
                    detail: e.kind().to_string(),
                })?;
                Ok(Some(self.describe(container)))
            }
        }
    }

    /// The command line that would run, with `URL` in place of the URL, quoted as a shell
    /// would need it (for `doctor`); or what is wrong with the setting.
    pub fn command_line(&self, container: &str) -> Result<String, BrowserError> {
        Ok(match self.plan("URL", container)? {
            Plan::Print => "none (the URL is printed; nothing is opened)".to_string(),
            Plan::System if cfg!(any(target_os = "macos", windows)) => {
                format!("the system's URL opener ({} URL)", system_openers()[0])
            }
            Plan::System => match system_openers().iter().find(|p| find_program(p).is_some()) {
                Some(found) => format!("the system's URL opener ({found} URL)"),
                None => return Err(BrowserError::NoSystemOpener),
            },
            Plan::Run { program, args } => {
                let program = program.display().to_string();
                let words =
                    std::iter::once(program.as_str()).chain(args.iter().map(String::as_str));
                shlex::try_join(words).unwrap_or_else(|_| "(a command with a NUL byte)".into())
            }
        })
    }
}

/// `firefox-container:NAME`, `chrome:Profile 1`, `none`, … The text before the first `:`
/// decides; anything that is not a preset is a command template.
fn parse_preset(value: &str) -> Option<Kind> {
    let (head, arg) = match value.split_once(':') {
        Some((head, arg)) => (head, Some(arg.trim()).filter(|a| !a.is_empty())),
        None => (value, None),
    };
    let family = |name: &str| match name {
        "firefox" => Some(Family::Firefox),
        "chrome" => Some(Family::Chrome),
        "chromium" => Some(Family::Chromium),
        "edge" => Some(Family::Edge),
        "brave" => Some(Family::Brave),
        _ => None,
    };
    let preset = match (head, arg) {
        ("none", None) => return Some(Kind::None),
        ("safari", None) => Preset::Safari,
        ("firefox-private", None) => Preset::Private(Family::Firefox),
        ("chrome-incognito", None) => Preset::Private(Family::Chrome),
        ("chromium-incognito", None) => Preset::Private(Family::Chromium),
        ("edge-private" | "edge-inprivate", None) => Preset::Private(Family::Edge),
        ("brave-private" | "brave-incognito", None) => Preset::Private(Family::Brave),
        ("firefox-container", name) => Preset::Container(name.map(String::from)),
        (name, None) => Preset::Plain(family(name)?),
        (name, Some(profile)) => Preset::Profile(family(name)?, profile.to_string()),
    };
    Some(Kind::Preset(preset))
}

/// `ext+container:name=NAME&url=URL`, both values percent-encoded so that a `&` or `#` in the
/// URL stays inside it.
fn container_url(name: &str, url: &str) -> String {
    let encode = |s: &str| {
        url::form_urlencoded::byte_serialize(s.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    format!("ext+container:name={}&url={}", encode(name), encode(url))
}

/// The launchers the `open` crate tries, for messages.
fn system_openers() -> Vec<String> {
    if cfg!(target_os = "macos") {
        vec!["open".into()]
    } else if cfg!(windows) {
        vec!["cmd /c start".into()]
    } else {
        ["xdg-open", "gio", "gnome-open", "kde-open"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }
}

/// `name` as a path if it has a `/`, else the first executable file of that name on `PATH`.
pub fn find_program(name: &str) -> Option<PathBuf> {
    if name.contains(std::path::MAIN_SEPARATOR) || name.contains('/') {
        let path = PathBuf::from(name);
        return is_executable(&path).then_some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// Starts `program` with `args` (no shell) and reaps it whenever it exits, without waiting.
fn spawn_detached(program: &Path, args: &[String]) -> std::io::Result<()> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(value: &str) -> BrowserSetting {
        BrowserSetting {
            value: Some(value.to_string()),
            origin: BrowserOrigin::Flag,
        }
    }

    #[test]
    fn presets_are_recognised_and_everything_else_is_a_template() {
        let kind = |v: &str| Browser::from_setting(&setting(v)).unwrap().kind;
        assert_eq!(kind("none"), Kind::None);
        assert_eq!(
            kind("firefox:work"),
            Kind::Preset(Preset::Profile(Family::Firefox, "work".into()))
        );
        assert_eq!(
            kind("chrome:Profile 1"),
            Kind::Preset(Preset::Profile(Family::Chrome, "Profile 1".into()))
        );
        assert_eq!(
            kind("firefox-container"),
            Kind::Preset(Preset::Container(None))
        );
        assert_eq!(
            kind("firefox-container:Work"),
            Kind::Preset(Preset::Container(Some("Work".into())))
        );
        assert_eq!(
            kind("edge-private"),
            Kind::Preset(Preset::Private(Family::Edge))
        );
        assert_eq!(
            kind("firefox -P 'my work' --new-tab {url}"),
            Kind::Template(vec![
                "firefox".into(),
                "-P".into(),
                "my work".into(),
                "--new-tab".into(),
                "{url}".into()
            ])
        );
        assert_eq!(
            kind("qutebrowser"),
            Kind::Template(vec!["qutebrowser".into()])
        );
        let err = Browser::from_setting(&setting("firefox -P 'work")).unwrap_err();
        assert!(err.to_string().contains("a quote is not closed"), "{err}");
        assert!(err.to_string().contains("(--browser)"), "{err}");
    }

    #[test]
    fn descriptions_name_the_browser_profile_and_origin() {
        let describe = |v: &str, origin: BrowserOrigin| {
            Browser::from_setting(&BrowserSetting {
                value: Some(v.into()),
                origin,
            })
            .unwrap()
            .describe("corp")
        };
        assert_eq!(
            describe("firefox:work", BrowserOrigin::SsoSession("corp".into())),
            "Firefox with profile \"work\" (portico_browser of [sso-session corp])"
        );
        assert_eq!(
            describe("chrome:Profile 1", BrowserOrigin::Profile("dev".into())),
            "Google Chrome with profile directory \"Profile 1\" (portico_browser of [profile dev])"
        );
        assert_eq!(
            describe("firefox-container", BrowserOrigin::Variable),
            "Firefox in container \"corp\" (PORTICO_BROWSER)"
        );
        assert_eq!(
            describe("edge-private", BrowserOrigin::Flag),
            "Microsoft Edge in an InPrivate window (--browser)"
        );
        assert_eq!(
            describe("x-www-browser %s", BrowserOrigin::BrowserVariable),
            "$BROWSER (x-www-browser)"
        );
        // Control characters from the file do not reach the terminal.
        assert!(!describe("firefox:a\u{1b}[2J", BrowserOrigin::Flag).contains('\u{1b}'));
        assert_eq!(Browser::system().describe("corp"), "the default browser");
    }

    #[test]
    fn plan_debug_leaves_the_url_out() {
        let plan = Plan::Run {
            program: PathBuf::from("/usr/bin/firefox"),
            args: vec!["https://x/federation?SigninToken=secret".into()],
        };
        let text = format!("{plan:?}");
        assert!(
            !text.contains("secret") && text.contains("1 arguments"),
            "{text}"
        );
    }

    #[test]
    fn container_urls_keep_the_url_in_one_value() {
        assert_eq!(
            container_url("dev admin", "https://x/y?a=1&b=2#f"),
            "ext+container:name=dev%20admin&url=https%3A%2F%2Fx%2Fy%3Fa%3D1%26b%3D2%23f"
        );
    }

    #[test]
    fn template_substitutes_word_by_word_and_appends_without_url() {
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("opener");
        std::fs::write(&program, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let p = program.display().to_string();
        let url = "https://a/b?x=1&y='2' ;$(id)";
        let b = Browser::from_setting(&setting(&format!("'{p}' --c={{container}} \"{{url}}\"")))
            .unwrap();
        assert_eq!(
            b.plan(url, "dev").unwrap(),
            Plan::Run {
                program: program.clone(),
                args: vec!["--c=dev".into(), url.into()]
            }
        );
        let b = Browser::from_setting(&setting(&format!("'{p}' --new"))).unwrap();
        assert_eq!(
            b.plan(url, "dev").unwrap(),
            Plan::Run {
                program: program.clone(),
                args: vec!["--new".into(), url.into()]
            }
        );
        let b = Browser::from_setting(&setting("/nonexistent/browser {url}")).unwrap();
        let err = b.plan(url, "dev").unwrap_err().to_string();
        assert!(
            err.contains("\"/nonexistent/browser\" (--browser) was not found"),
            "{err}"
        );
        assert!(!err.contains("https://a"), "no URL in errors: {err}");
    }
}
