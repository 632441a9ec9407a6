"""PutSymlink / GetSymlink through oss2 and alibabacloud-oss-v2, and reads through a link:
the target's bytes under the link's type and metadata, and OSS's errors for broken links."""

from __future__ import annotations

import time

import alibabacloud_oss_v2 as oss
import oss2
import pytest

from ossemu.emulator.storage import crc64

BIG = 100 * 1024  # past the 64 KiB kept inline: the blob-file path


@pytest.mark.parametrize("size", [5, BIG], ids=["small", "big"])
def test_oss2_get_through_a_link_reads_the_target_with_the_links_metadata(oss2_bucket, size):
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    oss2_bucket.put_object("dir/target é.bin", data, headers={"Content-Type": "image/png"})
    oss2_bucket.put_symlink(
        "dir/target é.bin",
        "link",
        headers={"Content-Type": "text/plain", "x-oss-meta-role": "link"},
    )
    assert oss2_bucket.get_symlink("link").target_key == "dir/target é.bin"
    got = oss2_bucket.get_object("link")
    assert got.read() == data and got.server_crc == crc64(data)
    assert got.headers["x-oss-object-type"] == "Symlink"
    assert got.headers["Content-Type"] == "text/plain"
    assert got.headers["x-oss-meta-role"] == "link"
    assert "x-oss-symlink-target" not in got.headers  # kept with the link, not sent as meta
    assert oss2_bucket.get_object("link", byte_range=(1, 3)).read() == data[1:4]
    head = oss2_bucket.head_object("link")
    target = oss2_bucket.head_object("dir/target é.bin")
    assert head.object_type == "Symlink" and head.content_length == size
    assert head.etag == target.etag
    assert oss2_bucket.get_object_meta("link").content_length == 0


def test_oss2_last_modified_through_a_link_is_the_later_of_link_and_target(
    oss2_bucket, oss_emulator
):
    oss2_bucket.put_symlink("target", "link")
    oss_emulator.advance_clock(3600)
    oss2_bucket.put_object("target", b"late")
    head = oss2_bucket.head_object("link")
    assert head.last_modified == oss2_bucket.head_object("target").last_modified
    assert head.last_modified >= int(time.time()) + 3000


def test_oss2_a_dangling_link_is_symlink_target_not_exist(oss2_bucket):
    oss2_bucket.put_symlink("missing", "link")
    for read in (oss2_bucket.get_object, oss2_bucket.head_object):
        with pytest.raises(oss2.exceptions.ServerError) as err:
            read("link")
        assert err.value.status == 404 and err.value.code == "SymlinkTargetNotExist"
    assert oss2_bucket.get_symlink("link").target_key == "missing"
    oss2_bucket.put_object("missing", b"now here")
    assert oss2_bucket.get_object("link").read() == b"now here"


def test_oss2_a_link_to_a_link_is_invalid_target_type(oss2_bucket):
    oss2_bucket.put_object("target", b"data")
    oss2_bucket.put_symlink("target", "first")
    oss2_bucket.put_symlink("first", "second")
    with pytest.raises(oss2.exceptions.ServerError) as err:
        oss2_bucket.get_object("second")
    assert err.value.status == 400 and err.value.code == "InvalidTargetType"


def test_oss2_get_symlink_of_a_plain_object_is_not_symlink_and_of_nothing_no_such_key(
    oss2_bucket,
):
    oss2_bucket.put_object("plain", b"data")
    with pytest.raises(oss2.exceptions.ServerError) as err:
        oss2_bucket.get_symlink("plain")
    assert err.value.status == 400 and err.value.code == "NotSymlink"
    with pytest.raises(oss2.exceptions.NoSuchKey):
        oss2_bucket.get_symlink("nothing")


def test_oss2_links_are_listed_with_their_type_and_deleted_like_objects(oss2_bucket):
    oss2_bucket.put_object("target", b"data")
    oss2_bucket.put_symlink("target", "link")
    listed = {o.key: o.type for o in oss2_bucket.list_objects().object_list}
    assert listed == {"link": "Symlink", "target": "Normal"}
    oss2_bucket.delete_object("link")
    assert oss2_bucket.get_object("target").read() == b"data"
    assert not oss2_bucket.object_exists("link")


def test_oss2_put_symlink_with_forbid_overwrite_keeps_the_object(oss2_bucket):
    oss2_bucket.put_object("taken", b"data")
    with pytest.raises(oss2.exceptions.ServerError) as err:
        oss2_bucket.put_symlink("other", "taken", headers={"x-oss-forbid-overwrite": "true"})
    assert err.value.status == 409 and err.value.code == "FileAlreadyExists"
    assert oss2_bucket.get_object("taken").read() == b"data"


def test_v2_put_symlink_get_symlink_and_a_read_through_it(v2_client):
    client, bucket = v2_client
    client.put_object(oss.PutObjectRequest(bucket=bucket, key="target.txt", body=b"hello"))
    client.put_symlink(
        oss.PutSymlinkRequest(
            bucket=bucket, key="link", symlink_target="target.txt", metadata={"who": "v2"}
        )
    )
    result = client.get_symlink(oss.GetSymlinkRequest(bucket=bucket, key="link"))
    assert result.target == "target.txt" and result.metadata == {"who": "v2"}
    got = client.get_object(oss.GetObjectRequest(bucket=bucket, key="link"))
    assert got.body.read() == b"hello" and got.object_type == "Symlink"
    client.delete_object(oss.DeleteObjectRequest(bucket=bucket, key="target.txt"))
    with pytest.raises(oss.exceptions.OperationError) as err:
        client.get_object(oss.GetObjectRequest(bucket=bucket, key="link"))
    assert err.value.unwrap().code == "SymlinkTargetNotExist"
