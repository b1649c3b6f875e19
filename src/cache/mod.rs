//! Files portico keeps: the token cache shared with the AWS CLI, client registrations, role
//! credentials and account lists, the AWS CLI's role-credential cache (cleared on sign-out),
//! and the locks that make concurrent processes cooperate.

pub mod accounts;
pub mod assumerole;
pub mod awscli;
pub mod files;
pub mod lock;
pub mod rolecreds;
pub mod scopes;
pub mod secrets;
pub mod token;
