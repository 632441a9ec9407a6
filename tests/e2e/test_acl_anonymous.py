"""ACLs through the official SDKs, and anonymous requests (plain ``requests``, no signature)
decided as OSS does: the object's ACL over the bucket's, ``default`` deferring to the bucket."""

from __future__ import annotations

import uuid

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests

ANYONE_READ = "You have no right to access this object because of bucket acl."
OWNER_ONLY = "Anonymous access is forbidden for this operation."


def oss2_of(oss_emulator, name: str) -> oss2.Bucket:
    auth = oss2.Auth(oss_emulator.access_key_id, oss_emulator.access_key_secret)
    return oss2.Bucket(auth, oss_emulator.url, name)


@pytest.fixture
def bucket(oss_emulator):
    """An oss2 bucket (V1 signatures) on a fresh, private bucket."""
    b = oss2_of(oss_emulator, f"acl-{uuid.uuid4().hex[:10]}")
    b.create_bucket()
    yield b
    oss_emulator.services.storage.drop_bucket(b.bucket_name)


@pytest.fixture
def v2(oss_emulator):
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        oss_emulator.access_key_id, oss_emulator.access_key_secret
    )
    cfg.region, cfg.endpoint = "cn-hangzhou", oss_emulator.url
    return oss.Client(cfg)


def url(oss_emulator, b: oss2.Bucket, key: str = "") -> str:
    return f"{oss_emulator.url}/{b.bucket_name}/{key}"


def test_oss2_bucket_and_object_acl_round_trip(oss_emulator, bucket):
    assert bucket.get_bucket_acl().acl == "private"
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    assert bucket.get_bucket_acl().acl == "public-read"
    assert bucket.get_bucket_info().acl.grant == "public-read"
    bucket.put_object("k", b"v")
    assert bucket.get_object_acl("k").acl == "default"
    bucket.put_object_acl("k", oss2.OBJECT_ACL_PRIVATE)
    assert bucket.get_object_acl("k").acl == "private"
    assert bucket.get_object("k").read() == b"v"  # PutObjectAcl leaves the bytes alone
    bucket.put_object("k2", b"v", headers={"x-oss-object-acl": "public-read-write"})
    assert bucket.get_object_acl("k2").acl == "public-read-write"
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object_acl("missing")
    made = oss2_of(oss_emulator, f"acl-made-{uuid.uuid4().hex[:8]}")
    made.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    try:
        assert made.get_bucket_acl().acl == "public-read-write"
    finally:
        oss_emulator.services.storage.drop_bucket(made.bucket_name)


@pytest.mark.parametrize(
    ("call", "header"),
    [
        (lambda b: b.put_bucket_acl("public"), "x-oss-acl"),
        (
            lambda b: b.put_object("k", b"v", headers={"x-oss-object-acl": "open"}),
            "x-oss-object-acl",
        ),
        (lambda b: b.put_object_acl("k", "world"), "x-oss-object-acl"),
    ],
    ids=["bucket", "upload", "object"],
)
def test_an_unknown_acl_is_invalid_argument_and_changes_nothing(bucket, call, header):
    bucket.put_object("k", b"v")
    with pytest.raises(oss2.exceptions.ServerError) as refused:
        call(bucket)
    assert (refused.value.status, refused.value.code) == (400, "InvalidArgument")
    assert refused.value.details["ArgumentName"] == header
    assert bucket.get_bucket_acl().acl == "private"
    assert bucket.get_object_acl("k").acl == "default"


def test_alibabacloud_oss_v2_acls_and_is_bucket_exist(oss_emulator, bucket, v2):
    name = bucket.bucket_name
    assert v2.is_bucket_exist(name) is True
    assert v2.is_bucket_exist("no-such-bucket-acl") is False  # GetBucketAcl -> 404 NoSuchBucket
    v2.put_bucket_acl(oss.PutBucketAclRequest(bucket=name, acl="public-read"))
    assert v2.get_bucket_acl(oss.GetBucketAclRequest(bucket=name)).acl == "public-read"
    v2.put_object(oss.PutObjectRequest(bucket=name, key="v2", body=b"x", acl="private"))
    got = v2.get_object_acl(oss.GetObjectAclRequest(bucket=name, key="v2"))
    assert got.acl == "private"
    v2.put_object_acl(oss.PutObjectAclRequest(bucket=name, key="v2", acl="default"))
    assert v2.get_object_acl(oss.GetObjectAclRequest(bucket=name, key="v2")).acl == "default"


# Anonymous read (R) and overwrite (W) of an existing object, per bucket ACL x object ACL
# (docs/direct-upload.md section 3.3).
MATRIX = {
    ("private", "default"): "",
    ("private", "private"): "",
    ("private", "public-read"): "R",
    ("private", "public-read-write"): "RW",
    ("public-read", "default"): "R",
    ("public-read", "private"): "",
    ("public-read", "public-read"): "R",
    ("public-read", "public-read-write"): "RW",
    ("public-read-write", "default"): "RW",
    ("public-read-write", "private"): "",
    ("public-read-write", "public-read"): "R",
    ("public-read-write", "public-read-write"): "RW",
}


@pytest.mark.parametrize(("bucket_acl", "object_acl"), list(MATRIX), ids="/".join)
def test_anonymous_read_and_overwrite_follow_object_over_bucket_acl(
    oss_emulator, bucket, bucket_acl, object_acl
):
    bucket.put_bucket_acl(bucket_acl)
    bucket.put_object("k", b"secret", headers={"x-oss-object-acl": object_acl})
    allowed = MATRIX[bucket_acl, object_acl]
    target = url(oss_emulator, bucket, "k")

    got, head = requests.get(target), requests.head(target)
    if "R" in allowed:
        assert (got.status_code, got.content, head.status_code) == (200, b"secret", 200)
    else:
        assert (got.status_code, got.content.count(ANYONE_READ.encode())) == (403, 1)
        assert head.status_code == 403 and head.headers["x-oss-err"]
    put = requests.put(target, data=b"by anyone")
    assert put.status_code == (200 if "W" in allowed else 403), put.content
    expected = b"by anyone" if "W" in allowed else b"secret"
    assert bucket.get_object("k").read() == expected


@pytest.mark.parametrize("bucket_acl", ["private", "public-read", "public-read-write"])
def test_anonymous_upload_of_a_new_key_needs_a_public_read_write_bucket(
    oss_emulator, bucket, bucket_acl
):
    bucket.put_bucket_acl(bucket_acl)
    put = requests.put(
        url(oss_emulator, bucket, "new.txt"),
        data=b"hi",
        headers={"x-oss-object-acl": "public-read"},
    )
    if bucket_acl != "public-read-write":
        assert put.status_code == 403 and ANYONE_READ.encode() in put.content
        assert not bucket.object_exists("new.txt")
        return
    assert put.status_code == 200
    assert bucket.get_object_acl("new.txt").acl == "public-read"
    listing = requests.get(url(oss_emulator, bucket))  # ListObjects: the bucket ACL reads
    assert listing.status_code == 200 and b"<Key>new.txt</Key>" in listing.content
    # Its own ACL (public-read) now decides: anyone may read it, nobody anonymous may delete it.
    assert requests.delete(url(oss_emulator, bucket, "new.txt")).status_code == 403
    assert requests.get(url(oss_emulator, bucket, "new.txt")).content == b"hi"


def test_anonymous_multipart_upload_into_a_public_read_write_bucket(oss_emulator, bucket):
    bucket.put_bucket_acl("public-read-write")
    target = url(oss_emulator, bucket, "big.bin")
    init = requests.post(target + "?uploads", headers={"x-oss-object-acl": "public-read"})
    assert init.status_code == 200, init.content
    upload_id = init.text.split("<UploadId>")[1].split("</UploadId>")[0]
    part = requests.put(f"{target}?partNumber=1&uploadId={upload_id}", data=b"part")
    assert part.status_code == 200
    etag = part.headers["ETag"]
    part_xml = f"<Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part>"
    body = f"<CompleteMultipartUpload>{part_xml}</CompleteMultipartUpload>"
    done = requests.post(f"{target}?uploadId={upload_id}", data=body)
    assert done.status_code == 200, done.content
    assert bucket.get_object_acl("big.bin").acl == "public-read"
    assert requests.get(target).content == b"part"


def test_anonymous_callers_never_touch_bucket_configuration(oss_emulator, bucket):
    bucket.put_bucket_acl("public-read-write")
    bucket.put_object("k", b"v")
    for method, suffix in [
        ("GET", "?acl"),
        ("PUT", "?acl"),
        ("GET", "?cors"),
        ("PUT", "?cors"),
        ("DELETE", "?cors"),
        ("GET", "?bucketInfo"),
        ("DELETE", ""),
        ("PUT", "k?acl"),
        ("GET", "k?acl"),
        ("GET", "?uploads"),
    ]:
        answer = requests.request(
            method, url(oss_emulator, bucket, suffix), headers={"x-oss-acl": "private"}
        )
        assert answer.status_code == 403, (method, suffix)
        assert OWNER_ONLY.encode() in answer.content, (method, suffix)
    assert bucket.get_bucket_acl().acl == "public-read-write"
    assert requests.get(f"{oss_emulator.url}/").status_code == 403  # ListBuckets


def test_anonymous_copy_needs_a_readable_source(oss_emulator, bucket):
    bucket.put_bucket_acl("public-read-write")
    bucket.put_object("mine", b"private bytes", headers={"x-oss-object-acl": "private"})
    bucket.put_object("open", b"open bytes")
    target = url(oss_emulator, bucket, "copy")
    source = {"x-oss-copy-source": f"/{bucket.bucket_name}/mine"}
    assert requests.put(target, headers=source).status_code == 403
    assert not bucket.object_exists("copy")
    source = {"x-oss-copy-source": f"/{bucket.bucket_name}/open"}
    assert requests.put(target, headers=source).status_code == 200
    assert bucket.get_object("copy").read() == b"open bytes"


def test_anonymous_part_copy_needs_a_readable_source_too(oss_emulator, bucket):
    """UploadPartCopy reads its source as CopyObject does: a private object stays private."""
    bucket.put_bucket_acl("public-read-write")
    bucket.put_object("mine", b"private bytes", headers={"x-oss-object-acl": "private"})
    bucket.put_object("open", b"open bytes")
    target = url(oss_emulator, bucket, "parts.bin")
    init = requests.post(target + "?uploads")
    upload_id = init.text.split("<UploadId>")[1].split("</UploadId>")[0]
    part = f"{target}?partNumber=1&uploadId={upload_id}"
    refused = requests.put(part, headers={"x-oss-copy-source": f"/{bucket.bucket_name}/mine"})
    assert refused.status_code == 403
    assert bucket.list_parts("parts.bin", upload_id).parts == []
    copied = requests.put(part, headers={"x-oss-copy-source": f"/{bucket.bucket_name}/open"})
    assert copied.status_code == 200, copied.content


def test_anonymous_request_to_a_missing_bucket_is_no_such_bucket(oss_emulator):
    missing = requests.get(f"{oss_emulator.url}/no-such-bucket-anon/k")
    assert missing.status_code == 404 and b"<Code>NoSuchBucket</Code>" in missing.content


@pytest.mark.parametrize("bucket_acl", ["public-read", "public-read-write"])
def test_an_unsigned_form_upload_needs_a_public_read_write_bucket(oss_emulator, bucket, bucket_acl):
    bucket.put_bucket_acl(bucket_acl)
    sent = requests.post(
        url(oss_emulator, bucket),
        data={"key": "forms/${filename}", "x-oss-object-acl": "public-read"},
        files={"file": ("anon.txt", b"from a form", "text/plain")},
    )
    if bucket_acl == "public-read":
        assert sent.status_code == 403 and ANYONE_READ.encode() in sent.content
        assert not bucket.object_exists("forms/anon.txt")
        return
    assert sent.status_code == 204, sent.content
    assert bucket.get_object("forms/anon.txt").read() == b"from a form"
    assert bucket.get_object_acl("forms/anon.txt").acl == "public-read"
