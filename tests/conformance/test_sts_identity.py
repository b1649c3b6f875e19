"""boto3's `sts.get_caller_identity()` against idc-emulator's STS: whose keys are these?

botocore signs each call with its own SigV4 signer (from the keys given to the session, as a
user's profile would); the emulator rebuilds the canonical request from what arrived and checks
the signature with the secret it issued, with code of its own (tests/emulator/src/sigv4.rs).
The keys come from the two ways the emulator issues them: the portal's GetRoleCredentials
(Identity Center) and STS AssumeRoleWithSAML. The facts checked are those of docs/protocol.md
§10; errors assert botocore's error code and the HTTP status of STS's ErrorResponse.
"""

from __future__ import annotations

import re
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from harness import login, saml_sign_in

USER = "user@corp.example"
ACS = "http://localhost:48123/saml"
STS_NS = b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'


@pytest.fixture
def emu(start):
    return start("--auto-approve", "--accounts", "3", "--roles-per-account", "2")


def signed_sts(emu, keys: dict, tamper=None):
    """(sts client signing with `keys`, the requests it sent). A hook records each request after
    botocore signed it, asserts it is signed and goes only to the emulator, and lets `tamper`
    change it after signing."""
    session = boto3.session.Session(
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys.get("SessionToken"),
        region_name="eu-west-1",
    )
    sts = session.client(
        "sts",
        endpoint_url=emu.url,
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30),
    )
    sent = []

    def before_send(request, **kwargs):
        assert request.url.startswith(emu.url + "/"), request.url
        headers = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=" + keys["AccessKeyId"] + "/")
        assert "/eu-west-1/sts/aws4_request" in headers["authorization"]
        sent.append((request.method, request.url, headers, request.body))
        if tamper:
            tamper(request)

    sts.meta.events.register("before-send", before_send)
    return sts, sent


def identity_center_keys(emu, make_boto, account_index=1, role_index=1):
    boto = make_boto(emu)
    token = login(boto, emu)
    account = boto.sso.list_accounts(accessToken=token)["accountList"][account_index]
    role = boto.sso.list_account_roles(accessToken=token, accountId=account["accountId"])["roleList"][role_index]
    creds = boto.sso.get_role_credentials(
        accessToken=token, accountId=account["accountId"], roleName=role["roleName"]
    )["roleCredentials"]
    keys = {
        "AccessKeyId": creds["accessKeyId"],
        "SecretAccessKey": creds["secretAccessKey"],
        "SessionToken": creds["sessionToken"],
    }
    return keys, account["accountId"], role["roleName"]


def refused(sts, code: str, status: int):
    with pytest.raises(ClientError) as info:
        sts.get_caller_identity()
    err = info.value.response
    assert err["Error"]["Code"] == code, err
    assert err["Error"]["Type"] == "Sender", err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == status, err
    return err["Error"]["Message"]


def test_identity_center_keys_are_the_permission_sets_role(emu, make_boto):
    keys, account, role = identity_center_keys(emu, make_boto)
    sts, sent = signed_sts(emu, keys)
    who = sts.get_caller_identity()
    assert who["Account"] == account
    # As live: the IAM role Identity Center made for the permission set, the user's session.
    m = re.fullmatch(
        rf"arn:aws:sts::{account}:assumed-role/AWSReservedSSO_{re.escape(role)}_([0-9a-f]{{16}})/{re.escape(USER)}",
        who["Arn"],
    )
    assert m, who["Arn"]
    assert re.fullmatch(r"AROA[A-Z2-7]{17}:" + re.escape(USER), who["UserId"]), who["UserId"]
    # The wire: a signed query-protocol POST, the session token sent and signed.
    method, url, headers, body = sent[-1]
    assert (method, url) == ("POST", emu.url + "/")
    assert headers["x-amz-security-token"] == keys["SessionToken"]
    assert "x-amz-security-token" in headers["authorization"].split("SignedHeaders=")[1]
    body = body.decode() if isinstance(body, bytes) else body
    assert sorted(body.split("&")) == ["Action=GetCallerIdentity", "Version=2011-06-15"]
    assert emu.stats()["GetCallerIdentity"] == 1
    # Another role's keys are another identity.
    other, other_account, other_role = identity_center_keys(emu, make_boto, 2, 0)
    who_else = signed_sts(emu, other)[0].get_caller_identity()
    assert who_else["Account"] == other_account != account
    assert f"/AWSReservedSSO_{other_role}_" in who_else["Arn"]


def test_saml_keys_are_the_assumed_role(emu, make_sts):
    sts_unsigned, _, _ = make_sts(emu)
    form = saml_sign_in(emu, acs=ACS)
    pairs = re.findall(
        rb"<AttributeValue>(arn:aws:iam::\d{12}:role/[^,<]+),(arn:aws:iam::\d{12}:saml-provider/[^<]+)</AttributeValue>",
        form.xml,
    )
    assert len(pairs) >= 2, form.xml[:500]
    seen = set()
    for role_arn, provider_arn in pairs[:2]:
        out = sts_unsigned.assume_role_with_saml(
            RoleArn=role_arn.decode(), PrincipalArn=provider_arn.decode(), SAMLAssertion=form.saml_response
        )
        sts, _ = signed_sts(emu, out["Credentials"])
        who = sts.get_caller_identity()
        account, name = role_arn.decode().split(":")[4], role_arn.decode().split("/")[-1]
        assert who["Arn"] == f"arn:aws:sts::{account}:assumed-role/{name}/{USER}"
        assert who["Arn"] == out["AssumedRoleUser"]["Arn"]
        assert who["UserId"] == out["AssumedRoleUser"]["AssumedRoleId"]
        assert who["Account"] == account
        seen.add(who["Arn"])
    assert len(seen) == 2, "each role's keys name their own role"


def test_unknown_key_is_invalid_client_token_id(emu, make_boto):
    keys, _, _ = identity_center_keys(emu, make_boto)
    sts, _ = signed_sts(emu, dict(keys, AccessKeyId="ASIAZZZZZZZZZZZZZZZZ"))
    message = refused(sts, "InvalidClientTokenId", 403)
    assert message == "The security token included in the request is invalid."
    # Keys that look right but were never issued: the same.
    sts, _ = signed_sts(emu, {"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})
    refused(sts, "InvalidClientTokenId", 403)
    # The right key without its session token, or with another's.
    sts, _ = signed_sts(emu, {k: v for k, v in keys.items() if k != "SessionToken"})
    refused(sts, "InvalidClientTokenId", 403)
    sts, _ = signed_sts(emu, dict(keys, SessionToken="IQoJb3JpZ2luX2VjEnotthetoken"))
    refused(sts, "InvalidClientTokenId", 403)


def test_tampered_secret_is_signature_does_not_match(emu, make_boto):
    keys, _, _ = identity_center_keys(emu, make_boto)
    secret = keys["SecretAccessKey"]
    wrong = ("x" if secret[0] != "x" else "y") + secret[1:]
    sts, _ = signed_sts(emu, dict(keys, SecretAccessKey=wrong))
    message = refused(sts, "SignatureDoesNotMatch", 403)
    assert message.startswith("The request signature we calculated does not match"), message


def test_the_emulator_checks_what_botocore_signed(emu, make_boto):
    """The check is the emulator's own: a request botocore signed and something changed after
    signing is refused when the change touches what was signed, accepted when it does not."""
    keys, account, _ = identity_center_keys(emu, make_boto)

    def unsigned_header(request):
        request.headers["X-Not-Signed"] = "anything"

    sts, _ = signed_sts(emu, keys, tamper=unsigned_header)
    assert sts.get_caller_identity()["Account"] == account

    def body(request):
        # The same parameters in another order: the same length (Content-Length was set when
        # it was signed) and the same meaning, but not the bytes botocore hashed.
        text = request.body.decode() if isinstance(request.body, bytes) else request.body
        swapped = "&".join(reversed(text.split("&")))
        assert swapped != text and len(swapped) == len(text)
        request.body = swapped.encode()

    sts, _ = signed_sts(emu, keys, tamper=body)
    refused(sts, "SignatureDoesNotMatch", 403)

    def signed_header(request):
        date = request.headers["X-Amz-Date"]
        date = date.decode() if isinstance(date, bytes) else date
        second = int(date[13:15])
        del request.headers["X-Amz-Date"]
        request.headers["X-Amz-Date"] = date[:13] + "%02d" % ((second + 1) % 60) + "Z"

    sts, _ = signed_sts(emu, keys, tamper=signed_header)
    refused(sts, "SignatureDoesNotMatch", 403)

    def no_authorization(request):
        del request.headers["Authorization"]

    sts, _ = signed_sts(emu, keys, tamper=no_authorization)
    refused(sts, "MissingAuthenticationToken", 403)


def test_expired_keys_are_expired_token(start, make_boto):
    emu = start("--accounts", "2", "--roles-per-account", "1", "--role-credential-ttl", "1")
    keys, account, _ = identity_center_keys(emu, make_boto, 0, 0)
    sts, _ = signed_sts(emu, keys)
    # The keys live one second: ask until they are refused (each answer before that names the
    # account), with a deadline rather than a guess at how long a second takes here.
    deadline = time.monotonic() + 30
    while True:
        try:
            assert sts.get_caller_identity()["Account"] == account
        except ClientError as e:
            err = e.response
            assert err["Error"]["Code"] == "ExpiredToken", err
            assert err["ResponseMetadata"]["HTTPStatusCode"] == 403, err
            assert err["Error"]["Message"] == "The security token included in the request is expired"
            break
        assert time.monotonic() < deadline, "the keys never expired"
        time.sleep(0.1)
