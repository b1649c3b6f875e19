//! The documentation a user reads points only at what the repository has: relative links
//! resolve, and nothing cites the team's private notes (`shared/PROTOCOL.md`, "issue N").

use std::path::{Path, PathBuf};

const DOCS: &[&str] = &[
    "README.md",
    "docs/protocol.md",
    "tests/emulator/README.md",
    "bench/README.md",
    "docs/layout.md",
    "docs/testing.md",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The targets of `[text](target)` links, without `#fragment`.
fn links(text: &str) -> Vec<&str> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .map(|target| target.split('#').next().unwrap_or(target))
        .filter(|target| !target.is_empty() && !target.contains("://"))
        .collect()
}

#[test]
fn relative_links_resolve() {
    for doc in DOCS {
        let path = root().join(doc);
        let text = std::fs::read_to_string(&path).unwrap();
        let dir = path.parent().unwrap_or(Path::new("."));
        for target in links(&text) {
            assert!(
                dir.join(target).exists(),
                "{doc} links to {target}, which does not exist"
            );
        }
    }
}

#[test]
fn nothing_cites_what_the_repository_does_not_have() {
    for doc in DOCS {
        let text = std::fs::read_to_string(root().join(doc)).unwrap();
        for gone in ["PROTOCOL.md", "shared/", "(issue "] {
            assert!(!text.contains(gone), "{doc} cites {gone:?}");
        }
    }
    // The protocol reference covers what portico's readers need.
    let protocol = std::fs::read_to_string(root().join("docs/protocol.md")).unwrap();
    for topic in [
        "## 1. The OIDC service",
        "## 2. The portal service",
        "The token cache",
        "The registration cache",
        "~/.aws/cli/cache",
        "~/.aws/config",
        "## 4. `credential_process`",
        "## 5. Console sign-in",
        "## 6. Start URLs",
        "PORTICO_HTTP_TIMEOUT",
    ] {
        assert!(protocol.contains(topic), "docs/protocol.md lacks {topic:?}");
    }
}

#[test]
fn the_readme_names_every_variable_the_emulator_needs() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme
        .split("## The Identity Center emulator")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("the README has an emulator section");
    for var in [
        "AWS_ENDPOINT_URL_SSO=",
        "AWS_ENDPOINT_URL_SSO_OIDC=",
        "PORTICO_FEDERATION_ENDPOINT=",
        "PORTICO_HTTP_TIMEOUT",
    ] {
        assert!(section.contains(var), "the emulator section lacks {var}");
    }
}
