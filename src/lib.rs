//! portico: an AWS IAM Identity Center client. The binary in `main.rs` is a thin shell over this.

pub mod aws;
pub mod awsconfig;
pub mod cache;
pub mod cli;
pub mod cmd;
pub mod configure;
pub mod console;
pub mod consts;
pub mod demo;
pub mod diag;
pub mod doctor;
pub mod engine;
pub mod exit;
pub mod failure;
pub mod http;
pub mod identity;
pub mod model;
pub mod output;
pub mod saml;
pub mod sanitize;
pub mod secret;
pub mod serve;
pub mod settings;
pub mod sso;
pub mod timefmt;
pub mod tui;
