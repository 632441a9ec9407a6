"""An upload body is read in bounded chunks, the first a page short of the rest, so a blob's
file writes start off the 1 MiB boundaries (the kernel spent up to five times the system CPU
on a 256 MiB PUT written on them: ``bench/analysis.md``)."""

from __future__ import annotations

import io
import os

from ossemu.emulator.routes.body import BODY_READ, CHUNK, FIRST_CHUNK, read_chunks

MIB = 1024 * 1024


def test_a_big_body_comes_a_page_short_first_then_in_whole_chunks_and_nothing_is_lost():
    data = os.urandom(5 * MIB + 321)
    environ: dict[str, object] = {}
    chunks = list(read_chunks(io.BytesIO(data), environ, None, length=len(data)))
    assert [len(c) for c in chunks[:2]] == [FIRST_CHUNK, CHUNK] == [MIB - 4096, MIB]
    assert sum(len(c) for c in chunks[:-1]) % MIB == MIB - 4096  # every later write is shifted
    assert b"".join(chunks) == data
    assert environ[BODY_READ] is True


def test_a_small_body_is_one_chunk():
    environ: dict[str, object] = {}
    assert list(read_chunks(io.BytesIO(b"4 KiB" * 800), environ, None, length=4000)) == [
        b"4 KiB" * 800
    ]
