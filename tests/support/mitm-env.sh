#!/usr/bin/env bash
# Creates (or reuses) the virtualenv with mitmproxy for tests/proxy.rs's TLS-inspection tests,
# apart from target/pyenv (mitmproxy's own pins are not boto3's).
#
#   tests/support/mitm-env.sh      # prints the path of mitmdump on its last line
#
# The venv lives in target/mitmenv, rebuilt only when the pinned version or the interpreter
# changes (stamp: target/mitmenv/.stamp). Set PYTHON=/path/to/python3 to use another one.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$repo/target/mitmenv"
stamp="$venv/.stamp"
python="${PYTHON:-python3}"
# mitmproxy 11.0.x supports Python 3.10–3.12 and runs in its regular (forward proxy) mode.
pin="mitmproxy==11.0.2"

mkdir -p "$repo/target"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$repo/target/mitmenv.lock"
    flock 9
fi
want="$pin $("$python" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
if [[ -x "$venv/bin/mitmdump" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "mitm-env.sh: $venv is up to date" >&2
else
    echo "mitm-env.sh: installing $pin into $venv" >&2
    rm -f "$stamp"
    "$python" -m venv --clear "$venv"
    export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
    "$venv/bin/python" -m pip install --quiet "$pin"
    printf '%s\n' "$want" >"$stamp"
fi
echo "$venv/bin/mitmdump"
