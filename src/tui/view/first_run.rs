//! The first-run form: with no sso-session configured, the start URL, region and name, then
//! the lines that will be added to the config file.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use super::{put, put_truncated, wrapped, Hint, BOLD, CURSOR, DIM, ERROR, KEY, NOTE};
use crate::tui::app::App;
use crate::tui::form::{config_lines, Field, FirstRunForm, Step};

pub(super) fn draw(app: &App, form: &FirstRunForm, body: Rect, buf: &mut Buffer) {
    let x = body.x + 2;
    let w = body.width.saturating_sub(3);
    let mut y = body.y + 1;
    match form.step {
        Step::Edit => {
            put(buf, x, y, w, "Set up portico", BOLD);
            y += 1;
            let intro = format!(
                "No sso-session is configured in {} yet. Enter your AWS access portal URL \
                 (from your welcome e-mail or the IAM Identity Center console) and its region.",
                app.config_path
            );
            y = wrapped(buf, x, y, w, &intro, Style::new(), body.bottom()) + 1;
            let label_w = 14;
            for f in Field::ALL {
                if y >= body.bottom() {
                    break;
                }
                let focused = form.focus == f;
                let label_style = if focused { KEY } else { Style::new() };
                put(buf, x, y, label_w, f.label(), label_style);
                let vx = x + label_w;
                let room = w.saturating_sub(label_w + 1);
                let value = form.value(f);
                let mut end = put_truncated(buf, vx, y, room, value, BOLD);
                if value.is_empty() && f == Field::Name {
                    let placeholder = match form.derived_name() {
                        Some(name) => format!("{name}  (default)"),
                        None => "(named after the start URL)".to_string(),
                    };
                    end = put(buf, vx, y, room, &placeholder, DIM);
                    if focused {
                        put(buf, vx, y, 1, CURSOR, KEY);
                    }
                } else if focused {
                    put(buf, end, y, 1, CURSOR, KEY);
                }
                let _ = end;
                y += 1;
                let hint = match f {
                    Field::StartUrl => {
                        "https://d-1234567890.awsapps.com/start or https://ALIAS.awsapps.com/start"
                    }
                    Field::Region => "the region the start URL lives in, like eu-central-1",
                    Field::Name => "how `portico --sso-session NAME` and profiles refer to it",
                };
                match form.error(f) {
                    Some(err) => {
                        y = wrapped(buf, vx, y, room, &format!("✗ {err}"), ERROR, body.bottom())
                    }
                    None => {
                        put_truncated(buf, vx, y, room, hint, DIM);
                        y += 1;
                    }
                }
                y += 1;
            }
        }
        Step::Confirm | Step::Saving => {
            let Some(session) = form.clone().validate() else {
                return;
            };
            let title = if form.step == Step::Saving {
                format!("Writing {}…", app.config_path)
            } else {
                format!("These lines will be added to {}:", app.config_path)
            };
            y = wrapped(buf, x, y, w, &title, BOLD, body.bottom()) + 1;
            for line in config_lines(&session) {
                put_truncated(buf, x + 2, y, w.saturating_sub(2), &line, NOTE);
                y += 1;
            }
            y += 1;
            wrapped(
                buf,
                x,
                y,
                w,
                "Nothing else in the file changes. Then portico signs you in.",
                DIM,
                body.bottom(),
            );
        }
    }
}

pub(super) fn hints(form: &FirstRunForm) -> Vec<Hint> {
    match form.step {
        Step::Edit => vec![("⏎", "next", 0), ("Tab", "field", 1), ("Esc", "quit", 0)],
        Step::Confirm => vec![("⏎", "write and sign in", 0), ("Esc", "edit", 0)],
        Step::Saving => vec![],
    }
}
