//! The bearer token a client of `portico serve` must send: 256 random bits from the operating
//! system, written as 64 hex digits, checked in constant time so that response timing says
//! nothing about how much of a guess was right.

use subtle::ConstantTimeEq;

use crate::secret::Secret;

/// Random bytes in a token (256 bits).
const BYTES: usize = 32;

/// The server's token. `Debug` never shows it (it is a [`Secret`]).
#[derive(Debug, Clone)]
pub struct Token(Secret);

impl Token {
    /// A new token from the operating system's random source.
    pub fn generate() -> std::io::Result<Token> {
        let mut bytes = [0u8; BYTES];
        getrandom::fill(&mut bytes)
            .map_err(|e| std::io::Error::other(format!("no random numbers from the OS: {e}")))?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Token(Secret::new(hex)))
    }

    /// Whether `presented` (an `Authorization` header value, verbatim) is this token: every
    /// byte equal and nothing more or less. The comparison takes the same time wherever the
    /// first difference is; only a difference in length is told apart sooner.
    pub fn matches(&self, presented: &[u8]) -> bool {
        self.0.expose().as_bytes().ct_eq(presented).into()
    }

    /// Writes the token to `path`, a file that must not exist yet: mode 0600, written whole
    /// in a temporary file beside it and then linked into place, so a reader never sees half a
    /// token and an existing file is never replaced. The directory is left as it is (it is
    /// the user's choice, and may be shared with other files).
    pub fn write_new(&self, path: &std::path::Path) -> std::io::Result<()> {
        use std::io::Write;
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => std::path::Path::new("."),
        };
        // tempfile creates the file with mode 0600 and removes it if this fails half-way.
        let mut tmp = tempfile::Builder::new()
            .prefix(".portico-token-")
            .tempfile_in(dir)?;
        tmp.write_all(self.expose().as_bytes())?;
        tmp.as_file().sync_all()?;
        tmp.persist_noclobber(path).map_err(|e| e.error)?;
        Ok(())
    }

    /// The token itself, for the one place that hands it to the client.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bits_and_differ() {
        let a = Token::generate().unwrap();
        let b = Token::generate().unwrap();
        assert_eq!(a.expose().len(), 64);
        assert!(a.expose().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.expose(), b.expose());
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[test]
    fn only_the_exact_token_matches() {
        let t = Token::generate().unwrap();
        let exact = t.expose().as_bytes().to_vec();
        assert!(t.matches(&exact));
        let mut one_off = exact.clone();
        one_off[63] ^= 1;
        assert!(!t.matches(&one_off));
        assert!(!t.matches(&exact[..63]));
        assert!(!t.matches(&[exact.as_slice(), b"\n"].concat()));
        assert!(!t.matches(b""));
    }

    #[test]
    fn the_token_file_is_new_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        let t = Token::generate().unwrap();
        t.write_new(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), t.expose());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let other = Token::generate().unwrap();
        let err = other.write_new(&path).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), t.expose());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }
}
