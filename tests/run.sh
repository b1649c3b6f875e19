#!/usr/bin/env bash
# Every test portico has: formatting, lints, Rust unit and integration tests (against the
# Identity Center emulator), and the boto3 conformance tests. This is exactly what CI runs.
# It installs what it needs itself (a Python virtualenv under target/pyenv from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

# fish runs the `--format fish` output for real; Debian has it, so install it when we can.
if ! command -v fish >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        step "installing fish (for the shell-format tests)"
        apt-get update -qq >/dev/null && apt-get install -y -qq fish >/dev/null
    else
        echo "note: fish is not installed; the fish output format is then checked by unit tests only" >&2
    fi
fi

# The Python virtualenv (boto3, botocore, pytest) is needed by Rust tests too (botocore reads
# the config files portico writes), so make it before cargo test.
step "Python virtualenv for the boto3 tests"
tests/python-env.sh >/dev/null

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

step "portico <-> boto3 interop tests against the emulator"
bash tests/interop/run.sh
