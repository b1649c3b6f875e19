//! The lines around every screen: the header (the session, how long its sign-in lasts, how
//! old the list is) and the footer of key hints.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use time::OffsetDateTime;
use unicode_width::UnicodeWidthStr;

use super::{put, put_truncated, short_duration, DIM, ERROR, KEY};
use crate::tui::app::App;
use crate::tui::form::start_url_label;

pub(super) fn header(app: &App, area: Rect, buf: &mut Buffer) {
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
pub(super) fn footer(hints: &[(&str, &str, u8)], area: Rect, buf: &mut Buffer) {
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
// Other screens
