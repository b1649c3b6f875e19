"""boto3's `sts.assume_role()` against idc-emulator's STS: role chaining (docs/protocol.md §11).

The source keys come from the ways the emulator issues them (the portal's GetRoleCredentials,
STS AssumeRoleWithSAML, and AssumeRole itself); botocore signs each AssumeRole with them and the
emulator checks the signature with the secret it issued. `--chain-roles 2` gives every account
the roles ChainRole1 and ChainRole2, trusting every role session the emulator hands out;
`POST /_emulator/trust` gives one role another trust. Errors assert botocore's error code, the
HTTP status and STS's message, as a user of boto3 or the AWS CLI sees them.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import json
import os
import re
import struct
import subprocess
import time
import urllib.parse
from datetime import timezone

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from harness import login, saml_sign_in

USER = "user@corp.example"
ACS = "http://localhost:48123/saml"
STS_NS = b'<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
CHAINING = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
MAX_SESSION = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
MFA_BOTH = "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code."
MFA_SERIAL = (
    "MultiFactorAuthentication failed, unable to validate MFA code.  "
    "Please verify your MFA serial number is valid and associated with this user."
)
MFA_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code."
SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def emu(start):
    return start("--auto-approve", "--accounts", "3", "--roles-per-account", "2", "--chain-roles", "2")


def accounts(emu) -> list[str]:
    return [a["accountId"] for a in emu.control("directory", method="GET")["accounts"]]


def chain_role(account: str, k: int = 1) -> str:
    return f"arn:aws:iam::{account}:role/ChainRole{k}"


def signed_sts(emu, keys: dict, tamper=None, **config):
    """(sts client signing with `keys`, the requests it sent). A hook asserts each request is
    signed with those keys and goes only to the emulator, records it, and lets `tamper` change
    it after signing. Retries are off: one call, one request."""
    session = boto3.session.Session(
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys.get("SessionToken"),
        region_name="eu-west-1",
    )
    config.setdefault("retries", {"total_max_attempts": 1})
    sts = session.client(
        "sts", endpoint_url=emu.url, config=Config(connect_timeout=5, read_timeout=30, **config)
    )
    sent = []

    def before_send(request, **kwargs):
        assert request.url.startswith(emu.url + "/"), request.url
        headers = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=" + keys["AccessKeyId"] + "/")
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        sent.append((request.method, request.url, headers, body))
        if tamper:
            tamper(request)

    sts.meta.events.register("before-send", before_send)
    return sts, sent


def identity_center_keys(emu, make_boto, account_index=0, role_index=0):
    boto = make_boto(emu)
    token = login(boto, emu)
    account = boto.sso.list_accounts(accessToken=token)["accountList"][account_index]["accountId"]
    role = boto.sso.list_account_roles(accessToken=token, accountId=account)["roleList"][role_index]["roleName"]
    creds = boto.sso.get_role_credentials(accessToken=token, accountId=account, roleName=role)["roleCredentials"]
    keys = {
        "AccessKeyId": creds["accessKeyId"],
        "SecretAccessKey": creds["secretAccessKey"],
        "SessionToken": creds["sessionToken"],
    }
    return keys, account, role


def refused(call, code: str, status: int) -> str:
    """Runs `call`, which must fail with STS's `code` and HTTP `status`; returns the message."""
    with pytest.raises(ClientError) as info:
        call()
    err = info.value.response
    assert err["Error"]["Code"] == code, err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == status, err
    assert re.fullmatch(r"[0-9a-f-]{36}", err["ResponseMetadata"]["RequestId"]), err
    return err["Error"]["Message"]


def denial(caller_arn: str, role_arn: str) -> str:
    return f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"


def totp(seed: str, at: float, step_offset: int = 0) -> str:
    """RFC 6238 (30 s, 6 digits, HMAC-SHA-1) with the standard library: an authenticator app."""
    key = base64.b32decode(seed.upper() + "=" * (-len(seed) % 8))
    counter = int(at) // 30 + step_offset
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return "%06d" % (value % 1_000_000)


def expiration_secs(creds) -> int:
    exp = creds["Expiration"]
    assert exp.tzinfo is not None
    return calendar.timegm(exp.astimezone(timezone.utc).timetuple())


def test_assume_role_gives_the_chain_roles_keys(emu, make_boto):
    keys, source_account, permission_set = identity_center_keys(emu, make_boto)
    target_account = accounts(emu)[1]
    role_arn = chain_role(target_account)
    sts, sent = signed_sts(emu, keys)
    received = []
    sts.meta.events.register_first(
        "before-parse", lambda response_dict, **kw: received.append(response_dict)
    )
    before = int(time.time())
    out = sts.assume_role(RoleArn=role_arn, RoleSessionName="alice")
    after = int(time.time())

    assumed = f"arn:aws:sts::{target_account}:assumed-role/ChainRole1/alice"
    assert out["AssumedRoleUser"]["Arn"] == assumed
    assert re.fullmatch(r"AROA[A-Z2-7]{17}:alice", out["AssumedRoleUser"]["AssumedRoleId"])
    creds = out["Credentials"]
    assert re.fullmatch(r"ASIA[A-Z2-7]{16}", creds["AccessKeyId"])
    assert len(creds["SecretAccessKey"]) == 40 and creds["SessionToken"]
    # DurationSeconds left out: one hour from the call.
    assert before + 3600 <= expiration_secs(creds) <= after + 3600
    assert "PackedPolicySize" not in out

    # The wire: a signed query-protocol POST carrying the session token; XML in STS's namespace.
    method, url, headers, body = sent[-1]
    assert (method, url) == ("POST", emu.url + "/")
    assert headers["x-amz-security-token"] == keys["SessionToken"]
    assert sorted(body.split("&")) == sorted(
        ["Action=AssumeRole", "Version=2011-06-15", "RoleArn=" + role_arn.replace(":", "%3A").replace("/", "%2F"), "RoleSessionName=alice"]
    )
    raw = received[-1]
    assert raw["status_code"] == 200
    assert raw["headers"]["content-type"] == "text/xml"
    assert raw["body"].startswith(STS_NS), raw["body"][:200]
    assert re.search(rb"<AssumedRoleUser>\s*<Arn>", raw["body"]), "Arn first, as STS sends it"
    assert raw["headers"]["x-amzn-requestid"] == out["ResponseMetadata"]["RequestId"]

    # The new keys are the chain role's: GetCallerIdentity says so.
    who = signed_sts(emu, creds)[0].get_caller_identity()
    assert who == {**who, "Arn": assumed, "Account": target_account, "UserId": out["AssumedRoleUser"]["AssumedRoleId"]}
    # ... while the source keys are still the permission set's.
    source = signed_sts(emu, keys)[0].get_caller_identity()
    assert f":assumed-role/AWSReservedSSO_{permission_set}_" in source["Arn"]
    assert source["Account"] == source_account
    assert emu.stats()["AssumeRole"] == 1


def test_a_chain_of_two_from_identity_center_and_one_from_saml(emu, make_boto, make_sts):
    keys, _, _ = identity_center_keys(emu, make_boto)
    a, b, c = accounts(emu)
    first = signed_sts(emu, keys)[0].assume_role(RoleArn=chain_role(a, 1), RoleSessionName="hop1")
    second = signed_sts(emu, first["Credentials"])[0].assume_role(
        RoleArn=chain_role(b, 2), RoleSessionName="hop2"
    )
    assert second["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{b}:assumed-role/ChainRole2/hop2"
    who = signed_sts(emu, second["Credentials"])[0].get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{b}:assumed-role/ChainRole2/hop2"
    # A chain role may assume itself again (it trusts every role session the emulator issued).
    third = signed_sts(emu, second["Credentials"])[0].assume_role(
        RoleArn=chain_role(b, 2), RoleSessionName="hop3"
    )
    assert signed_sts(emu, third["Credentials"])[0].get_caller_identity()["Arn"].endswith(
        "/ChainRole2/hop3"
    )

    # From a SAML role's keys.
    form = saml_sign_in(emu, acs=ACS)
    role_arn, provider_arn = re.search(
        rb"<AttributeValue>(arn:aws:iam::\d{12}:role/[^,<]+),(arn:aws:iam::\d{12}:saml-provider/[^<]+)</AttributeValue>",
        form.xml,
    ).groups()
    saml = make_sts(emu)[0].assume_role_with_saml(
        RoleArn=role_arn.decode(), PrincipalArn=provider_arn.decode(), SAMLAssertion=form.saml_response
    )
    out = signed_sts(emu, saml["Credentials"])[0].assume_role(RoleArn=chain_role(c), RoleSessionName="from-saml")
    who = signed_sts(emu, out["Credentials"])[0].get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{c}:assumed-role/ChainRole1/from-saml"
    assert emu.stats()["AssumeRole"] == 4


def test_unknown_key_and_bad_signature(emu, make_boto):
    keys, account, _ = identity_center_keys(emu, make_boto)
    role_arn = chain_role(account)
    sts, _ = signed_sts(emu, dict(keys, AccessKeyId="ASIAZZZZZZZZZZZZZZZZ"))
    message = refused(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="s1"), "InvalidClientTokenId", 403)
    assert message == "The security token included in the request is invalid."
    sts, _ = signed_sts(emu, dict(keys, SessionToken="IQoJb3JpZ2luX2VjEnotthetoken"))
    refused(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="s1"), "InvalidClientTokenId", 403)

    secret = keys["SecretAccessKey"]
    sts, _ = signed_sts(emu, dict(keys, SecretAccessKey=("x" if secret[0] != "x" else "y") + secret[1:]))
    message = refused(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="s1"), "SignatureDoesNotMatch", 403)
    assert message.startswith("The request signature we calculated does not match"), message

    def other_role(request):
        # Another role asked for after signing, in a body of the same length.
        text = request.body.decode() if isinstance(request.body, bytes) else request.body
        changed = text.replace("ChainRole1", "ChainRole2")
        assert changed != text and len(changed) == len(text)
        request.body = changed.encode()

    sts, _ = signed_sts(emu, keys, tamper=other_role)
    refused(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="s1"), "SignatureDoesNotMatch", 403)
    # Refused calls are counted, and gave out no keys.
    assert emu.stats()["AssumeRole"] == 4


def test_untrusted_callers_and_roles_that_do_not_exist(emu, make_boto):
    keys, account, permission_set = identity_center_keys(emu, make_boto)
    sts, _ = signed_sts(emu, keys)
    caller = sts.get_caller_identity()["Arn"]
    a, b, _ = accounts(emu)
    role_arn = chain_role(b)

    # Trust only someone else.
    emu.trust(role_arn, trusted=[f"arn:aws:iam::{a}:role/SomeoneElse"])
    message = refused(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="s1"), "AccessDenied", 403)
    assert message == denial(caller, role_arn)
    emu.trust(role_arn, trusted=[])
    refused(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="s1"), "AccessDenied", 403)

    # The caller's role by its ARN (Identity Center's path included), or its whole account.
    role_of_caller = re.search(r"AWSReservedSSO_[^/]+", caller).group(0)
    emu.trust(role_arn, trusted=[f"arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com/{role_of_caller}"])
    assert sts.assume_role(RoleArn=role_arn, RoleSessionName="s1")["AssumedRoleUser"]["Arn"].endswith("/s1")
    emu.trust(role_arn, trusted=[f"arn:aws:iam::{account}:role/{role_of_caller}"])  # no path: not that role
    refused(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="s1"), "AccessDenied", 403)
    emu.trust(role_arn, trusted=[f"arn:aws:iam::{account}:root"])
    assert sts.assume_role(RoleArn=role_arn, RoleSessionName="s2")
    emu.trust(role_arn)  # back to the default: every role session the emulator issued
    assert sts.assume_role(RoleArn=role_arn, RoleSessionName="s3")

    # Roles that do not exist, or do not trust role sessions at all, deny the same way.
    for missing in (
        chain_role(b, 3),  # --chain-roles 2
        f"arn:aws:iam::999999999999:role/ChainRole1",  # not an account of the directory
        f"arn:aws:iam::{a}:role/Admin",  # a SAML role: trusts its SAML provider only
    ):
        message = refused(lambda: sts.assume_role(RoleArn=missing, RoleSessionName="s1"), "AccessDenied", 403)
        assert message == denial(caller, missing)

    # The trust route makes a role that did not exist.
    deploy = "arn:aws:iam::444455556666:role/Deploy"
    emu.trust(deploy, trusted=[f"arn:aws:iam::{account}:root"])
    out = sts.assume_role(RoleArn=deploy, RoleSessionName="deploy")
    assert out["AssumedRoleUser"]["Arn"] == "arn:aws:sts::444455556666:assumed-role/Deploy/deploy"


def test_external_id(emu, make_boto):
    keys, account, _ = identity_center_keys(emu, make_boto)
    sts, _ = signed_sts(emu, keys)
    caller = sts.get_caller_identity()["Arn"]
    role_arn = chain_role(account)
    emu.trust(role_arn, externalId="k7-example")
    for extra in ({}, {"ExternalId": "wrong-one"}):
        message = refused(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="s0", **extra), "AccessDenied", 403)
        assert message == denial(caller, role_arn)
    assert sts.assume_role(RoleArn=role_arn, RoleSessionName="s0", ExternalId="k7-example")
    # A role without the condition takes an external ID it was not asked for.
    assert sts.assume_role(RoleArn=chain_role(account, 2), RoleSessionName="s0", ExternalId="anything")


def test_mfa(emu, make_boto):
    keys, account, _ = identity_center_keys(emu, make_boto)
    sts, _ = signed_sts(emu, keys)
    caller = sts.get_caller_identity()["Arn"]
    role_arn = chain_role(account)
    serial = f"arn:aws:iam::{account}:mfa/alice"
    emu.trust(role_arn, mfaSerial=serial, mfaSeed=SEED)

    def assume(**extra):
        return sts.assume_role(RoleArn=role_arn, RoleSessionName="mfa", **extra)

    # No MFA: the condition is not met.
    assert refused(assume, "AccessDenied", 403) == denial(caller, role_arn)
    now = time.time()
    assert refused(lambda: assume(SerialNumber=serial), "AccessDenied", 403) == MFA_BOTH
    assert refused(lambda: assume(TokenCode=totp(SEED, now)), "AccessDenied", 403) == MFA_BOTH
    other_serial = f"arn:aws:iam::{account}:mfa/bob"
    assert refused(lambda: assume(SerialNumber=other_serial, TokenCode=totp(SEED, now)), "AccessDenied", 403) == MFA_SERIAL
    # A code no step near now has: wrong.
    near = {totp(SEED, now, k) for k in range(-3, 4)}
    wrong = next(c for c in ("%06d" % n for n in range(0, 10**6, 7919)) if c not in near)
    assert refused(lambda: assume(SerialNumber=serial, TokenCode=wrong), "AccessDenied", 403) == MFA_CODE

    # The code an authenticator shows now works, once.
    code = totp(SEED, time.time())
    out = assume(SerialNumber=serial, TokenCode=code)
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account}:assumed-role/ChainRole1/mfa"
    assert refused(lambda: assume(SerialNumber=serial, TokenCode=code), "AccessDenied", 403) == MFA_CODE
    # The next step's code (a clock a little ahead) is accepted too.
    later = totp(SEED, time.time(), +1)
    if later != code:  # one chance in a million that two steps share a code
        assert assume(SerialNumber=serial, TokenCode=later)


def test_duration_seconds(emu, make_boto):
    keys, account, _ = identity_center_keys(emu, make_boto)
    sts, _ = signed_sts(emu, keys)
    unchecked, _ = signed_sts(emu, keys, parameter_validation=False)
    short = chain_role(account, 1)  # MaxSessionDuration 3600
    long = chain_role(account, 2)
    emu.trust(long, maxSessionDuration=43200)

    before = int(time.time())
    out = sts.assume_role(RoleArn=short, RoleSessionName="dd", DurationSeconds=900)
    assert before + 900 <= expiration_secs(out["Credentials"]) <= int(time.time()) + 900
    assert sts.assume_role(RoleArn=long, RoleSessionName="dd", DurationSeconds=3600)

    # Above the role's MaxSessionDuration.
    message = refused(lambda: sts.assume_role(RoleArn=short, RoleSessionName="dd", DurationSeconds=7200), "ValidationError", 400)
    assert message == MAX_SESSION
    # Within it, but every key the emulator issues is a role session's: role chaining.
    message = refused(lambda: sts.assume_role(RoleArn=long, RoleSessionName="dd", DurationSeconds=7200), "ValidationError", 400)
    assert message == CHAINING
    # The same from keys AssumeRole gave.
    chained, _ = signed_sts(emu, out["Credentials"])
    message = refused(lambda: chained.assume_role(RoleArn=long, RoleSessionName="dd", DurationSeconds=3601), "ValidationError", 400)
    assert message == CHAINING
    assert chained.assume_role(RoleArn=long, RoleSessionName="dd", DurationSeconds=3600)

    # The API's own range, which botocore checks too unless told not to.
    message = refused(lambda: unchecked.assume_role(RoleArn=short, RoleSessionName="dd", DurationSeconds=899), "ValidationError", 400)
    assert message == (
        "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 900"
    )
    message = refused(
        lambda: unchecked.assume_role(RoleArn=short, RoleSessionName="x", DurationSeconds=43201), "ValidationError", 400
    )
    assert message.startswith("2 validation errors detected: "), message
    assert "at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2" in message
    assert "Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200" in message


def test_policy_is_packed_and_checked(emu, make_boto):
    keys, account, _ = identity_center_keys(emu, make_boto)
    sts, _ = signed_sts(emu, keys)
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    out = sts.assume_role(RoleArn=chain_role(account), RoleSessionName="pp", Policy=policy)
    assert 0 < out["PackedPolicySize"] <= 100
    message = refused(
        lambda: sts.assume_role(RoleArn=chain_role(account), RoleSessionName="pp", Policy="{not json"),
        "MalformedPolicyDocument",
        400,
    )
    assert message == "The policy is not in the valid JSON format."


def test_console_federation_takes_chained_keys_for_their_own_hour_only(emu, make_boto):
    """The federation endpoint signs chained keys in, but refuses a SessionDuration with them
    (AWS: "Invalid credentials parameter"), while Identity Center's keys may ask for one."""
    keys, account, _ = identity_center_keys(emu, make_boto)
    out = signed_sts(emu, keys)[0].assume_role(RoleArn=chain_role(account), RoleSessionName="console")
    chained = out["Credentials"]

    def signin_token(creds, **extra):
        session = json.dumps(
            {"sessionId": creds["AccessKeyId"], "sessionKey": creds["SecretAccessKey"], "sessionToken": creds["SessionToken"]}
        )
        query = urllib.parse.urlencode({"Action": "getSigninToken", "Session": session, **extra})
        return emu.request("GET", "/federation?" + query)

    assert signin_token(chained).status == 200
    refused = signin_token(chained, SessionDuration="3600")
    assert (refused.status, refused.text.strip()) == (400, "Invalid credentials parameter")
    assert signin_token(keys, SessionDuration="43200").status == 200
    arns = [t["arn"] for t in emu.control("federation", method="GET")["signinTokens"]]
    assert arns[0] == f"arn:aws:sts::{account}:assumed-role/ChainRole1/console"


def test_region_disabled(start, make_boto):
    emu = start("--auto-approve", "--accounts", "2", "--roles-per-account", "1", "--chain-roles", "1", "--sts-region-disabled")
    keys, account, _ = identity_center_keys(emu, make_boto)
    sts, _ = signed_sts(emu, keys)
    message = refused(
        lambda: sts.assume_role(RoleArn=chain_role(account), RoleSessionName="rr"), "RegionDisabledException", 403
    )
    assert message.startswith(f"STS is not activated in this region for account:{account}."), message


def test_trust_route_refuses_malformed_bodies(emu):
    role = "arn:aws:iam::111122223333:role/Deploy"
    for body in (
        {"roleArn": "arn:aws:iam::111122223333:user/alice"},
        {"roleArn": role, "mfaSerial": "arn:aws:iam::111122223333:mfa/alice"},
        {"roleArn": role, "mfaSerial": "arn:aws:iam::111122223333:mfa/alice", "mfaSeed": "not base32!"},
        {"roleArn": role, "maxSessionDuration": 900},
        {"roleArn": role, "trusted": ["alice"]},
        {"roleArn": role, "unknownField": 1},
        {"trusted": []},
    ):
        resp = emu.request("POST", "/_emulator/trust", body=body)
        assert resp.status == 400, (body, resp.text)
        assert resp.json()["error"] == "invalid_request"
    echoed = emu.trust(role, trusted=["111122223333"], externalId="xid", mfaSerial="arn:aws:iam::111122223333:mfa/a", mfaSeed=SEED)
    assert echoed == {
        "roleArn": role,
        "trusted": ["111122223333"],
        "externalId": "xid",
        "mfaSerial": "arn:aws:iam::111122223333:mfa/a",
        "maxSessionDuration": 3600,
    }
    # Control calls are not counted.
    assert emu.stats()["AssumeRole"] == 0


def test_throttling_and_faults(emu, make_boto):
    keys, account, _ = identity_center_keys(emu, make_boto)
    sts, _ = signed_sts(emu, keys)
    role_arn = chain_role(account)
    emu.reset_stats()
    emu.faults(errorRate=1.0)
    message = refused(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="ff"), "InternalFailure", 500)
    assert message == "An internal error occurred. Try again."
    emu.faults(errorRate=0.0, throttleRps=0.1)
    assert sts.assume_role(RoleArn=role_arn, RoleSessionName="ff")
    assert refused(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="ff"), "Throttling", 400) == "Rate exceeded"
    emu.faults(throttleRps=0.0, garbleBodies=True)
    with pytest.raises(Exception) as info:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="ff")
    assert not isinstance(info.value, ClientError), "a cut body is no STS error"
    stats = emu.stats()
    assert (stats["AssumeRole"], stats["failed"], stats["throttled"]) == (4, 1, 1)


def test_the_aws_cli_assumes_a_chain_role(emu, make_boto, tmp_path):
    """Debian's AWS CLI (its own botocore, its own signer) against the same STS."""
    aws = "/usr/bin/aws"
    if not os.access(aws, os.X_OK):
        pytest.skip("Debian's awscli is not installed (tests/run.sh installs it)")
    keys, account, _ = identity_center_keys(emu, make_boto)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": keys["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": keys["SecretAccessKey"],
        "AWS_SESSION_TOKEN": keys["SessionToken"],
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_PAGER": "",
        "NO_PROXY": "127.0.0.1,localhost",
    }

    def aws_json(*args, creds=None):
        run_env = dict(env, **(creds or {}))
        proc = subprocess.run(
            [aws, "--endpoint-url", emu.url, "--output", "json", *args],
            env=run_env, capture_output=True, text=True, timeout=60,
        )
        return proc

    role_arn = chain_role(account, 2)
    proc = aws_json("sts", "assume-role", "--role-arn", role_arn, "--role-session-name", "cli")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account}:assumed-role/ChainRole2/cli"
    creds = out["Credentials"]
    proc = aws_json(
        "sts", "get-caller-identity",
        creds={
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"],
        },
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["Arn"] == out["AssumedRoleUser"]["Arn"]
    # An error as the CLI prints it.
    proc = aws_json("sts", "assume-role", "--role-arn", role_arn, "--role-session-name", "cli", "--duration-seconds", "7200")
    assert proc.returncode == 254, (proc.returncode, proc.stderr)
    assert f"(ValidationError) when calling the AssumeRole operation: {MAX_SESSION}" in proc.stderr


def test_the_aws_clis_own_chained_profile(emu, make_boto, tmp_path):
    """A profile with role_arn and source_profile, resolved by the AWS CLI's own AssumeRole
    provider (not a command that calls AssumeRole): the emulator's answer is one botocore
    accepts, caches in ~/.aws/cli/cache and uses again without asking (one AssumeRole for two
    runs). Debian's AWS CLI (2.9) predates AWS_ENDPOINT_URL_STS; it reads endpoint rule sets
    from ~/.aws/models before its own, which is how its STS client is sent to the emulator."""
    aws = "/usr/bin/aws"
    if not os.access(aws, os.X_OK):
        pytest.skip("Debian's awscli is not installed (tests/run.sh installs it)")
    keys, _, _ = identity_center_keys(emu, make_boto)
    target = accounts(emu)[1]
    home = tmp_path / "cli-home"
    models = home / ".aws" / "models" / "sts" / "2011-06-15"
    models.mkdir(parents=True)
    builtin = lambda name, kind, **extra: {"builtIn": name, "type": kind, "required": False, **extra}  # noqa: E731
    rules = {
        "version": "1.0",
        "parameters": {
            "Region": builtin("AWS::Region", "String"),
            "UseDualStack": builtin("AWS::UseDualStack", "Boolean", required=True, default=False),
            "UseFIPS": builtin("AWS::UseFIPS", "Boolean", required=True, default=False),
            "Endpoint": builtin("SDK::Endpoint", "String"),
            "UseGlobalEndpoint": builtin("AWS::STS::UseGlobalEndpoint", "Boolean", required=True, default=False),
        },
        "rules": [{"conditions": [], "type": "endpoint", "endpoint": {"url": emu.url, "properties": {}, "headers": {}}}],
    }
    (models / "endpoint-rule-set-1.json").write_text(json.dumps(rules))
    (home / ".aws" / "config").write_text(
        "[profile src]\n"
        f"aws_access_key_id = {keys['AccessKeyId']}\n"
        f"aws_secret_access_key = {keys['SecretAccessKey']}\n"
        f"aws_session_token = {keys['SessionToken']}\n"
        "region = eu-west-1\n"
        "[profile chained]\n"
        f"role_arn = {chain_role(target)}\n"
        "source_profile = src\n"
        "role_session_name = cli-chain\n"
        "region = eu-west-1\n"
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "AWS_PAGER": "",
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    for _ in range(2):
        proc = subprocess.run(
            [aws, "sts", "get-caller-identity", "--profile", "chained", "--output", "json"],
            env=env, capture_output=True, text=True, timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["Arn"] == f"arn:aws:sts::{target}:assumed-role/ChainRole1/cli-chain"
    cached = list((home / ".aws" / "cli" / "cache").iterdir())
    assert len(cached) == 1, cached
    entry = json.loads(cached[0].read_text())
    assert entry["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{target}:assumed-role/ChainRole1/cli-chain"
    stats = emu.stats()
    assert (stats["AssumeRole"], stats["GetCallerIdentity"]) == (1, 2)
