"""Requests the official SDKs' own suites send that OSS takes: a presigned callback with plain
callback-var keys, keys with control characters, wrong keys against missing buckets."""

from __future__ import annotations

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests

from tests.e2e.sdk_clients import oss2_bucket_on, unique, v2_bucket_on, v2_config
from tests.support import b64json


@pytest.fixture
def bucket(oss_emulator):
    with oss2_bucket_on(oss_emulator) as b:
        yield b


@pytest.fixture
def v2(oss_emulator):
    with v2_bucket_on(oss_emulator) as pair:
        yield pair


def test_presigned_put_whose_callback_var_has_no_x_keys_still_calls_back(bucket, closed_port):
    # oss2's own test sends the callback document as callback-var too; OSS answers 203.
    callback = {"callbackUrl": f"http://127.0.0.1:{closed_port}", "callbackBody": "o=${object}"}
    params = {"callback": b64json(callback), "callback-var": b64json(callback)}
    url = bucket.sign_url("PUT", "cb.txt", 60, params=params)
    answer = requests.put(url, data=b"x")
    assert answer.status_code == 203 and b"<Code>CallbackFailed</Code>" in answer.content
    assert bucket.get_object("cb.txt").read() == b"x"


CONTROLS = "".join(map(chr, range(1, 32)))  # v2's own suite uses every C0 control but NUL


def test_v2_keys_with_control_characters_are_stored_listed_and_deleted(v2):
    client, name = v2
    key = "ctl-" + CONTROLS
    client.put_object(oss.PutObjectRequest(bucket=name, key=key, body=b"data"))
    assert client.head_object(oss.HeadObjectRequest(bucket=name, key=key)).content_length == 4
    listed = client.list_objects_v2(oss.ListObjectsV2Request(bucket=name, prefix="ctl-"))
    assert [o.key for o in listed.contents] == [key]
    deleted = client.delete_multiple_objects(
        oss.DeleteMultipleObjectsRequest(
            bucket=name, encoding_type="url", objects=[oss.DeleteObject(key=key)]
        )
    )
    assert [d.key for d in deleted.deleted_objects] == [key]
    with pytest.raises(oss.exceptions.OperationError) as e:
        client.head_object(oss.HeadObjectRequest(bucket=name, key=key))
    assert e.value.unwrap().code == "NoSuchKey"


def test_oss2_keys_with_control_characters_round_trip(bucket):
    keys = ["a\x0cb", "a\x01b", "line\r\nnext"]
    for key in keys:
        bucket.put_object(key, key.encode())
        assert bucket.get_object(key).read() == key.encode()
    assert sorted(o.key for o in oss2.ObjectIterator(bucket)) == sorted(keys)
    # oss2 writes the keys into the Delete document as raw bytes; CR reads back as LF there.
    result = bucket.batch_delete_objects(["a\x0cb", "a\x01b"])
    assert sorted(result.deleted_keys) == ["a\x01b", "a\x0cb"]
    bucket.delete_object("line\r\nnext")
    assert list(oss2.ObjectIterator(bucket)) == []


def _code(call, *args) -> tuple[int, str]:
    with pytest.raises(oss.exceptions.OperationError) as e:
        call(*args)
    error = e.value.unwrap()
    return error.status_code, error.code


def test_wrong_access_key_on_a_missing_bucket_is_no_such_bucket_as_on_oss(oss_emulator, v2):
    client, existing = v2
    stranger = oss.Client(v2_config(oss_emulator, key_id="not-a-key"))
    missing = unique("gone")
    for call in [
        lambda b: stranger.get_bucket_info(oss.GetBucketInfoRequest(bucket=b)),
        lambda b: stranger.get_bucket_location(oss.GetBucketLocationRequest(bucket=b)),
        lambda b: stranger.list_objects_v2(oss.ListObjectsV2Request(bucket=b, prefix="a")),
        lambda b: stranger.is_object_exist(b, "k"),
    ]:
        assert _code(call, missing) == (404, "NoSuchBucket")
        assert _code(call, existing) == (403, "InvalidAccessKeyId")
    # The requests that could create the bucket still say who is wrong, and create nothing.
    assert _code(lambda: stranger.put_bucket(oss.PutBucketRequest(bucket=missing))) == (
        403,
        "InvalidAccessKeyId",
    )
    put_acl = oss.PutBucketAclRequest(bucket=missing, acl="private")
    assert _code(lambda: stranger.put_bucket_acl(put_acl)) == (403, "InvalidAccessKeyId")
    info = oss.GetBucketInfoRequest(bucket=missing)
    assert _code(lambda: client.get_bucket_info(info)) == (404, "NoSuchBucket")


def test_oss2_teardown_lists_no_live_channels(bucket):
    assert list(oss2.LiveChannelIterator(bucket)) == []
    listed = bucket.list_live_channel(prefix="p", max_keys=5)
    assert (listed.prefix, listed.max_keys, listed.is_truncated) == ("p", 5, False)


def test_bucket_endpoints_lead_cleanup_helpers_back_to_the_emulator(oss_emulator, bucket, v2):
    # Both suites' cleanup helpers build a client from these endpoints.
    service = oss2.Service(bucket.auth, oss_emulator.url, region="cn-hangzhou")
    (found,) = service.list_buckets(prefix=bucket.bucket_name).buckets
    assert found.extranet_endpoint == found.intranet_endpoint == oss_emulator.url
    again = oss2.Bucket(bucket.auth, found.extranet_endpoint, found.name, region="cn-hangzhou")
    again.put_object("via-endpoint", b"back here")
    assert bucket.get_object("via-endpoint").read() == b"back here"
    client, name = v2
    info = client.get_bucket_info(oss.GetBucketInfoRequest(bucket=name)).bucket_info
    assert info.extranet_endpoint == info.intranet_endpoint == oss_emulator.url


def test_presigned_url_with_a_traffic_limit_is_served_and_checked(bucket):
    bucket.put_object("limited", b"slowly")
    params = {"x-oss-traffic-limit": str(100 * 1024 * 8)}  # as oss2's docs sign it
    url = bucket.sign_url("GET", "limited", 60, params=params)
    assert requests.get(url, timeout=10).content == b"slowly"
    url = bucket.sign_url("GET", "limited", 60, params={"x-oss-traffic-limit": "1"})
    refused = requests.get(url, timeout=10)
    assert refused.status_code == 400 and b"<Code>InvalidArgument</Code>" in refused.content
