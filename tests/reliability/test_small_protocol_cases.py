"""Small protocol cases from issue 15: each answered as OSS answers it."""

from __future__ import annotations

from tests.reliability.helpers import BUCKET, OBJECT


def test_a_suffix_range_on_an_empty_object_is_invalid_range(emulator):
    empty = {"Content-Length": "0"}
    assert emulator.request("PUT", BUCKET, "empty", headers=empty).status == 200
    response = emulator.request("GET", BUCKET, "empty", headers={"Range": "bytes=-1"})
    assert (response.status, response.code) == (416, "InvalidRange")
    assert "content-range" not in response.headers or "--" not in response.headers["content-range"]


def test_a_virtual_hosted_get_of_key_ossemu_health_returns_the_object(emulator):
    host = {"Host": f"{BUCKET}.localhost:{emulator.port}"}
    put = emulator.request(
        "PUT", BUCKET, "_ossemu/health", headers=host, body=b"mine", raw_target="/_ossemu/health"
    )
    assert put.status == 200, put.body
    got = emulator.request(
        "GET", BUCKET, "_ossemu/health", headers=host, raw_target="/_ossemu/health"
    )
    assert (got.status, got.body) == (200, b"mine")
    health = emulator.request("GET", None, None, sign=False, raw_target="/_ossemu/health")
    assert b'"ok"' in health.body  # path-style, the control API is still there


def test_upload_part_copy_from_a_missing_source_stores_no_part(emulator):
    """It once answered 200 and stored an empty part; now it copies, or refuses and stores none."""
    upload_id = emulator.upload_id("copy-part")
    params = [("partNumber", "1"), ("uploadId", upload_id)]
    source = {"x-oss-copy-source": f"/{BUCKET}/no-such-object"}
    response = emulator.request("PUT", BUCKET, "copy-part", params=params, headers=source)
    assert (response.status, response.code) == (404, "NoSuchKey")
    parts = emulator.request("GET", BUCKET, "copy-part", params=[("uploadId", upload_id)])
    assert b"<Part>" not in parts.body


def test_unknown_oss_sub_resources_are_not_implemented(emulator):
    regions = emulator.request("GET", None, None, params=[("regions", "")])
    assert (regions.status, regions.code) == (501, "NotImplemented")
    monitor = emulator.request("GET", BUCKET, None, params=[("accessMonitor", "")])
    assert (monitor.status, monitor.code) == (501, "NotImplemented")


def test_a_query_parameter_that_is_no_sub_resource_is_ignored_as_on_oss(emulator):
    listing = emulator.request("GET", BUCKET, None, params=[("cachebuster", "1")])
    assert listing.status == 200 and b"<ListBucketResult>" in listing.body
    got = emulator.request("GET", BUCKET, "obj", params=[("x-client-trace", "abc")])
    assert (got.status, got.body) == (200, OBJECT)
