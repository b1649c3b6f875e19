#!/usr/bin/env python3
"""A stand-in for a real browser program, for portico's browser-choice tests.

Tests put it into a directory first on PATH under the real programs' names (firefox,
google-chrome, chromium, microsoft-edge, brave-browser, …), as a link or a tiny sh wrapper that
sets FAKE_BROWSER_NAME. It appends one JSON line {"program": <the name it was run as>,
"args": [<its arguments>]} to $FAKE_BROWSER_ARGV, then
takes the URL among its arguments (an ext+container: URL is unwrapped to its url= value, as the
Firefox add-on does) and hands it to fake-browser.py beside it, which follows it as a person
would (FAKE_BROWSER_MODE and FAKE_BROWSER_LOG apply there).
"""
import json
import os
import subprocess
import sys
import urllib.parse


def main():
    path = os.environ.get("FAKE_BROWSER_ARGV")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"program": os.environ.get("FAKE_BROWSER_NAME") or os.path.basename(sys.argv[0]), "args": sys.argv[1:]}) + "\n")
    url = None
    for arg in sys.argv[1:]:
        if arg.startswith("ext+container:"):
            query = urllib.parse.parse_qs(arg[len("ext+container:"):])
            url = query.get("url", [None])[0]
        elif arg.startswith("http://") or arg.startswith("https://"):
            url = arg
    if url is None:
        return
    helper = os.path.join(os.path.dirname(os.path.realpath(__file__)), "fake-browser.py")
    subprocess.run([sys.executable, helper, url], check=False)


if __name__ == "__main__":
    main()
