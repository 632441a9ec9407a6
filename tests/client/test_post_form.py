"""The SDK's PostObject form signer against fixed vectors, and the form it builds."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timezone

import pytest

from ossemu.client import Callback, ClientError
from ossemu.client.auth import Credentials
from ossemu.client.post_form import FormBody, build_form, sign_v1, sign_v4
from tests.support import JAVA_POLICY, JAVA_SECRET, V4_POLICY

NOW = datetime(2023, 12, 3, 12, 12, 12, tzinfo=timezone.utc)


def test_sign_v1_matches_the_java_sdk_vector():
    fields = sign_v1(Credentials("ak", JAVA_SECRET), JAVA_POLICY)

    assert fields == {"OSSAccessKeyId": "ak", "Signature": "9fs2TRS2W2k5hV8mLsvqZBnlC2M="}


def test_sign_v4_matches_the_docs_vector():
    fields = sign_v4(Credentials("ak", "sk"), V4_POLICY, "cn-hangzhou", NOW)

    assert fields == {
        "x-oss-signature": "00a867c28c763ac3e14a0bd37dd675c9414ee3258e327b629c5ea9531f86c3b1"
    }


def test_v4_form_pins_its_signature_fields_the_callback_and_its_variables():
    callback = Callback(url="http://app.example/cb", body="uid=${x:uid}")

    form = build_form(
        "http://127.0.0.1:8090/b/",
        "b",
        Credentials("ak", "sk"),
        version="v4",
        region="cn-hangzhou",
        now=NOW,
        key="uploads/${filename}",
        expires=600,
        content_length_range=(0, 1024),
        success_action_status=200,
        callback=callback,
        callback_vars={"uid": 42},
    )

    assert list(form.fields) == [
        "key",
        "policy",
        "success_action_status",
        "callback",
        "x:uid",
        "x-oss-signature-version",
        "x-oss-credential",
        "x-oss-date",
        "x-oss-signature",
    ]
    assert form.fields["x:uid"] == "42"
    assert form.fields["x-oss-credential"] == "ak/20231203/cn-hangzhou/oss/aliyun_v4_request"
    assert json.loads(base64.b64decode(form.fields["policy"])) == form.policy
    assert form.policy["expiration"] == "2023-12-03T12:22:12.000Z"
    assert form.policy["conditions"] == [
        {"bucket": "b"},
        ["eq", "$key", "uploads/${filename}"],
        ["content-length-range", 0, 1024],
        ["eq", "$success_action_status", "200"],
        ["eq", "$callback", callback.serialize()],
        ["eq", "$x:uid", "42"],
        ["eq", "$x-oss-signature-version", "OSS4-HMAC-SHA256"],
        ["eq", "$x-oss-credential", "ak/20231203/cn-hangzhou/oss/aliyun_v4_request"],
        ["eq", "$x-oss-date", "20231203T121212Z"],
    ]
    key = b"aliyun_v4sk"
    for part in ("20231203", "cn-hangzhou", "oss", "aliyun_v4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, form.fields["policy"].encode(), hashlib.sha256).hexdigest()
    assert form.fields["x-oss-signature"] == expected


def test_v1_form_with_a_key_prefix_lets_the_browser_name_the_file():
    form = build_form(
        "u",
        "b",
        Credentials("ak", "sk", "token"),
        version="v1",
        region="",
        now=NOW,
        key_prefix="in/",
    )

    assert form.fields["key"] == "in/${filename}"
    assert ["starts-with", "$key", "in/"] in form.policy["conditions"]
    assert ["eq", "$x-oss-security-token", "token"] in form.policy["conditions"]
    digest = hmac.new(b"sk", form.fields["policy"].encode(), hashlib.sha1).digest()
    assert form.fields["Signature"] == base64.b64encode(digest).decode()


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"key": "a", "key_prefix": "b/"},
        {"key": "a", "expires": 0},
        {"key": "a", "content_length_range": (5, 1)},
        {"key": "a", "success_action_status": 302},
        {"key": "a", "callback_vars": {"x": "1"}},
        {"key": "a", "version": "v2"},
    ],
)
def test_build_form_refuses_what_oss_would(kwargs):
    args = {"version": "v1", **kwargs}
    with pytest.raises(ClientError):
        build_form("u", "b", Credentials("ak", "sk"), region="r", now=NOW, **args)


def test_form_body_streams_fields_then_the_file_with_its_length():
    body = FormBody({"key": "k"}, b"0123456789", "a.txt", "text/plain")

    data = b""
    while chunk := body.read(3):
        data += chunk

    assert len(data) == len(body)
    assert data.startswith(f"--{body.boundary}\r\n".encode())
    assert (
        b'name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n0123456789\r\n' in data
    )
    assert data.endswith(f"--{body.boundary}--\r\n".encode())
