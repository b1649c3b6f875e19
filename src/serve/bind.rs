//! Where `portico serve` may listen: loopback addresses only. botocore and the other SDKs take
//! plain `http` for the container endpoint only on loopback (docs/protocol.md), and a server that
//! hands out keys must not be reachable from another machine.

use std::net::{IpAddr, Ipv4Addr};

/// `127.0.0.1`, `127.x.y.z`, `::1`, `[::1]` or `localhost` (taken as 127.0.0.1); anything else
/// is refused with a message that says what is allowed. No name is looked up.
pub fn parse_loopback(text: &str) -> Result<IpAddr, String> {
    if text.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    match bare.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() => Ok(ip),
        Ok(_) => Err(format!(
            "{} is not a loopback address; the credential server listens only on this machine: use 127.0.0.1 (the default), another 127.x.y.z or [::1]",
            crate::sanitize::quoted(text)
        )),
        Err(_) => Err(format!(
            "{} is not an IP address; use 127.0.0.1 (the default), another 127.x.y.z or [::1]",
            crate::sanitize::quoted(text)
        )),
    }
}

/// The address as a URL host: IPv6 in brackets.
pub fn url_host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_only() {
        for ok in ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"] {
            assert!(parse_loopback(ok).unwrap().is_loopback(), "{ok}");
        }
        for bad in [
            "0.0.0.0",
            "::",
            "[::]",
            "192.168.1.5",
            "10.0.0.1",
            "::ffff:127.0.0.1",
            "example.com",
            "",
        ] {
            assert!(parse_loopback(bad).is_err(), "{bad}");
        }
        assert_eq!(url_host("::1".parse().unwrap()), "[::1]");
        assert_eq!(url_host("127.0.0.1".parse().unwrap()), "127.0.0.1");
    }
}
