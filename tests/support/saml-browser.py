#!/usr/bin/env python3
"""A stand-in for a person at a browser, for portico's SAML tests.

portico runs it as $BROWSER with the IdP URL (SAMLRequest + RelayState). With the emulator in
auto-approve mode the IdP answers Entra's auto-submitting form; this script posts the form's
fields to its action, as a browser's script would. SAML_BROWSER_MODE changes what is posted:
  post          the form as it is (default)
  relay-state   another RelayState
  in-response-to  the response's InResponseTo changed (an answer to another request)
  unsigned      the assertion's Signature removed
  tamper        one byte of the assertion changed (the signature no longer matches)
  path          posted to /elsewhere instead of the form's action
  garbage       an extra field appended to the form
  ignore        nothing posted (the IdP's page stays on screen)
SAML_BROWSER_LOG, when set, gets one line per step for the test to read.
SAML_BROWSER_PAGE, when set, is where the page the listener answered the POST with is saved
(status line, then the body), as a person would read it in the tab.
SAML_BROWSER_GO, when set, makes the browser hold the form until that file exists (a person
slow to finish the sign-in): it logs "form ACTION" first, so a test knows the listener's
address and that portico is waiting.
"""
import base64
import html.parser
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def log(line):
    path = os.environ.get("SAML_BROWSER_LOG")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


class Form(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.action = None
        self.fields = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attrs.get("action")
        if tag == "input" and attrs.get("name"):
            self.fields.append((attrs["name"], attrs.get("value", "")))


def main():
    url = sys.argv[1]
    mode = os.environ.get("SAML_BROWSER_MODE", "post")
    log("opened " + url.split("?")[0])
    try:
        with urllib.request.urlopen(url, timeout=10) as page:
            body = page.read().decode()
    except urllib.error.HTTPError as e:
        body = e.read().decode()
        found = re.search(r'<p id="error">([^<]*)', body)
        log("idp answered %d %s" % (e.code, found.group(1) if found else ""))
        return
    form = Form()
    form.feed(body)
    if not form.action:
        log("no form")
        return
    fields = list(form.fields)
    action = form.action
    if mode == "ignore":
        log("ignored the form")
        return
    go = os.environ.get("SAML_BROWSER_GO")
    if go:
        log("form " + action)
        deadline = time.monotonic() + 120
        while not os.path.exists(go):
            if time.monotonic() > deadline:
                log("gave up waiting for " + go)
                return
            time.sleep(0.05)

    def edit_response(change):
        for i, (k, v) in enumerate(fields):
            if k == "SAMLResponse":
                xml = base64.b64decode(v).decode()
                fields[i] = (k, base64.b64encode(change(xml).encode()).decode())

    if mode == "relay-state":
        fields = [(k, "forged" if k == "RelayState" else v) for k, v in fields]
    elif mode == "in-response-to":
        edit_response(lambda x: re.sub(r'InResponseTo="[^"]*"', 'InResponseTo="_another"', x))
    elif mode == "unsigned":
        edit_response(lambda x: re.sub(r"<(\w+:)?Signature[ >].*?</(\w+:)?Signature>", "", x, flags=re.S))
    elif mode == "tamper":
        edit_response(lambda x: x.replace("user@corp.example</", "user@corp.exampla</", 1))
    elif mode == "path":
        action = action.replace("/saml", "/elsewhere")
    body = urllib.parse.urlencode(fields)
    if mode == "garbage":
        body += "&junk"
    log("post " + urllib.parse.urlsplit(action).path)
    request = urllib.request.Request(action, data=body.encode(), method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as page:
            status, answer = page.status, page.read()
    except urllib.error.HTTPError as e:
        status, answer = e.code, e.read()
    except OSError as e:
        log("acs unreachable %s" % e)
        return
    saved = os.environ.get("SAML_BROWSER_PAGE")
    if saved:
        with open(saved + ".tmp", "wb") as f:
            f.write(b"%d\n" % status + answer)
        os.replace(saved + ".tmp", saved)
    log("acs answered %d" % status)


if __name__ == "__main__":
    main()
