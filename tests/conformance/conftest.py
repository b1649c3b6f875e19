"""pytest fixtures for the boto3 conformance tests of the Identity Center emulator
(and of its SAML IdP and STS: `make_sts`).

`start(*args)` starts idc-emulator (from $IDC_EMULATOR, or
<repo>/target/debug/idc-emulator; build it with `cargo build -p idc-emulator`)
as a subprocess, reads the JSON line it prints first (with a timeout) and stops
it after the test; `emulator` is one such emulator with a small directory.
Each test starts its own emulator, so tests don't depend on each other.

`make_boto(emulator)` / `boto` give sso-oidc and sso clients pointed at the
emulator the way a user would do it: through AWS_ENDPOINT_URL_SSO and
AWS_ENDPOINT_URL_SSO_OIDC, with every other AWS_* variable removed, empty
config and credentials files, no proxies and IMDS disabled, so nothing from the
machine leaks in. No credentials are configured and none are needed: the SSO
and SSO OIDC operations are modelled as no-auth (smithy.api#noAuth). A hook on
every request asserts that boto3 really sends it unsigned (no Authorization,
X-Amz-Date or X-Amz-Security-Token header) and only to the emulator.
"""

from __future__ import annotations

import os

import boto3
import pytest
from botocore.config import Config

from harness import SIGNING_HEADERS, Boto, Emulator, start_emulator


@pytest.fixture
def start(tmp_path):
    """start(*args) -> Emulator; every emulator started is stopped after the test."""
    started: list[Emulator] = []

    def _start(*args) -> Emulator:
        emu = start_emulator(*args, tmp_dir=tmp_path)
        started.append(emu)
        return emu

    yield _start
    for emu in started:
        emu.stop()


@pytest.fixture
def emulator(start) -> Emulator:
    """An emulator with a small generated directory (5 accounts x 3 roles)."""
    return start("--accounts", "5", "--roles-per-account", "3")


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    """A clean AWS environment: no AWS_* variables, empty config files, no proxies, no IMDS."""
    for name in list(os.environ):
        if name.upper().startswith("AWS_") or name.lower() in (
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    config = home / ".aws" / "config"
    creds = home / ".aws" / "credentials"
    config.write_text("")
    creds.write_text("")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return monkeypatch


@pytest.fixture
def make_boto(aws_env):
    """make_boto(emulator, **Config kwargs) -> Boto with sso-oidc and sso clients for that emulator.

    Retries are off by default (total_max_attempts=1) so that one call is one
    request and the emulator's counters can be compared with the calls made.
    """

    def _make(emu: Emulator, expect_no_credentials: bool = True, **config_kwargs) -> Boto:
        aws_env.setenv("AWS_ENDPOINT_URL_SSO", emu.url)
        aws_env.setenv("AWS_ENDPOINT_URL_SSO_OIDC", emu.url)
        config_kwargs.setdefault("retries", {"total_max_attempts": 1})
        config_kwargs.setdefault("connect_timeout", 5)
        config_kwargs.setdefault("read_timeout", 30)
        config = Config(**config_kwargs)
        session = boto3.session.Session(region_name=emu.region)
        if expect_no_credentials:
            # Nothing configured: boto3 must find no credentials at all.
            assert session.get_credentials() is None
        oidc = session.client("sso-oidc", config=config)
        sso = session.client("sso", config=config)
        for client in (oidc, sso):
            # The endpoint came from AWS_ENDPOINT_URL_SSO(_OIDC), not from AWS's.
            assert client.meta.endpoint_url.rstrip("/") == emu.url, client.meta.endpoint_url

        sent: list = []
        received: list = []

        def before_send(request, **kwargs):
            op = kwargs.get("event_name", "").split(".")[-1]
            headers = {
                k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()
            }
            # Never let a request leave for anything but the emulator.
            assert request.url.startswith(emu.url + "/"), f"request to {request.url}"
            signed = [h for h in SIGNING_HEADERS if h in headers]
            assert not signed, f"boto3 signed {op}: {signed}"
            sent.append((op, request.method, request.url, headers))

        def before_parse(operation_model, response_dict, **kwargs):
            # The raw response, before botocore's own handlers touch it.
            headers = {k.lower(): v for k, v in response_dict["headers"].items()}
            received.append(
                (operation_model.name, response_dict["status_code"], headers, response_dict["body"])
            )

        for client in (oidc, sso):
            client.meta.events.register("before-send", before_send)
            client.meta.events.register_first("before-parse", before_parse)
        return Boto(session=session, oidc=oidc, sso=sso, sent=sent, received=received)

    return _make


@pytest.fixture
def boto(emulator, make_boto) -> Boto:
    return make_boto(emulator)


@pytest.fixture
def make_sts(aws_env):
    """make_sts(emulator, **Config kwargs) -> (sts client, sent, received) for that emulator.

    boto3.client('sts', endpoint_url=emulator.url) with no credentials anywhere:
    AssumeRoleWithSAML is modelled as no-auth, and a hook asserts it goes out unsigned and
    only to the emulator. Retries are off unless given.
    """

    def _make(emu: Emulator, **config_kwargs):
        config_kwargs.setdefault("retries", {"total_max_attempts": 1})
        config_kwargs.setdefault("connect_timeout", 5)
        config_kwargs.setdefault("read_timeout", 30)
        session = boto3.session.Session(region_name=emu.region)
        assert session.get_credentials() is None
        sts = session.client("sts", endpoint_url=emu.url, config=Config(**config_kwargs))
        sent: list = []
        received: list = []

        def before_send(request, **kwargs):
            headers = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
            assert request.url.startswith(emu.url + "/"), f"request to {request.url}"
            signed = [h for h in SIGNING_HEADERS if h in headers]
            assert not signed, f"boto3 signed AssumeRoleWithSAML: {signed}"
            sent.append((request.method, request.url, headers, request.body))

        def before_parse(operation_model, response_dict, **kwargs):
            headers = {k.lower(): v for k, v in response_dict["headers"].items()}
            received.append((operation_model.name, response_dict["status_code"], headers, response_dict["body"]))

        sts.meta.events.register("before-send", before_send)
        sts.meta.events.register_first("before-parse", before_parse)
        return sts, sent, received

    return _make
