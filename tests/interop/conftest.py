"""pytest fixtures for the portico <-> boto3 interop tests (tests/interop).

`start`, `aws_env` and `make_boto` are the conformance tests' own fixtures
(tests/conformance/conftest.py, loaded here under another module name since both directories
have a conftest.py): `start(*args)` runs idc-emulator and stops it after the test, `make_boto`
gives in-process sso/sso-oidc clients pointed at an emulator.

`portico_exe` is $PORTICO or <repo>/target/debug/portico (cargo build -p portico).
`world` is one test's whole setting; see interop_harness.py.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from interop_harness import (
    ACCOUNT_ID,
    CONFORMANCE,
    DIRECTORY,
    ROLE_NAME,
    SESSION,
    World,
    clean_env,
    portico_path,
)


def _load_conformance_fixtures():
    spec = importlib.util.spec_from_file_location("conformance_conftest", CONFORMANCE / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_conformance = _load_conformance_fixtures()
start = _conformance.start
aws_env = _conformance.aws_env
make_boto = _conformance.make_boto


@pytest.fixture
def portico_exe() -> Path:
    exe = portico_path()
    if not exe.exists():
        pytest.fail(
            f"portico binary not found at {exe}: build it with `cargo build -p portico` "
            "or point PORTICO at it",
            pytrace=False,
        )
    return exe


@pytest.fixture
def world(start, tmp_path, portico_exe) -> World:
    root = tmp_path / "world"
    home = root / "home"
    (home / ".aws").mkdir(parents=True)
    directory = root / "directory.json"
    directory.write_text(json.dumps(DIRECTORY))
    emu = start("--directory", str(directory))

    config = home / ".aws" / "config"
    creds = home / ".aws" / "credentials"
    creds.write_text("")
    config.write_text(
        f"""[sso-session {SESSION}]
sso_start_url = {emu.startUrl}
sso_region = {emu.region}
sso_registration_scopes = sso:account:access

[profile dev]
sso_session = {SESSION}
sso_account_id = {ACCOUNT_ID}
sso_role_name = {ROLE_NAME}
region = {emu.region}

[profile dev-process]
credential_process = {portico_exe} credentials --profile dev
region = {emu.region}
"""
    )
    env = clean_env(
        HOME=str(home),
        XDG_CACHE_HOME=str(root / "xdg-cache"),
        AWS_CONFIG_FILE=str(config),
        AWS_ENDPOINT_URL_SSO=emu.url,
        AWS_ENDPOINT_URL_SSO_OIDC=emu.url,
    )
    return World(emu=emu, root=root, home=home, config=config, env=env, portico_exe=portico_exe)
