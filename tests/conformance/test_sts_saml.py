"""boto3's STS against idc-emulator's STS, with assertions from the emulator's SAML IdP.

Every call goes through boto3.client('sts', endpoint_url=…).assume_role_with_saml
(botocore's own service model, query protocol, unsigned); every error case asserts the
exception class botocore raises and the HTTP status, which botocore only produces when
the ErrorResponse is shaped as the service sends it. Assertions come from the IdP the way a
browser gets them (GET the IdP URL with an AuthnRequest, read the auto-posting form), and
their signatures are checked with signxml (lxml/libxml2's canonicalisation, not the
emulator's) against the certificate published in the federation metadata. The facts checked
are those of docs/protocol.md (SAML sign-in through Entra ID, STS AssumeRoleWithSAML).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
import string
import urllib.parse
from contextlib import contextmanager

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from signxml import InvalidSignature, XMLSigner, XMLVerifier

from harness import REPO, AWS_ENTITY_ID, authn_request, http, metadata_certificate, saml_sign_in

SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
ROLE_ATTR = "https://aws.amazon.com/SAML/Attributes/Role"
ACS = "http://localhost:48123/saml"
USER = "user@corp.example"


def roles_of(xml: bytes) -> list[tuple[str, str]]:
    """(role ARN, provider ARN) pairs of the Role attribute, in either order."""
    attr = re.search(rb'<Attribute Name="' + ROLE_ATTR.encode() + rb'">(.*?)</Attribute>', xml)
    assert attr, xml[:2000]
    pairs = []
    for value in re.findall(rb"<AttributeValue>([^<]*)</AttributeValue>", attr.group(1)):
        a, b = value.decode().split(",")
        pairs.append((b, a) if ":saml-provider/" in a else (a, b))
    return pairs


def tag(xml: bytes, name: str) -> str:
    m = re.search(rb"<" + name.encode() + rb"\b[^>]*>([^<]*)<", xml)
    assert m, name
    return m.group(1).decode()


def attr(xml: bytes, name: str) -> str:
    m = re.search(rb" " + name.encode() + rb'="([^"]*)"', xml)
    assert m, name
    return m.group(1).decode()


def assume(sts, form, pair, **extra):
    role, provider = pair
    return sts.assume_role_with_saml(RoleArn=role, PrincipalArn=provider, SAMLAssertion=form.saml_response, **extra)


@contextmanager
def raises(sts, received, code: str, status: int, exc_cls=None):
    """The call raises exc_cls (botocore's modelled class; ClientError when the code is
    outside the model) with `code`, from an ErrorResponse with that status."""
    with pytest.raises(exc_cls or ClientError) as info:
        yield info
    err = info.value
    if exc_cls is not None:
        assert type(err) is exc_cls, type(err)
    assert err.response["Error"]["Code"] == code, err.response
    assert err.response["Error"]["Type"] == ("Receiver" if status >= 500 else "Sender")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == status
    _op, raw_status, headers, body = received[-1]
    assert raw_status == status
    assert headers.get("content-type") == "text/xml"
    assert body.startswith(b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'), body


@pytest.fixture
def saml_emu(start):
    return start("--auto-approve", "--accounts", "5", "--roles-per-account", "2")


# --------------------------------------------------------------------------
# success
# --------------------------------------------------------------------------


def test_every_role_of_one_assertion_gives_well_formed_credentials(saml_emu, make_sts):
    sts, sent, received = make_sts(saml_emu)
    form = saml_sign_in(saml_emu, acs=ACS, relay_state="rs-1")
    assert form.action == ACS
    assert form.relay_state == "rs-1"
    xml = form.xml
    pairs = roles_of(xml)
    assert len(pairs) == 4
    assert len({r.split(":")[4] for r, _ in pairs}) == 3, "roles across several accounts"
    issuer = tag(xml, "Issuer")
    assert re.fullmatch(r"https://sts\.windows\.net/[0-9a-f-]{36}/", issuer)
    before = dt.datetime.now(dt.timezone.utc)
    for role, provider in pairs:
        out = assume(sts, form, (role, provider), DurationSeconds=3600)
        creds = out["Credentials"]
        assert re.fullmatch(r"ASIA[A-Z0-9]{16}", creds["AccessKeyId"])
        assert len(creds["SecretAccessKey"]) == 40
        assert len(creds["SessionToken"]) > 100
        lifetime = (creds["Expiration"] - before).total_seconds()
        assert 3500 < lifetime < 3700, lifetime
        account, name = role.split(":")[4], role.split("/")[-1]
        user = out["AssumedRoleUser"]
        assert user["Arn"] == f"arn:aws:sts::{account}:assumed-role/{name}/{USER}"
        assert re.fullmatch(r"AROA[A-Z0-9]{17}:" + re.escape(USER), user["AssumedRoleId"])
        assert out["Audience"] == ACS, "Audience is the Recipient"
        assert out["Issuer"] == issuer
        assert out["Subject"] == USER
        assert out["SubjectType"] == "persistent"
        provider_name = provider.split("/")[-1]
        expected_qualifier = base64.b64encode(hashlib.sha1((issuer + account + "/" + provider_name).encode()).digest())
        assert out["NameQualifier"] == expected_qualifier.decode()
        assert "PackedPolicySize" not in out
    # The wire: POST / form-encoded, query protocol, the assertion byte for byte.
    method, url, headers, body = sent[-1]
    assert (method, url) == ("POST", saml_emu.url + "/")
    assert headers["content-type"].startswith("application/x-www-form-urlencoded")
    params = urllib.parse.parse_qs(body if isinstance(body, str) else body.decode())
    assert params["Action"] == ["AssumeRoleWithSAML"]
    assert params["Version"] == ["2011-06-15"]
    assert params["SAMLAssertion"] == [form.saml_response]
    stats = saml_emu.stats()
    assert stats["SamlSignIn"] == 1
    assert stats["AssumeRoleWithSAML"] == 4


def test_session_ends_at_the_earlier_of_duration_and_session_duration(start, make_sts):
    emu = start("--auto-approve", "--saml-session-duration", "1800")
    sts, _sent, _received = make_sts(emu)
    form = saml_sign_in(emu)
    admin = roles_of(form.xml)[0]  # Admin: MaxSessionDuration 43200
    before = dt.datetime.now(dt.timezone.utc)
    capped = assume(sts, form, admin, DurationSeconds=7200)["Credentials"]["Expiration"]
    assert 1700 < (capped - before).total_seconds() < 1900
    short = assume(sts, form, admin, DurationSeconds=900)["Credentials"]["Expiration"]
    assert 800 < (short - before).total_seconds() < 1000


def test_small_policy_reports_its_packed_size(saml_emu, make_sts):
    sts, _sent, _received = make_sts(saml_emu)
    form = saml_sign_in(saml_emu)
    policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
    out = assume(sts, form, roles_of(form.xml)[0], Policy=policy)
    assert 0 < out["PackedPolicySize"] <= 100


# --------------------------------------------------------------------------
# the signature, checked by an independent verifier
# --------------------------------------------------------------------------


def other_certificate() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not the IdP")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_signature_verifies_with_signxml_against_the_published_metadata(saml_emu):
    form = saml_sign_in(saml_emu)
    cert = metadata_certificate(saml_emu)
    result = XMLVerifier().verify(form.xml, x509_cert=cert)
    signed = result.signed_xml
    assert signed.tag == f"{{{SAML_NS}}}Assertion"
    # What the signature covers is the assertion with its roles, audience and recipient.
    assert signed.find(f".//{{{SAML_NS}}}Audience").text == AWS_ENTITY_ID
    recipient = signed.find(f".//{{{SAML_NS}}}SubjectConfirmationData").get("Recipient")
    assert recipient == form.action
    # RSA-SHA256, exclusive c14n, enveloped, as docs/protocol.md says.
    xml = form.xml
    assert b'<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>' in xml
    assert b'<CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>' in xml
    assert b'<Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>' in xml
    assert tag(xml, "X509Certificate") in cert.replace("\n", "")
    # Another key's certificate does not verify it: the check above can fail.
    with pytest.raises(InvalidSignature):
        XMLVerifier().verify(xml, x509_cert=other_certificate())


def test_times_and_identifiers_are_as_entra_sends_them(saml_emu):
    form = saml_sign_in(saml_emu, acs="http://localhost:50000/saml")
    xml = form.xml
    parse = lambda s: dt.datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    issued = parse(attr(xml, "IssueInstant"))
    confirmation = re.search(rb"<SubjectConfirmationData ([^>]*)/>", xml).group(1)
    assert parse(attr(b" " + confirmation, "NotOnOrAfter")) - issued == dt.timedelta(minutes=5)
    conditions = re.search(rb"<Conditions ([^>]*)>", xml).group(1)
    assert parse(attr(b" " + conditions, "NotOnOrAfter")) - issued == dt.timedelta(minutes=70)
    assert attr(b" " + confirmation, "InResponseTo") == "id-conformance"
    assert attr(xml, "Destination") == "http://localhost:50000/saml"
    assert re.match(r"[A-Za-z_]", attr(xml, "ID"))


def test_suffixed_identifier_comes_back_without_the_suffix(saml_emu, make_sts):
    sts, _sent, _received = make_sts(saml_emu)
    form = saml_sign_in(saml_emu, issuer="urn:amazon:webservices#2")
    assert tag(form.xml, "Audience") == AWS_ENTITY_ID
    XMLVerifier().verify(form.xml, x509_cert=metadata_certificate(saml_emu))
    assert assume(sts, form, roles_of(form.xml)[0])["Credentials"]["AccessKeyId"].startswith("ASIA")


# --------------------------------------------------------------------------
# tampering
# --------------------------------------------------------------------------


def flip(byte: int) -> int:
    """Another byte of the same kind (letter, digit or other), so base64 stays base64."""
    c = chr(byte)
    for alphabet in (string.ascii_uppercase, string.ascii_lowercase, string.digits):
        if c in alphabet:
            return ord(alphabet[(alphabet.index(c) + 1) % len(alphabet)])
    return ord("x")


def tamper_positions(xml: bytes) -> list[int]:
    """Positions spread over the whole assertion, plus one inside each part that matters."""
    start = xml.index(b"<Assertion ")
    end = xml.index(b"</Assertion>") + len(b"</Assertion>")
    spread = [start + (end - start) * k // 16 for k in range(16)]
    inside = []
    for needle in (
        b"<Issuer>https",
        b"<DigestValue>",
        b"<SignatureValue>",
        b"<X509Certificate>",
        b"<NameID",
        b"Recipient=\"",
        b"NotOnOrAfter=\"",
        b"<Audience>",
        b"<AttributeValue>arn",
        b"SessionDuration\"><AttributeValue>",
        b"<AuthnContextClassRef>",
    ):
        at = xml.index(needle, start) + len(needle) + 3
        inside.append(at)
    return sorted(set(spread + inside + [end - 2]))


def test_one_byte_changed_anywhere_in_the_assertion_is_refused(saml_emu, make_sts):
    sts, _sent, received = make_sts(saml_emu)
    form = saml_sign_in(saml_emu)
    pair = roles_of(form.xml)[0]
    assert assume(sts, form, pair)["Credentials"]["AccessKeyId"], "the untouched assertion works"
    xml = form.xml
    positions = tamper_positions(xml)
    assert len(positions) >= 20
    for at in positions:
        changed = bytearray(xml)
        changed[at] = flip(changed[at])
        assert bytes(changed) != xml
        tampered = base64.b64encode(bytes(changed)).decode()
        with raises(sts, received, "InvalidIdentityToken", 400, sts.exceptions.InvalidIdentityTokenException):
            sts.assume_role_with_saml(RoleArn=pair[0], PrincipalArn=pair[1], SAMLAssertion=tampered)
    assert saml_emu.stats()["AssumeRoleWithSAML"] == 1 + len(positions)


# --------------------------------------------------------------------------
# every modelled error class, and the service's errors outside the model
# --------------------------------------------------------------------------


def test_malformed_policy_document(saml_emu, make_sts):
    sts, _sent, received = make_sts(saml_emu)
    form = saml_sign_in(saml_emu)
    with raises(sts, received, "MalformedPolicyDocument", 400, sts.exceptions.MalformedPolicyDocumentException):
        assume(sts, form, roles_of(form.xml)[0], Policy='{"Version": "2012-10-17", "Statement": [')


def test_packed_policy_too_large(saml_emu, make_sts):
    sts, _sent, received = make_sts(saml_emu)
    form = saml_sign_in(saml_emu)
    noise = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(1900))
    policy = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",'
        f'"Resource":"arn:aws:s3:::{noise}"}}]}}'
    )
    assert len(policy) <= 2048
    with raises(sts, received, "PackedPolicyTooLarge", 400, sts.exceptions.PackedPolicyTooLargeException) as info:
        assume(sts, form, roles_of(form.xml)[0], Policy=policy)
    assert "% of allotted space" in info.value.response["Error"]["Message"]


def test_idp_rejected_claim_for_an_issuer_the_provider_does_not_trust(saml_emu, make_sts):
    sts, _sent, received = make_sts(saml_emu)
    other = saml_emu.url + "/11111111-2222-3333-4444-555555555555/saml2"
    form = saml_sign_in(saml_emu, idp_url=other)
    with raises(sts, received, "IDPRejectedClaim", 403, sts.exceptions.IDPRejectedClaimException):
        assume(sts, form, roles_of(form.xml)[0])


def test_invalid_identity_token_for_garbage(saml_emu, make_sts):
    sts, _sent, received = make_sts(saml_emu)
    form = saml_sign_in(saml_emu)
    role, provider = roles_of(form.xml)[0]
    for garbage in ("bm90IFhNTA==", base64.b64encode(b"<samlp:Response/>").decode(), "%%%%"):
        with raises(sts, received, "InvalidIdentityToken", 400, sts.exceptions.InvalidIdentityTokenException):
            sts.assume_role_with_saml(RoleArn=role, PrincipalArn=provider, SAMLAssertion=garbage)


def test_expired_token_after_five_minutes(saml_emu, make_sts):
    sts, _sent, received = make_sts(saml_emu)
    form = saml_sign_in(saml_emu)
    pair = roles_of(form.xml)[0]
    saml_emu.saml_clock(301)
    with raises(sts, received, "ExpiredTokenException", 400, sts.exceptions.ExpiredTokenException):
        assume(sts, form, pair)
    # An assertion stamped in the past is just as expired.
    saml_emu.saml_clock(-400)
    old = saml_sign_in(saml_emu)
    saml_emu.saml_clock(0)
    with raises(sts, received, "ExpiredTokenException", 400, sts.exceptions.ExpiredTokenException):
        assume(sts, old, pair)
    assert assume(sts, form, pair)["Credentials"]


def test_region_disabled(start, make_sts):
    emu = start("--auto-approve", "--sts-region-disabled")
    sts, _sent, received = make_sts(emu)
    form = saml_sign_in(emu)
    with raises(sts, received, "RegionDisabledException", 403, sts.exceptions.RegionDisabledException):
        assume(sts, form, roles_of(form.xml)[0])


def test_access_denied_for_a_role_the_assertion_does_not_hold(saml_emu, make_sts):
    sts, _sent, received = make_sts(saml_emu)
    form = saml_sign_in(saml_emu)
    role, provider = roles_of(form.xml)[0]
    account = role.split(":")[4]
    with raises(sts, received, "AccessDenied", 403) as info:
        sts.assume_role_with_saml(
            RoleArn=f"arn:aws:iam::{account}:role/NotAssigned",
            PrincipalArn=provider,
            SAMLAssertion=form.saml_response,
        )
    assert info.value.response["Error"]["Message"] == "Not authorized to perform sts:AssumeRoleWithSAML"
    # The role of one pair with the provider of another account.
    other_provider = roles_of(form.xml)[1][1]
    assert other_provider != provider
    with raises(sts, received, "AccessDenied", 403):
        sts.assume_role_with_saml(RoleArn=role, PrincipalArn=other_provider, SAMLAssertion=form.saml_response)


def test_access_denied_when_saml_aud_does_not_accept_the_recipient(start, make_sts):
    emu = start("--auto-approve", "--saml-aud", "https://signin.aws.amazon.com/saml")
    sts, _sent, received = make_sts(emu)
    loopback = saml_sign_in(emu, acs="http://localhost:40001/saml")
    with raises(sts, received, "AccessDenied", 403):
        assume(sts, loopback, roles_of(loopback.xml)[0])
    console = saml_sign_in(emu, acs="https://signin.aws.amazon.com/saml")
    assert assume(sts, console, roles_of(console.xml)[0])["Audience"] == "https://signin.aws.amazon.com/saml"


def test_validation_error_for_duration_seconds(saml_emu, make_sts):
    sts, _sent, received = make_sts(saml_emu)
    form = saml_sign_in(saml_emu)
    pairs = roles_of(form.xml)
    read_only = next(p for p in pairs if p[0].endswith("/ReadOnly"))  # MaxSessionDuration 3600
    with raises(sts, received, "ValidationError", 400) as info:
        assume(sts, form, read_only, DurationSeconds=7200)
    assert info.value.response["Error"]["Message"] == (
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    )
    assert assume(sts, form, read_only, DurationSeconds=3600)["Credentials"]
    with raises(sts, received, "ValidationError", 400) as info:
        assume(sts, form, pairs[0], DurationSeconds=43201)
    assert "less than or equal to 43200" in info.value.response["Error"]["Message"]


def test_faults_apply_to_sts(saml_emu, make_sts):
    sts, _sent, received = make_sts(saml_emu)
    form = saml_sign_in(saml_emu)
    pair = roles_of(form.xml)[0]
    saml_emu.faults(errorRate=1.0)
    with raises(sts, received, "InternalFailure", 500):
        assume(sts, form, pair)
    saml_emu.faults(errorRate=0.0, throttleRps=0.1)
    assume(sts, form, pair)
    with raises(sts, received, "Throttling", 400):
        assume(sts, form, pair)
    stats = saml_emu.stats()
    assert (stats["failed"], stats["throttled"], stats["AssumeRoleWithSAML"]) == (1, 1, 3)


def test_aadsts50011_for_an_unregistered_acs(saml_emu):
    query = urllib.parse.urlencode({"SAMLRequest": authn_request("https://attacker.example/saml"), "RelayState": "x"})
    resp = http("GET", f"{saml_emu.saml_idp_url}?{query}")
    assert resp.status == 400
    assert "AADSTS50011" in resp.text
    assert "SAMLResponse" not in resp.text


# --------------------------------------------------------------------------
# STS's canonicalisation, against an independent signer
# --------------------------------------------------------------------------

KEY_PEM = (REPO / "tests" / "emulator" / "keys" / "saml-signing-key.pem").read_bytes()
CERT_PEM = (REPO / "tests" / "emulator" / "keys" / "saml-signing-cert.pem").read_bytes()


def signxml_response(emu, pair, recipient: str) -> str:
    """An assertion laid out unlike the emulator's — prefixed elements, whitespace and
    comments between them, escaped characters, attributes in another order, the default
    namespace undeclared below — signed by signxml with the IdP's test key, as base64."""
    from lxml import etree

    tenant = emu.saml_idp_url.split("/")[-2]
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    t = lambda secs: (now + dt.timedelta(seconds=secs)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    role, provider = pair
    assertion = f"""<saml2:Assertion xmlns:saml2="{SAML_NS}" Version="2.0"
        IssueInstant="{t(0)}" ID="_signxml-1" xmlns:xs="http://www.w3.org/2001/XMLSchema">
      <saml2:Issuer>https://sts.windows.net/{tenant}/</saml2:Issuer>
      <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="placeholder"></ds:Signature>
      <!-- a comment canonicalisation drops -->
      <saml2:Subject>
        <saml2:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{USER}</saml2:NameID>
        <saml2:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
          <saml2:SubjectConfirmationData Recipient="{recipient}" NotOnOrAfter="{t(300)}"/>
        </saml2:SubjectConfirmation>
      </saml2:Subject>
      <saml2:Conditions NotOnOrAfter="{t(4200)}" NotBefore="{t(-300)}">
        <saml2:AudienceRestriction><saml2:Audience>urn:amazon:webservices</saml2:Audience></saml2:AudienceRestriction>
      </saml2:Conditions>
      <saml2:AttributeStatement xmlns="urn:example:default">
        <saml2:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role">
          <saml2:AttributeValue xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string"> {provider} , {role} </saml2:AttributeValue>
        </saml2:Attribute>
        <saml2:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName">
          <saml2:AttributeValue>{USER}</saml2:AttributeValue>
        </saml2:Attribute>
        <saml2:Attribute Name="urn:example:note"><saml2:AttributeValue>a &amp; b &lt; c &gt; d "e" &#x2603;</saml2:AttributeValue></saml2:Attribute>
        <Extra xmlns=""><Inner attr="tab&#9;newline&#10;"/></Extra>
      </saml2:AttributeStatement>
    </saml2:Assertion>"""
    signer = XMLSigner(c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
    signed = signer.sign(
        etree.fromstring(assertion.encode()),
        key=KEY_PEM,
        cert=CERT_PEM.decode(),
        reference_uri="_signxml-1",
        id_attribute="ID",
    )
    response = etree.fromstring(
        f"""<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r1" Version="2.0"
        IssueInstant="{t(0)}" Destination="{recipient}">
      <saml2:Issuer xmlns:saml2="{SAML_NS}">https://sts.windows.net/{tenant}/</saml2:Issuer>
      <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
    </samlp:Response>""".encode()
    )
    response.append(signed)
    return base64.b64encode(etree.tostring(response)).decode()


def test_sts_verifies_what_signxml_signs_and_refuses_it_changed(saml_emu, make_sts):
    sts, _sent, received = make_sts(saml_emu)
    pair = roles_of(saml_sign_in(saml_emu).xml)[0]
    saml = signxml_response(saml_emu, pair, "http://localhost:40002/saml")
    XMLVerifier().verify(base64.b64decode(saml), x509_cert=metadata_certificate(saml_emu))
    out = sts.assume_role_with_saml(RoleArn=pair[0], PrincipalArn=pair[1], SAMLAssertion=saml)
    assert out["Audience"] == "http://localhost:40002/saml"
    xml = base64.b64decode(saml)
    for needle in (b"a &amp; b", b"tab&#9;", b"persistent\">user", b"<!-- a comment"):
        at = xml.index(needle) + 1
        changed = bytearray(xml)
        changed[at] = flip(changed[at])
        with raises(sts, received, "InvalidIdentityToken", 400, sts.exceptions.InvalidIdentityTokenException):
            sts.assume_role_with_saml(
                RoleArn=pair[0], PrincipalArn=pair[1], SAMLAssertion=base64.b64encode(bytes(changed)).decode()
            )
