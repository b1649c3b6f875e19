#!/bin/sh
# The stand-in browser of tests/proxy.rs: runs the Python browser named by PROXY_TEST_BROWSER
# (fake-browser.py, saml-browser.py) as a person's browser would run beside portico — with no
# proxy variables (portico's are under test, not the browser's) and trusting the emulator's
# test CA (PROXY_TEST_CA) for the https authorize page.
exec env -u HTTPS_PROXY -u https_proxy -u HTTP_PROXY -u http_proxy -u ALL_PROXY -u all_proxy \
    SSL_CERT_FILE="$PROXY_TEST_CA" python3 "$PROXY_TEST_BROWSER" "$@"
