"""The data format mark: an index written by a newer ossemu is refused, not misread."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from ossemu.emulator.storage import Storage
from ossemu.emulator.storage.startup import FORMAT, DataDirError


def _format_row(root: Path) -> str | None:
    with contextlib.closing(sqlite3.connect(root / "index.sqlite3")) as db:
        row = db.execute("SELECT value FROM ossemu_meta WHERE name = 'format'").fetchone()
    return row[0] if row else None


def _set_format(root: Path, value: str | None) -> None:
    with contextlib.closing(sqlite3.connect(root / "index.sqlite3")) as db, db:
        db.execute("DELETE FROM ossemu_meta WHERE name = 'format'")
        if value is not None:
            db.execute("INSERT INTO ossemu_meta VALUES ('format', ?)", (value,))


def _stored(root: Path) -> None:
    storage = Storage(root)
    storage.create_bucket("bkt")
    storage.put_object("bkt", "k", iter([b"v1"]))
    storage.put_object("bkt", "k", iter([b"v2"]))  # replaced in place: a format-1 name
    storage.close()


def test_a_new_index_carries_this_versions_format(tmp_path):
    _stored(tmp_path)
    assert _format_row(tmp_path) == str(FORMAT)


def test_an_index_from_before_the_mark_is_stamped_and_reads_as_before(tmp_path):
    _stored(tmp_path)
    _set_format(tmp_path, None)
    storage = Storage(tmp_path)
    try:
        meta, body = storage.open_object("bkt", "k")
        with body:
            assert body.read() == b"v2"
    finally:
        storage.close()
    assert _format_row(tmp_path) == str(FORMAT)


def test_an_index_from_a_newer_ossemu_is_refused_in_one_line_and_left_alone(tmp_path):
    _stored(tmp_path)
    _set_format(tmp_path, str(FORMAT + 1))
    before = (tmp_path / "index.sqlite3").read_bytes()
    with pytest.raises(DataDirError) as refused:
        Storage(tmp_path)
    message = str(refused.value)
    assert "\n" not in message
    assert f"data format {FORMAT + 1}" in message and "newer ossemu" in message
    assert _format_row(tmp_path) == str(FORMAT + 1)
    assert (tmp_path / "index.sqlite3").read_bytes() == before
