"""Bucket operations of the :class:`~.store.Storage` façade: create, list, delete, settings.

A mixin over the façade's :class:`~.catalog.Catalog` (``self.catalog``, ``self.index``,
``self.blobs``, ``self.clock``, ``self.region``), as :class:`~.multipart.Multipart` is for the
upload operations, so the façade keeps one name per OSS operation and no file grows too long.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from ..clock import Clock
from ..protocol.errors import Conflict
from . import expiry, settings
from .blobs import BlobStore
from .catalog import Catalog, bucket_from_row, drop_inline, require_bucket
from .index import Index
from .models import BucketInfo
from .names import check_bucket_name
from .usage import bucket_usage


class Buckets:
    """PutBucket, GetBucketInfo, DeleteBucket, ListBuckets and the bucket settings table."""

    catalog: Catalog
    oldest: expiry.Oldest
    index: Index
    blobs: BlobStore
    clock: Clock
    region: str

    def create_bucket(
        self, name: str, *, storage_class: str = "Standard", acl: str | None = None
    ) -> BucketInfo:
        """PutBucket is idempotent for its owner, as on OSS (an existing bucket keeps its
        class); ``acl`` (``x-oss-acl``) is set when given."""
        check_bucket_name(name)
        with self._writing_buckets() as db:
            db.execute(
                "INSERT OR IGNORE INTO buckets (name, created, region, storage_class)"
                " VALUES (?, ?, ?, ?)",
                (name, self.clock.now(), self.region, storage_class),
            )
            if acl is not None:
                settings.put(db, name, "acl", acl)
            row = db.execute("SELECT * FROM buckets WHERE name = ?", (name,)).fetchone()
        return bucket_from_row(row)

    def get_bucket(self, name: str) -> BucketInfo:
        return self.catalog.get_bucket(name)

    def delete_bucket(self, name: str) -> None:
        with self._writing_buckets() as db:
            require_bucket(db, name)
            busy = db.execute(
                "SELECT 1 FROM objects WHERE bucket = ?"
                " UNION ALL SELECT 1 FROM uploads WHERE bucket = ?"
                " LIMIT 1",
                (name, name),
            ).fetchone()
            if busy:
                raise Conflict("BucketNotEmpty", BucketName=name)
            db.execute("DELETE FROM buckets WHERE name = ?", (name,))
            settings.delete(db, name)

    def drop_bucket(self, name: str) -> None:
        """Delete a bucket with everything in it (fixture teardown; OSS itself refuses this)."""
        with self._writing_buckets() as db:
            blobs = [
                r[0]
                for r in db.execute(
                    "SELECT blob FROM objects WHERE bucket = ? UNION ALL SELECT p.blob FROM parts p"
                    " JOIN uploads u ON p.upload_id = u.upload_id WHERE u.bucket = ?",
                    (name, name),
                )
            ]
            db.execute(
                "DELETE FROM parts WHERE upload_id IN"
                " (SELECT upload_id FROM uploads WHERE bucket = ?)",
                (name,),
            )
            for table, column in (
                ("restores", "bucket"),
                ("uploads", "bucket"),
                ("objects", "bucket"),
                ("buckets", "name"),
            ):
                db.execute(f"DELETE FROM {table} WHERE {column} = ?", (name,))
            settings.delete(db, name)
            files = [blob for blob in blobs if not drop_inline(db, blob)]
        for blob in files:
            self.blobs.delete(blob)

    @contextmanager
    def _writing_buckets(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that may change buckets or their settings: every process's copy
        is dropped after it, committed or not (a failed fsync may still leave it committed)."""
        try:
            with self.index.write() as db:
                yield db
        finally:
            self.catalog.cache.changed()

    def list_buckets(
        self, prefix: str = "", marker: str = "", max_keys: int = 100
    ) -> tuple[list[BucketInfo], bool]:
        rows = (
            self.index.read()
            .execute(
                "SELECT * FROM buckets WHERE name > ? AND name LIKE ? ESCAPE '\\'"
                " ORDER BY name LIMIT ?",
                (marker, _like_prefix(prefix), max_keys + 1),
            )
            .fetchall()
        )
        buckets = [bucket_from_row(r) for r in rows[:max_keys]]
        return buckets, len(rows) > max_keys

    def usage(self, bucket: str) -> tuple[int, int]:
        """(objects, bytes) stored in ``bucket``."""
        return bucket_usage(self.index.read(), bucket)

    def get_bucket_setting(self, bucket: str, name: str) -> str | None:
        """A bucket's setting (``acl``, ``cors``…), None when unset or when there is no such
        bucket; from this process's copy while it is current (every response of a bucket asks
        for its CORS rules, and every GET for its lifecycle: ``bucket_cache.py``)."""
        return self.catalog.cache.setting(bucket, name)

    def put_bucket_setting(self, bucket: str, name: str, value: str | None) -> None:
        """Set (or, with None, remove) a bucket setting."""
        with self._writing_buckets() as db:
            require_bucket(db, bucket)
            if value is None:
                settings.delete(db, bucket, name)
            else:
                settings.put(db, bucket, name, value)

    def expire(
        self,
        bucket: str,
        prefix: str,
        *,
        objects_before: float | None = None,
        uploads_before: float | None = None,
    ) -> int:
        """Apply a lifecycle rule: remove what it made due; how many objects and uploads went."""
        gone = 0
        if objects_before is not None:
            gone += expiry.expire_objects(
                self.index, self.blobs, bucket, prefix, objects_before, self.oldest
            )
        if uploads_before is not None:
            gone += expiry.abort_uploads(
                self.index, self.blobs, bucket, prefix, uploads_before, self.oldest
            )
        return gone


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
