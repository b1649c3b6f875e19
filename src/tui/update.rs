//! `update`: the only place the TUI's state changes. No I/O: work for the outside world is
//! returned as an [`Effect`], and its results come back as [`Action`]s.

use super::action::{Action, Choice, Effect, LoginState, Popup};
use super::app::{
    App, Focus, ProfilePrompt, Screen, SignIn, SourceView, StatusKind, StatusLine,
    STATUS_NOTE_SECONDS,
};
use super::form::{Field, FirstRunForm, Step};
use super::qr::QrModules;
use super::rows::Source;
use crate::awsconfig::names::{check_name, default_profile_name};
use crate::identity::LoginEvent;
use crate::sanitize::for_terminal;

/// Rows the mouse wheel moves per notch.
const WHEEL_ROWS: usize = 3;

/// Applies `action` to `app`, returning the work the caller has to do, if any.
pub fn update(app: &mut App, action: Action) -> Option<Effect> {
    if action.is_user() {
        app.status = None;
    }
    match action {
        Action::Sessions {
            sessions,
            last,
            config_path,
        } => {
            app.config_path = config_path;
            app.sessions = sessions;
            app.last_session = last;
            match app.sessions.len() {
                0 => {
                    app.screen = Screen::FirstRun(FirstRunForm::default());
                    None
                }
                1 => Some(choose_session(app, 0)),
                _ => {
                    let selected = app
                        .last_session
                        .as_ref()
                        .and_then(|l| app.sessions.iter().position(|s| &s.name == l))
                        .unwrap_or(0);
                    app.screen = Screen::ChooseSession { selected };
                    None
                }
            }
        }
        Action::SessionSelected(session) => {
            app.session = Some(session);
            app.screen = after_sign_in(app);
            None
        }
        Action::LoginState(state) => {
            login_state(app, state);
            None
        }
        Action::Progress {
            accounts_done,
            accounts_total,
        } => {
            app.progress = Some((accounts_done, accounts_total));
            None
        }
        Action::AccountsLoaded {
            accounts,
            fetched_at,
        } => {
            let keep = keep_selection(app);
            app.accounts = accounts;
            app.loading.clear();
            app.rows = app.build_rows();
            app.filter.set_rows(&app.rows.rows);
            restore_selection(app, keep);
            app.fetched_at = Some(fetched_at);
            app.refreshing = false;
            app.loaded = true;
            app.progress = None;
            if app.screen == Screen::Loading {
                app.screen = Screen::List;
            }
            roles_arrived(app)
        }
        Action::AccountsListed { accounts, loading } => {
            let keep = keep_selection(app);
            app.accounts = accounts;
            app.loading = loading.into_iter().collect();
            app.rows = app.build_rows();
            app.filter.set_rows(&app.rows.rows);
            restore_selection(app, keep);
            app.loaded = true;
            if app.screen == Screen::Loading {
                app.screen = Screen::List;
            }
            // New accounts may match the filter typed before they were listed.
            roles_arrived(app).or_else(|| prioritise(app))
        }
        Action::RecentUses(recent) => {
            let keep = keep_selection(app);
            app.recent = recent;
            app.rows.apply_recent(&app.recent);
            app.filter.set_rows(&app.rows.rows);
            restore_selection(app, keep);
            None
        }
        Action::SamlRoles { session, roles } => {
            let keep = keep_selection(app);
            match app.saml.iter_mut().find(|(s, _)| *s == session) {
                Some(entry) => entry.1 = roles,
                None => app.saml.push((session, roles)),
            }
            // Without an sso-session the list waits for the saml-sessions alone.
            if app.screen == Screen::Loading && app.session.is_none() {
                app.screen = Screen::List;
                app.loaded = true;
            }
            app.rows = app.build_rows();
            app.filter.set_rows(&app.rows.rows);
            restore_selection(app, keep);
            None
        }
        Action::ChainedRoles(chained) => {
            let keep = keep_selection(app);
            app.chained = chained;
            app.rows = app.build_rows();
            app.filter.set_rows(&app.rows.rows);
            restore_selection(app, keep);
            None
        }
        Action::SwitchSource => {
            if app.screen != Screen::List || !app.has_sources() || overlay_open(app) {
                return None;
            }
            app.view = app.next_view();
            app.rows = app.build_rows();
            app.filter.set_rows(&app.rows.rows);
            app.selected = 0;
            app.offset = 0;
            let showing = match &app.view {
                SourceView::All => "every session's roles".to_string(),
                SourceView::IdentityCenter => match &app.session {
                    Some(s) => format!("the roles of sso-session {}", s.name),
                    None => "the Identity Center roles".to_string(),
                },
                SourceView::Saml(name) => format!("the roles of saml-session {name}"),
            };
            set_status(
                app,
                StatusKind::Info,
                &format!("showing {showing} (v: switch)"),
            );
            None
        }
        Action::RefreshStarted => {
            app.refreshing = true;
            None
        }
        Action::CredentialsReady(effect) => match effect {
            Effect::PrintExports(_)
            | Effect::CopyExports(_)
            | Effect::Subshell(_)
            | Effect::OpenConsole(_)
                if app.screen == Screen::List && !overlay_open(app) =>
            {
                Some(effect)
            }
            _ => None,
        },
        Action::Status(text) => {
            set_status(app, StatusKind::Info, &text);
            None
        }
        Action::ShowPopup(popup) => {
            app.help = false;
            app.popup = Some(Popup {
                title: for_terminal(&popup.title),
                note: for_terminal(&popup.note),
                // Line by line, so the exports keep their lines.
                text: popup
                    .text
                    .lines()
                    .map(for_terminal)
                    .collect::<Vec<_>>()
                    .join("\n"),
            });
            None
        }
        Action::Error(text) => {
            set_status(app, StatusKind::Error, &text);
            app.refreshing = false;
            if let Screen::FirstRun(form) = &mut app.screen {
                if form.step == Step::Saving {
                    form.step = Step::Confirm;
                }
            }
            None
        }
        Action::Tick(now) => {
            app.now = now;
            if let Some(s) = &app.status {
                if s.kind == StatusKind::Info && (now - s.at).whole_seconds() >= STATUS_NOTE_SECONDS
                {
                    app.status = None;
                }
            }
            None
        }
        Action::Resize { width, height } => {
            app.width = width;
            app.height = height;
            scroll_into_view(app);
            None
        }
        Action::Input(c) => {
            edit_input(app, |s| s.push(c));
            prioritise(app)
        }
        Action::Paste(text) => {
            let clean: String = text.chars().filter(|c| !c.is_control()).collect();
            edit_input(app, |s| s.push_str(&clean));
            prioritise(app)
        }
        Action::Backspace => {
            edit_input(app, |s| {
                s.pop();
            });
            prioritise(app)
        }
        Action::DeleteWord => {
            edit_input(app, |s| {
                let kept = s.trim_end().rfind(char::is_whitespace).map_or(0, |i| i + 1);
                s.truncate(kept);
            });
            prioritise(app)
        }
        Action::ClearInput => {
            edit_input(app, String::clear);
            prioritise(app)
        }
        Action::Up => navigate(app, Move::Up),
        Action::Down => navigate(app, Move::Down),
        Action::PageUp => navigate(app, Move::PageUp),
        Action::PageDown => navigate(app, Move::PageDown),
        Action::Home => navigate(app, Move::Home),
        Action::End => navigate(app, Move::End),
        Action::ScrollUp => navigate(app, Move::WheelUp),
        Action::ScrollDown => navigate(app, Move::WheelDown),
        Action::FocusNext | Action::FocusPrev => {
            let forward = action == Action::FocusNext;
            if overlay_open(app) {
                return None;
            }
            match &mut app.screen {
                Screen::FirstRun(form) if form.step == Step::Edit => form.move_focus(forward),
                Screen::List => {
                    app.focus = match app.focus {
                        Focus::Filter => Focus::Keys,
                        Focus::Keys => Focus::Filter,
                    }
                }
                _ => {}
            }
            None
        }
        Action::FocusFilter => {
            if app.screen == Screen::List && !overlay_open(app) {
                app.focus = Focus::Filter;
            }
            None
        }
        Action::Accept => accept(app),
        Action::Back => back(app),
        Action::Console => on_selection(app, Effect::OpenConsole),
        Action::Shell => on_selection(app, Effect::Subshell),
        Action::Copy => match &app.screen {
            Screen::SigningIn(sign_in) => Some(Effect::CopyText(sign_in.prompt.url().to_string())),
            _ => on_selection(app, Effect::CopyExports),
        },
        Action::SaveProfile => {
            if app.screen == Screen::List && !overlay_open(app) {
                match app.selected_choice() {
                    Some(Choice {
                        source: Source::Saml { session, .. },
                        ..
                    }) => set_status(
                        app,
                        StatusKind::Error,
                        &format!("profiles for SAML roles are written by `portico profiles sync --saml-session {session}`"),
                    ),
                    // The row is a profile already: `p` says which, and how to use it.
                    Some(Choice {
                        source: Source::Chained { profile },
                        ..
                    }) => set_status(
                        app,
                        StatusKind::Info,
                        &format!("this row is [profile {profile}] of the config file already; use it with --profile {profile} (or AWS_PROFILE={profile})"),
                    ),
                    Some(choice) => {
                        let name = default_profile_name(
                            &choice.account_name,
                            &choice.account_id,
                            &choice.role,
                        );
                        app.prompt = Some(ProfilePrompt {
                            choice,
                            name,
                            error: None,
                        });
                    }
                    None => nothing_selected(app),
                }
            }
            None
        }
        Action::Refresh => {
            let can = matches!(app.screen, Screen::List | Screen::Loading)
                && app.session.is_some()
                && !app.refreshing
                && !overlay_open(app);
            can.then_some(Effect::Refresh)
        }
        Action::Logout => {
            let can = matches!(app.screen, Screen::List | Screen::Loading)
                && app.session.is_some()
                && !overlay_open(app);
            can.then_some(Effect::Logout)
        }
        Action::DeviceCode => match app.screen {
            Screen::SigningIn(SignIn {
                prompt: LoginEvent::Browser { .. },
                ..
            })
            | Screen::SignedOut { .. } => Some(Effect::StartLogin { device_code: true }),
            _ => None,
        },
        Action::Help => {
            if app.prompt.is_none() && app.popup.is_none() {
                app.help = !app.help;
            }
            None
        }
        Action::Quit => Some(Effect::Quit),
        Action::Interrupt => Some(Effect::Interrupted),
    }
}

fn choose_session(app: &mut App, index: usize) -> Effect {
    let session = app.sessions[index].clone();
    app.last_session = Some(session.name.clone());
    app.session = Some(session.clone());
    app.screen = after_sign_in(app);
    Effect::SessionChosen(session)
}

/// The screen once a session and token are in hand: the list if there is one.
fn after_sign_in(app: &App) -> Screen {
    if app.loaded {
        Screen::List
    } else {
        Screen::Loading
    }
}

fn login_state(app: &mut App, state: LoginState) {
    match state {
        LoginState::Waiting(prompt) => {
            let qr = match &prompt {
                LoginEvent::DeviceCode { .. } => QrModules::encode(prompt.url()),
                LoginEvent::Browser { .. } => None,
            };
            app.screen = Screen::SigningIn(SignIn {
                prompt: prompt.cleaned(),
                qr,
            });
        }
        LoginState::SignedIn { expires_at } => {
            app.token_expires_at = Some(expires_at);
            if matches!(
                app.screen,
                Screen::SigningIn(_) | Screen::SignedOut { .. } | Screen::Loading
            ) {
                app.screen = after_sign_in(app);
            }
        }
        LoginState::SignedOut => {
            app.token_expires_at = None;
            app.refreshing = false;
            app.help = false;
            app.prompt = None;
            app.screen = Screen::SignedOut {
                reason: "Signed out".into(),
            };
        }
    }
}

fn set_status(app: &mut App, kind: StatusKind, text: &str) {
    // One line: the first line of a message, cleaned for the terminal.
    let text = for_terminal(text.lines().next().unwrap_or("").trim());
    app.status = Some(StatusLine {
        kind,
        text,
        at: app.now,
    });
}

fn overlay_open(app: &App) -> bool {
    app.help || app.prompt.is_some() || app.popup.is_some()
}

/// Edits whatever text has the keyboard: the profile prompt, a form field or the filter.
fn edit_input(app: &mut App, edit: impl FnOnce(&mut String)) {
    if app.help || app.popup.is_some() {
        return;
    }
    if let Some(prompt) = &mut app.prompt {
        edit(&mut prompt.name);
        prompt.error = None;
        return;
    }
    match &mut app.screen {
        Screen::FirstRun(form) if form.step == Step::Edit => {
            edit(form.focused_mut());
            form.errors[form.focus as usize] = None;
        }
        Screen::List => {
            let mut query = app.filter.query().to_string();
            edit(&mut query);
            app.focus = Focus::Filter;
            set_query(app, &query);
        }
        _ => {}
    }
}

/// While some accounts' roles are loading, asks the caller to list those the filter matches
/// (then those on screen) first.
fn prioritise(app: &App) -> Option<Effect> {
    if app.screen != Screen::List || !app.rows.rows.iter().any(|r| r.loading) {
        return None;
    }
    let loading_ids = |rows: &mut dyn Iterator<Item = &super::rows::Row>| {
        let mut ids: Vec<String> = Vec::new();
        for row in rows.filter(|r| r.loading) {
            if !ids.contains(&row.account_id) {
                ids.push(row.account_id.clone());
            }
        }
        ids
    };
    let matching = if app.filter.query().is_empty() {
        Vec::new()
    } else {
        loading_ids(&mut app.visible_rows().take(MATCHES_FIRST))
    };
    let visible = loading_ids(&mut app.visible_rows().take(app.list_height()));
    Some(Effect::Prioritise { matching, visible })
}

/// How many of the best matches count as "matching the filter" for the listing's priority.
const MATCHES_FIRST: usize = 500;

/// After new roles came in: if ⏎ was waiting for this account's roles, select its first role
/// and act on it when it is the only one (else the user picks).
fn roles_arrived(app: &mut App) -> Option<Effect> {
    let id = app.awaiting_roles.clone()?;
    let rows = &app.rows.rows;
    if rows.iter().any(|r| r.account_id == id && r.loading) {
        return None;
    }
    app.awaiting_roles = None;
    let roles: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.account_id == id)
        .map(|(i, _)| i)
        .collect();
    let Some(&first) = roles.first() else {
        set_status(
            app,
            StatusKind::Error,
            "that account is no longer assigned to you (the list was refreshed)",
        );
        return None;
    };
    let position = app
        .filter
        .matches()
        .iter()
        .position(|&i| i as usize == first);
    match position {
        Some(p) => app.selected = p,
        None => return None,
    }
    scroll_into_view(app);
    if roles.len() == 1 && app.screen == Screen::List && !overlay_open(app) {
        app.status = None;
        app.selected_choice().map(Effect::PrintExports)
    } else {
        let text = format!("{} roles; pick one", roles.len());
        set_status(app, StatusKind::Info, &text);
        None
    }
}

fn set_query(app: &mut App, query: &str) {
    app.filter.set_query(&app.rows.rows, query);
    app.selected = 0;
    app.offset = 0;
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Move {
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    WheelUp,
    WheelDown,
}

fn navigate(app: &mut App, step: Move) -> Option<Effect> {
    if overlay_open(app) {
        return None;
    }
    match &mut app.screen {
        Screen::ChooseSession { selected } => {
            let last = app.sessions.len().saturating_sub(1);
            *selected = match step {
                Move::Up | Move::WheelUp => selected.saturating_sub(1),
                Move::Down | Move::WheelDown => (*selected + 1).min(last),
                Move::PageUp | Move::Home => 0,
                Move::PageDown | Move::End => last,
            };
        }
        Screen::FirstRun(form) if form.step == Step::Edit => match step {
            Move::Up => form.move_focus(false),
            Move::Down => form.move_focus(true),
            _ => {}
        },
        Screen::List => move_selection(app, step),
        _ => {}
    }
    None
}

fn move_selection(app: &mut App, step: Move) {
    let n = app.filter.matches().len();
    if n == 0 {
        app.selected = 0;
        app.offset = 0;
        return;
    }
    let page = app.list_height();
    let last = n - 1;
    let max_offset = n.saturating_sub(page);
    match step {
        Move::Up => app.selected = app.selected.saturating_sub(1),
        Move::Down => app.selected = (app.selected + 1).min(last),
        Move::PageUp => {
            app.selected = app.selected.saturating_sub(page);
            app.offset = app.offset.saturating_sub(page);
        }
        Move::PageDown => {
            app.selected = (app.selected + page).min(last);
            app.offset = (app.offset + page).min(max_offset);
        }
        Move::Home => app.selected = 0,
        Move::End => app.selected = last,
        Move::WheelUp | Move::WheelDown => {
            app.offset = if step == Move::WheelUp {
                app.offset.saturating_sub(WHEEL_ROWS)
            } else {
                (app.offset + WHEEL_ROWS).min(max_offset)
            };
            // The selection follows the rows scrolled, staying on screen.
            app.selected = app
                .selected
                .clamp(app.offset, (app.offset + page - 1).min(last));
        }
    }
    scroll_into_view(app);
}

/// Moves the window so that the selection is in it.
fn scroll_into_view(app: &mut App) {
    app.offset = super::view::window_offset(
        app.offset,
        app.selected,
        app.list_height(),
        app.filter.matches().len(),
    );
}

fn keep_selection(app: &App) -> Option<(String, String)> {
    app.selected_row()
        .map(|r| (r.account_id.clone(), r.role.clone()))
}

fn restore_selection(app: &mut App, keep: Option<(String, String)>) {
    let found = keep.and_then(|(id, role)| {
        app.filter
            .matches()
            .iter()
            .position(|&i| app.rows.rows[i as usize].same_role(&id, &role))
    });
    app.selected = found.unwrap_or(0);
    scroll_into_view(app);
}

fn nothing_selected(app: &mut App) {
    let text = if app.rows.rows.is_empty() {
        "no roles are assigned to you in this session"
    } else {
        "no role matches the filter"
    };
    set_status(app, StatusKind::Info, text);
}

fn on_selection(app: &mut App, effect: impl FnOnce(super::Choice) -> Effect) -> Option<Effect> {
    if app.screen != Screen::List || overlay_open(app) {
        return None;
    }
    if let Some(row) = app.selected_row().filter(|r| r.loading) {
        let text = format!(
            "the roles of {} are still loading; ⏎ lists them first",
            row.account_name
        );
        set_status(app, StatusKind::Info, &text);
        return None;
    }
    match app.selected_choice() {
        Some(choice) => Some(effect(choice)),
        None => {
            nothing_selected(app);
            None
        }
    }
}

fn accept(app: &mut App) -> Option<Effect> {
    if app.popup.take().is_some() {
        return Some(Effect::PopupClosed);
    }
    if app.help {
        app.help = false;
        return None;
    }
    if let Some(prompt) = &mut app.prompt {
        let name = prompt.name.trim().to_string();
        if let Err(why) = check_name("profile name", &name) {
            prompt.error = Some(why);
            return None;
        }
        let prompt = app.prompt.take().expect("checked above");
        return Some(Effect::SaveProfile {
            choice: prompt.choice,
            name,
        });
    }
    match &mut app.screen {
        Screen::ChooseSession { selected } => {
            let index = *selected;
            (index < app.sessions.len()).then(|| choose_session(app, index))
        }
        Screen::FirstRun(form) => match form.step {
            Step::Edit => {
                let from = form.focus;
                if form.validate().is_some() {
                    form.step = Step::Confirm;
                } else {
                    // Enter on a field the user has filled moves on; empty fields further
                    // down are not errors yet.
                    for f in Field::ALL {
                        if f as usize > from as usize && form.value(f).trim().is_empty() {
                            form.errors[f as usize] = None;
                        }
                    }
                    form.focus = Field::ALL
                        .into_iter()
                        .find(|f| form.error(*f).is_some())
                        .unwrap_or(Field::ALL[(from as usize + 1).min(2)]);
                }
                None
            }
            Step::Confirm => {
                let session = form.validate()?;
                form.step = Step::Saving;
                Some(Effect::WriteSessionConfig(session))
            }
            Step::Saving => None,
        },
        Screen::SignedOut { .. } => Some(Effect::StartLogin { device_code: false }),
        Screen::List => match app.selected_row().filter(|r| r.loading) {
            Some(row) => {
                let (id, text) = (
                    row.account_id.clone(),
                    format!("listing the roles of {}…", row.account_name),
                );
                set_status(app, StatusKind::Info, &text);
                app.awaiting_roles = Some(id.clone());
                Some(Effect::FetchRoles(id))
            }
            None => on_selection(app, Effect::PrintExports),
        },
        Screen::SigningIn(_) | Screen::Loading => None,
    }
}

fn back(app: &mut App) -> Option<Effect> {
    if app.popup.take().is_some() {
        return Some(Effect::PopupClosed);
    }
    if app.help {
        app.help = false;
        return None;
    }
    if app.prompt.take().is_some() {
        return None;
    }
    match &mut app.screen {
        Screen::FirstRun(form) => match form.step {
            Step::Edit => Some(Effect::Quit),
            Step::Confirm => {
                form.step = Step::Edit;
                None
            }
            Step::Saving => None,
        },
        Screen::SigningIn(_) => {
            app.screen = Screen::SignedOut {
                reason: "Sign-in cancelled".into(),
            };
            Some(Effect::CancelLogin)
        }
        Screen::List => {
            if app.focus == Focus::Keys {
                app.focus = Focus::Filter;
                None
            } else if !app.filter.query().is_empty() {
                let keep = keep_selection(app);
                set_query(app, "");
                restore_selection(app, keep);
                None
            } else {
                Some(Effect::Quit)
            }
        }
        Screen::ChooseSession { .. } | Screen::Loading | Screen::SignedOut { .. } => {
            Some(Effect::Quit)
        }
    }
}

#[cfg(test)]
#[path = "update_tests.rs"]
mod tests;
