#!/usr/bin/env python3
"""Helpers for bench/credentials.sh (standard library only).

    benchlib.py emu-info FILE             first stdout line of idc-emulator -> "URL START_URL REGION"
    benchlib.py ctl URL METHOD PATH       call the emulator's control API, print its JSON answer
    benchlib.py stat STATS.json KEY       one counter of a saved /_emulator/stats answer
    benchlib.py first-role                `portico list --json` on stdin -> "ACCOUNT_ID ROLE"
    benchlib.py count-roles               `portico list --json` on stdin -> "ACCOUNTS ROLES"
    benchlib.py check-process [KEY_ID]    credential_process JSON on stdin is valid (and has KEY_ID);
                                          prints its AccessKeyId
    benchlib.py seed-aws-cli-cache --account ID --role NAME --session NAME
                                          credential_process JSON on stdin -> the AWS CLI v2 role
                                          credential cache file (docs/protocol.md §3); prints its path
    benchlib.py scale-config SRC N DEST   SRC plus N generated profiles (as `profiles sync` writes
                                          them, half before SRC's profiles and half after) -> DEST
    benchlib.py report WORKDIR            the table of results
"""

import hashlib
import json
import math
import os
import re
import statistics
import sys
import tempfile
import urllib.request
from pathlib import Path


def die(msg):
    print(f"benchlib: {msg}", file=sys.stderr)
    sys.exit(1)


# ---------------------------------------------------------------- emulator


def emu_info(path):
    line = Path(path).read_text().splitlines()[0]
    info = json.loads(line)
    print(info["url"], info["startUrl"], info["region"])


def ctl(url, method, path):
    data = b"{}" if method == "POST" else None
    req = urllib.request.Request(
        url.rstrip("/") + path,
        data=data,
        method=method,
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        sys.stdout.write(resp.read().decode())
        sys.stdout.write("\n")


def stat(path, key):
    print(json.loads(Path(path).read_text()).get(key, 0))


# ---------------------------------------------------------------- portico output


def first_role():
    doc = json.load(sys.stdin)
    for acct in doc["accounts"]:
        if acct.get("roles"):
            print(acct["accountId"], acct["roles"][0])
            return
    die("portico list --json shows no account with a role")


def count_roles():
    doc = json.load(sys.stdin)
    accounts = doc["accounts"]
    print(len(accounts), sum(len(a.get("roles", [])) for a in accounts))


def check_process(expected_key=None):
    raw = sys.stdin.read()
    try:
        doc = json.loads(raw)
    except ValueError:
        die(f"not credential_process JSON: {raw[:200]!r}")
    if doc.get("Version") != 1:
        die("credential_process JSON without Version 1")
    for field in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"):
        if not doc.get(field):
            die(f"credential_process JSON without {field}")
    if expected_key and doc["AccessKeyId"] != expected_key:
        die(f"AccessKeyId {doc['AccessKeyId']} is not the expected {expected_key}")
    print(doc["AccessKeyId"])


def seed_aws_cli_cache(argv):
    args = dict(zip(argv[::2], argv[1::2]))
    account, role, session = args["--account"], args["--role"], args["--session"]
    creds = json.load(sys.stdin)
    # aws-cli v2 (2.9.19) botocore SSOCredentialFetcher._create_cache_key: for a profile with
    # sso_session the key is {"accountId","roleName","sessionName"} (startUrl instead of
    # sessionName for a legacy profile), json.dumps(sort_keys=True, separators=(',', ':')),
    # sha1 hex; JSONFileCache stores it as ~/.aws/cli/cache/{key}.json.
    key_args = {"roleName": role, "accountId": account, "sessionName": session}
    key = hashlib.sha1(
        json.dumps(key_args, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    cache_dir = Path.home() / ".aws" / "cli" / "cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    entry = {
        "ProviderType": "sso",
        "Credentials": {
            "AccessKeyId": creds["AccessKeyId"],
            "SecretAccessKey": creds["SecretAccessKey"],
            "SessionToken": creds["SessionToken"],
            "Expiration": creds["Expiration"],
            "AccountId": account,
        },
    }
    fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".seed-")
    with os.fdopen(fd, "w") as f:
        json.dump(entry, f)
    os.chmod(tmp, 0o600)
    path = cache_dir / f"{key}.json"
    os.replace(tmp, path)
    print(path)


# ---------------------------------------------------------------- scale


def scale_config(src, n, dest):
    """A config with n more profiles of the shape `profiles sync` writes (about 120 bytes each),
    half of them before the benchmark's own sections and half after, so that neither the first
    nor the last section is the one looked up."""
    n = int(n)

    def profiles(start, stop):
        for i in range(start, stop):
            yield (
                f"\n[profile scale-{i:06d}-ReadOnly]\n"
                "# managed by portico profiles sync (sso-session emu)\n"
                "sso_session = emu\n"
                f"sso_account_id = {100000000000 + i}\n"
                "sso_role_name = ReadOnly\n"
            )

    own = Path(src).read_text()
    head, tail = n // 2, n - n // 2
    session_end = own.find("\n[", 1)
    session_end = len(own) if session_end < 0 else session_end + 1
    with open(dest, "w") as f:
        f.write(own[:session_end])
        f.writelines(profiles(0, head))
        f.write("\n" + own[session_end:])
        f.writelines(profiles(head, head + tail))


# ---------------------------------------------------------------- report


def read_meta(work):
    meta = {}
    for line in (work / "meta.txt").read_text().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            meta[k] = v
    return meta


def p95(values):
    """Nearest-rank 95th percentile."""
    s = sorted(values)
    return s[max(0, math.ceil(0.95 * len(s)) - 1)]


def hyperfine_times(path):
    doc = json.loads(Path(path).read_text())
    return doc["results"][0]["times"]


def peak_rss_kib(work, name):
    peaks = []
    for f in sorted(work.glob(f"rss-{name}-*.txt")):
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read_text())
        if m:
            peaks.append(int(m.group(1)))
    if not peaks:
        die(f"no /usr/bin/time -v output for {name}")
    return max(peaks), len(peaks)


def fmt_ms(sec):
    ms = sec * 1000
    return f"{ms:.2f} ms" if ms < 100 else f"{ms:.0f} ms"


def mb(kib):
    return kib * 1024 / 1e6


def verdict(ok):
    return "MET" if ok else "MISSED"


def report(work):
    work = Path(work)
    meta = read_meta(work)
    tools = [
        ("portico", "portico credentials --profile dev"),
        ("awscli", meta["awscli_cmd"]),
        ("ssoutil", meta["ssoutil_cmd"]),
    ]
    rows = {}
    for name, _cmd in tools:
        times = hyperfine_times(work / f"hf-{name}.json")
        rss, rss_runs = peak_rss_kib(work, name)
        rows[name] = {
            "n": len(times),
            "min": min(times),
            "median": statistics.median(times),
            "p95": p95(times),
            "rss": rss,
            "rss_runs": rss_runs,
        }
    base = rows["portico"]
    out = []
    w = out.append
    w("")
    w("=" * 100)
    w("portico benchmark: warm credential_process and throttled listing")
    w(f"  {meta['versions']}")
    w(f"  machine: {meta['machine']}")
    w("=" * 100)
    w("")
    w("Warm credential_process latency (hyperfine -N, all run times; median and nearest-rank p95")
    w(f"computed here; peak RSS = max of {base['rss_runs']} runs under /usr/bin/time -v)")
    w("")
    hdr = f"{'command':<72} {'runs':>5} {'min':>9} {'median':>9} {'p95':>9} {'peak RSS':>9}  {'median x':>8} {'RSS x':>6}"
    w(hdr)
    w("-" * len(hdr))
    for name, cmd in tools:
        r = rows[name]
        w(
            f"{cmd:<72} {r['n']:>5} {fmt_ms(r['min']):>9} {fmt_ms(r['median']):>9} {fmt_ms(r['p95']):>9} "
            f"{mb(r['rss']):>6.1f} MB  {r['median'] / base['median']:>7.0f}x {r['rss'] / base['rss']:>5.1f}x"
        )
    w("")
    w("Calibration on this machine now (same method; not in the ratios):")
    for name, cmd in (("floor", "/bin/true (process-spawn floor)"), ("version", "portico --version (start-up, no work)")):
        f = work / f"hf-{name}.json"
        if f.exists():
            t = hyperfine_times(f)
            w(f"  {cmd:<40} min {fmt_ms(min(t))}, median {fmt_ms(statistics.median(t))}, p95 {fmt_ms(p95(t))}")
    w("")
    w(f"AWS CLI v2 path measured: {meta['awscli_path']}")
    w(f"aws-sso-util path measured: {meta['ssoutil_path']}")
    w(f"GetRoleCredentials calls during the timed runs: {meta['grc_during_timing']} (0 = every run was warm)")
    w("")
    w("Ratios (other / portico):")
    for name, label in (("awscli", "AWS CLI v2"), ("ssoutil", "aws-sso-util")):
        r = rows[name]
        w(
            f"  {label:<13} median {r['median'] / base['median']:7.0f}x   p95 {r['p95'] / base['p95']:7.0f}x"
            f"   peak RSS {r['rss'] / base['rss']:5.1f}x"
        )
    w("")
    med_ok = base["median"] * 1000 <= 2.0
    rss_ok = mb(base["rss"]) <= 15.0
    w(f"Target: portico warm median <= 2 ms   : {fmt_ms(base['median'])}  {verdict(med_ok)}")
    w(f"Target: portico peak RSS <= 15 MB     : {mb(base['rss']):.1f} MB  {verdict(rss_ok)}")

    # Scale: the same warm call with a config of many profiles.
    scale = []
    for f in sorted(work.glob("hf-scale-*.json"), key=lambda p: int(p.stem.split("-")[-1])):
        n = int(f.stem.split("-")[-1])
        t = hyperfine_times(f)
        size = int(meta.get(f"scale_bytes_{n}", "0"))
        scale.append((n, statistics.median(t), p95(t), len(t), size))
    scale_ok = True
    if scale:
        w("")
        w("Scale: warm `portico credentials --profile dev` with N more profiles in the config")
        w("(the same profile and cached credentials; profiles shaped as `profiles sync` writes them)")
        w("")
        hdr = f"{'profiles added':>14} {'config size':>12} {'runs':>5} {'median':>9} {'p95':>9} {'median x':>9}"
        w(hdr)
        w("-" * len(hdr))
        first = scale[0][1]
        for n, med, q95, runs_n, size in scale:
            w(f"{n:>14} {size / 1e6:>9.2f} MB {runs_n:>5} {fmt_ms(med):>9} {fmt_ms(q95):>9} {med / first:>8.2f}x")
        by_n = {n: med for n, med, *_ in scale}
        if 10 in by_n and 8000 in by_n:
            ratio = by_n[8000] / by_n[10]
            ok = ratio <= 1.5
            scale_ok &= ok
            w(f"Target: 8,000 / 10 profiles <= 1.5x   : {ratio:.2f}x  {verdict(ok)}")
        if 80000 in by_n:
            ok = by_n[80000] * 1000 <= 50
            scale_ok &= ok
            w(f"Target: 80,000 profiles <= 50 ms      : {fmt_ms(by_n[80000])}  {verdict(ok)}")
    med_ok = med_ok and scale_ok

    # Listing
    runs = []
    i = 1
    while (work / f"list-{i}.time").exists():
        secs = float((work / f"list-{i}.time").read_text())
        stats = json.loads((work / f"list-{i}.stats.json").read_text())
        counts = (work / f"list-{i}.counts").read_text().split()
        calls = stats["ListAccounts"] + stats["ListAccountRoles"]
        ok_calls = calls - stats["throttled"]
        runs.append(
            {
                "secs": secs,
                "la": stats["ListAccounts"],
                "lar": stats["ListAccountRoles"],
                "throttled": stats["throttled"],
                "failed": stats["failed"],
                "ok": ok_calls,
                "accounts": int(counts[0]),
                "roles": int(counts[1]),
            }
        )
        i += 1
    if not runs:
        print("\n".join(out + ["", "Listing: skipped (BENCH_LIST_RUNS=0)", ""]))
        (work / "verdict").write_text("ok\n" if (med_ok and rss_ok) else "missed\n")
        return
    rps = float(meta["list_rps"])
    n_acc = int(meta["list_accounts"])
    n_roles = n_acc * int(meta["list_roles_per_account"])
    w("")
    w(
        f"Listing: portico list --refresh --json, {n_acc} accounts x {meta['list_roles_per_account']} roles, "
        f"emulator throttled to {meta['list_rps']} requests/s"
    )
    w("bound = successful portal calls / rate; successful = ListAccounts + ListAccountRoles - throttled")
    w("")
    hdr = f"{'run':>3} {'time':>9} {'ListAccounts':>12} {'ListAccountRoles':>16} {'throttled':>9} {'successful':>10} {'bound':>8} {'time/bound':>10} {'accounts/roles':>15}"
    w(hdr)
    w("-" * len(hdr))
    for k, r in enumerate(runs, 1):
        bound = r["ok"] / rps
        w(
            f"{k:>3} {r['secs']:>8.2f}s {r['la']:>12} {r['lar']:>16} {r['throttled']:>9} {r['ok']:>10} "
            f"{bound:>7.2f}s {r['secs'] / bound:>10.3f} {r['accounts']:>7}/{r['roles']}"
        )
    all_present = all(r["accounts"] == n_acc and r["roles"] == n_roles and r["failed"] == 0 for r in runs)
    med_secs = statistics.median(r["secs"] for r in runs)
    med_ok_calls = statistics.median(r["ok"] for r in runs)
    bound = med_ok_calls / rps
    ratio = med_secs / bound
    min_calls = math.ceil(n_acc / 100) + n_acc
    w("")
    w(
        f"median time {med_secs:.2f}s, median successful calls {med_ok_calls:g} "
        f"(fewest possible at max_result=100: ceil({n_acc}/100) + {n_acc} = {min_calls}), "
        f"bound {bound:.2f}s"
    )
    w(f"every account and role listed in every run: {'yes' if all_present else 'NO'}")
    list_ok = ratio <= 1.15
    w(f"Target: listing time / bound <= 1.15  : {ratio:.3f}  {verdict(list_ok)}")
    w("")
    print("\n".join(out))
    (work / "verdict").write_text("ok\n" if (med_ok and rss_ok and list_ok and all_present) else "missed\n")


def storage_report(work):
    """Warm `portico credentials` per portico_storage, medians side by side with `portico
    --version` (issue 22: the kernel keyring within 1.3x; the Secret Service's ratio shown)."""
    work = Path(work)
    version = work / "hf-version.json"
    if not version.exists():
        return
    base = statistics.median(hyperfine_times(version))
    print("")
    print("warm `portico credentials --profile dev` by portico_storage (median; x the `portico")
    print("--version` timed right before it, whose median is shown beside):")
    for storage, target in (("file", None), ("kernel-keyring", 1.3), ("keyring", None)):
        path = work / f"hf-storage-{storage}.json"
        if not path.exists():
            print(f"  {storage:<15} not timed here (no Secret Service to start)")
            continue
        beside = work / f"hf-storage-{storage}-version.json"
        own = statistics.median(hyperfine_times(beside)) if beside.exists() else base
        median = statistics.median(hyperfine_times(path))
        ratio = median / own
        verdict = ""
        if target is not None:
            verdict = f"   target <= {target}x: {'met' if ratio <= target else 'MISSED'}"
        print(f"  {storage:<15} {median * 1000:7.2f} ms  {ratio:5.2f}x  (--version {own * 1000:.2f} ms){verdict}")


def main():
    if len(sys.argv) < 2:
        die(__doc__)
    cmd, argv = sys.argv[1], sys.argv[2:]
    if cmd == "emu-info":
        emu_info(*argv)
    elif cmd == "ctl":
        ctl(*argv)
    elif cmd == "stat":
        stat(*argv)
    elif cmd == "first-role":
        first_role()
    elif cmd == "count-roles":
        count_roles()
    elif cmd == "check-process":
        check_process(*argv)
    elif cmd == "seed-aws-cli-cache":
        seed_aws_cli_cache(argv)
    elif cmd == "scale-config":
        scale_config(*argv)
    elif cmd == "report":
        report(*argv)
    elif cmd == "storage-report":
        storage_report(*argv)
    else:
        die(f"unknown command {cmd}\n{__doc__}")


if __name__ == "__main__":
    main()
