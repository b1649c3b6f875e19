//! The list of accounts × roles with its filter line, and the screen shown while the first
//! list loads.

use nucleo_matcher::{Config, Matcher};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::{
    put, put_truncated, thousands, Hint, BOLD, CURSOR, DIM, GAP, HIGHLIGHT, KEY, SELECTED,
};
use crate::tui::app::{App, Focus};

/// Narrower than this, the account id column is left out.
const ID_COLUMN_MIN_WIDTH: u16 = 80;

/// The first visible row: `offset` moved as little as needed to show `selected`, and no
/// further down than a full last page.
pub fn window_offset(offset: usize, selected: usize, height: usize, len: usize) -> usize {
    let height = height.max(1);
    let mut offset = offset.min(len.saturating_sub(height));
    if selected < offset {
        offset = selected;
    } else if selected >= offset + height {
        offset = selected + 1 - height;
    }
    offset
}

/// Column layout of a list row.
struct Columns {
    name: u16,
    id: Option<u16>,
    role: u16,
}

const MARK_COLS: u16 = 3; // "›★ "

fn columns(app: &App, width: u16) -> Columns {
    let show_id = width >= ID_COLUMN_MIN_WIDTH;
    let fixed = MARK_COLS + GAP + if show_id { 12 + GAP } else { 0 } + 1;
    let rest = width.saturating_sub(fixed);
    let max_name = app.rows.name_width.max(4) as u16;
    let max_role = app.rows.role_width.max(4) as u16;
    let name = if max_name + max_role <= rest {
        max_name
    } else {
        // Share the room; a column that needs less than half leaves the rest to the other.
        let half = rest / 2;
        max_name.min(half.max(rest.saturating_sub(max_role)))
    };
    Columns {
        name,
        id: show_id.then_some(12),
        role: rest.saturating_sub(name),
    }
}

fn filter_line(app: &App, area: Rect, buf: &mut Buffer) {
    let (shown, total) = app.counts();
    let count = if app.filter.query().is_empty() {
        format!("{} roles", thousands(total))
    } else {
        format!("{} of {} roles", thousands(shown), thousands(total))
    };
    let count_x = area.right().saturating_sub(count.width() as u16 + 1);
    put(buf, count_x, area.y, area.right() - count_x, &count, DIM);
    let typing = app.focus == Focus::Filter && !app.help && app.prompt.is_none();
    let x = put(
        buf,
        area.x + 1,
        area.y,
        2,
        "> ",
        if typing { KEY } else { DIM },
    );
    // Room for the query and the cursor; show its end if it is long.
    let room = usize::from(count_x.saturating_sub(x + 2));
    let query = app.filter.query();
    let mut start = 0;
    while query[start..].width() > room.saturating_sub(1) && start < query.len() {
        start += query[start..].chars().next().map_or(1, char::len_utf8);
    }
    let text = &query[start..];
    let x = put(
        buf,
        x,
        area.y,
        room as u16,
        text,
        if typing { BOLD } else { DIM },
    );
    if typing {
        put(buf, x, area.y, 1, CURSOR, KEY);
    } else if query.is_empty() {
        put(buf, x, area.y, room as u16, "/ to filter", DIM);
    }
}

pub(super) fn draw(app: &App, body: Rect, buf: &mut Buffer) {
    filter_line(app, Rect { height: 1, ..body }, buf);
    let area = Rect {
        y: body.y + 1,
        height: body.height.saturating_sub(1),
        ..body
    };
    if area.height == 0 {
        return;
    }
    let matches = app.filter.matches();
    if matches.is_empty() {
        let text = if app.rows.rows.is_empty() {
            "No accounts or roles are assigned to you in this session.".to_string()
        } else {
            format!(
                "No role matches {}. Esc clears the filter.",
                crate::sanitize::quoted(app.filter.query())
            )
        };
        put_truncated(buf, area.x + 3, area.y, area.width - 3, &text, DIM);
        return;
    }
    let height = usize::from(area.height);
    let offset = window_offset(app.offset, app.selected, height, matches.len());
    let cols = columns(app, area.width);
    let mut matcher = Matcher::new(Config::DEFAULT);
    let mut hl = Vec::new();
    for (line, &index) in matches.iter().skip(offset).take(height).enumerate() {
        let row = &app.rows.rows[index as usize];
        let y = area.y + line as u16;
        let selected = offset + line == app.selected;
        let base = if selected { SELECTED } else { Style::new() };
        if selected {
            buf.set_style(
                Rect {
                    y,
                    height: 1,
                    ..area
                },
                SELECTED,
            );
            put(
                buf,
                area.x,
                y,
                1,
                "›",
                SELECTED.add_modifier(Modifier::BOLD),
            );
        }
        if row.last_used.is_some() {
            put(buf, area.x + 1, y, 1, "★", base.fg(Color::Yellow));
        }
        app.filter.highlights(row, &mut matcher, &mut hl);
        let [name_at, id_at, role_at] = row.field_starts();
        let mut x = area.x + MARK_COLS;
        field(buf, x, y, cols.name, &row.account_name, name_at, &hl, base);
        x += cols.name + GAP;
        if let Some(w) = cols.id {
            let id_style = if selected { base } else { DIM };
            field(buf, x, y, w, &row.account_id, id_at, &hl, id_style);
            x += w + GAP;
        }
        if row.loading {
            put(buf, x, y, cols.role, LOADING, DIM);
        } else {
            field(buf, x, y, cols.role, &row.role, role_at, &hl, base);
        }
    }
}

/// The role column of an account whose roles are still being listed.
const LOADING: &str = "roles loading…";

/// One cell of a row: `text` in `width` columns (cut with `…`), the characters whose
/// haystack position (`start` + index) is in `hl` highlighted.
#[allow(clippy::too_many_arguments)]
fn field(
    buf: &mut Buffer,
    x: u16,
    y: u16,
    width: u16,
    text: &str,
    start: u32,
    hl: &[u32],
    base: Style,
) {
    let width = usize::from(width);
    let cut = text.width() > width;
    let mut used = 0;
    let mut cx = x;
    let mut hl = hl.iter().copied().skip_while(|&i| i < start).peekable();
    for (i, c) in text.chars().enumerate() {
        let w = c.width().unwrap_or(0);
        if cut && used + w + 1 > width {
            put(buf, cx, y, 1, "…", base);
            return;
        }
        let pos = start + i as u32;
        while hl.peek().is_some_and(|&h| h < pos) {
            hl.next();
        }
        let style = if hl.peek() == Some(&pos) {
            base.patch(HIGHLIGHT)
        } else {
            base
        };
        let mut tmp = [0u8; 4];
        put(buf, cx, y, w as u16, c.encode_utf8(&mut tmp), style);
        cx += w as u16;
        used += w;
    }
}

pub(super) fn loading(app: &App, body: Rect, buf: &mut Buffer) {
    let x = body.x + 2;
    let w = body.width.saturating_sub(3);
    let what = match &app.session {
        Some(s) => format!("Loading the accounts of {}…", s.name),
        None => "Starting…".to_string(),
    };
    put_truncated(buf, x, body.y + 1, w, &what, BOLD);
    if let Some((done, total)) = app.progress {
        let text = match total {
            Some(t) => format!("{} of {} accounts", thousands(done), thousands(t)),
            None => format!("{} accounts so far", thousands(done)),
        };
        put_truncated(buf, x, body.y + 3, w, &text, DIM);
    }
}

pub(super) fn loading_hints() -> Vec<Hint> {
    vec![("?", "help", 1), ("Esc", "quit", 0)]
}

pub(super) fn hints(app: &App) -> Vec<Hint> {
    let mut hints = vec![("⏎", "export", 0)];
    if app.focus == Focus::Filter {
        // While typing, the letters go to the filter: Tab first, then the letter.
        hints.push(("Tab", "then", 0));
    }
    hints.extend([
        ("o", "console", 1),
        ("s", "shell", 2),
        ("p", "save profile", 5),
        ("c", "copy", 3),
        ("r", "refresh", 4),
        ("L", "logout", 6),
    ]);
    if app.has_sources() {
        hints.push(("v", "sources", 3));
    }
    if app.focus == Focus::Keys {
        hints.push(("/", "filter", 7));
        hints.extend([("?", "help", 0), ("q", "quit", 0)]);
    } else if app.filter.query().is_empty() {
        hints.extend([("?", "help", 0), ("Esc", "quit", 0)]);
    } else {
        hints.extend([("?", "help", 0), ("Esc", "clear", 0)]);
    }
    hints
}
