"""A small JSON record beside each blob file saying what it holds, so a lost index can be rebuilt.

Blob files are named by random uuids (keys never become paths), and the index is the only other
place that names their key: without a record beside the bytes, a deleted or corrupt index would
leave files nobody can give back to their keys. The record (``blobs/ab/<uuid>.meta``) is written
beside the temp file before the commit transaction and renamed into ``blobs/`` just before its
blob (the directory fsync that makes the blob's name durable covers its name too), so a blob file
never appears without it. It is never rewritten: an object version and a part are immutable.

Its bytes are not fsync'd: that would be a third flush per upload (measured: a 128 KiB PUT went
from 15 to 31 ms with this and the directory fsync), to guard against a power cut in the
seconds before the kernel writes it back *and* a lost index. A record that a power cut left empty
reads as "no record": its blob is then moved to ``lost+found/``, never deleted.

Bodies kept inline in the index (``inline.py``) have no file and no record: a lost index loses
them, and ``ossemu fsck --rebuild-index`` can only say so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .models import ObjectMeta, PartMeta, Upload

SUFFIX = ".meta"
VERSION = 1


def path_for(blob_path: Path | str) -> Path:
    """Where the record of the blob (or temp file) at ``blob_path`` lives."""
    return Path(f"{blob_path}{SUFFIX}")


def object_record(meta: ObjectMeta, stored_headers: dict[str, str]) -> dict[str, Any]:
    """``stored_headers``: the headers as the index keeps them (a link's target included)."""
    return {
        "v": VERSION,
        "kind": "object",
        "bucket": meta.bucket,
        "key": meta.key,
        "size": meta.size,
        "etag": meta.etag,
        "crc64": str(meta.crc64),
        "content_md5": meta.content_md5,
        "content_type": meta.content_type,
        "object_type": meta.object_type,
        "last_modified": meta.last_modified,
        "headers": stored_headers,
        "storage_class": meta.storage_class,
        "tags": meta.tags,
        "acl": meta.acl,
    }


def part_record(upload: Upload, part: PartMeta) -> dict[str, Any]:
    return {
        "v": VERSION,
        "kind": "part",
        "bucket": upload.bucket,
        "key": upload.key,
        "upload_id": upload.upload_id,
        "initiated": upload.initiated,
        "upload_headers": upload.headers,
        "part_number": part.part_number,
        "size": part.size,
        "etag": part.etag,
        "crc64": str(part.crc64),
        "last_modified": part.last_modified,
    }


def write(temp_path: Path, record: dict[str, Any]) -> None:
    """Write the record of a finished temp file (before its commit transaction)."""
    path = path_for(temp_path)
    try:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(record, f, separators=(",", ":"))
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def read(blob_path: Path) -> dict[str, Any] | None:
    """The record of a blob, or None when it has none or it cannot be parsed."""
    try:
        record = json.loads(path_for(blob_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("kind") in ("object", "part") else None
