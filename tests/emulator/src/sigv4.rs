//! Checking an AWS Signature Version 4 `Authorization` header the way AWS services do: the
//! canonical request rebuilt from what arrived, the string to sign, the key derived from the
//! secret the emulator issued, and the signature compared in constant time.
//!
//! Hand-written (about a hundred lines over ring's HMAC and sha2) rather than taken from the
//! `aws-sigv4` crate: a verifier must not share code with the signers it checks (the Rust SDK
//! signs with `aws-sigv4`), or a bug in one would agree with itself; and `aws-sigv4` only signs.

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far a request's `X-Amz-Date` may be from the service's clock, either way.
pub const MAX_SKEW_SECS: i64 = 15 * 60;

const AMZ_DATE: &[BorrowedFormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

/// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key_id: String,
    /// `YYYYMMDD/REGION/SERVICE/aws4_request`
    pub scope: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: Vec<u8>,
}

/// Why a request's signature was not accepted; `Incomplete` and `Mismatch` carry the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No `Authorization` header at all.
    Missing,
    /// An `Authorization` header that is not a complete SigV4 one.
    Incomplete(String),
    /// Well-formed, but it does not verify (or its date or scope is wrong).
    Mismatch(String),
}

pub const MISMATCH: &str = "The request signature we calculated does not match the signature \
    you provided. Check your AWS Secret Access Key and signing method. Consult the service \
    documentation for details.";

/// Reads the `Authorization` header.
pub fn authorization(headers: &HeaderMap) -> Result<Authorization, Refusal> {
    let Some(value) = headers.get("authorization") else {
        return Err(Refusal::Missing);
    };
    let value = value
        .to_str()
        .map_err(|_| Refusal::Incomplete("Authorization header is not ASCII".into()))?;
    let Some(rest) = value.strip_prefix(ALGORITHM) else {
        return Err(Refusal::Incomplete(format!(
            "Unsupported AWS 'algorithm': '{}'",
            value.split_whitespace().next().unwrap_or_default()
        )));
    };
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            continue;
        };
        match k {
            "Credential" => credential = Some(v.to_string()),
            "SignedHeaders" => signed = Some(v.to_string()),
            "Signature" => signature = Some(v.to_string()),
            _ => {}
        }
    }
    let missing: Vec<&str> = [
        ("Credential", credential.is_none()),
        ("Signature", signature.is_none()),
        ("SignedHeaders", signed.is_none()),
    ]
    .iter()
    .filter(|(_, absent)| *absent)
    .map(|(name, _)| *name)
    .collect();
    if !missing.is_empty() {
        // As the services say it: one sentence per missing part.
        return Err(Refusal::Incomplete(
            missing
                .iter()
                .map(|m| format!("Authorization header requires '{m}' parameter."))
                .collect::<Vec<_>>()
                .join(" "),
        ));
    }
    let (credential, signed, signature) = (
        credential.unwrap_or_default(),
        signed.unwrap_or_default(),
        signature.unwrap_or_default(),
    );
    let parts: Vec<&str> = credential.split('/').collect();
    if parts.len() != 5 || parts[4] != "aws4_request" || parts.iter().any(|p| p.is_empty()) {
        return Err(Refusal::Incomplete(format!(
            "Credential should be scoped to a valid region, not '{}'. ",
            parts.get(2).copied().unwrap_or_default()
        )));
    }
    let signature = decode_hex(&signature)
        .filter(|s| s.len() == 32)
        .ok_or_else(|| Refusal::Mismatch(MISMATCH.into()))?;
    Ok(Authorization {
        access_key_id: parts[0].to_string(),
        scope: parts[1..].join("/"),
        date: parts[1].to_string(),
        region: parts[2].to_string(),
        service: parts[3].to_string(),
        signed_headers: signed.split(';').map(str::to_string).collect(),
        signature,
    })
}

/// Checks the signature of a request for `service` made with `secret`, at `now`.
pub fn verify(
    auth: &Authorization,
    secret: &str,
    service: &str,
    request: &Request<'_>,
    now: OffsetDateTime,
) -> Result<(), Refusal> {
    if auth.service != service {
        return Err(Refusal::Mismatch(format!(
            "Credential should be scoped to correct service: '{service}'. "
        )));
    }
    let amz_date = header_text(request.headers, "x-amz-date").ok_or_else(|| {
        Refusal::Incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' \
             header."
                .into(),
        )
    })?;
    let signed_at = PrimitiveDateTime::parse(&amz_date, AMZ_DATE)
        .map(PrimitiveDateTime::assume_utc)
        .map_err(|_| Refusal::Incomplete(format!("Invalid X-Amz-Date: {amz_date}")))?;
    if !amz_date.starts_with(&auth.date) {
        return Err(Refusal::Mismatch(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '{}' != '{}', from '{amz_date}'.",
            auth.date,
            &amz_date[..8.min(amz_date.len())]
        )));
    }
    let skew = (signed_at - now).whole_seconds();
    if skew < -MAX_SKEW_SECS {
        let limit = now - time::Duration::seconds(MAX_SKEW_SECS);
        return Err(Refusal::Mismatch(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
            amz(limit),
            amz(now)
        )));
    }
    if skew > MAX_SKEW_SECS {
        let limit = now + time::Duration::seconds(MAX_SKEW_SECS);
        return Err(Refusal::Mismatch(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
            amz(limit),
            amz(now)
        )));
    }
    if !auth.signed_headers.iter().any(|h| h == "host") {
        return Err(Refusal::Mismatch(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    let canonical = canonical_request(request, &auth.signed_headers);
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{}\n{}",
        auth.scope,
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let key = signing_key(secret, &auth.date, &auth.region, &auth.service);
    ring::hmac::verify(&key, string_to_sign.as_bytes(), &auth.signature)
        .map_err(|_| Refusal::Mismatch(MISMATCH.into()))
}

/// What arrived: the method, the path and query as sent, the headers and the body.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// `method \n path \n query \n headers \n signed-headers \n sha256(body)`, as SigV4 defines it
/// for every service but S3 (whose paths are encoded once, not twice).
pub fn canonical_request(request: &Request<'_>, signed_headers: &[String]) -> String {
    let mut headers = String::new();
    for name in signed_headers {
        let values: Vec<String> = request
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| collapse_spaces(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    format!(
        "{}\n{}\n{}\n{headers}\n{}\n{}",
        request.method,
        canonical_path(request.path),
        canonical_query(request.query),
        signed_headers.join(";"),
        hex(&Sha256::digest(request.body))
    )
}

/// The path with `.` and `..` segments resolved, then every byte but the unreserved ones and
/// `/` percent-encoded — including the `%` of the path's own escapes (double encoding).
fn canonical_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/').skip(1) {
        match segment {
            "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let normalized = format!("/{}", segments.join("/"));
    encode(&normalized, true)
}

/// Names and values decoded, encoded again strictly, sorted by name then value.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (encode(&k, false), encode(&v, false)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes all but `A-Z a-z 0-9 - _ . ~` (and `/` when `keep_slash`).
fn encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Header values: trimmed, runs of spaces made one.
fn collapse_spaces(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> ring::hmac::Key {
    let step = |key: &[u8], data: &str| {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
        ring::hmac::sign(&key, data.as_bytes())
    };
    let k_date = step(format!("AWS4{secret}").as_bytes(), date);
    let k_region = step(k_date.as_ref(), region);
    let k_service = step(k_region.as_ref(), service);
    let k_signing = step(k_service.as_ref(), "aws4_request");
    ring::hmac::Key::new(ring::hmac::HMAC_SHA256, k_signing.as_ref())
}

fn amz(at: OffsetDateTime) -> String {
    at.format(AMZ_DATE).unwrap_or_default()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    /// AWS's published SigV4 example (the "get-vanilla" case of the SigV4 test suite, and the
    /// IAM ListUsers walk-through of the General Reference): both signatures are AWS's.
    #[test]
    fn matches_the_published_examples() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("example.amazonaws.com"));
        headers.insert("x-amz-date", HeaderValue::from_static("20150830T123600Z"));
        headers.insert(
            "authorization",
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date, \
                 Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
        );
        let request = Request {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            body: b"",
        };
        let auth = authorization(&headers).unwrap();
        assert_eq!(auth.access_key_id, "AKIDEXAMPLE");
        assert_eq!(auth.scope, "20150830/us-east-1/service/aws4_request");
        let at = OffsetDateTime::from_unix_timestamp(1_440_938_160).unwrap();
        assert_eq!(verify(&auth, secret, "service", &request, at), Ok(()));
        // Another secret, another service, a clock 16 minutes on: refused.
        assert!(matches!(
            verify(&auth, "x", "service", &request, at),
            Err(Refusal::Mismatch(m)) if m == MISMATCH
        ));
        assert!(verify(&auth, secret, "sts", &request, at).is_err());
        let late = at + time::Duration::minutes(16);
        assert!(matches!(
            verify(&auth, secret, "service", &request, late),
            Err(Refusal::Mismatch(m)) if m.starts_with("Signature expired: 20150830T123600Z")
        ));

        // ListUsers: a query string, a content-type header with its value as sent.
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("iam.amazonaws.com"));
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
        );
        headers.insert("x-amz-date", HeaderValue::from_static("20150830T123600Z"));
        headers.insert(
            "authorization",
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date, \
                 Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
            ),
        );
        let request = Request {
            method: "GET",
            path: "/",
            query: "Action=ListUsers&Version=2010-05-08",
            headers: &headers,
            body: b"",
        };
        let auth = authorization(&headers).unwrap();
        assert_eq!(verify(&auth, secret, "iam", &request, at), Ok(()));
    }

    #[test]
    fn refuses_incomplete_headers() {
        let mut headers = HeaderMap::new();
        assert_eq!(authorization(&headers), Err(Refusal::Missing));
        headers.insert(
            "authorization",
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sts/aws4_request",
            ),
        );
        assert_eq!(
            authorization(&headers),
            Err(Refusal::Incomplete(
                "Authorization header requires 'Signature' parameter. Authorization header \
                 requires 'SignedHeaders' parameter."
                    .into()
            ))
        );
        headers.insert("authorization", HeaderValue::from_static("Basic abc"));
        assert!(matches!(
            authorization(&headers),
            Err(Refusal::Incomplete(_))
        ));
    }

    #[test]
    fn canonical_paths_and_queries() {
        assert_eq!(canonical_path("/"), "/");
        assert_eq!(canonical_path("/a/./b/../c"), "/a/c");
        assert_eq!(canonical_path("/a%20b"), "/a%2520b");
        assert_eq!(canonical_query("b=2&a=1&a=0"), "a=0&a=1&b=2");
        assert_eq!(canonical_query("x=a+b&y=%7E"), "x=a%20b&y=~");
    }
}
