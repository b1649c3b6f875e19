//! The view: draws an [`App`] into a buffer and reads nothing else. It never changes state,
//! so every screen can be snapshot-tested through ratatui's `TestBackend`.
//!
//! This module holds the dispatch by [`Screen`], the styles and the text helpers every screen
//! shares; each screen (and what is drawn over it) has a file of its own.

mod choose_session;
mod first_run;
mod frame;
mod list;
mod popups;
mod sign_in;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Clear, Widget};
use time::Duration;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::app::{App, Screen, StatusKind};
use super::qr::QR_STYLE;
pub use list::window_offset;

const DIM: Style = Style::new().fg(Color::DarkGray);
const BOLD: Style = Style::new().add_modifier(Modifier::BOLD);
const KEY: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
/// Matched characters in the list.
pub const HIGHLIGHT: Style = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
const SELECTED: Style = Style::new().bg(Color::DarkGray).fg(Color::White);
const ERROR: Style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
const NOTE: Style = Style::new().fg(Color::Green);
const CURSOR: &str = "▏";
/// Columns between two fields of a row.
const GAP: u16 = 2;

/// A key hint for the footer: `(key, label, priority)`, see [`frame::footer`].
type Hint = (&'static str, &'static str, u8);

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        render(self, area, buf);
    }
}

/// Draws the whole screen.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    Clear.render(area, buf);
    if area.width < 20 || area.height < 4 {
        put(buf, area.x, area.y, area.width, "terminal too small", DIM);
        return;
    }
    frame::header(app, Rect { height: 1, ..area }, buf);
    let footer_area = Rect {
        y: area.bottom() - 1,
        height: 1,
        ..area
    };
    let mut body = Rect {
        y: area.y + 1,
        height: area.height - 2,
        ..area
    };
    if let Some(status) = &app.status {
        body.height -= 1;
        let (mark, style) = match status.kind {
            StatusKind::Error => ("✗ ", ERROR),
            StatusKind::Info => ("• ", NOTE),
        };
        let line = format!(" {mark}{}", status.text);
        put_truncated(buf, area.x, body.bottom(), area.width, &line, style);
    }
    let hints = match &app.screen {
        Screen::ChooseSession { selected } => {
            choose_session::draw(app, *selected, body, buf);
            choose_session::hints()
        }
        Screen::FirstRun(form) => {
            first_run::draw(app, form, body, buf);
            first_run::hints(form)
        }
        Screen::SigningIn(sign_in) => {
            sign_in::draw(app, sign_in, body, buf);
            sign_in::hints(sign_in)
        }
        Screen::SignedOut { reason } => {
            sign_in::signed_out(reason, body, buf);
            sign_in::signed_out_hints()
        }
        Screen::Loading => {
            list::loading(app, body, buf);
            list::loading_hints()
        }
        Screen::List => {
            list::draw(app, body, buf);
            list::hints(app)
        }
    };
    frame::footer(&hints, footer_area, buf);
    if app.help {
        popups::help(app, area, buf);
    }
    if let Some(prompt) = &app.prompt {
        popups::profile_prompt(app, prompt, area, buf);
    }
    if let Some(popup) = &app.popup {
        popups::popup_screen(popup, area, buf);
    }
    if !app.colors {
        without_colors(area, buf);
    }
}

/// Whether to draw in colour, given `NO_COLOR` (<https://no-color.org>: set and not empty
/// means no colours).
pub fn colors_wanted(no_color: Option<&std::ffi::OsStr>) -> bool {
    no_color.is_none_or(|v| v.is_empty())
}

/// Takes the colours out of a drawn screen, keeping what they meant: a background marks the
/// selected row, which becomes reversed; a matched letter (`HIGHLIGHT`) keeps its bold and
/// is underlined too, to stand out from other bold text. The QR code keeps its colours.
fn without_colors(area: Rect, buf: &mut Buffer) {
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            let cell = &mut buf[(x, y)];
            if Some(cell.fg) == QR_STYLE.fg && Some(cell.bg) == QR_STYLE.bg {
                continue;
            }
            if cell.bg != Color::Reset {
                cell.modifier.insert(Modifier::REVERSED);
            }
            if Some(cell.fg) == HIGHLIGHT.fg && cell.modifier.contains(Modifier::BOLD) {
                cell.modifier.insert(Modifier::UNDERLINED);
            }
            cell.fg = Color::Reset;
            cell.bg = Color::Reset;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Text helpers

/// Writes `text` at (x, y) in at most `width` columns; returns the column after it.
fn put(buf: &mut Buffer, x: u16, y: u16, width: u16, text: &str, style: Style) -> u16 {
    if width == 0 || y >= buf.area.bottom() {
        return x;
    }
    buf.set_stringn(x, y, text, usize::from(width), style).0
}

/// Like `put`, but ends with `…` when the text does not fit.
fn put_truncated(buf: &mut Buffer, x: u16, y: u16, width: u16, text: &str, style: Style) -> u16 {
    put(buf, x, y, width, &truncate(text, usize::from(width)), style)
}

pub use crate::output::table::truncate;

/// `21480` → `21,480`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `6h41m`, `41m`, `59s`, `2d3h`.
fn short_duration(d: Duration) -> String {
    let s = d.whole_seconds().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{}h", s / 86400, s % 86400 / 3600),
    }
}

/// Writes `text` word-wrapped (long words cut) from row `y`; returns the row after it.
fn wrapped(
    buf: &mut Buffer,
    x: u16,
    mut y: u16,
    width: u16,
    text: &str,
    style: Style,
    bottom: u16,
) -> u16 {
    for line in wrap(text, usize::from(width)) {
        if y >= bottom {
            break;
        }
        put(buf, x, y, width, &line, style);
        y += 1;
    }
    y
}

/// Greedy word wrap; words longer than a line (URLs) are split.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let sep = usize::from(!line.is_empty());
        if line.width() + sep + word.width() <= width {
            if sep == 1 {
                line.push(' ');
            }
            line.push_str(word);
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for c in word.chars() {
            if line.width() + c.width().unwrap_or(0) > width {
                lines.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// `line` in pieces of `width` columns, split anywhere (a URL or a token has no spaces).
fn cut(line: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut pieces = vec![String::new()];
    for c in line.chars() {
        let last = pieces.last_mut().expect("never empty");
        if last.width() + c.width().unwrap_or(0) > width {
            pieces.push(String::new());
        }
        pieces.last_mut().expect("never empty").push(c);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(thousands(21480), "21,480");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(short_duration(Duration::minutes(401)), "6h41m");
        assert_eq!(short_duration(Duration::seconds(12)), "12s");
        assert_eq!(truncate("payments-prod", 8), "payment…");
        assert_eq!(truncate("pay", 8), "pay");
        assert_eq!(
            wrap("ab cd https://x.example/abcdef", 8),
            ["ab cd", "https://", "x.exampl", "e/abcdef"]
        );
        assert_eq!(cut("abcdefgh", 3), ["abc", "def", "gh"]);
        assert_eq!(cut("", 3), [""]);
        assert_eq!(window_offset(0, 30, 10, 100), 21);
        assert_eq!(window_offset(50, 30, 10, 100), 30);
        assert_eq!(window_offset(95, 99, 10, 100), 90);
    }
}
