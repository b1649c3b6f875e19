//! Durations as portico says them, in two registers: compact for tight places (a status line,
//! `portico status`), spoken for sentences (doctor's findings, the sign-in's time limit).

use time::Duration;

/// `45s`, `12m`, `7h59m`, `2d3h`; negative durations read `0s`.
pub fn compact(d: Duration) -> String {
    let s = d.whole_seconds().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{}h", s / 86400, s % 86400 / 3600),
    }
}

/// `42 s`, `5 min`, `5 min 3 s`, `3 h 12 min`, `1 h`; negative durations read `0 s`.
pub fn spoken(d: Duration) -> String {
    let secs = d.whole_seconds().max(0);
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s} s"),
        (0, m) if s == 0 => format!("{m} min"),
        (0, m) => format!("{m} min {s} s"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// [`spoken`] for a std duration (timeouts, limits).
pub fn spoken_std(d: std::time::Duration) -> String {
    spoken(Duration::seconds(
        i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_durations_read_naturally() {
        assert_eq!(compact(Duration::seconds(28_740)), "7h59m");
        assert_eq!(compact(Duration::seconds(720)), "12m");
        assert_eq!(compact(Duration::seconds(45)), "45s");
        assert_eq!(compact(Duration::seconds(-5)), "0s");
        assert_eq!(compact(Duration::seconds(2 * 86400 + 3 * 3600 + 5)), "2d3h");
    }

    #[test]
    fn spoken_durations_read_well() {
        assert_eq!(spoken(Duration::seconds(42)), "42 s");
        assert_eq!(spoken(Duration::seconds(300)), "5 min");
        assert_eq!(spoken(Duration::seconds(303)), "5 min 3 s");
        assert_eq!(spoken(Duration::seconds(90)), "1 min 30 s");
        assert_eq!(spoken(Duration::seconds(3 * 3600 + 720 + 5)), "3 h 12 min");
        assert_eq!(spoken(Duration::seconds(3600)), "1 h");
        assert_eq!(spoken(Duration::seconds(-1)), "0 s");
        assert_eq!(spoken_std(std::time::Duration::from_secs(600)), "10 min");
    }
}
