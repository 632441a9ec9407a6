"""Per-bucket settings (ACL, CORS, and the bucket configurations to come): one table, one row
per (bucket, setting name), the value an opaque string its protocol module parses.

One table rather than a column per setting, so a new bucket configuration needs no migration of
existing data dirs; rows go with their bucket (``DeleteBucket``, fixture drops, reset).
"""

from __future__ import annotations

import sqlite3


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
