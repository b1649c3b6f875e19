"""portico and boto3/botocore share one sign-in.

Every test has its own emulator, HOME and caches (the `world` fixture in conftest.py); portico
is the real binary, boto3 runs in its own process with the same environment (boto_probe.py).
Run them with tests/interop/run.sh after `cargo build -p idc-emulator -p portico`.
"""

from __future__ import annotations

import hashlib
import re
import time

import pytest
from interop_harness import ACCOUNT_ID, ROLE_NAME, SESSION, format_time, parse_time, sha256

from harness import device_token, register_for_refresh

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
# botocore refreshes a token with less than this left (docs/protocol.md section 3).
REFRESH_WINDOW = 15 * 60
LOGIN_GRANT = {"device": "CreateToken:device_code", "pkce": "CreateToken:authorization_code"}


def ops(result: dict) -> list:
    """The requests boto3 sent, as (service, operation)."""
    return [(e["service"], e["op"]) for e in result["sent"]]


def assert_ok(result: dict):
    assert result["ok"], f"boto3 failed: {result.get('errorModule')}.{result.get('errorClass')}: {result.get('message')}"


def assert_keys(result: dict):
    assert_ok(result)
    for field in ("accessKey", "secretKey", "sessionToken"):
        assert isinstance(result[field], str) and result[field], f"boto3 {field} is empty: {result}"


def assert_process_json(creds: dict):
    """The credential_process JSON of docs/protocol.md section 4."""
    assert creds["Version"] == 1 and type(creds["Version"]) is int, creds
    for field in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"):
        assert isinstance(creds.get(field), str) and creds[field], f"{field} missing: {creds.keys()}"
    assert TIMESTAMP.fullmatch(creds["Expiration"]) or re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", creds["Expiration"]
    ), creds["Expiration"]


def direct_role_credentials(make_boto, world, access_token: str) -> dict:
    boto = make_boto(world.emu)
    return boto.sso.get_role_credentials(accessToken=access_token, accountId=ACCOUNT_ID, roleName=ROLE_NAME)[
        "roleCredentials"
    ]


# ---------------------------------------------------------------------------
# 1. portico signs in, boto3 uses the token
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("flow", ["device", "pkce"])
def test_boto3_gets_role_credentials_with_portico_login(world, make_boto, flow):
    world.login(flow)
    assert world.stat(LOGIN_GRANT[flow]) == 1
    token_file = world.token_path.read_bytes()
    token = world.token()

    result = world.boto("credentials", "dev")
    assert_keys(result)
    assert result["method"] == "sso"
    # One request, to the emulator, for the profile's role, carrying portico's access token.
    assert ops(result) == [("sso", "GetRoleCredentials")], result["sent"]
    sent = result["sent"][0]
    assert sent["url"].startswith(world.emu.url + "/federation/credentials?"), sent["url"]
    assert f"account_id={ACCOUNT_ID}" in sent["url"] and f"role_name={ROLE_NAME}" in sent["url"]
    assert sent["bearerSha256"] == sha256(token["accessToken"]), "boto3 did not use portico's token"
    stats = world.emu.stats()
    assert stats["GetRoleCredentials"] == 1
    assert stats["CreateToken:refresh_token"] == 0, "a fresh portico token must not be refreshed"
    assert stats["failed"] == 0 and stats["throttled"] == 0
    assert world.token_path.read_bytes() == token_file, "boto3 rewrote a fresh token file"

    # The same token works for a direct call too (each call issues new keys, so only success
    # and the count are compared).
    direct = direct_role_credentials(make_boto, world, token["accessToken"])
    assert direct["accessKeyId"]
    assert world.stat("GetRoleCredentials") == 2


# ---------------------------------------------------------------------------
# 2. boto3 refreshes portico's token; portico reads what boto3 wrote
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("flow", ["device", "pkce"])
def test_boto3_refresh_of_portico_token_is_read_by_portico(world, flow):
    world.login(flow)
    before = world.token()
    assert before.get("refreshToken"), "portico's sso-session login should carry a refresh token"
    near = int(time.time()) + 5 * 60  # inside botocore's 15 (advisory) / 10 (blocking) minute window
    before["expiresAt"] = format_time(near)
    world.write_token(before)

    result = world.boto("credentials", "dev")
    assert_keys(result)
    assert ops(result) == [("sso-oidc", "CreateToken"), ("sso", "GetRoleCredentials")], result["sent"]
    assert world.stat("CreateToken:refresh_token") == 1
    assert world.stat("GetRoleCredentials") == 1

    after = world.token()
    assert TIMESTAMP.fullmatch(after["expiresAt"]), after["expiresAt"]
    assert parse_time(after["expiresAt"]) > near + REFRESH_WINDOW, (before["expiresAt"], after["expiresAt"])
    assert after["accessToken"] != before["accessToken"]
    assert after["refreshToken"] != before["refreshToken"], "the emulator rotates refresh tokens"
    assert result["sent"][1]["bearerSha256"] == sha256(after["accessToken"])

    # portico reads the file botocore wrote.
    status = world.status()
    assert status["signedIn"] is True, status
    assert status["tokenFile"] == str(world.token_path)
    assert parse_time(status["expiresAt"]) == parse_time(after["expiresAt"]), (status, after["expiresAt"])
    assert status["secondsLeft"] > REFRESH_WINDOW, status
    assert status["canRefresh"] is True and status["refreshProblem"] is None, status

    # A portico operation that needs the token uses it as is: no second refresh.
    written = world.token_path.read_bytes()
    creds, _ = world.credentials("dev")
    assert_process_json(creds)
    assert world.stat("CreateToken:refresh_token") == 1, "portico refreshed a token botocore had just refreshed"
    assert world.stat("GetRoleCredentials") == 2
    assert world.token_path.read_bytes() == written, "portico rewrote a fresh token file"


# ---------------------------------------------------------------------------
# 3. a token file written by botocore's own code is used by portico
# ---------------------------------------------------------------------------


def botocore_login(world, make_boto, expires_in: int | None = None) -> dict:
    """Sign in with boto3's sso-oidc client as the AWS CLI does for an sso-session, and have
    botocore write the token file (SSOTokenProvider's cache + SSOTokenLoader.save_token)."""
    boto = make_boto(world.emu)
    reg = register_for_refresh(boto.oidc, world.emu)
    tok = device_token(boto.oidc, world.emu, reg)
    assert tok.get("refreshToken"), tok.keys()
    saved = world.boto(
        "save-token",
        "dev",
        stdin={
            "accessToken": tok["accessToken"],
            "expiresIn": tok["expiresIn"] if expires_in is None else expires_in,
            "refreshToken": tok["refreshToken"],
            "clientId": reg["clientId"],
            "clientSecret": reg["clientSecret"],
            "clientSecretExpiresAt": reg["clientSecretExpiresAt"],
        },
    )
    assert saved["ok"], saved
    assert saved["key"] == hashlib.sha1(SESSION.encode()).hexdigest()
    assert world.token_path.exists(), "botocore wrote its token somewhere portico does not look"
    world.emu.reset_stats()
    return world.token()


def test_portico_status_reads_token_file_written_by_botocore(world, make_boto):
    written = botocore_login(world, make_boto)
    assert set(written) == {
        "startUrl",
        "region",
        "accessToken",
        "expiresAt",
        "clientId",
        "clientSecret",
        "registrationExpiresAt",
        "refreshToken",
    }, written.keys()
    assert TIMESTAMP.fullmatch(written["expiresAt"]) and TIMESTAMP.fullmatch(written["registrationExpiresAt"])

    status = world.status()
    assert status["signedIn"] is True, status
    assert status["tokenFile"] == str(world.token_path)
    assert status["startUrl"] == world.emu.startUrl and status["region"] == world.emu.region
    assert parse_time(status["expiresAt"]) == parse_time(written["expiresAt"]), status
    assert status["canRefresh"] is True and status["refreshProblem"] is None, status
    assert sum(world.emu.stats().values()) == 0, "status must not call the network"


def test_portico_refreshes_botocore_token_and_boto3_reads_the_result(world, make_boto):
    written = botocore_login(world, make_boto, expires_in=5 * 60)

    creds, _ = world.credentials("dev")
    assert_process_json(creds)
    assert world.stat("CreateToken:refresh_token") == 1, "portico should refresh a token 5 minutes from expiry"
    assert world.stat("GetRoleCredentials") == 1

    after = world.token()
    assert TIMESTAMP.fullmatch(after["expiresAt"]), after["expiresAt"]
    assert parse_time(after["expiresAt"]) > parse_time(written["expiresAt"]) + REFRESH_WINDOW
    assert after["accessToken"] != written["accessToken"]
    assert after["refreshToken"] != written["refreshToken"], "the rotated refresh token must be written back"
    for kept in ("startUrl", "region", "clientId", "clientSecret", "registrationExpiresAt"):
        assert after.get(kept) == written[kept], f"portico changed {kept} of botocore's token file"

    # botocore reads portico's refreshed file and does not refresh again.
    result = world.boto("credentials", "dev")
    assert_keys(result)
    assert ops(result) == [("sso", "GetRoleCredentials")], result["sent"]
    assert result["sent"][0]["bearerSha256"] == sha256(after["accessToken"])
    assert world.stat("CreateToken:refresh_token") == 1
    assert world.stat("GetRoleCredentials") == 2


# ---------------------------------------------------------------------------
# 4. credential_process = portico credentials --profile dev
# ---------------------------------------------------------------------------


def test_credential_process_gives_boto3_the_keys_portico_prints(world):
    world.login()

    result = world.boto("credentials", "dev-process")
    assert_keys(result)
    assert result["method"] == "custom-process"
    assert ops(result) == [], "boto3 itself must not call Identity Center for a credential_process profile"
    assert world.stat("GetRoleCredentials") == 1

    direct, _ = world.credentials("dev")
    assert_process_json(direct)
    assert (direct["AccessKeyId"], direct["SecretAccessKey"], direct["SessionToken"]) == (
        result["accessKey"],
        result["secretKey"],
        result["sessionToken"],
    ), "portico's cached keys differ from the ones boto3 got through credential_process"
    assert world.stat("GetRoleCredentials") == 1, "the second call must come from portico's cache"

    again = world.boto("credentials", "dev-process")
    assert_keys(again)
    assert again["accessKey"] == direct["AccessKeyId"]
    assert world.stat("GetRoleCredentials") == 1


# ---------------------------------------------------------------------------
# 5. portico logout signs boto3 out too
# ---------------------------------------------------------------------------


def test_logout_leaves_boto3_without_a_token(world, make_boto):
    world.login()
    assert_keys(world.boto("credentials", "dev"))
    old_token = world.token()["accessToken"]

    out = world.portico("logout")
    assert not world.token_path.exists(), "portico logout left the token file"
    assert str(world.token_path) in out.stderr, f"logout should say what it removed: {out.stderr}"
    assert world.stat("Logout") == 1

    result = world.boto("credentials", "dev")
    assert not result["ok"], result
    assert (result["errorModule"], result["errorClass"]) == ("botocore.exceptions", "SSOTokenLoadError"), result
    assert "SSOError" in result["errorMro"]
    assert SESSION in result["message"], result["message"]
    assert ops(result) == [], "boto3 should fail before any request"
    assert world.stat("GetRoleCredentials") == 1

    # The token was revoked at the service as well, not only deleted here.
    boto = make_boto(world.emu)
    with pytest.raises(boto.sso.exceptions.UnauthorizedException):
        boto.sso.get_role_credentials(accessToken=old_token, accountId=ACCOUNT_ID, roleName=ROLE_NAME)


def test_logout_drops_role_credentials_cached_for_credential_process(world):
    world.login()
    assert_keys(world.boto("credentials", "dev-process"))
    assert world.stat("GetRoleCredentials") == 1

    world.portico("logout")

    # No browser here (no DISPLAY/BROWSER): portico must fail at once, not hand out the keys it
    # cached before the logout, and not wait for a login.
    result = world.boto("credentials", "dev-process")
    assert not result["ok"], "credential_process still handed out credentials after portico logout"
    assert result["errorClass"] == "CredentialRetrievalError", result
    assert "portico login" in result["message"], result["message"]

    out = world.portico("credentials", "--profile", "dev", check=False)
    assert out.returncode == 4, f"expected exit 4 (not signed in), got {out.returncode}: {out.stderr}"
    assert out.stdout == "", "stdout must stay empty on failure"
    assert "portico login --device-code" in out.stderr, out.stderr
    assert world.stat("GetRoleCredentials") == 1


# ---------------------------------------------------------------------------
# 6. botocore and portico refresh at the same moment
# ---------------------------------------------------------------------------


def test_refresh_race_between_botocore_and_portico(world):
    """botocore takes no portico lock, so both may spend the same refresh token. With the
    emulator's latency the order is fixed: botocore's CreateToken arrives (and so is answered)
    first and rotates the refresh token; portico's, with the refresh token it read before
    botocore wrote the file, is refused (invalid_grant). portico must then use the token
    botocore wrote (or its own, still valid for 5 minutes), not demand a new login, and must
    not leave a spent refresh token in the file."""
    world.login()
    token = world.token()
    token["expiresAt"] = format_time(int(time.time()) + 5 * 60)
    world.write_token(token)
    world.emu.faults(latencyMs=1500)

    boto = world.boto_start("credentials", "dev")
    try:
        deadline = time.monotonic() + 20
        while world.stat("CreateToken:refresh_token") < 1:
            assert time.monotonic() < deadline and boto.poll() is None, "botocore never sent its refresh"
            time.sleep(0.02)
        creds, out = world.credentials("dev", check=False)
        result = world.boto_finish(boto)
    finally:
        if boto.poll() is None:
            boto.kill()
            boto.wait()

    assert_keys(result)
    raced = world.stat("CreateToken:refresh_token") == 2
    assert out.returncode == 0, (
        ("portico gave up after losing a refresh race to botocore" if raced else "portico credentials failed")
        + f" (exit {out.returncode}):\n{out.stderr}"
    )
    assert raced, "the race did not happen as arranged: portico sent no refresh of its own"
    assert_process_json(creds)

    # The file holds a live refresh token: the next refresh (by botocore) works.
    world.emu.faults(latencyMs=0)
    final = world.token()
    assert parse_time(final["expiresAt"]) > time.time() + REFRESH_WINDOW, final["expiresAt"]
    final["expiresAt"] = format_time(int(time.time()) + 5 * 60)
    world.write_token(final)
    again = world.boto("credentials", "dev")
    assert_keys(again)
    assert ops(again)[0] == ("sso-oidc", "CreateToken")
    assert world.stat("CreateToken:refresh_token") == 3
    assert parse_time(world.token()["expiresAt"]) > time.time() + REFRESH_WINDOW, "the refresh token in the file was spent"
