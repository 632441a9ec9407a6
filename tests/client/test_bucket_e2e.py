"""Every client method against the emulator (and its callback receiver), as a user would."""

from __future__ import annotations

import io
import json
import os
import uuid

import pytest
import requests

from ossemu.client import (
    BucketNotEmpty,
    Callback,
    CallbackError,
    Client,
    CommonPrefix,
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
    ObjectSummary,
    PartResult,
    crc64,
)

PART = 100 * 1024


def test_seed_put_object_with_callback(oss_emulator, oss_bucket, callback_receiver, tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"hello callback")
    callback = Callback(
        url=callback_receiver.url,
        query={"user": "put_object"},
        body="bucket=${bucket}&object=${object}",
    )
    result = oss_bucket.put_object("files/hello", file=path, callback=callback)
    received = callback_receiver.wait_for(1)[0]
    assert received.query == {"user": "put_object"}
    assert received.form == {"bucket": oss_bucket.name, "object": "files/hello"}
    assert result.callback_json() == {"Status": "OK"}
    assert result.etag and result.crc64 == crc64(b"hello callback")
    assert oss_bucket.get_object("files/hello") == b"hello callback"


def test_failed_callback_raises_but_the_object_is_stored(oss_bucket, callback_receiver):
    callback_receiver.respond_with(500, b"boom")
    with pytest.raises(CallbackError) as info:
        oss_bucket.put_object("k", b"data", callback=Callback(url=callback_receiver.url))
    error = info.value
    assert (error.status, error.code) == (203, "CallbackFailed")
    assert error.message == "Error status : 500."
    assert error.upload_succeeded and error.request_id and error.request_id in str(error)
    assert error.etag == oss_bucket.head_object("k").etag
    assert error.crc64 == crc64(b"data")


def test_callback_variables_and_json_body(oss_bucket, callback_receiver):
    callback = Callback.json(
        callback_receiver.url, {"object": "object", "size": "size", "user": "x:user"}
    )
    oss_bucket.put_object("j.txt", b"12345", callback=callback, callback_vars={"user": "ann"})
    received = callback_receiver.wait_for(1)[0]
    assert received.json == {"object": "j.txt", "size": 5, "user": "ann"}


def test_put_and_get_in_every_shape(oss_bucket, tmp_path):
    oss_bucket.put_object("bytes", b"b")
    oss_bucket.put_object("text.txt", "tëxt")
    oss_bucket.put_object("iter", (bytes([i]) * 1000 for i in range(50)))
    oss_bucket.put_object("fileobj", io.BytesIO(b"from a file object"))
    oss_bucket.put_object("empty", b"")
    assert oss_bucket.get_object("bytes") == b"b"
    assert oss_bucket.get_object("text.txt") == "tëxt".encode()
    assert oss_bucket.get_object("iter") == b"".join(bytes([i]) * 1000 for i in range(50))
    assert oss_bucket.get_object("empty") == b""
    with oss_bucket.get_object("fileobj", stream=True) as stream:
        assert stream.read(5) == b"from "
        assert b"".join(stream.iter_chunks(4)) == b"a file object"
    meta = oss_bucket.get_object("fileobj", to_file=tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == b"from a file object"
    assert meta.size == 18
    assert oss_bucket.get_object("fileobj", byte_range=(5, 5)) == b"a"
    assert oss_bucket.get_object("fileobj", byte_range=(12, None)) == b"object"


def test_metadata_head_meta_and_exists(oss_bucket):
    oss_bucket.put_object(
        "doc.json", b"{}", metadata={"Author": "ann"}, content_type="application/json"
    )
    meta = oss_bucket.head_object("doc.json")
    assert meta.metadata == {"author": "ann"}
    assert meta.content_type == "application/json" and meta.size == 2
    assert meta.crc64 == crc64(b"{}") and meta.last_modified is not None
    assert oss_bucket.get_object_meta("doc.json").etag == meta.etag
    assert oss_bucket.object_exists("doc.json")
    assert not oss_bucket.object_exists("nope")
    with pytest.raises(NoSuchKey):
        oss_bucket.get_object("nope")
    with pytest.raises(NoSuchKey):
        oss_bucket.head_object("nope")


def test_awkward_keys_round_trip(oss_bucket):
    keys = ["dir/a b+c%d?e#f&g=h~.txt", "目录/文件.txt", "x//y", "trailing/"]
    for key in keys:
        oss_bucket.put_object(key, key.encode())
    for key in keys:
        assert oss_bucket.get_object(key) == key.encode()
    listed = [e.key for e in oss_bucket.list_objects() if isinstance(e, ObjectSummary)]
    assert sorted(listed) == sorted(keys)


def test_delete_one_and_many(oss_bucket):
    for key in ("a", "b", "c", "d"):
        oss_bucket.put_object(key, b"x")
    oss_bucket.delete_object("a")
    oss_bucket.delete_object("a")  # deleting a missing key is not an error
    assert oss_bucket.delete_objects(["b"]) == []
    assert sorted(oss_bucket.delete_objects(["c", "d"], quiet=False)) == ["c", "d"]
    assert list(oss_bucket.list_objects()) == []


def test_copy_object_keeps_or_replaces_metadata(oss_client, oss_bucket):
    oss_bucket.put_object("src", b"payload", metadata={"k": "v"})
    copied = oss_bucket.copy_object("src", "dst")
    assert copied.etag == oss_bucket.head_object("src").etag
    assert oss_bucket.head_object("dst").metadata == {"k": "v"}
    oss_bucket.copy_object("src", "dst2", metadata={"new": "1"})
    assert oss_bucket.head_object("dst2").metadata == {"new": "1"}
    other = oss_client.create_bucket(f"test-{uuid.uuid4().hex[:12]}")
    try:
        other.copy_object("src", "from-elsewhere", src_bucket=oss_bucket.name)
        assert other.get_object("from-elsewhere") == b"payload"
    finally:
        other.delete_object("from-elsewhere")
        oss_client.delete_bucket(other.name)


def put_tree(bucket):
    for key in ("a/1", "a/2", "b/1", "c", "d", "e"):
        bucket.put_object(key, b"x")


def test_list_objects_follows_pagination(oss_bucket):
    put_tree(oss_bucket)
    everything = list(oss_bucket.list_objects(max_keys=2))
    assert [e.key for e in everything] == ["a/1", "a/2", "b/1", "c", "d", "e"]
    assert all(isinstance(e, ObjectSummary) and e.size == 1 and e.etag for e in everything)
    assert [e.key for e in oss_bucket.list_objects("a/")] == ["a/1", "a/2"]


def test_list_objects_yields_common_prefixes_distinctly(oss_bucket):
    put_tree(oss_bucket)
    grouped = list(oss_bucket.list_objects(delimiter="/"))
    assert grouped[:2] == [CommonPrefix("a/"), CommonPrefix("b/")]
    assert [e.key for e in grouped[2:] if isinstance(e, ObjectSummary)] == ["c", "d", "e"]


def test_list_objects_delimiter_pages_do_not_repeat_prefixes(oss_bucket):
    put_tree(oss_bucket)
    paged = list(oss_bucket.list_objects(delimiter="/", max_keys=2))
    assert paged == list(oss_bucket.list_objects(delimiter="/"))


def test_multipart_upload_with_callback(oss_bucket, callback_receiver):
    upload_id = oss_bucket.init_multipart_upload("mp.bin", metadata={"m": "1"})
    first, second = b"1" * PART, b"2" * 10
    progress: list[tuple[int, int | None]] = []
    parts = [
        oss_bucket.upload_part(
            "mp.bin", upload_id, 1, first, progress=lambda d, t: progress.append((d, t))
        ),
        oss_bucket.upload_part("mp.bin", upload_id, 2, io.BytesIO(second)),
    ]
    assert progress[-1] == (PART, PART)
    assert parts[0] == PartResult(1, parts[0].etag, PART, crc64(first))
    listed = list(oss_bucket.list_parts("mp.bin", upload_id, max_parts=1))
    assert [(p.number, p.etag, p.size) for p in listed] == [
        (p.number, p.etag, p.size) for p in parts
    ]
    uploads = list(oss_bucket.list_multipart_uploads())
    assert [(u.key, u.upload_id) for u in uploads] == [("mp.bin", upload_id)]
    result = oss_bucket.complete_multipart_upload(
        "mp.bin",
        upload_id,
        reversed(parts),
        callback=Callback(url=callback_receiver.url, body="size=${size}"),
    )
    assert callback_receiver.wait_for(1)[0].form == {"size": str(PART + 10)}
    assert json.loads(result.callback_body or b"") == {"Status": "OK"}
    assert result.crc64 == crc64(first + second)
    assert oss_bucket.head_object("mp.bin").metadata == {"m": "1"}
    assert oss_bucket.get_object("mp.bin") == first + second
    assert list(oss_bucket.list_multipart_uploads()) == []


def test_complete_without_callback_and_abort(oss_bucket):
    upload_id = oss_bucket.init_multipart_upload("plain.bin")
    part = oss_bucket.upload_part("plain.bin", upload_id, 1, b"only part")
    result = oss_bucket.complete_multipart_upload("plain.bin", upload_id, [(1, part.etag)])
    assert result.key == "plain.bin" and result.etag and result.callback_body is None
    doomed = oss_bucket.init_multipart_upload("gone.bin")
    oss_bucket.abort_multipart_upload("gone.bin", doomed)
    with pytest.raises(NoSuchUpload):
        oss_bucket.upload_part("gone.bin", doomed, 1, b"late")


def test_failed_callback_on_complete(oss_bucket, callback_receiver):
    callback_receiver.respond_with(404, b"{}")
    upload_id = oss_bucket.init_multipart_upload("cb.bin")
    part = oss_bucket.upload_part("cb.bin", upload_id, 1, b"data")
    with pytest.raises(CallbackError) as info:
        oss_bucket.complete_multipart_upload(
            "cb.bin", upload_id, [part], callback=Callback(url=callback_receiver.url)
        )
    assert info.value.message == "Error status : 404."
    assert oss_bucket.get_object("cb.bin") == b"data"


def test_bucket_lifecycle(oss_client):
    names = sorted(f"test-life-{uuid.uuid4().hex[:8]}-{i}" for i in range(3))
    for name in names:
        oss_client.create_bucket(name)
    listed = [b.name for b in oss_client.list_buckets(prefix="test-life-", max_keys=1)]
    assert [n for n in listed if n in names] == names
    bucket = oss_client.get_bucket(names[0])
    bucket.put_object("k", b"x")
    with pytest.raises(BucketNotEmpty):
        oss_client.delete_bucket(names[0])
    bucket.delete_object("k")
    for name in names:
        oss_client.delete_bucket(name)
    with pytest.raises(NoSuchBucket):
        oss_client.get_bucket(names[0]).put_object("k", b"x")
    with pytest.raises(NoSuchBucket):
        oss_client.get_bucket(names[0]).object_exists("k")


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_signed_urls_work_without_credentials(oss_emulator, oss_bucket, version):
    client = Client(
        oss_emulator.url,
        oss_emulator.access_key_id,
        oss_emulator.access_key_secret,
        signature_version=version,
    )
    bucket = client.get_bucket(oss_bucket.name)
    put_url = bucket.sign_url("PUT", "signed.txt", headers={"Content-Type": "text/plain"})
    assert requests.put(put_url, data=b"via url", headers={"Content-Type": "text/plain"}).ok
    got = requests.get(bucket.sign_url("GET", "signed.txt"))
    assert got.status_code == 200 and got.content == b"via url"
    client.close()


def test_signed_put_url_with_callback(oss_bucket, callback_receiver):
    url = oss_bucket.sign_url(
        "PUT", "cb-url.txt", callback=Callback(url=callback_receiver.url), callback_vars={"a": 1}
    )
    resp = requests.put(url, data=b"x")
    assert resp.status_code == 200 and resp.json() == {"Status": "OK"}
    assert callback_receiver.wait_for(1)[0].form["object"] == "cb-url.txt"


def test_v1_client_round_trip(oss_emulator, oss_bucket):
    with Client(
        oss_emulator.url,
        oss_emulator.access_key_id,
        oss_emulator.access_key_secret,
        signature_version="v1",
    ) as client:
        bucket = client.get_bucket(oss_bucket.name)
        bucket.put_object("v1/key with space", b"v1")
        assert bucket.get_object("v1/key with space") == b"v1"
        assert [e.key for e in bucket.list_objects("v1/")] == ["v1/key with space"]


def test_one_client_serves_many_threads(oss_bucket):
    from concurrent.futures import ThreadPoolExecutor

    payloads = {f"t/{i:02d}": os.urandom(1000 + i) for i in range(24)}
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda item: oss_bucket.put_object(*item), payloads.items()))
        fetched = dict(zip(payloads, pool.map(oss_bucket.get_object, payloads), strict=True))
    assert fetched == payloads
