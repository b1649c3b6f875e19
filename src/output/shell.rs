//! POSIX shell words: quoting a value so that sh, bash and zsh read it back unchanged, and
//! splitting a command line the way those shells (and botocore's `shlex.split`) do. Used by
//! the shell export formats, the `credential_process` lines `profiles sync` writes and the
//! commands `doctor` suggests. By hand: the rules are a few lines, and the crates that quote
//! (`shell-escape`, `shlex`) each use a different safe set than the AWS CLI's bare output.

/// Characters that are literal anywhere in a POSIX shell word, and in fish, PowerShell, cmd and
/// dotenv too. Access keys, secrets, session tokens (base64), timestamps, regions, account IDs,
/// role names and paths use nothing else.
pub fn is_plain(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=_.,:@-".contains(&b))
}

/// `word` as one POSIX shell word: bare when every character is plain (as the AWS CLI prints
/// credentials), else in single quotes, where nothing is special but the quote itself. A word
/// that starts with `=` is quoted too: zsh expands `=cmd` to the path of `cmd`.
pub fn quote(word: &str) -> String {
    if is_plain(word) && !word.starts_with('=') {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Splits a command line as POSIX shells (and botocore's `shlex.split`) do: whitespace
/// separates words, single quotes keep everything, double quotes keep all but `\"` and `\\`,
/// a backslash outside quotes escapes the next character.
pub fn split_command(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(n @ ('"' | '\\' | '$' | '`')) => word.push(n),
                            Some(n) => {
                                word.push('\\');
                                word.push(n);
                            }
                            None => word.push('\\'),
                        },
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_bare_and_others_are_quoted() {
        assert_eq!(quote("/usr/bin/portico"), "/usr/bin/portico");
        assert_eq!(quote("AKIA+/abc=="), "AKIA+/abc==");
        assert_eq!(quote("/opt/my tools/portico"), "'/opt/my tools/portico'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        // `%` starts a job spec and `=` at the start of a word is zsh's `=cmd` expansion.
        assert_eq!(quote("50%"), "'50%'");
        assert_eq!(quote("=ls"), "'=ls'");
        assert_eq!(quote("a=b"), "a=b");
        for odd in [
            "$HOME", "a b", "*", "~", "a;b", "`x`", "a\nb", "{a,b}", "!x", "#x",
        ] {
            assert!(quote(odd).starts_with('\''), "{odd}");
        }
    }

    #[test]
    fn quoted_words_split_back_unchanged() {
        for word in ["it's", "a b", "=ls", "", "$x \\ \"y\"", "/usr/bin/portico"] {
            assert_eq!(
                split_command(&quote(word)),
                vec![word.to_string()],
                "{word}"
            );
        }
    }

    #[test]
    fn command_lines_split_like_shlex() {
        assert_eq!(
            split_command(r#"portico credentials --profile 'my prof' --x "a \"b\" \q" c\ d"#),
            vec![
                "portico",
                "credentials",
                "--profile",
                "my prof",
                "--x",
                r#"a "b" \q"#,
                "c d"
            ]
        );
        assert_eq!(split_command("  "), Vec::<String>::new());
        assert_eq!(split_command("a ''"), vec!["a", ""]);
    }
}
