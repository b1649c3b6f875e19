//! XML digital signatures as Entra makes them on SAML assertions (enveloped, exclusive c14n,
//! RSA-SHA256, SHA-256 digest, the certificate in KeyInfo) and their verification by STS.
//!
//! The key pair is a fixed test key committed in `keys/` (RSA 2048, PKCS#8; the certificate
//! self-signed, made with `openssl genpkey` and `openssl req -x509`): signing and verifying
//! are then fast in debug builds, and assertions from any emulator run verify with the one
//! certificate. It protects nothing.

use crate::xml::{self, Element};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{
    RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use sha2::{Digest, Sha256};
use std::fmt;

pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";

const KEY_PEM: &str = include_str!("../keys/saml-signing-key.pem");
const CERT_PEM: &str = include_str!("../keys/saml-signing-cert.pem");

/// Where the placeholder signature goes before it is computed.
const VALUE_SLOT: &str = "<SignatureValue></SignatureValue>";

fn pem_body(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    STANDARD.decode(body).expect("the committed PEM is base64")
}

/// The IdP's signing key and certificate.
pub struct Signer {
    key: RsaKeyPair,
    cert_der: Vec<u8>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer(test key)")
    }
}

impl Default for Signer {
    fn default() -> Self {
        Signer::new()
    }
}

impl Signer {
    pub fn new() -> Signer {
        let key = RsaKeyPair::from_pkcs8(&pem_body(KEY_PEM)).expect("the committed key is PKCS#8");
        Signer {
            key,
            cert_der: pem_body(CERT_PEM),
        }
    }

    /// The certificate, base64 DER, as it appears in KeyInfo and the metadata.
    pub fn cert_base64(&self) -> String {
        STANDARD.encode(&self.cert_der)
    }

    /// Signs the element whose `ID` is `id` inside the document `doc`, which must contain
    /// `<!--signature-->` right after that element's Issuer: the signature replaces it.
    pub fn sign(&self, doc: &str, id: &str) -> String {
        const SLOT: &str = "<!--signature-->";
        let unsigned = doc.replacen(SLOT, "", 1);
        let root = xml::parse(&unsigned).expect("the emulator writes well-formed XML");
        let target = find_id(&root, id).expect("the signed element");
        let scope = xml::scope_of(&root, target).expect("in the document");
        let digest = STANDARD.encode(Sha256::digest(
            xml::exc_c14n(target, &scope, None).as_bytes(),
        ));
        let signature = format!(
            "<Signature xmlns=\"{DSIG_NS}\"><SignedInfo>\
             <CanonicalizationMethod Algorithm=\"{EXC_C14N}\"/>\
             <SignatureMethod Algorithm=\"{RSA_SHA256}\"/>\
             <Reference URI=\"#{id}\"><Transforms><Transform Algorithm=\"{ENVELOPED}\"/>\
             <Transform Algorithm=\"{EXC_C14N}\"/></Transforms>\
             <DigestMethod Algorithm=\"{SHA256}\"/><DigestValue>{digest}</DigestValue>\
             </Reference></SignedInfo>{VALUE_SLOT}<KeyInfo><X509Data>\
             <X509Certificate>{cert}</X509Certificate></X509Data></KeyInfo></Signature>",
            cert = self.cert_base64()
        );
        let with_slot = doc.replacen(SLOT, &signature, 1);
        let root = xml::parse(&with_slot).expect("well-formed");
        let signed_info = signed_info_of(&root, id).expect("just written");
        let scope = xml::scope_of(&root, signed_info).expect("in the document");
        let canonical = xml::exc_c14n(signed_info, &scope, None);
        let mut value = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                canonical.as_bytes(),
                &mut value,
            )
            .expect("RSA signing");
        with_slot.replacen(
            VALUE_SLOT,
            &format!(
                "<SignatureValue>{}</SignatureValue>",
                STANDARD.encode(value)
            ),
            1,
        )
    }

    /// Checks the enveloped signature of `signed` (an element of `root`) as a service
    /// provider holding this certificate does. Err says what is wrong.
    pub fn verify(&self, root: &Element, signed: &Element) -> Result<(), &'static str> {
        let id = signed.attr("ID").ok_or("the assertion has no ID")?;
        let same_id = root
            .descendants()
            .into_iter()
            .filter(|e| e.attr("ID") == Some(id))
            .count();
        if same_id != 1 {
            return Err("the assertion ID is not unique");
        }
        let mut signatures = signed.children_named(DSIG_NS, "Signature");
        let signature = signatures.next().ok_or("the assertion is not signed")?;
        if signatures.next().is_some() {
            return Err("the assertion has two signatures");
        }
        let info = signature
            .child(DSIG_NS, "SignedInfo")
            .ok_or("no SignedInfo")?;
        fn algorithm(e: Option<&Element>) -> Option<&str> {
            e.and_then(|e| e.attr("Algorithm"))
        }
        if algorithm(info.child(DSIG_NS, "CanonicalizationMethod")) != Some(EXC_C14N) {
            return Err("the canonicalization method is not exclusive c14n");
        }
        if algorithm(info.child(DSIG_NS, "SignatureMethod")) != Some(RSA_SHA256) {
            return Err("the signature method is not RSA-SHA256");
        }
        let mut references = info.children_named(DSIG_NS, "Reference");
        let reference = references.next().ok_or("no Reference")?;
        if references.next().is_some() || reference.attr("URI") != Some(&format!("#{id}")) {
            return Err("the signature does not refer to the assertion alone");
        }
        let transforms: Vec<&str> = reference
            .child(DSIG_NS, "Transforms")
            .map(|t| {
                t.children_named(DSIG_NS, "Transform")
                    .filter_map(|t| t.attr("Algorithm"))
                    .collect()
            })
            .unwrap_or_default();
        if transforms != [ENVELOPED, EXC_C14N] {
            return Err("the transforms are not enveloped-signature and exclusive c14n");
        }
        if algorithm(reference.child(DSIG_NS, "DigestMethod")) != Some(SHA256) {
            return Err("the digest method is not SHA-256");
        }
        let digest = base64_of(reference.child(DSIG_NS, "DigestValue"))?;
        let scope = xml::scope_of(root, signed).ok_or("not in the document")?;
        let canonical = xml::exc_c14n(signed, &scope, Some(signature as *const Element));
        if Sha256::digest(canonical.as_bytes()).as_slice() != digest.as_slice() {
            return Err("the digest does not match");
        }
        let value = base64_of(signature.child(DSIG_NS, "SignatureValue"))?;
        let info_scope = xml::scope_of(root, info).ok_or("not in the document")?;
        let canonical_info = xml::exc_c14n(info, &info_scope, None);
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, self.key.public().as_ref())
            .verify(canonical_info.as_bytes(), &value)
            .map_err(|_| "the signature value does not verify")?;
        let cert = signature
            .child(DSIG_NS, "KeyInfo")
            .and_then(|k| k.child(DSIG_NS, "X509Data"))
            .and_then(|d| d.child(DSIG_NS, "X509Certificate"));
        if base64_of(cert)? != self.cert_der {
            return Err("the certificate in KeyInfo is not the provider's");
        }
        Ok(())
    }
}

/// Decodes the base64 text of an element (whitespace allowed, padding and trailing bits strict).
fn base64_of(e: Option<&Element>) -> Result<Vec<u8>, &'static str> {
    let text: String = e
        .ok_or("a signature element is missing")?
        .text()
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD
        .decode(text)
        .map_err(|_| "bad base64 in the signature")
}

fn find_id<'a>(root: &'a Element, id: &str) -> Option<&'a Element> {
    root.descendants()
        .into_iter()
        .find(|e| e.attr("ID") == Some(id))
}

fn signed_info_of<'a>(root: &'a Element, id: &str) -> Option<&'a Element> {
    find_id(root, id)?
        .child(DSIG_NS, "Signature")?
        .child(DSIG_NS, "SignedInfo")
}
