"""Resuming reconciles the checkpoint with ListParts: a part the server holds is never re-sent.

The checkpoint is rewritten at most once a second, so it can lag behind the server. These tests
make it lag (by rewriting it with fewer parts, as a crash would leave it) or put other bytes on
the server under the same upload id, and count the resumed run's UploadPart requests per part
number with one pass-through ``delay`` rule per part.
"""

from __future__ import annotations

import os
import random

import pytest

from ossemu.client import Checkpoint, Client, RetryPolicy, ServerError
from ossemu.client.checkpoint import checkpoint_path
from ossemu.client.crc import crc64

PART = 100 * 1024
PARTS = 6
RETRIES = 2


@pytest.fixture
def bucket(oss_emulator, oss_bucket):
    policy = RetryPolicy(RETRIES, base_delay=0.001, max_delay=0.002)
    with Client(
        oss_emulator.url,
        oss_emulator.access_key_id,
        oss_emulator.access_key_secret,
        max_retries=policy,
    ) as client:
        yield client.get_bucket(oss_bucket.name)


@pytest.fixture
def interrupted(bucket, oss_emulator, tmp_path):
    """A 6-part upload stopped by its last part failing; returns (path, data, store, upload id)."""
    path = tmp_path / "upload.bin"
    data = random.Random(7).randbytes(PARTS * PART - 333)
    path.write_bytes(data)
    store = checkpoint_path(tmp_path / "cp", os.path.realpath(path), bucket.name, "k")
    oss_emulator.add_fault(operation="UploadPart", key="k", part_number=PARTS, times=RETRIES + 1)
    with pytest.raises(ServerError):
        bucket.resumable_upload("k", path, part_size=PART, threads=1, checkpoint_dir=store.parent)
    checkpoint = Checkpoint.load(store)
    assert set(checkpoint.parts) == {1, 2, 3, 4, 5}
    return path, data, store, checkpoint.upload_id


def lag(store, keep=()):
    """Rewrite the checkpoint as a crash within its save interval would leave it."""
    checkpoint = Checkpoint.load(store)
    checkpoint.parts = {n: p for n, p in checkpoint.parts.items() if n in keep}
    checkpoint.save(store)


def count_each_part(oss_emulator, key):
    return {
        n: oss_emulator.add_fault(
            action="delay", operation="UploadPart", key=key, part_number=n, times=10**6
        )
        for n in range(1, PARTS + 1)
    }


def sent_parts(rules):
    assert all(rule.hits <= 1 for rule in rules.values())
    return {n for n, rule in rules.items() if rule.hits}


def resume(bucket, path, store, **kwargs):
    return bucket.resumable_upload("k", path, part_size=PART, checkpoint_dir=store.parent, **kwargs)


def listed(bucket, upload_id):
    return {p.number for p in bucket.list_parts("k", upload_id)}


def test_checkpoint_with_only_the_upload_id_resends_nothing_the_server_has(
    bucket, oss_emulator, interrupted
):
    path, data, store, upload_id = interrupted
    lag(store)
    assert Checkpoint.load(store).parts == {}
    rules = count_each_part(oss_emulator, "k")
    trace = []

    result = resume(bucket, path, store, progress=lambda done, total: trace.append(done))

    assert sent_parts(rules) == {PARTS}
    assert trace[0] == 5 * PART and trace[-1] == len(data)
    assert result.etag.endswith(f"-{PARTS}") and bucket.get_object("k") == data
    assert not store.exists() and list(bucket.list_multipart_uploads()) == []


def test_parts_missing_from_the_checkpoint_are_adopted_with_their_crc(
    bucket, oss_emulator, interrupted
):
    path, data, store, upload_id = interrupted
    lag(store, keep={1, 3})
    oss_emulator.add_fault(operation="CompleteMultipartUpload", key="k", times=RETRIES + 1)
    rules = count_each_part(oss_emulator, "k")

    with pytest.raises(ServerError):
        resume(bucket, path, store)

    assert sent_parts(rules) == {PARTS}
    adopted = Checkpoint.load(store)
    assert adopted.upload_id == upload_id and adopted.missing() == []
    server = {p.number: p for p in bucket.list_parts("k", upload_id)}
    assert {n: (p.etag, p.size, p.crc64) for n, p in adopted.parts.items()} == {
        n: (p.etag, p.size, p.crc64) for n, p in server.items()
    }
    assert {n: p.crc64 for n, p in adopted.parts.items()} == {
        n: crc64(data[(n - 1) * PART : n * PART]) for n in range(1, PARTS + 1)
    }


def test_a_listed_part_with_other_bytes_is_sent_again(bucket, oss_emulator, interrupted):
    path, data, store, upload_id = interrupted
    lag(store, keep={2})
    bucket.upload_part("k", upload_id, 2, b"x" * PART)  # right size, other bytes
    bucket.upload_part("k", upload_id, 3, data[2 * PART : 3 * PART - 1])  # one byte short
    rules = count_each_part(oss_emulator, "k")

    resume(bucket, path, store)

    assert sent_parts(rules) == {2, 3, PARTS}
    assert bucket.get_object("k") == data


def test_a_listed_part_beyond_the_file_is_left_out_of_complete(bucket, oss_emulator, interrupted):
    path, data, store, upload_id = interrupted
    lag(store)
    bucket.upload_part("k", upload_id, PARTS + 3, data[:PART])
    assert listed(bucket, upload_id) == {1, 2, 3, 4, 5, PARTS + 3}
    rules = count_each_part(oss_emulator, "k")

    result = resume(bucket, path, store)

    assert sent_parts(rules) == {PARTS}
    assert result.etag.endswith(f"-{PARTS}") and bucket.get_object("k") == data
