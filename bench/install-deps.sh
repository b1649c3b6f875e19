#!/usr/bin/env bash
# Installs what bench/credentials.sh compares portico against, from the package registries only:
#   - hyperfine, GNU time, python3 + venv   Debian packages
#   - the AWS CLI v2                        Debian's `awscli` package (2.9.19 on bookworm),
#                                           always used as /usr/bin/aws (a pyenv or pip `aws` on
#                                           PATH may be the AWS CLI v1)
#   - aws-sso-util                          PyPI, in its own venv at target/bench-venv
# Missing Debian packages are installed with apt-get when running as root; otherwise it stops
# and names them. Running it again is cheap: nothing is reinstalled that is already there.
# Set BENCH_AWS_SSO_UTIL to a pip requirement (e.g. aws-sso-util==4.33.0) to pin it.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${CARGO_TARGET_DIR:-$repo/target}/bench-venv"
spec="${BENCH_AWS_SSO_UTIL:-aws-sso-util}"

say() { printf 'install-deps: %s\n' "$*" >&2; }

missing=()
command -v hyperfine >/dev/null 2>&1 || missing+=(hyperfine)
[[ -x /usr/bin/time ]] || missing+=(time)
if ! /usr/bin/aws --version 2>/dev/null | grep -q '^aws-cli/2\.'; then
    missing+=(awscli)
fi
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    missing+=(python3-venv)
fi

if ((${#missing[@]})); then
    if [[ "$(id -u)" -ne 0 ]]; then
        say "missing: ${missing[*]}; run as root, or: sudo apt-get install -y ${missing[*]}"
        exit 1
    fi
    say "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

ver="$(/usr/bin/aws --version 2>&1 || true)"
if [[ "$ver" != aws-cli/2.* ]]; then
    say "/usr/bin/aws is not the AWS CLI v2: '$ver'"
    exit 1
fi

mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
command -v flock >/dev/null 2>&1 && flock 9
if [[ -x "$venv/bin/aws-sso-util" && -f "$venv/.spec" && "$(cat "$venv/.spec")" == "$spec" ]]; then
    say "$venv is up to date ($("$venv/bin/aws-sso-util" --version 2>&1))"
else
    say "creating $venv with $spec from PyPI"
    python3 -m venv --clear "$venv"
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 "$venv/bin/python" -m pip install --quiet "$spec" >&2
    printf '%s\n' "$spec" >"$venv/.spec"
fi
