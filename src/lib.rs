//! portico: an AWS IAM Identity Center client. The binary in `main.rs` is a thin shell over this.

pub mod aws;
pub mod awsconfig;
pub mod cli;
pub mod diag;
pub mod exit;
pub mod sanitize;
pub mod secret;
pub mod settings;
