//! Terminal events to actions: a pure function of the event and the state (the same key
//! types into the filter or opens the console depending on what has the keyboard).

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind,
};

use super::action::Action;
use super::app::{App, Focus, Screen};
use super::form::Step;
use crate::identity::LoginEvent;

/// The action a terminal event stands for, if any.
pub fn action_for(event: Event, app: &App) -> Option<Action> {
    match event {
        Event::Key(key) => key_action(key, app),
        Event::Mouse(MouseEvent { kind, .. }) => match kind {
            MouseEventKind::ScrollUp => Some(Action::ScrollUp),
            MouseEventKind::ScrollDown => Some(Action::ScrollDown),
            _ => None,
        },
        Event::Paste(text) => Some(Action::Paste(text)),
        Event::Resize(width, height) => Some(Action::Resize { width, height }),
        Event::FocusGained | Event::FocusLost => None,
    }
}

/// The list actions bound to plain letters (on the list with the keys focus) and to
/// Alt+letter (while typing into the filter).
fn letter_action(c: char) -> Option<Action> {
    Some(match c {
        'o' => Action::Console,
        's' => Action::Shell,
        'p' => Action::SaveProfile,
        'c' => Action::Copy,
        'r' => Action::Refresh,
        'L' => Action::Logout,
        _ => return None,
    })
}

fn key_action(key: KeyEvent, app: &App) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    // Keys that mean the same everywhere.
    match key.code {
        KeyCode::Char('c') if ctrl => return Some(Action::Interrupt),
        KeyCode::F(1) => return Some(Action::Help),
        _ => {}
    }
    if app.popup().is_some() {
        // Only closing: the text under it is there to be selected with the mouse.
        return match key.code {
            KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => Some(Action::Back),
            _ => None,
        };
    }
    if app.help_open() {
        return match key.code {
            KeyCode::Esc | KeyCode::Char('?' | 'q') | KeyCode::Enter => Some(Action::Help),
            _ => None,
        };
    }
    if app.prompt().is_some() {
        return text_key(key).or(match key.code {
            KeyCode::Enter => Some(Action::Accept),
            KeyCode::Esc => Some(Action::Back),
            _ => None,
        });
    }
    match app.screen() {
        Screen::List => list_key(key, app, ctrl, alt),
        Screen::FirstRun(form) => match key.code {
            KeyCode::Enter => Some(Action::Accept),
            KeyCode::Esc => Some(Action::Back),
            _ if form.step != Step::Edit => None,
            KeyCode::Tab | KeyCode::Down => Some(Action::FocusNext),
            KeyCode::BackTab | KeyCode::Up => Some(Action::FocusPrev),
            _ => text_key(key),
        },
        Screen::ChooseSession { .. } => match key.code {
            KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
            KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
            KeyCode::Home => Some(Action::Home),
            KeyCode::End => Some(Action::End),
            KeyCode::Enter => Some(Action::Accept),
            KeyCode::Esc | KeyCode::Char('q') => Some(Action::Back),
            KeyCode::Char('?') => Some(Action::Help),
            _ => None,
        },
        Screen::SigningIn(sign_in) => match key.code {
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Char('c') => Some(Action::Copy),
            KeyCode::Char('d') if matches!(sign_in.prompt, LoginEvent::Browser { .. }) => {
                Some(Action::DeviceCode)
            }
            KeyCode::Char('q') => Some(Action::Quit),
            _ => None,
        },
        Screen::SignedOut { .. } => match key.code {
            KeyCode::Enter => Some(Action::Accept),
            KeyCode::Char('d') => Some(Action::DeviceCode),
            KeyCode::Esc | KeyCode::Char('q') => Some(Action::Back),
            _ => None,
        },
        Screen::Loading => match key.code {
            KeyCode::Esc | KeyCode::Char('q') => Some(Action::Back),
            KeyCode::Char('?') => Some(Action::Help),
            KeyCode::Char('r') => Some(Action::Refresh),
            _ => None,
        },
    }
}

/// Editing keys shared by every text input.
fn text_key(key: KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    match key.code {
        KeyCode::Char('w') if ctrl => Some(Action::DeleteWord),
        KeyCode::Char('u') if ctrl => Some(Action::ClearInput),
        KeyCode::Backspace if alt || ctrl => Some(Action::DeleteWord),
        KeyCode::Backspace => Some(Action::Backspace),
        KeyCode::Char(c) if !ctrl && !alt => Some(Action::Input(c)),
        _ => None,
    }
}

fn list_key(key: KeyEvent, app: &App, ctrl: bool, alt: bool) -> Option<Action> {
    // Movement and Enter work in both focuses.
    let common = match key.code {
        KeyCode::Up => Some(Action::Up),
        KeyCode::Down => Some(Action::Down),
        KeyCode::PageUp => Some(Action::PageUp),
        KeyCode::PageDown => Some(Action::PageDown),
        KeyCode::Home => Some(Action::Home),
        KeyCode::End => Some(Action::End),
        KeyCode::Char('p') if ctrl => Some(Action::Up),
        KeyCode::Char('n') if ctrl => Some(Action::Down),
        KeyCode::Enter => Some(Action::Accept),
        KeyCode::Esc => Some(Action::Back),
        KeyCode::Tab => Some(Action::FocusNext),
        KeyCode::BackTab => Some(Action::FocusPrev),
        KeyCode::Char('?') if !ctrl && !alt => Some(Action::Help),
        KeyCode::Char('v') if alt && !ctrl && app.has_sources() => Some(Action::SwitchSource),
        KeyCode::Char(c) if alt && !ctrl => letter_action(c),
        _ => None,
    };
    if common.is_some() {
        return common;
    }
    match app.focus() {
        Focus::Filter => text_key(key),
        Focus::Keys => match key.code {
            KeyCode::Char(c) if !ctrl => match c {
                'q' => Some(Action::Quit),
                'j' => Some(Action::Down),
                'k' => Some(Action::Up),
                'g' => Some(Action::Home),
                'G' => Some(Action::End),
                '/' => Some(Action::FocusFilter),
                // Only where there is a source to switch to: otherwise `v` filters.
                'v' if app.has_sources() => Some(Action::SwitchSource),
                _ => letter_action(c).or(Some(Action::Input(c))),
            },
            _ => text_key(key),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Account;
    use crate::tui::update;
    use crossterm::event::{KeyEventState, MouseButton};
    use time::macros::datetime;

    fn key(code: KeyCode) -> Event {
        Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn with(code: KeyCode, modifiers: KeyModifiers) -> Event {
        Event::Key(KeyEvent::new(code, modifiers))
    }

    fn list_app() -> App {
        let mut app = App::new(datetime!(2026-01-01 00:00 UTC));
        update(
            &mut app,
            Action::AccountsLoaded {
                accounts: vec![Account {
                    account_id: "111122223333".into(),
                    account_name: "prod".into(),
                    email_address: String::new(),
                    roles: vec!["Admin".into()],
                }],
                fetched_at: datetime!(2026-01-01 00:00 UTC),
            },
        );
        assert_eq!(app.screen(), &Screen::List);
        app
    }

    #[test]
    fn typing_filters_and_letters_act_after_tab() {
        let mut app = list_app();
        assert_eq!(
            action_for(key(KeyCode::Char('o')), &app),
            Some(Action::Input('o'))
        );
        assert_eq!(
            action_for(with(KeyCode::Char('o'), KeyModifiers::ALT), &app),
            Some(Action::Console)
        );
        assert_eq!(action_for(key(KeyCode::Tab), &app), Some(Action::FocusNext));
        update(&mut app, Action::FocusNext);
        for (c, a) in [
            ('o', Action::Console),
            ('s', Action::Shell),
            ('p', Action::SaveProfile),
            ('c', Action::Copy),
            ('r', Action::Refresh),
            ('L', Action::Logout),
            ('q', Action::Quit),
            ('j', Action::Down),
            ('k', Action::Up),
            ('g', Action::Home),
            ('G', Action::End),
            ('/', Action::FocusFilter),
            ('?', Action::Help),
            ('x', Action::Input('x')),
        ] {
            assert_eq!(action_for(key(KeyCode::Char(c)), &app), Some(a), "{c}");
        }
    }

    #[test]
    fn movement_editing_and_global_keys() {
        let app = list_app();
        for (code, a) in [
            (KeyCode::Up, Action::Up),
            (KeyCode::Down, Action::Down),
            (KeyCode::PageUp, Action::PageUp),
            (KeyCode::PageDown, Action::PageDown),
            (KeyCode::Home, Action::Home),
            (KeyCode::End, Action::End),
            (KeyCode::Enter, Action::Accept),
            (KeyCode::Esc, Action::Back),
            (KeyCode::Backspace, Action::Backspace),
            (KeyCode::BackTab, Action::FocusPrev),
            (KeyCode::F(1), Action::Help),
        ] {
            assert_eq!(action_for(key(code), &app), Some(a));
        }
        let ctrl = KeyModifiers::CONTROL;
        assert_eq!(
            action_for(with(KeyCode::Char('c'), ctrl), &app),
            Some(Action::Interrupt)
        );
        assert_eq!(
            action_for(with(KeyCode::Char('w'), ctrl), &app),
            Some(Action::DeleteWord)
        );
        assert_eq!(
            action_for(with(KeyCode::Char('u'), ctrl), &app),
            Some(Action::ClearInput)
        );
        assert_eq!(
            action_for(with(KeyCode::Char('n'), ctrl), &app),
            Some(Action::Down)
        );
        let release = Event::Key(KeyEvent {
            code: KeyCode::Char('a'),
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Release,
            state: KeyEventState::NONE,
        });
        assert_eq!(action_for(release, &app), None);
    }

    #[test]
    fn mouse_paste_resize() {
        let app = list_app();
        let mouse = |kind| {
            Event::Mouse(MouseEvent {
                kind,
                column: 3,
                row: 5,
                modifiers: KeyModifiers::NONE,
            })
        };
        assert_eq!(
            action_for(mouse(MouseEventKind::ScrollDown), &app),
            Some(Action::ScrollDown)
        );
        assert_eq!(
            action_for(mouse(MouseEventKind::ScrollUp), &app),
            Some(Action::ScrollUp)
        );
        assert_eq!(
            action_for(mouse(MouseEventKind::Down(MouseButton::Left)), &app),
            None
        );
        assert_eq!(
            action_for(Event::Paste("a b".into()), &app),
            Some(Action::Paste("a b".into()))
        );
        assert_eq!(
            action_for(Event::Resize(60, 20), &app),
            Some(Action::Resize {
                width: 60,
                height: 20
            })
        );
        assert_eq!(action_for(Event::FocusLost, &app), None);
    }

    #[test]
    fn overlays_take_the_keyboard() {
        let mut app = list_app();
        update(&mut app, Action::Help);
        assert_eq!(
            action_for(key(KeyCode::Char('q')), &app),
            Some(Action::Help)
        );
        assert_eq!(action_for(key(KeyCode::Char('o')), &app), None);
        update(&mut app, Action::Help);
        update(&mut app, Action::SaveProfile);
        assert_eq!(
            action_for(key(KeyCode::Char('q')), &app),
            Some(Action::Input('q'))
        );
        assert_eq!(action_for(key(KeyCode::Enter), &app), Some(Action::Accept));
        assert_eq!(action_for(key(KeyCode::Esc), &app), Some(Action::Back));
    }

    #[test]
    fn the_copy_popup_takes_the_keyboard() {
        let mut app = list_app();
        update(
            &mut app,
            Action::ShowPopup(crate::tui::Popup {
                title: "t".into(),
                note: "n".into(),
                text: "x".into(),
            }),
        );
        for code in [KeyCode::Esc, KeyCode::Enter, KeyCode::Char('q')] {
            assert_eq!(action_for(key(code), &app), Some(Action::Back));
        }
        for code in [
            KeyCode::Char('o'),
            KeyCode::Char('a'),
            KeyCode::Down,
            KeyCode::Tab,
        ] {
            assert_eq!(action_for(key(code), &app), None);
        }
        assert_eq!(
            action_for(with(KeyCode::Char('c'), KeyModifiers::CONTROL), &app),
            Some(Action::Interrupt)
        );
    }

    #[test]
    fn other_screens() {
        let mut app = App::new(datetime!(2026-01-01 00:00 UTC));
        update(
            &mut app,
            Action::Sessions {
                sessions: vec![],
                last: None,
                config_path: "~/.aws/config".into(),
            },
        );
        assert_eq!(
            action_for(key(KeyCode::Char('q')), &app),
            Some(Action::Input('q'))
        );
        assert_eq!(action_for(key(KeyCode::Tab), &app), Some(Action::FocusNext));
        assert_eq!(action_for(key(KeyCode::Up), &app), Some(Action::FocusPrev));
        update(
            &mut app,
            Action::LoginState(crate::tui::LoginState::Waiting(LoginEvent::Browser {
                opener: None,
                url: "https://x".into(),
            })),
        );
        assert_eq!(
            action_for(key(KeyCode::Char('d')), &app),
            Some(Action::DeviceCode)
        );
        assert_eq!(
            action_for(key(KeyCode::Char('c')), &app),
            Some(Action::Copy)
        );
        assert_eq!(action_for(key(KeyCode::Esc), &app), Some(Action::Back));
        update(&mut app, Action::Back);
        assert_eq!(action_for(key(KeyCode::Enter), &app), Some(Action::Accept));
        assert_eq!(
            action_for(key(KeyCode::Char('d')), &app),
            Some(Action::DeviceCode)
        );
        let mut app = App::new(datetime!(2026-01-01 00:00 UTC));
        assert_eq!(
            action_for(key(KeyCode::Char('q')), &app),
            Some(Action::Back)
        );
        update(
            &mut app,
            Action::Sessions {
                sessions: vec![
                    crate::tui::SessionInfo {
                        name: "a".into(),
                        start_url: "https://a.awsapps.com/start".into(),
                        region: "eu-west-1".into(),
                    },
                    crate::tui::SessionInfo {
                        name: "b".into(),
                        start_url: "https://b.awsapps.com/start".into(),
                        region: "eu-west-1".into(),
                    },
                ],
                last: None,
                config_path: "~/.aws/config".into(),
            },
        );
        assert_eq!(
            action_for(key(KeyCode::Char('j')), &app),
            Some(Action::Down)
        );
        assert_eq!(action_for(key(KeyCode::Enter), &app), Some(Action::Accept));
    }
}
