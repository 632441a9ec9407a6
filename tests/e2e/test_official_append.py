"""AppendObject through oss2 and alibabacloud-oss-v2: positions, the chained CRC-64, and the
rules for appendable versus normal objects, each refusal with OSS's status, Code and EC."""

from __future__ import annotations

import base64
import hashlib
import random

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests

from ossemu.emulator.storage import crc64

BIG = 100 * 1024  # past the 64 KiB kept inline: the blob-file path


@pytest.mark.parametrize("sizes", [(3, 5, 0, 7), (BIG, 17, BIG + 1)], ids=["small", "big"])
def test_oss2_appends_grow_an_appendable_object_with_a_chained_crc(oss2_bucket, sizes):
    rng = random.Random(len(sizes))
    data = b""
    for size in sizes:
        piece = rng.randbytes(size)
        result = oss2_bucket.append_object("log.txt", len(data), piece, init_crc=crc64(data))
        data += piece
        assert result.next_position == len(data) and result.crc == crc64(data)
    assert oss2_bucket.get_object("log.txt").read() == data
    head = oss2_bucket.head_object("log.txt")
    assert head.object_type == "Appendable" and head.content_length == len(data)
    assert head.headers["x-oss-next-append-position"] == str(len(data))
    assert head.server_crc == crc64(data) and "Content-MD5" not in head.headers
    [listed] = oss2_bucket.list_objects().object_list
    assert listed.type == "Appendable" and listed.size == len(data)


def test_oss2_append_at_the_wrong_position_is_position_not_equal_to_length(oss2_bucket):
    oss2_bucket.append_object("a", 0, b"hello")
    for position in (0, 4, 6):
        with pytest.raises(oss2.exceptions.PositionNotEqualToLength) as err:
            oss2_bucket.append_object("a", position, b"!")
        assert err.value.status == 409 and err.value.ec == "0026-00000016"
        assert err.value.headers["x-oss-next-append-position"] == "5"
    assert oss2_bucket.get_object("a").read() == b"hello"


def test_oss2_append_to_a_normal_object_is_object_not_appendable(oss2_bucket):
    oss2_bucket.put_object("normal", b"data")
    for position in (0, 4):
        with pytest.raises(oss2.exceptions.ObjectNotAppendable) as err:
            oss2_bucket.append_object("normal", position, b"more")
        assert err.value.status == 409 and err.value.ec == "0026-00000017"
    head = oss2_bucket.head_object("normal")
    assert head.object_type == "Normal" and "x-oss-next-append-position" not in head.headers


def test_oss2_put_object_replaces_an_appendable_object_with_a_normal_one(oss2_bucket):
    oss2_bucket.append_object("a", 0, b"appended")
    oss2_bucket.put_object("a", b"whole")
    assert oss2_bucket.head_object("a").object_type == "Normal"
    with pytest.raises(oss2.exceptions.ObjectNotAppendable):
        oss2_bucket.append_object("a", 5, b"!")


def test_oss2_first_append_keeps_its_headers_and_later_ones_do_not_change_them(oss2_bucket):
    oss2_bucket.append_object(
        "a", 0, b"one", headers={"Content-Type": "text/plain", "x-oss-meta-who": "first"}
    )
    oss2_bucket.append_object(
        "a", 3, b"two", headers={"Content-Type": "image/png", "x-oss-meta-who": "second"}
    )
    head = oss2_bucket.head_object("a")
    assert head.content_type == "text/plain" and head.headers["x-oss-meta-who"] == "first"


def test_oss2_append_with_a_wrong_content_md5_is_invalid_digest_and_appends_nothing(oss2_bucket):
    oss2_bucket.append_object("a", 0, b"keep")
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(oss2.exceptions.InvalidDigest):
        oss2_bucket.append_object("a", 4, b"lost", headers={"Content-MD5": wrong})
    right = base64.b64encode(hashlib.md5(b"more").digest()).decode()
    oss2_bucket.append_object("a", 4, b"more", headers={"Content-MD5": right})
    assert oss2_bucket.get_object("a").read() == b"keepmore"


def test_v2_append_object_and_its_refusals(v2_client):
    client, bucket = v2_client
    first = client.append_object(
        oss.AppendObjectRequest(bucket=bucket, key="v2.log", position=0, body=b"abc")
    )
    assert first.next_position == 3 and first.hash_crc64 == str(crc64(b"abc"))
    second = client.append_object(
        oss.AppendObjectRequest(bucket=bucket, key="v2.log", position=3, body=b"def")
    )
    assert second.next_position == 6 and second.hash_crc64 == str(crc64(b"abcdef"))
    with pytest.raises(oss.exceptions.OperationError) as err:
        client.append_object(
            oss.AppendObjectRequest(bucket=bucket, key="v2.log", position=2, body=b"x")
        )
    assert err.value.unwrap().code == "PositionNotEqualToLength"
    head = client.head_object(oss.HeadObjectRequest(bucket=bucket, key="v2.log"))
    assert head.object_type == "Appendable" and head.next_append_position == 6


def test_v2_append_file_writes_through_appends(v2_client):
    client, bucket = v2_client
    with client.append_file(bucket, "file.log") as f:
        f.write(b"line 1\n")
        f.write(b"line 2\n")
    got = client.get_object(oss.GetObjectRequest(bucket=bucket, key="file.log"))
    assert got.body.read() == b"line 1\nline 2\n"


@pytest.mark.parametrize(
    ("params", "ec"),
    [({"append": ""}, "0016-00000501"), ({"append": "", "position": "x"}, "0016-00000502")],
    ids=["missing", "not-a-number"],
)
def test_append_without_a_whole_position_is_invalid_argument(oss2_bucket, params, ec):
    """Through a URL oss2 signs, as no SDK sends these."""
    url = oss2_bucket.sign_url("POST", "a", 60, params=params)
    resp = requests.post(url, data=b"x")
    assert resp.status_code == 400 and "<Code>InvalidArgument</Code>" in resp.text
    assert resp.headers["x-oss-ec"] == ec
    assert not oss2_bucket.object_exists("a")
