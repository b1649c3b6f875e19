//! Unit tests of `update`, one or more per action.

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::identity::LoginEvent;
use crate::model::Account;
use crate::tui::app::{Focus, ProfilePrompt, StatusKind};
use crate::tui::form::FirstRunForm;
use crate::tui::rows::RecentUse;
use crate::tui::{Choice, Popup, SessionInfo, SignIn, Source, SourceView};

const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

fn session(name: &str) -> SessionInfo {
    SessionInfo {
        name: name.into(),
        start_url: format!("https://{name}.awsapps.com/start"),
        region: "eu-central-1".into(),
    }
}

fn accounts(n: usize) -> Vec<Account> {
    (0..n)
        .map(|i| Account {
            account_id: format!("{:012}", 100_000_000_000u64 + i as u64),
            account_name: format!("account-{i:03}"),
            email_address: String::new(),
            roles: vec!["Admin".into(), "ReadOnly".into()],
        })
        .collect()
}

/// An app showing a list of `n` accounts × 2 roles in a 80×24 terminal.
fn list_app(n: usize) -> App {
    let mut app = App::new(NOW);
    assert_eq!(
        update(&mut app, Action::SessionSelected(session("corp"))),
        None
    );
    update(
        &mut app,
        Action::AccountsLoaded {
            accounts: accounts(n),
            fetched_at: NOW,
        },
    );
    assert_eq!(app.screen, Screen::List);
    app
}

fn selected(app: &App) -> String {
    let c = app.selected_choice().unwrap();
    format!("{}/{}", c.account_name, c.role)
}

fn type_str(app: &mut App, s: &str) {
    for c in s.chars() {
        assert_eq!(update(app, Action::Input(c)), None);
    }
}

#[test]
fn sessions_none_opens_the_first_run_form() {
    let mut app = App::new(NOW);
    let effect = update(
        &mut app,
        Action::Sessions {
            sessions: vec![],
            last: None,
            config_path: "/home/u/.aws/config".into(),
        },
    );
    assert_eq!(effect, None);
    assert!(matches!(app.screen, Screen::FirstRun(_)));
    assert_eq!(app.config_path, "/home/u/.aws/config");
}

#[test]
fn sessions_one_is_chosen_at_once() {
    let mut app = App::new(NOW);
    let effect = update(
        &mut app,
        Action::Sessions {
            sessions: vec![session("corp")],
            last: None,
            config_path: "c".into(),
        },
    );
    assert_eq!(effect, Some(Effect::SessionChosen(session("corp"))));
    assert_eq!(app.session(), Some(&session("corp")));
    assert_eq!(app.screen, Screen::Loading);
}

#[test]
fn sessions_several_preselect_the_last_and_accept_chooses() {
    let mut app = App::new(NOW);
    update(
        &mut app,
        Action::Sessions {
            sessions: vec![session("a"), session("b"), session("c")],
            last: Some("b".into()),
            config_path: "c".into(),
        },
    );
    assert_eq!(app.screen, Screen::ChooseSession { selected: 1 });
    update(&mut app, Action::Down);
    update(&mut app, Action::Down);
    assert_eq!(app.screen, Screen::ChooseSession { selected: 2 });
    update(&mut app, Action::Up);
    update(&mut app, Action::Home);
    assert_eq!(app.screen, Screen::ChooseSession { selected: 0 });
    update(&mut app, Action::End);
    update(&mut app, Action::ScrollUp);
    assert_eq!(app.screen, Screen::ChooseSession { selected: 1 });
    let effect = update(&mut app, Action::Accept);
    assert_eq!(effect, Some(Effect::SessionChosen(session("b"))));
    assert_eq!(app.last_session.as_deref(), Some("b"));
    assert_eq!(app.screen, Screen::Loading);
}

#[test]
fn session_selected_goes_to_loading_or_the_list() {
    let mut app = App::new(NOW);
    assert_eq!(
        update(&mut app, Action::SessionSelected(session("x"))),
        None
    );
    assert_eq!(app.screen, Screen::Loading);
    let mut app = list_app(1);
    update(&mut app, Action::SessionSelected(session("y")));
    assert_eq!(app.screen, Screen::List);
    assert_eq!(app.session().unwrap().name, "y");
}

#[test]
fn login_states_move_between_screens() {
    let mut app = App::new(NOW);
    update(&mut app, Action::SessionSelected(session("corp")));
    update(
        &mut app,
        Action::LoginState(LoginState::Waiting(LoginEvent::Browser {
            opener: Some("firefox\u{1b}".into()),
            url: "https://oidc/authorize".into(),
        })),
    );
    assert_eq!(
        app.screen,
        Screen::SigningIn(SignIn {
            prompt: LoginEvent::Browser {
                opener: Some("firefox\u{fffd}".into()),
                url: "https://oidc/authorize".into()
            },
            qr: None,
        })
    );
    update(
        &mut app,
        Action::LoginState(LoginState::Waiting(LoginEvent::DeviceCode {
            user_code: "ABCD-EFGH".into(),
            verification_uri: "https://device.sso.eu-central-1.amazonaws.com/".into(),
            verification_uri_complete: Some(
                "https://device.sso.eu-central-1.amazonaws.com/?user_code=ABCD-EFGH".into(),
            ),
            expires_at: NOW + Duration::minutes(10),
        })),
    );
    match &app.screen {
        Screen::SigningIn(SignIn {
            prompt: LoginEvent::DeviceCode { user_code, .. },
            qr,
        }) => {
            assert_eq!(user_code, "ABCD-EFGH");
            assert!(qr.is_some());
        }
        other => panic!("{other:?}"),
    }
    let expires = NOW + Duration::hours(8);
    update(
        &mut app,
        Action::LoginState(LoginState::SignedIn {
            expires_at: expires,
        }),
    );
    assert_eq!(app.screen, Screen::Loading);
    assert_eq!(app.token_expires_at, Some(expires));
    update(&mut app, Action::LoginState(LoginState::SignedOut));
    assert!(matches!(app.screen, Screen::SignedOut { .. }));
    assert_eq!(app.token_expires_at, None);
}

#[test]
fn signed_in_does_not_leave_the_list() {
    let mut app = list_app(2);
    update(
        &mut app,
        Action::LoginState(LoginState::SignedIn {
            expires_at: NOW + Duration::hours(1),
        }),
    );
    assert_eq!(app.screen, Screen::List);
}

#[test]
fn progress_is_kept_until_the_list_arrives() {
    let mut app = App::new(NOW);
    update(
        &mut app,
        Action::Progress {
            accounts_done: 3,
            accounts_total: Some(10),
        },
    );
    assert_eq!(app.progress, Some((3, Some(10))));
    update(
        &mut app,
        Action::AccountsLoaded {
            accounts: accounts(1),
            fetched_at: NOW,
        },
    );
    assert_eq!(app.progress, None);
}

#[test]
fn accounts_loaded_builds_rows_and_keeps_the_selection_and_filter() {
    let mut app = list_app(3);
    assert_eq!(app.counts(), (6, 6));
    assert!(app.loaded);
    assert_eq!(app.fetched_at, Some(NOW));
    type_str(&mut app, "001");
    update(&mut app, Action::Down);
    let before = selected(&app);
    update(&mut app, Action::RefreshStarted);
    assert!(app.refreshing);
    let later = NOW + Duration::minutes(5);
    update(
        &mut app,
        Action::AccountsLoaded {
            accounts: accounts(5),
            fetched_at: later,
        },
    );
    assert!(!app.refreshing);
    assert_eq!(app.fetched_at, Some(later));
    assert_eq!(app.query(), "001");
    assert_eq!(selected(&app), before);
    assert_eq!(app.counts().1, 10);
}

#[test]
fn recent_uses_mark_and_reorder() {
    let mut app = list_app(3);
    assert_eq!(selected(&app), "account-000/Admin");
    update(
        &mut app,
        Action::RecentUses(vec![RecentUse {
            account_id: "100000000002".into(),
            role: "ReadOnly".into(),
            used_at: NOW,
        }]),
    );
    // The selection stays on its row; the recent row leads the list.
    assert_eq!(selected(&app), "account-000/Admin");
    let first = app.visible_rows().next().unwrap();
    assert_eq!(first.account_name, "account-002");
    assert!(first.last_used.is_some());
    update(&mut app, Action::Home);
    assert_eq!(selected(&app), "account-002/ReadOnly");
}

#[test]
fn recent_use_breaks_ties_between_equal_scores() {
    let mut app = list_app(3);
    update(
        &mut app,
        Action::RecentUses(vec![RecentUse {
            account_id: "100000000001".into(),
            role: "Admin".into(),
            used_at: NOW,
        }]),
    );
    type_str(&mut app, "admin");
    let order: Vec<String> = app.visible_rows().map(|r| r.account_name.clone()).collect();
    assert_eq!(order, ["account-001", "account-000", "account-002"]);
}

#[test]
fn status_and_error_show_and_clear() {
    let mut app = list_app(1);
    update(&mut app, Action::Status("copied\nsecond line".into()));
    let s = app.status().unwrap();
    assert_eq!((s.kind, s.text.as_str()), (StatusKind::Info, "copied"));
    update(&mut app, Action::Tick(NOW + Duration::seconds(4)));
    assert!(app.status().is_some());
    update(&mut app, Action::Tick(NOW + Duration::seconds(5)));
    assert!(app.status().is_none());

    update(&mut app, Action::RefreshStarted);
    update(&mut app, Action::Error("throttled \u{1b}[2J".into()));
    let s = app.status().unwrap();
    assert_eq!(s.kind, StatusKind::Error);
    assert_eq!(s.text, "throttled \u{fffd}[2J");
    assert!(!app.refreshing);
    // Errors stay through ticks, and go with the next key.
    update(&mut app, Action::Tick(NOW + Duration::minutes(5)));
    assert!(app.status().is_some());
    update(&mut app, Action::Down);
    assert!(app.status().is_none());
}

#[test]
fn tick_moves_the_clock() {
    let mut app = App::new(NOW);
    update(&mut app, Action::Tick(NOW + Duration::seconds(7)));
    assert_eq!(app.now, NOW + Duration::seconds(7));
}

#[test]
fn resize_sets_the_page_and_keeps_the_selection_visible() {
    let mut app = list_app(50);
    update(&mut app, Action::End);
    assert_eq!(app.selected, 99);
    update(
        &mut app,
        Action::Resize {
            width: 60,
            height: 10,
        },
    );
    assert_eq!((app.width, app.height), (60, 10));
    assert_eq!(app.list_height(), 7);
    assert_eq!(app.offset, 93);
}

#[test]
fn input_backspace_delete_word_clear_and_paste_edit_the_filter() {
    let mut app = list_app(20);
    type_str(&mut app, "acc 01");
    assert_eq!(app.query(), "acc 01");
    update(&mut app, Action::Backspace);
    assert_eq!(app.query(), "acc 0");
    update(&mut app, Action::DeleteWord);
    assert_eq!(app.query(), "acc ");
    update(&mut app, Action::Paste("0\n1\u{7}9".into()));
    assert_eq!(app.query(), "acc 019");
    assert_eq!(selected(&app), "account-019/Admin");
    update(&mut app, Action::ClearInput);
    assert_eq!(app.query(), "");
    assert_eq!(app.counts(), (40, 40));
}

#[test]
fn typing_resets_the_selection_to_the_best_match() {
    let mut app = list_app(20);
    update(&mut app, Action::End);
    type_str(&mut app, "read");
    assert_eq!(app.selected, 0);
    assert_eq!(app.offset, 0);
}

#[test]
fn moving_through_the_list() {
    let mut app = list_app(50); // 100 rows, 21 visible
    update(&mut app, Action::Up);
    assert_eq!(app.selected, 0);
    update(&mut app, Action::Down);
    assert_eq!(app.selected, 1);
    update(&mut app, Action::PageDown);
    assert_eq!((app.selected, app.offset), (22, 21));
    update(&mut app, Action::PageUp);
    assert_eq!((app.selected, app.offset), (1, 0));
    update(&mut app, Action::End);
    assert_eq!((app.selected, app.offset), (99, 79));
    update(&mut app, Action::PageDown);
    assert_eq!(app.selected, 99);
    update(&mut app, Action::Home);
    assert_eq!((app.selected, app.offset), (0, 0));
}

#[test]
fn the_wheel_scrolls_and_the_selection_follows() {
    let mut app = list_app(50);
    update(&mut app, Action::ScrollDown);
    assert_eq!((app.offset, app.selected), (3, 3));
    update(&mut app, Action::ScrollDown);
    update(&mut app, Action::ScrollUp);
    assert_eq!((app.offset, app.selected), (3, 6));
    update(&mut app, Action::ScrollUp);
    update(&mut app, Action::ScrollUp);
    assert_eq!(app.offset, 0);
}

#[test]
fn moving_in_an_empty_result_is_harmless() {
    let mut app = list_app(2);
    type_str(&mut app, "zzz");
    assert_eq!(app.counts().0, 0);
    for a in [
        Action::Down,
        Action::End,
        Action::PageDown,
        Action::ScrollDown,
    ] {
        update(&mut app, a);
    }
    assert_eq!(app.selected, 0);
    assert_eq!(update(&mut app, Action::Accept), None);
    assert_eq!(
        app.status().map(|s| s.text.as_str()),
        Some("no role matches the filter")
    );
}

#[test]
fn focus_switches_between_typing_and_keys() {
    let mut app = list_app(2);
    assert_eq!(app.focus(), Focus::Filter);
    update(&mut app, Action::FocusNext);
    assert_eq!(app.focus(), Focus::Keys);
    update(&mut app, Action::FocusPrev);
    assert_eq!(app.focus(), Focus::Filter);
    update(&mut app, Action::FocusNext);
    update(&mut app, Action::FocusFilter);
    assert_eq!(app.focus(), Focus::Filter);
    // Typing from the keys focus goes back to the filter.
    update(&mut app, Action::FocusNext);
    update(&mut app, Action::Input('x'));
    assert_eq!((app.focus(), app.query()), (Focus::Filter, "x"));
}

#[test]
fn accept_on_the_list_prints_exports() {
    let mut app = list_app(2);
    update(&mut app, Action::Down);
    assert_eq!(
        update(&mut app, Action::Accept),
        Some(Effect::PrintExports(Choice {
            account_id: "100000000000".into(),
            account_name: "account-000".into(),
            role: "ReadOnly".into(),
            source: Source::IdentityCenter,
        }))
    );
}

#[test]
fn console_shell_and_copy_act_on_the_selection() {
    let mut app = list_app(2);
    let choice = app.selected_choice().unwrap();
    assert_eq!(
        update(&mut app, Action::Console),
        Some(Effect::OpenConsole(choice.clone()))
    );
    assert_eq!(
        update(&mut app, Action::Shell),
        Some(Effect::Subshell(choice.clone()))
    );
    assert_eq!(
        update(&mut app, Action::Copy),
        Some(Effect::CopyExports(choice))
    );
    // Not while the help is open.
    update(&mut app, Action::Help);
    assert_eq!(update(&mut app, Action::Console), None);
}

#[test]
fn save_profile_asks_for_a_name() {
    let mut app = list_app(2);
    assert_eq!(update(&mut app, Action::SaveProfile), None);
    let prompt = app.prompt().unwrap();
    // The same name `profiles sync` gives the role.
    assert_eq!(prompt.name, "account-000-Admin");
    // Typing goes to the prompt, not the filter.
    update(&mut app, Action::ClearInput);
    type_str(&mut app, "my prod");
    assert_eq!(app.query(), "");
    assert_eq!(update(&mut app, Action::Accept), None);
    assert!(app.prompt().unwrap().error.is_some());
    update(&mut app, Action::DeleteWord);
    update(&mut app, Action::Backspace);
    type_str(&mut app, "-prod");
    let effect = update(&mut app, Action::Accept);
    assert_eq!(
        effect,
        Some(Effect::SaveProfile {
            choice: app.selected_choice().unwrap(),
            name: "my-prod".into()
        })
    );
    assert!(app.prompt().is_none());
    // Esc cancels the prompt.
    update(&mut app, Action::SaveProfile);
    assert_eq!(update(&mut app, Action::Back), None);
    assert_eq!(app.prompt(), None::<&ProfilePrompt>);
}

#[test]
fn refresh_once_at_a_time() {
    let mut app = list_app(2);
    assert_eq!(update(&mut app, Action::Refresh), Some(Effect::Refresh));
    update(&mut app, Action::RefreshStarted);
    assert_eq!(update(&mut app, Action::Refresh), None);
    // No session, no refresh.
    let mut app = App::new(NOW);
    assert_eq!(update(&mut app, Action::Refresh), None);
}

#[test]
fn logout_needs_a_session() {
    let mut app = list_app(1);
    assert_eq!(update(&mut app, Action::Logout), Some(Effect::Logout));
    let mut app = App::new(NOW);
    assert_eq!(update(&mut app, Action::Logout), None);
}

#[test]
fn help_toggles_and_closes_with_back_or_accept() {
    let mut app = list_app(1);
    update(&mut app, Action::Help);
    assert!(app.help_open());
    update(&mut app, Action::Help);
    assert!(!app.help_open());
    update(&mut app, Action::Help);
    assert_eq!(update(&mut app, Action::Back), None);
    assert!(!app.help_open());
    update(&mut app, Action::Help);
    assert_eq!(update(&mut app, Action::Accept), None);
    assert!(!app.help_open());
    // Keys do not reach the list under the help.
    update(&mut app, Action::Help);
    update(&mut app, Action::Input('a'));
    update(&mut app, Action::Down);
    assert_eq!((app.query(), app.selected), ("", 0));
}

#[test]
fn quit_always_quits() {
    let mut app = list_app(1);
    update(&mut app, Action::Help);
    assert_eq!(update(&mut app, Action::Quit), Some(Effect::Quit));
    // Ctrl-C (and a signal) is an interrupt, not a quit: the caller exits 130, not 0.
    update(&mut app, Action::Help);
    assert_eq!(
        update(&mut app, Action::Interrupt),
        Some(Effect::Interrupted)
    );
}

#[test]
fn back_on_the_list_unwinds_then_quits() {
    let mut app = list_app(10);
    type_str(&mut app, "001");
    update(&mut app, Action::FocusNext);
    assert_eq!(update(&mut app, Action::Back), None);
    assert_eq!(app.focus(), Focus::Filter);
    assert_eq!(update(&mut app, Action::Back), None);
    assert_eq!(app.query(), "");
    // Clearing the filter keeps the row that was selected under it.
    assert_eq!(selected(&app), "account-001/Admin");
    assert_eq!(app.selected, 2);
    assert_eq!(update(&mut app, Action::Back), Some(Effect::Quit));
}

#[test]
fn back_elsewhere() {
    let mut app = App::new(NOW);
    assert_eq!(update(&mut app, Action::Back), Some(Effect::Quit)); // loading
    update(
        &mut app,
        Action::LoginState(LoginState::Waiting(LoginEvent::Browser {
            opener: None,
            url: "u".into(),
        })),
    );
    assert_eq!(update(&mut app, Action::Back), Some(Effect::CancelLogin));
    assert!(matches!(app.screen, Screen::SignedOut { .. }));
    assert_eq!(update(&mut app, Action::Back), Some(Effect::Quit));
}

#[test]
fn device_code_and_sign_in_again() {
    let mut app = App::new(NOW);
    assert_eq!(update(&mut app, Action::DeviceCode), None);
    update(
        &mut app,
        Action::LoginState(LoginState::Waiting(LoginEvent::Browser {
            opener: None,
            url: "https://u".into(),
        })),
    );
    assert_eq!(
        update(&mut app, Action::DeviceCode),
        Some(Effect::StartLogin { device_code: true })
    );
    assert_eq!(
        update(&mut app, Action::Copy),
        Some(Effect::CopyText("https://u".into()))
    );
    update(&mut app, Action::LoginState(LoginState::SignedOut));
    assert_eq!(
        update(&mut app, Action::Accept),
        Some(Effect::StartLogin { device_code: false })
    );
    assert_eq!(
        update(&mut app, Action::DeviceCode),
        Some(Effect::StartLogin { device_code: true })
    );
}

fn first_run_app() -> App {
    let mut app = App::new(NOW);
    update(
        &mut app,
        Action::Sessions {
            sessions: vec![],
            last: None,
            config_path: "~/.aws/config".into(),
        },
    );
    app
}

fn form(app: &App) -> &FirstRunForm {
    match &app.screen {
        Screen::FirstRun(f) => f,
        other => panic!("{other:?}"),
    }
}

#[test]
fn first_run_form_validates_confirms_and_writes() {
    let mut app = first_run_app();
    update(
        &mut app,
        Action::Paste("https://corp.awsapps.com/start".into()),
    );
    // Enter on a good URL moves on without complaining about the empty fields below.
    update(&mut app, Action::Accept);
    assert_eq!(form(&app).focus, Field::Region);
    assert!(form(&app).errors.iter().all(Option::is_none));
    type_str(&mut app, "europe");
    update(&mut app, Action::Accept);
    assert!(form(&app).error(Field::Region).is_some());
    update(&mut app, Action::ClearInput);
    assert!(form(&app).error(Field::Region).is_none());
    type_str(&mut app, "eu-central-1");
    update(&mut app, Action::Accept);
    assert_eq!(form(&app).step, Step::Confirm);
    // Esc goes back to editing; Enter again confirms.
    update(&mut app, Action::Back);
    assert_eq!(form(&app).step, Step::Edit);
    update(&mut app, Action::FocusNext);
    assert_eq!(form(&app).focus, Field::Name);
    update(&mut app, Action::FocusPrev);
    update(&mut app, Action::Down);
    update(&mut app, Action::Up);
    assert_eq!(form(&app).focus, Field::Region);
    update(&mut app, Action::Accept);
    let effect = update(&mut app, Action::Accept);
    assert_eq!(
        effect,
        Some(Effect::WriteSessionConfig(SessionInfo {
            name: "corp".into(),
            start_url: "https://corp.awsapps.com/start".into(),
            region: "eu-central-1".into(),
        }))
    );
    assert_eq!(form(&app).step, Step::Saving);
    assert_eq!(update(&mut app, Action::Accept), None);
    // A failed write goes back to the confirmation with the error shown.
    update(&mut app, Action::Error("permission denied".into()));
    assert_eq!(form(&app).step, Step::Confirm);
    update(&mut app, Action::Accept);
    update(&mut app, Action::SessionSelected(session("corp")));
    assert_eq!(app.screen, Screen::Loading);
}

#[test]
fn first_run_esc_quits_while_editing() {
    let mut app = first_run_app();
    assert_eq!(update(&mut app, Action::Back), Some(Effect::Quit));
}

#[test]
fn profile_names_are_config_safe() {
    assert_eq!(
        crate::awsconfig::names::default_profile_name(
            "Payments Prod (EU)",
            "111122223333",
            "Admin"
        ),
        "Payments-Prod-EU-Admin"
    );
}

#[test]
fn credentials_ready_asks_for_the_effect_again_only_on_the_list() {
    let choice = Choice {
        account_id: "100000000000".into(),
        account_name: "account-000".into(),
        role: "Admin".into(),
        source: Source::IdentityCenter,
    };
    let mut app = list_app(2);
    for effect in [
        Effect::PrintExports(choice.clone()),
        Effect::CopyExports(choice.clone()),
        Effect::Subshell(choice.clone()),
        Effect::OpenConsole(choice.clone()),
    ] {
        assert_eq!(
            update(&mut app, Action::CredentialsReady(effect.clone())),
            Some(effect)
        );
    }
    // Not a way to ask for anything else.
    assert_eq!(
        update(&mut app, Action::CredentialsReady(Effect::Logout)),
        None
    );
    // The user left the list (signed out, another session) while the fetch ran.
    update(&mut app, Action::LoginState(LoginState::SignedOut));
    assert_ne!(app.screen, Screen::List);
    assert_eq!(
        update(
            &mut app,
            Action::CredentialsReady(Effect::PrintExports(choice))
        ),
        None
    );
}

fn popup() -> Popup {
    Popup {
        title: "The console link\u{1b}[2J".into(),
        note: "sent the link with OSC 52; your terminal may not support it".into(),
        text: "https://signin.example/federation?Action=login\nsecond\u{7} line".into(),
    }
}

#[test]
fn the_copy_popup_holds_the_keyboard_until_closed() {
    let mut app = list_app(3);
    type_str(&mut app, "acc");
    assert_eq!(update(&mut app, Action::ShowPopup(popup())), None);
    let shown = app.popup().unwrap();
    // Cleaned for the terminal, line by line.
    assert!(!shown.title.contains('\u{1b}'), "{shown:?}");
    assert_eq!(shown.text.lines().count(), 2);
    assert!(!shown.text.contains('\u{7}'));
    // Typing, moving, actions and help do nothing under it.
    update(&mut app, Action::Input('x'));
    update(&mut app, Action::Down);
    update(&mut app, Action::Help);
    assert_eq!(update(&mut app, Action::Console), None);
    assert_eq!(
        (app.query(), app.selected, app.help_open()),
        ("acc", 0, false)
    );
    // Esc closes it, and only it: the filter stays.
    assert_eq!(update(&mut app, Action::Back), Some(Effect::PopupClosed));
    assert!(app.popup().is_none());
    assert_eq!(app.query(), "acc");
    // Enter closes it too, without exporting.
    update(&mut app, Action::ShowPopup(popup()));
    assert_eq!(update(&mut app, Action::Accept), Some(Effect::PopupClosed));
    assert!(app.popup().is_none());
    // A background result does not close it.
    update(&mut app, Action::ShowPopup(popup()));
    update(&mut app, Action::Status("copied".into()));
    assert!(app.popup().is_some());
}

fn saml_roles(arns: &[&str]) -> Vec<crate::saml::SamlRole> {
    arns.iter()
        .map(|arn| crate::saml::SamlRole {
            role_arn: arn.to_string(),
            principal_arn: "arn:aws:iam::111122223333:saml-provider/Entra".into(),
        })
        .collect()
}

/// An app listing 2 accounts × 2 Identity Center roles, and two saml-sessions' roles.
fn mixed_app() -> App {
    let mut app = list_app(2);
    update(
        &mut app,
        Action::SamlRoles {
            session: "entra".into(),
            roles: saml_roles(&[
                "arn:aws:iam::111122223333:role/Admin",
                "arn:aws:iam::111122223333:role/team/Deploy",
            ]),
        },
    );
    update(
        &mut app,
        Action::SamlRoles {
            session: "other".into(),
            roles: saml_roles(&["arn:aws:iam::444455556666:role/Billing"]),
        },
    );
    app
}

#[test]
fn saml_roles_are_listed_beside_identity_center_roles_marked_by_session() {
    let mut app = mixed_app();
    assert_eq!(app.counts(), (7, 7));
    type_str(&mut app, "deploy");
    let choice = app.selected_choice().unwrap();
    assert_eq!(choice.account_name, "SAML entra");
    assert_eq!(choice.account_id, "111122223333");
    assert_eq!(choice.role, "Deploy");
    assert_eq!(
        choice.source,
        Source::Saml {
            session: "entra".into(),
            role_arn: "arn:aws:iam::111122223333:role/team/Deploy".into()
        }
    );
    // ⏎ exports it like any row; the controller obtains it through the saml-session.
    assert_eq!(
        update(&mut app, Action::Accept),
        Some(Effect::PrintExports(choice))
    );
    // A second listing of a session replaces its rows.
    let mut app = mixed_app();
    update(
        &mut app,
        Action::SamlRoles {
            session: "other".into(),
            roles: Vec::new(),
        },
    );
    assert_eq!(app.counts(), (6, 6));
}

#[test]
fn v_switches_between_every_source_and_each_session() {
    let mut app = mixed_app();
    assert_eq!(app.view(), &SourceView::All);
    let mut seen = Vec::new();
    for _ in 0..4 {
        assert_eq!(update(&mut app, Action::SwitchSource), None);
        let sources: std::collections::BTreeSet<String> =
            app.visible_rows().map(|r| r.account_name.clone()).collect();
        seen.push((app.view().clone(), app.counts().0, sources.len()));
    }
    assert_eq!(
        seen,
        [
            (SourceView::IdentityCenter, 4, 2),
            (SourceView::Saml("entra".into()), 2, 1),
            (SourceView::Saml("other".into()), 1, 1),
            (SourceView::All, 7, 4),
        ]
    );
    assert!(app.status().unwrap().text.contains("every session"));
    // The key: `v` in the keys focus, Alt-v while typing.
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    let v = |m| Event::Key(KeyEvent::new(KeyCode::Char('v'), m));
    assert_eq!(
        crate::tui::action_for(v(KeyModifiers::ALT), &app),
        Some(Action::SwitchSource)
    );
    update(&mut app, Action::FocusNext);
    assert_eq!(
        crate::tui::action_for(v(KeyModifiers::NONE), &app),
        Some(Action::SwitchSource)
    );
    // With Identity Center roles only, `v` filters as any other letter, and SwitchSource
    // changes nothing.
    let mut plain = list_app(2);
    update(&mut plain, Action::FocusNext);
    assert_eq!(
        crate::tui::action_for(v(KeyModifiers::NONE), &plain),
        Some(Action::Input('v'))
    );
    update(&mut plain, Action::SwitchSource);
    assert_eq!(plain.view(), &SourceView::All);
    assert!(plain.status().is_none());
}

#[test]
fn a_saml_row_saves_no_profile_and_says_which_command_does() {
    let mut app = mixed_app();
    type_str(&mut app, "billing");
    assert_eq!(update(&mut app, Action::SaveProfile), None);
    assert!(app.prompt().is_none());
    let status = app.status().unwrap();
    assert_eq!(status.kind, StatusKind::Error);
    assert!(status.text.contains("profiles sync --saml-session other"));
}

#[test]
fn without_an_sso_session_the_list_opens_with_the_saml_roles() {
    let mut app = App::new(NOW);
    assert_eq!(app.screen, Screen::Loading);
    update(
        &mut app,
        Action::SamlRoles {
            session: "entra".into(),
            roles: saml_roles(&["arn:aws:iam::111122223333:role/Admin"]),
        },
    );
    assert_eq!(app.screen, Screen::List);
    assert_eq!(app.counts(), (1, 1));
    // `v` has no Identity Center view to offer: every source, then the one saml-session.
    update(&mut app, Action::SwitchSource);
    assert_eq!(app.view(), &SourceView::Saml("entra".into()));
    update(&mut app, Action::SwitchSource);
    assert_eq!(app.view(), &SourceView::All);
    // With an sso-session, the SAML roles do not end its loading screen.
    let mut app = App::new(NOW);
    update(&mut app, Action::SessionSelected(session("corp")));
    update(
        &mut app,
        Action::SamlRoles {
            session: "entra".into(),
            roles: saml_roles(&["arn:aws:iam::111122223333:role/Admin"]),
        },
    );
    assert_ne!(app.screen, Screen::List);
}

/// An app whose first listing has listed `n` accounts and the roles of none.
fn listing_app(n: usize) -> (App, Vec<Account>) {
    let mut app = App::new(NOW);
    update(&mut app, Action::SessionSelected(session("corp")));
    let mut list = accounts(n);
    for account in &mut list {
        account.roles.clear();
    }
    let loading = list.iter().map(|a| a.account_id.clone()).collect();
    let effect = update(
        &mut app,
        Action::AccountsListed {
            accounts: list.clone(),
            loading,
        },
    );
    // The rows on screen are listed first.
    match effect {
        Some(Effect::Prioritise { matching, visible }) => {
            assert!(matching.is_empty());
            assert_eq!(visible.len(), app.list_height());
        }
        other => panic!("{other:?}"),
    }
    (app, list)
}

#[test]
fn accounts_show_while_their_roles_load_and_enter_fetches_then_acts() {
    let (mut app, mut list) = listing_app(30);
    assert_eq!(app.screen, Screen::List, "rows before any role is known");
    assert_eq!(app.counts(), (30, 30), "one row per account");
    assert!(app.visible_rows().all(|r| r.loading && r.role.is_empty()));

    // Typing asks for the matching accounts' roles first, and so does a page of accounts
    // listed after the filter was typed.
    for c in "account-027".chars() {
        let effect = update(&mut app, Action::Input(c));
        assert!(
            matches!(effect, Some(Effect::Prioritise { .. })),
            "{effect:?}"
        );
    }
    let target = list[27].account_id.clone();
    match update(&mut app, Action::Backspace) {
        Some(Effect::Prioritise { matching, .. }) => {
            assert!(matching.contains(&target), "{matching:?}");
            assert!(!matching.contains(&list[3].account_id), "{matching:?}");
        }
        other => panic!("{other:?}"),
    }
    update(&mut app, Action::Input('7'));
    assert_eq!(app.selected_row().unwrap().account_id, target);
    let loading = list.iter().map(|a| a.account_id.clone()).collect();
    match update(
        &mut app,
        Action::AccountsListed {
            accounts: list.clone(),
            loading,
        },
    ) {
        Some(Effect::Prioritise { matching, .. }) => assert_eq!(matching[0], target),
        other => panic!("{other:?}"),
    }

    // ⏎ on it lists its roles first, and acts when they arrive.
    assert_eq!(
        update(&mut app, Action::Accept),
        Some(Effect::FetchRoles(target.clone()))
    );
    list[27].roles = vec!["Admin".into()];
    let loading = list
        .iter()
        .filter(|a| a.roles.is_empty())
        .map(|a| a.account_id.clone())
        .collect();
    let effect = update(
        &mut app,
        Action::AccountsListed {
            accounts: list.clone(),
            loading,
        },
    );
    assert_eq!(
        effect,
        Some(Effect::PrintExports(Choice {
            account_id: target,
            account_name: "account-027".into(),
            role: "Admin".into(),
            source: Source::IdentityCenter,
        }))
    );
    // Other actions on a loading row say so instead of acting on an empty role.
    update(&mut app, Action::ClearInput);
    update(&mut app, Action::Home);
    assert_eq!(update(&mut app, Action::Console), None);
    assert!(app.status().unwrap().text.contains("still loading"));
}
