"""Buckets and objects on disk: the only code that touches the data dir.

Layout (``tests/emulator/test_storage.py`` asserts it, so this drawing cannot drift)::

    <data_dir>/
      index.sqlite3      metadata of buckets, objects, uploads, parts (WAL; the source of truth),
                         and the bodies of objects up to 64 KiB (``inline.py`` says why)
      index.sqlite3-writer  flock'd around each write transaction (a batch of them, from one
                         process): processes queue, not poll
      index.sqlite3-buckets  8 bytes rewritten after each change of buckets or their settings:
                         tells every process that its copy of them is stale (``bucket_cache.py``)
      blobs/ab/<uuid>    immutable bytes of larger objects and of parts, named by a random
                         uuid, never by key
      blobs/ab/<uuid>.meta  what that blob holds (bucket, key, checksums): lets
                         ``ossemu fsck --rebuild-index`` rebuild a lost index (``sidecar.py``)
      tmp/<owner>.<uuid> bytes being received; renamed into blobs/ at commit
      owners/<owner>.lock held by each live process; tells start-up cleanup whose temp files to keep
      lost+found/        blob files nothing could account for: moved here, never deleted

Commit order: stream the body to ``tmp/`` (no lock held) and fsync it, and its record; then,
inside one SQLite ``BEGIN IMMEDIATE`` transaction (the cross-process writer lock), rename both
into ``blobs/``, fsync the directory, and upsert the row; after COMMIT and the fsync of the WAL
that covers it (``group_commit.py``: both shared with the other writers waiting), unlink the
blob it replaced. A small body skips the files: it is inserted by that same
transaction. An object exists iff its row exists, so a crash at any point leaves either the old
or the new version visible, never a partial one; an orphaned blob is collected at the next start
(``startup.py`` says when that is safe: never with an index that is new, empty or unreadable).
Keys never become paths, so no key can reach a file outside the data dir.
"""

from __future__ import annotations

import io
import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ..clock import WALL_CLOCK, Clock
from ..protocol.errors import NotFound, OssError
from . import append, expiry, inline, restore, startup, symlink
from .blobs import WrittenBlob
from .buckets import Buckets
from .catalog import (
    Catalog,
    check_declared_size,
    check_received,
    drop_inline,
    meta_from_row,
    require_bucket,
)
from .listing import list_objects
from .models import ListPage, ObjectMeta
from .multipart import Multipart
from .names import check_object_key

MAX_PUT_SIZE = 5 * 1024**3


class Storage(Multipart, Buckets):
    """Buckets, objects and multipart uploads under one data dir (shareable by processes).

    The one façade: its methods carry OSS's operation names (the multipart and bucket ones come
    from :class:`Multipart` and :class:`Buckets`, over the same :class:`Catalog`), and
    ``ObjectStore`` in ``storage/__init__.py`` lists the ones routes may call.
    """

    def __init__(
        self, root: Path, *, region: str = "cn-hangzhou", clock: Clock = WALL_CLOCK
    ) -> None:
        self.catalog = Catalog(root, region=region, clock=clock)
        self.root, self.region, self.clock = root, region, clock
        self.blobs, self.index = self.catalog.blobs, self.catalog.index
        self.oldest = expiry.Oldest(lambda: clock.offset)
        self.collect_garbage()
        Multipart.__init__(self, self.catalog)
        self.multipart: Multipart = self  # where the upload operations' own tests reach them

    def close(self) -> None:
        self.catalog.close()

    def collect_garbage(self) -> int:
        """Remove blobs no row points at (left by a crash between rename and commit, or
        between commit and unlink): see :mod:`.startup` for what may be deleted."""
        deleted, moved = startup.collect_garbage(self.index.write, self.blobs, self.root)
        return deleted + moved

    def reset(self) -> None:
        """Remove every bucket, object and upload (test fixtures call this between tests)."""
        with self._writing_buckets() as db:
            blobs = [
                r[0]
                for r in db.execute("SELECT blob FROM objects UNION ALL SELECT blob FROM parts")
            ]
            tables = (
                *("parts", "uploads", "objects", "buckets", "inline_blobs"),
                *("restores", "bucket_settings"),
            )
            for table in tables:
                db.execute(f"DELETE FROM {table}")
        for name in blobs:
            self.blobs.delete(name)

    # -- objects ---------------------------------------------------------------------------

    def put_object(
        self,
        bucket: str,
        key: str,
        chunks: Iterator[bytes],
        *,
        content_type: str = "application/octet-stream",
        headers: dict[str, str] | None = None,
        forbid_overwrite: bool = False,
        expected_md5: str | None = None,
        expected_size: int | None = None,
        acl: str = "default",
        storage_class: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> ObjectMeta:
        """Store a new version of ``key`` atomically; Content-MD5 and length checked after.
        ``storage_class=None``: the bucket's."""
        check_object_key(key)
        check_declared_size(expected_size, MAX_PUT_SIZE)
        storage_class = storage_class or self.get_bucket(bucket).storage_class
        small = None
        if expected_size is None or expected_size <= inline.INLINE_MAX:
            small, chunks = _read_small(chunks, inline.INLINE_MAX)
        written = (
            inline.SmallBody.of(small)
            if small is not None
            else self.blobs.write(chunks, limit=MAX_PUT_SIZE)
        )
        try:
            check_received(written, expected_size, expected_md5)
            return self._commit(
                bucket,
                key,
                written,
                content_type=content_type,
                headers=headers or {},
                forbid_overwrite=forbid_overwrite,
                acl=acl,
                storage_class=storage_class,
                tags=tags or {},
            )
        finally:
            written.discard()

    def _commit(
        self,
        bucket: str,
        key: str,
        written: WrittenBlob | inline.SmallBody,
        *,
        content_type: str,
        headers: dict[str, str],
        forbid_overwrite: bool,
        etag: str | None = None,
        object_type: str = "Normal",
        acl: str = "default",
        storage_class: str = "Standard",
        tags: dict[str, str] | None = None,
    ) -> ObjectMeta:
        meta = ObjectMeta(
            bucket=bucket,
            key=key,
            size=written.size,
            etag=etag or written.etag,
            crc64=written.crc64,
            content_md5="" if object_type == "Multipart" else written.content_md5,
            content_type=content_type,
            last_modified=self.clock.now(),
            object_type=object_type,
            headers=headers,
            acl=acl,
            storage_class=storage_class,
            tags=tags or {},
        )
        return self.catalog.commit_object(meta, written.source, forbid_overwrite=forbid_overwrite)

    def append_object(
        self,
        bucket: str,
        key: str,
        position: int,
        chunks: Iterator[bytes],
        *,
        content_type: str = "application/octet-stream",
        headers: dict[str, str] | None = None,
        expected_md5: str | None = None,
        expected_size: int | None = None,
    ) -> ObjectMeta:
        """AppendObject: see :mod:`.append` for the commit and the chained CRC."""
        return append.append_object(
            self.catalog,
            bucket,
            key,
            position,
            chunks,
            content_type=content_type,
            headers=headers or {},
            expected_md5=expected_md5,
            expected_size=expected_size,
        )

    def put_symlink(
        self,
        bucket: str,
        key: str,
        target: str,
        *,
        content_type: str = "application/octet-stream",
        headers: dict[str, str] | None = None,
        forbid_overwrite: bool = False,
    ) -> ObjectMeta:
        """PutSymlink: see :mod:`.symlink`."""
        return symlink.put_symlink(
            self.catalog,
            bucket,
            key,
            target,
            content_type=content_type,
            headers=headers or {},
            forbid_overwrite=forbid_overwrite,
        )

    def get_symlink(self, bucket: str, key: str) -> ObjectMeta:
        """GetSymlink: the link itself (``400 NotSymlink`` for any other object)."""
        return symlink.require_symlink(self.head_object(bucket, key))

    def head_object(self, bucket: str, key: str, *, follow_symlink: bool = False) -> ObjectMeta:
        """The current version; with ``follow_symlink``, a link as reads through it see it."""
        meta = self._find(bucket, key)
        if meta is None:
            self.get_bucket(bucket)
            raise NotFound("NoSuchKey", Key=key)
        if follow_symlink and meta.object_type == symlink.SYMLINK:
            meta = symlink.through_link(meta, self._find(bucket, meta.symlink_target))
        return restore.with_restore_status(self.catalog, meta)

    def restore_object(
        self, bucket: str, key: str, *, days: int = 1, delay: float = 60.0
    ) -> tuple[int, ObjectMeta]:
        """RestoreObject: see :mod:`.restore`; the status (202 begun, 200 extended) and meta."""
        return restore.restore_object(self.catalog, bucket, key, days=days, delay=delay)

    def _find(self, bucket: str, key: str) -> ObjectMeta | None:
        row = (
            self.index.read()
            .execute("SELECT * FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
            .fetchone()
        )
        return None if row is None else meta_from_row(row)

    def open_blob(self, meta: ObjectMeta) -> BinaryIO:
        """The bytes of one committed version (raises FileNotFoundError once it is replaced).

        A body whose stored size is not the row's was damaged outside ossemu: it is refused
        before a header is sent, so no answer declares a length it cannot deliver.
        """
        if inline.is_inline(meta.blob):
            data = inline.read(self.index.read(), meta.blob)
            if data is None:
                raise FileNotFoundError(meta.blob)
            if len(data) != meta.size:
                raise damaged(meta, f"{len(data)} bytes stored")
            return io.BytesIO(data)
        f = open(self.blobs.open_path(meta.blob), "rb")  # noqa: SIM115
        stored = os.fstat(f.fileno()).st_size
        if stored != meta.size:
            f.close()
            raise damaged(meta, f"{stored} bytes stored")
        return f

    def open_object(
        self, bucket: str, key: str, *, follow_symlink: bool = False
    ) -> tuple[ObjectMeta, BinaryIO]:
        """The current version and an open handle on its bytes (stable while it is read)."""
        for _ in range(5):
            meta = self.head_object(bucket, key, follow_symlink=follow_symlink)
            restore.check_readable(meta)
            try:
                return meta, self.open_blob(meta)
            except FileNotFoundError:
                if self.head_object(bucket, key).blob == meta.blob:
                    raise damaged(meta, "its blob file is missing") from None
                continue  # replaced between the lookup and the open: look again
        raise NotFound("NoSuchKey", Key=key)

    def put_object_acl(self, bucket: str, key: str, acl: str) -> None:
        """PutObjectAcl: the object's bytes and metadata stay as they are."""
        with self.index.write() as db:
            require_bucket(db, bucket)
            done = db.execute(
                "UPDATE objects SET acl = ? WHERE bucket = ? AND key = ?", (acl, bucket, key)
            ).rowcount
        if not done:
            raise NotFound("NoSuchKey", Key=key)

    def delete_object(self, bucket: str, key: str) -> bool:
        with self.index.write() as db:
            require_bucket(db, bucket)
            old = db.execute(
                "DELETE FROM objects WHERE bucket = ? AND key = ? RETURNING blob", (bucket, key)
            ).fetchone()
            replaced = old["blob"] if old and not drop_inline(db, old["blob"]) else ""
        self.blobs.delete(replaced)
        return old is not None

    def put_object_tagging(self, bucket: str, key: str, tags: dict[str, str]) -> ObjectMeta:
        """Replace the current version's tags (Last-Modified stays, as on OSS); ``{}`` deletes."""
        with self.index.write() as db:
            require_bucket(db, bucket)
            row = db.execute(
                "UPDATE objects SET tags = ? WHERE bucket = ? AND key = ? RETURNING *",
                (json.dumps(tags), bucket, key),
            ).fetchone()
            if row is None:
                raise NotFound("NoSuchKey", Key=key)
        return meta_from_row(row)

    def copy_object(
        self,
        src_bucket: str,
        src_key: str,
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        forbid_overwrite: bool = False,
        storage_class: str | None = None,
        tags: dict[str, str] | None = None,
        acl: str = "default",
    ) -> ObjectMeta:
        """Copy bytes into a new blob; ``headers=None`` keeps the source's metadata (COPY),
        ``tags=None`` its tags, ``storage_class=None`` takes the destination bucket's."""
        check_object_key(key)
        storage_class = storage_class or self.get_bucket(bucket).storage_class
        meta, f = self.open_object(src_bucket, src_key)
        with f:
            written: WrittenBlob | inline.SmallBody
            if meta.size <= inline.INLINE_MAX:
                written = inline.SmallBody.of(f.read())
            else:
                written = self.blobs.write(iter(lambda: f.read(1024 * 1024), b""))
        try:
            return self._commit(
                bucket,
                key,
                written,
                content_type=content_type or meta.content_type,
                headers=meta.headers if headers is None else headers,
                forbid_overwrite=forbid_overwrite,
                storage_class=storage_class,
                tags=meta.tags if tags is None else tags,
                acl=acl,
            )
        finally:
            written.discard()

    def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        marker: str = "",
        delimiter: str = "",
        max_keys: int = 100,
    ) -> ListPage:
        """One page in UTF-8 byte order; keys under a delimiter fold into one common prefix."""
        self.get_bucket(bucket)
        return list_objects(self.index.read(), bucket, prefix, marker, delimiter, max_keys)


def damaged(meta: ObjectMeta, what: str) -> OssError:
    """A stored body that no longer matches its row: 500, and ``ossemu fsck`` finds the rest."""
    return OssError(
        "InternalError",
        f"The stored bytes of this object are damaged ({what}, {meta.size} expected); "
        "run `ossemu fsck` on the data dir.",
    )


def _read_small(chunks: Iterator[bytes], limit: int) -> tuple[bytes | None, Iterator[bytes]]:
    """The whole body if it is at most ``limit`` bytes; else None and the body, still whole."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        if len(buffer) > limit:
            return None, itertools.chain([bytes(buffer)], chunks)
    return bytes(buffer), iter(())
