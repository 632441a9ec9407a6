"""PostObject with hand-built forms that OSS accepts: V1 and V4, every kind of answer.

The forms are built and signed in ``post_form_http.py`` with hmac, independently of our SDK.
"""

from __future__ import annotations

import base64
import hashlib
import json
from xml.etree import ElementTree

import requests

from tests.e2e.post_form_http import (
    policy_b64,
    post,
    signed,
    v1_fields,
    v4_fields,
)
from tests.support import form_body


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


def test_post_object_redirect_to_a_unicode_url_is_percent_encoded(oss_emulator, oss_bucket):
    fields = [
        ("key", "u.txt"),
        ("success_action_redirect", "https://app.example/é ok"),
        *signed(oss_emulator, oss_bucket.name),
    ]

    response = post(oss_emulator, oss_bucket.name, fields, b"u")

    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://app.example/%C3%A9%20ok?bucket=")
