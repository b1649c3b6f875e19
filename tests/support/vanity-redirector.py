#!/usr/bin/env python3
"""A company's vanity start URL, for portico's tests (tests/start_urls.rs): an https server on
127.0.0.1 that answers each path as a routes file says, the way a company's web server
redirects https://sso.example.com/ to its Identity Center portal.

Usage: vanity-redirector.py DIR
  DIR/routes.json  {"/path": {"HEAD": [status, location-or-null], "GET": [...]}, ...}
                   (a method not listed answers as the other one; an unknown path: 404)
  DIR/ca.pem       written at start: the test CA that signed the server's certificate
                   (made with the openssl command line), for AWS_CA_BUNDLE
  DIR/requests.log one line per request: "METHOD PATH"
  prints "port N" on stdout once it listens.
"""
import http.server
import json
import os
import ssl
import subprocess
import sys

DIR = sys.argv[1]


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_certificates():
    p = lambda name: os.path.join(DIR, name)
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *curve, "-keyout", p("ca.key"), "-out", p("ca.pem"),
            "-days", "1", "-subj", "/CN=vanity redirector test CA")
    openssl("req", *curve, "-keyout", p("key.pem"), "-out", p("leaf.csr"),
            "-subj", "/CN=127.0.0.1")
    with open(p("leaf.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n")
    openssl("x509", "-req", "-in", p("leaf.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
            "-CAcreateserial", "-out", p("cert.pem"), "-days", "1", "-extfile", p("leaf.ext"))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        with open(os.path.join(DIR, "requests.log"), "a") as f:
            f.write(f"{self.command} {self.path}\n")
        with open(os.path.join(DIR, "routes.json")) as f:
            routes = json.load(f)
        route = routes.get(self.path.split("?")[0])
        if route is None:
            status, location = 404, None
        else:
            status, location = route.get(self.command) or route.get("GET") or route.get("HEAD")
        self.send_response(status)
        if location is not None:
            self.send_header("Location", location)
        body = b"" if self.command == "HEAD" else b"vanity redirector\n"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = answer
    do_GET = answer

    def log_message(self, *args):
        pass


make_certificates()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(os.path.join(DIR, "cert.pem"), os.path.join(DIR, "key.pem"))
server.socket = context.wrap_socket(server.socket, server_side=True)
print(f"port {server.server_address[1]}", flush=True)
server.serve_forever()
