#!/usr/bin/env python3
"""boto3/botocore as a separate process, for the portico interop tests.

botocore computes its SSO token cache directory (~/.aws/sso/cache) when it is imported, so
each use runs in a fresh interpreter whose environment (HOME, AWS_CONFIG_FILE, endpoints) is
exactly the test's, the way a user's program would start. One JSON object is printed on stdout.

    boto_probe.py credentials PROFILE
        boto3.Session(profile_name=PROFILE).get_credentials().get_frozen_credentials()
        -> {"ok": true, "method", "accessKey", "secretKey", "sessionToken", "sent": [...]}
        or {"ok": false, "errorClass", "errorModule", "errorMro", "message", "sent": [...]}
        "sent" lists every request botocore sent ({"service", "op", "bearerSha256"}), so a
        test can tell which access token was used without any token being printed.

    boto_probe.py save-token PROFILE < {"accessToken", "expiresIn", "refreshToken",
                                        "clientId", "clientSecret", "clientSecretExpiresAt"}
        Writes the token file through botocore's own code: the SSOTokenProvider's cache
        (JSONFileCache with botocore's SSO JSON serialiser, in its token cache directory) and
        SSOTokenLoader.save_token, with the dict built as SSOTokenProvider builds it after
        CreateToken (datetimes serialised by botocore). -> {"ok": true, "key": <cache key>}
"""

import hashlib
import json
import sys
from datetime import datetime, timedelta


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def credentials(profile):
    import boto3

    sent = []

    def before_send(request, **kwargs):
        _, service, op = (kwargs.get("event_name", "") + "..").split(".")[:3]
        # The URL has no secrets (GetRoleCredentials: role_name and account_id in the query).
        entry = {"service": service, "op": op, "url": request.url}
        for name, value in request.headers.items():
            if name.lower() == "x-amz-sso_bearer_token":
                if isinstance(value, bytes):
                    value = value.decode()
                entry["bearerSha256"] = sha256(value)
        sent.append(entry)

    session = boto3.Session(profile_name=profile)
    # Registered on the session before any client exists: botocore copies the session's
    # handlers into the sso and sso-oidc clients its credential and token providers create.
    session.events.register("before-send", before_send)
    try:
        creds = session.get_credentials()
        if creds is None:
            return {"ok": False, "errorClass": None, "message": "no credentials", "sent": sent}
        frozen = creds.get_frozen_credentials()
        return {
            "ok": True,
            "method": creds.method,
            "accessKey": frozen.access_key,
            "secretKey": frozen.secret_key,
            "sessionToken": frozen.token,
            "sent": sent,
        }
    except Exception as err:  # the class is what the test checks
        return {
            "ok": False,
            "errorClass": type(err).__name__,
            "errorModule": type(err).__module__,
            "errorMro": [c.__name__ for c in type(err).__mro__],
            "message": str(err),
            "sent": sent,
        }


def save_token(profile):
    import botocore.session
    from botocore.tokens import SSOTokenProvider
    from botocore.utils import SSOTokenLoader
    from dateutil.tz import tzutc

    given = json.load(sys.stdin)
    session = botocore.session.Session(profile=profile)
    provider = SSOTokenProvider(session, profile_name=profile)
    # The sso-session the profile names, resolved by botocore itself.
    config = provider._load_sso_config()
    if config is None:
        return {"ok": False, "message": f"profile {profile} has no sso_session"}
    now = datetime.now(tzutc())
    token = {
        # As SSOTokenProvider._attempt_create_token builds it (and the AWS CLI's login).
        "startUrl": config["sso_start_url"],
        "region": config["sso_region"],
        "accessToken": given["accessToken"],
        "expiresAt": now + timedelta(seconds=given["expiresIn"]),
        "clientId": given["clientId"],
        "clientSecret": given["clientSecret"],
        "registrationExpiresAt": datetime.fromtimestamp(given["clientSecretExpiresAt"], tzutc()),
    }
    if given.get("refreshToken"):
        token["refreshToken"] = given["refreshToken"]
    # provider._cache is the JSONFileCache SSOTokenProvider writes refreshed tokens through.
    loader = SSOTokenLoader(cache=provider._cache)
    loader.save_token(config["sso_start_url"], token, session_name=config["session_name"])
    return {"ok": True, "key": loader._generate_cache_key(config["sso_start_url"], config["session_name"])}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("credentials", "save-token"):
        print(__doc__, file=sys.stderr)
        return 2
    command, profile = sys.argv[1:]
    result = credentials(profile) if command == "credentials" else save_token(profile)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
