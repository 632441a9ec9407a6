"""The SDK's STS side: the RPC signature against the doc's vector, AssumeRole errors, and a
provider that renews credentials before they expire (driven by the emulator's clock)."""

from __future__ import annotations

import json

import pytest

from ossemu import AssumeRoleProvider, Client, StsError, assume_role, prefix_policy
from ossemu.client.sts import rpc_signature

ROLE = "acs:ram::1000000000000001:role/uploader"


def test_rpc_signature_matches_the_sts_doc_vector():
    params = {
        "AccessKeyId": "testid",
        "Action": "AssumeRole",
        "Format": "JSON",
        "RoleArn": "acs:ram::1234567890123:role/firstrole",
        "RoleSessionName": "client",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "571f8fb8-506e-11e5-8e12-b8e8563dc8d2",
        "SignatureVersion": "1.0",
        "Timestamp": "2015-09-01T05:57:34Z",
        "Version": "2015-04-01",
    }
    assert rpc_signature("GET", params, "testsecret") == "gNI7b0AyKZHxDgjBGPDgJ1Ce3L4="


def test_prefix_policy_confines_objects_and_listings_to_the_prefix():
    doc = json.loads(prefix_policy("b", "u/", ["oss:PutObject", "oss:ListObjects"]))
    assert doc["Statement"] == [
        {"Effect": "Allow", "Action": ["oss:PutObject"], "Resource": ["acs:oss:*:*:b/u/*"]},
        {
            "Effect": "Allow",
            "Action": ["oss:ListObjects"],
            "Resource": ["acs:oss:*:*:b"],
            "Condition": {"StringLike": {"oss:Prefix": ["u/*"]}},
        },
    ]


def test_assume_role_errors_carry_sts_code(oss_emulator):
    with pytest.raises(StsError) as info:
        assume_role(oss_emulator.url, oss_emulator.access_key_id, "wrong", ROLE, "s1")
    assert (info.value.status, info.value.code) == (400, "SignatureDoesNotMatch")
    with pytest.raises(StsError) as info:
        assume_role(
            oss_emulator.url,
            oss_emulator.access_key_id,
            oss_emulator.access_key_secret,
            ROLE,
            "s1",
            duration_seconds=60,
        )
    assert info.value.code == "InvalidParameter.DurationSeconds"


def test_provider_renews_credentials_before_they_expire(oss_emulator, oss_bucket):
    provider = AssumeRoleProvider(
        oss_emulator.url,
        oss_emulator.access_key_id,
        oss_emulator.access_key_secret,
        ROLE,
        duration_seconds=900,
        refresh_before=60,
        clock=oss_emulator.now,  # the emulator's clock, which the test moves
        policy=prefix_policy(oss_bucket.name, "app/"),
    )
    bucket = Client(oss_emulator.url, credentials_provider=provider).get_bucket(oss_bucket.name)
    bucket.put_object("app/1", b"first")
    first = provider.get_credentials()
    assert first.access_key_id.startswith("STS.") and provider.refreshes == 1
    oss_emulator.advance_clock(800)  # 100 s left: still used
    bucket.put_object("app/2", b"second")
    assert provider.refreshes == 1
    oss_emulator.advance_clock(60)  # 40 s left, inside refresh_before: renewed
    bucket.put_object("app/3", b"third")
    assert provider.refreshes == 2
    assert provider.get_credentials().access_key_id != first.access_key_id
    oss_emulator.advance_clock(600)  # the first credentials are long dead; the new ones work
    assert bucket.get_object("app/3") == b"third"
    assert [o.key for o in oss_bucket.list_objects()] == ["app/1", "app/2", "app/3"]
