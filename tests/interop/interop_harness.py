"""Helpers for the portico <-> boto3 interop tests (tests/interop); fixtures in conftest.py.

Built on the conformance harness (tests/conformance/harness.py, put on sys.path here).

`World` (the `world` fixture) is one test's whole setting: its own emulator serving a small known directory
(DIRECTORY), a temporary HOME with ~/.aws/config holding `[sso-session emu]`, `[profile dev]`
and `[profile dev-process]` (credential_process = portico credentials --profile dev), a
temporary XDG_CACHE_HOME, and one environment used for both portico and boto3: HOME,
AWS_CONFIG_FILE, XDG_CACHE_HOME and AWS_ENDPOINT_URL_SSO(_OIDC) set (~/.aws/credentials is
an empty file); every other AWS_* variable, proxies, BROWSER, DISPLAY,
WAYLAND_DISPLAY and SSH_* removed. boto3 runs in its own process (boto_probe.py) with that
environment, because botocore fixes its token cache directory from HOME when imported.

portico is $PORTICO or <repo>/target/debug/portico (cargo build -p portico).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CONFORMANCE = HERE.parent / "conformance"
sys.path.insert(0, str(CONFORMANCE))

from harness import REPO, Emulator  # noqa: E402


DEFAULT_PORTICO = REPO / "target" / "debug" / "portico"
PROBE = HERE / "boto_probe.py"
FAKE_BROWSER = REPO / "tests" / "support" / "fake-browser.py"

SESSION = "emu"
ACCOUNT_ID = "111122223333"
ROLE_NAME = "DeveloperAccess"
DIRECTORY = {
    "accounts": [
        {
            "accountId": ACCOUNT_ID,
            "accountName": "payments-dev",
            "emailAddress": "aws+payments-dev@example.com",
            "roles": [ROLE_NAME, "ReadOnlyAccess"],
        },
        {
            "accountId": "444455556666",
            "accountName": "payments-prod",
            "emailAddress": "aws+payments-prod@example.com",
            "roles": ["ReadOnlyAccess"],
        },
    ]
}

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
RUN_TIMEOUT = 60.0
LOGIN_TIMEOUT = 60.0

# Never handed to portico or boto3: they would change what is tested.
_DROPPED = {
    "BROWSER",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "XDG_CACHE_HOME",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
}


def portico_path() -> Path:
    return Path(os.environ.get("PORTICO") or DEFAULT_PORTICO)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def parse_time(text: str) -> float:
    """Epoch seconds of a `YYYY-MM-DDTHH:MM:SSZ` timestamp (the only format accepted)."""
    import calendar

    return calendar.timegm(time.strptime(text, TIME_FORMAT))


def format_time(epoch: float) -> str:
    return time.strftime(TIME_FORMAT, time.gmtime(epoch))


@dataclass
class World:
    emu: Emulator
    root: Path
    home: Path
    config: Path
    env: dict
    portico_exe: Path

    # -- files ---------------------------------------------------------------
    @property
    def token_path(self) -> Path:
        """~/.aws/sso/cache/{sha1(session name)}.json, named as botocore names it."""
        return self.home / ".aws" / "sso" / "cache" / (hashlib.sha1(SESSION.encode()).hexdigest() + ".json")

    def token(self) -> dict:
        return json.loads(self.token_path.read_text())

    def write_token(self, token: dict):
        self.token_path.write_text(json.dumps(token))

    # -- emulator ------------------------------------------------------------
    def stat(self, key: str) -> int:
        stats = self.emu.stats()
        assert key in stats, f"no stat {key} in {stats}"
        return stats[key]

    # -- portico -------------------------------------------------------------
    def token_secrets(self) -> set:
        """accessToken, refreshToken and clientSecret of the token file, if there is one."""
        try:
            token = self.token()
        except (OSError, ValueError):
            return set()
        return {token[k] for k in ("accessToken", "refreshToken", "clientSecret") if token.get(k)}

    def assert_no_secrets(self, text: str, secrets: set, what: str):
        for secret in secrets:
            assert secret not in text, f"{what} shows a token or client secret"

    def portico(self, *args, check: bool = True, timeout: float = RUN_TIMEOUT, env=None):
        """Runs portico; also checks that no token or client secret appears in its output."""
        cmd = [str(self.portico_exe), *map(str, args)]
        secrets = self.token_secrets()
        try:
            out = subprocess.run(
                cmd,
                env=env or self.env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as err:
            pytest.fail(f"`portico {' '.join(map(str, args))}` did not finish within {timeout:.0f} s\n"
                        f"stderr:\n{err.stderr}", pytrace=False)
        secrets |= self.token_secrets()
        self.assert_no_secrets(out.stdout + out.stderr, secrets, f"`portico {' '.join(map(str, args))}`")
        if check:
            assert out.returncode == 0, describe("portico", args, out)
        return out

    def status(self) -> dict:
        out = self.portico("status", "--json")
        rows = json.loads(out.stdout)
        assert isinstance(rows, list), out.stdout
        mine = [r for r in rows if r.get("session") == SESSION]
        assert len(mine) == 1, f"status --json has no single row for {SESSION}: {out.stdout}"
        return mine[0]

    def credentials(self, profile: str = "dev", check: bool = True):
        """`portico credentials --profile P` -> (parsed JSON or None, CompletedProcess)."""
        out = self.portico("credentials", "--profile", profile, check=check)
        if out.returncode != 0:
            return None, out
        return json.loads(out.stdout), out

    def login(self, flow: str = "device"):
        """`portico login` to the emu session, the user approving through the emulator."""
        if flow == "device":
            self._login_device()
        elif flow == "pkce":
            self._login_pkce()
        else:
            raise ValueError(flow)
        assert self.token_path.exists(), f"portico login wrote no {self.token_path}"

    def _login_device(self):
        args = ["login", "--device-code", "--sso-session", SESSION]
        err_path = self.root / "login.stderr"
        with open(err_path, "w") as err:
            proc = subprocess.Popen(
                [str(self.portico_exe), *args],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        try:
            deadline = time.monotonic() + LOGIN_TIMEOUT
            codes = []
            while time.monotonic() < deadline and proc.poll() is None:
                codes = self.emu.control("pending", method="GET")["userCodes"]
                if codes:
                    break
                time.sleep(0.05)
            assert len(codes) == 1, (
                f"expected one pending device code, got {codes} (portico exit {proc.poll()})\n"
                + err_path.read_text(errors="replace")
            )
            self.emu.approve(codes[0])
            rc = proc.wait(timeout=LOGIN_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stderr = err_path.read_text(errors="replace")
        assert rc == 0, f"portico {' '.join(args)} exited {rc}\n" + stderr
        self.assert_no_secrets(stderr, self.token_secrets(), "`portico login --device-code`")

    def _login_pkce(self):
        self.emu.auto_approve(True)
        env = dict(self.env)
        env["BROWSER"] = str(FAKE_BROWSER)
        env["FAKE_BROWSER_LOG"] = str(self.root / "fake-browser.log")
        try:
            self.portico("login", "--sso-session", SESSION, "--timeout", "30", env=env)
        finally:
            self.emu.auto_approve(False)

    # -- boto3 (in its own process) -----------------------------------------
    def boto(self, command: str, profile: str, stdin: dict | None = None) -> dict:
        """Runs boto_probe.py COMMAND PROFILE and returns the JSON it printed."""
        return self.boto_finish(self.boto_start(command, profile, stdin))

    def boto_start(self, command: str, profile: str, stdin: dict | None = None) -> subprocess.Popen:
        """Starts boto_probe.py without waiting for it (finish with boto_finish)."""
        proc = subprocess.Popen(
            [sys.executable, str(PROBE), command, profile],
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        proc.probe_args = (command, profile)
        proc.probe_input = json.dumps(stdin) if stdin is not None else ""
        return proc

    def boto_finish(self, proc: subprocess.Popen) -> dict:
        try:
            stdout, stderr = proc.communicate(proc.probe_input, timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
            pytest.fail(f"boto_probe.py {' '.join(proc.probe_args)} hung\n{stderr}", pytrace=False)
        out = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
        assert out.returncode == 0, describe("boto_probe.py", proc.probe_args, out)
        try:
            return json.loads(out.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            pytest.fail(describe("boto_probe.py printed no JSON", proc.probe_args, out), pytrace=False)


def describe(what: str, args, out) -> str:
    return (
        f"{what} {' '.join(map(str, args))} exited {out.returncode}\n"
        f"--- stdout ---\n{out.stdout}\n--- stderr ---\n{out.stderr}"
    )


def clean_env(**overrides) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith("AWS_") and k not in _DROPPED and not k.startswith("SSH_")
    }
    env.update({"NO_PROXY": "127.0.0.1,localhost"})
    env.update(overrides)
    return env


