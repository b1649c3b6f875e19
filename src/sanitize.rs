//! Cleaning untrusted text (account and role names, server messages, config lines) before it
//! reaches a terminal, so that escape sequences cannot move the cursor or recolour the screen.

/// Replaces control characters (C0, DEL, C1) with `�`, keeping ordinary spaces.
pub fn for_terminal(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::for_terminal;

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
