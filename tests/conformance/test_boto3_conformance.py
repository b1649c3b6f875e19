"""boto3 against idc-emulator: proof that the emulator speaks Identity Center's wire protocol.

boto3/botocore is a client nobody in this project wrote; its service models are
AWS's own. Every flow here runs through boto3's generated clients with the
endpoints taken from AWS_ENDPOINT_URL_SSO / AWS_ENDPOINT_URL_SSO_OIDC, and every
error case asserts that boto3 raised its own modelled exception class (which it
only does when status, x-amzn-ErrorType and body are what the service sends).
The facts checked are those of docs/protocol.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import socket
import string
import threading
import time
import urllib.parse
from contextlib import contextmanager

import pytest
from botocore.exceptions import ClientError

from harness import (
    DEVICE_GRANT,
    STATS_KEYS,
    device_token,
    http,
    login,
    register,
    register_for_refresh,
)

DEFAULT_START_URL = "https://d-0000000000.awsapps.com/start"
OTHER_START_URL = "https://d-9999999999.awsapps.com/start"
CALLBACK = "http://127.0.0.1/oauth/callback"
DAY = 86400


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def zero_stats() -> dict:
    return {k: 0 for k in STATS_KEYS}


def stats_delta(emu, **counts) -> None:
    """Assert the emulator's stats equal zero everywhere except the given counts."""
    expected = zero_stats()
    expected.update({k.replace("__", ":"): v for k, v in counts.items()})
    got = emu.stats()
    assert {k: got.get(k) for k in STATS_KEYS} == expected


@contextmanager
def raises_modelled(boto, exc_cls, status: int, error: str | None = None, message: str | None = None):
    """boto3 raised exactly its modelled exception class, from a response shaped as docs/protocol.md says.

    Checks the HTTP status, the x-amzn-ErrorType header and the body's __type
    (both naming the exception), and for OIDC errors the body's `error` value.
    """
    with pytest.raises(exc_cls) as info:
        yield info
    name = exc_cls.__name__
    err = info.value
    assert type(err) is exc_cls
    assert err.response["Error"]["Code"] == name
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == status
    _op, raw_status, headers, body = boto.last_response()
    assert raw_status == status
    header = headers.get("x-amzn-errortype", "")
    assert header.split(":", 1)[0].rsplit("#", 1)[-1] == name, f"x-amzn-ErrorType: {header!r}"
    doc = json.loads(body)
    assert str(doc.get("__type", "")).split(":", 1)[0].rsplit("#", 1)[-1] == name, doc
    if error is not None:
        assert doc.get("error") == error, doc
        assert err.response.get("error") == error
    if message is not None:
        assert err.response["Error"]["Message"] == message


def forbidden(boto, fn, **kwargs):
    """GetRoleCredentials for an unassigned role: 403 ForbiddenException "No access" (not modelled)."""
    with pytest.raises(ClientError) as info:
        fn(**kwargs)
    err = info.value
    assert type(err) is ClientError, f"expected a plain ClientError, got {type(err).__name__}"
    assert err.response["Error"]["Code"] == "ForbiddenException"
    assert err.response["Error"]["Message"] == "No access"
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    _op, _status, headers, _body = boto.last_response()
    assert headers.get("x-amzn-errortype", "").split(":")[0] == "ForbiddenException"


def all_accounts(sso, token, page_size=None):
    """Every page of the ListAccounts paginator."""
    config = {"PageSize": page_size} if page_size else {}
    return list(sso.get_paginator("list_accounts").paginate(accessToken=token, PaginationConfig=config))


def all_roles(sso, token, account_id, page_size=None):
    config = {"PageSize": page_size} if page_size else {}
    return list(
        sso.get_paginator("list_account_roles").paginate(
            accessToken=token, accountId=account_id, PaginationConfig=config
        )
    )


def pkce_pair() -> tuple[str, str]:
    """As the AWS CLI makes them: 64 chars of [A-Za-z0-9-._~]; S256 challenge, base64url, no '='."""
    alphabet = string.ascii_letters + string.digits + "-._~"
    verifier = "".join(secrets.choice(alphabet) for _ in range(64))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(emu, reg, redirect_uri, challenge, state, scopes="sso:account:access", client_id=None):
    """GET /authorize as the AWS CLI's browser would; the redirect is not followed."""
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": client_id or reg["clientId"],
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge_method": "S256",
            "scopes": scopes,
            "code_challenge": challenge,
        },
        quote_via=urllib.parse.quote,
    )
    return emu.request("GET", "/authorize?" + query)


def register_pkce(boto, emu) -> dict:
    return register(
        boto.oidc,
        scopes=["sso:account:access"],
        grantTypes=["authorization_code", "refresh_token"],
        redirectUris=[CALLBACK],
        issuerUrl=emu.startUrl,
    )


def pkce_code(emu, reg, port=53682):
    """Run /authorize with auto-approve on; return (code, verifier, redirect_uri)."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(24)
    redirect_uri = f"http://127.0.0.1:{port}/oauth/callback"
    resp = authorize(emu, reg, redirect_uri, challenge, state)
    assert resp.status in (301, 302, 303, 307, 308), f"/authorize -> {resp.status} {resp.text[:300]}"
    loc = urllib.parse.urlsplit(resp.headers["location"])
    assert (loc.scheme, loc.netloc, loc.path) == ("http", f"127.0.0.1:{port}", "/oauth/callback")
    query = urllib.parse.parse_qs(loc.query)
    assert "error" not in query, query
    assert query.get("state") == [state]
    assert len(query.get("code", [])) == 1 and query["code"][0]
    return query["code"][0], verifier, redirect_uri


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_directory(tmp_path) -> tuple[str, dict]:
    directory = {
        "accounts": [
            {
                "accountId": "111111111111",
                "accountName": "payments-prod",
                "emailAddress": "aws-payments-prod@example.com",
                "roles": ["AdministratorAccess", "ReadOnlyAccess"],
            },
            {
                "accountId": "222222222222",
                "accountName": "payments-dev",
                "emailAddress": "aws-payments-dev@example.com",
                "roles": ["ReadOnlyAccess"],
            },
            {
                "accountId": "333333333333",
                "accountName": "platform-shared",
                "emailAddress": "aws-platform@example.com",
                "roles": ["PowerUserAccess", "ReadOnlyAccess", "Billing"],
            },
        ]
    }
    path = tmp_path / "directory.json"
    path.write_text(json.dumps(directory))
    return str(path), directory


# --------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------


def test_startup_line_and_defaults(start):
    emu = start()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", emu.url), emu.info
    assert int(emu.url.rsplit(":", 1)[1]) > 0
    assert emu.startUrl == DEFAULT_START_URL
    assert emu.region == "us-east-1"


def test_port_start_url_and_region_flags(start, make_boto):
    port = free_port()
    start_url = "https://corp-example.awsapps.com/start"
    emu = start("--port", port, "--start-url", start_url, "--region", "eu-central-1", "--accounts", "2",
                "--roles-per-account", "1")
    assert emu.url == f"http://127.0.0.1:{port}"
    assert (emu.startUrl, emu.region) == (start_url, "eu-central-1")
    boto = make_boto(emu)
    reg = register(boto.oidc)
    # The emulator serves its own start URL and refuses the default one.
    token = device_token(boto.oidc, emu, reg)["accessToken"]
    assert len(all_accounts(boto.sso, token)[0]["accountList"]) == 2
    with raises_modelled(boto, boto.oidc.exceptions.InvalidRequestException, 400, "invalid_request"):
        boto.oidc.start_device_authorization(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=DEFAULT_START_URL
        )


def test_stats_start_at_zero_with_every_key(emulator):
    stats = emulator.stats()
    assert set(STATS_KEYS) <= set(stats), f"missing: {set(STATS_KEYS) - set(stats)}"
    for key, value in stats.items():
        assert type(value) is int, (key, value)
    assert {k: stats[k] for k in STATS_KEYS} == zero_stats()


# --------------------------------------------------------------------------
# the happy path and the emulator's acceptance checks
# --------------------------------------------------------------------------


def test_full_device_flow_250_accounts(start, make_boto):
    """register -> device authorization -> approve -> token -> paginate -> roles -> credentials -> logout."""
    emu = start("--accounts", "250", "--roles-per-account", "3")
    boto = make_boto(emu)
    now = time.time()

    reg = register(boto.oidc)
    assert reg["clientId"] and reg["clientSecret"]
    # Epoch seconds, not milliseconds; registrations live about 90 days.
    assert abs(reg["clientIdIssuedAt"] - now) < 300
    assert 80 * DAY < reg["clientSecretExpiresAt"] - now < 100 * DAY

    auth = boto.oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=emu.startUrl
    )
    for key in ("deviceCode", "userCode", "verificationUri", "verificationUriComplete"):
        assert auth[key], key
    assert auth["expiresIn"] > 0 and auth["interval"] > 0

    emu.approve(auth["userCode"])
    token = boto.oidc.create_token(
        clientId=reg["clientId"],
        clientSecret=reg["clientSecret"],
        grantType=DEVICE_GRANT,
        deviceCode=auth["deviceCode"],
    )
    assert token["tokenType"] == "Bearer"
    assert token["accessToken"] and token["expiresIn"] > 0
    access = token["accessToken"]

    # ListAccounts through boto3's paginator, 100 a page (the service maximum).
    pages = all_accounts(boto.sso, access, page_size=100)
    accounts = [a for p in pages for a in p["accountList"]]
    assert len(accounts) == 250
    assert len({a["accountId"] for a in accounts}) == 250
    assert all(len(p["accountList"]) <= 100 for p in pages)
    assert len(pages) >= 3
    assert "nextToken" not in pages[-1] or not pages[-1]["nextToken"]
    for a in accounts:
        assert re.fullmatch(r"\d{12}", a["accountId"]), a
        assert a["accountName"] and a["emailAddress"], a
    sent_list = [s for s in boto.sent if s[0] == "ListAccounts"]
    assert len(sent_list) == len(pages)
    for _op, method, url, headers in sent_list:
        assert method == "GET" and urllib.parse.urlsplit(url).path == "/assignment/accounts"
        assert "max_result=100" in url
        assert headers["x-amz-sso_bearer_token"] == access

    # ListAccountRoles through its paginator, 2 a page, so that it takes 2 pages.
    account = accounts[0]["accountId"]
    role_pages = all_roles(boto.sso, access, account, page_size=2)
    roles = [r for p in role_pages for r in p["roleList"]]
    assert len(roles) == 3 and len({r["roleName"] for r in roles}) == 3
    assert all(r["accountId"] == account for r in roles)
    assert all(len(p["roleList"]) <= 2 for p in role_pages)
    assert len(role_pages) >= 2

    creds = boto.sso.get_role_credentials(
        accessToken=access, accountId=account, roleName=roles[0]["roleName"]
    )["roleCredentials"]
    for key in ("accessKeyId", "secretAccessKey", "sessionToken"):
        assert isinstance(creds[key], str) and creds[key], key
    # Epoch milliseconds, in the future (no more than 12 h, the longest session).
    now_ms = time.time() * 1000
    assert isinstance(creds["expiration"], int)
    assert now_ms < creds["expiration"] <= now_ms + 12 * 3600 * 1000 + 60_000

    stats_delta(
        emu,
        RegisterClient=1,
        StartDeviceAuthorization=1,
        CreateToken__device_code=1,
        ListAccounts=len(pages),
        ListAccountRoles=len(role_pages),
        GetRoleCredentials=1,
    )

    # Every success answered application/json (Logout: an empty body).
    for op, status, headers, body in boto.received:
        assert status == 200, (op, status)
        assert headers.get("content-type", "").startswith("application/json"), (op, headers)

    boto.sso.logout(accessToken=access)
    op, status, _headers, body = boto.last_response()
    assert (op, status, body.strip()) == ("Logout", 200, b"")
    with raises_modelled(boto, boto.sso.exceptions.UnauthorizedException, 401):
        boto.sso.list_accounts(accessToken=access)
    # A request counts when it arrives, refused or not.
    stats_delta(
        emu,
        RegisterClient=1,
        StartDeviceAuthorization=1,
        CreateToken__device_code=1,
        ListAccounts=len(pages) + 1,
        ListAccountRoles=len(role_pages),
        GetRoleCredentials=1,
        Logout=1,
    )


def test_acceptance_250_accounts_default_paginator(start, make_boto):
    """`idc-emulator --accounts 250 --roles-per-account 3`: a plain boto3 paginator returns exactly 250 accounts."""
    emu = start("--accounts", "250", "--roles-per-account", "3")
    boto = make_boto(emu)
    token = login(boto, emu)
    pages = all_accounts(boto.sso, token)
    ids = [a["accountId"] for p in pages for a in p["accountList"]]
    assert len(ids) == 250 and len(set(ids)) == 250
    assert all(len(p["accountList"]) <= 100 for p in pages)
    assert len(pages) >= 3
    for account in (ids[0], ids[-1]):
        roles = [r for p in all_roles(boto.sso, token, account) for r in p["roleList"]]
        assert len(roles) == 3
    assert emu.stats()["ListAccounts"] == len(pages)


def test_acceptance_throttle_200_calls(start, make_boto):
    """Under --throttle-rps 20, 200 back-to-back portal calls see 429s, and the stats count them."""
    emu = start("--accounts", "5", "--roles-per-account", "2", "--throttle-rps", "20")
    boto = make_boto(emu, retries={"total_max_attempts": 1})
    token = login(boto, emu)  # OIDC calls are not portal calls: never throttled
    ok = throttled = 0
    for _ in range(200):
        try:
            boto.sso.list_accounts(accessToken=token)
            ok += 1
        except boto.sso.exceptions.TooManyRequestsException as err:
            assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 429
            throttled += 1
    assert throttled > 0, "200 back-to-back calls at 20 rps saw no 429"
    assert ok > 0, "the token bucket let no call through"
    stats = emu.stats()
    assert stats["throttled"] == throttled
    # Every request counts under its operation as well, throttled or not.
    assert stats["ListAccounts"] == 200
    assert stats["failed"] == 0


def test_throttled_response_is_modelled(start, make_boto):
    emu = start("--accounts", "2", "--roles-per-account", "1", "--throttle-rps", "1")
    boto = make_boto(emu)
    token = login(boto, emu)
    with raises_modelled(boto, boto.sso.exceptions.TooManyRequestsException, 429):
        for _ in range(50):
            boto.sso.list_accounts(accessToken=token)


# --------------------------------------------------------------------------
# directory, credentials, console
# --------------------------------------------------------------------------


def test_directory_file_and_unassigned_role(start, make_boto, tmp_path):
    path, directory = write_directory(tmp_path)
    emu = start("--directory", path)
    boto = make_boto(emu)
    token = login(boto, emu)

    listed = [a for p in all_accounts(boto.sso, token) for a in p["accountList"]]
    want = [{k: a[k] for k in ("accountId", "accountName", "emailAddress")} for a in directory["accounts"]]
    key = lambda a: a["accountId"]  # noqa: E731
    assert sorted(listed, key=key) == sorted(want, key=key)
    for account in directory["accounts"]:
        roles = [r for p in all_roles(boto.sso, token, account["accountId"]) for r in p["roleList"]]
        assert sorted(r["roleName"] for r in roles) == sorted(account["roles"])
        assert all(r["accountId"] == account["accountId"] for r in roles)

    creds = boto.sso.get_role_credentials(
        accessToken=token, accountId="111111111111", roleName="AdministratorAccess"
    )["roleCredentials"]
    assert creds["accessKeyId"]
    # AdministratorAccess exists, but not in 222222222222 for this user.
    forbidden(boto, boto.sso.get_role_credentials, accessToken=token, accountId="222222222222",
              roleName="AdministratorAccess")
    # A role that exists nowhere.
    forbidden(boto, boto.sso.get_role_credentials, accessToken=token, accountId="111111111111",
              roleName="NoSuchRole")


def test_generated_directory_is_deterministic(start, make_boto):
    listings = []
    for _ in range(2):
        emu = start("--accounts", "12", "--roles-per-account", "4")
        boto = make_boto(emu)
        token = login(boto, emu)
        accounts = [a for p in all_accounts(boto.sso, token) for a in p["accountList"]]
        roles = {
            a["accountId"]: sorted(r["roleName"] for p in all_roles(boto.sso, token, a["accountId"])
                                   for r in p["roleList"])
            for a in accounts
        }
        listings.append((sorted(accounts, key=lambda a: a["accountId"]), roles))
    assert listings[0] == listings[1]
    accounts, roles = listings[0]
    assert len(accounts) == 12 and all(len(r) == 4 for r in roles.values())
    for a in accounts:
        assert a["accountName"] != a["accountId"] and "@" in a["emailAddress"], a


def test_role_credential_ttl_flag(start, make_boto):
    emu = start("--accounts", "1", "--roles-per-account", "1", "--role-credential-ttl", "900")
    boto = make_boto(emu)
    token = login(boto, emu)
    account = boto.sso.list_accounts(accessToken=token)["accountList"][0]["accountId"]
    role = boto.sso.list_account_roles(accessToken=token, accountId=account)["roleList"][0]["roleName"]
    creds = boto.sso.get_role_credentials(accessToken=token, accountId=account, roleName=role)
    expiration = creds["roleCredentials"]["expiration"]
    assert abs(expiration - (time.time() + 900) * 1000) < 60_000, expiration


def test_console_federation(emulator, boto):
    token = login(boto, emulator)
    account = boto.sso.list_accounts(accessToken=token)["accountList"][0]["accountId"]
    role = boto.sso.list_account_roles(accessToken=token, accountId=account)["roleList"][0]["roleName"]
    creds = boto.sso.get_role_credentials(accessToken=token, accountId=account, roleName=role)["roleCredentials"]
    session = json.dumps(
        {"sessionId": creds["accessKeyId"], "sessionKey": creds["secretAccessKey"],
         "sessionToken": creds["sessionToken"]}
    )
    resp = emulator.request(
        "GET", "/federation?" + urllib.parse.urlencode({"Action": "getSigninToken", "Session": session})
    )
    assert resp.status == 200, resp.text[:300]
    signin = resp.json()["SigninToken"]
    assert signin
    assert emulator.stats()["GetSigninToken"] == 1

    resp = emulator.request(
        "GET",
        "/federation?" + urllib.parse.urlencode(
            {"Action": "login", "Issuer": "https://example.com", "Destination": "https://console.aws.amazon.com/",
             "SigninToken": signin}
        ),
    )
    assert resp.status == 200, resp.text[:300]
    assert account in resp.text and role in resp.text

    forged = json.dumps({"sessionId": "ASIAFORGED", "sessionKey": "forged", "sessionToken": "forged"})
    resp = emulator.request(
        "GET", "/federation?" + urllib.parse.urlencode({"Action": "getSigninToken", "Session": forged})
    )
    assert resp.status >= 400 and b"SigninToken" not in resp.body


# --------------------------------------------------------------------------
# device flow: polling and its errors
# --------------------------------------------------------------------------


def start_auth(boto, emu, reg=None):
    reg = reg or register(boto.oidc)
    auth = boto.oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=emu.startUrl
    )
    return reg, auth


def poll(boto, reg, auth):
    return boto.oidc.create_token(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType=DEVICE_GRANT,
        deviceCode=auth["deviceCode"],
    )


def test_device_authorization_matches_live(emulator, boto):
    reg, auth = start_auth(boto, emulator)
    assert auth["expiresIn"] == 600
    assert auth["interval"] == 1
    assert auth["userCode"] in auth["verificationUriComplete"]
    assert auth["verificationUriComplete"].startswith(emulator.url + "/")
    assert auth["verificationUri"].startswith(emulator.url + "/")
    # The verification page shows the code, and looking at it approves nothing.
    page = http("GET", auth["verificationUriComplete"])
    assert page.status == 200 and "html" in page.headers.get("content-type", "")
    assert auth["userCode"] in page.text
    with raises_modelled(boto, boto.oidc.exceptions.AuthorizationPendingException, 400, "authorization_pending"):
        poll(boto, reg, auth)


def test_pending_then_slow_down_then_token(emulator, boto):
    reg, auth = start_auth(boto, emulator)
    half = auth["interval"] / 2

    # Two polls back to back: the second slows down. On a machine so loaded that the second
    # left more than half an interval after the first, pending was the right answer: try again
    # (bounded) rather than fail by timing.
    polls = 0
    for _attempt in range(10):
        # From before the first is sent: at least the gap the emulator saw between the two.
        first = time.monotonic()
        with raises_modelled(boto, boto.oidc.exceptions.AuthorizationPendingException, 400, "authorization_pending"):
            poll(boto, reg, auth)
        try:
            poll(boto, reg, auth)
        except boto.oidc.exceptions.SlowDownException as e:
            assert e.response["error"] == "slow_down"
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
            polls += 2
            break
        except boto.oidc.exceptions.AuthorizationPendingException:
            assert time.monotonic() - first >= half, "a poll within half the interval was not slowed down"
            polls += 2
            # The pending answer was a poll too: wait the interval before the next pair.
            time.sleep(auth["interval"] + 0.1)
            continue
    else:
        pytest.fail("no two polls were ever within half an interval")

    # Not a synchronisation: the emulator measures the time between polls, and a slower
    # machine only lengthens it.
    time.sleep(auth["interval"] + 0.1)
    with raises_modelled(boto, boto.oidc.exceptions.AuthorizationPendingException, 400, "authorization_pending"):
        poll(boto, reg, auth)

    emulator.approve(auth["userCode"])
    time.sleep(auth["interval"] + 0.1)
    token = poll(boto, reg, auth)
    assert token["accessToken"]
    assert emulator.stats()["CreateToken:device_code"] == polls + 2


def test_denied(emulator, boto):
    reg, auth = start_auth(boto, emulator)
    emulator.deny(auth["userCode"])
    with raises_modelled(boto, boto.oidc.exceptions.AccessDeniedException, 400, "access_denied"):
        poll(boto, reg, auth)


def test_expired_device_code(emulator, boto):
    reg, auth = start_auth(boto, emulator)
    emulator.expire_pending()
    with raises_modelled(boto, boto.oidc.exceptions.ExpiredTokenException, 400, "expired_token"):
        poll(boto, reg, auth)


def test_device_code_is_one_time(emulator, boto):
    reg, auth = start_auth(boto, emulator)
    emulator.approve(auth["userCode"])
    assert poll(boto, reg, auth)["accessToken"]
    time.sleep(auth["interval"] + 0.1)
    with pytest.raises((boto.oidc.exceptions.InvalidGrantException, boto.oidc.exceptions.ExpiredTokenException)):
        poll(boto, reg, auth)


def test_auto_approve_flag(start, make_boto):
    emu = start("--accounts", "1", "--roles-per-account", "1", "--auto-approve")
    boto = make_boto(emu)
    reg, auth = start_auth(boto, emu)
    assert poll(boto, reg, auth)["accessToken"]


def test_auto_approve_control(emulator, boto):
    emulator.auto_approve(True)
    reg, auth = start_auth(boto, emulator)
    assert poll(boto, reg, auth)["accessToken"]
    emulator.auto_approve(False)
    reg, auth = start_auth(boto, emulator, reg)
    with raises_modelled(boto, boto.oidc.exceptions.AuthorizationPendingException, 400, "authorization_pending"):
        poll(boto, reg, auth)


# --------------------------------------------------------------------------
# OIDC: clients, start URLs, grants
# --------------------------------------------------------------------------


def test_invalid_client(emulator, boto):
    reg, auth = start_auth(boto, emulator)
    emulator.approve(auth["userCode"])
    with raises_modelled(boto, boto.oidc.exceptions.InvalidClientException, 401, "invalid_client"):
        boto.oidc.create_token(clientId=reg["clientId"], clientSecret="wrong-secret", grantType=DEVICE_GRANT,
                               deviceCode=auth["deviceCode"])
    with raises_modelled(boto, boto.oidc.exceptions.InvalidClientException, 401, "invalid_client"):
        boto.oidc.create_token(clientId="no-such-client", clientSecret="nope", grantType=DEVICE_GRANT,
                               deviceCode=auth["deviceCode"])
    with raises_modelled(boto, boto.oidc.exceptions.InvalidClientException, 401, "invalid_client"):
        boto.oidc.start_device_authorization(clientId=reg["clientId"], clientSecret="wrong-secret",
                                             startUrl=emulator.startUrl)


def test_wrong_start_url_is_invalid_request(emulator, boto):
    """The way a wrong sso_region shows up: the start URL is not served here."""
    reg = register(boto.oidc)
    with raises_modelled(boto, boto.oidc.exceptions.InvalidRequestException, 400, "invalid_request"):
        boto.oidc.start_device_authorization(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=OTHER_START_URL
        )
    with raises_modelled(boto, boto.oidc.exceptions.InvalidRequestException, 400, "invalid_request"):
        register(boto.oidc, scopes=["sso:account:access"], grantTypes=[DEVICE_GRANT, "refresh_token"],
                 issuerUrl=OTHER_START_URL)


def test_only_public_clients(emulator, boto):
    with raises_modelled(boto, boto.oidc.exceptions.InvalidClientMetadataException, 400, "invalid_client_metadata"):
        boto.oidc.register_client(clientName="portico-conformance", clientType="confidential")


def test_unsupported_grant_type(emulator, boto):
    reg = register(boto.oidc)
    with raises_modelled(boto, boto.oidc.exceptions.UnsupportedGrantTypeException, 400, "unsupported_grant_type"):
        boto.oidc.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType="password")


def test_token_lifetimes_match_live(emulator, boto):
    plain = device_token(boto.oidc, emulator, register(boto.oidc))
    assert plain["expiresIn"] == 28800
    assert not plain.get("refreshToken")
    with_refresh = device_token(boto.oidc, emulator, register_for_refresh(boto.oidc, emulator))
    assert with_refresh["refreshToken"]
    assert with_refresh["expiresIn"] == 3600


def test_access_token_ttl_flag(start, make_boto):
    emu = start("--accounts", "1", "--roles-per-account", "1", "--access-token-ttl", "120")
    boto = make_boto(emu)
    assert device_token(boto.oidc, emu, register(boto.oidc))["expiresIn"] == 120


def test_access_token_expires_after_ttl(start, make_boto):
    emu = start("--accounts", "1", "--roles-per-account", "1", "--access-token-ttl", "1")
    boto = make_boto(emu)
    token = device_token(boto.oidc, emu, register(boto.oidc))
    assert token["expiresIn"] == 1
    # Ask until the token is refused (each answer before that lists the account), with a
    # deadline rather than a guess at how long a second takes here.
    deadline = time.monotonic() + 30
    while True:
        try:
            boto.sso.list_accounts(accessToken=token["accessToken"])
        except boto.sso.exceptions.UnauthorizedException:
            break
        assert time.monotonic() < deadline, "the access token never expired"
        time.sleep(0.1)
    with raises_modelled(boto, boto.sso.exceptions.UnauthorizedException, 401):
        boto.sso.list_accounts(accessToken=token["accessToken"])


def test_device_grant_without_device_code_is_invalid_request(emulator, boto):
    reg = register(boto.oidc)
    with raises_modelled(boto, boto.oidc.exceptions.InvalidRequestException, 400, "invalid_request"):
        boto.oidc.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType=DEVICE_GRANT)


def test_refresh_token_needs_scope_and_grant(emulator, boto):
    no_scope = register(boto.oidc, grantTypes=[DEVICE_GRANT, "refresh_token"], issuerUrl=emulator.startUrl)
    assert not device_token(boto.oidc, emulator, no_scope).get("refreshToken")
    no_grant = register(boto.oidc, scopes=["sso:account:access"], grantTypes=[DEVICE_GRANT],
                        issuerUrl=emulator.startUrl)
    assert not device_token(boto.oidc, emulator, no_grant).get("refreshToken")


def refresh(boto, reg, refresh_token):
    return boto.oidc.create_token(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType="refresh_token",
        refreshToken=refresh_token,
    )


def test_refresh_rotates(emulator, boto):
    reg = register_for_refresh(boto.oidc, emulator)
    first = device_token(boto.oidc, emulator, reg)
    second = refresh(boto, reg, first["refreshToken"])
    assert second["accessToken"] and second["refreshToken"]
    assert second["accessToken"] != first["accessToken"]
    assert second["refreshToken"] != first["refreshToken"]
    assert second["tokenType"] == "Bearer" and second["expiresIn"] > 0
    assert boto.sso.list_accounts(accessToken=second["accessToken"])["accountList"]
    # The rotated-away refresh token stops working; the new one works once.
    with raises_modelled(boto, boto.oidc.exceptions.InvalidGrantException, 400, "invalid_grant"):
        refresh(boto, reg, first["refreshToken"])
    third = refresh(boto, reg, second["refreshToken"])
    assert third["refreshToken"] not in (first["refreshToken"], second["refreshToken"])
    assert emulator.stats()["CreateToken:refresh_token"] == 3


def test_garbage_refresh_token(emulator, boto):
    reg = register_for_refresh(boto.oidc, emulator)
    with raises_modelled(boto, boto.oidc.exceptions.InvalidGrantException, 400, "invalid_grant"):
        refresh(boto, reg, "not-a-refresh-token")


def test_refresh_token_of_another_client(emulator, boto):
    reg_a = register_for_refresh(boto.oidc, emulator)
    reg_b = register_for_refresh(boto.oidc, emulator)
    token_a = device_token(boto.oidc, emulator, reg_a)
    with raises_modelled(boto, boto.oidc.exceptions.InvalidGrantException, 400, "invalid_grant"):
        refresh(boto, reg_b, token_a["refreshToken"])


# --------------------------------------------------------------------------
# portal: bearer tokens
# --------------------------------------------------------------------------


def test_bad_bearer_is_unauthorized(emulator, boto):
    token = login(boto, emulator)
    account = boto.sso.list_accounts(accessToken=token)["accountList"][0]["accountId"]
    role = boto.sso.list_account_roles(accessToken=token, accountId=account)["roleList"][0]["roleName"]
    calls = [
        lambda: boto.sso.list_accounts(accessToken="garbage"),
        lambda: boto.sso.list_account_roles(accessToken="garbage", accountId=account),
        lambda: boto.sso.get_role_credentials(accessToken="garbage", accountId=account, roleName=role),
    ]
    for call in calls:
        with raises_modelled(boto, boto.sso.exceptions.UnauthorizedException, 401,
                             message="Session token not found or invalid"):
            call()


def test_expired_access_tokens_then_refresh(emulator, boto):
    reg = register_for_refresh(boto.oidc, emulator)
    token = device_token(boto.oidc, emulator, reg)
    assert boto.sso.list_accounts(accessToken=token["accessToken"])["accountList"]
    emulator.expire_access_tokens()
    with raises_modelled(boto, boto.sso.exceptions.UnauthorizedException, 401):
        boto.sso.list_accounts(accessToken=token["accessToken"])
    # What a refresh token is for: a new access token without another login.
    fresh = refresh(boto, reg, token["refreshToken"])
    assert boto.sso.list_accounts(accessToken=fresh["accessToken"])["accountList"]


def test_revoke_all(emulator, boto):
    reg = register_for_refresh(boto.oidc, emulator)
    token = device_token(boto.oidc, emulator, reg)
    emulator.revoke_all()
    with raises_modelled(boto, boto.sso.exceptions.UnauthorizedException, 401):
        boto.sso.list_accounts(accessToken=token["accessToken"])
    with raises_modelled(boto, boto.oidc.exceptions.InvalidGrantException, 400, "invalid_grant"):
        refresh(boto, reg, token["refreshToken"])


def test_logout_revokes_only_that_token(emulator, boto):
    one, two = login(boto, emulator), login(boto, emulator)
    boto.sso.logout(accessToken=one)
    with raises_modelled(boto, boto.sso.exceptions.UnauthorizedException, 401):
        boto.sso.list_accounts(accessToken=one)
    assert boto.sso.list_accounts(accessToken=two)["accountList"]


# --------------------------------------------------------------------------
# authorization code with PKCE (browser side driven by urllib)
# --------------------------------------------------------------------------


def test_pkce_flow(emulator, boto):
    emulator.auto_approve(True)
    reg = register_pkce(boto, emulator)
    if reg.get("authorizationEndpoint"):
        assert reg["authorizationEndpoint"].startswith(emulator.url + "/")
    code, verifier, redirect_uri = pkce_code(emulator, reg)
    token = boto.oidc.create_token(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType="authorization_code",
        code=code, codeVerifier=verifier, redirectUri=redirect_uri,
    )
    assert token["accessToken"] and token["refreshToken"] and token["tokenType"] == "Bearer"
    assert boto.sso.list_accounts(accessToken=token["accessToken"])["accountList"]

    # The code is one-time.
    with raises_modelled(boto, boto.oidc.exceptions.InvalidGrantException, 400, "invalid_grant"):
        boto.oidc.create_token(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType="authorization_code",
            code=code, codeVerifier=verifier, redirectUri=redirect_uri,
        )

    # The refresh token rotates.
    second = refresh(boto, reg, token["refreshToken"])
    assert second["refreshToken"] != token["refreshToken"]
    with raises_modelled(boto, boto.oidc.exceptions.InvalidGrantException, 400, "invalid_grant"):
        refresh(boto, reg, token["refreshToken"])
    assert boto.sso.list_accounts(accessToken=second["accessToken"])["accountList"]

    stats = emulator.stats()
    assert stats["CreateToken:authorization_code"] == 2
    assert stats["CreateToken:refresh_token"] == 2


def test_pkce_wrong_verifier(emulator, boto):
    emulator.auto_approve(True)
    reg = register_pkce(boto, emulator)
    code, _verifier, redirect_uri = pkce_code(emulator, reg)
    wrong, _ = pkce_pair()
    with raises_modelled(boto, boto.oidc.exceptions.InvalidGrantException, 400, "invalid_grant"):
        boto.oidc.create_token(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType="authorization_code",
            code=code, codeVerifier=wrong, redirectUri=redirect_uri,
        )


def test_pkce_redirect_uri_must_match(emulator, boto):
    emulator.auto_approve(True)
    reg = register_pkce(boto, emulator)
    code, verifier, _redirect_uri = pkce_code(emulator, reg, port=40001)
    with raises_modelled(boto, boto.oidc.exceptions.InvalidGrantException, 400, "invalid_grant"):
        boto.oidc.create_token(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType="authorization_code",
            code=code, codeVerifier=verifier, redirectUri="http://127.0.0.1:40002/oauth/callback",
        )


def test_pkce_refuses_bad_redirects(emulator, boto):
    """Never redirect the browser to a URI that is not a loopback /oauth/callback, nor for an unknown client."""
    emulator.auto_approve(True)
    reg = register_pkce(boto, emulator)
    _verifier, challenge = pkce_pair()
    for redirect_uri, client_id in [
        ("http://evil.example:8080/oauth/callback", None),
        ("http://127.0.0.1:8080/somewhere-else", None),
        ("http://127.0.0.1:8080/oauth/callback", "no-such-client"),
    ]:
        resp = authorize(emulator, reg, redirect_uri, challenge, "s", client_id=client_id)
        location = resp.headers.get("location", "")
        parts = urllib.parse.urlsplit(redirect_uri)
        origin = f"{parts.scheme}://{parts.netloc}"
        assert not location.startswith(origin), (redirect_uri, client_id, resp.status, location)
        assert "code=" not in location, (redirect_uri, client_id, resp.status, location)


def test_authorize_without_auto_approve_shows_consent(emulator, boto):
    reg = register_pkce(boto, emulator)
    _verifier, challenge = pkce_pair()
    resp = authorize(emulator, reg, "http://127.0.0.1:8080/oauth/callback", challenge, "s")
    assert resp.status == 200 and "location" not in resp.headers
    assert "html" in resp.headers.get("content-type", "")


# --------------------------------------------------------------------------
# faults through the control API
# --------------------------------------------------------------------------


def test_throttle_via_control_api(emulator, make_boto):
    boto = make_boto(emulator, retries={"total_max_attempts": 1})
    token = login(boto, emulator)
    emulator.faults(throttleRps=20)
    throttled = 0
    for _ in range(200):
        try:
            boto.sso.list_accounts(accessToken=token)
        except boto.sso.exceptions.TooManyRequestsException:
            throttled += 1
    assert throttled > 0
    # OIDC calls are not throttled, however low the rate.
    emulator.faults(throttleRps=1)
    for _ in range(5):
        register(boto.oidc)
    emulator.faults(throttleRps=0)
    for _ in range(50):
        boto.sso.list_accounts(accessToken=token)
    assert emulator.stats()["throttled"] == throttled


def test_error_rate(emulator, make_boto):
    boto = make_boto(emulator, retries={"total_max_attempts": 1})
    token = login(boto, emulator)
    emulator.faults(errorRate=1.0)
    for _ in range(3):
        with pytest.raises(ClientError) as info:
            boto.sso.list_accounts(accessToken=token)
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    emulator.faults(errorRate=0)
    assert boto.sso.list_accounts(accessToken=token)["accountList"]
    assert emulator.stats()["failed"] == 3


def test_error_rate_on_oidc_is_modelled(emulator, boto):
    """If the error rate also fails OIDC calls, they fail as the service's InternalServerException."""
    emulator.faults(errorRate=1.0)
    try:
        register(boto.oidc)
    except ClientError as err:
        assert type(err) is boto.oidc.exceptions.InternalServerException, type(err)
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert err.response.get("error") == "server_error"
        assert emulator.stats()["failed"] == 1
    else:
        assert emulator.stats()["failed"] == 0


def test_error_rate_flag(start, make_boto):
    emu = start("--accounts", "1", "--roles-per-account", "1", "--error-rate", "1", "--auto-approve")
    boto = make_boto(emu)
    # Whether --error-rate also hits OIDC is not specified; the portal call must fail either way.
    with pytest.raises(ClientError) as info:
        token = login(boto, emu)
        boto.sso.list_accounts(accessToken=token)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert emu.stats()["failed"] == 1


def test_latency(emulator, boto):
    token = login(boto, emulator)
    emulator.faults(latencyMs=400)
    t0 = time.monotonic()
    boto.sso.list_accounts(accessToken=token)
    assert time.monotonic() - t0 >= 0.4  # a lower bound: a slow machine only adds to it
    # Turned off, no call waits: with a call held by an hour of latency, a call made after
    # latency is set back to 0 answers while the first is still held. No clock is read.
    emulator.faults(latencyMs=3_600_000)
    held = threading.Thread(
        target=lambda: pytest.raises(Exception, boto.sso.list_accounts, accessToken=token), daemon=True
    )
    before = emulator.stats()["ListAccounts"]
    held.start()
    deadline = time.monotonic() + 30
    while emulator.stats()["ListAccounts"] == before:
        assert time.monotonic() < deadline, "the held call reaches the emulator"
        time.sleep(0.02)
    emulator.faults(latencyMs=0)
    boto.sso.list_accounts(accessToken=token)
    assert held.is_alive(), "the first call is still held"


def test_latency_flag(start, make_boto):
    emu = start("--accounts", "1", "--roles-per-account", "1", "--latency-ms", "300")
    boto = make_boto(emu)
    token = login(boto, emu)
    t0 = time.monotonic()
    boto.sso.list_accounts(accessToken=token)
    assert time.monotonic() - t0 >= 0.3


def test_garbled_bodies(emulator, boto):
    token = login(boto, emulator)
    emulator.faults(garbleBodies=True)
    resp = emulator.request("GET", "/assignment/accounts", headers={"x-amz-sso_bearer_token": token})
    with pytest.raises(ValueError):
        json.loads(resp.body)
    emulator.faults(garbleBodies=False)
    resp = emulator.request("GET", "/assignment/accounts", headers={"x-amz-sso_bearer_token": token})
    assert resp.status == 200 and resp.json()["accountList"]


# --------------------------------------------------------------------------
# counting, wire details, and the harness itself
# --------------------------------------------------------------------------


def test_stats_count_every_request_and_reset(emulator, boto):
    reg, auth = start_auth(boto, emulator)
    with pytest.raises(boto.oidc.exceptions.AuthorizationPendingException):
        poll(boto, reg, auth)
    emulator.approve(auth["userCode"])
    time.sleep(auth["interval"] + 0.1)
    token = poll(boto, reg, auth)["accessToken"]
    boto.sso.list_accounts(accessToken=token)
    with pytest.raises(boto.sso.exceptions.UnauthorizedException):
        boto.sso.list_accounts(accessToken="garbage")
    stats_delta(emulator, RegisterClient=1, StartDeviceAuthorization=1, CreateToken__device_code=2, ListAccounts=2)
    emulator.reset_stats()
    stats_delta(emulator)
    boto.sso.logout(accessToken=token)
    stats_delta(emulator, Logout=1)


def test_error_wire_format_raw(emulator):
    """Errors carry x-amzn-ErrorType and __type, OIDC ones `error`/`error_description`, portal ones `message`."""
    resp = emulator.request("POST", "/token", body={
        "clientId": "nope", "clientSecret": "nope", "grantType": DEVICE_GRANT, "deviceCode": "nope"})
    assert resp.status == 401
    assert resp.headers["x-amzn-errortype"].split(":")[0] == "InvalidClientException"
    assert resp.headers.get("content-type", "").startswith("application/json")
    body = resp.json()
    assert body["__type"].split(":")[0].rsplit("#", 1)[-1] == "InvalidClientException"
    assert body["error"] == "invalid_client" and "error_description" in body

    resp = emulator.request("GET", "/assignment/accounts", headers={"x-amz-sso_bearer_token": "garbage"})
    assert resp.status == 401
    assert resp.headers["x-amzn-errortype"].split(":")[0] == "UnauthorizedException"
    body = resp.json()
    assert body["__type"].split(":")[0].rsplit("#", 1)[-1] == "UnauthorizedException"
    assert body["message"]


def test_boto3_sends_unsigned_requests_even_with_credentials(emulator, make_boto, aws_env):
    """The SSO operations are no-auth: boto3 signs nothing even when credentials exist (the hook checks)."""
    aws_env.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    aws_env.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    boto = make_boto(emulator, expect_no_credentials=False)
    assert boto.session.get_credentials() is not None
    token = login(boto, emulator)
    boto.sso.list_accounts(accessToken=token)
    ops = {s[0] for s in boto.sent}
    assert {"RegisterClient", "StartDeviceAuthorization", "CreateToken", "ListAccounts"} <= ops
