"""A record of every callback delivery, kept in one sqlite file.

sqlite (WAL mode, a generous busy timeout, one connection per process) lets several
emulator processes on one data dir append to and read the same journal without a server. Entries
are JSON documents; ``bucket`` and ``key`` are also columns so that filtering stays an index lookup.

It is bounded three ways, because uploaders and app servers choose what goes in: each body
stored is cut at :data:`MAX_BODY` (and marked ``body_truncated``), the journal keeps the newest
``keep`` entries, and their documents total at most ``max_bytes``. Readers page through it
(:meth:`CallbackJournal.page`), so no reader holds the whole journal either.
"""

from __future__ import annotations

import base64
import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket TEXT,
    key TEXT,
    entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_object ON deliveries (bucket, key);
"""
# Added since the first schema: the outcome as an indexed column, so the inspector's "failed
# only" page is an index walk, not a parse of every document (older rows are filled in once).
_OUTCOME_COLUMN = """
ALTER TABLE deliveries ADD COLUMN outcome TEXT;
UPDATE deliveries SET outcome = json_extract(entry, '$.outcome');
"""
_OUTCOME_INDEX = "CREATE INDEX IF NOT EXISTS deliveries_outcome ON deliveries (outcome)"


KEEP = 10_000
MAX_BYTES = 64 * 1024 * 1024
MAX_BODY = 64 * 1024
PAGE = 200


def body_field(body: bytes, limit: int = MAX_BODY) -> dict[str, Any]:
    """A body as the journal stores it: text (or base64), cut at ``limit`` bytes and then
    marked with ``body_truncated`` and the full ``body_size``."""
    kept = body[:limit]
    try:
        field: dict[str, Any] = {"body": kept.decode("utf-8")}
    except UnicodeDecodeError as exc:
        if len(body) > limit and exc.start >= limit - 3:  # a character cut in two at the limit
            field = {"body": kept[: exc.start].decode("utf-8")}
        else:
            field = {"body_base64": base64.b64encode(kept).decode("ascii")}
    if len(body) > limit:
        field.update(body_truncated=True, body_size=len(body))
    return field


class CallbackJournal:
    """Append-only log of callback deliveries, shared by every process using ``path``.

    It keeps the newest ``keep`` entries: a long-running ``ossemu serve`` would otherwise grow
    it without end. Trimming runs every few inserts, so a reader may briefly see a few more.
    """

    def __init__(self, path: Path, *, keep: int = KEEP, max_bytes: int = MAX_BYTES) -> None:
        if keep < 1 or max_bytes < 1:
            raise ValueError("keep and max_bytes must be at least 1")
        self.keep = keep
        self.max_bytes = max_bytes
        self._trim_every = min(100, max(1, keep // 10))
        self._unchecked_bytes = 0  # written by this process since its last trim by size
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(sqlite3.connect(self.path, timeout=30.0)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(deliveries)")}
            if "outcome" not in columns:
                with contextlib.suppress(sqlite3.OperationalError):  # another process was first
                    db.executescript(_OUTCOME_COLUMN)
            db.execute(_OUTCOME_INDEX)
        # One connection for the journal's life, shared by this process's threads under a lock:
        # SQLite checkpoints (and fsyncs) the WAL whenever its last connection closes, which was
        # 1.8 ms of every callback's 4.1 ms, and opening one per entry cost another 0.2 ms.
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        # A diagnostic record: WAL stays consistent through a crash without an fsync per entry
        # (a power cut may lose the last entries, never the file).
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """The shared connection (reopened if the journal was closed and is used again)."""
        with self._lock:
            if self._db is None:
                self._db = self._open()
            yield self._db

    def record(self, entry: dict[str, Any]) -> int | None:
        """Append one delivery (any JSON-serialisable dict); its id."""
        document = json.dumps(entry, ensure_ascii=False)
        with self._connection() as db:
            row_id = db.execute(
                "INSERT INTO deliveries (bucket, key, outcome, entry) VALUES (?, ?, ?, ?)",
                (entry.get("bucket"), entry.get("key"), entry.get("outcome"), document),
            ).lastrowid
            if row_id is not None and row_id % self._trim_every == 0:
                db.execute("DELETE FROM deliveries WHERE id <= ?", (row_id - self.keep,))
            # Every process trims by size once it has written a tenth of the budget, so the
            # journal stays within max_bytes plus a tenth per process.
            self._unchecked_bytes += len(document.encode())
            if self._unchecked_bytes * 10 >= self.max_bytes:
                self._unchecked_bytes = 0
                self._trim_bytes(db)
        return row_id

    def _trim_bytes(self, db: sqlite3.Connection) -> None:
        """Drop the oldest entries until the documents total at most ``max_bytes``."""
        row = db.execute(
            "SELECT id FROM (SELECT id, SUM(LENGTH(CAST(entry AS BLOB))) OVER (ORDER BY id DESC)"
            " AS newer FROM deliveries) WHERE newer > ? ORDER BY id DESC LIMIT 1",
            (self.max_bytes,),
        ).fetchone()
        if row is not None:
            db.execute("DELETE FROM deliveries WHERE id <= ?", (row[0],))

    def size(self) -> int:
        """Bytes the stored documents take (what ``max_bytes`` bounds)."""
        with self._connection() as db:
            row = db.execute("SELECT SUM(LENGTH(CAST(entry AS BLOB))) FROM deliveries").fetchone()
        return int(row[0] or 0)

    def page(
        self,
        bucket: str | None = None,
        key: str | None = None,
        *,
        after: int = 0,
        limit: int = PAGE,
    ) -> list[tuple[int, dict[str, Any]]]:
        """Up to ``limit`` deliveries with ids above ``after``, oldest first, with their ids
        (the next page starts after the last id)."""
        with self._connection() as db:
            rows = db.execute(
                "SELECT id, entry FROM deliveries WHERE id > ?3 AND (?1 IS NULL OR bucket = ?1) "
                "AND (?2 IS NULL OR key = ?2) ORDER BY id LIMIT ?4",
                (bucket, key, after, limit),
            ).fetchall()
        return [(row[0], json.loads(row[1])) for row in rows]

    def newest(
        self,
        bucket: str | None = None,
        key: str | None = None,
        outcome: str | None = None,
        *,
        before: int | None = None,
        limit: int = PAGE,
    ) -> list[tuple[int, dict[str, Any]]]:
        """Up to ``limit`` deliveries with ids below ``before``, newest first (what the
        inspector shows): a walk down the primary key, so a page costs the same at the cap."""
        # Only the filters given, so SQLite can pick the index each one has.
        where, values = ["id < ?"], [2**62 if before is None else before]
        for column, value in (("bucket", bucket), ("key", key), ("outcome", outcome)):
            if value is not None:
                where.append(f"{column} = ?")
                values.append(value)
        with self._connection() as db:
            rows = db.execute(
                f"SELECT id, entry FROM deliveries WHERE {' AND '.join(where)}"
                " ORDER BY id DESC LIMIT ?",
                (*values, limit),
            ).fetchall()
        return [(row[0], json.loads(row[1])) for row in rows]

    def get(self, entry_id: int) -> dict[str, Any] | None:
        """One delivery by id, or None when there is none (never was, trimmed or cleared)."""
        with self._connection() as db:
            row = db.execute("SELECT entry FROM deliveries WHERE id = ?", (entry_id,)).fetchone()
        return None if row is None else json.loads(row[0])

    def iter_entries(
        self, bucket: str | None = None, key: str | None = None, *, after: int = 0
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """Every delivery after ``after``, oldest first, read a page at a time."""
        while batch := self.page(bucket, key, after=after):
            yield from batch
            after = batch[-1][0]

    def entries(self, bucket: str | None = None, key: str | None = None) -> list[dict[str, Any]]:
        """Deliveries, oldest first, optionally only those for one bucket and/or key."""
        return [entry for _, entry in self.iter_entries(bucket, key)]

    def clear(self) -> None:
        """Forget every delivery."""
        with self._connection() as db:
            db.execute("DELETE FROM deliveries")
