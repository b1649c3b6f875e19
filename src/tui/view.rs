//! The view: draws an [`App`] into a buffer and reads nothing else. It never changes state,
//! so every screen can be snapshot-tested through ratatui's `TestBackend`.

use nucleo_matcher::{Config, Matcher};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Block, Borders, Clear, Widget};
use time::{Duration, OffsetDateTime};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::action::Popup;
use super::app::{App, Focus, ProfilePrompt, Screen, SignIn, StatusKind};
use super::form::{config_lines, start_url_label, Field, FirstRunForm, Step};
use super::qr::{big_text, QR_STYLE};

const DIM: Style = Style::new().fg(Color::DarkGray);
const BOLD: Style = Style::new().add_modifier(Modifier::BOLD);
const KEY: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
/// Matched characters in the list.
pub const HIGHLIGHT: Style = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
const SELECTED: Style = Style::new().bg(Color::DarkGray).fg(Color::White);
const ERROR: Style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
const NOTE: Style = Style::new().fg(Color::Green);
const CURSOR: &str = "▏";

/// Narrower than this, the account id column is left out.
const ID_COLUMN_MIN_WIDTH: u16 = 80;

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
    header(app, Rect { height: 1, ..area }, buf);
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
            choose_session(app, *selected, body, buf);
            vec![
                ("⏎", "choose", 0),
                ("↑↓", "move", 1),
                ("?", "help", 2),
                ("q", "quit", 0),
            ]
        }
        Screen::FirstRun(form) => {
            first_run(app, form, body, buf);
            match form.step {
                Step::Edit => vec![("⏎", "next", 0), ("Tab", "field", 1), ("Esc", "quit", 0)],
                Step::Confirm => vec![("⏎", "write and sign in", 0), ("Esc", "edit", 0)],
                Step::Saving => vec![],
            }
        }
        Screen::SigningIn(sign_in) => {
            signing_in(app, sign_in, body, buf);
            match sign_in {
                SignIn::Browser { .. } => {
                    vec![
                        ("c", "copy URL", 1),
                        ("d", "device code", 0),
                        ("Esc", "cancel", 0),
                    ]
                }
                SignIn::DeviceCode { .. } => vec![("c", "copy URL", 1), ("Esc", "cancel", 0)],
            }
        }
        Screen::SignedOut { reason } => {
            let y = body.y + 1;
            put(
                buf,
                body.x + 2,
                y,
                body.width - 2,
                &format!("{reason}."),
                BOLD,
            );
            put(
                buf,
                body.x + 2,
                y + 2,
                body.width - 2,
                "Sign in again to list your accounts and roles.",
                Style::new(),
            );
            vec![
                ("⏎", "sign in", 0),
                ("d", "device code", 1),
                ("q", "quit", 0),
            ]
        }
        Screen::Loading => {
            loading(app, body, buf);
            vec![("?", "help", 1), ("Esc", "quit", 0)]
        }
        Screen::List => {
            list(app, body, buf);
            list_hints(app)
        }
    };
    footer(&hints, footer_area, buf);
    if app.help {
        help(app, area, buf);
    }
    if let Some(prompt) = &app.prompt {
        profile_prompt(app, prompt, area, buf);
    }
    if let Some(popup) = &app.popup {
        popup_screen(popup, area, buf);
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

fn list_hints(app: &App) -> Vec<(&'static str, &'static str, u8)> {
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

// ---------------------------------------------------------------------------------------
// Header and footer

fn header(app: &App, area: Rect, buf: &mut Buffer) {
    let sep = " ─ ";
    let session_long = app.session.as_ref().map(|s| {
        let label = start_url_label(&s.start_url).unwrap_or_default();
        format!("{} ({}, {})", s.name, label, s.region)
    });
    let session_short = app.session.as_ref().map(|s| s.name.clone());
    let expiry = app.token_expires_at.map(|at| expiry_text(at, app.now));
    let list_state = if app.refreshing {
        Some("refreshing…".to_string())
    } else {
        app.fetched_at
            .filter(|_| app.loaded)
            .map(|at| format!("refreshed {} ago", short_duration(app.now - at)))
    };
    // The most detailed header that fits: drop the start URL and region, then the list
    // status, then the expiry.
    let candidates = [
        [session_long.clone(), expiry.clone(), list_state.clone()],
        [session_short.clone(), expiry.clone(), list_state.clone()],
        [session_short.clone(), expiry.clone(), None],
        [session_short.clone(), None, None],
    ];
    let width = usize::from(area.width);
    let parts = candidates
        .iter()
        .find(|parts| {
            " portico".width()
                + parts
                    .iter()
                    .flatten()
                    .map(|p| sep.width() + p.width())
                    .sum::<usize>()
                <= width
        })
        .unwrap_or(&candidates[3]);
    let mut x = put(buf, area.x, area.y, area.width, " portico", KEY);
    for (i, part) in parts.iter().enumerate() {
        let Some(part) = part else { continue };
        x = put(buf, x, area.y, area.right().saturating_sub(x), sep, DIM);
        let style = match (i, app.token_expires_at) {
            (1, Some(at)) if at <= app.now => ERROR,
            (1, Some(at)) if (at - app.now).whole_minutes() < 15 => Style::new().fg(Color::Yellow),
            _ => Style::new(),
        };
        let room = area.right().saturating_sub(x);
        x = put_truncated(buf, x, area.y, room, part, style);
    }
}

fn expiry_text(at: OffsetDateTime, now: OffsetDateTime) -> String {
    if at <= now {
        "session expired".into()
    } else {
        format!("session {} left", short_duration(at - now))
    }
}

/// Key hints: `(key, label, priority)`; the least important (highest number) go first when
/// the line is too narrow.
fn footer(hints: &[(&str, &str, u8)], area: Rect, buf: &mut Buffer) {
    let item_width =
        |(k, l, _): &(&str, &str, u8)| k.width() + if l.is_empty() { 0 } else { 1 + l.width() } + 2;
    let mut shown: Vec<&(&str, &str, u8)> = hints.iter().collect();
    while shown.iter().map(|h| item_width(h)).sum::<usize>() + 1 > usize::from(area.width) {
        let Some(drop) = shown
            .iter()
            .enumerate()
            .filter(|(_, h)| h.2 > 0)
            .max_by_key(|(i, h)| (h.2, *i))
            .map(|(i, _)| i)
        else {
            break;
        };
        shown.remove(drop);
    }
    let mut x = area.x + 1;
    for (key, label, _) in shown {
        let room = area.right().saturating_sub(x);
        x = put(buf, x, area.y, room, key, KEY);
        if !label.is_empty() {
            let room = area.right().saturating_sub(x);
            x = put(buf, x, area.y, room, &format!(" {label}"), DIM);
        }
        x = x.saturating_add(2).min(area.right());
    }
}

// ---------------------------------------------------------------------------------------
// The list

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
const GAP: u16 = 2;

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

fn list(app: &App, body: Rect, buf: &mut Buffer) {
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
        field(buf, x, y, cols.role, &row.role, role_at, &hl, base);
    }
}

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

// ---------------------------------------------------------------------------------------
// Other screens

fn choose_session(app: &App, selected: usize, body: Rect, buf: &mut Buffer) {
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

fn first_run(app: &App, form: &FirstRunForm, body: Rect, buf: &mut Buffer) {
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

fn signing_in(app: &App, sign_in: &SignIn, body: Rect, buf: &mut Buffer) {
    let x = body.x + 2;
    let w = body.width.saturating_sub(3);
    let bottom = body.bottom();
    let mut y = body.y + 1;
    match sign_in {
        SignIn::Browser { browser, url } => {
            put(buf, x, y, w, "Signing in through the browser", BOLD);
            y += 2;
            let asked = match browser {
                Some(b) => format!("Asked {b} to open:"),
                // No browser was asked (`--browser none`) or none could start.
                None => "Open this URL in a browser:".to_string(),
            };
            y = wrapped(buf, x, y, w, &asked, Style::new(), bottom);
            y = wrapped(buf, x + 2, y, w.saturating_sub(2), url, NOTE, bottom) + 1;
            for text in [
                "Sign in there; portico goes on by itself once you approve.",
                "No browser came up? Press c to copy the URL and open it yourself, or d to \
                 sign in with a device code instead (for SSH and containers).",
            ] {
                y = wrapped(buf, x, y, w, text, Style::new(), bottom) + 1;
            }
        }
        SignIn::DeviceCode {
            user_code,
            verification_uri,
            expires_at,
            qr,
            ..
        } => {
            put(buf, x, y, w, "Sign in with a device code", BOLD);
            y += 2;
            let big = big_text(user_code);
            let big_w = big.as_ref().map_or(0, |b| b[0].width() as u16);
            let text_w = big_w.max(verification_uri.width() as u16 + 3).max(40);
            let top = y;
            y = wrapped(buf, x, y, w, "1. On any device, open", Style::new(), bottom);
            y = wrapped(
                buf,
                x + 3,
                y,
                w.saturating_sub(3),
                verification_uri,
                NOTE,
                bottom,
            );
            y = wrapped(
                buf,
                x,
                y + 1,
                w,
                "2. and enter the code",
                Style::new(),
                bottom,
            );
            match &big {
                Some(lines) if big_w + 3 <= w && y + 4 < bottom => {
                    for line in lines {
                        put(buf, x + 3, y, w - 3, line, BOLD);
                        y += 1;
                    }
                    put(buf, x + 3, y, w - 3, &format!("({user_code})"), DIM);
                    y += 1;
                }
                _ => {
                    put(buf, x + 3, y, w - 3, user_code, KEY);
                    y += 1;
                }
            }
            y += 1;
            let left = *expires_at - app.now;
            let countdown = if left <= Duration::ZERO {
                "The code has expired: press Esc and sign in again.".to_string()
            } else {
                let s = left.whole_seconds();
                format!(
                    "The code expires in {}:{:02}. Waiting for approval…",
                    s / 60,
                    s % 60
                )
            };
            y = wrapped(buf, x, y, w, &countdown, DIM, bottom) + 1;
            if let Some(qr) = qr {
                let (qw, qh) = qr.size();
                let beside = x + text_w + 4;
                if beside + qw <= body.right() && top + qh <= bottom {
                    qr.render(Rect::new(beside, top, qw, qh), buf);
                } else if y + 1 + qh <= bottom && x + qw <= body.right() {
                    put(buf, x, y, w, "or scan this with a phone:", Style::new());
                    qr.render(Rect::new(x, y + 1, qw, qh), buf);
                } else {
                    wrapped(
                        buf,
                        x,
                        y,
                        w,
                        "(a larger terminal shows a QR code to scan with a phone)",
                        DIM,
                        bottom,
                    );
                }
            }
        }
    }
}

fn loading(app: &App, body: Rect, buf: &mut Buffer) {
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

fn help(app: &App, area: Rect, buf: &mut Buffer) {
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

fn profile_prompt(app: &App, prompt: &ProfilePrompt, area: Rect, buf: &mut Buffer) {
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
fn popup_screen(popup: &Popup, area: Rect, buf: &mut Buffer) {
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
