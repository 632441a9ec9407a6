"""A blob write hashes big bodies beside its I/O, yet keeps the exact digests and cleans up."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import anycrc
import pytest

from ossemu.emulator.protocol.errors import BadRequest
from ossemu.emulator.storage.blobs import BlobStore
from ossemu.emulator.storage.hashing import INLINE_BYTES, StreamHasher

MIB = 1024 * 1024
CRC64_XZ = anycrc.Model("CRC64-XZ")


@pytest.fixture
def store(tmp_path: Path):
    s = BlobStore(tmp_path)
    yield s
    s.close()


def pieces(data: bytes, size: int = MIB) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def hashers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "ossemu-hasher"]


def threads_seen_while_reading(data: bytes, seen: list[int]) -> Iterator[bytes]:
    """Yield ``data`` in 1 MiB chunks, noting how many hasher threads run at each pull."""
    for chunk in pieces(data):
        seen.append(len(hashers()))
        yield chunk
    seen.append(len(hashers()))


@pytest.mark.parametrize(
    "size", [0, 1, 4096, MIB, MIB + 1, 7 * MIB + MIB // 2], ids=lambda n: f"{n}B"
)
def test_written_blob_has_the_digests_of_its_bytes(store: BlobStore, size: int):
    data = os.urandom(size)
    written = store.write(pieces(data))
    assert written.size == size
    assert written.md5 == hashlib.md5(data).digest()
    assert written.crc64 == CRC64_XZ.calc(data)
    assert written.temp_path.read_bytes() == data
    assert hashers() == []


def test_a_trickle_of_small_chunks_hashes_the_same(store: BlobStore):
    data = os.urandom(3 * MIB + 777)
    written = store.write(pieces(data, 4093))
    assert (written.md5, written.crc64) == (hashlib.md5(data).digest(), CRC64_XZ.calc(data))


def test_a_one_chunk_body_never_starts_a_thread(store: BlobStore):
    seen: list[int] = []
    store.write(threads_seen_while_reading(os.urandom(MIB), seen))
    assert seen == [0, 0]


def test_a_big_body_is_hashed_on_one_helper_thread_that_ends_with_the_write(store: BlobStore):
    seen: list[int] = []
    store.write(threads_seen_while_reading(os.urandom(4 * MIB), seen))
    assert seen == [0, 0, 1, 1, 1]
    assert hashers() == []


def test_limit_exceeded_mid_stream_is_entity_too_large_and_leaves_nothing(store: BlobStore):
    baseline = threading.active_count()
    with pytest.raises(BadRequest) as caught:
        store.write(pieces(os.urandom(6 * MIB)), limit=4 * MIB + 1)
    assert caught.value.code == "EntityTooLarge"
    assert list(store.tmp_dir.iterdir()) == []
    assert threading.active_count() == baseline


def test_a_client_that_disconnects_mid_stream_leaves_nothing(store: BlobStore):
    def body() -> Iterator[bytes]:
        yield from pieces(os.urandom(3 * MIB))
        raise BadRequest("IncompleteBody")

    baseline = threading.active_count()
    with pytest.raises(BadRequest) as caught:
        store.write(body())
    assert caught.value.code == "IncompleteBody"
    assert list(store.tmp_dir.iterdir()) == []
    assert threading.active_count() == baseline


def test_a_failure_on_the_helper_thread_is_raised_in_the_writer():
    baseline = threading.active_count()
    with StreamHasher() as hasher:
        hasher.update(b"x" * INLINE_BYTES)
        hasher.update("not bytes")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            hasher.finish()
    assert threading.active_count() == baseline


def test_finish_is_repeatable_and_matches_hashlib():
    data = os.urandom(2 * INLINE_BYTES + 5)
    with StreamHasher() as hasher:
        for chunk in pieces(data):
            hasher.update(chunk)
        first = hasher.finish()
        assert hasher.finish() == first == (hashlib.md5(data).digest(), CRC64_XZ.calc(data))


def test_a_pinned_writer_still_hashes_on_every_cpu_it_had(monkeypatch):
    """``ossemu serve`` pins each worker to one CPU; the MD5 helper of a big upload must still run
    beside the I/O on another core (``HELPER_CPUS``), not queue behind it on the same one."""
    from ossemu.emulator.storage import hashing

    every = os.sched_getaffinity(0)
    monkeypatch.setattr(hashing, "HELPER_CPUS", every)
    seen: list[set[int]] = []

    def pinned_writer() -> None:
        os.sched_setaffinity(0, {min(every)})  # this thread only, as a pinned worker's threads
        with StreamHasher() as hasher:
            hasher.update(b"a" * MIB)
            hasher.update(b"b" * MIB)  # the second 1 MiB starts the helper
            (helper,) = hashers()
            deadline = time.monotonic() + 10  # the helper sets its CPUs first thing it runs
            while os.sched_getaffinity(helper.native_id) != every and time.monotonic() < deadline:
                time.sleep(0.001)
            seen.append(os.sched_getaffinity(helper.native_id))
            hasher.finish()
        seen.append(os.sched_getaffinity(0))

    writer = threading.Thread(target=pinned_writer)
    writer.start()
    writer.join()
    assert seen == [every, {min(every)}]
