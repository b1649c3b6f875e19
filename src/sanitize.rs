//! Cleaning untrusted text (account and role names, server messages, config lines) before it
//! reaches a terminal, so that escape sequences cannot move the cursor or recolour the screen.

/// Replaces control characters (C0, DEL, C1) with `�`, keeping ordinary spaces.
pub fn for_terminal(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// Text the user typed or a file holds, in double quotes and cleaned, for messages that name
/// it ("profile \"dev\" …"); Rust's `{:?}` is not used for that, since its escapes are
/// Rust's, not the user's.
pub fn quoted(text: &str) -> String {
    format!("\"{}\"", for_terminal(text))
}

#[cfg(test)]
mod tests {
    use super::{for_terminal, quoted};

    #[test]
    fn quotes_and_cleans() {
        assert_eq!(quoted("eu west"), "\"eu west\"");
        assert_eq!(quoted("a\u{1b}[31m"), "\"a\u{fffd}[31m\"");
    }

    #[test]
    fn strips_escapes_and_c1() {
        assert_eq!(
            for_terminal("a\u{1b}[2Jb\u{9b}c\td"),
            "a\u{fffd}[2Jb\u{fffd}c\u{fffd}d"
        );
        assert_eq!(
            for_terminal("payments-prod – ünïcode"),
            "payments-prod – ünïcode"
        );
    }
}
