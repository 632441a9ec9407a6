"""AppendObject: an Appendable object grows by whole appends, each at the position it ends at.

Every append writes a new version and commits it like any other write (see :mod:`.store`): the
appended bytes are streamed to ``tmp/`` and checked first (length, Content-MD5); then the old
bytes and the new ones are joined into one fsynced temp file (copied inside the kernel), and one
transaction checks the position again, renames the file into ``blobs/`` and swaps the row. Blobs
stay immutable, so a GET streaming the previous version never sees bytes change under it, and a
crash leaves the old or the new version, never a torn one. The cost is a copy of the object per
append: OSS caps appendable objects at 5 GiB, and objects up to 64 KiB live in the index, where
the copy is a few memory moves.

The CRC-64 is chained (``crc64_combine`` of the old CRC and the appended bytes' CRC), as OSS
reports it, without reading the old bytes again. OSS's ETag of an Appendable object is not the
MD5 of its bytes; here it is the MD5 of the previous ETag and the appended bytes' MD5, so it
changes with every append and needs no re-read either. Appendable objects carry no Content-MD5.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from ..protocol.errors import Conflict
from . import inline
from .catalog import Catalog, check_declared_size, check_received, meta_from_row
from .hashing import crc64_combine
from .models import ObjectMeta
from .names import check_object_key

MAX_APPENDABLE_SIZE = 5 * 1024**3
APPENDABLE = "Appendable"


class NotAppendable(Conflict):
    """409 for an append that does not fit the object; ``next_position`` is its length."""

    def __init__(self, code: str, next_position: int | None = None) -> None:
        super().__init__(code)
        self.next_position = next_position

    def headers(self, request_id: str, host_id: str) -> dict[str, str]:
        """OSS tells the length to append at, on the error too."""
        headers = super().headers(request_id, host_id)
        if self.next_position is not None:
            headers["x-oss-next-append-position"] = str(self.next_position)
        return headers


def append_object(
    catalog: Catalog,
    bucket: str,
    key: str,
    position: int,
    chunks: Iterator[bytes],
    *,
    content_type: str,
    headers: dict[str, str],
    expected_md5: str | None,
    expected_size: int | None,
) -> ObjectMeta:
    """Append ``chunks`` at ``position``; the first append (position 0) creates the object
    with ``content_type`` and ``headers``, later ones keep what the object has."""
    check_object_key(key)
    catalog.get_bucket(bucket)
    current = _check_position(catalog.index.read(), bucket, key, position)
    if expected_size is not None:
        check_declared_size(position + expected_size, MAX_APPENDABLE_SIZE)
    part = catalog.blobs.write(chunks, limit=MAX_APPENDABLE_SIZE - position)
    joined: Path | None = None
    try:
        check_received(part, expected_size, expected_md5)
        base = b"" if current is None or current.size == 0 else _bytes_of(catalog, current)
        source: Path | bytes
        try:
            if position + part.size <= inline.INLINE_MAX:  # inline, as a small PutObject is
                old = base if isinstance(base, bytes) else base.read_bytes()
                source = old + part.temp_path.read_bytes()
            elif base == b"":
                source = part.temp_path
            else:
                source = joined = catalog.blobs.join([base, part.temp_path])
        except FileNotFoundError:  # the version appended to was replaced meanwhile
            raise NotAppendable("PositionNotEqualToLength") from None
        base_etag = bytes.fromhex(current.etag) if current and current.size else b""
        base_crc = current.crc64 if current else 0
        meta = ObjectMeta(
            bucket=bucket,
            key=key,
            size=position + part.size,
            etag=hashlib.md5(base_etag + part.md5).hexdigest().upper(),
            crc64=crc64_combine(base_crc, part.crc64, part.size),
            content_md5="",
            content_type=current.content_type if current else content_type,
            last_modified=catalog.clock.now(),
            object_type=APPENDABLE,
            headers=current.headers if current else headers,
            acl=current.acl if current else "default",
        )

        def still_at(db: sqlite3.Connection) -> None:
            now = _check_position(db, bucket, key, position)
            if (now.blob if now else None) != (current.blob if current else None):
                raise NotAppendable("PositionNotEqualToLength", now.size if now else 0)

        return catalog.commit_object(meta, source, forbid_overwrite=False, before=still_at)
    finally:
        part.discard()
        if joined is not None:
            joined.unlink(missing_ok=True)


def next_append_position(meta: ObjectMeta) -> int | None:
    """What HEAD and GET report as ``x-oss-next-append-position`` (Appendable objects only)."""
    return meta.size if meta.object_type == APPENDABLE else None


def _check_position(
    db: sqlite3.Connection, bucket: str, key: str, position: int
) -> ObjectMeta | None:
    """The object appended to (None: none yet), if ``position`` is where it ends."""
    row = db.execute("SELECT * FROM objects WHERE bucket = ? AND key = ?", (bucket, key)).fetchone()
    current = meta_from_row(row) if row is not None else None
    if current is not None and current.object_type != APPENDABLE:
        raise NotAppendable("ObjectNotAppendable")
    length = current.size if current else 0
    if position != length:
        raise NotAppendable("PositionNotEqualToLength", length)
    return current


def _bytes_of(catalog: Catalog, meta: ObjectMeta) -> Path | bytes:
    if not inline.is_inline(meta.blob):
        return catalog.blobs.path_of(meta.blob)
    data = inline.read(catalog.index.read(), meta.blob)
    if data is None:  # replaced since it was looked up: the position no longer holds
        raise NotAppendable("PositionNotEqualToLength", meta.size)
    return data
