#!/usr/bin/env python3
"""The command `portico exec --serve` runs in portico's tests: it fetches the keys the way every
SDK's container provider does (GET AWS_CONTAINER_CREDENTIALS_FULL_URI with the token from
AWS_CONTAINER_AUTHORIZATION_TOKEN, or the file AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE names, as
the Authorization header) and prints the answer's JSON on one line. It also names any static
keys it was handed besides (an SDK would take those first), as {"static": [...]}.
"""
import json
import os
import sys
import urllib.error
import urllib.request


def main():
    static = [v for v in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE") if v in os.environ]
    uri = os.environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    if not uri:
        print(json.dumps({"error": "AWS_CONTAINER_CREDENTIALS_FULL_URI is not set", "static": static}))
        return 3
    token = os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
    if token is None and os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"):
        with open(os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]) as f:
            token = f.read().strip()
    request = urllib.request.Request(uri, headers={"Accept": "application/json"})
    if token is not None:
        request.add_header("Authorization", token)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as answer:
            body = json.loads(answer.read())
    except urllib.error.HTTPError as e:
        print(json.dumps({"error": "HTTP %d: %s" % (e.code, e.read().decode(errors="replace")), "static": static}))
        return 4
    body["static"] = static
    print(json.dumps(body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
