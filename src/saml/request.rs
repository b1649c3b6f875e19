//! The SP-initiated sign-in request (HTTP-Redirect binding): an `AuthnRequest` whose
//! AssertionConsumerServiceURL is portico's loopback listener, raw-DEFLATEd, base64-encoded and
//! put in the IdP URL's query with a random RelayState (docs/protocol.md, SAML sign-in).

use std::io::Write;

use base64::Engine as _;
use time::OffsetDateTime;

use crate::timefmt::rfc3339_z;

/// One sign-in's request: the URL to open and what the answer must echo.
#[derive(Debug, Clone)]
pub struct AuthnRequest {
    /// The request's `ID`, which the response's `InResponseTo` must name.
    pub id: String,
    /// The random `RelayState`, which the browser posts back beside the response.
    pub relay_state: String,
    /// The IdP URL with `SAMLRequest` and `RelayState`.
    pub url: String,
}

impl AuthnRequest {
    /// A request to `idp_url` for the application `entity_id`, answered at `acs_url`.
    pub fn new(
        idp_url: &str,
        entity_id: &str,
        acs_url: &str,
    ) -> Result<AuthnRequest, url::ParseError> {
        // An ID must start with a letter or an underscore; the rest is 128 random bits.
        let id = format!("_{}", random_hex());
        let relay_state = random_hex();
        let xml = xml(&id, OffsetDateTime::now_utc(), entity_id, acs_url);
        let mut url = url::Url::parse(idp_url)?;
        url.query_pairs_mut()
            .append_pair("SAMLRequest", &deflate_base64(xml.as_bytes()))
            .append_pair("RelayState", &relay_state);
        Ok(AuthnRequest {
            id,
            relay_state,
            url: url.to_string(),
        })
    }
}

/// The AuthnRequest as docs/protocol.md gives it.
pub fn xml(id: &str, now: OffsetDateTime, entity_id: &str, acs_url: &str) -> String {
    format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"{}\" Version=\"2.0\" IssueInstant=\"{}\" AssertionConsumerServiceURL=\"{}\"><saml:Issuer xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">{}</saml:Issuer></samlp:AuthnRequest>",
        escape(id),
        rfc3339_z(now),
        escape(acs_url),
        escape(entity_id)
    )
}

fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// base64(raw DEFLATE(bytes)), the HTTP-Redirect binding's encoding.
pub fn deflate_base64(bytes: &[u8]) -> String {
    let mut encoder =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    encoder.write_all(bytes).expect("deflate into memory");
    let deflated = encoder.finish().expect("deflate into memory");
    base64::engine::general_purpose::STANDARD.encode(deflated)
}

/// 128 random bits as hex, from the same generator the PKCE state uses.
fn random_hex() -> String {
    let token = oauth2::CsrfToken::new_random_len(16);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.secret())
        .unwrap_or_default();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_request_inflates_to_the_authn_request_with_the_listener_as_acs() {
        let r = AuthnRequest::new(
            "https://login.microsoftonline.com/t/saml2?appid=x",
            "urn:amazon:webservices#2",
            "http://localhost:4711/saml",
        )
        .unwrap();
        assert!(r.id.starts_with('_') && r.id.len() == 33, "{}", r.id);
        assert_eq!(r.relay_state.len(), 32);
        let url = url::Url::parse(&r.url).unwrap();
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["appid"], "x");
        assert_eq!(q["RelayState"], r.relay_state);
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&q["SAMLRequest"])
            .unwrap();
        let mut xml = String::new();
        flate2::read::DeflateDecoder::new(&raw[..])
            .read_to_string(&mut xml)
            .unwrap();
        assert!(
            xml.starts_with(
                "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\""
            ),
            "{xml}"
        );
        assert!(xml.contains(&format!("ID=\"{}\" Version=\"2.0\" IssueInstant=\"", r.id)));
        assert!(xml.contains("AssertionConsumerServiceURL=\"http://localhost:4711/saml\""));
        assert!(xml.ends_with("<saml:Issuer xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">urn:amazon:webservices#2</saml:Issuer></samlp:AuthnRequest>"));
        let again = AuthnRequest::new("https://x/saml2", "e", "http://localhost:1/saml").unwrap();
        assert_ne!(again.relay_state, r.relay_state);
        assert_ne!(again.id, r.id);
    }
}
