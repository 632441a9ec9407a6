"""Lifecycle expiry on disk: the objects and multipart uploads under a prefix that a rule has
made due, removed as DeleteObject and AbortMultipartUpload would remove them."""

from __future__ import annotations

from .blobs import BlobStore
from .catalog import drop_inline
from .index import Index


def expire_objects(index: Index, blobs: BlobStore, bucket: str, prefix: str, before: float) -> int:
    """Delete the objects under ``prefix`` last changed before ``before``; how many went."""
    if not _any(index, "objects", "last_modified", bucket, prefix, before):
        return 0  # the usual case, answered without the writer lock
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


def abort_uploads(index: Index, blobs: BlobStore, bucket: str, prefix: str, before: float) -> int:
    """Abort the uploads under ``prefix`` started before ``before``, with their parts."""
    if not _any(index, "uploads", "initiated", bucket, prefix, before):
        return 0
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


def _any(index: Index, table: str, column: str, bucket: str, prefix: str, before: float) -> bool:
    row = (
        index.read()
        .execute(
            f"SELECT 1 FROM {table} WHERE bucket = ? AND substr(key, 1, ?) = ? AND {column} < ?"
            " LIMIT 1",
            (bucket, len(prefix), prefix, before),
        )
        .fetchone()
    )
    return row is not None
