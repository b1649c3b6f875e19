//! The portal TUI: the account × role picker that `portico` opens with no
//! arguments. State ([`App`]), one [`Action`] enum, a pure [`update`] that returns
//! [`Effect`]s for the caller to carry out, a pure view (`impl Widget for &App`), the mapping
//! of terminal events to actions, and a terminal guard that always restores the terminal.
//!
//! All I/O belongs to the [`controller`], which wires this to sign-in, the portal and the
//! config file: it feeds results back as actions (`AccountsLoaded`, `LoginState`, `Error`…).

mod action;
mod app;
mod clipboard;
pub mod controller;
mod filter;
pub mod form;
mod keys;
mod qr;
mod rows;
mod terminal;
mod update;
mod view;

pub use action::{Action, Choice, Effect, LoginState, Popup, SessionInfo};
pub use app::{App, Focus, ProfilePrompt, Screen, SignIn, SourceView, StatusKind, StatusLine};
pub use clipboard::{copy as copy_to_clipboard, on_path, Delivery};
pub use filter::Filter;
pub use keys::action_for;
pub use qr::QrModules;
pub use rows::{ChainedProfile, RecentUse, Row, Rows, Source};
pub use terminal::{
    check_terminal, restore, run_loop, CrosstermEvents, EventSource, Input, TerminalGuard,
    TtyWriter, TuiTerminal, TICK,
};
pub use update::update;
pub use view::{colors_wanted, render, HIGHLIGHT};
