"""UploadPartCopy through oss2 and alibabacloud-oss-v2: parts cut from ranges of existing objects
(whole, ranged, from another bucket, through a link), the copy-source conditions, and errors."""

from __future__ import annotations

import hashlib
import random

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from oss2.models import PartInfo

from ossemu.emulator.storage import crc64

PART = 100 * 1024
DATA = random.Random(3).randbytes(2 * PART + 1234)


def test_oss2_a_multipart_object_made_of_copied_ranges_is_byte_exact(oss2_bucket):
    b = oss2_bucket
    b.put_object("source.bin", DATA)
    upload_id = b.init_multipart_upload("copy.bin").upload_id
    ranges = [(0, PART - 1), (PART, 2 * PART - 1), (2 * PART, len(DATA) - 1)]
    parts = []
    for number, (start, end) in enumerate(ranges, 1):
        result = b.upload_part_copy(
            b.bucket_name, "source.bin", (start, end), "copy.bin", upload_id, number
        )
        assert result.etag == hashlib.md5(DATA[start : end + 1]).hexdigest().upper()
        parts.append(PartInfo(number, result.etag))
    listed = b.list_parts("copy.bin", upload_id).parts
    assert [p.size for p in listed] == [PART, PART, 1234]
    b.complete_multipart_upload("copy.bin", upload_id, parts)
    got = b.get_object("copy.bin")
    assert got.read() == DATA and got.server_crc == crc64(DATA)


def test_oss2_part_copy_without_a_range_copies_the_whole_source_from_another_bucket(
    oss2_bucket,
):
    other = oss2.Bucket(
        oss2_bucket.auth,
        oss2_bucket.endpoint,
        oss2_bucket.bucket_name + "-src",
        region="cn-hangzhou",
    )
    other.create_bucket()
    try:
        other.put_object("dir/src é", b"whole source")
        upload_id = oss2_bucket.init_multipart_upload("t").upload_id
        result = oss2_bucket.upload_part_copy(
            other.bucket_name, "dir/src é", None, "t", upload_id, 1
        )
        oss2_bucket.complete_multipart_upload("t", upload_id, [PartInfo(1, result.etag)])
        assert oss2_bucket.get_object("t").read() == b"whole source"
    finally:
        other.delete_object("dir/src é")
        other.delete_bucket()


def test_oss2_part_copy_reads_through_a_symlink(oss2_bucket):
    oss2_bucket.put_object("target", b"linked bytes")
    oss2_bucket.put_symlink("target", "link")
    upload_id = oss2_bucket.init_multipart_upload("t").upload_id
    result = oss2_bucket.upload_part_copy(
        oss2_bucket.bucket_name, "link", (0, 5), "t", upload_id, 1
    )
    assert result.etag == hashlib.md5(b"linked").hexdigest().upper()


def test_oss2_part_copy_conditions_412_and_304(oss2_bucket):
    oss2_bucket.put_object("s", b"source")
    upload_id = oss2_bucket.init_multipart_upload("t").upload_id
    source_etag = oss2_bucket.head_object("s").etag

    def copy(header: str, value: str):
        return oss2_bucket.upload_part_copy(
            oss2_bucket.bucket_name, "s", None, "t", upload_id, 1, headers={header: value}
        )

    with pytest.raises(oss2.exceptions.PreconditionFailed) as err:
        copy("x-oss-copy-source-if-match", '"0123"')
    assert err.value.status == 412
    with pytest.raises(oss2.exceptions.NotModified):
        copy("x-oss-copy-source-if-none-match", f'"{source_etag}"')
    assert oss2_bucket.list_parts("t", upload_id).parts == []
    assert copy("x-oss-copy-source-if-match", f'"{source_etag}"').status == 200


def test_oss2_part_copy_errors_name_the_missing_thing(oss2_bucket):
    oss2_bucket.put_object("s", b"source")
    upload_id = oss2_bucket.init_multipart_upload("t").upload_id
    name = oss2_bucket.bucket_name
    with pytest.raises(oss2.exceptions.NoSuchKey):
        oss2_bucket.upload_part_copy(name, "missing", None, "t", upload_id, 1)
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        oss2_bucket.upload_part_copy(name + "-none", "s", None, "t", upload_id, 1)
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        oss2_bucket.upload_part_copy(name, "s", None, "t", "0" * 32, 1)
    with pytest.raises(oss2.exceptions.ServerError) as err:
        oss2_bucket.upload_part_copy(name, "s", (10, 20), "t", upload_id, 1)
    assert err.value.status == 416 and err.value.code == "InvalidRange"
    with pytest.raises(oss2.exceptions.InvalidArgument):
        oss2_bucket.upload_part_copy(name, "s", None, "t", upload_id, 10001)


def test_v2_upload_part_copy_and_complete(v2_client):
    client, bucket = v2_client
    client.put_object(oss.PutObjectRequest(bucket=bucket, key="src", body=DATA))
    upload_id = client.initiate_multipart_upload(
        oss.InitiateMultipartUploadRequest(bucket=bucket, key="dst")
    ).upload_id
    result = client.upload_part_copy(
        oss.UploadPartCopyRequest(
            bucket=bucket,
            key="dst",
            upload_id=upload_id,
            part_number=1,
            source_bucket=bucket,
            source_key="src",
            source_range=f"bytes=0-{PART - 1}",
        )
    )
    assert result.etag.strip('"') == hashlib.md5(DATA[:PART]).hexdigest().upper()
    assert result.last_modified is not None
    with pytest.raises(oss.exceptions.OperationError) as err:
        client.upload_part_copy(
            oss.UploadPartCopyRequest(
                bucket=bucket,
                key="dst",
                upload_id=upload_id,
                part_number=2,
                source_bucket=bucket,
                source_key="src",
                if_match='"not-it"',
            )
        )
    assert err.value.unwrap().code == "PreconditionFailed"
    client.complete_multipart_upload(
        oss.CompleteMultipartUploadRequest(
            bucket=bucket,
            key="dst",
            upload_id=upload_id,
            complete_multipart_upload=oss.CompleteMultipartUpload(
                parts=[oss.UploadPart(part_number=1, etag=result.etag)]
            ),
        )
    )
    got = client.get_object(oss.GetObjectRequest(bucket=bucket, key="dst"))
    assert got.body.read() == DATA[:PART]
