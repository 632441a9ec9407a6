"""What a bucket holds, counted in the index: the inspector's bucket list shows it."""

from __future__ import annotations

import sqlite3


def bucket_usage(db: sqlite3.Connection, bucket: str) -> tuple[int, int]:
    """(objects, bytes) in ``bucket``: one pass over its key range of the primary key."""
    row = db.execute(
        "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM objects WHERE bucket = ?", (bucket,)
    ).fetchone()
    return int(row[0]), int(row[1])
