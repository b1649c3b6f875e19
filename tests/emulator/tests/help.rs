//! `idc-emulator --help` names every control route and every SAML route the server has.

use std::process::Command;

#[test]
fn help_lists_every_control_route() {
    let out = Command::new(env!("CARGO_BIN_EXE_idc-emulator"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    // The routes as the router declares them.
    let server = include_str!("../src/server.rs");
    let routes: Vec<&str> = server
        .split('"')
        .filter(|s| s.starts_with("/_emulator/"))
        .collect();
    assert!(routes.len() >= 10, "{routes:?}");
    let saml: Vec<&str> = server
        .split('"')
        .filter(|s| s.starts_with("/{tenant}/"))
        .collect();
    assert_eq!(saml.len(), 2, "{saml:?}");
    let routes = routes.into_iter().chain(saml);
    for route in routes {
        let listed = help
            .lines()
            .any(|l| l.split_whitespace().nth(1) == Some(route));
        assert!(listed, "{route} is missing from --help:\n{help}");
    }
}
