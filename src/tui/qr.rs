//! The device-code screen's QR code and large-type user code, drawn with Unicode half
//! blocks so that one terminal cell holds two rows of pixels.

use qrcode::{Color as QrColor, EcLevel, QrCode};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};

/// The QR code's colours. Kept under NO_COLOR too: the code is a picture for a phone to
/// scan, not decoration, and the terminal's own colours may be light on dark.
pub(crate) const QR_STYLE: Style = Style::new().fg(Color::Black).bg(Color::White);

/// A QR code's modules, dark = true, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrModules {
    width: usize,
    dark: Vec<bool>,
}

/// Light modules around the code; scanners want some, terminals have little room.
const QUIET: usize = 2;

impl QrModules {
    /// Encodes `text` with the lowest error correction (the smallest code): a screen is not
    /// a scuffed sticker.
    pub fn encode(text: &str) -> Option<QrModules> {
        let code = QrCode::with_error_correction_level(text, EcLevel::L).ok()?;
        let width = code.width();
        let dark = code
            .to_colors()
            .into_iter()
            .map(|c| c == QrColor::Dark)
            .collect();
        Some(QrModules { width, dark })
    }

    /// Terminal columns and rows the code takes, quiet zone included.
    pub fn size(&self) -> (u16, u16) {
        let side = self.width + 2 * QUIET;
        (side as u16, side.div_ceil(2) as u16)
    }

    fn is_dark(&self, x: usize, y: usize) -> bool {
        let (Some(x), Some(y)) = (x.checked_sub(QUIET), y.checked_sub(QUIET)) else {
            return false;
        };
        x < self.width && y < self.width && self.dark[y * self.width + x]
    }

    /// Draws black on white (`QR_STYLE`) whatever the terminal's colours, so phones can read it on dark
    /// themes too. Does nothing if the area is too small.
    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        let (w, h) = self.size();
        if area.width < w || area.height < h {
            return;
        }
        let style = QR_STYLE;
        for row in 0..h {
            for col in 0..w {
                let (x, y) = (usize::from(col), usize::from(row) * 2);
                let symbol = match (self.is_dark(x, y), self.is_dark(x, y + 1)) {
                    (true, true) => "█",
                    (true, false) => "▀",
                    (false, true) => "▄",
                    (false, false) => " ",
                };
                buf[(area.x + col, area.y + row)]
                    .set_symbol(symbol)
                    .set_style(style);
            }
        }
    }
}

/// 5×5 glyphs for device user codes (`ABCD-EFGH`): letters, digits and the hyphen.
fn glyph(c: char) -> Option<[&'static str; 5]> {
    Some(match c.to_ascii_uppercase() {
        'A' => [".###.", "#...#", "#####", "#...#", "#...#"],
        'B' => ["####.", "#...#", "####.", "#...#", "####."],
        'C' => [".####", "#....", "#....", "#....", ".####"],
        'D' => ["####.", "#...#", "#...#", "#...#", "####."],
        'E' => ["#####", "#....", "####.", "#....", "#####"],
        'F' => ["#####", "#....", "####.", "#....", "#...."],
        'G' => [".####", "#....", "#..##", "#...#", ".####"],
        'H' => ["#...#", "#...#", "#####", "#...#", "#...#"],
        'I' => ["#####", "..#..", "..#..", "..#..", "#####"],
        'J' => ["..###", "...#.", "...#.", "#..#.", ".##.."],
        'K' => ["#...#", "#..#.", "###..", "#..#.", "#...#"],
        'L' => ["#....", "#....", "#....", "#....", "#####"],
        'M' => ["#...#", "##.##", "#.#.#", "#...#", "#...#"],
        'N' => ["#...#", "##..#", "#.#.#", "#..##", "#...#"],
        'O' => [".###.", "#...#", "#...#", "#...#", ".###."],
        'P' => ["####.", "#...#", "####.", "#....", "#...."],
        'Q' => [".###.", "#...#", "#.#.#", "#..#.", ".##.#"],
        'R' => ["####.", "#...#", "####.", "#..#.", "#...#"],
        'S' => [".####", "#....", ".###.", "....#", "####."],
        'T' => ["#####", "..#..", "..#..", "..#..", "..#.."],
        'U' => ["#...#", "#...#", "#...#", "#...#", ".###."],
        'V' => ["#...#", "#...#", "#...#", ".#.#.", "..#.."],
        'W' => ["#...#", "#...#", "#.#.#", "##.##", "#...#"],
        'X' => ["#...#", ".#.#.", "..#..", ".#.#.", "#...#"],
        'Y' => ["#...#", ".#.#.", "..#..", "..#..", "..#.."],
        'Z' => ["#####", "...#.", "..#..", ".#...", "#####"],
        '0' => [".###.", "#..##", "#.#.#", "##..#", ".###."],
        '1' => ["..#..", ".##..", "..#..", "..#..", ".###."],
        '2' => [".###.", "#...#", "..##.", ".#...", "#####"],
        '3' => ["####.", "....#", ".###.", "....#", "####."],
        '4' => ["#...#", "#...#", "#####", "....#", "....#"],
        '5' => ["#####", "#....", "####.", "....#", "####."],
        '6' => [".###.", "#....", "####.", "#...#", ".###."],
        '7' => ["#####", "....#", "...#.", "..#..", "..#.."],
        '8' => [".###.", "#...#", ".###.", "#...#", ".###."],
        '9' => [".###.", "#...#", ".####", "....#", ".###."],
        '-' => [".....", ".....", ".###.", ".....", "....."],
        _ => return None,
    })
}

/// `text` in large type, three lines high, or `None` if a character has no glyph.
pub fn big_text(text: &str) -> Option<[String; 3]> {
    let glyphs: Vec<[&str; 5]> = text.chars().map(glyph).collect::<Option<_>>()?;
    let mut lines: [String; 3] = Default::default();
    for (n, g) in glyphs.iter().enumerate() {
        for (line, out) in lines.iter_mut().enumerate() {
            if n > 0 {
                out.push(' ');
            }
            let top = g[line * 2].as_bytes();
            let bottom = g.get(line * 2 + 1).map(|r| r.as_bytes());
            for x in 0..5 {
                let t = top[x] == b'#';
                let b = bottom.is_some_and(|r| r[x] == b'#');
                out.push(match (t, b) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                });
            }
        }
    }
    Some(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_code_is_three_lines() {
        let lines = big_text("AB-1").unwrap();
        assert_eq!(lines[0].chars().count(), 4 * 6 - 1);
        assert_eq!(lines[0], "▄▀▀▀▄ █▀▀▀▄        ▄█  ");
        assert!(big_text("a~").is_none());
    }

    #[test]
    fn qr_has_quiet_zone_and_half_height() {
        let qr =
            QrModules::encode("https://device.sso.eu-central-1.amazonaws.com/?user_code=ABCD-EFGH")
                .unwrap();
        let (w, h) = qr.size();
        assert_eq!(usize::from(w), qr.width + 4);
        assert_eq!(h, w.div_ceil(2));
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        qr.render(buf.area, &mut buf);
        // The finder pattern's top-left corner, after two light modules of quiet zone.
        assert_eq!(buf[(2, 1)].symbol(), "█");
        assert_eq!(buf[(0, 0)].symbol(), " ");
        // Every module reads back from the half blocks.
        for y in 0..usize::from(h) * 2 {
            for x in 0..usize::from(w) {
                let cell = buf[(x as u16, (y / 2) as u16)].symbol();
                let (top, bottom) = match cell {
                    "█" => (true, true),
                    "▀" => (true, false),
                    "▄" => (false, true),
                    _ => (false, false),
                };
                let read = if y % 2 == 0 { top } else { bottom };
                assert_eq!(read, qr.is_dark(x, y), "module {x},{y}");
            }
        }
    }
}
