"""PostObject with hand-built forms, signed here with hmac as Alibaba's samples do.

Nothing of our SDK is used: the policy JSON, its base64, the V1/V4 signatures and the
multipart body are all computed in this file, so a signing bug on either side shows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timezone
from xml.etree import ElementTree

import pytest
import requests

from tests.support import form_body


def expiration(seconds: float = 600) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + seconds))


def policy_b64(conditions: list, expires: str | None = None) -> str:
    document = {"expiration": expires or expiration(), "conditions": conditions}
    return base64.b64encode(json.dumps(document).encode()).decode()


def v1_fields(emulator, policy: str) -> list[tuple[str, str]]:
    digest = hmac.new(emulator.access_key_secret.encode(), policy.encode(), hashlib.sha1)
    return [
        ("OSSAccessKeyId", emulator.access_key_id),
        ("policy", policy),
        ("Signature", base64.b64encode(digest.digest()).decode()),
    ]


def v4_fields(emulator, conditions: list) -> list[tuple[str, str]]:
    now = datetime.now(timezone.utc)
    day, stamp = now.strftime("%Y%m%d"), now.strftime("%Y%m%dT%H%M%SZ")
    credential = f"{emulator.access_key_id}/{day}/cn-hangzhou/oss/aliyun_v4_request"
    pinned = [
        {"x-oss-signature-version": "OSS4-HMAC-SHA256"},
        {"x-oss-credential": credential},
        {"x-oss-date": stamp},
    ]
    policy = policy_b64(conditions + pinned)
    key = ("aliyun_v4" + emulator.access_key_secret).encode()
    for part in (day, "cn-hangzhou", "oss", "aliyun_v4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return [
        ("policy", policy),
        ("x-oss-signature-version", "OSS4-HMAC-SHA256"),
        ("x-oss-credential", credential),
        ("x-oss-date", stamp),
        ("x-oss-signature", hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()),
    ]


def post(emulator, bucket: str, fields, file=b"data", **kw) -> requests.Response:
    body, content_type = form_body(fields, file, **kw)
    return requests.post(
        f"{emulator.url}/{bucket}",
        data=body,
        headers={"Content-Type": content_type},
        allow_redirects=False,
        timeout=30,
    )


def error(response: requests.Response) -> dict[str, str]:
    return {child.tag: child.text or "" for child in ElementTree.fromstring(response.content)}


def stored_keys(emulator, bucket: str) -> list[str]:
    return [o.key for o in emulator.services.storage.list_objects(bucket).objects]


def test_post_object_v1_form_stores_the_file_and_answers_204(oss_emulator, oss_bucket):
    policy = policy_b64([{"bucket": oss_bucket.name}, ["starts-with", "$key", "user/"]])
    fields = [("key", "user/${filename}"), *v1_fields(oss_emulator, policy)]

    response = post(oss_emulator, oss_bucket.name, fields, b"hello", filename="a b.txt")

    assert response.status_code == 204, response.text
    assert response.headers["ETag"] == f'"{hashlib.md5(b"hello").hexdigest().upper()}"'
    assert oss_bucket.get_object("user/a b.txt") == b"hello"


def test_post_object_v4_form_with_in_and_not_in_answers_200(oss_emulator, oss_bucket):
    conditions = [
        {"bucket": oss_bucket.name},
        ["content-length-range", 1, 1024],
        ["eq", "$success_action_status", "200"],
        ["starts-with", "$key", "v4/"],
        ["in", "$content-type", ["image/jpg", "image/png"]],
        ["not-in", "$cache-control", ["no-cache"]],
    ]
    fields = [
        ("key", "v4/pic.png"),
        ("success_action_status", "200"),
        ("Content-Type", "image/png"),
        ("Cache-Control", "max-age=60"),
        *v4_fields(oss_emulator, conditions),
    ]

    response = post(oss_emulator, oss_bucket.name, fields, b"png!", filename=None)

    assert response.status_code == 200, response.text
    meta = oss_bucket.head_object("v4/pic.png")
    assert (meta.content_type, meta.headers["Cache-Control"]) == ("image/png", "max-age=60")


def test_post_object_field_names_are_case_insensitive(oss_emulator, oss_bucket):
    policy = policy_b64([["eq", "$KEY", "ci.txt"]])
    (ak, _, sig) = v1_fields(oss_emulator, policy)
    fields = [
        ("KEY", "ci.txt"),
        ("ossaccesskeyid", ak[1]),
        ("POLICY", policy),
        ("signature", sig[1]),
    ]

    response = post(oss_emulator, oss_bucket.name, fields)

    assert response.status_code == 204, response.text
    assert oss_bucket.get_object("ci.txt") == b"data"


def test_post_object_201_answers_post_response_xml(oss_emulator, oss_bucket):
    policy = policy_b64([{"bucket": oss_bucket.name}])
    fields = [
        ("key", "a/b.txt"),
        ("success_action_status", "201"),
        *v1_fields(oss_emulator, policy),
    ]

    response = post(oss_emulator, oss_bucket.name, fields, b"x")

    assert response.status_code == 201
    doc = ElementTree.fromstring(response.content)
    assert doc.tag == "PostResponse"
    assert [c.tag for c in doc] == ["Bucket", "Location", "Key", "ETag"]
    assert doc.findtext("Bucket") == oss_bucket.name
    assert doc.findtext("Key") == "a/b.txt"
    assert doc.findtext("Location").endswith(f"/{oss_bucket.name}/a/b.txt")
    assert doc.findtext("ETag") == f'"{hashlib.md5(b"x").hexdigest().upper()}"'


def test_post_object_redirect_answers_303_with_bucket_key_and_etag(oss_emulator, oss_bucket):
    policy = policy_b64([{"bucket": oss_bucket.name}])
    fields = [
        ("key", "r.txt"),
        ("success_action_redirect", "https://app.example/done?x=1"),
        ("success_action_status", "201"),
        *v1_fields(oss_emulator, policy),
    ]

    response = post(oss_emulator, oss_bucket.name, fields, b"r")

    etag = hashlib.md5(b"r").hexdigest().upper()
    assert response.status_code == 303
    expected = f"https://app.example/done?x=1&bucket={oss_bucket.name}&key=r.txt&etag={etag}"
    assert response.headers["Location"] == expected


def test_post_object_to_a_virtual_hosted_bucket_root(oss_emulator, oss_bucket):
    policy = policy_b64([{"bucket": oss_bucket.name}])
    body, content_type = form_body([("key", "vh.txt"), *v1_fields(oss_emulator, policy)], b"v")
    host = f"{oss_bucket.name}.localhost:{oss_emulator.port}"

    response = requests.post(
        f"{oss_emulator.url}/",
        data=body,
        headers={"Content-Type": content_type, "Host": host},
        timeout=30,
    )

    assert response.status_code == 204, response.text
    assert oss_bucket.get_object("vh.txt") == b"v"


def test_post_object_keeps_metadata_fields_and_the_object_acl(oss_emulator, oss_bucket):
    policy = policy_b64([{"bucket": oss_bucket.name}])
    fields = [
        ("key", "meta.txt"),
        ("x-oss-meta-owner", "zoë"),
        ("Content-Disposition", "attachment"),
        ("Content-Encoding", "identity"),
        ("Expires", "Thu, 01 Jan 2037 00:00:00 GMT"),
        ("x-oss-object-acl", "public-read"),
        *v1_fields(oss_emulator, policy),
    ]

    assert post(oss_emulator, oss_bucket.name, fields).status_code == 204

    got = requests.get(oss_bucket.sign_url("GET", "meta.txt"), timeout=30)
    assert got.headers["x-oss-meta-owner"].encode("latin-1").decode() == "zoë"
    assert got.headers["Content-Disposition"] == "attachment"
    assert got.headers["Expires"] == "Thu, 01 Jan 2037 00:00:00 GMT"
    assert "x-oss-object-acl" not in got.headers
    assert oss_emulator.services.storage.head_object(oss_bucket.name, "meta.txt").acl == (
        "public-read"
    )


def test_post_object_callback_with_x_fields(oss_emulator, oss_bucket, callback_receiver):
    callback = base64.b64encode(
        json.dumps(
            {"callbackUrl": callback_receiver.url, "callbackBody": "o=${object}&v=${x:v}"}
        ).encode()
    ).decode()
    policy = policy_b64([{"bucket": oss_bucket.name}, {"callback": callback}])
    fields = [
        ("key", "cb.txt"),
        ("callback", callback),
        ("x:v", "7"),
        *v1_fields(oss_emulator, policy),
    ]

    response = post(oss_emulator, oss_bucket.name, fields)

    assert (response.status_code, response.json()) == (200, {"Status": "OK"})
    (got,) = callback_receiver.wait_for(1)
    assert got.form == {"o": "cb.txt", "v": "7"} and got.verified


# -- refusals: OSS's status, Code, EC, and nothing stored ---------------------------------------

BUCKET_OK = "__bucket__"


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


def _signed(emulator, bucket: str) -> list[tuple[str, str]]:
    return v1_fields(emulator, policy_b64([{"bucket": bucket}]))


def _without(fields: list[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in fields if k != name]


def _replace(fields: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [(k, value if k == name else v) for k, v in fields]


REFUSED_FORMS = {
    # why: (form from (emulator, bucket), status, code, ec)
    "forged signature": (
        lambda e, b: [
            ("key", "k"),
            *_replace(_signed(e, b), "Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        ],
        403,
        "SignatureDoesNotMatch",
        "0002-00000705",
    ),
    "unknown access key": (
        lambda e, b: [("key", "k"), *_replace(_signed(e, b), "OSSAccessKeyId", "nobody")],
        403,
        "InvalidAccessKeyId",
        "0002-00000902",
    ),
    "no policy": (
        lambda e, b: [("key", "k"), *_without(_signed(e, b), "policy")],
        400,
        "InvalidArgument",
        "0002-00000702",
    ),
    "no Signature": (
        lambda e, b: [("key", "k"), *_without(_signed(e, b), "Signature")],
        400,
        "InvalidArgument",
        "0002-00000703",
    ),
    "empty Signature": (
        lambda e, b: [("key", "k"), *_replace(_signed(e, b), "Signature", "")],
        400,
        "InvalidArgument",
        "0002-00000704",
    ),
    "no OSSAccessKeyId": (
        lambda e, b: [("key", "k"), *_without(_signed(e, b), "OSSAccessKeyId")],
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
            *_replace(v4_fields(e, [{"bucket": b}]), "x-oss-credential", "ak/bad"),
        ],
        400,
        "InvalidArgument",
        "0002-00000710",
    ),
    "V4 signature forged": (
        lambda e, b: [
            ("key", "k"),
            *_replace(v4_fields(e, [{"bucket": b}]), "x-oss-signature", "0" * 64),
        ],
        403,
        "SignatureDoesNotMatch",
        "0002-00000705",
    ),
    "OSS2 form": (
        lambda e, b: [
            ("key", "k"),
            *_replace(v4_fields(e, [{"bucket": b}]), "x-oss-signature-version", "OSS2"),
        ],
        400,
        "InvalidArgument",
        "0002-00000701",
    ),
    "no key": (lambda e, b: _signed(e, b), 400, "InvalidArgument", "0017-00000001"),
    "anonymous to a private bucket": (
        lambda e, b: [("key", "k")],
        403,
        "AccessDenied",
        "0003-00000001",
    ),
    "security token": (
        lambda e, b: [("key", "k"), ("x-oss-security-token", "CAIS-token"), *_signed(e, b)],
        403,
        "InvalidAccessKeyId",
        "0002-00000902",
    ),
    "bad object acl": (
        lambda e, b: [("key", "k"), ("x-oss-object-acl", "everyone"), *_signed(e, b)],
        400,
        "InvalidArgument",
        "0017-00000001",
    ),
    "CR in a metadata field": (
        lambda e, b: [("key", "k"), ("x-oss-meta-a", "1\r\nX: y"), *_signed(e, b)],
        400,
        "InvalidArgument",
        "0017-00000001",
    ),
    "bad metadata name": (
        lambda e, b: [("key", "k"), ("x-oss-meta-a b", "1"), *_signed(e, b)],
        400,
        "InvalidArgument",
        "0017-00000001",
    ),
    "bad callback": (
        lambda e, b: [("key", "k"), ("callback", "%%%"), *_signed(e, b)],
        400,
        "InvalidArgument",
        "0007-00000002",
    ),
    "key not a valid name": (
        lambda e, b: [("key", "/k"), *_signed(e, b)],
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
    fields = [("key", "k"), *_signed(oss_emulator, oss_bucket.name)]

    response = post(oss_emulator, oss_bucket.name, fields, b"one", after=[("file", "two")])

    assert (response.status_code, error(response)["Code"]) == (
        400,
        "IncorrectNumberOfFilesInPOSTRequest",
    )
    assert stored_keys(oss_emulator, oss_bucket.name) == []


def test_post_object_ignores_fields_after_the_file(oss_emulator, oss_bucket):
    fields = [("key", "k"), *_signed(oss_emulator, oss_bucket.name)]

    response = post(oss_emulator, oss_bucket.name, fields, b"one", after=[("submit", "Upload")])

    assert response.status_code == 204
    assert oss_bucket.get_object("k") == b"one"


def test_post_object_key_after_the_file_is_missing(oss_emulator, oss_bucket):
    fields = _signed(oss_emulator, oss_bucket.name)

    response = post(oss_emulator, oss_bucket.name, fields, b"one", after=[("key", "k")])

    assert (response.status_code, error(response)["Code"]) == (400, "InvalidArgument")
    assert "check the order of the fields" in error(response)["Message"]


def test_post_object_without_a_file_is_malformed(oss_emulator, oss_bucket):
    fields = [("key", "k"), *_signed(oss_emulator, oss_bucket.name)]

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
    body, content_type = form_body([("key", "k"), *_signed(oss_emulator, oss_bucket.name)], b"abc")

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
    fields = [("key", "k"), ("x" * 9000, "v"), *_signed(oss_emulator, oss_bucket.name)]

    response = post(oss_emulator, oss_bucket.name, fields)

    got = error(response)
    assert (response.status_code, got["Code"], got["EC"]) == (
        400,
        "FieldItemTooLong",
        "0006-00000110",
    )


def test_post_object_fields_over_8_mib_before_the_file_are_refused(oss_emulator, oss_bucket):
    filler = [(f"x-filler-{i}", "v" * (2 * 1024 * 1024 - 100)) for i in range(5)]
    fields = [("key", "k"), *filler, *_signed(oss_emulator, oss_bucket.name)]

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
        *_signed(oss_emulator, oss_bucket.name),
    ]

    response = post(oss_emulator, oss_bucket.name, fields, b"new")

    assert (response.status_code, error(response)["Code"]) == (409, "FileAlreadyExists")
    assert oss_bucket.get_object("k") == b"old"


def test_post_object_content_md5_is_of_the_whole_body(oss_emulator, oss_bucket):
    body, content_type = form_body([("key", "k"), *_signed(oss_emulator, oss_bucket.name)], b"x")
    url = f"{oss_emulator.url}/{oss_bucket.name}"

    def send(md5: bytes) -> requests.Response:
        headers = {"Content-Type": content_type, "Content-MD5": base64.b64encode(md5).decode()}
        return requests.post(url, data=body, headers=headers, timeout=30)

    wrong = send(hashlib.md5(b"x").digest())
    assert (wrong.status_code, error(wrong)["Code"]) == (400, "InvalidDigest")
    assert stored_keys(oss_emulator, oss_bucket.name) == []
    assert send(hashlib.md5(body).digest()).status_code == 204


def test_post_object_redirect_to_a_unicode_url_is_percent_encoded(oss_emulator, oss_bucket):
    fields = [
        ("key", "u.txt"),
        ("success_action_redirect", "https://app.example/é ok"),
        *_signed(oss_emulator, oss_bucket.name),
    ]

    response = post(oss_emulator, oss_bucket.name, fields, b"u")

    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://app.example/%C3%A9%20ok?bucket=")
