//! The emulator's https listener (`--tls-cert-dir DIR`): at start a test certificate authority
//! and a server certificate for `127.0.0.1` and `localhost` signed by it are made (rcgen, a
//! fresh ECDSA P-256 key each run); the authority's certificate is written to `DIR/ca.pem` for
//! clients to trust (`AWS_CA_BUNDLE`, curl's `--cacert`, mitmproxy's upstream trust), and the
//! same routes as the http listener are served over rustls (ring) by hyper's HTTP/1 server.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

/// The file, in the directory `--tls-cert-dir` names, that holds the test CA's certificate.
pub const CA_FILE: &str = "ca.pem";

/// A server certificate chain under a fresh test CA, and where the CA was written.
#[derive(Clone)]
pub struct TestTls {
    pub ca_file: PathBuf,
    pub(crate) acceptor: TlsAcceptor,
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// Makes the CA and the server certificate, and writes the CA's certificate to `dir/ca.pem`
/// (the directory is made if missing).
pub fn make(dir: &Path) -> io::Result<TestTls> {
    let ca_key = KeyPair::generate().map_err(other)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(other)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "idc-emulator test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(other)?;
    let issuer = Issuer::from_params(&ca_params, &ca_key);

    let key = KeyPair::generate().map_err(other)?;
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .map_err(other)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "idc-emulator");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let cert = params.signed_by(&key, &issuer).map_err(other)?;

    std::fs::create_dir_all(dir)?;
    let ca_file = dir.join(CA_FILE);
    std::fs::write(&ca_file, ca_cert.pem())?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(other)?
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .map_err(other)?;
    Ok(TestTls {
        ca_file,
        acceptor: TlsAcceptor::from(Arc::new(config)),
    })
}

/// Serves `router` over TLS on `listener` until `stop` changes. A handshake that fails (a
/// client that does not trust the CA) is logged and closes that connection only.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: TestTls,
    router: Router,
    mut stop: watch::Receiver<bool>,
) -> io::Result<()> {
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = stop.changed() => return Ok(()),
        };
        let acceptor = tls.acceptor.clone();
        let router = router.clone();
        tokio::spawn(async move {
            let stream = match acceptor.accept(tcp).await {
                Ok(stream) => stream,
                Err(e) => {
                    eprintln!("idc-emulator: TLS handshake with {peer} failed: {e}");
                    return;
                }
            };
            let service = TowerToHyperService::new(router);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
