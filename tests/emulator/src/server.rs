//! Starting and stopping the one HTTP server that carries every route: the OIDC and portal
//! services, the browser pages, console federation and the control API.

use crate::app::App;
use crate::control::{self, Control};
use crate::directory::Directory;
use crate::faults::{FaultState, Faults};
use crate::saml::SamlSettings;
use crate::state::{Settings, Store};
use crate::{browser, oidc, portal, saml, sts};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The start URL served when none is given.
pub const DEFAULT_START_URL: &str = "https://d-0000000000.awsapps.com/start";
/// The region reported when none is given.
pub const DEFAULT_REGION: &str = "us-east-1";

/// How an emulator starts. `Config::default()` is a 12 × 3 generated directory on a free port.
#[derive(Debug, Clone)]
pub struct Config {
    /// 0 picks a free port.
    pub port: u16,
    pub directory: Directory,
    pub start_url: String,
    pub region: String,
    pub faults: Faults,
    /// Overrides the access token lifetime (seconds) of every grant.
    pub access_token_ttl: Option<u64>,
    /// Lifetime of role credentials from GetRoleCredentials, seconds.
    pub role_credential_ttl: u64,
    /// Every account has the IAM roles ChainRole1…ChainRoleN for STS AssumeRole, trusting
    /// every role session the emulator hands out (`--chain-roles`).
    pub chain_roles: usize,
    pub auto_approve: bool,
    /// One line per request on stderr (method, path without query, status).
    pub log_requests: bool,
    /// The SAML IdP and STS.
    pub saml: SamlSettings,
    /// Also serve https on another port of 127.0.0.1, with a certificate from a test CA whose
    /// certificate is written to `DIR/ca.pem` (`--tls-cert-dir`).
    pub tls_cert_dir: Option<std::path::PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 0,
            directory: Directory::default(),
            start_url: DEFAULT_START_URL.to_string(),
            region: DEFAULT_REGION.to_string(),
            faults: Faults::default(),
            access_token_ttl: None,
            role_credential_ttl: 3600,
            chain_roles: 0,
            auto_approve: false,
            log_requests: false,
            saml: SamlSettings::default(),
            tls_cert_dir: None,
        }
    }
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        // OIDC
        .route("/client/register", post(oidc::register_client))
        .route(
            "/device_authorization",
            post(oidc::start_device_authorization),
        )
        .route("/token", post(oidc::create_token))
        // Portal
        .route("/assignment/accounts", get(portal::list_accounts))
        .route("/assignment/roles", get(portal::list_account_roles))
        .route("/federation/credentials", get(portal::get_role_credentials))
        .route("/logout", post(portal::logout))
        // STS (query protocol) and the browser's index page
        .route("/", get(browser::index).post(sts::query))
        // SAML IdP
        .route(
            "/{tenant}/saml2",
            get(saml::sign_in).post(saml::sign_in_decision),
        )
        .route(
            "/{tenant}/federationmetadata/2007-06/federationmetadata.xml",
            get(saml::metadata),
        )
        // Browser
        .route(
            "/device",
            get(browser::device_page).post(browser::device_decision),
        )
        .route(
            "/authorize",
            get(browser::authorize).post(browser::authorize_decision),
        )
        .route("/federation", get(browser::federation))
        // Control
        .route("/_emulator/approve", post(control::approve))
        .route("/_emulator/deny", post(control::deny))
        .route("/_emulator/auto-approve", post(control::auto_approve))
        .route(
            "/_emulator/faults",
            get(control::get_faults).post(control::set_faults),
        )
        .route("/_emulator/expire-pending", post(control::expire_pending))
        .route(
            "/_emulator/expire-access-tokens",
            post(control::expire_access_tokens),
        )
        .route("/_emulator/revoke-all", post(control::revoke_all))
        .route("/_emulator/stats", get(control::stats))
        .route("/_emulator/stats/reset", post(control::reset_stats))
        .route("/_emulator/pending", get(control::pending))
        .route("/_emulator/federation", get(control::federation))
        .route(
            "/_emulator/directory",
            get(control::get_directory).post(control::set_directory),
        )
        .route("/_emulator/saml-clock", post(control::saml_clock))
        .route("/_emulator/trust", post(control::set_trust))
        .route(
            "/_emulator/hold-refreshes",
            get(control::get_refresh_gate).post(control::hold_refreshes),
        )
        .route(
            "/_emulator/release-refreshes",
            post(control::release_refreshes),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), log_request))
        .with_state(app)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "message": "Not Found" })),
    )
        .into_response()
}

/// Logs method, path (never the query, which may carry tokens) and status to stderr.
async fn log_request(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    if !app.log_requests {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let error = response
        .headers()
        .get("x-amzn-ErrorType")
        .and_then(|v| v.to_str().ok())
        .map(|e| format!(" {e}"))
        .unwrap_or_default();
    eprintln!(
        "idc-emulator: {method} {path} -> {}{error} ({} ms)",
        response.status().as_u16(),
        started.elapsed().as_millis()
    );
    response
}

/// A running emulator inside the caller's tokio runtime. Derefs to [`Control`].
/// Dropping it stops the server; [`Running::shutdown`] also waits for it to stop.
#[derive(Debug)]
pub struct Running {
    control: Control,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
    https: Option<Https>,
}

/// The https listener of `--tls-cert-dir`.
#[derive(Debug)]
struct Https {
    addr: SocketAddr,
    ca_file: std::path::PathBuf,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Running {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT`, serving the same routes as [`Control::url`], when
    /// `tls_cert_dir` was set.
    pub fn https_url(&self) -> Option<String> {
        self.https
            .as_ref()
            .map(|h| format!("https://127.0.0.1:{}", h.addr.port()))
    }

    /// The test CA's certificate (PEM) that signed the https listener's certificate.
    pub fn ca_file(&self) -> Option<&std::path::Path> {
        self.https.as_ref().map(|h| h.ca_file.as_path())
    }

    pub fn control(&self) -> &Control {
        &self.control
    }

    /// Stops accepting, lets requests in flight finish (at most 5 s), and returns.
    pub async fn shutdown(mut self) {
        if let Some(https) = &self.https {
            let _ = https.stop.send(true);
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Deref for Running {
    type Target = Control;
    fn deref(&self) -> &Control {
        &self.control
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(https) = &self.https {
            let _ = https.stop.send(true);
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Binds 127.0.0.1:`config.port` and serves in the current tokio runtime.
pub async fn spawn(config: Config) -> io::Result<Running> {
    config
        .faults
        .validate()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, config.port)).await?;
    let addr = listener.local_addr()?;
    let settings = Settings {
        url: format!("http://127.0.0.1:{}", addr.port()),
        start_url: config.start_url,
        region: config.region,
        access_token_ttl: config.access_token_ttl,
        role_credential_ttl: config.role_credential_ttl,
        chain_roles: config.chain_roles,
        directory: crate::directory::LiveDirectory::new(config.directory),
        saml: config.saml,
    };
    let store = Store {
        auto_approve: config.auto_approve,
        ..Store::default()
    };
    let app = Arc::new(App::new(
        settings,
        store,
        FaultState::new(config.faults),
        config.log_requests,
    ));
    let (stop, stopped) = oneshot::channel::<()>();
    let service = router(app.clone());
    let https = match &config.tls_cert_dir {
        None => None,
        Some(dir) => {
            let tls = crate::tls::make(dir)?;
            let tls_listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let https = Https {
                addr: tls_listener.local_addr()?,
                ca_file: tls.ca_file.clone(),
                stop: stop_tx,
            };
            tokio::spawn(crate::tls::serve(
                tls_listener,
                tls,
                service.clone(),
                stop_rx,
            ));
            Some(https)
        }
    };
    let task = tokio::spawn(async move {
        axum::serve(listener, service)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Ok(Running {
        control: Control::new(app),
        addr,
        stop: Some(stop),
        task: Some(task),
        https,
    })
}

/// An emulator on its own multi-threaded runtime, for synchronous tests: it keeps serving
/// while the test thread blocks (for example on a child process). Derefs to [`Control`];
/// dropping it stops the server.
#[derive(Debug)]
pub struct EmulatorHandle {
    control: Control,
    running: Option<Running>,
    runtime: Option<tokio::runtime::Runtime>,
}

/// Starts an emulator on a private two-thread runtime. Works from any thread, including
/// one that is itself inside a tokio runtime.
pub fn start_blocking(config: Config) -> io::Result<EmulatorHandle> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("idc-emulator")
        .enable_all()
        .build()?;
    let (tx, rx) = std::sync::mpsc::channel();
    runtime.spawn(async move {
        let _ = tx.send(spawn(config).await);
    });
    let running = rx
        .recv()
        .map_err(|_| io::Error::other("the emulator runtime stopped while starting"))??;
    Ok(EmulatorHandle {
        control: running.control.clone(),
        running: Some(running),
        runtime: Some(runtime),
    })
}

impl EmulatorHandle {
    pub fn control(&self) -> &Control {
        &self.control
    }

    /// See [`Running::https_url`].
    pub fn https_url(&self) -> Option<String> {
        self.running.as_ref().and_then(Running::https_url)
    }

    /// See [`Running::ca_file`].
    pub fn ca_file(&self) -> Option<&std::path::Path> {
        self.running.as_ref().and_then(Running::ca_file)
    }

    /// Stops the server (its listeners closed and its task joined, as [`Running::shutdown`]
    /// does) and then its runtime, so that nothing answers on its port once this returns.
    pub fn shutdown(mut self) {
        if let (Some(running), Some(runtime)) = (self.running.take(), self.runtime.as_ref()) {
            runtime.block_on(running.shutdown());
        }
        drop(self);
    }
}

impl Deref for EmulatorHandle {
    type Target = Control;
    fn deref(&self) -> &Control {
        &self.control
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        drop(self.running.take());
        if let Some(runtime) = self.runtime.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                runtime.shutdown_background();
            } else {
                runtime.shutdown_timeout(Duration::from_secs(2));
            }
        }
    }
}
