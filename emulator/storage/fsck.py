"""Check a data dir against itself (scrub): every stored body against its row, and orphans.

:func:`check` reads every stored body, inline ones included, and compares it with its row: the
file exists, has the row's size, its MD5 (for objects with a ``Content-MD5`` and for parts) and
its CRC-64 match. It also lists blob files no row names (orphans) and inline bodies no object
names. It changes nothing unless asked to ``repair``, which only moves orphan blob files to
``lost+found/`` (never deletes) and writes the record of blobs stored before records existed.
It runs beside a live server: the set of names is taken under the writers' lock, so a blob in
the middle of its commit is never called an orphan. Rebuilding a lost index is :mod:`.rebuild`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import inline, sidecar, startup
from .blobs import BlobStore
from .catalog import meta_from_row
from .hashing import crc64
from .models import PartMeta, Upload

try:
    import fcntl
except ImportError:  # Windows: no cross-process lock; orphans may include in-flight commits
    fcntl = None  # type: ignore[assignment]

CHUNK = 1024 * 1024
INDEX = "index.sqlite3"


@dataclass(frozen=True)
class Problem:
    """One thing wrong: ``kind`` is index, missing, size, md5, crc64, orphan or orphan-inline."""

    kind: str
    detail: str
    bucket: str = ""
    key: str = ""
    blob: str = ""
    upload_id: str = ""
    part_number: int = 0


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    objects: int = 0
    inline_objects: int = 0
    parts: int = 0
    blob_files: int = 0
    bytes_read: int = 0
    moved_to_lost_and_found: list[str] = field(default_factory=list)
    records_written: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, **asdict(self)}


def index_state(root: Path) -> tuple[str, str]:
    """("healthy" | "missing" | "empty" | "unreadable", why); DataDirError for an index a
    newer ossemu wrote."""
    path = root / INDEX
    if not path.exists() or path.stat().st_size == 0:
        return "missing", f"{path} is missing or empty"
    try:
        with _read_only(path) as db:
            verdict = db.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                return "unreadable", f"{path} is damaged: {verdict}"
            has_meta = _has_mark_table(db)
            if has_meta and (found := startup.format_of(db)) > startup.FORMAT:
                raise startup.newer_index(path, found)  # not ours to judge, let alone repair
            marked = startup.is_marked(db) if has_meta else False
            if not marked and not startup.has_rows(db):
                return "empty", f"{path} names no bucket, object or upload"
    except sqlite3.DatabaseError as e:
        return "unreadable", f"{path} is not a usable SQLite index ({e})"
    return "healthy", f"{path} is healthy"


def check(root: Path, *, repair: bool = False) -> Report:
    """Scrub every body against its row, and list orphans (moved to lost+found/ on ``repair``)."""
    started = time.monotonic()
    report = Report()
    state, why = index_state(root)
    blob_dir = root / "blobs"
    if state in ("missing", "unreadable"):
        report.problems.append(Problem("index", f"{why}; rebuild: {startup.rebuild_hint(root)}"))
        report.blob_files = sum(1 for _ in _blob_names(blob_dir))
        report.seconds = time.monotonic() - started
        return report
    with _read_only(root / INDEX) as db:
        referenced = _scrub(db, blob_dir, report)
        with _writers_paused(root):
            live = _live_names(db)
            orphans = [n for n in _blob_names(blob_dir) if n not in live]
            if repair and orphans and state == "healthy":  # an empty index: rebuild instead
                store = BlobStore(root)
                try:
                    for name in orphans:
                        if startup.move_to_lost_and_found(store, root, name) is not None:
                            report.moved_to_lost_and_found.append(name)
                finally:
                    store.close()
        report.blob_files = sum(1 for n in referenced if not inline.is_inline(n)) + len(orphans)
        if repair and state == "healthy":
            report.records_written = _write_missing_records(db, blob_dir)
        for name in orphans:
            record = sidecar.read(_path_of(blob_dir, name)) or {}
            report.problems.append(
                Problem(
                    "orphan",
                    "a blob file no row names"
                    + (" (moved to lost+found/)" if name in report.moved_to_lost_and_found else ""),
                    bucket=str(record.get("bucket", "")),
                    key=str(record.get("key", "")),
                    blob=name,
                )
            )
        for (row_id,) in db.execute(
            f"SELECT {inline.NAME_SQL} FROM inline_blobs WHERE {inline.NAME_SQL} NOT IN"
            " (SELECT blob FROM objects)"
        ):
            report.problems.append(
                Problem("orphan-inline", "an inline body no object names", blob=row_id)
            )
    if state == "empty" and report.blob_files:
        report.problems.append(
            Problem("index", f"{why} but blobs exist; rebuild: {startup.rebuild_hint(root)}")
        )
    report.seconds = time.monotonic() - started
    return report


def _scrub(db: sqlite3.Connection, blob_dir: Path, report: Report) -> set[str]:
    referenced: set[str] = set()
    rows = db.execute(
        "SELECT 'object' AS kind, bucket, key, blob, size, etag, crc64, content_md5,"
        " '' AS upload_id, 0 AS part_number FROM objects"
        " UNION ALL SELECT 'part', u.bucket, u.key, p.blob, p.size, p.etag, p.crc64, '',"
        " p.upload_id, p.part_number FROM parts p LEFT JOIN uploads u USING (upload_id)"
    ).fetchall()
    for row in rows:
        referenced.add(row["blob"])
        where = {
            "bucket": row["bucket"] or "",
            "key": row["key"] or "",
            "blob": row["blob"],
            "upload_id": row["upload_id"],
            "part_number": row["part_number"],
        }
        if row["kind"] == "object":
            report.objects += 1
            report.inline_objects += inline.is_inline(row["blob"])
        else:
            report.parts += 1
        md5_b64, want_md5 = "", ""
        if row["kind"] == "part":
            want_md5 = row["etag"].lower()
        elif row["content_md5"]:
            md5_b64 = row["content_md5"]
        got = _digest(db, blob_dir, row["blob"])
        if got is None:
            report.problems.append(Problem("missing", "its stored bytes are gone", **where))
            continue
        size, md5, crc = got
        report.bytes_read += size
        if size != row["size"]:
            report.problems.append(
                Problem("size", f"{size} bytes stored, {row['size']} expected", **where)
            )
            continue
        if (want_md5 and md5.hex() != want_md5) or (
            md5_b64 and base64.b64encode(md5).decode() != md5_b64
        ):
            report.problems.append(Problem("md5", "the bytes no longer match their MD5", **where))
        elif str(crc) != row["crc64"]:
            report.problems.append(
                Problem("crc64", "the bytes no longer match their CRC-64", **where)
            )
    return referenced


def _write_missing_records(db: sqlite3.Connection, blob_dir: Path) -> int:
    """Records for blobs written before records existed, from their rows, so that a later lost
    index can be rebuilt (the record of a blob that has one is never rewritten)."""
    written = 0
    for row in db.execute("SELECT * FROM objects"):
        path = _path_of(blob_dir, row["blob"])
        if not inline.is_inline(row["blob"]) and path.exists() and sidecar.read(path) is None:
            sidecar.write(
                path, sidecar.object_record(meta_from_row(row), json.loads(row["headers"]))
            )
            written += 1
    for row in db.execute(
        "SELECT p.*, u.bucket, u.key, u.initiated, u.headers FROM parts p"
        " JOIN uploads u USING (upload_id)"
    ):
        path = _path_of(blob_dir, row["blob"])
        if path.exists() and sidecar.read(path) is None:
            upload = Upload(
                row["upload_id"],
                row["bucket"],
                row["key"],
                row["initiated"],
                json.loads(row["headers"]),
            )
            part = PartMeta(
                row["upload_id"],
                row["part_number"],
                row["size"],
                row["etag"],
                int(row["crc64"]),
                row["last_modified"],
                row["blob"],
            )
            sidecar.write(path, sidecar.part_record(upload, part))
            written += 1
    return written


def _digest(db: sqlite3.Connection, blob_dir: Path, name: str) -> tuple[int, bytes, int] | None:
    if inline.is_inline(name):
        data = inline.read(db, name)
        return None if data is None else (len(data), hashlib.md5(data).digest(), crc64(data, 0))
    md5, crc, size = hashlib.md5(), 0, 0
    try:
        with open(_path_of(blob_dir, name), "rb") as f:
            while chunk := f.read(CHUNK):
                md5.update(chunk)
                crc = crc64(chunk, crc)
                size += len(chunk)
    except FileNotFoundError:
        return None
    return size, md5.digest(), crc


def _live_names(db: sqlite3.Connection) -> set[str]:
    db.execute("BEGIN")
    try:
        return {
            r[0] for r in db.execute("SELECT blob FROM objects UNION ALL SELECT blob FROM parts")
        }
    finally:
        db.execute("COMMIT")


def _blob_names(blob_dir: Path) -> Iterator[str]:
    if not blob_dir.is_dir():
        return
    for sub in blob_dir.iterdir():
        if sub.is_dir():
            for f in sub.iterdir():
                if not f.name.endswith(sidecar.SUFFIX):
                    yield f.name


def _path_of(blob_dir: Path, name: str) -> Path:
    return blob_dir / name[:2] / name


def _has_mark_table(db: sqlite3.Connection) -> bool:
    return (
        db.execute("SELECT 1 FROM sqlite_master WHERE name = 'ossemu_meta'").fetchone() is not None
    )


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30, isolation_level=None)
    db.row_factory = sqlite3.Row
    try:
        yield db
    finally:
        db.close()


@contextlib.contextmanager
def _writers_paused(root: Path) -> Iterator[None]:
    """Hold the lock every writer takes around its rename and commit (``index.py``)."""
    if fcntl is None:
        yield
        return
    fd = os.open(root / f"{INDEX}-writer", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
