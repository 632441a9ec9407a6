"""storage.append: each append is a whole new version, and racing appends at one position
leave exactly one of them."""

from __future__ import annotations

import threading

import pytest

from ossemu.emulator.protocol.errors import OssError
from ossemu.emulator.storage import Storage, crc64

BIG = 70 * 1024  # past INLINE_MAX: blob files


def append(storage: Storage, key: str, position: int, data: bytes, **kw):
    return storage.append_object("bkt", key, position, iter([data]), **kw)


def test_an_append_replaces_the_blob_and_leaves_no_temp_file(storage: Storage):
    first = append(storage, "k", 0, b"a" * BIG)
    second = append(storage, "k", BIG, b"b" * 10)
    assert first.blob != second.blob and second.size == BIG + 10
    assert second.crc64 == crc64(b"a" * BIG + b"b" * 10)
    assert list((storage.root / "tmp").iterdir()) == []
    assert sorted(storage.blobs.all_blob_names()) == [second.blob]


def test_a_refused_append_keeps_the_old_version_and_no_temp_file(storage: Storage):
    append(storage, "k", 0, b"a" * BIG)
    with pytest.raises(OssError) as err:
        append(storage, "k", BIG, b"b" * BIG, expected_md5="AAAAAAAAAAAAAAAAAAAAAA==")
    assert err.value.code == "InvalidDigest"
    meta, f = storage.open_object("bkt", "k")
    with f:
        assert f.read() == b"a" * BIG and meta.size == BIG
    assert list((storage.root / "tmp").iterdir()) == []


def test_racing_appends_at_one_position_let_exactly_one_through(storage: Storage):
    append(storage, "k", 0, b"start")
    outcomes: list[str] = []

    def attempt(byte: bytes) -> None:
        try:
            append(storage, "k", 5, byte * BIG)
            outcomes.append("ok")
        except OssError as e:
            outcomes.append(e.code)

    threads = [threading.Thread(target=attempt, args=(bytes([65 + i]),)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["PositionNotEqualToLength"] * 3 + ["ok"]
    meta, f = storage.open_object("bkt", "k")
    with f:
        data = f.read()
    assert meta.size == 5 + BIG and data[:5] == b"start" and len(set(data[5:])) == 1
