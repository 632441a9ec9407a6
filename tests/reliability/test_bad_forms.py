"""Bad form uploads from hypothesis: any fields, policy, signature and body bytes.

Whatever is generated gets a whole answer (the file stored under the form's key) or OSS's error
with a 4xx status, never a 500, and a refused form stores nothing. The sandbox checks at
teardown that nothing landed outside the data dir (keys here include ``../`` and the like).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid

from hypothesis import given
from hypothesis import strategies as st

from tests.reliability.helpers import BUCKET, EXAMPLES, KEY_ID, SECRET, key_text
from tests.support import form_body

_names = st.sampled_from(
    [
        "key",
        "KEY",
        "success_action_status",
        "success_action_redirect",
        "Content-Type",
        "Cache-Control",
        "Expires",
        "x-oss-meta-a",
        "x-oss-meta-a b",
        "x-oss-forbid-overwrite",
        "x-oss-object-acl",
        "x:var",
        "callback",
        "x-oss-security-token",
        "policy",
        "Signature",
        "file",
        "",
    ]
)
_values = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
    st.sampled_from(["200", "201", "204", "true", "public-read", "http://x/y", "../..", "\r\n"]),
)
_conditions = st.lists(
    st.one_of(
        st.dictionaries(st.sampled_from(["bucket", "key", "x-oss-meta-a"]), _values, max_size=2),
        st.tuples(
            st.sampled_from(["eq", "starts-with", "in", "not-in", "ends-with", "EQ"]),
            st.sampled_from(["$key", "key", "$content-type", "$x:var", "$bucket", 5]),
            st.one_of(_values, st.lists(_values, max_size=2), st.integers()),
        ).map(list),
        st.tuples(
            st.just("content-length-range"),
            st.one_of(st.integers(-2, 20), st.text(max_size=3)),
            st.one_of(st.integers(-2, 20), st.text(max_size=3)),
        ).map(list),
        st.integers(),
    ),
    max_size=4,
)
_expiration = st.sampled_from(
    ["2099-01-01T00:00:00.000Z", "2000-01-01T00:00:00Z", "tomorrow", "2099-02-30T00:00:00Z"]
)


def _signed(policy: str, good: bool) -> list[tuple[str, str]]:
    secret = SECRET if good else "not-" + SECRET
    digest = hmac.new(secret.encode(), policy.encode(), hashlib.sha1).digest()
    return [
        ("OSSAccessKeyId", KEY_ID),
        ("policy", policy),
        ("Signature", base64.b64encode(digest).decode()),
    ]


def _post(emulator, body: bytes, content_type: str):
    return emulator.request(
        "POST", BUCKET, None, headers={"Content-Type": content_type}, body=body, sign=False
    )


def _keys(emulator, prefix: str) -> list[str]:
    listed = emulator.request("GET", BUCKET, None, params=[("prefix", prefix)])
    assert listed.status == 200, listed.body[:200]
    return [k.decode() for k in re.findall(rb"<Key>([^<]*)</Key>", listed.body)]


def _check(emulator, response, prefix: str, key: str, file: bytes) -> None:
    assert response.status < 500, response.body[:300]
    stored = _keys(emulator, prefix)
    if response.status < 300 or response.status == 303:
        got = emulator.request("GET", BUCKET, key)
        assert (got.status, got.body) == (200, file)
    else:
        assert b"<Code>" in response.body and b"<RequestId>" in response.body
        assert stored == [], (response.status, response.body[:300])


@EXAMPLES
@given(
    fields=st.lists(st.tuples(_names, _values), max_size=6),
    conditions=st.one_of(st.just([{"bucket": BUCKET}]), _conditions),
    expiration=_expiration,
    good_signature=st.booleans(),
    key=key_text,
    file=st.binary(max_size=300),
    filename=st.one_of(
        st.none(), key_text.filter(lambda t: '"' not in t and "\r" not in t and "\n" not in t)
    ),
)
def test_any_signed_form_is_stored_whole_or_refused_with_nothing_stored(
    emulator, fields, conditions, expiration, good_signature, key, file, filename
):
    prefix = f"form/{uuid.uuid4().hex}/"
    document = {"expiration": expiration, "conditions": conditions}
    policy = base64.b64encode(json.dumps(document).encode()).decode()
    form = [("key", prefix + key), *fields, *_signed(policy, good_signature)]
    body, content_type = form_body(form, file, filename=filename)

    response = _post(emulator, body, content_type)

    stored_key = (prefix + key).replace("${filename}", filename or "")
    _check(emulator, response, prefix, stored_key, file)


@EXAMPLES
@given(
    cut=st.integers(0, 400),
    flips=st.lists(st.tuples(st.integers(0, 400), st.binary(min_size=1, max_size=3)), max_size=3),
)
def test_any_damaged_form_body_gets_an_oss_error_or_works(emulator, cut, flips):
    prefix = f"form/{uuid.uuid4().hex}/"
    policy = base64.b64encode(
        json.dumps(
            {"expiration": "2099-01-01T00:00:00Z", "conditions": [{"bucket": BUCKET}]}
        ).encode()
    ).decode()
    body, content_type = form_body([("key", prefix + "k"), *_signed(policy, True)], b"file-bytes")
    damaged = bytearray(body[: len(body) - cut] if cut < len(body) else b"")
    for at, data in flips:
        if damaged:
            position = at % len(damaged)
            damaged[position : position + len(data)] = data

    response = _post(emulator, bytes(damaged), content_type)

    assert response.status < 500, response.body[:300]
    if response.status >= 300:
        assert _keys(emulator, prefix) == []
