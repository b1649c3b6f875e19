//! An IAM Identity Center emulator that speaks the real wire protocol (docs/protocol.md):
//! the SSO OIDC service, the SSO portal, the browser pages behind them and console
//! federation, all on one loopback HTTP server, plus controls to approve sign-ins, expire
//! or revoke tokens, inject faults and read per-operation request counts.
//!
//! In an async test: `let emu = idc_emulator::spawn(Config::default()).await?;`.
//! In a synchronous test that blocks on a child process:
//! `let emu = idc_emulator::start_blocking(Config::default())?;`.
//! Either derefs to [`Control`]: `emu.url()`, `emu.approve(code)`, `emu.stats()`, …

mod app;
mod assume_role;
mod browser;
mod control;
mod directory;
mod dsig;
mod faults;
mod gate;
mod oidc;
mod portal;
mod saml;
mod server;
mod sigv4;
mod state;
mod stats;
mod sts;
mod tls;
mod trust;
mod wire;
mod xml;

pub use control::Control;
pub use directory::{
    Account, Directory, DirectoryError, SamlRole, DEFAULT_SAML_ROLES, SAML_PROVIDER,
};
pub use faults::{Bucket as TokenBucket, Faults, FaultsUpdate};
pub use gate::GateState;
pub use portal::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use saml::{default_aud, SamlSettings, DEFAULT_REPLY_URLS, DEFAULT_TENANT, DEFAULT_USER};
pub use server::{
    spawn, start_blocking, Config, EmulatorHandle, Running, DEFAULT_REGION, DEFAULT_START_URL,
};
pub use state::ControlError;
pub use sts::Identity;
pub use tls::CA_FILE;
pub use trust::{totp_code, TrustUpdate, CHAIN_ROLE_PREFIX};
