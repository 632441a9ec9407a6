"""Every wrong way to present an STS token is refused with OSS's status, Code and message, on
every carrier (V1 and V4 headers, V1 and V4 presigned URLs), and nothing is stored."""

from __future__ import annotations

import oss2
import pytest
import requests

from ossemu import Client, ServerError

MESSAGES = {
    "InvalidAccessKeyId": "The OSS Access Key Id you provided does not exist in our records.",
    "InvalidSecurityToken": "The security token you provided is invalid.",
    "AccessKeyIdAndSecurityTokenNotMatch": (
        "The OSS access key id and security token you provided does not match."
    ),
    "SecurityTokenExpired": "The security token you provided has expired.",
}


def presented(case: str, mine, other, emulator) -> tuple[str, str, str | None]:
    """(key id, secret, token) for each way of getting it wrong."""
    if case == "sts-key-without-token":
        return mine.access_key_id, mine.access_key_secret, None
    if case == "forged-token":
        return mine.access_key_id, mine.access_key_secret, "ossemu1." + "A" * 200
    if case == "truncated-token":
        return mine.access_key_id, mine.access_key_secret, mine.security_token[:-10]
    if case == "altered-token":
        flipped = "B" if mine.security_token[40] != "B" else "C"
        token = mine.security_token[:40] + flipped + mine.security_token[41:]
        return mine.access_key_id, mine.access_key_secret, token
    if case == "other-keys-token":
        return mine.access_key_id, mine.access_key_secret, other.security_token
    if case == "main-key-with-token":
        return emulator.access_key_id, emulator.access_key_secret, "any-token"
    raise AssertionError(case)


CASES = {
    "sts-key-without-token": "InvalidAccessKeyId",
    "forged-token": "InvalidSecurityToken",
    "truncated-token": "InvalidSecurityToken",
    "altered-token": "InvalidSecurityToken",
    "other-keys-token": "AccessKeyIdAndSecurityTokenNotMatch",
    "main-key-with-token": "InvalidSecurityToken",
}


@pytest.mark.parametrize("version", ["v1", "v4"])
@pytest.mark.parametrize(("case", "code"), CASES.items())
def test_bad_token_in_headers_and_urls_is_refused_and_stores_nothing(
    oss_emulator, oss_bucket, oss_sts_credentials, case, code, version
):
    key_id, secret, token = presented(
        case, oss_sts_credentials(), oss_sts_credentials(), oss_emulator
    )
    client = Client(
        oss_emulator.url, key_id, secret, security_token=token, signature_version=version
    )
    bucket = client.get_bucket(oss_bucket.name)
    with pytest.raises(ServerError) as info:
        bucket.put_object("nope.txt", b"x")
    assert (info.value.status, info.value.code, info.value.message) == (403, code, MESSAGES[code])
    response = requests.put(bucket.sign_url("PUT", "nope-url.txt", 600), data=b"x")
    assert response.status_code == 403
    assert f"<Code>{code}</Code>" in response.text
    assert list(oss_bucket.list_objects()) == []


def test_oss2_sts_auth_with_the_main_key_and_any_token_is_refused(oss_emulator, oss_bucket):
    auth = oss2.StsAuth(oss_emulator.access_key_id, oss_emulator.access_key_secret, "any-token")
    bucket = oss2.Bucket(auth, oss_emulator.url, oss_bucket.name)
    with pytest.raises(oss2.exceptions.ServerError) as info:
        bucket.put_object("k", b"x")
    assert (info.value.status, info.value.code) == (403, "InvalidSecurityToken")
    assert list(oss_bucket.list_objects()) == []


def test_token_survives_an_emulator_restart_on_the_same_data_dir(oss_emulator_config, tmp_path):
    from ossemu.emulator.server import EmulatorServer

    config = oss_emulator_config.with_(data_dir=tmp_path)
    with EmulatorServer(config).start() as first:
        creds = first_credentials(first)
        Client(first.url, first.access_key_id, first.access_key_secret).create_bucket("keep")
    with EmulatorServer(config).start() as second:
        client = Client(
            second.url,
            creds.access_key_id,
            creds.access_key_secret,
            security_token=creds.security_token,
        )
        client.get_bucket("keep").put_object("after-restart.txt", b"still valid")


def first_credentials(server):
    from ossemu import assume_role

    return assume_role(
        server.url,
        server.access_key_id,
        server.access_key_secret,
        "acs:ram::1000000000000001:role/r",
        "restart",
    )
