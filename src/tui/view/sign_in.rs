//! Signing in: through the browser (its URL), with a device code (the code in big letters, a
//! countdown and a QR code), and the screen left when there is no sign-in.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use time::Duration;
use unicode_width::UnicodeWidthStr;

use super::{put, wrapped, Hint, BOLD, DIM, KEY, NOTE};
use crate::identity::LoginEvent;
use crate::tui::app::{App, SignIn};
use crate::tui::qr::big_text;

pub(super) fn draw(app: &App, sign_in: &SignIn, body: Rect, buf: &mut Buffer) {
    let x = body.x + 2;
    let w = body.width.saturating_sub(3);
    let bottom = body.bottom();
    let mut y = body.y + 1;
    match &sign_in.prompt {
        LoginEvent::Browser { opener, url } => {
            put(buf, x, y, w, "Signing in through the browser", BOLD);
            y += 2;
            let asked = match opener {
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
        LoginEvent::DeviceCode {
            user_code,
            verification_uri,
            expires_at,
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
            if let Some(qr) = &sign_in.qr {
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

pub(super) fn hints(sign_in: &SignIn) -> Vec<Hint> {
    match sign_in.prompt {
        LoginEvent::Browser { .. } => {
            vec![
                ("c", "copy URL", 1),
                ("d", "device code", 0),
                ("Esc", "cancel", 0),
            ]
        }
        LoginEvent::DeviceCode { .. } => vec![("c", "copy URL", 1), ("Esc", "cancel", 0)],
    }
}

/// No token and no sign-in under way: why, and what to do.
pub(super) fn signed_out(reason: &str, body: Rect, buf: &mut Buffer) {
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
}

pub(super) fn signed_out_hints() -> Vec<Hint> {
    vec![
        ("⏎", "sign in", 0),
        ("d", "device code", 1),
        ("q", "quit", 0),
    ]
}
