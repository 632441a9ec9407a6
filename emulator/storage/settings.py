"""Per-bucket settings (ACL, CORS, and the bucket configurations to come): one table, one row
per (bucket, setting name), the value an opaque string its protocol module parses.

One table rather than a column per setting, so a new bucket configuration needs no migration of
existing data dirs; rows go with their bucket (``DeleteBucket``, fixture drops, reset).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from ..version_file import RECHECK_SECONDS, VersionFile

#: Buckets whose settings one process keeps; past this the copy starts again (memory stays
#: bounded however many buckets a long test run makes).
MAX_CACHED_BUCKETS = 4096


def get(db: sqlite3.Connection, bucket: str, name: str) -> str | None:
    row = db.execute(
        "SELECT value FROM bucket_settings WHERE bucket = ? AND name = ?", (bucket, name)
    ).fetchone()
    return None if row is None else row[0]


def put(db: sqlite3.Connection, bucket: str, name: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO bucket_settings VALUES (?, ?, ?)", (bucket, name, value))


def delete(db: sqlite3.Connection, bucket: str, name: str | None = None) -> None:
    """Drop one setting, or (``name=None``) every setting of ``bucket``."""
    if name is None:
        db.execute("DELETE FROM bucket_settings WHERE bucket = ?", (bucket,))
    else:
        db.execute("DELETE FROM bucket_settings WHERE bucket = ? AND name = ?", (bucket, name))


class SettingsCache:
    """Each bucket's settings as this process last read them, for the reads every response
    makes (CORS on every answer of a bucket, lifecycle before every GET).

    A copy is kept with the version file's mark read just before it (``version_file.py``), and
    trusted while the mark is unchanged and for at most ``RECHECK_SECONDS``; every write of
    the table calls :meth:`changed` once it is committed. A read inside a write transaction
    must not come here: it would miss that transaction's own changes.
    """

    def __init__(self, read: Callable[[], sqlite3.Connection], version: VersionFile) -> None:
        self._read = read
        self._version = version
        self._state: tuple[bytes | None, float, dict[str, dict[str, str]]] = (None, 0.0, {})

    def get(self, bucket: str, name: str) -> str | None:
        mark = self._version.read()
        kept, until, buckets = self._state
        now = time.monotonic()
        if mark is None or mark != kept or now >= until:
            buckets = {}
            self._state = (mark, now + RECHECK_SECONDS, buckets)
        values = buckets.get(bucket)
        if values is None:
            rows = self._read().execute(
                "SELECT name, value FROM bucket_settings WHERE bucket = ?", (bucket,)
            )
            values = {row[0]: row[1] for row in rows}
            if mark is not None:
                if len(buckets) >= MAX_CACHED_BUCKETS:
                    buckets.clear()
                buckets[bucket] = values
        return values.get(name)

    def changed(self) -> None:
        """After a committed (or possibly committed) write of the table: every process reads
        it again."""
        self._state = (None, 0.0, {})
        self._version.bump()

    def close(self) -> None:
        self._version.close()
