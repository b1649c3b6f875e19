#!/usr/bin/env bash
# The credential benchmark: warm credential_process latency and peak RSS for portico,
# the AWS CLI v2 and aws-sso-util side by side, and `portico list` under a throttled emulator
# against its bound. Not a test: it prints a table and ratios. See bench/README.md.
#
#   bash bench/credentials.sh
#
# Knobs (environment): BENCH_RUNS_PORTICO (300), BENCH_RUNS_OTHERS (20), BENCH_WARMUP (3),
# BENCH_RSS_RUNS (5), BENCH_SCALE_RUNS (100), BENCH_SCALE_PROFILES ("10 8000 80000"; empty
# skips), BENCH_LIST_RUNS (3), BENCH_LIST_ACCOUNTS (500),
# BENCH_LIST_ROLES_PER_ACCOUNT (3), BENCH_THROTTLE_RPS (20), BENCH_KEEP=1 keeps the work
# directory, BENCH_STRICT=1 exits 3 when a target is missed, BENCH_AWSCLI_STATIC=1 times the AWS
# CLI's static-key path even when the seeded cache works, BENCH_STORAGE_RUNS (as many as
# BENCH_RUNS_PORTICO) times warm credentials per portico_storage.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="$repo/bench"
runs_portico="${BENCH_RUNS_PORTICO:-300}"
runs_others="${BENCH_RUNS_OTHERS:-20}"
warmup="${BENCH_WARMUP:-3}"
rss_runs="${BENCH_RSS_RUNS:-5}"
scale_runs="${BENCH_SCALE_RUNS:-100}"
scale_profiles="${BENCH_SCALE_PROFILES-10 8000 80000}"
list_runs="${BENCH_LIST_RUNS:-3}"
list_accounts="${BENCH_LIST_ACCOUNTS:-500}"
list_roles="${BENCH_LIST_ROLES_PER_ACCOUNT:-3}"
throttle_rps="${BENCH_THROTTLE_RPS:-20}"

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

work="$(mktemp -d "${TMPDIR:-/tmp}/portico-bench.XXXXXX")"
emu_pid=""

stop_emulator() {
    if [[ -n "$emu_pid" ]]; then
        kill -TERM "$emu_pid" 2>/dev/null || true
        wait "$emu_pid" 2>/dev/null || true
        emu_pid=""
    fi
}

# Long steps run in the background and are waited for, so that Ctrl-C or TERM reaches the traps
# at once (a foreground hyperfine outlives SIGINT, and bash would wait for it); the trap ends
# them by PID.
child_pid=""
bg_wait() {
    "$@" &
    child_pid=$!
    local rc=0
    wait "$child_pid" || rc=$?
    child_pid=""
    return "$rc"
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n "$child_pid" ]]; then
        kill -TERM "$child_pid" 2>/dev/null || true
        wait "$child_pid" 2>/dev/null || true
    fi
    stop_emulator
    stop_secret_service
    if ((rc != 0)); then
        for f in "$work"/step.log "$work"/emu.log; do
            [[ -s "$f" ]] && { say "last lines of $(basename "$f"):"; tail -n 15 "$f" >&2; }
        done
    fi
    if [[ "${BENCH_KEEP:-}" == 1 ]]; then
        say "kept $work"
    else
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A private D-Bus bus with gnome-keyring-daemon (its login collection created unlocked) for the
# storage timings; both ended by PID.
keyring_bus_pid="" keyring_daemon_pid=""
start_secret_service() {
    command -v gnome-keyring-daemon >/dev/null && command -v dbus-daemon >/dev/null || return 1
    mkdir -p "$work/bus/data" "$work/bus/run"
    chmod 700 "$work/bus/run"
    printf '%s\n' \
        '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"' \
        ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">' \
        "<busconfig><type>session</type><listen>unix:dir=$work/bus</listen><auth>EXTERNAL</auth>" \
        '<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>' \
        '</busconfig>' >"$work/bus/bus.conf"
    dbus-daemon --config-file="$work/bus/bus.conf" --nofork --print-address=1 >"$work/bus/address" &
    keyring_bus_pid=$!
    local i
    for ((i = 0; i < 50; i++)); do
        [[ -s "$work/bus/address" ]] && break
        sleep 0.1
    done
    DBUS_SESSION_BUS_ADDRESS="$(head -n 1 "$work/bus/address")"
    export DBUS_SESSION_BUS_ADDRESS
    printf 'portico-bench' | HOME="$work/bus" XDG_DATA_HOME="$work/bus/data" XDG_RUNTIME_DIR="$work/bus/run" \
        gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
    keyring_daemon_pid=$!
    for ((i = 0; i < 100; i++)); do
        dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
            string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true' && return 0
        sleep 0.1
    done
    return 1
}
stop_secret_service() {
    local pid
    for pid in "$keyring_daemon_pid" "$keyring_bus_pid"; do
        if [[ -n "$pid" ]]; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    keyring_bus_pid="" keyring_daemon_pid=""
    unset DBUS_SESSION_BUS_ADDRESS
}

# Runs a step with its output in $work/step.log (shown if the benchmark fails).
step() { "$@" >>"$work/step.log" 2>&1; }

# ------------------------------------------------------------------ 1. build
t_start=$SECONDS
say "cargo build --release -p portico -p idc-emulator"
(cd "$repo" && cargo build --release -p portico -p idc-emulator)
bin="${CARGO_TARGET_DIR:-$repo/target}/release"
portico="$bin/portico"
emulator="$bin/idc-emulator"

# ------------------------------------------------------------------ 2. install the others
say "installing hyperfine, AWS CLI v2 (Debian awscli), aws-sso-util (PyPI venv)"
bash "$bench/install-deps.sh"
venv="${CARGO_TARGET_DIR:-$repo/target}/bench-venv"
hyperfine="$(command -v hyperfine)"
aws=/usr/bin/aws
ssoutil="$venv/bin/aws-sso-util"
# An absolute interpreter: HOME changes below, and a pyenv shim would follow it.
py="$(python3 -c 'import sys; print(sys.executable)')"
lib() { "$py" "$bench/benchlib.py" "$@"; }

meta() { printf '%s=%s\n' "$1" "$2" >>"$work/meta.txt"; }
meta versions "$("$portico" --version) | $("$aws" --version 2>&1 | cut -d' ' -f1,2) | aws-sso-util $("$ssoutil" --version 2>&1) (botocore $("$venv/bin/python" -c 'import botocore; print(botocore.__version__)')) | $("$hyperfine" --version)"
meta machine "$(nproc) cores, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
meta list_accounts "$list_accounts"
meta list_roles_per_account "$list_roles"
meta list_rps "$throttle_rps"

# ------------------------------------------------------------------ emulator and sign-in
emu_url="" emu_start_url="" emu_region=""
start_emulator() {
    : >"$work/emu.out"
    "$emulator" --auto-approve "$@" >"$work/emu.out" 2>>"$work/emu.log" &
    emu_pid=$!
    local i
    for ((i = 0; i < 150; i++)); do
        head -n 1 "$work/emu.out" | grep -q '^{.*}$' && break
        kill -0 "$emu_pid" 2>/dev/null || die "idc-emulator exited at start"
        sleep 0.1
    done
    read -r emu_url emu_start_url emu_region < <(lib emu-info "$work/emu.out") ||
        die "idc-emulator printed no URL"
    say "idc-emulator $* (pid $emu_pid) at $emu_url"
}

# A fresh HOME with the sso-session of the running emulator; every tool reads only it.
new_home() {
    local home="$1"
    mkdir -p "$home/.aws" "$home/.cache"
    export HOME="$home" XDG_CACHE_HOME="$home/.cache"
    export AWS_CONFIG_FILE="$home/.aws/config" AWS_SHARED_CREDENTIALS_FILE="$home/.aws/credentials"
    export AWS_ENDPOINT_URL_SSO="$emu_url" AWS_ENDPOINT_URL_SSO_OIDC="$emu_url"
    unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
        AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_CA_BUNDLE
    cat >"$AWS_CONFIG_FILE" <<EOF
[sso-session emu]
sso_start_url = $emu_start_url
sso_region = $emu_region
sso_registration_scopes = sso:account:access
EOF
}

# ------------------------------------------------------------------ 3. warm-path setup
start_emulator
new_home "$work/home"
say "portico login --device-code --sso-session emu"
step timeout 120 "$portico" login --device-code --sso-session emu </dev/null
read -r account role < <("$portico" list --json --sso-session emu | lib first-role)
say "profile dev = account $account, role $role"
cat >>"$AWS_CONFIG_FILE" <<EOF

[profile dev]
sso_session = emu
sso_account_id = $account
sso_role_name = $role
region = $emu_region

# aws-sso-util reads neither sso_session nor a token keyed by session name: the same
# account and role as a legacy profile, its token cached under the start URL.
[profile dev-legacy]
sso_start_url = $emu_start_url
sso_region = $emu_region
sso_account_id = $account
sso_role_name = $role
region = $emu_region
EOF

# portico: one call fetches and caches the role credentials; every timed run is warm.
"$portico" credentials --profile dev >"$work/portico.json" 2>>"$work/step.log"
key_id="$(lib check-process <"$work/portico.json")"

# AWS CLI v2: seed its role-credential cache with the same credentials, then check it answers
# from the cache (2.9.19 cannot reach the emulator); otherwise time its static-key path.
seeded="$(lib seed-aws-cli-cache --account "$account" --role "$role" --session emu <"$work/portico.json")"
say "seeded $seeded"
if [[ "${BENCH_AWSCLI_STATIC:-}" != 1 ]] &&
    "$aws" configure export-credentials --profile dev --format process >"$work/awscli.json" 2>>"$work/step.log" &&
    lib check-process "$key_id" <"$work/awscli.json" >/dev/null 2>>"$work/step.log"; then
    awscli_profile=dev
    meta awscli_path "seeded role-credential cache (~/.aws/cli/cache/$(basename "$seeded"), sso-session profile dev)"
else
    [[ "${BENCH_AWSCLI_STATIC:-}" == 1 ]] ||
        say "the AWS CLI v2 did not answer from the seeded cache; timing its static-key path instead"
    "$py" - "$work/portico.json" <<'EOF' >"$AWS_SHARED_CREDENTIALS_FILE"
import json, sys
c = json.load(open(sys.argv[1]))
print("[dev-static]")
print("aws_access_key_id =", c["AccessKeyId"])
print("aws_secret_access_key =", c["SecretAccessKey"])
print("aws_session_token =", c["SessionToken"])
EOF
    chmod 600 "$AWS_SHARED_CREDENTIALS_FILE"
    printf '\n[profile dev-static]\nregion = %s\n' "$emu_region" >>"$AWS_CONFIG_FILE"
    awscli_profile=dev-static
    "$aws" configure export-credentials --profile dev-static --format process >"$work/awscli.json" ||
        die "aws configure export-credentials --profile dev-static failed"
    meta awscli_path "static keys in ~/.aws/credentials (profile dev-static): a LOWER BOUND for its SSO path"
fi
awscli_cmd="aws configure export-credentials --profile $awscli_profile --format process"
meta awscli_cmd "$awscli_cmd"

# aws-sso-util: sign the legacy profile in with portico (token under sha1(start URL)); its first
# call fetches the role credentials from the emulator and caches them in ~/.aws/cli/cache.
say "portico login --device-code --profile dev-legacy (for aws-sso-util)"
step timeout 120 "$portico" login --device-code --profile dev-legacy </dev/null
"$ssoutil" credential-process --profile dev-legacy >"$work/ssoutil.json" 2>>"$work/step.log" ||
    die "aws-sso-util credential-process --profile dev-legacy failed"
lib check-process <"$work/ssoutil.json" >/dev/null
"$ssoutil" credential-process --profile dev-legacy >/dev/null 2>>"$work/step.log"
ssoutil_cmd="aws-sso-util credential-process --profile dev-legacy"
meta ssoutil_cmd "$ssoutil_cmd"
meta ssoutil_path "its own role-credential cache in ~/.aws/cli/cache (filled by its first call to the emulator)"

# ------------------------------------------------------------------ 4. warm latency and RSS
lib ctl "$emu_url" GET /_emulator/stats >"$work/stats-before.json"
q() { printf '%q' "$1"; }
measure() { # name, runs, command...
    local name="$1" runs="$2"
    shift 2
    local cmd="" a
    for a in "$@"; do cmd+="$(q "$a") "; done
    say "timing $name: $runs runs"
    bg_wait "$hyperfine" -N --style basic --warmup "$warmup" --runs "$runs" \
        --export-json "$work/hf-$name.json" --command-name "$name" "$cmd" >>"$work/hyperfine.log" 2>&1 ||
        die "hyperfine $name failed (see above)"
    local i
    for ((i = 1; i <= rss_runs; i++)); do
        /usr/bin/time -v -o "$work/rss-$name-$i.txt" "$@" >/dev/null 2>>"$work/step.log"
    done
}
measure portico "$runs_portico" "$portico" credentials --profile dev
# Calibration, not compared: the process-spawn floor and portico's start-up doing no work.
measure floor "$runs_portico" /bin/true
measure version "$runs_portico" "$portico" --version
measure awscli "$runs_others" "$aws" configure export-credentials --profile "$awscli_profile" --format process
measure ssoutil "$runs_others" "$ssoutil" credential-process --profile dev-legacy
# Scale: the same warm call with thousands of profiles in the config (what `profiles sync` writes
# for thousands of accounts). Each size gets its own copy of the config; the credentials stay the
# cached ones, so only reading the config grows.
own_config="$AWS_CONFIG_FILE"
for n in $scale_profiles; do
    lib scale-config "$own_config" "$n" "$work/config-$n"
    meta "scale_bytes_$n" "$(wc -c <"$work/config-$n")"
    export AWS_CONFIG_FILE="$work/config-$n"
    measure "scale-$n" "$scale_runs" "$portico" credentials --profile dev
done
export AWS_CONFIG_FILE="$own_config"

# Storage (issue 22): the same warm call with the session's secrets in each `portico_storage`,
# side by side with `portico --version`. The first call with a new PORTICO_STORAGE moves the
# token and the cached keys there; every timed call after it is warm. The Secret Service is
# gnome-keyring-daemon on a private D-Bus bus (skipped, saying so, where it is not installed).
storage_runs="${BENCH_STORAGE_RUNS:-$runs_portico}"
for storage in file kernel-keyring keyring; do
    if [[ "$storage" == keyring ]] && ! start_secret_service; then
        say "no gnome-keyring-daemon or dbus-daemon here: the Secret Service is not timed"
        stop_secret_service
        continue
    fi
    export PORTICO_STORAGE="$storage"
    "$portico" credentials --profile dev >"$work/storage-$storage.json" 2>>"$work/step.log" ||
        die "portico credentials with PORTICO_STORAGE=$storage failed"
    lib check-process "$key_id" <"$work/storage-$storage.json" >/dev/null
    # Its own `--version` right beside it: a ratio against one timed minutes earlier drifts
    # with the machine's load (it read 1.37x for files that were 1.1x side by side).
    measure "storage-$storage-version" "$storage_runs" "$portico" --version
    measure "storage-$storage" "$storage_runs" "$portico" credentials --profile dev
    # Back to files (the token and keys move back), so the next storage starts from there.
    export PORTICO_STORAGE=file
    "$portico" credentials --profile dev >/dev/null 2>>"$work/step.log"
    unset PORTICO_STORAGE
    if [[ "$storage" == keyring ]]; then stop_secret_service; fi
done

lib ctl "$emu_url" GET /_emulator/stats >"$work/stats-after.json"
meta grc_during_timing "$(($(lib stat "$work/stats-after.json" GetRoleCredentials) - $(lib stat "$work/stats-before.json" GetRoleCredentials)))"
stop_emulator

# ------------------------------------------------------------------ 5. throttled listing
if ((list_runs > 0)); then
start_emulator --accounts "$list_accounts" --roles-per-account "$list_roles" --throttle-rps "$throttle_rps"
new_home "$work/home-list"
say "portico login --device-code --sso-session emu"
step timeout 120 "$portico" login --device-code --sso-session emu </dev/null
for ((i = 1; i <= list_runs; i++)); do
    say "portico list --refresh --json: run $i of $list_runs"
    lib ctl "$emu_url" POST /_emulator/stats/reset >/dev/null
    t0=$(date +%s%N)
    bg_wait "$portico" list --refresh --json --sso-session emu >"$work/list.json" 2>>"$work/step.log" ||
        die "portico list --refresh failed"
    t1=$(date +%s%N)
    lib ctl "$emu_url" GET /_emulator/stats >"$work/list-$i.stats.json"
    lib count-roles <"$work/list.json" >"$work/list-$i.counts"
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }' >"$work/list-$i.time"
done
stop_emulator
fi

# ------------------------------------------------------------------ report
lib report "$work"
lib storage-report "$work"
elapsed=$((SECONDS - t_start))
printf 'benchmark wall time: %dm%02ds (build included)\n' $((elapsed / 60)) $((elapsed % 60))
if [[ "${BENCH_STRICT:-}" == 1 && "$(cat "$work/verdict")" != ok ]]; then
    exit 3
fi
