"""Every PostObject refusal with OSS's status, Code and EC, and nothing stored.

The forms are built and signed in ``post_form_http.py`` with hmac, independently of our SDK.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
import requests

from tests.e2e.post_form_http import (
    error,
    expiration,
    policy_b64,
    post,
    replace,
    signed,
    stored_keys,
    v1_fields,
    v4_fields,
    without,
)
from tests.support import form_body


def _conditions(bucket: str, extra: list) -> list:
    return [{"bucket": bucket}, *extra]


REFUSED_BY_POLICY = [
    # (why, conditions, fields, file, status, code, ec, message part)
    ("expired", None, [], b"d", 403, "AccessDenied", "0006-00000213", "Policy expired."),
    (
        "eq fails",
        [["eq", "$success_action_status", "200"]],
        [("success_action_status", "201")],
        b"d",
        403,
        "AccessDenied",
        "0006-00000227",
        'Policy Condition failed: ["eq", "$success_action_status", "200"]',
    ),
    (
        "starts-with fails",
        [["starts-with", "$key", "user/"]],
        [],
        b"d",
        403,
        "AccessDenied",
        "0006-00000227",
        "starts-with",
    ),
    (
        "in fails",
        [["in", "$content-type", ["image/png"]]],
        [("Content-Type", "text/x")],
        b"d",
        403,
        "AccessDenied",
        "0006-00000227",
        '["in"',
    ),
    (
        "not-in fails",
        [["not-in", "$cache-control", ["no-cache"]]],
        [("Cache-Control", "no-cache")],
        b"d",
        403,
        "AccessDenied",
        "0006-00000227",
        "not-in",
    ),
    (
        "field absent",
        [["eq", "$x-oss-meta-a", "1"]],
        [],
        b"d",
        403,
        "AccessDenied",
        "0006-00000226",
        "x-oss-meta-a",
    ),
    (
        "other bucket",
        [{"bucket": "someone-else"}],
        [],
        b"d",
        403,
        "AccessDenied",
        "0006-00000227",
        "someone-else",
    ),
    (
        "too big",
        [["content-length-range", 0, 3]],
        [],
        b"1234",
        400,
        "EntityTooLarge",
        "0006-00000003",
        "exceeds",
    ),
    (
        "too small",
        [["content-length-range", 5, 9]],
        [],
        b"1234",
        400,
        "EntityTooSmall",
        "0006-00000004",
        "smaller",
    ),
    (
        "two properties",
        [{"a": "1", "b": "2"}],
        [],
        b"d",
        400,
        "InvalidPolicyDocument",
        "0006-00000201",
        "Simple-Conditions",
    ),
    (
        "unknown mode",
        [["ends-with", "$key", "x"]],
        [],
        b"d",
        400,
        "InvalidPolicyDocument",
        "0006-00000217",
        "ends-with",
    ),
    (
        "max < min",
        [["content-length-range", 9, 1]],
        [],
        b"d",
        400,
        "InvalidPolicyDocument",
        "0006-00000219",
        "max",
    ),
    (
        "in needs a list",
        [["in", "$key", "k"]],
        [],
        b"d",
        400,
        "InvalidPolicyDocument",
        "0006-00000224",
        "list",
    ),
]


@pytest.mark.parametrize(
    ("why", "conditions", "fields", "file", "status", "code", "ec", "message"),
    REFUSED_BY_POLICY,
    ids=[case[0] for case in REFUSED_BY_POLICY],
)
def test_post_object_policy_refusal(
    oss_emulator, oss_bucket, why, conditions, fields, file, status, code, ec, message
):
    expires = expiration(-1) if why == "expired" else None
    policy = policy_b64(_conditions(oss_bucket.name, conditions or []), expires)
    form = [("key", "k"), *fields, *v1_fields(oss_emulator, policy)]

    response = post(oss_emulator, oss_bucket.name, form, file)

    got = error(response)
    assert (response.status_code, got["Code"], got["EC"]) == (status, code, ec), got
    assert message in got["Message"]
    assert stored_keys(oss_emulator, oss_bucket.name) == []


REFUSED_FORMS = {
    # why: (form from (emulator, bucket), status, code, ec)
    "forged signature": (
        lambda e, b: [
            ("key", "k"),
            *replace(signed(e, b), "Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        ],
        403,
        "SignatureDoesNotMatch",
        "0002-00000705",
    ),
    "unknown access key": (
        lambda e, b: [("key", "k"), *replace(signed(e, b), "OSSAccessKeyId", "nobody")],
        403,
        "InvalidAccessKeyId",
        "0002-00000902",
    ),
    "no policy": (
        lambda e, b: [("key", "k"), *without(signed(e, b), "policy")],
        400,
        "InvalidArgument",
        "0002-00000702",
    ),
    "no Signature": (
        lambda e, b: [("key", "k"), *without(signed(e, b), "Signature")],
        400,
        "InvalidArgument",
        "0002-00000703",
    ),
    "empty Signature": (
        lambda e, b: [("key", "k"), *replace(signed(e, b), "Signature", "")],
        400,
        "InvalidArgument",
        "0002-00000704",
    ),
    "no OSSAccessKeyId": (
        lambda e, b: [("key", "k"), *without(signed(e, b), "OSSAccessKeyId")],
        400,
        "InvalidArgument",
        "0002-00000706",
    ),
    "policy not base64": (
        lambda e, b: [("key", "k"), *v1_fields(e, "not base64!")],
        400,
        "InvalidPolicyDocument",
        "0006-00000202",
    ),
    "policy not JSON": (
        lambda e, b: [("key", "k"), *v1_fields(e, base64.b64encode(b"{expiration").decode())],
        400,
        "InvalidPolicyDocument",
        "0006-00000204",
    ),
    "policy without conditions": (
        lambda e, b: [
            ("key", "k"),
            *v1_fields(e, base64.b64encode(b'{"expiration":"2099-01-01T00:00:00.000Z"}').decode()),
        ],
        400,
        "InvalidPolicyDocument",
        "0006-00000207",
    ),
    "bad V4 credential": (
        lambda e, b: [
            ("key", "k"),
            *replace(v4_fields(e, [{"bucket": b}]), "x-oss-credential", "ak/bad"),
        ],
        400,
        "InvalidArgument",
        "0002-00000710",
    ),
    "V4 signature forged": (
        lambda e, b: [
            ("key", "k"),
            *replace(v4_fields(e, [{"bucket": b}]), "x-oss-signature", "0" * 64),
        ],
        403,
        "SignatureDoesNotMatch",
        "0002-00000705",
    ),
    "OSS2 form": (
        lambda e, b: [
            ("key", "k"),
            *replace(v4_fields(e, [{"bucket": b}]), "x-oss-signature-version", "OSS2"),
        ],
        400,
        "InvalidArgument",
        "0002-00000701",
    ),
    "no key": (lambda e, b: signed(e, b), 400, "InvalidArgument", "0017-00000001"),
    "anonymous to a private bucket": (
        lambda e, b: [("key", "k")],
        403,
        "AccessDenied",
        "0003-00000001",
    ),
    "a security token sent with the main key": (
        lambda e, b: [("key", "k"), ("x-oss-security-token", "CAIS-token"), *signed(e, b)],
        403,
        "InvalidSecurityToken",
        "0002-00000006",
    ),
    "bad object acl": (
        lambda e, b: [("key", "k"), ("x-oss-object-acl", "everyone"), *signed(e, b)],
        400,
        "InvalidArgument",
        "0017-00000001",
    ),
    "CR in a metadata field": (
        lambda e, b: [("key", "k"), ("x-oss-meta-a", "1\r\nX: y"), *signed(e, b)],
        400,
        "InvalidArgument",
        "0017-00000001",
    ),
    "bad metadata name": (
        lambda e, b: [("key", "k"), ("x-oss-meta-a b", "1"), *signed(e, b)],
        400,
        "InvalidArgument",
        "0017-00000001",
    ),
    "bad callback": (
        lambda e, b: [("key", "k"), ("callback", "%%%"), *signed(e, b)],
        400,
        "InvalidArgument",
        "0007-00000002",
    ),
    "key not a valid name": (
        lambda e, b: [("key", "/k"), *signed(e, b)],
        400,
        "InvalidObjectName",
        "0016-00000005",
    ),
}


@pytest.mark.parametrize("why", list(REFUSED_FORMS))
def test_post_object_form_refusal(oss_emulator, oss_bucket, why):
    build, status, code, ec = REFUSED_FORMS[why]

    response = post(oss_emulator, oss_bucket.name, build(oss_emulator, oss_bucket.name))

    got = error(response)
    assert (response.status_code, got["Code"], got.get("EC")) == (status, code, ec), got
    assert stored_keys(oss_emulator, oss_bucket.name) == []


def test_post_object_refuses_a_second_file_and_stores_nothing(oss_emulator, oss_bucket):
    fields = [("key", "k"), *signed(oss_emulator, oss_bucket.name)]

    response = post(oss_emulator, oss_bucket.name, fields, b"one", after=[("file", "two")])

    assert (response.status_code, error(response)["Code"]) == (
        400,
        "IncorrectNumberOfFilesInPOSTRequest",
    )
    assert stored_keys(oss_emulator, oss_bucket.name) == []


def test_post_object_ignores_fields_after_the_file(oss_emulator, oss_bucket):
    fields = [("key", "k"), *signed(oss_emulator, oss_bucket.name)]

    response = post(oss_emulator, oss_bucket.name, fields, b"one", after=[("submit", "Upload")])

    assert response.status_code == 204
    assert oss_bucket.get_object("k") == b"one"


def test_post_object_key_after_the_file_is_missing(oss_emulator, oss_bucket):
    fields = signed(oss_emulator, oss_bucket.name)

    response = post(oss_emulator, oss_bucket.name, fields, b"one", after=[("key", "k")])

    assert (response.status_code, error(response)["Code"]) == (400, "InvalidArgument")
    assert "check the order of the fields" in error(response)["Message"]


def test_post_object_without_a_file_is_malformed(oss_emulator, oss_bucket):
    fields = [("key", "k"), *signed(oss_emulator, oss_bucket.name)]

    response = post(oss_emulator, oss_bucket.name, fields, None)

    got = error(response)
    assert (response.status_code, got["Code"], got["EC"]) == (
        400,
        "MalformedPOSTRequest",
        "0006-00000107",
    )


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"key=k"),
        ("multipart/form-data", b"--x\r\n"),  # no boundary
        ("", b""),
    ],
)
def test_post_object_body_that_is_not_a_form(oss_emulator, oss_bucket, content_type, body):
    response = requests.post(
        f"{oss_emulator.url}/{oss_bucket.name}",
        data=body,
        headers={"Content-Type": content_type},
        timeout=30,
    )

    assert (response.status_code, error(response)["Code"]) == (400, "RequestIsNotMultiPartContent")


def test_post_object_truncated_body_is_malformed_and_stores_nothing(oss_emulator, oss_bucket):
    body, content_type = form_body([("key", "k"), *signed(oss_emulator, oss_bucket.name)], b"abc")

    response = requests.post(
        f"{oss_emulator.url}/{oss_bucket.name}",
        data=body[:-20],
        headers={"Content-Type": content_type},
        timeout=30,
    )

    got = error(response)
    assert (response.status_code, got["Code"], got["EC"]) == (
        400,
        "MalformedPOSTRequest",
        "0006-00000104",
    )
    assert stored_keys(oss_emulator, oss_bucket.name) == []


def test_post_object_field_name_over_8_kib_is_field_item_too_long(oss_emulator, oss_bucket):
    fields = [("key", "k"), ("x" * 9000, "v"), *signed(oss_emulator, oss_bucket.name)]

    response = post(oss_emulator, oss_bucket.name, fields)

    got = error(response)
    assert (response.status_code, got["Code"], got["EC"]) == (
        400,
        "FieldItemTooLong",
        "0006-00000110",
    )


def test_post_object_fields_over_8_mib_before_the_file_are_refused(oss_emulator, oss_bucket):
    filler = [(f"x-filler-{i}", "v" * (2 * 1024 * 1024 - 100)) for i in range(5)]
    fields = [("key", "k"), *filler, *signed(oss_emulator, oss_bucket.name)]

    response = post(oss_emulator, oss_bucket.name, fields)

    got = error(response)
    assert (response.status_code, got["Code"], got["EC"]) == (
        400,
        "MaxPOSTPreDataLengthExceededError",
        "0006-00000112",
    )


def test_post_object_forbid_overwrite_keeps_the_old_object(oss_emulator, oss_bucket):
    oss_bucket.put_object("k", b"old")
    fields = [
        ("key", "k"),
        ("x-oss-forbid-overwrite", "true"),
        *signed(oss_emulator, oss_bucket.name),
    ]

    response = post(oss_emulator, oss_bucket.name, fields, b"new")

    assert (response.status_code, error(response)["Code"]) == (409, "FileAlreadyExists")
    assert oss_bucket.get_object("k") == b"old"


def test_post_object_content_md5_is_of_the_whole_body(oss_emulator, oss_bucket):
    body, content_type = form_body([("key", "k"), *signed(oss_emulator, oss_bucket.name)], b"x")
    url = f"{oss_emulator.url}/{oss_bucket.name}"

    def send(md5: bytes) -> requests.Response:
        headers = {"Content-Type": content_type, "Content-MD5": base64.b64encode(md5).decode()}
        return requests.post(url, data=body, headers=headers, timeout=30)

    wrong = send(hashlib.md5(b"x").digest())
    assert (wrong.status_code, error(wrong)["Code"]) == (400, "InvalidDigest")
    assert stored_keys(oss_emulator, oss_bucket.name) == []
    assert send(hashlib.md5(body).digest()).status_code == 204


def test_a_policy_reused_for_many_uploads_still_expires_on_time(oss_emulator, oss_bucket):
    """A page uploads every file with the one policy it was given; the decoded policy is kept
    (``decode_policy``), its expiry is not: once the clock passes it, the same form is refused."""
    policy = policy_b64(_conditions(oss_bucket.name, []), expiration(120))
    fields = v1_fields(oss_emulator, policy)
    for name in ("a", "b"):
        assert post(oss_emulator, oss_bucket.name, [("key", name), *fields]).status_code == 204

    oss_emulator.advance_clock(121)
    response = post(oss_emulator, oss_bucket.name, [("key", "c"), *fields])

    got = error(response)
    assert (response.status_code, got["Code"], got["EC"]) == (403, "AccessDenied", "0006-00000213")
    assert stored_keys(oss_emulator, oss_bucket.name) == ["a", "b"]
