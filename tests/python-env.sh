#!/usr/bin/env bash
# Creates (or reuses) the Python virtualenv for the boto3 conformance tests.
#
#   tests/python-env.sh            # prints the venv's python on its last line
#   "$(tests/python-env.sh | tail -n1)" -m pytest tests/conformance -q
#
# The venv lives in target/pyenv (ignored with /target). It is built from the
# python3 found on PATH and holds exactly tests/conformance/requirements.txt,
# installed from the package registry with pip. It is rebuilt only when that
# file or the interpreter changes (stamp: target/pyenv/.stamp), so running this
# again is cheap. Set PYTHON=/path/to/python3 to use another interpreter.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
req="$repo/tests/conformance/requirements.txt"
venv="$repo/target/pyenv"
stamp="$venv/.stamp"
python="${PYTHON:-python3}"

if ! command -v "$python" >/dev/null 2>&1; then
    echo "python-env.sh: '$python' not found on PATH; install Python 3.10 or newer" >&2
    exit 1
fi
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
    echo "python-env.sh: $("$python" --version 2>&1) is too old; pytest 9 needs Python 3.10 or newer" >&2
    exit 1
fi

mkdir -p "$repo/target"
# One installer at a time (two test runs started together must not race).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$repo/target/pyenv.lock"
    flock 9
fi

want="$(
    {
        sha256sum "$req" | cut -d' ' -f1
        "$python" -c 'import sys; print(sys.executable); print(sys.version)'
    }
)"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "python-env.sh: $venv is up to date" >&2
else
    echo "python-env.sh: creating $venv from $(command -v "$python") ($("$python" --version 2>&1))" >&2
    rm -f "$stamp"
    if ! "$python" -m venv --clear "$venv"; then
        echo "python-env.sh: '$python -m venv' failed (on Debian: apt-get install python3-venv)" >&2
        exit 1
    fi
    export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
    "$venv/bin/python" -m pip install --quiet --requirement "$req"
    "$venv/bin/python" -m pip check >&2
    printf '%s\n' "$want" >"$stamp"
    echo "python-env.sh: installed $(tr '\n' ' ' < <(grep -E '^(boto3|botocore|pytest|signxml)==' "$req"))" >&2
fi

echo "$venv/bin/python"
