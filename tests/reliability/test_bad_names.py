"""Bad object keys and bucket names, sent as raw signed HTTP to a live emulator.

A bad name gets OSS's error with the right status and stores nothing; an odd but valid key
round-trips and never becomes a path. The not-UTF-8 cases run against both servers, since each
HTTP server decodes the raw request line its own way.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import pytest

from tests.reliability.helpers import BUCKET, assert_error

# -- object keys ---------------------------------------------------------------------------------

BAD_KEYS = {
    "absolute": "/etc/passwd",
    "backslash": "\\windows",
    "1024 bytes": "k" * 1024,
    "1026 bytes of 3-byte characters": "\u20ac" * 342,
}


@pytest.mark.parametrize("key", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_invalid_object_names_are_refused_and_store_nothing(emulator, key):
    assert_error(emulator.request("PUT", BUCKET, key, body=b"x"), 400, "InvalidObjectName")
    assert_error(emulator.request("GET", BUCKET, key), 404, "NoSuchKey")


GOOD_KEYS = {
    "traversal": "../../../escaped",
    "dot segments": "a/./b/../c",
    "only dots": "..",
    "1023 bytes": "k" * 1023,
    "1023 bytes of 3-byte characters": "\u20ac" * 341,
    "emoji": "\U0001f600/\U0001f4a9",
    "U+FFFE": "x\ufffe",
    "double slash": "a//b",
    "trailing slash": "dir/",
    # OSS's naming rule is UTF-8, 1-1023 bytes, no leading / or \\: control characters pass.
    "NUL": "a\x00b",
    "control": "a\x01b",
    "DEL": "a\x7fb",
    "CR LF": "a\r\nX-Injected: 1",
    "LF": "a\nb",
}


@pytest.mark.parametrize("key", GOOD_KEYS.values(), ids=GOOD_KEYS.keys())
def test_odd_but_valid_keys_round_trip_and_stay_inside_the_data_dir(emulator, key):
    body = hashlib.sha256(key.encode()).digest()
    assert emulator.request("PUT", BUCKET, key, body=body).status == 200
    got = emulator.request("GET", BUCKET, key)
    assert (got.status, got.body) == (200, body)
    assert not list(emulator.root.parent.rglob("escaped")), "a key became a path"


@pytest.mark.parametrize("key", ["a\x0cb", "a\x01b", "line\r\nX-Injected: 1"])
def test_keys_with_control_characters_round_trip_and_list_under_both_servers(server, key):
    assert server.request("PUT", BUCKET, key, body=b"ctl").status == 200
    got = server.request("GET", BUCKET, key)
    assert (got.status, got.body) == (200, b"ctl") and "x-injected" not in got.headers
    encoded = server.request(
        "GET", BUCKET, None, params=[("prefix", key[:2]), ("encoding-type", "url")]
    )
    assert f"<Key>{quote(key, safe='/')}</Key>".encode() in encoded.body
    plain = server.request("GET", BUCKET, None, params=[("prefix", key[:2])]).body
    refs = "".join(c if c >= " " or c in "\t\n" else f"&#x{ord(c):X};" for c in key)
    assert f"<Key>{refs}</Key>".encode() in plain
    assert server.request("DELETE", BUCKET, key).status == 204


def test_unicode_normal_forms_are_different_keys(emulator):
    nfc, nfd = "caf\u00e9-nf", "cafe\u0301-nf"
    assert emulator.request("PUT", BUCKET, nfc, body=b"composed").status == 200
    assert emulator.request("PUT", BUCKET, nfd, body=b"decomposed").status == 200
    assert emulator.request("GET", BUCKET, nfc).body == b"composed"
    assert emulator.request("GET", BUCKET, nfd).body == b"decomposed"
    listing = emulator.request("GET", BUCKET, None, params=[("prefix", "caf")]).body
    assert listing.count(b"<Key>") == 2


@pytest.mark.parametrize("method", ["PUT", "GET", "HEAD", "DELETE"])
def test_a_key_that_is_not_utf8_is_an_invalid_object_name(server, method):
    # OSS error centre 0016-00000004. The WSGI servers would decode %FF as U+FFFD, a different
    # and valid name, so the raw bytes are checked.
    sent = server.request(method, BUCKET, "x", body=b"x", raw_target=f"/{BUCKET}/a%FFb")
    if method == "HEAD":
        assert sent.status == 400 and "InvalidObjectName" in sent.code
    else:
        assert_error(sent, 400, "InvalidObjectName")
        assert b"<EC>0016-00000004</EC>" in sent.body
    assert server.request("GET", BUCKET, "a\ufffdb").status == 404
    listing = server.request("GET", BUCKET, None, params=[("prefix", "a")]).body
    assert b"<Key>a" not in listing


def test_a_bucket_name_that_is_not_utf8_is_invalid(server):
    assert_error(server.request("PUT", "x", None, raw_target="/b%FFb"), 400, "InvalidBucketName")


# -- bucket names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["ab", "a" * 64, "Upper", "-dash", "dash-", "under_score", "a..b", "a.b", "b\x00b"]
)
def test_invalid_bucket_names(emulator, name):
    assert_error(emulator.request("PUT", name, None), 400, "InvalidBucketName")


def test_control_characters_in_a_bucket_name_are_invalid(emulator):
    assert_error(emulator.request("PUT", "b\nb", None), 400, "InvalidBucketName")
