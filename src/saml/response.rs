//! Reading a SAML `Response` as Entra sends it: the request it answers, its status, and from its
//! one `Assertion` the AWS role pairs, RoleSessionName, SessionDuration and the
//! SubjectConfirmation's `NotOnOrAfter`. The signature is not verified here — STS verifies it
//! against the IAM SAML provider — but a response with no signature at all is refused at once.
//! quick-xml reads the elements; names are matched by local name within the SAML and XML-DSig
//! namespaces' usual layout.

use base64::Engine as _;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::SamlError;
use crate::model::id::RoleArn;

const ROLE: &str = "https://aws.amazon.com/SAML/Attributes/Role";
const SESSION_NAME: &str = "https://aws.amazon.com/SAML/Attributes/RoleSessionName";
const SESSION_DURATION: &str = "https://aws.amazon.com/SAML/Attributes/SessionDuration";
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

/// An IAM role the assertion lets the user take, with the SAML provider that vouches for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SamlRole {
    /// `arn:aws:iam::ACCOUNT:role/NAME`.
    pub role_arn: String,
    /// `arn:aws:iam::ACCOUNT:saml-provider/NAME`.
    pub principal_arn: String,
}

impl SamlRole {
    /// One value of the Role attribute: the two ARNs, comma-separated, in either order.
    pub fn from_attribute(value: &str) -> Option<SamlRole> {
        let (a, b) = value.split_once(',')?;
        let (a, b) = (a.trim(), b.trim());
        let is_role = |arn: &str| arn.starts_with("arn:") && arn.contains(":role/");
        let is_provider = |arn: &str| arn.starts_with("arn:") && arn.contains(":saml-provider/");
        let (role, provider) = if is_role(a) && is_provider(b) {
            (a, b)
        } else if is_role(b) && is_provider(a) {
            (b, a)
        } else {
            return None;
        };
        Some(SamlRole {
            role_arn: role.to_string(),
            principal_arn: provider.to_string(),
        })
    }

    /// The 12-digit account of the role ARN (empty when the ARN is not shaped like one).
    pub fn account_id(&self) -> &str {
        RoleArn::split(&self.role_arn).map_or("", |arn| arn.account_id)
    }

    /// The role's name: the last part of its ARN's path (empty when the ARN is not shaped like
    /// one).
    pub fn role_name(&self) -> &str {
        RoleArn::split(&self.role_arn).map_or("", |arn| arn.name)
    }

    /// The SAML provider's name.
    pub fn provider_name(&self) -> &str {
        self.principal_arn.rsplit('/').next().unwrap_or_default()
    }
}

/// What portico reads from a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedResponse {
    pub in_response_to: Option<String>,
    pub roles: Vec<SamlRole>,
    pub session_name: Option<String>,
    pub session_duration: Option<u32>,
    /// The SubjectConfirmation's `NotOnOrAfter`: STS takes the assertion until then.
    pub not_on_or_after: OffsetDateTime,
    /// The SubjectConfirmation's `Recipient` (the ACS URL), which trust policies match as
    /// `SAML:aud`.
    pub recipient: Option<String>,
}

/// Reads the base64 `SAMLResponse` form value.
pub fn parse(saml_response: &str) -> Result<ParsedResponse, SamlError> {
    let malformed = |why: &str| SamlError::Malformed {
        why: why.to_string(),
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(saml_response.trim())
        .map_err(|_| malformed("SAMLResponse is not base64"))?;
    let xml = String::from_utf8(bytes).map_err(|_| malformed("SAMLResponse is not UTF-8 XML"))?;
    parse_xml(&xml)
}

#[derive(Default)]
struct Scan {
    root_seen: bool,
    in_response_to: Option<String>,
    status: Option<String>,
    assertions: usize,
    encrypted: bool,
    /// Whether a `Signature` with a non-empty `SignatureValue` sits on the response or its assertion.
    signed: bool,
    signature_value: String,
    attribute: Option<String>,
    value: Option<String>,
    roles: Vec<SamlRole>,
    session_name: Option<String>,
    session_duration: Option<String>,
    not_on_or_after: Option<String>,
    recipient: Option<String>,
    confirmation_in_response_to: Option<String>,
}

pub fn parse_xml(xml: &str) -> Result<ParsedResponse, SamlError> {
    let malformed = |why: String| SamlError::Malformed { why };
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<String> = Vec::new();
    let mut scan = Scan::default();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| malformed(format!("not well-formed XML ({e})")))?;
        match event {
            Event::Start(e) => {
                let name = local(&e);
                open(&mut scan, &stack, &name, &e)?;
                stack.push(name);
            }
            Event::Empty(e) => {
                let name = local(&e);
                open(&mut scan, &stack, &name, &e)?;
                stack.push(name);
                close(&mut scan, &mut stack);
            }
            Event::End(_) => close(&mut scan, &mut stack),
            Event::Text(t) => text(&mut scan, &stack, &t.xml10_content()),
            Event::CData(t) => text(&mut scan, &stack, &t.xml10_content()),
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    _ => match &*r {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        _ => return Err(malformed("an unknown entity".into())),
                    },
                };
                text(&mut scan, &stack, ch.encode_utf8(&mut [0; 4]));
            }
            Event::DocType(_) => return Err(malformed("it has a DTD".into())),
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() || !scan.root_seen {
        return Err(malformed("the XML ends early".into()));
    }
    match scan.status.as_deref() {
        Some(SUCCESS) => {}
        Some(other) => {
            return Err(SamlError::Status {
                status: super::errors::clean(other.rsplit(':').next().unwrap_or(other)),
            })
        }
        None => return Err(malformed("it has no Status".into())),
    }
    if scan.encrypted {
        return Err(malformed(
            "the assertion is encrypted; turn token encryption off in the Entra application".into(),
        ));
    }
    if scan.assertions != 1 {
        return Err(malformed(format!(
            "it holds {} assertions, not one",
            scan.assertions
        )));
    }
    if !scan.signed {
        return Err(SamlError::Unsigned);
    }
    if scan.confirmation_in_response_to.is_some()
        && scan.confirmation_in_response_to != scan.in_response_to
    {
        return Err(SamlError::InResponseTo);
    }
    let not_on_or_after = scan
        .not_on_or_after
        .as_deref()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        .ok_or_else(|| malformed("its SubjectConfirmationData has no NotOnOrAfter".into()))?;
    let session_duration = match scan.session_duration {
        None => None,
        Some(text) => Some(
            text.trim()
                .parse::<u32>()
                .map_err(|_| malformed("its SessionDuration is not a number".into()))?,
        ),
    };
    Ok(ParsedResponse {
        in_response_to: scan.in_response_to,
        roles: scan.roles,
        session_name: scan.session_name,
        session_duration,
        not_on_or_after,
        recipient: scan.recipient,
    })
}

fn local(e: &BytesStart<'_>) -> String {
    e.local_name().as_ref().to_string()
}

fn attr(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, SamlError> {
    for a in e.attributes() {
        let a = a.map_err(|e| SamlError::Malformed {
            why: format!("an attribute is not well-formed ({e})"),
        })?;
        if a.key.local_name().as_ref() == name && a.key.prefix().is_none() {
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| SamlError::Malformed {
                    why: format!("an attribute is not well-formed ({e})"),
                })?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

fn open(
    scan: &mut Scan,
    stack: &[String],
    name: &str,
    e: &BytesStart<'_>,
) -> Result<(), SamlError> {
    let parent = stack.last().map(String::as_str);
    match (stack.len(), parent, name) {
        (0, _, "Response") => {
            scan.root_seen = true;
            scan.in_response_to = attr(e, "InResponseTo")?;
        }
        (0, _, other) => {
            return Err(SamlError::Malformed {
                why: format!(
                    "it is a {} element, not a SAML Response",
                    crate::sanitize::quoted(other)
                ),
            })
        }
        (_, Some("Status"), "StatusCode") if stack.len() == 2 => {
            scan.status = attr(e, "Value")?;
        }
        (1, _, "Assertion") => scan.assertions += 1,
        (1, _, "EncryptedAssertion") => scan.encrypted = true,
        (_, Some("SubjectConfirmation"), "SubjectConfirmationData") => {
            scan.not_on_or_after = attr(e, "NotOnOrAfter")?;
            scan.recipient = attr(e, "Recipient")?;
            scan.confirmation_in_response_to = attr(e, "InResponseTo")?;
        }
        (_, Some("AttributeStatement"), "Attribute") => {
            scan.attribute = attr(e, "Name")?;
        }
        (_, Some("Attribute"), "AttributeValue") => scan.value = Some(String::new()),
        (_, Some("Signature"), "SignatureValue") => scan.signature_value.clear(),
        _ => {}
    }
    Ok(())
}

fn text(scan: &mut Scan, stack: &[String], text: &str) {
    match stack.last().map(String::as_str) {
        Some("AttributeValue") => {
            if let Some(value) = &mut scan.value {
                value.push_str(text);
            }
        }
        Some("SignatureValue") => scan.signature_value.push_str(text),
        _ => {}
    }
}

fn close(scan: &mut Scan, stack: &mut Vec<String>) {
    let Some(name) = stack.pop() else { return };
    match name.as_str() {
        "AttributeValue" => {
            let value = scan.value.take().unwrap_or_default();
            match scan.attribute.as_deref() {
                Some(ROLE) => {
                    if let Some(role) = SamlRole::from_attribute(&value) {
                        if !scan.roles.contains(&role) {
                            scan.roles.push(role);
                        }
                    }
                }
                Some(SESSION_NAME) => scan.session_name = Some(value.trim().to_string()),
                Some(SESSION_DURATION) => scan.session_duration = Some(value),
                _ => {}
            }
        }
        "SignatureValue" => {
            // The signature of the response (depth 1) or of its assertion (depth 2).
            let on = stack.len() >= 2
                && stack[stack.len() - 1] == "Signature"
                && (stack.len() == 2 || (stack.len() == 3 && stack[1] == "Assertion"));
            if on && !scan.signature_value.trim().is_empty() {
                scan.signed = true;
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(signature: &str, extra: &str) -> String {
        format!(
            r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r" InResponseTo="_req" Destination="http://localhost:1/saml"><Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">i</Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><Assertion xmlns="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a">{signature}<Subject><SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><SubjectConfirmationData InResponseTo="_req" NotOnOrAfter="2026-12-01T20:05:00.123Z" Recipient="http://localhost:1/saml"/></SubjectConfirmation></Subject><AttributeStatement><Attribute Name="https://aws.amazon.com/SAML/Attributes/Role"><AttributeValue>arn:aws:iam::111122223333:role/Admin,arn:aws:iam::111122223333:saml-provider/EntraID</AttributeValue><AttributeValue>arn:aws:iam::444455556666:saml-provider/EntraID,arn:aws:iam::444455556666:role/path/Read&amp;Only</AttributeValue></Attribute><Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><AttributeValue>user@corp.example</AttributeValue></Attribute><Attribute Name="https://aws.amazon.com/SAML/Attributes/SessionDuration"><AttributeValue>28800</AttributeValue></Attribute></AttributeStatement>{extra}</Assertion></samlp:Response>"#
        )
    }
    const SIG: &str = r#"<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/><SignatureValue>abc=</SignatureValue></Signature>"#;

    #[test]
    fn reads_roles_in_either_order_session_attributes_and_the_confirmation() {
        let r = parse_xml(&response(SIG, "")).unwrap();
        assert_eq!(r.in_response_to.as_deref(), Some("_req"));
        assert_eq!(r.roles.len(), 2);
        assert_eq!(r.roles[0].role_arn, "arn:aws:iam::111122223333:role/Admin");
        assert_eq!(
            r.roles[1].role_arn,
            "arn:aws:iam::444455556666:role/path/Read&Only"
        );
        assert_eq!(
            r.roles[1].principal_arn,
            "arn:aws:iam::444455556666:saml-provider/EntraID"
        );
        assert_eq!(r.roles[1].account_id(), "444455556666");
        assert_eq!(r.roles[1].role_name(), "Read&Only");
        assert_eq!(r.session_name.as_deref(), Some("user@corp.example"));
        assert_eq!(r.session_duration, Some(28800));
        assert_eq!(r.recipient.as_deref(), Some("http://localhost:1/saml"));
        assert_eq!(r.not_on_or_after.unix_timestamp(), 1_796_155_500);
    }

    #[test]
    fn refuses_unsigned_foreign_and_broken_responses() {
        assert!(matches!(
            parse_xml(&response("", "")),
            Err(SamlError::Unsigned)
        ));
        let empty = r#"<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignatureValue> </SignatureValue></Signature>"#;
        assert!(matches!(
            parse_xml(&response(empty, "")),
            Err(SamlError::Unsigned)
        ));
        // A signature somewhere deeper signs nothing STS looks at.
        let deep = format!("<Advice>{SIG}</Advice>");
        assert!(matches!(
            parse_xml(&response(&deep, "")),
            Err(SamlError::Unsigned)
        ));
        assert!(matches!(
            parse_xml("<html/>"),
            Err(SamlError::Malformed { .. })
        ));
        assert!(matches!(
            parse_xml("<Response"),
            Err(SamlError::Malformed { .. })
        ));
        let failed = response(SIG, "").replace("status:Success", "status:Requester");
        assert!(matches!(parse_xml(&failed), Err(SamlError::Status { .. })));
        let other = response(SIG, "").replacen("InResponseTo=\"_req\"", "InResponseTo=\"_x\"", 1);
        assert!(matches!(parse_xml(&other), Err(SamlError::InResponseTo)));
        assert!(matches!(parse("!!"), Err(SamlError::Malformed { .. })));
    }
}
