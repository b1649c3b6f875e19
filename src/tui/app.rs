//! The TUI's whole state. Only [`super::update`] changes it; the view only reads it.

use time::OffsetDateTime;

use super::action::{Choice, Popup, SessionInfo};
use super::filter::Filter;
use super::form::FirstRunForm;
use super::qr::QrModules;
use super::rows::{ChainedProfile, RecentUse, Row, Rows};
use crate::identity::LoginEvent;
use crate::model::Account;
use crate::saml::SamlRole;

/// Which screen fills the terminal. Overlays (help, the profile-name prompt) sit on top.
#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    /// Several sso-sessions are configured: pick one.
    ChooseSession {
        selected: usize,
    },
    /// None configured: ask for the start URL and region.
    FirstRun(FirstRunForm),
    SigningIn(SignIn),
    /// No token and no sign-in under way; `reason` says why (`sign-in cancelled`).
    SignedOut {
        reason: String,
    },
    /// Waiting for the first account list.
    Loading,
    List,
}

/// A sign-in that waits for the user: its prompt, cleaned for the terminal, and for a device
/// code the QR code of its complete URL, encoded once when the code arrives.
#[derive(Debug, Clone, PartialEq)]
pub struct SignIn {
    pub prompt: LoginEvent,
    pub qr: Option<QrModules>,
}

/// Where keys go on the list screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// Typing filters (the default: open and type). Enter exports; Tab switches to `Keys`.
    Filter,
    /// Letters are actions: `o` console, `s` shell, `p` profile… Any other letter filters.
    Keys,
}

/// The name prompt that `p` opens before writing a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfilePrompt {
    pub choice: Choice,
    pub name: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    Info,
    Error,
}

/// Which sources the list shows (`v` switches when saml-sessions are listed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SourceView {
    #[default]
    All,
    /// The open sso-session's roles only.
    IdentityCenter,
    /// One saml-session's roles only.
    Saml(String),
}

/// The line above the footer: an error stays until the next key, a note for a few seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    pub kind: StatusKind,
    pub text: String,
    pub at: OffsetDateTime,
}

/// How long an informational status note stays up.
pub const STATUS_NOTE_SECONDS: i64 = 5;

/// All of the TUI's state.
#[derive(Debug)]
pub struct App {
    pub(crate) screen: Screen,
    pub(crate) sessions: Vec<SessionInfo>,
    pub(crate) last_session: Option<String>,
    pub(crate) session: Option<SessionInfo>,
    pub(crate) config_path: String,
    pub(crate) now: OffsetDateTime,
    pub(crate) token_expires_at: Option<OffsetDateTime>,
    pub(crate) fetched_at: Option<OffsetDateTime>,
    pub(crate) refreshing: bool,
    pub(crate) progress: Option<(usize, Option<usize>)>,
    pub(crate) loaded: bool,
    pub(crate) rows: Rows,
    /// The open sso-session's accounts, kept to rebuild the rows when the view changes.
    /// Accounts of a listing under way whose roles are not known yet (one row marked loading).
    pub(crate) loading: std::collections::HashSet<String>,
    pub(crate) accounts: Vec<Account>,
    /// Each saml-session's roles, in the order they arrived.
    pub(crate) saml: Vec<(String, Vec<SamlRole>)>,
    /// The chained profiles of the config file, listed in the view of every source.
    pub(crate) chained: Vec<ChainedProfile>,
    pub(crate) view: SourceView,
    pub(crate) recent: Vec<RecentUse>,
    pub(crate) filter: Filter,
    /// Index into the filter's matches.
    pub(crate) selected: usize,
    /// First visible match; the view keeps the selection in sight whatever this says.
    pub(crate) offset: usize,
    pub(crate) width: u16,
    pub(crate) height: u16,
    pub(crate) focus: Focus,
    pub(crate) help: bool,
    pub(crate) prompt: Option<ProfilePrompt>,
    /// Text to copy by hand, over everything else until Esc or Enter.
    pub(crate) popup: Option<Popup>,
    pub(crate) status: Option<StatusLine>,
    /// The account whose roles ⏎ is waiting for (it acts once they arrive).
    pub(crate) awaiting_roles: Option<String>,
    /// Draw in colour; off under NO_COLOR (see [`super::view::colors_wanted`]).
    pub(crate) colors: bool,
}

/// Lines of the list screen that are not list rows: header, filter line, footer.
pub(crate) const LIST_CHROME: u16 = 3;

impl App {
    /// An empty app waiting for `Action::Sessions` (or `SessionSelected`); `now` is the clock
    /// reading that ages and countdowns start from.
    pub fn new(now: OffsetDateTime) -> App {
        App {
            screen: Screen::Loading,
            sessions: Vec::new(),
            last_session: None,
            session: None,
            config_path: "~/.aws/config".into(),
            now,
            token_expires_at: None,
            fetched_at: None,
            refreshing: false,
            progress: None,
            loaded: false,
            rows: Rows::default(),
            accounts: Vec::new(),
            loading: std::collections::HashSet::new(),
            saml: Vec::new(),
            chained: Vec::new(),
            view: SourceView::All,
            recent: Vec::new(),
            filter: Filter::default(),
            selected: 0,
            offset: 0,
            width: 80,
            height: 24,
            focus: Focus::Filter,
            help: false,
            prompt: None,
            popup: None,
            awaiting_roles: None,
            status: None,
            colors: true,
        }
    }

    /// Colours on or off (NO_COLOR); emphasis (bold, reverse, underline) stays either way.
    pub fn set_colors(&mut self, colors: bool) {
        self.colors = colors;
    }

    pub fn screen(&self) -> &Screen {
        &self.screen
    }

    /// The session in use: the caller remembers it as the last one when it is chosen.
    pub fn session(&self) -> Option<&SessionInfo> {
        self.session.as_ref()
    }

    /// The session chosen last (from `Action::Sessions`, then each choice): the caller
    /// stores it so that the next start preselects it.
    pub fn last_session(&self) -> Option<&str> {
        self.last_session.as_deref()
    }

    pub fn focus(&self) -> Focus {
        self.focus
    }

    pub fn help_open(&self) -> bool {
        self.help
    }

    pub fn popup(&self) -> Option<&Popup> {
        self.popup.as_ref()
    }

    pub fn prompt(&self) -> Option<&ProfilePrompt> {
        self.prompt.as_ref()
    }

    pub fn status(&self) -> Option<&StatusLine> {
        self.status.as_ref()
    }

    pub fn query(&self) -> &str {
        self.filter.query()
    }

    pub fn refreshing(&self) -> bool {
        self.refreshing
    }

    /// How many rows match the filter, and how many there are.
    pub fn counts(&self) -> (usize, usize) {
        (self.filter.matches().len(), self.rows.rows.len())
    }

    /// The matching rows, best first.
    pub fn visible_rows(&self) -> impl Iterator<Item = &Row> {
        self.filter
            .matches()
            .iter()
            .map(|&i| &self.rows.rows[i as usize])
    }

    pub(crate) fn selected_row(&self) -> Option<&Row> {
        let i = *self.filter.matches().get(self.selected)?;
        self.rows.rows.get(i as usize)
    }

    /// The account and role under the cursor.
    pub fn selected_choice(&self) -> Option<Choice> {
        self.selected_row().map(|r| Choice {
            account_id: r.account_id.clone(),
            account_name: r.account_name.clone(),
            role: r.role.clone(),
            source: r.source.clone(),
        })
    }

    /// Which sources the list shows.
    pub fn view(&self) -> &SourceView {
        &self.view
    }

    /// Whether there is more than one source to switch between (saml-sessions are listed).
    pub fn has_sources(&self) -> bool {
        !self.saml.is_empty()
    }

    /// The rows of the sources in view: the sso-session's accounts, each saml-session's
    /// roles and the chained profiles, or the roles of one session.
    pub(crate) fn build_rows(&self) -> Rows {
        let all = self.view == SourceView::All;
        let accounts: &[Account] = if all || self.view == SourceView::IdentityCenter {
            &self.accounts
        } else {
            &[]
        };
        let mut rows = Rows::build_listing(accounts, &self.loading, &self.recent);
        for (session, roles) in &self.saml {
            if all || self.view == SourceView::Saml(session.clone()) {
                rows.add_saml(session, roles, &self.recent);
            }
        }
        if all {
            rows.add_chained(&self.chained, &self.recent);
        }
        rows
    }

    /// The next view for `v`: all, the sso-session, each saml-session, all again.
    pub(crate) fn next_view(&self) -> SourceView {
        let mut views = vec![SourceView::All];
        if self.session.is_some() {
            views.push(SourceView::IdentityCenter);
        }
        views.extend(self.saml.iter().map(|(s, _)| SourceView::Saml(s.clone())));
        let at = views.iter().position(|v| *v == self.view).unwrap_or(0);
        views[(at + 1) % views.len()].clone()
    }

    /// Rows of the list that fit on the screen.
    pub(crate) fn list_height(&self) -> usize {
        usize::from(self.height.saturating_sub(LIST_CHROME)).max(1)
    }
}
