//! The certificates portico trusts: the system's roots, plus every certificate in
//! `AWS_CA_BUNDLE` and in the `ca_bundle` of the profile the command runs under (botocore's
//! names; PEM files of one or more certificates). botocore *replaces* its bundle with the file;
//! portico *adds* it, so that a corporate authority (a TLS-inspecting proxy's) does not cut off
//! the public ones that services outside the proxy still use.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// botocore's variable for an extra certificate bundle.
pub const CA_BUNDLE_VAR: &str = "AWS_CA_BUNDLE";

/// Where an extra bundle came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleSource {
    Env,
    Profile(String),
}

impl std::fmt::Display for BundleSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BundleSource::Env => write!(f, "{CA_BUNDLE_VAR}"),
            BundleSource::Profile(p) => write!(f, "ca_bundle of profile {p}"),
        }
    }
}

/// One extra bundle: where it is and who named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub path: PathBuf,
    pub source: BundleSource,
}

/// A bundle that cannot be used: the message names the file, the source and the fix.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{source_name} {path}: {why}; point it at a PEM file of CA certificates (-----BEGIN CERTIFICATE-----)")]
pub struct BundleError {
    source_name: String,
    path: String,
    why: String,
}

/// The `ca_bundle` files of the profiles this process resolved (settings notes them as it
/// resolves a profile; the HTTP setup reads them at the first request, after resolution).
static PROFILE_BUNDLES: Mutex<Vec<Bundle>> = Mutex::new(Vec::new());

/// Notes the `ca_bundle` of `profile`, to be added to the trusted roots.
pub fn note_profile_bundle(profile: &str, path: &Path) {
    let mut list = PROFILE_BUNDLES.lock().unwrap_or_else(|e| e.into_inner());
    let bundle = Bundle {
        path: path.to_path_buf(),
        source: BundleSource::Profile(profile.to_string()),
    };
    if !list.contains(&bundle) {
        list.push(bundle);
    }
}

/// Forgets the noted profile bundles: a unit test that resolves a profile with a made-up
/// `ca_bundle` leaves nothing behind for the tests after it in the same process.
#[cfg(test)]
pub fn forget_profile_bundle(path: &Path) {
    PROFILE_BUNDLES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|b| b.path != path);
}

/// The extra bundles in force: `AWS_CA_BUNDLE`, then the profiles'.
pub fn bundles() -> Vec<Bundle> {
    let mut out = Vec::new();
    if let Some(path) = std::env::var_os(CA_BUNDLE_VAR).filter(|v| !v.is_empty()) {
        out.push(Bundle {
            path: PathBuf::from(path),
            source: BundleSource::Env,
        });
    }
    let list = PROFILE_BUNDLES.lock().unwrap_or_else(|e| e.into_inner());
    for bundle in list.iter() {
        if !out.iter().any(|b: &Bundle| b.path == bundle.path) {
            out.push(bundle.clone());
        }
    }
    out
}

/// The PEM text of `bundle`, checked: readable, at least one certificate, every certificate
/// usable as a trust anchor (the SDK's trust store would panic on a bad one).
pub fn load(bundle: &Bundle) -> Result<Vec<u8>, BundleError> {
    let fail = |why: String| BundleError {
        source_name: bundle.source.to_string(),
        path: bundle.path.display().to_string(),
        why,
    };
    let pem = std::fs::read(&bundle.path).map_err(|e| fail(format!("cannot read it ({e})")))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| fail(format!("not a PEM file ({e:?})")))?;
    if certs.is_empty() {
        return Err(fail("it holds no PEM certificate".to_string()));
    }
    let mut roots = rustls::RootCertStore::empty();
    for (i, cert) in certs.into_iter().enumerate() {
        roots
            .add(cert)
            .map_err(|e| fail(format!("certificate {} is not usable ({e})", i + 1)))?;
    }
    Ok(pem)
}

/// A TLS failure in words: the reason and what to do. `proxied` names the proxy in the path.
pub fn explain(error: &rustls::Error, host: &str, proxied: Option<&str>) -> String {
    use rustls::CertificateError as C;
    let through = proxied
        .map(|p| format!(" (through the proxy {p})"))
        .unwrap_or_default();
    let fix_bundle = format!(
        "set {CA_BUNDLE_VAR} (or ca_bundle in the profile) to a PEM file holding the certificate of the authority that issued it"
    );
    match error {
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => {
            let inspecting = if proxied.is_some() {
                "; a TLS-inspecting proxy re-signs with its own authority"
            } else {
                ""
            };
            format!(
                "TLS: the certificate of {host}{through} was issued by an unknown authority (unknown issuer){inspecting}: {fix_bundle}"
            )
        }
        rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => format!(
            "TLS: the certificate of {host}{through} has expired: check this machine's clock, or tell whoever runs {host}"
        ),
        rustls::Error::InvalidCertificate(C::NotValidYet | C::NotValidYetContext { .. }) => {
            format!(
                "TLS: the certificate of {host}{through} is not valid yet: check this machine's clock"
            )
        }
        rustls::Error::InvalidCertificate(
            C::NotValidForName | C::NotValidForNameContext { .. },
        ) => format!(
            "TLS: the certificate of {host}{through} is not valid for that name (wrong name): check the endpoint URL"
        ),
        rustls::Error::InvalidCertificate(other) => format!(
            "TLS: the certificate of {host}{through} was refused ({other:?}): {fix_bundle}"
        ),
        other => format!("TLS handshake with {host}{through} failed ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_bundles_are_named_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let check = |content: Option<&str>| {
            let path = dir.path().join("b.pem");
            let _ = std::fs::remove_file(&path);
            if let Some(c) = content {
                std::fs::write(&path, c).unwrap();
            }
            load(&Bundle {
                path,
                source: BundleSource::Env,
            })
            .map(|_| ())
            .map_err(|e| e.to_string())
        };
        let missing = check(None).unwrap_err();
        assert!(missing.starts_with("AWS_CA_BUNDLE "), "{missing}");
        assert!(missing.contains("cannot read"), "{missing}");
        assert!(missing.contains("PEM file"), "{missing}");
        let empty = check(Some("just text\n")).unwrap_err();
        assert!(empty.contains("no PEM certificate"), "{empty}");
        let garbled = check(Some(
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ))
        .unwrap_err();
        assert!(garbled.contains("not usable"), "{garbled}");
    }

    #[test]
    fn failures_name_host_reason_and_fix() {
        use rustls::CertificateError as C;
        let unknown = explain(
            &rustls::Error::InvalidCertificate(C::UnknownIssuer),
            "oidc.example",
            Some("http://proxy:3128"),
        );
        assert!(unknown.contains("oidc.example"), "{unknown}");
        assert!(unknown.contains("unknown issuer"), "{unknown}");
        assert!(unknown.contains("AWS_CA_BUNDLE"), "{unknown}");
        assert!(unknown.contains("ca_bundle"), "{unknown}");
        assert!(unknown.contains("through the proxy http://proxy:3128"));
        let expired = explain(&rustls::Error::InvalidCertificate(C::Expired), "h", None);
        assert!(expired.contains("expired"), "{expired}");
        assert!(!expired.contains("proxy"), "{expired}");
        let name = explain(
            &rustls::Error::InvalidCertificate(C::NotValidForName),
            "h",
            None,
        );
        assert!(name.contains("wrong name"), "{name}");
    }
}
