"""Lifecycle expiry on disk: the objects and multipart uploads under a prefix that a rule has
made due, removed as DeleteObject and AbortMultipartUpload would remove them."""

from __future__ import annotations

import time
from collections.abc import Callable

from .blobs import BlobStore
from .catalog import drop_inline
from .index import Index

#: The longest a scan's oldest time is trusted, whatever happened meanwhile (a rebuilt index).
MAX_AGE_SECONDS = 60.0
#: (table, bucket, prefix) entries kept; past this the memo starts again.
MAX_ENTRIES = 4096


class Oldest:
    """The oldest time under each rule's prefix as last scanned, so that a rule which has made
    nothing due is answered without reading the rows.

    Every read of a bucket with a lifecycle rule asks whether anything under the rule's prefix is
    due, and that is a scan of the bucket's rows (17 ms for 100,000 objects, per rule, per
    request). Rows only ever arrive stamped with the current time, so the oldest can only grow
    while the shared clock's offset stays as it was: nothing is due while the cutoff is at or
    before it. A changed offset (a test moved the clock), an expiry that removed rows, or
    ``MAX_AGE_SECONDS`` scans again.
    """

    def __init__(self, offset: Callable[[], float]) -> None:
        self._offset = offset
        self._known: dict[tuple[str, str, str], tuple[float, float, float]] = {}

    def none_due(self, index: Index, table: str, bucket: str, prefix: str, before: float) -> bool:
        key = (table, bucket, prefix)
        offset, now = self._offset(), time.monotonic()
        known = self._known.get(key)
        if known is not None and known[1] == offset and now < known[2] and before <= known[0]:
            return True
        column = _STAMP[table]
        row = (
            index.read()
            .execute(
                f"SELECT MIN({column}) FROM {table} WHERE bucket = ? AND substr(key, 1, ?) = ?",
                (bucket, len(prefix), prefix),
            )
            .fetchone()
        )
        oldest = float("inf") if row[0] is None else row[0]
        if len(self._known) >= MAX_ENTRIES:
            self._known.clear()
        self._known[key] = (oldest, offset, now + MAX_AGE_SECONDS)
        return before <= oldest

    def forget(self, table: str, bucket: str, prefix: str) -> None:
        self._known.pop((table, bucket, prefix), None)


_STAMP = {"objects": "last_modified", "uploads": "initiated"}


def expire_objects(
    index: Index, blobs: BlobStore, bucket: str, prefix: str, before: float, oldest: Oldest
) -> int:
    """Delete the objects under ``prefix`` last changed before ``before``; how many went."""
    if oldest.none_due(index, "objects", bucket, prefix, before):
        return 0  # the usual case, answered without the writer lock or a scan
    oldest.forget("objects", bucket, prefix)
    with index.write() as db:
        rows = db.execute(
            "DELETE FROM objects WHERE bucket = ? AND substr(key, 1, ?) = ? AND last_modified < ?"
            " RETURNING blob",
            (bucket, len(prefix), prefix, before),
        ).fetchall()
        files = [r["blob"] for r in rows if not drop_inline(db, r["blob"])]
    for name in files:
        blobs.delete(name)
    return len(rows)


def abort_uploads(
    index: Index, blobs: BlobStore, bucket: str, prefix: str, before: float, oldest: Oldest
) -> int:
    """Abort the uploads under ``prefix`` started before ``before``, with their parts."""
    if oldest.none_due(index, "uploads", bucket, prefix, before):
        return 0
    oldest.forget("uploads", bucket, prefix)
    with index.write() as db:
        ids = [
            r["upload_id"]
            for r in db.execute(
                "DELETE FROM uploads WHERE bucket = ? AND substr(key, 1, ?) = ? AND initiated < ?"
                " RETURNING upload_id",
                (bucket, len(prefix), prefix, before),
            )
        ]
        files = [
            r["blob"]
            for upload_id in ids
            for r in db.execute(
                "DELETE FROM parts WHERE upload_id = ? RETURNING blob", (upload_id,)
            )
        ]
    for name in files:
        blobs.delete(name)
    return len(ids)
