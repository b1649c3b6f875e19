//! What can happen to the TUI (`Action`) and what the TUI asks its caller to do (`Effect`).
//!
//! Actions come from two places: the keyboard and mouse (through [`super::keys::action_for`])
//! and the caller's own work (sign-in, listing accounts, the clock), which reports back as
//! actions too. Effects are requests the pure [`super::update`] cannot carry out itself: it
//! does no I/O, so printing, opening a browser, writing `~/.aws/config` and the network are
//! the caller's, and their results come back as actions.

use time::OffsetDateTime;

use crate::model::Account;

use super::rows::{ChainedProfile, RecentUse, Source};
use crate::identity::LoginEvent;
use crate::saml::SamlRole;

/// An sso-session the user can sign in to, as configured in `~/.aws/config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub name: String,
    pub start_url: String,
    pub region: String,
}

/// The account and role an effect is about (the selected row). Names are the cleaned
/// display text; account ids and role names never contain control characters in AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub account_id: String,
    pub account_name: String,
    pub role: String,
    /// The open sso-session's, a saml-session's role, or a chained profile's.
    pub source: Source,
}

/// Text the user may need to copy by hand (exports, a console or sign-in link), shown over
/// the screen until Esc or Enter: the clipboard may not have received it (OSC 52 where the
/// terminal ignores it), and a link lost there is lost for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Popup {
    /// What the text is (`Console link for Admin in prod (valid 15 min)`).
    pub title: String,
    /// How the clipboard was tried (`copied … with xclip`, `sent … with OSC 52; …`).
    pub note: String,
    pub text: String,
}

/// Where sign-in has got to, as the controller's login task reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginState {
    /// A sign-in waits for the user: the browser flow's page, or a device code to enter (see
    /// [`LoginEvent`], the one description of a sign-in prompt).
    Waiting(LoginEvent),
    /// A token is in hand (fresh, refreshed or cached) and is good until `expires_at`.
    SignedIn { expires_at: OffsetDateTime },
    /// There is no usable token and no sign-in under way (after logout, or a refused refresh).
    SignedOut,
}

/// Everything that changes the TUI's state. One enum, so that `update` is the single place
/// where state changes and every change can be unit-tested without a terminal.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    // ---- from the caller ----
    /// The sso-sessions in the config file, the one used last time (if the caller remembers
    /// one) and the config file's path (shown by the first-run form). None configured opens
    /// the first-run form; one is chosen at once; several open the session choice.
    Sessions {
        sessions: Vec<SessionInfo>,
        last: Option<String>,
        config_path: String,
    },
    /// The caller settled the session itself (a flag, or the first-run form was written).
    SessionSelected(SessionInfo),
    LoginState(LoginState),
    /// Listing progress while there is no list to show yet.
    Progress {
        accounts_done: usize,
        accounts_total: Option<usize>,
    },
    /// Accounts from the cache or a fresh listing, and when they were fetched from the portal.
    AccountsLoaded {
        accounts: Vec<Account>,
        fetched_at: OffsetDateTime,
    },
    /// The IAM roles of a saml-session's last assertion: listed beside the Identity Center
    /// roles, marked `SAML NAME`.
    SamlRoles {
        session: String,
        roles: Vec<SamlRole>,
    },
    /// The chained profiles of the config file (read through the engine's chain reading):
    /// listed beside their sources' roles, marked `PROFILE via SOURCE`.
    ChainedRoles(Vec<ChainedProfile>),
    /// A listing under way: every account listed so far, those in `loading` with their roles
    /// not known yet (shown as one row marked loading).
    AccountsListed {
        accounts: Vec<Account>,
        loading: Vec<String>,
    },
    /// Roles used recently (from the role-credential cache or a history file): they get a
    /// mark, come first in the unfiltered list and break ties between equal fuzzy scores.
    RecentUses(Vec<RecentUse>),
    /// A background refresh of the account list has begun.
    RefreshStarted,
    /// The role credentials an effect (exports, copy, shell, console) waited for were
    /// fetched in the background: the effect is asked for again, unless the user has left
    /// the list since.
    CredentialsReady(Effect),
    /// A short note for the status line (`copied exports to the clipboard`).
    Status(String),
    /// Show text to select and copy by hand, over the screen (see [`Popup`]).
    ShowPopup(Popup),
    /// Something failed; shown in the status line until the next key.
    Error(String),
    /// The clock moved: the header's ages and countdowns are computed from this `now`.
    Tick(OffsetDateTime),
    /// The terminal's size, needed for page up/down.
    Resize {
        width: u16,
        height: u16,
    },

    // ---- from the keyboard and mouse ----
    /// A typed character: into the filter, a form field or the profile-name prompt.
    Input(char),
    /// Pasted text (bracketed paste); line breaks and control characters are dropped.
    Paste(String),
    Backspace,
    /// Ctrl-W: delete the last word of the input.
    DeleteWord,
    /// Ctrl-U: clear the input.
    ClearInput,
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    /// Mouse wheel: moves the list by a few rows.
    ScrollUp,
    ScrollDown,
    /// Tab / Shift-Tab: next or previous form field; on the list, between the filter and
    /// the action keys.
    FocusNext,
    FocusPrev,
    /// `/`: back to typing into the filter.
    FocusFilter,
    /// Enter: print exports on the list, pick a session, submit or confirm a form.
    Accept,
    /// Esc: close what is open, cancel a sign-in, clear the filter, and at last quit.
    Back,
    /// `o`: open the AWS console for the selected role.
    Console,
    /// `s`: a subshell with the selected role's credentials.
    Shell,
    /// `c`: copy the exports (on the sign-in screens: copy the URL).
    Copy,
    /// `p`: ask for a profile name, then write a profile for the selected role.
    SaveProfile,
    /// `r`: refresh the account list.
    Refresh,
    /// `L`: log out of the session.
    Logout,
    /// `v` (with saml-sessions listed): show every source, then the sso-session's roles
    /// only, then each saml-session's, then every source again.
    SwitchSource,
    /// `d` on a sign-in screen: use the device code instead of the browser.
    DeviceCode,
    /// `?` / F1: the help overlay.
    Help,
    /// `q` (and Esc at the top): leave without output; a deliberate quit, so the caller
    /// exits 0, quietly.
    Quit,
    /// Ctrl-C, SIGINT, SIGTERM, SIGHUP: leave without output; the caller exits 130.
    Interrupt,
}

impl Action {
    /// Whether the action is the user's own doing (a key or the mouse): such actions clear
    /// the status line, so an old error does not linger over new work.
    pub fn is_user(&self) -> bool {
        !matches!(
            self,
            Action::Sessions { .. }
                | Action::SessionSelected(_)
                | Action::LoginState(_)
                | Action::Progress { .. }
                | Action::AccountsLoaded { .. }
                | Action::AccountsListed { .. }
                | Action::RecentUses(_)
                | Action::SamlRoles { .. }
                | Action::ChainedRoles(_)
                | Action::RefreshStarted
                | Action::CredentialsReady(_)
                | Action::Status(_)
                | Action::ShowPopup(_)
                | Action::Error(_)
                | Action::Tick(_)
                | Action::Resize { .. }
        )
    }
}

/// Work that `update` asks the caller to do. Results come back as [`Action`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Use this session (remember it as the last one), then load its token and accounts.
    SessionChosen(SessionInfo),
    /// Add this `[sso-session]` to the config file (the user has seen and confirmed the
    /// lines); answer with `SessionSelected` or `Error`.
    WriteSessionConfig(SessionInfo),
    /// Sign in: PKCE in the browser, or the device code.
    StartLogin {
        device_code: bool,
    },
    /// Stop waiting for the browser or the device code.
    CancelLogin,
    /// Print shell exports for the calling shell on stdout and exit.
    PrintExports(Choice),
    OpenConsole(Choice),
    /// Copy shell exports to the clipboard (OSC 52, which works over SSH too).
    CopyExports(Choice),
    /// Copy a piece of text (the sign-in URL) to the clipboard.
    CopyText(String),
    /// Suspend the TUI, run `$SHELL` with the role's credentials, resume.
    Subshell(Choice),
    /// Write `[profile name]` for this role into the config file.
    SaveProfile {
        choice: Choice,
        name: String,
    },
    /// List the accounts again in the background (`RefreshStarted`, then `AccountsLoaded`).
    Refresh,
    /// ⏎ on an account whose roles are still loading: list that account's roles first. The
    /// app acts once they arrive (in `AccountsListed` or `AccountsLoaded`).
    FetchRoles(String),
    /// The filter changed while roles are loading: list the roles of the accounts it matches
    /// first, then of those on screen.
    Prioritise {
        matching: Vec<String>,
        visible: Vec<String>,
    },
    Logout,
    /// The copy pop-up was closed: the caller gives the mouse back to the TUI (it was the
    /// terminal's while the pop-up was up, so that a plain drag selects its text).
    PopupClosed,
    /// Leave without output: the user quit (exit 0).
    Quit,
    /// Leave without output: interrupted by Ctrl-C or a signal (exit 130).
    Interrupted,
}
