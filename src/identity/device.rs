//! The device-code flow for headless places (SSH, containers): the URL, the user code, a QR code
//! of the complete verification URL for a phone already signed in to Entra ID, and a live
//! countdown on stderr while polling as the AWS CLI does (interval from the answer, +5 s on
//! each `slow_down`). With a [`LoginReporter`] (the TUI) the code goes to it instead of stderr.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use qrcode::render::unicode::Dense1x2;
use qrcode::QrCode;

use super::errors::from_sdk;
use super::register::{self, Flow};
use super::vanity::Wire;
use super::{IdentityError, LoginEvent, LoginReporter, NewToken, Store};
use crate::cache::token::Registration;
use crate::consts::GRANT_DEVICE_CODE;
use crate::sanitize::for_terminal;
use crate::settings::SsoSession;

pub(super) async fn run(
    client: &aws_sdk_ssooidc::Client,
    store: &Store,
    wire: &Wire,
    reporter: Option<&LoginReporter>,
) -> Result<(NewToken, Registration), IdentityError> {
    let session = &wire.session;
    let mut registration = register::client_for(client, store, wire, Flow::Device).await?;
    let start = |registration: &Registration| {
        client
            .start_device_authorization()
            .client_id(&registration.client_id)
            .client_secret(registration.client_secret.expose())
            // A vanity start URL's target (the files keep the configured URL).
            .start_url(&wire.start_url)
            .send()
    };
    let mut result = start(&registration).await;
    if result
        .as_ref()
        .err()
        .and_then(|e| e.as_service_error())
        .is_some_and(|e| e.is_invalid_client_exception())
    {
        // The cached registration is unknown to the service (revoked, or another instance):
        // register afresh once.
        crate::info!("the cached client registration was refused; registering again");
        registration = register::register_new(client, store, wire, Flow::Device).await?;
        result = start(&registration).await;
    }
    let auth = result.map_err(|err| {
        if err
            .as_service_error()
            .is_some_and(|e| e.is_invalid_request_exception())
        {
            register::wrong_region(session, &err)
        } else {
            from_sdk("StartDeviceAuthorization", &session.oidc_endpoint, &err)
        }
    })?;
    let (Some(device_code), Some(user_code), Some(verification_uri)) = (
        auth.device_code(),
        auth.user_code(),
        auth.verification_uri(),
    ) else {
        return Err(IdentityError::Service {
            operation: "StartDeviceAuthorization",
            detail: "the answer lacked the device code, user code or verification URI".into(),
        });
    };
    let expires_in = Duration::from_secs(auth.expires_in().max(1) as u64);
    let mut interval = Duration::from_secs(match auth.interval() {
        i if i > 0 => i as u64,
        _ => 5,
    });
    let deadline = Instant::now() + expires_in;
    let countdown = match reporter {
        Some(reporter) => {
            reporter.report(LoginEvent::DeviceCode {
                verification_uri: for_terminal(verification_uri),
                verification_uri_complete: auth.verification_uri_complete().map(for_terminal),
                user_code: for_terminal(user_code),
                expires_at: time::OffsetDateTime::now_utc()
                    + time::Duration::seconds(expires_in.as_secs() as i64),
            });
            None
        }
        None => {
            show_instructions(
                session,
                &for_terminal(verification_uri),
                &for_terminal(user_code),
                auth.verification_uri_complete(),
            );
            Some(Countdown(tokio::spawn(countdown(deadline))))
        }
    };
    let result = async {
        loop {
            tokio::time::sleep(interval).await;
            if Instant::now() >= deadline {
                return Err(IdentityError::CodeExpired {
                    minutes: expires_in.as_secs().div_ceil(60) as i64,
                });
            }
            let poll = client
                .create_token()
                .client_id(&registration.client_id)
                .client_secret(registration.client_secret.expose())
                .grant_type(GRANT_DEVICE_CODE)
                .device_code(device_code)
                .send()
                .await;
            match poll {
                Ok(output) => return NewToken::from_output(&output),
                Err(err) => match err.as_service_error() {
                    Some(e) if e.is_authorization_pending_exception() => continue,
                    Some(e) if e.is_slow_down_exception() => {
                        interval += Duration::from_secs(5);
                        crate::debug!("asked to slow down; polling every {} s", interval.as_secs());
                    }
                    Some(e) if e.is_expired_token_exception() => {
                        return Err(IdentityError::CodeExpired {
                            minutes: expires_in.as_secs().div_ceil(60) as i64,
                        })
                    }
                    Some(e) if e.is_access_denied_exception() => {
                        return Err(IdentityError::Denied {
                            place: "at the verification page",
                        })
                    }
                    _ => return Err(from_sdk("CreateToken", &session.oidc_endpoint, &err)),
                },
            }
        }
    }
    .await;
    drop(countdown);
    Ok((result?, registration))
}

/// The countdown line: stopped and wiped when the wait ends, however it ends (a Ctrl-C drops
/// the whole login future), so that the next message starts on a clean line.
struct Countdown(tokio::task::JoinHandle<()>);

impl Drop for Countdown {
    fn drop(&mut self) {
        self.0.abort();
        if std::io::stderr().is_terminal() {
            eprint!("\r\x1b[K");
        }
    }
}

fn show_instructions(session: &SsoSession, uri: &str, code: &str, complete: Option<&str>) {
    let mut text = format!(
        "\nTo sign in to {}, open this page on any device:\n\n    {uri}\n\nand enter the code:\n\n    {code}\n",
        session.label()
    );
    if let Some(complete) = complete {
        if let Ok(qr) = QrCode::new(complete.as_bytes()) {
            let picture = qr
                .render::<Dense1x2>()
                .dark_color(Dense1x2::Light)
                .light_color(Dense1x2::Dark)
                .quiet_zone(true)
                .build();
            text.push_str(&format!(
                "\nOr scan this with a phone that is signed in (it opens {}):\n\n{picture}\n",
                for_terminal(complete)
            ));
        }
    }
    eprintln!("{text}");
}

/// Rewrites one stderr line every second with the time left, on a terminal; once otherwise.
async fn countdown(deadline: Instant) {
    let interactive = std::io::stderr().is_terminal();
    if !interactive {
        let left = deadline.saturating_duration_since(Instant::now()).as_secs();
        eprintln!(
            "Waiting for approval (the code expires in {}:{:02}; Ctrl-C to cancel)…",
            left / 60,
            left % 60
        );
        return;
    }
    loop {
        let left = deadline.saturating_duration_since(Instant::now()).as_secs();
        {
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r\x1b[KWaiting for approval… {}:{:02} left (Ctrl-C to cancel)",
                left / 60,
                left % 60
            );
            let _ = err.flush();
        }
        if left == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
