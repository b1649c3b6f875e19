//! What is drawn over a screen: the help, the prompt for a profile name, and the full-screen
//! text to copy by hand.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::{Block, Borders, Clear, Widget};
use unicode_width::UnicodeWidthStr;

use super::frame::footer;
use super::{cut, put, put_truncated, wrapped, BOLD, CURSOR, DIM, ERROR, KEY};
use crate::tui::action::Popup;
use crate::tui::app::{App, ProfilePrompt, Screen};

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

pub(super) fn help(app: &App, area: Rect, buf: &mut Buffer) {
    let mut lines: Vec<(&str, String)> = vec![
        ("⏎", "print exports for this shell and leave".into()),
        ("o", "open the AWS console".into()),
        ("s", "start a shell with the credentials".into()),
        ("p", format!("save a profile in {}", app.config_path)),
        ("c", "copy the exports to the clipboard".into()),
        ("r", "refresh the account list".into()),
        ("L", "log out of the session".into()),
        ("", "".into()),
        ("Tab", "switch between typing and the keys above".into()),
        ("Alt+key", "the keys above while typing".into()),
        ("↑↓ PgUp PgDn", "move; Home/End, mouse wheel too".into()),
        ("Ctrl-W/U", "delete a word / the filter".into()),
        ("Esc", "clear the filter, go back, quit".into()),
        ("", "".into()),
        ("Filter", "words in any order, letters fuzzy;".into()),
        ("", "'exact ^prefix suffix$ !exclude".into()),
        ("★", "recently used; those come first".into()),
    ];
    if app.screen != Screen::List {
        lines.truncate(0);
        lines.extend([
            ("Esc", "go back or quit".to_string()),
            ("⏎", "go on".to_string()),
            ("Ctrl-C", "quit".to_string()),
        ]);
    }
    let key_w = lines.iter().map(|(k, _)| k.width()).max().unwrap_or(0) as u16;
    let text_w = lines.iter().map(|(_, t)| t.width()).max().unwrap_or(0) as u16;
    let rect = centered(area, key_w + text_w + 6, lines.len() as u16 + 4);
    Clear.render(rect, buf);
    Block::new()
        .borders(Borders::ALL)
        .title(" Keys ")
        .title_bottom(" ? or Esc to close ")
        .render(rect, buf);
    let inner = Rect {
        x: rect.x + 2,
        y: rect.y + 2,
        width: rect.width.saturating_sub(4),
        height: rect.height.saturating_sub(4),
    };
    for (i, (key, text)) in lines.iter().enumerate() {
        let y = inner.y + i as u16;
        if y >= inner.bottom() {
            break;
        }
        put(buf, inner.x, y, key_w, key, KEY);
        let tx = inner.x + key_w + 2;
        put_truncated(
            buf,
            tx,
            y,
            inner.right().saturating_sub(tx),
            text,
            Style::new(),
        );
    }
}

pub(super) fn profile_prompt(app: &App, prompt: &ProfilePrompt, area: Rect, buf: &mut Buffer) {
    let rect = centered(area, 64, 8);
    Clear.render(rect, buf);
    Block::new()
        .borders(Borders::ALL)
        .title(" Save a profile ")
        .title_bottom(" ⏎ save  Esc cancel ")
        .render(rect, buf);
    let x = rect.x + 2;
    let w = rect.width.saturating_sub(4);
    let what = format!("{} · {}", prompt.choice.account_name, prompt.choice.role);
    put_truncated(buf, x, rect.y + 1, w, &what, DIM);
    let label = "Profile name ";
    let vx = put(buf, x, rect.y + 3, w, label, KEY);
    let room = rect.right().saturating_sub(vx + 3);
    // Show the end of a long name, where the cursor is.
    let mut name = prompt.name.as_str();
    while name.width() > usize::from(room) {
        name = &name[name.chars().next().map_or(1, char::len_utf8)..];
    }
    let end = put(buf, vx, rect.y + 3, room, name, BOLD);
    put(buf, end, rect.y + 3, 1, CURSOR, KEY);
    let note = match &prompt.error {
        Some(e) => (format!("✗ {e}"), ERROR),
        None => (format!("written to {}", app.config_path), DIM),
    };
    put_truncated(buf, x, rect.y + 5, w, &note.0, note.1);
}

/// The text to copy by hand, over the whole screen: a title, how the clipboard was tried,
/// then the text from the first column, each line cut at the screen's width (no frame or
/// indent that a mouse selection would pick up with it), and how to close.
pub(super) fn popup_screen(popup: &Popup, area: Rect, buf: &mut Buffer) {
    Clear.render(area, buf);
    let width = area.width;
    let mut y = area.y;
    y = wrapped(buf, area.x, y, width, &popup.title, BOLD, area.bottom());
    y = wrapped(buf, area.x, y, width, &popup.note, DIM, area.bottom());
    y += 1;
    let last = area.bottom().saturating_sub(1);
    let lines: Vec<String> = popup
        .text
        .lines()
        .flat_map(|line| cut(line, usize::from(width)))
        .collect();
    let room = usize::from(last.saturating_sub(y));
    let shown = if lines.len() > room {
        room.saturating_sub(1)
    } else {
        lines.len()
    };
    for line in &lines[..shown] {
        put(buf, area.x, y, width, line, Style::new());
        y += 1;
    }
    if shown < lines.len() {
        let more = format!(
            "… {} more lines: make the terminal taller to see them all",
            lines.len() - shown
        );
        put_truncated(buf, area.x, y, width, &more, ERROR);
    }
    let hints = [
        ("Esc", "close", 0),
        (
            "drag",
            "to select the text, then copy as usual in your terminal",
            1,
        ),
    ];
    footer(
        &hints,
        Rect {
            y: last,
            height: 1,
            ..area
        },
        buf,
    );
}
