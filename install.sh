#!/usr/bin/env bash
# Builds portico in release mode and installs it, the Identity Center emulator (used by
# `portico demo` and the tests) and the man page under PREFIX (default ~/.local).
# Idempotent: running it again replaces the installed files with the new build.
#
#   ./install.sh                 # into ~/.local
#   PREFIX=/opt/portico ./install.sh
set -euo pipefail
cd "$(dirname "$0")"

PREFIX="${PREFIX:-$HOME/.local}"
bindir="$PREFIX/bin"
mandir="$PREFIX/share/man/man1"

if ! command -v cargo >/dev/null 2>&1; then
    echo "install.sh: cargo is not on PATH; install Rust from https://rustup.rs and run this again" >&2
    exit 1
fi

echo "Building portico (release)…" >&2
cargo build --release --locked --workspace --bins

mkdir -p "$bindir" "$mandir"
for bin in portico idc-emulator; do
    # Copy then rename, so a running portico is never left with a half-written binary.
    install -m 0755 "target/release/$bin" "$bindir/.$bin.new"
    mv -f "$bindir/.$bin.new" "$bindir/$bin"
done
install -m 0644 man/portico.1 "$mandir/portico.1"

echo "Installed into $PREFIX:" >&2
echo "  $bindir/portico" >&2
echo "  $bindir/idc-emulator" >&2
echo "  $mandir/portico.1" >&2
case ":$PATH:" in
    *":$bindir:"*) ;;
    *) echo "Add $bindir to PATH, e.g.: echo 'export PATH=\"$bindir:\$PATH\"' >> ~/.bashrc" >&2 ;;
esac
case ":${MANPATH:-}:" in
    *":$PREFIX/share/man:"*) ;;
    *) [ "$PREFIX" = "/usr/local" ] || echo "For the man page: export MANPATH=\"$PREFIX/share/man:\$MANPATH\"" >&2 ;;
esac
