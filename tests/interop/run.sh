#!/usr/bin/env bash
# Runs the portico <-> boto3 interop tests against the Identity Center emulator.
#
#   tests/interop/run.sh [pytest args...]
#
# Needs both binaries built first (cargo build -p idc-emulator -p portico), or IDC_EMULATOR
# and PORTICO pointing at them. Uses the conformance tests' virtualenv (tests/python-env.sh).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

emulator="${IDC_EMULATOR:-$repo/target/debug/idc-emulator}"
portico="${PORTICO:-$repo/target/debug/portico}"
missing=0
if [[ ! -x "$emulator" ]]; then
    echo "interop: emulator binary not found at $emulator" >&2
    missing=1
fi
if [[ ! -x "$portico" ]]; then
    echo "interop: portico binary not found at $portico" >&2
    missing=1
fi
if ((missing)); then
    echo "interop: build them first with: cargo build -p idc-emulator -p portico" >&2
    exit 1
fi
export IDC_EMULATOR="$emulator" PORTICO="$portico"

tests/python-env.sh >/dev/null
exec "$repo/target/pyenv/bin/python" -m pytest tests/interop -q "$@"
