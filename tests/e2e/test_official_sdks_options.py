"""What an upload asks of an object besides its bytes, through the official SDKs: storage class
(object and bucket), server-side encryption, tags and a traffic limit. Each is kept and told
back, or refused with OSS's error: never dropped without a word."""

from __future__ import annotations

import alibabacloud_oss_v2 as oss
import oss2
import pytest

from tests.e2e.sdk_clients import oss2_bucket_on, unique, v2_bucket_on

PART = 100 * 1024


@pytest.fixture
def bucket(oss_emulator):
    with oss2_bucket_on(oss_emulator) as b:
        yield b


@pytest.fixture
def v2(oss_emulator):
    with v2_bucket_on(oss_emulator) as pair:
        yield pair


def _error(call, *args, **kwargs):
    with pytest.raises(oss.exceptions.OperationError) as e:
        call(*args, **kwargs)
    return e.value.unwrap()


def test_a_bucket_created_infrequent_access_stores_its_objects_so(oss_emulator, v2):
    client, _ = v2
    name = unique("ia")
    client.put_bucket(
        oss.PutBucketRequest(
            bucket=name,
            create_bucket_configuration=oss.CreateBucketConfiguration(storage_class="IA"),
        )
    )
    try:
        info = client.get_bucket_info(oss.GetBucketInfoRequest(bucket=name)).bucket_info
        assert info.storage_class == "IA"
        client.put_object(oss.PutObjectRequest(bucket=name, key="k", body=b"x"))
        head = client.head_object(oss.HeadObjectRequest(bucket=name, key="k"))
        assert head.storage_class == "IA"
        listed = client.list_objects_v2(oss.ListObjectsV2Request(bucket=name))
        assert [o.storage_class for o in listed.contents] == ["IA"]
        buckets = client.list_buckets(oss.ListBucketsRequest(prefix=name)).buckets
        assert [b.storage_class for b in buckets] == ["IA"]
    finally:
        oss_emulator.services.storage.drop_bucket(name)
    bad = oss.PutBucketRequest(
        bucket=unique("bad"),
        create_bucket_configuration=oss.CreateBucketConfiguration(storage_class="Cheap"),
    )
    error = _error(client.put_bucket, bad)
    assert (error.status_code, error.code) == (400, "InvalidArgument")


def test_object_storage_class_is_kept_and_archived_bytes_wait_for_a_restore(bucket):
    bucket.put_object("cold", b"frozen", headers={"x-oss-storage-class": "Archive"})
    assert bucket.head_object("cold").headers["x-oss-storage-class"] == "Archive"
    assert bucket.get_object_meta("cold").headers["x-oss-storage-class"] == "Archive"
    with pytest.raises(oss2.exceptions.OssError) as e:
        bucket.get_object("cold")
    assert (e.value.status, e.value.code) == (403, "InvalidObjectState")
    with pytest.raises(oss2.exceptions.OssError) as e:
        bucket.copy_object(bucket.bucket_name, "cold", "warm")
    assert e.value.code == "InvalidObjectState"
    bucket.put_object("ia", b"x", headers={"x-oss-storage-class": "IA"})
    bucket.copy_object(
        bucket.bucket_name, "ia", "ia-copy", headers={"x-oss-storage-class": "ColdArchive"}
    )
    assert bucket.head_object("ia-copy").headers["x-oss-storage-class"] == "ColdArchive"
    listed = {o.key: o.storage_class for o in oss2.ObjectIterator(bucket)}
    assert listed == {"cold": "Archive", "ia": "IA", "ia-copy": "ColdArchive"}
    for bad in ("Glacier", ""):
        with pytest.raises(oss2.exceptions.InvalidArgument):
            bucket.put_object("bad", b"x", headers={"x-oss-storage-class": bad})
    assert not bucket.object_exists("bad")


def test_multipart_uploads_carry_their_storage_class_to_the_object(v2):
    client, name = v2
    init = client.initiate_multipart_upload(
        oss.InitiateMultipartUploadRequest(bucket=name, key="mp", storage_class="IA")
    )
    up = client.upload_part(
        oss.UploadPartRequest(
            bucket=name, key="mp", upload_id=init.upload_id, part_number=1, body=b"p" * PART
        )
    )
    parts = client.list_parts(oss.ListPartsRequest(bucket=name, key="mp", upload_id=init.upload_id))
    assert parts.storage_class == "IA"
    client.complete_multipart_upload(
        oss.CompleteMultipartUploadRequest(
            bucket=name,
            key="mp",
            upload_id=init.upload_id,
            complete_multipart_upload=oss.CompleteMultipartUpload(
                parts=[oss.UploadPart(part_number=1, etag=up.etag)]
            ),
        )
    )
    assert client.head_object(oss.HeadObjectRequest(bucket=name, key="mp")).storage_class == "IA"


def test_server_side_encryption_is_kept_echoed_and_validated(v2):
    client, name = v2
    put = client.put_object(
        oss.PutObjectRequest(bucket=name, key="aes", body=b"x", server_side_encryption="AES256")
    )
    assert put.headers["x-oss-server-side-encryption"] == "AES256"
    head = client.head_object(oss.HeadObjectRequest(bucket=name, key="aes"))
    assert head.server_side_encryption == "AES256"
    client.put_object(
        oss.PutObjectRequest(
            bucket=name,
            key="kms",
            body=b"x",
            server_side_encryption="KMS",
            server_side_data_encryption="SM4",
            server_side_encryption_key_id="key-1",
        )
    )
    got = client.get_object(oss.GetObjectRequest(bucket=name, key="kms"))
    assert got.body.read() == b"x"
    assert (got.server_side_encryption, got.server_side_data_encryption) == ("KMS", "SM4")
    assert got.server_side_encryption_key_id == "key-1"
    bad = oss.PutObjectRequest(bucket=name, key="des", body=b"x", server_side_encryption="DES")
    error = _error(client.put_object, bad)
    assert (error.status_code, error.code) == (400, "InvalidEncryptionAlgorithmError")
    mixed = oss.PutObjectRequest(
        bucket=name,
        key="mixed",
        body=b"x",
        server_side_encryption="AES256",
        server_side_encryption_key_id="key-1",
    )
    assert _error(client.put_object, mixed).code == "InvalidArgument"


def test_tags_are_kept_counted_in_head_and_follow_the_copy_directive(bucket):
    bucket.put_object("t", b"x", headers={"x-oss-tagging": "k1=v1&k2=v2&%E4%B8%AD=+%2B/"})
    assert bucket.head_object("t").headers["x-oss-tagging-count"] == "3"
    got = bucket.get_object("t")
    assert got.read() == b"x" and got.headers["x-oss-tagging-count"] == "3"
    bucket.copy_object(bucket.bucket_name, "t", "kept")
    assert bucket.head_object("kept").headers["x-oss-tagging-count"] == "3"
    bucket.copy_object(
        bucket.bucket_name,
        "t",
        "replaced",
        headers={"x-oss-tagging-directive": "REPLACE", "x-oss-tagging": "only=one"},
    )
    assert bucket.head_object("replaced").headers["x-oss-tagging-count"] == "1"
    bucket.put_object("plain", b"x")
    assert "x-oss-tagging-count" not in bucket.head_object("plain").headers
    eleven = "&".join(f"k{i}=v" for i in range(11))
    for bad in ("aa=bb=cc", eleven, "k=v&k=w", "a" * 129 + "=v", "k=bad*char"):
        with pytest.raises(oss2.exceptions.InvalidArgument):
            bucket.put_object("bad-tags", b"x", headers={"x-oss-tagging": bad})
    assert not bucket.object_exists("bad-tags")


def test_v2_reads_the_tag_count_of_a_multipart_object(v2):
    client, name = v2
    init = client.initiate_multipart_upload(
        oss.InitiateMultipartUploadRequest(bucket=name, key="mp", tagging="a=1&b=2")
    )
    up = client.upload_part(
        oss.UploadPartRequest(
            bucket=name, key="mp", upload_id=init.upload_id, part_number=1, body=b"p"
        )
    )
    client.complete_multipart_upload(
        oss.CompleteMultipartUploadRequest(
            bucket=name,
            key="mp",
            upload_id=init.upload_id,
            complete_multipart_upload=oss.CompleteMultipartUpload(
                parts=[oss.UploadPart(part_number=1, etag=up.etag)]
            ),
        )
    )
    assert client.head_object(oss.HeadObjectRequest(bucket=name, key="mp")).tagging_count == 2


def test_traffic_limit_is_taken_within_oss_range_and_refused_outside(v2):
    client, name = v2
    limit = 100 * 1024 * 8  # 100 KB/s, OSS's lowest
    put = oss.PutObjectRequest(bucket=name, key="slow", body=b"x", traffic_limit=limit)
    assert client.put_object(put).status_code == 200
    got = client.get_object(oss.GetObjectRequest(bucket=name, key="slow", traffic_limit=limit))
    assert got.body.read() == b"x"
    for bad in (limit - 1, 100 * 1024 * 1024 * 8 + 1):
        error = _error(
            client.put_object,
            oss.PutObjectRequest(bucket=name, key="bad", body=b"x", traffic_limit=bad),
        )
        assert (error.status_code, error.code) == (400, "InvalidArgument")


def test_oss2_object_tagging_put_get_delete_keeps_last_modified(bucket):
    bucket.put_object("tagged", b"x", headers={"x-oss-tagging": "k1=v1"})
    assert bucket.get_object_tagging("tagged").tag_set.tagging_rule == {"k1": "v1"}
    before = bucket.head_object("tagged").last_modified
    rule = oss2.models.TaggingRule()
    rule.add(" +/ ", "中文")
    rule.add("a" * 128, "b" * 256)
    bucket.put_object_tagging("tagged", oss2.models.Tagging(rule))
    got = bucket.get_object_tagging("tagged").tag_set.tagging_rule
    assert got == {" +/ ": "中文", "a" * 128: "b" * 256}
    head = bucket.head_object("tagged")
    assert head.headers["x-oss-tagging-count"] == "2" and head.last_modified == before
    assert bucket.delete_object_tagging("tagged").status == 204
    assert bucket.get_object_tagging("tagged").tag_set.tagging_rule == {}
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object_tagging("missing")
    too_many = oss2.models.TaggingRule()
    for i in range(11):
        too_many.add(f"k{i}", "v")
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.put_object_tagging("tagged", oss2.models.Tagging(too_many))


def test_v2_object_tagging_round_trip(v2):
    client, name = v2
    client.put_object(oss.PutObjectRequest(bucket=name, key="t", body=b"x"))
    tagging = oss.Tagging(tag_set=oss.TagSet(tags=[oss.Tag(key="env", value="test")]))
    client.put_object_tagging(oss.PutObjectTaggingRequest(bucket=name, key="t", tagging=tagging))
    got = client.get_object_tagging(oss.GetObjectTaggingRequest(bucket=name, key="t"))
    assert [(t.key, t.value) for t in got.tag_set.tags] == [("env", "test")]
    assert client.head_object(oss.HeadObjectRequest(bucket=name, key="t")).tagging_count == 1
    client.delete_object_tagging(oss.DeleteObjectTaggingRequest(bucket=name, key="t"))
    got = client.get_object_tagging(oss.GetObjectTaggingRequest(bucket=name, key="t"))
    assert not got.tag_set.tags


def test_v2_bucket_tags_put_get_delete(v2):
    client, name = v2

    def tags() -> list[tuple[str, str]]:
        got = client.get_bucket_tags(oss.GetBucketTagsRequest(bucket=name)).tagging
        tag_set = got.tag_set if got is not None else None
        return [(t.key, t.value) for t in (tag_set.tags or [])] if tag_set else []

    assert tags() == []
    tagging = oss.Tagging(
        tag_set=oss.TagSet(
            tags=[oss.Tag(key="team", value="data"), oss.Tag(key="env", value="test")]
        )
    )
    client.put_bucket_tags(oss.PutBucketTagsRequest(bucket=name, tagging=tagging))
    assert tags() == [("team", "data"), ("env", "test")]
    client.delete_bucket_tags(oss.DeleteBucketTagsRequest(bucket=name))
    assert tags() == []


def test_oss2_bucket_tagging_round_trip_and_oss_limits(bucket):
    rule = oss2.models.TaggingRule()
    rule.add("owner", "zoë")
    bucket.put_bucket_tagging(oss2.models.Tagging(rule))
    assert bucket.get_bucket_tagging().tag_set.tagging_rule == {"owner": "zoë"}
    too_many = oss2.models.TaggingRule()
    for i in range(21):  # OSS: at most 20 tags on a bucket
        too_many.add(f"k{i}", "v")
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.put_bucket_tagging(oss2.models.Tagging(too_many))
    reserved = oss2.models.TaggingRule()
    reserved.add("Aliyun-owned", "x")  # a prefix OSS keeps for itself
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.put_bucket_tagging(oss2.models.Tagging(reserved))
    assert bucket.get_bucket_tagging().tag_set.tagging_rule == {"owner": "zoë"}
    two = oss2.models.TaggingRule()
    two.add("owner", "zoë")
    two.add("env", "test")
    bucket.put_bucket_tagging(oss2.models.Tagging(two))  # the new set replaces the old one
    bucket.delete_bucket_tagging(params={"tagging": "env"})  # only the keys named
    assert bucket.get_bucket_tagging().tag_set.tagging_rule == {"owner": "zoë"}
    bucket.delete_bucket_tagging()
    assert bucket.get_bucket_tagging().tag_set.tagging_rule == {}
    missing = oss2.Bucket(
        bucket.auth, bucket.endpoint, "no-such-bucket-for-tags", region=bucket.region
    )
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        missing.get_bucket_tagging()
