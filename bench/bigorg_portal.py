#!/usr/bin/env python3
"""The portal with a big organisation, driven through tmux (see bench/bigorg.sh).

    bigorg_portal.py PORTICO EMULATOR_URL

Starts `PORTICO` (the portal) in a 120x40 tmux pane of its own server, with the environment it
was given (a fresh HOME signed in to the emulator, nothing cached), and prints two figures:

* first account row: from starting the portal to the first row with an account id on screen;
* typed account's roles: from typing the name of an account whose roles are not listed yet
  (the last one the portal lists) to one of its roles on screen.

Prints `name=seconds` lines (or `name=` when not seen within the limit); asserts nothing.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

LIMIT = float(os.environ.get("BENCH_PORTAL_LIMIT", "60"))
ACCOUNT_ID = re.compile(r"\b\d{12}\b")


def main():
    portico, url = sys.argv[1], sys.argv[2]
    with urllib.request.urlopen(url.rstrip("/") + "/_emulator/directory", timeout=30) as resp:
        accounts = json.load(resp)["accounts"]
    target = accounts[-1]
    with tempfile.TemporaryDirectory(prefix="portico-bench-tmux-") as tmp:
        socket = os.path.join(tmp, "tmux")

        def tmux(*args, check=True):
            return subprocess.run(
                ["tmux", "-S", socket, *args],
                check=check,
                capture_output=True,
                text=True,
                env={k: v for k, v in os.environ.items() if k != "TMUX"},
            )

        def screen():
            return tmux("capture-pane", "-p", "-t", "b", check=False).stdout

        def wait(predicate):
            deadline = time.monotonic() + LIMIT
            while time.monotonic() < deadline:
                if predicate(screen()):
                    return time.monotonic()
                time.sleep(0.02)
            return None

        started = time.monotonic()
        tmux("new-session", "-d", "-s", "b", "-x", "120", "-y", "40", portico)
        try:
            first_row = wait(lambda s: ACCOUNT_ID.search(s) is not None)
            print(f"first_row={'' if first_row is None else f'{first_row - started:.3f}'}")
            if first_row is None:
                return
            # Every account listed (one row each while roles load), then type: the roles
            # cannot come before the account's own page.
            everything = f"{len(accounts):,} roles"
            wait(lambda s: everything in s)
            typed = time.monotonic()
            tmux("send-keys", "-t", "b", "-l", target["accountName"])
            roles = set(target["roles"])

            def shown(s):
                return any(
                    target["accountId"] in line and any(r in line for r in roles)
                    for line in s.splitlines()
                )

            seen = wait(shown)
            print(f"typed_roles={'' if seen is None else f'{seen - typed:.3f}'}")
            if seen is None:
                sys.stderr.write(f"bench: the pane after typing {target['accountName']}:\n{screen()}\n")
        finally:
            tmux("kill-server", check=False)


if __name__ == "__main__":
    main()
