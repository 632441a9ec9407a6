"""The official Python SDKs (oss2 and alibabacloud-oss-v2) do everyday object work against us."""

from __future__ import annotations

import io
import uuid

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests

from ossemu.emulator.storage import crc64


def unique(prefix: str = "sdk") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["v1", "v4"])
def oss2_bucket(request, oss_emulator):
    auth = (oss2.Auth if request.param == "v1" else oss2.AuthV4)(
        oss_emulator.access_key_id, oss_emulator.access_key_secret
    )
    bucket = oss2.Bucket(auth, oss_emulator.url, unique("oss2"), region="cn-hangzhou")
    bucket.create_bucket()
    yield bucket
    oss_emulator.services.storage.drop_bucket(bucket.bucket_name)


@pytest.fixture(params=["v4", "v1"])
def v2_client(request, oss_emulator):
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        oss_emulator.access_key_id, oss_emulator.access_key_secret
    )
    cfg.region = "cn-hangzhou"
    cfg.endpoint = oss_emulator.url
    cfg.signature_version = request.param
    client = oss.Client(cfg)
    name = unique("v2")
    client.put_bucket(oss.PutBucketRequest(bucket=name))
    yield client, name
    oss_emulator.services.storage.drop_bucket(name)


def test_oss2_everyday_object_work(oss2_bucket, tmp_path):
    b = oss2_bucket
    result = b.put_object("dir/hello.txt", b"hello world")
    assert result.status == 200 and result.crc == crc64(b"hello world")
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789" * 1000)
    b.put_object_from_file("dir/file.bin", str(path))
    b.put_object("dir/chunked", iter([b"chunk-1,", b"chunk-2"]))
    assert b.get_object("dir/chunked").read() == b"chunk-1,chunk-2"
    assert b.get_object("dir/file.bin").read() == path.read_bytes()
    assert b.get_object("dir/file.bin", byte_range=(10, 19)).read() == b"0123456789"
    head = b.head_object("dir/hello.txt")
    assert head.content_length == 11 and head.etag == "5EB63BBBE01EEED093CB22BB8F5ACDC3"
    assert b.get_object_meta("dir/hello.txt").content_length == 11
    b.copy_object(b.bucket_name, "dir/hello.txt", "copy.txt")
    assert b.get_object("copy.txt").read() == b"hello world"
    listed = [o.key for o in oss2.ObjectIterator(b, prefix="dir/", max_keys=1)]
    assert listed == ["dir/chunked", "dir/file.bin", "dir/hello.txt"]
    top = list(oss2.ObjectIterator(b, delimiter="/"))
    assert [o.key for o in top] == ["copy.txt", "dir/"] and top[1].is_prefix()
    assert b.batch_delete_objects(["copy.txt", "dir/chunked"]).deleted_keys == [
        "copy.txt",
        "dir/chunked",
    ]
    b.delete_object("dir/hello.txt")
    assert not b.object_exists("dir/hello.txt")
    with pytest.raises(oss2.exceptions.NoSuchKey):
        b.get_object("dir/hello.txt")


def test_oss2_presigned_get_and_put(oss2_bucket):
    put_url = oss2_bucket.sign_url("PUT", "signed.txt", 60)
    assert requests.put(put_url, data=b"via url").status_code == 200
    get_url = oss2_bucket.sign_url("GET", "signed.txt", 60)
    assert requests.get(get_url).content == b"via url"
    tampered = get_url.replace("signed.txt", "other.txt")
    assert requests.get(tampered).status_code == 403


def test_oss2_wrong_secret_is_signature_does_not_match(oss_emulator):
    bucket = oss2.Bucket(oss2.Auth(oss_emulator.access_key_id, "wrong"), oss_emulator.url, unique())
    with pytest.raises(oss2.exceptions.SignatureDoesNotMatch) as e:
        bucket.create_bucket()
    assert e.value.status == 403


def test_oss2_head_errors_are_decoded_from_x_oss_err(oss2_bucket):
    with pytest.raises(oss2.exceptions.NoSuchKey) as e:
        oss2_bucket.head_object("missing")
    assert e.value.request_id and e.value.code == "NoSuchKey"


def test_v2_everyday_object_work(v2_client):
    client, name = v2_client
    r = client.put_object(oss.PutObjectRequest(bucket=name, key="a/b.txt", body=b"hello"))
    assert r.status_code == 200 and r.hash_crc64 == str(crc64(b"hello"))
    client.put_object(
        oss.PutObjectRequest(bucket=name, key="a/stream", body=io.BytesIO(b"x" * 100_000))
    )
    got = client.get_object(oss.GetObjectRequest(bucket=name, key="a/b.txt"))
    assert got.body.read() == b"hello"
    ranged = client.get_object(
        oss.GetObjectRequest(bucket=name, key="a/stream", range_header="bytes=0-9")
    )
    assert ranged.status_code == 206 and ranged.body.read() == b"x" * 10
    head = client.head_object(oss.HeadObjectRequest(bucket=name, key="a/b.txt"))
    assert head.content_length == 5
    client.copy_object(oss.CopyObjectRequest(bucket=name, key="c.txt", source_key="a/b.txt"))
    pages = client.list_objects_v2_paginator().iter_page(
        oss.ListObjectsV2Request(bucket=name, max_keys=1)
    )
    keys = [o.key for page in pages for o in page.contents or []]
    assert keys == ["a/b.txt", "a/stream", "c.txt"]
    deleted = client.delete_multiple_objects(
        oss.DeleteMultipleObjectsRequest(
            bucket=name, objects=[oss.DeleteObject(key="c.txt"), oss.DeleteObject(key="a/b.txt")]
        )
    )
    assert sorted(d.key for d in deleted.deleted_objects) == ["a/b.txt", "c.txt"]
    with pytest.raises(oss.exceptions.OperationError) as e:
        client.get_object(oss.GetObjectRequest(bucket=name, key="c.txt"))
    assert e.value.unwrap().code == "NoSuchKey"


def test_v2_presigned_put_and_get(v2_client):
    client, name = v2_client
    put = client.presign(oss.PutObjectRequest(bucket=name, key="p.txt"))
    assert requests.put(put.url, data=b"presigned", headers=put.signed_headers).status_code == 200
    get = client.presign(oss.GetObjectRequest(bucket=name, key="p.txt"))
    assert requests.get(get.url).content == b"presigned"
