"""What objects and multipart uploads share: the index, the blobs, the clock, and the commit.

:class:`~emulator.storage.store.Storage` (the façade) and
:class:`~emulator.storage.multipart.Multipart` both hold one :class:`Catalog`, so neither reaches
into the other: the bucket check, the commit of a new version, the row -> meta mapping and the
checks of a received body are written here once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from ..clock import Clock
from ..protocol.errors import BadRequest, Conflict, NotFound
from ..version_file import VersionFile
from . import inline, sidecar, startup
from .blobs import BlobStore, WrittenBlob
from .bucket_cache import BucketCache
from .index import Index
from .models import BucketInfo, ObjectMeta


class Catalog:
    """The data dir's index and blob files, opened once per process."""

    def __init__(self, root: Path, *, region: str, clock: Clock) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.region = region
        self.clock = clock
        self.blobs = BlobStore(root)
        try:
            self.index = Index(root / "index.sqlite3")
        except BaseException:
            self.blobs.close()
            raise
        self.cache = BucketCache(
            self.index.read_committed, VersionFile(root / "index.sqlite3-buckets")
        )
        try:
            startup.ensure_established(self.index.write, self.blobs, root, clock.now())
        except BaseException as e:
            self.close()
            if isinstance(e, sqlite3.DatabaseError):
                raise startup.unreadable_index(self.index.path, e) from None
            raise

    def close(self) -> None:
        self.cache.close()
        self.index.close()
        self.blobs.close()

    def get_bucket(self, name: str) -> BucketInfo:
        """The bucket (committed: from this process's copy while it is current)."""
        info = self.cache.bucket(name)
        if info is None:
            raise NotFound("NoSuchBucket", BucketName=name)
        return info

    def commit_object(
        self,
        meta: ObjectMeta,
        source: Path | bytes,
        *,
        forbid_overwrite: bool,
        before: Callable[[sqlite3.Connection], None] | None = None,
    ) -> ObjectMeta:
        """Make ``source`` (a finished temp file, or a small body kept inline) the current
        version; ``before(db)`` runs inside the transaction."""
        if not isinstance(source, bytes):
            self.blobs.write_record(source, sidecar.object_record(meta, stored_headers(meta)))
        row = (
            meta.bucket,
            meta.key,
            meta.size,
            meta.etag,
            str(meta.crc64),
            meta.content_md5,
            meta.content_type,
            meta.object_type,
            meta.last_modified,
            _json(stored_headers(meta)),
            meta.storage_class,
            _json(meta.tags),
            meta.acl,
        )

        def write(db: sqlite3.Connection) -> tuple[str, str]:
            # The bucket and the version replaced in one statement: each statement gives the
            # GIL away, and this runs while the other processes wait for the write lock.
            found, old = db.execute(
                "SELECT EXISTS (SELECT 1 FROM buckets WHERE name = ?),"
                " (SELECT blob FROM objects WHERE bucket = ? AND key = ?)",
                (meta.bucket, meta.bucket, meta.key),
            ).fetchone()
            if not found:
                raise NotFound("NoSuchBucket", BucketName=meta.bucket)
            if before is not None:
                before(db)
            if old and forbid_overwrite:
                raise Conflict("FileAlreadyExists", Key=meta.key)
            if not isinstance(source, bytes):
                name = self.blobs.install(source)
            elif old and inline.is_inline(old) and (reused := inline.replace(db, old, source)):
                name, old = reused, ""  # the old body's row rewritten in place: nothing to drop
            else:
                name = inline.insert(db, source)
            try:
                db.execute(
                    "INSERT OR REPLACE INTO objects (bucket, key, blob, size, etag, crc64,"
                    " content_md5, content_type, object_type, last_modified, headers,"
                    " storage_class, tags, acl) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (*row[:2], name, *row[2:]),
                )
            except BaseException:
                if not inline.is_inline(name):
                    self.blobs.delete(name)
                raise
            return name, (old if old and not drop_inline(db, old) else "")

        # A function, not a ``with`` block: the thread holding the writer runs it, so a batch
        # of PUTs commits without a thread hand-off for each (group_commit.py).
        name, replaced = self.index.run(write)
        self.blobs.delete(replaced)
        return meta.stored_as(name)


def _json(value: dict[str, str]) -> str:
    return json.dumps(value) if value else "{}"


def require_bucket(db: sqlite3.Connection, bucket: str) -> None:
    """NoSuchBucket, checked inside the caller's transaction."""
    if db.execute("SELECT 1 FROM buckets WHERE name = ?", (bucket,)).fetchone() is None:
        raise NotFound("NoSuchBucket", BucketName=bucket)


def drop_inline(db: sqlite3.Connection, name: str) -> bool:
    """Delete an inline body inside the caller's transaction; False for a blob file, which
    the caller unlinks after COMMIT."""
    if not inline.is_inline(name):
        return False
    inline.delete(db, name)
    return True


def check_declared_size(size: int | None, limit: int) -> None:
    """EntityTooLarge from the declared length alone, before a byte of the body is read."""
    if size is not None and size > limit:
        raise BadRequest("EntityTooLarge")


def check_received(
    body: WrittenBlob | inline.SmallBody, expected_size: int | None, expected_md5: str | None
) -> None:
    """The body that arrived is the one the client declared (Content-Length, Content-MD5)."""
    if expected_size is not None and body.size != expected_size:
        raise BadRequest("IncompleteBody")
    if expected_md5 is not None and expected_md5 != body.content_md5:
        raise BadRequest("InvalidDigest", **{"Content-MD5": expected_md5})


# A symlink's target rides in the headers column under this name, so the index needs no
# column for it.
_SYMLINK_TARGET = "x-oss-symlink-target"


def stored_headers(meta: ObjectMeta) -> dict[str, str]:
    """The headers column: the object's headers, and a symlink's target."""
    if not meta.symlink_target:
        return meta.headers
    return {**meta.headers, _SYMLINK_TARGET: meta.symlink_target}


def meta_from_row(row: sqlite3.Row) -> ObjectMeta:
    headers = _json_dict(row["headers"])
    target = headers.pop(_SYMLINK_TARGET, "")
    return ObjectMeta(
        bucket=row["bucket"],
        key=row["key"],
        size=row["size"],
        etag=row["etag"],
        crc64=int(row["crc64"]),
        content_md5=row["content_md5"],
        content_type=row["content_type"],
        last_modified=row["last_modified"],
        object_type=row["object_type"],
        headers=headers,
        blob=row["blob"],
        acl=row["acl"],
        storage_class=row["storage_class"],
        tags=_json_dict(row["tags"]),
        symlink_target=target,
    )


def _json_dict(text: str) -> dict[str, str]:
    """A headers or tags column; most are empty, and ``json.loads`` costs a GET ~1.5 us each."""
    return {} if text == "{}" else json.loads(text)


def bucket_from_row(row: sqlite3.Row) -> BucketInfo:
    return BucketInfo(row["name"], row["created"], row["region"], row["storage_class"])
