"""The metadata index: one SQLite database (WAL) shared by every process on the data dir.

SQLite gives the cross-process write lock (``BEGIN IMMEDIATE``) and atomic commits; the index is
the single source of truth for what exists. Listing reads a key range of the primary key, so a
1,000-key page costs the same in a bucket of 1k or 1M objects.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from .group_commit import DurableWal, GroupCommit
from .space import reported_as_full
from .startup import MARK_SCHEMA, DataDirError, check_format, unreadable_index

try:
    import fcntl
except ImportError:  # Windows: processes fall back to SQLite's own busy handler
    fcntl = None  # type: ignore[assignment]

SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY, created REAL NOT NULL, region TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL, key TEXT NOT NULL, blob TEXT NOT NULL, size INTEGER NOT NULL,
    etag TEXT NOT NULL, crc64 TEXT NOT NULL, content_md5 TEXT NOT NULL,
    content_type TEXT NOT NULL, object_type TEXT NOT NULL, last_modified REAL NOT NULL,
    headers TEXT NOT NULL, acl TEXT NOT NULL DEFAULT 'default',
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL,
    initiated REAL NOT NULL, headers TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inline_blobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB NOT NULL, gen INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS bucket_settings (
    bucket TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (bucket, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket, key, upload_id);
-- Covers a bucket's count and bytes (the inspector's bucket list) without reading each row.
CREATE INDEX IF NOT EXISTS objects_usage ON objects (bucket, size);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, blob TEXT NOT NULL,
    size INTEGER NOT NULL, etag TEXT NOT NULL, crc64 TEXT NOT NULL, last_modified REAL NOT NULL,
    PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS restores (
    bucket TEXT NOT NULL, key TEXT NOT NULL, blob TEXT NOT NULL,
    ready_at REAL NOT NULL, expires_at REAL NOT NULL,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
"""
SCHEMA += MARK_SCHEMA + ";\n"

T = TypeVar("T")


class Index:
    """Reading connections per thread, one writing connection per process (``write()``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        # (owning thread, connection): a threaded server starts a thread per client connection,
        # so the connections of finished threads are closed, or fds and memory grow per request.
        self._all: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._lock = threading.Lock()
        # Processes queue for SQLite's write lock on a blocking flock of ``<index>-writer``:
        # SQLite's busy handler would make them poll it with sleeps of up to 100 ms. Within a
        # process, writers share one connection and their COMMITs (``group_commit.py``).
        self._writer_file = (
            os.open(f"{path}-writer", os.O_RDWR | os.O_CREAT, 0o600) if fcntl else None
        )
        self._group: GroupCommit | None = None
        # The writers' COMMITs append to the WAL without an fsync; DurableWal fsyncs it for all
        # of them before any is acknowledged (group_commit.py says why that is as safe as FULL).
        self._durable = DurableWal(Path(f"{path}-wal")) if fcntl else None
        try:
            db = self._open_connection()
            self._group = GroupCommit(
                db, self._lock_processes, self._unlock_processes, durable=self._durable
            )
            db.executescript(SCHEMA)
            check_format(db, path)
            _add_missing_columns(db)
            if self._durable is not None:
                db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as e:
            self.close()
            raise unreadable_index(path, e) from None
        except DataDirError:
            self.close()
            raise

    def _open_connection(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        # FULL: COMMIT fsyncs the WAL, so an acknowledged write (its row, and an inline body)
        # survives a power cut as well as a crash.
        db.execute("PRAGMA synchronous=FULL")
        db.row_factory = sqlite3.Row
        return db

    def _connect(self) -> sqlite3.Connection:
        """This thread's reading connection (the writers' one inside a write block, so a
        block reads what it has written)."""
        return getattr(self._local, "writing", None) or self.read_committed()

    def _close_finished_threads(self) -> None:
        live = []
        for thread, db in self._all:
            if thread.is_alive():
                live.append((thread, db))
            else:
                db.close()
        self._all = live

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, durable when the block exits (its COMMIT may be shared)."""
        if self._group is None:
            raise sqlite3.ProgrammingError("the index is closed")
        with reported_as_full(), self._group.transaction() as db:
            self._local.writing = db
            try:
                yield db
            finally:
                self._local.writing = None

    def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn(db)`` as a write transaction, durable when this returns; it may run on another
        writer's thread (``GroupCommit.run``), so it must not rely on thread-locals."""
        if self._group is None:
            raise sqlite3.ProgrammingError("the index is closed")
        with reported_as_full():
            return self._group.run(fn)

    def _lock_processes(self) -> None:
        if self._writer_file is not None:
            fcntl.flock(self._writer_file, fcntl.LOCK_EX)

    def _unlock_processes(self) -> None:
        if self._writer_file is not None:
            fcntl.flock(self._writer_file, fcntl.LOCK_UN)

    def read(self) -> sqlite3.Connection:
        return self._connect()

    def read_committed(self) -> sqlite3.Connection:
        """This thread's reading connection even inside a write block: what is committed."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._open_connection()
            with self._lock:
                self._close_finished_threads()
                self._all.append((threading.current_thread(), db))
        return db

    def close(self) -> None:
        with self._lock:
            for _, db in self._all:
                with contextlib.suppress(sqlite3.ProgrammingError):
                    db.close()
            self._all.clear()
        if self._group is not None:
            with contextlib.suppress(sqlite3.ProgrammingError):
                self._group.db.close()
            self._group = None
        if self._durable is not None:
            self._durable.close()
        self._local = threading.local()
        if self._writer_file is not None:
            with contextlib.suppress(OSError):
                os.close(self._writer_file)
            self._writer_file = None


#: Columns added since the first schema: (table, column, declaration). A data dir made by an
#: older ossemu gets them on open, with the value every row had implicitly until then.
ADDED_COLUMNS = (
    ("buckets", "storage_class", "TEXT NOT NULL DEFAULT 'Standard'"),
    ("objects", "storage_class", "TEXT NOT NULL DEFAULT 'Standard'"),
    ("objects", "tags", "TEXT NOT NULL DEFAULT '{}'"),
    ("objects", "acl", "TEXT NOT NULL DEFAULT 'default'"),
    ("inline_blobs", "gen", "INTEGER NOT NULL DEFAULT 0"),
)


def _add_missing_columns(db: sqlite3.Connection) -> None:
    for table, column, declaration in ADDED_COLUMNS:
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            with contextlib.suppress(sqlite3.OperationalError):  # another process was first
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
