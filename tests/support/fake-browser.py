#!/usr/bin/env python3
"""A stand-in for a person at a browser, for portico's PKCE tests.

portico runs it as $BROWSER with the authorize URL. With the emulator in auto-approve mode,
/authorize answers 302 to portico's loopback listener; this script then visits that callback
URL, as a browser would. FAKE_BROWSER_MODE changes what the "person" does:
  approve      follow the redirect (default)
  tamper-state change the state parameter before following (a forged callback)
  ignore       do nothing (the person never signs in)
FAKE_BROWSER_LOG, when set, gets one line per step for the test to read.
"""
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def log(line):
    path = os.environ.get("FAKE_BROWSER_LOG")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def main():
    url = sys.argv[1]
    mode = os.environ.get("FAKE_BROWSER_MODE", "approve")
    log("opened " + url)
    if mode == "ignore":
        return
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(url, timeout=10)
        log("no redirect from authorize")
        return
    except urllib.error.HTTPError as e:
        if e.code not in (301, 302, 303, 307):
            log("authorize answered %d" % e.code)
            return
        location = e.headers["Location"]
    if mode == "tamper-state":
        parts = urllib.parse.urlsplit(location)
        query = urllib.parse.parse_qs(parts.query)
        query["state"] = ["forged-" + query.get("state", [""])[0]]
        location = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, doseq=True)))
    log("callback " + location.split("?")[0])
    try:
        with urllib.request.urlopen(location, timeout=10) as page:
            log("callback answered %d" % page.status)
    except urllib.error.HTTPError as e:
        log("callback answered %d" % e.code)


if __name__ == "__main__":
    main()
