#!/usr/bin/env bash
# The big-organisation benchmark: 5,000 accounts × 5 roles under a 20 calls/s throttle. Not a
# test: it prints figures against the targets and asserts nothing. See bench/README.md.
#
#   bash bench/bigorg.sh
#
# 1. examples/bigorg_bench.rs (release): during one full listing, the time from a filter change
#    to the matching account's roles and GetRoleCredentials latency (any 429 counted); then a
#    routine refresh's calls as a share of the full listing's.
# 2. The portal through tmux, first run with an empty cache: the time to the first account row,
#    and from typing an account's name to its roles on screen.
#
# Knobs (environment): BENCH_ACCOUNTS (5000), BENCH_ROLES_PER_ACCOUNT (5), BENCH_THROTTLE_RPS
# (20), BENCH_SAMPLES (10), BENCH_PORTAL_LIMIT (60 s to wait for anything on screen),
# BENCH_BIN_DIR (use the binaries there, e.g. target/debug, instead of a release build),
# BENCH_SKIP_LIBRARY=1 (only the portal).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
accounts="${BENCH_ACCOUNTS:-5000}"
roles="${BENCH_ROLES_PER_ACCOUNT:-5}"
rps="${BENCH_THROTTLE_RPS:-20}"
export BENCH_ACCOUNTS="$accounts" BENCH_ROLES_PER_ACCOUNT="$roles" BENCH_THROTTLE_RPS="$rps"

say() { printf 'bench: %s\n' "$*" >&2; }
work="$(mktemp -d "${TMPDIR:-/tmp}/portico-bigorg.XXXXXX")"
emu_pid=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n "$emu_pid" ]]; then
        kill -TERM "$emu_pid" 2>/dev/null || true
        wait "$emu_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -n "${BENCH_BIN_DIR:-}" ]]; then
    bin="$BENCH_BIN_DIR"
else
    say "cargo build --release -p portico -p idc-emulator; cargo build --release --example bigorg_bench"
    # Two builds: naming an example builds only that target, not the binaries.
    (cd "$repo" && cargo build --release -p portico -p idc-emulator &&
        cargo build --release --example bigorg_bench)
    bin="${CARGO_TARGET_DIR:-$repo/target}/release"
fi

say "listing in-process (a full listing takes about $(((accounts + accounts / 100) / rps)) s)"
if [[ "${BENCH_SKIP_LIBRARY:-}" != 1 ]]; then
    "$bin/examples/bigorg_bench"
fi

say "the portal through tmux"
"$bin/idc-emulator" --auto-approve --accounts "$accounts" --roles-per-account "$roles" \
    >"$work/emu.out" 2>"$work/emu.log" &
emu_pid=$!
for ((i = 0; i < 150; i++)); do
    head -n 1 "$work/emu.out" | grep -q '^{.*}$' && break
    sleep 0.1
done
read -r url start_url region < <(python3 -c '
import json, sys
info = json.loads(open(sys.argv[1]).readline())
print(info["url"], info["startUrl"], info["region"])' "$work/emu.out")
home="$work/home"
mkdir -p "$home/.aws" "$home/.cache"
export HOME="$home" XDG_CACHE_HOME="$home/.cache" AWS_CONFIG_FILE="$home/.aws/config"
export AWS_ENDPOINT_URL_SSO="$url" AWS_ENDPOINT_URL_SSO_OIDC="$url"
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL
cat >"$AWS_CONFIG_FILE" <<EOC
[sso-session emu]
sso_start_url = $start_url
sso_region = $region
sso_registration_scopes = sso:account:access
EOC
"$bin/portico" login --device-code >"$work/login.log" 2>&1
# The throttle only now, so that the sign-in is not part of the figures.
curl -fsS -X POST -H 'content-type: application/json' -d "{\"throttleRps\":$rps}" \
    "$url/_emulator/faults" >/dev/null
figures="$(python3 "$repo/bench/bigorg_portal.py" "$bin/portico" "$url")"
first_row="$(sed -n 's/^first_row=//p' <<<"$figures")"
typed="$(sed -n 's/^typed_roles=//p' <<<"$figures")"
verdict() { python3 -c 'import sys; v=sys.argv[1]; print("ok" if v and float(v) <= float(sys.argv[2]) else "MISSED")' "$1" "$2"; }
echo "portal, first run, empty cache ($accounts accounts × $roles roles at $rps calls/s):"
echo "  first account row: ${first_row:-not within ${BENCH_PORTAL_LIMIT:-60} s} s (target ≤ 3 s) $(verdict "$first_row" 3)"
echo "  typed account's roles: ${typed:-not within ${BENCH_PORTAL_LIMIT:-60} s} s after the keys (target ≤ 1.5 s) $(verdict "$typed" 1.5)"
