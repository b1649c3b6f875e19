#!/usr/bin/env bash
# Runs the boto3 conformance tests against the Identity Center emulator.
#
#   tests/conformance/run.sh [pytest args...]
#
# Needs the emulator built first (cargo build -p idc-emulator), or IDC_EMULATOR
# pointing at a binary. Creates/refreshes the virtualenv with tests/python-env.sh.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

emulator="${IDC_EMULATOR:-$repo/target/debug/idc-emulator}"
if [[ ! -x "$emulator" ]]; then
    echo "conformance: emulator binary not found at $emulator" >&2
    echo "conformance: build it first with: cargo build -p idc-emulator" >&2
    exit 1
fi
export IDC_EMULATOR="$emulator"

tests/python-env.sh >/dev/null
exec "$repo/target/pyenv/bin/python" -m pytest tests/conformance -q "$@"
