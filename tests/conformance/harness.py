"""Helpers for the boto3 conformance tests: start idc-emulator, talk to its
control API with urllib (stdlib, never following redirects, ignoring proxies),
the OIDC flows the tests share, and a SAML sign-in through the emulator's IdP as
a browser does it. The fixtures built on these are in conftest.py.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import zlib
import queue
import subprocess
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest

REPO = Path(__file__).resolve().parents[2]
DEFAULT_EMULATOR = REPO / "target" / "debug" / "idc-emulator"
STARTUP_TIMEOUT = 20.0

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
STATS_KEYS = (
    "RegisterClient",
    "StartDeviceAuthorization",
    "CreateToken:device_code",
    "CreateToken:authorization_code",
    "CreateToken:refresh_token",
    "ListAccounts",
    "ListAccountRoles",
    "GetRoleCredentials",
    "Logout",
    "GetSigninToken",
    "SamlSignIn",
    "AssumeRoleWithSAML",
    "GetCallerIdentity",
    "AssumeRole",
    "throttled",
    "failed",
)


def emulator_path() -> Path:
    return Path(os.environ.get("IDC_EMULATOR") or DEFAULT_EMULATOR)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102
        return None


# Loopback only: ignore any proxy settings of the machine.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


@dataclass
class HttpResponse:
    status: int
    headers: dict  # lower-cased names
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def http(method: str, url: str, body=None, headers=None, timeout: float = 30.0) -> HttpResponse:
    """One HTTP request with the stdlib; never follows redirects; errors are returned, not raised."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return HttpResponse(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as err:
        with err:
            return HttpResponse(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())


@dataclass
class Emulator:
    """A running idc-emulator and helpers for its control API."""

    proc: subprocess.Popen
    url: str
    startUrl: str
    region: str
    args: list
    stderr_path: Path
    info: dict = field(default_factory=dict)

    @property
    def start_url(self) -> str:
        return self.startUrl

    @property
    def saml_idp_url(self) -> str:
        """{url}/{tenant}/saml2, from the first stdout line's samlIdpUrl."""
        return self.info["samlIdpUrl"]

    @property
    def saml_metadata_url(self) -> str:
        return self.saml_idp_url[: -len("saml2")] + "federationmetadata/2007-06/federationmetadata.xml"

    # -- plain HTTP ---------------------------------------------------------
    def request(self, method: str, path: str, body=None, headers=None) -> HttpResponse:
        return http(method, self.url + path, body=body, headers=headers)

    def control(self, path: str, body=None, method: str = "POST"):
        if method == "POST" and body is None:
            body = {}
        resp = self.request(method, "/_emulator/" + path, body=body)
        assert 200 <= resp.status < 300, (
            f"control {method} /_emulator/{path} {body!r} -> {resp.status} {resp.text[:500]}"
        )
        return resp.json() if resp.body.strip() else None

    # -- control API --------------------------------------------------------
    def approve(self, user_code: str):
        return self.control("approve", {"userCode": user_code})

    def deny(self, user_code: str):
        return self.control("deny", {"userCode": user_code})

    def auto_approve(self, enabled: bool = True):
        return self.control("auto-approve", {"enabled": enabled})

    def faults(self, **fields):
        """latencyMs=, throttleRps=, errorRate=, garbleBodies= (omitted fields keep their value)."""
        return self.control("faults", fields)

    def expire_pending(self):
        return self.control("expire-pending")

    def expire_access_tokens(self):
        return self.control("expire-access-tokens")

    def revoke_all(self):
        return self.control("revoke-all")

    def stats(self) -> dict:
        return self.control("stats", method="GET")

    def reset_stats(self):
        return self.control("stats/reset")

    def saml_clock(self, offset_secs: int):
        """The SAML IdP and STS clock runs offset_secs ahead (negative: behind)."""
        return self.control("saml-clock", {"offsetSecs": offset_secs})

    def trust(self, role_arn: str, **fields):
        """One IAM role's whole trust for AssumeRole: trusted=[ARN…], externalId=, mfaSerial=,
        mfaSeed=, maxSessionDuration= (left out: the defaults)."""
        return self.control("trust", {"roleArn": role_arn, **fields})

    # -- lifecycle ----------------------------------------------------------
    def stderr_text(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc.stdout:
            self.proc.stdout.close()


def start_emulator(*args: str, tmp_dir: Path) -> Emulator:
    """Start idc-emulator with args; return once its first stdout line (JSON) is read."""
    exe = emulator_path()
    if not exe.exists():
        pytest.fail(
            f"emulator binary not found at {exe}: build it with `cargo build -p idc-emulator` "
            "or point IDC_EMULATOR at it",
            pytrace=False,
        )
    args = [str(a) for a in args]
    fd, name = tempfile.mkstemp(prefix="idc-emulator-", suffix=".stderr", dir=tmp_dir)
    stderr_path = Path(name)
    with os.fdopen(fd, "wb") as stderr_file:
        proc = subprocess.Popen(
            [str(exe), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
        )
    lines: queue.Queue = queue.Queue()

    def pump():
        # First line to the queue, the rest drained so the pipe never fills up.
        first = True
        for raw in proc.stdout:
            if first:
                lines.put(raw)
                first = False
        if first:
            lines.put(None)

    threading.Thread(target=pump, daemon=True).start()

    def fail(why: str):
        proc.kill()
        proc.wait()
        pytest.fail(
            f"idc-emulator {' '.join(args)}: {why}\n--- stderr ---\n"
            + stderr_path.read_text(errors="replace")[-4000:],
            pytrace=False,
        )

    try:
        raw = lines.get(timeout=STARTUP_TIMEOUT)
    except queue.Empty:
        fail(f"no JSON line on stdout within {STARTUP_TIMEOUT:.0f} s")
    if raw is None:
        fail(f"exited with status {proc.wait()} before printing its JSON line")
    try:
        info = json.loads(raw)
    except ValueError:
        fail(f"first stdout line is not JSON: {raw!r}")
    if not isinstance(info, dict) or not {"url", "startUrl", "region", "samlIdpUrl"} <= info.keys():
        fail(f"first stdout line lacks url/startUrl/region/samlIdpUrl: {raw!r}")
    return Emulator(
        proc=proc,
        url=info["url"].rstrip("/"),
        startUrl=info["startUrl"],
        region=info["region"],
        args=args,
        stderr_path=stderr_path,
        info=info,
    )


# --------------------------------------------------------------------------
# boto3
# --------------------------------------------------------------------------

SIGNING_HEADERS = ("authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256")


@dataclass
class Boto:
    session: boto3.session.Session
    oidc: object
    sso: object
    sent: list  # (operation name, method, url, headers) of every request sent
    received: list  # (operation name, status, headers, raw body) of every response

    def last_response(self):
        assert self.received, "no response recorded"
        return self.received[-1]


# --------------------------------------------------------------------------
# flows
# --------------------------------------------------------------------------


def register(oidc, name: str = "portico-conformance", **extra) -> dict:
    return oidc.register_client(clientName=name, clientType="public", **extra)


def register_for_refresh(oidc, emu: Emulator, grants=(DEVICE_GRANT, "refresh_token"), **extra) -> dict:
    """Register the way the AWS CLI does for an sso-session (refresh tokens allowed)."""
    return register(
        oidc,
        scopes=["sso:account:access"],
        grantTypes=list(grants),
        issuerUrl=emu.startUrl,
        **extra,
    )


def device_token(oidc, emu: Emulator, reg: dict) -> dict:
    """StartDeviceAuthorization -> approve through the control API -> CreateToken."""
    auth = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=emu.startUrl
    )
    emu.approve(auth["userCode"])
    return oidc.create_token(
        clientId=reg["clientId"],
        clientSecret=reg["clientSecret"],
        grantType=DEVICE_GRANT,
        deviceCode=auth["deviceCode"],
    )


def login(boto: Boto, emu: Emulator) -> str:
    """A fresh device-flow access token."""
    reg = register(boto.oidc)
    return device_token(boto.oidc, emu, reg)["accessToken"]


# --------------------------------------------------------------------------
# SAML sign-in, as a browser does it
# --------------------------------------------------------------------------

AWS_ENTITY_ID = "urn:amazon:webservices"
LOOPBACK_ACS = "http://localhost:{port}/saml"


def authn_request(acs: str | None, issuer: str = AWS_ENTITY_ID, request_id: str = "id-conformance") -> str:
    """The SAMLRequest value: base64(raw DEFLATE(AuthnRequest)), as docs/protocol.md (SAML sign-in) builds it."""
    acs_attr = f' AssertionConsumerServiceURL="{acs}"' if acs else ""
    xml = (
        '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        f'ID="{request_id}" Version="2.0" IssueInstant="2026-12-01T20:00:00Z"{acs_attr}>'
        '<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">'
        f"{issuer}</saml:Issuer></samlp:AuthnRequest>"
    )
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.b64encode(deflate.compress(xml.encode()) + deflate.flush()).decode()


@dataclass
class SamlForm:
    """The auto-posting form the IdP answers with."""

    action: str
    saml_response: str  # base64, exactly as the browser posts it
    relay_state: str | None

    @property
    def xml(self) -> bytes:
        return base64.b64decode(self.saml_response)


def _hidden(page: str, name: str) -> str | None:
    m = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    return html.unescape(m.group(1)) if m else None


def saml_sign_in(
    emu: Emulator,
    acs: str | None = "http://localhost:48123/saml",
    relay_state: str = "relay-conformance",
    issuer: str = AWS_ENTITY_ID,
    idp_url: str | None = None,
) -> SamlForm:
    """GET the IdP URL with an AuthnRequest, press the sign-in page's button when there is
    one (no auto-approve), and read the auto-posting form."""
    query = urllib.parse.urlencode({"SAMLRequest": authn_request(acs, issuer), "RelayState": relay_state})
    url = idp_url or emu.saml_idp_url
    resp = http("GET", f"{url}?{query}")
    assert resp.status == 200, f"{resp.status} {resp.text[:500]}"
    page = resp.text
    if _hidden(page, "SAMLResponse") is None:
        request_id = _hidden(page, "request_id")
        assert request_id, page[:500]
        body = urllib.parse.urlencode({"request_id": request_id, "decision": "approve"}).encode()
        resp = http("POST", url, body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert resp.status == 200, f"{resp.status} {resp.text[:500]}"
        page = resp.text
    action = re.search(r'<form method="POST" name="hiddenform" action="([^"]*)"', page)
    assert action, page[:500]
    return SamlForm(
        action=html.unescape(action.group(1)),
        saml_response=_hidden(page, "SAMLResponse"),
        relay_state=_hidden(page, "RelayState"),
    )


def metadata_certificate(emu: Emulator) -> str:
    """The signing certificate (PEM) published in the federation metadata."""
    resp = http("GET", emu.saml_metadata_url)
    assert resp.status == 200, resp.text[:500]
    m = re.search(r"<X509Certificate>([^<]+)</X509Certificate>", resp.text)
    assert m, resp.text[:500]
    return "-----BEGIN CERTIFICATE-----\n" + m.group(1).strip() + "\n-----END CERTIFICATE-----\n"
