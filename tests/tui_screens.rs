//! Snapshots of every TUI screen, drawn through ratatui's `TestBackend`.
//!
//! Each snapshot is the screen's text; where styles matter (matched letters, the selected
//! row) a second snapshot marks them under each line: `^` a highlighted letter, `=` the
//! selected row's background.

use portico::identity::LoginEvent;
use portico::model::Account;
use portico::tui::{update, Action, App, LoginState, Popup, RecentUse, SessionInfo, HIGHLIGHT};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use ratatui::Terminal;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| frame.render_widget(app, frame.area()))
        .unwrap();
    terminal
}

fn screen(app: &App, width: u16, height: u16) -> String {
    draw(app, width, height).backend().to_string()
}

/// The text with a line of markers under each line that has highlighted or selected cells.
fn styles(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut text = String::new();
        let mut marks = String::new();
        for x in 0..buf.area.width {
            let cell = &buf[(x, y)];
            text.push_str(cell.symbol());
            let highlighted =
                cell.fg == HIGHLIGHT.fg.unwrap() && cell.modifier.contains(HIGHLIGHT.add_modifier);
            marks.push(if highlighted {
                '^'
            } else if cell.bg == Color::DarkGray {
                '='
            } else {
                ' '
            });
        }
        out.push_str(text.trim_end());
        out.push('\n');
        if !marks.trim().is_empty() {
            out.push_str(marks.trim_end());
            out.push('\n');
        }
    }
    out
}

fn corp() -> SessionInfo {
    SessionInfo {
        name: "corp".into(),
        start_url: "https://d-1234567890.awsapps.com/start".into(),
        region: "eu-central-1".into(),
    }
}

fn account(id: &str, name: &str, roles: &[&str]) -> Account {
    Account {
        account_id: id.into(),
        account_name: name.into(),
        email_address: format!("aws+{name}@example.com"),
        roles: roles.iter().map(|r| r.to_string()).collect(),
    }
}

fn accounts() -> Vec<Account> {
    vec![
        account(
            "111122223333",
            "payments-prod",
            &["AdministratorAccess", "ReadOnlyAccess"],
        ),
        account(
            "222233334444",
            "payments-prod-eu",
            &["AdministratorAccess", "ReadOnlyAccess"],
        ),
        account("333344445555", "platform-admin", &["PowerUserAccess"]),
        account(
            "444455556666",
            "data-lake-analytics-production-west",
            &["DataScientist", "ReadOnlyAccess"],
        ),
        account(
            "555566667777",
            "sandbox-\u{1b}[2Jalice",
            &["AdministratorAccess"],
        ),
        account(
            "666677778888",
            "identity",
            &["SecurityAudit", "ViewOnlyAccess"],
        ),
        account("777788889999", "logs-archive", &["ReadOnlyAccess"]),
        account(
            "888899990000",
            "shared-services-networking-transit-gateway-hub",
            &["NetworkAdministratorWithBreakGlassAccess"],
        ),
    ]
}

/// The list as the user sees it a few seconds after opening: cached accounts, recent uses,
/// a token with hours left.
fn list_app(width: u16, height: u16) -> App {
    let mut app = App::new(NOW);
    update(&mut app, Action::Resize { width, height });
    update(&mut app, Action::SessionSelected(corp()));
    update(
        &mut app,
        Action::LoginState(LoginState::SignedIn {
            expires_at: NOW + Duration::minutes(401),
        }),
    );
    update(
        &mut app,
        Action::RecentUses(vec![RecentUse {
            account_id: "111122223333".into(),
            role: "AdministratorAccess".into(),
            used_at: NOW - Duration::hours(2),
        }]),
    );
    update(
        &mut app,
        Action::AccountsLoaded {
            accounts: accounts(),
            fetched_at: NOW - Duration::seconds(12),
        },
    );
    app
}

fn type_str(app: &mut App, s: &str) {
    for c in s.chars() {
        update(app, Action::Input(c));
    }
}

#[test]
fn first_run() {
    let mut app = App::new(NOW);
    update(
        &mut app,
        Action::Sessions {
            sessions: vec![],
            last: None,
            config_path: "~/.aws/config".into(),
        },
    );
    insta::assert_snapshot!("first_run", screen(&app, 80, 24));

    update(&mut app, Action::Paste("http://d-123.awsapps.com".into()));
    update(&mut app, Action::FocusNext);
    type_str(&mut app, "europe");
    update(&mut app, Action::FocusNext);
    update(&mut app, Action::Accept);
    insta::assert_snapshot!("first_run_errors", screen(&app, 80, 24));

    // The first field in error has the focus.
    update(&mut app, Action::ClearInput);
    update(
        &mut app,
        Action::Paste("https://d-1234567890.awsapps.com/start".into()),
    );
    update(&mut app, Action::FocusNext);
    update(&mut app, Action::ClearInput);
    type_str(&mut app, "eu-central-1");
    update(&mut app, Action::Accept);
    insta::assert_snapshot!("first_run_confirm", screen(&app, 80, 24));
}

#[test]
fn choose_session() {
    let mut app = App::new(NOW);
    let lab = SessionInfo {
        name: "lab".into(),
        start_url: "https://ssoins-0123456789abcdef.portal.us-east-1.app.aws".into(),
        region: "us-east-1".into(),
    };
    update(
        &mut app,
        Action::Sessions {
            sessions: vec![corp(), lab],
            last: Some("lab".into()),
            config_path: "~/.aws/config".into(),
        },
    );
    insta::assert_snapshot!("choose_session", screen(&app, 80, 12));
}

/// Multi-Region Identity Center: one sso-session per Region (README), the primary's and a
/// replica's portal URLs side by side, each with its Region, for failing over by choice.
#[test]
fn choose_session_replica_regions() {
    let mut app = App::new(NOW);
    let session = |name: &str, url: &str, region: &str| SessionInfo {
        name: name.into(),
        start_url: url.into(),
        region: region.into(),
    };
    update(
        &mut app,
        Action::Sessions {
            sessions: vec![
                session(
                    "corp",
                    "https://ssoins-111111h2222j33pp.portal.us-east-1.app.aws",
                    "us-east-1",
                ),
                session(
                    "corp-eu",
                    "https://ssoins-111111h2222j33pp.eu-west-1.portal.amazonaws.com",
                    "eu-west-1",
                ),
            ],
            last: Some("corp".into()),
            config_path: "~/.aws/config".into(),
        },
    );
    insta::assert_snapshot!("choose_session_replica_regions", screen(&app, 100, 10));
}

#[test]
fn signing_in_pkce() {
    let mut app = App::new(NOW);
    update(&mut app, Action::SessionSelected(corp()));
    update(
        &mut app,
        Action::LoginState(LoginState::Waiting(LoginEvent::Browser {
            opener: Some("firefox".into()),
            url: "https://oidc.eu-central-1.amazonaws.com/authorize?response_type=code\
                  &client_id=abc123&redirect_uri=http%3A%2F%2F127.0.0.1%3A53127%2Foauth%2Fcallback\
                  &state=xyz&code_challenge=Q2hhbGxlbmdl&code_challenge_method=S256&scopes=sso%3Aaccount%3Aaccess"
                .into(),
        })),
    );
    insta::assert_snapshot!("signing_in_pkce", screen(&app, 80, 24));
}

fn device_code_app() -> App {
    let mut app = App::new(NOW);
    update(&mut app, Action::SessionSelected(corp()));
    update(
        &mut app,
        Action::LoginState(LoginState::Waiting(LoginEvent::DeviceCode {
            user_code: "BCDF-GHJK".into(),
            verification_uri: "https://device.sso.eu-central-1.amazonaws.com/".into(),
            verification_uri_complete: Some(
                "https://device.sso.eu-central-1.amazonaws.com/?user_code=BCDF-GHJK".into(),
            ),
            expires_at: NOW + Duration::seconds(581),
        })),
    );
    app
}

#[test]
fn signing_in_device_code() {
    let mut app = device_code_app();
    // The QR code beside the text on a wide terminal…
    insta::assert_snapshot!("signing_in_device_code", screen(&app, 100, 26));
    // …below it on a narrow, tall one, and left out (with a note) when it does not fit.
    insta::assert_snapshot!("signing_in_device_code_narrow", screen(&app, 60, 44));
    insta::assert_snapshot!("signing_in_device_code_small", screen(&app, 60, 20));
    update(&mut app, Action::Tick(NOW + Duration::minutes(10)));
    let expired = screen(&app, 100, 26);
    assert!(expired.contains("The code has expired"), "{expired}");
}

#[test]
fn loading() {
    let mut app = App::new(NOW);
    update(&mut app, Action::SessionSelected(corp()));
    update(
        &mut app,
        Action::Progress {
            accounts_done: 1200,
            accounts_total: Some(5370),
        },
    );
    insta::assert_snapshot!("loading", screen(&app, 80, 10));
}

#[test]
fn signed_out() {
    let mut app = list_app(80, 10);
    update(&mut app, Action::LoginState(LoginState::SignedOut));
    insta::assert_snapshot!("signed_out", screen(&app, 80, 10));
}

#[test]
fn list() {
    let app = list_app(80, 16);
    insta::assert_snapshot!("list", screen(&app, 80, 16));
}

#[test]
fn list_refreshing_with_keys_focus() {
    let mut app = list_app(100, 8);
    update(&mut app, Action::RefreshStarted);
    update(&mut app, Action::FocusNext);
    update(&mut app, Action::Down);
    insta::assert_snapshot!("list_refreshing_keys", screen(&app, 100, 8));
}

#[test]
fn filtered_list_with_highlights() {
    let mut app = list_app(80, 12);
    type_str(&mut app, "pay prd adm");
    let terminal = draw(&app, 80, 12);
    insta::assert_snapshot!("list_filtered", terminal.backend().to_string());
    insta::assert_snapshot!("list_filtered_styles", styles(terminal.backend().buffer()));

    // The highlighted cells are exactly the matched letters of the first row.
    let buf = terminal.backend().buffer();
    let row: String = (0..80).map(|x| buf[(x, 2)].symbol().to_string()).collect();
    assert!(row.starts_with("›★ payments-prod"), "{row}");
    let marked: String = (0..80)
        .filter(|&x| {
            let cell = &buf[(x, 2)];
            cell.fg == Color::Yellow && cell.modifier.contains(HIGHLIGHT.add_modifier)
        })
        .map(|x| buf[(x, 2)].symbol().to_string())
        .collect();
    assert_eq!(marked, "payprdAdm");
}

#[test]
fn help_overlay() {
    let mut app = list_app(80, 26);
    update(&mut app, Action::Help);
    insta::assert_snapshot!("help", screen(&app, 80, 26));
}

#[test]
fn error_line() {
    let mut app = list_app(80, 12);
    update(
        &mut app,
        Action::Error(
            "GetRoleCredentials for payments-prod/AdministratorAccess failed: \
             the token has expired; press L to log out and sign in again"
                .into(),
        ),
    );
    insta::assert_snapshot!("error", screen(&app, 80, 12));
}

#[test]
fn profile_prompt() {
    let mut app = list_app(80, 14);
    update(&mut app, Action::SaveProfile);
    insta::assert_snapshot!("profile_prompt", screen(&app, 80, 14));
}

#[test]
fn narrow_terminal() {
    let mut app = list_app(60, 14);
    insta::assert_snapshot!("narrow", screen(&app, 60, 14));
    type_str(&mut app, "data");
    insta::assert_snapshot!(
        "narrow_filtered",
        styles(draw(&app, 60, 14).backend().buffer())
    );
}

#[test]
fn tall_list_scrolled_to_the_end() {
    let many: Vec<Account> = (0..400)
        .map(|i| {
            account(
                &format!("{:012}", 100_000_000_000u64 + i),
                &format!("team-{i:03}-workload"),
                &["AdministratorAccess", "ReadOnlyAccess"],
            )
        })
        .collect();
    let mut app = list_app(80, 12);
    update(
        &mut app,
        Action::AccountsLoaded {
            accounts: many,
            fetched_at: NOW - Duration::minutes(3),
        },
    );
    update(&mut app, Action::End);
    update(&mut app, Action::Up);
    insta::assert_snapshot!("tall_end", screen(&app, 80, 12));
}

#[test]
fn every_screen_at_every_small_size_does_not_panic() {
    let mut apps = vec![list_app(80, 24), device_code_app()];
    let mut with_help = list_app(80, 24);
    update(&mut with_help, Action::Help);
    apps.push(with_help);
    let mut with_prompt = list_app(80, 24);
    update(&mut with_prompt, Action::SaveProfile);
    update(
        &mut with_prompt,
        Action::Error("a long error message ".repeat(5)),
    );
    apps.push(with_prompt);
    let mut form = App::new(NOW);
    update(
        &mut form,
        Action::Sessions {
            sessions: vec![],
            last: None,
            config_path: "~/.aws/config".into(),
        },
    );
    update(&mut form, Action::Accept);
    apps.push(form);
    let mut pkce = App::new(NOW);
    update(
        &mut pkce,
        Action::LoginState(LoginState::Waiting(LoginEvent::Browser {
            opener: None,
            url: "https://x.example/".repeat(10),
        })),
    );
    apps.push(pkce);
    for app in &apps {
        for width in (1..=64).step_by(3) {
            for height in 1..=14 {
                screen(app, width, height);
            }
        }
    }
}

#[test]
fn no_color_keeps_the_selection_and_the_matches_visible() {
    use ratatui::style::Modifier;
    use std::ffi::OsStr;

    assert!(portico::tui::colors_wanted(None));
    assert!(portico::tui::colors_wanted(Some(OsStr::new(""))));
    assert!(!portico::tui::colors_wanted(Some(OsStr::new("1"))));

    let mut app = list_app(80, 12);
    app.set_colors(false);
    type_str(&mut app, "pay prd adm");
    let terminal = draw(&app, 80, 12);
    let buf = terminal.backend().buffer();
    // The same text as in colour.
    insta::assert_snapshot!("list_filtered", terminal.backend().to_string());
    for cell in buf.content() {
        assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset), "{cell:?}");
    }
    // The selected row (the first) is reversed, and only it.
    let reversed = |y: u16| (0..80).all(|x| buf[(x, y)].modifier.contains(Modifier::REVERSED));
    assert!(reversed(2));
    assert!(!(0..12)
        .filter(|&y| y != 2)
        .any(|y| (0..80).any(|x| buf[(x, y)].modifier.contains(Modifier::REVERSED))));
    // The matched letters are bold and underlined.
    let marked: String = (0..80)
        .filter(|&x| {
            buf[(x, 2)]
                .modifier
                .contains(Modifier::BOLD | Modifier::UNDERLINED)
        })
        .map(|x| buf[(x, 2)].symbol().to_string())
        .collect();
    assert_eq!(marked, "payprdAdm");
}

#[test]
fn copy_popup() {
    let mut app = list_app(80, 14);
    // Made-up values of real lengths; the session token is cut at the screen's width.
    let token = "IQoJb3JpZ2luX2VjEXAMPLE".repeat(5);
    update(
        &mut app,
        Action::ShowPopup(Popup {
            title: "The exports for AdministratorAccess in payments-prod".into(),
            note: "sent the exports for AdministratorAccess in payments-prod with OSC 52; your \
                   terminal may not support it (the text is on screen)"
                .into(),
            text: format!(
                "export AWS_ACCESS_KEY_ID=ASIAEXAMPLEEXAMPLE00\n\
                 export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n\
                 export AWS_SESSION_TOKEN={token}\n\
                 export AWS_REGION=eu-west-1\n"
            ),
        }),
    );
    insta::assert_snapshot!("copy_popup", screen(&app, 80, 14));
    // Too little room: what does not fit is counted, not dropped silently.
    insta::assert_snapshot!("copy_popup_short", screen(&app, 80, 8));
}

/// The list with two saml-sessions' IAM roles beside the sso-session's: marked `SAML NAME`,
/// `v` in the footer and the help; `v` shows one saml-session's roles.
#[test]
fn mixed_list_with_saml_roles() {
    let role = |arn: &str| portico::saml::SamlRole {
        role_arn: arn.into(),
        principal_arn: "arn:aws:iam::999900001111:saml-provider/Entra".into(),
    };
    let mut app = list_app(100, 16);
    update(
        &mut app,
        Action::SamlRoles {
            session: "entra".into(),
            roles: vec![
                role("arn:aws:iam::999900001111:role/Admin"),
                role("arn:aws:iam::999900001111:role/team/Deploy"),
            ],
        },
    );
    update(
        &mut app,
        Action::SamlRoles {
            session: "billing".into(),
            roles: vec![role("arn:aws:iam::123412341234:role/Finance")],
        },
    );
    insta::assert_snapshot!("list_mixed", screen(&app, 100, 16));
    update(&mut app, Action::SwitchSource);
    update(&mut app, Action::SwitchSource);
    insta::assert_snapshot!("list_mixed_one_session", screen(&app, 100, 16));
    update(&mut app, Action::Help);
    insta::assert_snapshot!("help_mixed", screen(&app, 100, 28));
}

/// Chained profiles (issue 21) beside the sso-session's roles: `PROFILE via SOURCE` in the
/// account column, listed right after their source's row (a source that is not listed, or is
/// chained itself, leaves the row in name order); the filter finds them by the `via` name;
/// `p` on one says it is a profile already.
#[test]
fn chained_rows_beside_their_source() {
    let chained = |profile: &str, via: &str, arn: &str, source: Option<(&str, &str)>| {
        portico::tui::ChainedProfile {
            profile: profile.into(),
            via: via.into(),
            role_arn: arn.into(),
            source_role: source.map(|(a, r)| (a.to_string(), r.to_string())),
        }
    };
    let mut app = list_app(100, 16);
    update(
        &mut app,
        Action::ChainedRoles(vec![
            chained(
                "prod-deploy",
                "platform",
                "arn:aws:iam::123456789012:role/Deploy",
                Some(("333344445555", "PowerUserAccess")),
            ),
            chained(
                "ops",
                "prod-deploy",
                "arn:aws:iam::210987654321:role/team/Ops",
                Some(("123456789012", "Deploy")),
            ),
            chained(
                "from-env",
                "environment",
                "arn:aws:iam::999999999999:role/Env",
                None,
            ),
        ]),
    );
    insta::assert_snapshot!("list_chained", screen(&app, 100, 16));
    type_str(&mut app, "via platform");
    insta::assert_snapshot!("list_chained_filtered", screen(&app, 100, 8));
    update(&mut app, Action::SaveProfile);
    assert!(app.prompt().is_none(), "no name to ask for");
    insta::assert_snapshot!("list_chained_save_profile", screen(&app, 100, 8));
}
