//! Plain-text tables for listings (`portico list`): columns as wide as their widest cell,
//! measured in terminal cells (unicode-width, so wide and combining characters line up), and,
//! when a terminal width is given, the widest columns cut with an ellipsis until a row fits.
//! Cells must already be cleaned for the terminal (`sanitize::for_terminal`).

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Space between columns.
const GAP: &str = "  ";
/// No column is cut narrower than this (or its header, if shorter).
const MIN_CUT: usize = 12;

/// The table as lines, each ending in `\n`. The last column is not padded. With
/// `max_width`, the widest columns other than the first are shortened (with `…`) while a row
/// would be wider than it; without, nothing is cut (for pipes and files).
pub fn render(header: &[&str], rows: &[Vec<String>], max_width: Option<usize>) -> String {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.width());
        }
    }
    if let Some(max) = max_width {
        shrink(&mut widths, header, max);
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().take(columns).enumerate() {
            if i > 0 {
                line.push_str(GAP);
            }
            let last = i + 1 == columns;
            line.push_str(&fit(cell, widths[i], !last));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Narrows the widest cuttable column one cell at a time until the row fits `max`.
fn shrink(widths: &mut [usize], header: &[&str], max: usize) {
    let total = |w: &[usize]| w.iter().sum::<usize>() + GAP.len() * w.len().saturating_sub(1);
    let floor: Vec<usize> = header.iter().map(|h| h.width().max(MIN_CUT)).collect();
    while total(widths) > max {
        let widest = (1..widths.len())
            .filter(|&i| widths[i] > floor[i])
            .max_by_key(|&i| (widths[i], i));
        match widest {
            Some(i) => widths[i] -= 1,
            None => break,
        }
    }
}

/// `text` in exactly `width` cells (when `pad`), cut with `…` if it is wider.
fn fit(text: &str, width: usize, pad: bool) -> String {
    let mut out = truncate(text, width).into_owned();
    if pad {
        let used = out.width();
        out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    }
    out
}

/// `text` cut to `width` terminal cells, ending in `…` when cut (the list table and the
/// portal's rows share it).
pub fn truncate(text: &str, width: usize) -> std::borrow::Cow<'_, str> {
    if text.width() <= width {
        return text.into();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    if width > 0 {
        out.push('…');
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(cells: &[[&str; 3]]) -> Vec<Vec<String>> {
        cells
            .iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    }

    /// The display column where each line's `n`-th column starts (after runs of 2+ spaces).
    fn starts(line: &str) -> Vec<usize> {
        let mut cols = vec![0];
        let mut at = 0;
        let mut spaces = 0;
        for c in line.chars() {
            if c == ' ' {
                spaces += 1;
            } else {
                if spaces >= 2 {
                    cols.push(at);
                }
                spaces = 0;
            }
            at += c.width().unwrap_or(0);
        }
        cols
    }

    #[test]
    fn columns_fit_the_longest_cell_in_terminal_cells() {
        let table = render(
            &["ID", "EMAIL", "ROLES"],
            &rows(&[
                [
                    "1",
                    "a-very-long-address-for-the-platform-team@example.com",
                    "Admin",
                ],
                ["2", "短い@例え.jp", "ReadOnly"],
                ["3", "x@y", "Billing, Admin"],
            ]),
            None,
        );
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4);
        for line in &lines {
            assert_eq!(starts(line), starts(lines[0]), "{table}");
        }
        assert!(!table.contains('…'));
        assert!(lines.iter().all(|l| !l.ends_with(' ')));
    }

    #[test]
    fn a_terminal_width_cuts_the_widest_column_with_an_ellipsis() {
        let long = "a-very-long-address-for-the-platform-team@example.com";
        let table = render(
            &["ID", "EMAIL", "ROLES"],
            &rows(&[["1", long, "Admin"], ["2", "x@y", "ReadOnly"]]),
            Some(40),
        );
        let lines: Vec<&str> = table.lines().collect();
        for line in &lines {
            assert!(line.width() <= 40, "{line:?} is {} wide", line.width());
            assert_eq!(starts(line), starts(lines[0]), "{table}");
        }
        assert!(
            lines[1].contains("a-very-long") && lines[1].contains('…'),
            "{table}"
        );
        // Too narrow for anything: columns stop at their floor rather than vanish.
        let narrow = render(
            &["ID", "EMAIL", "ROLES"],
            &rows(&[["1", long, "Admin"]]),
            Some(5),
        );
        assert!(
            narrow.lines().nth(1).unwrap().contains("a-very-long…"),
            "{narrow}"
        );
    }
}
