#!/usr/bin/env bash
# Every test portico has: formatting, lints, Rust unit and integration tests (against the
# Identity Center emulator), and the boto3 conformance tests. This is exactly what CI runs.
# It installs what it needs itself (a Python virtualenv under target/pyenv from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

# fish runs the `--format fish` output for real, tmux drives the TUI end to end, the AWS CLI
# v2 (Debian's awscli) reads keys from `portico serve`, and tinyproxy and squid are the forward
# proxies of tests/proxy.rs (openssl makes squid's password file); all are Debian packages, so
# install whichever is missing when we can.
missing=()
for tool in fish tmux man openssl; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ -x /usr/bin/aws ] || missing+=(awscli)
[ -x /usr/bin/tinyproxy ] || [ -x /usr/sbin/tinyproxy ] || missing+=(tinyproxy)
[ -x /usr/sbin/squid ] || missing+=(squid)
# tests/keyring.rs: a real Secret Service (gnome-keyring-daemon) on a private D-Bus bus.
[ -x /usr/bin/gnome-keyring-daemon ] || missing+=(gnome-keyring)
[ -x /usr/bin/dbus-daemon ] && [ -x /usr/bin/dbus-send ] || missing+=(dbus)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        step "installing ${missing[*]} (Debian packages the tests use)"
        pkgs=("${missing[@]/#man/man-db}")
        apt-get update -qq >/dev/null && apt-get install -y -qq "${pkgs[@]}" >/dev/null
    else
        echo "note: ${missing[*]} not installed and cannot be installed here (need root and apt-get)" >&2
    fi
fi

# The Python virtualenv (boto3, botocore, pytest) is needed by Rust tests too (botocore reads
# the config files portico writes), so make it before cargo test.
step "Python virtualenv for the boto3 tests"
tests/python-env.sh >/dev/null

# mitmproxy (from PyPI, in a venv of its own) is the TLS-inspecting proxy of tests/proxy.rs.
step "mitmproxy virtualenv for the proxy tests"
tests/support/mitm-env.sh >/dev/null

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

step "install.sh into a temporary PREFIX, then run what it installed"
prefix="$(mktemp -d)"
trap 'rm -rf "$prefix"' EXIT
# The one release build of the run goes to a target directory of its own, as for anyone with
# CARGO_TARGET_DIR set: install.sh must install what cargo built there, not fail on (or copy a
# stale) target/release.
install_target="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/install"
CARGO_TARGET_DIR="$install_target" PREFIX="$prefix" bash install.sh
for bin in portico idc-emulator; do
    cmp -s "$install_target/release/$bin" "$prefix/bin/$bin" ||
        { echo "install.sh did not install the $bin it built in CARGO_TARGET_DIR" >&2; exit 1; }
done
"$prefix/bin/portico" --version
"$prefix/bin/idc-emulator" --help >/dev/null
MANWIDTH=80 man -l "$prefix/share/man/man1/portico.1" | grep -q "EXIT STATUS"
bash -c "source '$prefix/share/bash-completion/completions/portico'"
echo "install.sh: ok" >&2
