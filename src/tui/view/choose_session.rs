//! The choice between the configured sso-sessions.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use unicode_width::UnicodeWidthStr;

use super::{put, put_truncated, Hint, BOLD, GAP, SELECTED};
use crate::tui::app::App;

pub(super) fn draw(app: &App, selected: usize, body: Rect, buf: &mut Buffer) {
    let x = body.x + 2;
    let w = body.width.saturating_sub(2);
    put(buf, x, body.y + 1, w, "Choose an sso-session", BOLD);
    let name_w = app
        .sessions
        .iter()
        .map(|s| s.name.width())
        .max()
        .unwrap_or(0)
        .min(24) as u16;
    for (i, s) in app.sessions.iter().enumerate() {
        let y = body.y + 3 + i as u16;
        if y >= body.bottom() {
            break;
        }
        let style = if i == selected {
            SELECTED
        } else {
            Style::new()
        };
        if i == selected {
            buf.set_style(
                Rect {
                    y,
                    height: 1,
                    ..body
                },
                SELECTED,
            );
            put(buf, body.x, y, 1, "›", style.add_modifier(Modifier::BOLD));
        }
        put_truncated(
            buf,
            x,
            y,
            name_w,
            &s.name,
            style.add_modifier(Modifier::BOLD),
        );
        let last = if app.last_session.as_deref() == Some(s.name.as_str()) {
            "last used"
        } else {
            ""
        };
        let detail = format!("{:<14}{:<11}{}", s.region, last, s.start_url);
        let dx = x + name_w + GAP;
        put_truncated(buf, dx, y, body.right().saturating_sub(dx), &detail, style);
    }
}

pub(super) fn hints() -> Vec<Hint> {
    vec![
        ("⏎", "choose", 0),
        ("↑↓", "move", 1),
        ("?", "help", 2),
        ("q", "quit", 0),
    ]
}
