#!/usr/bin/env bash
# Every test portico has: formatting, lints, Rust unit and integration tests (against the
# Identity Center emulator), and the boto3 conformance tests. This is exactly what CI runs.
# It installs what it needs itself (a Python virtualenv under target/pyenv from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo build (portico and idc-emulator)"
cargo build --workspace --locked

step "Rust tests"
cargo test --workspace --locked

step "boto3 conformance tests against the emulator"
bash tests/conformance/run.sh
