"""Archived objects and RestoreObject: a restore takes time on the emulator's clock.

An object in an archive class (``x-oss-storage-class`` Archive, ColdArchive, DeepColdArchive)
keeps its bytes, but reads of them (GetObject, CopyObject, UploadPartCopy) answer
``403 InvalidObjectState`` until a restore is done. RestoreObject records, in the ``restores``
table, when the restore is ready (``delay`` seconds after the request, the emulator's clock) and
when the restored copy expires (``days`` after that). A restore is tied to the version it was asked
for (its blob): overwriting the object forgets it. Time is read from the clock each time, so a
test moves a restore along with ``advance_clock`` and nothing runs in the background.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from ..protocol.errors import BadRequest, Conflict, Forbidden, NotFound
from .catalog import Catalog, meta_from_row, require_bucket
from .models import ObjectMeta, RestoreStatus

ARCHIVED = frozenset({"Archive", "ColdArchive", "DeepColdArchive"})
DAY = 86400.0


def restore_object(
    catalog: Catalog, bucket: str, key: str, *, days: int, delay: float
) -> tuple[int, ObjectMeta]:
    """202 for a restore begun, 200 for a restored copy whose expiry moves to ``days`` from now;
    ``409 RestoreAlreadyInProgress`` while one is under way."""
    now = catalog.clock.now()
    with catalog.index.write() as db:
        require_bucket(db, bucket)
        row = db.execute(
            "SELECT * FROM objects WHERE bucket = ? AND key = ?", (bucket, key)
        ).fetchone()
        if row is None:
            raise NotFound("NoSuchKey", Key=key)
        meta = meta_from_row(row)
        if meta.storage_class not in ARCHIVED:
            raise BadRequest("OperationNotSupported")
        status = _status(db, meta, now)
        if status is not None and status.ongoing:
            raise Conflict("RestoreAlreadyInProgress")
        ready = now if status is not None else now + delay
        db.execute(
            "INSERT OR REPLACE INTO restores VALUES (?, ?, ?, ?, ?)",
            (bucket, key, meta.blob, ready, ready + days * DAY),
        )
        code = 200 if status is not None else 202
        return code, replace(meta, restore=_status(db, meta, now))


def with_restore_status(catalog: Catalog, meta: ObjectMeta) -> ObjectMeta:
    """``meta`` with what HEAD says in ``x-oss-restore`` (archived objects only: no query for
    the others)."""
    if meta.storage_class not in ARCHIVED:
        return meta
    return replace(meta, restore=_status(catalog.index.read(), meta, catalog.clock.now()))


def check_readable(meta: ObjectMeta) -> None:
    """An archived object's bytes can be read only while a restored copy exists."""
    if meta.storage_class in ARCHIVED and (meta.restore is None or meta.restore.ongoing):
        raise Forbidden("InvalidObjectState")


def _status(db: sqlite3.Connection, meta: ObjectMeta, now: float) -> RestoreStatus | None:
    row = db.execute(
        "SELECT * FROM restores WHERE bucket = ? AND key = ? AND blob = ?",
        (meta.bucket, meta.key, meta.blob),
    ).fetchone()
    if row is None or now >= row["expires_at"]:
        return None
    return RestoreStatus(ongoing=now < row["ready_at"], expires=row["expires_at"])
