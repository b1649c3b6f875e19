//! The `clock` check's judgement: this machine's clock against the `Date` header of an
//! endpoint's answer.

use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use super::Status;
use crate::cache::token::format_time;

/// How far this machine's clock is from the server's, judged from a `Date` header (whole
/// seconds) received between `sent` and `received`; the allowance covers both uncertainties.
pub fn clock_finding(
    sent: OffsetDateTime,
    received: OffsetDateTime,
    server: OffsetDateTime,
) -> (Status, String) {
    let half: Duration = (received - sent) / 2;
    let local = sent + half;
    // The header is truncated to the second: the server's time was in [server, server + 1 s).
    let skew: Duration = local - (server + Duration::milliseconds(500));
    let allowance = half + Duration::milliseconds(500);
    let beyond = (skew.abs() - allowance).max(Duration::ZERO);
    let direction = if skew.is_positive() {
        "ahead of"
    } else {
        "behind"
    };
    if beyond <= Duration::seconds(60) {
        return (
            Status::Pass,
            format!(
                "this clock is within {} of Identity Center's",
                crate::output::duration::spoken(skew.abs().max(Duration::seconds(1)))
            ),
        );
    }
    let text = format!(
        "this clock is {} {direction} Identity Center's (server time {})",
        crate::output::duration::spoken(beyond),
        format_time(server)
    );
    if beyond <= Duration::minutes(5) {
        (Status::Warn, text)
    } else {
        (
            Status::Fail,
            format!("{text}: token and credential expiry are misjudged by that much"),
        )
    }
}

/// An HTTP `Date` header (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn parse_http_date(text: &str) -> Option<OffsetDateTime> {
    PrimitiveDateTime::parse(
        text.trim(),
        format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        ),
    )
    .ok()
    .map(PrimitiveDateTime::assume_utc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn http_dates_parse() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(datetime!(1994-11-06 08:49:37 UTC))
        );
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_http_date(""), None);
    }

    #[test]
    fn clock_skew_is_judged_with_allowances() {
        let t = datetime!(2026-03-01 12:00:00 UTC);
        let ms = Duration::milliseconds;
        // Same clock, answer in 200 ms: pass.
        let (s, m) = clock_finding(t, t + ms(200), t);
        assert_eq!(s, Status::Pass, "{m}");
        // 90 s ahead: warn; 10 min behind: fail.
        let (s, m) = clock_finding(t, t + ms(200), t - Duration::seconds(90));
        assert_eq!(s, Status::Warn);
        assert!(m.contains("ahead of"), "{m}");
        let (s, m) = clock_finding(t, t + ms(200), t + Duration::minutes(10));
        assert_eq!(s, Status::Fail);
        assert!(m.contains("behind") && m.contains("misjudged"), "{m}");
        // A slow answer widens the allowance: 61 s off with a 4 s round trip still passes.
        let (s, _) = clock_finding(
            t,
            t + Duration::seconds(4),
            t - Duration::seconds(61) + ms(2000),
        );
        assert_eq!(s, Status::Pass);
    }
}
