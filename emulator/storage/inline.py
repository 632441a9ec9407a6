"""Small object bodies kept inside the index, in the same transaction as their row.

A file per small object costs a create, an fsync, a rename and, when it is overwritten or
deleted, an unlink that frees disk blocks: on the ext4 volume the benchmarks ran on, unlinking a
synced 4 KiB file took about 1 ms and the kernel did no more than about 1,000 of them per second,
whatever the number of threads. A body of up to ``INLINE_MAX`` bytes is instead a row of
``inline_blobs``: it is written, replaced and deleted by the same SQLite transaction that
commits its object row (made durable by the WAL fsync at COMMIT), and SQLite reuses its pages
instead of freeing blocks. MinIO keeps small objects inline in its metadata for the same reason.

An object row names its bytes in ``blob``: a blob file name (32 hex digits) or ``inline:<id>``,
``inline:<id>.<gen>`` once the body was replaced in place. A small body overwriting a small body
rewrites the same row (:func:`replace`) instead of inserting a row and deleting the old one: a
4 KiB overwrite appends 3.1 pages to the WAL instead of 9.6, inside the write lock
(``bench/analysis.md``, stop 28). The generation makes the name new all the same, so a reader
still holding the old name gets ``None`` (replaced), as it did after a delete, and never the new
bytes under the old row's length and ETag.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass

from .hashing import Digested, crc64

INLINE_MAX = 64 * 1024
_PREFIX = "inline:"


@dataclass(frozen=True)
class SmallBody(Digested):
    """A body received whole, with the checksums a ``WrittenBlob`` carries; committed by
    inserting ``source`` into the index."""

    data: bytes
    md5: bytes
    crc64: int

    @classmethod
    def of(cls, data: bytes) -> SmallBody:
        return cls(data, hashlib.md5(data).digest(), crc64(data, 0))

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def source(self) -> bytes:
        return self.data

    def discard(self) -> None:
        """Nothing to remove: the body only ever lived in memory."""


def is_inline(name: str) -> bool:
    return name.startswith(_PREFIX)


#: The name of an ``inline_blobs`` row in SQL, as :func:`insert` and :func:`replace` give it.
NAME_SQL = f"'{_PREFIX}' || id || CASE gen WHEN 0 THEN '' ELSE '.' || gen END"


def insert(db: sqlite3.Connection, data: bytes) -> str:
    """Store ``data`` inside the caller's write transaction; returns the name for ``blob``."""
    row_id = db.execute("INSERT INTO inline_blobs (data) VALUES (?)", (data,)).lastrowid
    return _name(row_id or 0, 0)


def replace(db: sqlite3.Connection, old: str, data: bytes) -> str | None:
    """Put ``data`` in the row of the inline body ``old`` (replaced in the caller's write
    transaction) under a new name; None if there is no such body (the caller inserts)."""
    row_id, gen = _parse(old)
    row = db.execute(
        "UPDATE inline_blobs SET data = ?, gen = gen + 1 WHERE id = ? AND gen = ? RETURNING gen",
        (data, row_id, gen),
    ).fetchone()
    return None if row is None else _name(row_id, row[0])


def read(db: sqlite3.Connection, name: str) -> bytes | None:
    """The bytes, or None once the version was replaced or deleted."""
    row = db.execute(
        "SELECT data FROM inline_blobs WHERE id = ? AND gen = ?", _parse(name)
    ).fetchone()
    return None if row is None else bytes(row[0])


def delete(db: sqlite3.Connection, name: str) -> None:
    db.execute("DELETE FROM inline_blobs WHERE id = ? AND gen = ?", _parse(name))


def _name(row_id: int, gen: int) -> str:
    return f"{_PREFIX}{row_id}.{gen}" if gen else f"{_PREFIX}{row_id}"


def _parse(name: str) -> tuple[int, int]:
    row_id, _, gen = name[len(_PREFIX) :].partition(".")
    return int(row_id), int(gen or 0)
