"""A big blob's bytes go to the disk as they arrive, so the fsync before the answer is short."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from ossemu.emulator.storage import writeback
from ossemu.emulator.storage.blobs import BlobStore
from ossemu.emulator.storage.writeback import STEP, Writeback

MIB = 1024 * 1024


def test_the_disk_is_started_once_a_step_has_piled_up_and_never_twice_on_a_byte():
    asked: list[tuple[int, int, int]] = []
    wb = Writeback(7, start=lambda fd, offset, length: asked.append((fd, offset, length)))
    for size in range(MIB, 20 * MIB + 1, MIB):  # a 20 MiB body in 1 MiB chunks
        wb.wrote(size)
    assert asked == [(7, 0, STEP), (7, STEP, STEP)]  # the last 4 MiB are the fsync's


def test_a_small_body_never_asks():
    asked: list[tuple[int, int, int]] = []
    wb = Writeback(7, start=lambda *a: asked.append(a))
    wb.wrote(4096)
    wb.wrote(STEP - 1)
    assert asked == []


def test_one_big_chunk_is_started_whole():
    asked: list[tuple[int, int, int]] = []
    wb = Writeback(7, start=lambda *a: asked.append(a))
    wb.wrote(3 * STEP + 5)
    assert asked == [(7, 0, 3 * STEP + 5)]


def test_linux_has_the_call_and_it_succeeds_on_a_real_file(tmp_path: Path):
    assert (writeback._start is not None) == sys.platform.startswith("linux")
    if writeback._start is None:
        return  # elsewhere the fsync alone does the work, as before
    path = tmp_path / "f"
    with open(path, "wb") as f:
        f.write(b"x" * STEP)
        f.flush()
        assert writeback._start(f.fileno(), 0, STEP) == 0
    assert path.stat().st_size == STEP


def test_a_big_blob_written_with_the_disk_started_early_is_whole(tmp_path: Path):
    data = os.urandom(2 * STEP + 12345)
    store = BlobStore(tmp_path)
    try:
        blob = store.write(data[i : i + MIB] for i in range(0, len(data), MIB))
        assert blob.temp_path.read_bytes() == data
        assert blob.md5 == hashlib.md5(data).digest()
        joined = store.join([blob.temp_path, b"tail", blob.temp_path])
        assert joined.read_bytes() == data + b"tail" + data
    finally:
        store.close()
