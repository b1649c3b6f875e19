//! Which proxy a request goes through, and why: the environment read as curl and botocore read
//! it. `https_proxy`/`HTTPS_PROXY` for https URLs, `http_proxy`/`HTTP_PROXY` for http ones,
//! `all_proxy`/`ALL_PROXY` for both (the lowercase name wins, as in curl and Python's urllib;
//! an empty value is unset); `no_proxy`/`NO_PROXY` is a comma list of exact hosts, domain
//! suffixes with or without a leading dot (or `*.`), IP addresses, CIDR blocks, `host:port`
//! entries and `*`. Loopback (`localhost`, `*.localhost`, 127.0.0.0/8, ::1) is never proxied
//! unless `PORTICO_PROXY_LOOPBACK=1` asks for it: the credential server, the sign-in listeners
//! and a local emulator must stay reachable behind a proxy that cannot reach this machine.
//!
//! hyper-util's `Matcher` (which the SDK's `ProxyConfig::from_env` uses) reads the same
//! variables, but knows neither ports in NO_PROXY nor the loopback rule, and cannot say *why*
//! it chose a route (doctor and error messages need that); so the choice is made here, by
//! hand, and the chosen proxy is then handed to the SDK's own `ProxyConfig`, whose connector
//! (hyper-util's `Tunnel`) does the CONNECT and the `Proxy-Authorization: Basic`.

use std::net::IpAddr;

use ipnet::IpNet;

/// The variable that lets loopback destinations go through the proxy (tests do, to put a
/// proxy between portico and the emulator on 127.0.0.1).
pub const PROXY_LOOPBACK_VAR: &str = "PORTICO_PROXY_LOOPBACK";

/// A proxy from the environment: the URL as written (credentials included; never shown), and
/// the variable it came from.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    url: url::Url,
    /// `HTTPS_PROXY`, `https_proxy`, `ALL_PROXY`, …: what the user has to look at.
    pub var: &'static str,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Proxy({} from {})", self.shown(), self.var)
    }
}

impl Proxy {
    /// The URL with its password masked: safe for any output.
    pub fn shown(&self) -> String {
        let mut url = self.url.clone();
        if url.password().is_some() {
            let _ = url.set_password(Some("****"));
        }
        url.as_str().trim_end_matches('/').to_string()
    }

    /// The URL as the connector needs it (credentials still percent-encoded; hyper-util
    /// percent-decodes them into `Proxy-Authorization: Basic`). Never print this.
    pub(crate) fn connect_url(&self) -> &str {
        self.url.as_str()
    }

    /// Whether the URL carries a user name (and so a `Proxy-Authorization` header).
    pub fn has_credentials(&self) -> bool {
        !self.url.username().is_empty()
    }

    /// The `Proxy-Authorization` value for the URL's credentials (percent-decoded), as
    /// hyper-util makes it for the requests themselves. Never print this.
    pub(crate) fn basic_auth(&self) -> Option<String> {
        use base64::Engine;
        if self.url.username().is_empty() {
            return None;
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let pair = format!(
            "{}:{}",
            decode(self.url.username()),
            decode(self.url.password().unwrap_or_default())
        );
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        ))
    }

    /// Whether the proxy itself is reached over TLS (`https://` proxy URL).
    pub fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }

    /// `host:port` of the proxy itself.
    pub fn address(&self) -> (String, u16) {
        let host = self
            .url
            .host_str()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        (host, self.url.port_or_known_default().unwrap_or(80))
    }
}

/// How a request to one URL goes out, and why (for doctor and -v).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Direct {
        why: String,
    },
    Proxy {
        proxy: Proxy,
        why: String,
    },
    /// A proxy variable is set but cannot be used (not a URL, a SOCKS proxy).
    Unusable {
        var: &'static str,
        why: String,
    },
}

impl Route {
    pub fn proxy(&self) -> Option<&Proxy> {
        match self {
            Route::Proxy { proxy, .. } => Some(proxy),
            _ => None,
        }
    }

    /// One phrase: "direct (NO_PROXY entry .corp)", "through http://proxy:3128 (HTTPS_PROXY)".
    pub fn describe(&self) -> String {
        match self {
            Route::Direct { why } => format!("direct ({why})"),
            Route::Proxy { proxy, why } => format!("through the proxy {} ({why})", proxy.shown()),
            Route::Unusable { var, why } => format!("{var} is not usable: {why}"),
        }
    }
}

/// The route for `url` from the process environment.
pub fn route(url: &str) -> Route {
    route_with(url, &|name| std::env::var(name).ok())
}

/// The route for `url` with the environment given as a lookup (tests).
pub fn route_with(url: &str, env: &dyn Fn(&str) -> Option<String>) -> Route {
    let get = |names: &[&'static str]| -> Option<(&'static str, String)> {
        names.iter().find_map(|name| {
            env(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .map(|v| (*name, v))
        })
    };
    let Ok(parsed) = url::Url::parse(url) else {
        return Route::Direct {
            why: "not a URL".to_string(),
        };
    };
    let Some(host) = parsed.host_str() else {
        return Route::Direct {
            why: "no host".to_string(),
        };
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = parsed.port_or_known_default().unwrap_or(0);
    let https = parsed.scheme() == "https";
    let vars: &[&'static str] = if https {
        &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
    } else if env("REQUEST_METHOD").is_some() {
        // As curl and Go: under CGI, HTTP_PROXY may come from a client's `Proxy:` header.
        &["http_proxy", "all_proxy", "ALL_PROXY"]
    } else {
        &["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
    };
    let Some((var, value)) = get(vars) else {
        return Route::Direct {
            why: format!("no {} set", vars.join("/")),
        };
    };
    if let Some((no_var, list)) = get(&["no_proxy", "NO_PROXY"]) {
        if let Some(entry) = no_proxy_match(&list, host, port) {
            return Route::Direct {
                why: format!("{no_var} entry {}", crate::sanitize::for_terminal(&entry)),
            };
        }
    }
    if is_loopback(host) && env(PROXY_LOOPBACK_VAR).as_deref() != Some("1") {
        return Route::Direct {
            why: format!("{host} is loopback, never proxied unless {PROXY_LOOPBACK_VAR}=1"),
        };
    }
    match parse_proxy(&value) {
        Ok(url) => Route::Proxy {
            proxy: Proxy { url, var },
            why: var.to_string(),
        },
        Err(why) => Route::Unusable { var, why },
    }
}

/// A proxy URL as curl takes it: a missing scheme means `http://`; http and https only.
fn parse_proxy(value: &str) -> Result<url::Url, String> {
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    // Never echo the value: it may hold a password.
    let url = url::Url::parse(&with_scheme).map_err(|e| {
        format!("not a proxy URL ({e}); write it as http://[user:password@]host:port")
    })?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(format!(
                "{other} proxies are not supported; use an HTTP proxy (http://host:port)"
            ))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the proxy URL has no host; write it as http://host:port".to_string());
    }
    Ok(url)
}

/// Whether `host` is this machine: `localhost`, `*.localhost`, 127.0.0.0/8, ::1.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    match host.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => {
            host.eq_ignore_ascii_case("localhost")
                || host.to_ascii_lowercase().ends_with(".localhost")
        }
    }
}

/// The NO_PROXY entry that covers `host:port`, if one does.
fn no_proxy_match(list: &str, host: &str, port: u16) -> Option<String> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let ip: Option<IpAddr> = host.parse().ok();
    for raw in list.split([',', ' ']) {
        let entry = raw.trim();
        if entry.is_empty() {
            continue;
        }
        if entry == "*" {
            return Some("*".to_string());
        }
        let (name, entry_port) = split_port(entry);
        if entry_port.is_some_and(|p| p != port) {
            continue;
        }
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let hit = match (ip, name.parse::<IpNet>(), name.parse::<IpAddr>()) {
            (Some(ip), Ok(net), _) => net.contains(&ip),
            (Some(ip), _, Ok(addr)) => ip == addr,
            (Some(_), _, _) => false,
            (None, _, _) => {
                let suffix = name
                    .strip_prefix("*.")
                    .or_else(|| name.strip_prefix('.'))
                    .unwrap_or(&name);
                !suffix.is_empty()
                    && (host == suffix
                        || host
                            .strip_suffix(suffix)
                            .is_some_and(|rest| rest.ends_with('.')))
            }
        };
        if hit {
            return Some(entry.to_string());
        }
    }
    None
}

/// `host:port` → (host, port); `[::1]:8080` → (::1, 8080); a bare IPv6 address or CIDR block
/// has no port.
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        if let Some((addr, after)) = rest.split_once(']') {
            return (addr, after.strip_prefix(':').and_then(|p| p.parse().ok()));
        }
    }
    match entry.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => match port.parse() {
            Ok(port) => (name, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    fn via(url: &str, pairs: &[(&str, &str)]) -> Option<String> {
        route_with(url, &env(pairs)).proxy().map(|p| p.shown())
    }

    #[test]
    fn the_variable_follows_the_scheme() {
        let e = [
            ("HTTPS_PROXY", "http://secure:3128"),
            ("HTTP_PROXY", "http://plain:3128"),
        ];
        assert_eq!(
            via("https://oidc.eu-west-1.amazonaws.com", &e).as_deref(),
            Some("http://secure:3128")
        );
        assert_eq!(
            via("http://example.com/x", &e).as_deref(),
            Some("http://plain:3128")
        );
        // ALL_PROXY is the fallback; lowercase wins over uppercase, as in curl.
        let e = [
            ("ALL_PROXY", "proxy:8080"),
            ("https_proxy", "http://lower:1"),
        ];
        assert_eq!(
            via("https://a.example", &e).as_deref(),
            Some("http://lower:1")
        );
        assert_eq!(
            via("http://a.example", &e).as_deref(),
            Some("http://proxy:8080")
        );
        // Empty is unset.
        assert_eq!(via("https://a.example", &[("HTTPS_PROXY", "")]), None);
        // Under CGI, HTTP_PROXY is not trusted.
        assert_eq!(
            via(
                "http://a.example",
                &[("HTTP_PROXY", "http://evil:1"), ("REQUEST_METHOD", "GET")]
            ),
            None
        );
    }

    #[test]
    fn no_proxy_entries_as_curl_reads_them() {
        let p = ("HTTPS_PROXY", "http://proxy:3128");
        let direct = |url: &str, list: &str| via(url, &[p, ("NO_PROXY", list)]).is_none();
        assert!(direct("https://sso.corp.example", "corp.example"));
        assert!(direct("https://sso.corp.example", ".corp.example"));
        assert!(direct("https://sso.corp.example", "*.corp.example"));
        assert!(direct("https://corp.example", ".corp.example"));
        assert!(direct("https://SSO.Corp.Example.", "corp.example"));
        assert!(!direct("https://notcorp.example", "corp.example"));
        assert!(direct("https://anything.example", "*"));
        assert!(direct("https://10.1.2.3", "10.0.0.0/8"));
        assert!(!direct("https://11.1.2.3", "10.0.0.0/8"));
        assert!(direct("https://192.0.2.7:8443", "192.0.2.7"));
        assert!(direct("https://[2001:db8::1]/", "2001:db8::/32"));
        assert!(direct("https://a.example:8443/x", "a.example:8443"));
        assert!(!direct("https://a.example/x", "a.example:8443"));
        assert!(direct("https://a.example/x", "b.example, a.example:443"));
        assert!(!direct("https://a.example", ""));
        let r = route_with(
            "https://sso.corp.example",
            &env(&[p, ("no_proxy", "x,.corp.example")]),
        );
        assert_eq!(
            r,
            Route::Direct {
                why: "no_proxy entry .corp.example".into()
            }
        );
    }

    #[test]
    fn loopback_is_direct_unless_asked() {
        let p = ("HTTPS_PROXY", "http://proxy:3128");
        for url in [
            "https://127.0.0.1:4443",
            "https://localhost/x",
            "https://[::1]:9",
            "https://app.localhost",
            "https://127.9.9.9",
        ] {
            assert_eq!(via(url, &[p]), None, "{url}");
            assert!(via(url, &[p, (PROXY_LOOPBACK_VAR, "1")]).is_some(), "{url}");
        }
        // NO_PROXY still applies when loopback is proxied.
        assert_eq!(
            via(
                "https://127.0.0.1:4443",
                &[p, (PROXY_LOOPBACK_VAR, "1"), ("NO_PROXY", "127.0.0.1")]
            ),
            None
        );
    }

    #[test]
    fn the_password_is_never_shown() {
        let r = route_with(
            "https://a.example",
            &env(&[("HTTPS_PROXY", "http://alice:s%40cret@proxy:3128")]),
        );
        let proxy = r.proxy().unwrap();
        assert_eq!(proxy.shown(), "http://alice:****@proxy:3128");
        assert!(!format!("{r:?} {}", r.describe()).contains("cret"));
        assert!(proxy.connect_url().contains("s%40cret"));
        assert!(proxy.has_credentials());
        // alice:s@cret
        assert_eq!(proxy.basic_auth().unwrap(), "Basic YWxpY2U6c0BjcmV0");
        assert_eq!(proxy.address(), ("proxy".to_string(), 3128));
    }

    #[test]
    fn unusable_proxies_are_named_without_their_value() {
        let r = route_with(
            "https://a.example",
            &env(&[("HTTPS_PROXY", "socks5://u:pw@proxy:1080")]),
        );
        assert!(
            matches!(&r, Route::Unusable { var: "HTTPS_PROXY", why } if why.contains("socks5")),
            "{r:?}"
        );
        let r = route_with(
            "https://a.example",
            &env(&[("HTTPS_PROXY", "http://u:pw@:1080")]),
        );
        assert!(matches!(r, Route::Unusable { .. }), "{r:?}");
        assert!(!r.describe().contains("pw"));
    }
}
