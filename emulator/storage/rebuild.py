"""Rebuild a lost index from the records beside the blob files (:mod:`.sidecar`).

For a data dir whose index is missing, empty or unreadable: per key, the newest version; per
upload, its parts. An unreadable index is moved aside first (``index.sqlite3.broken-<time>``);
a healthy index is never touched.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import sidecar, startup
from .blobs import BlobStore
from .fsck import INDEX, index_state
from .index import Index


@dataclass
class Rebuild:
    """What ``rebuild_index`` did; ``done`` is False when the index was healthy already."""

    done: bool
    detail: str
    moved_aside: str = ""
    objects: int = 0
    buckets: int = 0
    uploads: int = 0
    parts: int = 0
    blobs_without_record: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rebuild_index(root: Path, *, region: str = "cn-hangzhou") -> Rebuild:
    """A new index from the blobs' records, when the index is missing, empty or unreadable."""
    state, why = index_state(root)
    if state == "healthy":
        return Rebuild(False, f"{why}: nothing to rebuild (run `ossemu fsck` to check it)")
    moved = ""
    if state == "unreadable":
        moved = _move_aside(root / INDEX)
    index = Index(root / INDEX)
    blobs = BlobStore(root)
    try:
        with index.write() as db:
            result = _adopt_records(db, blobs, region)
            startup.mark(db, time.time())
    finally:
        index.close()
        blobs.close()
    result.moved_aside = moved
    return result


def _adopt_records(db: sqlite3.Connection, blobs: BlobStore, region: str) -> Rebuild:
    newest: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    parts: dict[tuple[str, int], tuple[str, dict[str, Any]]] = {}
    without = 0
    for name in blobs.all_blob_names():
        record = sidecar.read(blobs.path_of(name))
        if record is None:
            without += 1
        elif record["kind"] == "object":
            slot = (record["bucket"], record["key"])
            if slot not in newest or newest[slot][1]["last_modified"] < record["last_modified"]:
                newest[slot] = (name, record)
        else:
            slot = (record["upload_id"], record["part_number"])
            if slot not in parts or parts[slot][1]["last_modified"] < record["last_modified"]:
                parts[slot] = (name, record)
    created: dict[str, float] = {}
    for _name, r in [*newest.values(), *parts.values()]:
        stamp = r.get("initiated", r["last_modified"])
        created[r["bucket"]] = min(created.get(r["bucket"], stamp), stamp)
    for bucket, stamp in created.items():
        db.execute(
            "INSERT OR IGNORE INTO buckets (name, created, region) VALUES (?, ?, ?)",
            (bucket, stamp, region),
        )
    for name, r in newest.values():
        db.execute(
            "INSERT OR REPLACE INTO objects (bucket, key, blob, size, etag, crc64, content_md5,"
            " content_type, object_type, last_modified, headers, storage_class, tags, acl)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                r["bucket"],
                r["key"],
                name,
                r["size"],
                r["etag"],
                r["crc64"],
                r["content_md5"],
                r["content_type"],
                r["object_type"],
                r["last_modified"],
                _json(r["headers"]),
                r.get("storage_class", "Standard"),  # records from before storage classes
                _json(r.get("tags", {})),
                r.get("acl", "default"),
            ),
        )
    uploads = set()
    for (upload_id, number), (name, r) in parts.items():
        if upload_id not in uploads:
            uploads.add(upload_id)
            db.execute(
                "INSERT OR IGNORE INTO uploads (upload_id, bucket, key, initiated, headers)"
                " VALUES (?, ?, ?, ?, ?)",
                (upload_id, r["bucket"], r["key"], r["initiated"], _json(r["upload_headers"])),
            )
        db.execute(
            "INSERT OR REPLACE INTO parts (upload_id, part_number, blob, size, etag, crc64,"
            " last_modified) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (upload_id, number, name, r["size"], r["etag"], r["crc64"], r["last_modified"]),
        )
    return Rebuild(
        True,
        "rebuilt from the blobs' records; bodies of up to 64 KiB lived inside the lost index"
        " and empty buckets had no file: those cannot come back",
        objects=len(newest),
        buckets=len(created),
        uploads=len(uploads),
        parts=len(parts),
        blobs_without_record=without,
    )


def _move_aside(path: Path) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.broken-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            os.replace(source, Path(f"{target}{suffix}"))
    return str(target)


def _json(value: Any) -> str:
    return json.dumps(value)
