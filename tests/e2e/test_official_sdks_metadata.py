"""What the official SDKs read back about objects: Content-Type, Content-Language, CopyObject's
metadata and source conditions, GetBucketInfo, and the answers of UploadPart and ListParts."""

from __future__ import annotations

import base64
import hashlib

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ossemu.emulator.protocol.http import http_date
from tests.e2e.sdk_clients import oss2_bucket_on, v2_bucket_on

PART = 100 * 1024


@pytest.fixture
def bucket(oss_emulator):
    with oss2_bucket_on(oss_emulator) as b:
        yield b


@pytest.fixture
def v2(oss_emulator):
    with v2_bucket_on(oss_emulator) as pair:
        yield pair


def test_presigned_put_without_content_type_stores_octet_stream_not_a_guess(bucket):
    url = bucket.sign_url("PUT", "photo.jpg", 60)
    assert bucket.put_object_with_url(url, b"\xff\xd8not really").status == 200
    assert bucket.head_object("photo.jpg").content_type == "application/octet-stream"
    headers = {"Content-Type": "image/jpeg"}
    url = bucket.sign_url("PUT", "photo.jpg", 60, headers=headers)
    bucket.put_object_with_url(url, b"\xff\xd8", headers=headers)
    assert bucket.head_object("photo.jpg").content_type == "image/jpeg"


def test_content_language_is_stored_and_returned(bucket):
    bucket.put_object("hello.txt", b"hi", headers={"Content-Language": "zh-CN"})
    assert bucket.head_object("hello.txt").headers["Content-Language"] == "zh-CN"
    got = bucket.get_object("hello.txt")
    assert got.read() == b"hi" and got.headers["Content-Language"] == "zh-CN"


def test_copy_with_replace_and_no_content_type_keeps_the_source_type(v2):
    client, name = v2
    client.put_object(
        oss.PutObjectRequest(
            bucket=name, key="src", body=b"x", content_type="text/csv", metadata={"a": "1"}
        )
    )
    client.copy_object(
        oss.CopyObjectRequest(
            bucket=name,
            key="dst",
            source_key="src",
            metadata_directive="REPLACE",
            metadata={"b": "2"},
        )
    )
    head = client.head_object(oss.HeadObjectRequest(bucket=name, key="dst"))
    assert head.content_type == "text/csv" and head.metadata == {"b": "2"}


def test_copy_honours_the_copy_source_conditions(v2):
    client, name = v2
    put = client.put_object(oss.PutObjectRequest(bucket=name, key="src", body=b"payload"))
    head = client.head_object(oss.HeadObjectRequest(bucket=name, key="src"))
    modified = head.headers["Last-Modified"]
    before = http_date(0)

    def copy(**conditions):
        return client.copy_object(
            oss.CopyObjectRequest(bucket=name, key="dst", source_key="src", **conditions)
        )

    for refused, status in [
        ({"if_match": '"0123"'}, 412),
        ({"if_unmodified_since": before}, 412),
        ({"if_none_match": put.etag}, 304),
        ({"if_modified_since": modified}, 304),
    ]:
        with pytest.raises(oss.exceptions.OperationError) as e:
            copy(**refused)
        assert e.value.unwrap().status_code == status, refused
    with pytest.raises(oss.exceptions.OperationError):
        client.head_object(oss.HeadObjectRequest(bucket=name, key="dst"))
    for accepted in [
        {"if_match": put.etag},
        {"if_none_match": '"0123"'},
        {"if_modified_since": before},
        {"if_unmodified_since": modified},
    ]:
        assert copy(**accepted).status_code == 200, accepted


def test_oss2_copy_with_a_failed_if_match_is_precondition_failed(bucket):
    bucket.put_object("src", b"payload")
    with pytest.raises(oss2.exceptions.PreconditionFailed):
        bucket.copy_object(
            bucket.bucket_name, "src", "dst", headers={"x-oss-copy-source-if-match": '"00"'}
        )


def test_bucket_info_says_block_public_access_is_off(v2):
    client, name = v2
    info = client.get_bucket_info(oss.GetBucketInfoRequest(bucket=name)).bucket_info
    assert info.block_public_access is False


def test_upload_part_answers_content_md5_and_list_parts_the_storage_class(v2):
    client, name = v2
    init = client.initiate_multipart_upload(
        oss.InitiateMultipartUploadRequest(bucket=name, key="big")
    )
    body = b"p" * PART
    part = client.upload_part(
        oss.UploadPartRequest(
            bucket=name, key="big", upload_id=init.upload_id, part_number=1, body=body
        )
    )
    assert part.content_md5 == base64.b64encode(hashlib.md5(body).digest()).decode()
    listed = client.list_parts(
        oss.ListPartsRequest(bucket=name, key="big", upload_id=init.upload_id)
    )
    assert listed.storage_class == "Standard" and listed.client_encryption_key is None


def _rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return public, private


def test_v2_client_side_encryption_resumes_from_list_parts(v2):
    client, name = v2
    public, private = _rsa_pair()
    master = oss.crypto.MasterRsaCipher(
        mat_desc={"tag": "value"}, public_key=public, private_key=private
    )
    eclient = oss.EncryptionClient(client, master)
    data = bytes(range(256)) * 1600  # 409,600 bytes: two parts of 200 KiB
    init = eclient.initiate_multipart_upload(
        oss.InitiateMultipartUploadRequest(
            bucket=name, key="secret", cse_part_size=2 * PART, cse_data_size=len(data)
        )
    )
    parts = []
    for number, start in enumerate(range(0, len(data), 2 * PART), 1):
        up = eclient.upload_part(
            oss.UploadPartRequest(
                bucket=name,
                key="secret",
                upload_id=init.upload_id,
                part_number=number,
                cse_multipart_context=init.cse_multipart_context,
                body=data[start : start + 2 * PART],
            )
        )
        parts.append(oss.UploadPart(part_number=number, etag=up.etag))
    listed = eclient.list_parts(
        oss.ListPartsRequest(bucket=name, key="secret", upload_id=init.upload_id)
    )
    assert listed.client_encryption_key and listed.client_encryption_start
    assert listed.client_encryption_part_size == 2 * PART
    assert listed.client_encryption_data_size == len(data)
    assert listed.client_encryption_wrap_alg == "RSA/NONE/PKCS1Padding"
    assert listed.client_encryption_cek_alg == "AES/CTR/NoPadding"
    eclient.complete_multipart_upload(
        oss.CompleteMultipartUploadRequest(
            bucket=name,
            key="secret",
            upload_id=init.upload_id,
            complete_multipart_upload=oss.CompleteMultipartUpload(parts=parts),
        )
    )
    got = eclient.get_object(oss.GetObjectRequest(bucket=name, key="secret"))
    assert got.body.read() == data
    raw = client.get_object(oss.GetObjectRequest(bucket=name, key="secret"))
    assert raw.body.read() != data
